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
    def present_on(self) -> Mapping[str, frozenset[str]]:
        """The targets where each member path has a slot (paths on no target are absent).
        Paths present on the same targets share one set: most paths of a large spec are
        present everywhere, and a set of their own each came to 200 bytes a path."""
        present: dict[str, frozenset[str]] = {}
        for target in self.abi.targets:
            name = target.name
            # The set a path's set becomes with this target: one per set met before.
            grown: dict[frozenset[str] | None, frozenset[str]] = {}
            for slot in self.abi.facts[name].slots:
                before = present.get(slot.path)
                after = grown.get(before)
                if after is None:
                    after = grown[before] = (before or frozenset()) | {name}
                present[slot.path] = after
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
