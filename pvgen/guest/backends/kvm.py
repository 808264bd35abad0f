"""The KVM backend: a hardware-assisted guest with a few paravirtual shortcuts.

Takes: the machine (VT-x with shadow paging: what the CPU intercepts costs a VM exit).
Hands on: `KvmHooks`, the hooks the spec's `kvm` block lists, modelled on 2.6.26's KVM
guest (arch/x86/kernel/kvm.c, kvmclock.c): everything else runs natively (and exits where
VT-x intercepts, with the host's handling after each exit priced by the machine). Clocks
come from pvclock pages the host keeps current (no exit per reading); io_delay does nothing
(port 0x80 would exit).

Page-table writes and user TLB flushes are MMU operations (`kvm_mmu_write`,
`kvm_flush_tlb`): sent at once outside the lazy-MMU bracket, queued inside it in a buffer
of MMU_QUEUE_SIZE (1,024) bytes that is sent when full and when the bracket closes
(`kvm_deferred_mmu_op`, `mmu_queue_flush`). The host reads at most 512 bytes of a buffer
per KVM_HC_MMU_OP (`struct kvm_pv_mmu_op_buffer` in arch/x86/kvm/mmu.c) and returns how
many bytes of whole operations it ran, so the guest's `kvm_mmu_op` loops: a full queue of
24-byte writes (42 of them, 1,008 bytes) takes two vmcalls. Releasing a page-table page
(`kvm_release_pt`) is never queued: it goes to the host at once, past what the queue holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..bindings import GuestTypes, PgdValue, PmdValue, PteValue, PudValue
from ..costs import Cost
from ..machine import Machine, Platform
from ..meter import HYPERCALL, VM_EXIT
from .base import Backend, LazyMode
from .hypercalls import HypervisorGate

MMU_QUEUE_SIZE = 1024  # bytes of the guest's per-CPU queue (arch/x86/kernel/kvm.c)
MMU_OP_BUFFER = 512  # bytes the host reads per hypercall (arch/x86/kvm/mmu.c)
# sizeof of the operations (include/asm-x86/kvm_para.h): an 8-byte header, then their words
WRITE_PTE_BYTES = 24
FLUSH_TLB_BYTES = 8
RELEASE_PT_BYTES = 16

#: An MMU operation: its name, its size in bytes, what the host does for it.
MmuOp = tuple[str, int, Callable[[], object]]


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
            per_request=Cost.KVM_MMU_OP,
            batch_limit=MMU_QUEUE_SIZE,  # never reached: _mmu_op sends at most 512 bytes
            events=(HYPERCALL, VM_EXIT),
        )
        self._queue: list[MmuOp] = []  # kvm_para_state.mmu_queue
        self._queued_bytes = 0

    def _mmu_op(self, operations: Sequence[MmuOp]) -> None:
        """kvm_mmu_op: KVM_HC_MMU_OP until every byte is taken, 512 bytes at most a call."""
        rest = list(operations)
        while rest:
            taken, size = 0, 0
            while taken < len(rest) and size + rest[taken][1] <= MMU_OP_BUFFER:
                size += rest[taken][1]
                taken += 1
            chunk, rest = rest[:taken], rest[taken:]
            if len(chunk) == 1:
                name, _, action = chunk[0]
                self._host.call(f"mmu_op:{name}", self._priced(action))
                continue
            self._host.open_batch()
            for name, _, action in chunk:
                self._host.submit(f"mmu_op:{name}", action)
            self._host.close_batch()  # one vmcall for the chunk, each operation priced

    def _priced(self, action: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            self.machine.charge(Cost.KVM_MMU_OP)
            return action()

        return run

    def _deferred(self, name: str, size: int, action: Callable[[], object]) -> None:
        """kvm_deferred_mmu_op: at once outside the lazy-MMU bracket, else queued."""
        if self.lazy is not LazyMode.MMU:
            self._mmu_op([(name, size, action)])
            return
        if self._queued_bytes + size > MMU_QUEUE_SIZE:
            self._flush_queue()
        self.machine.charge(Cost.SHARED_MEMORY, size // 8)  # the memcpy into the queue
        self._queue.append((name, size, action))
        self._queued_bytes += size

    def _flush_queue(self) -> None:
        """mmu_queue_flush."""
        queue, self._queue, self._queued_bytes = self._queue, [], 0
        if queue:
            self._mmu_op(queue)

    def _mmu_write(self, entry: int, value: int) -> None:
        """KVM_MMU_OP_WRITE_PTE: the host writes the entry and updates its shadow."""
        self._deferred(
            "write_pte", WRITE_PTE_BYTES, lambda: self.machine.write_page_table(entry, value)
        )

    def _release(self) -> None:
        """kvm_release_pt: KVM_MMU_OP_RELEASE_PT at once, never queued (mmu_unshadow)."""
        self._mmu_op([("release_pt", RELEASE_PT_BYTES, lambda: None)])

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
        self._deferred(
            "flush_tlb", FLUSH_TLB_BYTES, lambda: self.machine.flush_tlb(keep_global=True)
        )

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
        self._mmu_write(pmdp, self._pmd_raw(pmdval))

    def pv_mmu_ops_set_pte_atomic(self, ptep: int, pteval: PteValue) -> None:
        self._mmu_write(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_present(self, mm: int, addr: int, ptep: int, pte: PteValue) -> None:
        self._mmu_write(ptep, pte.pte)

    def pv_mmu_ops_pte_clear(self, mm: int, addr: int, ptep: int) -> None:
        self._mmu_write(ptep, 0)

    def pv_mmu_ops_pmd_clear(self, pmdp: int) -> None:
        self._mmu_write(pmdp, 0)

    def pv_mmu_ops_set_pud(self, pudp: int, pudval: PudValue) -> None:
        self._mmu_write(pudp, self._pud_raw(pudval))

    def pv_mmu_ops_set_pgd(self, pudp: int, pgdval: PgdValue) -> None:
        self._mmu_write(pudp, pgdval.pgd)

    def pv_mmu_ops_lazy_mode_enter(self) -> None:
        self._enter_lazy(LazyMode.MMU)

    def pv_mmu_ops_lazy_mode_leave(self) -> None:
        self._flush_queue()
        self._leave_lazy(LazyMode.MMU)
