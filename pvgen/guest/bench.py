"""Benchmark figures of the guest: what the generated dispatch costs, what batching buys.

Takes: the bindings of the reference spec (loaded when not given).
Hands on: `dispatch_overhead()`, returning `DispatchFigures` (see its fields), for the
benchmark suite to print. Unlike the simulation, this measures wall time
(`time.perf_counter`), so its call rates depend on the machine; the batching figure is
simulated and exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from ..records import record
from .backends import IMPLEMENTATIONS, install
from .bindings import Bindings, load_bindings
from .machine import Machine
from .meter import HYPERCALL
from .sim import TARGET, simulate

DISPATCH_TARGET = 1.15  # a call through the dispatch object at most 15% dearer than a direct one


@record
class DispatchFigures:
    """What `dispatch_overhead` measured (best of the repeats; each loop also pays the same
    `for` overhead).

    - dispatch_calls_per_second: `ops.pv_irq_ops.save_fl()` through the dispatch object
      on the native backend (a hot hook that does its work: pushf on the machine, priced).
    - direct_calls_per_second: `backend.pv_irq_ops_save_fl()` on the backend itself.
    - dispatch_ratio: time per dispatched call / time per direct call; target <= 1.15.
    - empty_hook_*: the same for `pv_mmu_ops.pte_val`, whose native body only returns a
      field: the worst case, where the dispatch is nearly all there is to a call.
    - xen_fork_hypercalls_lazy / _eager: hypercalls the xen backend makes on the `fork`
      workload (size `fork_size`, seed 0) with and without the lazy-MMU bracket;
      xen_fork_batching_factor is eager / lazy; the cycle counts go with them.
    """

    calls: int
    dispatch_calls_per_second: float
    direct_calls_per_second: float
    dispatch_ratio: float
    empty_hook_dispatch_calls_per_second: float
    empty_hook_direct_calls_per_second: float
    empty_hook_dispatch_ratio: float
    dispatch_target: float
    fork_size: int
    xen_fork_hypercalls_lazy: int
    xen_fork_hypercalls_eager: int
    xen_fork_batching_factor: float
    xen_fork_cycles_lazy: int
    xen_fork_cycles_eager: int

    def as_dict(self) -> dict[str, float]:
        return {key: float(value) for key, value in asdict(self).items()}


Loop = Callable[[int], None]


def _best_seconds(loop: Loop, calls: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        loop(calls)
        best = min(best, time.perf_counter() - start)
    return best


def _loops(bindings: Bindings) -> dict[str, tuple[Loop, Loop]]:
    """(through the dispatch object, direct) loops for a hook with work and an empty one."""
    machine = Machine(IMPLEMENTATIONS["native"].PLATFORM)
    backend, native = install(bindings, "native", machine, TARGET)
    ops = bindings.dispatch(backend, native)
    direct: Any = backend
    pte = bindings.types.pte(0x1000 | 0x7)

    def save_fl_dispatched(calls: int) -> None:
        for _ in range(calls):
            ops.pv_irq_ops.save_fl()

    def save_fl_direct(calls: int) -> None:
        for _ in range(calls):
            direct.pv_irq_ops_save_fl()

    def pte_val_dispatched(calls: int) -> None:
        for _ in range(calls):
            ops.pv_mmu_ops.pte_val(pte)

    def pte_val_direct(calls: int) -> None:
        for _ in range(calls):
            direct.pv_mmu_ops_pte_val(pte)

    return {
        "save_fl": (save_fl_dispatched, save_fl_direct),
        "pte_val": (pte_val_dispatched, pte_val_direct),
    }


def _rates(loops: tuple[Loop, Loop], calls: int, repeats: int) -> tuple[float, float, float]:
    dispatched, direct = (_best_seconds(loop, calls, repeats) for loop in loops)
    return calls / dispatched, calls / direct, dispatched / direct


def dispatch_overhead(
    calls: int = 200_000, repeats: int = 5, fork_size: int = 20, bindings: Bindings | None = None
) -> DispatchFigures:
    """Hook calls per second through the dispatch object and directly, their ratio, and the
    hypercalls xen makes on `fork` with and without the lazy-MMU bracket."""
    bindings = bindings or load_bindings()
    loops = _loops(bindings)
    working = _rates(loops["save_fl"], calls, repeats)
    empty = _rates(loops["pte_val"], calls, repeats)
    lazy = simulate("xen", "fork", size=fork_size, bindings=bindings).run
    eager = simulate("xen", "fork", size=fork_size, lazy_mmu=False, bindings=bindings).run
    return DispatchFigures(
        calls=calls,
        dispatch_calls_per_second=working[0],
        direct_calls_per_second=working[1],
        dispatch_ratio=working[2],
        empty_hook_dispatch_calls_per_second=empty[0],
        empty_hook_direct_calls_per_second=empty[1],
        empty_hook_dispatch_ratio=empty[2],
        dispatch_target=DISPATCH_TARGET,
        fork_size=fork_size,
        xen_fork_hypercalls_lazy=lazy.event(HYPERCALL),
        xen_fork_hypercalls_eager=eager.event(HYPERCALL),
        xen_fork_batching_factor=eager.event(HYPERCALL) / max(1, lazy.event(HYPERCALL)),
        xen_fork_cycles_lazy=lazy.cycles,
        xen_fork_cycles_eager=eager.cycles,
    )
