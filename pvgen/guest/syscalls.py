"""System calls: entry, exit, and the bodies the workloads call.

Takes: the kernel, its processes, and a seeded random generator (arguments).
Hands on: `Syscalls.invoke(name, fast=...)`: a fast call enters with sysenter and leaves
with irq_enable_syscall_ret (sti; sysexit; `irq_enable_sysexit` from Linux 2.6.27); on
x86_64 it enters with syscall and swapgs and leaves with irq_enable_syscall_ret (swapgs;
sysretq), or from 2.6.27 with `usergs_sysret64` (entry_64.S's `USERGS_SYSRET64`). A slow
one enters through the int $0x80 trap gate and leaves with iret (swapgs on both sides on
x86_64, after `adjust_exception_frame` from 2.6.27: ia32entry.S's `ia32_syscall`). Each
body uses the hooks a real one would: user copies that may
fault, clock reads, mapping and unmapping a page, changing a pte in place, a temporary
kernel mapping, port I/O. The value each call returns is recorded as a reading.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from . import kstructs as k
from .kernel import Kernel, KernelPanic
from .process import Processes
from .x86 import PAGE_SIZE

MMAP_BASE = k.USER_BASE + 0x0100_0000  # anonymous mappings live in a pmd of their own

#: Relative frequency of each call in the `syscalls` workload.
MIX: dict[str, int] = {
    "getpid": 25,
    "read": 15,
    "write": 15,
    "gettimeofday": 15,
    "mmap": 10,
    "mprotect": 8,
    "madvise": 5,
    "sendfile": 5,
    "outb": 2,
}


class Syscalls:
    """The system call layer of the simulated kernel."""

    def __init__(self, kernel: Kernel, processes: Processes, rng: random.Random) -> None:
        self.kernel = kernel
        self.processes = processes
        self.rng = rng
        self._bodies: dict[str, Callable[[], int]] = {
            "getpid": self._getpid,
            "read": self._read,
            "write": self._write,
            "gettimeofday": self._gettimeofday,
            "mmap": self._mmap,
            "mprotect": self._mprotect,
            "madvise": self._madvise,
            "sendfile": self._sendfile,
            "outb": self._outb,
        }

    def invoke(self, name: str, *, fast: bool) -> int:
        kernel = self.kernel
        long_mode = kernel.target.long_mode
        if fast:
            if long_mode:  # system_call (entry_64.S): syscall, then SWAPGS
                kernel.machine.syscall()
                kernel.cpu.swapgs()
                kernel.observe("per-cpu data", kernel.machine.gs_base())
            else:
                kernel.machine.sysenter()
            kernel.irq.irq_enable()
            result = self._bodies[name]()
            kernel.irq.irq_disable()
            # irq_enable_syscall_ret before 2.6.27 (on x86_64: swapgs; sysretq), then
            # irq_enable_sysexit, or usergs_sysret64 on x86_64
            getattr(kernel.cpu, kernel.sysexit_hook)()
        else:
            if kernel.machine.software_interrupt(k.SYSCALL_VECTOR) != k.ENTRY_SYSCALL:
                raise KernelPanic("int $0x80 reached the wrong handler")
            kernel.exception_entry()  # ia32_syscall's PARAVIRT_ADJUST_EXCEPTION_FRAME
            if long_mode:  # ia32_syscall: SWAPGS in, and again on the way out
                kernel.cpu.swapgs()
            result = self._bodies[name]()
            if long_mode:
                kernel.cpu.swapgs()
            kernel.cpu.iret()
        kernel.observe(name, result)
        return result

    def random_call(self) -> int:
        names, weights = list(MIX), list(MIX.values())
        name = self.rng.choices(names, weights)[0]
        return self.invoke(name, fast=self.rng.random() < 0.8)

    # ---- bodies ---------------------------------------------------------------------------

    def _user_address(self) -> int:
        pages = sorted(self.processes.current.space.pages)
        return self.rng.choice(pages) + 8 * self.rng.randrange(504)

    def _getpid(self) -> int:
        self.kernel.work(150)
        return self.processes.current.ident

    def _read(self) -> int:
        start = self._user_address()
        self.kernel.work(800)
        return sum(self.kernel.user_read(start + 8 * i) for i in range(self.rng.randint(1, 8)))

    def _write(self) -> int:
        start, count = self._user_address(), self.rng.randint(1, 8)
        for i in range(count):
            self.kernel.user_write(start + 8 * i, self.rng.getrandbits(32))
        self.kernel.work(800)
        return count

    def _gettimeofday(self) -> int:
        self.kernel.work(200)
        return int(self.kernel.time.sched_clock()) // 1000

    def _mmap(self) -> int:
        """Map a fresh page, use it, unmap it."""
        kernel, space = self.kernel, self.processes.current.space
        va = MMAP_BASE + PAGE_SIZE * self.rng.randrange(64)
        frame = kernel.mm.frames.allocate()
        kernel.machine.clear_frame(frame)
        kernel.mm.map_page(space, va, frame, writable=True)
        kernel.user_write(va + 16, self.rng.getrandbits(32))
        value = kernel.user_read(va + 16)
        kernel.mm.unmap_page(space, va, current=True)
        kernel.work(2_500)
        return value

    def _mprotect(self) -> int:
        space, va = self.processes.current.space, self._user_address() & ~(PAGE_SIZE - 1)
        self.kernel.mm.protect(space, va, writable=False, current=True)
        self.kernel.mm.protect(space, va, writable=True, current=True)
        self.kernel.work(1_200)
        return 0

    def _madvise(self) -> int:
        space, va = self.processes.current.space, self._user_address() & ~(PAGE_SIZE - 1)
        self.kernel.mm.age(space, va)
        self.kernel.work(600)
        return 0

    def _sendfile(self) -> int:
        """Read a page through a temporary kernel mapping (kmap) of its frame."""
        kernel = self.kernel
        frame = self.rng.choice(sorted(self.processes.current.space.pages.values()))
        address = kernel.mm.kmap(frame)
        value = kernel.machine.kernel_load(address + 8 * self.rng.randrange(512))
        kernel.mm.kunmap(self.processes.kernel_space, flush_all=self.rng.random() < 0.1)
        kernel.work(1_500)
        return value

    def _outb(self) -> int:
        self.kernel.cpu.io_delay()  # outb_p: the write, then a delay
        self.kernel.cpu.io_delay()
        self.kernel.work(300)
        return 0
