"""`pvgen fmt`: rewrite spec files in the canonical layout.

Takes: spec files or folders (every `.pvspec` under them), `-` for stdin, or the folders of
`[tool.pvgen] specs`; `--check`, `--diff`.
Hands on: files rewritten in place and atomically (through a symlink to the file it names,
keeping its permissions); with --check or --diff nothing is written; exit 1 when --check
finds a file to reformat.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..config import Config
from ..diagnostics import SpecError
from ..source import display_name
from .base import (
    EXIT_BUG,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    error,
    report_spec_error,
)

NAME = "fmt"
HELP = "format spec files in the canonical layout"
DESCRIPTION = (
    "Rewrite .pvspec files in the canonical layout, in place and atomically; comments are"
    " kept and the declared ABI never changes. With no paths, format every .pvspec in the"
    " folders of [tool.pvgen] specs. '-' formats stdin to stdout."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="spec files or folders, or '-'")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file would change"
    )
    parser.add_argument("--diff", action="store_true", help="write nothing; print unified diffs")


def fmt_paths(paths: Sequence[str], config: Config) -> list[tuple[Path, Path]]:
    """The files to format, each with the folder its symbolic links may not lead out of:
    those named (their own folder), every .pvspec under named folders (that folder), or
    the project's."""
    if not paths:
        roots = [config.spec_root] if config.spec_root else sorted({p.parent for p in config.specs})
        if not roots:
            raise UsageError("no spec given: name files or folders, or set 'specs' in [tool.pvgen]")
        paths = [str(r) for r in roots]
    found: list[tuple[Path, Path]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend((spec, path) for spec in _specs_under(path))
        else:
            found.append((path, path.parent))
    return found


def _specs_under(folder: Path) -> list[Path]:
    """Every .pvspec below `folder`, without entering linked folders (a link to a file is
    listed: the reader checks where it leads)."""
    specs: list[Path] = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        specs.extend(Path(here, name) for name in files if name.endswith(".pvspec"))
    return sorted(specs)


def run(args: argparse.Namespace, config: Config) -> int:
    import difflib

    from ..diagnostics import error as error_at
    from ..files import MAX_FILE_BYTES
    from ..fmt import FormatterBug, format_source
    from ..gen.writer import WriteError, write_file
    from ..loader import decode_source, read_source

    if args.paths == ["-"]:
        # Read and decoded as a file is: at most 16 MiB, UTF-8 (else exit 2), a BOM dropped.
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        try:
            if len(data) > MAX_FILE_BYTES:
                raise SpecError(
                    [error_at(None, f"stdin is over pvgen's limit of {MAX_FILE_BYTES >> 20} MiB")],
                    unreadable=True,
                )
            sys.stdout.write(format_source(decode_source(data, "<stdin>")))
        except SpecError as exc:
            return report_spec_error(exc)
        return EXIT_OK
    status = EXIT_OK
    changed = unchanged = 0
    for path, root in fmt_paths(args.paths, config):
        try:
            source = read_source(path, path.parent, within=root)
            formatted = format_source(source)
        except SpecError as exc:
            status = max(status, report_spec_error(exc))
            continue
        except FormatterBug as exc:
            print(f"pvgen: internal error: {exc}; the file was left as it is", file=sys.stderr)
            status = max(status, EXIT_BUG)
            continue
        if formatted == source.text:
            unchanged += 1
            continue
        changed += 1
        shown = display_name(path)
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    source.text.splitlines(keepends=True),
                    formatted.splitlines(keepends=True),
                    f"{shown} (original)",
                    f"{shown} (formatted)",
                )
            )
        if args.check or args.diff:
            print(f"would reformat {shown}", file=sys.stderr)
            if args.check:
                status = max(status, EXIT_FINDINGS)
            continue
        # Write through a symlink to the file it names, keeping its permissions; never over
        # an edit made while pvgen formatted the file.
        real = Path(os.path.realpath(path))
        try:
            write_file(real, formatted, unchanged=functools.partial(_holds, real, source.text))
        except (OSError, WriteError) as exc:
            error(f"cannot write '{shown}': {exc.strerror if isinstance(exc, OSError) else exc}")
            status = max(status, EXIT_USAGE)
            continue
        print(f"reformatted {shown}", file=sys.stderr)
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    print(f"{changed} file(s) {verb}, {unchanged} unchanged", file=sys.stderr)
    return status


def _holds(path: Path, text: str) -> bool:
    """Whether `path` still holds `text` (what was read and formatted)."""
    from ..files import ReadProblem, read_bounded

    try:
        now = read_bounded(path, None).decode("utf-8")
    except (ReadProblem, UnicodeDecodeError):
        return False
    return now.removeprefix("\ufeff") == text
