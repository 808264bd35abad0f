"""The native backend: the guest kernel on bare hardware, and every backend's fallback.

Takes: the machine (its platform decides what the instructions cost when another backend
falls back to these methods: a trap when the kernel runs outside ring 0, a VM exit for what
VT-x intercepts).
Hands on: `NativeHooks`, one method per hook of the spec: each is the instruction or the
store it names, executed by the guest kernel.
"""

from __future__ import annotations

from .. import apic as lapic
from .. import kstructs as k
from ..bindings import PgdValue, PmdValue, PteValue, PudValue
from ..costs import Cost
from ..machine import Platform
from ..x86 import CR4_PGE
from .base import Backend, LazyMode, paravirt_nop

#: What native_patch writes over a call site: the DEF_NATIVE sequences of Linux 2.6.26's
#: arch/x86/kernel/paravirt_patch_32.c, eleven hooks; every other hook goes to
#: paravirt_patch_default (a direct call, a nop, or ud2 for a NULL slot).
NATIVE_CODE = {
    "pv_irq_ops.save_fl": bytes.fromhex("9c58"),  # pushf; pop %eax
    "pv_irq_ops.restore_fl": bytes.fromhex("509d"),  # push %eax; popf
    "pv_irq_ops.irq_disable": bytes.fromhex("fa"),  # cli
    "pv_irq_ops.irq_enable": bytes.fromhex("fb"),  # sti
    "pv_cpu_ops.clts": bytes.fromhex("0f06"),
    "pv_cpu_ops.read_tsc": bytes.fromhex("0f31"),  # rdtsc
    "pv_cpu_ops.irq_enable_syscall_ret": bytes.fromhex("fb0f35"),  # sti; sysexit
    "pv_cpu_ops.iret": bytes.fromhex("cf"),
    "pv_mmu_ops.read_cr2": bytes.fromhex("0f20d0"),  # mov %cr2, %eax
    "pv_mmu_ops.read_cr3": bytes.fromhex("0f20d8"),  # mov %cr3, %eax
    "pv_mmu_ops.write_cr3": bytes.fromhex("0f22d8"),  # mov %eax, %cr3
}

#: The 64-bit sequences of arch/x86/kernel/paravirt_patch_64.c (Linux 2.6.26), thirteen
#: hooks; irq_enable_syscall_ret's (movq %gs:pda_oldrsp,%rsp; swapgs; sysretq, 15 bytes)
#: is longer than its call site, so paravirt_patch_insns leaves that site as it is.
NATIVE_CODE_64 = {
    "pv_irq_ops.save_fl": bytes.fromhex("9c58"),  # pushfq; popq %rax
    "pv_irq_ops.restore_fl": bytes.fromhex("579d"),  # pushq %rdi; popfq
    "pv_irq_ops.irq_disable": bytes.fromhex("fa"),  # cli
    "pv_irq_ops.irq_enable": bytes.fromhex("fb"),  # sti
    "pv_cpu_ops.iret": bytes.fromhex("48cf"),  # iretq
    "pv_cpu_ops.irq_enable_syscall_ret": bytes.fromhex("65488b2425") + bytes(4)
    # pda_oldrsp's offset stands as zero here; the sequence never fits a site
    + bytes.fromhex("0f01f8480f07"),
    "pv_cpu_ops.swapgs": bytes.fromhex("0f01f8"),  # swapgs
    "pv_mmu_ops.read_cr2": bytes.fromhex("0f20d0"),  # movq %cr2, %rax
    "pv_mmu_ops.read_cr3": bytes.fromhex("0f20d8"),  # movq %cr3, %rax
    "pv_mmu_ops.write_cr3": bytes.fromhex("0f22df"),  # movq %rdi, %cr3
    "pv_mmu_ops.flush_tlb_single": bytes.fromhex("0f013f"),  # invlpg (%rdi)
    "pv_cpu_ops.clts": bytes.fromhex("0f06"),  # clts
    "pv_cpu_ops.wbinvd": bytes.fromhex("0f09"),  # wbinvd
}

BIOS_LOW_MEMORY_FRAMES = 0x9F  # 636 KiB below the ISA hole


class NativeHooks(Backend):
    """Bare hardware: every hook is the privileged instruction (or plain store) it names.

    The hooks marked `paravirt_nop` are the ones Linux 2.6.26 fills with paravirt_nop
    (arch/x86/kernel/paravirt.c): their call sites are patched away at boot.
    """

    PLATFORM = Platform.BARE_METAL

    pv_info_kernel_rpl = 0
    pv_info_shared_kernel_pmd = 1
    pv_info_paravirt_enabled = 0
    pv_info_name = "bare hardware"

    # ---- pv_init_ops ------------------------------------------------------------------

    def pv_init_ops_patch(self, type: int, clobber: int, insnbuf: int, addr: int, len: int) -> int:
        table = NATIVE_CODE_64 if self.machine.target.long_mode else NATIVE_CODE
        code = table.get(self._hook_path(type))
        if code is not None:
            return self._patch_insns(insnbuf, len, code)
        return self._patch_default(type, clobber, insnbuf, addr, len)

    @paravirt_nop
    def pv_init_ops_arch_setup(self) -> None:
        return None

    def pv_init_ops_memory_setup(self) -> str:
        ram = self.machine.ram_frames
        self._write_memory_map(
            [(0, BIOS_LOW_MEMORY_FRAMES), (k.KERNEL_MAPPED_FRAMES, ram - k.KERNEL_MAPPED_FRAMES)]
        )
        return "BIOS-e820"

    def pv_init_ops_banner(self) -> None:
        return None

    # ---- pv_time_ops ------------------------------------------------------------------

    def pv_time_ops_time_init(self) -> None:
        self.machine.port_io(20)  # calibrate the TSC against the PIT

    def pv_time_ops_get_wallclock(self) -> int:
        return self.machine.cmos_read_time()

    def pv_time_ops_set_wallclock(self, nowtime: int) -> int:
        self.machine.cmos_write_time(nowtime)
        return 0

    def pv_time_ops_sched_clock(self) -> int:
        return self.machine.rdtsc() * 1_000_000 // self.machine.cpu_khz

    def pv_time_ops_get_cpu_khz(self) -> int:
        return self.machine.cpu_khz

    # ---- pv_cpu_ops ---------------------------------------------------------------------

    def pv_cpu_ops_get_debugreg(self, regno: int) -> int:
        return self.machine.read_dr(regno)

    def pv_cpu_ops_set_debugreg(self, regno: int, value: int) -> None:
        self.machine.write_dr(regno, value)

    def pv_cpu_ops_clts(self) -> None:
        self.machine.clts()

    def pv_cpu_ops_read_cr0(self) -> int:
        return self.machine.read_cr0()

    def pv_cpu_ops_write_cr0(self, val: int) -> None:
        self.machine.write_cr0(val)

    def pv_cpu_ops_read_cr4_safe(self) -> int:
        return self.machine.read_cr4()  # the simulated CPU has CR4

    def pv_cpu_ops_read_cr4(self) -> int:
        return self.machine.read_cr4()

    def pv_cpu_ops_write_cr4(self, val: int) -> None:
        self.machine.write_cr4(val)

    def pv_cpu_ops_read_cr8(self) -> int:
        self.machine.execute(Cost.READ_CR)  # CR8 is the APIC's task priority, shifted
        return self.machine.apic_register(lapic.TPR) >> 4

    def pv_cpu_ops_write_cr8(self, val: int) -> None:
        self.machine.execute(Cost.WRITE_CR2)  # as cheap as a CR2 write: not serializing
        self.machine.apic_register_write(lapic.TPR, (val & 0xF) << 4)

    def pv_cpu_ops_load_tr_desc(self) -> None:
        self.machine.ltr(k.TSS_SELECTOR)

    def pv_cpu_ops_load_gdt(self, dtr: int) -> None:
        self.machine.lgdt(*self._read_dtr(dtr))

    def pv_cpu_ops_load_idt(self, dtr: int) -> None:
        self.machine.lidt(*self._read_dtr(dtr))

    def pv_cpu_ops_store_gdt(self, dtr: int) -> None:
        self._write_dtr(dtr, self.machine.sgdt())

    def pv_cpu_ops_store_idt(self, dtr: int) -> None:
        self._write_dtr(dtr, self.machine.sidt())

    def pv_cpu_ops_set_ldt(self, desc: int, entries: int) -> None:
        self.machine.lldt(desc, entries)

    def pv_cpu_ops_store_tr(self) -> int:
        return self.machine.str_()

    def pv_cpu_ops_load_tls(self, t: int, cpu: int) -> None:
        for i, descriptor in enumerate(self._tls_descriptors(t)):
            self.machine.write_descriptor(self._tls_slot(k.gdt_address(cpu), i), descriptor)

    def pv_cpu_ops_write_ldt_entry(self, ldt: int, entrynum: int, desc: int) -> None:
        self.machine.write_descriptor(ldt + 8 * entrynum, self.machine.load(desc))

    def pv_cpu_ops_write_gdt_entry(self, gdt: int, entrynum: int, desc: int, size: int) -> None:
        self.machine.write_descriptor(gdt + 8 * entrynum, self.machine.load(desc))

    def pv_cpu_ops_write_idt_entry(self, idt: int, entrynum: int, gate: int) -> None:
        self.machine.write_descriptor(idt + 8 * entrynum, self.machine.load(gate))

    def pv_cpu_ops_load_sp0(self, tss: int, t: int) -> None:
        self.machine.store(tss + k.TSS_SP0, self._thread_sp0(t))

    def pv_cpu_ops_set_iopl_mask(self, mask: int) -> None:
        self.machine.set_iopl(mask >> 12)

    def pv_cpu_ops_wbinvd(self) -> None:
        self.machine.wbinvd()

    def pv_cpu_ops_io_delay(self) -> None:
        self.machine.port_io()  # out %al, $0x80

    def pv_cpu_ops_cpuid(self, eax: int, ebx: int, ecx: int, edx: int) -> None:
        self._cpuid(eax, ebx, ecx, edx)

    def pv_cpu_ops_read_msr(self, msr: int, err: int) -> int:
        value = self.machine.rdmsr(msr)
        self.machine.store(err, 0 if value is not None else 1)
        return value or 0

    def pv_cpu_ops_write_msr(self, msr: int, low: int, high: int) -> int:
        return 0 if self.machine.wrmsr(msr, high << 32 | low) else 1

    def pv_cpu_ops_read_tsc(self) -> int:
        return self.machine.rdtsc()

    def pv_cpu_ops_read_pmc(self, counter: int) -> int:
        return self.machine.rdpmc(counter)

    def pv_cpu_ops_read_tscp(self, aux: int) -> int:
        tsc, processor = self.machine.rdtscp()
        self.machine.store(aux, processor)
        return tsc

    def pv_cpu_ops_irq_enable_syscall_ret(self) -> None:
        if self.machine.target.long_mode:  # native_irq_enable_syscall_ret, entry_64.S
            self.machine.swapgs()
            self.machine.sysret()
        else:
            self.machine.sysexit()

    def pv_cpu_ops_iret(self) -> None:
        self.machine.iret()

    def pv_cpu_ops_swapgs(self) -> None:
        self.machine.swapgs()

    @paravirt_nop
    def pv_cpu_ops_lazy_mode_enter(self) -> None:
        self._enter_lazy(LazyMode.CPU)

    @paravirt_nop
    def pv_cpu_ops_lazy_mode_leave(self) -> None:
        self._leave_lazy(LazyMode.CPU)

    # ---- pv_irq_ops ---------------------------------------------------------------------

    def pv_irq_ops_init_IRQ(self) -> None:
        self.machine.port_io(4)  # mask the legacy PICs
        self.machine.apic_write(lapic.SVR, 0x100 | k.SPURIOUS_VECTOR)

    def pv_irq_ops_save_fl(self) -> int:
        return self.machine.pushf()

    def pv_irq_ops_restore_fl(self, flags: int) -> None:
        self.machine.popf(flags)

    def pv_irq_ops_irq_disable(self) -> None:
        self.machine.cli()

    def pv_irq_ops_irq_enable(self) -> None:
        self.machine.sti()

    def pv_irq_ops_safe_halt(self) -> None:
        self.machine.enable_and_halt()

    def pv_irq_ops_halt(self) -> None:
        self.machine.hlt()

    # ---- pv_apic_ops --------------------------------------------------------------------

    def pv_apic_ops_apic_write(self, reg: int, v: int) -> None:
        self.machine.apic_write(reg, v)

    def pv_apic_ops_apic_write_atomic(self, reg: int, v: int) -> None:
        self.machine.apic_write(reg, v)  # an xchg on the register: the same access

    def pv_apic_ops_apic_read(self, reg: int) -> int:
        return self.machine.apic_read(reg)

    def pv_apic_ops_setup_boot_clock(self) -> None:
        self._program_timer()

    def pv_apic_ops_setup_secondary_clock(self) -> None:
        self._program_timer()

    @paravirt_nop
    def pv_apic_ops_startup_ipi_hook(
        self, phys_apicid: int, start_eip: int, start_esp: int
    ) -> None:
        return None  # a hook for hypervisors that start CPUs themselves

    def _program_timer(self) -> None:
        self._program_local_timer(self.machine.apic_write)

    # ---- pv_mmu_ops ---------------------------------------------------------------------

    def pv_mmu_ops_pagetable_setup_start(self, pgd_base: int) -> None:
        return None

    def pv_mmu_ops_pagetable_setup_done(self, pgd_base: int) -> None:
        return None

    def pv_mmu_ops_read_cr2(self) -> int:
        return self.machine.read_cr2()

    def pv_mmu_ops_write_cr2(self, val: int) -> None:
        self.machine.write_cr2(val)

    def pv_mmu_ops_read_cr3(self) -> int:
        return self.machine.read_cr3()

    def pv_mmu_ops_write_cr3(self, val: int) -> None:
        self.machine.write_cr3(val)

    @paravirt_nop
    def pv_mmu_ops_activate_mm(self, prev: int, next: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_dup_mmap(self, oldmm: int, mm: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_exit_mmap(self, mm: int) -> None:
        return None

    def pv_mmu_ops_flush_tlb_user(self) -> None:
        self.machine.write_cr3(self.machine.read_cr3())

    def pv_mmu_ops_flush_tlb_kernel(self) -> None:
        cr4 = self.machine.read_cr4()
        self.machine.write_cr4(cr4 & ~CR4_PGE)
        self.machine.write_cr4(cr4)

    def pv_mmu_ops_flush_tlb_single(self, addr: int) -> None:
        self.machine.invlpg(addr)

    def pv_mmu_ops_flush_tlb_others(self, cpus: int, mm: int, va: int) -> None:
        # native_flush_tlb_others (tlb_32.c): leave what to flush for the others, send them
        # the invalidate IPI, and wait until each has cleared its bit of flush_cpumask.
        m = self.machine
        mask = m.load(cpus)
        if not mask or self.ipi_sender is None:
            return
        m.store(k.FLUSH_MM, mm)
        m.store(k.FLUSH_VA, va)
        m.execute(Cost.ATOMIC)
        m.store(k.FLUSH_CPUMASK, mask)
        self.ipi_sender(mask, k.INVALIDATE_TLB_VECTOR)
        for cpu in range(len(m.cpus)):
            if mask >> cpu & 1:
                m.run_on(cpu, m.poll)  # the other CPU takes the interrupt

    @paravirt_nop
    def pv_mmu_ops_alloc_pte(self, mm: int, pfn: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_alloc_pmd(self, mm: int, pfn: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_alloc_pmd_clone(self, pfn: int, clonepfn: int, start: int, count: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_alloc_pud(self, mm: int, pfn: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_release_pte(self, pfn: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_release_pmd(self, pfn: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_release_pud(self, pfn: int) -> None:
        return None

    def pv_mmu_ops_set_pte(self, ptep: int, pteval: PteValue) -> None:
        self.machine.write_page_table(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_at(self, mm: int, addr: int, ptep: int, pteval: PteValue) -> None:
        self.machine.write_page_table(ptep, pteval.pte)

    def pv_mmu_ops_set_pmd(self, pmdp: int, pmdval: PmdValue) -> None:
        self.machine.write_page_table(pmdp, self._pmd_raw(pmdval))

    @paravirt_nop
    def pv_mmu_ops_pte_update(self, mm: int, addr: int, ptep: int) -> None:
        return None

    @paravirt_nop
    def pv_mmu_ops_pte_update_defer(self, mm: int, addr: int, ptep: int) -> None:
        return None

    def pv_mmu_ops_pte_val(self, pte: PteValue) -> int:
        return pte.pte

    def pv_mmu_ops_make_pte(self, pte: int) -> PteValue:
        return self.types.pte(pte)

    def pv_mmu_ops_pgd_val(self, pgd: PgdValue) -> int:
        return pgd.pgd

    def pv_mmu_ops_make_pgd(self, pgd: int) -> PgdValue:
        return self.types.pgd(pgd)

    def pv_mmu_ops_set_pte_atomic(self, ptep: int, pteval: PteValue) -> None:
        self.machine.write_page_table(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_present(self, mm: int, addr: int, ptep: int, pte: PteValue) -> None:
        self.machine.write_page_table(ptep, pte.pte)

    def pv_mmu_ops_pte_clear(self, mm: int, addr: int, ptep: int) -> None:
        self.machine.write_page_table(ptep, 0)

    def pv_mmu_ops_pmd_clear(self, pmdp: int) -> None:
        self.machine.write_page_table(pmdp, 0)

    def pv_mmu_ops_set_pud(self, pudp: int, pudval: PudValue) -> None:
        self.machine.write_page_table(pudp, self._pud_raw(pudval))

    def pv_mmu_ops_pmd_val(self, pmd: PmdValue) -> int:
        return pmd.pmd

    def pv_mmu_ops_make_pmd(self, pmd: int) -> PmdValue:
        return self.types.pmd(pmd)

    def pv_mmu_ops_pud_val(self, pud: PudValue) -> int:
        return pud.pud

    def pv_mmu_ops_make_pud(self, pud: int) -> PudValue:
        return self.types.pud(pud)

    def pv_mmu_ops_set_pgd(self, pudp: int, pgdval: PgdValue) -> None:
        self.machine.write_page_table(pudp, pgdval.pgd)

    def pv_mmu_ops_kmap_atomic_pte(self, page: int, type: int) -> int:
        """The kernel's own kmap_atomic (paravirt.c: `.kmap_atomic_pte = kmap_atomic`):
        its fixmap store and flush go through the hooks (`set_pte`, `pte_clear`,
        `flush_tlb_single`), so under a backend that keeps this function they cost what
        that backend's hooks cost."""
        return self._kernel_kmap_atomic(page, type)

    @paravirt_nop
    def pv_mmu_ops_lazy_mode_enter(self) -> None:
        self._enter_lazy(LazyMode.MMU)

    @paravirt_nop
    def pv_mmu_ops_lazy_mode_leave(self) -> None:
        self._leave_lazy(LazyMode.MMU)
