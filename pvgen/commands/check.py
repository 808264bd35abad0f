"""`pvgen check`: compile specs, run the rules, print the findings.

Takes: root spec paths (or the configured `specs`), `--format`, `--werror`, `--no-rules`,
`--select`/`--ignore` (rule ID prefixes, on top of the config's `[rules]`), `--summary`.
Hands on: findings on stderr (text) or stdout (json, github, sarif), one summary line per
ABI (text: its tables, hooks, with each target's count where they differ, backends and
targets), or with --summary the count of findings per rule on stdout; exit 0 clean,
1 errors, 2 a spec could not be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..config import Config
from ..diagnostics import Diagnostic, Severity
from ..formats import FORMATS
from ..source import display_name
from .base import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, spec_paths

if TYPE_CHECKING:
    from ..api import SpecSummary

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
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="IDS",
        help="run only the rules whose IDs start with one of these (comma-separated: PV1,PV203)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="IDS",
        help="turn off the rules whose IDs start with one of these (comma-separated)",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="print how many findings each rule has instead of every finding (text format)",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import api

    if args.summary and args.format != "text":
        raise UsageError("--summary is a text report; the json format counts findings per rule")
    config = select_rules(
        config, _prefixes(args.select, "--select"), _prefixes(args.ignore, "--ignore")
    )
    report = api.check(spec_paths(args.paths, config), config, rules=not args.no_rules)
    summaries = [
        f"{display_name(s.path)}: abi '{s.summary.name}' version {s.summary.version}: "
        f"{s.summary.tables} tables, {hook_summary(s.summary)}, "
        f"{s.summary.backends} backends, {s.summary.targets} targets"
        for s in report.specs
    ]
    diagnostics = list(report.diagnostics)
    if args.werror:
        diagnostics = [
            replace(d, severity=Severity.ERROR) if d.severity is Severity.WARNING else d
            for d in diagnostics
        ]
    if args.summary:
        for line in summaries:
            print(line)
        sys.stdout.write(rule_counts(diagnostics))
    else:
        emit(args.format, diagnostics, summaries)
    if report.unreadable:
        return EXIT_USAGE
    return EXIT_FINDINGS if any(d.severity is Severity.ERROR for d in diagnostics) else EXIT_OK


def hook_summary(summary: SpecSummary) -> str:
    """`101 hooks (89 on i386, 96 on x86_64)`: the union of every target's hooks, then each
    target's own count where some target lacks some of them."""
    total = summary.hooks
    per_target = summary.hooks_per_target
    if all(count == total for count in per_target.values()):
        return f"{total} hooks"
    counts = ", ".join(f"{count} on {name}" for name, count in per_target.items())
    return f"{total} hooks ({counts})"


def emit(fmt: str, diagnostics: Sequence[Diagnostic], summaries: Sequence[str]) -> None:
    """Print findings in the chosen format; text also prints one summary line per ABI."""
    from .. import formats

    if fmt == "text":  # needs no rule names: kept findings are printed without the rules
        for line in summaries:
            print(line)
        sys.stderr.write(formats.render_text(diagnostics))
        return
    from ..rules import all_rules

    rules = all_rules()
    names = {r.id: r.name for r in rules.values()}
    if fmt == "json":
        sys.stdout.write(formats.render_json(diagnostics, names))
    elif fmt == "github":
        sys.stdout.write(formats.render_github(diagnostics, names))
    else:
        catalogue = [(r.id, r.name, r.purpose, r.severity) for r in rules.values()]
        sys.stdout.write(formats.render_sarif(diagnostics, catalogue))


def _prefixes(values: Sequence[str], option: str) -> list[str]:
    """The rule ID prefixes of a repeatable, comma-separated option; each must match a rule."""
    prefixes = [p.strip().upper() for value in values for p in value.split(",") if p.strip()]
    if not prefixes:
        return prefixes
    from ..rules import all_rules

    for prefix in prefixes:
        if not any(rule_id.startswith(prefix) for rule_id in all_rules()):
            raise UsageError(f"{option} {prefix}: no rule of 'pvgen check' has such an ID")
    return prefixes


def rule_counts(diagnostics: Sequence[Diagnostic]) -> str:
    """One line per rule that has findings: the count of each severity, the ID and the name;
    then the total. Nothing when there are no findings."""
    from .. import formats
    from ..rules.registry import COMPILER, every_rule

    names = {r.id: r.name for r in every_rule().values()}
    counts: dict[str, dict[Severity, int]] = {}
    for d in diagnostics:
        by_severity = counts.setdefault(d.code or COMPILER.id, {})
        by_severity[d.severity] = by_severity.get(d.severity, 0) + 1
    lines = []
    for code in sorted(counts):
        total = sum(counts[code].values())
        kinds = ", ".join(
            f"{n} {s}{'s' if n != 1 else ''}" for s, n in sorted(counts[code].items(), reverse=True)
        )
        lines.append(f"{total:6}  {code}  {names.get(code, '?'):<26}  {kinds}")
    if lines:
        lines.append(f"total: {formats.summary_line(diagnostics)}")
    return "".join(line + "\n" for line in lines)


def select_rules(config: Config, select: Sequence[str], ignore: Sequence[str]) -> Config:
    """`config` with the command line's rule selection applied on top of its [rules]: with
    `select`, only the rules whose ID starts with one of its prefixes stay on; every rule
    matching a prefix of `ignore` is off. A rule selected by name that [rules] turned off is
    on again, at its default severity."""
    if not select and not ignore:
        return config
    from ..rules import all_rules

    levels = dict(config.rules.levels)
    for rule_id, entry in all_rules().items():
        chosen = not select or any(rule_id.startswith(p) for p in select)
        if not chosen or any(rule_id.startswith(p) for p in ignore):
            levels[rule_id] = None
        elif select and levels.get(rule_id, entry.severity) is None:
            levels[rule_id] = entry.severity
    return replace(config, rules=replace(config.rules, levels=levels))
