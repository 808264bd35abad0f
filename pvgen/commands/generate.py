"""`pvgen generate`: write (or, with --check, compare) the outputs of each spec.

Takes: root spec paths, `--out`, `--check`, `--diff`, `--force`, `--macro-prefix`, and the
generator plugins to run (`--plugin NAME` and the configured `plugins`).
Hands on: `OUT/<abi>/` brought up to date, one summary line per ABI; with --check or --diff,
nothing written (--diff prints what would change, as black and `pvgen fmt` do), and with
--check exit 1 when an output is stale, missing or extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..diagnostics import SpecError
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

if TYPE_CHECKING:
    from ..gen.writer import WriteReport

NAME = "generate"
HELP = "write the C and Python bindings and the ABI dump"
DESCRIPTION = (
    "Generate C headers, Python dispatch tables and stubs, and abi.json for each spec into"
    " OUT/<abi>/. Only changed files are written, each atomically; only files that"
    " OUT/<abi>/pvgen.manifest lists as pvgen wrote them are replaced or removed."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="SPEC", help="root .pvspec files")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: [tool.pvgen] out)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any output is out of date"
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="write nothing; print unified diffs of what would change (exit 1 only with --check)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite files in the way that pvgen did not write"
    )
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="also run the generator plugin pvgen-gen-NAME (repeatable; added to the"
        " configured 'plugins'); its files go to OUT/<abi>/NAME/",
    )
    parser.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="processes that render at once: 2 renders abi.json in a second process while"
        " the C and Python files are made (default: 2 where this process may use two CPUs,"
        " else 1); the files are the same either way",
    )
    parser.add_argument(
        "--macro-prefix",
        default="CONFIG_",
        metavar="PREFIX",
        help="prefix of the C macros that @if conditions test (default: CONFIG_)",
    )


# From how many hooks on an ABI's files are streamed rather than made in memory (about 330 KB
# of generated text per 100 hooks).
STREAM_ABOVE_HOOKS = 2_000


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import api
    from ..gen.common import PluginError, macro_prefix_problem
    from ..gen.parallel import usable_cpus
    from ..gen.writer import WriteError, WriteReport

    problem = macro_prefix_problem(args.macro_prefix)
    if problem is not None:
        raise UsageError(f"--macro-prefix: {problem}")
    base = Path(args.out) if args.out else config.out
    options = api.GenOptions(macro_prefix=args.macro_prefix)
    status = EXIT_OK
    plugins = [*config.plugins, *args.plugin]
    workers = args.jobs if args.jobs is not None else min(2, usable_cpus())
    for path in spec_paths(args.paths, config):
        # Nothing to render when the folder holds what the last run wrote from these very
        # files (plugins are programs of their own: their outputs are always asked for).
        done = None if plugins or args.diff else api.current_outputs(path, base, options, config)
        if done is not None:
            name, kept = done
            status = max(
                status, _report(display_name(base / name), WriteReport(unchanged=kept), args)
            )
            continue
        try:
            abi = api.load_abi(path, config)
            # A large ABI's files are streamed into the folder, never whole in memory; a
            # small one's are made in memory and kept from the second rendering of the same
            # files on, so that generating it into another folder renders nothing.
            streamed = api.count_hooks(abi) > STREAM_ABOVE_HOOKS
            files: list[api.OutputFile | api.StreamedFile] = [
                *(
                    api.render_streamed(abi, options)
                    if streamed
                    else api.render(abi, options, spec=path, config=config, workers=workers)
                ),
                *api.plugin_outputs(abi, plugins),
            ]
        except SpecError as exc:
            status = max(status, report_spec_error(exc))
            continue
        except PluginError as exc:
            print(f"{display_name(path)}: error: {exc}", file=sys.stderr)
            status = max(status, EXIT_USAGE if exc.missing else EXIT_FINDINGS)
            continue
        try:
            if args.check or args.diff:
                report = api.check_outputs(abi, files, base, diff=args.diff, workers=workers)
            else:
                report = api.write_outputs(abi, files, base, force=args.force, workers=workers)
                if streamed and not plugins:
                    api.remember_outputs(abi, path, report.manifest, options, config)
        except WriteError as exc:
            error(str(exc))
            status = max(status, EXIT_USAGE)
            continue
        status = max(status, _report(display_name(base / abi.name), report, args))
    return status


def _report(shown: str, report: WriteReport, args: argparse.Namespace) -> int:
    """Print what a run did to (or, with --check or --diff, found in) the folder `shown`;
    returns the exit status it calls for."""
    if not (args.check or args.diff):
        print(
            f"{shown}: {len(report.written)} written, {len(report.unchanged)} unchanged,"
            f" {len(report.removed)} removed"
        )
        return EXIT_OK
    for diff in report.diffs:
        sys.stdout.write(diff)
    for kind in ("stale", "missing", "extra"):
        for name in getattr(report, kind):
            print(f"{shown}/{name}: {kind}", file=sys.stderr)
    if report.clean:
        print(f"{shown}: up to date ({len(report.unchanged)} files)")
        return EXIT_OK
    print(f"{shown}: out of date; run 'pvgen generate'", file=sys.stderr)
    return EXIT_FINDINGS if args.check else EXIT_OK


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of processes, 1 or more: {text!r}"
        )
    return jobs
