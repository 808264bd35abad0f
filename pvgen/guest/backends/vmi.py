"""The VMI backend: VMware's Virtual Machine Interface, a ROM of low-level routines.

Takes: the machine (deprivileged: what the guest runs itself traps to the monitor).
Hands on: `VmiHooks`, the hooks the spec's `vmi` block lists. Each is a call into the
simulated ROM (a near call into a page the hypervisor maps in the guest). The ROM keeps a
shadow of the vCPU's registers and a virtual interrupt flag, so reads and flag changes
stay in the guest; routines that change what the monitor must know (CR3, CR0, descriptor
tables, page tables, TLB flushes) enter the monitor. In lazy mode the ROM defers those
notifications and enters the monitor once, when the bracket closes.

Its patcher (vmi_patch of Linux 2.6.26, arch/x86/kernel/vmi_32.c) patches six hooks with
what the ROM says to put there: a direct call into the ROM routine (a jump for iret and
sysexit, which do not return). ROM routines keep every register but eax, so they may take
the callee-save sites. iret and irq_enable_syscall_ret must be patched (their slots hold
sentinels); every other call site keeps its indirect call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from .. import kstructs as k
from ..bindings import GuestTypes, PmdValue, PteValue, PudValue
from ..costs import Cost
from ..machine import Machine, Platform
from ..meter import ROM_CALL
from ..x86 import EFLAGS_IF, PAGE_SHIFT
from .base import JUMP_HOOKS, Backend, LazyMode, clobbers, function_clobbers
from .hypercalls import HypervisorGate

T = TypeVar("T")

#: The hooks vmi_patch patches, and the ROM routine each call site then reaches.
ROM_PATCHED = {
    "pv_irq_ops.irq_disable": "pv_irq_ops_irq_disable",
    "pv_irq_ops.irq_enable": "pv_irq_ops_irq_enable",
    "pv_irq_ops.restore_fl": "pv_irq_ops_restore_fl",
    "pv_irq_ops.save_fl": "pv_irq_ops_save_fl",
    "pv_cpu_ops.iret": "pv_cpu_ops_iret",
    "pv_cpu_ops.irq_enable_syscall_ret": "pv_cpu_ops_irq_enable_syscall_ret",
}

DEFERRED_LIMIT = 64  # notifications the ROM queues before it must enter the monitor
ROM_DATA_PAGE_OFFSET = 1  # the ROM's data page sits just past the guest's RAM


class VmiHooks(Backend):
    """VMware VMI guest: a ROM call per low-level operation, monitor entries when needed."""

    PLATFORM = Platform.DEPRIVILEGED

    pv_info_kernel_rpl = 1
    pv_info_paravirt_enabled = 1
    pv_info_name = "vmi"

    def __init__(self, machine: Machine, types: GuestTypes, patch_ids: Mapping[str, int]) -> None:
        super().__init__(machine, types, patch_ids)
        self._monitor = HypervisorGate(
            machine, entry=(Cost.VMI_MONITOR_ENTRY,), batch_limit=DEFERRED_LIMIT
        )
        rom_data = (machine.ram_frames + ROM_DATA_PAGE_OFFSET) << PAGE_SHIFT
        machine.use_virtual_interrupt_flag(rom_data)

    # ---- the ROM ------------------------------------------------------------------------

    def _rom(self, routine: str) -> Machine:
        """Call a ROM routine that works on the ROM's own state."""
        self.machine.charge(Cost.VMI_ROM_CALL)
        self.machine.meter.count(ROM_CALL)
        self.machine.meter.count(f"{ROM_CALL}:{routine}")
        return self.machine

    def _monitor_call(self, routine: str, action: Callable[[], T]) -> T:
        """A ROM routine that enters the monitor at once."""
        self._rom(routine)
        return self._monitor.call(routine, action)

    def _monitor_notify(self, routine: str, action: Callable[[], object]) -> None:
        """A ROM routine whose monitor work may wait for the end of a lazy bracket."""
        self._rom(routine)
        self._monitor.submit(routine, action)

    def _set_pxe(self, entry: int, value: int) -> None:
        self._monitor_notify("SetPxE", lambda: self.machine.write_page_table(entry, value))

    def _write_descriptor(self, routine: str, slot: int, value: int) -> None:
        self._monitor_notify(routine, lambda: self.machine.write_descriptor(slot, value))

    def _unmask(self) -> None:
        self.machine.mask_virtual_interrupts(False)
        if self.machine.deliverable() is not None:
            self._monitor.call("DeliverInterrupts", self.machine.poll)

    def _set_lazy(self, mode: LazyMode, entering: bool) -> None:
        self._rom("SetLazyMode")
        if entering:
            self._enter_lazy(mode)
            self._monitor.open_batch()
        else:
            self._monitor.close_batch()
            self._leave_lazy(mode)

    # ---- pv_init_ops ------------------------------------------------------------------

    def pv_init_ops_patch(self, type: int, clobber: int, insnbuf: int, addr: int, len: int) -> int:
        path = self._hook_path(type)
        routine = ROM_PATCHED.get(path)
        if routine is None:
            return len
        function = getattr(self, routine)
        if path in JUMP_HOOKS:
            return self._patch_jump(insnbuf, function, addr, len)
        return self._patch_call(insnbuf, function, function_clobbers(function), addr, clobber, len)

    # ---- pv_time_ops ------------------------------------------------------------------

    def pv_time_ops_time_init(self) -> None:
        self._monitor_call("SetAlarm", lambda: None)

    def pv_time_ops_get_wallclock(self) -> int:
        return self._rom("GetWallclockTime").wallclock()

    def pv_time_ops_set_wallclock(self, nowtime: int) -> int:
        self._monitor_call("SetWallclockTime", lambda: self.machine.set_wallclock(nowtime))
        return 0

    def pv_time_ops_sched_clock(self) -> int:
        return self._rom("GetCycleCounter").nanoseconds()

    def pv_time_ops_get_cpu_khz(self) -> int:
        return self._rom("GetCycleFrequency").cpu_khz

    # ---- pv_cpu_ops ---------------------------------------------------------------------

    def pv_cpu_ops_get_debugreg(self, regno: int) -> int:
        return self._rom("GetDR").debug[regno]

    def pv_cpu_ops_set_debugreg(self, regno: int, value: int) -> None:
        self._monitor_call("SetDR", lambda: self.machine.write_dr(regno, value))

    def pv_cpu_ops_clts(self) -> None:
        self._monitor_call("CLTS", self.machine.clts)

    def pv_cpu_ops_read_cr0(self) -> int:
        return self._rom("GetCR0").cr0

    def pv_cpu_ops_write_cr0(self, val: int) -> None:
        self._monitor_call("SetCR0", lambda: self.machine.write_cr0(val))

    def pv_cpu_ops_read_cr4(self) -> int:
        return self._rom("GetCR4").cr4

    def pv_cpu_ops_write_cr4(self, val: int) -> None:
        self._monitor_call("SetCR4", lambda: self.machine.write_cr4(val))

    def pv_cpu_ops_load_tr_desc(self) -> None:
        self._monitor_call("SetTR", lambda: self.machine.ltr(k.TSS_SELECTOR))

    def pv_cpu_ops_load_gdt(self, dtr: int) -> None:
        table = self._read_dtr(dtr)
        self._monitor_call("SetGDT", lambda: self.machine.lgdt(*table))

    def pv_cpu_ops_load_idt(self, dtr: int) -> None:
        table = self._read_dtr(dtr)
        self._monitor_call("SetIDT", lambda: self.machine.lidt(*table))

    def pv_cpu_ops_store_gdt(self, dtr: int) -> None:
        self._write_dtr(dtr, self._rom("GetGDT").gdtr)

    def pv_cpu_ops_store_idt(self, dtr: int) -> None:
        self._write_dtr(dtr, self._rom("GetIDT").idtr)

    def pv_cpu_ops_set_ldt(self, desc: int, entries: int) -> None:
        self._monitor_notify("SetLDT", lambda: self.machine.lldt(desc, entries))

    def pv_cpu_ops_store_tr(self) -> int:
        return self._rom("GetTR").tr

    def pv_cpu_ops_load_tls(self, t: int, cpu: int) -> None:
        for i, descriptor in enumerate(self._tls_descriptors(t)):
            self._write_descriptor(
                "WriteGDTEntry", self._tls_slot(k.gdt_address(cpu), i), descriptor
            )

    def pv_cpu_ops_write_ldt_entry(self, ldt: int, entrynum: int, desc: int) -> None:
        self._write_descriptor("WriteLDTEntry", ldt + 8 * entrynum, self.machine.load(desc))

    def pv_cpu_ops_write_gdt_entry(self, gdt: int, entrynum: int, desc: int, size: int) -> None:
        self._write_descriptor("WriteGDTEntry", gdt + 8 * entrynum, self.machine.load(desc))

    def pv_cpu_ops_write_idt_entry(self, idt: int, entrynum: int, gate: int) -> None:
        self._write_descriptor("WriteIDTEntry", idt + 8 * entrynum, self.machine.load(gate))

    def pv_cpu_ops_load_sp0(self, tss: int, t: int) -> None:
        self.machine.store(tss + k.TSS_SP0, self._thread_sp0(t))
        self._monitor_notify("UpdateKernelStack", lambda: None)

    def pv_cpu_ops_set_iopl_mask(self, mask: int) -> None:
        self._monitor_call("SetIOPLMask", lambda: self.machine.set_iopl(mask >> 12))

    def pv_cpu_ops_wbinvd(self) -> None:
        self._monitor_call("WBINVD", self.machine.wbinvd)

    def pv_cpu_ops_io_delay(self) -> None:
        self._rom("IODelay")  # nothing to wait for on virtual hardware

    def pv_cpu_ops_cpuid(self, eax: int, ebx: int, ecx: int, edx: int) -> None:
        self._monitor_call("CPUID", lambda: self._cpuid(eax, ebx, ecx, edx))

    def pv_cpu_ops_read_tsc(self) -> int:
        return self._rom("RDTSC").rdtsc()

    @clobbers("eax")
    def pv_cpu_ops_irq_enable_syscall_ret(self) -> None:
        self._monitor_call("SYSEXIT", self.machine.sysexit)

    @clobbers("eax")
    def pv_cpu_ops_iret(self) -> None:
        self._monitor_call("IRET", self.machine.iret)

    def pv_cpu_ops_lazy_mode_enter(self) -> None:
        self._set_lazy(LazyMode.CPU, entering=True)

    def pv_cpu_ops_lazy_mode_leave(self) -> None:
        self._set_lazy(LazyMode.CPU, entering=False)

    # ---- pv_irq_ops ---------------------------------------------------------------------

    @clobbers("eax")
    def pv_irq_ops_save_fl(self) -> int:
        return EFLAGS_IF if self._rom("GetInterruptMask").interrupts_enabled() else 0

    @clobbers("eax")
    def pv_irq_ops_restore_fl(self, flags: int) -> None:
        self._rom("SetInterruptMask")
        if flags & EFLAGS_IF:
            self._unmask()
        else:
            self.machine.mask_virtual_interrupts(True)

    @clobbers("eax")
    def pv_irq_ops_irq_disable(self) -> None:
        self._rom("DisableInterrupts").mask_virtual_interrupts(True)

    @clobbers("eax")
    def pv_irq_ops_irq_enable(self) -> None:
        self._rom("EnableInterrupts")
        self._unmask()

    def pv_irq_ops_safe_halt(self) -> None:
        self._monitor_call("SafeHalt", self.machine.enable_and_halt)

    # ---- pv_apic_ops --------------------------------------------------------------------

    def pv_apic_ops_apic_write(self, reg: int, v: int) -> None:
        self._monitor_call("APICWrite", lambda: self.machine.apic_write(reg, v))

    def pv_apic_ops_apic_write_atomic(self, reg: int, v: int) -> None:
        self._monitor_call("APICWrite", lambda: self.machine.apic_write(reg, v))

    def pv_apic_ops_apic_read(self, reg: int) -> int:
        return self._monitor_call("APICRead", lambda: self.machine.apic_read(reg))

    def pv_apic_ops_setup_boot_clock(self) -> None:
        self._monitor_call(
            "SetAlarm", lambda: self._program_local_timer(self.machine.apic_register_write)
        )

    def pv_apic_ops_setup_secondary_clock(self) -> None:
        self.pv_apic_ops_setup_boot_clock()

    def pv_apic_ops_startup_ipi_hook(
        self, phys_apicid: int, start_eip: int, start_esp: int
    ) -> None:
        self._monitor_call("SetInitialAPState", lambda: None)

    # ---- pv_mmu_ops ---------------------------------------------------------------------

    def pv_mmu_ops_read_cr2(self) -> int:
        return self._rom("GetCR2").cr2

    def pv_mmu_ops_write_cr2(self, val: int) -> None:
        self._rom("SetCR2").cr2 = val

    def pv_mmu_ops_read_cr3(self) -> int:
        return self._rom("GetCR3").cr3

    def pv_mmu_ops_write_cr3(self, val: int) -> None:
        self._monitor_notify("SetCR3", lambda: self.machine.write_cr3(val))

    def pv_mmu_ops_flush_tlb_user(self) -> None:
        self._monitor_notify("FlushTLB", lambda: self.machine.flush_tlb(keep_global=True))

    def pv_mmu_ops_flush_tlb_kernel(self) -> None:
        self._monitor_call("FlushTLB", lambda: self.machine.flush_tlb(keep_global=False))

    def pv_mmu_ops_flush_tlb_single(self, addr: int) -> None:
        self._monitor_notify("InvalPage", lambda: self.machine.invlpg(addr))

    def pv_mmu_ops_alloc_pte(self, mm: int, pfn: int) -> None:
        self._monitor_notify("AllocatePage", lambda: None)

    def pv_mmu_ops_alloc_pmd(self, mm: int, pfn: int) -> None:
        self._monitor_notify("AllocatePage", lambda: None)

    def pv_mmu_ops_alloc_pmd_clone(self, pfn: int, clonepfn: int, start: int, count: int) -> None:
        self._monitor_notify("AllocatePage", lambda: None)

    def pv_mmu_ops_release_pte(self, pfn: int) -> None:
        self._monitor_notify("ReleasePage", lambda: None)

    def pv_mmu_ops_release_pmd(self, pfn: int) -> None:
        self._monitor_notify("ReleasePage", lambda: None)

    def pv_mmu_ops_set_pte(self, ptep: int, pteval: PteValue) -> None:
        self._set_pxe(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_at(self, mm: int, addr: int, ptep: int, pteval: PteValue) -> None:
        self._set_pxe(ptep, pteval.pte)

    def pv_mmu_ops_set_pmd(self, pmdp: int, pmdval: PmdValue) -> None:
        self._set_pxe(pmdp, self._pmd_raw(pmdval))

    def pv_mmu_ops_pte_update(self, mm: int, addr: int, ptep: int) -> None:
        self._monitor_notify("UpdatePTE", lambda: None)

    def pv_mmu_ops_pte_update_defer(self, mm: int, addr: int, ptep: int) -> None:
        self._monitor_notify("UpdatePTE", lambda: None)

    def pv_mmu_ops_set_pte_atomic(self, ptep: int, pteval: PteValue) -> None:
        self._set_pxe(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_present(self, mm: int, addr: int, ptep: int, pte: PteValue) -> None:
        self._set_pxe(ptep, pte.pte)

    def pv_mmu_ops_pte_clear(self, mm: int, addr: int, ptep: int) -> None:
        self._set_pxe(ptep, 0)

    def pv_mmu_ops_pmd_clear(self, pmdp: int) -> None:
        self._set_pxe(pmdp, 0)

    def pv_mmu_ops_set_pud(self, pudp: int, pudval: PudValue) -> None:
        self._set_pxe(pudp, self._pud_raw(pudval))

    def pv_mmu_ops_kmap_atomic_pte(self, page: int, type: int) -> int:
        """vmi_kmap_atomic_pte (arch/x86/kernel/vmi_32.c): the kernel's kmap_atomic, then
        SetLinearMapping, so that the ROM can translate the fixmap address of the
        page-table page in the MMU updates that follow."""
        address = self._kernel_kmap_atomic(page, type)
        self._rom("SetLinearMapping")
        return address

    def pv_mmu_ops_lazy_mode_enter(self) -> None:
        self._set_lazy(LazyMode.MMU, entering=True)

    def pv_mmu_ops_lazy_mode_leave(self) -> None:
        self._set_lazy(LazyMode.MMU, entering=False)
