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

Python decides order, names, conditions and layout numbers; the templates in templates/c/
hold the layout of the text. Doc comments and annotation strings are escaped for C comments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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
from .cnames import INT_MAX, INT_MIN, CNames, enum_as_macros
from .common import (
    GenOptions,
    OutputFile,
    banner_lines,
    c_comment_lines,
    environment,
)

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


# ---- what the templates read ------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One declaration line (a field, member, enumerator, extern...) with its doc and #if."""

    text: str
    cond: str | None = None
    doc: tuple[str, ...] = ()


@dataclass(frozen=True)
class Define:
    name: str
    value: str
    cond: str | None = None


@dataclass(frozen=True)
class Placeholder:
    """A dummy member for a struct that has no member on some configuration."""

    cond: str | None  # None: always (the struct has no member at all)


@dataclass(frozen=True)
class TypeItem:
    """A typedef, enum or struct (or table) definition, in the order they are emitted."""

    kind: str  # "typedef", "enum" or "struct"
    name: str
    cond: str | None
    doc: tuple[str, ...]
    text: str = ""  # typedef: the declaration; enum: the underlying C type
    lines: tuple[Line, ...] = ()  # struct members, or enumerators
    macros: bool = False  # enum: values as #define macros rather than an anonymous enum
    packed: bool = False
    placeholder: Placeholder | None = None


@dataclass(frozen=True)
class Assert:
    expr: str
    ident: str
    message: str


@dataclass(frozen=True)
class TargetBlock:
    name: str
    macro: str
    selector: tuple[str, ...]  # conjuncts of the #if
    doc: tuple[str, ...]
    patch_ids: tuple[Define, ...]
    asserts: tuple[Assert, ...]
    notes: tuple[str, ...]
    # What holds only where GNU C gives an empty struct size 0, as the model does.
    gnu_patch_ids: tuple[Define, ...] = ()
    gnu_asserts: tuple[Assert, ...] = ()
    backends: tuple[str, ...] = ()  # a macro for each backend that runs on the target


@dataclass(frozen=True)
class Wrapper:
    head: str  # `unsigned long paravirt_pv_irq_ops_save_fl(void)`
    call: str
    returns: bool
    cond: str | None
    doc: tuple[str, ...]
    attribute: str | None
    # For a `@nullable` hook: the slot to test, and the name of the function that tests it.
    # The wrapper of a void hook calls only when the slot is set; callers of the others
    # test first.
    slot: str | None = None
    is_set: str | None = None


@dataclass(frozen=True)
class Init:
    """A designated initializer: a value, or a brace group of further initializers."""

    designator: str
    value: str | None
    cond: str | None
    children: tuple[Init, ...] = ()


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

    # -- names, types and conditions

    def cond_text(self, cond: Cond | None) -> str | None:
        if cond is None:
            return None
        prefix = self.options.macro_prefix
        return render_condition(cond, prefix + "{}", "defined(" + prefix + "{})")

    def tables_named(self, name: str) -> list[Table]:
        """The table of that name, as a list (none for a name that is not a table)."""
        table = self.abi.tables_by_name.get(name)
        return [table] if table is not None else []

    def type_name(self, name: str) -> str:
        """`struct X` for a name that is a struct on every target, else the bare name."""
        variants = self.abi.types_by_name.get(name, ())
        if variants and all(isinstance(v, (Struct, Opaque)) for v in variants):
            return f"struct {name}"
        return name

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
        return ", ".join(self.declarator(p.type, p.name) for p in hook.params) or "void"

    def placeholder(self, conds: Sequence[Cond | None]) -> Placeholder | None:
        if any(c is None for c in conds):
            return None
        either = _any_of(conds)
        return Placeholder(None if either is None else self.cond_text(Not(either)))

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
        notes = [line_end(n) for n in notes]
        doc = doc_lines(hook.doc)
        return (*doc, "", *notes) if doc and notes else (*doc, *notes)

    # -- header pieces

    def fingerprint_macros(self) -> list[Define]:
        """Each table's fingerprint, computed once with the dump (`pvgen.dump`)."""
        found = fingerprints(self.abi)
        return [Define(self.fingerprint_macro(t), f"{found[t.name]}ULL") for t in self.abi.tables]

    def since_macros(self) -> list[Define]:
        """Unconditional, unless one name has several declarations (exclusive variants)."""
        hooks = [(t, m) for t in self.abi.tables for m in t.members if isinstance(m, Hook)]
        names = [self.since_macro(t, m) for t, m in hooks]
        uses = Counter(names)
        found = []
        for name, (table, hook) in zip(names, hooks, strict=True):
            shared = uses[name] > 1
            cond = self.cond_text(conjoin(table.condition, hook.condition)) if shared else None
            found.append(Define(name, str(hook.since), cond))
        return found

    def forward_declarations(self) -> list[Line]:
        """`typedef struct X X;` for every struct: unconditional, unless X is also a typedef."""
        names: dict[str, list[Struct | Opaque]] = {}
        for decl in self.abi.types:
            if isinstance(decl, (Struct, Opaque)):
                names.setdefault(decl.name, []).append(decl)
        lines = []
        for name, decls in names.items():
            doc = next((doc_lines(d.doc) for d in decls if isinstance(d, Opaque) and d.doc), ())
            alone = len(decls) == len(self.abi.types_by_name[name])
            cond = None if alone else self.cond_text(_any_of(d.condition for d in decls))
            lines.append(Line(f"typedef struct {name} {name};", cond, doc))
        return lines

    def type_items(self) -> list[TypeItem]:
        ordered = dependency_order(self.abi.types, _value_uses, self.abi.targets)
        return [self.type_item(d) for d in ordered if not isinstance(d, Opaque)]

    def type_item(self, decl: TypeDecl) -> TypeItem:
        cond, doc = self.cond_text(decl.condition), doc_lines(decl.doc)
        if isinstance(decl, Typedef):
            text = f"typedef {self.declarator(decl.target, decl.name)};"
            return TypeItem("typedef", decl.name, cond, doc, text=text)
        if isinstance(decl, Enum):
            return self.enum_item(decl, cond, doc)
        assert isinstance(decl, Struct)
        fields = tuple(
            Line(self.declarator(f.type, f.name), self.cond_text(f.condition), doc_lines(f.doc))
            for f in decl.fields
        )
        holder = self.placeholder([f.condition for f in decl.fields])
        return TypeItem(
            "struct", decl.name, cond, doc, lines=fields, packed=decl.packed, placeholder=holder
        )

    def enum_item(self, decl: Enum, cond: str | None, doc: tuple[str, ...]) -> TypeItem:
        ctype = self.c_type(decl.underlying)
        macros = enum_as_macros(decl)
        values = tuple(
            Line(
                (
                    f"{v.name} (({ctype}){int_literal(v.value)})"
                    if macros
                    else f"{v.name} = {int_literal(v.value)}"
                ),
                self.cond_text(v.condition),
                doc_lines(v.doc),
            )
            for v in decl.values
        )
        return TypeItem("enum", decl.name, cond, doc, text=ctype, lines=values, macros=macros)

    def member_line(self, table: Table, m: TableMember) -> Line:
        if isinstance(m, Hook):
            head = f"({self.callconv(m)}*{m.name})({self.params(m)})"
            text = self.declarator(m.returns, head)
            return Line(text, self.cond_text(m.condition), self.hook_doc(table.name, m))
        if isinstance(m, DataMember):
            text = self.declarator(m.type, m.name)
        else:
            text = f"struct {m.table} {m.name}"
        return Line(text, self.cond_text(m.condition), doc_lines(m.doc))

    def table_items(self) -> list[TypeItem]:
        ordered = dependency_order(self.abi.tables, _sub_tables, self.abi.targets)
        return [
            TypeItem(
                "struct",
                t.name,
                self.cond_text(t.condition),
                doc_lines(t.doc),
                lines=tuple(self.member_line(t, m) for m in t.members),
                placeholder=self.placeholder([m.condition for m in t.members]),
            )
            for t in ordered
        ]

    def aggregate(self) -> TypeItem:
        tops = list(self.abi.top_level_tables())
        lines = tuple(Line(f"struct {t.name} {t.name}", self.cond_text(t.condition)) for t in tops)
        doc = (f"Every top-level table of ABI '{self.abi.name}', in spec order.",)
        holder = self.placeholder([t.condition for t in tops])
        return TypeItem("struct", self.ops, None, doc, lines=lines, placeholder=holder)

    def template_item(self) -> TypeItem | None:
        """`struct <abi>_patch_template`, when the ABI lists its tables."""
        if self.abi.patch_template is None:
            return None
        tops = [self.abi.tables_by_name[name] for name in self.abi.patch_template]
        lines = tuple(Line(f"struct {t.name} {t.name}", self.cond_text(t.condition)) for t in tops)
        doc = (
            "The tables whose slots the patch IDs count, in the order 'patch_template' lists",
            "them: a hook's patch ID is its offset in this struct over the size of a pointer.",
        )
        holder = self.placeholder([t.condition for t in tops])
        return TypeItem("struct", self.template, None, doc, lines=lines, placeholder=holder)

    def patch_fallbacks(self) -> list[Define]:
        found: dict[str, list[Cond | None]] = {}
        exprs: dict[str, str] = {}
        for slot in self.abi.hook_slots:
            if not self.in_template(slot):
                continue
            macro = self.patch_macro(slot)
            found.setdefault(macro, []).append(slot.condition)
            access = slot.path
            exprs[macro] = f"(offsetof(struct {self.template}, {access}) / sizeof(void *))"
        return [Define(m, exprs[m], self.cond_text(_any_of(c))) for m, c in found.items()]

    def wrappers(self) -> list[Wrapper]:
        return [self.wrapper(slot) for slot in self.abi.hook_slots]

    def wrapper(self, slot: HookSlot) -> Wrapper:
        hook = slot.hook
        name = self.wrapper_name(slot)
        args = ", ".join(p.name for p in hook.params)
        attribute = None
        if slot.deprecated is not None:
            message = self.deprecation_message(slot.path, slot.deprecated)
            attribute = f"{self.names.deprecated}({c_string(message)})"
        access = f"{self.ops}.{slot.path}"
        return Wrapper(
            head=self.declarator(hook.returns, f"{name}({self.params(hook)})"),
            call=f"{access}({args})",
            returns=not hook.returns.is_void,
            cond=self.cond_text(slot.condition),
            doc=doc_lines(hook.doc),
            attribute=attribute,
            slot=access if hook.nullable else None,
            is_set=self.is_set_name(slot) if hook.nullable else None,
        )

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

    def externs(self) -> list[Line]:
        found = []
        for table in self.abi.tables:
            for m in table.members:
                if isinstance(m, Hook) and m.no_native is None:
                    head = f"{self.callconv(m)}{self.native_name(table, m)}({self.params(m)})"
                    cond = self.cond_text(conjoin(table.condition, m.condition))
                    found.append(Line(f"extern {self.declarator(m.returns, head)};", cond))
        return found

    def no_native_notes(self) -> list[str]:
        return [
            line_end(f"{s.path}: {safe_comment_text(s.hook.no_native)}")
            for s in self.abi.hook_slots
            if s.hook.no_native is not None
        ]

    def initializers(self, table: Table) -> list[tuple[Cond | None, Init]]:
        """(presence, initializer) of each hook with a native implementation, nested."""
        found: list[tuple[Cond | None, Init]] = []
        for m in table.members:
            if isinstance(m, Hook) and m.no_native is None:
                value = self.native_name(table, m)
                found.append((m.condition, Init(m.name, value, self.cond_text(m.condition))))
            elif isinstance(m, SubTable):
                for sub in self.tables_named(m.table):
                    group = self.init_group(m.name, conjoin(m.condition, sub.condition), sub)
                    found += [group] if group is not None else []
        return found

    def init_group(
        self, designator: str, cond: Cond | None, table: Table
    ) -> tuple[Cond | None, Init] | None:
        """A brace group, under a condition that keeps it from ever being empty."""
        children = self.initializers(table)
        if not children:
            return None
        presence = conjoin(cond, _any_of(c for c, _ in children))
        inits = tuple(i for _, i in children)
        return presence, Init(designator, None, self.cond_text(presence), inits)

    def ops_initializers(self) -> tuple[Cond | None, list[Init]]:
        groups = [self.init_group(t.name, t.condition, t) for t in self.abi.top_level_tables()]
        present = [g for g in groups if g is not None]
        return _any_of(c for c, _ in present), [i for _, i in present]

    # -- files

    def banner(self) -> list[str]:
        return [line_end(safe_comment_text(line)) for line in banner_lines(self.abi)]

    def header(self) -> str:
        template = environment("c").get_template("header.h.j2")
        types, tables, aggregate = self.type_items(), self.table_items(), self.aggregate()
        patch_template = self.template_item()
        structs = [*types, *tables, aggregate, *([patch_template] if patch_template else [])]
        return template.render(
            banner=self.banner(),
            abi_doc=doc_lines(self.abi.doc),
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
            has_placeholders=any(item.placeholder for item in structs),
        )

    def native(self) -> str:
        presence, inits = self.ops_initializers()
        template = environment("c").get_template("native.c.j2")
        return template.render(
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

    def assertion(self, expr: str, what: str) -> Assert:
        self.counter += 1
        ident = f"{self.target.name}_{self.counter}"
        return Assert(expr, ident, c_string(f"{what} on target {self.target.name}"))

    def record_asserts(self, tag: str, name: str, members: Iterable[Element]) -> list[Assert]:
        record = self.layout.records[name]
        found = [self.assertion(f"sizeof({tag}) == {record.size}", f"sizeof({tag})")]
        seen: set[str] = set()
        for m in members:
            if self.target.holds(m.condition) and m.name not in seen:
                seen.add(m.name)
                what = f"offsetof({tag}, {m.name})"
                found.append(self.assertion(f"{what} == {record.offsets[m.name]}", what))
        return found

    def exact(self, name: str) -> bool:
        """Whether every C compiler lays out the record `name` as the model does."""
        return name not in self.facts.gnu_only

    def type_asserts(self, exact: bool) -> list[Assert]:
        """Layout proofs of the types whose C layout is (or, with `exact` False, is only
        under GNU C) the model's."""
        found: list[Assert] = []
        for decl in self.abi.types:
            if self.facts.present.get(decl.name) is not decl or decl.name not in self.layout.types:
                continue
            record = self.facts.present.record_behind(decl.name)
            if (record is None or self.exact(record.name)) != exact:
                continue
            tag = self.gen.type_name(decl.name)
            if isinstance(decl, Struct):
                found += self.record_asserts(tag, decl.name, decl.fields)
            else:
                size = self.layout.types[decl.name][0]
                found.append(self.assertion(f"sizeof({tag}) == {size}", f"sizeof({tag})"))
        return found

    def table_asserts(self, exact: bool) -> list[Assert]:
        found: list[Assert] = []
        for table in self.abi.tables:
            name = table.name
            if self.facts.present.get(name) is not table or name not in self.layout.records:
                continue
            if self.exact(name) == exact:
                found += self.record_asserts(f"struct {name}", name, table.members)
        return found

    def patch_ids(self) -> list[tuple[HookSlot, Define]]:
        """Each hook with a patch ID here, with its slot index in the template as a literal."""
        ids = self.facts.patch_ids
        return [
            (slot, Define(self.gen.patch_macro(slot), str(ids[slot.path])))
            for slot in self.facts.slots
            if isinstance(slot, HookSlot) and slot.path in ids
        ]

    def struct_asserts(self, struct: str, layout: RecordLayout) -> list[Assert]:
        """sizeof and the offset of every member of the aggregate or the patch template."""
        tag = f"struct {struct}"
        found = [self.assertion(f"sizeof({tag}) == {layout.size}", f"sizeof({tag})")]
        for name, offset in layout.offsets.items():
            what = f"offsetof({tag}, {name})"
            found.append(self.assertion(f"{what} == {offset}", what))
        return found

    def id_asserts(self, ids: list[tuple[HookSlot, Define]]) -> list[Assert]:
        tag = f"struct {self.gen.template}"
        found = []
        for slot, define in ids:
            access = slot.path
            expr = f"{define.name} == offsetof({tag}, {access}) / sizeof(void *)"
            found.append(self.assertion(expr, define.name))
        return found

    def block(self) -> TargetBlock:
        asserts = self.type_asserts(exact=True) + self.table_asserts(exact=True)
        gnu_asserts = self.type_asserts(exact=False) + self.table_asserts(exact=False)
        notes = []
        if self.facts.gnu_only:
            names = ", ".join(sorted(self.facts.gnu_only))
            notes.append(f"Empty here, or holding an empty struct (checked under GNU C): {names}.")
        facts, separate = self.facts, self.abi.patch_template is not None
        # The aggregate's proofs; with no patch template of its own, the patch IDs' too.
        if facts.aggregate_exact:
            asserts += self.struct_asserts(self.gen.ops, facts.aggregate)
        elif facts.aggregate.offsets:
            gnu_asserts += self.struct_asserts(self.gen.ops, facts.aggregate)
        ids: list[tuple[HookSlot, Define]] = []
        gnu_ids: list[tuple[HookSlot, Define]] = []
        template = self.gen.template
        if facts.patch_template_exact:
            ids = self.patch_ids()
            if separate:
                asserts += self.struct_asserts(template, facts.patch_template)
            asserts += self.id_asserts(ids)
        elif not facts.patch_template.offsets:
            notes.append(f"No patch ID literals: the layout of struct {template} is not known.")
        else:
            notes.append(
                "Patch ID literals for GNU C only: other compilers lay out empty structs differently."
            )
            gnu_ids = self.patch_ids()
            if separate:
                gnu_asserts += self.struct_asserts(template, facts.patch_template)
            gnu_asserts += self.id_asserts(gnu_ids)
        return TargetBlock(
            name=self.target.name,
            macro=self.gen.target_macro(self.target),
            selector=self.gen.selector(self.target),
            doc=doc_lines(self.target.doc),
            patch_ids=tuple(define for _, define in ids),
            asserts=tuple(asserts),
            notes=tuple(notes),
            gnu_patch_ids=tuple(define for _, define in gnu_ids),
            gnu_asserts=tuple(gnu_asserts),
            backends=tuple(
                self.gen.backend_macro(b) for b in self.abi.backends if b.runs_on(self.target)
            ),
        )


def render(abi: Abi, options: GenOptions) -> list[OutputFile]:
    """The header `c/<abi>.h` and the native table `c/<abi>_native.c`.

    Every name they define was checked at resolve time (pvgen/gennames.py).
    """
    gen = _CGen(abi, options)
    return [
        OutputFile(f"c/{gen.header_file}", gen.header()),
        OutputFile(f"c/{gen.native_file}", gen.native()),
    ]
