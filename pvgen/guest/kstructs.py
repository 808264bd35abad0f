"""Where the simulated kernel keeps things: its memory map, structure layouts, selectors,
vectors and configuration.

Takes: nothing.
Hands on: constants shared by the kernel and the backends, which read kernel structures
(a `desc_ptr`, a thread's TLS descriptors, an `mm_struct`'s page directory) the way real
backends do, through the pointers the hooks receive.

Simulated memory holds 64-bit words, so a structure here is one field per word; a
descriptor (8 bytes in the real layout too) is one word.
"""

from __future__ import annotations

from .machine import CPU_KHZ
from .x86 import PAGE_SHIFT

PAGE_OFFSET = 0xC000_0000  # kernel virtual address of guest-physical 0

# ---- guest-physical frames of the kernel image (frames below FIRST_FREE_PFN) --------------

KERNEL_PGD_PFN = 1  # swapper_pg_dir: the top table (PAE: the page-directory-pointer table)
KERNEL_PMD_PFN = 2  # page directory of the kernel's gigabyte (PAE and x86_64)
KERNEL_PTE_PFN = 3  # page table of the kernel's direct map
GDT_PFN = 4
IDT_PFN = 5
PERCPU_PFN = 6  # the TSS and scratch words the boot code hands to hooks
KERNEL_DATA_PFN = 7  # jiffies and other kernel variables, reached through the MMU
MM_STRUCTS_PFN = 8
THREADS_PFN = 9
E820_PFN = 10  # the memory map that memory_setup fills in
PV_TEMPLATE_PFN = 11  # the patch template: the hook tables, one pointer per slot
KERNEL_PUD_PFN = 12  # x86_64: the upper directory of the kernel's top 512 GB
MEM_MAP_PFN = 16  # struct page array (addresses only; nothing is stored there)
SECONDARY_GDT_PFN = 145  # the GDT pages of CPUs 1..7, one page each (per-CPU gdt_page)
SECONDARY_TSS_PFN = 152  # the TSSs of CPUs 1..7 (per-CPU init_tss), 128 bytes each
CALL_SITES_PFN = 160  # kernel text holding the hooks' call sites, 16 bytes a site
CALL_SITES_FRAMES = 48
KERNEL_MAPPED_FRAMES = 256  # the direct map covers the first megabyte: the kernel image
FIRST_FREE_PFN = 256

GDT_ADDRESS = GDT_PFN << PAGE_SHIFT
IDT_ADDRESS = IDT_PFN << PAGE_SHIFT
GDT_ENTRIES = 32
IDT_ENTRIES = 256

# ---- per-CPU words ----------------------------------------------------------------------

PERCPU = PERCPU_PFN << PAGE_SHIFT
TSS_ADDRESS = PERCPU + 0x000
TSS_SP0 = 8  # offset of the ring-0 stack pointer in the TSS
DTR_SCRATCH = PERCPU + 0x100  # a desc_ptr: word 0 the limit (size), word 1 the base
DTR_SIZE = 0
DTR_ADDRESS = 8
CPUID_SCRATCH = PERCPU + 0x200  # eax, ebx, ecx, edx: one word each
MSR_ERROR_SCRATCH = PERCPU + 0x240
TSC_AUX_SCRATCH = PERCPU + 0x248
DESCRIPTOR_SCRATCH = PERCPU + 0x250  # a descriptor handed to write_*_entry

KERNEL_DATA = KERNEL_DATA_PFN << PAGE_SHIFT
JIFFIES_VA = PAGE_OFFSET + KERNEL_DATA  # read and written through the kernel's mappings
DEVICE_EVENTS_VA = JIFFIES_VA + 8  # interrupts the network card has raised

E820_MAP = E820_PFN << PAGE_SHIFT  # word 0: entries; then (start frame, frames) pairs

# What a CPU that asks others to flush their TLBs leaves for them (tlb_32.c's flush_mm,
# flush_va and flush_cpumask), a cpumask handed to flush_tlb_others, and a spinlock's word.
FLUSH_MM = KERNEL_DATA + 0x100
FLUSH_VA = KERNEL_DATA + 0x108
FLUSH_CPUMASK = KERNEL_DATA + 0x110
CPUMASK_SCRATCH = KERNEL_DATA + 0x118
FLUSH_ALL = 0xFFFF_FFFF  # flush_va meaning every user mapping
SPINLOCKS = KERNEL_DATA + 0x200  # one word per lock: ticket head and tail
# Per CPU, one word each: a request handed to the thread it runs (a pipe's buffer), that
# thread's need_resched flag, and the reschedule IPIs it took (irq_stat.irq_resched_count).
REQUESTS = KERNEL_DATA + 0x280
NEED_RESCHED = KERNEL_DATA + 0x2C0
RESCHED_COUNT = KERNEL_DATA + 0x300
MAX_CPUS = 8

# ---- kernel structures --------------------------------------------------------------------

STRUCT_SLOT = 64  # bytes per mm_struct or thread_struct slot
STRUCT_SLOTS = (1 << PAGE_SHIFT) // STRUCT_SLOT
MM_STRUCTS = MM_STRUCTS_PFN << PAGE_SHIFT
MM_PGD = 0  # mm_struct: word 0 is the guest-physical address of its page directory
THREADS = THREADS_PFN << PAGE_SHIFT
THREAD_SP0 = 0  # thread_struct: word 0 the kernel stack pointer
THREAD_TLS = 8  # then its three TLS descriptors
TLS_ENTRIES = 3

MEM_MAP = MEM_MAP_PFN << PAGE_SHIFT
STRUCT_PAGE_SIZE = 32
PV_TEMPLATE = PV_TEMPLATE_PFN << PAGE_SHIFT
CALL_SITES = CALL_SITES_PFN << PAGE_SHIFT
CALL_SITE_STRIDE = 16  # bytes reserved per call site (a site is at most 10 bytes)
PATCH_BUFFER = PERCPU + 0x300  # insnbuf: where `patch` writes a site's new bytes


TSS_STRIDE = 0x80  # a tss_struct (0x68 bytes) rounded up


def gdt_address(cpu: int) -> int:
    """CPU `cpu`'s GDT (get_cpu_gdt_table): the boot CPU's at GDT_ADDRESS, the others' each
    on a page of its own."""
    return GDT_ADDRESS if cpu == 0 else (SECONDARY_GDT_PFN + cpu - 1) << PAGE_SHIFT


def tss_address(cpu: int) -> int:
    """CPU `cpu`'s TSS (per_cpu(init_tss, cpu))."""
    return TSS_ADDRESS if cpu == 0 else (SECONDARY_TSS_PFN << PAGE_SHIFT) + cpu * TSS_STRIDE


def page_struct(pfn: int) -> int:
    """The address of frame pfn's `struct page`."""
    return MEM_MAP + pfn * STRUCT_PAGE_SIZE


def page_frame(page: int) -> int:
    return (page - MEM_MAP) // STRUCT_PAGE_SIZE


# ---- segments -----------------------------------------------------------------------------

GDT_ENTRY_TLS_MIN = 6
GDT_ENTRY_KERNEL_CS = 12
GDT_ENTRY_KERNEL_DS = 13
GDT_ENTRY_USER_CS = 14
GDT_ENTRY_USER_DS = 15
GDT_ENTRY_TSS = 16
KERNEL_CS = GDT_ENTRY_KERNEL_CS * 8
KERNEL_DS = GDT_ENTRY_KERNEL_DS * 8
USER_CS = GDT_ENTRY_USER_CS * 8 + 3
USER_DS = GDT_ENTRY_USER_DS * 8 + 3
TSS_SELECTOR = GDT_ENTRY_TSS * 8
GDT_DESCRIPTOR_KIND = 2  # write_gdt_entry's last argument for a code or data segment
GDT_TSS_KIND = 9

# ---- vectors and handler addresses ----------------------------------------------------------

EXCEPTIONS = 20  # vectors 0-19
PAGE_FAULT_VECTOR = 14
DEVICE_VECTOR = 0x31  # the network card's interrupt
SYSCALL_VECTOR = 0x80
LOCAL_TIMER_VECTOR = 0xEF
INVALIDATE_TLB_VECTOR = 0xFD  # 2.6.26 i386: the TLB shootdown IPI
RESCHEDULE_VECTOR = 0xFC  # 2.6.26 i386 (irq_vectors.h): the reschedule IPI
SPURIOUS_VECTOR = 0xFF

KERNEL_TEXT = PAGE_OFFSET + 0x0010_0000
ENTRY_EXCEPTION = KERNEL_TEXT + 0x1000  # + 16 * vector
ENTRY_PAGE_FAULT = KERNEL_TEXT + 0x2000
ENTRY_TIMER = KERNEL_TEXT + 0x2100
ENTRY_SPURIOUS = KERNEL_TEXT + 0x2200
ENTRY_SYSCALL = KERNEL_TEXT + 0x2300
ENTRY_SYSENTER = KERNEL_TEXT + 0x2400
ENTRY_DEVICE = KERNEL_TEXT + 0x2500
ENTRY_INVALIDATE_TLB = KERNEL_TEXT + 0x2600
ENTRY_SYSCALL_64 = KERNEL_TEXT + 0x2700  # x86_64: system_call, what MSR_LSTAR holds
ENTRY_RESCHEDULE = KERNEL_TEXT + 0x2800

KERNEL_STACKS = PAGE_OFFSET + 0x0080_0000  # thread i's stack tops at + (i + 1) * 8 KiB
STACK_SIZE = 0x2000
TRAMPOLINE = 0x9_0000  # where a secondary CPU would start

# ---- user address spaces ------------------------------------------------------------------

USER_BASE = 0x0800_0000
KERNEL_PGD_INDEX = PAGE_OFFSET >> 30  # PAE: the fourth gigabyte is the kernel's (`targets`)

# ---- configuration --------------------------------------------------------------------------

HZ = 1000
TIMER_DIVIDE_BY_1 = 0xB
TIMER_PERIOD = CPU_KHZ * 1000 // HZ  # TSC cycles between timer ticks
