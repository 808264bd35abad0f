"""Processes: tasks, their address spaces, and switching between them.

Takes: a booted `Kernel` and a seeded random generator (for what programs put in memory).
Hands on: `Processes`: spawn (load a program), clone a thread, fork, exec, exit, and the
context switch, which runs inside the lazy-CPU bracket (CR3 load, kernel stack, TLS) with
interrupts off; `run` lets a task touch its memory as a user program would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from . import kstructs as k
from .kernel import Kernel, KernelPanic
from .mm import AddressSpace, SlotAllocator
from .x86 import CR0_TS, PAGE_SIZE, WORDS_PER_PAGE, segment_descriptor

WORK_SWITCH = 900
WORK_LOAD_PAGE = 700
WORK_EXEC = 12_000
WORK_EXIT = 2_500


@dataclass
class Task:
    """A thread of control with its thread_struct and the address space it runs in."""

    ident: int
    thread: int  # address of its thread_struct
    space: AddressSpace
    iopl: int = 0
    uses_fpu: bool = False


class Processes:
    """Tasks of the simulated kernel; starts with the idle task, running on the kernel's mm."""

    def __init__(self, kernel: Kernel, kernel_space: AddressSpace, rng: random.Random) -> None:
        self.kernel = kernel
        self.rng = rng
        self.kernel_space = kernel_space
        self.threads = SlotAllocator(k.THREADS)
        self.tasks: list[Task] = []
        self._idents = 0
        self.idle = self._new_task(kernel_space)
        self.current = self.idle
        kernel.cpu.load_sp0(k.TSS_ADDRESS, self.idle.thread)
        kernel.cpu.load_tls(self.idle.thread, 0)
        kernel.current_space = kernel_space

    def _new_task(self, space: AddressSpace, tls: list[int] | None = None) -> Task:
        task = Task(self._idents, self.threads.allocate(), space)
        self._idents += 1
        store = self.kernel.machine.store
        store(task.thread + k.THREAD_SP0, k.KERNEL_STACKS + (task.ident + 1) * k.STACK_SIZE)
        for i, descriptor in enumerate(tls or [0] * k.TLS_ENTRIES):
            store(task.thread + k.THREAD_TLS + 8 * i, descriptor)
        self.tasks.append(task)
        return task

    def _random_tls(self) -> list[int]:
        bases = [self.rng.randrange(0x1000, 0x0800_0000, PAGE_SIZE) for _ in range(k.TLS_ENTRIES)]
        return [segment_descriptor(base, 0xFFFFF, 0x2, 3) for base in bases]

    def _tls(self, task: Task) -> list[int]:
        load = self.kernel.machine.load
        return [load(task.thread + k.THREAD_TLS + 8 * i) for i in range(k.TLS_ENTRIES)]

    def _loaded_space(self, pages: int) -> AddressSpace:
        """A new address space with `pages` pages of program data (execve's loader)."""
        mm, machine = self.kernel.mm, self.kernel.machine
        space = mm.new_space()
        for i in range(pages):
            frame = mm.frames.allocate()
            machine.dma_frame(frame, [self.rng.getrandbits(32) for _ in range(WORDS_PER_PAGE)])
            self.kernel.work(WORK_LOAD_PAGE)
            mm.map_page(space, k.USER_BASE + i * PAGE_SIZE, frame, writable=True)
        return space

    # ---- life cycle -----------------------------------------------------------------------

    def spawn(self, pages: int, *, iopl: int = 0, uses_fpu: bool = False) -> Task:
        task = self._new_task(self._loaded_space(pages), self._random_tls())
        task.iopl, task.uses_fpu = iopl, uses_fpu
        return task

    def clone_thread(self, parent: Task) -> Task:
        """A thread sharing the parent's address space (no CR3 load between the two)."""
        return self._new_task(parent.space, self._random_tls())

    def fork(self, parent: Task) -> Task:
        space = self.kernel.mm.fork_space(parent.space, parent_is_current=parent is self.current)
        child = self._new_task(space, self._tls(parent))
        child.iopl, child.uses_fpu = parent.iopl, parent.uses_fpu
        return child

    def exec(self, task: Task, pages: int) -> None:
        old = task.space
        task.space = self._loaded_space(pages)
        self.kernel.mmu.activate_mm(old.struct, task.space.struct)
        if task is self.current:
            self.kernel.mmu.write_cr3(task.space.pgd)
            self.kernel.current_space = task.space
        self.kernel.work(WORK_EXEC)
        if not any(t.space is old for t in self.tasks):
            self.kernel.mm.release_space(old)

    def exit(self, task: Task) -> None:
        if task is self.idle:
            raise KernelPanic("the idle task cannot exit")
        if task is self.current:
            self.switch_to(self.idle)
        self.tasks.remove(task)
        self.threads.release(task.thread)
        if not any(t.space is task.space for t in self.tasks):
            self.kernel.mm.release_space(task.space)
        self.kernel.work(WORK_EXIT)

    # ---- scheduling -----------------------------------------------------------------------

    def switch_to(self, target: Task) -> None:
        """context_switch: the CPU state changes batched in the lazy-CPU bracket, irqs off."""
        previous = self.current
        if target is previous:
            return
        kernel, cpu = self.kernel, self.kernel.cpu
        flags = kernel.irq_save()
        if previous.uses_fpu:
            cpu.write_cr0(int(cpu.read_cr0()) | CR0_TS)  # lazy FPU: trap on next use
        cpu.lazy_mode.enter()
        if target.space is not previous.space:
            kernel.mmu.write_cr3(target.space.pgd)
        cpu.load_sp0(k.TSS_ADDRESS, target.thread)
        cpu.load_tls(target.thread, 0)
        if target.iopl != previous.iopl:
            cpu.set_iopl_mask(target.iopl << 12)
        cpu.lazy_mode.leave()
        self.current = target
        kernel.current_space = target.space
        kernel.work(WORK_SWITCH)
        kernel.irq_restore(flags)

    def run(self, task: Task, touches: int) -> None:
        """The current task runs: it uses the FPU if it does, and touches its pages."""
        kernel = self.kernel
        if task.uses_fpu and int(kernel.cpu.read_cr0()) & CR0_TS:
            kernel.cpu.clts()  # the device-not-available trap hands the FPU back
        pages = sorted(task.space.pages)
        for _ in range(touches):
            va = self.rng.choice(pages) + 8 * self.rng.randrange(512)
            if self.rng.random() < 0.5:
                kernel.user_write(va, self.rng.getrandbits(32))
            kernel.observe("user read", kernel.user_read(va))
        kernel.work(self.rng.randrange(2_000, 20_000))
