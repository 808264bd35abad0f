"""Each backend takes the route its Linux 2.6.26 code takes (the file and function are named
in each backend's docstring): Xen's native iret and direct int $0x80, lguest's plain
page-table stores and async hypercall ring, KVM's immediate release_pt and 512-byte MMU
buffers; the timekeeping workload reads the wall clock where the kernel does; the kbuild
workload spends the kernel's share of a build in the kernel."""

from __future__ import annotations

import pytest

from pvgen.guest import WORKLOADS, runnable, simulate
from pvgen.guest import apic as lapic
from pvgen.guest.backends import install
from pvgen.guest.backends.base import Backend
from pvgen.guest.backends.kvm import MMU_OP_BUFFER, WRITE_PTE_BYTES, KvmHooks
from pvgen.guest.backends.lguest import LHCALL_RING_SIZE, LguestHooks
from pvgen.guest.backends.xen import XenHooks
from pvgen.guest.bindings import Bindings, load_bindings
from pvgen.guest.costs import CYCLES, VTX_EXIT_HANDLING, Cost
from pvgen.guest.machine import Machine
from pvgen.guest.meter import BATCHED, HYPERCALL, TRAP, VM_EXIT, WARNING
from pvgen.guest.workloads import Kbuild
from pvgen.guest.x86 import MSR_SYSENTER_EIP

PAGE_TABLE = 0x40_0000  # a guest-physical page the tests use as a page table


@pytest.fixture(scope="module")
def bindings() -> Bindings:
    return load_bindings()


def backend_on_machine(bindings: Bindings, name: str, target: str) -> Backend:
    cls = {"xen": XenHooks, "lguest": LguestHooks, "kvm": KvmHooks}[name]
    backend, _ = install(bindings, name, Machine(cls.PLATFORM), target)
    return backend


def hypercalls(backend: Backend) -> int:
    return backend.machine.meter.events.get(HYPERCALL, 0)


# ---- Xen ------------------------------------------------------------------------------------


def test_xen_system_calls_never_enter_the_hypervisor() -> None:
    # Whatever enters Xen in a null-syscall run is the setting up of its process: twice the
    # calls, the same transitions.
    short = simulate("xen", "null-syscall", size=10, seed=1).run
    long = simulate("xen", "null-syscall", size=20, seed=1).run
    assert long.hook_calls["pv_cpu_ops.irq_enable_syscall_ret"] == 2 * 10 * 10
    assert long.event(HYPERCALL) == short.event(HYPERCALL)
    syscall_traps = [e for e in long.events if e in (f"{TRAP}:sysenter", f"{TRAP}:int $0x80")]
    assert not syscall_traps
    assert f"{HYPERCALL}:iret" not in long.events


def test_xen_returns_from_interrupts_and_slow_system_calls_with_a_native_iret() -> None:
    result = simulate("xen", "syscalls", size=60, seed=2)
    assert result.run.hook_calls["pv_cpu_ops.iret"] > 10
    assert f"{HYPERCALL}:iret" not in result.run.events
    assert f"{TRAP}:int $0x80" not in result.run.events


def test_a_xen_null_system_call_costs_native_plus_the_int80_route() -> None:
    # What is left is int $0x80 and iret instead of sysenter and sysexit on the same CPU,
    # and the event-mask stores: no hypervisor on the way.
    native = simulate("native", "null-syscall", size=20, seed=3).run
    xen = simulate("xen", "null-syscall", size=20, seed=3).run
    calls = native.hook_calls["pv_cpu_ops.irq_enable_syscall_ret"]
    route = (
        CYCLES[Cost.SOFTWARE_INTERRUPT]
        + CYCLES[Cost.IRET]
        - CYCLES[Cost.SYSENTER]
        - CYCLES[Cost.SYSEXIT]
        + 8 * CYCLES[Cost.SHARED_MEMORY]
    )
    setup_and_interrupts = 40_000
    assert xen.cycles - native.cycles < calls * route + setup_and_interrupts
    assert xen.cycles / native.cycles < 1.5


def test_xen_apic_write_is_a_warning_not_a_path(bindings: Bindings) -> None:
    xen = backend_on_machine(bindings, "xen", "i386_pae")
    before = xen.machine.apic_register(lapic.TIMER_INITIAL)
    xen.pv_apic_ops_apic_write(lapic.TIMER_INITIAL, 12345)  # type: ignore[attr-defined]
    events = xen.machine.meter.events
    assert events[f"{WARNING}:apic_write"] == 1
    assert hypercalls(xen) == 0 and not events.get(TRAP)
    assert xen.machine.apic_register(lapic.TIMER_INITIAL) == before  # dropped
    xen.pv_apic_ops_apic_write(lapic.EOI, 0)  # type: ignore[attr-defined]
    assert events[f"{WARNING}:apic_write"] == 1  # the guest's EOI clears the event instead


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_no_workload_reaches_xens_apic_write_warning(workload: str) -> None:
    result = simulate("xen", workload, size=30, seed=0)
    assert f"{WARNING}:apic_write" not in result.run.events
    assert f"{WARNING}:apic_write" not in result.boot.events


# ---- lguest ---------------------------------------------------------------------------------


def test_lguest_runs_only_where_linux_builds_it(bindings: Bindings) -> None:
    assert bindings.runs_on["lguest"] == ("i386",)  # arch/x86/lguest/Kconfig: !X86_PAE
    assert "lguest" not in runnable()


def test_lguest_page_table_writes_are_plain_stores(bindings: Bindings) -> None:
    lguest = backend_on_machine(bindings, "lguest", "i386")
    pte = bindings.types.pte(0x1234_5067)
    lguest.pv_mmu_ops_set_pte_at(0, 0x1000, PAGE_TABLE, pte)  # type: ignore[attr-defined]
    assert lguest.machine.load(PAGE_TABLE) == 0x1234_5067  # in the guest's own table
    assert not lguest.machine.meter.events.get(TRAP)
    assert hypercalls(lguest) == 1  # LHCALL_SET_PTE, outside a lazy bracket
    lguest.pv_mmu_ops_set_pmd(PAGE_TABLE + 8, bindings.types.pmd(0x5001))  # type: ignore
    assert lguest.machine.load(PAGE_TABLE + 8) == 0x5001
    assert not lguest.machine.meter.events.get(TRAP)


def test_lguest_batches_deferred_hypercalls_in_its_ring(bindings: Bindings) -> None:
    lguest = backend_on_machine(bindings, "lguest", "i386")
    lguest.pv_mmu_ops_lazy_mode_enter()  # type: ignore[attr-defined]
    for i in range(10):
        pte = bindings.types.pte(0x1000 * i | 0x67)
        lguest.pv_mmu_ops_set_pte_at(0, 0x1000 * i, PAGE_TABLE + 8 * i, pte)  # type: ignore
        assert lguest.machine.load(PAGE_TABLE + 8 * i) == 0x1000 * i | 0x67  # stored at once
    assert hypercalls(lguest) == 0  # stored in lguest_data.hcalls
    lguest.pv_mmu_ops_lazy_mode_leave()  # type: ignore[attr-defined]
    events = lguest.machine.meter.events
    assert hypercalls(lguest) == 1 and events[f"{HYPERCALL}:flush_async"] == 1
    assert events[BATCHED] == 10 and events[f"{HYPERCALL}:set_pte"] == 10


def test_a_full_lguest_ring_makes_the_call_a_real_one(bindings: Bindings) -> None:
    lguest = backend_on_machine(bindings, "lguest", "i386")
    lguest.pv_mmu_ops_lazy_mode_enter()  # type: ignore[attr-defined]
    for i in range(LHCALL_RING_SIZE + 6):
        pte = bindings.types.pte(0x67)
        lguest.pv_mmu_ops_set_pte_at(0, 0, PAGE_TABLE + 8 * (i % 512), pte)  # type: ignore
    assert hypercalls(lguest) == 1  # the 65th call ran the 64 stored ones
    lguest.pv_mmu_ops_lazy_mode_leave()  # type: ignore[attr-defined]
    assert hypercalls(lguest) == 2
    assert lguest.machine.meter.events[f"{HYPERCALL}:set_pte"] == LHCALL_RING_SIZE + 6


def test_leaving_an_lguest_lazy_bracket_always_makes_a_hypercall(bindings: Bindings) -> None:
    lguest = backend_on_machine(bindings, "lguest", "i386")
    lguest.pv_cpu_ops_lazy_mode_enter()  # type: ignore[attr-defined]
    lguest.pv_cpu_ops_lazy_mode_leave()  # type: ignore[attr-defined]
    assert hypercalls(lguest) == 1  # lguest_leave_lazy_mode: LHCALL_FLUSH_ASYNC


def test_lguest_system_calls_take_int80_and_iret_without_a_trap(bindings: Bindings) -> None:
    # lguest_cpuid hides SEP: the fast path is really int $0x80 through the direct gate and
    # lguest_iret's native iret.
    machine = backend_on_machine(bindings, "lguest", "i386").machine
    machine.msrs[MSR_SYSENTER_EIP] = 0x1000
    machine.sysenter()
    assert machine.meter.cycles == CYCLES[Cost.SOFTWARE_INTERRUPT]
    machine.sysexit()
    assert machine.meter.cycles == CYCLES[Cost.SOFTWARE_INTERRUPT] + CYCLES[Cost.IRET]
    assert not machine.meter.events.get(TRAP)
    native = Machine(XenHooks.PLATFORM)  # deprivileged without a route: sysenter traps
    native.msrs[MSR_SYSENTER_EIP] = 0x1000
    native.sysenter()
    assert native.meter.events[TRAP] == 1


# ---- KVM ------------------------------------------------------------------------------------


def test_kvm_releases_a_page_table_at_once_past_the_queue(bindings: Bindings) -> None:
    kvm = backend_on_machine(bindings, "kvm", "i386_pae")
    kvm.pv_mmu_ops_lazy_mode_enter()  # type: ignore[attr-defined]
    for i in range(3):
        kvm.pv_mmu_ops_set_pte(PAGE_TABLE + 8 * i, bindings.types.pte(0x67))  # type: ignore
    assert hypercalls(kvm) == 0
    kvm.pv_mmu_ops_release_pte(0x400)  # type: ignore[attr-defined]
    events = kvm.machine.meter.events
    assert hypercalls(kvm) == 1 and events[f"{HYPERCALL}:mmu_op:release_pt"] == 1
    assert f"{HYPERCALL}:mmu_op:write_pte" not in events  # still queued
    kvm.pv_mmu_ops_lazy_mode_leave()  # type: ignore[attr-defined]
    assert hypercalls(kvm) == 2 and events[f"{HYPERCALL}:mmu_op:write_pte"] == 3


@pytest.mark.parametrize(
    ("writes", "vmcalls"),
    [
        (1, 1),
        (MMU_OP_BUFFER // WRITE_PTE_BYTES, 1),  # 21 writes: 504 bytes in one call
        (MMU_OP_BUFFER // WRITE_PTE_BYTES + 1, 2),
        (42, 2),  # 1,008 bytes: the queue holds them, two calls of 504
        (43, 3),  # the 43rd does not fit the 1,024-byte queue: 42 sent, then 1
    ],
)
def test_kvm_sends_at_most_512_bytes_of_mmu_operations_per_vmcall(
    bindings: Bindings, writes: int, vmcalls: int
) -> None:
    kvm = backend_on_machine(bindings, "kvm", "i386_pae")
    kvm.pv_mmu_ops_lazy_mode_enter()  # type: ignore[attr-defined]
    for i in range(writes):
        kvm.pv_mmu_ops_set_pte(PAGE_TABLE + 8 * i, bindings.types.pte(i << 12 | 0x67))  # type: ignore
    kvm.pv_mmu_ops_lazy_mode_leave()  # type: ignore[attr-defined]
    events = kvm.machine.meter.events
    assert hypercalls(kvm) == events[VM_EXIT] == vmcalls
    assert events[f"{HYPERCALL}:mmu_op:write_pte"] == writes
    assert [kvm.machine.load(PAGE_TABLE + 8 * i) for i in range(writes)] == [
        i << 12 | 0x67 for i in range(writes)
    ]


# ---- timekeeping ----------------------------------------------------------------------------


def test_the_wall_clock_is_read_at_boot_and_suspend_only() -> None:
    result = simulate("native", "timekeeping", size=100, seed=0)
    for hook in ("pv_time_ops.get_wallclock", "pv_time_ops.set_wallclock"):
        assert result.run.hook_calls.get(hook, 0) == 0, hook  # not on the measured path
    assert result.boot.hook_calls["pv_time_ops.get_wallclock"] == 1  # timekeeping_init
    labels = [label for label, _ in result.readings]
    assert {"suspend wallclock", "resume wallclock", "rtc sync"} <= set(labels)
    assert result.run.hook_calls["pv_time_ops.sched_clock"] > 20
    assert result.run.hook_calls["pv_cpu_ops.read_tsc"] > 20  # the clocksource


def test_paravirtual_clocks_do_not_beat_native_time() -> None:
    native = simulate("native", "timekeeping", size=100, seed=0).run.cycles
    for backend in runnable()[1:]:
        assert simulate(backend, "timekeeping", size=100, seed=0).run.cycles >= native, backend


# ---- kbuild ---------------------------------------------------------------------------------


def test_a_build_spends_the_kernels_share_of_time_in_the_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user: list[int] = []

    def compile(self: Kbuild) -> None:
        cycles = self.guest.rng.randrange(*Kbuild.USER_WORK)
        user.append(cycles)
        self.guest.kernel.work(cycles)

    monkeypatch.setattr(Kbuild, "compile", compile)
    run = simulate("native", "kbuild", size=100, seed=0).run
    share = 1 - sum(user) / run.cycles
    assert 0.05 <= share <= 0.10, share  # Barham et al., SOSP 2003, 4.1: about 7% in the OS


# ---- docs/sim.md ----------------------------------------------------------------------------


def test_docs_sim_md_lists_every_cost_with_its_value() -> None:
    from conftest import ROOT

    text = (ROOT / "docs" / "sim.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[1].replace(",", "").isdigit():
            rows.setdefault(cells[0].strip("`"), []).append(int(cells[1].replace(",", "")))
    for cost in Cost:
        assert rows.get(cost.name, [None])[0] == CYCLES[cost], cost.name
    for cost, cycles in VTX_EXIT_HANDLING.items():
        assert rows[cost.name][-1] == cycles, cost.name
    for name, values in rows.items():
        assert name in Cost.__members__, name
        assert len(values) == (2 if Cost[name] in VTX_EXIT_HANDLING else 1), name
