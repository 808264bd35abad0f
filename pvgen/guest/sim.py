"""One simulation run: a machine, a backend chosen at boot, the kernel, a workload.

Takes: a backend name, a workload name, a target (i386, i386_pae or x86_64; `targets`), a
size and a seed, whether call sites are patched at boot (and the bindings, loaded from the
spec when not given).
Hands on: `RunResult`: the boot's and the workload's measurements (cycles, their breakdown,
hypercalls, batches, traps, VM exits, calls and cycles per hook), which backend handled
each hook, what patching made of each hook's call sites, the guest-visible state at the
end and the values read along the way. `compare` runs every backend on every workload; `patching_pairs` runs backends with patching off and on.
`BootFailure` (from `callsites`) says why a backend cannot boot, such as VMI without
patching.

Everything is deterministic: guest time advances with guest work only, and every choice
comes from one `random.Random` seeded from the workload's name and the seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from ..records import record
from . import kstructs as k
from .backends import BACKENDS, IMPLEMENTATIONS, BackendMismatch, implementations, install
from .bindings import Bindings, load_bindings
from .callsites import BootFailure, CallSites, SitePatch
from .kernel import Kernel
from .machine import Device, Machine, Platform
from .meter import Measurement
from .process import Processes
from .smp import Smp
from .state import GuestState, capture
from .syscalls import Syscalls
from .targets import DEFAULT_TARGET, TARGETS
from .targets import target as find_target
from .workloads import WORKLOADS, Guest, run_workload

# PAE paging, as 32-bit Xen guests require, unless a run asks for another target. A backend
# runs only on the targets its `@if` gives: lguest on i386 (2.6.26 builds it without PAE
# only), Xen on i386_pae, VMI on both 32-bit targets, native and KVM on all three.
TARGET = DEFAULT_TARGET
DEFAULT_SIZE = 100
NETWORK_GAPS = (5_000, 40_000)  # cycles between a busy network card's interrupts

#: progress(done, total, label): called after each workload step.
Progress = Callable[[int, int, str], None]


@record
class RunResult:
    """What one run cost and what the guest saw."""

    backend: str
    workload: str
    size: int
    seed: int
    lazy_mmu: bool
    patching: bool
    boot: Measurement
    run: Measurement  # the workload alone
    handled_by: dict[str, str]  # hook path -> backend whose method the dispatch bound
    state: GuestState
    readings: tuple[tuple[str, int], ...]
    environment: dict[str, str]
    log: tuple[str, ...]
    sites: dict[str, SitePatch]  # hook path -> what patching made of its call sites
    clobbered: tuple[tuple[str, str, int], ...]  # (hook, register, value) a call broke
    cpus: int = 1
    pcpus: int = 1
    target: str = TARGET
    pv_spinlocks: bool = True


def simulate(
    backend: str,
    workload: str,
    *,
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    lazy_mmu: bool = True,
    patching: bool = True,
    cpus: int = 1,
    pcpus: int | None = None,
    target: str = TARGET,
    bindings: Bindings | None = None,
    progress: Progress | None = None,
    pv_spinlocks: bool = True,
) -> RunResult:
    """Boot a guest on `backend` and run `workload` for `size` steps. Raises
    `BackendMismatch` if the spec does not give `backend` the simulated target, and
    `BootFailure` if the backend cannot boot so (a must-patch hook, patching off). With
    `cpus` > 1 the other CPUs run a server process's threads (see `smp`), on `pcpus`
    physical CPUs (default: as many as `cpus`; on bare metal always as many). Without
    `pv_spinlocks`, a backend whose pv_lock_ops block a waiting vCPU (Xen from 2.6.27)
    only spins, as before its kicker event channels are bound."""
    if workload not in WORKLOADS:
        raise ValueError(f"unknown workload '{workload}'; choose from {', '.join(WORKLOADS)}")
    kernel = prepare(
        backend,
        seed=seed,
        lazy_mmu=lazy_mmu,
        patching=patching,
        target=target,
        bindings=bindings,
    )
    machine, sites = kernel.machine, kernel.sites
    assert sites is not None
    for installed in sites.backends:
        if hasattr(installed, "pv_spinlocks"):  # release27.XenHooks27
            setattr(installed, "pv_spinlocks", pv_spinlocks)  # noqa: B010
    rng = random.Random(f"{workload}/{seed}")
    processes = Processes(kernel, kernel.boot(), rng)
    bare = IMPLEMENTATIONS[backend].PLATFORM is Platform.BARE_METAL  # no hypervisor to share
    smp = Smp(kernel, processes, sites.backends, cpus, cpus if bare else pcpus or cpus, seed)
    smp.boot()
    booted = machine.meter.reading()
    guest = Guest(kernel, processes, Syscalls(kernel, processes, rng), rng)
    label = f"{backend} {workload}"
    step = None if progress is None else lambda done, total: progress(done, total, label)
    ran = run_workload(guest, workload, size, step, smp.between_steps if smp.threads else None)
    finished = machine.meter.reading()
    ran.finish()  # compared with the rest of the state, not priced
    readings = tuple(kernel.readings)
    return RunResult(
        backend=backend,
        workload=workload,
        size=size,
        seed=seed,
        lazy_mmu=lazy_mmu,
        patching=patching,
        boot=booted,
        run=finished.minus(booted),
        handled_by=sites.handled_by,
        state=capture(kernel, processes),
        cpus=cpus,
        pcpus=smp.schedule.pcpus,
        target=target,
        pv_spinlocks=pv_spinlocks,
        readings=readings,
        environment=dict(kernel.environment),
        log=tuple(kernel.log),
        sites=sites.summary(),
        clobbered=tuple(sites.clobbered),
    )


def prepare(
    backend: str,
    *,
    seed: int = 0,
    lazy_mmu: bool = True,
    patching: bool = True,
    target: str = TARGET,
    bindings: Bindings | None = None,
) -> Kernel:
    """A machine with `backend` installed, its call sites laid out, and the kernel, not yet
    booted (`Kernel.boot` patches the sites). Raises `BackendMismatch` as `simulate`, and
    ValueError for a backend or target the guest does not know."""
    if backend not in IMPLEMENTATIONS:
        raise ValueError(f"unknown backend '{backend}'; choose from {', '.join(BACKENDS)}")
    paging = find_target(target)
    bindings = bindings or load_bindings()
    if target not in bindings.patch_ids:
        raise BackendMismatch(
            f"the guest runs target '{target}', which the spec does not declare"
            f" (it has {', '.join(sorted(bindings.patch_ids))})"
        )
    targets = bindings.runs_on.get(backend, ())
    if target not in targets:
        raise BackendMismatch(
            f"backend '{backend}' does not run on {target}: the spec gives it"
            f" {', '.join(targets) or 'no target'}"
        )
    unmodelled = unmodelled_reason(bindings, backend, target)
    if unmodelled:
        raise BackendMismatch(f"backend '{backend}' is not modelled on {target}: {unmodelled}")
    machine = Machine(IMPLEMENTATIONS[backend].PLATFORM, target=paging)
    machine.attach_device(Device(k.DEVICE_VECTOR, random.Random(f"device/{seed}"), NETWORK_GAPS))
    implementation, native = install(bindings, backend, machine, target)
    ops = bindings.dispatch(implementation, native, target)
    patch_ids = bindings.patch_ids[target]
    sites = CallSites(
        ops,
        bindings.hooks,
        patch_ids,
        bindings.conventions,
        bindings.must_patch.get(backend, ()),
        machine,
        backend,
    )
    sites.bind_patcher(implementation, native)
    return Kernel(
        ops,
        machine,
        bindings.types,
        patch_ids,
        sites=sites,
        patching=patching,
        lazy_mmu=lazy_mmu,
    )


def unmodelled_reason(bindings: Bindings, backend: str, target: str) -> str:
    """Why the guest does not model `backend` on `target` although the spec gives it that
    target (the release's implementation says, `Backend.UNMODELLED_TARGETS`); empty when
    it does."""
    implementation = implementations(bindings).get(backend)
    if implementation is None:
        return ""
    return implementation.UNMODELLED_TARGETS.get(target, "")


def _runs(bindings: Bindings, backend: str, target: str) -> bool:
    return target in bindings.runs_on.get(backend, ()) and not unmodelled_reason(
        bindings, backend, target
    )


def runnable(
    bindings: Bindings | None = None, *, patching: bool = True, target: str = TARGET
) -> tuple[str, ...]:
    """The backends that run on `target` (the spec gives it them and the guest models
    them there), native first; without patching, only those that need no call site
    patched."""
    bindings = bindings or load_bindings()
    return tuple(
        b
        for b in BACKENDS
        if _runs(bindings, b, target) and (patching or not bindings.must_patch.get(b))
    )


def targets_of(backend: str, bindings: Bindings | None = None) -> tuple[str, ...]:
    """The targets the guest models that `backend` runs on, in the guest's order."""
    bindings = bindings or load_bindings()
    return tuple(t for t in TARGETS if _runs(bindings, backend, t))


def compare(
    *,
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    backends: Sequence[str] | None = None,
    workloads: Sequence[str] = tuple(WORKLOADS),
    patching: bool = True,
    cpus: int = 1,
    pcpus: int | None = None,
    target: str = TARGET,
    bindings: Bindings | None = None,
    progress: Progress | None = None,
    pv_spinlocks: bool = True,
) -> list[RunResult]:
    """Every backend that runs on `target` (or those given) on every workload, workload by
    workload; without patching, the backends that boot without it."""
    bindings = bindings or load_bindings()
    if backends is None:
        backends = runnable(bindings, patching=patching, target=target)
    return [
        simulate(
            b,
            w,
            size=size,
            seed=seed,
            patching=patching,
            cpus=cpus,
            pcpus=pcpus,
            target=target,
            bindings=bindings,
            progress=progress,
            pv_spinlocks=pv_spinlocks,
        )
        for w in workloads
        for b in backends
    ]


@record
class PatchingPair:
    """One backend on one workload, with its call sites left alone and patched."""

    backend: str
    unpatched: RunResult | None  # None: the backend cannot boot without patching
    refused: str  # why not, when unpatched is None
    patched: RunResult


def patching_pairs(
    backends: Sequence[str],
    workload: str,
    *,
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    cpus: int = 1,
    pcpus: int | None = None,
    target: str = TARGET,
    bindings: Bindings | None = None,
    progress: Progress | None = None,
) -> list[PatchingPair]:
    """Each backend on `workload` twice, patching off and on: what patching buys."""
    bindings = bindings or load_bindings()
    pairs = []
    for backend in backends:
        patched = simulate(
            backend,
            workload,
            size=size,
            seed=seed,
            cpus=cpus,
            pcpus=pcpus,
            target=target,
            bindings=bindings,
            progress=progress,
        )
        try:
            unpatched: RunResult | None = simulate(
                backend,
                workload,
                size=size,
                seed=seed,
                patching=False,
                cpus=cpus,
                pcpus=pcpus,
                target=target,
                bindings=bindings,
                progress=progress,
            )
            refused = ""
        except BootFailure as exc:
            unpatched, refused = None, str(exc)
        pairs.append(PatchingPair(backend, unpatched, refused, patched))
    return pairs
