"""`pvgen import`: a first spec from a C header that declares hook tables.

Takes: a C header (or `-` for stdin), then any further headers with the kernel's call
wrappers (read for callee-save thunks' signatures), `--struct` patterns, `--abi`,
`-o`/`--force`.
Hands on: the spec on stdout or written atomically to a new file (an existing one only with
--force), and a note on stderr, with its header line, for whatever could not be carried over.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from ..config import Config
from ..escape import path_problem
from ..files import ReadProblem, read_bounded
from ..source import display_name
from .base import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, error

NAME = "import"
HELP = "write a first spec from a C header of hook tables"
DESCRIPTION = (
    "Read a C header that declares hook tables as structs of function pointers and print a"
    " spec for them on stdout: hooks with their C signatures, #ifdef as @if, comments as docs,"
    " fastcall as @callconv. What cannot be carried over is a TODO comment in the spec and a"
    " note on stderr with its header line. Further headers are read for the kernel's call"
    " wrappers (PVOP_CALLEE1(ret, op, arg) and the like), which give the signatures of"
    " callee-save thunks; a thunk whose signature is not found keeps its slot with a"
    " placeholder signature marked TODO."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "headers",
        nargs="+",
        metavar="HEADER",
        help="the C header with the tables, or '-' for stdin; then any headers with the"
        " kernel's call wrappers, such as paravirt.h after paravirt_types.h",
    )
    parser.add_argument(
        "--struct",
        action="append",
        metavar="PATTERN",
        help="import the structs whose names match this glob (repeatable; default: every"
        " struct with a function-pointer member)",
    )
    parser.add_argument("--abi", metavar="NAME", help="the ABI's name (default: the file's)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="SPEC",
        help="write the spec here (atomically) instead of to stdout; an existing file is kept",
    )
    parser.add_argument("--force", action="store_true", help="with --output, replace a file")


def run(args: argparse.Namespace, config: Config) -> int:
    from ..cimport import HeaderError, import_header

    if args.abi is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.abi):
        raise UsageError(f"--abi '{args.abi}' is not a name (letters, digits, '_')")
    output = Path(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        # A spec the user may have started editing is never replaced without being asked.
        raise UsageError(f"'{display_name(output)}' exists; pass --force to replace it")
    if args.headers.count("-") > 1:
        raise UsageError("'-' (stdin) can be given once")
    for name in (*args.headers, args.output or ""):
        problem = path_problem(name)
        if problem is not None:
            raise UsageError(problem)
    read: list[tuple[bytes, str]] = []
    for header in args.headers:
        path = Path(header)
        shown = display_name(path)
        try:
            data = (
                sys.stdin.buffer.read() if header == "-" else read_bounded(path, None, shown=shown)
            )
        except ReadProblem as exc:
            error(str(exc))
            return EXIT_USAGE
        read.append((data, shown))
    (data, shown), wrappers = read[0], read[1:]
    try:
        imported = import_header(data, shown, tuple(args.struct or ()), args.abi, wrappers)
    except HeaderError as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_FINDINGS
    for line, note in imported.notes:
        where = f"{shown}:{line}" if line else shown
        print(f"{where}: note: {note}", file=sys.stderr)
    if output is None:
        sys.stdout.write(imported.text)
        return EXIT_OK
    from ..gen.writer import WriteError, write_file

    try:
        write_file(Path(os.path.realpath(output)), imported.text)
    except (OSError, WriteError) as exc:
        error(f"cannot write '{display_name(output)}': {exc}")
        return EXIT_USAGE
    print(f"wrote {display_name(output)}", file=sys.stderr)
    return EXIT_OK
