"""The KVM backend: a hardware-assisted guest with a few paravirtual shortcuts.

Takes: the machine (VT-x with shadow paging: what the CPU intercepts costs a VM exit).
Hands on: `KvmHooks`, the hooks the spec's `kvm` block lists, modelled on 2.6.26's KVM
guest: everything else runs natively (and exits where VT-x intercepts). Clocks come from
pvclock pages the host keeps current (no exit per reading); io_delay does nothing (port
0x80 would exit); page-table writes and TLB flushes are MMU operations sent by hypercall,
queued in a buffer while the lazy-MMU bracket is open and sent with one vmcall.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..bindings import GuestTypes, PgdValue, PmdValue, PteValue, PudValue
from ..costs import Cost
from ..machine import Machine, Platform
from ..meter import HYPERCALL, VM_EXIT
from .base import Backend, LazyMode
from .hypercalls import HypervisorGate

MMU_QUEUE_OPERATIONS = 40  # a 1 KiB buffer of 24-byte MMU operations


class KvmHooks(Backend):
    """KVM guest: pvclock, MMU hypercalls batched in lazy mode, the rest native on VT-x."""

    PLATFORM = Platform.HARDWARE_ASSISTED

    pv_info_paravirt_enabled = 1
    pv_info_name = "KVM"

    def __init__(self, machine: Machine, types: GuestTypes, patch_ids: Mapping[str, int]) -> None:
        super().__init__(machine, types, patch_ids)
        self._host = HypervisorGate(
            machine,
            entry=(Cost.VM_EXIT, Cost.KVM_HYPERCALL_HANDLER),
            batch_limit=MMU_QUEUE_OPERATIONS,
            events=(HYPERCALL, VM_EXIT),
        )

    def _mmu_write(self, entry: int, value: int) -> None:
        """KVM_MMU_OP_WRITE_PTE: the host writes the entry and updates its shadow."""

        def write() -> None:
            self.machine.charge(Cost.KVM_MMU_OP)
            self.machine.write_page_table(entry, value)

        self._host.submit("mmu_op:write_pte", write)

    def _release(self) -> None:
        self._host.submit("mmu_op:release_pt", lambda: None)

    def _read_pvclock(self) -> Machine:
        self.machine.charge(Cost.PVCLOCK_READ)
        return self.machine

    # ---- pv_time_ops ------------------------------------------------------------------

    def pv_time_ops_get_wallclock(self) -> int:
        self.machine.execute(Cost.WRMSR)  # MSR_KVM_WALL_CLOCK: the host fills the page
        return self._read_pvclock().wallclock()

    def pv_time_ops_set_wallclock(self, nowtime: int) -> int:
        self._host.call("set_wallclock", lambda: self.machine.set_wallclock(nowtime))
        return 0

    def pv_time_ops_sched_clock(self) -> int:
        return self._read_pvclock().nanoseconds()

    # ---- pv_cpu_ops and pv_apic_ops -----------------------------------------------------

    def pv_cpu_ops_io_delay(self) -> None:
        return None  # port 0x80 would cost a VM exit and delays nothing in a guest

    def pv_apic_ops_setup_secondary_clock(self) -> None:
        self.machine.execute(Cost.WRMSR)  # MSR_KVM_SYSTEM_TIME for the new CPU's pvclock
        self._program_local_timer(self.machine.apic_write)

    # ---- pv_mmu_ops ---------------------------------------------------------------------

    def pv_mmu_ops_flush_tlb_user(self) -> None:
        self._host.submit("mmu_op:flush_tlb", lambda: self.machine.flush_tlb(keep_global=True))

    def pv_mmu_ops_release_pte(self, pfn: int) -> None:
        self._release()

    def pv_mmu_ops_release_pmd(self, pfn: int) -> None:
        self._release()

    def pv_mmu_ops_release_pud(self, pfn: int) -> None:
        self._release()

    def pv_mmu_ops_set_pte(self, ptep: int, pteval: PteValue) -> None:
        self._mmu_write(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_at(self, mm: int, addr: int, ptep: int, pteval: PteValue) -> None:
        self._mmu_write(ptep, pteval.pte)

    def pv_mmu_ops_set_pmd(self, pmdp: int, pmdval: PmdValue) -> None:
        self._mmu_write(pmdp, pmdval.pmd)

    def pv_mmu_ops_set_pte_atomic(self, ptep: int, pteval: PteValue) -> None:
        self._mmu_write(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_present(self, mm: int, addr: int, ptep: int, pte: PteValue) -> None:
        self._mmu_write(ptep, pte.pte)

    def pv_mmu_ops_pte_clear(self, mm: int, addr: int, ptep: int) -> None:
        self._mmu_write(ptep, 0)

    def pv_mmu_ops_pmd_clear(self, pmdp: int) -> None:
        self._mmu_write(pmdp, 0)

    def pv_mmu_ops_set_pud(self, pudp: int, pudval: PudValue) -> None:
        self._mmu_write(pudp, pudval.pgd.pgd)

    def pv_mmu_ops_set_pgd(self, pudp: int, pgdval: PgdValue) -> None:
        self._mmu_write(pudp, pgdval.pgd)

    def pv_mmu_ops_lazy_mode_enter(self) -> None:
        self._enter_lazy(LazyMode.MMU)
        self._host.open_batch()

    def pv_mmu_ops_lazy_mode_leave(self) -> None:
        self._host.close_batch()
        self._leave_lazy(LazyMode.MMU)
