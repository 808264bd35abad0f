"""Diagnostics: the one kind of message pvgen shows a user about their input.

Takes: what a stage found wrong, with the span it concerns.
Hands on: `Diagnostic` records (data, formatted only at the very end) and
`SpecError`, the exception a stage raises when it cannot go on; it carries
every diagnostic collected so far, so one run reports all problems it can.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import field

from .escape import terminal
from .records import record
from .source import Span, excerpt


class Severity(enum.IntEnum):
    NOTE = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


@record
class Related:
    """A second location that explains a diagnostic, such as an earlier declaration."""

    span: Span
    message: str


@record
class Diagnostic:
    severity: Severity
    message: str
    span: Span | None
    code: str | None = None
    hint: str | None = None
    related: tuple[Related, ...] = field(default=())

    @property
    def location(self) -> str:
        return self.span.location if self.span else "pvgen"

    def format_text(self) -> str:
        code = f"[{self.code}]" if self.code else ""
        lines = [f"{self.location}: {self.severity}{code}: {self.message}"]
        if self.span is not None:
            shown = excerpt(self.span)
            if shown:
                lines.append(shown)
        for rel in self.related:
            lines.append(f"{rel.span.location}: note: {rel.message}")
        if self.hint:
            lines.append(f"    hint: {self.hint}")
        # File names and spec text may hold control characters: none reaches a terminal.
        return terminal("\n".join(lines))


class SpecError(Exception):
    """Input that pvgen cannot turn into a model; carries all diagnostics found."""

    def __init__(self, diagnostics: Sequence[Diagnostic], *, unreadable: bool = False) -> None:
        super().__init__()
        self.diagnostics = tuple(diagnostics)
        # Unreadable input (missing file, bad encoding) exits 2, not 1.
        self.unreadable = unreadable

    def __str__(self) -> str:  # formatted only when asked for, and only the first few
        shown = "\n".join(d.format_text() for d in self.diagnostics[:20])
        more = len(self.diagnostics) - 20
        return shown + (f"\n({more} more)" if more > 0 else "")


def error(span: Span | None, message: str, **extra: object) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, span, **extra)  # type: ignore[arg-type]


class Collector:
    """Collects errors of one stage so that it can report them all at once."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(
        self,
        span: Span | None,
        message: str,
        *,
        hint: str | None = None,
        related: Iterable[Related] = (),
    ) -> None:
        self.diagnostics.append(
            Diagnostic(Severity.ERROR, message, span, hint=hint, related=tuple(related))
        )

    def raise_if_any(self) -> None:
        if self.diagnostics:
            ordered = sorted(self.diagnostics, key=_sort_key)
            raise SpecError(ordered)


def _sort_key(d: Diagnostic) -> tuple[str, int, int]:
    if d.span is None:
        return ("", 0, 0)
    return (d.span.file.display, d.span.line, d.span.column)


def did_you_mean(word: str, choices: Iterable[str], *, prefix: str = "") -> str:
    """ "; did you mean 'x'?", or "; expected one of 'a', 'b'" when there are few choices."""
    options = sorted(set(choices))
    import difflib  # only when a name is unknown: not on every run's start

    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{prefix}{close[0]}'?"
    if 0 < len(options) <= 8:
        listed = ", ".join(f"'{prefix}{o}'" for o in options)
        return f"; expected one of {listed}"
    return ""


def with_article(noun: str) -> str:
    """`noun` with its indefinite article: 'an enum', 'a struct'."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
