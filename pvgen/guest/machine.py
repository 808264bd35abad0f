"""The simulated x86 machine: the parts of a CPU that paravirt hooks touch, with a price on
every operation.

Takes: instructions from the native backend (executed as the guest kernel) or from a
hypervisor model (executed on the guest's behalf, `as_hypervisor`), the kernel's plain
memory accesses, and guest work (`advance`).
Hands on: register, memory and device state; page faults and interrupts delivered into the
kernel through the IDT; every cycle charged to the meter.

What is modelled: EFLAGS.IF and IOPL; CR0, CR2, CR3, CR4; debug registers; MSRs; the TSC;
GDT/IDT/LDT registers and descriptors in memory; the paging of the target the kernel was
built for (`targets`: 2-level with 4-byte entries, PAE, or 4-level) walked in simulated
memory; a TLB that caches translations until it is flushed; a local
APIC timer and devices that interrupt at seeded times; pending and in-service interrupts;
a cycle counter.

Two clocks. `meter.cycles` is what the run cost. The TSC is guest time: it advances only
with the guest's own work, never with the price of a privileged operation or a trip into a
hypervisor, much as a hypervisor that offsets the TSC hides its own time. That is what makes
timer interrupts (and every clock reading) fall at the same points on every backend, so
that what the guest sees can be compared exactly.

Memory is a sparse set of 4 KiB frames of 64-bit words; every address is 8-byte aligned.
Kernel pointers are guest-physical addresses (the kernel's direct map is the identity);
`p2m` turns them into machine addresses, which is the identity except under Xen, whose
domain builder hands the guest scattered machine frames. Page-table entries, CR3 and the
walker use machine addresses.

A platform decides what a privileged instruction costs when the guest executes it:
natively on bare metal; plus a trap into the hypervisor when the kernel runs outside
ring 0; plus a VM exit for the instructions VT-x intercepts.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from . import apic as lapic
from .apic import LocalApic
from .costs import (
    CATEGORY,
    CYCLES,
    EXITS_UNDER_VTX,
    HYPERVISOR,
    TRAPS_WHEN_DEPRIVILEGED,
    VTX_EXIT_HANDLING,
    WORK,
    Cost,
)
from .meter import INTERRUPT, PAGE_FAULT, TLB_FLUSH, TLB_MISS, TRAP, VM_EXIT, Meter
from .targets import I386_PAE, Target
from .x86 import (
    CPUID_LEAVES,
    CR0_ET,
    CR0_PE,
    CR0_PG,
    CR0_TS,
    CR0_WP,
    CR4_PAE,
    CR4_PGE,
    CR4_PSE,
    EFLAGS_FIXED,
    EFLAGS_IF,
    EFLAGS_IOPL_SHIFT,
    FRAME_MASK,
    INITIAL_MSRS,
    INTERRUPT_GATE,
    MSR_GS_BASE,
    MSR_KERNEL_GS_BASE,
    MSR_LSTAR,
    MSR_SYSCALL_MASK,
    MSR_SYSENTER_EIP,
    MSR_TSC,
    MSR_TSC_AUX,
    PAGE_SHIFT,
    PAGE_SIZE,
    PTE_GLOBAL,
    PTE_PRESENT,
    PTE_RW,
    PTE_USER,
    READ_ONLY_MSRS,
    TSS_BUSY_BIT,
    WORDS_PER_PAGE,
    decode_gate,
)

T = TypeVar("T")

# ---- fixed parameters of the simulated machine -------------------------------------------

CPU_KHZ = 2_000_000  # 2 GHz
RAM_FRAMES = 16_384  # 64 MiB of guest RAM
RTC_EPOCH = 1_214_870_400  # the battery-backed clock reads 2008-07-01 00:00 UTC at TSC 0
TLB_ENTRIES = 64


class Platform(enum.Enum):
    """Where the guest kernel runs, which decides what its privileged instructions cost."""

    BARE_METAL = "bare metal"
    DEPRIVILEGED = "outside ring 0 (privileged instructions trap)"
    HARDWARE_ASSISTED = "VT-x with shadow paging (intercepted instructions exit)"


class PageFault(Exception):
    """A translation failed; the machine has set CR2. `error` is the x86 error code."""

    def __init__(self, address: int, error: int) -> None:
        super().__init__(f"page fault at {address:#x} (error {error:#x})")
        self.address = address
        self.error = error


class MachineError(Exception):
    """The kernel asked the hardware for something impossible (a bug in the simulation)."""


#: The kernel's entry point, called by the machine to run the handler at a gate's offset.
KernelEntry = Callable[[int, int], None]


class InterruptSource(Protocol):
    def expire(self, now: int) -> int | None:
        """The vector to raise now, if any."""


class Device:
    """A device that raises `vector` at guest times spaced by its own seeded generator."""

    def __init__(self, vector: int, rng: random.Random, gaps: tuple[int, int]) -> None:
        self.vector = vector
        self.rng = rng
        self.gaps = gaps
        self.next_at = self._gap()

    def _gap(self) -> int:
        return self.rng.randrange(*self.gaps)

    def expire(self, now: int) -> int | None:
        """The vector to raise if the device's next event has come (then rescheduled)."""
        if now < self.next_at:
            return None
        while self.next_at <= now:
            self.next_at += self._gap()
        return self.vector


class Tlb:
    """Translations by virtual page number, kept until flushed (or evicted, oldest first)."""

    def __init__(self, capacity: int = TLB_ENTRIES) -> None:
        self.capacity = capacity
        self.entries: dict[int, tuple[int, int]] = {}  # vpn -> (machine frame address, flags)

    def lookup(self, vpn: int) -> tuple[int, int] | None:
        return self.entries.get(vpn)

    def insert(self, vpn: int, entry: tuple[int, int]) -> None:
        if len(self.entries) >= self.capacity:
            del self.entries[next(iter(self.entries))]
        self.entries[vpn] = entry

    def invalidate(self, vpn: int) -> None:
        self.entries.pop(vpn, None)

    def flush(self, *, keep_global: bool) -> None:
        if keep_global:
            self.entries = {v: e for v, e in self.entries.items() if e[1] & PTE_GLOBAL}
        else:
            self.entries.clear()


#: General-purpose registers of the 32-bit architecture, by their encoding number.
EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI = range(8)
REGISTER_NAMES = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
#: What the caller's code holds in each register while it calls a hook: values it keeps
#: live across the call, so a hook that changes one it should keep corrupts the caller.
INITIAL_REGISTERS = (
    0,
    0x1C0C_0001,
    0x1D0D_0002,
    0x1B0B_0003,
    0x7FF0,
    0x1E0E_0005,
    0x1F0F_0006,
    0x1A0A_0007,
)
FUNCTION_BASE = 0xC020_0000  # kernel text where the simulated functions are placed
FUNCTION_ALIGN = 16


class CodeSpace:
    """Addresses of the simulated kernel's functions, for direct calls written at boot.

    A Python callable stands for the code of a function; the first time its address is
    asked for, it is placed at the next free slot of the kernel text. A patched call site
    holds that address (as `call rel32`), and the CPU finds the function there again.
    """

    def __init__(self) -> None:
        self._addresses: dict[tuple[int, object], int] = {}
        self._functions: dict[int, Callable[..., object]] = {}

    def address_of(self, function: Callable[..., object]) -> int:
        key = (id(getattr(function, "__self__", None)), getattr(function, "__func__", function))
        address = self._addresses.get(key)
        if address is None:
            address = FUNCTION_BASE + FUNCTION_ALIGN * len(self._addresses)
            self._addresses[key] = address
            self._functions[address] = function
        return address

    def function_at(self, address: int) -> Callable[..., object] | None:
        return self._functions.get(address)


#: What each CPU has of its own; the machine holds the current CPU's in its attributes and
#: swaps them when another CPU runs (`switch_cpu`). Memory, the meter and the code are shared.
PER_CPU = (
    "interrupt_flag",
    "iopl",
    "cr0",
    "cr2",
    "cr3",
    "cr4",
    "debug",
    "msrs",
    "tsc",
    "gdtr",
    "idtr",
    "ldtr",
    "tr",
    "tlb",
    "apic",
    "pending",
    "in_service",
    "interrupt_frames",
    "interrupts_delivered",
    "devices",
    "_virtual_flag",
    "executed",
    "idled",
)
PER_CPU_AREA = 64  # bytes between two CPUs' copies of a per-CPU word (%fs-relative)


class Machine:
    """x86 CPUs sharing memory, each with its TLB and local APIC, and the meter that prices
    them. One CPU runs at a time (`current`); the others keep their state aside."""

    def __init__(
        self, platform: Platform, meter: Meter | None = None, target: Target = I386_PAE
    ) -> None:
        self.platform = platform
        self.target = target  # the paging mode and word size the kernel was built for
        self.meter = meter or Meter()
        self.host_mode = False  # True while a hypervisor model acts for the guest
        self._exits = {
            Platform.BARE_METAL: frozenset(),
            Platform.DEPRIVILEGED: TRAPS_WHEN_DEPRIVILEGED,
            Platform.HARDWARE_ASSISTED: EXITS_UNDER_VTX,
        }[platform]
        exit_cost = (
            Cost.VM_EXIT if platform is Platform.HARDWARE_ASSISTED else Cost.TRAP_AND_EMULATE
        )
        self._exit_cycles = CYCLES[exit_cost]
        self._exit_category = CATEGORY[exit_cost]
        self._exit_event = VM_EXIT if platform is Platform.HARDWARE_ASSISTED else TRAP
        # The host's handling after a VM exit (a trap's emulation is in its own price).
        self._exit_work = (
            VTX_EXIT_HANDLING if platform is Platform.HARDWARE_ASSISTED else dict[Cost, int]()
        )
        self.ram_frames = RAM_FRAMES
        self.cpu_khz = CPU_KHZ
        self._frames: dict[int, list[int]] = {}
        self._p2m: list[int] | None = None
        self._m2p: dict[int, int] = {}
        self.tlb = Tlb()
        self.apic = LocalApic()
        self.code = CodeSpace()
        self._reset_registers()
        self.pending: set[int] = set()
        self.in_service: list[int] = []
        self.interrupt_frames: list[bool] = []  # saved interrupt-enable state per frame
        self.interrupts_delivered = 0
        self.devices: list[Device] = []
        self._virtual_flag: int | None = None  # machine address of a virtual IF mask word
        self._virtual_flag_base: int | None = None  # the boot CPU's; others' follow it
        self._kernel_entry: KernelEntry | None = None
        # User/kernel transfers a hypervisor lets through without entering it, each priced
        # as the instruction the real path runs (`route_transfer`).
        self._direct: dict[Cost, Cost] = {}
        self.executed = 0  # cycles this CPU has run (the meter's, while it was current)
        self.idled = 0  # cycles this CPU has waited halted
        self.started: set[int] = {0}  # CPUs that have been brought up
        self.waiting_for_startup: set[int] = set()  # CPUs an INIT has reset
        self.current = 0
        self.cpus: list[dict[str, Any]] = [{}]  # the others' state; the current's is live
        self._mark = 0

    # ---- several CPUs -------------------------------------------------------------------

    def add_cpu(self) -> int:
        """A CPU in its reset state, not running; returns its number."""
        index = len(self.cpus)
        saved = self._save()
        self._reset_registers()
        self.tlb = Tlb()
        self.apic = LocalApic(index)
        self.pending, self.in_service, self.interrupt_frames = set(), [], []
        self.interrupts_delivered, self.devices, self.executed, self.idled = 0, [], 0, 0
        self._virtual_flag = None
        if self._virtual_flag_base is not None:
            self._virtual_flag = self._virtual_flag_base + PER_CPU_AREA * index
            self.store_machine(self._virtual_flag, 1)
        self.cpus.append(self._save())
        self._restore(saved)
        return index

    def _save(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in PER_CPU}
        state["regs"] = list(self.regs)
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        for name in PER_CPU:
            setattr(self, name, state[name])
        self.regs[:] = state["regs"]  # the one list that call sites hold

    def switch_cpu(self, index: int) -> None:
        """Make CPU `index` the one that runs; what ran so far is booked to the last one."""
        if index == self.current:
            return
        self.executed += self.meter.cycles - self._mark
        self._mark = self.meter.cycles
        self.cpus[self.current] = self._save()
        self._restore(self.cpus[index])
        self.current = index

    def run_on(self, index: int, action: Callable[[], T]) -> T:
        """Run `action` on CPU `index`, then return to the CPU that ran before."""
        previous = self.current
        self.switch_cpu(index)
        try:
            return action()
        finally:
            self.switch_cpu(previous)

    def elapsed(self, index: int) -> int:
        """Cycles of CPU `index`'s own time line: what it ran and what it waited halted."""
        idled = self.idled if index == self.current else self.cpus[index]["idled"]
        return self.executed_by(index) + int(idled)

    def executed_by(self, index: int) -> int:
        """Cycles CPU `index` has run so far."""
        if index == self.current:
            return self.executed + self.meter.cycles - self._mark
        return int(self.cpus[index]["executed"])

    def cpu_state(self, index: int, name: str) -> Any:
        """A per-CPU attribute of CPU `index` (live for the current CPU)."""
        return getattr(self, name) if index == self.current else self.cpus[index][name]

    def send_interrupt(self, index: int, vector: int) -> None:
        """Make `vector` pending on CPU `index` (an IPI's arrival)."""
        if index == self.current:
            self.pending.add(vector)
        else:
            self.cpus[index]["pending"].add(vector)

    @property
    def fs_base(self) -> int:
        """The current CPU's offset into per-CPU data (what %fs adds)."""
        return PER_CPU_AREA * self.current

    def _reset_registers(self) -> None:
        if "regs" in vars(self):
            self.regs[:] = INITIAL_REGISTERS  # the one list that call sites hold
        else:
            self.regs: list[int] = list(INITIAL_REGISTERS)
        self.interrupt_flag = False
        self.iopl = 0
        self.cr0 = CR0_PE | CR0_ET
        self.cr2 = 0
        self.cr3 = 0
        self.cr4 = 0
        self.debug = [0, 0, 0, 0, 0, 0, 0xFFFF_0FF0, 0x400]
        self.msrs = dict(INITIAL_MSRS)
        self.tsc = 0
        self.rtc_epoch = RTC_EPOCH
        self.gdtr = (0, 0)
        self.idtr = (0, 0)
        self.ldtr = (0, 0)
        self.tr = 0

    # ---- pricing ----------------------------------------------------------------------

    def execute(self, cost: Cost, times: int = 1) -> None:
        """Charge an instruction run by whoever runs now: the guest, or a hypervisor for it."""
        cycles = CYCLES[cost] * times
        meter = self.meter
        if self.host_mode:
            meter.charge(HYPERVISOR, cycles)
            return
        meter.charge(CATEGORY[cost], cycles)
        if cost in self._exits:
            meter.charge(self._exit_category, self._exit_cycles * times)
            work = self._exit_work.get(cost)
            if work:
                meter.charge(HYPERVISOR, work * times)
            meter.count(self._exit_event, times)
            meter.count(f"{self._exit_event}:{cost.value}", times)

    def charge(self, cost: Cost, times: int = 1) -> None:
        """Charge a cost that does not depend on who runs (a transition, a shared access)."""
        self.meter.charge(CATEGORY[cost], CYCLES[cost] * times)

    def route_transfer(self, transfer: Cost, runs_as: Cost) -> None:
        """A hypervisor lets the user/kernel transfer `transfer` (sysenter, int $0x80,
        sysexit) reach its target directly, as the instruction `runs_as`: it is charged
        natively and never traps. (Xen and lguest install the system-call gate in the real
        IDT; with SEP hidden, the guest's fast path is really int $0x80 and iret.)"""
        self._direct[transfer] = runs_as

    def _transfer(self, cost: Cost) -> None:
        """Charge a user/kernel transfer, routed directly where the hypervisor says so."""
        runs_as = self._direct.get(cost)
        if runs_as is None or self.host_mode:
            self.execute(cost)
        else:
            self.meter.charge(CATEGORY[runs_as], CYCLES[runs_as])

    def as_hypervisor(self, action: Callable[[], T]) -> T:
        """Run `action` as the hypervisor: its instructions are native and never trap."""
        saved = self.host_mode
        self.host_mode = True
        try:
            return action()
        finally:
            self.host_mode = saved

    def advance(self, cycles: int) -> None:
        """The guest does `cycles` of ordinary work: guest time moves, interrupts may come."""
        self.tsc += cycles
        self.meter.charge(WORK, cycles)
        self._raise_due_interrupts()
        if self.pending:
            self.poll()

    # ---- memory -------------------------------------------------------------------------

    def install_p2m(self, p2m: Sequence[int]) -> None:
        """Back guest frame i by machine frame p2m[i] (a domain builder's job)."""
        self._p2m = list(p2m)
        self._m2p = {machine: guest for guest, machine in enumerate(self._p2m)}

    def machine_frame(self, pfn: int) -> int:
        return pfn if self._p2m is None else self._p2m[pfn]

    def guest_frame(self, mfn: int) -> int:
        return mfn if self._p2m is None else self._m2p[mfn]

    def machine_address(self, gpa: int) -> int:
        if self._p2m is None:
            return gpa
        return (self._p2m[gpa >> PAGE_SHIFT] << PAGE_SHIFT) | (gpa & (PAGE_SIZE - 1))

    def load_machine(self, maddr: int) -> int:
        page = self._frames.get(maddr >> PAGE_SHIFT)
        return 0 if page is None else page[(maddr & (PAGE_SIZE - 1)) >> 3]

    def store_machine(self, maddr: int, value: int) -> None:
        frame = maddr >> PAGE_SHIFT
        page = self._frames.get(frame)
        if page is None:
            page = self._frames[frame] = [0] * WORDS_PER_PAGE
        page[(maddr & (PAGE_SIZE - 1)) >> 3] = value

    def load(self, gpa: int) -> int:
        """A kernel load through the direct map (its cost is part of the kernel's work)."""
        return self.load_machine(self.machine_address(gpa))

    def store(self, gpa: int, value: int) -> None:
        """A kernel store through the direct map."""
        self.store_machine(self.machine_address(gpa), value)

    def write_code(self, gpa: int, code: bytes) -> None:
        """Store instruction bytes (a 16-byte aligned slot of at most 16 bytes)."""
        padded = code.ljust(16, b"\0")
        self.store(gpa, int.from_bytes(padded[:8], "little"))
        self.store(gpa + 8, int.from_bytes(padded[8:], "little"))

    def read_code(self, gpa: int, length: int) -> bytes:
        """The first `length` instruction bytes of a 16-byte slot."""
        words = self.load(gpa).to_bytes(8, "little") + self.load(gpa + 8).to_bytes(8, "little")
        return words[:length]

    def clear_frame(self, pfn: int) -> None:
        self._frames.pop(self.machine_frame(pfn), None)

    def copy_frame(self, source_pfn: int, target_pfn: int) -> None:
        page = self._frames.get(self.machine_frame(source_pfn))
        target = self.machine_frame(target_pfn)
        if page is None:
            self._frames.pop(target, None)
        else:
            self._frames[target] = list(page)

    def dma_frame(self, pfn: int, words: Sequence[int]) -> None:
        """A device writes a whole frame (a disk read into the page cache)."""
        self._frames[self.machine_frame(pfn)] = list(words)

    def frame_words(self, pfn: int) -> tuple[int, ...]:
        page = self._frames.get(self.machine_frame(pfn))
        return tuple(page) if page is not None else (0,) * WORDS_PER_PAGE

    def write_page_table(self, gpa: int, value: int) -> None:
        """A store into a live page table by whoever runs now (it may trap or exit)."""
        self.execute(Cost.PAGE_TABLE_WRITE)
        self.store_entry(gpa, value)

    def write_page_table_machine(self, maddr: int, value: int) -> None:
        """A hypervisor's store into a page table, by machine address."""
        self.execute(Cost.PAGE_TABLE_WRITE)
        self.store_entry_machine(maddr, value)

    # ---- page-table entries: 4 bytes without PAE, 8 with PAE and on x86_64 ------------

    def load_entry_machine(self, maddr: int) -> int:
        """A page-table entry of the target's width, by machine address."""
        word = self.load_machine(maddr & ~0x7)
        if self.target.entry_bytes == 8:
            return word
        return (word >> (8 * (maddr & 0x4))) & 0xFFFF_FFFF

    def store_entry_machine(self, maddr: int, value: int) -> None:
        if self.target.entry_bytes == 8:
            self.store_machine(maddr, value)
            return
        shift = 8 * (maddr & 0x4)
        word = self.load_machine(maddr & ~0x7) & ~(0xFFFF_FFFF << shift)
        self.store_machine(maddr & ~0x7, word | (value & 0xFFFF_FFFF) << shift)

    def load_entry(self, gpa: int) -> int:
        """A page-table entry through the kernel's direct map."""
        return self.load_entry_machine(self.machine_address(gpa))

    def store_entry(self, gpa: int, value: int) -> None:
        """A plain kernel store of a page-table entry (a table not yet live)."""
        self.store_entry_machine(self.machine_address(gpa), value)

    # ---- paging -----------------------------------------------------------------------

    def translate(self, va: int, *, write: bool, user: bool = True) -> int:
        """The machine address of `va`, through the TLB; raises PageFault (CR2 set)."""
        if not self.cr0 & CR0_PG:
            raise MachineError("translation with paging disabled")
        vpn = self.target.canonical(va) >> PAGE_SHIFT
        entry = self.tlb.lookup(vpn)
        if entry is None:
            entry = self._walk(va, write, user)
            self.tlb.insert(vpn, entry)
        frame, flags = entry
        denied_write = write and not flags & PTE_RW and (user or self.cr0 & CR0_WP)
        if denied_write or (user and not flags & PTE_USER):
            self.tlb.invalidate(vpn)  # a fault drops the entry, as on real hardware
            raise self._page_fault(va, write, user, present=True)
        return frame | (va & (PAGE_SIZE - 1))

    def _walk(self, va: int, write: bool, user: bool) -> tuple[int, int]:
        target = self.target
        self.meter.count(TLB_MISS)
        table = self.cr3 & target.cr3_mask
        rights = PTE_RW | PTE_USER
        entry = 0
        pointer_table = target.levels == 3  # PAE's top entries carry no access rights
        for index in target.indices(va):
            self.execute(Cost.PAGE_WALK_LEVEL)
            entry = self.load_entry_machine(table + index * target.entry_bytes)
            if not entry & PTE_PRESENT:
                raise self._page_fault(va, write, user, present=False)
            if not pointer_table:
                rights &= entry
            pointer_table = False
            table = entry & FRAME_MASK
        return table, rights | (entry & PTE_GLOBAL)

    def _page_fault(self, va: int, write: bool, user: bool, *, present: bool) -> PageFault:
        self.cr2 = va
        self.meter.count(PAGE_FAULT)
        return PageFault(va, int(present) | int(write) << 1 | int(user) << 2)

    def user_load(self, va: int) -> int:
        return self.load_machine(self.translate(va, write=False))

    def user_store(self, va: int, value: int) -> None:
        self.store_machine(self.translate(va, write=True), value)

    def kernel_load(self, va: int) -> int:
        """A kernel load through a kernel virtual address (its page tables, its TLB)."""
        return self.load_machine(self.translate(va, write=False, user=False))

    def kernel_store(self, va: int, value: int) -> None:
        self.store_machine(self.translate(va, write=True, user=False), value)

    def invlpg(self, va: int) -> None:
        self.execute(Cost.INVLPG)
        self.tlb.invalidate(self.target.canonical(va) >> PAGE_SHIFT)

    def flush_tlb(self, *, keep_global: bool) -> None:
        """What a CR3 reload (keep_global) or a CR4.PGE toggle does to the TLB."""
        self.meter.count(TLB_FLUSH)
        self.tlb.flush(keep_global=keep_global)

    # ---- control and debug registers --------------------------------------------------

    def read_cr0(self) -> int:
        self.execute(Cost.READ_CR)
        return self.cr0

    def write_cr0(self, value: int) -> None:
        self.execute(Cost.WRITE_CR0)
        changed = self.cr0 ^ value
        self.cr0 = value
        if changed & (CR0_PG | CR0_WP):
            self.flush_tlb(keep_global=False)

    def clts(self) -> None:
        self.execute(Cost.CLTS)
        self.cr0 &= ~CR0_TS

    def read_cr2(self) -> int:
        self.execute(Cost.READ_CR)
        return self.cr2

    def write_cr2(self, value: int) -> None:
        self.execute(Cost.WRITE_CR2)
        self.cr2 = value

    def read_cr3(self) -> int:
        self.execute(Cost.READ_CR3)
        return self.cr3

    def write_cr3(self, value: int) -> None:
        self.execute(Cost.WRITE_CR3)
        self.cr3 = value
        self.flush_tlb(keep_global=bool(self.cr4 & CR4_PGE))

    def read_cr4(self) -> int:
        self.execute(Cost.READ_CR)
        return self.cr4

    def write_cr4(self, value: int) -> None:
        self.execute(Cost.WRITE_CR4)
        changed = self.cr4 ^ value
        self.cr4 = value
        if changed & (CR4_PGE | CR4_PAE | CR4_PSE):
            self.flush_tlb(keep_global=False)

    def read_dr(self, regno: int) -> int:
        self.execute(Cost.READ_DR)
        return self.debug[regno]

    def write_dr(self, regno: int, value: int) -> None:
        self.execute(Cost.WRITE_DR)
        self.debug[regno] = value

    # ---- descriptor tables --------------------------------------------------------------

    def lgdt(self, base: int, limit: int) -> None:
        self.execute(Cost.LOAD_DESCRIPTOR_TABLE)
        self.gdtr = (base, limit)

    def lidt(self, base: int, limit: int) -> None:
        self.execute(Cost.LOAD_DESCRIPTOR_TABLE)
        self.idtr = (base, limit)

    def lldt(self, base: int, entries: int) -> None:
        self.execute(Cost.LOAD_DESCRIPTOR_TABLE)
        self.ldtr = (base, entries)

    def sgdt(self) -> tuple[int, int]:
        self.execute(Cost.STORE_DESCRIPTOR_REGISTER)
        return self.gdtr

    def sidt(self) -> tuple[int, int]:
        self.execute(Cost.STORE_DESCRIPTOR_REGISTER)
        return self.idtr

    def str_(self) -> int:
        self.execute(Cost.STORE_DESCRIPTOR_REGISTER)
        return self.tr

    def ltr(self, selector: int) -> None:
        """Load the task register; the CPU marks the TSS descriptor busy in the GDT."""
        self.execute(Cost.LOAD_TR)
        slot = self.gdtr[0] + (selector & ~0x7)
        self.store(slot, self.load(slot) | TSS_BUSY_BIT)
        self.tr = selector

    def write_descriptor(self, gpa: int, value: int) -> None:
        """Store a descriptor into a GDT, LDT or IDT (write-protected when deprivileged)."""
        self.execute(Cost.DESCRIPTOR_WRITE)
        self.store(gpa, value)

    # ---- MSRs, counters, identification, caches ---------------------------------------

    def rdmsr(self, msr: int) -> int | None:
        """The MSR's value, or None if reading it faults (#GP)."""
        self.execute(Cost.RDMSR)
        if msr == MSR_TSC:
            return self.tsc
        return self.msrs.get(msr)

    def wrmsr(self, msr: int, value: int) -> bool:
        """False if the write faults (#GP)."""
        self.execute(Cost.WRMSR)
        if msr in READ_ONLY_MSRS or msr not in self.msrs:
            return False
        self.msrs[msr] = value & 0xFFFF_FFFF_FFFF_FFFF
        return True

    def rdtsc(self) -> int:
        self.execute(Cost.RDTSC)
        return self.tsc

    def rdtscp(self) -> tuple[int, int]:
        self.execute(Cost.RDTSCP)
        return self.tsc, self.msrs[MSR_TSC_AUX]

    def rdpmc(self, counter: int) -> int:
        """Counter 0 counts unhalted guest cycles, counter 1 interrupts; others read 0."""
        self.execute(Cost.RDPMC)
        return {0: self.tsc, 1: self.interrupts_delivered}.get(counter, 0)

    def cpuid(self, leaf: int, subleaf: int) -> tuple[int, int, int, int]:
        self.execute(Cost.CPUID)
        return CPUID_LEAVES.get(leaf, (0, 0, 0, 0))

    def wbinvd(self) -> None:
        self.execute(Cost.WBINVD)

    def swapgs(self) -> None:
        self.execute(Cost.SWAPGS)
        msrs = self.msrs
        msrs[MSR_GS_BASE], msrs[MSR_KERNEL_GS_BASE] = msrs[MSR_KERNEL_GS_BASE], msrs[MSR_GS_BASE]

    def set_iopl(self, level: int) -> None:
        self.execute(Cost.SET_IOPL)
        self.iopl = level & 0x3

    # ---- clocks and ports -------------------------------------------------------------

    def nanoseconds(self) -> int:
        """Guest time since reset in nanoseconds."""
        return self.tsc * 1_000_000 // self.cpu_khz

    def wallclock(self) -> int:
        """Seconds since the epoch by the battery-backed clock."""
        return self.rtc_epoch + self.tsc // (self.cpu_khz * 1000)

    def set_wallclock(self, seconds: int) -> None:
        self.rtc_epoch = seconds - self.tsc // (self.cpu_khz * 1000)

    def port_io(self, accesses: int = 1) -> None:
        self.execute(Cost.PORT_IO, accesses)

    def cmos_read_time(self) -> int:
        """Read the RTC through ports 0x70/0x71: six registers, an index and a data access each."""
        self.port_io(12)
        return self.wallclock()

    def cmos_write_time(self, seconds: int) -> None:
        self.port_io(12)
        self.set_wallclock(seconds)

    # ---- local APIC -------------------------------------------------------------------

    def apic_read(self, register: int) -> int:
        self.execute(Cost.APIC_READ)
        return self.apic.read(register, self.tsc)

    def apic_write(self, register: int, value: int) -> None:
        self.execute(Cost.APIC_WRITE)
        self.apic_register_write(register, value)

    def apic_register(self, register: int) -> int:
        """An APIC register as a hypervisor sees it (no MMIO, no cost)."""
        return self.apic.read(register, self.tsc)

    def apic_register_write(self, register: int, value: int) -> None:
        if register == lapic.EOI:
            if self.in_service:
                self.in_service.pop()
            if self.pending:
                self.poll()
        else:
            self.apic.write(register, value, self.tsc)
            if register == lapic.ICR_LOW:
                self._interprocessor(value)

    def _interprocessor(self, command: int) -> None:
        """A write to ICR_LOW sends: INIT and STARTUP to wake a CPU, fixed for an IPI."""
        target = self.apic.registers[lapic.ICR_HIGH] >> 24
        if not 0 <= target < len(self.cpus) or target == self.current:
            return
        mode = command & lapic.ICR_MODE_MASK
        if mode == lapic.ICR_INIT:
            self.waiting_for_startup.add(target)
        elif mode == lapic.ICR_STARTUP:
            if target in self.waiting_for_startup:
                self.waiting_for_startup.discard(target)
                self.started.add(target)
        else:
            self.send_interrupt(target, command & 0xFF)

    def start_cpu(self, index: int) -> None:
        """A hypervisor brings CPU `index` up directly (no INIT/STARTUP)."""
        self.started.add(index)

    def attach_device(self, device: Device) -> None:
        self.devices.append(device)

    def _raise_due_interrupts(self) -> None:
        sources: list[InterruptSource] = [self.apic, *self.devices]
        for source in sources:
            vector = source.expire(self.tsc)
            if vector is not None:
                self.pending.add(vector)

    def _next_event(self) -> int | None:
        times = [device.next_at for device in self.devices]
        if self.apic.deadline is not None:
            times.append(self.apic.deadline)
        return min(times, default=None)

    # ---- interrupt flag -----------------------------------------------------------------

    def use_virtual_interrupt_flag(self, maddr: int) -> None:
        """Interrupts are enabled while the word at `maddr` is 0 (a shared per-vCPU mask);
        CPU i's mask is `PER_CPU_AREA` * i bytes further."""
        self._virtual_flag_base = maddr - self.fs_base
        self._virtual_flag = maddr
        self.store_machine(maddr, 0 if self.interrupt_flag else 1)

    def interrupts_enabled(self) -> bool:
        if self._virtual_flag is None:
            return self.interrupt_flag
        return self.load_machine(self._virtual_flag) == 0

    def _set_interrupts_enabled(self, enabled: bool) -> None:
        if self._virtual_flag is None:
            self.interrupt_flag = enabled
        else:
            self.store_machine(self._virtual_flag, 0 if enabled else 1)

    def mask_virtual_interrupts(self, masked: bool) -> None:
        """Write the shared mask word: a plain store, no trap, no delivery."""
        if self._virtual_flag is None:
            raise MachineError("this machine has no virtual interrupt flag")
        self.charge(Cost.SHARED_MEMORY)
        self.store_machine(self._virtual_flag, 1 if masked else 0)

    def eflags(self) -> int:
        enabled = EFLAGS_IF if self.interrupts_enabled() else 0
        return EFLAGS_FIXED | enabled | self.iopl << EFLAGS_IOPL_SHIFT

    def cli(self) -> None:
        self.execute(Cost.CLI)
        self._set_interrupts_enabled(False)

    def sti(self) -> None:
        self.execute(Cost.STI)
        self._set_interrupts_enabled(True)
        self.poll()

    def pushf(self) -> int:
        self.execute(Cost.PUSHF)
        return self.eflags()

    def popf(self, flags: int) -> None:
        """Restore IF from `flags` (IOPL changes go through set_iopl)."""
        self.execute(Cost.POPF)
        self._set_interrupts_enabled(bool(flags & EFLAGS_IF))
        self.poll()

    # ---- interrupts and exceptions ------------------------------------------------------

    def attach_kernel(self, entry: KernelEntry) -> None:
        """The kernel's code: called with (vector, handler offset) to run a gate's handler."""
        self._kernel_entry = entry

    def raise_interrupt(self, vector: int) -> None:
        self.pending.add(vector)

    def deliverable(self) -> int | None:
        """The vector the CPU would take now, if any."""
        if not self.pending or not self.interrupts_enabled():
            return None
        ready = [v for v in self.pending if v not in self.in_service]
        return max(ready) if ready else None

    def poll(self) -> None:
        """Deliver what is pending while interrupts are enabled (an instruction boundary)."""
        vector = self.deliverable()
        while vector is not None:
            self._deliver_interrupt(vector)
            vector = self.deliverable()

    def _deliver_interrupt(self, vector: int) -> None:
        self.pending.discard(vector)
        self.in_service.append(vector)
        self.interrupts_delivered += 1
        self.meter.count(INTERRUPT)
        self._run_gate(vector, Cost.INTERRUPT_DELIVERY)

    def fault(self, vector: int) -> None:
        """Deliver a synchronous exception (the faulting access has set CR2 if it is #PF)."""
        self._run_gate(vector, Cost.FAULT_DELIVERY)

    def _run_gate(self, vector: int, cost: Cost) -> None:
        saved = self.host_mode
        registers = list(self.regs)  # the entry code saves them all, the exit restores them
        self.host_mode = False  # the handler is guest code, whoever delivered the event
        try:
            handler = self.enter_gate(vector, cost)
            if self._kernel_entry is None:
                raise MachineError("an interrupt arrived before the kernel attached")
            self._kernel_entry(vector, handler)
        finally:
            self.host_mode = saved
            self.regs[:] = registers

    def enter_gate(self, vector: int, cost: Cost) -> int:
        """Push a frame and go through IDT gate `vector`; returns the handler's offset."""
        base, limit = self.idtr
        if vector * 8 + 7 > limit:
            raise MachineError(f"vector {vector:#x} is beyond the IDT limit")
        handler, kind, present = decode_gate(self.load(base + vector * 8))
        if not present:
            raise MachineError(f"no gate for vector {vector:#x}")
        self._transfer(cost)
        self.interrupt_frames.append(self.interrupts_enabled())
        if kind == INTERRUPT_GATE:
            self._set_interrupts_enabled(False)
        return handler

    def software_interrupt(self, vector: int) -> int:
        """`int $vector` from user mode; returns the handler the kernel must run."""
        return self.enter_gate(vector, Cost.SOFTWARE_INTERRUPT)

    def iret(self) -> None:
        self.execute(Cost.IRET)
        self.return_from_interrupt()

    def return_from_interrupt(self) -> None:
        """Pop the innermost frame, restoring its interrupt-enable state."""
        if not self.interrupt_frames:
            raise MachineError("iret without an interrupt frame")
        self._set_interrupts_enabled(self.interrupt_frames.pop())
        self.poll()

    def sysenter(self) -> None:
        """Fast system call entry: to the kernel's SYSENTER_EIP, interrupts disabled."""
        self._transfer(Cost.SYSENTER)
        if not self.msrs[MSR_SYSENTER_EIP]:
            raise MachineError("sysenter before the kernel set MSR_SYSENTER_EIP")
        self._set_interrupts_enabled(False)

    def sysexit(self) -> None:
        """`sti; sysexit`: back to user mode with interrupts enabled."""
        self._transfer(Cost.SYSEXIT)
        self._set_interrupts_enabled(True)
        self.poll()

    def syscall(self) -> None:
        """64-bit fast system call entry: to MSR_LSTAR, the flags in MSR_SYSCALL_MASK
        (IF among them) cleared; the kernel's GS base is not yet loaded (swapgs)."""
        self._transfer(Cost.SYSCALL)
        if not self.msrs[MSR_LSTAR]:
            raise MachineError("syscall before the kernel set MSR_LSTAR")
        if self.msrs[MSR_SYSCALL_MASK] & EFLAGS_IF:
            self._set_interrupts_enabled(False)

    def sysret(self) -> None:
        """`sysretq`: back to user mode with the user's flags (interrupts enabled)."""
        self._transfer(Cost.SYSRET)
        self._set_interrupts_enabled(True)
        self.poll()

    def gs_base(self) -> int:
        """What a %gs-relative access adds (the 64-bit kernel's per-CPU data after swapgs)."""
        return self.msrs[MSR_GS_BASE]

    def hlt(self) -> None:
        self.execute(Cost.HLT)
        self.wait_for_interrupt()

    def enable_and_halt(self) -> None:
        """`sti; hlt`: no interrupt can slip in between the two."""
        self.execute(Cost.STI)
        self._set_interrupts_enabled(True)
        self.hlt()

    def wait_for_interrupt(self) -> None:
        """Idle until an interrupt is delivered; idle time costs no cycles."""
        if self.deliverable() is None:
            wake = self._next_event()
            if wake is None or not self.interrupts_enabled():
                raise MachineError("halted with no interrupt that could wake the CPU")
            self.meter.idle_cycles += max(0, wake - self.tsc)
            self.idled += max(0, wake - self.tsc)
            self.tsc = max(self.tsc, wake)
            self._raise_due_interrupts()
        self.poll()
