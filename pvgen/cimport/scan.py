"""C header scanning: text to tokens, comments and preprocessor conditions.

Takes: the text of a C header and the name to show for it.
Hands on: `Scan`, the C tokens outside preprocessor lines (each with the
`#if` frames open around it), the comments with their lines, and notes for
every preprocessor line that is not a conditional. Conditions that pvgen can
express (`defined`, `!`, `&&`, `||`, comparisons of names and integers,
`IS_ENABLED`) become `conditions.Cond` trees; others are kept as text and
marked not understood. Nothing here knows about structs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import conditions as cond
from ..records import record

# Macros whose value the kernel fixes: a C header's declarations are never read
# by the assembler, and always by the kernel.
KNOWN_UNDEFINED = {"__ASSEMBLY__", "__ASSEMBLER__"}  # the kernel uses both spellings
# Limits that keep the cost of conditions linear in the size of the header; real headers
# stay far below both (a spec condition may nest 100 levels too).
MAX_IF_DEPTH = 100
MAX_BRANCHES = 100
KNOWN_DEFINED = {"__KERNEL__"}

_TOKEN = re.compile(
    r"""
    (?P<directive>^[ \t]*\#(?:\\\n|/\*.*?\*/|//[^\n]*|[^\n])*)
  | (?P<block>/\*.*?\*/)
  | (?P<open_block>/\*)
  | (?P<line_comment>//[^\n]*)
  | (?P<newline>\n)
  | (?P<space>(?:[ \t\r\f\v]|\\\n)+)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
  | (?P<punct>\.\.\.|->|&&|\|\||==|!=|<=|>=|<<|>>|\#\#|[^\s])
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
CODE = frozenset({"ident", "number", "string", "punct"})


class HeaderError(Exception):
    """Input that cannot be read as a C header at all, with where: file:line:col."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: error: {message}")


@record
class Frame:
    """One branch of an `#if` group: what holds inside it, and where it opened."""

    line: int
    condition: cond.Cond | None  # what holds in the branch; None: always (an include guard)
    text: str  # as written, for notes
    understood: bool = True
    test: cond.Cond | None = None  # the branch's own test, which later branches negate


class Token(NamedTuple):
    """A C token outside preprocessor lines (a tuple: millions are made for big headers)."""

    kind: str  # ident, number, string, punct
    text: str
    line: int
    column: int
    frames: tuple[Frame, ...]


@record
class CComment:
    line: int
    end_line: int
    text: str  # the body, markers and leading `*` removed, lines joined by "\n"
    after_code: bool  # on the same line as code before it (a trailing comment)


@dataclass
class Scan:
    tokens: list[Token] = field(default_factory=list)
    comments: list[CComment] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    blank_lines: set[int] = field(default_factory=set)


def scan(text: str, name: str) -> Scan:
    return _Scanner(text, name).run()


class _Scanner:
    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.out = Scan()
        # The open `#if` groups: each a list of branch frames, the last one current.
        self.groups: list[list[Frame]] = []
        self.frames: tuple[Frame, ...] = ()
        self.line = 1
        self.line_start = 0
        self.code_on_line = False

    def run(self) -> Scan:
        self.find_blank_lines()
        tokens = self.out.tokens
        for match in _TOKEN.finditer(self.text):
            kind = match.lastgroup
            value = match.group()
            if kind in CODE:
                column = match.start() - self.line_start + 1
                if kind == "punct" and value in "\"'":
                    where = f"{self.name}:{self.line}:{column}"
                    raise HeaderError(where, f"unterminated {value} literal")
                tokens.append(Token(kind, value, self.line, column, self.frames))
                self.code_on_line = True
            elif kind == "newline":
                self.line += 1
                self.line_start = match.end()
                self.code_on_line = False
            elif kind == "directive":
                self.directive(value, match.start())
            elif kind == "open_block":
                column = match.start() - self.line_start + 1
                raise HeaderError(f"{self.name}:{self.line}:{column}", "unterminated comment '/*'")
            else:
                if kind != "space":
                    self.comment(value, self.line)
                self.advance_lines(value, match.start())
        if self.groups:
            opened = self.groups[-1][0]
            raise HeaderError(f"{self.name}:{opened.line}:1", f"'#{opened.text}' has no '#endif'")
        return self.out

    # -- lines
    def find_blank_lines(self) -> None:
        for number, line in enumerate(self.text.split("\n"), start=1):
            if not line.strip():
                self.out.blank_lines.add(number)

    def advance_lines(self, value: str, pos: int) -> None:
        """Count the newlines inside a multi-line token (block comments, continuations)."""
        newlines = value.count("\n")
        if newlines:
            self.line += newlines
            self.line_start = pos + value.rfind("\n") + 1

    def comment(self, value: str, line: int) -> None:
        if value.startswith("//"):
            body = value[2:].strip()
        else:
            lines = value[2:-2].split("\n")
            body = "\n".join(_strip_star(text) for text in lines).strip("\n")
        end = line + value.count("\n")
        self.out.comments.append(CComment(line, end, body, self.code_on_line))

    # -- preprocessor
    def directive(self, value: str, pos: int) -> None:
        """One logical preprocessor line: continuations joined, comments removed."""
        # Comments on a directive line speak about the directive (`#endif /* X86_PAE */`),
        # which does not survive as such, so they are dropped with it.
        start_line = self.line
        logical = _COMMENT.sub(" ", value).replace("\\\n", " ")
        self.advance_lines(value, pos)
        self.handle(logical.strip()[1:].strip(), start_line)

    def handle(self, logical: str, line: int) -> None:
        word, _, rest = logical.partition(" ")
        word, rest = word.strip(), rest.strip()
        if word in ("if", "ifdef", "ifndef"):
            self.open_group(word, rest, line)
        elif word in ("elif", "else", "endif") and not self.groups:
            raise HeaderError(f"{self.name}:{line}:1", f"'#{word}' without '#if'")
        elif word == "elif":
            self.next_branch(_parse_condition(rest), f"elif {rest}", line)
        elif word == "else":
            self.next_branch(None, "else", line, is_else=True)
        elif word == "endif":
            self.groups.pop()
            self.frames = self.frames[:-1]
        elif word == "define" and self.is_include_guard(rest):
            pass
        elif word:
            self.out.notes.append((line, f"skipped preprocessor line '#{_short(logical)}'"))

    def open_group(self, word: str, rest: str, line: int) -> None:
        parsed: _Parsed | cond.Cond | None
        if word == "if":
            parsed = _parse_condition(rest)
        else:
            name = rest.split()[0] if rest.split() else ""
            if not _is_condition_name(name):
                parsed = _Parsed(None, False)
            elif word == "ifndef" and self.next_directive_defines(name):
                parsed = None  # an include guard: always true where the header is read
            else:
                test: cond.Cond = cond.Name(_strip_config(name))
                parsed = test if word == "ifdef" else cond.Not(test)
        if len(self.groups) >= MAX_IF_DEPTH:
            raise HeaderError(
                f"{self.name}:{line}:1", f"'#if' groups nest more than {MAX_IF_DEPTH} levels deep"
            )
        frame = _frame(parsed, f"{word} {rest}", line)
        self.groups.append([frame])
        self.frames = (*self.frames, frame)

    def next_branch(
        self, parsed: _Parsed | None, text: str, line: int, is_else: bool = False
    ) -> None:
        """`#elif` or `#else`: this branch holds when no earlier test did (and its own does)."""
        group = self.groups[-1]
        if len(group) >= MAX_BRANCHES:
            # Each branch's condition negates every earlier one: a longer chain would cost
            # time and memory by the square of its length, in pvgen and in the spec made.
            raise HeaderError(
                f"{self.name}:{line}:1",
                f"'#{group[0].text.split()[0]}' group has more than {MAX_BRANCHES} branches",
            )
        own = parsed if not is_else else None
        if not all(f.understood for f in group) or (own is not None and not own.understood):
            frame = Frame(line, None, text, understood=False)
        else:
            tests = [f.test for f in group]
            negated: list[cond.Cond] = [cond.Not(t) for t in tests if t is not None]
            if any(t is None for t in tests):
                negated = [cond.Int(0)]  # an earlier branch always held
            mine = own.condition if own is not None else None
            parts = negated + ([mine] if mine is not None else [])
            frame = Frame(line, cond.conjoin(*parts), text, test=mine)
        group.append(frame)
        self.frames = (*self.frames[:-1], frame)

    def next_directive_defines(self, name: str) -> bool:
        rest = self.text[self.line_start :]
        after = rest.split("\n", 2)[1:2]
        return (
            bool(after)
            and re.fullmatch(rf"\s*#\s*define\s+{re.escape(name)}\s*", after[0]) is not None
        )

    def is_include_guard(self, rest: str) -> bool:
        if not self.groups or len(rest.split()) != 1:
            return False
        frame = self.groups[-1][-1]
        return frame.understood and frame.condition is None and frame.text.startswith("ifndef")


def _frame(parsed: _Parsed | cond.Cond | None, text: str, line: int) -> Frame:
    if isinstance(parsed, _Parsed):
        return Frame(line, parsed.condition, text, parsed.understood, test=parsed.condition)
    return Frame(line, parsed, text, test=parsed)


def _strip_star(line: str) -> str:
    stripped = line.strip()
    if stripped.startswith("*"):
        stripped = stripped[1:]
        return stripped[1:] if stripped.startswith(" ") else stripped
    return stripped


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _is_condition_name(name: str) -> bool:
    """A macro name that a spec condition can test (`defined` is the spec's own word)."""
    return (
        re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
        and _strip_config(name) != "defined"
    )


def _strip_config(name: str) -> str:
    return name[len("CONFIG_") :] if name.startswith("CONFIG_") else name


# ---- #if expressions ---------------------------------------------------------------


@record
class _Parsed:
    condition: cond.Cond | None
    understood: bool


_COND_TOKEN = re.compile(
    r"\s*(defined|IS_ENABLED|IS_BUILTIN|[A-Za-z_][A-Za-z0-9_]*|0[xX][0-9a-fA-F]+[uUlL]*|[0-9]+[uUlL]*|&&|\|\||==|!=|<=|>=|[()<>!])"
)


def _parse_condition(text: str) -> _Parsed:
    """An `#if` expression as a condition, or not understood (arithmetic, unknown macros)."""
    tokens = []
    pos = 0
    while pos < len(text):
        match = _COND_TOKEN.match(text, pos)
        if match is None:
            if not text[pos:].strip():
                break
            return _Parsed(None, False)
        tokens.append(match.group(1))
        pos = match.end()
    parser = _CondParser(tokens)
    try:
        result = parser.or_expr()
    except (_NotUnderstood, IndexError):
        return _Parsed(None, False)
    if parser.pos != len(tokens):
        return _Parsed(None, False)
    return _Parsed(result, True)


class _NotUnderstood(Exception):
    pass


class _CondParser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.pos]
        if expected is not None and token != expected:
            raise _NotUnderstood
        self.pos += 1
        return token

    def or_expr(self) -> cond.Cond:
        parts = [self.and_expr()]
        while self.peek() == "||":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else cond.Or(tuple(parts))

    def and_expr(self) -> cond.Cond:
        parts = [self.unary()]
        while self.peek() == "&&":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else cond.And(tuple(parts))

    def unary(self) -> cond.Cond:
        if self.peek() == "!":
            self.take()
            return cond.Not(self.unary())
        left = self.primary()
        op = self.peek()
        if op in cond.COMPARISONS:
            self.take()
            right = self.primary()
            if not isinstance(left, cond.Name | cond.Int) or not isinstance(
                right, cond.Name | cond.Int
            ):
                raise _NotUnderstood
            return cond.Compare(op, left, right)
        return left

    def primary(self) -> cond.Cond:
        token = self.take()
        if token == "(":
            inner = self.or_expr()
            self.take(")")
            return inner
        if token in ("defined", "IS_ENABLED", "IS_BUILTIN"):
            parens = self.peek() == "("
            if parens:
                self.take("(")
            name = self.take()
            if parens:
                self.take(")")
            if not _is_condition_name(name):
                raise _NotUnderstood
            return cond.Name(_strip_config(name))
        if token[0].isdigit():
            digits = token.rstrip("uUlL")
            octal = len(digits) > 1 and digits[0] == "0" and digits[1] not in "xX"
            try:
                return cond.Int(int(digits, 8) if octal else int(digits, 0))
            except ValueError:  # not a number after all, or thousands of digits long
                raise _NotUnderstood from None
        if _is_condition_name(token):
            if self.peek() == "(":
                raise _NotUnderstood  # a function-like macro pvgen cannot evaluate
            return cond.Name(_strip_config(token))
        raise _NotUnderstood
