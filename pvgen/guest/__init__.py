"""A simulated x86 guest whose kernel calls every paravirt operation through the dispatch
object generated from specs/paravirt.pvspec (Linux 2.6.26), or from the Linux 2.6.27
release spec (`--spec specs/linux/linux-2.6.27.pvspec`, with pv_lock_ops), with the
backend chosen at boot.

It shows what each backend costs, which hooks are hot, what batching buys, and that
paravirtualization does not change what the guest sees: every backend must leave the same
guest-visible state after the same workload.

Modules, in the order a run uses them:

| module | takes | hands on |
|---|---|---|
| `bindings.py` | the spec | the generated Python package, imported under a private name |
| `backend_abi.py` | a frozen release, the spec | per table: whether a backend built against that release loads |
| `costs.py` | - | the one table of simulated cycle costs (sources: docs/sim.md) |
| `meter.py` | charges, events | a run's measurements |
| `x86.py` | - | architectural bits, MSRs, descriptor formats |
| `targets.py` | a target name | its paging (2, 3 or 4 levels), entry size, kernel entry, pointer size |
| `machine.py`, `apic.py` | instructions | CPUs, memory, paging, TLBs, APICs, interrupts, IPIs |
| `backends/` | the machine, the stubs | native, xen, vmi, lguest, kvm as 2.6.26 set them, and their 2.6.27 revisions (`release27.py`, pv_lock_ops); the release matching a spec; hypercall gates |
| `locks.py` | - | spinlocks in wall time: holds, the interface lock hooks wait through, `Deadlock` |
| `callsites.py` | the dispatch object, the hooks' conventions | call sites laid out, patched at boot, run from their bytes; calls and cycles per hook; broken register contracts |
| `probe.py` | a dispatch object | hook call counts (for the bench and tests) |
| `kstructs.py` | - | the kernel's memory map and structure layouts |
| `kernel.py`, `mm.py`, `process.py`, `syscalls.py` | the dispatch object | the guest kernel |
| `smp.py` | a booted kernel | secondary CPUs with their own GDT and TSS, their threads, TLB shootdown, the reschedule IPI, spinlocks (inline tickets on 2.6.26, pv_lock_ops on 2.6.27) and their wall time, vCPU scheduling |
| `workloads.py` | a booted guest | the named workloads |
| `state.py` | a kernel | the guest-visible state |
| `sim.py` | names, size, seed | `RunResult`s |
| `report.py` | results | text tables and JSON |
| `bench.py` | - | dispatch overhead and the batching figure |

A run is on one of the spec's three targets (`targets`): i386 (2-level paging, 4-byte
entries), i386_pae (the default) or x86_64 (4-level paging, syscall/sysret and swapgs, 64-bit
call sites and patch set); a backend runs only on the targets its `@if` gives (lguest on
i386, Xen on i386_pae, VMI on both 32-bit ones, native and KVM on all three) and is refused
elsewhere. On the 2.6.27 spec the 64-bit kernel returns from system calls through
`usergs_sysret64` and adjusts exception frames through its hook; that spec also gives
Xen x86_64, which the guest does not model (`Backend.UNMODELLED_TARGETS`): such a run is
refused with `BackendMismatch` as well.

What the model leaves out, on purpose: the x86_64 kernel's own layouts (its 16-byte gates
and system descriptors, its registers r8-r15; the simulated CPU keeps the 32-bit register
file and descriptor formats on every target); guest time
that excludes the price of privileged operations (so time, and with it every interrupt,
falls at the same point on every backend); and where a real backend also changed what the
guest sees (Xen and lguest masking CPUID bits, lguest's missing APIC, Xen refusing to set
the wall clock of an unprivileged guest, Xen and lguest hiding SEP so that system calls are
int $0x80) the model keeps the guest's view and prices the backend's route to it. Xen's
machine frames in page tables are modelled, and pte_val and its peers hide them, as they do
in Linux. With several CPUs, the kernel's scratch words are shared (one CPU runs at a time,
and each use completes before another CPU runs; each CPU has its own GDT and TSS), the
workload runs on CPU 0 only, and vCPU scheduling prices waiting (spinning, or blocking in
Xen's pv spinlocks) without changing what runs; see docs/sim-smp.md.
"""

from __future__ import annotations

from .backends import BACKENDS
from .sim import DEFAULT_SIZE, TARGET, RunResult, compare, runnable, simulate
from .targets import TARGETS
from .workloads import WORKLOADS

__all__ = [
    "BACKENDS",
    "DEFAULT_SIZE",
    "TARGET",
    "TARGETS",
    "WORKLOADS",
    "RunResult",
    "compare",
    "runnable",
    "simulate",
]
