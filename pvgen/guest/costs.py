"""The one table of what every simulated operation costs, in simulated CPU cycles.

Takes: nothing; imported by the machine, the backends and the report.
Hands on: `Cost` (every operation that has a price), `CYCLES` (its price), `CATEGORY` (the
line of the cycle breakdown it is booked under), the two sets that say which
instructions leave the guest: `TRAPS_WHEN_DEPRIVILEGED` (a kernel running outside ring 0
faults on them and the hypervisor emulates them) and `EXITS_UNDER_VTX` (they cause a VM exit
on VT-x without nested paging, as KVM configured it in 2008), and `VTX_EXIT_HANDLING`, the
host's work after each kind of VM exit.

docs/sim.md gives the public source of every figure, or says that it is an estimate.

The figures are ballpark values for a Core 2-class x86 of 2006-2008 at 2 GHz, in the spirit
of vendor optimization manuals and published instruction-latency tables: simple flag
operations cost a few cycles, serializing instructions (control-register writes, WRMSR,
CPUID) tens to a couple of hundred, uncached device accesses hundreds to thousands. The
transition costs follow the orders of magnitude of published virtualization measurements of
that era: a VT-x VM exit costs hundreds to thousands of cycles (less on Core 2 than on the
Pentium 4), a fault that a software VMM takes a few thousand (Adams and Agesen, ASPLOS
2006, on their first-generation VT-x test machine), a paravirtual hypercall without a VM exit a few hundred
(an estimate). None of them is a measurement of a particular machine; each is meant to be
right within a factor of two, which is what comparing backends needs. docs/sim.md says which
published figures were checked against their text and which could not be.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Cost(enum.Enum):
    """An operation with a price in cycles."""

    # ---- the guest's own work (ordinary instructions between privileged ones)
    GUEST_WORK = "guest work"
    # ---- reaching a hook from its call site
    INDIRECT_CALL = "indirect call"
    DIRECT_CALL = "direct call"
    DIRECT_JUMP = "direct jump"
    REGISTER_SAVE = "push and pop of a register"
    # ---- several CPUs
    ATOMIC = "lock-prefixed instruction"
    # ---- interrupt flag
    CLI = "cli"
    STI = "sti"
    PUSHF = "pushf"
    POPF = "popf"
    SET_IOPL = "popf (iopl)"
    # ---- control and debug registers
    READ_CR = "mov from cr0/cr2/cr4"
    READ_CR3 = "mov from cr3"
    WRITE_CR0 = "mov to cr0"
    WRITE_CR2 = "mov to cr2"
    WRITE_CR3 = "mov to cr3"
    WRITE_CR4 = "mov to cr4"
    CLTS = "clts"
    READ_DR = "mov from dr"
    WRITE_DR = "mov to dr"
    # ---- descriptor tables
    LOAD_DESCRIPTOR_TABLE = "lgdt/lidt/lldt"
    LOAD_TR = "ltr"
    STORE_DESCRIPTOR_REGISTER = "sgdt/sidt/str"
    DESCRIPTOR_WRITE = "descriptor store"
    # ---- model-specific registers, counters, identification, caches
    RDMSR = "rdmsr"
    WRMSR = "wrmsr"
    RDTSC = "rdtsc"
    RDTSCP = "rdtscp"
    RDPMC = "rdpmc"
    CPUID = "cpuid"
    WBINVD = "wbinvd"
    # ---- control transfers
    HLT = "hlt"
    IRET = "iret"
    SYSENTER = "sysenter"
    SYSEXIT = "sysexit"
    SOFTWARE_INTERRUPT = "int $0x80"
    SWAPGS = "swapgs"
    SYSCALL = "syscall"
    SYSRET = "sysret"
    INTERRUPT_DELIVERY = "interrupt delivery"
    FAULT_DELIVERY = "fault delivery"
    # ---- devices
    PORT_IO = "port i/o"
    APIC_READ = "local APIC read"
    APIC_WRITE = "local APIC write"
    # ---- paging
    PAGE_TABLE_WRITE = "page-table store"
    INVLPG = "invlpg"
    PAGE_WALK_LEVEL = "page walk, one level"
    # ---- paravirtual mechanisms inside the guest
    SHARED_MEMORY = "shared-page access"
    FRAME_LOOKUP = "p2m/m2p lookup"
    PVCLOCK_READ = "pvclock read"
    # ---- leaving the guest
    TRAP_AND_EMULATE = "trap and emulate"
    VM_EXIT = "vm exit"
    XEN_HYPERCALL = "xen hypercall"
    XEN_MULTICALL_ENTRY = "xen multicall entry"
    XEN_VALIDATE_ENTRY = "xen entry validation"
    XEN_PIN_PAGE = "xen page-table pin, per page"
    KVM_HYPERCALL_HANDLER = "kvm hypercall handler"
    KVM_MMU_OP = "kvm mmu op"
    LGUEST_HYPERCALL = "lguest hypercall"
    LGUEST_RING_ENTRY = "lguest async-ring entry"
    VMI_ROM_CALL = "vmi rom call"
    VMI_MONITOR_ENTRY = "vmi monitor entry"


CYCLES: Mapping[Cost, int] = {
    Cost.GUEST_WORK: 1,  # per cycle of work: the workload states its work in cycles
    # A call site reaches its hook by `call *pv_ops+n` (a predicted indirect call through
    # memory and the return), by a direct `call rel32` once patched, or by a `jmp` for the
    # hooks that do not return (iret, sysexit); the 32-bit sites of the callee-save hooks
    # also push and pop %ecx and %edx around the call. Inline sequences pay none of it.
    # Orders of magnitude of published latency tables for Core 2: a call and its return
    # a few cycles, an indirect one a few more, a push/pop pair about two.
    Cost.INDIRECT_CALL: 7,
    Cost.DIRECT_CALL: 4,
    Cost.DIRECT_JUMP: 2,
    Cost.REGISTER_SAVE: 2,
    # A locked read-modify-write (a ticket lock's xadd, a cpumask bit) drains the store
    # buffer and owns the cache line: a few tens of cycles on Core 2.
    Cost.ATOMIC: 25,
    # cli/sti are a few cycles; popf, which may change IF and IOPL, is microcoded (~20).
    Cost.CLI: 4,
    Cost.STI: 4,
    Cost.PUSHF: 2,
    Cost.POPF: 18,
    Cost.SET_IOPL: 18,
    # Control-register reads are cheap; writes serialize the pipeline. A CR3 write also
    # drops the non-global TLB entries (the refills are charged by the page walks).
    Cost.READ_CR: 4,
    Cost.READ_CR3: 4,
    Cost.WRITE_CR0: 40,
    Cost.WRITE_CR2: 4,
    Cost.WRITE_CR3: 120,
    Cost.WRITE_CR4: 50,
    Cost.CLTS: 20,
    Cost.READ_DR: 5,
    Cost.WRITE_DR: 30,
    Cost.LOAD_DESCRIPTOR_TABLE: 30,
    Cost.LOAD_TR: 40,
    Cost.STORE_DESCRIPTOR_REGISTER: 4,
    Cost.DESCRIPTOR_WRITE: 2,
    # MSR accesses serialize; WRMSR more so. RDTSC is a few tens of cycles on Core 2.
    Cost.RDMSR: 60,
    Cost.WRMSR: 90,
    Cost.RDTSC: 30,
    Cost.RDTSCP: 35,
    Cost.RDPMC: 30,
    Cost.CPUID: 120,
    # Writing back and invalidating a few megabytes of cache: tens of thousands of cycles.
    Cost.WBINVD: 20_000,
    Cost.HLT: 20,
    Cost.IRET: 40,
    Cost.SYSENTER: 30,
    Cost.SYSEXIT: 30,
    Cost.SOFTWARE_INTERRUPT: 90,
    Cost.SWAPGS: 8,
    # The 64-bit fast system call pair, of the order of sysenter and sysexit (estimates).
    Cost.SYSCALL: 30,
    Cost.SYSRET: 30,
    Cost.INTERRUPT_DELIVERY: 120,
    Cost.FAULT_DELIVERY: 120,
    # An ISA-bus port access (the out to port 0x80 behind io_delay, a CMOS register) takes
    # about a microsecond: 2,000 cycles at 2 GHz. Local APIC registers are uncached MMIO.
    Cost.PORT_IO: 2_000,
    Cost.APIC_READ: 80,
    Cost.APIC_WRITE: 60,
    Cost.PAGE_TABLE_WRITE: 2,
    Cost.INVLPG: 60,
    Cost.PAGE_WALK_LEVEL: 10,  # one level of a TLB-miss walk, entries in the data cache
    # A cached load or store to a page shared with the hypervisor; a frame-table lookup;
    # a pvclock read (version check, rdtsc, multiply and shift).
    Cost.SHARED_MEMORY: 2,
    Cost.FRAME_LOOKUP: 3,
    Cost.PVCLOCK_READ: 45,
    # A privileged instruction executed outside ring 0 faults; the hypervisor decodes and
    # emulates it and returns: Adams and Agesen (ASPLOS 2006) measured faults taken by a
    # software VMM at 3,223-3,927 cycles on their test machine.
    Cost.TRAP_AND_EMULATE: 1_800,
    # VT-x VM exit plus VM entry on Core 2-era hardware: of the published order (hundreds to
    # thousands of cycles per exit); 1,500 itself is an estimate, not a published figure.
    Cost.VM_EXIT: 1_500,
    # A Xen PV hypercall is a software interrupt into the hypervisor's ring 0 and back, no
    # VM exit: a few hundred cycles. Inside a multicall each request costs its dispatch;
    # an mmu_update request is validated (type and reference counts); pinning validates
    # a whole page-table page.
    Cost.XEN_HYPERCALL: 350,
    Cost.XEN_MULTICALL_ENTRY: 30,
    Cost.XEN_VALIDATE_ENTRY: 50,
    Cost.XEN_PIN_PAGE: 400,
    # A KVM hypercall is a vmcall: a VM exit (charged as VM_EXIT) and the handler's work;
    # each MMU operation in its buffer also updates the shadow page tables.
    Cost.KVM_HYPERCALL_HANDLER: 200,
    Cost.KVM_MMU_OP: 150,
    # lguest's hypercall traps into the Switcher, which swaps page tables and segments to
    # run the host kernel and back: a world switch, costlier than a VM exit.
    Cost.LGUEST_HYPERCALL: 2_200,
    # The host's run of one stored call of the async ring: read its four words, dispatch.
    Cost.LGUEST_RING_ENTRY: 40,
    # VMI: a near call into the ROM page mapped in the guest; a ROM routine that needs the
    # monitor enters it through a gate that is cheaper than a fault (no decoding).
    Cost.VMI_ROM_CALL: 15,
    Cost.VMI_MONITOR_ENTRY: 1_000,
}

# Lines of the cycle breakdown.
WORK = "guest work"
INSTRUCTIONS = "privileged instructions"
HYPERVISOR = "hypervisor work"
TRAPS = "traps"
VM_EXITS = "vm exits"
HYPERCALLS = "hypercalls"
ROM = "vmi rom"
PARAVIRT = "paravirt shared state"
PAGE_WALKS = "page walks"
CALLS = "hook calls"
SPINNING = "spinning"  # waiting for a lock or for other CPUs, on a CPU that could work

_TRANSITIONS: Mapping[Cost, str] = {
    Cost.GUEST_WORK: WORK,
    Cost.INDIRECT_CALL: CALLS,
    Cost.DIRECT_CALL: CALLS,
    Cost.DIRECT_JUMP: CALLS,
    Cost.REGISTER_SAVE: CALLS,
    Cost.PAGE_WALK_LEVEL: PAGE_WALKS,
    Cost.SHARED_MEMORY: PARAVIRT,
    Cost.FRAME_LOOKUP: PARAVIRT,
    Cost.PVCLOCK_READ: PARAVIRT,
    Cost.TRAP_AND_EMULATE: TRAPS,
    Cost.VM_EXIT: VM_EXITS,
    Cost.XEN_HYPERCALL: HYPERCALLS,
    Cost.XEN_MULTICALL_ENTRY: HYPERCALLS,
    Cost.XEN_VALIDATE_ENTRY: HYPERCALLS,
    Cost.XEN_PIN_PAGE: HYPERCALLS,
    Cost.KVM_HYPERCALL_HANDLER: HYPERCALLS,
    Cost.KVM_MMU_OP: HYPERCALLS,
    Cost.LGUEST_HYPERCALL: HYPERCALLS,
    Cost.LGUEST_RING_ENTRY: HYPERCALLS,
    Cost.VMI_ROM_CALL: ROM,
    Cost.VMI_MONITOR_ENTRY: HYPERCALLS,
}

#: The breakdown line of each cost; an instruction run by the hypervisor on the guest's
#: behalf is booked under HYPERVISOR instead (the machine decides).
CATEGORY: Mapping[Cost, str] = {cost: _TRANSITIONS.get(cost, INSTRUCTIONS) for cost in Cost}

#: Instructions and events that fault when the kernel runs outside ring 0 (Xen, lguest and
#: VMI guests): the hypervisor takes the fault and emulates or reflects it. Page-table and
#: descriptor-table pages are write-protected, so plain stores to them fault too. (Some
#: sensitive instructions, such as pushf, sgdt and cpuid, do not fault: x86's famous holes.)
TRAPS_WHEN_DEPRIVILEGED: frozenset[Cost] = frozenset(
    {
        Cost.CLI,
        Cost.STI,
        Cost.POPF,
        Cost.SET_IOPL,
        Cost.READ_CR,
        Cost.READ_CR3,
        Cost.WRITE_CR0,
        Cost.WRITE_CR2,
        Cost.WRITE_CR3,
        Cost.WRITE_CR4,
        Cost.CLTS,
        Cost.READ_DR,
        Cost.WRITE_DR,
        Cost.LOAD_DESCRIPTOR_TABLE,
        Cost.LOAD_TR,
        Cost.DESCRIPTOR_WRITE,
        Cost.RDMSR,
        Cost.WRMSR,
        Cost.WBINVD,
        Cost.HLT,
        Cost.SYSENTER,
        Cost.SYSEXIT,
        Cost.SOFTWARE_INTERRUPT,
        Cost.SWAPGS,
        Cost.SYSCALL,
        Cost.SYSRET,
        Cost.INTERRUPT_DELIVERY,
        Cost.FAULT_DELIVERY,
        Cost.PORT_IO,
        Cost.APIC_READ,
        Cost.APIC_WRITE,
        Cost.PAGE_TABLE_WRITE,
        Cost.INVLPG,
    }
)

#: The host's work after a VM exit and before the VM entry, per exit reason, on top of the
#: round trip itself (VM_EXIT), booked as hypervisor work: KVM of Linux 2.6.26 with shadow
#: paging. Estimates from the length of each handler's path in arch/x86/kvm (vmx.c, x86.c,
#: mmu.c, lapic.c), not measurements: decoding a faulting store with the instruction
#: emulator and updating the shadow entry (`kvm_mmu_pte_write`); a CR3 load that looks up
#: or builds the shadow root (`kvm_mmu_load`); a guest page fault walked in the guest's
#: tables before it is reflected; local APIC MMIO decoded and emulated in the kernel;
#: port I/O, which goes out to the device model in user space (QEMU) and back.
VTX_EXIT_HANDLING: Mapping[Cost, int] = {
    Cost.READ_CR3: 150,
    Cost.WRITE_CR0: 400,
    Cost.WRITE_CR3: 3_000,
    Cost.WRITE_CR4: 400,
    Cost.CLTS: 150,
    Cost.READ_DR: 150,
    Cost.WRITE_DR: 150,
    Cost.RDMSR: 300,
    Cost.WRMSR: 300,
    Cost.RDPMC: 150,
    Cost.CPUID: 300,
    Cost.WBINVD: 100,
    Cost.HLT: 600,
    Cost.INTERRUPT_DELIVERY: 800,
    Cost.FAULT_DELIVERY: 2_500,
    Cost.PORT_IO: 8_000,
    Cost.APIC_READ: 1_200,
    Cost.APIC_WRITE: 1_200,
    Cost.PAGE_TABLE_WRITE: 2_500,
    Cost.INVLPG: 500,
}

#: What exits to the hypervisor under VT-x with shadow paging (no EPT): CR3 accesses,
#: CR0/CR4 writes, invlpg, page faults and stores to shadowed page tables, I/O, APIC
#: accesses, most MSRs, cpuid, hlt, wbinvd, debug registers, external interrupts.
EXITS_UNDER_VTX: frozenset[Cost] = frozenset(
    {
        Cost.READ_CR3,
        Cost.WRITE_CR0,
        Cost.WRITE_CR3,
        Cost.WRITE_CR4,
        Cost.CLTS,
        Cost.READ_DR,
        Cost.WRITE_DR,
        Cost.RDMSR,
        Cost.WRMSR,
        Cost.RDPMC,
        Cost.CPUID,
        Cost.WBINVD,
        Cost.HLT,
        Cost.INTERRUPT_DELIVERY,
        Cost.FAULT_DELIVERY,
        Cost.PORT_IO,
        Cost.APIC_READ,
        Cost.APIC_WRITE,
        Cost.PAGE_TABLE_WRITE,
        Cost.INVLPG,
    }
)
