"""The meter: what a run cost and what happened in it.

Takes: charges and event counts from the machine and the backends, hook calls from the
probe that wraps the dispatch object.
Hands on: `Measurement`, a frozen reading (cycles, their breakdown, idle time, events such
as hypercalls, batches, traps and VM exits, calls per hook and the cycles spent in each
hook), and the difference of two readings, so that a workload's figures exclude the boot.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import field

from ..records import record

#: Event names the backends and the machine count.
HYPERCALL = "hypercall"
BATCH = "batch"
BATCHED = "batched request"
TRAP = "trap"
VM_EXIT = "vm exit"
ROM_CALL = "rom call"
TLB_MISS = "tlb miss"
TLB_FLUSH = "tlb flush"
INTERRUPT = "interrupt"
PAGE_FAULT = "page fault"
WARNING = "warning"  # a path the kernel only warns about (WARN_ON), as warning:<hook>


@record
class Measurement:
    """A reading of the meter (or the difference of two)."""

    cycles: int = 0
    idle_cycles: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    hook_calls: dict[str, int] = field(default_factory=dict)
    # Cycles from a hook's call site to its return, the call included: what the hook cost
    # the kernel, less guest work and the hooks it ran in turn (an interrupt it let in).
    hook_cycles: dict[str, int] = field(default_factory=dict)

    def event(self, name: str) -> int:
        return self.events.get(name, 0)

    def minus(self, earlier: Measurement) -> Measurement:
        """What happened between `earlier` and this reading."""
        return Measurement(
            self.cycles - earlier.cycles,
            self.idle_cycles - earlier.idle_cycles,
            _difference(self.categories, earlier.categories),
            _difference(self.events, earlier.events),
            _difference(self.hook_calls, earlier.hook_calls),
            _difference(self.hook_cycles, earlier.hook_cycles),
        )


def _difference(later: dict[str, int], earlier: dict[str, int]) -> dict[str, int]:
    result = {key: value - earlier.get(key, 0) for key, value in later.items()}
    return {key: value for key, value in sorted(result.items()) if value}


class Meter:
    """Running totals; `reading()` freezes them."""

    def __init__(self) -> None:
        self.cycles = 0
        self.idle_cycles = 0
        self.categories: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.hook_calls: Counter[str] = Counter()
        self.hook_cycles: Counter[str] = Counter()

    def charge(self, category: str, cycles: int) -> None:
        self.cycles += cycles
        self.categories[category] += cycles

    def count(self, event: str, times: int = 1) -> None:
        self.events[event] += times

    def reading(self) -> Measurement:
        return Measurement(
            self.cycles,
            self.idle_cycles,
            dict(self.categories),
            dict(self.events),
            dict(self.hook_calls),
            dict(self.hook_cycles),
        )
