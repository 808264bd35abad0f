"""What every command shares: exit statuses, usage errors, the specs to work on.

Takes: a command's arguments and the `Config`.
Hands on: the exit status constants, `UsageError` (exit 2 with its message), the root
specs a command works on, and the printing of a spec's errors.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..config import Config
from ..diagnostics import SpecError
from ..escape import terminal

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class UsageError(Exception):
    """Bad usage: the command line or the configuration asks for something impossible."""


def spec_paths(paths: Sequence[str], config: Config) -> list[Path]:
    """The root specs named on the command line, else those of `[tool.pvgen] specs`."""
    if paths:
        return [Path(p) for p in paths]
    if config.specs:
        return list(config.specs)
    where = f" in {config.path}" if config.path else ""
    raise UsageError(
        f"no spec given: name spec files, or list them as 'specs' in [tool.pvgen]{where}"
    )


def report_spec_error(exc: SpecError) -> int:
    """Print a spec's errors; returns the exit status they call for."""
    print_errors(exc)
    return EXIT_USAGE if exc.unreadable else EXIT_FINDINGS


def print_errors(exc: SpecError) -> None:
    from ..formats import render_text

    sys.stderr.write(render_text(exc.diagnostics))


def error(message: str) -> None:
    """A one-line error of pvgen itself (not of a spec) on stderr."""
    print(f"pvgen: error: {terminal(message)}", file=sys.stderr)
