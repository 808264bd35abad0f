"""Source files and positions in them.

Takes: the bytes of a spec file and the name to show for it.
Hands on: `SourceFile` (decoded text plus a line index) and `Span`, the
file:line:column range that every syntax node, model element and diagnostic
carries, and `excerpt()`, the source line with a caret under the span (control
characters escaped).
"""

from __future__ import annotations

import bisect
import os
from dataclasses import field
from pathlib import Path

from .escape import terminal
from .records import record


@record(eq=False)
class SourceFile:
    """One spec file as read from disk.

    `display` is the name printed in diagnostics (relative to the working
    directory when possible); `relative` is the name relative to the spec root,
    used in dumps so that they do not depend on where the checkout lives.
    """

    display: str
    relative: str
    text: str
    line_starts: tuple[int, ...] = field(repr=False, default=())

    @classmethod
    def from_text(cls, display: str, text: str, relative: str | None = None) -> SourceFile:
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        return cls(display, relative or display, text, tuple(starts))

    def line_text(self, line: int) -> str:
        """The text of 1-based line `line`, without its line ending."""
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1


class Span:
    """A range in a source file; lines and columns are 1-based, columns count characters.

    Immutable, compared and hashed by its place (not its file), as a frozen dataclass
    would be, but written by hand: every token and node has a span, about ten per hook, so
    it has slots (a third of the memory), sets them through the slots' own setters in one
    call (a frozen class's five `object.__setattr__` calls were a tenth of the time of
    parsing a large spec), and pickles as its five values (a third smaller cache entries).
    """

    __slots__ = ("file", "line", "column", "end_line", "end_column")
    file: SourceFile
    line: int
    column: int
    end_line: int
    end_column: int

    def __init__(
        self, file: SourceFile, line: int, column: int, end_line: int, end_column: int
    ) -> None:
        set_file, set_line, set_column, set_end_line, set_end_column = _SPAN_SETTERS
        set_file(self, file)
        set_line(self, line)
        set_column(self, column)
        set_end_line(self, end_line)
        set_end_column(self, end_column)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Span is immutable; cannot set '{name}'")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Span is immutable; cannot delete '{name}'")

    def _key(self) -> tuple[int, int, int, int]:
        return (self.line, self.column, self.end_line, self.end_column)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Span:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Span(line={self.line}, column={self.column},"
            f" end_line={self.end_line}, end_column={self.end_column})"
        )

    def __reduce__(self) -> tuple[type[Span], tuple[SourceFile, int, int, int, int]]:
        return Span, (self.file, self.line, self.column, self.end_line, self.end_column)

    @property
    def location(self) -> str:
        return f"{self.file.display}:{self.line}:{self.column}"

    @property
    def relative_location(self) -> str:
        return f"{self.file.relative}:{self.line}:{self.column}"

    @classmethod
    def point(cls, file: SourceFile, line: int = 1, column: int = 1) -> Span:
        return cls(file, line, column, line, column + 1)


_SPAN_SETTERS = tuple(Span.__dict__[name].__set__ for name in Span.__slots__)


# How much of a long line an excerpt shows: the span (up to EXCERPT_WIDTH characters) and
# EXCERPT_CONTEXT characters either side.
EXCERPT_WIDTH = 120
EXCERPT_CONTEXT = 60


def excerpt(span: Span) -> str:
    """The span's first line with a caret line under it, indented for reading."""
    text = span.file.line_text(span.line)
    if not text and span.line > len(span.file.line_starts):
        return ""
    # A long line is cut to a window around the span, so that thousands of diagnostics on
    # one huge line cost no more than their count.
    start = span.column - 1
    end = span.end_column - 1 if span.end_line == span.line else len(text)
    end = min(max(end, start), start + EXCERPT_WIDTH)
    left = max(0, start - EXCERPT_CONTEXT)
    right = min(len(text), end + EXCERPT_CONTEXT)
    # Control characters are shown escaped, so the caret is placed on the escaped text.
    before = ("..." if left else "") + terminal(text[left:start])
    marked = terminal(text[start:end])
    shown = before + marked + terminal(text[end:right]) + ("..." if right < len(text) else "")
    # Tabs keep their width in the caret line so the caret stays under the text.
    prefix = "".join(c if c == "\t" else " " for c in before)
    return f"    {shown}\n    {prefix}{'^' * max(1, len(marked))}"


def display_name(path: Path) -> str:
    """A path as users should see it: relative to the working directory if inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative
