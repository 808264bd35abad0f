"""The named workloads: what the guest does after boot, deterministic given seed and size.

Takes: a booted guest (kernel, processes, system calls, one seeded random generator).
Hands on: `WORKLOADS` (name -> class) and `run_workload`, which sets one up and runs its
step `size` times, and hands it back for `finish` (what closes a run, after it is measured).
Every choice comes from the seeded generator and nothing depends on the backend, so every
backend runs the same instruction stream of hooks.

- fork: fork a 32-page process (page tables copied in the lazy-MMU bracket), the child
  writes (copy-on-write faults), sometimes execs, then exits.
- context-switch: four tasks (one a thread of another, one using the FPU, one with IOPL 3)
  take turns; each switch loads CR3 (unless threads), the kernel stack and the TLS.
- interrupts: interrupt-flag sections (save/restore, disable/enable, nested), idle halts
  until the next timer tick, long stretches of user work across ticks.
- timekeeping: time as a running kernel reads it (Linux 2.6.26, kernel/time/): the
  clocksource (gettimeofday, clock_gettime: the TSC through read_tsc), sched_clock (the
  scheduler's timestamps), TSCP and counters, settimeofday (which sets the kernel's own
  time, not the battery-backed clock). The wall clock (`get_wallclock`) is read only at
  boot (`timekeeping_init`) and at suspend and resume (`timekeeping_suspend`,
  `timekeeping_resume`); it is written only by the NTP-synchronized `sync_cmos_clock`,
  every 659 s. A run lasts milliseconds of guest time, so those happen once, in `finish`,
  after the run is measured: their values are compared, their price is not counted.
- syscalls: a mix of fast (sysenter) and slow (int $0x80) system calls.
- null-syscall: lmbench's `lat_syscall null`: getppid in a loop, the fast path.
- kbuild: a kernel build: user-mode compilation (cc1) for most of the time, with the
  kernel's share of a build of that era (see `Kbuild`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from . import kstructs as k
from .kernel import Kernel
from .process import Processes, Task
from .syscalls import Syscalls

PARENT_PAGES = 32


@dataclass
class Guest:
    """A booted guest: what workloads drive."""

    kernel: Kernel
    processes: Processes
    syscalls: Syscalls
    rng: random.Random


# ---- units that several workloads share ------------------------------------------------------


def fork_cycle(guest: Guest, parent: Task) -> None:
    """fork, let the child write (copy-on-write), perhaps exec, exit; the parent writes."""
    kernel, processes, rng = guest.kernel, guest.processes, guest.rng
    child = processes.fork(parent)
    processes.run(parent, touches=1)  # the parent runs on first: its writes now fault
    processes.switch_to(child)
    pages = sorted(child.space.pages)
    for _ in range(rng.randint(1, 3)):
        va = rng.choice(pages) + 8 * rng.randrange(512)
        kernel.user_write(va, rng.getrandbits(32))
        kernel.observe("child read", kernel.user_read(va))
    if rng.random() < 0.3:
        processes.exec(child, pages=4)
        processes.run(child, touches=2)
    guest.syscalls.invoke("getpid", fast=True)
    processes.switch_to(parent)
    processes.exit(child)
    processes.run(parent, touches=1)


def switch_cycle(guest: Guest, tasks: list[Task]) -> None:
    target = guest.rng.choice(tasks)
    guest.processes.switch_to(target)
    guest.processes.run(target, touches=2)
    if guest.rng.random() < 0.3:
        guest.syscalls.invoke("getpid", fast=True)


def irq_cycle(guest: Guest) -> None:
    kernel, rng = guest.kernel, guest.rng
    kind = rng.randrange(5)
    if kind == 0:
        flags = kernel.irq_save()
        kernel.work(rng.randrange(200, 3_000))
        if rng.random() < 0.3:
            inner = kernel.irq_save()
            kernel.work(rng.randrange(100, 1_000))
            kernel.irq_restore(inner)
        kernel.irq_restore(flags)
    elif kind == 1:
        kernel.irq.irq_disable()
        kernel.work(rng.randrange(200, 3_000))
        kernel.irq.irq_enable()
    elif kind == 2:
        kernel.irq.irq_disable()  # the idle loop: check for work, then sti; hlt
        kernel.irq.safe_halt()
    elif kind == 3:
        kernel.irq.halt()
    else:
        kernel.work(rng.randrange(50_000, 500_000))
    kernel.observe("irqs on", kernel.interrupts_enabled())
    kernel.observe("jiffies", kernel.jiffies())
    kernel.observe("tsc", kernel.cpu.read_tsc())


def clock_cycle(guest: Guest) -> None:
    """One reading of time on the kernel's hot path."""
    kernel, rng = guest.kernel, guest.rng
    time, cpu = kernel.time, kernel.cpu
    kinds = ["clocksource", "sched_clock", "tscp", "pmc", "settimeofday"]
    kind = rng.choices(kinds, [40, 35, 10, 8, 7])[0]
    if kind == "clocksource":  # getnstimeofday: the TSC clocksource, scaled
        kernel.observe(kind, cpu.read_tsc())
        kernel.work(60)
    elif kind == "sched_clock":
        kernel.observe(kind, time.sched_clock())
    elif kind == "tscp":
        if cpu.read_tscp is not None:
            kernel.observe(kind, cpu.read_tscp(k.TSC_AUX_SCRATCH))
        else:  # NULL under Xen: rdtsc, and the processor number the kernel keeps itself
            kernel.observe(kind, cpu.read_tsc())
            kernel.machine.store(k.TSC_AUX_SCRATCH, kernel.processor_id)
        kernel.observe("tsc aux", kernel.machine.load(k.TSC_AUX_SCRATCH))
    elif kind == "pmc":
        kernel.observe(kind, cpu.read_pmc(rng.randrange(2)))
    else:  # do_settimeofday: the clocksource read, then xtime in the kernel's memory
        kernel.observe(kind, cpu.read_tsc())
        kernel.work(400)
    kernel.work(rng.randrange(500, 5_000))


def persistent_clock(guest: Guest) -> None:
    """A suspend and resume, then the NTP sync of the battery-backed clock: the only calls
    of the wall-clock hooks after boot."""
    kernel, time = guest.kernel, guest.kernel.time
    kernel.observe("suspend wallclock", time.get_wallclock())  # timekeeping_suspend
    now = int(time.get_wallclock())  # timekeeping_resume
    kernel.observe("resume wallclock", now)
    kernel.observe("rtc sync", time.set_wallclock(now))  # sync_cmos_clock


# ---- the workloads ------------------------------------------------------------------------------


class Workload:
    """Set up once, then `step` as many times as the size says."""

    name: ClassVar[str]
    summary: ClassVar[str]

    def __init__(self, guest: Guest) -> None:
        self.guest = guest

    def setup(self) -> None:
        return None

    def step(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """What closes the run, once it is measured (rare events that belong to it)."""
        return None


class Fork(Workload):
    name = "fork"
    summary = "fork a 32-page process; the child writes, may exec, exits"

    def setup(self) -> None:
        self.parent = self.guest.processes.spawn(PARENT_PAGES)
        self.guest.processes.switch_to(self.parent)

    def step(self) -> None:
        fork_cycle(self.guest, self.parent)


class ContextSwitch(Workload):
    name = "context-switch"
    summary = "four tasks take turns: CR3 loads, kernel stacks, TLS, lazy FPU"

    def setup(self) -> None:
        processes = self.guest.processes
        first = processes.spawn(8, uses_fpu=True)
        self.tasks = [
            first,
            processes.spawn(8, iopl=3),
            processes.clone_thread(first),
            processes.spawn(8),
        ]
        processes.switch_to(first)

    def step(self) -> None:
        switch_cycle(self.guest, self.tasks)


class Interrupts(Workload):
    name = "interrupts"
    summary = "interrupt-flag sections, idle halts, timer ticks"

    def setup(self) -> None:
        self.guest.processes.switch_to(self.guest.processes.spawn(4))

    def step(self) -> None:
        irq_cycle(self.guest)


class Timekeeping(Workload):
    name = "timekeeping"
    summary = "time on the hot path: clocksource, sched_clock, counters; wall clock at suspend"

    def setup(self) -> None:
        self.guest.processes.switch_to(self.guest.processes.spawn(4))

    def step(self) -> None:
        clock_cycle(self.guest)

    def finish(self) -> None:
        persistent_clock(self.guest)


class SystemCalls(Workload):
    name = "syscalls"
    summary = "fast and slow system calls: copies, clocks, mmap, mprotect, kmap"

    def setup(self) -> None:
        self.guest.processes.switch_to(self.guest.processes.spawn(16))

    def step(self) -> None:
        self.guest.syscalls.random_call()
        self.guest.kernel.work(self.guest.rng.randrange(1_000, 10_000))


class NullSyscall(Workload):
    name = "null-syscall"
    summary = "lmbench lat_syscall null: getppid in a loop"

    def setup(self) -> None:
        self.guest.processes.switch_to(self.guest.processes.spawn(4))

    CALLS = 10  # per step, so that setting up the process is a small part of the run

    def step(self) -> None:
        for _ in range(self.CALLS):
            self.guest.syscalls.invoke("getpid", fast=True)
            self.guest.kernel.work(20)  # the loop in user mode around the call


class Kbuild(Workload):
    """A kernel build, as its share of time in the kernel says.

    Barham et al., "Xen and the Art of Virtualization" (SOSP 2003, section 4.1), report
    that native Linux spends about 7% of the CPU time of a build of Linux 2.4.21 in the OS
    (mostly file I/O, scheduling, memory management): the rest is the compiler in user
    mode. Each step
    is a stretch of user-mode compilation (`USER_WORK`, with the timer and network
    interrupts that fall in it) and then one kernel unit: a fork and exec of the next
    compiler, system calls (reads and writes of sources and objects, mmap, clocks),
    context switches, clock reads, idle waits. The units' mix is the old kbuild's; the
    user stretch is sized so that the kernel's share on native comes out near 7%
    (a test holds it between 5% and 10%).
    """

    name = "kbuild"
    summary = "a kernel build: ~93% user-mode compilation, forks, execs, system calls"
    USER_WORK = (150_000, 450_000)  # cycles of compilation between two kernel units

    def setup(self) -> None:
        processes = self.guest.processes
        self.make = processes.spawn(16)
        self.tasks = [self.make, processes.spawn(8), processes.spawn(8, uses_fpu=True)]
        processes.switch_to(self.make)

    def compile(self) -> None:
        """A stretch of the compiler's own work in user mode."""
        self.guest.kernel.work(self.guest.rng.randrange(*self.USER_WORK))

    def step(self) -> None:
        guest = self.guest
        self.compile()
        units = ["fork", "syscall", "switch", "clock", "irq"]
        unit = guest.rng.choices(units, [10, 45, 20, 10, 15])[0]
        if unit == "fork":
            guest.processes.switch_to(self.make)
            fork_cycle(guest, self.make)
        elif unit == "syscall":
            guest.syscalls.random_call()
        elif unit == "switch":
            switch_cycle(guest, self.tasks)
        elif unit == "clock":
            clock_cycle(guest)
        else:
            irq_cycle(guest)


WORKLOADS: dict[str, type[Workload]] = {
    w.name: w
    for w in (Fork, ContextSwitch, Interrupts, Timekeeping, SystemCalls, NullSyscall, Kbuild)
}


def run_workload(
    guest: Guest,
    name: str,
    size: int,
    progress: Callable[[int, int], None] | None = None,
    between: Callable[[], None] | None = None,
) -> Workload:
    """Set up workload `name` and run `size` steps; `between()` after each step (the other
    CPUs' turn), then `progress(done, size)`. Returns the workload, for its `finish`."""
    workload = WORKLOADS[name](guest)
    workload.setup()
    for done in range(1, size + 1):
        workload.step()
        if between is not None:
            between()
        if progress is not None:
            progress(done, size)
    return workload
