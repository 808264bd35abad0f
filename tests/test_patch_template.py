"""Patch IDs are the kernel's: slots of the patch template that `patch_template` lists.

The expected numbers come from tests/facts (see kernel_facts.py), never from pvgen: the
model's facts, the C header's literals and offsetof fallbacks (through gcc) and the generated
Python's PATCH_IDS are each held to them, hook by hook, on every target.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kernel_facts
import pytest
from conftest import PREAMBLE, ROOT, SPECS, run_cli

from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.gen import GenOptions, c
from pvgen.gen.python import render as render_python
from pvgen.model import Abi

RELEASES = [("v2.6.26", "paravirt.pvspec"), ("v2.6.25", "paravirt-2.6.25.pvspec")]
TARGETS = ["i386", "i386_pae", "x86_64"]
WIDTH = {"i386": "-m32", "i386_pae": "-m32", "x86_64": "-m64"}


def load(path: Path) -> Abi:
    return load_abi(path, Config(None))


@pytest.fixture(scope="module", params=RELEASES, ids=[v for v, _ in RELEASES])
def release(request: pytest.FixtureRequest) -> tuple[str, Abi]:
    version, spec = request.param
    return version, load(SPECS / spec)


def test_the_facts_give_the_numbers_the_kernel_is_known_by() -> None:
    # pv_irq_ops.save_fl: 45 on both 32-bit builds and 47 on x86_64 in 2.6.26, where the
    # template starts at pv_init_ops and pv_cpu_ops has read_cr8/write_cr8 on x86_64 only.
    ids = {t: kernel_facts.patch_ids("v2.6.26", t) for t in TARGETS}
    assert [ids[t]["pv_irq_ops.save_fl"] for t in TARGETS] == [45, 45, 47]
    assert kernel_facts.template_tables("v2.6.26") == [
        "pv_init_ops",
        "pv_time_ops",
        "pv_cpu_ops",
        "pv_irq_ops",
        "pv_apic_ops",
        "pv_mmu_ops",
    ]


def test_the_spec_declares_the_kernels_template(release: tuple[str, Abi]) -> None:
    version, abi = release
    assert abi.patch_template == tuple(kernel_facts.template_tables(version))


@pytest.mark.parametrize("target", TARGETS)
def test_every_patch_id_is_the_kernels(release: tuple[str, Abi], target: str) -> None:
    version, abi = release
    assert dict(abi.facts[target].patch_ids) == kernel_facts.patch_ids(version, target)


def test_generated_python_has_the_kernels_patch_ids(
    release: tuple[str, Abi], tmp_path: Path
) -> None:
    version, abi = release
    for f in render_python(abi, GenOptions()):
        path = tmp_path / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content, encoding="utf-8")
    sys.path.insert(0, str(tmp_path / "python"))
    try:
        for name in [m for m in sys.modules if m == abi.name or m.startswith(abi.name + ".")]:
            del sys.modules[name]
        tables = importlib.import_module(f"{abi.name}.tables")
        for target in TARGETS:
            assert tables.PATCH_IDS[target] == kernel_facts.patch_ids(version, target)
    finally:
        sys.path.remove(str(tmp_path / "python"))
        for name in [m for m in sys.modules if m == abi.name or m.startswith(abi.name + ".")]:
            del sys.modules[name]


def macro(path: str) -> str:
    return "PARAVIRT_PATCH_" + path.replace(".", "_").upper()


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@pytest.mark.parametrize("target", TARGETS)
def test_header_patch_ids_are_the_kernels(
    release: tuple[str, Abi], target: str, tmp_path: Path
) -> None:
    """The literal of each target block (what assembly sees) and the offsetof fallback into
    struct paravirt_patch_template (what C sees when no block matches) are the kernel's;
    the header compiles with the target's defines, so its static asserts hold."""
    version, abi = release
    for f in c.render(abi, GenOptions()):
        (tmp_path / Path(f.path).name).write_text(f.content, encoding="utf-8")
    expected = kernel_facts.patch_ids(version, target)
    # The header's defines are the spec's target defines under CONFIG_; PAGETABLE_LEVELS
    # is one of them there.
    spec_target = next(t for t in abi.targets if t.name == target)
    defines = [
        f"-DCONFIG_{n}" if v is True else f"-DCONFIG_{n}={v}"
        for n, v in sorted(spec_target.defines.items())
    ]
    paths = sorted(expected)
    listing = "".join(f".long {macro(p)}\n" for p in paths)
    (tmp_path / "ids.S").write_text('#include "paravirt.h"\n' + listing)
    literal = subprocess.run(
        ["gcc", WIDTH[target], *defines, "-E", "-P", "ids.S"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.findall(r"\.long (\d+)", literal) == [str(expected[p]) for p in paths]
    # What C code without a target block gets: offsetof(struct paravirt_patch_template, x)
    # / sizeof(void *), as PARAVIRT_PATCH(x) in the kernel.
    fallback = "".join(
        f"_Static_assert(offsetof(struct paravirt_patch_template, {p}) / sizeof(void *)"
        f' == {expected[p]}, "{p}");\n'
        for p in paths
    )
    (tmp_path / "fallback.c").write_text('#include "paravirt.h"\n' + fallback)
    command = ["gcc", "-std=c11", "-fsyntax-only", "-ffreestanding", WIDTH[target], *defines]
    compiled = subprocess.run(
        [*command, "fallback.c"], cwd=tmp_path, capture_output=True, text=True
    )
    assert compiled.returncode == 0, compiled.stderr


PATCH_SPEC = """abi demo {{ version 1; {setting} }}
target i386 {{ data_model ilp32; defines X86_32; }}
target x86_64 {{ data_model lp64; defines X86_64, LEVELS = 4; }}
table info {{ int enabled; const char *name; }}
table lazy {{ void enter(); void leave(); }}
table irq {{ void cli(); void sti(); }}
table mmu {{ void flush(); lazy lazy_mode; }}
backend native default;
"""


def check_text(tmp_path: Path, setting: str) -> tuple[int, str]:
    (tmp_path / "a.pvspec").write_text(PATCH_SPEC.format(setting=setting))
    result = run_cli("check", "--no-rules", "a.pvspec", cwd=tmp_path)
    return result.status, result.err


@pytest.mark.parametrize(
    ("setting", "at", "message"),
    [
        ("patch_template irq, mmu, irqs;", "irqs", "unknown table 'irqs'; did you mean 'irq'?"),
        (
            "patch_template irq, lazy;",
            "lazy",
            "table 'lazy' is embedded in another table; the patch template holds top-level"
            " tables",
        ),
        (
            "patch_template irq, mmu, irq;",
            "irq;",
            "table 'irq' is listed twice in 'patch_template'",
        ),
        ("patch_template irq = 1;", "irq", "'patch_template' takes table names"),
        (
            "patch_template;",
            "patch_template",
            "'patch_template' needs the names of the tables that form it",
        ),
    ],
)
def test_a_bad_patch_template_is_an_error_at_its_name(
    tmp_path: Path, setting: str, at: str, message: str
) -> None:
    status, err = check_text(tmp_path, setting)
    assert status == 1
    column = len("abi demo { version 1; ") + setting.index(at) + 1
    assert err.splitlines()[0] == f"a.pvspec:1:{column}: error: {message}"


def test_tables_left_out_of_the_template_take_no_slot(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(PATCH_SPEC.format(setting="patch_template mmu, irq;"))
    abi = load(tmp_path / "a.pvspec")
    for target in ("i386", "x86_64"):
        # mmu first (flush, lazy_mode.enter, lazy_mode.leave), then irq; info takes none.
        assert dict(abi.facts[target].patch_ids) == {
            "mmu.flush": 0,
            "mmu.lazy_mode.enter": 1,
            "mmu.lazy_mode.leave": 2,
            "irq.cli": 3,
            "irq.sti": 4,
        }
    (tmp_path / "b.pvspec").write_text(PATCH_SPEC.format(setting="patch_template irq;"))
    only_irq = load(tmp_path / "b.pvspec")
    assert dict(only_irq.facts["x86_64"].patch_ids) == {"irq.cli": 0, "irq.sti": 1}
    header = c.render(only_irq, GenOptions())[0].content
    assert "DEMO_PATCH_MMU_FLUSH" not in header  # no patch ID, so no macro
    assert "struct demo_patch_template {\n    struct irq irq;\n};" in header


def test_without_the_setting_the_aggregate_is_the_template(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(PATCH_SPEC.format(setting=""))
    abi = load(tmp_path / "a.pvspec")
    assert abi.patch_template is None
    # info: an int and a pointer, 8 bytes on i386 (2 slots) and 16 on x86_64 (2 slots).
    assert abi.facts["i386"].patch_ids["irq.cli"] == 2
    assert abi.facts["x86_64"].patch_ids["irq.cli"] == 2
    assert "patch_template" not in c.render(abi, GenOptions())[0].content


def test_the_language_guide_example_has_the_patch_ids_its_table_gives(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = text[text.index("### Patch IDs") :]
    block = re.search(r"```pvspec\n(.*?)```", section, flags=re.S)
    assert block is not None
    (tmp_path / "with.pvspec").write_text(block.group(1))
    without = re.sub(r"\n *//[^\n]*\n *patch_template [^;]*;", "", block.group(1))
    (tmp_path / "without.pvspec").write_text(without)
    listed, default = load(tmp_path / "with.pvspec"), load(tmp_path / "without.pvspec")
    assert default.patch_template is None
    rows = re.findall(r"^\| `([\w.]+)` \| (\d+) \| (\d+) \| (\d+), (\d+) \|$", section, re.M)
    assert len(rows) == 3
    for path, i386, x86_64, plain_i386, plain_x86_64 in rows:
        assert listed.facts["i386"].patch_ids[path] == int(i386)
        assert listed.facts["x86_64"].patch_ids[path] == int(x86_64)
        assert default.facts["i386"].patch_ids[path] == int(plain_i386)
        assert default.facts["x86_64"].patch_ids[path] == int(plain_x86_64)


def test_a_type_named_like_the_template_struct_is_refused(tmp_path: Path) -> None:
    spec = PREAMBLE.replace("version 1;", "version 1; patch_template t;") + (
        "typedef u32 demo_patch_template;\ntable t { void f(); }\nbackend native default;\n"
    )
    (tmp_path / "a.pvspec").write_text(spec)
    message = (
        "typedef 'demo_patch_template' and the C patch template would both be named"
        " 'demo_patch_template' in the generated C code"
    )
    for args in (["check"], ["generate", "--out", "out"]):  # refused when it is resolved
        result = run_cli(*args, "a.pvspec", cwd=tmp_path)
        assert result.status == 1
        assert message in result.err


CONDITIONAL = """abi demo {
    version 1;
    patch_template mmu, irq;
}
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64, LEVELS = 4; }
/// Facts.
table info { /** On. */ int enabled; }
/// Interrupts, on x86_64 only.
@if(X86_64) table irq { /** Off. */ void cli(); /** On. */ void sti(); }
/// Page tables, on x86_64 only.
@if(X86_64) table mmu { /** Flush. */ void flush(); }
/// Halting, everywhere but outside the template.
table halt { /** Halt. */ void hlt(); }
/// Bare hardware.
backend native default;
"""


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("g++") is None, reason="gcc")
@pytest.mark.parametrize("compiler", ["c11", "gnu89", "c++17"])
def test_a_template_empty_on_a_target_compiles_everywhere(tmp_path: Path, compiler: str) -> None:
    from test_gen_c import compile_header, write_outputs

    (tmp_path / "a.pvspec").write_text(CONDITIONAL)
    abi = load(tmp_path / "a.pvspec")
    assert dict(abi.facts["x86_64"].patch_ids) == {"irq.cli": 1, "irq.sti": 2, "mmu.flush": 0}
    assert dict(abi.facts["i386"].patch_ids) == {}  # halt is outside; irq and mmu absent
    header = c.render(abi, GenOptions())[0].content
    assert "No patch ID literals: the layout of struct demo_patch_template is not known." in (
        header
    )
    assert "DEMO_PATCH_HALT_HLT" not in header
    compile_header(abi, write_outputs(abi, tmp_path / "out"), compiler)
