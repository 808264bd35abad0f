"""C generator: the header and the native table of one ABI.

Takes: a resolved `model.Abi` and `GenOptions` (the prefix of the macros that `@if` tests).
Hands on: two `OutputFile`s, relative to the ABI's output folder:

- `c/<abi>.h`: the ABI and hook versions, each table's fingerprint, one block per target (selected by data model and
  configuration macros) naming the backends that run there (`<ABI>_BACKEND_<NAME>`) and
  giving the patch IDs as integer literals usable from assembly, then, outside assembly,
  every type in dependency order, one struct per table, the aggregate `struct <abi>_ops`,
  the patch template `struct <abi>_patch_template` when the ABI lists its tables, `offsetof`
  fallbacks of the patch IDs, static inline call wrappers (a `@nullable` hook's also has an
  `_is_set()` test, and a void one calls only when set) and, per target, static asserts
  that the compiler lays everything out as the model says.
- `c/<abi>_native.c`: the definition of `<abi>_ops`, every hook set to its bare-hardware
  implementation `native_<declaring table>_<hook>`, which it declares extern; a
  `@no_native` hook stays NULL.

Python decides order, names, conditions and layout numbers, and spells each declaration,
call wrapper, initializer and layout proof (one per hook, member or assertion: a large ABI has
tens of thousands, too many to spell through template macros); the templates in
templates/c/ hold the layout of the file: its sections, its fixed text, and where each list
goes. Doc comments and annotation strings are escaped for C comments, strings for C strings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from ..conditions import Cond, Not, Or, conjoin
from ..conditions import render as render_condition
from ..dump import fingerprints
from ..escape import c_comment as safe_comment_text
from ..escape import c_string
from ..model import (
    Abi,
    DataMember,
    Deprecation,
    Element,
    Enum,
    Hook,
    HookSlot,
    Opaque,
    RecordLayout,
    Struct,
    SubTable,
    Table,
    TableMember,
    Target,
    TypeDecl,
    Typedef,
    TypeRef,
)
from ..records import record
from .cnames import INT_MAX, INT_MIN, CNames, enum_as_macros
from .common import (
    GenOptions,
    OutputFile,
    banner_lines,
    c_comment_lines,
    environment,
)
from .stream import Lines, Sink, StreamedFile, render_template

# Builtin types whose C spelling differs from the spec's; C spellings stay as they are.
BUILTIN_C = {
    "u8": "uint8_t",
    "u16": "uint16_t",
    "u32": "uint32_t",
    "u64": "uint64_t",
    "s8": "int8_t",
    "s16": "int16_t",
    "s32": "int32_t",
    "s64": "int64_t",
    "bool": "bool",
}
# A trigraph in a comment could still splice lines (`??/`) under -std=c11 -Wall.

E = TypeVar("E", bound=Element)


# ---- C text: what the templates read ---------------------------------------------------
#
# Each declaration is spelled as a list of lines; the templates receive one string per
# declaration (its lines joined, no final newline) or one per line.


def comment(lines: Sequence[str], indent: str = "") -> list[str]:
    """A block comment of lines already safe inside one (`doc_lines`, `line_end`): `/* x */`
    for one line, a starred block for several, nothing for none."""
    if len(lines) == 1:
        return [f"{indent}/* {lines[0]} */"]
    if not lines:
        return []
    star = f"{indent} *"
    return [f"{indent}/*", *[f"{star} {line}" if line else star for line in lines], f"{star}/"]


def guard(cond: str | None, lines: list[str]) -> list[str]:
    """`lines` between `#if cond` and `#endif`, or as they are when always present."""
    return [f"#if {cond}", *lines, "#endif"] if cond else lines


@record
class TargetBlock:
    """What the header says of one target: its block of macros, and its layout proofs."""

    name: str
    macro: str
    selector: tuple[str, ...]  # conjuncts of the #if
    doc: str  # the target's doc comment, or ""
    notes: tuple[str, ...]
    backends: tuple[str, ...]  # a macro for each backend that runs on the target
    patch_ids: Lines  # `#define` lines
    gnu_patch_ids: Lines  # those that hold only under GNU C (empty structs)
    asserts: Lines  # static assert lines
    gnu_asserts: Lines


# ---- the model seen from C ----------------------------------------------------------------


def _any_of(conds: Iterable[Cond | None]) -> Cond | None:
    """The condition under which at least one holds (None: always)."""
    unique: list[Cond] = []
    for c in conds:
        if c is None:
            return None
        if c not in unique:
            unique.append(c)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else Or(tuple(unique))


def _by_value(ref: TypeRef) -> str | None:
    """The declared type a reference uses by value, if any."""
    return None if ref.builtin or ref.pointers else ref.name


def _value_uses(decl: TypeDecl) -> list[str]:
    refs = [decl.target] if isinstance(decl, Typedef) else []
    if isinstance(decl, Struct):
        refs = [f.type for f in decl.fields]
    return [n for n in map(_by_value, refs) if n is not None]


def _sub_tables(table: Table) -> list[str]:
    return [m.table for m in table.members if isinstance(m, SubTable)]


def _coexist(a: Element, b: Element, targets: Sequence[Target]) -> bool:
    """Whether some target sees both (or `a` is seen by no target at all)."""
    if not any(t.holds(a.condition) for t in targets):
        return True
    return any(t.holds(a.condition) and t.holds(b.condition) for t in targets)


def dependency_order(
    items: Sequence[E], uses: Callable[[E], Iterable[str]], targets: Sequence[Target]
) -> list[E]:
    """Spec order, except that what an item uses by value comes before it."""
    by_name: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_name.setdefault(item.name, []).append(i)
    order: list[E] = []
    seen: set[int] = set()

    def visit(i: int) -> None:
        if i in seen:
            return
        seen.add(i)
        for name in uses(items[i]):
            for j in by_name.get(name, ()):
                if _coexist(items[i], items[j], targets):
                    visit(j)
        order.append(items[i])

    for i in range(len(items)):
        visit(i)
    return order


def line_end(line: str) -> str:
    """A comment line without trailing blanks or a backslash that would splice lines."""
    return line.rstrip().rstrip("\\").rstrip()


def doc_lines(text: str | None) -> tuple[str, ...]:
    """A doc comment's lines for a C block comment; () when it has no text."""
    lines = tuple(c_comment_lines(text))
    return lines if any(lines) else ()


def int_literal(value: int) -> str:
    """A C integer constant with the value, never out of the range of its own type."""
    if 0 <= value <= INT_MAX:
        return str(value)
    if INT_MAX < value < 2**32:
        return f"{value}u"
    if value >= 2**32:
        return f"{value:#x}ull"
    if value > INT_MIN:
        return f"-{-value}"
    suffix = "" if value == INT_MIN else "ll"
    return f"(-{-value - 1}{suffix} - 1)"


# ---- the generator ------------------------------------------------------------------------


class _CGen(CNames):
    """The header and the native table of one ABI, spelled as `CNames` spells them."""

    def __init__(self, abi: Abi, options: GenOptions) -> None:
        super().__init__(abi)
        self.options = options
        # Spellings asked for again and again in a large ABI, kept per generator.
        self._type_names: dict[str, str] = {}
        self._params: dict[int, str] = {}  # by id() of the hook
        self._docs: dict[str, tuple[str, ...]] = {}
        # Each hook's path, and the macro of its patch ID: the fallbacks and every target's
        # block ask for them.
        self.paths = {slot: slot.path for slot in abi.hook_slots}
        self.patch_macros = {slot: self.patch_macro(slot) for slot in abi.hook_slots}
        # Whether some struct needs the placeholder member (the header then defines it).
        self.has_placeholders = False

    # -- names, types and conditions

    def cond_text(self, cond: Cond | None) -> str | None:
        if cond is None:
            return None
        prefix = self.options.macro_prefix
        return render_condition(cond, prefix + "{}", "defined(" + prefix + "{})")

    def doc(self, text: str | None) -> tuple[str, ...]:
        """`doc_lines(text)`, escaped once per distinct text."""
        if not text:
            return ()
        lines = self._docs.get(text)
        if lines is None:
            lines = self._docs[text] = doc_lines(text)
        return lines

    def tables_named(self, name: str) -> list[Table]:
        """The table of that name, as a list (none for a name that is not a table)."""
        table = self.abi.tables_by_name.get(name)
        return [table] if table is not None else []

    def type_name(self, name: str) -> str:
        """`struct X` for a name that is a struct on every target, else the bare name."""
        found = self._type_names.get(name)
        if found is None:
            variants = self.abi.types_by_name.get(name, ())
            struct = variants and all(isinstance(v, (Struct, Opaque)) for v in variants)
            found = self._type_names[name] = f"struct {name}" if struct else name
        return found

    def c_type(self, ref: TypeRef) -> str:
        base = BUILTIN_C.get(ref.name, ref.name) if ref.builtin else self.type_name(ref.name)
        text = f"const {base}" if ref.const else base
        if ref.pointers:
            text += " " + "".join("*const " if c else "*" for c in ref.pointers).rstrip()
        return text

    def declarator(self, ref: TypeRef, name: str) -> str:
        text = self.c_type(ref)
        return f"{text}{'' if text.endswith('*') else ' '}{name}"

    def callconv(self, hook: Hook) -> str:
        """The macro that gives a hook its calling convention, followed by a space, or ''."""
        return f"{self.callconv_macro(hook.callconv)} " if hook.callconv else ""

    def params(self, hook: Hook) -> str:
        text = self._params.get(id(hook))
        if text is None:
            c_type, parts = self.c_type, []
            for p in hook.params:
                ref = p.type
                if ref.builtin and not ref.const and not ref.pointers:
                    parts.append(f"{BUILTIN_C.get(ref.name, ref.name)} {p.name}")  # `u32 x`
                    continue
                spelled = c_type(ref)
                parts.append(f"{spelled}{'' if spelled.endswith('*') else ' '}{p.name}")
            text = self._params[id(hook)] = ", ".join(parts) or "void"
        return text

    def placeholder(self, conds: Sequence[Cond | None]) -> list[str]:
        """The dummy member of a struct that has no member on some configuration: none when
        a member is always there, unconditional when there is no member at all."""
        if any(c is None for c in conds):
            return []
        self.has_placeholders = True
        either = _any_of(conds)
        cond = None if either is None else self.cond_text(Not(either))
        return guard(
            cond, [f"    {self.names.empty_member}; /* no member on this configuration */"]
        )

    def deprecation_message(self, what: str, deprecation: Deprecation) -> str:
        text = f"{what} is deprecated"
        if deprecation.since is not None:
            text += f" since ABI version {deprecation.since}"
        if deprecation.use:
            text += f"; use {deprecation.use} instead"
        if deprecation.reason:
            text += f" ({deprecation.reason})"
        return text

    def hook_doc(self, table: str, hook: Hook) -> tuple[str, ...]:
        if hook.patch is None and hook.deprecated is None and hook.no_native is None:
            return self.doc(hook.doc)
        notes = []
        if hook.patch is not None:
            note = f'Patch site: native "{safe_comment_text(hook.patch.native)}"'
            if hook.patch.clobbers is not None:
                note += f', clobbers "{safe_comment_text(hook.patch.clobbers)}"'
            notes.append(note)
        if hook.deprecated is not None:
            what = f"{table}.{hook.name}"
            notes.append(safe_comment_text(self.deprecation_message(what, hook.deprecated)))
        if hook.no_native is not None:
            notes.append(f"No native implementation: {safe_comment_text(hook.no_native)}")
        doc = self.doc(hook.doc)
        if not notes:
            return doc
        notes = [line_end(n) for n in notes]
        return (*doc, "", *notes) if doc else tuple(notes)

    # -- header pieces

    def fingerprint_macros(self) -> list[str]:
        """Each table's fingerprint, computed once with the dump (`pvgen.dump`)."""
        found = fingerprints(self.abi)
        return [f"#define {self.fingerprint_macro(t)} {found[t.name]}ULL" for t in self.abi.tables]

    def since_macros(self) -> Lines:
        """Unconditional, unless one name has several declarations (exclusive variants)."""
        hooks = [(t, m) for t in self.abi.tables for m in t.members if isinstance(m, Hook)]
        uses = Counter(self.since_macro(t, m) for t, m in hooks)

        def make() -> Iterator[str]:
            for table, hook in hooks:
                name = self.since_macro(table, hook)
                define = f"#define {name} {hook.since}"
                if uses[name] > 1:
                    cond = self.cond_text(conjoin(table.condition, hook.condition))
                    define = "\n".join(guard(cond, [define]))
                yield define

        return Lines(make, "\n", bool(hooks))

    def forward_declarations(self) -> list[str]:
        """`typedef struct X X;` for every struct: unconditional, unless X is also a typedef."""
        names: dict[str, list[Struct | Opaque]] = {}
        for decl in self.abi.types:
            if isinstance(decl, (Struct, Opaque)):
                names.setdefault(decl.name, []).append(decl)
        found = []
        for name, decls in names.items():
            doc = next((self.doc(d.doc) for d in decls if isinstance(d, Opaque) and d.doc), ())
            alone = len(decls) == len(self.abi.types_by_name[name])
            cond = None if alone else self.cond_text(_any_of(d.condition for d in decls))
            lines = guard(cond, [*comment(doc), f"typedef struct {name} {name};"])
            found.append("\n".join(lines))
        return found

    def struct(
        self,
        name: str,
        cond: str | None,
        doc: Sequence[str],
        members: list[str],
        placeholder: list[str],
        packed: bool = False,
    ) -> str:
        """A struct definition: its members' lines (each guarded and commented already)."""
        end = f"}} {self.names.packed};" if packed else "};"
        lines = [*comment(doc), f"struct {name} {{", *members, *placeholder, end]
        return "\n".join(guard(cond, lines))

    def type_items(self) -> list[str]:
        ordered = dependency_order(self.abi.types, _value_uses, self.abi.targets)
        return [self.type_item(d) for d in ordered if not isinstance(d, Opaque)]

    def type_item(self, decl: TypeDecl) -> str:
        cond, doc = self.cond_text(decl.condition), self.doc(decl.doc)
        if isinstance(decl, Typedef):
            text = f"typedef {self.declarator(decl.target, decl.name)};"
            return "\n".join(guard(cond, [*comment(doc), text]))
        if isinstance(decl, Enum):
            return "\n".join(guard(cond, self.enum_lines(decl, doc)))
        assert isinstance(decl, Struct)
        fields = [
            line
            for f in decl.fields
            for line in self.member(self.declarator(f.type, f.name), f.condition, self.doc(f.doc))
        ]
        holder = self.placeholder([f.condition for f in decl.fields])
        return self.struct(decl.name, cond, doc, fields, holder, decl.packed)

    def enum_lines(self, decl: Enum, doc: tuple[str, ...]) -> list[str]:
        """The typedef of an enum, then its values: macros, or an anonymous enum."""
        ctype = self.c_type(decl.underlying)
        lines = [*comment(doc), f"typedef {ctype} {decl.name};"]
        if enum_as_macros(decl):
            for v in decl.values:
                define = f"#define {v.name} (({ctype}){int_literal(v.value)})"
                lines += guard(self.cond_text(v.condition), [*comment(self.doc(v.doc)), define])
            return lines
        lines.append("enum {")
        last = len(decl.values) - 1
        for i, v in enumerate(decl.values):
            lines += comment(self.doc(v.doc), "    ")
            lines.append(f"    {v.name} = {int_literal(v.value)}{',' if i < last else ''}")
        lines.append("};")
        return lines

    def member(self, text: str, cond: Cond | None, doc: Sequence[str]) -> list[str]:
        """A member (or field) of a struct: its doc, the declaration, and its #if."""
        lines = [*comment(doc, "    "), f"    {text};"] if doc else [f"    {text};"]
        return lines if cond is None else guard(self.cond_text(cond), lines)

    def member_lines(self, table: Table, m: TableMember) -> list[str]:
        if isinstance(m, Hook):
            head = f"({self.callconv(m)}*{m.name})({self.params(m)})"
            text = self.declarator(m.returns, head)
            return self.member(text, m.condition, self.hook_doc(table.name, m))
        if isinstance(m, DataMember):
            text = self.declarator(m.type, m.name)
        else:
            text = f"struct {m.table} {m.name}"
        return self.member(text, m.condition, self.doc(m.doc))

    def table_items(self) -> Lines:
        """The struct of each table, in dependency order, made when written."""
        ordered = dependency_order(self.abi.tables, _sub_tables, self.abi.targets)
        # Known now, though the structs are made later: whether one needs a placeholder.
        if any(all(m.condition is not None for m in t.members) for t in ordered):
            self.has_placeholders = True

        def make() -> Iterator[str]:
            for t in ordered:
                members: list[str] = []
                for m in t.members:
                    members += self.member_lines(t, m)
                holder = self.placeholder([m.condition for m in t.members])
                doc = self.doc(t.doc)
                yield self.struct(t.name, self.cond_text(t.condition), doc, members, holder)

        return Lines(make, "\n\n", bool(ordered))

    def tables_struct(self, name: str, tops: Sequence[Table], doc: Sequence[str]) -> str:
        """A struct with one member per table, named after it: the aggregate, the template."""
        members = [
            line for t in tops for line in self.member(f"struct {t.name} {t.name}", t.condition, ())
        ]
        return self.struct(name, None, doc, members, self.placeholder([t.condition for t in tops]))

    def aggregate(self) -> str:
        doc = (f"Every top-level table of ABI '{self.abi.name}', in spec order.",)
        return self.tables_struct(self.ops, list(self.abi.top_level_tables()), doc)

    def template_item(self) -> str | None:
        """`struct <abi>_patch_template`, when the ABI lists its tables."""
        if self.abi.patch_template is None:
            return None
        tops = [self.abi.tables_by_name[name] for name in self.abi.patch_template]
        doc = (
            "The tables whose slots the patch IDs count, in the order 'patch_template' lists",
            "them: a hook's patch ID is its offset in this struct over the size of a pointer.",
        )
        return self.tables_struct(self.template, tops, doc)

    def patch_fallbacks(self) -> Lines:
        found: dict[str, list[HookSlot]] = {}
        for slot in self.abi.hook_slots:
            if self.in_template(slot):
                found.setdefault(self.patch_macros[slot], []).append(slot)

        def make() -> Iterator[str]:
            template = f"struct {self.template}"
            for m, slots in found.items():
                # The offset of the last slot with the macro, as the others are alike.
                offset = f"(offsetof({template}, {self.paths[slots[-1]]}) / sizeof(void *))"
                define = f"#ifndef {m}\n#define {m} {offset}\n#endif"
                conds = [s.condition for s in slots]
                cond = self.cond_text(conds[0] if len(conds) == 1 else _any_of(conds))
                yield f"#if {cond}\n{define}\n#endif" if cond else define

        return Lines(make, "\n", bool(found))

    def wrappers(self) -> Lines:
        slots = self.abi.hook_slots
        return Lines(lambda: map(self.wrapper, slots), "\n\n", bool(slots))

    def wrapper(self, slot: HookSlot) -> str:
        """The static inline function that calls the hook through the aggregate. A
        `@nullable` hook's comes with a test of its slot, and calls only when set if void."""
        hook = slot.hook
        path = self.paths[slot]
        access = f"{self.ops}.{path}"
        call = f"{access}({', '.join([p.name for p in hook.params])})"
        parts = []
        if hook.nullable:
            parts.append(
                "/* Whether the slot is set: it may be NULL, and callers check before calling. */"
                f"\nstatic inline int {self.is_set_name(slot)}(void)\n{{\n"
                f"    return {access} != 0;\n}}\n"
            )
        doc = self.doc(hook.doc)
        if doc:
            parts.append("\n".join(comment(doc)))
        if slot.deprecated is not None:
            message = self.deprecation_message(path, slot.deprecated)
            parts.append(f"{self.names.deprecated}({c_string(message)})")
        if not hook.returns.is_void:
            body = f"    return {call};"
        elif hook.nullable:
            body = f"    if ({access} != 0)\n        {call};"
        else:
            body = f"    {call};"
        head = self.declarator(hook.returns, f"{self.wrapper_name(slot)}({self.params(hook)})")
        parts.append(f"static inline {head}\n{{\n{body}\n}}")
        text = "\n".join(parts)
        cond = None if slot.condition is None else self.cond_text(slot.condition)
        return f"#if {cond}\n{text}\n#endif" if cond else text

    # -- targets: selection, patch IDs and layout proofs

    def define_names(self) -> list[str]:
        return sorted({name for t in self.abi.targets for name in t.defines})

    def selector(self, target: Target) -> tuple[str, ...]:
        parts = ["defined(__LP64__)" if target.data_model == "lp64" else "!defined(__LP64__)"]
        for name in self.define_names():
            macro = self.options.macro_prefix + name
            value = target.defines.get(name)
            if value is None:
                parts.append(f"!defined({macro})")
            elif value is True:
                parts.append(f"defined({macro})")
            else:
                parts.append(f"defined({macro}) && {macro} == {int(value)}")
        return tuple(parts)

    def target_blocks(self) -> list[TargetBlock]:
        return [_TargetView(self, t).block() for t in self.abi.targets]

    # -- native table

    def externs(self) -> list[str]:
        found = []
        for table in self.abi.tables:
            for m in table.members:
                if isinstance(m, Hook) and m.no_native is None:
                    head = f"{self.callconv(m)}{self.native_name(table, m)}({self.params(m)})"
                    either = table.condition is not None or m.condition is not None
                    cond = self.cond_text(conjoin(table.condition, m.condition)) if either else None
                    extern = f"extern {self.declarator(m.returns, head)};"
                    found.append(f"#if {cond}\n{extern}\n#endif" if cond else extern)
        return found

    def no_native_notes(self) -> list[str]:
        return [
            line_end(f"{s.path}: {safe_comment_text(s.hook.no_native)}")
            for s in self.abi.hook_slots
            if s.hook.no_native is not None
        ]

    def initializers(self, table: Table, indent: str) -> list[tuple[Cond | None, list[str]]]:
        """(presence, lines) of the designated initializer of each hook with a native
        implementation, sub-tables as nested brace groups."""
        found: list[tuple[Cond | None, list[str]]] = []
        for m in table.members:
            if isinstance(m, Hook) and m.no_native is None:
                init = f"{indent}.{m.name} = {self.native_name(table, m)},"
                text = None if m.condition is None else self.cond_text(m.condition)
                found.append((m.condition, guard(text, [init])))
            elif isinstance(m, SubTable):
                for sub in self.tables_named(m.table):
                    cond = conjoin(m.condition, sub.condition)
                    group = self.init_group(m.name, cond, sub, indent)
                    found += [group] if group is not None else []
        return found

    def init_group(
        self, designator: str, cond: Cond | None, table: Table, indent: str
    ) -> tuple[Cond | None, list[str]] | None:
        """A brace group, under a condition that keeps it from ever being empty."""
        children = self.initializers(table, indent + "    ")
        if not children:
            return None
        presence = conjoin(cond, _any_of(c for c, _ in children))
        lines = [
            f"{indent}.{designator} = {{",
            *[x for _, c in children for x in c],
            f"{indent}}},",
        ]
        return presence, guard(self.cond_text(presence), lines)

    def ops_initializers(self) -> tuple[Cond | None, list[str]]:
        """Under what the aggregate has an initializer, and its lines."""
        groups = [
            self.init_group(t.name, t.condition, t, "    ") for t in self.abi.top_level_tables()
        ]
        present = [g for g in groups if g is not None]
        return _any_of(c for c, _ in present), [x for _, lines in present for x in lines]

    # -- files

    def banner(self) -> str:
        return "\n".join(comment([line_end(safe_comment_text(x)) for x in banner_lines(self.abi)]))

    def header(self, sink: Sink | None = None) -> str:
        """The header's text; or, with `sink`, written there piece by piece (and "")."""
        template = environment("c").get_template("header.h.j2")
        types, tables, aggregate = self.type_items(), self.table_items(), self.aggregate()
        patch_template = self.template_item()
        return render_template(
            template,
            sink,
            banner=self.banner(),
            abi_doc="\n".join(comment(self.doc(self.abi.doc))),
            names=self.names,
            ops=self.ops,
            version=self.abi.version,
            since=self.since_macros(),
            fingerprints=self.fingerprint_macros(),
            targets=self.target_blocks(),
            forwards=self.forward_declarations(),
            types=types,
            tables=tables,
            aggregate=aggregate,
            patch_template=patch_template,
            template_tag=self.template,
            fallbacks=self.patch_fallbacks(),
            wrappers=self.wrappers(),
            has_placeholders=self.has_placeholders,
        )

    def native(self, sink: Sink | None = None) -> str:
        """The native table's text; or, with `sink`, written there piece by piece (and "")."""
        presence, inits = self.ops_initializers()
        template = environment("c").get_template("native.c.j2")
        return render_template(
            template,
            sink,
            banner=self.banner(),
            header_file=self.header_file,
            ops=self.ops,
            externs=self.externs(),
            no_native=self.no_native_notes(),
            inits=inits,
            inits_cond=self.cond_text(presence) if inits else None,
        )


class _TargetView:
    """One target's block: its selector, patch IDs and static asserts, from the model's facts
    of that target (which layouts hold only under GNU C, the aggregate, the patch IDs)."""

    def __init__(self, gen: _CGen, target: Target) -> None:
        self.gen = gen
        self.abi = gen.abi
        self.target = target
        self.facts = gen.abi.facts[target.name]
        self.layout = self.facts.layout
        self.counter = 0
        self.static_assert = gen.names.static_assert
        self.name = target.name

    def numbered(self, count: int, proofs: Callable[[], Iterable[tuple[str, str]]]) -> _Proofs:
        """`count` layout proofs, numbered in the target from where the last ones stopped;
        their lines are made when written."""
        first = self.counter + 1
        self.counter += count
        return _Proofs(count, first, proofs)

    def assertion(self, expr: str, what: str) -> _Proofs:
        return self.numbered(1, lambda: [(expr, what)])

    def record_asserts(self, tag: str, name: str, members: Iterable[Element]) -> _Proofs:
        record = self.layout.records[name]
        seen: dict[str, None] = {}
        holds = self.target.holds
        for m in members:
            if m.name not in seen and (m.condition is None or holds(m.condition)):
                seen[m.name] = None
        named = list(seen)

        def proofs() -> Iterator[tuple[str, str]]:
            offsets = record.offsets
            yield (f"sizeof({tag}) == {record.size}", f"sizeof({tag})")
            for name in named:
                what = f"offsetof({tag}, {name})"
                yield (f"{what} == {offsets[name]}", what)

        return self.numbered(1 + len(named), proofs)

    def exact(self, name: str) -> bool:
        """Whether every C compiler lays out the record `name` as the model does."""
        return name not in self.facts.gnu_only

    def type_asserts(self, exact: bool) -> list[_Proofs]:
        """Layout proofs of the types whose C layout is (or, with `exact` False, is only
        under GNU C) the model's."""
        found: list[_Proofs] = []
        for decl in self.abi.types:
            if self.facts.present.get(decl.name) is not decl or decl.name not in self.layout.types:
                continue
            record = self.facts.present.record_behind(decl.name)
            if (record is None or self.exact(record.name)) != exact:
                continue
            tag = self.gen.type_name(decl.name)
            if isinstance(decl, Struct):
                found.append(self.record_asserts(tag, decl.name, decl.fields))
            else:
                size = self.layout.types[decl.name][0]
                found.append(self.assertion(f"sizeof({tag}) == {size}", f"sizeof({tag})"))
        return found

    def table_asserts(self, exact: bool) -> list[_Proofs]:
        found: list[_Proofs] = []
        for table in self.abi.tables:
            name = table.name
            if self.facts.present.get(name) is not table or name not in self.layout.records:
                continue
            if self.exact(name) == exact:
                found.append(self.record_asserts(f"struct {name}", name, table.members))
        return found

    def patch_ids(self) -> list[tuple[str, str, int]]:
        """Each hook with a patch ID here: its path, its macro, its slot index in the
        template."""
        ids, paths, macros = self.facts.patch_ids, self.gen.paths, self.gen.patch_macros
        found = []
        for slot in self.facts.slots:
            if isinstance(slot, HookSlot):
                path = paths.get(slot) or slot.path  # those of `Abi.hook_slots` are known
                if path in ids:
                    macro = macros.get(slot) or self.gen.patch_macro(slot)
                    found.append((path, macro, ids[path]))
        return found

    def struct_asserts(self, struct: str, layout: RecordLayout) -> _Proofs:
        """sizeof and the offset of every member of the aggregate or the patch template."""
        tag = f"struct {struct}"

        def proofs() -> Iterator[tuple[str, str]]:
            yield (f"sizeof({tag}) == {layout.size}", f"sizeof({tag})")
            for name, offset in layout.offsets.items():
                what = f"offsetof({tag}, {name})"
                yield (f"{what} == {offset}", what)

        return self.numbered(1 + len(layout.offsets), proofs)

    def id_asserts(self, ids: list[tuple[str, str, int]]) -> _Proofs:
        tag = f"struct {self.gen.template}"
        return self.numbered(
            len(ids),
            lambda: (
                (f"{macro} == offsetof({tag}, {path}) / sizeof(void *)", macro)
                for path, macro, _ in ids
            ),
        )

    def lines(self, proofs: list[_Proofs]) -> Lines:
        """`<ABI>_STATIC_ASSERT(expr, id, "what on target t");` for each proof, in order."""
        prefix, target = self.static_assert, self.name

        def make() -> Iterator[str]:
            for part in proofs:
                for n, (expr, what) in enumerate(part.proofs(), part.first):
                    yield f"{prefix}({expr}, {target}_{n}, {c_string(f'{what} on target {target}')});"

        return Lines(make, "\n", any(p.count for p in proofs))

    def block(self) -> TargetBlock:
        # Numbered in this order, written exact ones first.
        asserts = self.type_asserts(exact=True) + self.table_asserts(exact=True)
        gnu_asserts = self.type_asserts(exact=False) + self.table_asserts(exact=False)
        notes = []
        if self.facts.gnu_only:
            names = ", ".join(sorted(self.facts.gnu_only))
            notes.append(f"Empty here, or holding an empty struct (checked under GNU C): {names}.")
        facts, separate = self.facts, self.abi.patch_template is not None
        # The aggregate's proofs; with no patch template of its own, the patch IDs' too.
        if facts.aggregate_exact:
            asserts.append(self.struct_asserts(self.gen.ops, facts.aggregate))
        elif facts.aggregate.offsets:
            gnu_asserts.append(self.struct_asserts(self.gen.ops, facts.aggregate))
        ids: list[tuple[str, str, int]] = []
        gnu_ids: list[tuple[str, str, int]] = []
        template = self.gen.template
        if facts.patch_template_exact:
            ids = self.patch_ids()
            if separate:
                asserts.append(self.struct_asserts(template, facts.patch_template))
            asserts.append(self.id_asserts(ids))
        elif not facts.patch_template.offsets:
            notes.append(f"No patch ID literals: the layout of struct {template} is not known.")
        else:
            notes.append(
                "Patch ID literals for GNU C only: other compilers lay out empty structs differently."
            )
            gnu_ids = self.patch_ids()
            if separate:
                gnu_asserts.append(self.struct_asserts(template, facts.patch_template))
            gnu_asserts.append(self.id_asserts(gnu_ids))
        return TargetBlock(
            name=self.target.name,
            macro=self.gen.target_macro(self.target),
            selector=self.gen.selector(self.target),
            doc="\n".join(comment(self.gen.doc(self.target.doc))),
            notes=tuple(notes),
            backends=tuple(
                self.gen.backend_macro(b) for b in self.abi.backends if b.runs_on(self.target)
            ),
            patch_ids=_defines(ids),
            gnu_patch_ids=_defines(gnu_ids),
            asserts=self.lines(asserts),
            gnu_asserts=self.lines(gnu_asserts),
        )


@record
class _Proofs:
    """Layout proofs of one record (or one list of patch IDs) in a target: how many, the
    number of the first, and what makes them ((expression, what it proves) pairs)."""

    count: int
    first: int
    proofs: Callable[[], Iterable[tuple[str, str]]]


def _defines(ids: list[tuple[str, str, int]]) -> Lines:
    """`#define` of each patch ID macro, made when written."""
    return Lines(lambda: (f"#define {macro} {value}" for _, macro, value in ids), "\n", bool(ids))


def render(abi: Abi, options: GenOptions) -> list[OutputFile]:
    """The header `c/<abi>.h` and the native table `c/<abi>_native.c`.

    Every name they define was checked at resolve time (pvgen/gennames.py).
    """
    gen = _CGen(abi, options)
    return [
        OutputFile(f"c/{gen.header_file}", gen.header()),
        OutputFile(f"c/{gen.native_file}", gen.native()),
    ]


def render_streamed(abi: Abi, options: GenOptions) -> list[StreamedFile]:
    """The same files as `render`, each rendered when it is written."""
    gen = _CGen(abi, options)
    return [
        StreamedFile(f"c/{gen.header_file}", gen.header),
        StreamedFile(f"c/{gen.native_file}", gen.native),
    ]
