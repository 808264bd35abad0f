"""The Linux 2.6.27 guest on x86_64, and every combination of the guest's shipped specs,
targets and backends: each runs, or is refused with a clear `BackendMismatch` (exit 2 from
the CLI), never an internal error.

On 2.6.27's x86_64 kernel the fast system call leaves through `usergs_sysret64`
(`swapgs; sysretq`, entry_64.S), enters through the `swapgs` site, and the 64-bit
exception entries run `adjust_exception_frame`; native and KVM must leave the same
guest-visible state with one CPU and with several, and a return that forgets its swapgs
is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from pvgen.guest import BACKENDS, WORKLOADS, runnable, simulate
from pvgen.guest.backends import BackendMismatch
from pvgen.guest.backends.release27 import NativeHooks27
from pvgen.guest.bindings import Bindings, load_bindings
from pvgen.guest.callsites import SiteKind
from pvgen.guest.sim import prepare, targets_of
from pvgen.guest.targets import TARGETS
from pvgen.guest.x86 import MSR_GS_BASE, MSR_KERNEL_GS_BASE

ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "2.6.26": ROOT / "specs" / "paravirt.pvspec",
    "2.6.27": ROOT / "specs" / "linux" / "linux-2.6.27.pvspec",
}


@pytest.fixture(scope="module")
def bindings27() -> Bindings:
    return load_bindings(SPECS["2.6.27"])


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("release", list(SPECS))
def test_every_spec_target_and_backend_runs_or_is_refused_clearly(
    release: str, target: str
) -> None:
    spec = SPECS[release]
    bindings = load_bindings(spec)
    ran = []
    for backend in BACKENDS:
        result = run_cli(
            "sim", "--spec", str(spec), "--target", target, "--backend", backend,
            "--workload", "fork", "--size", "2",
        )  # fmt: skip
        assert "internal error" not in result.err, (release, target, backend, result.err)
        if backend in runnable(bindings, target=target):
            assert result.status == 0, (release, target, backend, result.err)
            assert f"target {target}," in result.out
            ran.append(backend)
            continue
        assert result.status == 2, (release, target, backend, result.out, result.err)
        assert f"backend '{backend}'" in result.err and target in result.err
        with pytest.raises(BackendMismatch, match=f"backend '{backend}'"):
            simulate(backend, "fork", size=1, target=target, bindings=bindings)
    assert ran and ran[0] == "native"


def test_the_2_6_27_spec_gives_xen_x86_64_and_the_guest_refuses_it(
    bindings27: Bindings,
) -> None:
    assert "x86_64" in bindings27.runs_on["xen"]  # 2.6.27: Xen's 64-bit guest
    assert runnable(bindings27, target="x86_64") == ("native", "kvm")
    assert targets_of("xen", bindings27) == ("i386_pae",)
    with pytest.raises(BackendMismatch, match="not modelled on x86_64: Linux 2.6.27 added"):
        prepare("xen", target="x86_64", bindings=bindings27)
    refused = run_cli(
        "sim", "--spec", str(SPECS["2.6.27"]), "--target", "x86_64", "--backend", "xen"
    )
    assert refused.status == 2 and "Xen's 64-bit paravirtual guest" in refused.err


def test_compare_on_2_6_27_x86_64_runs_native_and_kvm(bindings27: Bindings) -> None:
    result = run_cli(
        "sim", "--spec", str(SPECS["2.6.27"]), "--target", "x86_64", "--compare",
        "--size", "3",
    )  # fmt: skip
    assert result.status == 0, result.err
    assert "guest-visible state identical on every backend: yes" in result.out
    headers = [line.split()[3:] for line in result.out.splitlines() if line.startswith("workload ")]
    assert ["native", "kvm"] in headers


@pytest.mark.parametrize("cpus", [1, 3])
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_native_and_kvm_leave_the_same_state_on_2_6_27_x86_64(
    bindings27: Bindings, workload: str, cpus: int
) -> None:
    native = simulate(
        "native", workload, size=15, seed=2, cpus=cpus, target="x86_64", bindings=bindings27
    )
    assert native.target == "x86_64" and native.state.readings
    kvm = simulate(
        "kvm", workload, size=15, seed=2, cpus=cpus, target="x86_64", bindings=bindings27
    )
    assert kvm.state == native.state, native.state.differences(kvm.state)
    assert kvm.readings == native.readings
    assert kvm.run.cycles != native.run.cycles


def test_2_6_27_x86_64_system_calls_return_through_usergs_sysret64(
    bindings27: Bindings,
) -> None:
    result = simulate("native", "null-syscall", size=5, target="x86_64", bindings=bindings27)
    calls = result.run.hook_calls
    assert calls["pv_cpu_ops.usergs_sysret64"] == 50
    assert calls["pv_cpu_ops.swapgs"] >= 50
    assert not calls.get("pv_cpu_ops.irq_enable_sysexit")
    assert "pv_cpu_ops.irq_enable_syscall_ret" not in result.sites
    sysret = result.sites["pv_cpu_ops.usergs_sysret64"]
    assert sysret.kind is SiteKind.INLINE and sysret.code == "0f01f8480f07"  # swapgs; sysretq
    assert result.sites["pv_cpu_ops.swapgs"].code == "0f01f8"
    assert result.sites["pv_cpu_ops.irq_enable_sysexit"].code == "0f01f8fb0f35"
    per_cpu = {value for label, value in result.readings if label == "per-cpu data"}
    assert per_cpu == {0xC000_0000 + (6 << 12)}  # the kernel's GS base after every entry
    unpatched = simulate(
        "kvm", "null-syscall", size=2, target="x86_64", bindings=bindings27, patching=False
    )
    assert unpatched.sites["pv_cpu_ops.usergs_sysret64"].kind is SiteKind.INDIRECT
    assert (
        unpatched.state
        == simulate("native", "null-syscall", size=2, target="x86_64", bindings=bindings27).state
    )


def test_exceptions_adjust_their_frame_on_2_6_27_x86_64_only(bindings27: Bindings) -> None:
    fork = simulate("native", "fork", size=5, target="x86_64", bindings=bindings27)
    assert fork.run.hook_calls["pv_irq_ops.adjust_exception_frame"] > 0
    assert fork.sites["pv_irq_ops.adjust_exception_frame"].kind is SiteKind.NOP  # paravirt_nop
    on_i386 = simulate("native", "fork", size=5, target="i386_pae", bindings=bindings27)
    assert not on_i386.run.hook_calls.get("pv_irq_ops.adjust_exception_frame")


def test_a_sysret_that_forgets_swapgs_is_caught(
    bindings27: Bindings, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = simulate("native", "null-syscall", size=3, target="x86_64", bindings=bindings27)

    def sysret_without_swapgs(self: NativeHooks27) -> None:
        self.machine.sysret()

    monkeypatch.setattr(NativeHooks27, "pv_cpu_ops_usergs_sysret64", sysret_without_swapgs)
    bad = simulate(
        "kvm", "null-syscall", size=3, target="x86_64", bindings=bindings27, patching=False
    )
    assert bad.readings != good.readings or bad.state != good.state


def test_load_gs_index_loads_the_user_gs_base_between_two_swapgs(bindings27: Bindings) -> None:
    kernel = prepare("native", target="x86_64", bindings=bindings27)
    kernel.boot()
    machine = kernel.machine
    machine.msrs[MSR_KERNEL_GS_BASE] = 0x1234_5000  # the user's GS base, behind swapgs
    kernel_base = machine.msrs[MSR_GS_BASE]
    kernel.cpu.load_gs_index(0)
    assert machine.msrs[MSR_KERNEL_GS_BASE] == 0 and machine.msrs[MSR_GS_BASE] == kernel_base
