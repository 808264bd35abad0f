"""Call-site patching: each backend's patcher, what each site then costs, and the clobbers
contract, held by the same comparison of guest-visible state as everything else."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from conftest import run_cli

from pvgen import schemas
from pvgen.guest import runnable, simulate
from pvgen.guest.backends import base, vmi
from pvgen.guest.backends.native import NATIVE_CODE, NativeHooks
from pvgen.guest.backends.vmi import VmiHooks
from pvgen.guest.bindings import DEFAULT_CALLSITES, load_bindings
from pvgen.guest.callsites import BootFailure, SiteKind
from pvgen.guest.costs import CYCLES, Cost
from pvgen.guest.machine import ECX
from pvgen.guest.sim import prepare

IRQ_HOOKS = (
    "pv_irq_ops.irq_disable",
    "pv_irq_ops.irq_enable",
    "pv_irq_ops.save_fl",
    "pv_irq_ops.restore_fl",
)


def test_call_sites_per_hook_come_from_the_spec() -> None:
    bindings = load_bindings()
    result = simulate("native", "interrupts", size=1)
    for path, convention in bindings.conventions.items():
        if path in result.sites:
            assert result.sites[path].sites == convention.callsites
    assert result.sites["pv_irq_ops.irq_disable"].sites == 700  # @hot(callsites = 700)
    assert result.sites["pv_irq_ops.save_fl"].sites == 500
    assert not bindings.conventions["pv_cpu_ops.wbinvd"].callsites_given
    assert result.sites["pv_cpu_ops.wbinvd"].sites == DEFAULT_CALLSITES
    assert bindings.conventions["pv_irq_ops.irq_disable"].clobbers == ("eax",)
    assert bindings.conventions["pv_cpu_ops.wbinvd"].clobbers == ("eax", "ecx", "edx")


def test_native_inlines_the_kernels_native_list_and_calls_or_drops_the_rest() -> None:
    result = simulate("native", "kbuild", size=1)
    bindings = load_bindings()
    for path, code in NATIVE_CODE.items():
        assert result.sites[path].kind is SiteKind.INLINE, path
        assert result.sites[path].code == code.hex()
    assert result.sites["pv_mmu_ops.alloc_pte"].kind is SiteKind.NOP  # paravirt_nop
    assert result.sites["pv_mmu_ops.set_pte_at"].kind is SiteKind.DIRECT
    assert result.sites["pv_init_ops.post_allocator_init"].kind is SiteKind.TRAP  # NULL
    # The spec's @patch(native = ...) names exactly the sequences native_patch inlines.
    declared = {p for p, c in bindings.conventions.items() if c.native is not None}
    assert declared == set(NATIVE_CODE)


def test_xen_inlines_only_the_direct_sequence_that_fits_a_32_bit_site() -> None:
    result = simulate("xen", "kbuild", size=1)
    assert result.sites["pv_irq_ops.irq_disable"].kind is SiteKind.INLINE
    assert result.sites["pv_irq_ops.irq_disable"].code.startswith("64c605")  # movb $1, %fs:mask
    for path in IRQ_HOOKS[1:]:
        # Too long for the 10-byte site, and a C-convention target may not take a site
        # that keeps %ecx and %edx: the indirect call (with its pushes) stays.
        assert result.sites[path].kind is SiteKind.INDIRECT, path
    assert result.sites["pv_cpu_ops.iret"].kind is SiteKind.JUMP
    assert result.sites["pv_cpu_ops.read_tscp"].kind is SiteKind.TRAP  # NULL under Xen
    assert result.sites["pv_mmu_ops.pte_update"].kind is SiteKind.NOP


def test_vmi_patches_its_six_rom_calls_and_leaves_the_rest_indirect() -> None:
    result = simulate("vmi", "kbuild", size=1)
    for path in IRQ_HOOKS:
        assert result.sites[path].kind is SiteKind.DIRECT, path
    for path in ("pv_cpu_ops.iret", "pv_cpu_ops.irq_enable_syscall_ret"):
        assert result.sites[path].kind is SiteKind.JUMP, path
    assert result.sites["pv_mmu_ops.set_pte_at"].kind is SiteKind.INDIRECT


def test_vmi_cannot_boot_without_patching_its_must_patch_hooks() -> None:
    assert "vmi" not in runnable(patching=False)
    with pytest.raises(BootFailure, match=r"'vmi' must patch every call site of pv_cpu_ops\.iret"):
        simulate("vmi", "fork", size=1, patching=False)


def test_a_vmi_patcher_that_forgets_a_must_patch_hook_fails_the_boot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = dict(vmi.ROM_PATCHED)
    del table["pv_cpu_ops.irq_enable_syscall_ret"]
    monkeypatch.setattr(vmi, "ROM_PATCHED", table)
    with pytest.raises(BootFailure, match="irq_enable_syscall_ret.*its patcher left them"):
        simulate("vmi", "syscalls", size=1)


def test_a_null_hooks_site_traps() -> None:
    kernel = prepare("xen")
    kernel.boot()
    assert kernel.sites is not None
    assert kernel.cpu.read_tscp is None  # callers test the slot
    with pytest.raises(BootFailure, match=r"read_tscp traps \(ud2\)"):
        kernel.sites.entry("pv_cpu_ops.read_tscp")(0)


def test_a_patcher_that_writes_past_the_site_fails_the_boot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(NativeHooks, "pv_init_ops_patch", lambda self, t, c, i, a, n: n + 1)
    with pytest.raises(BootFailure, match="wrote 7 bytes over a 6-byte call site"):
        simulate("native", "fork", size=1)


@pytest.mark.parametrize("workload", ["fork", "interrupts", "syscalls"])
def test_patching_changes_costs_never_what_the_guest_sees(workload: str) -> None:
    reference = simulate("native", workload, size=40, seed=4)
    for backend in runnable():
        patched = simulate(backend, workload, size=40, seed=4)
        assert patched.state == reference.state, backend
        assert not patched.clobbered
    for backend in runnable(patching=False):
        unpatched = simulate(backend, workload, size=40, seed=4, patching=False)
        assert unpatched.state == reference.state, backend
        assert all(p.kind is not SiteKind.INLINE for p in unpatched.sites.values())
        patched = simulate(backend, workload, size=40, seed=4)
        assert patched.run.cycles < unpatched.run.cycles, backend


def test_what_irq_disable_costs_with_and_without_patching() -> None:
    unpatched = simulate("native", "interrupts", size=30, patching=False).run
    patched = simulate("native", "interrupts", size=30).run
    path = "pv_irq_ops.irq_disable"
    calls = patched.hook_calls[path]
    assert calls == unpatched.hook_calls[path] > 0
    call = CYCLES[Cost.INDIRECT_CALL] + 2 * CYCLES[Cost.REGISTER_SAVE]  # push/pop ecx, edx
    assert unpatched.hook_cycles[path] == calls * (call + CYCLES[Cost.CLI])
    assert patched.hook_cycles[path] == calls * CYCLES[Cost.CLI]  # a bare cli
    xen = simulate("xen", "interrupts", size=30).run
    assert xen.hook_cycles[path] == calls * CYCLES[Cost.SHARED_MEMORY]  # one store
    rom = simulate("vmi", "interrupts", size=30).run
    expected = CYCLES[Cost.DIRECT_CALL] + CYCLES[Cost.VMI_ROM_CALL] + CYCLES[Cost.SHARED_MEMORY]
    assert rom.hook_cycles[path] == calls * expected


def test_a_patcher_that_ignores_the_sites_clobbers_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A C function (which may change eax, ecx and edx) called directly from a site that
    # keeps ecx and edx for its caller: paravirt_patch_call must refuse; this one does not.
    reference = simulate("native", "interrupts", size=30, seed=2)

    def careless(
        self: Any,
        insnbuf: int,
        target: object,
        target_clobbers: int,
        addr: int,
        site_clobbers: int,
        room: int,
    ) -> int:
        return int(self._patch_branch(0xE8, insnbuf, target, addr, room))

    def direct_everything(
        self: Any, type: int, clobber: int, insnbuf: int, addr: int, len: int
    ) -> int:
        return int(self._patch_default(type, clobber, insnbuf, addr, len))

    monkeypatch.setattr(NativeHooks, "pv_init_ops_patch", direct_everything)
    monkeypatch.setattr(base.Backend, "_patch_call", careless)
    broken = simulate("native", "interrupts", size=30, seed=2)
    assert broken.sites["pv_irq_ops.save_fl"].kind is SiteKind.DIRECT
    assert {path for path, _, _ in broken.clobbered} >= {"pv_irq_ops.save_fl"}
    assert {register for _, register, _ in broken.clobbered} == {"ecx", "edx"}
    assert broken.state != reference.state
    differences = "\n".join(reference.state.differences(broken.state))
    assert "readings" in differences


def test_a_callee_save_hook_that_clobbers_a_kept_register_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # VMI's ROM routine says it keeps every register but eax, and so takes the callee-save
    # sites of irq_disable; this one changes %ecx.
    original = VmiHooks.pv_irq_ops_irq_disable

    def leaky(self: Any) -> None:
        original(self)
        self.machine.regs[ECX] = 0xDEAD_BEEF

    leaky.__dict__["pv_clobbers"] = 1  # it still claims eax only
    monkeypatch.setattr(VmiHooks, "pv_irq_ops_irq_disable", leaky)
    native = simulate("native", "interrupts", size=30, seed=5)
    broken = simulate("vmi", "interrupts", size=30, seed=5)
    assert ("pv_irq_ops.irq_disable", "ecx", 0xDEAD_BEEF) in broken.clobbered
    assert broken.state != native.state
    assert native.state.readings_digest != broken.state.readings_digest


def test_the_same_clobber_behind_an_unpatched_site_is_harmless(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Unpatched, the 32-bit callee-save site pushes and pops %ecx and %edx itself.
    original = NativeHooks.pv_irq_ops_irq_disable

    def leaky(self: Any) -> None:
        original(self)
        self.machine.regs[ECX] = 0xDEAD_BEEF

    monkeypatch.setattr(NativeHooks, "pv_irq_ops_irq_disable", leaky)
    clean = simulate("xen", "interrupts", size=30, seed=5)
    unpatched = simulate("native", "interrupts", size=30, seed=5, patching=False)
    assert not unpatched.clobbered
    assert unpatched.state == clean.state


# ---- the command line ------------------------------------------------------------------


def test_sim_refuses_to_boot_vmi_unpatched_with_exit_2() -> None:
    result = run_cli("sim", "--backend", "vmi", "--patching", "off", "--size", "1")
    assert result.status == 2
    assert result.err.startswith("pvgen: error: the guest does not boot: backend 'vmi' must")
    assert "Traceback" not in result.err


def test_compare_without_patching_leaves_out_the_backends_that_need_it() -> None:
    result = run_cli("sim", "--compare", "--patching", "off", "--size", "2", "--workload", "fork")
    assert result.status == 0, result.err
    header = next(line for line in result.out.splitlines() if line.startswith("workload"))
    assert header.split()[1:] == ["native", "cycles", "native", "xen", "kvm"]
    assert "patching off" in result.out
    assert "guest-visible state identical on every backend: yes" in result.out


def test_hook_costs_prints_each_hook_unpatched_and_patched() -> None:
    result = run_cli("sim", "--hook-costs", "--workload", "interrupts", "--size", "10")
    assert result.status == 0, result.err
    rows = {line.split()[0]: line.split() for line in result.out.splitlines() if line}
    row = rows["pv_irq_ops.irq_disable"]
    # calls, then per backend: unpatched, patched, what the sites hold
    assert row[2:5] == ["15", "4", "inline"]  # native: call + pushes + cli -> cli
    assert row[8:11] == ["-", "21", "direct"]  # vmi cannot boot unpatched
    assert "vmi      cannot boot unpatched" in result.out
    assert "guest-visible state identical patched and unpatched: yes" in result.out


def test_hook_costs_as_json_validates() -> None:
    result = run_cli("sim", "--hook-costs", "--backend", "xen", "--size", "3", "--format", "json")
    assert result.status == 0, result.err
    document = json.loads(result.out)
    jsonschema.Draft202012Validator(schemas.load("sim")).validate(document)
    cell = document["hooks"]["pv_irq_ops.irq_disable"]["backends"]["xen"]
    assert cell["site"] == "inline" and cell["patched"] < cell["unpatched"]
    run = json.loads(run_cli("sim", "--size", "1", "--format", "json").out)
    jsonschema.Draft202012Validator(schemas.load("sim")).validate(run)
    assert run["call_sites"]["pv_irq_ops.irq_disable"] == {
        "sites": 700,
        "kind": "inline",
        "code": "fa",
    }


def test_hook_costs_with_compare_or_patching_off_is_a_usage_error() -> None:
    for extra in (["--compare"], ["--patching", "off"]):
        result = run_cli("sim", "--hook-costs", "--size", "1", *extra)
        assert result.status == 2, extra
