"""`pvgen check`: compile specs, run the rules, print the findings.

Takes: root spec paths (or `[tool.pvgen] specs`), `--format`, `--werror`, `--no-rules`.
Hands on: findings on stderr (text) or stdout (json, github, sarif), one summary line per
ABI (text: its tables, hooks, with each target's count where they differ, backends and
targets); exit 0 clean, 1 errors, 2 a spec could not be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace

from ..config import Config
from ..diagnostics import Diagnostic, Severity
from ..formats import FORMATS
from ..model import Abi
from ..source import display_name
from .base import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, spec_paths

NAME = "check"
HELP = "parse and validate specs"
DESCRIPTION = (
    "Parse and validate specs and run every rule; with no paths, check the 'specs' of"
    " [tool.pvgen]."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="SPEC", help="root .pvspec files")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="how to print findings (default: text)"
    )
    parser.add_argument("--werror", action="store_true", help="count warnings as errors")
    parser.add_argument(
        "--no-rules", action="store_true", help="parse and resolve only; skip the safeguard rules"
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import api

    report = api.check(spec_paths(args.paths, config), config, rules=not args.no_rules)
    summaries = [
        f"{display_name(s.path)}: abi '{s.abi.name}' version {s.abi.version}: "
        f"{len(s.abi.tables)} tables, {hook_summary(s.abi)}, "
        f"{len(s.abi.backends)} backends, {len(s.abi.targets)} targets"
        for s in report.specs
    ]
    diagnostics = list(report.diagnostics)
    if args.werror:
        diagnostics = [
            replace(d, severity=Severity.ERROR) if d.severity is Severity.WARNING else d
            for d in diagnostics
        ]
    emit(args.format, diagnostics, summaries)
    if report.unreadable:
        return EXIT_USAGE
    return EXIT_FINDINGS if any(d.severity is Severity.ERROR for d in diagnostics) else EXIT_OK


def hook_summary(abi: Abi) -> str:
    """`101 hooks (89 on i386, 96 on x86_64)`: the union of every target's hooks, then each
    target's own count where some target lacks some of them."""
    from .. import api

    total = api.count_hooks(abi)
    per_target = api.count_hooks_per_target(abi)
    if all(count == total for count in per_target.values()):
        return f"{total} hooks"
    counts = ", ".join(f"{count} on {name}" for name, count in per_target.items())
    return f"{total} hooks ({counts})"


def emit(fmt: str, diagnostics: Sequence[Diagnostic], summaries: Sequence[str]) -> None:
    """Print findings in the chosen format; text also prints one summary line per ABI."""
    from .. import formats
    from ..rules import all_rules

    rules = all_rules()
    names = {r.id: r.name for r in rules.values()}
    if fmt == "text":
        for line in summaries:
            print(line)
        sys.stderr.write(formats.render_text(diagnostics))
    elif fmt == "json":
        sys.stdout.write(formats.render_json(diagnostics, names))
    elif fmt == "github":
        sys.stdout.write(formats.render_github(diagnostics, names))
    else:
        catalogue = [(r.id, r.name, r.purpose, r.severity) for r in rules.values()]
        sys.stdout.write(formats.render_sarif(diagnostics, catalogue))
