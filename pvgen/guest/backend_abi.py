"""The backend loader across releases: a backend built against another frozen release of the
ABI, checked table by table against the ABI the guest runs.

Takes: the frozen dump a backend was built against (`pvgen freeze`), and the guest's spec.
Hands on: `BackendAbiCheck`: one `TableVerdict` per table of the guest's ABI, in table
order, and the changes that belong to no table (the patch template); `loadable` says
whether the backend may be loaded. `render` writes the verdicts as text.

Each table is judged by its fingerprint (`pvgen.dump.table_fingerprints`, computed from
either dump, so releases frozen before fingerprints existed are judged too) and by the
changes `pvgen.api.diff` reports from the backend's release to the guest's:

- identical: the same fingerprint; the backend's half of the table fits as it is.
- compatible: another fingerprint, but no change that touches the table (the table itself,
  its members, the types its members name) breaks binaries: cosmetic, compatible and
  source-breaking changes (a rename keeps the slot) load, and are listed.
- new: the guest's table is not in the backend's release; the backend fills none of it,
  and the guest's defaults stand in.
- refused: a breaking change touches the table; the diff's reasons are listed. A change
  accepted in the release (accepted.toml) is refused all the same: acceptance says the
  project rebuilt its backends, not that an old binary still fits.

A breaking change of the patch template (patch IDs shifted) refuses the load too: a
backend's patcher would rewrite the wrong call sites.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..abi.changes import Change, ChangeClass
from ..dump import table_fingerprints, table_type_names
from ..records import record


class Verdict(enum.Enum):
    IDENTICAL = "identical"
    COMPATIBLE = "compatible"
    NEW = "new"
    REFUSED = "refused"


@record
class TableVerdict:
    table: str
    verdict: Verdict
    backend_fingerprint: str | None  # None: the table is new in the guest's release
    guest_fingerprint: str
    changes: tuple[Change, ...]  # those that touch the table (the breaking ones if refused)


@record
class BackendAbiCheck:
    abi: str
    backend_version: int
    guest_version: int
    backend_dump: str
    tables: tuple[TableVerdict, ...]
    global_changes: tuple[Change, ...]  # changes that belong to no table

    @property
    def refused(self) -> tuple[TableVerdict, ...]:
        return tuple(t for t in self.tables if t.verdict is Verdict.REFUSED)

    @property
    def refused_globally(self) -> tuple[Change, ...]:
        return tuple(c for c in self.global_changes if c.change_class is ChangeClass.BREAKING)

    @property
    def loadable(self) -> bool:
        return not self.refused and not self.refused_globally


def check_backend_abi(backend_dump: Path, spec: Path) -> BackendAbiCheck:
    """Judge the release `backend_dump` against the guest's `spec`, table by table.

    Raises `pvgen.abi.sides.SideError` (a dump that cannot be read), `SpecError`, or
    `ValueError` when the two are not versions of one ABI."""
    from .. import api

    result = api.diff(str(backend_dump), str(spec))
    old, new = result.old, result.new
    if old["abi"]["name"] != new["abi"]["name"]:
        raise ValueError(
            f"'{backend_dump}' is a release of ABI '{old['abi']['name']}', but the guest runs"
            f" ABI '{new['abi']['name']}'"
        )
    before, after = table_fingerprints(old), table_fingerprints(new)
    tables = [t["name"] for t in new["tables"]]
    owners = _owners(new, old)
    touching: dict[str, list[Change]] = {name: [] for name in tables}
    global_changes: list[Change] = []
    for change in result.changes:
        owned = _owned_by(change, owners)
        if owned is None:
            global_changes.append(change)
            continue
        for table in owned:
            if table in touching:
                touching[table].append(change)
    verdicts = []
    for name in tables:
        changes = touching[name]
        breaking = [c for c in changes if c.change_class is ChangeClass.BREAKING]
        if name not in before:
            verdict, listed = Verdict.NEW, changes
        elif breaking:
            verdict, listed = Verdict.REFUSED, breaking
        elif before[name] == after[name]:
            verdict, listed = Verdict.IDENTICAL, changes
        else:
            verdict, listed = Verdict.COMPATIBLE, changes
        verdicts.append(TableVerdict(name, verdict, before.get(name), after[name], tuple(listed)))
    return BackendAbiCheck(
        abi=str(new["abi"]["name"]),
        backend_version=int(old["abi"]["version"]),
        guest_version=int(new["abi"]["version"]),
        backend_dump=str(backend_dump),
        tables=tuple(verdicts),
        global_changes=tuple(c for c in global_changes if c.kind.id != "PV219"),
    )


def _owners(*dumps: Mapping[str, Any]) -> dict[str, set[str]]:
    """Name (a table or a type) -> the tables a change of it touches, in either release."""
    owners: dict[str, set[str]] = {}
    for dump in dumps:
        for table in dump["tables"]:
            name = table["name"]
            owners.setdefault(name, set()).add(name)
            for type_name in table_type_names(table):
                owners.setdefault(type_name, set()).add(name)
    return owners


def _owned_by(change: Change, owners: Mapping[str, set[str]]) -> set[str] | None:
    """The tables a change touches; None for one that belongs to no table (a backend's
    overrides, the patch template, the ABI's settings)."""
    words = change.item.split()
    if not words or words[0] == "backend":
        return None
    head = words[-1].split(".")[0]
    return set(owners[head]) if head in owners else None


def render(check: BackendAbiCheck) -> str:
    """The verdicts as text: one line per table, the reasons under each."""
    lines = [
        f"backend ABI: '{check.abi}' version {check.backend_version} ({check.backend_dump})"
        f" in a guest of version {check.guest_version}, table by table:"
    ]
    width = max(len(t.table) for t in check.tables)
    for table in check.tables:
        prints = f"{table.backend_fingerprint or '-'} -> {table.guest_fingerprint}"
        lines.append(f"  {table.table:<{width}}  {table.verdict.value:<10}  {prints}")
        for change in table.changes:
            lines.append("      " + _reason(change))
    for change in check.global_changes:
        lines.append(f"  (whole ABI)  {change.change_class}: {_reason(change)}")
    if check.loadable:
        lines.append("loaded: every table the guest has is identical, compatible or new")
    else:
        refused = [t.table for t in check.refused]
        if check.refused_globally:
            refused.append("the patch template")
        lines.append(f"refused: {', '.join(refused)}")
    return "\n".join(lines) + "\n"


def _reason(change: Change) -> str:
    accepted = f" (accepted in the release: {change.accepted})" if change.accepted else ""
    return f"{change.id} {change.kind.name}: {change.item}: {change.message}{accepted}"
