"""The kernel's memory management: frames, address spaces and their page tables.

Takes: the `pv_mmu_ops` table of the dispatch object, the machine (for plain kernel loads
and stores, and the target it pages for), the generated entry types, a function that
charges the kernel's own work, and the hooks the target has.
Hands on: `MemoryManager` (the kernel page tables, address spaces that are created, forked,
changed and torn down through the hooks, copy-on-write faults, a temporary kernel mapping)
and `FrameAllocator`.

Tables have 2, 3 or 4 levels as the target pages (`targets`); each level is written with
its own hook as Linux 2.6.26 does, and where a hook exists on PAE only, the kernel runs
the inline function paravirt.h puts in its place. As in Linux, live page tables are
written only through the hooks; a fresh page-table page
is cleared, and the kernel's part of a new page directory copied, with plain stores before
it is used. Entries are built with make_pte/make_pmd/make_pud/make_pgd and read back with their
_val peers, so a backend may keep other values in memory (Xen keeps machine frames). The
fork loop runs inside the lazy-MMU bracket unless the manager is told not to use it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import kstructs as k
from .bindings import GuestTypes
from .machine import Machine, MachineError
from .targets import Target
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

KMAP_INDEX = 511  # a temporary kernel mapping in slot 511 of the direct map's page table
KMAP_VA = k.PAGE_OFFSET + KMAP_INDEX * PAGE_SIZE
# kmap_atomic's fixmap slots for KM_PTE0 and KM_PTE1 (FIX_KMAP_BEGIN + type), in the same
# table, below KMAP_INDEX
KMAP_ATOMIC_INDEX = 509

# The kernel's own work, in cycles, for the steps below (copying a page, a pte, a fault).
WORK_NEW_SPACE = 3_000
WORK_TABLE_PAGE = 600
WORK_COPY_PTE = 25
WORK_COPY_PAGE = 1_500
WORK_FAULT = 400
WORK_RELEASE_PAGE = 60

#: The kernel's own tables, top first below the pgd (its pte table is KERNEL_PTE_PFN).
KERNEL_TABLES = {
    2: (k.KERNEL_PGD_PFN, k.KERNEL_PTE_PFN),
    3: (k.KERNEL_PGD_PFN, k.KERNEL_PMD_PFN, k.KERNEL_PTE_PFN),
    4: (k.KERNEL_PGD_PFN, k.KERNEL_PUD_PFN, k.KERNEL_PMD_PFN, k.KERNEL_PTE_PFN),
}


def _pages_by_table(target: Target, space: AddressSpace) -> dict[tuple[int, ...], list[int]]:
    """The mapped pages of `space` grouped by page table, in address order."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for va in sorted(space.pages):
        groups.setdefault(target.indices(va)[:-1], []).append(va)
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
    # The indices above a table (top first) -> its page: a pud, pmd or pte table.
    tables: dict[tuple[int, ...], int] = field(default_factory=dict)
    pages: dict[int, int] = field(default_factory=dict)  # user va -> mapped frame

    @property
    def pgd(self) -> int:
        return self.pgd_pfn << PAGE_SHIFT


class MemoryManager:
    """Page tables through pv_mmu_ops, on the machine's target (2, 3 or 4 levels)."""

    def __init__(
        self,
        mmu: Any,
        machine: Machine,
        types: GuestTypes,
        work: Callable[[int], None],
        *,
        lazy_mmu: bool = True,
        hooks: Collection[str] | None = None,
    ) -> None:
        self.mmu = mmu
        self.machine = machine
        self.target = machine.target
        self.types = types
        self.work = work
        self.lazy_mmu = lazy_mmu
        # The pv_mmu_ops hooks the target has (its patch IDs); None: every hook.
        self._has = None if hooks is None else frozenset(hooks)
        self.frames = FrameAllocator(k.FIRST_FREE_PFN)
        self.mm_slots = SlotAllocator(k.MM_STRUCTS)
        self.spaces = 0  # address spaces created so far: the next one's ident
        self._init_mm = 0  # the kernel's mm_struct, once swapper_pg_dir is built

    def has(self, hook: str) -> bool:
        """Whether pv_mmu_ops has `hook` on this target (else the kernel inlines it)."""
        return self._has is None or f"pv_mmu_ops.{hook}" in self._has

    @property
    def user_slots(self) -> range:
        return self.target.user_slots

    # ---- entries --------------------------------------------------------------------------

    def make_pte(self, pfn: int, flags: int) -> Any:
        return self.mmu.make_pte(pfn << PAGE_SHIFT | flags)

    def read_pte(self, ptep: int) -> int:
        return int(self.mmu.pte_val(self.types.pte(self.machine.load_entry(ptep))))

    def _read_entry(self, depth: int, entry: int) -> int:
        """An entry of a table at `depth` (0: the pgd), read back through the _val hooks
        (2-level: a directory entry is a folded pmd, whose pmd_val is pgd_val)."""
        raw = self.machine.load_entry(entry)
        name = self.target.level_names[depth]
        if name == "pte":
            return int(self.mmu.pte_val(self.types.pte(raw)))
        if name == "pmd":
            return int(self.mmu.pmd_val(self.types.pmd(raw)))
        if name == "pud":
            return int(self.mmu.pud_val(self.types.pud(raw)))
        return int(self.mmu.pgd_val(self.types.pgd(raw)))

    def _set_entry(self, depth: int, entry: int, value: int) -> None:
        """Write an entry of a directory at `depth` through the hook of its level."""
        mmu, types, levels = self.mmu, self.types, self.target.levels
        name = self.target.level_names[depth]
        if name == "pmd":
            mmu.set_pmd(entry, mmu.make_pmd(value))
        elif name == "pud":
            mmu.set_pud(entry, mmu.make_pud(value))
        elif levels == 2:  # the pmd folds into the pgd: set_pmd of __pmd(x), from __pgd(x)
            mmu.set_pmd(entry, types.pmd_from_pgd(mmu.make_pgd(value)))
        elif levels == 3:  # PAE: the pud folds into the pgd
            mmu.set_pud(entry, types.pud_from_pgd(mmu.make_pgd(value)))
        else:
            mmu.set_pgd(entry, mmu.make_pgd(value))

    def _clear_entry(self, depth: int, entry: int) -> None:
        """pmd_clear, pud_clear, pgd_clear: a hook with PAE, else a write of zero."""
        if self.target.level_names[depth] == "pmd" and self.has("pmd_clear"):
            self.mmu.pmd_clear(entry)
        else:
            self._set_entry(depth, entry, 0)

    def _alloc(self, depth: int, mm: int, pfn: int) -> None:
        """paravirt_alloc_pte/pmd/pud: page `pfn` becomes a table at `depth`."""
        getattr(self.mmu, f"alloc_{self.target.level_names[depth]}")(mm, pfn)

    def _release(self, depth: int, pfn: int) -> None:
        getattr(self.mmu, f"release_{self.target.level_names[depth]}")(pfn)

    def _directory_flags(self, depth: int, *, user: bool) -> int:
        if self.target.levels == 3 and depth == 0:
            return PTE_PRESENT  # a PAE pointer-table entry has no access bits
        return PTE_PRESENT | PTE_RW | (PTE_USER if user else 0)

    def _slot_address(self, pfn: int, index: int) -> int:
        return (pfn << PAGE_SHIFT) + self.target.entry_bytes * index

    def clear_pte(self, mm: int, va: int, ptep: int) -> None:
        """pte_clear: a hook with PAE; elsewhere set_pte_at of __pte(0) (paravirt.h)."""
        if self.has("pte_clear"):
            self.mmu.pte_clear(mm, va, ptep)
        else:
            self.mmu.set_pte_at(mm, va, ptep, self.mmu.make_pte(0))

    def _map_table(self, pfn: int, slot: int = 0) -> int:
        """A page-table page's address: mapped with kmap_atomic_pte where page tables may
        live in highmem (HIGHPTE, 32-bit), else its direct-map address."""
        if not self.has("kmap_atomic_pte"):
            return pfn << PAGE_SHIFT
        km = self.types.km_pte1 if slot else self.types.km_pte0
        return int(self.mmu.kmap_atomic_pte(k.page_struct(pfn), km))

    def kmap_atomic(self, page: int, km: int) -> int:
        """kmap_atomic and kunmap_atomic (arch/x86/mm/highmem_32.c of Linux 2.6.26), which
        native's kmap_atomic_pte is (paravirt.c: `.kmap_atomic_pte = kmap_atomic`): the
        fixmap slot of `km` is set with `set_pte` of `mk_pte(page, kmap_prot)`, and, when
        the caller is done with it, cleared and flushed by `kpte_clear_flush` (`pte_clear`
        of init_mm, then `__flush_tlb_one`: `flush_tlb_single`), every one through the
        hooks, so a backend that keeps native's kmap_atomic_pte pays its own set_pte,
        pte_clear and flush for it. The simulated kernel reaches page-table pages by their
        physical address, so the unmapping follows the mapping at once; the page's
        address is returned."""
        pfn = k.page_frame(page)
        index = KMAP_ATOMIC_INDEX + (1 if km == self.types.km_pte1 else 0)
        ptep = self._slot_address(k.KERNEL_PTE_PFN, index)
        va = k.PAGE_OFFSET + index * PAGE_SIZE
        self.mmu.set_pte(ptep, self.make_pte(pfn, PTE_PRESENT | PTE_RW | PTE_GLOBAL))
        self.clear_pte(self._init_mm, va, ptep)
        self.mmu.flush_tlb_single(va)
        return pfn << PAGE_SHIFT

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
        """swapper_pg_dir: the direct map of the kernel image, global, at PAGE_OFFSET."""
        target = self.target
        chain = KERNEL_TABLES[target.levels]
        for pfn in chain:
            self.machine.clear_frame(pfn)
        kernel = self._new_struct(k.KERNEL_PGD_PFN)
        self._init_mm = kernel.struct
        self.mmu.pagetable_setup_start(kernel.pgd)
        where = target.indices(k.PAGE_OFFSET)
        for depth in range(1, target.levels):
            self._alloc(depth, kernel.struct, chain[depth])
            flags = self._directory_flags(depth - 1, user=False)
            entry = self._slot_address(chain[depth - 1], where[depth - 1])
            self._set_entry(depth - 1, entry, chain[depth] << PAGE_SHIFT | flags)
            kernel.tables[where[:depth]] = chain[depth]
        for pfn in range(k.KERNEL_MAPPED_FRAMES):
            pte = self.make_pte(pfn, PTE_PRESENT | PTE_RW | PTE_GLOBAL)
            self.mmu.set_pte(self._slot_address(k.KERNEL_PTE_PFN, pfn), pte)
        self.mmu.pagetable_setup_done(kernel.pgd)
        return kernel

    def new_space(self) -> AddressSpace:
        """An empty user address space sharing the kernel's part (pgd_alloc, pgd_ctor)."""
        target = self.target
        pgd_pfn = self.frames.allocate()
        self.machine.clear_frame(pgd_pfn)
        space = self._new_struct(pgd_pfn)
        boundary = target.top_entries - target.kernel_slots  # KERNEL_PGD_BOUNDARY
        for slot in range(boundary, target.top_entries):  # clone_pgd_range
            value = self.machine.load_entry(self._slot_address(k.KERNEL_PGD_PFN, slot))
            if value:
                self.machine.store_entry(self._slot_address(pgd_pfn, slot), value)
        self.mmu.alloc_pmd_clone(pgd_pfn, k.KERNEL_PGD_PFN, boundary, target.kernel_slots)
        self.work(WORK_NEW_SPACE)
        return space

    def _table(self, space: AddressSpace, where: tuple[int, ...], depth: int) -> int:
        """The page of the table at `depth` on the way to `where`, made if missing."""
        if depth == 0:
            return space.pgd_pfn
        key = where[:depth]
        pfn = space.tables.get(key)
        if pfn is None:
            parent = self._table(space, where, depth - 1)
            pfn = self._table_page()
            self._alloc(depth, space.struct, pfn)
            flags = self._directory_flags(depth - 1, user=True)
            entry = self._slot_address(parent, where[depth - 1])
            self._set_entry(depth - 1, entry, pfn << PAGE_SHIFT | flags)
            space.tables[key] = pfn
        return pfn

    def _table_page(self) -> int:
        pfn = self.frames.allocate()
        self.machine.clear_frame(pfn)
        self.work(WORK_TABLE_PAGE)
        return pfn

    def pte_address(self, space: AddressSpace, va: int) -> int:
        where = self.target.indices(va)
        table = self._table(space, where, self.target.levels - 1)
        return self._map_table(table) + self.target.entry_bytes * where[-1]

    def map_page(self, space: AddressSpace, va: int, pfn: int, *, writable: bool) -> None:
        flags = PTE_PRESENT | PTE_USER | (PTE_RW if writable else 0)
        self.mmu.set_pte_at(
            space.struct, va, self.pte_address(space, va), self.make_pte(pfn, flags)
        )
        space.pages[va] = pfn

    def unmap_page(self, space: AddressSpace, va: int, *, current: bool) -> None:
        self.clear_pte(space.struct, va, self.pte_address(space, va))
        if current:
            self.mmu.flush_tlb_single(va)
        self.frames.release(space.pages.pop(va))
        self.work(WORK_RELEASE_PAGE)

    def fork_space(self, parent: AddressSpace, *, parent_is_current: bool) -> AddressSpace:
        """dup_mmap: share every page copy-on-write, one lazy bracket per page table."""
        child = self.new_space()
        for where, vas in _pages_by_table(self.target, parent).items():
            self._copy_table(parent, child, parent.tables[where], where, vas)
        if parent_is_current:
            self.mmu.flush_tlb_user()  # the parent's entries are now read-only
        self.mmu.dup_mmap(parent.struct, child.struct)
        return child

    def _copy_table(
        self,
        parent: AddressSpace,
        child: AddressSpace,
        table: int,
        where: tuple[int, ...],
        vas: list[int],
    ) -> None:
        target = self.target
        source = self._map_table(table, 0)
        target_table = self._map_table(self._table(child, (*where, 0), target.levels - 1), 1)
        self._lazy(entering=True)
        for va in vas:
            offset = target.entry_bytes * target.indices(va)[-1]
            value = self.read_pte(source + offset) & ~PTE_RW
            frame = (value & FRAME_MASK) >> PAGE_SHIFT
            self.mmu.set_pte_at(parent.struct, va, source + offset, self.mmu.make_pte(value))
            self.mmu.set_pte_at(child.struct, va, target_table + offset, self.mmu.make_pte(value))
            self.frames.share(frame)
            child.pages[va] = frame
            self.work(WORK_COPY_PTE)
        self._lazy(entering=False)

    def release_space(self, space: AddressSpace) -> None:
        """exit_mmap and pgd_free: unmap everything, free the tables (never the current mm)."""
        target = self.target
        self.mmu.exit_mmap(space.struct)
        self._lazy(entering=True)
        for where, vas in _pages_by_table(target, space).items():
            table = self._map_table(space.tables[where])
            for va in vas:
                ptep = table + target.entry_bytes * target.indices(va)[-1]
                self.clear_pte(space.struct, va, ptep)
                self.frames.release(space.pages.pop(va))
                self.work(WORK_RELEASE_PAGE)
        self._lazy(entering=False)
        for depth in reversed(range(1, target.levels)):  # free_pgtables: the lowest first
            for key, pfn in sorted(t for t in space.tables.items() if len(t[0]) == depth):
                parent = space.tables[key[:-1]] if depth > 1 else space.pgd_pfn
                self._clear_entry(depth - 1, self._slot_address(parent, key[-1]))
                self._release(depth, pfn)
                self.frames.release(pfn)
        self.frames.release(space.pgd_pfn)
        self.mm_slots.release(space.struct)
        space.tables.clear()

    # ---- faults and in-place changes ------------------------------------------------------

    def walk(self, space: AddressSpace, va: int) -> int | None:
        """The address of va's pte, found the way the kernel does (through the _val hooks)."""
        target = self.target
        where = target.indices(va)
        table = space.pgd_pfn
        for depth in range(target.levels - 1):
            entry = self._read_entry(depth, self._slot_address(table, where[depth]))
            if not entry & PTE_PRESENT:
                return None
            table = (entry & FRAME_MASK) >> PAGE_SHIFT
        return self._map_table(table) + target.entry_bytes * where[-1]

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
            if self.has("set_pte_present"):
                self.mmu.set_pte_present(space.struct, page, ptep, writable)
            else:  # paravirt.h without PAE: set_pte
                self.mmu.set_pte(ptep, writable)
            space.pages[page] = frame
        self.mmu.flush_tlb_single(page)
        return True

    def protect(self, space: AddressSpace, va: int, *, writable: bool, current: bool) -> None:
        """Change a pte's write bit in place and tell the hypervisor (mprotect's way)."""
        ptep = self.pte_address(space, va)
        raw = self.machine.load_entry(ptep)
        if writable and self.frames.references[space.pages[va]] > 1:
            return  # still shared copy-on-write: stays read-only until written
        self.machine.write_page_table(ptep, raw | PTE_RW if writable else raw & ~PTE_RW)
        self.mmu.pte_update(space.struct, va, ptep)
        if current:
            self.mmu.flush_tlb_single(va)

    def age(self, space: AddressSpace, va: int) -> None:
        """Clear the accessed bit in place; the notice may wait for the next flush."""
        ptep = self.pte_address(space, va)
        self.machine.write_page_table(ptep, self.machine.load_entry(ptep) & ~PTE_ACCESSED)
        self.mmu.pte_update_defer(space.struct, va, ptep)

    # ---- a temporary kernel mapping -------------------------------------------------------

    def _kmap_pte(self) -> int:
        return self._slot_address(k.KERNEL_PTE_PFN, KMAP_INDEX)

    def kmap(self, pfn: int) -> int:
        """Map frame pfn at KMAP_VA (set_pte_atomic on the kernel's table; set_pte
        without PAE)."""
        pte = self.make_pte(pfn, PTE_PRESENT | PTE_RW | PTE_GLOBAL)
        if self.has("set_pte_atomic"):
            self.mmu.set_pte_atomic(self._kmap_pte(), pte)
        else:
            self.mmu.set_pte(self._kmap_pte(), pte)
        self.mmu.flush_tlb_single(KMAP_VA)
        return KMAP_VA

    def kunmap(self, kernel: AddressSpace, *, flush_all: bool) -> None:
        self.clear_pte(kernel.struct, KMAP_VA, self._kmap_pte())
        if flush_all:
            self.mmu.flush_tlb_kernel()
        else:
            self.mmu.flush_tlb_single(KMAP_VA)

    # ---- what the tables hold, as the kernel reads them -----------------------------------

    def entries(self, space: AddressSpace, slots: Iterable[int]) -> Iterator[tuple[int, int, int]]:
        """(level, virtual address covered, value) of every nonzero entry under `slots`
        (level 1 is a pte; the pgd's level is the number of levels)."""
        for slot in slots:
            yield from self._entries(space.pgd_pfn, 0, (slot,))

    def _entries(
        self, table: int, depth: int, indices: Iterable[int], prefix: tuple[int, ...] = ()
    ) -> Iterator[tuple[int, int, int]]:
        target = self.target
        for index in indices:
            entry = self._slot_address(table, index)
            if not self.machine.load_entry(entry):
                continue
            value = self._read_entry(depth, entry)
            where = (*prefix, index)
            yield target.levels - depth, target.va_of(where), value
            if depth + 1 < target.levels:
                child = (value & FRAME_MASK) >> PAGE_SHIFT
                yield from self._entries(child, depth + 1, range(target.entries), where)
