"""What every check reads: the model, the settings, and indexes built once.

Takes: a `model.Abi` and `RuleSettings`.
Hands on: `Context`, whose cached indexes (every hook with its path, which
backends override each path) keep every check linear in the size of the ABI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .. import model as m
from ..config import RuleSettings
from ..records import record


@record
class HookEntry:
    """One hook as reached from a top-level table: `pv_mmu_ops.lazy_mode.enter`."""

    path: str
    table: m.Table  # the top-level table it is reached from
    owner: m.Table  # the table that declares it
    hook: m.Hook
    slot: m.HookSlot  # where the model has it: its condition, its presence per target


@dataclass
class Context:
    abi: m.Abi
    settings: RuleSettings = field(default_factory=RuleSettings)
    # The folder of this ABI's frozen dumps, when it has one.
    frozen: Path | None = None
    # Filled by the engine: the `@allow`s that accepted a finding (by identity).
    used_allows: set[int] = field(default_factory=set)

    @cached_property
    def hook_entries(self) -> list[HookEntry]:
        return [
            HookEntry(slot.path, slot.top, slot.owner, slot.hook, slot)
            for slot in self.abi.hook_slots
        ]

    @cached_property
    def default_backend(self) -> m.Backend | None:
        return next((b for b in self.abi.backends if b.default), None)

    @cached_property
    def present_on(self) -> Mapping[str, set[str]]:
        """The targets where each member path has a slot (paths on no target are absent)."""
        present: dict[str, set[str]] = {}
        for target in self.abi.targets:
            name = target.name
            for slot in self.abi.facts[name].slots:
                where = present.get(slot.path)
                if where is None:
                    present[slot.path] = {name}
                else:
                    where.add(name)
        return present

    @cached_property
    def overriders(self) -> Mapping[str, list[m.Backend]]:
        """Non-default backends overriding each member path, counting a backend only where
        the member exists on some target it runs on (elsewhere its listing means nothing)."""
        present = self.present_on
        nowhere: frozenset[str] = frozenset()
        found: dict[str, list[m.Backend]] = {}
        for backend in self.abi.backends:
            if backend.default:
                continue
            runs_on = {t.name for t in self.abi.targets if backend.runs_on(t)}
            for override in backend.overrides:
                if not runs_on.isdisjoint(present.get(override.path, nowhere)):
                    found.setdefault(override.path, []).append(backend)
        return found

    @cached_property
    def hooks_by_table(self) -> Mapping[str, list[HookEntry]]:
        found: dict[str, list[HookEntry]] = {}
        for entry in self.hook_entries:
            found.setdefault(entry.table.name, []).append(entry)
        return found
