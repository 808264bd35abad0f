"""Reports of simulation runs: text tables and JSON.

Takes: `RunResult`s.
Hands on: strings only (the CLI prints them): one run's cycles, breakdown, events,
hypercalls by request and calls per hook; the side-by-side comparison of every backend on
every workload (cycles relative to native); JSON of either; the measured calls per hook
for `--emit-callsites`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .meter import (
    BATCH,
    BATCHED,
    HYPERCALL,
    INTERRUPT,
    PAGE_FAULT,
    ROM_CALL,
    TLB_FLUSH,
    TLB_MISS,
    TRAP,
    VM_EXIT,
)
from .sim import TARGET, RunResult

BASELINE = "native"
TRANSITIONS = ((HYPERCALL, "hypercalls"), (TRAP, "traps"), (VM_EXIT, "vm exits"))


def _n(value: int) -> str:
    return f"{value:,}"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


# ---- one run ---------------------------------------------------------------------------------


def run_text(result: RunResult) -> str:
    run = result.run
    lazy = "on" if result.lazy_mmu else "off"
    env = result.environment
    lines = [
        f"backend {result.backend} ({env.get('name', '?')}), workload {result.workload}, "
        f"size {result.size}, seed {result.seed}, target {TARGET}, lazy MMU {lazy}",
        f"cycles: {_n(run.cycles)} for the workload (boot: {_n(result.boot.cycles)}; "
        f"idle, not counted: {_n(run.idle_cycles)})",
    ]
    for category, cycles in sorted(run.categories.items(), key=lambda item: -item[1]):
        lines.append(f"  {category:<26}{_n(cycles):>14}  {_percent(cycles, run.cycles)}")
    lines.append("events:")
    batches = f" (in {_n(run.event(BATCH))} batches of {_n(run.event(BATCHED))} requests)"
    for event, label in (
        *TRANSITIONS,
        (ROM_CALL, "rom calls"),
        (INTERRUPT, "interrupts"),
        (PAGE_FAULT, "page faults"),
        (TLB_MISS, "tlb misses"),
        (TLB_FLUSH, "tlb flushes"),
    ):
        extra = batches if event == HYPERCALL and run.event(BATCH) else ""
        lines.append(f"  {label:<26}{_n(run.event(event)):>14}{extra}")
    lines += _by_prefix(run.events, f"{HYPERCALL}:", "hypercalls by request")
    lines += _by_prefix(run.events, f"{TRAP}:", "traps by instruction")
    lines += _by_prefix(run.events, f"{VM_EXIT}:", "vm exits by instruction")
    lines += _hook_table(result)
    return "\n".join(lines) + "\n"


def _by_prefix(events: dict[str, int], prefix: str, title: str) -> list[str]:
    items = sorted(
        ((name[len(prefix) :], count) for name, count in events.items() if name.startswith(prefix)),
        key=lambda item: (-item[1], item[0]),
    )
    if not items:
        return []
    return [f"{title}:"] + [f"  {name:<32}{_n(count):>8}" for name, count in items]


def _hook_table(result: RunResult) -> list[str]:
    calls = result.run.hook_calls
    total = sum(calls.values())
    lines = [f"hook calls: {_n(total)} calls to {len(calls)} hooks"]
    lines.append(f"  {'hook':<40}{'calls':>10}  {'share':>6}  handled by")
    for path, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
        handler = result.handled_by.get(path, "?")
        share = _percent(count, total)
        lines.append(f"  {path:<40}{_n(count):>10}  {share}  {handler}")
    return lines


def run_json(result: RunResult) -> str:
    from ..schemas import SIM_FORMAT

    document = {"format": SIM_FORMAT, **_run_dict(result)}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _run_dict(result: RunResult) -> dict[str, object]:
    run = result.run
    return {
        "backend": result.backend,
        "workload": result.workload,
        "size": result.size,
        "seed": result.seed,
        "target": TARGET,
        "lazy_mmu": result.lazy_mmu,
        "cycles": run.cycles,
        "boot_cycles": result.boot.cycles,
        "idle_cycles": run.idle_cycles,
        "categories": run.categories,
        "events": run.events,
        "hook_calls": run.hook_calls,
        "handled_by": {path: result.handled_by[path] for path in run.hook_calls},
        "environment": result.environment,
        "state_digest": result.state.digest(),
    }


# ---- the comparison -----------------------------------------------------------------------------


def _grid(
    results: Sequence[RunResult],
) -> tuple[list[str], list[str], dict[tuple[str, str], RunResult]]:
    backends = list(dict.fromkeys(r.backend for r in results))
    workloads = list(dict.fromkeys(r.workload for r in results))
    return backends, workloads, {(r.workload, r.backend): r for r in results}


def _relative(cell: RunResult, cells: dict[tuple[str, str], RunResult]) -> float:
    base = cells.get((cell.workload, BASELINE), cell)
    return cell.run.cycles / base.run.cycles if base.run.cycles else 0.0


def compare_text(results: Sequence[RunResult]) -> str:
    backends, workloads, cells = _grid(results)
    first = results[0]
    lines = [
        f"size {first.size}, seed {first.seed}, target {TARGET}: workload cycles relative "
        f"to {BASELINE} (lower is cheaper)",
        "",
        f"{'workload':<16}{BASELINE + ' cycles':>16}" + "".join(f"{b:>9}" for b in backends),
    ]
    for workload in workloads:
        base = cells.get((workload, BASELINE))
        row = f"{workload:<16}{_n(base.run.cycles) if base else '-':>16}"
        row += "".join(f"{_relative(cells[(workload, b)], cells):>8.2f}x" for b in backends)
        lines.append(row)
    lines += ["", "transitions per workload (hypercalls / traps / vm exits):", ""]
    lines.append(f"{'workload':<16}" + "".join(f"{b:>17}" for b in backends))
    for workload in workloads:
        counts = [
            "/".join(_n(cells[(workload, b)].run.event(e)) for e, _ in TRANSITIONS)
            for b in backends
        ]
        lines.append(f"{workload:<16}" + "".join(f"{c:>17}" for c in counts))
    agree = all(
        cells[(w, b)].state == cells[(w, backends[0])].state for w in workloads for b in backends
    )
    lines += ["", f"guest-visible state identical on every backend: {'yes' if agree else 'NO'}"]
    return "\n".join(lines) + "\n"


def compare_json(results: Sequence[RunResult]) -> str:
    backends, workloads, cells = _grid(results)
    first = results[0]
    table: dict[str, dict[str, dict[str, object]]] = {}
    for workload in workloads:
        table[workload] = {}
        for backend in backends:
            cell = cells[(workload, backend)]
            table[workload][backend] = {
                "cycles": cell.run.cycles,
                "relative": round(_relative(cell, cells), 4),
                "hypercalls": cell.run.event(HYPERCALL),
                "batches": cell.run.event(BATCH),
                "traps": cell.run.event(TRAP),
                "vm_exits": cell.run.event(VM_EXIT),
                "rom_calls": cell.run.event(ROM_CALL),
                "state_digest": cell.state.digest(),
            }
    from ..schemas import SIM_FORMAT

    document = {
        "format": SIM_FORMAT,
        "size": first.size,
        "seed": first.seed,
        "target": TARGET,
        "baseline": BASELINE,
        "backends": backends,
        "workloads": table,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render(results: Sequence[RunResult], *, compared: bool, fmt: str) -> str:
    """The report `pvgen sim` prints: one run or a comparison, as text or JSON."""
    if compared:
        return compare_json(results) if fmt == "json" else compare_text(results)
    return run_json(results[0]) if fmt == "json" else run_text(results[0])


def callsites(results: Sequence[RunResult]) -> dict[str, int]:
    """Calls per hook path: every hook of the spec, with the calls of one boot and of the
    workloads of one backend (the kernel makes the same calls on every backend)."""
    chosen = [r for r in results if r.backend == BASELINE] or [
        r for r in results if r.backend == results[0].backend
    ]
    counts = dict.fromkeys(sorted(results[0].handled_by), 0)
    for measurement in (chosen[0].boot, *(r.run for r in chosen)):
        for path, count in measurement.hook_calls.items():
            counts[path] += count
    return counts
