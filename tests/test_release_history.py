"""The differ on real history: every step between consecutive Linux releases (the frozen
dumps of specs/linux/) against oracles that know nothing of how the differ works.

- Member events, from the two dumps by member name alone: a member added, removed, renamed
  (@renamed_from), moved to another table, retyped (a return or parameter type spelled
  otherwise, parameters added or removed), converted to another calling convention, or
  put under another condition. The diff must name them (recall) and name nothing else
  (precision), each at least 0.95 over the whole history.
- Breaks, from the two compiled models on each target both build the same way: a slot of
  the old version that the new one does not have in the same table, or has at another
  offset, patch ID or calling convention, or with another number of parameters. The
  breaking bit (8) must be set on exactly those steps.
- A step with no change exits 0, and any other does not.

The known events of the kernel's history are asserted by name.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ROOT

from pvgen import api
from pvgen import model as m
from pvgen.abi.changes import ChangeClass
from pvgen.abi.report import exit_bits

FOLDER = ROOT / "specs/linux"
FROZEN = FOLDER / "abi/linux_paravirt"
STEPS = range(1, 26)  # version N -> N + 1; 26 releases

# Member changes the diff names one member at a time (the item's last part is the member).
PER_MEMBER = {"PV203", "PV204", "PV206", "PV207", "PV208", "PV209", "PV210", "PV212", "PV217"}


@functools.cache
def dump(version: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FROZEN / f"{version}.json").read_text(encoding="utf-8"))
    return data


@functools.cache
def models() -> dict[int, m.Abi]:
    found = {}
    for spec in FOLDER.glob("*.pvspec"):
        abi = api.load_abi(spec)
        found[abi.version] = abi
    return found


@functools.cache
def step(version: int) -> api.DiffResult:
    return api.diff(str(FROZEN / f"{version}.json"), str(FROZEN / f"{version + 1}.json"))


# ---- the oracle of member events --------------------------------------------------------------


def _members(data: dict[str, Any]) -> dict[str, list[tuple[str, Any]]]:
    found: dict[str, list[tuple[str, Any]]] = {}
    for table in data["tables"]:
        for member in table["members"]:
            found.setdefault(member["name"], []).append((table["name"], member))
    return found


def _shape(member: Any) -> tuple[Any, ...]:
    if member["kind"] == "hook":
        return (member["returns"], tuple(p["type"] for p in member["params"]))
    return (member["kind"], member.get("type"), member.get("table"))


def member_events(version: int) -> set[str]:
    """The names of the members that changed from `version` to the next, by name alone."""
    return events_between(dump(version), dump(version + 1))


def events_between(before: dict[str, Any], later: dict[str, Any]) -> set[str]:
    old, new = _members(before), _members(later)
    renamed_tables = {t["renamed_from"]: t["name"] for t in later["tables"] if t["renamed_from"]}
    renamed = {
        member["renamed_from"]: name
        for name, places in new.items()
        for _, member in places
        if member.get("renamed_from") in old and name not in old
    }
    events = set(renamed.values())
    events |= {name for name in new if name not in old and name not in renamed.values()}
    events |= {name for name in old if name not in new and name not in renamed}
    for name, places in old.items():
        after = new.get(renamed.get(name, name))
        if after is None:
            continue
        tables = {renamed_tables.get(t, t) for t, _ in places}
        if (
            tables != {t for t, _ in after}
            or {_shape(x) for _, x in places} != {_shape(x) for _, x in after}
            or {x.get("callee_save") for _, x in places} != {x.get("callee_save") for _, x in after}
            or {x.get("if") for _, x in places} != {x.get("if") for _, x in after}
        ):
            events.add(renamed.get(name, name))
    return events


def named(version: int) -> set[str]:
    """The members the diff names: at the item of a member change, in the member lists of a
    table added or removed, and in the members a slot shift says were inserted."""
    found = set()
    for change in step(version).changes:
        if change.id in PER_MEMBER:
            found.add(
                change.item.split(".")[-1] if change.id != "PV206" else change.item.split(".", 1)[1]
            )
        elif change.id in ("PV201", "PV202"):
            found |= set(filter(None, (change.old or change.new or "").split(", ")))
        elif change.id == "PV205" and change.new:
            found |= set(change.new.split(", "))
    return found


def test_every_changed_member_is_named_and_nothing_else() -> None:
    truth = {(v, name) for v in STEPS for name in member_events(v)}
    reported = {(v, name) for v in STEPS for name in named(v)}
    assert len(truth) > 300  # the history really is that eventful
    recall = len(truth & reported) / len(truth)
    precision = len(truth & reported) / len(reported)
    assert recall >= 0.95, sorted(truth - reported)
    assert precision >= 0.95, sorted(reported - truth)


# ---- the oracle of breaks -----------------------------------------------------------------------


def _slots(abi: m.Abi, target: str) -> dict[tuple[str, tuple[str, ...]], tuple[Any, ...]]:
    facts = abi.facts[target]
    found = {}
    for slot in facts.slots:
        top = slot.top.name
        inner = facts.slot_offsets[slot.path] - facts.aggregate.offsets[top]
        member = slot.member
        call = (
            (member.callee_save, member.callconv, len(member.params))
            if isinstance(member, m.Hook)
            else None
        )
        found[(top, slot.names)] = (inner, facts.patch_ids.get(slot.path), call)
    return found


def breaks(old: m.Abi, new: m.Abi) -> Iterator[str]:
    """Why a kernel built against `old` misbehaves with `new`, slot by slot."""
    members = {mb.renamed_from: mb.name for t in new.tables for mb in t.members if mb.renamed_from}
    tables = {t.renamed_from: t.name for t in new.tables if t.renamed_from}
    for target, facts in old.facts.items():
        if (
            target not in new.facts
            or new.facts[target].target.data_model != facts.target.data_model
        ):
            continue
        before, after = _slots(old, target), _slots(new, target)
        for (top, names), where in before.items():
            key = (tables.get(top, top), tuple(members.get(n, n) for n in names))
            now = after.get(key)
            if now is None:
                yield f"{target}: {top}.{'.'.join(names)} is no longer there"
            elif now != where:
                yield f"{target}: {top}.{'.'.join(names)} {where} -> {now}"


@pytest.mark.parametrize("version", STEPS)
def test_the_breaking_bit_is_set_exactly_on_the_steps_that_break(version: int) -> None:
    result = step(version)
    reasons = list(breaks(models()[version], models()[version + 1]))
    status = exit_bits(result.changes, stable=result.stable)
    assert bool(status & 8) == bool(reasons), reasons[:3]
    assert (status == 0) == (not result.changes)
    assert status & 4 or not result.changes


# ---- the known events ---------------------------------------------------------------------------


def _found(version: int, rule: str) -> dict[str, Any]:
    return {c.item: c for c in step(version).changes if c.id == rule}


def test_known_events_of_the_kernel_history() -> None:
    # 2.6.24 split paravirt_ops into the pv_*_ops tables.
    split = _found(4, "PV225")["paravirt_ops"]
    assert {"pv_cpu_ops", "pv_mmu_ops", "pv_irq_ops", "pv_init_ops"} <= set(split.new.split(", "))
    # 2.6.26 renamed the page-table allocation hooks in place.
    renames = {c.old: c.new for c in _found(6, "PV207").values()}
    assert renames == {
        "alloc_pt": "alloc_pte",
        "alloc_pd": "alloc_pmd",
        "alloc_pd_clone": "alloc_pmd_clone",
        "release_pt": "release_pte",
        "release_pd": "release_pmd",
    }
    # 2.6.27 brought pv_lock_ops, at the end of the patch template.
    lock = _found(7, "PV202")["pv_lock_ops"]
    assert "spin_lock" in lock.new.split(", ")
    # 2.6.30 made the irq hooks and the page-table value hooks callee-save.
    converted = {item for item, c in _found(10, "PV212").items() if c.new == "true"}
    assert {"pv_irq_ops.save_fl", "pv_irq_ops.irq_disable", "pv_mmu_ops.pte_val"} <= converted
    assert all(c.change_class is ChangeClass.BREAKING for c in _found(10, "PV212").values())
    # 4.20 put most of the tables under PARAVIRT_XXL.
    xxl = [c for c in _found(18, "PV217").values() if "PARAVIRT_XXL" in (c.new or "")]
    assert len(xxl) > 50 and "pv_cpu_ops.read_msr" in {c.item for c in xxl}
    # 5.15 removed pv_time_ops and pv_init_ops (and iret, usergs_sysret64, restore_fl).
    assert set(_found(21, "PV201")) == {"pv_time_ops", "pv_init_ops"}
    assert {"pv_cpu_ops.iret", "pv_irq_ops.restore_fl"} <= set(_found(21, "PV203"))
    # 6.x retyped the MSR hooks: u32 msr, a u64 value instead of two halves.
    msr = {c.item: c for c in _found(24, "PV210").values()}
    assert msr["pv_cpu_ops.write_msr"].new == "(u32 msr, u64 val)"
    # And 6.18 to 6.19 changed nothing.
    assert not step(25).changes


# ---- the table in the docs ----------------------------------------------------------------------


def test_the_history_table_in_the_docs_is_the_commands_output() -> None:
    command = [sys.executable, str(FOLDER / "make_specs.py"), "--history"]
    table = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    text = (ROOT / "docs/linux-history.md").read_text(encoding="utf-8")
    assert table.strip() in text, "docs/linux-history.md is stale: run the command it names"
    rows = [r for r in table.splitlines() if re.match(r"\| \d", r)]
    assert len(rows) == len(STEPS)
    assert rows[-1].endswith("| 0 | 0 | 0 | 0 | 0 |")  # 6.18.2 -> 6.19: no change, exit 0


def test_the_oracles_are_not_vacuous() -> None:
    """A release against itself: no event, no break; against one far away: many of each."""
    for version in (3, 11, 26):
        assert not events_between(dump(version), dump(version))
        assert not list(breaks(models()[version], models()[version]))
    assert len(events_between(dump(1), dump(26))) > 100
    assert len(list(breaks(models()[1], models()[26]))) > 100
