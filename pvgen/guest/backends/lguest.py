"""The lguest backend: the small in-kernel hypervisor for 32-bit Linux guests.

Takes: the machine (deprivileged: the guest kernel runs in ring 1).
Hands on: `LguestHooks`, the hooks the spec's `lguest` block lists, modelled on Linux
2.6.26's arch/x86/lguest/boot.c. Most privileged operations are a hypercall, which traps
into the Switcher and runs the host kernel: a world switch, dearer than a Xen hypercall.
The interrupt flag and a copy of the registers the guest reads often (CR0, CR2, CR3, CR4,
the clock) live in `lguest_data`, a page shared with the host.

- Batching (`lazy_hcall`, `async_hcall`): inside a lazy bracket the calls that may wait
  (page-table updates, TLB flushes, CR3 and TS changes, TLS and stack loads) are stored in
  `lguest_data`'s ring of LHCALL_RING_SIZE (64) slots, which the host runs at the next real
  hypercall; a full ring makes the call a real one (which runs the ring first), and
  leaving the bracket always makes one, LHCALL_FLUSH_ASYNC.
- Page tables are the guest's own memory, shadowed by the host (drivers/lguest/
  page_tables.c): `lguest_set_pte_at` and `lguest_set_pmd` store the entry with a plain
  store, never a trap, and then tell the host (LHCALL_SET_PTE, LHCALL_SET_PMD);
  `lguest_set_pte` stores and asks for a flush (LHCALL_FLUSH_TLB) once paging is up.
- `lguest_cpuid` hides SEP (and PAE): the guest has no sysenter, its system calls are
  int $0x80, whose gate the host copies into the real IDT (`direct_trap`, drivers/lguest/
  interrupts_and_traps.c), and it returns with `lguest_iret`, a native iret. The guest
  keeps its view (its fast path is sysenter and sysexit); the machine prices that route.

Linux builds lguest for 32-bit kernels without PAE only (arch/x86/lguest/Kconfig:
`depends on !X86_PAE`), and the spec's `@if(X86_32 && !X86_PAE)` says the same: it runs
on the i386 target, whose guest pages with 2 levels and 4-byte entries; a run on another
target is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from .. import apic as lapic
from .. import kstructs as k
from ..bindings import GuestTypes, PmdValue, PteValue
from ..costs import Cost
from ..machine import Machine, Platform
from ..meter import BATCH, BATCHED, HYPERCALL
from ..x86 import EFLAGS_IF, PAGE_SHIFT
from .base import Backend, LazyMode
from .hypercalls import HypervisorGate

T = TypeVar("T")

LGUEST_DATA_PAGE_OFFSET = 2  # lguest_data sits just past the guest's RAM
LHCALL_RING_SIZE = 64  # include/asm-x86/lguest_hcall.h


class LguestHooks(Backend):
    """lguest guest: a hypercall per privileged operation, deferred ones batched in a ring."""

    PLATFORM = Platform.DEPRIVILEGED

    pv_info_kernel_rpl = 1
    pv_info_paravirt_enabled = 1
    pv_info_name = "lguest"

    def __init__(self, machine: Machine, types: GuestTypes, patch_ids: Mapping[str, int]) -> None:
        super().__init__(machine, types, patch_ids)
        self._host = HypervisorGate(machine, entry=(Cost.LGUEST_HYPERCALL,))
        lguest_data = (machine.ram_frames + LGUEST_DATA_PAGE_OFFSET) << PAGE_SHIFT
        machine.use_virtual_interrupt_flag(lguest_data)
        # int $0x80 goes straight to the guest; with SEP hidden, sysenter and sysexit
        # stand for int $0x80 and lguest_iret's native iret.
        machine.route_transfer(Cost.SOFTWARE_INTERRUPT, Cost.SOFTWARE_INTERRUPT)
        machine.route_transfer(Cost.SYSENTER, Cost.SOFTWARE_INTERRUPT)
        machine.route_transfer(Cost.SYSEXIT, Cost.IRET)
        self._cr3: dict[int, int] = {}  # lguest_data's copy of CR3, per vCPU
        self._ring: list[tuple[str, Callable[[], object]]] = []  # lguest_data.hcalls

    def _hcall(self, request: str, action: Callable[[], T]) -> T:
        """A real hypercall; the host first runs the calls stored in the ring."""
        stored, self._ring = self._ring, []
        if not stored:
            return self._host.call(request, action)
        meter = self.machine.meter
        meter.count(BATCH)
        meter.count(BATCHED, len(stored))

        def run() -> T:
            for name, call in stored:  # do_async_hcalls, drivers/lguest/hypercalls.c
                self.machine.charge(Cost.LGUEST_RING_ENTRY)
                meter.count(f"{HYPERCALL}:{name}")
                call()
            return action()

        return self._host.call(request, run)

    def _lazy_hcall(self, request: str, action: Callable[[], object]) -> None:
        """A call that may wait: stored in the ring inside a lazy bracket (async_hcall)."""
        if self.lazy is LazyMode.NONE or len(self._ring) >= LHCALL_RING_SIZE:
            self._hcall(request, action)
            return
        # local_irq_save, four argument words and the status byte, local_irq_restore
        self.machine.charge(Cost.SHARED_MEMORY, 7)
        self._ring.append((request, action))

    def _leave_lazy_mode(self, mode: LazyMode) -> None:
        """lguest_leave_lazy_mode: always one hypercall, which runs the ring."""
        self._leave_lazy(mode)
        self._hcall("flush_async", lambda: None)

    def _shared(self) -> Machine:
        """A read or write of lguest_data."""
        self.machine.charge(Cost.SHARED_MEMORY)
        return self.machine

    def _unmask(self) -> None:
        self.machine.mask_virtual_interrupts(False)
        if self._shared().deliverable() is not None:
            self._hcall("send_interrupts", self.machine.poll)

    def _store_entry(self, entry: int, value: int) -> None:
        """`*ptep = pteval`: a plain store into the guest's own page table, no trap."""
        self.machine.charge(Cost.PAGE_TABLE_WRITE)
        self.machine.store_entry(entry, value)

    # ---- pv_init_ops ------------------------------------------------------------------

    def pv_init_ops_patch(self, type: int, clobber: int, insnbuf: int, addr: int, len: int) -> int:
        return len  # lguest's inline interrupt-flag sequences do not fit a call site here

    def pv_init_ops_memory_setup(self) -> str:
        self._write_memory_map([(0, self._shared().ram_frames)])
        return "LGUEST"

    # ---- pv_time_ops ------------------------------------------------------------------

    def pv_time_ops_time_init(self) -> None:
        self._hcall("set_clockevent", lambda: None)

    def pv_time_ops_get_wallclock(self) -> int:
        return self._shared().wallclock()  # lguest_data.time, kept by the host

    def pv_time_ops_get_cpu_khz(self) -> int:
        return self._shared().cpu_khz  # lguest_data.tsc_khz

    # ---- pv_cpu_ops ---------------------------------------------------------------------

    def pv_cpu_ops_set_debugreg(self, regno: int, value: int) -> None:
        self._hcall("set_debugreg", lambda: self.machine.write_dr(regno, value))

    def pv_cpu_ops_clts(self) -> None:
        self._lazy_hcall("ts", self.machine.clts)

    def pv_cpu_ops_read_cr0(self) -> int:
        return self._shared().cr0  # current_cr0

    def pv_cpu_ops_write_cr0(self, val: int) -> None:
        self._lazy_hcall("ts", lambda: self.machine.write_cr0(val))

    def pv_cpu_ops_read_cr4(self) -> int:
        return self._shared().cr4

    def pv_cpu_ops_write_cr4(self, val: int) -> None:
        self._hcall("set_cr4", lambda: self.machine.write_cr4(val))

    def pv_cpu_ops_load_tr_desc(self) -> None:
        self._hcall("load_tr", lambda: self.machine.ltr(k.TSS_SELECTOR))

    def pv_cpu_ops_load_gdt(self, dtr: int) -> None:
        table = self._read_dtr(dtr)
        self._hcall("load_gdt", lambda: self.machine.lgdt(*table))

    def pv_cpu_ops_load_idt(self, dtr: int) -> None:
        table = self._read_dtr(dtr)
        self._hcall("load_idt", lambda: self.machine.lidt(*table))

    def pv_cpu_ops_set_ldt(self, desc: int, entries: int) -> None:
        self._hcall("load_ldt", lambda: self.machine.lldt(desc, entries))

    def pv_cpu_ops_load_tls(self, t: int, cpu: int) -> None:
        descriptors = self._tls_descriptors(t)

        def copy() -> None:
            for i, descriptor in enumerate(descriptors):
                self.machine.write_descriptor(self._tls_slot(k.gdt_address(cpu), i), descriptor)

        self._lazy_hcall("load_tls", copy)

    def pv_cpu_ops_write_gdt_entry(self, gdt: int, entrynum: int, desc: int, size: int) -> None:
        value = self.machine.load(desc)
        slot = gdt + 8 * entrynum
        self._hcall("load_gdt_entry", lambda: self.machine.write_descriptor(slot, value))

    def pv_cpu_ops_write_idt_entry(self, idt: int, entrynum: int, gate: int) -> None:
        value = self.machine.load(gate)
        slot = idt + 8 * entrynum
        self._hcall("load_idt_entry", lambda: self.machine.write_descriptor(slot, value))

    def pv_cpu_ops_load_sp0(self, tss: int, t: int) -> None:
        self.machine.store(tss + k.TSS_SP0, self._thread_sp0(t))
        self._lazy_hcall("set_stack", lambda: None)

    def pv_cpu_ops_wbinvd(self) -> None:
        self._hcall("wbinvd", self.machine.wbinvd)

    def pv_cpu_ops_cpuid(self, eax: int, ebx: int, ecx: int, edx: int) -> None:
        self._cpuid(eax, ebx, ecx, edx)  # cpuid does not trap; lguest only masks features

    def pv_cpu_ops_iret(self) -> None:
        # Restore the virtual flag from the frame, then a same-ring iret, which does not trap.
        self.machine.charge(Cost.SHARED_MEMORY)
        self.machine.iret()

    def pv_cpu_ops_lazy_mode_enter(self) -> None:
        self._enter_lazy(LazyMode.CPU)

    def pv_cpu_ops_lazy_mode_leave(self) -> None:
        self._leave_lazy_mode(LazyMode.CPU)

    # ---- pv_irq_ops ---------------------------------------------------------------------

    def pv_irq_ops_init_IRQ(self) -> None:
        self._hcall(
            "init_irq",
            lambda: self.machine.apic_register_write(lapic.SVR, 0x100 | k.SPURIOUS_VECTOR),
        )

    def pv_irq_ops_save_fl(self) -> int:
        return EFLAGS_IF if self._shared().interrupts_enabled() else 0

    def pv_irq_ops_restore_fl(self, flags: int) -> None:
        if flags & EFLAGS_IF:
            self._unmask()
        else:
            self.machine.mask_virtual_interrupts(True)

    def pv_irq_ops_irq_disable(self) -> None:
        self.machine.mask_virtual_interrupts(True)

    def pv_irq_ops_irq_enable(self) -> None:
        self._unmask()

    def pv_irq_ops_safe_halt(self) -> None:
        self._hcall("halt", self.machine.enable_and_halt)

    # ---- pv_apic_ops --------------------------------------------------------------------

    def pv_apic_ops_apic_write(self, reg: int, v: int) -> None:
        self._hcall("apic_write", lambda: self.machine.apic_register_write(reg, v))

    def pv_apic_ops_apic_write_atomic(self, reg: int, v: int) -> None:
        self._hcall("apic_write", lambda: self.machine.apic_register_write(reg, v))

    def pv_apic_ops_apic_read(self, reg: int) -> int:
        return self._hcall("apic_read", lambda: self.machine.apic_register(reg))

    # ---- pv_mmu_ops ---------------------------------------------------------------------

    def pv_mmu_ops_read_cr2(self) -> int:
        return self._shared().cr2

    def pv_mmu_ops_read_cr3(self) -> int:
        self.machine.charge(Cost.SHARED_MEMORY)
        return self._cr3.get(self.machine.current, 0)

    def pv_mmu_ops_write_cr3(self, val: int) -> None:
        self._cr3[self.machine.current] = val
        self._lazy_hcall("new_pgtable", lambda: self.machine.write_cr3(val))

    def pv_mmu_ops_flush_tlb_user(self) -> None:
        self._lazy_hcall("flush_tlb", lambda: self.machine.flush_tlb(keep_global=True))

    def pv_mmu_ops_flush_tlb_kernel(self) -> None:
        self._lazy_hcall("flush_tlb", lambda: self.machine.flush_tlb(keep_global=False))

    def pv_mmu_ops_flush_tlb_single(self, addr: int) -> None:
        # LHCALL_SET_PTE of a zero entry: the host drops the shadow entry (and the TLB's)
        self._lazy_hcall("set_pte", lambda: self.machine.invlpg(addr))

    def pv_mmu_ops_set_pte(self, ptep: int, pteval: PteValue) -> None:
        self._store_entry(ptep, pteval.pte)
        if self._cr3:  # no hypercall before the first page-table switch (on any vCPU)
            self._lazy_hcall("flush_tlb", lambda: self.machine.flush_tlb(keep_global=False))

    def pv_mmu_ops_set_pte_at(self, mm: int, addr: int, ptep: int, pteval: PteValue) -> None:
        self._store_entry(ptep, pteval.pte)
        self._lazy_hcall("set_pte", lambda: None)  # the host updates its shadow

    def pv_mmu_ops_set_pmd(self, pmdp: int, pmdval: PmdValue) -> None:
        self._store_entry(pmdp, self._pmd_raw(pmdval))
        self._lazy_hcall("set_pmd", lambda: None)

    def pv_mmu_ops_lazy_mode_enter(self) -> None:
        self._enter_lazy(LazyMode.MMU)

    def pv_mmu_ops_lazy_mode_leave(self) -> None:
        self._leave_lazy_mode(LazyMode.MMU)
