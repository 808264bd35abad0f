"""The safeguards: one registry of rules, run over a model, findings out.

Takes: a `model.Abi`, `RuleSettings` and file-level allows from the config.
Hands on: `Diagnostic`s with rule IDs, severities and hints, in a stable
order, after `@allow` and `[[tool.pvgen.allow]]` have accepted what they
name, at the severity the config's `[rules]` gives each rule (or none: a
rule turned off is still run, so that the allows it uses are not reported
as unused, but its findings are dropped). Rules live one family per module; each registers itself with `@rule`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import model as m
from ..config import FileAllow, RuleSettings
from ..diagnostics import Diagnostic, Severity
from . import backends, budget, calls, memory, style, suppress, versions  # noqa: F401 (registers)
from .context import Context
from .registry import Finding, Rule, all_rules

__all__ = ["Rule", "all_rules", "run_rules"]


def run_rules(
    abi: m.Abi,
    settings: RuleSettings | None = None,
    file_allows: Sequence[FileAllow] = (),
    used_file_allows: set[int] | None = None,
    frozen: Path | None = None,
) -> list[Diagnostic]:
    """Findings of every rule on `abi`; ids of file allows that accepted one go to `used_file_allows`."""
    ctx = Context(abi, settings or RuleSettings(), frozen)
    rules = all_rules()
    ordered = [r for r in rules.values() if r.id not in suppress.META_RULES]
    ordered += [rules[rule_id] for rule_id in suppress.META_RULES]
    out: list[Diagnostic] = []
    for rule in ordered:
        for finding in rule.check(ctx):
            allow = suppress.accepting_allow(finding, rule.id, abi, file_allows)
            if allow is not None:
                ctx.used_allows.add(id(allow))
                if used_file_allows is not None and isinstance(allow, FileAllow):
                    used_file_allows.add(id(allow))
                continue
            level = ctx.settings.level(rule.id, rule.severity)
            if level is not None:  # None: turned off in [rules] or by --ignore
                out.append(_diagnostic(rule, finding, level))
    return out


def _diagnostic(rule: Rule, finding: Finding, severity: Severity) -> Diagnostic:
    return Diagnostic(
        severity,
        finding.message,
        finding.span,
        code=rule.id,
        hint=finding.hint,
        related=finding.related,
    )
