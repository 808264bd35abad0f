"""Model: the resolved ABI that every later stage reads.

Takes: nothing itself; `resolve.py` builds it from syntax trees.
Hands on: frozen dataclasses with every name resolved, every annotation
turned into a typed field, the one walk of the members reached from a table
(`slots_under`, `Abi.slots`), and per target the `TargetFacts` that resolve
works out once: the `TargetLayout` (size, alignment and offset of every struct
field and table slot), the declarations present there with typedefs followed,
the layout of the aggregate of every top-level table, each hook's slot offset
in it, the layout of the patch template (the tables the ABI's `patch_template`
lists, else the aggregate) and each hook's patch ID there, and which layouts
hold only under GNU C. Generators,
checks, dumps and the simulated guest read only this, never the syntax tree,
and recompute none of it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import field
from functools import cached_property

from .conditions import Cond, conjoin, evaluate
from .records import record
from .source import Span


class Stability(enum.Enum):
    STABLE = "stable"  # a binary ABI: strict evolution rules
    INTERNAL = "internal"  # a source API: reported, never gating


@record
class Target:
    name: str
    data_model: str
    defines: Mapping[str, bool | int]
    doc: str | None
    span: Span = field(compare=False, repr=False)

    def holds(self, condition: Cond | None) -> bool:
        return condition is None or evaluate(condition, self.defines)


@record(slots=True)
class TypeRef:
    """A type as used by a member, field, parameter or typedef.

    `name` is a canonical builtin spelling (`u32`, `unsigned long`, `char`,
    `void`) when `builtin`, else a declared type's name. `pointers` holds one
    entry per level of indirection, True where that pointer is itself const.
    """

    name: str
    builtin: bool
    const: bool = False
    pointers: tuple[bool, ...] = ()

    @property
    def is_void(self) -> bool:
        return self.builtin and self.name == "void" and not self.pointers

    def spelling(self, name_format: str = "{}") -> str:
        """C-like text: `const char *`, `pte_t`, `unsigned long`."""
        base = self.name if self.builtin else name_format.format(self.name)
        text = f"const {base}" if self.const else base
        if self.pointers:
            text += " " + "".join("*const " if c else "*" for c in self.pointers).rstrip()
        return text

    def __str__(self) -> str:
        return self.spelling()


@record(slots=True)
class Patch:
    native: str
    clobbers: str | None


@record(slots=True)
class Deprecation:
    since: int | None
    use: str | None  # dotted path of the replacement, as written
    reason: str | None
    span: Span = field(compare=False, repr=False)


@record(slots=True)
class Allow:
    """`@allow(PVnnn, reason = "...")`: a deliberate exception to a check."""

    code: str
    reason: str
    span: Span = field(compare=False, repr=False)


# Declarations (elements, backends, the ABI) compare by identity, which is what two
# declarations are: the same one or not. Value equality is kept for values (types,
# patches, layouts). It also spares the generated __eq__ and __hash__ of fourteen
# classes, a third of the time Python takes to create this module's classes.
@record(eq=False, kw_only=True, slots=True)
class Element:
    """What every declared thing has."""

    name: str
    doc: str | None = None
    condition: Cond | None = None
    since: int = 1
    allows: tuple[Allow, ...] = ()
    span: Span = field(compare=False, repr=False)


@record(eq=False, kw_only=True)
class Typedef(Element):
    target: TypeRef


@record(eq=False, kw_only=True)
class Field(Element):
    type: TypeRef


@record(eq=False, kw_only=True)
class Struct(Element):
    fields: tuple[Field, ...]
    packed: bool = False
    shared: bool = False


@record(eq=False, kw_only=True)
class Opaque(Element):
    pass


@record(eq=False, kw_only=True)
class Enumerator(Element):
    value: int


@record(eq=False, kw_only=True)
class Enum(Element):
    underlying: TypeRef
    values: tuple[Enumerator, ...]


TypeDecl = Typedef | Struct | Opaque | Enum


@record(slots=True)
class Param:
    name: str
    type: TypeRef
    span: Span = field(compare=False, repr=False)


@record(eq=False, kw_only=True, slots=True)
class Member(Element):
    renamed_from: str | None = None
    deprecated: Deprecation | None = None


@record(eq=False, kw_only=True, slots=True)
class Hook(Member):
    returns: TypeRef
    params: tuple[Param, ...]
    callee_save: bool = False
    callconv: str | None = None  # "fastcall" or "asmlinkage"; None is the platform default
    hot: bool = False
    callsites: int | None = None
    patch: Patch | None = None
    batched: bool = False
    low_level: bool = False
    no_native: str | None = None  # the reason, when the hook has no native implementation
    nullable: bool = False  # the slot may be NULL; callers check before calling
    backend_specific: str | None = None  # the reason, when one backend alone may use it


@record(eq=False, kw_only=True, slots=True)
class DataMember(Member):
    type: TypeRef


@record(eq=False, kw_only=True, slots=True)
class SubTable(Member):
    table: str  # the name of the embedded table


TableMember = Hook | DataMember | SubTable


@record(eq=False, kw_only=True)
class Table(Element):
    members: tuple[TableMember, ...]
    budget: int | None = None
    renamed_from: str | None = None
    deprecated: Deprecation | None = None

    @cached_property
    def members_by_name(self) -> Mapping[str, tuple[TableMember, ...]]:
        """Members by name; a name has several members only under exclusive conditions."""
        found: dict[str, list[TableMember]] = {}
        for member in self.members:
            found.setdefault(member.name, []).append(member)
        return {k: tuple(v) for k, v in found.items()}


@record(slots=True)
class Override:
    """One member a backend implements, by path: `pv_mmu_ops.lazy_mode.enter`."""

    path: str
    span: Span = field(compare=False, repr=False)
    whole: bool = False  # listed through `table: *`, not by name


@record(eq=False, kw_only=True)
class Backend:
    name: str
    default: bool
    overrides: tuple[Override, ...]
    doc: str | None = None
    # The targets it runs on: those whose defines satisfy this (`@if` on the backend).
    condition: Cond | None = None
    # Top-level tables whose members it does not list are NULL rather than the default
    # backend's (`@fallback(none)`: the backend copies whole tables over the default's).
    null_fallback: frozenset[str] = frozenset()
    # Hooks whose slot holds a value that is never called: every call site must be patched.
    must_patch: tuple[Override, ...] = ()
    allows: tuple[Allow, ...] = ()
    span: Span = field(compare=False, repr=False)

    def runs_on(self, target: Target) -> bool:
        return target.holds(self.condition)

    @cached_property
    def listed(self) -> frozenset[str]:
        """The paths of the members it provides itself."""
        return frozenset(o.path for o in self.overrides)


class Source(enum.Enum):
    """Where a backend's slot gets its value from."""

    OWN = "own"  # the backend's own implementation
    DEFAULT = "default"  # the default backend's
    NULL = "null"  # nothing: the slot is NULL


@record
class RecordLayout:
    """Layout of one struct or table on one target."""

    size: int
    align: int
    offsets: Mapping[str, int]  # member or field name -> byte offset


@record
class TargetLayout:
    """What a dump records of one target: sizes, alignments and offsets."""

    target: str
    pointer_size: int
    types: Mapping[str, tuple[int, int]]  # every declared value type -> (size, align)
    records: Mapping[str, RecordLayout]  # structs and tables


# ---- members as reached from a table ------------------------------------------------------


@record(eq=False, slots=True)
class Slot:
    """A hook or data member as reached from a table through its sub-tables.

    From the aggregate, `pv_mmu_ops.lazy_mode.enter` is the member `enter` of table
    `pv_lazy_ops`, reached from top-level table `pv_mmu_ops` through its member
    `lazy_mode`. A table embedded twice gives each of its members two slots.
    """

    top: Table  # where the walk started: a top-level table, for the aggregate
    names: tuple[str, ...]  # member names from `top` down to the member: (lazy_mode, enter)
    owners: tuple[Table, ...]  # the table that declares each of `names`
    condition: Cond | None  # where it is present: every @if on the way, `top`'s included
    deprecated: Deprecation | None  # its own, else the nearest on the way, `top`'s included
    # `pv_mmu_ops.lazy_mode.enter`: `top` and `names` joined by dots, how backends, Python
    # and the dumps name it; spelled once here, as every target's facts key slots by it.
    path: str

    @property
    def owner(self) -> Table:
        """The table that declares the member."""
        return self.owners[-1]


@record(eq=False, slots=True)
class HookSlot(Slot):
    hook: Hook

    @property
    def member(self) -> Hook:
        return self.hook


@record(eq=False, slots=True)
class DataSlot(Slot):
    data: DataMember

    @property
    def member(self) -> DataMember:
        return self.data


def slots_under(table: Table, tables: Mapping[str, Table]) -> Iterator[HookSlot | DataSlot]:
    """Every hook and data member reached from `table`, sub-tables expanded, in declaration
    order. A sub-table member naming no table (a spec with errors) is passed over."""

    def walk(
        current: Table,
        names: tuple[str, ...],
        owners: tuple[Table, ...],
        condition: Cond | None,
        deprecated: Deprecation | None,
        prefix: str,
    ) -> Iterator[HookSlot | DataSlot]:
        via = (*owners, current)
        for member in current.members:
            here = (*names, member.name)
            within = conjoin(condition, member.condition)
            path = f"{prefix}.{member.name}"
            if isinstance(member, Hook):
                yield HookSlot(
                    table, here, via, within, member.deprecated or deprecated, path, member
                )
            elif isinstance(member, DataMember):
                yield DataSlot(
                    table, here, via, within, member.deprecated or deprecated, path, member
                )
            else:
                sub = tables.get(member.table)
                if sub is not None:
                    inherited = member.deprecated or sub.deprecated or deprecated
                    within = conjoin(within, sub.condition)
                    yield from walk(sub, here, via, within, inherited, path)

    return walk(table, (), (), table.condition, table.deprecated, table.name)


# ---- what holds on one target -------------------------------------------------------------


@record(eq=False)
class PresentDecls:
    """The types and tables declared on one target: at most one declaration per name."""

    by_name: Mapping[str, TypeDecl | Table]
    # What each name leads to, remembered by `behind` for every name on the chains it walks:
    # a chain of n typedefs costs n steps in all, not n steps for each of its typedefs.
    _behind: dict[str, TypeRef | TypeDecl | Table | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def get(self, name: str) -> TypeDecl | Table | None:
        return self.by_name.get(name)

    def behind(self, ref: TypeRef) -> TypeRef | TypeDecl | Table | None:
        """What a use of `ref` is here, typedefs followed: a pointer or builtin type (as a
        `TypeRef`), or the struct, opaque struct, enum or table it names; None when a
        declaration on the way is absent here or a typedef names itself."""
        walked: dict[str, None] = {}  # the names on the chain, in order
        found: TypeRef | TypeDecl | Table | None = ref
        while not ref.builtin and not ref.pointers:
            if ref.name in self._behind:
                found = self._behind[ref.name]
                break
            decl = self.by_name.get(ref.name)
            if decl is None or ref.name in walked:
                found = None
                break
            walked[ref.name] = None
            if not isinstance(decl, Typedef):
                found = decl
                break
            ref = decl.target
        else:
            found = ref
        for name in walked:
            self._behind[name] = found
        return found

    def record_behind(self, name: str) -> Struct | None:
        """The struct that a by-value use of `name` lays out, through typedefs."""
        decl = self.behind(TypeRef(name, False))
        return decl if isinstance(decl, Struct) else None


@record(eq=False)
class TargetFacts:
    """Everything that depends on the target, computed once by resolve.

    The layout model is GNU C's, as in the kernel: a struct or table with no member on a
    target has size 0. ISO C and C++ have no empty structs (generated code gives them one
    byte), so `gnu_only` and `aggregate_exact` say where the model's numbers hold only
    under GNU C; the numbers themselves do not depend on it.
    """

    target: Target
    layout: TargetLayout
    present: PresentDecls
    # Records empty here, or holding one such by value: their layout is the model's only
    # under GNU C.
    gnu_only: frozenset[str]
    # `struct <abi>_ops`, of every top-level table present here, in spec order.
    aggregate: RecordLayout
    # Whether every C compiler lays the aggregate out so: some table, none in `gnu_only`.
    aggregate_exact: bool
    slots: tuple[HookSlot | DataSlot, ...]  # those present here, in walk order
    slot_offsets: Mapping[str, int]  # path -> byte offset in the aggregate, hooks and data
    # The patch template: the struct whose slots the patch IDs count, as the kernel's
    # `struct paravirt_patch_template`. Its members are the tables `Abi.patch_template`
    # lists that are present here, in that order; without the setting, the aggregate.
    patch_template: RecordLayout
    # Whether every C compiler lays the patch template out so (as `aggregate_exact`).
    patch_template_exact: bool
    # Hook path -> its byte offset in the patch template / pointer size, for the hooks of
    # the template's tables (`PARAVIRT_PATCH(x)`); hooks of other tables have none.
    patch_ids: Mapping[str, int]

    @cached_property
    def hooks(self) -> tuple[HookSlot, ...]:
        """The hooks present here, in walk order: what a kernel built for this target has."""
        return tuple(s for s in self.slots if isinstance(s, HookSlot))

    def holds(self, slot: Slot) -> bool:
        """Whether this slot of `Abi.slots` (not another of its path) is present here."""
        return slot in self._slot_set

    @cached_property
    def _slot_set(self) -> frozenset[Slot]:
        return frozenset(self.slots)


@record
class SpecSource:
    path: str  # relative to the spec root, with '/' separators
    sha256: str


@record(eq=False, kw_only=True)
class Abi:
    name: str
    version: int
    stability: Stability
    budget: int | None
    low_level_budget: int | None
    doc: str | None
    targets: tuple[Target, ...]
    types: tuple[TypeDecl, ...]
    tables: tuple[Table, ...]
    backends: tuple[Backend, ...]
    # The top-level tables that form the patch template, in its order, as the abi's
    # `patch_template` setting lists them; None when the spec does not say (then the
    # patch IDs count slots in the aggregate of every top-level table).
    patch_template: tuple[str, ...] | None
    # Every hook and data member as reached from the aggregate, in spec order: the objects
    # that each target's facts list where present.
    slots: tuple[HookSlot | DataSlot, ...]
    facts: Mapping[str, TargetFacts]  # by target name
    sources: tuple[SpecSource, ...]
    allows: tuple[Allow, ...] = ()
    span: Span = field(compare=False, repr=False)

    @cached_property
    def layouts(self) -> Mapping[str, TargetLayout]:
        """The layout of every target, by name (what a dump records)."""
        return {name: facts.layout for name, facts in self.facts.items()}

    @cached_property
    def tables_by_name(self) -> Mapping[str, Table]:
        return {t.name: t for t in self.tables}

    @cached_property
    def types_by_name(self) -> Mapping[str, tuple[TypeDecl, ...]]:
        found: dict[str, list[TypeDecl]] = {}
        for t in self.types:
            found.setdefault(t.name, []).append(t)
        return {k: tuple(v) for k, v in found.items()}

    @cached_property
    def hook_slots(self) -> tuple[HookSlot, ...]:
        """Every hook as reached from the aggregate, in spec order."""
        return tuple(s for s in self.slots if isinstance(s, HookSlot))

    def hooks(self, table: Table, prefix: str = "") -> Iterator[tuple[str, Hook]]:
        """Every hook reachable from `table`, sub-tables expanded, with its path
        (`prefix` + `lazy_mode.enter`)."""
        for slot in slots_under(table, self.tables_by_name):
            if isinstance(slot, HookSlot):
                yield prefix + ".".join(slot.names), slot.hook

    @cached_property
    def default_backend(self) -> Backend | None:
        return next((b for b in self.backends if b.default), None)

    def source(self, backend: Backend, slot: Slot) -> Source:
        """Where `backend` gets the member at `slot` from: its own, the default backend's
        (which leaves a `@no_native` hook NULL), or nowhere (NULL)."""
        member = slot.member if isinstance(slot, HookSlot | DataSlot) else None
        no_native = isinstance(member, Hook) and member.no_native is not None
        if backend.default:
            return Source.NULL if no_native else Source.OWN
        if slot.path in backend.listed:
            return Source.OWN
        if slot.top.name in backend.null_fallback or no_native:
            return Source.NULL
        return Source.DEFAULT

    def null_slots(self, backend: Backend, target: str) -> tuple[HookSlot | DataSlot, ...]:
        """The slots present on `target` that are NULL under `backend`."""
        slots: tuple[HookSlot | DataSlot, ...] = self.facts[target].slots
        if not backend.null_fallback:
            # Without @fallback(none) only a @no_native hook can be NULL (see `source`): only
            # those are asked, not every slot of a large ABI under every backend.
            slots = self._no_native_slots[target]
        return tuple(s for s in slots if self.source(backend, s) is Source.NULL)

    @cached_property
    def _no_native_slots(self) -> dict[str, tuple[HookSlot, ...]]:
        return {
            target: tuple(
                s for s in facts.slots if isinstance(s, HookSlot) and s.hook.no_native is not None
            )
            for target, facts in self.facts.items()
        }

    def top_level_tables(self) -> Iterator[Table]:
        """Tables that no other table embeds: the members of the aggregate."""
        embedded = {m.table for t in self.tables for m in t.members if isinstance(m, SubTable)}
        return (t for t in self.tables if t.name not in embedded)
