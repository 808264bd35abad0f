"""The three targets of the spec: 2-level i386 (where lguest runs), PAE, and x86_64 with
4-level paging, syscall/sysret, swapgs and the 64-bit patch set. On each, every backend the
spec allows there leaves the same guest-visible state, and the comparison still catches a
broken hook and a clobbered register."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import run_cli

from pvgen.guest import WORKLOADS, runnable, simulate
from pvgen.guest.backends import BackendMismatch
from pvgen.guest.backends.kvm import KvmHooks
from pvgen.guest.backends.lguest import LguestHooks
from pvgen.guest.callsites import SiteKind
from pvgen.guest.machine import EBX, ESI
from pvgen.guest.meter import HYPERCALL, TRAP
from pvgen.guest.sim import prepare, targets_of
from pvgen.guest.targets import TARGETS
from pvgen.guest.x86 import PTE_USER

SIZE = 40


def test_each_target_runs_the_backends_its_spec_allows() -> None:
    assert runnable(target="i386") == ("native", "vmi", "lguest", "kvm")
    assert runnable(target="i386_pae") == ("native", "xen", "vmi", "kvm")
    assert runnable(target="x86_64") == ("native", "kvm")  # VMI, Xen and lguest: 32-bit
    assert targets_of("lguest") == ("i386",)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_every_backend_of_a_target_leaves_the_same_guest_visible_state(
    target: str, workload: str
) -> None:
    native = simulate("native", workload, size=SIZE, seed=1, target=target)
    assert native.target == target and native.state.page_tables and native.state.readings
    for backend in runnable(target=target)[1:]:
        other = simulate(backend, workload, size=SIZE, seed=1, target=target)
        assert other.state == native.state, (backend, native.state.differences(other.state))
        assert other.readings == native.readings
        assert other.run.cycles != native.run.cycles


@pytest.mark.parametrize(("target", "levels"), [("i386", 2), ("i386_pae", 3), ("x86_64", 4)])
def test_the_page_tables_have_the_targets_levels(target: str, levels: int) -> None:
    result = simulate("native", "fork", size=5, target=target)
    assert {entry[1] for entry in result.state.page_tables} == set(range(1, levels + 1))


def test_i386_entries_are_four_bytes_wide() -> None:
    kernel = prepare("native", target="i386")
    kernel.boot()
    machine = kernel.machine
    pgd = 1 << 12  # swapper_pg_dir
    # the kernel's page table hangs off directory slot 768 (0xC0000000 >> 22), 4 bytes each
    entry = machine.load_entry(pgd + 4 * 768)
    assert entry & 0xFFFF_F000 == 3 << 12 and entry >> 32 == 0
    assert machine.load(pgd + 4 * 768) == entry  # slot 768 is the low half of its word
    assert machine.load_entry(pgd + 4 * 769) == 0


def test_x86_64_maps_the_kernel_in_the_top_2_gb() -> None:
    kernel = prepare("native", target="x86_64")
    kernel.boot()
    assert kernel.target.indices(0xC000_0000) == (511, 511, 0, 0)
    assert kernel.machine.kernel_load(0xC000_0000 + (7 << 12)) == kernel.jiffies()


def test_lguest_boots_on_i386_and_runs_every_workload() -> None:
    for workload in WORKLOADS:
        result = simulate("lguest", workload, size=10, target="i386")
        assert result.environment["name"] == "lguest"
        assert result.run.event(HYPERCALL) > 0
        assert result.handled_by["pv_mmu_ops.set_pte_at"] == "lguest"
    fork = simulate("lguest", "fork", size=10, target="i386")
    assert fork.run.event("hypercall:set_pte") > 0  # the host told of each plain store
    assert not fork.run.event("trap:sysenter")  # SEP hidden: int $0x80 goes straight in


@pytest.mark.parametrize(
    ("backend", "target"),
    [("lguest", "i386_pae"), ("lguest", "x86_64"), ("xen", "i386"), ("xen", "x86_64")]
    + [("vmi", "x86_64")],
)
def test_a_backend_is_refused_on_a_target_it_does_not_run_on(backend: str, target: str) -> None:
    with pytest.raises(BackendMismatch, match=f"'{backend}' does not run on {target}"):
        simulate(backend, "kbuild", size=1, target=target)


def test_sim_refuses_a_backend_off_its_targets_with_exit_2() -> None:
    result = run_cli("sim", "--backend", "vmi", "--target", "x86_64", "--size", "1")
    assert result.status == 2
    assert "backend 'vmi' does not run on x86_64: the spec gives it i386, i386_pae" in result.err
    unknown = run_cli("sim", "--target", "arm", "--size", "1")
    assert unknown.status == 2 and "unknown target 'arm'" in unknown.err


def test_sim_runs_lguest_on_i386() -> None:
    result = run_cli("sim", "--backend", "lguest", "--target", "i386", "--size", "2")
    assert result.status == 0, result.err
    assert "target i386," in result.out


def test_compare_on_every_target_prints_a_table_per_target() -> None:
    result = run_cli("sim", "--compare", "--target", "all", "--size", "2", "--workload", "fork")
    assert result.status == 0, result.err
    for target in TARGETS:
        assert f"target {target}, patching on" in result.out
    assert result.out.count("guest-visible state identical on every backend: yes") == 3
    headers = [line.split()[3:] for line in result.out.splitlines() if line.startswith("workload ")]
    assert ["native", "vmi", "lguest", "kvm"] in headers and ["native", "kvm"] in headers
    as_json = run_cli("sim", "--compare", "--target", "all", "--format", "json", "--size", "1")
    assert as_json.status == 2 and "one target" in as_json.err


# ---- x86_64: 64-bit entry and call sites --------------------------------------------------


def test_x86_64_system_calls_enter_with_syscall_and_swapgs() -> None:
    result = simulate("kvm", "null-syscall", size=5, target="x86_64")
    calls = result.run.hook_calls
    fast = calls["pv_cpu_ops.irq_enable_syscall_ret"]
    assert fast > 0 and calls["pv_cpu_ops.swapgs"] >= fast
    per_cpu = [value for label, value in result.readings if label == "per-cpu data"]
    assert per_cpu and set(per_cpu) == {0xC000_0000 + (6 << 12)}  # the GS base after swapgs
    assert not result.run.event("vm exit:syscall") and not result.run.event("vm exit:swapgs")


def test_x86_64_call_sites_are_64_bit_encodings_patched_with_the_64_bit_set() -> None:
    unpatched = simulate("native", "null-syscall", size=2, target="x86_64", patching=False)
    swapgs = unpatched.sites["pv_cpu_ops.swapgs"]
    assert swapgs.code.startswith("ff1425") and len(swapgs.code) == 14  # call *abs32
    assert unpatched.sites["pv_irq_ops.save_fl"].code.startswith("57ff1425")  # push %rdi
    assert unpatched.sites["pv_irq_ops.save_fl"].code.endswith("5f")
    patched = simulate("native", "null-syscall", size=2, target="x86_64")
    inline = {
        "pv_cpu_ops.swapgs": "0f01f8",
        "pv_irq_ops.restore_fl": "579d",
        "pv_cpu_ops.iret": "48cf",
        "pv_mmu_ops.flush_tlb_single": "0f013f",
    }
    for path, code in inline.items():
        assert (patched.sites[path].kind, patched.sites[path].code) == (SiteKind.INLINE, code)
    # swapgs; sysretq behind a reload of %rsp is longer than the site: left indirect
    assert patched.sites["pv_cpu_ops.irq_enable_syscall_ret"].kind is SiteKind.INDIRECT
    assert patched.state == unpatched.state


# ---- seeded faults ----------------------------------------------------------------------------


def test_a_set_pud_that_drops_a_bit_is_caught_on_x86_64(monkeypatch: pytest.MonkeyPatch) -> None:
    original = KvmHooks.pv_mmu_ops_set_pud

    def lossy(self: Any, pudp: int, pudval: Any) -> None:
        original(self, pudp, self.types.pud(pudval.pud & ~PTE_USER))

    monkeypatch.setattr(KvmHooks, "pv_mmu_ops_set_pud", lossy)
    native = simulate("native", "interrupts", size=5, target="x86_64")
    broken = simulate("kvm", "interrupts", size=5, target="x86_64")
    assert broken.state != native.state
    assert any(line.startswith("page_tables") for line in native.state.differences(broken.state))


def test_an_lguest_set_pmd_that_drops_a_bit_is_caught_on_i386(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = LguestHooks.pv_mmu_ops_set_pmd

    def lossy(self: Any, pmdp: int, pmdval: Any) -> None:
        raw = self._pmd_raw(pmdval) & ~PTE_USER
        original(self, pmdp, self.types.pmd_from_pgd(self.types.pgd(raw)))

    monkeypatch.setattr(LguestHooks, "pv_mmu_ops_set_pmd", lossy)
    native = simulate("native", "interrupts", size=5, target="i386")
    broken = simulate("lguest", "interrupts", size=5, target="i386")
    assert broken.state != native.state


def _leaky_set_pte_at(register: int) -> Any:
    original = KvmHooks.pv_mmu_ops_set_pte_at

    def leaky(self: Any, mm: int, addr: int, ptep: int, pteval: Any) -> None:
        original(self, mm, addr, ptep, pteval)
        self.machine.regs[register] = 0xDEAD_BEEF

    return leaky


def test_a_clobbered_register_at_a_64_bit_call_site_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # %rbx is callee-saved in the 64-bit C convention: no call site lets a hook change it.
    monkeypatch.setattr(KvmHooks, "pv_mmu_ops_set_pte_at", _leaky_set_pte_at(EBX))
    native = simulate("native", "fork", size=5, target="x86_64")
    broken = simulate("kvm", "fork", size=5, target="x86_64")
    assert ("pv_mmu_ops.set_pte_at", "ebx", 0xDEAD_BEEF) in broken.clobbered
    assert broken.state.readings_digest != native.state.readings_digest


def test_rsi_is_the_callers_on_i386_and_the_callees_on_x86_64(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(KvmHooks, "pv_mmu_ops_set_pte_at", _leaky_set_pte_at(ESI))
    assert not simulate("kvm", "fork", size=5, target="x86_64").clobbered
    caught = simulate("kvm", "fork", size=5, target="i386").clobbered
    assert ("pv_mmu_ops.set_pte_at", "esi", 0xDEAD_BEEF) in caught
    assert not simulate("native", "fork", size=5, target="i386").run.event(TRAP)


@pytest.mark.parametrize("target", ["i386", "x86_64"])
def test_two_cpus_leave_the_same_state_on_every_backend_of_a_target(target: str) -> None:
    # lguest keeps its copy of CR3 per vCPU (2.6.26 lguest guests have one CPU; the model
    # runs its hooks on several all the same)
    native = simulate("native", "kbuild", size=10, cpus=2, target=target)
    for backend in runnable(target=target)[1:]:
        other = simulate(backend, "kbuild", size=10, cpus=2, target=target)
        assert other.state == native.state, (backend, native.state.differences(other.state))
