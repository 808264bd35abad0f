"""Accepted changes: `accepted.toml` beside the frozen dumps names breaking changes made on purpose.

Takes: the changes of a diff and the file `<abi dir>/accepted.toml`:

    [[accept]]
    rule = "PV205"            # the change kind
    item = "pv_mmu_ops"       # the item the change is reported on
    version = 2               # the new version that makes the change
    reason = "..."

Hands on: the changes with `accepted` set where an entry matches, and the
entries that matched nothing (reported, since a stale acceptance hides the
next real break). An entry must name a change rule (PV2nn), so a report
never repeats an ID that `pvgen rules` cannot explain.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from ..diagnostics import did_you_mean
from .changes import KINDS, Change

KEYS = ("rule", "item", "version", "reason")


class AcceptError(Exception):
    """accepted.toml cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Acceptance:
    rule: str
    item: str
    version: int
    reason: str


def load_acceptances(path: Path) -> list[Acceptance]:
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # TOMLDecodeError, bad UTF-8, a 5,000-digit int
        raise AcceptError(f"{path}: {exc}") from None
    entries = data.get("accept", [])
    if not isinstance(entries, list):
        raise AcceptError(f"{path}: 'accept' must be an array of tables ([[accept]])")
    found = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) != set(KEYS):
            raise AcceptError(f"{path}: entry {number} needs exactly the keys {', '.join(KEYS)}")
        if not isinstance(entry["version"], int) or not all(
            isinstance(entry[k], str) and entry[k].strip() for k in ("rule", "item", "reason")
        ):
            raise AcceptError(f"{path}: entry {number}: version is a number, the others text")
        if entry["rule"] not in KINDS:
            raise AcceptError(
                f"{path}: entry {number}: '{entry['rule']}' is not a change rule"
                + did_you_mean(entry["rule"], KINDS)
            )
        found.append(Acceptance(entry["rule"], entry["item"], entry["version"], entry["reason"]))
    return found


def apply_acceptances(
    changes: list[Change], acceptances: list[Acceptance], new_version: int
) -> tuple[list[Change], list[Acceptance]]:
    used: set[int] = set()
    result = []
    for change in changes:
        match = next(
            (
                i
                for i, a in enumerate(acceptances)
                if a.rule == change.id and a.item == change.item and a.version == new_version
            ),
            None,
        )
        if match is None:
            result.append(change)
        else:
            used.add(match)
            result.append(replace(change, accepted=acceptances[match].reason))
    # Entries for other versions are history, not stale.
    unused = [a for i, a in enumerate(acceptances) if i not in used and a.version == new_version]
    return result, unused
