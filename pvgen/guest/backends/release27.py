"""The backends as Linux 2.6.27 set them: what changed since 2.6.26, and pv_lock_ops.

Takes: the 2.6.26 implementation classes (native, xen, vmi, lguest; KVM's table is the
same in both releases).
Hands on: `IMPLEMENTATIONS_2_6_27`, one class per backend, each revising its 2.6.26 class:
it defines the members 2.6.27 added for that backend and names in `WITHDRAWN` those the
release dropped (`irq_enable_syscall_ret` became `irq_enable_sysexit`, `get_cpu_khz`
became `get_tsc_khz`, `apic_write_atomic` went). `backends.implementation_members` counts
a revision's members as its own plus its base's less the withdrawn ones, so the
member-for-member check against the spec's stubs holds for either release.

The spinlocks (2.6.27 added `pv_lock_ops`; the kernel calls `__raw_spin_lock` and its peers
through it):

- native (arch/x86/kernel/paravirt-spinlocks.c: `__ticket_spin_lock` and its peers from
  arch/x86/include/asm/spinlock.h): a ticket lock, one 16-bit word, the ticket being served
  in the low byte and the next ticket in the high one; `lock xaddw` takes a ticket, the
  waiter spins with `pause` until its ticket is served, `incb` serves the next. VMI, lguest
  and KVM do not set pv_lock_ops in 2.6.27 and get native's.
- xen (arch/x86/xen/smp.c of 2.6.27: `xen_spin_lock`, `xen_spin_lock_slow`,
  `xen_spin_unlock`, `xen_spin_unlock_slow`, `xen_init_spinlocks`): a byte lock with a
  16-bit count of spinners beside it. `xen_spin_lock` tries `xchgb`, spins up to 1 << 10
  rounds of `pause` and retries; then `xen_spin_lock_slow` records the lock in the per-CPU
  `lock_spinners`, counts itself among the spinners, clears its kicker event channel,
  tries once more and blocks in SCHEDOP_poll on that channel: the vCPU gives its physical
  CPU up. `xen_spin_unlock` stores 0 and, if the lock has spinners, kicks the first CPU
  whose `lock_spinners` names the lock (an event-channel send). Before the kicker channel
  is bound (`xen_init_lock_cpu`) the slow path returns at once and the lock only spins:
  `pv_spinlocks=False` keeps it so, for the comparison.

The 64-bit kernel (the x86_64 target; 2.6.27 moved the 64-bit entry code onto the hooks):

- native (arch/x86/kernel/entry_64.S of 2.6.27): `system_call` enters with
  `SWAPGS_UNSAFE_STACK` (a `swapgs` patch site) and leaves with `USERGS_SYSRET64`, a jump
  through `usergs_sysret64`, whose native function `native_usergs_sysret64` is
  `swapgs; sysretq`; `native_usergs_sysret32` is `swapgs; sysretl` (the 32-bit compat
  `syscall` return) and `native_irq_enable_sysexit` `swapgs; sti; sysexit` (the compat
  `sysenter` return); `native_load_gs_index` is `pushf; cli; swapgs; movl %edi, %gs;
  swapgs; popf`. `adjust_exception_frame` is `paravirt_nop` natively
  (arch/x86/kernel/paravirt.c): Xen's exception frames carry %rcx and %r11 that the entry
  code drops there. `native_patch` of arch/x86/kernel/paravirt_patch_64.c inlines
  `swapgs`, `swapgs; sysretq`, `swapgs; sysretl` and `swapgs; sti; sysexit` besides
  2.6.26's sequences (`NATIVE_CODE_64_27`); `irq_enable_syscall_ret` and its 15-byte
  sequence are gone. KVM keeps native's for all of these.
- xen: 2.6.27 is the first release whose Xen guest builds for x86_64 (the spec gives it
  the target), but the guest does not model Xen's 64-bit paravirtual ABI (the kernel in
  ring 3 with its own page tables and a second, user pgd per process, `syscall` bounced
  through Xen to `xen_syscall_target`, `xen_sysret64` an iret hypercall,
  `xen_load_gs_index` a `set_segment_base` hypercall): a run there is refused with
  `BackendMismatch` (`UNMODELLED_TARGETS`). Its x86_64-only hooks (`swapgs`,
  `usergs_sysret64`/`32`, `load_gs_index`, `adjust_exception_frame`, the 4-level
  `pud_val`, `make_pud`, `set_pgd`) raise `MachineError` saying so, should anything reach
  them.

`set_fixmap` is not reached (the guest maps no fixmap slots after boot) and raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import ClassVar

from .. import kstructs as k
from ..bindings import GuestTypes, PgdValue, PteValue, PudValue
from ..costs import Cost
from ..machine import Machine, MachineError
from ..x86 import FRAME_MASK, MSR_GS_BASE
from .base import Backend, clobbers, paravirt_nop
from .kvm import KvmHooks
from .lguest import LguestHooks
from .native import NATIVE_CODE_64, NativeHooks
from .vmi import VmiHooks
from .xen import XenHooks

WITHDRAWN_IN_2_6_27 = frozenset(
    {
        "pv_apic_ops_apic_write_atomic",
        "pv_cpu_ops_irq_enable_syscall_ret",
        "pv_time_ops_get_cpu_khz",
    }
)
STI_SYSEXIT = bytes.fromhex("fb0f35")  # native_irq_enable_sysexit (paravirt_patch_32.c)
PTE_FLAGS_MASK = ~FRAME_MASK & 0xFFFF_FFFF_FFFF_FFFF  # what pte_flags keeps

# Xen's byte lock (arch/x86/xen/smp.c of 2.6.27)
XEN_SPIN_TIMEOUT = 1 << 10  # rounds of the pause loop before the slow path
# One round: pause, cmpb, dec, jnz. Unverified: pause took about 10 cycles on the Core 2
# and earlier (Intel's optimization manual; Skylake made it about 140).
SPIN_ROUND_CYCLES = 12
XEN_SPIN_BUDGET = XEN_SPIN_TIMEOUT * SPIN_ROUND_CYCLES
XEN_LOCK_BYTE = 0xFF
XEN_SPINNERS_SHIFT = 16  # struct xen_spinlock { u8 lock; u16 spinners; }: the count at byte 2
XEN_LOCK_SPINNERS = 0x80  # offset of the per-CPU lock_spinners word in the kernel's data
SPIN_UNLOCK_VECTOR = "spinlock kick"  # XEN_SPIN_UNLOCK_VECTOR: a per-CPU event channel


#: native_patch of Linux 2.6.27 on x86_64 (arch/x86/kernel/paravirt_patch_64.c): 2.6.26's
#: sequences less irq_enable_syscall_ret, and the four the release added.
NATIVE_CODE_64_27 = {
    **{path: code for path, code in NATIVE_CODE_64.items() if "syscall_ret" not in path},
    "pv_cpu_ops.irq_enable_sysexit": bytes.fromhex("0f01f8fb0f35"),  # swapgs; sti; sysexit
    "pv_cpu_ops.usergs_sysret64": bytes.fromhex("0f01f8480f07"),  # swapgs; sysretq
    "pv_cpu_ops.usergs_sysret32": bytes.fromhex("0f01f80f07"),  # swapgs; sysretl
    "pv_cpu_ops.swapgs": bytes.fromhex("0f01f8"),  # swapgs
}
XEN_64_UNMODELLED = (
    "Linux 2.6.27 added Xen's 64-bit paravirtual guest, which the simulated guest does not"
    " model (the kernel in ring 3 with a separate user pgd, syscall bounced through Xen,"
    " sysret as an iret hypercall); Xen runs on i386_pae here"
)


def _x86_64_only(hook: str) -> MachineError:
    return MachineError(f"{hook}: the guest does not model Xen's 64-bit paravirtual guest")


def _descriptor_base(descriptor: int) -> int:
    """The base address of a segment descriptor (bits 16-39 and 56-63)."""
    return (descriptor >> 16) & 0xFF_FFFF | ((descriptor >> 56) & 0xFF) << 24


class NativeHooks27(NativeHooks):
    """Bare hardware, Linux 2.6.27: ticket spinlocks through pv_lock_ops."""

    REVISES: ClassVar[type[Backend]] = NativeHooks
    WITHDRAWN: ClassVar[frozenset[str]] = WITHDRAWN_IN_2_6_27

    def pv_init_ops_patch(self, type: int, clobber: int, insnbuf: int, addr: int, len: int) -> int:
        path = self._hook_path(type)
        if self.machine.target.long_mode:  # native_patch, paravirt_patch_64.c
            code = NATIVE_CODE_64_27.get(path)
            if code is not None:
                return self._patch_insns(insnbuf, len, code)
            return self._patch_default(type, clobber, insnbuf, addr, len)
        if path == "pv_cpu_ops.irq_enable_sysexit":
            return self._patch_insns(insnbuf, len, STI_SYSEXIT)
        return super().pv_init_ops_patch(type, clobber, insnbuf, addr, len)

    @paravirt_nop
    def pv_init_ops_post_allocator_init(self) -> None:
        return None

    def pv_time_ops_get_tsc_khz(self) -> int:
        return self.machine.cpu_khz  # native_calibrate_tsc: measured against the PIT

    def pv_cpu_ops_irq_enable_sysexit(self) -> None:
        if self.machine.target.long_mode:  # native_irq_enable_sysexit, entry_64.S
            self.machine.swapgs()
        self.machine.sysexit()

    def pv_cpu_ops_load_gs_index(self, idx: int) -> None:
        """native_load_gs_index (entry_64.S): the user's GS base is the one behind swapgs,
        so the selector is loaded between two of them, interrupts off; in 64-bit mode the
        load sets the base from the descriptor (zero for the null selector)."""
        m = self.machine
        flags = m.pushf()
        m.cli()
        m.swapgs()
        m.execute(Cost.LOAD_DESCRIPTOR_TABLE)  # movl %edi, %gs: a segment load
        base = 0 if idx & ~0x3 == 0 else _descriptor_base(m.load(m.gdtr[0] + (idx & ~0x7)))
        m.msrs[MSR_GS_BASE] = base
        m.swapgs()
        m.popf(flags)

    def pv_cpu_ops_usergs_sysret64(self) -> None:
        self.machine.swapgs()  # native_usergs_sysret64 (entry_64.S): swapgs; sysretq
        self.machine.sysret()

    def pv_cpu_ops_usergs_sysret32(self) -> None:
        self.machine.swapgs()  # native_usergs_sysret32: swapgs; sysretl (compat syscall)
        self.machine.sysret()

    @paravirt_nop
    def pv_irq_ops_adjust_exception_frame(self) -> None:
        return None  # paravirt.c: only Xen's frames need adjusting

    def pv_mmu_ops_pgd_alloc(self, mm: int) -> int:
        return 0  # __paravirt_pgd_alloc: nothing to add to a new pgd

    @paravirt_nop
    def pv_mmu_ops_pgd_free(self, mm: int, pgd: int) -> None:
        return None

    def pv_mmu_ops_pte_flags(self, pte: PteValue) -> int:
        return pte.pte & PTE_FLAGS_MASK

    def pv_mmu_ops_ptep_modify_prot_start(self, mm: int, addr: int, ptep: int) -> PteValue:
        # __ptep_modify_prot_start: get and clear, so the hardware cannot set A or D meanwhile
        value = self.machine.load(ptep)
        self.machine.execute(Cost.ATOMIC)
        self.machine.store(ptep, 0)
        return self.types.pte(value)

    def pv_mmu_ops_ptep_modify_prot_commit(
        self, mm: int, addr: int, ptep: int, pte: PteValue
    ) -> None:
        self.pv_mmu_ops_set_pte_at(mm, addr, ptep, pte)

    def pv_mmu_ops_set_fixmap(self, idx: int, phys: int, flags: object) -> None:
        raise MachineError("set_fixmap: the guest maps no fixmap slots after boot")

    # ---- pv_lock_ops: the ticket lock ---------------------------------------------------

    def pv_lock_ops_spin_is_locked(self, lock: int) -> int:
        word = self.machine.load(lock)
        return int((word ^ word >> 8) & 0xFF != 0)

    def pv_lock_ops_spin_is_contended(self, lock: int) -> int:
        word = self.machine.load(lock)
        return int(((word >> 8) - word) & 0xFF > 1)

    def pv_lock_ops_spin_lock(self, lock: int) -> None:
        m = self.machine
        m.execute(Cost.ATOMIC)  # lock xaddw: take a ticket
        word = m.load(lock)
        serving, ticket = word & 0xFF, word >> 8 & 0xFF
        m.store(lock, serving | ((ticket + 1) & 0xFF) << 8)
        if self.lock_waits is None:
            return
        if serving != ticket:  # a ticket ahead of ours that nobody will ever serve
            raise self.lock_waits.lockup(lock)
        self.lock_waits.spin(lock, handover=True)  # pause until our ticket is served
        self.lock_waits.taken(lock)

    def pv_lock_ops_spin_trylock(self, lock: int) -> int:
        m = self.machine
        word = m.load(lock)
        if (word ^ word >> 8) & 0xFF:
            return 0
        m.execute(Cost.ATOMIC)  # lock cmpxchgw
        m.store(lock, (word & 0xFF) | (((word >> 8) + 1) & 0xFF) << 8)
        if self.lock_waits is not None:
            self.lock_waits.taken(lock)
        return 1

    def pv_lock_ops_spin_unlock(self, lock: int) -> None:
        m = self.machine
        m.execute(Cost.ATOMIC)  # incb: serve the next ticket
        word = m.load(lock)
        m.store(lock, (word & ~0xFF) | ((word + 1) & 0xFF))
        if self.lock_waits is not None:
            self.lock_waits.released(lock)


class XenHooks27(XenHooks):
    """Xen, Linux 2.6.27: byte spinlocks that block in SCHEDOP_poll and are kicked."""

    REVISES: ClassVar[type[Backend]] = XenHooks
    WITHDRAWN: ClassVar[frozenset[str]] = WITHDRAWN_IN_2_6_27
    UNMODELLED_TARGETS: ClassVar[Mapping[str, str]] = {"x86_64": XEN_64_UNMODELLED}

    def __init__(self, machine: Machine, types: GuestTypes, patch_ids: Mapping[str, int]) -> None:
        super().__init__(machine, types, patch_ids)
        # xen_init_lock_cpu binds each CPU's kicker event channel; without it the slow
        # path returns at once and the lock only spins.
        self.pv_spinlocks = True
        self._kick_pending: set[int] = set()  # CPUs whose kicker channel is pending

    def pv_time_ops_get_tsc_khz(self) -> int:
        return self._shared().cpu_khz  # xen_tsc_khz: from the vCPU's time info

    def pv_cpu_ops_irq_enable_sysexit(self) -> None:
        XenHooks.pv_cpu_ops_irq_enable_syscall_ret(self)  # xen_sysexit, as in 2.6.26

    def pv_cpu_ops_load_gs_index(self, idx: int) -> None:
        raise _x86_64_only("load_gs_index")

    def pv_cpu_ops_usergs_sysret64(self) -> None:
        raise _x86_64_only("usergs_sysret64")

    def pv_cpu_ops_usergs_sysret32(self) -> None:
        raise _x86_64_only("usergs_sysret32")

    def pv_cpu_ops_swapgs(self) -> None:
        raise _x86_64_only("swapgs")

    def pv_irq_ops_adjust_exception_frame(self) -> None:
        raise _x86_64_only("adjust_exception_frame")

    def pv_mmu_ops_pgd_alloc(self, mm: int) -> int:
        return 0  # xen_pgd_alloc: a user pgd only on x86_64

    @paravirt_nop
    def pv_mmu_ops_pgd_free(self, mm: int, pgd: int) -> None:
        return None

    def pv_mmu_ops_alloc_pud(self, mm: int, pfn: int) -> None:
        self._pin_table_page(mm, pfn, "pud")  # xen_alloc_pud: pinned if the mm is

    def pv_mmu_ops_release_pud(self, pfn: int) -> None:
        self._release_table_page(pfn, "pud")

    def pv_mmu_ops_pte_flags(self, pte: PteValue) -> int:
        return pte.pte & PTE_FLAGS_MASK  # the flags are not translated, only the frame

    def pv_mmu_ops_ptep_modify_prot_start(self, mm: int, addr: int, ptep: int) -> PteValue:
        # xen_ptep_modify_prot_start: just read; the commit preserves A and D in Xen
        return self.types.pte(self._to_guest(self.machine.load(ptep)))

    def pv_mmu_ops_ptep_modify_prot_commit(
        self, mm: int, addr: int, ptep: int, pte: PteValue
    ) -> None:
        self._mmu_update(ptep, self._to_machine(pte.pte))  # MMU_PT_UPDATE_PRESERVE_AD

    def pv_mmu_ops_pud_val(self, pud: PudValue) -> int:
        raise _x86_64_only("pud_val")

    def pv_mmu_ops_make_pud(self, pud: int) -> PudValue:
        raise _x86_64_only("make_pud")

    def pv_mmu_ops_set_pgd(self, pudp: int, pgdval: PgdValue) -> None:
        raise _x86_64_only("set_pgd")

    def pv_mmu_ops_set_fixmap(self, idx: int, phys: int, flags: object) -> None:
        raise MachineError("set_fixmap: the guest maps no fixmap slots after boot")

    # ---- pv_lock_ops: the byte lock, its slow path and the kick ---------------------------

    @staticmethod
    def _lock_spinners(cpu: int) -> int:
        """The address of CPU `cpu`'s lock_spinners (a per-CPU variable)."""
        return k.KERNEL_DATA + XEN_LOCK_SPINNERS + 8 * cpu

    def pv_lock_ops_spin_is_locked(self, lock: int) -> int:
        return int(self.machine.load(lock) & XEN_LOCK_BYTE != 0)

    def pv_lock_ops_spin_is_contended(self, lock: int) -> int:
        return int(self.machine.load(lock) >> XEN_SPINNERS_SHIFT != 0)

    def _xchg(self, lock: int) -> int:
        """xchgb 1 into the lock byte; the old byte."""
        m = self.machine
        m.execute(Cost.ATOMIC)
        word = m.load(lock)
        m.store(lock, word | 1)
        return word & XEN_LOCK_BYTE

    def pv_lock_ops_spin_trylock(self, lock: int) -> int:
        if self._xchg(lock):
            return 0
        if self.lock_waits is not None:
            self.lock_waits.taken(lock)
        return 1

    def pv_lock_ops_spin_lock(self, lock: int) -> None:
        waits = self.lock_waits
        if waits is not None:
            # xchgb, then up to XEN_SPIN_TIMEOUT rounds of pause; the slow path if still held
            while not waits.spin(lock, handover=False, budget=XEN_SPIN_BUDGET):
                if self.pv_spinlocks:
                    self._spin_lock_slow(lock)
        if self._xchg(lock) and waits is not None:
            raise waits.lockup(lock)
        if waits is not None:
            waits.taken(lock)

    def _spin_lock_slow(self, lock: int) -> None:
        """xen_spin_lock_slow: announce the spinner, clear the kicker, block on it."""
        m = self.machine
        cpu = m.current
        waits = self.lock_waits
        assert waits is not None
        m.store(self._lock_spinners(cpu), lock)  # spinning_lock
        m.execute(Cost.ATOMIC)  # lock incw spinners
        m.store(lock, m.load(lock) + (1 << XEN_SPINNERS_SHIFT))
        self._kick_pending.discard(cpu)  # xen_clear_irq_pending
        m.execute(Cost.ATOMIC)  # the trylock before sleeping: still held
        self._call("sched_op:poll", lambda: None)  # the vCPU blocks ...
        waits.block(lock, lambda: cpu in self._kick_pending)  # ... until the kick
        self._kick_pending.discard(cpu)
        m.execute(Cost.ATOMIC)  # unspinning_lock: lock decw spinners
        m.store(lock, m.load(lock) - (1 << XEN_SPINNERS_SHIFT))
        m.store(self._lock_spinners(cpu), 0)

    def pv_lock_ops_spin_unlock(self, lock: int) -> None:
        m = self.machine
        m.store(lock, m.load(lock) & ~XEN_LOCK_BYTE)  # xl->lock = 0
        if self.lock_waits is not None:
            self.lock_waits.released(lock, lambda: self._after_release(lock))

    def _after_release(self, lock: int) -> None:
        """The rest of xen_spin_unlock: with spinners, xen_spin_unlock_slow kicks the first
        CPU whose lock_spinners is this lock."""
        m = self.machine
        if not m.load(lock) >> XEN_SPINNERS_SHIFT:
            return
        for cpu in range(len(m.cpus)):
            if m.load(self._lock_spinners(cpu)) == lock:
                self._call("event_channel_op:send", partial(self._kick_pending.add, cpu))
                return


class VmiHooks27(VmiHooks):
    """VMI, Linux 2.6.27: the sysexit hook renamed; no pv_lock_ops (native's)."""

    REVISES: ClassVar[type[Backend]] = VmiHooks
    WITHDRAWN: ClassVar[frozenset[str]] = WITHDRAWN_IN_2_6_27

    def pv_init_ops_patch(self, type: int, clobber: int, insnbuf: int, addr: int, len: int) -> int:
        if self._hook_path(type) == "pv_cpu_ops.irq_enable_sysexit":  # vmi_patch: a jump
            return self._patch_jump(insnbuf, self.pv_cpu_ops_irq_enable_sysexit, addr, len)
        return super().pv_init_ops_patch(type, clobber, insnbuf, addr, len)

    def pv_time_ops_get_tsc_khz(self) -> int:
        return self._rom("GetCycleFrequency").cpu_khz  # vmi_tsc_khz

    @clobbers("eax")
    def pv_cpu_ops_irq_enable_sysexit(self) -> None:
        self._monitor_call("SYSEXIT", self.machine.sysexit)


class LguestHooks27(LguestHooks):
    """lguest, Linux 2.6.27: the TSC frequency hook renamed."""

    REVISES: ClassVar[type[Backend]] = LguestHooks
    WITHDRAWN: ClassVar[frozenset[str]] = WITHDRAWN_IN_2_6_27

    def pv_time_ops_get_tsc_khz(self) -> int:
        return self._shared().cpu_khz  # lguest_tsc_khz: lguest_data.tsc_khz


IMPLEMENTATIONS_2_6_27: dict[str, type[Backend]] = {
    "native": NativeHooks27,
    "xen": XenHooks27,
    "vmi": VmiHooks27,
    "lguest": LguestHooks27,
    "kvm": KvmHooks,
}
