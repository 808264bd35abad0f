"""Syntax: one spec file's text to a syntax tree.

Takes: a `SourceFile`.
Hands on: a `SpecFile` of plain dataclasses (declarations, members, types,
annotations, conditions as written), every node with its `Span`. Nothing here
knows what a name refers to; that is the resolver's job. Syntax errors become
a `SpecError` with the location of the offending token.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token, Transformer, v_args

from . import conditions as cond
from .diagnostics import SpecError, error
from .source import SourceFile, Span

GRAMMAR = Path(__file__).with_name("grammar") / "pvspec.lark"


# ---- the syntax tree ------------------------------------------------------------


@dataclass(frozen=True)
class TypeExpr:
    """A type as written: `const struct desc_ptr *`, `unsigned long`, `pte_t`."""

    span: Span
    base: str  # "unsigned long", "pte_t", "desc_ptr"
    keyword: str | None  # "struct", "enum", "c" (a C spelling) or None (a plain name)
    const: bool
    pointers: tuple[bool, ...]  # one entry per `*`, True where that pointer is const


@dataclass(frozen=True)
class AnnotationArg:
    span: Span
    key: str | None
    value: int | str | tuple[str, ...]  # integer, string, or dotted name


@dataclass(frozen=True)
class Annotation:
    span: Span
    name: str
    args: tuple[AnnotationArg, ...] = ()
    has_parens: bool = False
    condition: cond.Cond | None = None  # only for @if


@dataclass(frozen=True)
class SettingValue:
    span: Span
    name: str | None
    value: int | str | None


@dataclass(frozen=True)
class Setting:
    span: Span
    key: str
    values: tuple[SettingValue, ...]
    doc: str | None


@dataclass(frozen=True)
class Declaration:
    """What every declaration has: where it is, its name, doc and annotations."""

    span: Span
    name: str
    name_span: Span
    doc: str | None = field(default=None, kw_only=True)
    annotations: tuple[Annotation, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True)
class AbiDecl(Declaration):
    settings: tuple[Setting, ...] = ()


@dataclass(frozen=True)
class TargetDecl(Declaration):
    settings: tuple[Setting, ...] = ()


@dataclass(frozen=True)
class TypedefDecl(Declaration):
    type: TypeExpr | None = None


@dataclass(frozen=True)
class FieldDecl(Declaration):
    type: TypeExpr | None = None


@dataclass(frozen=True)
class StructDecl(Declaration):
    fields: tuple[FieldDecl, ...] = ()


@dataclass(frozen=True)
class OpaqueDecl(Declaration):
    pass


@dataclass(frozen=True)
class EnumeratorDecl(Declaration):
    value: int | None = None


@dataclass(frozen=True)
class EnumDecl(Declaration):
    underlying: TypeExpr | None = None
    enumerators: tuple[EnumeratorDecl, ...] = ()


@dataclass(frozen=True)
class ParamDecl:
    span: Span
    type: TypeExpr
    name: str | None


@dataclass(frozen=True)
class MemberDecl(Declaration):
    """A table member: a hook when `params` is not None, else data or a sub-table."""

    type: TypeExpr | None = None
    params: tuple[ParamDecl, ...] | None = None


@dataclass(frozen=True)
class TableDecl(Declaration):
    members: tuple[MemberDecl, ...] = ()


@dataclass(frozen=True)
class MemberPath:
    span: Span
    parts: tuple[str, ...]


@dataclass(frozen=True)
class BackendEntry:
    span: Span
    table: str
    table_span: Span
    members: tuple[MemberPath, ...] | None  # None means `*`


@dataclass(frozen=True)
class BackendDecl(Declaration):
    default: bool = False
    entries: tuple[BackendEntry, ...] = ()


@dataclass(frozen=True)
class IncludeDecl:
    span: Span
    path: str


TopLevel = AbiDecl | TargetDecl | TypedefDecl | StructDecl | OpaqueDecl | EnumDecl | TableDecl
Item = TopLevel | BackendDecl | IncludeDecl


@dataclass(frozen=True)
class SpecFile:
    source: SourceFile
    items: tuple[Item, ...]


# ---- the parser --------------------------------------------------------------------


@functools.cache
def _parser() -> Lark:
    # The LALR tables are cached on disk by lark, keyed by the grammar's hash,
    # so only the first run after a grammar change pays for building them.
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


C_WORDS = {"unsigned", "signed", "short", "long", "int", "char", "void", "const"}
C_TYPE_WORDS = {"UNSIGNED", "SIGNED", "SHORT", "LONG", "INT_KW", "CHAR", "VOID", "CONST"}
TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "an integer",
    "STRING": "a string",
    "DOC_COMMENT": "a doc comment",
    "COMPARE": "a comparison",
    "$END": "the end of the file",
}


def parse(source: SourceFile) -> SpecFile:
    """Parse one spec file; raises SpecError on the first syntax error."""
    if not source.text.strip():
        raise SpecError(
            [error(Span.point(source), "empty spec: expected declarations such as 'abi', 'table'")]
        )
    try:
        tree = _parser().parse(source.text)
    except lark.exceptions.UnexpectedInput as exc:
        raise SpecError([_syntax_error(source, exc)]) from None
    except RecursionError:
        raise SpecError([error(Span.point(source), "spec nests too deeply to parse")]) from None
    try:
        items = _Builder(source).transform(tree)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, SpecError):
            raise exc.orig_exc from None
        raise
    return SpecFile(source, tuple(items))


def _describe_expected(expected: set[str]) -> str:
    parser = _parser()
    literal = {t.name: t.pattern.value for t in parser.terminals if t.pattern.type == "str"}
    words = []
    for name in expected:
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
        elif name in literal:
            words.append(f"'{literal[name]}'")
        else:
            words.append(name.lower())
    words = sorted(set(words), key=lambda w: (not w.startswith("'"), w))
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def _syntax_error(source: SourceFile, exc: lark.exceptions.UnexpectedInput) -> Any:
    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    if line < 0 or column < 0:  # lark reports end of input as -1
        line = len(source.line_starts)
        column = len(source.line_text(line)) + 1
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        char = source.text[exc.pos_in_stream] if exc.pos_in_stream < len(source.text) else ""
        span = Span(source, line, column, line, column + 1)
        if char == '"':
            return error(span, "unterminated string or invalid escape in string")
        if char == "/" and source.text.startswith("/*", exc.pos_in_stream):
            return error(span, "unterminated comment '/*'")
        return error(span, f"unexpected character {char!r}")
    token = getattr(exc, "token", None)
    expected = set(getattr(exc, "expected", set()) or set())
    if isinstance(exc, lark.exceptions.UnexpectedEOF) or token is None or token.type == "$END":
        span = Span(source, line, column, line, column + 1)
        return error(span, f"unexpected end of file; expected {_describe_expected(expected)}")
    span = Span(source, line, column, line, column + max(1, len(str(token))))
    if "NAME" in expected:
        # `void int();` parses `void int` as a type and then misses the name:
        # the word before the unexpected token is what the user meant as one.
        word_span, word = _previous_word(source, token)
        if token.type in C_TYPE_WORDS:
            return error(span, f"'{token}' is a C keyword and cannot be used as a name")
        if word in C_WORDS and word_span is not None:
            return error(word_span, f"'{word}' is a C keyword and cannot be used as a name")
    shown = f"'{token}'" if token.type != "$END" else "end of file"
    return error(span, f"unexpected {shown}; expected {_describe_expected(expected)}")


def _previous_word(source: SourceFile, token: Token) -> tuple[Span | None, str]:
    """The identifier-like word right before `token`, skipping blanks."""
    end = token.start_pos if token.start_pos is not None else 0
    while end > 0 and source.text[end - 1] in " \t\r\n":
        end -= 1
    start = end
    while start > 0 and (source.text[start - 1].isalnum() or source.text[start - 1] == "_"):
        start -= 1
    if start == end:
        return None, ""
    line, column = source.position(start)
    return Span(source, line, column, line, column + end - start), source.text[start:end]


# ---- tree to dataclasses ---------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


class _Builder(Transformer[Token, Any]):
    """Turns lark's tree into the dataclasses above, keeping spans."""

    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.source = source

    # -- helpers
    def span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span.point(self.source)
        return Span(self.source, meta.line, meta.column, meta.end_line, meta.end_column)

    def tspan(self, token: Token) -> Span:
        return Span(
            self.source,
            token.line or 1,
            token.column or 1,
            token.end_line or token.line or 1,
            token.end_column or (token.column or 1) + len(token),
        )

    def string(self, token: Token) -> str:
        body = token[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            c = body[i]
            if c != "\\":
                out.append(c)
                i += 1
                continue
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt == "x" and _is_hex(body[i + 2 : i + 4]):
                out.append(chr(int(body[i + 2 : i + 4], 16)))
                i += 4
            else:
                col = (token.column or 1) + 1 + i
                span = Span(self.source, token.line or 1, col, token.line or 1, col + 2)
                raise SpecError(
                    [
                        error(
                            span,
                            f"invalid escape '\\{nxt}' in string; valid: "
                            "\\\" \\\\ \\n \\t \\r \\0 \\xNN",
                        )
                    ]
                )
        return "".join(out)

    # -- top level
    def start(self, items: list[Any]) -> list[Any]:
        return items

    @v_args(meta=True)
    def include(self, meta: Any, children: list[Token]) -> IncludeDecl:
        return IncludeDecl(self.span(meta), self.string(children[0]))

    @v_args(meta=True)
    def declaration(self, meta: Any, children: list[Any]) -> Declaration:
        doc = None
        annotations = []
        for child in children[:-1]:
            if isinstance(child, _Doc):
                doc = child.text
            elif isinstance(child, Annotation):
                annotations.append(child)
        body = children[-1]
        return _with(body, self.span(meta), doc, annotations)

    def doc(self, tokens: list[Token]) -> _Doc:
        return _Doc(_doc_text(tokens))

    # -- abi and target
    @v_args(meta=True)
    def abi(self, meta: Any, children: list[Any]) -> AbiDecl:
        name = children[0]
        return AbiDecl(self.span(meta), str(name), self.tspan(name), settings=tuple(children[1:]))

    @v_args(meta=True)
    def target(self, meta: Any, children: list[Any]) -> TargetDecl:
        name = children[0]
        return TargetDecl(
            self.span(meta), str(name), self.tspan(name), settings=tuple(children[1:])
        )

    @v_args(meta=True)
    def setting(self, meta: Any, children: list[Any]) -> Setting:
        doc = children[0].text if isinstance(children[0], _Doc) else None
        rest = children[1:]
        key = rest[0]
        values = tuple(v for v in rest[1:] if v is not None)
        return Setting(self.span(meta), str(key), values, doc)

    def value_name(self, children: list[Token]) -> SettingValue:
        return SettingValue(self.tspan(children[0]), str(children[0]), None)

    def value_assign(self, children: list[Any]) -> SettingValue:
        name, (value, _) = children
        return SettingValue(self.tspan(name), str(name), value)

    def value_int(self, children: list[Any]) -> SettingValue:
        value, token = children[0]
        return SettingValue(self.tspan(token), None, value)

    def value_string(self, children: list[Token]) -> SettingValue:
        return SettingValue(self.tspan(children[0]), None, self.string(children[0]))

    # -- types
    @v_args(meta=True)
    def typedef(self, meta: Any, children: list[Any]) -> TypedefDecl:
        type_, name = children
        return TypedefDecl(self.span(meta), str(name), self.tspan(name), type=type_)

    @v_args(meta=True)
    def struct(self, meta: Any, children: list[Any]) -> StructDecl:
        name = children[0]
        return StructDecl(self.span(meta), str(name), self.tspan(name), fields=tuple(children[1:]))

    @v_args(meta=True)
    def field(self, meta: Any, children: list[Any]) -> FieldDecl:
        doc, annotations, rest = _split_prefix(children)
        type_, name = rest
        return FieldDecl(
            self.span(meta),
            str(name),
            self.tspan(name),
            doc=doc,
            annotations=annotations,
            type=type_,
        )

    @v_args(meta=True)
    def opaque(self, meta: Any, children: list[Token]) -> OpaqueDecl:
        return OpaqueDecl(self.span(meta), str(children[0]), self.tspan(children[0]))

    @v_args(meta=True)
    def enum(self, meta: Any, children: list[Any]) -> EnumDecl:
        name, underlying, *enumerators = children
        return EnumDecl(
            self.span(meta),
            str(name),
            self.tspan(name),
            underlying=underlying,
            enumerators=tuple(e for e in enumerators if e is not None),
        )

    @v_args(meta=True)
    def enumerator(self, meta: Any, children: list[Any]) -> EnumeratorDecl:
        doc, annotations, rest = _split_prefix(children)
        name, value = rest
        return EnumeratorDecl(
            self.span(meta),
            str(name),
            self.tspan(name),
            doc=doc,
            annotations=annotations,
            value=None if value is None else value[0],
        )

    @v_args(meta=True)
    def type(self, meta: Any, children: list[Any]) -> TypeExpr:
        const_before, (keyword, base), const_after, *pointers = children
        return TypeExpr(
            self.span(meta),
            base,
            keyword,
            const_before or const_after,
            tuple(pointers),
        )

    def pointer(self, children: list[Any]) -> bool:
        return bool(children[0])

    def const_(self, children: list[Any]) -> bool:
        return children[0] is not None

    def base_c(self, children: list[Any]) -> tuple[str, str]:
        return ("c", children[0])

    def base_name(self, children: list[Token]) -> tuple[str | None, str]:
        return (None, str(children[0]))

    def base_struct(self, children: list[Token]) -> tuple[str, str]:
        return ("struct", str(children[0]))

    def base_enum(self, children: list[Token]) -> tuple[str, str]:
        return ("enum", str(children[0]))

    def c_words(self, children: list[Token]) -> str:
        return " ".join(str(t) for t in children)

    # -- tables
    @v_args(meta=True)
    def table(self, meta: Any, children: list[Any]) -> TableDecl:
        name = children[0]
        return TableDecl(
            self.span(meta), str(name), self.tspan(name), members=tuple(children[1:])
        )

    @v_args(meta=True)
    def member(self, meta: Any, children: list[Any]) -> MemberDecl:
        doc, annotations, rest = _split_prefix(children)
        type_, name, tail = rest
        return MemberDecl(
            self.span(meta),
            str(name),
            self.tspan(name),
            doc=doc,
            annotations=annotations,
            type=type_,
            params=tail,
        )

    def data_tail(self, _children: list[Any]) -> None:
        return None

    def hook_tail(self, children: list[Any]) -> tuple[ParamDecl, ...]:
        return tuple(p for p in children if p is not None)

    @v_args(meta=True)
    def param(self, meta: Any, children: list[Any]) -> ParamDecl:
        type_, name = children
        return ParamDecl(self.span(meta), type_, None if name is None else str(name))

    # -- backends
    @v_args(meta=True)
    def backend_default(self, meta: Any, children: list[Any]) -> BackendDecl:
        name, default = children
        return BackendDecl(
            self.span(meta), str(name), self.tspan(name), default=default is not None
        )

    @v_args(meta=True)
    def backend_block(self, meta: Any, children: list[Any]) -> BackendDecl:
        name = children[0]
        return BackendDecl(
            self.span(meta), str(name), self.tspan(name), entries=tuple(children[1:])
        )

    @v_args(meta=True)
    def backend_entry(self, meta: Any, children: list[Any]) -> BackendEntry:
        table, members = children
        return BackendEntry(self.span(meta), str(table), self.tspan(table), members)

    def all_members(self, _children: list[Any]) -> None:
        return None

    def some_members(self, children: list[MemberPath]) -> tuple[MemberPath, ...]:
        return tuple(children)

    @v_args(meta=True)
    def member_path(self, meta: Any, children: list[Token]) -> MemberPath:
        return MemberPath(self.span(meta), tuple(str(t) for t in children))

    # -- annotations
    @v_args(meta=True)
    def if_annotation(self, meta: Any, children: list[Any]) -> Annotation:
        return Annotation(self.span(meta), "if", has_parens=True, condition=children[-1])

    @v_args(meta=True)
    def plain_annotation(self, meta: Any, children: list[Any]) -> Annotation:
        name, args = children
        if args is None:
            return Annotation(self.span(meta), str(name))
        return Annotation(self.span(meta), str(name), args, has_parens=True)

    def ann_args(self, children: list[Any]) -> tuple[AnnotationArg, ...]:
        return tuple(a for a in children if a is not None)

    @v_args(meta=True)
    def keyword_arg(self, meta: Any, children: list[Any]) -> AnnotationArg:
        key, value = children
        return AnnotationArg(self.span(meta), str(key), value.value)

    @v_args(meta=True)
    def arg_int(self, meta: Any, children: list[Any]) -> AnnotationArg:
        return AnnotationArg(self.span(meta), None, children[0][0])

    @v_args(meta=True)
    def arg_string(self, meta: Any, children: list[Token]) -> AnnotationArg:
        return AnnotationArg(self.span(meta), None, self.string(children[0]))

    @v_args(meta=True)
    def arg_name(self, meta: Any, children: list[tuple[str, ...]]) -> AnnotationArg:
        return AnnotationArg(self.span(meta), None, children[0])

    def dotted_name(self, children: list[Token]) -> tuple[str, ...]:
        return tuple(str(t) for t in children)

    def integer(self, children: list[Token]) -> tuple[int, Token]:
        return int(children[0], 0), children[0]

    # -- conditions
    def cond_or(self, children: list[cond.Cond]) -> cond.Cond:
        return cond.Or(_flatten(children, cond.Or))

    def cond_and(self, children: list[cond.Cond]) -> cond.Cond:
        return cond.And(_flatten(children, cond.And))

    def cond_not(self, children: list[cond.Cond]) -> cond.Cond:
        return cond.Not(children[0])

    def cond_compare(self, children: list[Any]) -> cond.Cond:
        left, op, right = children
        return cond.Compare(str(op), left, right)

    def cond_name(self, children: list[Token]) -> cond.Name:
        return cond.Name(str(children[0]), self.tspan(children[0]))

    def cond_int(self, children: list[Any]) -> cond.Int:
        value, token = children[0]
        return cond.Int(value, self.tspan(token))


@dataclass(frozen=True)
class _Doc:
    text: str


def _doc_text(tokens: list[Token]) -> str:
    lines = []
    for t in tokens:
        text = str(t)[3:]
        lines.append(text[1:] if text.startswith(" ") else text)
    return "\n".join(line.rstrip() for line in lines)


def _is_hex(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdefABCDEF" for c in text)


def _flatten(children: list[cond.Cond], kind: type) -> tuple[cond.Cond, ...]:
    out: list[cond.Cond] = []
    for c in children:
        out.extend(c.operands if isinstance(c, kind) else (c,))  # type: ignore[attr-defined]
    return tuple(out)


def _split_prefix(children: list[Any]) -> tuple[str | None, tuple[Annotation, ...], list[Any]]:
    """Split leading doc comment and annotations off a node's children."""
    doc = None
    annotations = []
    index = 0
    while index < len(children):
        child = children[index]
        if child is None and index == 0:
            pass
        elif isinstance(child, _Doc):
            doc = child.text
        elif isinstance(child, Annotation):
            annotations.append(child)
        else:
            break
        index += 1
    return doc, tuple(annotations), children[index:]


def _with(body: Any, span: Span, doc: str | None, annotations: list[Annotation]) -> Any:
    """Return `body` with the declaration's full span, doc and annotations."""
    import dataclasses

    return dataclasses.replace(body, span=span, doc=doc, annotations=tuple(annotations))


sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
