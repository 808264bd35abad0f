"""What every backend implementation shares.

Takes: the machine the guest runs on, the generated entry types, and the target's patch IDs.
Hands on: `Backend`, the base of the five implementations (each joined with its generated
stub by `backends.bound_class`), with helpers for the kernel structures that hooks receive
by pointer and for the lazy-mode bracket.

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
from ..bindings import GuestTypes
from ..costs import Cost
from ..machine import Machine, MachineError, Platform
from ..meter import TRAP

T = TypeVar("T")


class LazyMode(enum.Enum):
    NONE = 0
    MMU = 1
    CPU = 2


class Backend:
    """The machine and types a backend works with; its hooks are defined by subclasses."""

    NAME: ClassVar[str]  # provided by the generated stub
    PLATFORM: ClassVar[Platform]  # where a kernel using this backend runs

    def __init__(self, machine: Machine, types: GuestTypes, patch_ids: Mapping[str, int]) -> None:
        self.machine = machine
        self.types = types
        self.patch_ids = patch_ids
        self.lazy = LazyMode.NONE

    # ---- lazy-mode bookkeeping (the kernel never nests the two brackets) ------------

    def _enter_lazy(self, mode: LazyMode) -> None:
        if self.lazy is not LazyMode.NONE:
            raise MachineError(f"lazy {mode.name} mode entered inside lazy {self.lazy.name} mode")
        self.lazy = mode

    def _leave_lazy(self, mode: LazyMode) -> None:
        if self.lazy is not mode:
            raise MachineError(f"lazy {mode.name} mode left while in {self.lazy.name} mode")
        self.lazy = LazyMode.NONE

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
