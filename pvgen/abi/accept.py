"""Accepted changes: `accepted.toml` beside the frozen dumps names breaking changes made on purpose.

Takes: the changes of a diff and the file `<abi dir>/accepted.toml`:

    [[accept]]
    rule = "PV205"            # the change kind
    item = "pv_mmu_ops"       # the item the change is reported on
    version = 2               # the new version that makes the change
    reason = "..."

Hands on: the changes with `accepted` set where an entry matches, or where
entries match every change it follows from (`Change.causes`: the slots a
removal shifts are accepted with the removal, one acceptance per cause), and
the entries that matched nothing (reported, since a stale acceptance hides the
next real break). An entry must name a change rule (PV2nn), so a report
never repeats an ID that `pvgen rules` cannot explain.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from ..diagnostics import did_you_mean
from ..records import record
from .changes import KINDS, Change

KEYS = ("rule", "item", "version", "reason")


class AcceptError(Exception):
    """accepted.toml cannot be used; the message names the file and the entry."""


@record
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
    index = {
        (a.rule, a.item): i
        for i, a in reversed(list(enumerate(acceptances)))
        if a.version == new_version
    }
    # One acceptance per cause: the effects of accepted changes are accepted with them, and
    # the effects of those (a removal shifts its table's slots, which shift patch IDs).
    covered = {key: i for key, i in index.items()}
    grew = True
    while grew:
        grew = False
        for change in changes:
            key = (change.id, change.item)
            if key not in covered and change.causes and all(c in covered for c in change.causes):
                covered[key] = covered[change.causes[0]]
                grew = True
    for change in changes:
        match = index.get((change.id, change.item))
        if match is not None:
            used.add(match)
            result.append(replace(change, accepted=acceptances[match].reason))
        elif (change.id, change.item) in covered:
            rule, item = change.causes[0]
            reason = acceptances[covered[(change.id, change.item)]].reason
            result.append(replace(change, accepted=f"with {rule} {item}: {reason}"))
        else:
            result.append(change)
    # Entries for other versions are history, not stale.
    unused = [a for i, a in enumerate(acceptances) if i not in used and a.version == new_version]
    return result, unused
