"""Index: every name in the syntax trees of one compile, and what each refers to.

Takes: the syntax trees of a root spec and its includes, with the resolved path of each.
Hands on: `Index`, the `Occurrence`s of every `Symbol` (a declaration, or a use of it in a
type, a backend block, an annotation's path, a condition, a setting, an include), each
with its exact span; the names completion offers; and where each declaration begins and
ends in its file. Built from the syntax alone, so it works on a spec that does not resolve.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import conditions as cond
from .. import syntax as syn
from ..layout import BUILTIN_TYPES
from ..records import record
from ..source import SourceFile, Span

# What a symbol is; members are named `table.member`, files by their resolved path.
TYPE, MEMBER, BACKEND, TARGET, DEFINE, FILE, ABI = (
    "type",
    "member",
    "backend",
    "target",
    "define",
    "file",
    "abi",
)


@record
class Symbol:
    kind: str
    name: str


@record
class Occurrence:
    symbol: Symbol
    path: Path  # the resolved path of the file
    span: Span
    definition: bool

    def contains(self, line: int, column: int) -> bool:
        """Whether the 1-based position is on the name (or just after its last character)."""
        s = self.span
        if line < s.line or line > s.end_line:
            return False
        if line == s.line and column < s.column:
            return False
        return not (line == s.end_line and column > s.end_column)


@record
class MemberInfo:
    name: str
    kind: str  # "hook", "data" or "sub-table"
    table: str | None  # the embedded table, for a sub-table
    detail: str  # the declaration as written: `void write_cr3(unsigned long val)`


@dataclass
class Index:
    occurrences: list[Occurrence] = field(default_factory=list)
    # Names for completion: declared types and tables by kind, each table's members, the
    # targets' defines, the backends.
    types: dict[str, str] = field(default_factory=dict)
    members: dict[str, list[MemberInfo]] = field(default_factory=dict)
    embedded: set[str] = field(default_factory=set)
    defines: dict[str, list[tuple[str, bool | int]]] = field(default_factory=dict)
    backends: list[str] = field(default_factory=list)
    # Member declarations by (file, line, column) of their name: how a model member finds
    # the text it was written with.
    member_decls: dict[tuple[Path, int, int], syn.MemberDecl] = field(default_factory=dict)

    def at(self, path: Path, line: int, column: int) -> Occurrence | None:
        """The occurrence at a position; the narrowest if several contain it."""
        found = [o for o in self.occurrences if o.path == path and o.contains(line, column)]
        if not found:
            return None
        return min(found, key=lambda o: (o.span.end_line - o.span.line, _width(o.span)))

    def of(self, symbol: Symbol) -> list[Occurrence]:
        return [o for o in self.occurrences if o.symbol == symbol]

    @property
    def top_level_tables(self) -> list[str]:
        return [n for n, k in self.types.items() if k == "table" and n not in self.embedded]


def _width(span: Span) -> int:
    return span.end_column - span.column


# ---- positions in a file ----------------------------------------------------------------


def offset(source: SourceFile, line: int, column: int) -> int:
    """The character offset of a 1-based line and column."""
    if line > len(source.line_starts):
        return len(source.text)
    return min(source.line_starts[line - 1] + column - 1, len(source.text))


def span_at(source: SourceFile, start: int, end: int) -> Span:
    """The span of the characters `start:end` of `source`."""
    line, column = source.position(start)
    end_line, end_column = source.position(end)
    return Span(source, line, column, end_line, end_column)


def find_word(source: SourceFile, word: str, start: int, end: int | None = None) -> Span | None:
    """The first whole-word occurrence of `word` in `source.text[start:end]`."""
    pattern = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(word) + r"(?![A-Za-z0-9_])")
    match = pattern.search(source.text, start, len(source.text) if end is None else end)
    return None if match is None else span_at(source, match.start(), match.end())


def span_text(span: Span) -> str:
    source = span.file
    return source.text[offset(source, span.line, span.column) : _end(span)]


def _end(span: Span) -> int:
    return offset(span.file, span.end_line, span.end_column)


# ---- building -----------------------------------------------------------------------------


def build_index(files: Iterable[tuple[syn.SpecFile, Path]]) -> Index:
    pairs = list(files)
    index = Index()
    tables: dict[str, list[syn.TableDecl]] = {}
    for spec, _ in pairs:
        for item in spec.items:
            if isinstance(item, syn.TableDecl):
                tables.setdefault(item.name, []).append(item)
                index.types.setdefault(item.name, "table")
            elif isinstance(item, syn.TypedefDecl | syn.StructDecl | syn.OpaqueDecl | syn.EnumDecl):
                index.types.setdefault(item.name, _TYPE_KINDS[type(item)])
    for name, decls in tables.items():
        seen: set[str] = set()
        infos = index.members.setdefault(name, [])
        for decl in decls:
            for member in decl.members:
                sub = _sub_table(member, tables)
                if sub is not None:
                    index.embedded.add(sub)
                if member.name in seen:
                    continue
                seen.add(member.name)
                kind = "hook" if member.params is not None else "sub-table" if sub else "data"
                infos.append(MemberInfo(member.name, kind, sub, declaration_text(member)))
    for spec, path in pairs:
        _Builder(index, tables, spec, path).run()
    return index


_TYPE_KINDS: dict[type, str] = {
    syn.TypedefDecl: "typedef",
    syn.StructDecl: "struct",
    syn.OpaqueDecl: "opaque struct",
    syn.EnumDecl: "enum",
}


def _sub_table(member: syn.MemberDecl, tables: dict[str, list[syn.TableDecl]]) -> str | None:
    t = member.type
    if member.params is None and t is not None and t.keyword is None and not t.pointers:
        return t.base if t.base in tables else None
    return None


def declaration_text(member: syn.MemberDecl | syn.FieldDecl) -> str:
    """A member or field as written, without annotations: `void write_cr3(unsigned long val)`."""
    type_text = span_text(member.type.span) if member.type is not None else ""
    text = f"{type_text} {member.name}"
    if isinstance(member, syn.MemberDecl) and member.params is not None:
        text += "(" + ", ".join(span_text(p.span) for p in member.params) + ")"
    return " ".join(text.split())


class _Builder:
    def __init__(
        self, index: Index, tables: dict[str, list[syn.TableDecl]], spec: syn.SpecFile, path: Path
    ) -> None:
        self.index = index
        self.tables = tables
        self.spec = spec
        self.source = spec.source
        self.path = path

    def add(self, kind: str, name: str, span: Span | None, definition: bool = False) -> None:
        if span is not None:
            self.index.occurrences.append(
                Occurrence(Symbol(kind, name), self.path, span, definition)
            )

    def run(self) -> None:
        for item in self.spec.items:
            if isinstance(item, syn.IncludeDecl):
                self.include(item)
                continue
            self.annotations(item.annotations)
            if isinstance(item, syn.AbiDecl):
                self.add(ABI, item.name, item.span, True)
                for setting in item.settings:
                    if setting.key == "patch_template":
                        for v in setting.values:
                            if v.name is not None:
                                self.add(TYPE, v.name, v.span)
            elif isinstance(item, syn.TargetDecl):
                self.target(item)
            elif isinstance(item, syn.TypedefDecl):
                self.add(TYPE, item.name, item.span, True)
                self.type_use(item.type)
            elif isinstance(item, syn.StructDecl):
                self.add(TYPE, item.name, item.span, True)
                for f in item.fields:
                    self.annotations(f.annotations)
                    self.type_use(f.type)
            elif isinstance(item, syn.OpaqueDecl):
                self.add(TYPE, item.name, item.span, True)
            elif isinstance(item, syn.EnumDecl):
                self.add(TYPE, item.name, item.span, True)
                self.type_use(item.underlying)
                for e in item.enumerators:
                    self.annotations(e.annotations)
            elif isinstance(item, syn.TableDecl):
                self.table(item)
            elif isinstance(item, syn.BackendDecl):
                self.backend(item)

    def target(self, item: syn.TargetDecl) -> None:
        self.add(TARGET, item.name, item.span, True)
        for setting in item.settings:
            if setting.key != "defines":
                continue
            for v in setting.values:
                if v.name is None:
                    continue
                start = offset(self.source, v.span.line, v.span.column)
                self.add(DEFINE, v.name, span_at(self.source, start, start + len(v.name)), True)
                value: bool | int = v.value if isinstance(v.value, int) else True
                self.index.defines.setdefault(v.name, []).append((item.name, value))

    def table(self, item: syn.TableDecl) -> None:
        self.add(TYPE, item.name, item.span, True)
        for member in item.members:
            self.index.member_decls[(self.path, member.span.line, member.span.column)] = member
            self.annotations(member.annotations)
            self.add(MEMBER, f"{item.name}.{member.name}", member.span, True)
            self.type_use(member.type)
            for p in member.params or ():
                self.type_use(p.type)

    def backend(self, item: syn.BackendDecl) -> None:
        self.add(BACKEND, item.name, item.span, True)
        if item.name not in self.index.backends:
            self.index.backends.append(item.name)
        for entry in item.entries:
            self.annotations(entry.annotations)
            self.add(TYPE, entry.table, entry.table_span)
            for mp in entry.members or ():
                spans = self.part_spans(offset(self.source, mp.span.line, mp.span.column), mp.parts)
                self.path_use([entry.table, *mp.parts], [None, *spans])

    def include(self, item: syn.IncludeDecl) -> None:
        start = offset(self.source, item.span.line, item.span.column)
        end = _end(item.span)
        quote = self.source.text.find('"', start, end)
        if quote < 0:
            return
        target = Path(os.path.realpath(self.path.parent / item.path))
        self.add(FILE, str(target), span_at(self.source, quote, end))

    def annotations(self, annotations: Iterable[syn.Annotation]) -> None:
        for a in annotations:
            if a.condition is not None:
                for name in cond.names(a.condition):
                    self.add(DEFINE, name.name, name.span)
                continue
            for arg in a.args:
                value = arg.value
                if not isinstance(value, tuple):
                    continue
                if a.name == "fallback" and arg.key is None and value != ("none",):
                    self.add(BACKEND, value[0], arg.span)
                elif a.name == "must_patch" and arg.key is None:
                    start = offset(self.source, arg.span.line, arg.span.column)
                    self.path_use(list(value), self.part_spans(start, value))
                elif a.name == "deprecated" and arg.key == "use":
                    # The argument's span is its key: the path follows the `=`.
                    start = _end(arg.span)
                    self.path_use(list(value), self.part_spans(start, value))

    def part_spans(self, start: int, parts: Iterable[str]) -> list[Span | None]:
        spans: list[Span | None] = []
        for part in parts:
            span = find_word(self.source, part, start)
            spans.append(span)
            if span is not None:
                start = offset(self.source, span.end_line, span.end_column)
        return spans

    def path_use(self, parts: list[str], spans: list[Span | None]) -> None:
        """A path from a table through its members (`pv_mmu_ops.lazy_mode.enter`); the
        first part's span is None where the table is named elsewhere."""
        if not parts:
            return
        self.add(TYPE, parts[0], spans[0])
        current: str | None = parts[0]
        for part, span in zip(parts[1:], spans[1:], strict=True):
            if current is None or current not in self.tables:
                return
            self.add(MEMBER, f"{current}.{part}", span)
            current = next(
                (
                    _sub_table(m, self.tables)
                    for t in self.tables[current]
                    for m in t.members
                    if m.name == part
                ),
                None,
            )

    def type_use(self, expr: syn.TypeExpr | None) -> None:
        if expr is None or expr.keyword == "c":
            return
        if expr.keyword is None and expr.base in BUILTIN_TYPES:
            return
        start = offset(self.source, expr.span.line, expr.span.column)
        if expr.keyword is not None:  # skip the `struct` or `enum` keyword
            start += len(expr.keyword)
        self.add(TYPE, expr.base, find_word(self.source, expr.base, start, _end(expr.span)))


def walk_declarations(
    spec: syn.SpecFile,
) -> Iterator[tuple[syn.Declaration, syn.Declaration | None]]:
    """Every declaration of a file with the block it is in (None at the top level)."""
    for item in spec.items:
        if isinstance(item, syn.IncludeDecl):
            continue
        yield item, None
        inner: Iterable[syn.Declaration] = ()
        if isinstance(item, syn.TableDecl):
            inner = item.members
        elif isinstance(item, syn.StructDecl):
            inner = item.fields
        elif isinstance(item, syn.EnumDecl):
            inner = item.enumerators
        for child in inner:
            yield child, item


def declaration_start(decl: syn.Declaration) -> tuple[int, int]:
    """Where a declaration begins (1-based line, column): its first annotation, its type
    (a member, field or typedef: the type comes before the name), or its name."""
    starts = [(a.span.line, a.span.column) for a in decl.annotations]
    starts.append(body_start(decl))
    return min(starts)


def body_start(decl: syn.Declaration) -> tuple[int, int]:
    """Where a declaration's own text begins after its annotations: its keyword's line for
    a top-level declaration, the type for a member or field, else the name."""
    if isinstance(decl, syn.MemberDecl | syn.FieldDecl) and decl.type is not None:
        return decl.type.span.line, decl.type.span.column
    if isinstance(decl, syn.EnumeratorDecl):
        return decl.span.line, decl.span.column
    # `table pv_irq_ops {`: the keyword is before the name on its line.
    text = decl.span.file.line_text(decl.span.line)
    column = len(text) - len(text.lstrip()) + 1
    return decl.span.line, min(column, decl.span.column)


def declaration_end(spec: syn.SpecFile, decl: syn.Declaration) -> tuple[int, int]:
    """Where a declaration ends (1-based line, column just after it): its block's `}` or
    its `;` (an enumerator: its name, or its value)."""
    source = spec.source
    if isinstance(decl, syn.EnumeratorDecl):
        end = offset(source, decl.span.end_line, decl.span.end_column)
        if decl.literal:
            found = source.text.find(decl.literal, end)
            if found >= 0:
                end = found + len(decl.literal)
        return source.position(end)
    after = (decl.span.end_line, decl.span.end_column)
    block = isinstance(
        decl, syn.AbiDecl | syn.TargetDecl | syn.StructDecl | syn.EnumDecl | syn.TableDecl
    ) or (isinstance(decl, syn.BackendDecl) and decl.entries)
    if block:
        for line, column in spec.closing_braces:
            if (line, column) >= after:
                return line, column + 1
    start = offset(source, *after)
    semicolon = source.text.find(";", start)
    return source.position(semicolon + 1 if semicolon >= 0 else start)
