"""C generator: the header and the native table, checked by real compilers.

The header must compile alone as C11 (pedantic), gnu89 and C++17, at both widths; with a
target's configuration macros at its own width, that target's block is selected and its
static asserts prove that the compiler lays everything out as the model does. A small ABI is
linked with the native table and run. Golden files cover the contract spec's two outputs;
regenerate them with PVGEN_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import SPECS, TEST_SPECS

from pvgen.api import count_hooks, load_abi
from pvgen.config import Config
from pvgen.gen import GenOptions, c
from pvgen.gen.python import patch_ids
from pvgen.model import Abi, Target

GOLDEN = Path(__file__).resolve().parent / "golden" / "c"
CASES = {
    "paravirt": SPECS / "paravirt.pvspec",
    "contract": TEST_SPECS / "contract" / "paravirt.pvspec",
}
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
COMPILERS = {
    "c11": (["gcc", "-std=c11", *WARNINGS, "-pedantic", "-fsyntax-only"], "c"),
    "gnu89": (["gcc", "-std=gnu89", *WARNINGS, "-fsyntax-only"], "c"),
    "c++17": (["g++", "-std=c++17", *WARNINGS, "-fsyntax-only"], "cpp"),
}
WIDTHS = {"lp64": ["-m64"], "ilp32": ["-m32", "-ffreestanding"]}

needs_compilers = pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("g++") is None, reason="needs gcc and g++"
)

# Corners of the generator: a name that is a struct on one target and a typedef on the
# other, a struct and a table that are empty on a target, two declarations of one table,
# enums whose values do not fit `int` or that have conditional enumerators.
EDGE_SPEC = """\
/// Corner cases of the C generator.
abi edge { version 1; }
target small { data_model ilp32; defines SMALL, LEVEL = 2; }
target big { data_model lp64; defines BIG, LEVEL = 4, OFFSET = -8; }

@if(SMALL) struct maybe { u32 a; }
@if(BIG) typedef u64 maybe;
struct holder { maybe m; @if(BIG) u8 tail; }
struct sometimes { @if(SMALL) u32 s; @if(BIG) u64 b; }
@if(SMALL) struct empty_on_small { @if(BIG) u32 x; }
struct holds_empty { @if(SMALL) empty_on_small e; u8 after; }
enum wide : u64 { W0 = 0, WMAX = 0xFFFFFFFFFFFFFFFF }
enum negative : s64 { NMIN = -0x8000000000000000, NINT = -2147483648, NX = -5 }
enum small_neg : s32 { SN_MIN = -2147483648, SN_MAX = 2147483647 }
enum high32 : u32 { H_HI = 0x80000000 }
enum flags : bool { OFF, ON }
enum levels : u8 { L0, @if(BIG) L_BIG = 7, L_LAST }
@if(SMALL || BIG) table lazy { void enter(); @if(BIG) int leave(int n); }
table empty_ops { }
table cond_ops { @if(SMALL) void only_small(); @if(BIG) void only_big(maybe m); }
@if(OFFSET < 0) table offset_ops { void neg(holder *h); }
table all_ops {
    void first(const sometimes *s, holds_empty he);
    lazy batch;
    @if(LEVEL >= 3) lazy deep;
    empty_ops nothing;
    u8 flag;
}
table info { u32 flags; }
backend native default;
"""

# A program that fills in every native hook of RUN_SPEC, then calls through the table and
# through the wrappers.
RUN_SPEC = """\
/// A small ABI that is compiled, linked and run.
abi demo { version 2; }
target host { data_model %(model)s; defines HAS_EXTRA, LEVEL = 3; }
target other { data_model %(model)s; defines LEVEL = 2; }

/// A point.
struct point { s32 x; s32 y; }

/// Brackets a batch.
table lazy_ops {
    /// Starts a batch.
    void enter();
    /// Ends it; returns how many batches were started.
    int leave();
}

/// Facts, set at boot.
table info { u32 flags; }

/// The hooks.
table calc_ops {
    /// Adds.
    long add(long a, long b);
    /// Sums the coordinates.
    s64 sum(const point *p);
    /// Moves a point along x.
    point move(point p, s32 dx);
    /// The backend's name.
    const char *name;
    /// Only with HAS_EXTRA.
    @if(HAS_EXTRA) int extra(int x);
    /// Only without it.
    @if(!HAS_EXTRA) int missing(int x);
    lazy_ops cpu_lazy;
    lazy_ops mmu_lazy;
    /// Needs a hypervisor.
    @no_native(reason = "bare hardware has no hypervisor")
    void hypercall(u32 nr);
    /// The old add.
    @deprecated(since = 2, use = calc_ops.add)
    long add_old(long a, long b);
}

backend native default;
"""

RUN_PROGRAM = r"""
#include <stdio.h>
#include "demo.h"

#ifndef DEMO_TARGET_HOST
#error "the host target's block is not selected"
#endif

static int batches;

long native_calc_ops_add(long a, long b) { return a + b; }
int64_t native_calc_ops_sum(const struct point *p) { return (int64_t)p->x + p->y; }
struct point native_calc_ops_move(struct point p, int32_t dx) { p.x += dx; return p; }
int native_calc_ops_extra(int x) { return 3 * x; }
long native_calc_ops_add_old(long a, long b) { return a - b; }
void native_lazy_ops_enter(void) { batches++; }
int native_lazy_ops_leave(void) { return batches; }

int main(void)
{
    struct point p = { 2, 5 };
    printf("%ld %ld\n", demo_calc_ops_add(40, 2), demo_ops.calc_ops.add(1, 2));
    printf("%lld\n", (long long)demo_calc_ops_sum(&p));
    p = demo_calc_ops_move(p, 10);
    printf("%d %d\n", (int)p.x, (int)p.y);
    printf("%d\n", demo_calc_ops_extra(7));
    demo_calc_ops_cpu_lazy_enter();
    demo_ops.calc_ops.mmu_lazy.enter();
    printf("%d %d\n", demo_calc_ops_mmu_lazy_leave(), demo_ops.calc_ops.cpu_lazy.leave());
    printf("%s %s\n", demo_ops.calc_ops.hypercall ? "set" : "null",
           demo_ops.calc_ops.name ? "set" : "null");
    printf("%ld %u\n", demo_ops.calc_ops.add_old(5, 3), (unsigned)demo_ops.info.flags);
    printf("%d %d\n", DEMO_PATCH_CALC_OPS_ADD, DEMO_PATCH_CALC_OPS_MMU_LAZY_LEAVE);
    return 0;
}
"""

HOSTILE_SPEC = """\
/// Hostile */ LEAK1 /* text with #endif and a backslash at the end \\
/// a right-to-left \u202e override LEAK2, non-ASCII déjà vu 日本語, trigraph ??/
abi hostile { version 2; }
target t64 { data_model lp64; defines X; }
target t32 { data_model ilp32; }

/// */ LEAK3
/// #endif
@if(X) typedef u64 word_t;
/// /* LEAK4 \\
@if(!X) typedef u32 word_t;
/// A struct */ LEAK5 /*
struct s {
    /// */ LEAK6 \\
    word_t w;
}
/// A table */ LEAK7
table evil_ops {
    /// Hook */ LEAK8 ??/
    @patch(native = "a\\x01b */ LEAK9 c", clobbers = "*/ \\\\")
    void evil(s *p);
    /// Replaced.
    @deprecated(since = 2, use = evil_ops.evil, reason = "quote \\" backslash \\\\ ??/ */ \\t\\x01")
    void old();
    /// An opaque gate\u202e: */ LEAK10
    @no_native(reason = "*/ LEAK11 \\x02")
    void gate();
}
backend native default;
"""


# ---- helpers ------------------------------------------------------------------------------


def load(path: Path) -> Abi:
    return load_abi(path, Config(None))


def load_text(folder: Path, text: str) -> Abi:
    path = folder / "spec" / "root.pvspec"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return load(path)


def write_outputs(abi: Abi, folder: Path, options: GenOptions | None = None) -> Path:
    """The generated files under folder/<abi>/; returns the folder of the C files."""
    for f in c.render(abi, options or GenOptions()):
        path = folder / abi.name / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.content.encode("utf-8"))
    return folder / abi.name / "c"


def defines(target: Target, prefix: str = "CONFIG_") -> list[str]:
    return [
        f"-D{prefix}{name}" if value is True else f"-D{prefix}{name}={value}"
        for name, value in sorted(target.defines.items())
    ]


def probe(folder: Path, abi: Abi, selected: Target | None, ext: str) -> Path:
    """A source that includes the header and checks which target block was selected."""
    lines = [f'#include "{abi.name}.h"']
    for t in abi.targets:
        macro = f"{abi.name.upper()}_TARGET_{t.name.upper()}"
        test = "ifndef" if t is selected else "ifdef"
        lines += [f"#{test} {macro}", f'#error "{macro} wrongly (un)selected"', "#endif"]
    path = folder / f"probe_{selected.name if selected else 'none'}.{ext}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)


def compile_ok(cmd: list[str], cwd: Path) -> None:
    proc = run(cmd, cwd)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"


def compile_header(abi: Abi, folder: Path, compiler: str, prefix: str = "CONFIG_") -> None:
    """Each target's defines at both widths; a target's block is selected at its own only."""
    command, ext = COMPILERS[compiler]
    for model, width in WIDTHS.items():
        for target in abi.targets:
            selected = target if target.data_model == model else None
            source = probe(folder, abi, selected, ext)
            compile_ok([*command, *width, *defines(target, prefix), source.name], folder)


def compile_native(abi: Abi, folder: Path) -> None:
    for target in abi.targets:
        for std in (["-std=c11", "-pedantic"], ["-std=gnu89"]):
            cmd = ["gcc", *std, *WARNINGS, "-fsyntax-only", *WIDTHS[target.data_model]]
            compile_ok([*cmd, *defines(target), f"{abi.name}_native.c"], folder)


def strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


# ---- the shipped specs --------------------------------------------------------------------


@needs_compilers
@pytest.mark.parametrize("compiler", sorted(COMPILERS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_header_compiles_and_layout_proofs_hold(case: str, compiler: str, tmp_path: Path) -> None:
    abi = load(CASES[case])
    compile_header(abi, write_outputs(abi, tmp_path), compiler)


@needs_compilers
@pytest.mark.parametrize("case", sorted(CASES))
def test_native_table_compiles_on_every_target(case: str, tmp_path: Path) -> None:
    abi = load(CASES[case])
    compile_native(abi, write_outputs(abi, tmp_path))


@needs_compilers
def test_target_selector_selects_exactly_the_matching_target(tmp_path: Path) -> None:
    abi = load(CASES["paravirt"])
    folder = write_outputs(abi, tmp_path)
    x86_64 = next(t for t in abi.targets if t.name == "x86_64")
    command = COMPILERS["c11"][0]
    source = folder / "probe.c"
    source.write_text(
        '#include "paravirt.h"\n#ifndef PARAVIRT_TARGET_X86_64\n#error "not selected"\n#endif\n'
    )
    compile_ok([*command, "-m64", *defines(x86_64), source.name], folder)
    # The same defines at the other width, and other targets' defines, select nothing.
    for width, target in [("ilp32", x86_64), *(("lp64", t) for t in abi.targets if t != x86_64)]:
        proc = run([*command, *WIDTHS[width], *defines(target), source.name], folder)
        assert proc.returncode != 0 and "not selected" in proc.stderr


@needs_compilers
@pytest.mark.parametrize("compiler", sorted(COMPILERS))
def test_a_wrong_layout_fails_to_compile(compiler: str, tmp_path: Path) -> None:
    abi = load(CASES["contract"])
    folder = write_outputs(abi, tmp_path)
    header = folder / "paravirt.h"
    text = header.read_text()
    wrong = "sizeof(struct pv_mmu_ops) == 49"
    header.write_text(text.replace("sizeof(struct pv_mmu_ops) == 48", wrong))
    assert wrong in header.read_text()
    x86_64 = next(t for t in abi.targets if t.name == "x86_64")
    command, ext = COMPILERS[compiler]
    source = probe(folder, abi, x86_64, ext)
    proc = run([*command, "-m64", *defines(x86_64), source.name], folder)
    assert proc.returncode != 0


@needs_compilers
def test_patch_ids_are_literals_that_assembly_can_use(tmp_path: Path) -> None:
    abi = load(CASES["paravirt"])
    folder = write_outputs(abi, tmp_path)
    x86_64 = next(t for t in abi.targets if t.name == "x86_64")
    source = folder / "ids.S"
    source.write_text(
        '#include "paravirt.h"\n'
        ".long PARAVIRT_PATCH_PV_IRQ_OPS_SAVE_FL\n"
        ".long PARAVIRT_PATCH_PV_MMU_OPS_LAZY_MODE_LEAVE\n"
    )
    compile_ok(["gcc", "-m64", *defines(x86_64), "-c", source.name, "-o", "ids.o"], folder)
    proc = run(["gcc", "-m64", *defines(x86_64), "-E", "-P", source.name], folder)
    layout = abi.layouts["x86_64"]
    assert abi.patch_template is not None
    tables = [abi.tables_by_name[name] for name in abi.patch_template]
    offset = 0
    for t in tables:  # the template on x86_64 has no padding: every table is 8-aligned
        if t.name == "pv_irq_ops":
            break
        offset += layout.records[t.name].size
    expected = (offset + layout.records["pv_irq_ops"].offsets["save_fl"]) // 8
    assert f".long {expected}" in proc.stdout


def test_every_hook_has_a_patch_id_and_a_wrapper() -> None:
    abi = load(CASES["paravirt"])
    header = c.render(abi, GenOptions())[0].content
    hooks = count_hooks(abi)
    assert header.count("#ifndef PARAVIRT_PATCH_") == hooks
    # A @nullable hook also gets a function that says whether its slot is set.
    nullable = sum(1 for slot in abi.hook_slots if slot.hook.nullable)
    assert nullable == 2  # post_allocator_init, read_tscp
    assert header.count("static inline ") == hooks + nullable
    assert "#define PARAVIRT_PATCH_PV_MMU_OPS_LAZY_MODE_ENTER (offsetof(" in header
    assert "#define PV_MMU_OPS_ALLOC_PUD_SINCE_VERSION 2" in header


def test_native_table_leaves_no_native_hooks_and_data_null(tmp_path: Path) -> None:
    abi = load_text(tmp_path, RUN_SPEC % {"model": "lp64"})
    native = c.render(abi, GenOptions())[1].content
    assert "native_calc_ops_hypercall" not in native
    assert "calc_ops.hypercall: bare hardware has no hypervisor" in native
    assert ".info" not in native  # data members only: no initializer at all
    assert native.count("extern void native_lazy_ops_enter(void);") == 1
    assert native.count(".enter = native_lazy_ops_enter,") == 2


# ---- a program that runs ------------------------------------------------------------------


@needs_compilers
def test_program_calls_native_hooks_through_table_and_wrappers(tmp_path: Path) -> None:
    model = "lp64" if struct.calcsize("P") == 8 else "ilp32"
    abi = load_text(tmp_path, RUN_SPEC % {"model": model})
    folder = write_outputs(abi, tmp_path)
    (folder / "main.c").write_text(RUN_PROGRAM)
    host = next(t for t in abi.targets if t.name == "host")
    cmd = ["gcc", "-std=c11", *WARNINGS, *defines(host), "main.c", "demo_native.c", "-o", "prog"]
    compile_ok(cmd, folder)
    proc = run([str(folder / "prog")], folder)
    assert proc.returncode == 0, proc.stderr
    # info (one u32, padded to a pointer) comes first; then add, sum, move, name, extra,
    # cpu_lazy (2), mmu_lazy (enter, leave): leave is slot 1 + 8.
    assert proc.stdout.splitlines() == [
        "42 3",
        "7",
        "12 5",
        "21",
        "2 2",
        "null null",
        "2 0",
        "1 9",
    ]


# ---- corner cases and hostile text --------------------------------------------------------


@needs_compilers
@pytest.mark.parametrize("compiler", sorted(COMPILERS))
def test_corner_cases_compile_on_every_target(compiler: str, tmp_path: Path) -> None:
    abi = load_text(tmp_path, EDGE_SPEC)
    folder = write_outputs(abi, tmp_path)
    compile_header(abi, folder, compiler)
    if compiler == "c11":
        compile_native(abi, folder)


def test_corner_cases_text(tmp_path: Path) -> None:
    header, native = (f.content for f in c.render(load_text(tmp_path, EDGE_SPEC), GenOptions()))
    assert "#define WMAX ((uint64_t)0xffffffffffffffffull)" in header
    assert "#define NMIN ((int64_t)(-9223372036854775807ll - 1))" in header
    assert "SN_MIN = (-2147483647 - 1)," in header
    assert "#define H_HI ((uint32_t)2147483648u)" in header
    assert "#if defined(CONFIG_BIG)\n#define L_BIG ((uint8_t)7)\n#endif" in header
    assert "#if !defined(CONFIG_SMALL) && !defined(CONFIG_BIG)" not in header
    assert "struct empty_ops {\n    EDGE_EMPTY_MEMBER; /* no member" in header
    assert "#if !(defined(CONFIG_SMALL) || defined(CONFIG_BIG))\n    EDGE_EMPTY_MEMBER;" in header
    assert "#define EDGE_EMPTY_MEMBER __extension__ char pvgen_empty_[0]" in header
    assert "#if defined(CONFIG_SMALL)\ntypedef struct maybe maybe;\n#endif" in header
    assert "Patch ID literals for GNU C only" in header
    assert "#if defined(CONFIG_SMALL) || defined(CONFIG_BIG)\n    .cond_ops = {" in native
    assert "defined(CONFIG_OFFSET) && CONFIG_OFFSET == -8" in header


@needs_compilers
@pytest.mark.parametrize("compiler", sorted(COMPILERS))
def test_hostile_text_stays_inside_comments(compiler: str, tmp_path: Path) -> None:
    abi = load_text(tmp_path, HOSTILE_SPEC)
    folder = write_outputs(abi, tmp_path)
    compile_header(abi, folder, compiler)
    if compiler == "c11":
        compile_native(abi, folder)


def test_hostile_text_is_neutralised(tmp_path: Path) -> None:
    for f in c.render(load_text(tmp_path, HOSTILE_SPEC), GenOptions()):
        text = f.content
        assert "LEAK" not in strip_comments(text), f.path
        assert "\u202e" not in text and "\x01" not in text and "\x02" not in text
        assert "??/" not in text
        for line in text.splitlines():
            if "LEAK" in line:  # a doc or annotation line: one comment, closed at its end
                assert line.count("*/") <= 1 and line.count("/*") <= 1, line
                assert "*/" not in line or line.endswith("*/"), line
                assert not line.endswith("\\"), line
    header = c.render(load_text(tmp_path, HOSTILE_SPEC), GenOptions())[0].content
    assert "déjà vu 日本語" in header
    assert 'HOSTILE_DEPRECATED("evil_ops.old is deprecated since ABI version 2' in header


@needs_compilers
def test_gnu_c_lays_out_a_table_empty_on_a_target_as_the_model_does(tmp_path: Path) -> None:
    # On target 'small' table a has no member: GNU C, like the kernel and the model, gives
    # it size 0, so C's patch IDs (literals for GNU C there) equal the Python PATCH_IDS.
    spec = """\
abi e { version 1; }
target small { data_model lp64; }
target big { data_model lp64; defines BIG; }
table a { @if(BIG) void x(); }
table b { void y(); }
backend native default;
"""
    abi = load_text(tmp_path, spec)
    folder = write_outputs(abi, tmp_path)
    ids = patch_ids(abi)
    assert ids["small"] == {"b.y": 0} and ids["big"] == {"a.x": 0, "b.y": 1}
    # The header proves the empty table's layout itself where GNU C is the compiler.
    header = (folder / "e.h").read_text()
    gnu_block = header.split("#if defined(__GNUC__) && !defined(__cplusplus)\nE_STATIC_ASSERT")[1]
    assert gnu_block.startswith(
        '(sizeof(struct a) == 0, small_3, "sizeof(struct a) on target small");'
    )
    for target in abi.targets:
        checks = [
            f'_Static_assert(E_PATCH_{path.replace(".", "_").upper()} == {number}, "{path}");'
            for path, number in ids[target.name].items()
        ]
        (folder / "ids.c").write_text('#include "e.h"\n' + "\n".join(checks) + "\n")
        compile_ok([*COMPILERS["c11"][0], *defines(target), "ids.c"], folder)


# ---- options, determinism, text form, golden files -----------------------------------------


@needs_compilers
def test_macro_prefix_option(tmp_path: Path) -> None:
    abi = load(CASES["paravirt"])
    options = GenOptions(macro_prefix="KCONF_")
    folder = write_outputs(abi, tmp_path, options)
    assert "defined(CONFIG_" not in (folder / "paravirt.h").read_text()
    compile_header(abi, folder, "c11", prefix="KCONF_")


def test_rendering_is_deterministic() -> None:
    abi = load(CASES["paravirt"])
    first = c.render(abi, GenOptions())
    second = c.render(load(CASES["paravirt"]), GenOptions())
    assert [f.path for f in first] == ["c/paravirt.h", "c/paravirt_native.c"]
    assert first == second


@pytest.mark.parametrize("case", sorted(CASES))
def test_text_form(case: str) -> None:
    for f in c.render(load(CASES[case]), GenOptions()):
        assert "\r" not in f.content and "\t" not in f.content
        assert f.content.endswith("\n") and not f.content.endswith("\n\n")
        assert all(line == line.rstrip() for line in f.content.split("\n")), f.path
        assert "Generated by pvgen" in f.content.split("\n", 3)[1]


@pytest.mark.parametrize("name", ["paravirt.h", "paravirt_native.c"])
def test_contract_outputs_match_golden(name: str) -> None:
    files = {Path(f.path).name: f.content for f in c.render(load(CASES["contract"]), GenOptions())}
    golden = GOLDEN / "contract" / name
    if os.environ.get("PVGEN_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(files[name], encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == files[name]
