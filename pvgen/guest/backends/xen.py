"""The Xen backend: a paravirtualized guest that runs outside ring 0 and asks Xen for help.

Takes: the machine (deprivileged: privileged instructions the guest runs itself trap).
Hands on: `XenHooks`, the hooks the spec's `xen` block lists, modelled on Linux 2.6.26's
Xen guest:

- Page-table writes are `mmu_update` hypercalls with the entry's machine address; while a
  lazy bracket (MMU or CPU) is open they are queued and sent as one multicall per batch
  (at most `MULTICALL_BATCH` requests), as are CR3 loads, TLB flushes, stack switches and
  descriptor updates.
- The domain's frames are scattered over machine memory (a fixed permutation, `p2m`), so
  page-table entries hold machine frame numbers: make_pte/pte_val and their pgd/pmd peers
  translate, and the kernel never sees a machine frame.
- The interrupt flag is a mask in the per-vCPU shared page: disabling is a store, enabling
  a store and a look at the pending bit, with a hypercall only if an event waits.
- Address spaces are pinned (validated whole) when they come into use and unpinned at exit.
- There is no local APIC: the timer is Xen's, programmed by hypercall; the guest's EOI is
  the store that clears the event's pending bit. Any other APIC write is what 2.6.26's
  `xen_apic_write` (arch/x86/xen/enlighten.c) makes of it: a warning (`WARN_ON(1)`), no
  path into Xen; the write is dropped and counted as `warning:apic_write`.
- System calls never enter Xen. 32-bit Xen refuses a sysenter callback
  (`register_guest_callback` in Xen's arch/x86/x86_32/traps.c knows CALLBACKTYPE_sysenter
  only with CONFIG_X86_SUPERVISOR_MODE_KERNEL), so `xen_enable_sysenter`
  (arch/x86/xen/setup.c) clears SEP and the vDSO uses int $0x80; Xen copies that trap gate
  into the real IDT (`init_int80_direct_trap`), so it reaches the guest kernel directly.
  The way back is `xen_iret` (and `xen_sysexit`, which jumps to it) in
  arch/x86/xen/xen-asm.S: the event mask is set from the frame's IF with a store, the
  pending flag is tested, and a native iret returns from ring 1; only VM86 and NMI frames
  take the iret hypercall, and this guest has neither. The guest keeps its own view (its
  fast path is sysenter and sysexit); the machine prices the route Xen really takes.
- Its patcher (xen_patch) puts the direct interrupt-flag sequences of xen-asm_32.S over the
  call sites they fit; everything else gets paravirt_patch_default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .. import apic as lapic
from .. import kstructs as k
from ..bindings import GuestTypes, PgdValue, PmdValue, PteValue, PudValue
from ..costs import Cost
from ..machine import Machine, Platform
from ..meter import WARNING
from ..x86 import (
    EFLAGS_IF,
    FRAME_MASK,
    FS_PREFIX,
    MSR_SYSENTER_CS,
    MSR_SYSENTER_EIP,
    MSR_SYSENTER_ESP,
    PAGE_SHIFT,
    PTE_PRESENT,
)
from .base import Backend, LazyMode, paravirt_nop
from .hypercalls import HypervisorGate

MULTICALL_BATCH = 32  # requests per multicall before the buffer must be sent
VCPU_MASK_OFFSET = 8  # evtchn_upcall_mask in the shared page
VCPU_PENDING_OFFSET = 0  # evtchn_upcall_pending
CALLBACK_MSRS = frozenset({MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP})
USER_PGD_SLOTS = range(k.KERNEL_PGD_INDEX)  # the kernel's gigabyte is pinned once, at boot
ALL_PGD_SLOTS = range(4)


def _direct_sequences(mask: int, pending: int) -> dict[str, bytes]:
    """The 32-bit direct forms of the interrupt-flag hooks (xen-asm_32.S of 2.6.26, which
    reach vcpu_info through the per-CPU %fs segment), encoded: only what fits a call site
    is copied there, and on 32-bit that is irq_disable alone (the sites of the callee-save
    hooks are 10 bytes: push %ecx; push %edx; call *op; pop %edx; pop %ecx)."""
    fs = bytes([FS_PREFIX])

    def at(address: int) -> bytes:
        return address.to_bytes(4, "little")

    movb_mask = fs + b"\xc6\x05" + at(mask)  # movb $imm8, %fs:mask
    test_pending = fs + b"\xf6\x05" + at(pending) + b"\xff"  # testb $0xff, %fs:pending
    check_events = b"\x74\x05" + b"\xe8" + bytes(4)  # jz 1f; call check_events; 1:
    return {
        "pv_irq_ops.irq_disable": movb_mask + b"\x01",
        "pv_irq_ops.irq_enable": movb_mask + b"\x00" + test_pending + check_events,
        "pv_irq_ops.save_fl": fs + b"\xf6\x05" + at(mask) + b"\xff" + b"\x0f\x94\xc4\x00\xe4",
        "pv_irq_ops.restore_fl": b"\xf6\xc4\x02"  # testb $(IF >> 8), %ah
        + fs
        + b"\x0f\x94\x05"
        + at(mask)  # setz %fs:mask
        + test_pending
        + check_events,
    }


def domain_frames(frames: int) -> list[int]:
    """The machine frame behind each guest frame: a fixed scatter over a power of 2 frames."""
    if frames & (frames - 1):
        raise ValueError(f"the domain's frames must be a power of 2, not {frames}")
    return [(pfn * 0x9E37 + 0x1234) % frames for pfn in range(frames)]


class XenHooks(Backend):
    """Xen PV guest: hypercalls, multicalls in lazy mode, machine frames in page tables."""

    PLATFORM = Platform.DEPRIVILEGED

    pv_info_kernel_rpl = 1
    pv_info_shared_kernel_pmd = 0
    pv_info_paravirt_enabled = 1
    pv_info_name = "Xen"

    def __init__(self, machine: Machine, types: GuestTypes, patch_ids: Mapping[str, int]) -> None:
        super().__init__(machine, types, patch_ids)
        self._gate = HypervisorGate(
            machine,
            entry=(Cost.XEN_HYPERCALL,),
            per_request=Cost.XEN_MULTICALL_ENTRY,
            batch_limit=MULTICALL_BATCH,
        )
        machine.install_p2m(domain_frames(machine.ram_frames))
        self._shared_page = machine.ram_frames << PAGE_SHIFT  # outside the domain's RAM
        machine.use_virtual_interrupt_flag(self._shared_page + VCPU_MASK_OFFSET)
        # int $0x80 through the direct trap gate; sysenter stands for it (SEP cleared).
        machine.route_transfer(Cost.SOFTWARE_INTERRUPT, Cost.SOFTWARE_INTERRUPT)
        machine.route_transfer(Cost.SYSENTER, Cost.SOFTWARE_INTERRUPT)
        self._direct = _direct_sequences(
            self._shared_page + VCPU_MASK_OFFSET, self._shared_page + VCPU_PENDING_OFFSET
        )
        self._cr3: dict[int, int] = {}  # per vCPU: what the guest last loaded
        self.smp_cpu_up = self._start_vcpu
        self.smp_send_reschedule = self._send_reschedule
        self._pinned_spaces: set[int] = set()  # mm_struct addresses
        self._pinned_tables: set[int] = set()  # guest frames of pinned page-table pages

    # ---- helpers ------------------------------------------------------------------------

    def _shared(self) -> Machine:
        """An access to the shared page (a cached load or store)."""
        self.machine.charge(Cost.SHARED_MEMORY)
        return self.machine

    def _to_machine(self, value: int) -> int:
        self.machine.charge(Cost.FRAME_LOOKUP)
        if not value & PTE_PRESENT:
            return value
        frame = self.machine.machine_frame((value & FRAME_MASK) >> PAGE_SHIFT)
        return (value & ~FRAME_MASK) | frame << PAGE_SHIFT

    def _to_guest(self, value: int) -> int:
        self.machine.charge(Cost.FRAME_LOOKUP)
        if not value & PTE_PRESENT:
            return value
        frame = self.machine.guest_frame((value & FRAME_MASK) >> PAGE_SHIFT)
        return (value & ~FRAME_MASK) | frame << PAGE_SHIFT

    def _mmu_update(self, entry: int, value: int) -> None:
        """Queue or send one validated page-table write (entry: guest-physical address)."""
        self.machine.charge(Cost.FRAME_LOOKUP)
        maddr = self.machine.machine_address(entry)

        def update() -> None:
            self.machine.charge(Cost.XEN_VALIDATE_ENTRY)
            self.machine.write_page_table_machine(maddr, value)

        self._gate.submit("mmu_update", update)

    def _update_descriptor(self, slot: int, value: int) -> None:
        self.machine.charge(Cost.FRAME_LOOKUP)
        self._gate.submit("update_descriptor", lambda: self.machine.write_descriptor(slot, value))

    def _unmask_events(self) -> None:
        self.machine.mask_virtual_interrupts(False)
        if self._shared().deliverable() is not None:
            self._gate.call("evtchn_upcall", self.machine.poll)

    def _table_pages(self, pgd: int, slots: range = USER_PGD_SLOTS) -> list[int]:
        """Guest frames of the page-table pages under `slots` of `pgd`, the pgd included."""
        m = self.machine
        pages = [pgd >> PAGE_SHIFT]
        for slot in slots:
            pgd_entry = m.load(pgd + 8 * slot)
            if not pgd_entry & PTE_PRESENT:
                continue
            pmd = m.guest_frame((pgd_entry & FRAME_MASK) >> PAGE_SHIFT)
            pages.append(pmd)
            for index in range(512):
                pmd_entry = m.load((pmd << PAGE_SHIFT) + 8 * index)
                if pmd_entry & PTE_PRESENT:
                    pages.append(m.guest_frame((pmd_entry & FRAME_MASK) >> PAGE_SHIFT))
        return pages

    def _pin(self, pgd: int, slots: range = USER_PGD_SLOTS) -> None:
        def validate() -> None:
            pages = self._table_pages(pgd, slots)
            self.machine.charge(Cost.XEN_PIN_PAGE, len(pages))
            self._pinned_tables.update(pages)

        self._gate.call("mmuext_op:pin_table", validate)

    def _unpin(self, pgd: int) -> None:
        self._gate.call(
            "mmuext_op:unpin_table",
            lambda: self._pinned_tables.difference_update(self._table_pages(pgd)),
        )

    def _pin_space(self, mm: int) -> None:
        if mm not in self._pinned_spaces:
            self._pinned_spaces.add(mm)
            self._pin(self._mm_pgd(mm))

    def _pin_table_page(self, mm: int, pfn: int, level: str) -> None:
        if mm in self._pinned_spaces:
            self._pinned_tables.add(pfn)
            self._gate.submit(
                f"mmuext_op:pin_{level}", lambda: self.machine.charge(Cost.XEN_PIN_PAGE)
            )

    def _release_table_page(self, pfn: int, level: str) -> None:
        if pfn in self._pinned_tables:
            self._pinned_tables.discard(pfn)
            self._gate.submit(f"mmuext_op:unpin_{level}", lambda: None)

    def _open_batch(self, mode: LazyMode) -> None:
        self._enter_lazy(mode)
        self._gate.open_batch()

    def _close_batch(self, mode: LazyMode) -> None:
        self._gate.close_batch()
        self._leave_lazy(mode)

    def _call(self, request: str, action: Callable[[], object]) -> None:
        self._gate.call(request, action)

    # ---- pv_init_ops ------------------------------------------------------------------

    def pv_init_ops_patch(self, type: int, clobber: int, insnbuf: int, addr: int, len: int) -> int:
        code = self._direct.get(self._hook_path(type))
        if code is not None and self._fits(code, len):
            return self._patch_insns(insnbuf, len, code)
        return self._patch_default(type, clobber, insnbuf, addr, len)

    def pv_init_ops_arch_setup(self) -> None:
        self._call("set_callbacks", lambda: None)
        self._call("vm_assist", lambda: None)

    def pv_init_ops_memory_setup(self) -> str:
        self._write_memory_map([(0, self._shared().ram_frames)])  # start_info's nr_pages
        return "Xen"

    def pv_init_ops_post_allocator_init(self) -> None:
        return None  # 2.6.26 switches to its pinned-page-aware set_pte here

    def pv_init_ops_banner(self) -> None:
        self._call("xen_version", lambda: None)

    # ---- pv_time_ops ------------------------------------------------------------------

    def pv_time_ops_time_init(self) -> None:
        self._call("vcpu_op:register_time_area", lambda: None)

    def pv_time_ops_get_wallclock(self) -> int:
        self.machine.charge(Cost.SHARED_MEMORY, 3)  # shared_info's wc_sec, wc_nsec, version
        self.machine.charge(Cost.PVCLOCK_READ)
        return self.machine.wallclock()

    def pv_time_ops_set_wallclock(self, nowtime: int) -> int:
        self._call("platform_op:settime", lambda: self.machine.set_wallclock(nowtime))
        return 0

    def pv_time_ops_sched_clock(self) -> int:
        self.machine.charge(Cost.PVCLOCK_READ)  # vcpu_time_info, scaled TSC
        return self.machine.nanoseconds()

    def pv_time_ops_get_cpu_khz(self) -> int:
        return self._shared().cpu_khz

    # ---- pv_cpu_ops ---------------------------------------------------------------------

    def pv_cpu_ops_get_debugreg(self, regno: int) -> int:
        return self._gate.call("get_debugreg", lambda: self.machine.debug[regno])

    def pv_cpu_ops_set_debugreg(self, regno: int, value: int) -> None:
        self._call("set_debugreg", lambda: self.machine.write_dr(regno, value))

    def pv_cpu_ops_clts(self) -> None:
        self._call("fpu_taskswitch", self.machine.clts)

    def pv_cpu_ops_read_cr0(self) -> int:
        return self._emulated(self.machine.read_cr0)

    def pv_cpu_ops_write_cr0(self, val: int) -> None:
        self._call("fpu_taskswitch", lambda: self.machine.write_cr0(val))

    def pv_cpu_ops_read_cr4_safe(self) -> int:
        return self._emulated(self.machine.read_cr4)

    def pv_cpu_ops_read_cr4(self) -> int:
        return self._emulated(self.machine.read_cr4)

    def pv_cpu_ops_write_cr4(self, val: int) -> None:
        self._emulated(lambda: self.machine.write_cr4(val))

    def pv_cpu_ops_load_tr_desc(self) -> None:
        self._call("mmuext_op:load_tr", lambda: self.machine.ltr(k.TSS_SELECTOR))

    def pv_cpu_ops_load_gdt(self, dtr: int) -> None:
        table = self._read_dtr(dtr)
        self._call("set_gdt", lambda: self.machine.lgdt(*table))

    def pv_cpu_ops_load_idt(self, dtr: int) -> None:
        table = self._read_dtr(dtr)
        self._call("set_trap_table", lambda: self.machine.lidt(*table))

    def pv_cpu_ops_store_gdt(self, dtr: int) -> None:
        self._write_dtr(dtr, self._shared().gdtr)

    def pv_cpu_ops_store_idt(self, dtr: int) -> None:
        self._write_dtr(dtr, self._shared().idtr)

    def pv_cpu_ops_set_ldt(self, desc: int, entries: int) -> None:
        self._gate.submit("mmuext_op:set_ldt", lambda: self.machine.lldt(desc, entries))

    def pv_cpu_ops_store_tr(self) -> int:
        return self._shared().tr

    def pv_cpu_ops_load_tls(self, t: int, cpu: int) -> None:
        for i, descriptor in enumerate(self._tls_descriptors(t)):
            self._update_descriptor(self._tls_slot(k.gdt_address(cpu), i), descriptor)

    def pv_cpu_ops_write_ldt_entry(self, ldt: int, entrynum: int, desc: int) -> None:
        self._update_descriptor(ldt + 8 * entrynum, self.machine.load(desc))

    def pv_cpu_ops_write_gdt_entry(self, gdt: int, entrynum: int, desc: int, size: int) -> None:
        self._update_descriptor(gdt + 8 * entrynum, self.machine.load(desc))

    def pv_cpu_ops_write_idt_entry(self, idt: int, entrynum: int, gate: int) -> None:
        # The guest's own IDT is ordinary memory; Xen learns the gate from the trap table.
        self.machine.store(idt + 8 * entrynum, self.machine.load(gate))
        if self.machine.idtr[0] == idt:
            self._call("set_trap_table", lambda: None)

    def pv_cpu_ops_load_sp0(self, tss: int, t: int) -> None:
        sp0 = self._thread_sp0(t)
        self.machine.store(tss + k.TSS_SP0, sp0)
        self._gate.submit("stack_switch", lambda: None)

    def pv_cpu_ops_set_iopl_mask(self, mask: int) -> None:
        self._call("physdev_op:set_iopl", lambda: self.machine.set_iopl(mask >> 12))

    def pv_cpu_ops_wbinvd(self) -> None:
        self._call("mmuext_op:flush_cache", self.machine.wbinvd)

    def pv_cpu_ops_io_delay(self) -> None:
        return None  # a PV guest has no ISA bus to wait for

    def pv_cpu_ops_cpuid(self, eax: int, ebx: int, ecx: int, edx: int) -> None:
        self._emulated(lambda: self._cpuid(eax, ebx, ecx, edx))  # the forced-emulation prefix

    def pv_cpu_ops_read_msr(self, msr: int, err: int) -> int:
        value = self._emulated(lambda: self.machine.rdmsr(msr))
        self.machine.store(err, 0 if value is not None else 1)
        return value or 0

    def pv_cpu_ops_write_msr(self, msr: int, low: int, high: int) -> int:
        value = high << 32 | low
        if msr in CALLBACK_MSRS:  # Xen owns the sysenter MSRs: register a callback instead
            done = self._gate.call("set_callbacks", lambda: self.machine.wrmsr(msr, value))
        else:
            done = self._emulated(lambda: self.machine.wrmsr(msr, value))
        return 0 if done else 1

    def pv_cpu_ops_read_tsc(self) -> int:
        return self.machine.rdtsc()  # rdtsc does not trap

    def pv_cpu_ops_read_pmc(self, counter: int) -> int:
        return self._emulated(lambda: self.machine.rdpmc(counter))

    def pv_cpu_ops_irq_enable_syscall_ret(self) -> None:
        # xen_sysexit: the frame made an iret frame with IF set, then xen_iret's path.
        machine = self.machine
        machine.execute(Cost.IRET)
        machine.mask_virtual_interrupts(False)  # the store of the event mask
        self._shared().poll()  # the pending test; an event waiting runs its upcall now

    def pv_cpu_ops_iret(self) -> None:
        # xen_iret: mask store from the frame's IF and the pending test, then a native iret.
        self.machine.charge(Cost.SHARED_MEMORY, 2)
        self.machine.iret()

    def pv_cpu_ops_lazy_mode_enter(self) -> None:
        self._open_batch(LazyMode.CPU)

    def pv_cpu_ops_lazy_mode_leave(self) -> None:
        self._close_batch(LazyMode.CPU)

    # ---- pv_irq_ops ---------------------------------------------------------------------

    def pv_irq_ops_init_IRQ(self) -> None:
        self._call(
            "event_channel_op:bind_virq",
            lambda: self.machine.apic_register_write(lapic.SVR, 0x100 | k.SPURIOUS_VECTOR),
        )

    def pv_irq_ops_save_fl(self) -> int:
        return EFLAGS_IF if self._shared().interrupts_enabled() else 0

    def pv_irq_ops_restore_fl(self, flags: int) -> None:
        if flags & EFLAGS_IF:
            self._unmask_events()
        else:
            self.machine.mask_virtual_interrupts(True)

    def pv_irq_ops_irq_disable(self) -> None:
        self.machine.mask_virtual_interrupts(True)

    def pv_irq_ops_irq_enable(self) -> None:
        self._unmask_events()

    def pv_irq_ops_safe_halt(self) -> None:
        self._call("sched_op:block", self.machine.enable_and_halt)  # blocking unmasks events

    def pv_irq_ops_halt(self) -> None:
        self._call("sched_op:block", self.machine.hlt)

    # ---- pv_apic_ops --------------------------------------------------------------------

    def pv_apic_ops_apic_write(self, reg: int, v: int) -> None:
        if reg == lapic.EOI:
            self._shared().apic_register_write(reg, v)  # clear the event's pending bit
        else:  # xen_apic_write: WARN_ON(1), and nothing else
            self.machine.meter.count(f"{WARNING}:apic_write")

    def pv_apic_ops_apic_write_atomic(self, reg: int, v: int) -> None:
        self.pv_apic_ops_apic_write(reg, v)

    def pv_apic_ops_apic_read(self, reg: int) -> int:
        return self._shared().apic_register(reg)

    def pv_apic_ops_setup_boot_clock(self) -> None:
        self._call(
            "vcpu_op:set_periodic_timer",
            lambda: self._program_local_timer(self.machine.apic_register_write),
        )

    def pv_apic_ops_setup_secondary_clock(self) -> None:
        self.pv_apic_ops_setup_boot_clock()

    @paravirt_nop
    def pv_apic_ops_startup_ipi_hook(
        self, phys_apicid: int, start_eip: int, start_esp: int
    ) -> None:
        return None  # Xen starts vCPUs with VCPUOP_initialise, not with IPIs

    # ---- pv_mmu_ops ---------------------------------------------------------------------

    def pv_mmu_ops_pagetable_setup_start(self, pgd_base: int) -> None:
        return None

    def pv_mmu_ops_pagetable_setup_done(self, pgd_base: int) -> None:
        self._pin(pgd_base, ALL_PGD_SLOTS)

    def pv_mmu_ops_read_cr2(self) -> int:
        return self._shared().cr2  # Xen saves it in vcpu_info on every page fault

    def pv_mmu_ops_write_cr2(self, val: int) -> None:
        self._shared().cr2 = val

    def pv_mmu_ops_read_cr3(self) -> int:
        self.machine.charge(Cost.SHARED_MEMORY)
        return self._cr3.get(self.machine.current, 0)

    def pv_mmu_ops_write_cr3(self, val: int) -> None:
        self._cr3[self.machine.current] = val
        self.machine.charge(Cost.FRAME_LOOKUP)
        base = self.machine.machine_address(val)
        self._gate.submit("mmuext_op:new_baseptr", lambda: self.machine.write_cr3(base))

    def pv_mmu_ops_activate_mm(self, prev: int, next: int) -> None:
        self._pin_space(next)

    def pv_mmu_ops_dup_mmap(self, oldmm: int, mm: int) -> None:
        self._pin_space(mm)

    def pv_mmu_ops_exit_mmap(self, mm: int) -> None:
        if mm in self._pinned_spaces:
            self._pinned_spaces.discard(mm)
            self._unpin(self._mm_pgd(mm))

    def pv_mmu_ops_flush_tlb_user(self) -> None:
        self._gate.submit(
            "mmuext_op:tlb_flush_local", lambda: self.machine.flush_tlb(keep_global=True)
        )

    def pv_mmu_ops_flush_tlb_kernel(self) -> None:
        self._call("mmuext_op:tlb_flush_all", lambda: self.machine.flush_tlb(keep_global=False))

    def pv_mmu_ops_flush_tlb_single(self, addr: int) -> None:
        self._gate.submit("mmuext_op:invlpg_local", lambda: self.machine.invlpg(addr))

    def pv_mmu_ops_flush_tlb_others(self, cpus: int, mm: int, va: int) -> None:
        # One multicast mmuext_op: Xen flushes the other vCPUs' TLBs itself, no IPI.
        m = self.machine
        mask = m.load(cpus)
        targets = [cpu for cpu in range(len(m.cpus)) if mask >> cpu & 1]

        def flush(cpu: int) -> None:
            if va == k.FLUSH_ALL:
                m.run_on(cpu, lambda: m.flush_tlb(keep_global=True))
            else:
                m.run_on(cpu, lambda: m.invlpg(va))

        def flush_all() -> None:
            for cpu in targets:
                flush(cpu)

        request = "tlb_flush_multi" if va == k.FLUSH_ALL else "invlpg_multi"
        self._call(f"mmuext_op:{request}", flush_all)

    def _send_reschedule(self, cpu: int) -> None:
        """xen_smp_send_reschedule (arch/x86/xen/smp.c): xen_send_IPI_one on the CPU's
        reschedule event channel, one EVTCHNOP_send; Xen makes the event pending there."""
        self._call(
            "event_channel_op:send",
            lambda: self.machine.send_interrupt(cpu, k.RESCHEDULE_VECTOR),
        )

    def _start_vcpu(self, cpu: int, start_eip: int, start_esp: int) -> None:
        """xen_cpu_up: VCPUOP_initialise with the new vCPU's context, then VCPUOP_up."""
        self._call("vcpu_op:initialise", lambda: None)
        self._call("vcpu_op:up", lambda: self.machine.start_cpu(cpu))

    def pv_mmu_ops_alloc_pte(self, mm: int, pfn: int) -> None:
        self._pin_table_page(mm, pfn, "l1")

    def pv_mmu_ops_alloc_pmd(self, mm: int, pfn: int) -> None:
        self._pin_table_page(mm, pfn, "l2")

    @paravirt_nop
    def pv_mmu_ops_alloc_pmd_clone(self, pfn: int, clonepfn: int, start: int, count: int) -> None:
        return None  # the new pgd is validated when its address space is pinned

    def pv_mmu_ops_release_pte(self, pfn: int) -> None:
        self._release_table_page(pfn, "l1")

    def pv_mmu_ops_release_pmd(self, pfn: int) -> None:
        self._release_table_page(pfn, "l2")

    def pv_mmu_ops_set_pte(self, ptep: int, pteval: PteValue) -> None:
        self._mmu_update(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_at(self, mm: int, addr: int, ptep: int, pteval: PteValue) -> None:
        self._mmu_update(ptep, pteval.pte)

    def pv_mmu_ops_set_pmd(self, pmdp: int, pmdval: PmdValue) -> None:
        self._mmu_update(pmdp, pmdval.pmd)

    @paravirt_nop
    def pv_mmu_ops_pte_update(self, mm: int, addr: int, ptep: int) -> None:
        return None  # the in-place write already trapped and was validated

    @paravirt_nop
    def pv_mmu_ops_pte_update_defer(self, mm: int, addr: int, ptep: int) -> None:
        return None

    def pv_mmu_ops_pte_val(self, pte: PteValue) -> int:
        return self._to_guest(pte.pte)

    def pv_mmu_ops_make_pte(self, pte: int) -> PteValue:
        return self.types.pte(self._to_machine(pte))

    def pv_mmu_ops_pgd_val(self, pgd: PgdValue) -> int:
        return self._to_guest(pgd.pgd)

    def pv_mmu_ops_make_pgd(self, pgd: int) -> PgdValue:
        return self.types.pgd(self._to_machine(pgd))

    def pv_mmu_ops_set_pte_atomic(self, ptep: int, pteval: PteValue) -> None:
        self._mmu_update(ptep, pteval.pte)

    def pv_mmu_ops_set_pte_present(self, mm: int, addr: int, ptep: int, pte: PteValue) -> None:
        self._mmu_update(ptep, pte.pte)

    def pv_mmu_ops_pte_clear(self, mm: int, addr: int, ptep: int) -> None:
        self._mmu_update(ptep, 0)

    def pv_mmu_ops_pmd_clear(self, pmdp: int) -> None:
        self._mmu_update(pmdp, 0)

    def pv_mmu_ops_set_pud(self, pudp: int, pudval: PudValue) -> None:
        self._mmu_update(pudp, pudval.pgd.pgd)

    def pv_mmu_ops_pmd_val(self, pmd: PmdValue) -> int:
        return self._to_guest(pmd.pmd)

    def pv_mmu_ops_make_pmd(self, pmd: int) -> PmdValue:
        return self.types.pmd(self._to_machine(pmd))

    def pv_mmu_ops_kmap_atomic_pte(self, page: int, type: int) -> int:
        """xen_kmap_atomic_pte (arch/x86/xen/enlighten.c): the kernel's kmap_atomic_prot,
        read-only if the page-table page is pinned; its fixmap entry goes through Xen's
        set_pte, pte_clear and flush_tlb_single. (The protection is not modelled: the
        entry is cleared before anything else runs.)"""
        return self._kernel_kmap_atomic(page, type)

    def pv_mmu_ops_lazy_mode_enter(self) -> None:
        self._open_batch(LazyMode.MMU)

    def pv_mmu_ops_lazy_mode_leave(self) -> None:
        self._close_batch(LazyMode.MMU)
