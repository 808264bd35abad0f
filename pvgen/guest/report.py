"""Reports of simulation runs: text tables and JSON.

Takes: `RunResult`s.
Hands on: strings only (the CLI prints them): one run's cycles, breakdown, events,
hypercalls by request, what patching made of the call sites, and calls and cycles per
hook; the side-by-side comparison of every backend on every workload (cycles relative to
native); the cost of each hook per call with patching off and on (`--hook-costs`); JSON of
each; the measured calls per hook for `--emit-callsites`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .callsites import SiteKind
from .costs import SPINNING
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
from .sim import PatchingPair, RunResult
from .smp import (
    ACK_WAIT,
    BLOCKED,
    BLOCKED_CYCLES,
    CONTENDED,
    IPI,
    LOCK_WAIT,
    PREEMPTED,
    RESCHEDULE,
    SHOOTDOWN,
    SPINLOCK,
)

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
        f"size {result.size}, seed {result.seed}, target {result.target}, lazy MMU {lazy}, "
        f"patching {'on' if result.patching else 'off'}, {_cpus(result)}",
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
    lines += _smp_lines(result)
    lines += _site_lines(result)
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


def _cpus(result: RunResult) -> str:
    if result.cpus == 1:
        return "1 cpu"
    spinlocks = "" if result.pv_spinlocks else ", pv spinlocks off"
    return f"{result.cpus} cpus on {result.pcpus} physical{spinlocks}"


def _smp_lines(result: RunResult) -> list[str]:
    if result.cpus == 1:
        return []
    run = result.run
    spinning = run.categories.get(SPINNING, 0)
    return [
        "cpus:",
        f"  {'tlb shootdowns':<26}{_n(run.event(SHOOTDOWN)):>14}",
        f"  {'ipis sent':<26}{_n(run.event(IPI)):>14}",
        f"  {'reschedules sent':<26}{_n(run.event(RESCHEDULE)):>14}",
        f"  {'spinlocks taken':<26}{_n(run.event(SPINLOCK)):>14}",
        f"  {'of them contended':<26}{_n(run.event(CONTENDED)):>14}",
        f"  {'behind a preempted vcpu':<26}{_n(run.event(PREEMPTED)):>14}",
        f"  {'waits for ipi acks':<26}{_n(run.event(ACK_WAIT)):>14}",
        f"  {'cycles spinning':<26}{_n(spinning):>14}  {_percent(spinning, run.cycles)}",
        f"  {'wall cycles lock waits':<26}{_n(run.event(LOCK_WAIT)):>14}",
    ] + (
        [
            f"  {'blocked in poll':<26}{_n(run.event(BLOCKED)):>14}",
            f"  {'wall cycles blocked':<26}{_n(run.event(BLOCKED_CYCLES)):>14}",
        ]
        if run.event(BLOCKED)
        else []
    )


def _site_lines(result: RunResult) -> list[str]:
    sites: dict[SiteKind, list[int]] = {}
    for patch in result.sites.values():
        hooks_and_sites = sites.setdefault(patch.kind, [0, 0])
        hooks_and_sites[0] += 1
        hooks_and_sites[1] += patch.sites
    written = result.environment.get("patched_bytes", "0")
    lines = [f"call sites ({_n(int(written))} bytes patched at boot):"]
    for kind in SiteKind:
        if kind in sites:
            hooks, count = sites[kind]
            lines.append(f"  {kind.value:<26}{_n(count):>14} sites of {hooks} hooks")
    for path, register, value in result.clobbered[:5]:
        lines.append(
            f"  CLOBBERED: {path} changed %{register} (now {value:#x}), which its site keeps"
        )
    return lines


def _hook_table(result: RunResult) -> list[str]:
    calls = result.run.hook_calls
    total = sum(calls.values())
    lines = [f"hook calls: {_n(total)} calls to {len(calls)} hooks"]
    lines.append(
        f"  {'hook':<40}{'calls':>10}  {'share':>6}  {'cycles/call':>11}  {'site':<13}  handled by"
    )
    for path, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
        handler = result.handled_by.get(path, "?")
        share = _percent(count, total)
        per_call = result.run.hook_cycles.get(path, 0) / count
        site = result.sites[path].kind.value if path in result.sites else "-"
        lines.append(
            f"  {path:<40}{_n(count):>10}  {share}  {per_call:>11.1f}  {site:<13}  {handler}"
        )
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
        "target": result.target,
        "lazy_mmu": result.lazy_mmu,
        "patching": result.patching,
        "cpus": result.cpus,
        "pcpus": result.pcpus,
        "cycles": run.cycles,
        "boot_cycles": result.boot.cycles,
        "idle_cycles": run.idle_cycles,
        "categories": run.categories,
        "events": run.events,
        "hook_calls": run.hook_calls,
        "hook_cycles": run.hook_cycles,
        "handled_by": {path: result.handled_by[path] for path in run.hook_calls},
        "call_sites": {
            path: {"sites": patch.sites, "kind": patch.kind.value, "code": patch.code}
            for path, patch in sorted(result.sites.items())
        },
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
    patching = "on" if first.patching else "off"
    hosted = next((r for r in results if r.backend != BASELINE), first)  # bare metal has all
    lines = [
        f"size {first.size}, seed {first.seed}, target {first.target}, patching {patching},"
        f" {_cpus(hosted)}: workload cycles relative to {BASELINE} (lower is cheaper)",
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
    hosted = next((r for r in results if r.backend != BASELINE), first)
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
        "target": first.target,
        "patching": first.patching,
        "cpus": first.cpus,
        "pcpus": hosted.pcpus,
        "baseline": BASELINE,
        "backends": backends,
        "workloads": table,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


# ---- what patching buys, per hook -----------------------------------------------------------


def _per_call(result: RunResult | None, path: str) -> float | None:
    if result is None:
        return None
    calls = result.run.hook_calls.get(path, 0)
    return result.run.hook_cycles.get(path, 0) / calls if calls else None


def _cost_cell(pair: PatchingPair, path: str) -> str:
    before, after = _per_call(pair.unpatched, path), _per_call(pair.patched, path)
    site = pair.patched.sites.get(path)
    kind = site.kind.value.replace(" call", "").replace("direct jump", "jump") if site else "-"
    left = "-" if before is None else f"{before:.0f}"
    right = "-" if after is None else f"{after:.0f}"
    return f"{left:>5} {right:>5} {kind:<8}"


def _hooks_called(pairs: Sequence[PatchingPair]) -> list[tuple[str, int]]:
    calls = pairs[0].patched.run.hook_calls
    return sorted(
        ((path, count) for path, count in calls.items() if count),
        key=lambda item: (-item[1], item[0]),
    )


def hook_costs_text(pairs: Sequence[PatchingPair], limit: int | None = None) -> str:
    """Per hook and backend: cycles per call unpatched, patched, and what the patched
    sites do; then the workload's cycles both ways."""
    first = pairs[0].patched
    lines = [
        f"workload {first.workload}, size {first.size}, seed {first.seed},"
        f" target {first.target}:"
        " cycles per hook call from its call site (the call, the hook, what it runs in the"
        " hypervisor; not guest work), unpatched / patched / what patching left there",
        "",
        f"{'hook':<38}{'calls':>8}" + "".join(f"  {p.backend:^20}" for p in pairs),
    ]
    hooks = _hooks_called(pairs)
    for path, count in hooks[:limit] if limit else hooks:
        lines.append(
            f"{path:<38}{_n(count):>8}" + "".join(f"  {_cost_cell(p, path)}" for p in pairs)
        )
    lines += ["", "workload cycles, unpatched -> patched:"]
    for pair in pairs:
        after = pair.patched.run.cycles
        if pair.unpatched is None:
            lines.append(f"  {pair.backend:<8} cannot boot unpatched: {pair.refused}")
            continue
        before = pair.unpatched.run.cycles
        saving = 100 * (before - after) / before if before else 0.0
        lines.append(
            f"  {pair.backend:<8}{_n(before):>14} -> {_n(after):>14}  ({saving:.1f}% saved)"
        )
    same = all(p.unpatched is None or p.unpatched.state == p.patched.state for p in pairs) and all(
        p.patched.state == pairs[0].patched.state for p in pairs
    )
    lines += ["", f"guest-visible state identical patched and unpatched: {'yes' if same else 'NO'}"]
    return "\n".join(lines) + "\n"


def hook_costs_json(pairs: Sequence[PatchingPair]) -> str:
    from ..schemas import SIM_FORMAT

    first = pairs[0].patched
    hooks: dict[str, dict[str, object]] = {}
    for path, count in _hooks_called(pairs):
        cells: dict[str, object] = {}
        for pair in pairs:
            site = pair.patched.sites.get(path)
            cells[pair.backend] = {
                "unpatched": _per_call(pair.unpatched, path),
                "patched": _per_call(pair.patched, path),
                "site": site.kind.value if site else None,
            }
        hooks[path] = {"calls": count, "backends": cells}
    document = {
        "format": SIM_FORMAT,
        "workload": first.workload,
        "size": first.size,
        "seed": first.seed,
        "target": first.target,
        "backends": {
            pair.backend: {
                "unpatched_cycles": None if pair.unpatched is None else pair.unpatched.run.cycles,
                "patched_cycles": pair.patched.run.cycles,
                "refused": pair.refused or None,
            }
            for pair in pairs
        },
        "hooks": hooks,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render(results: Sequence[RunResult], *, compared: bool, fmt: str) -> str:
    """The report `pvgen sim` prints: one run or a comparison, as text or JSON. Compared
    runs of several targets are one text table per target, each against native there."""
    if compared:
        targets = list(dict.fromkeys(r.target for r in results))
        if len(targets) > 1:
            if fmt == "json":
                raise ValueError("a JSON comparison holds one target")
            return "\n".join(compare_text([r for r in results if r.target == t]) for t in targets)
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
