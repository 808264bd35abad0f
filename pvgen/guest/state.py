"""What the guest can see: the state every backend must leave identical.

Takes: a kernel and its processes after a workload.
Hands on: `GuestState`, captured the way the kernel would look: page-table entries through
the _val hooks, memory through the kernel's mappings, translations through the MMU (TLB
included), registers and descriptors through the hooks, and a digest of every value the
kernel read back during the run. Costs are not part of it, nor is what a backend keeps for
itself (a hypervisor's shared pages, the machine frames behind Xen's guest frames, the
bytes `patch` wrote over call sites, boot messages).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import fields
from functools import partial

from ..records import record
from . import apic as lapic
from . import kstructs as k
from .kernel import Kernel
from .machine import PageFault
from .mm import AddressSpace
from .process import Processes
from .x86 import (
    EFLAGS_IF,
    FRAME_MASK,
    MSR_EFER,
    MSR_PAT,
    MSR_SYSENTER_CS,
    MSR_SYSENTER_EIP,
    MSR_SYSENTER_ESP,
    MSR_TSC_AUX,
    PAGE_SHIFT,
)

STATE_MSRS = (MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP, MSR_EFER, MSR_PAT, MSR_TSC_AUX)
STATE_APIC_REGISTERS = (
    lapic.SVR,
    lapic.TPR,
    lapic.LVT_TIMER,
    lapic.TIMER_INITIAL,
    lapic.TIMER_CURRENT,
    lapic.TIMER_DIVIDE,
)


@record
class GuestState:
    """Everything guest-visible, in canonical order."""

    page_tables: tuple[tuple[int, int, int, int], ...]  # (space, level, va, entry)
    memory: tuple[tuple[int, int, str], ...]  # (space, va, digest of the page)
    translations: tuple[tuple[int, int], ...]  # current space: (va, frame the MMU reaches)
    registers: tuple[tuple[str, int], ...]
    descriptors: tuple[tuple[str, int, int], ...]  # (table, slot, descriptor)
    readings: int
    readings_digest: str
    # The other CPUs, each as its kernel sees it: (cpu, what, value); translations of its
    # address space's pages through its own TLB among them.
    other_cpus: tuple[tuple[int, str, int], ...] = ()

    def digest(self) -> str:
        """A short fingerprint: equal states have equal digests."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]

    def differences(self, other: GuestState, limit: int = 5) -> list[str]:
        """Where two states differ, a few items per field (empty when equal)."""
        found: list[str] = []
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if mine == theirs:
                continue
            if isinstance(mine, tuple):
                extra = sorted(set(mine) ^ set(theirs), key=repr)[:limit]
                found.append(f"{item.name}: {extra}")
            else:
                found.append(f"{item.name}: {mine!r} != {theirs!r}")
        return found


def readings_digest(readings: Iterable[tuple[str, int]]) -> str:
    digest = hashlib.sha256()
    for label, value in readings:
        digest.update(f"{label}={value}\n".encode())
    return digest.hexdigest()


def capture(kernel: Kernel, processes: Processes) -> GuestState:
    spaces = _live_spaces(processes)
    tables = tuple(
        (space.ident, level, va, value)
        for space in spaces
        for level, va, value in kernel.mm.entries(space, _slots(kernel, processes, space))
    )
    return GuestState(
        page_tables=tables,
        memory=tuple(_memory(kernel, spaces)),
        translations=tuple(_translations(kernel, processes.current.space)),
        registers=tuple(_registers(kernel)),
        descriptors=tuple(_descriptors(kernel)),
        readings=len(kernel.readings),
        readings_digest=readings_digest(kernel.readings),
        other_cpus=tuple(_other_cpus(kernel)),
    )


def _other_cpus(kernel: Kernel) -> Iterator[tuple[int, str, int]]:
    machine = kernel.machine
    for cpu in range(1, len(machine.cpus)):
        yield from machine.run_on(cpu, partial(_this_cpu_list, kernel, cpu))


def _this_cpu_list(kernel: Kernel, cpu: int) -> list[tuple[int, str, int]]:
    return list(_this_cpu(kernel, cpu))


def _this_cpu(kernel: Kernel, cpu: int) -> Iterator[tuple[int, str, int]]:
    yield cpu, "cr0", int(kernel.cpu.read_cr0())
    yield cpu, "cr3", int(kernel.mmu.read_cr3())
    yield cpu, "cr4", int(kernel.cpu.read_cr4())
    yield cpu, "interrupts enabled", int(kernel.irq.save_fl()) & EFLAGS_IF
    yield cpu, "tsc", kernel.machine.tsc
    # Its own GDT and TSS (per-CPU gdt_page and init_tss), and what its registers point at.
    kernel.cpu.store_gdt(k.DTR_SCRATCH)
    yield cpu, "gdt base", kernel.machine.load(k.DTR_SCRATCH + k.DTR_ADDRESS)
    yield cpu, "tr", int(kernel.cpu.store_tr())
    yield cpu, "tss sp0", kernel.machine.load(k.tss_address(cpu) + k.TSS_SP0)
    yield cpu, "reschedule interrupts", kernel.machine.load(k.RESCHED_COUNT + 8 * cpu)
    for slot in range(k.GDT_ENTRIES):
        yield cpu, f"gdt {slot}", kernel.machine.load(k.gdt_address(cpu) + 8 * slot)
    space = kernel.current_space
    if space is not None:
        for va, frame in _translations(kernel, space):
            yield cpu, f"translation {va:#x}", frame


def _live_spaces(processes: Processes) -> list[AddressSpace]:
    unique = {id(task.space): task.space for task in processes.tasks}
    return sorted(unique.values(), key=lambda space: space.ident)


def _slots(kernel: Kernel, processes: Processes, space: AddressSpace) -> list[int]:
    """The top-level slots compared: user space's, and the kernel's own for its space."""
    target = kernel.target
    user = list(target.user_slots)
    return [*user, target.kernel_slot] if space is processes.kernel_space else user


def _memory(kernel: Kernel, spaces: list[AddressSpace]) -> Iterator[tuple[int, int, str]]:
    for space in spaces:
        for va in sorted(space.pages):
            ptep = kernel.mm.walk(space, va)
            frame = (kernel.mm.read_pte(ptep) & FRAME_MASK) >> PAGE_SHIFT if ptep else 0
            words = kernel.machine.frame_words(frame)
            yield space.ident, va, hashlib.sha256(repr(words).encode()).hexdigest()[:16]


def _translations(kernel: Kernel, space: AddressSpace) -> Iterator[tuple[int, int]]:
    machine = kernel.machine
    for va in sorted(space.pages):
        try:
            frame = machine.guest_frame(machine.translate(va, write=False) >> PAGE_SHIFT)
        except PageFault:
            frame = -1
        yield va, frame


def _registers(kernel: Kernel) -> Iterator[tuple[str, int]]:
    cpu, mmu, machine = kernel.cpu, kernel.mmu, kernel.machine
    yield "cr0", cpu.read_cr0()
    yield "cr2", mmu.read_cr2()
    yield "cr3", mmu.read_cr3()
    yield "cr4", cpu.read_cr4()
    yield "interrupts enabled", int(kernel.irq.save_fl()) & EFLAGS_IF
    yield "iopl", machine.iopl
    yield "tr", cpu.store_tr()
    for regno in (0, 1, 2, 3, 6, 7):
        yield f"dr{regno}", cpu.get_debugreg(regno)
    for msr in STATE_MSRS:
        yield f"msr {msr:#x}", cpu.read_msr(msr, k.MSR_ERROR_SCRATCH)
    for register in STATE_APIC_REGISTERS:
        yield f"apic {register:#x}", kernel.apic.apic_read(register)
    yield "jiffies", kernel.jiffies()
    yield "device interrupts", machine.kernel_load(k.DEVICE_EVENTS_VA)
    yield "tsc", machine.tsc
    yield "wallclock", kernel.time.get_wallclock()
    yield "pending interrupts", len(machine.pending)
    yield "interrupts in service", len(machine.in_service)
    yield "interrupt frames", len(machine.interrupt_frames)
    yield "ldt base", machine.ldtr[0]
    yield "ldt entries", machine.ldtr[1]
    yield "tss sp0", machine.load(k.TSS_ADDRESS + k.TSS_SP0)
    for name, store in (("gdt", cpu.store_gdt), ("idt", cpu.store_idt)):
        store(k.DTR_SCRATCH)
        yield f"{name} base", machine.load(k.DTR_SCRATCH + k.DTR_ADDRESS)
        yield f"{name} limit", machine.load(k.DTR_SCRATCH + k.DTR_SIZE)


def _descriptors(kernel: Kernel) -> Iterator[tuple[str, int, int]]:
    load = kernel.machine.load
    for slot in range(k.GDT_ENTRIES):
        yield "gdt", slot, load(k.GDT_ADDRESS + 8 * slot)
    for slot in range(k.IDT_ENTRIES):
        gate = load(k.IDT_ADDRESS + 8 * slot)
        if gate:
            yield "idt", slot, gate
