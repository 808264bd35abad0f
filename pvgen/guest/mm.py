"""The kernel's memory management: frames, address spaces and their page tables.

Takes: the `pv_mmu_ops` table of the dispatch object, the machine (for plain kernel loads
and stores), the generated entry types, and a function that charges the kernel's own work.
Hands on: `MemoryManager` (the kernel page tables, address spaces that are created, forked,
changed and torn down through the hooks, copy-on-write faults, a temporary kernel mapping)
and `FrameAllocator`.

As in Linux, live page tables are written only through the hooks; a fresh page-table page
is cleared, and the kernel's part of a new page directory copied, with plain stores before
it is used. Entries are built with make_pte/make_pmd/make_pgd and read back with their
_val peers, so a backend may keep other values in memory (Xen keeps machine frames). The
fork loop runs inside the lazy-MMU bracket unless the manager is told not to use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import kstructs as k
from .bindings import GuestTypes
from .machine import Machine, MachineError
from .x86 import (
    FRAME_MASK,
    PAGE_SHIFT,
    PAGE_SIZE,
    PTE_ACCESSED,
    PTE_GLOBAL,
    PTE_PRESENT,
    PTE_RW,
    PTE_USER,
)

ENTRIES = 512
USER_PGD_SLOTS = range(k.KERNEL_PGD_INDEX)
KMAP_INDEX = ENTRIES - 1  # a temporary kernel mapping in the last slot of the direct map's table
KMAP_VA = k.PAGE_OFFSET + KMAP_INDEX * PAGE_SIZE

# The kernel's own work, in cycles, for the steps below (copying a page, a pte, a fault).
WORK_NEW_SPACE = 3_000
WORK_TABLE_PAGE = 600
WORK_COPY_PTE = 25
WORK_COPY_PAGE = 1_500
WORK_FAULT = 400
WORK_RELEASE_PAGE = 60


def split(va: int) -> tuple[int, int, int]:
    """(pgd slot, pmd index, pte index) of a virtual address under PAE."""
    return va >> 30, (va >> 21) & 0x1FF, (va >> PAGE_SHIFT) & 0x1FF


def _pages_by_table(space: AddressSpace) -> dict[tuple[int, int], list[int]]:
    """The mapped pages of `space` grouped by page table, in address order."""
    groups: dict[tuple[int, int], list[int]] = {}
    for va in sorted(space.pages):
        slot, pmd_index, _ = split(va)
        groups.setdefault((slot, pmd_index), []).append(va)
    return groups


class FrameAllocator:
    """Guest frames by number, with reference counts for copy-on-write sharing."""

    def __init__(self, first: int) -> None:
        self.next = first
        self.end = first
        self.free: list[int] = []
        self.references: dict[int, int] = {}

    def allocate(self) -> int:
        if self.free:
            pfn = self.free.pop()
        elif self.next < self.end:
            pfn, self.next = self.next, self.next + 1
        else:
            raise MachineError("the guest is out of memory")
        self.references[pfn] = 1
        return pfn

    def share(self, pfn: int) -> None:
        self.references[pfn] += 1

    def release(self, pfn: int) -> None:
        self.references[pfn] -= 1
        if not self.references[pfn]:
            del self.references[pfn]
            self.free.append(pfn)


class SlotAllocator:
    """Fixed-size structure slots in one kernel page (mm_structs, thread_structs)."""

    def __init__(self, base: int) -> None:
        self.free = [base + i * k.STRUCT_SLOT for i in reversed(range(k.STRUCT_SLOTS))]

    def allocate(self) -> int:
        if not self.free:
            raise MachineError("out of structure slots")
        return self.free.pop()

    def release(self, address: int) -> None:
        self.free.append(address)
        self.free.sort(reverse=True)


@dataclass
class AddressSpace:
    """An mm: its page directory and the kernel's bookkeeping of what it maps."""

    ident: int
    struct: int  # address of its mm_struct, which is what the hooks receive
    pgd_pfn: int
    pmds: dict[int, int] = field(default_factory=dict)  # pgd slot -> pmd page
    ptes: dict[tuple[int, int], int] = field(default_factory=dict)  # (slot, pmd index) -> page
    pages: dict[int, int] = field(default_factory=dict)  # user va -> mapped frame

    @property
    def pgd(self) -> int:
        return self.pgd_pfn << PAGE_SHIFT


class MemoryManager:
    """Page tables through pv_mmu_ops."""

    def __init__(
        self,
        mmu: Any,
        machine: Machine,
        types: GuestTypes,
        work: Callable[[int], None],
        *,
        lazy_mmu: bool = True,
    ) -> None:
        self.mmu = mmu
        self.machine = machine
        self.types = types
        self.work = work
        self.lazy_mmu = lazy_mmu
        self.frames = FrameAllocator(k.FIRST_FREE_PFN)
        self.mm_slots = SlotAllocator(k.MM_STRUCTS)
        self.spaces = 0  # address spaces created so far: the next one's ident

    # ---- entries --------------------------------------------------------------------------

    def make_pte(self, pfn: int, flags: int) -> Any:
        return self.mmu.make_pte(pfn << PAGE_SHIFT | flags)

    def read_pte(self, ptep: int) -> int:
        return int(self.mmu.pte_val(self.types.pte(self.machine.load(ptep))))

    def read_pmd(self, pmdp: int) -> int:
        return int(self.mmu.pmd_val(self.types.pmd(self.machine.load(pmdp))))

    def read_pgd(self, pgdp: int) -> int:
        return int(self.mmu.pgd_val(self.types.pgd(self.machine.load(pgdp))))

    def _set_pgd_entry(self, pgdp: int, value: int) -> None:
        self.mmu.set_pud(pgdp, self.types.pud_from_pgd(self.mmu.make_pgd(value)))

    def _map_table(self, pfn: int, slot: int = 0) -> int:
        """A page-table page's address, mapped with kmap_atomic_pte (HIGHPTE)."""
        km = self.types.km_pte1 if slot else self.types.km_pte0
        return int(self.mmu.kmap_atomic_pte(k.page_struct(pfn), km))

    def _lazy(self, entering: bool) -> None:
        if self.lazy_mmu:
            (self.mmu.lazy_mode.enter if entering else self.mmu.lazy_mode.leave)()

    # ---- address spaces -------------------------------------------------------------------

    def _new_struct(self, pgd_pfn: int) -> AddressSpace:
        struct = self.mm_slots.allocate()
        self.machine.store(struct + k.MM_PGD, pgd_pfn << PAGE_SHIFT)
        space = AddressSpace(self.spaces, struct, pgd_pfn)
        self.spaces += 1
        return space

    def build_kernel_space(self) -> AddressSpace:
        """swapper_pg_dir: the direct map of the kernel image, global, in the top gigabyte."""
        for pfn in (k.KERNEL_PGD_PFN, k.KERNEL_PMD_PFN, k.KERNEL_PTE_PFN):
            self.machine.clear_frame(pfn)
        kernel = self._new_struct(k.KERNEL_PGD_PFN)
        self.mmu.pagetable_setup_start(kernel.pgd)
        self.mmu.alloc_pmd(kernel.struct, k.KERNEL_PMD_PFN)
        pmd_page = k.KERNEL_PMD_PFN << PAGE_SHIFT | PTE_PRESENT
        self._set_pgd_entry(kernel.pgd + 8 * k.KERNEL_PGD_INDEX, pmd_page)
        self.mmu.alloc_pte(kernel.struct, k.KERNEL_PTE_PFN)
        pmd_value = k.KERNEL_PTE_PFN << PAGE_SHIFT | PTE_PRESENT | PTE_RW
        self.mmu.set_pmd(k.KERNEL_PMD_PFN << PAGE_SHIFT, self.mmu.make_pmd(pmd_value))
        table = k.KERNEL_PTE_PFN << PAGE_SHIFT
        for pfn in range(k.KERNEL_MAPPED_FRAMES):
            pte = self.make_pte(pfn, PTE_PRESENT | PTE_RW | PTE_GLOBAL)
            self.mmu.set_pte(table + 8 * pfn, pte)
        self.mmu.pagetable_setup_done(kernel.pgd)
        kernel.pmds[k.KERNEL_PGD_INDEX] = k.KERNEL_PMD_PFN
        kernel.ptes[(k.KERNEL_PGD_INDEX, 0)] = k.KERNEL_PTE_PFN
        return kernel

    def new_space(self) -> AddressSpace:
        """An empty user address space sharing the kernel's gigabyte (pgd_alloc)."""
        pgd_pfn = self.frames.allocate()
        self.machine.clear_frame(pgd_pfn)
        space = self._new_struct(pgd_pfn)
        slot = 8 * k.KERNEL_PGD_INDEX
        kernel_pgd = k.KERNEL_PGD_PFN << PAGE_SHIFT
        self.machine.store(space.pgd + slot, self.machine.load(kernel_pgd + slot))
        self.mmu.alloc_pmd_clone(pgd_pfn, k.KERNEL_PGD_PFN, k.KERNEL_PGD_INDEX, 1)
        self.work(WORK_NEW_SPACE)
        return space

    def _pmd_page(self, space: AddressSpace, slot: int) -> int:
        if slot not in space.pmds:
            pfn = self._table_page()
            self.mmu.alloc_pmd(space.struct, pfn)
            self._set_pgd_entry(space.pgd + 8 * slot, pfn << PAGE_SHIFT | PTE_PRESENT)
            space.pmds[slot] = pfn
        return space.pmds[slot]

    def _pte_page(self, space: AddressSpace, slot: int, pmd_index: int) -> int:
        key = (slot, pmd_index)
        if key not in space.ptes:
            pmd = self._pmd_page(space, slot)
            pfn = self._table_page()
            self.mmu.alloc_pte(space.struct, pfn)
            value = pfn << PAGE_SHIFT | PTE_PRESENT | PTE_RW | PTE_USER
            self.mmu.set_pmd((pmd << PAGE_SHIFT) + 8 * pmd_index, self.mmu.make_pmd(value))
            space.ptes[key] = pfn
        return space.ptes[key]

    def _table_page(self) -> int:
        pfn = self.frames.allocate()
        self.machine.clear_frame(pfn)
        self.work(WORK_TABLE_PAGE)
        return pfn

    def pte_address(self, space: AddressSpace, va: int) -> int:
        slot, pmd_index, index = split(va)
        return self._map_table(self._pte_page(space, slot, pmd_index)) + 8 * index

    def map_page(self, space: AddressSpace, va: int, pfn: int, *, writable: bool) -> None:
        flags = PTE_PRESENT | PTE_USER | (PTE_RW if writable else 0)
        self.mmu.set_pte_at(
            space.struct, va, self.pte_address(space, va), self.make_pte(pfn, flags)
        )
        space.pages[va] = pfn

    def unmap_page(self, space: AddressSpace, va: int, *, current: bool) -> None:
        self.mmu.pte_clear(space.struct, va, self.pte_address(space, va))
        if current:
            self.mmu.flush_tlb_single(va)
        self.frames.release(space.pages.pop(va))
        self.work(WORK_RELEASE_PAGE)

    def fork_space(self, parent: AddressSpace, *, parent_is_current: bool) -> AddressSpace:
        """dup_mmap: share every page copy-on-write, one lazy bracket per page table."""
        child = self.new_space()
        for where, vas in _pages_by_table(parent).items():
            self._copy_table(parent, child, parent.ptes[where], where, vas)
        if parent_is_current:
            self.mmu.flush_tlb_user()  # the parent's entries are now read-only
        self.mmu.dup_mmap(parent.struct, child.struct)
        return child

    def _copy_table(
        self,
        parent: AddressSpace,
        child: AddressSpace,
        table: int,
        where: tuple[int, int],
        vas: list[int],
    ) -> None:
        source = self._map_table(table, 0)
        target = self._map_table(self._pte_page(child, *where), 1)
        self._lazy(entering=True)
        for va in vas:
            offset = 8 * split(va)[2]
            value = self.read_pte(source + offset) & ~PTE_RW
            frame = (value & FRAME_MASK) >> PAGE_SHIFT
            self.mmu.set_pte_at(parent.struct, va, source + offset, self.mmu.make_pte(value))
            self.mmu.set_pte_at(child.struct, va, target + offset, self.mmu.make_pte(value))
            self.frames.share(frame)
            child.pages[va] = frame
            self.work(WORK_COPY_PTE)
        self._lazy(entering=False)

    def release_space(self, space: AddressSpace) -> None:
        """exit_mmap and pgd_free: unmap everything, free the tables (never the current mm)."""
        self.mmu.exit_mmap(space.struct)
        self._lazy(entering=True)
        for where, vas in _pages_by_table(space).items():
            table = self._map_table(space.ptes[where])
            for va in vas:
                self.mmu.pte_clear(space.struct, va, table + 8 * split(va)[2])
                self.frames.release(space.pages.pop(va))
                self.work(WORK_RELEASE_PAGE)
        self._lazy(entering=False)
        for (slot, pmd_index), pfn in sorted(space.ptes.items()):
            self.mmu.pmd_clear((space.pmds[slot] << PAGE_SHIFT) + 8 * pmd_index)
            self.mmu.release_pte(pfn)
            self.frames.release(pfn)
        for slot, pfn in sorted(space.pmds.items()):
            self._set_pgd_entry(space.pgd + 8 * slot, 0)
            self.mmu.release_pmd(pfn)
            self.frames.release(pfn)
        self.frames.release(space.pgd_pfn)
        self.mm_slots.release(space.struct)
        space.ptes.clear()
        space.pmds.clear()

    # ---- faults and in-place changes ------------------------------------------------------

    def walk(self, space: AddressSpace, va: int) -> int | None:
        """The address of va's pte, found the way the kernel does (through the _val hooks)."""
        slot, pmd_index, index = split(va)
        pgd_entry = self.read_pgd(space.pgd + 8 * slot)
        if not pgd_entry & PTE_PRESENT:
            return None
        pmd_entry = self.read_pmd((pgd_entry & FRAME_MASK) + 8 * pmd_index)
        if not pmd_entry & PTE_PRESENT:
            return None
        return self._map_table(pmd_entry >> PAGE_SHIFT) + 8 * index

    def write_fault(self, space: AddressSpace, va: int) -> bool:
        """Resolve a write to a copy-on-write page; False if va is not mapped."""
        page = va & ~(PAGE_SIZE - 1)
        ptep = self.walk(space, page)
        value = self.read_pte(ptep) if ptep is not None else 0
        if ptep is None or not value & PTE_PRESENT:
            return False
        self.work(WORK_FAULT)
        frame = (value & FRAME_MASK) >> PAGE_SHIFT
        if not value & PTE_RW:
            if self.frames.references[frame] > 1:
                copy = self.frames.allocate()
                self.machine.copy_frame(frame, copy)
                self.work(WORK_COPY_PAGE)
                self.frames.release(frame)
                frame = copy
            writable = self.make_pte(frame, (value & 0xFFF) | PTE_RW)
            self.mmu.set_pte_present(space.struct, page, ptep, writable)
            space.pages[page] = frame
        self.mmu.flush_tlb_single(page)
        return True

    def protect(self, space: AddressSpace, va: int, *, writable: bool, current: bool) -> None:
        """Change a pte's write bit in place and tell the hypervisor (mprotect's way)."""
        ptep = self.pte_address(space, va)
        raw = self.machine.load(ptep)
        if writable and self.frames.references[space.pages[va]] > 1:
            return  # still shared copy-on-write: stays read-only until written
        self.machine.write_page_table(ptep, raw | PTE_RW if writable else raw & ~PTE_RW)
        self.mmu.pte_update(space.struct, va, ptep)
        if current:
            self.mmu.flush_tlb_single(va)

    def age(self, space: AddressSpace, va: int) -> None:
        """Clear the accessed bit in place; the notice may wait for the next flush."""
        ptep = self.pte_address(space, va)
        self.machine.write_page_table(ptep, self.machine.load(ptep) & ~PTE_ACCESSED)
        self.mmu.pte_update_defer(space.struct, va, ptep)

    # ---- a temporary kernel mapping -------------------------------------------------------

    def kmap(self, pfn: int) -> int:
        """Map frame pfn at KMAP_VA (set_pte_atomic on the kernel's table)."""
        ptep = (k.KERNEL_PTE_PFN << PAGE_SHIFT) + 8 * KMAP_INDEX
        self.mmu.set_pte_atomic(ptep, self.make_pte(pfn, PTE_PRESENT | PTE_RW | PTE_GLOBAL))
        self.mmu.flush_tlb_single(KMAP_VA)
        return KMAP_VA

    def kunmap(self, kernel: AddressSpace, *, flush_all: bool) -> None:
        ptep = (k.KERNEL_PTE_PFN << PAGE_SHIFT) + 8 * KMAP_INDEX
        self.mmu.pte_clear(kernel.struct, KMAP_VA, ptep)
        if flush_all:
            self.mmu.flush_tlb_kernel()
        else:
            self.mmu.flush_tlb_single(KMAP_VA)

    # ---- what the tables hold, as the kernel reads them -----------------------------------

    def entries(self, space: AddressSpace, slots: range) -> Iterator[tuple[int, int, int]]:
        """(level, virtual address covered, value) of every nonzero entry under `slots`."""
        for slot in slots:
            pgd_entry = self.read_pgd(space.pgd + 8 * slot)
            if not pgd_entry:
                continue
            yield 3, slot << 30, pgd_entry
            pmd_page = pgd_entry & FRAME_MASK
            for pmd_index in range(ENTRIES):
                if not self.machine.load(pmd_page + 8 * pmd_index):
                    continue
                pmd_entry = self.read_pmd(pmd_page + 8 * pmd_index)
                base = slot << 30 | pmd_index << 21
                yield 2, base, pmd_entry
                yield from self._pte_entries(pmd_entry & FRAME_MASK, base)

    def _pte_entries(self, table: int, base: int) -> Iterator[tuple[int, int, int]]:
        for index in range(ENTRIES):
            if self.machine.load(table + 8 * index):
                yield 1, base | index << PAGE_SHIFT, self.read_pte(table + 8 * index)
