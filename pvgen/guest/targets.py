"""The three targets of the spec as the simulated machine pages and enters its kernel.

Takes: a target name of the spec (`i386`, `i386_pae`, `x86_64`).
Hands on: `Target`: the paging mode (levels, the shift and width of each level's index,
the size of an entry), where the kernel's image sits in the top-level table, the CR4 bits
the kernel sets, how a fast system call enters and leaves, and the size of a pointer (which
sets how call sites are encoded). `TARGETS` by name; `target(name)` raises `ValueError`
naming the known ones.

What each target models, after Linux 2.6.26:

- `i386`: classic 2-level paging (include/asm-x86/pgtable-2level.h): 1,024 entries of 4
  bytes per table, a page directory (shift 22) and page tables (shift 12). The pud and
  pmd levels fold into the pgd (asm-generic/pgtable-nopud.h, pgtable-nopmd.h): a
  directory entry is written with `set_pmd` of a `pmd_t` wrapping `make_pgd`'s `pgd_t`
  and read with `pgd_val`. The hooks the spec gives PAE only are inline functions over
  the others (include/asm-x86/paravirt.h, `#else /* !CONFIG_X86_PAE */`): `pte_clear` is
  `set_pte_at` of `__pte(0)`, `pmd_clear` is `set_pmd` of `__pmd(0)`, `set_pte_atomic`
  and `set_pte_present` are `set_pte`.
- `i386_pae`: PAE (pgtable-3level.h): 512 entries of 8 bytes; a 4-entry pointer table
  (shift 30), page directories (21) and page tables (12).
- `x86_64`: 4-level paging (pgtable_64.h): 512 entries of 8 bytes at shifts 39, 30, 21
  and 12; `set_pgd`, `set_pud`, `make_pud`/`pud_val` for the two upper levels, and
  `pgd_clear`/`pud_clear` as `set_pgd(__pgd(0))`/`set_pud(__pud(0))` (paravirt.h). The
  kernel is built with -mcmodel=kernel: its 32-bit addresses are sign-extended, so the
  simulated kernel's addresses (0xC0000000 and up) are 0xFFFFFFFFC0000000 and up, in the
  top 2 GB where the 64-bit kernel maps its image (`__START_KERNEL_map`,
  include/asm-x86/page_64.h; Linux puts its base 1 GB lower, at 0xFFFFFFFF80000000).
  Page tables live in directly mapped memory (no HIGHPTE, so no `kmap_atomic_pte`).
  System calls enter with `syscall` and leave with `swapgs; sysretq`.

The descriptor formats stay the 32-bit ones on every target (the 64-bit kernel's 16-byte
gates and system descriptors are not modelled).
"""

from __future__ import annotations

from ..records import record
from .x86 import CR4_PAE, CR4_PGE

#: The tables of each paging mode, top first (the names the kernel gives the levels).
LEVEL_NAMES = {2: ("pgd", "pte"), 3: ("pgd", "pmd", "pte"), 4: ("pgd", "pud", "pmd", "pte")}
KERNEL_BASE_32 = 0xC000_0000  # PAGE_OFFSET of the 32-bit kernel; sign-extended on x86_64


@record
class Target:
    """How one target of the spec pages, enters its kernel and encodes its call sites."""

    name: str
    shifts: tuple[int, ...]  # the index shift of each level, top first
    index_bits: tuple[int, ...]  # the width of each level's index
    entry_bytes: int  # 4 (2-level) or 8
    pointer_size: int  # 4 or 8: a call site's table slot is this wide
    cr4: int  # CR4 bits the kernel sets at boot (PAE, PGE)
    long_mode: bool  # 64-bit: syscall/sysret and swapgs on kernel entry and exit
    kernel_slots: int  # KERNEL_PGD_PTRS: top-level entries pgd_ctor copies from swapper_pg_dir

    @property
    def levels(self) -> int:
        return len(self.shifts)

    @property
    def level_names(self) -> tuple[str, ...]:
        return LEVEL_NAMES[self.levels]

    @property
    def entries(self) -> int:
        """Entries in a table below the top (and the room of every table page)."""
        return 1 << self.index_bits[-1]

    @property
    def top_entries(self) -> int:
        return 1 << self.index_bits[0]

    @property
    def cr3_mask(self) -> int:
        """The bits of CR3 that address the top table (PAE's is 32-byte aligned)."""
        return ~0x1F if self.levels == 3 else ~0xFFF

    def canonical(self, va: int) -> int:
        """The address the MMU translates: the kernel's 32-bit addresses sign-extended on
        x86_64 (-mcmodel=kernel), unchanged elsewhere."""
        if self.long_mode and va & 0x8000_0000 and va < 1 << 32:
            return va | 0xFFFF_FFFF_0000_0000
        return va

    def indices(self, va: int) -> tuple[int, ...]:
        """The index of `va` in the table of each level, top first."""
        full = self.canonical(va)
        return tuple(
            (full >> shift) & ((1 << bits) - 1)
            for shift, bits in zip(self.shifts, self.index_bits, strict=True)
        )

    @property
    def kernel_slot(self) -> int:
        """The top-level slot that maps the kernel's image."""
        return self.indices(KERNEL_BASE_32)[0]

    @property
    def user_slots(self) -> range:
        """The top-level slots of user space (KERNEL_PGD_BOUNDARY and below)."""
        return range(self.top_entries - self.kernel_slots)

    def va_of(self, indices: tuple[int, ...]) -> int:
        """The (canonical) virtual address where the given top-first indices lead."""
        va = 0
        for index, shift in zip(indices, self.shifts, strict=False):
            va |= index << shift
        if self.long_mode and va >> 47 & 1:
            va |= 0xFFFF_0000_0000_0000
        return va


I386 = Target("i386", (22, 12), (10, 10), 4, 4, CR4_PGE, False, 256)
I386_PAE = Target("i386_pae", (30, 21, 12), (2, 9, 9), 8, 4, CR4_PAE | CR4_PGE, False, 1)
X86_64 = Target("x86_64", (39, 30, 21, 12), (9, 9, 9, 9), 8, 8, CR4_PAE | CR4_PGE, True, 256)
TARGETS = {t.name: t for t in (I386, I386_PAE, X86_64)}
DEFAULT_TARGET = I386_PAE.name


def target(name: str) -> Target:
    """The target called `name`; a ValueError lists the known ones."""
    try:
        return TARGETS[name]
    except KeyError:
        raise ValueError(
            f"unknown target '{name}'; the guest models {', '.join(TARGETS)}"
        ) from None
