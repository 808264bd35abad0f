"""Backends as Linux 2.6.26 has them: where each runs, what it leaves NULL, what must be patched.

The kernel's side comes from tests/facts (which backend sets which member, and how; which
tables Xen copies whole) through kernel_facts, and from Kconfig for the targets; pvgen's side
from the reference spec, its rules, its generated C (compiled and run with gcc) and its
generated Python dispatch.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import kernel_facts as kf
import pytest
from conftest import run_cli
from test_gen_c import WIDTHS, defines, load, load_text, needs_compilers
from test_gen_c import write_outputs as write_c
from test_gen_python import generate as write_python

from pvgen.model import Abi, Backend, HookSlot, Source
from pvgen.rules import run_rules

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "paravirt.pvspec"
VERSION = "v2.6.26"
FACTS_NAME = {"native": "native", "vmi": "VMI", "xen": "Xen", "lguest": "lguest", "kvm": "KVM"}


@pytest.fixture(scope="module")
def abi() -> Abi:
    return load(SPEC)


def backend(abi: Abi, name: str) -> Backend:
    return next(b for b in abi.backends if b.name == name)


def null_hooks(abi: Abi, b: Backend, target: str) -> set[str]:
    return {s.path for s in abi.null_slots(b, target) if isinstance(s, HookSlot)}


def test_each_backend_runs_where_kconfig_builds_it(abi: Abi) -> None:
    for b in abi.backends:
        runs_on = {t.name for t in abi.targets if b.runs_on(t)}
        assert runs_on == kf.BACKEND_TARGETS[FACTS_NAME[b.name]], b.name


def test_each_backend_sets_what_the_kernel_sets(abi: Abi) -> None:
    for b in abi.backends:
        own = {s.path for s in abi.slots if abi.source(b, s) is Source.OWN}
        assert own == kf.set_by(VERSION, FACTS_NAME[b.name]), b.name


def test_xen_copies_whole_tables_so_what_it_does_not_set_is_null(abi: Abi) -> None:
    xen = backend(abi, "xen")
    assert kf.copied_tables(VERSION, "Xen") == xen.null_fallback - {"pv_info"}
    # The four members the kernel leaves NULL under Xen on the one target Xen builds for.
    expected = {
        "pv_cpu_ops.read_tscp",
        "pv_cpu_ops.swapgs",
        "pv_mmu_ops.alloc_pud",
        "pv_mmu_ops.release_pud",
    }
    assert kf.null_hooks(VERSION, "Xen", "i386_pae") == expected
    assert null_hooks(abi, xen, "i386_pae") == expected


def test_null_slots_are_the_kernels_for_every_backend_on_its_targets(abi: Abi) -> None:
    for b in abi.backends:
        name = FACTS_NAME[b.name]
        for target in sorted(kf.BACKEND_TARGETS[name]):
            assert null_hooks(abi, b, target) == kf.null_hooks(VERSION, name, target), (
                b.name,
                target,
            )
    # Native's own post_allocator_init is NULL, and so under every backend but Xen.
    assert null_hooks(abi, backend(abi, "native"), "x86_64") == {"pv_init_ops.post_allocator_init"}
    assert "pv_init_ops.post_allocator_init" in null_hooks(abi, backend(abi, "kvm"), "i386")


def test_vmi_must_patch_its_sentinels_which_have_the_kernels_patch_ids(abi: Abi) -> None:
    vmi = backend(abi, "vmi")
    marked = {o.path for o in vmi.must_patch}
    assert marked == {"pv_cpu_ops.iret", "pv_cpu_ops.irq_enable_syscall_ret"}
    for target in sorted(kf.BACKEND_TARGETS["VMI"]):
        kernel = kf.patch_ids(VERSION, target)
        for path in marked:
            assert abi.facts[target].patch_ids[path] == kernel[path]
    assert all(not b.must_patch for b in abi.backends if b is not vmi)


def test_the_reference_spec_keeps_the_backend_rules() -> None:
    found = [d for d in run_rules(load(SPEC)) if d.code in {"PV117", "PV118", "PV119"}]
    assert found == []


def mutated(tmp_path: Path, old: str, new: str) -> Abi:
    text = SPEC.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    for name in ("paravirt.pvspec", "mm_types.pvspec"):
        source = (SPEC.parent / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(source.replace(old, new), encoding="utf-8")
    return load(tmp_path / "paravirt.pvspec")


def messages(abi: Abi, code: str) -> list[str]:
    return [d.message for d in run_rules(abi) if d.code == code]


def test_a_null_hook_whose_callers_do_not_check_is_an_error(tmp_path: Path) -> None:
    abi = mutated(tmp_path, "@low_level @nullable\n", "@low_level\n")
    assert messages(abi, "PV117") == [
        "hook 'pv_cpu_ops.read_tscp' is NULL under backend 'xen' on i386_pae (it does not set it"
        " and falls back to nothing), but is not marked @nullable"
    ]


def test_a_hook_null_only_where_the_backend_does_not_run_is_fine(tmp_path: Path) -> None:
    # read_cr8 exists on x86_64 alone, where Xen does not run: its NULL there is no finding.
    abi = mutated(tmp_path, "@if(X86_32 && X86_PAE) @fallback(none)", "@fallback(none)")
    found = messages(abi, "PV117")
    assert any("'pv_cpu_ops.read_cr8' is NULL under backend 'xen' on x86_64" in m for m in found)
    assert not messages(load(SPEC), "PV117")


def test_a_must_patch_hook_without_a_patch_site_is_an_error(tmp_path: Path) -> None:
    abi = mutated(tmp_path, '@low_level @patch(native = "iret")\n', "@low_level\n")
    assert messages(abi, "PV118") == [
        "backend 'vmi' must patch hook 'pv_cpu_ops.iret', which has no patch site"
    ]


def test_a_backend_member_absent_on_all_its_targets_is_an_error(tmp_path: Path) -> None:
    # VMI without PAE: the PAE-only members it lists exist on none of its targets.
    abi = mutated(
        tmp_path,
        "@if(X86_32) @must_patch(pv_cpu_ops.irq_enable_syscall_ret)",
        "@if(X86_32 && !X86_PAE) @must_patch(pv_cpu_ops.irq_enable_syscall_ret)",
    )
    absent = {m.split("'")[3] for m in messages(abi, "PV119")}
    members = {
        f"pv_mmu_ops.{m['name']}"
        for m in kf.release(VERSION)["tables"]["pv_mmu_ops"]
        if not kf.holds(m.get("cond"), kf.CONFIGS["i386"])
    }
    listed = {o.path for o in backend(abi, "vmi").overrides}
    assert absent == members & listed
    assert absent == {
        "pv_mmu_ops.set_pte_atomic",
        "pv_mmu_ops.set_pte_present",
        "pv_mmu_ops.pte_clear",
        "pv_mmu_ops.pmd_clear",
        "pv_mmu_ops.set_pud",
    }


def test_python_dispatch_binds_none_where_the_kernel_has_null(abi: Abi, tmp_path: Path) -> None:
    import importlib
    import sys

    root = write_python(abi, tmp_path)
    sys.path.insert(0, str(root))
    try:
        for name in [n for n in sys.modules if n == "paravirt" or n.startswith("paravirt.")]:
            del sys.modules[name]
        package = importlib.import_module("paravirt")
        tables = importlib.import_module("paravirt.tables")
    finally:
        sys.path.remove(str(root))
    # NULL holds for every target; on Xen's one target it is the kernel's.
    present = {s.path for s in abi.facts["i386_pae"].hooks}
    assert set(package.NULL["xen"]) & present == kf.null_hooks(VERSION, "Xen", "i386_pae")
    assert package.RUNS_ON["xen"] == ("i386_pae",)
    assert package.RUNS_ON["lguest"] == ("i386",)
    assert set(package.MUST_PATCH["vmi"]) == {
        "pv_cpu_ops.iret",
        "pv_cpu_ops.irq_enable_syscall_ret",
    }

    class Xen:
        NAME = "xen"

        def __getattr__(self, name: str) -> object:
            return lambda *args: ("xen", name)

    class Native:
        NAME = "native"

        def __getattr__(self, name: str) -> object:
            return lambda *args: ("native", name)

    ops = tables.ParavirtOps(Xen(), Native())
    assert ops.pv_cpu_ops.read_tscp is None and ops.pv_mmu_ops.release_pud is None
    assert ops.pv_cpu_ops.read_tsc() == ("xen", "pv_cpu_ops_read_tsc")
    assert ops.pv_mmu_ops.lazy_mode.enter() == ("xen", "pv_mmu_ops_lazy_mode_enter")
    native = tables.ParavirtOps(Native(), Native())
    assert native.pv_init_ops.post_allocator_init is None

    class Lguest(Xen):
        NAME = "lguest"

    assert tables.ParavirtOps(Lguest(), Native(), "i386").backend.NAME == "lguest"
    with pytest.raises(ValueError, match="backend 'lguest' does not run on target 'i386_pae'"):
        tables.ParavirtOps(Lguest(), Native(), "i386_pae")


@needs_compilers
def test_c_names_the_backends_of_each_target(abi: Abi, tmp_path: Path) -> None:
    folder = write_c(abi, tmp_path)
    for target in abi.targets:
        lines = ['#include "paravirt.h"']
        for name, facts_name in FACTS_NAME.items():
            runs = target.name in kf.BACKEND_TARGETS[facts_name]
            test = "!defined" if runs else "defined"
            lines.append(f"#if {test}(PARAVIRT_BACKEND_{name.upper()})")
            lines.append(f'#error "{name} on {target.name}"')
            lines.append("#endif")
        source = folder / f"backends_{target.name}.c"
        source.write_text("\n".join(lines) + "\n")
        cmd = ["gcc", "-fsyntax-only", *WIDTHS[target.data_model], *defines(target), source.name]
        built = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr


@needs_compilers
def test_c_wrappers_of_nullable_hooks_check_the_slot(abi: Abi, tmp_path: Path) -> None:
    folder = write_c(abi, tmp_path)
    program = folder / "probe.c"
    program.write_text(
        '#include "paravirt.h"\n'
        "#include <stdio.h>\n"
        "struct paravirt_ops paravirt_ops; /* every slot NULL */\n"
        'static void later(void) { puts("called"); }\n'
        "int main(void) {\n"
        "    paravirt_pv_init_ops_post_allocator_init(); /* NULL: the wrapper skips the call */\n"
        '    printf("%d %d\\n", paravirt_pv_init_ops_post_allocator_init_is_set(),\n'
        "           paravirt_pv_cpu_ops_read_tscp_is_set());\n"
        "    paravirt_ops.pv_init_ops.post_allocator_init = later;\n"
        "    paravirt_pv_init_ops_post_allocator_init();\n"
        '    printf("%d\\n", paravirt_pv_init_ops_post_allocator_init_is_set());\n'
        "    return 0;\n"
        "}\n"
    )
    x86_64 = next(t for t in abi.targets if t.name == "x86_64")
    cmd = ["gcc", "-m64", *defines(x86_64), program.name, "-o", "probe"]
    built = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    out = subprocess.run([folder / "probe"], capture_output=True, text=True, check=True).stdout
    assert out == "0 0\ncalled\n1\n"


def test_a_backend_counts_as_a_user_only_where_it_runs(tmp_path: Path) -> None:
    # VMI lists read_cr8, but runs on no target that has it: KVM is its only real user.
    abi = load_text(
        tmp_path,
        """
abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
/// CPU state.
table pv_cpu_ops {
    /// Reads CR8.
    @if(X86_64)
    unsigned long read_cr8();
}
backend native default;
/// 32-bit only.
@if(X86_32)
backend vmi { pv_cpu_ops: read_cr8; }
/// Everywhere.
backend kvm { pv_cpu_ops: read_cr8; }
""",
    )
    found = {d.code: d.message for d in run_rules(abi)}
    assert found["PV103"] == "hook 'pv_cpu_ops.read_cr8' is overridden only by backend 'kvm'"
    assert "backend 'vmi' lists 'pv_cpu_ops.read_cr8'" in found["PV119"]


def test_the_names_backend_semantics_generate_are_checked(tmp_path: Path) -> None:
    spec = tmp_path / "a.pvspec"
    spec.write_text(
        "abi demo { version 1; }\n"
        "target x86_64 { data_model lp64; }\n"
        "/// T.\ntable t {\n"
        "    /// F.\n    @nullable void f();\n"
        "    /// G.\n    void f_is_set();\n"
        "}\n"
        "backend native default;\n"
        "/// A.\nbackend xen { t: f; }\n"
        "/// B.\nbackend Xen { t: f; }\n"
        "/// C.\ntable MUST_PATCH { void g(); }\n"
    )
    result = run_cli("check", spec.name, cwd=tmp_path)
    assert result.status == 1
    errors = [line for line in result.err.splitlines() if ": error: " in line]
    assert errors[0] == (
        "a.pvspec:8:10: error: the call wrapper of 't.f_is_set' and the slot test of 't.f'"
        " would both be named 'demo_t_f_is_set' in the generated C code"
    )
    assert errors[1] == (
        "a.pvspec:14:9: error: the macro of backend 'Xen' and the macro of backend 'xen'"
        " would both be named 'DEMO_BACKEND_XEN' in the generated C code"
    )
    assert errors[-1].startswith(
        "a.pvspec:16:7: error: table 'MUST_PATCH' would be the Python class 'MUST_PATCH' and"
        " collide with a name that python/demo/tables.py defines or imports"
    )
