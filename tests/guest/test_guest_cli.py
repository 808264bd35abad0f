"""`pvgen sim`: exit codes, the tables it prints, its JSON and the call-site file."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from conftest import run_cli

from pvgen.guest import WORKLOADS, runnable


def test_one_run_prints_calls_hypercalls_batches_and_cycles() -> None:
    result = run_cli("sim", "--backend", "xen", "--workload", "fork", "--size", "3")
    assert result.status == 0, result.err
    assert result.out.startswith("backend xen (Xen), workload fork, size 3, seed 0")
    for text in ("cycles:", "hypercalls", "batches", "hook calls:", "pv_mmu_ops.set_pte_at"):
        assert text in result.out
    assert result.err == ""  # no progress when stderr is not a terminal


def test_one_run_as_json() -> None:
    result = run_cli(
        "sim", "--backend", "kvm", "--workload", "syscalls", "--size", "3", "--format", "json"
    )
    assert result.status == 0, result.err
    document = json.loads(result.out)
    assert document["backend"] == "kvm" and document["cycles"] > 0
    assert document["events"]["vm exit"] > 0


def test_compare_prints_every_backend_on_every_workload() -> None:
    result = run_cli("sim", "--compare", "--size", "2")
    assert result.status == 0, result.err
    header = next(line for line in result.out.splitlines() if line.startswith("workload"))
    assert header.split()[1:] == ["native", "cycles", *runnable()]
    for workload in WORKLOADS:
        assert any(line.startswith(workload) for line in result.out.splitlines())
    assert "guest-visible state identical on every backend: yes" in result.out


def test_compare_as_json() -> None:
    result = run_cli("sim", "--compare", "--size", "2", "--format", "json", "--workload", "fork")
    assert result.status == 0, result.err
    document = json.loads(result.out)
    assert list(document["workloads"]) == ["fork"]
    row = document["workloads"]["fork"]
    assert row["native"]["relative"] == 1.0
    assert len({cell["state_digest"] for cell in row.values()}) == 1


def test_emit_callsites_writes_calls_per_hook(tmp_path: Path) -> None:
    target = tmp_path / "callsites.json"
    result = run_cli(
        "sim", "--workload", "interrupts", "--size", "5", "--emit-callsites", str(target)
    )
    assert result.status == 0, result.err
    counts = json.loads(target.read_text(encoding="utf-8"))
    assert counts["pv_irq_ops.save_fl"] > 0
    assert counts["pv_cpu_ops.read_cr8"] == 0  # listed, never called on the 32-bit target
    assert all(isinstance(value, int) for value in counts.values())


def test_bad_arguments_exit_2() -> None:
    for arguments in (
        ["--backend", "hyperv"],
        ["--workload", "idle"],
        ["--size", "0"],
        ["--compare", "--backend", "xen"],
    ):
        result = run_cli("sim", *arguments)
        assert result.status == 2, arguments
        assert result.err.startswith("pvgen: error:")


def test_a_broken_spec_exits_1(tmp_path: Path) -> None:
    spec = tmp_path / "bad.pvspec"
    spec.write_text("abi x {", encoding="utf-8")
    result = run_cli("sim", "--spec", str(spec))
    assert result.status == 1


def test_a_spec_the_guest_does_not_implement_exits_2(tmp_path: Path) -> None:
    from pvgen.guest.bindings import default_spec

    for spec in default_spec().parent.glob("*.pvspec"):
        target = tmp_path / spec.name
        target.write_text(spec.read_text(encoding="utf-8"), encoding="utf-8")
    root = tmp_path / "paravirt.pvspec"
    text = root.read_text(encoding="utf-8")
    root.write_text(text.replace("wbinvd, io_delay, cpuid, read_msr,", "wbinvd, cpuid, read_msr,"))
    result = run_cli("sim", "--backend", "xen", "--size", "1", "--spec", str(root))
    assert result.status == 2
    assert "the guest's 'xen' backend defines members its stub does not have:" in result.err
    assert "pv_cpu_ops_io_delay" in result.err


def test_an_unwritable_callsite_file_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "callsites.json"
    result = run_cli("sim", "--size", "1", "--emit-callsites", str(target))
    assert result.status == 2
    assert "cannot write" in result.err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_stderr_only_on_a_terminal() -> None:
    from pvgen.cli import main

    out, err = io.StringIO(), Terminal()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["sim", "--backend", "xen", "--workload", "fork", "--size", "3"])
    assert status == 0
    assert "\rxen fork: 3/3" in err.getvalue().replace("\x1b[K", "")
    assert "\r" not in out.getvalue()


def test_a_spec_without_the_guests_types_says_what_is_missing(tmp_path: Path) -> None:
    spec = tmp_path / "mine.pvspec"
    spec.write_text(
        "abi mine { version 1; }\n"
        "target i386_pae { data_model ilp32; defines X86_32, X86_PAE; }\n"
        "typedef unsigned long long pteval_t;\n"
        "struct pte_t { pteval_t pte; }\n"
        "table pv_mmu_ops { void flush_tlb_user(); }\n"
        "backend native default;\n",
        encoding="utf-8",
    )
    result = run_cli("sim", "--size", "1", "--spec", str(spec))
    assert result.status == 2, result.err
    assert "mine.pvspec: the spec lacks what the simulated guest needs:" in result.err
    for missing in ("type 'pmd_t'", "type 'pgd_t'", "type 'pud_t'", "type 'km_type'"):
        assert missing in result.err
    assert "type 'pte_t'" not in result.err and "internal error" not in result.err


def test_a_spec_without_the_guests_target_says_so(tmp_path: Path) -> None:
    from pvgen.guest.bindings import default_spec

    for spec in default_spec().parent.glob("*.pvspec"):
        text = spec.read_text(encoding="utf-8")
        (tmp_path / spec.name).write_text(text.replace("target i386_pae ", "target i686_pae "))
    result = run_cli("sim", "--size", "1", "--spec", str(tmp_path / "paravirt.pvspec"))
    assert result.status == 2, result.err
    assert "the guest runs target 'i386_pae', which the spec does not declare" in result.err
    assert "i686_pae" in result.err


def test_a_backend_outside_the_simulated_target_is_refused() -> None:
    result = run_cli("sim", "--backend", "lguest", "--size", "1")
    assert result.status == 2
    assert "backend 'lguest' does not run on i386_pae" in result.err
    assert "Traceback" not in result.err
