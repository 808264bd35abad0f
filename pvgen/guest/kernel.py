"""The simulated guest kernel: it boots and handles interrupts, calling every paravirt
operation through the dispatch object.

Takes: a dispatch object (`ParavirtOps` with a backend installed), the machine, the
generated entry types, the target's patch IDs, and the hooks' call sites (`CallSites`),
which boot patches through the backend's `patch` hook unless patching is off.
Hands on: `Kernel`, booted by `boot()`: descriptor tables, control registers, MSRs and
page tables set up through the hooks, the local timer ticking, interrupts enabled. It
offers what processes, system calls and workloads are built from (interrupt-flag
sections, user-memory access that takes page faults, the kernel's own work) and records
every value it reads back from a hook (`readings`).

The kernel never asks which backend it runs on; it reads `pv_info` only to print it. That
is what lets every backend be held to the same guest-visible result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import apic as lapic
from . import kstructs as k
from .bindings import GuestTypes
from .callsites import CallSites
from .costs import WORK, Cost
from .machine import Machine, PageFault
from .mm import AddressSpace, MemoryManager
from .x86 import (
    CR0_MP,
    CR0_NE,
    CR0_PG,
    CR0_WP,
    EFER_LME,
    EFER_NXE,
    EFER_SCE,
    EFLAGS_IF,
    INTERRUPT_GATE,
    MSR_EFER,
    MSR_GS_BASE,
    MSR_LSTAR,
    MSR_STAR,
    MSR_SYSCALL_MASK,
    MSR_SYSENTER_CS,
    MSR_SYSENTER_EIP,
    MSR_SYSENTER_ESP,
    TRAP_GATE,
    TSS_AVAILABLE,
    gate_descriptor,
    segment_descriptor,
)

CODE_SEGMENT, DATA_SEGMENT = 0xA, 0x2  # execute/read and read/write segment types
UNIMPLEMENTED_MSR = 0x8B  # probed at boot: reading it faults
WORK_TICK = 1_200  # the timer interrupt's own work, in cycles
WORK_FAULT_ENTRY = 300
WORK_DEVICE_INTERRUPT = 2_000  # a network card's handler: ack, take the packets
WORK_TLB_IPI = 200  # the invalidate IPI's handler


class KernelPanic(Exception):
    """The simulated kernel hit a state it cannot handle (a bug in the simulation)."""


class Kernel:
    """Boot, interrupt and fault handling, and the services built on the hooks."""

    def __init__(
        self,
        ops: Any,
        machine: Machine,
        types: GuestTypes,
        patch_ids: Mapping[str, int],
        *,
        sites: CallSites | None = None,
        patching: bool = True,
        lazy_mmu: bool = True,
    ) -> None:
        self.ops = ops
        self.init, self.time, self.cpu = ops.pv_init_ops, ops.pv_time_ops, ops.pv_cpu_ops
        self.irq, self.apic, self.mmu = ops.pv_irq_ops, ops.pv_apic_ops, ops.pv_mmu_ops
        self.machine = machine
        self.types = types
        self.patch_ids = patch_ids
        # Hooks the release renamed (2.6.27: irq_enable_sysexit, get_tsc_khz) and its
        # spinlock table (None before 2.6.27): the kernel is built for one release.
        self.release_27 = hasattr(self.cpu, "irq_enable_sysexit")
        self.sysexit_hook = "irq_enable_sysexit" if self.release_27 else "irq_enable_syscall_ret"
        if self.release_27 and machine.target.long_mode:
            # 2.6.27's system_call leaves through USERGS_SYSRET64 (entry_64.S)
            self.sysexit_hook = "usergs_sysret64"
        # PARAVIRT_ADJUST_EXCEPTION_FRAME: at the head of the 64-bit exception entries and
        # of ia32_syscall from 2.6.27 (entry_64.S, ia32entry.S)
        self.adjusts_exception_frames = machine.target.long_mode and hasattr(
            self.irq, "adjust_exception_frame"
        )
        self.khz_hook = "get_tsc_khz" if hasattr(self.time, "get_tsc_khz") else "get_cpu_khz"
        self.lock: Any = getattr(ops, "pv_lock_ops", None)
        self.sites = sites
        self.patching = patching
        if sites is not None:
            sites.observe = self.observe
        self.target = machine.target
        self.mm = MemoryManager(
            self.mmu, machine, types, self.work, lazy_mmu=lazy_mmu, hooks=patch_ids
        )
        for backend in sites.backends if sites is not None else ():
            backend.kmap_atomic = self.mm.kmap_atomic  # native's kmap_atomic_pte
        self.readings: list[tuple[str, int]] = []
        self.log: list[str] = []
        self.environment: dict[str, str] = {}
        self._spaces: dict[int, AddressSpace] = {}  # per CPU, kept by the scheduler
        self.processor_id = 0  # the one CPU's number, which TSC_AUX holds as well
        self._handlers: dict[int, Callable[[int], None]] = {
            k.ENTRY_TIMER: self._timer_interrupt,
            k.ENTRY_PAGE_FAULT: self._page_fault,
            k.ENTRY_SPURIOUS: self._spurious_interrupt,
            k.ENTRY_DEVICE: self._device_interrupt,
        }
        machine.attach_kernel(self._enter)

    @property
    def current_space(self) -> AddressSpace | None:
        """The address space the running CPU is in."""
        return self._spaces.get(self.machine.current)

    @current_space.setter
    def current_space(self, space: AddressSpace | None) -> None:
        if space is None:
            self._spaces.pop(self.machine.current, None)
        else:
            self._spaces[self.machine.current] = space

    def enable_smp(self) -> None:
        """Install what other CPUs need of the boot CPU: the TLB-invalidate and reschedule
        gates."""
        self._handlers[k.ENTRY_INVALIDATE_TLB] = self._invalidate_tlb
        self._handlers[k.ENTRY_RESCHEDULE] = self._reschedule_interrupt
        for vector, entry in (
            (k.INVALIDATE_TLB_VECTOR, k.ENTRY_INVALIDATE_TLB),
            (k.RESCHEDULE_VECTOR, k.ENTRY_RESCHEDULE),
        ):
            gate = gate_descriptor(entry, k.KERNEL_CS, INTERRUPT_GATE, 0)
            self.machine.store(k.DESCRIPTOR_SCRATCH, gate)
            self.cpu.write_idt_entry(k.IDT_ADDRESS, vector, k.DESCRIPTOR_SCRATCH)

    # ---- small services -------------------------------------------------------------------

    def observe(self, label: str, value: int) -> None:
        """Record a value read back from the hardware or a hook."""
        self.readings.append((label, int(value)))

    def exception_entry(self) -> None:
        """PARAVIRT_ADJUST_EXCEPTION_FRAME where the kernel has it (x86_64, 2.6.27 on):
        Xen's frames carry %rcx and %r11, which its hook drops; natively a nop."""
        if self.adjusts_exception_frames:
            self.irq.adjust_exception_frame()

    def work(self, cycles: int) -> None:
        """The kernel's (or the user program's) own instructions: guest time moves."""
        self.machine.advance(cycles)

    def interrupts_enabled(self) -> bool:
        return bool(self.irq.save_fl() & EFLAGS_IF)

    def irq_save(self) -> int:
        flags = int(self.irq.save_fl())
        self.irq.irq_disable()
        return flags

    def irq_restore(self, flags: int) -> None:
        self.irq.restore_fl(flags)

    def jiffies(self) -> int:
        return self.machine.kernel_load(k.JIFFIES_VA)

    def user_read(self, va: int) -> int:
        return self._user_access(lambda: self.machine.user_load(va))

    def user_write(self, va: int, value: int) -> None:
        self._user_access(lambda: self.machine.user_store(va, value))

    def _user_access(self, access: Callable[[], int | None]) -> int:
        for _ in range(3):
            try:
                return access() or 0
            except PageFault:
                self.machine.fault(k.PAGE_FAULT_VECTOR)
        raise KernelPanic("a user access kept faulting")

    # ---- boot -----------------------------------------------------------------------------

    def boot(self) -> AddressSpace:
        """Bring the machine up through the hooks; returns the kernel's address space."""
        self._probe_environment()
        self._patch_call_sites()
        self._setup_cpu()
        self._setup_descriptor_tables()
        kernel_space = self._setup_paging()
        self._setup_interrupts()
        self.irq.irq_enable()
        self.log.append("Freeing unused kernel memory")
        if self.target.long_mode:  # init's first return to user mode loads the user's GS
            self.cpu.swapgs()
        return kernel_space

    def _probe_environment(self) -> None:
        info = self.ops.pv_info
        self.environment.update(
            name=str(info.name),
            paravirt_enabled=str(info.paravirt_enabled),
            kernel_rpl=str(info.kernel_rpl),
            shared_kernel_pmd=str(info.shared_kernel_pmd),
        )
        self.log.append(f"Booting paravirtualized kernel on {info.name}")
        self.environment["memory_map"] = source = str(self.init.memory_setup())
        self.log.append(f"BIOS-provided physical RAM map: {source}")
        self.mm.frames.end = self._usable_frames_end()
        self.init.arch_setup()
        self.init.banner()

    def _usable_frames_end(self) -> int:
        load = self.machine.load
        ranges = [
            (load(k.E820_MAP + 8 + 16 * i), load(k.E820_MAP + 16 + 16 * i))
            for i in range(load(k.E820_MAP))
        ]
        return max(start + frames for start, frames in ranges)

    def _patch_call_sites(self) -> None:
        """apply_paravirt: every call site through the backend's patcher. (Linux patches
        later in boot, from check_bugs; here it comes right after the memory map, so that
        most of the boot's hook calls already run from patched sites.)"""
        if self.sites is None:
            return
        written = self.sites.apply(self.init.patch, enabled=self.patching)
        self.environment["patched_bytes"] = str(written)

    def _cpuid(self, leaf: int) -> tuple[int, ...]:
        registers = tuple(k.CPUID_SCRATCH + 8 * i for i in range(4))
        self.machine.store(registers[0], leaf)
        self.machine.store(registers[2], 0)
        self.cpu.cpuid(*registers)
        return tuple(self.machine.load(address) for address in registers)

    def _read_msr(self, msr: int) -> tuple[int, int]:
        value = int(self.cpu.read_msr(msr, k.MSR_ERROR_SCRATCH))
        return value, self.machine.load(k.MSR_ERROR_SCRATCH)

    def _setup_cpu(self) -> None:
        for leaf in (0x0, 0x1, 0x8000_0001):
            for value in self._cpuid(leaf):
                self.observe(f"cpuid {leaf:#x}", value)
        self.cpu.write_cr0(int(self.cpu.read_cr0()) | CR0_MP | CR0_NE | CR0_WP)
        self.cpu.write_cr4(int(self.cpu.read_cr4_safe()) | self.target.cr4)
        self.observe("cr4", self.cpu.read_cr4())
        efer, error = self._read_msr(MSR_EFER)
        self.observe("efer", efer)
        long_mode = EFER_SCE | EFER_LME if self.target.long_mode else 0
        efer = (efer | EFER_NXE | long_mode) & 0xFFFF_FFFF
        self.observe("write efer", self.cpu.write_msr(MSR_EFER, efer, 0))
        self.observe("msr fault", self._read_msr(UNIMPLEMENTED_MSR)[1])
        for msr, value in self._entry_msrs():
            self.observe("write msr", self.cpu.write_msr(msr, value, 0))
        self.cpu.set_debugreg(7, 0x400)
        self.observe("dr6", self.cpu.get_debugreg(6))
        self.cpu.clts()  # the FPU is ours

    def _entry_msrs(self) -> tuple[tuple[int, int], ...]:
        """The fast system call's MSRs: sysenter's on 32-bit (enable_sep_cpu); on x86_64
        syscall's and the per-CPU data's GS base (syscall_init, pda_init)."""
        if self.target.long_mode:
            return (
                (MSR_STAR, k.KERNEL_CS << 32),
                (MSR_LSTAR, k.ENTRY_SYSCALL_64),
                (MSR_SYSCALL_MASK, EFLAGS_IF),
                (MSR_GS_BASE, k.PAGE_OFFSET + k.PERCPU),
            )
        return (
            (MSR_SYSENTER_CS, k.KERNEL_CS),
            (MSR_SYSENTER_ESP, k.KERNEL_STACKS),
            (MSR_SYSENTER_EIP, k.ENTRY_SYSENTER),
        )

    def _setup_descriptor_tables(self) -> None:
        self._fill_gdt()
        self._load_table(self.cpu.load_gdt, k.GDT_ADDRESS, k.GDT_ENTRIES)
        self._fill_idt()
        self._load_table(self.cpu.load_idt, k.IDT_ADDRESS, k.IDT_ENTRIES)
        self.cpu.set_ldt(0, 0)
        self.cpu.load_tr_desc()
        for store in (self.cpu.store_gdt, self.cpu.store_idt):
            store(k.DTR_SCRATCH)
            self.observe("dtr base", self.machine.load(k.DTR_SCRATCH + k.DTR_ADDRESS))
            self.observe("dtr limit", self.machine.load(k.DTR_SCRATCH + k.DTR_SIZE))
        self.observe("tr", self.cpu.store_tr())

    def fill_gdt(self, cpu: int) -> None:
        """Write CPU `cpu`'s GDT through the hooks: the flat segments and its own TSS's
        descriptor (init_gdt and set_tss_desc, run by the boot CPU before it starts `cpu`)."""
        self._fill_gdt(k.gdt_address(cpu), k.tss_address(cpu))

    def _fill_gdt(self, gdt: int = k.GDT_ADDRESS, tss_base: int = k.TSS_ADDRESS) -> None:
        segments = [
            (k.GDT_ENTRY_KERNEL_CS, segment_descriptor(0, 0xFFFFF, CODE_SEGMENT, 0)),
            (k.GDT_ENTRY_KERNEL_DS, segment_descriptor(0, 0xFFFFF, DATA_SEGMENT, 0)),
            (k.GDT_ENTRY_USER_CS, segment_descriptor(0, 0xFFFFF, CODE_SEGMENT, 3)),
            (k.GDT_ENTRY_USER_DS, segment_descriptor(0, 0xFFFFF, DATA_SEGMENT, 3)),
        ]
        for entry, descriptor in segments:
            self._write_descriptor(self.cpu.write_gdt_entry, gdt, entry, descriptor)
        tss = segment_descriptor(k.PAGE_OFFSET + tss_base, 0x67, TSS_AVAILABLE, 0, 0)
        self.machine.store(k.DESCRIPTOR_SCRATCH, tss)
        self.cpu.write_gdt_entry(gdt, k.GDT_ENTRY_TSS, k.DESCRIPTOR_SCRATCH, k.GDT_TSS_KIND)

    def _write_descriptor(self, write: Any, table: int, entry: int, descriptor: int) -> None:
        self.machine.store(k.DESCRIPTOR_SCRATCH, descriptor)
        write(table, entry, k.DESCRIPTOR_SCRATCH, k.GDT_DESCRIPTOR_KIND)

    def _fill_idt(self) -> None:
        gates = [(v, k.ENTRY_EXCEPTION + 16 * v, INTERRUPT_GATE, 0) for v in range(k.EXCEPTIONS)]
        gates[k.PAGE_FAULT_VECTOR] = (k.PAGE_FAULT_VECTOR, k.ENTRY_PAGE_FAULT, INTERRUPT_GATE, 0)
        gates += [
            (k.SYSCALL_VECTOR, k.ENTRY_SYSCALL, TRAP_GATE, 3),
            (k.LOCAL_TIMER_VECTOR, k.ENTRY_TIMER, INTERRUPT_GATE, 0),
            (k.DEVICE_VECTOR, k.ENTRY_DEVICE, INTERRUPT_GATE, 0),
            (k.SPURIOUS_VECTOR, k.ENTRY_SPURIOUS, INTERRUPT_GATE, 0),
        ]
        for vector, handler, kind, dpl in gates:
            self.machine.store(
                k.DESCRIPTOR_SCRATCH, gate_descriptor(handler, k.KERNEL_CS, kind, dpl)
            )
            self.cpu.write_idt_entry(k.IDT_ADDRESS, vector, k.DESCRIPTOR_SCRATCH)

    def load_table(self, load: Any, base: int, entries: int) -> None:
        """Load a descriptor-table register through `load` (load_gdt, load_idt)."""
        self._load_table(load, base, entries)

    def _load_table(self, load: Any, base: int, entries: int) -> None:
        self.machine.store(k.DTR_SCRATCH + k.DTR_ADDRESS, base)
        self.machine.store(k.DTR_SCRATCH + k.DTR_SIZE, 8 * entries - 1)
        load(k.DTR_SCRATCH)

    def _setup_paging(self) -> AddressSpace:
        kernel_space = self.mm.build_kernel_space()
        self.mmu.write_cr3(kernel_space.pgd)
        self.cpu.write_cr0(int(self.cpu.read_cr0()) | CR0_PG)
        self.observe("cr3", self.mmu.read_cr3())
        self.machine.kernel_store(k.JIFFIES_VA, 0)
        self.machine.kernel_store(k.DEVICE_EVENTS_VA, 0)
        if self.init.post_allocator_init is not None:  # NULL on bare hardware
            self.init.post_allocator_init()
        return kernel_space

    def _setup_interrupts(self) -> None:
        self.irq.init_IRQ()
        self.time.time_init()
        self.observe("cpu khz", getattr(self.time, self.khz_hook)())
        self.observe("wallclock", self.time.get_wallclock())
        self.apic.setup_boot_clock()
        for register in (lapic.ID, lapic.VERSION, lapic.LVT_TIMER, lapic.TIMER_INITIAL):
            self.observe(f"apic {register:#x}", self.apic.apic_read(register))
        self.apic.startup_ipi_hook(1, k.TRAMPOLINE, k.KERNEL_STACKS)  # no second CPU answers
        self.cpu.io_delay()

    # ---- entries from the machine ---------------------------------------------------------

    def _enter(self, vector: int, handler: int) -> None:
        run = self._handlers.get(handler)
        if run is None:
            raise KernelPanic(f"unexpected exception {vector} (handler {handler:#x})")
        run(vector)

    def _timer_interrupt(self, vector: int) -> None:
        self.apic.apic_write(lapic.EOI, 0)
        if self.machine.current != 0:  # the boot CPU keeps jiffies (do_timer)
            self.work(WORK_TICK)
            self.cpu.iret()
            return
        jiffies = self.jiffies() + 1
        self.machine.kernel_store(k.JIFFIES_VA, jiffies)
        self.work(WORK_TICK)
        if jiffies % 8 == 0:
            self.observe("tick clock", self.time.sched_clock())
        self.cpu.iret()

    def _invalidate_tlb(self, vector: int) -> None:
        """smp_invalidate_interrupt: flush what the sender left, if this CPU runs that mm,
        and clear this CPU's bit of flush_cpumask. Its own work is priced, not timed: under
        a hypervisor that flushes for the guest there is no such interrupt."""
        machine = self.machine
        space = self.current_space
        va = machine.load(k.FLUSH_VA)
        if space is not None and space.struct == machine.load(k.FLUSH_MM):
            if va == k.FLUSH_ALL:
                self.mmu.flush_tlb_user()
            else:
                self.mmu.flush_tlb_single(va)
        machine.execute(Cost.ATOMIC)
        machine.store(k.FLUSH_CPUMASK, machine.load(k.FLUSH_CPUMASK) & ~(1 << machine.current))
        machine.meter.charge(WORK, WORK_TLB_IPI)
        self.apic.apic_write(lapic.EOI, 0)
        self.cpu.iret()

    def _reschedule_interrupt(self, vector: int) -> None:
        """smp_reschedule_interrupt: acknowledge and count; the scheduling itself happens
        on the way out, where need_resched is looked at (`smp.Smp`'s thread step)."""
        machine = self.machine
        count = k.RESCHED_COUNT + 8 * machine.current
        machine.store(count, machine.load(count) + 1)
        self.apic.apic_write(lapic.EOI, 0)
        self.cpu.iret()

    def _device_interrupt(self, vector: int) -> None:
        events = self.machine.kernel_load(k.DEVICE_EVENTS_VA) + 1
        self.machine.kernel_store(k.DEVICE_EVENTS_VA, events)
        self.observe("packet time", self.cpu.read_tsc())  # the driver stamps what arrived
        self.work(WORK_DEVICE_INTERRUPT)
        self.apic.apic_write(lapic.EOI, 0)
        self.cpu.iret()

    def _spurious_interrupt(self, vector: int) -> None:
        self.cpu.iret()

    def _page_fault(self, vector: int) -> None:
        self.exception_entry()  # errorentry (entry_64.S)
        address = int(self.mmu.read_cr2())
        if self.machine.interrupt_frames[-1]:  # the faulting context had interrupts on
            self.irq.irq_enable()
        self.work(WORK_FAULT_ENTRY)
        space = self.current_space
        if space is None or not self.mm.write_fault(space, address):
            raise KernelPanic(f"page fault at {address:#x} that no mapping explains")
        self.cpu.iret()
