"""`pvgen doc`: the reference documentation of an ABI, from its `///` doc comments.

Takes: one root spec (or the only one of `[tool.pvgen] specs`), `--format`, `-o FILE`,
`--check`.
Hands on: the page (Markdown, or one self-contained HTML page) on stdout or written
atomically to FILE; with `--check`, exit 1 when FILE does not hold the page (nothing written).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..config import Config
from ..diagnostics import SpecError
from ..escape import path_problem
from ..source import display_name
from .base import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    error,
    report_spec_error,
    spec_paths,
)

NAME = "doc"
HELP = "write the ABI's reference documentation"
DESCRIPTION = (
    "Write the reference documentation of one spec's ABI from its /// doc comments: every"
    " table, hook, data member and sub-table with its C-like signature, doc, since-version,"
    " deprecation and replacement, @if condition, the targets it is present on, the backends"
    " that implement it, take it from the default backend, leave it NULL or must patch it,"
    " and its patch IDs; every backend and type. Markdown by default, or one self-contained"
    " HTML page (no script, no external resource)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", metavar="SPEC", help="root .pvspec file")
    parser.add_argument(
        "--format",
        choices=["markdown", "html"],
        default="markdown",
        help="markdown (default), or html: one page that needs no other file",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the page here (atomically; an unchanged file is left as it is) instead"
        " of to stdout",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="with --output: write nothing, exit 1 if FILE does not hold the current page",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import api

    paths = spec_paths([args.path] if args.path else [], config)
    if len(paths) != 1:
        raise UsageError("doc takes one spec; name it on the command line")
    if args.check and not args.output:
        raise UsageError("--check compares with a file: give it with --output")
    if args.output is not None:
        problem = path_problem(args.output)
        if problem is not None:
            raise UsageError(problem)
    try:
        abi = api.load_abi(paths[0], config)
    except SpecError as exc:
        return report_spec_error(exc)
    page = api.document(abi, args.format)
    if args.output is None:
        sys.stdout.write(page)
        return EXIT_OK
    return _write(Path(args.output), page, check=args.check)


def _write(output: Path, page: str, *, check: bool) -> int:
    from ..files import ReadProblem, read_bounded
    from ..gen.writer import WriteError, write_file

    shown = display_name(output)
    try:
        current = read_bounded(output, None, shown=shown).decode("utf-8")
    except (ReadProblem, UnicodeDecodeError):
        current = None  # missing or unreadable: it is not the page
    if check:
        if current == page:
            return EXIT_OK
        print(f"{shown} is not current: run pvgen doc again to rewrite it", file=sys.stderr)
        return EXIT_FINDINGS
    if current == page:
        return EXIT_OK
    try:
        write_file(Path(os.path.realpath(output)), page)
    except (OSError, WriteError) as exc:
        error(f"cannot write '{shown}': {exc}")
        return EXIT_USAGE
    print(f"wrote {shown}", file=sys.stderr)
    return EXIT_OK
