"""Generated names: every name `generate` gives something, checked when a spec is resolved.

Takes: a resolved `model.Abi` and the resolver's `Collector`.
Hands on: one error per spec name that the generated C header and native table, or the
generated Python package, could not use, each at the declaration at fault and, for a
clash, with the other declaration as a related location: two things that would get one
C name or one Python name, a spec name that the generated code also defines, includes,
imports or reads, a name a build may define as a macro, and names Python keeps for
itself. So a spec that `check` accepts is one that `generate` turns into a header that compiles
and a package that imports and installs every backend.

The generators spell names with the helpers in pvgen/names.py; the lists of what the
generated code uses live there too, and a test proves them against generated output.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from . import model as m
from .diagnostics import Collector, Related
from .gen.cnames import CNames, enum_as_macros
from .gen.common import TEMPLATES
from .gen.pytypes import mangled, py_default
from .names import (
    C_STANDARD_NAMES,
    DEFAULT_MACRO_PREFIX,
    PY_BUILTINS_USED,
    PY_DISPATCH_ATTRIBUTES,
    PY_DISPATCH_INIT_LOCALS,
    PY_ENUM_RESERVED,
    PY_STDLIB_MODULES,
    PY_TABLES_RUNTIME_NAMES,
    PY_TYPES_MODULE_NAMES,
    class_name,
    method_name,
)
from .source import Span

C_CODE = "the generated C code"


def generated_c_names(abi: m.Abi) -> dict[str, str]:
    """Every name the header and the native table define, with its space (MACRO, ORDINARY or
    BOTH): what the check keeps the spec's names from."""
    return {name: _space(entry) for name, entry in _GeneratedNames(abi, Collector()).c_generated()}


def c_namer(abi: m.Abi) -> CNames:
    """The C spellings of `abi`'s generated names, which the C generator writes with."""
    return CNames(abi)


def check_generated_names(abi: m.Abi, errors: Collector) -> None:
    """Report every name of `abi` that generated C or Python could not use."""
    names = _GeneratedNames(abi, errors)
    names.check_joined_paths()
    names.check_c()
    names.check_python()


# Where a C name lives: struct tags (tables, the patch template), typedef names (typedefs
# and enums), other ordinary identifiers (functions, variables, enumerators), both a tag and
# a typedef name or variable (a struct, which the header also typedefs; the aggregate), or
# the preprocessor, which replaces the name everywhere.
TAG, TYPEDEF, ORDINARY, BOTH, MACRO = "tag", "typedef", "ordinary", "both", "macro"


class _Owner(NamedTuple):
    """What a name stands for, described by `template` filled with `subject` (formatted only
    for a message). Owners with equal keys are one thing (the variants of one declaration
    under exclusive conditions); `spec` owners are names the spec wrote itself."""

    template: str  # "the call wrapper of '{}'" (or no field at all)
    subject: str  # "pv_irq_ops.save_fl"
    span: Span
    spec: bool
    space: str = ORDINARY
    path: str | None = None  # the member path a generated name spells

    @property
    def what(self) -> str:
        return self.template.format(self.subject)

    @property
    def key(self) -> tuple[str, str]:
        return ("spec", self.subject) if self.spec else (self.template, self.subject)


class _PerHook(NamedTuple):
    """A name generated code gives every hook slot, or every hook of every table: what it
    stands for (`template`, filled with the hook's path) and its space."""

    template: str
    space: str


WRAPPER = _PerHook("the call wrapper of '{}'", ORDINARY)
SLOT_TEST = _PerHook("the slot test of '{}'", ORDINARY)
PATCH_ID = _PerHook("the patch ID macro of '{}'", MACRO)
SINCE = _PerHook("the since-version macro of '{}'", MACRO)
NATIVE = _PerHook("the native implementation of '{}'", ORDINARY)

# A name and what it stands for, as the name checks make them. Names made per hook (four
# or five per hook, the bulk of a large spec's) come as what made them and the slot, or the
# table and hook, they were made from; `_worded` spells such an owner out.
_PerHookOwner = tuple[_PerHook, m.HookSlot | m.Table, m.Hook | None]
_Entry = _Owner | _PerHookOwner


def _worded(entry: _Entry) -> _Owner:
    if isinstance(entry, _Owner):
        return entry
    made, of, hook = entry
    if isinstance(of, m.HookSlot):
        path, span = of.path, of.hook.span
    else:
        assert hook is not None
        path, span = f"{of.name}.{hook.name}", hook.span
    return _Owner(made.template, path, span, False, made.space, path)


def _space(entry: _Entry) -> str:
    return entry.space if isinstance(entry, _Owner) else entry[0].space


def _meet(a: str, b: str) -> bool:
    """Whether two names in these spaces clash: a tag and an ordinary identifier may share a
    name in C and C++, except a typedef name, which C++ keeps in the scope of class names."""
    return a == b or MACRO in (a, b) or BOTH in (a, b) or TYPEDEF in (a, b)


class _Pool:
    """One namespace of generated code: the owners of each name; clashes reported once per
    pair, at the spec's own declaration where one of the two is one.

    The first owner of a name made per hook is kept as its kind alone (`_PerHook`, one
    object shared by every name of that kind): that is all a check reads of it unless the
    name clashes or breaks a rule, when `remake` (which makes the same names again, in the
    same order) tells which slot or hook it was. A large spec's pool holds hundreds of
    thousands of such names."""

    def __init__(
        self,
        errors: Collector,
        where: str,
        remake: Callable[[], Iterable[tuple[str, _Entry]]] | None = None,
    ) -> None:
        self.errors = errors
        self.where = where
        self.remake = remake
        self.first: dict[str, _Owner | _PerHook] = {}
        self.more: dict[str, list[_Owner]] = {}  # the later owners of a name, if any
        self.reported: set[frozenset[tuple[str, str]]] = set()
        self._per_hook: dict[str, _PerHookOwner] | None = None

    def worded(self, name: str, kept: _Owner | _PerHook) -> _Owner:
        """The owner `kept` stands for under `name` (the first owner of a name per hook)."""
        if isinstance(kept, _Owner):
            return kept
        if self._per_hook is None:
            assert self.remake is not None, "names made per hook need a way to remake them"
            self._per_hook = {}
            for name_again, entry in self.remake():
                if not isinstance(entry, _Owner):
                    self._per_hook.setdefault(name_again, entry)
        return _worded(self._per_hook[name])

    def owners(self, name: str) -> list[_Owner]:
        return [self.worded(name, self.first[name]), *self.more.get(name, ())]

    def first_macro(self, name: str) -> _Owner | _PerHook | None:
        """The first of the owners of `name` that is a macro, as kept; None if none is."""
        kept = self.first.get(name)
        if kept is None or kept.space == MACRO:
            return kept
        return next((o for o in self.more.get(name, ()) if o.space == MACRO), None)

    def entries(self) -> Iterator[tuple[str, _Owner | _PerHook]]:
        """Every name with each of its owners, the first as kept."""
        yield from self.first.items()
        for name, owners in self.more.items():
            for owner in owners:
                yield name, owner

    def add(self, name: str, entry: _Entry) -> None:
        if name not in self.first:
            self.first[name] = entry if isinstance(entry, _Owner) else entry[0]
            return
        self.add_again(name, entry)

    def add_again(self, name: str, entry: _Entry) -> None:
        """`add` a name the pool already holds."""
        owner = _worded(entry)
        for earlier in self.owners(name):
            if earlier.key == owner.key or not _meet(earlier.space, owner.space):
                continue
            pair = frozenset((earlier.key, owner.key))
            if pair in self.reported or _alike(earlier.path, owner.path):
                break
            self.reported.add(pair)
            at, other = (owner, earlier) if owner.spec or not earlier.spec else (earlier, owner)
            self.errors.error(
                at.span,
                f"{at.what} and {other.what} would both be named '{name}' in {self.where}",
                related=[Related(other.span, f"{other.what} comes from here")],
                hint="rename one of them",
            )
            break
        self.more.setdefault(name, []).append(owner)

    def add_all(self, named: Iterable[tuple[str, _Entry]]) -> None:
        """`add` each; a name met for the first time, the common case, costs one look-up."""
        first = self.first
        size = len(first)
        for name, entry in named:
            kept = entry if isinstance(entry, _Owner) else entry[0]
            first.setdefault(name, kept)
            if len(first) == size:  # the name was there already
                self.add_again(name, entry)
            else:
                size += 1


def _alike(a: str | None, b: str | None) -> bool:
    """Two member paths that generated code spells alike (reported on their own)."""
    if a is None or b is None or a == b:
        return False
    return method_name(a).upper() == method_name(b).upper()


def _is_sunder(name: str) -> bool:
    """`_x_`: the names enum keeps for itself (as Python 3.11's enum tells them apart)."""
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


@functools.cache
def c_template_words() -> frozenset[str]:
    """Every identifier the C templates write themselves (outside Jinja tags, comments,
    strings and #include lines): a macro of the spec must not replace any of them."""
    words: set[str] = set()
    for path in sorted((TEMPLATES / "c").glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", text, flags=re.S)
        text = re.sub(r"/\*.*?\*/|\"[^\"\n]*\"|^#include[^\n]*", " ", text, flags=re.S | re.M)
        words.update(re.findall(r"[A-Za-z_]\w*", text))
    return frozenset(words)


class _GeneratedNames:
    def __init__(self, abi: m.Abi, errors: Collector) -> None:
        self.abi = abi
        self.errors = errors
        self.package = f"python/{abi.name}"
        self.namer = c_namer(abi)

    # ---- what the spec names ----------------------------------------------------------

    def file_scope(self) -> Iterator[tuple[str, _Owner]]:
        """Types, tables and enumerators: C's file-scope names (tags and ordinary names)."""
        for decl in self.abi.types:
            kind = type(decl).__name__.lower().replace("opaque", "opaque struct")
            space = BOTH if isinstance(decl, (m.Struct, m.Opaque)) else TYPEDEF
            yield decl.name, _Owner(kind + " '{}'", decl.name, decl.span, True, space)
            if isinstance(decl, m.Enum):
                space = MACRO if enum_as_macros(decl) else ORDINARY
                for v in decl.values:
                    yield v.name, _Owner("enumerator '{}'", v.name, v.span, True, space)
        for table in self.abi.tables:
            yield table.name, _Owner("table '{}'", table.name, table.span, True, TAG)

    def inner(self) -> Iterator[tuple[str, str, Span]]:
        """Members, fields and parameters (names inside a struct or a prototype): each name,
        a description of its owner (`template` with the name in its `{}`), and its span."""
        for decl in self.abi.types:
            if isinstance(decl, m.Struct):
                field = f"field '{decl.name}.{{}}'"
                for f in decl.fields:
                    yield f.name, field, f.span
        for table in self.abi.tables:
            member_of = f"member '{table.name}.{{}}'"
            for member in table.members:
                yield member.name, member_of, member.span
                if isinstance(member, m.Hook):
                    param = f"parameter '{{}}' of '{table.name}.{member.name}'"
                    for p in member.params:
                        yield p.name, param, p.span

    # ---- both languages -----------------------------------------------------------------

    def check_joined_paths(self) -> None:
        """Generated code spells a member's path with underscores (C wrappers and natives,
        Python methods) and in capitals (C macros): two paths spelled alike clash."""
        seen: dict[str, tuple[str, Span]] = {}
        # A top-level table's walk is the aggregate's, made once by resolve.
        walked: dict[str, list[m.HookSlot | m.DataSlot]] = {}
        for slot in self.abi.slots:
            walked.setdefault(slot.top.name, []).append(slot)
        for table in self.abi.tables:
            slots = walked.get(table.name)
            for slot in m.slots_under(table, self.abi.tables_by_name) if slots is None else slots:
                path, member = slot.path, slot.member
                joined = method_name(path)
                for spelling in (joined, joined.upper()):
                    other, other_span = seen.setdefault(spelling, (path, member.span))
                    if other != path:
                        self.errors.error(
                            member.span,
                            f"'{path}' and '{other}' would share the name '{spelling}' in"
                            " generated code",
                            related=[Related(other_span, f"'{other}' is declared here")],
                        )
                        break

    # ---- C --------------------------------------------------------------------------

    def check_c(self) -> None:
        pool = _Pool(self.errors, C_CODE, remake=self.c_generated)
        pool.add_all(self.file_scope())
        pool.add_all(self.c_generated())
        self.check_c_reserved(pool)
        self.check_c_parameters()
        self.check_cpp_members()

    def c_generated(self) -> Iterator[tuple[str, _Entry]]:
        """Every name the header and the native table define, with what it stands for, as
        the C generator spells them."""
        abi, namer = self.abi, self.namer
        yield namer.ops, _Owner("the C aggregate of every table", "", abi.span, False, BOTH)
        if namer.template != namer.ops:  # `struct <abi>_patch_template`: a tag only
            yield namer.template, _Owner("the C patch template", "", abi.span, False, TAG)
        own = namer.names
        fixed = [
            (own.guard, "the header's include guard"),
            (own.abi_version, "the header's ABI version macro"),
            (own.deprecated, "the header's macro for deprecated wrappers"),
            (own.empty_member, "the header's macro for empty structs"),
            (own.packed, "the header's macro for packed structs"),
            (own.static_assert, "the header's macro for layout proofs"),
            *((macro, "the header's calling-convention macro") for macro, _ in own.callconvs),
        ]
        for macro, what in fixed:
            yield macro, _Owner(what, macro, abi.span, False, MACRO)
        for target in abi.targets:
            owner = _Owner("the macro of target '{}'", target.name, target.span, False, MACRO)
            yield namer.target_macro(target), owner
        for backend in abi.backends:
            owner = _Owner("the macro of backend '{}'", backend.name, backend.span, False, MACRO)
            yield namer.backend_macro(backend), owner
        for slot in abi.hook_slots:
            yield namer.wrapper_name(slot), (WRAPPER, slot, None)
            if slot.hook.nullable:
                yield namer.is_set_name(slot), (SLOT_TEST, slot, None)
            if namer.in_template(slot):
                yield namer.patch_macro(slot), (PATCH_ID, slot, None)
        for table in abi.tables:
            owner = _Owner(
                "the fingerprint macro of table '{}'", table.name, table.span, False, MACRO
            )
            yield namer.fingerprint_macro(table), owner
            for member in table.members:
                if not isinstance(member, m.Hook):
                    continue
                yield namer.since_macro(table, member), (SINCE, table, member)
                if member.no_native is None:
                    yield namer.native_name(table, member), (NATIVE, table, member)

    def check_c_reserved(self, pool: _Pool) -> None:
        """Names of the standard headers, GCC's own macros, the configuration macros and the
        layout proofs' typedefs, which no spec name may take; and names a macro replaces."""
        checks = "typedef names of the header's layout proofs (before C11)"
        layout_prefix = self.namer.names.layout_check
        spec_owned = [
            (name, kept) for name, kept in pool.entries() if isinstance(kept, _Owner) and kept.spec
        ]
        for name, owner in spec_owned:
            self.check_c_name(name, owner.template, owner.span)
        for name, kept in pool.first.items():
            if name.startswith(layout_prefix):
                owner = pool.worded(name, kept)
                self.errors.error(
                    owner.span,
                    f"{owner.what} would be named '{name}' in {C_CODE}, which starts with"
                    f" '{layout_prefix}', the prefix of the {checks}",
                )
        for name, template, span in self.inner():
            self.check_c_name(name, template, span)
            held = pool.first_macro(name)
            if held is not None:
                macro = pool.worded(name, held)
                self.errors.error(
                    span,
                    f"{template.format(name)} would be replaced by the macro '{name}'"
                    f" ({macro.what}) in {C_CODE}",
                    related=[Related(macro.span, f"{macro.what} comes from here")],
                )
        words = c_template_words()
        for name, owner in spec_owned:
            if owner.space == MACRO and name in words and pool.first_macro(name) is owner:
                self.errors.error(
                    owner.span,
                    f"{owner.what} is written as a macro in the generated C header (its enum"
                    f" has conditional or wide values), and '{name}' is a word the header uses",
                )

    def check_c_name(self, name: str, template: str, span: Span) -> None:
        """A spec name that the included headers or GCC define, or that a build may."""
        if name in C_STANDARD_NAMES:
            self.errors.error(
                span,
                f"{template.format(name)} is named '{name}', which the C headers that the"
                " generated header includes, or GCC itself, define; the generated C code"
                " would break",
            )
        elif name.startswith(DEFAULT_MACRO_PREFIX):
            self.errors.error(
                span,
                f"{template.format(name)} starts with '{DEFAULT_MACRO_PREFIX}', the prefix of the"
                " configuration macros that @if tests in generated C; a build may define"
                f" '{name}' as a macro",
            )

    def check_c_parameters(self) -> None:
        """A parameter hides a file-scope name for the rest of its prototype and in the call
        wrapper's body, which names the aggregate."""
        ops, bare = self.namer.ops, self.bare_types
        for table in self.abi.tables:
            for hook in table.members:
                if not isinstance(hook, m.Hook):
                    continue
                for index, p in enumerate(hook.params):
                    if p.name != ops and p.name not in bare:
                        continue  # the common case: nothing to hide
                    what = f"parameter '{p.name}' of '{table.name}.{hook.name}'"
                    if p.name == ops:
                        self.errors.error(
                            p.span,
                            f"{what} would hide the C aggregate '{ops}' that the hook's call"
                            " wrapper calls through",
                        )
                    later = [q for q in hook.params[index + 1 :] if self.bare_type(q.type, p.name)]
                    if later:
                        self.errors.error(
                            p.span,
                            f"{what} would hide type '{p.name}', which parameter"
                            f" '{later[0].name}' uses, in the generated C prototype",
                        )

    @functools.cached_property
    def bare_types(self) -> frozenset[str]:
        """The declared types that C spells with a bare identifier (not `struct name`)."""
        return frozenset(
            name
            for name, variants in self.abi.types_by_name.items()
            if not all(isinstance(v, (m.Struct, m.Opaque)) for v in variants)
        )

    def bare_type(self, ref: m.TypeRef, name: str) -> bool:
        """Whether C spells `ref` with the bare identifier `name`."""
        return not ref.builtin and ref.name == name and name in self.bare_types

    def check_cpp_members(self) -> None:
        """In C++ a member hides a type of its name from the members after it (g++ says the
        type is not a type there); the header is also compiled as C++."""
        bare = self.bare_types
        records: list[tuple[str, list[tuple[str, Span, list[m.TypeRef]]]]] = []
        for decl in self.abi.types:
            if isinstance(decl, m.Struct) and any(f.name in bare for f in decl.fields):
                fields = [(f.name, f.span, [f.type]) for f in decl.fields]
                records.append((f"struct '{decl.name}'", fields))
        for table in self.abi.tables:
            if not any(mb.name in bare for mb in table.members):
                continue  # no member could hide a type
            members: list[tuple[str, Span, list[m.TypeRef]]] = []
            for mb in table.members:
                refs: list[m.TypeRef] = []
                if isinstance(mb, m.Hook):
                    refs = [mb.returns, *(p.type for p in mb.params)]
                elif isinstance(mb, m.DataMember):
                    refs = [mb.type]
                members.append((mb.name, mb.span, refs))
            records.append((f"table '{table.name}'", members))
        for record, members in records:
            used_later: dict[str, str] = {}  # bare type name -> the first later member using it
            for name, span, refs in reversed(members):
                if name in used_later:
                    self.errors.error(
                        span,
                        f"member '{name}' of {record} would hide type '{name}' from the later"
                        f" member '{used_later[name]}' in the generated header's C++ form,"
                        " which g++ rejects",
                    )
                for ref in refs:
                    if self.bare_type(ref, ref.name):
                        used_later[ref.name] = name

    # ---- Python -----------------------------------------------------------------------

    def check_python(self) -> None:
        abi = self.abi
        if abi.name in PY_STDLIB_MODULES:
            self.errors.error(
                abi.span,
                f"ABI '{abi.name}' would name the generated Python package"
                f" '{self.package}', which would shadow the standard-library module"
                f" '{abi.name}' wherever python/ is on the import path",
                hint="rename the ABI",
            )
        self.check_python_tables()
        self.check_python_types()
        self.check_python_backends()
        self.check_python_members()

    def reserved_in_tables(self) -> dict[str, tuple[str, Span | None]]:
        """Names python/<abi>/tables.py uses, with why, that a table class would replace."""
        tables = f"{self.package}/tables.py"
        reserved: dict[str, tuple[str, Span | None]] = {}
        for name in PY_TABLES_RUNTIME_NAMES:
            reserved[name] = (f"a name that {tables} defines or imports", None)
        for name in PY_BUILTINS_USED:
            reserved[name] = (f"a Python builtin that {tables} calls", None)
        for name in PY_DISPATCH_INIT_LOCALS:
            why = f"a parameter of the dispatch's __init__ in {tables}, which names every table"
            reserved[name] = (why, None)
        reserved[class_name(self.abi.name, "Ops")] = (
            f"the dispatch class of {tables}",
            self.abi.span,
        )
        for backend in self.abi.backends:
            if backend.default:
                why = f"the default backend's stub class, which {tables} imports"
                reserved[class_name(backend.name, "Stub")] = (why, backend.span)
        return reserved

    def check_python_tables(self) -> None:
        reserved = self.reserved_in_tables()
        top = {t.name for t in self.abi.top_level_tables()}
        for table in self.abi.tables:
            name = table.name
            why, where = reserved.get(name, (None, None))
            if why is None and name in top and name in PY_DISPATCH_ATTRIBUTES:
                why = "an attribute of the dispatch object itself"
            if why is None:
                continue
            related = [Related(where, "which comes from here")] if where is not None else []
            self.errors.error(
                table.span,
                f"table '{name}' would be the Python class '{name}' and collide with {why};"
                " the generated Python would break",
                related=related,
                hint="rename the table",
            )

    def check_python_types(self) -> None:
        types = f"{self.package}/types.py"
        for name, decls in self.abi.types_by_name.items():
            if name in PY_TYPES_MODULE_NAMES:
                self.errors.error(
                    decls[0].span,
                    f"type '{name}' would replace '{name}', which {types} uses, and break it",
                    hint="rename the type",
                )
            fields: dict[str, m.Field] = {}
            for decl in decls:
                for f in decl.fields if isinstance(decl, m.Struct) else ():
                    fields.setdefault(f.name, f)
            self.check_field_defaults(name, list(fields.values()))
            for decl in decls:
                for v in decl.values if isinstance(decl, m.Enum) else ():
                    if v.name in PY_ENUM_RESERVED or _is_sunder(v.name):
                        self.errors.error(
                            v.span,
                            f"enumerator '{v.name}' cannot name a member of the Python enum"
                            f" '{name}' in {types}: Python's enum keeps the name for itself",
                        )

    def check_field_defaults(self, struct: str, fields: list[m.Field]) -> None:
        """A dataclass field hides a module-level name from the defaults of later fields."""
        for index, f in enumerate(fields):
            for later in fields[index + 1 :]:
                default = py_default(self.abi, later.type)
                if f.name in re.findall(r"[A-Za-z_]\w*", default):
                    self.errors.error(
                        f.span,
                        f"field '{struct}.{f.name}' would hide '{f.name}' from the default of"
                        f" the later field '{later.name}' ({default}) in the generated Python",
                        related=[Related(later.span, f"'{later.name}' is declared here")],
                    )
                    break

    def check_python_backends(self) -> None:
        pool = _Pool(self.errors, f"the generated Python package {self.package}/backends")
        for backend in self.abi.backends:
            pool.add(backend.name, _Owner("backend '{}'", backend.name, backend.span, True))
        for backend in self.abi.backends:
            owner = _Owner("the stub class of backend '{}'", backend.name, backend.span, False)
            pool.add(class_name(backend.name, "Stub"), owner)

    def check_mangled(self) -> None:
        """Names that Python would rename where the generated package writes them inside a
        class (`__x` becomes `_Class__x`): fields, enumerators, members and the top-level
        tables the dispatch object holds. Types and tables may have such names: they are
        module-level names."""
        why = "Python renames names that start with '__' inside a class (name mangling)"
        places: list[tuple[str, Span]] = []  # what each mangled name names, and where
        for decl in self.abi.types:
            for f in decl.fields if isinstance(decl, m.Struct) else ():
                if mangled(f.name):
                    places.append((f"field '{decl.name}.{f.name}'", f.span))
            for v in decl.values if isinstance(decl, m.Enum) else ():
                if mangled(v.name):
                    places.append((f"enumerator '{v.name}'", v.span))
        for table in self.abi.tables:
            for member in table.members:
                if mangled(member.name):
                    places.append((f"member '{table.name}.{member.name}'", member.span))
        for table in self.abi.top_level_tables():
            if mangled(table.name):
                places.append((f"top-level table '{table.name}'", table.span))
        for what, span in places:
            self.errors.error(
                span,
                f"{what} would be an attribute of a class in the generated Python, where {why}",
                hint="C may use the name; drop one leading underscore for Python's sake",
            )

    def check_python_members(self) -> None:
        self.check_mangled()
        for slot in self.abi.slots:
            method = method_name(slot.path)
            if method.startswith("__"):
                self.errors.error(
                    slot.member.span,
                    f"'{slot.path}' would be the Python method '{method}' of every backend"
                    " stub; Python mangles or reserves names that start with '__'",
                )
        for table in self.abi.tables:
            for hook in table.members:
                for p in hook.params if isinstance(hook, m.Hook) else ():
                    if p.name == "self":
                        self.errors.error(
                            p.span,
                            f"parameter 'self' of '{table.name}.{hook.name}' would repeat the"
                            " 'self' of the backend stub's Python method",
                        )
