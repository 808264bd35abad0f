"""What every backend implementation shares.

Takes: the machine the guest runs on, the generated entry types, and the target's patch IDs.
Hands on: `Backend`, the base of the five implementations (each joined with its generated
stub by `backends.bound_class`), with helpers for the kernel structures that hooks receive
by pointer, for the lazy-mode bracket, and for patching call sites (the kernel's
`paravirt_patch_default` and its helpers, which every backend's `patch` ends in); the
`paravirt_nop` and `clobbers` marks a backend puts on its functions for the patcher and
the CPU.

An implementation class defines exactly the hooks and data members of its stub, named after
the hook paths (`pv_mmu_ops_set_pte`), and nothing else that is public; helpers start with
an underscore. The dispatch object decides which methods are used: the generated
`ParavirtOps.install` binds a slot to the backend where the spec says it overrides the hook,
and to the native backend otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, TypeVar

from .. import apic as lapic
from .. import kstructs as k
from ..bindings import GuestTypes, PmdValue, PudValue
from ..costs import Cost
from ..locks import LockWaits
from ..machine import Machine, MachineError, Platform
from ..meter import TRAP
from ..x86 import CALL_REL32, CLBR_ANY, CLBR_ANY_64, CLOBBER_BITS, JMP_REL32, UD2

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])

#: Hooks that never return to their call site: patched to a jump, not a call
#: (`paravirt_patch_default` of Linux 2.6.26, arch/x86/kernel/paravirt.c; 2.6.27 adds
#: the 64-bit kernel's `usergs_sysret64` and `usergs_sysret32`).
JUMP_HOOKS = frozenset(
    {
        "pv_cpu_ops.iret",
        "pv_cpu_ops.irq_enable_syscall_ret",
        "pv_cpu_ops.irq_enable_sysexit",
        "pv_cpu_ops.usergs_sysret64",
        "pv_cpu_ops.usergs_sysret32",
    }
)
CALL_LENGTH = 5  # call rel32 / jmp rel32


def paravirt_nop(function: F) -> F:
    """Mark a hook function that does nothing: its call sites are patched away."""
    function.__dict__["paravirt_nop"] = True
    return function


def clobbers(*registers: str) -> Callable[[F], F]:
    """Mark a function that changes only these registers (an assembly routine or ROM
    entry); an unmarked function follows the C convention (eax, ecx and edx)."""
    mask = 0
    for register in registers:
        mask |= CLOBBER_BITS[register]

    def mark(function: F) -> F:
        function.__dict__["pv_clobbers"] = mask
        return function

    return mark


def function_clobbers(function: object) -> int:
    """The registers a call to `function` may change."""
    return int(getattr(function, "pv_clobbers", CLBR_ANY))


class LazyMode(enum.Enum):
    NONE = 0
    MMU = 1
    CPU = 2


class Backend:
    """The machine and types a backend works with; its hooks are defined by subclasses."""

    NAME: ClassVar[str]  # provided by the generated stub
    PLATFORM: ClassVar[Platform]  # where a kernel using this backend runs
    #: Targets the spec gives this backend that the guest does not model, with the reason:
    #: a run there is refused (`BackendMismatch`), never started.
    UNMODELLED_TARGETS: ClassVar[Mapping[str, str]] = {}

    def __init__(self, machine: Machine, types: GuestTypes, patch_ids: Mapping[str, int]) -> None:
        self.machine = machine
        self.types = types
        self.patch_ids = patch_ids
        self.lazy = LazyMode.NONE
        self._paths = {patch_id: path for path, patch_id in patch_ids.items()}
        # What the kernel's table holds in slot `patch_id`: set when the call sites are
        # laid out (`CallSites`), read by the patcher as the kernel reads the template.
        self.template_slot: Callable[[int], object] | None = None
        # The kernel's send_IPI_mask(cpumask, vector), for hooks that interrupt other CPUs.
        self.ipi_sender: Callable[[int, int], None] | None = None
        # smp_ops.cpu_up(cpu, start_eip, start_esp) where the backend starts vCPUs itself
        # (smp_ops is not a paravirt table in 2.6.26); None: INIT and STARTUP IPIs.
        self.smp_cpu_up: Callable[[int, int, int], None] | None = None
        # smp_ops.smp_send_reschedule(cpu) where the backend has its own (an event channel
        # under Xen); None: the reschedule IPI through the APIC.
        self.smp_send_reschedule: Callable[[int], None] | None = None
        # The wall-time side of spinlocks, for pv_lock_ops hooks (set by `smp.Smp`).
        self.lock_waits: LockWaits | None = None
        # The kernel's kmap_atomic(page, type), which native's kmap_atomic_pte is (set by
        # the kernel: `MemoryManager.kmap_atomic`, through the hooks).
        self.kmap_atomic: Callable[[int, int], int] | None = None

    # ---- patching call sites (arch/x86/kernel/paravirt.c of Linux 2.6.26) --------------

    def _kernel_kmap_atomic(self, page: int, type: int) -> int:
        """The kernel's kmap_atomic (arch/x86/mm/highmem_32.c), which every 2.6.26
        backend's kmap_atomic_pte maps the page with: through set_pte, pte_clear and
        flush_tlb_single, whatever the backend makes of those."""
        if self.kmap_atomic is None:
            raise MachineError("kmap_atomic_pte before the kernel's memory manager is set up")
        return self.kmap_atomic(page, type)

    def _hook_path(self, patch_id: int) -> str:
        return self._paths.get(patch_id, "")

    @staticmethod
    def _fits(code: bytes, room: int) -> bool:
        return len(code) <= room

    def _patch_insns(self, insnbuf: int, room: int, code: bytes) -> int:
        """paravirt_patch_insns: copy `code` if it fits; else leave the site as it is."""
        if len(code) > room:
            return room
        self.machine.write_code(insnbuf, code)
        return len(code)

    def _patch_branch(self, opcode: int, insnbuf: int, target: object, addr: int, room: int) -> int:
        if room < CALL_LENGTH:
            return room
        destination = self.machine.code.address_of(target)  # type: ignore[arg-type]
        relative = (destination - (addr + CALL_LENGTH)) & 0xFFFF_FFFF
        self.machine.write_code(insnbuf, bytes([opcode]) + relative.to_bytes(4, "little"))
        return CALL_LENGTH

    def _patch_call(
        self,
        insnbuf: int,
        target: object,
        target_clobbers: int,
        addr: int,
        site_clobbers: int,
        room: int,
    ) -> int:
        """paravirt_patch_call: a direct call, unless the target may change a register the
        site keeps (then the indirect call, with whatever the site saves, stays)."""
        if target_clobbers & ~site_clobbers:
            return room
        return self._patch_branch(CALL_REL32, insnbuf, target, addr, room)

    def _patch_jump(self, insnbuf: int, target: object, addr: int, room: int) -> int:
        return self._patch_branch(JMP_REL32, insnbuf, target, addr, room)

    def _patch_default(
        self, patch_id: int, clobber: int, insnbuf: int, addr: int, room: int
    ) -> int:
        """paravirt_patch_default: what the table holds decides. NULL: ud2 (a call is a
        BUG); a paravirt_nop: nothing; iret and sysexit: a jump; anything else: a direct
        call, assumed to clobber every caller-saved register."""
        if self.template_slot is None:
            raise MachineError("patch called before the call sites were laid out")
        function = self.template_slot(patch_id)
        if function is None:
            return self._patch_insns(insnbuf, room, UD2)
        if getattr(function, "paravirt_nop", False):
            return 0
        if self._hook_path(patch_id) in JUMP_HOOKS:
            return self._patch_jump(insnbuf, function, addr, room)
        # a C function may change every caller-saved register of the target
        any_register = CLBR_ANY_64 if self.machine.target.long_mode else CLBR_ANY
        return self._patch_call(insnbuf, function, any_register, addr, clobber, room)

    # ---- lazy-mode bookkeeping (the kernel never nests the two brackets) ------------

    def _enter_lazy(self, mode: LazyMode) -> None:
        if self.lazy is not LazyMode.NONE:
            raise MachineError(f"lazy {mode.name} mode entered inside lazy {self.lazy.name} mode")
        self.lazy = mode

    def _leave_lazy(self, mode: LazyMode) -> None:
        if self.lazy is not mode:
            raise MachineError(f"lazy {mode.name} mode left while in {self.lazy.name} mode")
        self.lazy = LazyMode.NONE

    # ---- entry values as the target lays them out ----------------------------------------

    def _pmd_raw(self, pmd: PmdValue) -> int:
        """native_pmd_val: the raw entry; with 2 levels the pmd folds into the pgd."""
        return pmd.pmd if self.machine.target.levels >= 3 else pmd.pud.pgd.pgd

    def _pud_raw(self, pud: PudValue) -> int:
        """native_pud_val: the raw entry with 4 levels; with PAE the pud folds into the pgd."""
        return pud.pud if self.machine.target.levels == 4 else pud.pgd.pgd

    # ---- kernel structures behind the hooks' pointers ----------------------------------

    def _read_dtr(self, dtr: int) -> tuple[int, int]:
        """(base, limit) of a desc_ptr."""
        load = self.machine.load
        return load(dtr + k.DTR_ADDRESS), load(dtr + k.DTR_SIZE)

    def _write_dtr(self, dtr: int, table: tuple[int, int]) -> None:
        base, limit = table
        self.machine.store(dtr + k.DTR_ADDRESS, base)
        self.machine.store(dtr + k.DTR_SIZE, limit)

    def _tls_descriptors(self, thread: int) -> list[int]:
        return [self.machine.load(thread + k.THREAD_TLS + 8 * i) for i in range(k.TLS_ENTRIES)]

    @staticmethod
    def _tls_slot(gdt: int, index: int) -> int:
        return gdt + (k.GDT_ENTRY_TLS_MIN + index) * 8

    def _thread_sp0(self, thread: int) -> int:
        return self.machine.load(thread + k.THREAD_SP0)

    def _mm_pgd(self, mm: int) -> int:
        return self.machine.load(mm + k.MM_PGD)

    def _write_memory_map(self, ranges: Sequence[tuple[int, int]]) -> None:
        """Fill the e820-style map the kernel reads: (first frame, frames) per range."""
        self.machine.store(k.E820_MAP, len(ranges))
        for i, (start, frames) in enumerate(ranges):
            self.machine.store(k.E820_MAP + 8 + 16 * i, start)
            self.machine.store(k.E820_MAP + 16 + 16 * i, frames)

    def _cpuid(self, eax: int, ebx: int, ecx: int, edx: int) -> None:
        """Run CPUID for the leaf in *eax (subleaf *ecx); store the four results."""
        m = self.machine
        results = m.cpuid(m.load(eax), m.load(ecx))
        for address, value in zip((eax, ebx, ecx, edx), results, strict=True):
            m.store(address, value)

    @staticmethod
    def _program_local_timer(write: Callable[[int, int], None]) -> None:
        """Program the periodic tick (HZ) through `write(register, value)`."""
        write(lapic.TIMER_DIVIDE, k.TIMER_DIVIDE_BY_1)
        write(lapic.LVT_TIMER, lapic.LVT_PERIODIC | k.LOCAL_TIMER_VECTOR)
        write(lapic.TIMER_INITIAL, k.TIMER_PERIOD)

    def _emulated(self, action: Callable[[], T]) -> T:
        """A deliberate trap (such as Xen's forced-emulation prefix): the hypervisor runs it."""
        self.machine.charge(Cost.TRAP_AND_EMULATE)
        self.machine.meter.count(TRAP)
        return self.machine.as_hypervisor(action)
