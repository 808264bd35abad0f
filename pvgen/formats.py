"""Formats: diagnostics rendered for people, tools and CI, at the very end of a run.

Takes: `Diagnostic` records (compiler errors and rule findings alike) and the
spec rules' names and descriptions, from the rule registry.
Hands on: text (file:line:col, source line, caret), JSON, GitHub Actions
workflow commands, and SARIF 2.1.0 for code-scanning upload. A diagnostic
from the compiler itself (no rule) is reported under the ID of the registry's
compiler category, `PV000`, which `pvgen rules PV000` explains.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import __version__
from .diagnostics import Diagnostic, Severity
from .escape import terminal

if TYPE_CHECKING:
    from .rules.registry import CompilerRule

FORMATS = ("text", "json", "github", "sarif")


def _compiler() -> CompilerRule:
    """The registry's entry for errors without a rule. Imported here, not at the top: every
    command imports this module for FORMATS, and only those that print findings need rules."""
    from .rules.registry import COMPILER

    return COMPILER


def _code(d: Diagnostic) -> str:
    return d.code or _compiler().id


def summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    counts = {s: 0 for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE)}
    for d in diagnostics:
        counts[d.severity] += 1
    parts = [f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
    return ", ".join(parts)


# At most this many diagnostics of one file are shown as text; the rest are counted.
TEXT_LIMIT_PER_FILE = 100


def render_text(diagnostics: Sequence[Diagnostic]) -> str:
    if not diagnostics:
        return ""
    shown: list[str] = []
    per_file: dict[str, int] = {}
    for d in diagnostics:
        file = d.span.file.display if d.span is not None else ""
        per_file[file] = per_file.get(file, 0) + 1
        if per_file[file] <= TEXT_LIMIT_PER_FILE:
            shown.append(d.format_text())
    for file, count in per_file.items():
        if count > TEXT_LIMIT_PER_FILE:
            where = terminal(file) if file else "pvgen"
            shown.append(
                f"{where}: note: {count - TEXT_LIMIT_PER_FILE} more diagnostics of this file"
                f" not shown (the first {TEXT_LIMIT_PER_FILE} are; --format json lists all)"
            )
    body = "\n".join(shown)
    return f"{body}\n{summary_line(diagnostics)}\n"


def _position(d: Diagnostic) -> dict[str, Any]:
    if d.span is None:
        return {"file": None, "line": None, "column": None, "end_line": None, "end_column": None}
    s = d.span
    return {
        "file": s.file.display,
        "line": s.line,
        "column": s.column,
        "end_line": s.end_line,
        "end_column": s.end_column,
    }


def render_json(diagnostics: Sequence[Diagnostic], names: Mapping[str, str]) -> str:
    findings = [
        {
            "rule": _code(d),
            "name": names.get(_code(d), _compiler().name),
            "severity": str(d.severity),
            **_position(d),
            "message": d.message,
            "hint": d.hint,
            "related": [
                {
                    "file": r.span.file.display,
                    "line": r.span.line,
                    "column": r.span.column,
                    "message": r.message,
                }
                for r in d.related
            ],
        }
        for d in diagnostics
    ]
    counts = {str(s): sum(1 for d in diagnostics if d.severity is s) for s in Severity}
    from .schemas import CHECK_FORMAT

    document = {
        "format": CHECK_FORMAT,
        "pvgen": __version__,
        "findings": findings,
        "summary": counts,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


GITHUB_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def render_github(diagnostics: Sequence[Diagnostic], names: Mapping[str, str]) -> str:
    lines = []
    for d in diagnostics:
        props = []
        if d.span is not None:
            s = d.span
            props += [
                f"file={escape_property(s.file.display)}",
                f"line={s.line}",
                f"col={s.column}",
                f"endLine={s.end_line}",
                f"endColumn={s.end_column}",
            ]
        code = _code(d)
        props.append(f"title={escape_property(code + ' ' + names.get(code, _compiler().name))}")
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        lines.append(f"::{GITHUB_LEVELS[d.severity]} {','.join(props)}::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)


SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _sarif_location(d: Diagnostic) -> list[dict[str, Any]]:
    if d.span is None:
        return []
    s = d.span
    return [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": s.file.display.replace("\\", "/")},
                "region": {
                    "startLine": s.line,
                    "startColumn": s.column,
                    "endLine": s.end_line,
                    "endColumn": (
                        max(s.end_column, s.column + 1) if s.end_line == s.line else s.end_column
                    ),
                },
            }
        }
    ]


def render_sarif(
    diagnostics: Sequence[Diagnostic], rules: Sequence[tuple[str, str, str, Severity]]
) -> str:
    """`rules` are (id, name, purpose, default severity) of the spec rules; the catalogue puts
    the registry's compiler entries (PV000) before them."""
    from .rules.registry import Category, rules_of

    compiler = [(r.id, r.name, r.purpose, r.severity) for r in rules_of(Category.COMPILER)]
    catalogue = [*compiler, *rules]
    index = {rule_id: i for i, (rule_id, *_rest) in enumerate(catalogue)}
    driver_rules = [sarif_rule(*entry) for entry in catalogue]
    results = []
    for d in diagnostics:
        code = _code(d)
        text = d.message + (f" (hint: {d.hint})" if d.hint else "")
        result: dict[str, Any] = {
            "ruleId": code,
            "ruleIndex": index.get(code, 0),
            "level": SARIF_LEVELS[d.severity],
            "message": {"text": text},
            "locations": _sarif_location(d),
        }
        related = [
            {
                "id": i,
                "message": {"text": r.message},
                "physicalLocation": {
                    "artifactLocation": {"uri": r.span.file.display.replace("\\", "/")},
                    "region": {"startLine": r.span.line, "startColumn": r.span.column},
                },
            }
            for i, r in enumerate(d.related)
        ]
        if related:
            result["relatedLocations"] = related
        results.append(result)
    return sarif_document(driver_rules, results)


def sarif_rule(rule_id: str, name: str, purpose: str, severity: Severity) -> dict[str, Any]:
    """One entry of a SARIF run's rule catalogue, pointing at `pvgen rules ID`."""
    return {
        "id": rule_id,
        "name": name,
        "shortDescription": {"text": purpose},
        "defaultConfiguration": {"level": SARIF_LEVELS[severity]},
        "help": {"text": f"pvgen rules {rule_id}"},
    }


def sarif_document(
    rules: Sequence[dict[str, Any]], results: Sequence[dict[str, Any]], *, title: str | None = None
) -> str:
    """A SARIF 2.1.0 log of one pvgen run: the rule catalogue and the results (of `check`, or
    of `diff`, which names the two versions in `title`)."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "pvgen",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": list(rules),
            }
        },
    }
    if title is not None:
        run["automationDetails"] = {"description": {"text": title}}
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = list(results)
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
