"""Syntax: one spec file's text to a syntax tree.

Takes: a `SourceFile`.
Hands on: a `SpecFile` of plain dataclasses (declarations, members, types,
annotations, conditions as written), every node with its `Span`. Nothing here
knows what a name refers to; that is the resolver's job. Syntax errors become
a `SpecError` with the location of the offending token.
"""

from __future__ import annotations

import functools
from dataclasses import field, replace
from pathlib import Path
from sys import intern
from typing import TYPE_CHECKING, Any, cast

from . import conditions as cond
from .diagnostics import SpecError, error
from .digest import sha256
from .lalr import Driver, NotParsed, Token
from .records import record
from .source import SourceFile, Span

if TYPE_CHECKING:
    from lark import Lark
    from lark.exceptions import UnexpectedInput

GRAMMAR = Path(__file__).with_name("grammar") / "pvspec.lark"


# ---- the syntax tree ------------------------------------------------------------


@record(slots=True)
class TypeExpr:
    """A type as written: `const struct desc_ptr *`, `unsigned long`, `pte_t`."""

    span: Span
    base: str  # "unsigned long", "pte_t", "desc_ptr"
    keyword: str | None  # "struct", "enum", "c" (a C spelling) or None (a plain name)
    const: bool
    pointers: tuple[bool, ...]  # one entry per `*`, True where that pointer is const


@record(slots=True)
class AnnotationArg:
    span: Span
    key: str | None
    value: int | str | tuple[str, ...]  # integer, string, or dotted name
    # The value as written (`0x200`, `"a\\tb"`), so the formatter keeps its spelling.
    literal: str = field(default="", compare=False)


@record(slots=True)
class Annotation:
    span: Span
    name: str
    args: tuple[AnnotationArg, ...] = ()
    has_parens: bool = False
    condition: cond.Cond | None = None  # only for @if


@record
class SettingValue:
    span: Span
    name: str | None
    value: int | str | None
    literal: str = field(default="", compare=False)  # the value as written


@record
class Setting:
    span: Span
    key: str
    values: tuple[SettingValue, ...]


@record(slots=True)
class Declaration:
    """What every declaration has: where it is, its name, doc and annotations."""

    span: Span  # of the name
    name: str
    doc: str | None = field(default=None, kw_only=True)
    annotations: tuple[Annotation, ...] = field(default=(), kw_only=True)


@record
class AbiDecl(Declaration):
    settings: tuple[Setting, ...] = ()


@record
class TargetDecl(Declaration):
    settings: tuple[Setting, ...] = ()


@record
class TypedefDecl(Declaration):
    type: TypeExpr | None = None


@record
class FieldDecl(Declaration):
    type: TypeExpr | None = None


@record
class StructDecl(Declaration):
    fields: tuple[FieldDecl, ...] = ()


@record
class OpaqueDecl(Declaration):
    pass


@record
class EnumeratorDecl(Declaration):
    value: int | None = None
    literal: str = field(default="", compare=False)  # the value as written


@record
class EnumDecl(Declaration):
    underlying: TypeExpr | None = None
    enumerators: tuple[EnumeratorDecl, ...] = ()


@record(slots=True)
class ParamDecl:
    span: Span
    type: TypeExpr
    name: str | None


@record(slots=True)
class MemberDecl(Declaration):
    """A table member: a hook when `params` is not None, else data or a sub-table."""

    type: TypeExpr | None = None
    params: tuple[ParamDecl, ...] | None = None


@record
class TableDecl(Declaration):
    members: tuple[MemberDecl, ...] = ()


@record(slots=True)
class MemberPath:
    span: Span
    parts: tuple[str, ...]


@record(slots=True)
class BackendEntry:
    span: Span
    table: str
    table_span: Span
    members: tuple[MemberPath, ...] | None  # None means `*`
    annotations: tuple[Annotation, ...] = ()


@record
class BackendDecl(Declaration):
    default: bool = False
    entries: tuple[BackendEntry, ...] = ()


@record
class IncludeDecl:
    span: Span
    path: str
    literal: str = field(default="", compare=False)  # the path string as written


@record(slots=True)
class Comment:
    """A comment as written; `doc` is True for `///` lines that document a declaration."""

    line: int
    column: int
    end_line: int
    text: str
    doc: bool


TopLevel = AbiDecl | TargetDecl | TypedefDecl | StructDecl | OpaqueDecl | EnumDecl | TableDecl
Item = TopLevel | BackendDecl | IncludeDecl


@record
class SpecFile:
    source: SourceFile
    items: tuple[Item, ...]
    # What the compiler skips but the formatter must keep: every comment, and
    # where each `}` is (blocks end there, and comments before it stay inside).
    comments: tuple[Comment, ...] = ()
    closing_braces: tuple[tuple[int, int], ...] = ()


# ---- the parser --------------------------------------------------------------------
#
# A text in the grammar is parsed by `lalr.Driver` from the shipped tables, without lark;
# lark's own parser (`_lark_parser`) is built only to word a syntax error, or to make the
# tables of a grammar that has none shipped.

# The terminals whose tokens the builder sees although the tree leaves them out, and the
# builder's method for each: comments and closing braces, which the formatter keeps.
LEXER_CALLBACKS = {
    "LINE_COMMENT": "remember_comment",
    "BLOCK_COMMENT": "remember_comment",
    "DOC_COMMENT": "remember_comment",
    "RBRACE": "remember_brace",
}

# How the grammar is turned into lark's parser; `write_parse_tables` uses the same options.
LARK_OPTIONS: dict[str, Any] = {"parser": "lalr", "maybe_placeholders": True}


@functools.cache
def _builder() -> _Builder:
    """The one builder: it runs inside the parser, so no parse tree is ever built; it is
    told which file it reads before each parse."""
    return _Builder()


def _lexer_callbacks(builder: _Builder) -> dict[str, Any]:
    return {terminal: getattr(builder, method) for terminal, method in LEXER_CALLBACKS.items()}


def _grammar_sha256() -> str:
    return sha256(GRAMMAR.read_bytes()).hexdigest()


@functools.cache
def _driver() -> Driver:
    from . import parsetables

    builder = _builder()
    callbacks = _lexer_callbacks(builder)
    if parsetables.GRAMMAR_SHA256 == _grammar_sha256():
        tables = parsetables.DRIVER
    else:  # a grammar edited since `make tables`: its tables are made here, in memory
        from .lalr import driver_tables

        tables = driver_tables(_lark_parser(), sorted(callbacks))
    return Driver(tables, builder, callbacks)


@functools.cache
def _lark_parser() -> Lark:
    """Lark's own parser of the grammar, building the same tree with the same builder."""
    from lark import Lark

    builder = _builder()
    options = {"transformer": builder, "lexer_callbacks": _lexer_callbacks(builder)}
    lark_parser = _shipped_parser(options)
    if lark_parser is None:
        # Tables of another grammar or lark version: built here, in memory. Lark's own
        # disk cache is not used: it unpickles a file of a predictable name in the shared
        # temporary folder, which another local user could have planted.
        grammar = GRAMMAR.read_text(encoding="utf-8")
        lark_parser = Lark(grammar, **LARK_OPTIONS, **options)
    return lark_parser


def _shipped_parser(options: dict[str, Any]) -> Lark | None:
    """Lark's parser from its tables shipped with pvgen, if they are this grammar's, made by
    this lark version; they are part of the package, as trusted as its code."""
    import lark

    from . import larktables

    if larktables.GRAMMAR_SHA256 != _grammar_sha256():
        return None
    if larktables.LARK_VERSION != lark.__version__:
        return None
    try:
        return lark.Lark.__new__(lark.Lark)._load(larktables.TABLES, **options)
    except Exception:  # a lark whose private loader changed: build the tables instead
        return None


def write_parse_tables(folder: Path) -> None:
    """Write the modules of the grammar's LALR tables into the package `folder`:
    parsetables.py (the driver's) and larktables.py (lark's own, for syntax errors). Run
    `make tables` after a grammar change."""
    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    from .lalr import driver_tables

    grammar = GRAMMAR.read_text(encoding="utf-8")
    digest = sha256(grammar.encode()).hexdigest()
    lark_parser = lark.Lark(grammar, **LARK_OPTIONS)
    driver = driver_tables(lark_parser, sorted(LEXER_CALLBACKS))
    data, memo = lark_parser.memo_serialize([TerminalDef, Rule])
    # As `Lark.save` keeps them: without the options given again at load (the builder).
    loaded_again = lark.lark._LOAD_ALLOWED_OPTIONS
    data["options"] = {k: v for k, v in data["options"].items() if k not in loaded_again}
    made = "Takes: nothing; written by `make tables` (`syntax.write_parse_tables`).\n"
    (folder / "parsetables.py").write_text(
        '"""The LALR(1) tables of grammar/pvspec.lark, as the parser loop reads them.\n\n'
        + made
        + "Hands on: the tables `syntax` makes its `lalr.Driver` from while `GRAMMAR_SHA256` is\n"
        "the grammar's hash (else they are computed from the grammar). Plain data: reading\n"
        "them needs no lark. Generated: do not edit.\n"
        '"""\n\n'
        "from typing import Any\n\n"
        f"GRAMMAR_SHA256 = {digest!r}\n"
        f"DRIVER: dict[str, Any] = {driver!r}\n",
        encoding="utf-8",
    )
    (folder / "larktables.py").write_text(
        '"""The LALR(1) tables of grammar/pvspec.lark, as lark serializes them.\n\n'
        + made
        + "Hands on: the tables `syntax` loads lark's own parser from (to word a syntax error)\n"
        "while `GRAMMAR_SHA256` is the grammar's hash and `LARK_VERSION` the installed lark's;\n"
        "otherwise lark builds them from the grammar. Generated: do not edit.\n"
        '"""\n\n'
        "from typing import Any\n\n"
        f"GRAMMAR_SHA256 = {digest!r}\n"
        f"LARK_VERSION = {lark.__version__!r}\n"
        f"TABLES: dict[str, Any] = {{'data': {data!r}, 'memo': {memo!r}}}\n",
        encoding="utf-8",
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
    builder = _builder()
    builder.begin(source)
    try:
        items = cast(list[Item], _driver().parse(source.text))
    except NotParsed:
        # Not in the grammar: lark's own parser says exactly where and what was expected.
        items = _parse_with_lark(source)
    except RecursionError:
        raise _too_deep(source) from None
    return SpecFile(source, tuple(items), tuple(builder.comments), tuple(builder.braces))


def _too_deep(source: SourceFile) -> SpecError:
    return SpecError([error(Span.point(source), "spec nests too deeply to parse")])


def _parse_with_lark(source: SourceFile) -> list[Item]:
    from lark.exceptions import UnexpectedInput

    _builder().begin(source)
    try:
        return cast(list[Item], _lark_parser().parse(source.text))
    except UnexpectedInput as exc:
        raise SpecError([_syntax_error(source, exc)]) from None
    except RecursionError:
        raise _too_deep(source) from None


def _describe_expected(expected: set[str]) -> str:
    parser = _lark_parser()
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


def _syntax_error(source: SourceFile, exc: UnexpectedInput) -> Any:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF

    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    if line < 0 or column < 0:  # lark reports end of input as -1
        line = len(source.line_starts)
        column = len(source.line_text(line)) + 1
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = source.text[pos] if pos < len(source.text) else ""
        span = Span(source, line, column, line, column + 1)
        if char == '"':
            return error(span, "unterminated string or invalid escape in string")
        if char == "/" and source.text.startswith("/*", pos):
            return error(span, "unterminated comment '/*'")
        return error(span, f"unexpected character {char!r}")
    token = getattr(exc, "token", None)
    expected = set(getattr(exc, "expected", set()) or set())
    if isinstance(exc, UnexpectedEOF) or token is None or token.type == "$END":
        span = Span(source, line, column, line, column + 1)
        return error(span, f"unexpected end of file; expected {_describe_expected(expected)}")
    span = Span(source, line, column, line, column + max(1, len(str(token))))
    if _follows_doc_comment(source, token):
        return error(span, "a doc comment '///' must be followed by the declaration it documents")
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


def _follows_doc_comment(source: SourceFile, token: Token) -> bool:
    """Whether the last non-blank line before `token` is a `///` doc comment."""
    before = source.text[: token.start_pos or 0].rstrip()
    last_line = before[before.rfind("\n") + 1 :].lstrip()
    return last_line.startswith("///") and not last_line.startswith("////")


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


# ---- tokens to dataclasses ---------------------------------------------------------

# Conditions are evaluated and rendered recursively; real ones nest a few levels.
MAX_CONDITION_DEPTH = 100
# Longer integer literals are refused before conversion (Python itself refuses over 4,300
# digits); a 128-bit value takes 39 decimal digits.
MAX_INTEGER_DIGITS = 64
VALID_ESCAPES = r"\" \' \\ \n \t \r \0 \xNN"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


def _word(token: Token) -> str:
    """A name as the syntax records keep it: one string object per spelling, shared by every
    use (a large spec names the same few types and parameters tens of thousands of times),
    which the compiled-spec cache then pickles once."""
    return intern(token.value)


class _Builder:
    """Builds the dataclasses above while lark parses (no intermediate tree).

    Spans come from tokens: a declaration's span is its name, a type's runs
    from its first to its last token.
    """

    def __init__(self) -> None:
        self.source = SourceFile.from_text("", "")
        # Depth and leftmost span of each condition node built, by id: conditions are
        # walked recursively later, so their nesting is bounded here.
        self.cond_depth: dict[int, tuple[int, Span]] = {}
        self.comments: list[Comment] = []
        self.braces: list[tuple[int, int]] = []

    def begin(self, source: SourceFile) -> None:
        """Ready for a parse of `source`."""
        self.source = source
        self.cond_depth.clear()
        self.comments = []
        self.braces = []

    # -- lexer callbacks: what the tree leaves out, kept for the formatter
    def remember_comment(self, token: Token) -> Token:
        self.comments.append(
            Comment(
                token.line,
                token.column,
                token.end_line,
                token.value,
                token.type == "DOC_COMMENT",
            )
        )
        return token

    def remember_brace(self, token: Token) -> Token:
        self.braces.append((token.line, token.column))
        return token

    # -- helpers
    def tspan(self, first: Token, last: Token | None = None) -> Span:
        if last is None:
            last = first
        return Span(self.source, first.line, first.column, last.end_line, last.end_column)

    def string(self, token: Token) -> str:
        body = token[1:-1]
        if "\\" not in body:
            return str(body)
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
                col = (token.column or 0) + 1 + i
                span = Span(self.source, token.line or 0, col, token.line or 0, col + 2)
                raise SpecError(
                    [
                        error(
                            span,
                            f"invalid escape '\\{nxt}' in string; valid: " + VALID_ESCAPES,
                        )
                    ]
                )
        return "".join(out)

    # -- top level
    def start(self, items: list[Any]) -> list[Any]:
        return items

    def include(self, children: list[Token]) -> IncludeDecl:
        keyword, path = children
        return IncludeDecl(self.tspan(keyword, path), self.string(path), str(path))

    def declaration(self, children: list[Any]) -> Declaration:
        doc, annotations, rest = _split_prefix(children)
        body: Declaration = rest[0]
        return replace(body, doc=doc, annotations=annotations)

    def doc(self, tokens: list[Token]) -> _Doc:
        return _Doc(_doc_text(tokens))

    # -- abi and target
    def abi(self, children: list[Any]) -> AbiDecl:
        name = children[0]
        return AbiDecl(self.tspan(name), _word(name), settings=tuple(children[1:]))

    def target(self, children: list[Any]) -> TargetDecl:
        name = children[0]
        return TargetDecl(self.tspan(name), _word(name), settings=tuple(children[1:]))

    def setting(self, children: list[Any]) -> Setting:
        key, *values = children
        return Setting(self.tspan(key), str(key), tuple(v for v in values if v is not None))

    def value_name(self, children: list[Token]) -> SettingValue:
        return SettingValue(self.tspan(children[0]), str(children[0]), None)

    def value_assign(self, children: list[Any]) -> SettingValue:
        name, (value, token) = children
        return SettingValue(self.tspan(name, token), _word(name), value, str(token))

    def value_int(self, children: list[Any]) -> SettingValue:
        value, token = children[0]
        return SettingValue(self.tspan(token), None, value, str(token))

    def value_string(self, children: list[Token]) -> SettingValue:
        token = children[0]
        return SettingValue(self.tspan(token), None, self.string(token), str(token))

    # -- types
    def typedef(self, children: list[Any]) -> TypedefDecl:
        type_, name = children
        return TypedefDecl(self.tspan(name), _word(name), type=type_)

    def struct(self, children: list[Any]) -> StructDecl:
        name = children[0]
        return StructDecl(self.tspan(name), _word(name), fields=tuple(children[1:]))

    def field(self, children: list[Any]) -> FieldDecl:
        doc, annotations, (type_, name) = _split_prefix(children)
        return FieldDecl(
            self.tspan(name), _word(name), doc=doc, annotations=annotations, type=type_
        )

    def opaque(self, children: list[Token]) -> OpaqueDecl:
        return OpaqueDecl(self.tspan(children[0]), str(children[0]))

    def enum(self, children: list[Any]) -> EnumDecl:
        name, underlying, *enumerators = children
        return EnumDecl(
            self.tspan(name),
            _word(name),
            underlying=underlying,
            enumerators=tuple(e for e in enumerators if e is not None),
        )

    def enumerator(self, children: list[Any]) -> EnumeratorDecl:
        doc, annotations, (name, value) = _split_prefix(children)
        return EnumeratorDecl(
            self.tspan(name),
            _word(name),
            doc=doc,
            annotations=annotations,
            value=None if value is None else value[0],
            literal="" if value is None else str(value[1]),
        )

    def type(self, children: list[Any]) -> TypeExpr:
        const_before, (keyword, base, first, last), const_after, *pointers = children
        if const_before is not None:
            first = const_before
        if pointers:
            last = pointers[-1][1]
            stars = tuple([is_const for is_const, _ in pointers])
        else:
            if const_after is not None:
                last = const_after
            stars = ()
        return TypeExpr(
            Span(self.source, first.line, first.column, last.end_line, last.end_column),
            base,
            keyword,
            const_before is not None or const_after is not None,
            stars,
        )

    def pointer(self, children: list[Any]) -> tuple[bool, Token]:
        star, const = children
        return const is not None, const or star

    def base_c(self, children: list[list[Token]]) -> tuple[str, str, Token, Token]:
        words = children[0]
        return ("c", intern(" ".join([t.value for t in words])), words[0], words[-1])

    def base_name(self, children: list[Token]) -> tuple[None, str, Token, Token]:
        name = children[0]
        return (None, intern(name.value), name, name)

    def base_struct(self, children: list[Token]) -> tuple[str, str, Token, Token]:
        keyword, name = children
        return ("struct", _word(name), keyword, name)

    def base_enum(self, children: list[Token]) -> tuple[str, str, Token, Token]:
        keyword, name = children
        return ("enum", _word(name), keyword, name)

    def c_words(self, children: list[Token]) -> list[Token]:
        return children

    # -- tables
    def table(self, children: list[Any]) -> TableDecl:
        name = children[0]
        return TableDecl(self.tspan(name), _word(name), members=tuple(children[1:]))

    def member(self, children: list[Any]) -> MemberDecl:
        if len(children) == 4:  # no annotations: [doc] type NAME member_tail
            first, type_, name, params = children
            doc = None if first is None else first.text
            annotations: tuple[Annotation, ...] = ()
        else:
            doc, annotations, (type_, name, params) = _split_prefix(children)
        return MemberDecl(
            self.tspan(name),
            _word(name),
            doc=doc,
            annotations=annotations,
            type=type_,
            params=params,
        )

    def data_tail(self, _children: list[Any]) -> None:
        return None

    def hook_tail(self, children: list[Any]) -> tuple[ParamDecl, ...]:
        return tuple([p for p in children if p is not None])

    def param(self, children: list[Any]) -> ParamDecl:
        type_, name = children
        if name is None:
            return ParamDecl(type_.span, type_, None)
        span = Span(self.source, type_.span.line, type_.span.column, name.end_line, name.end_column)
        return ParamDecl(span, type_, _word(name))

    # -- backends
    def backend_default(self, children: list[Any]) -> BackendDecl:
        name, default = children
        return BackendDecl(self.tspan(name), _word(name), default=default is not None)

    def backend_block(self, children: list[Any]) -> BackendDecl:
        name = children[0]
        return BackendDecl(self.tspan(name), _word(name), entries=tuple(children[1:]))

    def backend_entry(self, children: list[Any]) -> BackendEntry:
        *annotations, table, members = children
        span = self.tspan(table)
        return BackendEntry(span, str(table), span, members, tuple(annotations))

    def all_members(self, _children: list[Any]) -> None:
        return None

    def some_members(self, children: list[MemberPath]) -> tuple[MemberPath, ...]:
        return tuple(children)

    def member_path(self, children: list[Token]) -> MemberPath:
        first = children[0]
        if len(children) == 1:  # a member of the table itself, the common case
            span = Span(self.source, first.line, first.column, first.end_line, first.end_column)
            return MemberPath(span, (intern(first.value),))
        return MemberPath(self.tspan(first, children[-1]), tuple([_word(t) for t in children]))

    # -- annotations
    def if_annotation(self, children: list[Any]) -> Annotation:
        at, keyword, condition = children
        return Annotation(self.tspan(at, keyword), "if", has_parens=True, condition=condition)

    def plain_annotation(self, children: list[Any]) -> Annotation:
        at, name, args = children
        if args is None:
            return Annotation(self.tspan(at, name), _word(name))
        return Annotation(self.tspan(at, name), _word(name), args, has_parens=True)

    def ann_args(self, children: list[Any]) -> tuple[AnnotationArg, ...]:
        return tuple(a for a in children if a is not None)

    def keyword_arg(self, children: list[Any]) -> AnnotationArg:
        key, value = children
        return AnnotationArg(self.tspan(key), str(key), value.value, value.literal)

    def arg_int(self, children: list[Any]) -> AnnotationArg:
        value, token = children[0]
        return AnnotationArg(self.tspan(token), None, value, str(token))

    def arg_string(self, children: list[Token]) -> AnnotationArg:
        token = children[0]
        return AnnotationArg(self.tspan(token), None, self.string(token), str(token))

    def arg_name(self, children: list[list[Token]]) -> AnnotationArg:
        tokens = children[0]
        parts = tuple(str(t) for t in tokens)
        return AnnotationArg(self.tspan(tokens[0], tokens[-1]), None, parts, ".".join(parts))

    def dotted_name(self, children: list[Token]) -> list[Token]:
        return children

    def integer(self, children: list[Token]) -> tuple[int, Token]:
        token = children[0]
        digits = token.lstrip("-")
        if len(digits) > MAX_INTEGER_DIGITS:
            raise SpecError(
                [
                    error(
                        self.tspan(token),
                        f"integer of {len(digits)} digits; pvgen takes at most"
                        f" {MAX_INTEGER_DIGITS} (no C type holds more)",
                    )
                ]
            )
        if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
            raise SpecError(
                [
                    error(
                        self.tspan(token),
                        f"'{token}' has a leading zero, which C reads as octal;"
                        " write it in decimal without the zero, or in hex",
                    )
                ]
            )
        return int(token, 0), token

    # -- conditions
    def nested(self, node: cond.Cond, children: list[Any]) -> cond.Cond:
        depth = max(self.cond_depth[id(c)][0] for c in children)
        span = self.cond_depth[id(children[0])][1]
        if depth >= MAX_CONDITION_DEPTH:
            raise SpecError(
                [error(span, f"condition nests more than {MAX_CONDITION_DEPTH} levels deep")]
            )
        self.cond_depth[id(node)] = (depth + 1, span)
        return node

    def cond_or(self, children: list[cond.Cond]) -> cond.Cond:
        node = cond.Or(_flatten(children, cond.Or))
        return self.nested(node, list(node.operands))

    def cond_and(self, children: list[cond.Cond]) -> cond.Cond:
        node = cond.And(_flatten(children, cond.And))
        return self.nested(node, list(node.operands))

    def cond_not(self, children: list[cond.Cond]) -> cond.Cond:
        return self.nested(cond.Not(children[0]), children)

    def cond_compare(self, children: list[Any]) -> cond.Cond:
        left, op, right = children
        return self.nested(cond.Compare(str(op), left, right), [left, right])

    def cond_name(self, children: list[Token]) -> cond.Name:
        span = self.tspan(children[0])
        node = cond.Name(str(children[0]), span)
        self.cond_depth[id(node)] = (1, span)
        return node

    def cond_int(self, children: list[Any]) -> cond.Int:
        value, token = children[0]
        span = self.tspan(token)
        node = cond.Int(value, span, str(token))
        self.cond_depth[id(node)] = (1, span)
        return node


@record(slots=True)
class _Doc:
    text: str


def _doc_text(tokens: list[Token]) -> str:
    if len(tokens) == 1:  # most doc comments are one line
        text = tokens[0].value[3:]
        return (text[1:] if text.startswith(" ") else text).rstrip()
    lines = []
    for t in tokens:
        text = t.value[3:]
        lines.append(text[1:] if text.startswith(" ") else text)
    return "\n".join(line.rstrip() for line in lines)


def _is_hex(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdefABCDEF" for c in text)


def _flatten(
    children: list[cond.Cond], kind: type[cond.And] | type[cond.Or]
) -> tuple[cond.Cond, ...]:
    """`a && (b && c)` as one And of three: the same meaning, a canonical shape."""
    out: list[cond.Cond] = []
    for c in children:
        if isinstance(c, kind):
            out.extend(c.operands)
        else:
            out.append(c)
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
