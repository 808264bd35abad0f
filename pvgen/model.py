"""Model: the resolved ABI that every later stage reads.

Takes: nothing itself; `resolve.py` builds it from syntax trees.
Hands on: frozen dataclasses with every name resolved, every annotation
turned into a typed field, and a per-target `TargetLayout` (size, alignment
and offset of every struct field and table slot). Generators, checks, dumps
and the simulated guest read only this, never the syntax tree.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from .conditions import Cond, evaluate
from .source import Span


class Stability(enum.Enum):
    STABLE = "stable"  # a binary ABI: strict evolution rules
    INTERNAL = "internal"  # a source API: reported, never gating


@dataclass(frozen=True)
class Target:
    name: str
    data_model: str
    defines: Mapping[str, bool | int]
    doc: str | None
    span: Span = field(compare=False, repr=False)

    def holds(self, condition: Cond | None) -> bool:
        return evaluate(condition, self.defines)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Patch:
    native: str
    clobbers: str | None


@dataclass(frozen=True)
class Deprecation:
    since: int | None
    use: str | None  # dotted path of the replacement, as written
    reason: str | None
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Allow:
    """`@allow(PVnnn, reason = "...")`: a deliberate exception to a check."""

    code: str
    reason: str
    span: Span = field(compare=False, repr=False)


# Declarations (elements, backends, the ABI) compare by identity, which is what two
# declarations are: the same one or not. Value equality is kept for values (types,
# patches, layouts). It also spares the generated __eq__ and __hash__ of fourteen
# classes, a third of the time Python takes to create this module's classes.
@dataclass(frozen=True, kw_only=True, eq=False)
class Element:
    """What every declared thing has."""

    name: str
    doc: str | None = None
    condition: Cond | None = None
    since: int = 1
    allows: tuple[Allow, ...] = ()
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class Typedef(Element):
    target: TypeRef


@dataclass(frozen=True, kw_only=True, eq=False)
class Field(Element):
    type: TypeRef


@dataclass(frozen=True, kw_only=True, eq=False)
class Struct(Element):
    fields: tuple[Field, ...]
    packed: bool = False
    shared: bool = False


@dataclass(frozen=True, kw_only=True, eq=False)
class Opaque(Element):
    pass


@dataclass(frozen=True, kw_only=True, eq=False)
class Enumerator(Element):
    value: int


@dataclass(frozen=True, kw_only=True, eq=False)
class Enum(Element):
    underlying: TypeRef
    values: tuple[Enumerator, ...]


TypeDecl = Typedef | Struct | Opaque | Enum


@dataclass(frozen=True)
class Param:
    name: str
    type: TypeRef
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class Member(Element):
    renamed_from: str | None = None
    deprecated: Deprecation | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
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
    backend_specific: str | None = None  # the reason, when one backend alone may use it


@dataclass(frozen=True, kw_only=True, eq=False)
class DataMember(Member):
    type: TypeRef


@dataclass(frozen=True, kw_only=True, eq=False)
class SubTable(Member):
    table: str  # the name of the embedded table


TableMember = Hook | DataMember | SubTable


@dataclass(frozen=True, kw_only=True, eq=False)
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


@dataclass(frozen=True)
class Override:
    """One member a backend implements, by path: `pv_mmu_ops.lazy_mode.enter`."""

    path: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class Backend:
    name: str
    default: bool
    overrides: tuple[Override, ...]
    doc: str | None = None
    allows: tuple[Allow, ...] = ()
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class RecordLayout:
    """Layout of one struct or table on one target."""

    size: int
    align: int
    offsets: Mapping[str, int]  # member or field name -> byte offset


@dataclass(frozen=True)
class TargetLayout:
    target: str
    pointer_size: int
    types: Mapping[str, tuple[int, int]]  # every declared value type -> (size, align)
    records: Mapping[str, RecordLayout]  # structs and tables


@dataclass(frozen=True)
class SpecSource:
    path: str  # relative to the spec root, with '/' separators
    sha256: str


@dataclass(frozen=True, kw_only=True, eq=False)
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
    layouts: Mapping[str, TargetLayout]
    sources: tuple[SpecSource, ...]
    allows: tuple[Allow, ...] = ()
    span: Span = field(compare=False, repr=False)

    @cached_property
    def tables_by_name(self) -> Mapping[str, Table]:
        return {t.name: t for t in self.tables}

    @cached_property
    def types_by_name(self) -> Mapping[str, tuple[TypeDecl, ...]]:
        found: dict[str, list[TypeDecl]] = {}
        for t in self.types:
            found.setdefault(t.name, []).append(t)
        return {k: tuple(v) for k, v in found.items()}

    def walk(
        self, table: Table, prefix: str = ""
    ) -> Iterator[tuple[str, Table, Hook | DataMember]]:
        """Every hook and data member reachable from `table`, sub-tables expanded, with its
        path (`prefix` + `lazy_mode.enter`) and the table that declares it."""
        for member in table.members:
            path = f"{prefix}{member.name}"
            if isinstance(member, SubTable):
                yield from self.walk(self.tables_by_name[member.table], path + ".")
            else:
                yield path, table, member

    def hooks(self, table: Table, prefix: str = "") -> Iterator[tuple[str, Hook]]:
        """Every hook reachable from `table`, sub-tables expanded, with its path."""
        for path, _, member in self.walk(table, prefix):
            if isinstance(member, Hook):
                yield path, member

    def top_level_tables(self) -> Iterator[Table]:
        """Tables that no other table embeds: the members of the aggregate."""
        embedded = {m.table for t in self.tables for m in t.members if isinstance(m, SubTable)}
        return (t for t in self.tables if t.name not in embedded)
