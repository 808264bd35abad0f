"""Diff reports: changes rendered as text, JSON, Markdown, GitHub workflow commands or SARIF.

Takes: the changes of a diff, the unmatched acceptances, and both versions.
Hands on: the text of the report, and the exit status bitmask (as abidiff's):
4 when the ABI changed, 8 when a change is breaking and not accepted (never
for a `stability internal` ABI, which reports but does not gate); `--fail-on
breaking` keeps it 0 unless 8 is set, `--fail-on never` keeps it 0. Every
rendering shows where a change's item is declared: in the new version, or
in the old one for an item that is gone (said so, since its line numbers are
those of the old spec). Paths are relative to the spec root, as in dumps.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..formats import GITHUB_LEVELS, escape_data, escape_property
from .accept import Acceptance
from .changes import Change, ChangeClass, Location
from .diff import iter_classes

EXIT_CHANGED = 4
EXIT_BREAKING = 8
FORMATS = ("text", "json", "markdown", "github", "sarif")


FAIL_ON = ("changed", "breaking", "never")


def exit_bits(changes: Sequence[Change], stable: bool, fail_on: str = "changed") -> int:
    """The bitmask, as far as `fail_on` lets it fail: on any change (the default, 4 and 8
    as found), on a breaking change not accepted only (then 4 | 8, else 0), or never (0)."""
    bits = EXIT_CHANGED if changes else 0
    if stable and any(c.change_class is ChangeClass.BREAKING and not c.accepted for c in changes):
        bits |= EXIT_BREAKING
    if fail_on == "never" or (fail_on == "breaking" and not bits & EXIT_BREAKING):
        return 0
    return bits


def _values(c: Change) -> str:
    if c.old is None and c.new is None:
        return ""
    return f" [{c.old if c.old is not None else '-'} -> {c.new if c.new is not None else '-'}]"


def _where(location: Location) -> str:
    """A location as text; one in the old version says so."""
    return str(location) + (" in the old version" if location.side == "old" else "")


def summary(changes: Sequence[Change]) -> str:
    if not changes:
        return "no changes"
    counts = [f"{len(group)} {cls}" for cls, group in iter_classes(list(changes))]
    return f"{len(changes)} changes: " + ", ".join(counts)


def render_text(title: str, changes: Sequence[Change], unused: Sequence[Acceptance]) -> str:
    lines = [title]
    for cls, group in iter_classes(list(changes)):
        lines.append(f"\n{cls} ({len(group)}):")
        for c in group:
            accepted = f"  (accepted: {c.accepted})" if c.accepted else ""
            lines.append(f"  {c.id} {c.kind.name}: {c.item}: {c.message}{_values(c)}{accepted}")
            if c.location is not None:
                lines.append(f"      at {_where(c.location)}")
            for target, what in c.targets.items():
                lines.append(f"      {target}: {what}")
    for a in unused:
        lines.append(f"\nwarning: accepted.toml entry {a.rule} for '{a.item}' matches no change")
    lines.append(f"\n{summary(changes)}")
    return "\n".join(lines) + "\n"


def render_json(title: str, changes: Sequence[Change], unused: Sequence[Acceptance]) -> str:
    from ..schemas import DIFF_FORMAT

    document = {
        "format": DIFF_FORMAT,
        "title": title,
        "changes": [
            {
                "rule": c.id,
                "name": c.kind.name,
                "class": str(c.change_class),
                "item": c.item,
                "message": c.message,
                "old": c.old,
                "new": c.new,
                "targets": c.targets,
                "accepted": c.accepted,
                "location": None if c.location is None else vars(c.location),
            }
            for c in changes
        ],
        "unused_acceptances": [vars(a) for a in unused],
        "summary": {
            str(cls): sum(1 for c in changes if c.change_class is cls) for cls in ChangeClass
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(title: str, changes: Sequence[Change], unused: Sequence[Acceptance]) -> str:
    lines = [f"### {title}", "", summary(changes)]
    for cls, group in iter_classes(list(changes)):
        lines += ["", f"#### {str(cls).capitalize()} ({len(group)})", ""]
        lines += [
            "| rule | item | where | change | old | new | targets |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in group:
            targets = "; ".join(f"{t}: {w}" for t, w in c.targets.items())
            message = c.message + (f" (accepted: {c.accepted})" if c.accepted else "")
            where = "" if c.location is None else _cell(_where(c.location))
            lines.append(
                f"| {c.id} | `{_cell(c.item)}` | {where} | {_cell(message)} | {_cell(c.old or '')}"
                f" | {_cell(c.new or '')} | {_cell(targets)} |"
            )
    for a in unused:
        lines += ["", f"Warning: accepted.toml entry {a.rule} for `{a.item}` matches no change."]
    return "\n".join(lines) + "\n"


def render_github(title: str, changes: Sequence[Change], unused: Sequence[Acceptance]) -> str:
    lines = []
    for c in changes:
        level = "notice" if c.accepted else GITHUB_LEVELS[c.change_class.severity]
        props = []
        text = c.item + ": " + c.message + _values(c)
        if c.location is not None and c.location.side == "new":
            # An annotation lands on a line of the checked-out files: the new version's.
            loc = c.location
            props += [f"file={escape_property(loc.file)}", f"line={loc.line}", f"col={loc.column}"]
        elif c.location is not None:
            text += f" (at {_where(c.location)})"
        props.append(f"title={escape_property(f'{c.id} {c.kind.name} ({c.change_class})')}")
        lines.append(f"::{level} {','.join(props)}::{escape_data(text)}")
    for a in unused:
        lines.append(
            f"::warning title=accepted.toml::{escape_data(a.rule + ' ' + a.item + ' matches no change')}"
        )
    return "".join(line + "\n" for line in lines)


def render_sarif(title: str, changes: Sequence[Change], unused: Sequence[Acceptance]) -> str:
    """SARIF 2.1.0 for code scanning: a result per change, at its item in the new version
    (paths as the locations have them: `pvgen diff` names the files of a spec on disk from
    the current folder, as for GitHub annotations). An item that is gone has its place in
    the old version as a related location only, since the files scanned are the new
    version's; an accepted change carries its reason as an external suppression."""
    from ..formats import SARIF_LEVELS, sarif_document, sarif_rule
    from .changes import KINDS

    ids = sorted(KINDS)
    index = {rule_id: i for i, rule_id in enumerate(ids)}
    kinds = [KINDS[rule_id] for rule_id in ids]
    rules = [sarif_rule(k.id, k.name, k.purpose, k.change_class.severity) for k in kinds]
    results = []
    for c in changes:
        text = f"{c.item}: {c.message}{_values(c)}"
        result: dict[str, object] = {
            "ruleId": c.id,
            "ruleIndex": index[c.id],
            "level": SARIF_LEVELS[c.change_class.severity],
            "message": {"text": text},
            "locations": [],
            "properties": {"class": str(c.change_class), "targets": c.targets},
        }
        if c.location is not None:
            place = {
                "physicalLocation": {
                    "artifactLocation": {"uri": c.location.file},
                    "region": {"startLine": c.location.line, "startColumn": c.location.column},
                }
            }
            if c.location.side == "new":
                result["locations"] = [place]
            else:
                old_place = {"id": 0, "message": {"text": "in the old version"}, **place}
                result["relatedLocations"] = [old_place]
        if c.accepted:
            result["suppressions"] = [{"kind": "external", "justification": c.accepted}]
        results.append(result)
    return sarif_document(rules, results, title=title)


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "github": render_github,
    "sarif": render_sarif,
}
