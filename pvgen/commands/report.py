"""`pvgen report`: one self-contained HTML page picturing an ABI.

Takes: one root spec (or the one of `[tool.pvgen] specs`), `-o FILE`, `--sim FILE` (the
output of `pvgen sim --compare --format json`), `--no-history`.
Hands on: the page written atomically to FILE (default `<abi>-report.html` in the working
folder): the backend-by-hook matrix per target, each target's table layouts, the release
timeline of the frozen versions beside the spec (each step diffed as `pvgen diff` does),
and the simulated cycles. Exit status 0, 1 for errors in the spec, 2 for bad usage, an
input that cannot be read or an output that cannot be written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..config import Config
from ..diagnostics import SpecError
from ..escape import path_problem
from .base import EXIT_OK, EXIT_USAGE, UsageError, error, report_spec_error, spec_paths

NAME = "report"
HELP = "write an HTML page picturing an ABI: backends, layouts, releases"
DESCRIPTION = (
    "Write one self-contained HTML page (no network; inline style, script and SVG) about an"
    " ABI: for every hook and backend whether the backend overrides it, falls back to the"
    " default, leaves it NULL or must patch it, per target, sortable and filterable; each"
    " target's table layouts with offsets, sizes and patch IDs; the hook count per table of"
    " every frozen release with the changes of each step by class; and, with --sim, the"
    " cycles of 'pvgen sim --compare --format json' per backend and workload."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", metavar="SPEC", help="the root spec")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write the page (default: <abi>-report.html in the working folder)",
    )
    parser.add_argument(
        "--sim",
        metavar="FILE",
        help="add the cycles of 'pvgen sim --compare --format json' saved in FILE",
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="leave out the release timeline (the frozen versions beside the spec)",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import api
    from ..abi.accept import AcceptError
    from ..abi.freeze import abi_folder
    from ..abi.frozen import frozen_versions
    from ..abi.sides import SideError, load_dump_file
    from ..files import ReadProblem, read_bounded
    from ..gen.writer import WriteError, write_file
    from ..report import ReportError, build_page, release, sim_table, steps

    paths = spec_paths([args.spec] if args.spec else [], config)
    if len(paths) != 1:
        raise UsageError("name the one spec to report on: pvgen report SPEC")
    spec = paths[0]
    for name in (str(spec), args.output or "", args.sim or ""):
        problem = path_problem(name)
        if problem is not None:
            raise UsageError(problem)
    sim = None
    if args.sim:
        try:
            document = json.loads(read_bounded(Path(args.sim), None).decode("utf-8"))
            sim = sim_table(document)
        except ReadProblem as exc:
            error(str(exc))
            return EXIT_USAGE
        except (UnicodeDecodeError, ValueError) as exc:
            error(f"cannot read '{args.sim}': {exc}")
            return EXIT_USAGE
        except ReportError as exc:
            error(f"'{args.sim}': {exc}")
            return EXIT_USAGE
    try:
        abi = api.load_abi(spec, config)
    except SpecError as exc:
        return report_spec_error(exc)
    releases, changes = [], []
    if not args.no_history:
        versions = list(frozen_versions(abi_folder(abi, spec, config.abi_dir)).values())
        try:
            for path in versions:
                releases.append(release(load_dump_file(path)))
            for old, new in zip(versions, versions[1:], strict=False):
                changes.append(api.diff(str(old), str(new), config).changes)
        except (SideError, AcceptError, ReportError) as exc:
            error(str(exc))
            return EXIT_USAGE
        except SpecError as exc:
            return report_spec_error(exc)
    page = build_page(abi, releases, steps(releases, changes), sim)
    output = Path(args.output or f"{abi.name}-report.html")
    if output.is_symlink() or (output.exists() and not output.is_file()):
        error(f"refusing to write '{output}': it is not a regular file")
        return EXIT_USAGE
    try:
        write_file(Path(os.path.abspath(output)), page)
    except (OSError, WriteError) as exc:
        error(f"cannot write '{output}': {exc}")
        return EXIT_USAGE
    print(
        f"wrote {output}: {len(abi.hook_slots)} hooks, {len(abi.backends)} backends,"
        f" {len(abi.facts)} targets, {len(releases)} releases",
        file=sys.stderr,
    )
    return EXIT_OK
