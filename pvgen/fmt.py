"""Formatter: one spec file's text in the canonical layout.

Takes: a `SourceFile` (one file; includes are formatted as files of their own).
Hands on: the same spec in one layout: four-space indents, one member per line,
doc comments and annotations on the lines above their declaration, backend and
setting lists filled to 100 columns, one blank line around every block. Every
comment is kept in its order; numbers and strings keep their spelling; line
endings follow the file's first line.

The layout is printed from the syntax tree, so the result means what the input
meant by construction; `format_source` still re-parses its output and compares
trees and comments before handing it on, the way black compares ASTs, so a
formatter bug can never rewrite a user's spec into something else.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Literal

from . import conditions as cond
from .diagnostics import SpecError
from .source import SourceFile, Span
from .syntax import (
    AbiDecl,
    Annotation,
    BackendDecl,
    BackendEntry,
    Comment,
    Declaration,
    EnumDecl,
    EnumeratorDecl,
    FieldDecl,
    IncludeDecl,
    Item,
    MemberDecl,
    OpaqueDecl,
    Setting,
    SpecFile,
    StructDecl,
    TableDecl,
    TargetDecl,
    TypedefDecl,
    TypeExpr,
    parse,
)

WIDTH = 100
INDENT = "    "
CONTINUATION = INDENT  # extra indent of a filled list's second and later lines

Pos = tuple[int, int]  # (line, column), 1-based
# Whether a blank line goes before the next thing printed: never, as in the source
# (at most one), or always (around blocks).
Policy = Literal["never", "keep", "force"]


class FormatterBug(Exception):
    """The formatted text would not mean what the input meant; nothing is written."""


def format_source(source: SourceFile) -> str:
    """The canonical text of one spec file; raises SpecError when it does not parse."""
    spec = parse(source)
    text = _Printer(spec).run()
    if text != source.text.replace("\r\n", "\n"):
        _verify(spec, text, source)  # only a change needs proving; most files are tidy
    first_newline = source.text.find("\n")
    crlf = first_newline > 0 and source.text[first_newline - 1] == "\r"
    return text.replace("\n", "\r\n") if crlf else text


# ---- the printer ---------------------------------------------------------------------


@dataclass
class _Emitted:
    end_line: int  # source line where what was printed last ends
    doc: bool = False  # it was a doc comment, which nothing may trail


class _Printer:
    """Prints items in source order, flushing comments in as their positions come up.

    Before each printed line, the comments that come before it in the source are
    printed: on the previous line's end when they started on that line (trailing),
    otherwise on lines of their own (leading). Comments inside a construct printed
    as one line trail that line.
    """

    def __init__(self, spec: SpecFile) -> None:
        self.source = spec.source
        self.spec = spec
        self.comments = list(spec.comments)
        self.next_comment = 0
        self.braces = list(spec.closing_braces)
        self.out: list[str] = []
        self.last: _Emitted | None = None
        self.depth = 0

    # -- entry
    def run(self) -> str:
        previous_block = False
        for index, item in enumerate(self.spec.items):
            block = _is_block(item)
            blank: Policy = (
                "never" if index == 0 else "force" if block or previous_block else "keep"
            )
            self.item(item, blank)
            previous_block = block
        self.flush_before((1 << 30, 0), "force" if previous_block else "keep")
        while self.out and self.out[-1] == "":
            self.out.pop()
        return "\n".join(self.out) + "\n" if self.out else ""

    # -- output primitives
    @property
    def indent(self) -> str:
        return INDENT * self.depth

    def blank_between(self, line: int, policy: Policy) -> bool:
        if not self.out or policy == "never":
            return False
        if policy == "force":
            return True
        assert self.last is not None
        return any(
            not self.source.line_text(n).strip() for n in range(self.last.end_line + 1, line)
        )

    def put(self, text: str, start: Pos, end_line: int, policy: Policy) -> None:
        if self.blank_between(start[0], policy):
            self.out.append("")
        self.out.append(text)
        self.last = _Emitted(end_line)

    def flush_before(self, pos: Pos, policy: Policy) -> Policy:
        """Print the comments before `pos`; returns the policy left for what follows."""
        for comment in self.take_comments_before(pos):
            if self.trails(comment):
                self.out[-1] += " " + self.comment_text(comment, trailing=True)
                assert self.last is not None
                self.last.end_line = comment.end_line
                continue
            if self.last is not None and self.last.doc and not comment.doc:
                policy = "keep"  # a comment after a doc keeps the blank line the author left
            self.put(
                self.comment_text(comment), (comment.line, comment.column), comment.end_line, policy
            )
            assert self.last is not None
            self.last.doc = comment.doc
            # Inside one declaration's prefix only comments keep their blank lines.
            policy = "keep" if not comment.doc else "never"
        return policy

    def trails(self, comment: Comment) -> bool:
        return (
            not comment.doc
            and self.last is not None
            and bool(self.out)
            and self.out[-1] != ""
            and comment.line == self.last.end_line
        )

    def comment_text(self, comment: Comment, trailing: bool = False) -> str:
        lines = [line.rstrip() for line in comment.text.replace("\r\n", "\n").split("\n")]
        text = _with_canonical_marker(lines[0], comment.doc)
        if comment.doc:
            return self.indent + text
        if trailing or len(lines) == 1:
            return ("" if trailing else self.indent) + "\n".join([text, *lines[1:]])
        # A block comment on lines of its own moves with its indentation.
        shift = len(self.indent) - (comment.column - 1)
        rest = [_shift(line, shift) for line in lines[1:]]
        return "\n".join([self.indent + text, *rest])

    def line(self, text: str | Sequence[str], start: Pos, end: Pos, policy: Policy) -> None:
        """Print code (one line, or a wrapped construct) covering the source `start`..`end`.

        Comments written inside the construct trail its last line; block comments
        that span lines go above it instead, since nothing may follow them on a line.
        """
        texts = [text] if isinstance(text, str) else list(text)
        policy = self.flush_before(start, policy)
        inner = self.take_comments_before(end)
        for comment in inner:
            if "\n" in comment.text:
                self.put(self.comment_text(comment), start, comment.end_line, policy)
                policy = "never"
        trailing = [self.comment_text(c, trailing=True) for c in inner if "\n" not in c.text]
        texts[-1] = " ".join([texts[-1], *trailing])
        self.put(texts[0], start, end[0], policy)
        self.out.extend(texts[1:])
        if inner:
            assert self.last is not None
            self.last.end_line = max(end[0], *(c.end_line for c in inner))

    def take_comments_before(self, pos: Pos) -> list[Comment]:
        taken = []
        while self.next_comment < len(self.comments):
            comment = self.comments[self.next_comment]
            if (comment.line, comment.column) >= pos:
                break
            taken.append(comment)
            self.next_comment += 1
        return taken

    def closing(self, after: Pos) -> None:
        """Print the `}` of a block whose last content ended at `after`."""
        index = bisect.bisect_right(self.braces, after)
        brace = self.braces[index] if index < len(self.braces) else after
        self.depth += 1
        self.flush_before(brace, "keep")
        self.depth -= 1
        self.put(self.indent + "}", brace, brace[0], "never")

    # -- declarations
    def prefix(self, decl: Declaration | BackendEntry, fallback: Pos, policy: Policy) -> Policy:
        """Doc comments and annotations; returns the policy for the declaration line."""
        start = _start(decl.annotations[0].span) if decl.annotations else fallback
        policy = self.flush_before(start, policy)
        if not decl.annotations:
            return policy
        texts = [_annotation(a) for a in decl.annotations]
        joined = self.indent + " ".join(texts)
        end = _end(decl.annotations[-1].span)
        if len(joined) <= WIDTH:
            self.line(joined, start, end, policy)
        else:
            for annotation, text in zip(decl.annotations, texts, strict=True):
                self.line(
                    self.indent + text, _start(annotation.span), _end(annotation.span), policy
                )
                policy = "never"
        return "never"

    def item(self, item: Item, policy: Policy) -> None:
        if isinstance(item, IncludeDecl):
            self.line(f"include {item.literal};", _start(item.span), _end(item.span), policy)
            return
        start = _start(item.span)
        policy = self.prefix(item, start, policy)
        if isinstance(item, AbiDecl | TargetDecl):
            keyword = "abi" if isinstance(item, AbiDecl) else "target"
            self.block(f"{keyword} {item.name} {{", item, policy, self.settings, item.settings)
        elif isinstance(item, TypedefDecl):
            assert item.type is not None
            self.line(
                f"typedef {_declarator(item.type, item.name)};", start, _end(item.span), policy
            )
        elif isinstance(item, OpaqueDecl):
            self.line(f"opaque struct {item.name};", start, _end(item.span), policy)
        elif isinstance(item, StructDecl):
            self.block(f"struct {item.name} {{", item, policy, self.members, item.fields)
        elif isinstance(item, EnumDecl):
            assert item.underlying is not None
            header = f"enum {item.name} : {_type(item.underlying)} {{"
            self.block(header, item, policy, self.enumerators, item.enumerators)
        elif isinstance(item, TableDecl):
            self.block(f"table {item.name} {{", item, policy, self.members, item.members)
        elif isinstance(item, BackendDecl):
            self.backend(item, policy)

    def block(
        self,
        header: str,
        decl: Declaration,
        policy: Policy,
        body: Callable[[Any], Pos | None],
        children: Sequence[Any],
    ) -> None:
        """`header {`, the children printed by `body` one level in, and the `}`."""
        self.line(self.indent + header, _start(decl.span), _end(decl.span), policy)
        self.depth += 1
        last = body(children)
        self.depth -= 1
        self.closing(last or _end(decl.span))

    def settings(self, settings: Sequence[Setting]) -> Pos | None:
        last = None
        for index, setting in enumerate(settings):
            values = [
                (
                    v.literal
                    if v.name is None
                    else (v.name if v.value is None else f"{v.name} = {v.literal}")
                )
                for v in setting.values
            ]
            end = _end(setting.values[-1].span) if setting.values else _end(setting.span)
            head = f"{self.indent}{setting.key}" + (" " if values else "")
            texts = _fill(head, values, ";", self.indent + CONTINUATION)
            self.line(texts, _start(setting.span), end, _in_block(index))
            last = end
        return last

    def members(self, members: Sequence[MemberDecl | FieldDecl]) -> Pos | None:
        last = None
        for index, member in enumerate(members):
            assert member.type is not None
            start = _start(member.type.span)
            policy = self.prefix(member, start, _in_block(index))
            params = getattr(member, "params", None)
            end = _end(member.span)
            if params is None:
                self.line(
                    f"{self.indent}{_declarator(member.type, member.name)};", start, end, policy
                )
            else:
                if params:
                    end = max(end, _end(params[-1].span))
                texts = [_declarator(p.type, p.name) for p in params]
                head = f"{self.indent}{_declarator(member.type, member.name)}("
                one_line = head + ", ".join(texts) + ");"
                if len(one_line) <= WIDTH or not texts:
                    self.line(one_line, start, end, policy)
                else:
                    inner = self.indent + INDENT
                    body = [f"{inner}{t}," for t in texts[:-1]] + [f"{inner}{texts[-1]}"]
                    self.line([head, *body, self.indent + ");"], start, end, policy)
            last = end
        return last

    def enumerators(self, enumerators: Sequence[EnumeratorDecl]) -> Pos | None:
        last = None
        for index, enumerator in enumerate(enumerators):
            start = _start(enumerator.span)
            policy = self.prefix(enumerator, start, _in_block(index))
            value = f" = {enumerator.literal}" if enumerator.value is not None else ""
            self.line(
                f"{self.indent}{enumerator.name}{value},", start, _end(enumerator.span), policy
            )
            last = _end(enumerator.span)
        return last

    def backend(self, decl: BackendDecl, policy: Policy) -> None:
        start = _start(decl.span)
        if not decl.entries:  # `backend x { }` declares what `backend x;` does
            default = " default" if decl.default else ""
            self.line(f"backend {decl.name}{default};", start, _end(decl.span), policy)
            return
        self.line(f"backend {decl.name} {{", start, _end(decl.span), policy)
        self.depth += 1
        last = None
        for index, entry in enumerate(decl.entries):
            names = ["*"] if entry.members is None else [".".join(p.parts) for p in entry.members]
            end = _end(entry.members[-1].span) if entry.members else _end(entry.span)
            head = f"{self.indent}{entry.table}: "
            texts = _fill(head, names, ";", self.indent + CONTINUATION)
            policy = self.prefix(entry, _start(entry.span), _in_block(index))
            self.line(texts, _start(entry.span), end, policy)
            last = end
        self.depth -= 1
        self.closing(last or _end(decl.span))


# ---- text of the pieces -------------------------------------------------------------


def _in_block(index: int) -> Policy:
    """The policy of a block's `index`-th entry: none after `{`, the author's after that."""
    return "never" if index == 0 else "keep"


def _with_canonical_marker(text: str, doc: bool) -> str:
    """A comment's text with the marker the printer writes.

    `///x` and `/// x` document the same text, and the space is canonical. A `///`
    that documents nothing (where no declaration can follow) becomes `//`, so that
    moving it can never make it document the next declaration.
    """
    if doc:
        body = text[3:]
        return ("///" if not body or body.startswith(" ") else "/// ") + body
    if text.startswith("///") and not text.startswith("////"):
        return "//" + text[3:]
    return text


def _is_block(item: Item) -> bool:
    if isinstance(item, BackendDecl):
        return bool(item.entries)
    return isinstance(item, AbiDecl | TargetDecl | StructDecl | EnumDecl | TableDecl)


def _start(span: Span) -> Pos:
    return (span.line, span.column)


def _end(span: Span) -> Pos:
    return (span.end_line, span.end_column)


def _type(expr: TypeExpr) -> str:
    base = expr.base if expr.keyword in (None, "c") else f"{expr.keyword} {expr.base}"
    text = ("const " if expr.const else "") + base
    if expr.pointers:
        text += " " + "".join("*const " if const else "*" for const in expr.pointers)
    return text


def _declarator(expr: TypeExpr, name: str | None) -> str:
    text = _type(expr)
    if name is None:
        return text.rstrip()
    return text + name if text.endswith(("*", " ")) else f"{text} {name}"


def _annotation(annotation: Annotation) -> str:
    if annotation.condition is not None:
        return f"@if({cond.render(annotation.condition)})"
    if not annotation.has_parens:
        return f"@{annotation.name}"
    args = [a.literal if a.key is None else f"{a.key} = {a.literal}" for a in annotation.args]
    return f"@{annotation.name}({', '.join(args)})"


def _fill(head: str, items: Sequence[str], tail: str, continuation: str) -> list[str]:
    """`head` then `items` separated by commas, wrapped at WIDTH after a comma."""
    lines = [head.rstrip() if not items else head]
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else tail)
        current = lines[-1]
        at_start = current == head or current == continuation
        candidate = current + ("" if at_start else " ") + piece
        if len(candidate) <= WIDTH or at_start:
            lines[-1] = candidate
        else:
            lines.append(continuation + piece)
    if not items:
        lines[-1] += tail
    return lines


def _shift(line: str, shift: int) -> str:
    if shift >= 0:
        return " " * shift + line if line else line
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, -shift) :]


# ---- the safety net ----------------------------------------------------------------


def _verify(original: SpecFile, text: str, source: SourceFile) -> None:
    try:
        formatted = parse(SourceFile.from_text(source.display, text, source.relative))
    except SpecError as exc:
        raise FormatterBug(
            f"the formatted text of {source.display} does not parse: {exc}"
        ) from None
    if shape(original) != shape(formatted):
        raise FormatterBug(f"formatting {source.display} would change what it declares")
    if _comment_texts(original) != _comment_texts(formatted):
        raise FormatterBug(f"formatting {source.display} would lose or reorder comments")


def shape(node: Any) -> Any:
    """A syntax tree without positions or spellings: what the spec says, not where."""
    if isinstance(node, SpecFile):
        return shape(node.items)
    if isinstance(node, tuple | list):
        return tuple([shape(n) for n in node])
    if isinstance(node, Span):
        return None
    names = _shape_fields(type(node))
    if names is None:
        return node
    return (type(node).__name__, *[(name, shape(getattr(node, name))) for name in names])


_SKIPPED = frozenset({"span", "table_span", "literal"})
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _shape_fields(kind: type) -> tuple[str, ...] | None:
    """The fields of a syntax node class that `shape` compares (None: not a node)."""
    if kind not in _FIELD_NAMES:
        is_node = is_dataclass(kind)
        _FIELD_NAMES[kind] = (
            tuple(f.name for f in fields(kind) if f.name not in _SKIPPED) if is_node else None
        )
    return _FIELD_NAMES[kind]


def _comment_texts(spec: SpecFile) -> list[str]:
    """Each comment's words with the printer's marker: what must survive formatting."""
    return [" ".join(_with_canonical_marker(c.text, c.doc).split()) for c in spec.comments]
