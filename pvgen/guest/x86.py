"""x86 as the simulated machine defines it: architectural bits, register and MSR numbers,
descriptor formats, and the identity of the simulated processor.

Takes: nothing.
Hands on: constants and the encoders and decoders of GDT/LDT descriptors and IDT gates,
shared by the machine, the kernel and the backends.
"""

from __future__ import annotations

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
WORDS_PER_PAGE = PAGE_SIZE // 8

# ---- architectural bits -----------------------------------------------------------------

EFLAGS_FIXED = 0x2
EFLAGS_IF = 0x200
EFLAGS_IOPL_SHIFT = 12

CR0_PE = 1 << 0
CR0_MP = 1 << 1
CR0_TS = 1 << 3
CR0_ET = 1 << 4
CR0_NE = 1 << 5
CR0_WP = 1 << 16
CR0_PG = 1 << 31
CR4_PSE = 1 << 4
CR4_PAE = 1 << 5
CR4_PGE = 1 << 7

PTE_PRESENT = 1 << 0
PTE_RW = 1 << 1
PTE_USER = 1 << 2
PTE_ACCESSED = 1 << 5
PTE_DIRTY = 1 << 6
PTE_GLOBAL = 1 << 8
FRAME_MASK = 0x000F_FFFF_FFFF_F000

#: The registers a call site lets its callee change (the kernel's CLBR_* of 32-bit x86).
CLBR_NONE = 0
CLBR_EAX = 1 << 0
CLBR_ECX = 1 << 1
CLBR_EDX = 1 << 2
CLBR_ANY = CLBR_EAX | CLBR_ECX | CLBR_EDX
#: 64-bit kernels add rsi and rdi (and r8-r11, which the simulated CPU does not have);
#: the simulated register file keeps its 32-bit names on every target.
CLBR_RSI = 1 << 3
CLBR_RDI = 1 << 4
CLBR_ANY_64 = CLBR_ANY | CLBR_RSI | CLBR_RDI
CLOBBER_BITS = {
    "eax": CLBR_EAX,
    "ecx": CLBR_ECX,
    "edx": CLBR_EDX,
    "esi": CLBR_RSI,
    "edi": CLBR_RDI,
}

#: Encodings a patcher writes over a call site.
CALL_REL32 = 0xE8  # call rel32
JMP_REL32 = 0xE9  # jmp rel32
UD2 = bytes.fromhex("0f0b")  # the kernel's BUG: a NULL hook's call site traps
NOP = 0x90
FS_PREFIX = 0x64

INTERRUPT_GATE = 0xE
TRAP_GATE = 0xF
TSS_AVAILABLE = 0x9
TSS_BUSY_BIT = 1 << 41  # type 0x9 -> 0xB in a TSS descriptor

MSR_TSC = 0x10
MSR_APIC_BASE = 0x1B
MSR_SYSENTER_CS = 0x174
MSR_SYSENTER_ESP = 0x175
MSR_SYSENTER_EIP = 0x176
MSR_MISC_ENABLE = 0x1A0
MSR_PAT = 0x277
MSR_EFER = 0xC000_0080
MSR_STAR = 0xC000_0081  # syscall/sysret segment selectors
MSR_LSTAR = 0xC000_0082  # the 64-bit syscall entry point
MSR_SYSCALL_MASK = 0xC000_0084  # RFLAGS bits syscall clears
MSR_FS_BASE = 0xC000_0100
MSR_GS_BASE = 0xC000_0101
MSR_KERNEL_GS_BASE = 0xC000_0102
MSR_TSC_AUX = 0xC000_0103
EFER_SCE = 1 << 0  # syscall enabled
EFER_LME = 1 << 8  # long mode
EFER_NXE = 1 << 11

INITIAL_MSRS = {
    MSR_APIC_BASE: 0xFEE0_0900,
    MSR_SYSENTER_CS: 0,
    MSR_SYSENTER_ESP: 0,
    MSR_SYSENTER_EIP: 0,
    MSR_MISC_ENABLE: 0x1,
    MSR_PAT: 0x0007_0406_0007_0406,
    MSR_EFER: 0,
    MSR_STAR: 0,
    MSR_LSTAR: 0,
    MSR_SYSCALL_MASK: 0,
    MSR_FS_BASE: 0,
    MSR_GS_BASE: 0,
    MSR_KERNEL_GS_BASE: 0,
    MSR_TSC_AUX: 0,
}
READ_ONLY_MSRS = frozenset({MSR_TSC, MSR_APIC_BASE})

#: CPUID leaves of the simulated processor (a Core 2-like part with PAE, PGE, APIC, SEP, NX).
CPUID_LEAVES: dict[int, tuple[int, int, int, int]] = {
    0x0: (0xA, 0x756E_6547, 0x6C65_746E, 0x4965_6E69),  # "GenuineIntel"
    0x1: (0x0000_06F6, 0x0001_0800, 0x0000_E3BD, 0xBFEB_FBFF),
    0x8000_0000: (0x8000_0008, 0, 0, 0),
    0x8000_0001: (0, 0, 0x1, 0x2010_0000),
}


def segment_descriptor(base: int, limit: int, kind: int, dpl: int, flags: int = 0xC) -> int:
    """A 64-bit GDT/LDT descriptor: `kind` is the 4-bit type; S is set for code and data."""
    system = kind in (TSS_AVAILABLE, 0xB, 0x2)
    access = kind | (0 if system else 0x10) | (dpl << 5) | 0x80
    low = ((base & 0xFFFF) << 16) | (limit & 0xFFFF)
    high = (
        (base & 0xFF00_0000)
        | (flags << 20)
        | (limit & 0xF_0000)
        | (access << 8)
        | ((base >> 16) & 0xFF)
    )
    return (high << 32) | low


def gate_descriptor(offset: int, selector: int, kind: int, dpl: int) -> int:
    """A 64-bit IDT gate of the 32-bit architecture."""
    low = (selector << 16) | (offset & 0xFFFF)
    high = (offset & 0xFFFF_0000) | 0x8000 | (dpl << 13) | (kind << 8)
    return (high << 32) | low


def decode_gate(word: int) -> tuple[int, int, bool]:
    """(handler offset, gate type, present) of an IDT gate."""
    offset = (word & 0xFFFF) | ((word >> 32) & 0xFFFF_0000)
    return offset, (word >> 40) & 0xF, bool(word >> 47 & 1)
