"""Per-target facts: what resolve works out once for each target, and what reads it.

The numbers of a small ABI are checked against values worked out by hand, then against gcc's
`offsetof` through the generated header, and against the generated Python. For the shipped
specs, the header's patch ID literals and the Python PATCH_IDS must be the model's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PREAMBLE, ROOT_SPECS, root_spec_id
from test_gen_c import COMPILERS, WIDTHS, compile_ok, defines, load, load_text, needs_compilers
from test_gen_c import write_outputs as write_c
from test_gen_python import generate as write_python

from pvgen.gen import GenOptions, c
from pvgen.model import Abi, DataSlot, HookSlot, Opaque, Struct, TypeRef
from pvgen.rules import run_rules

# Sub-tables (lazy, extra), a table empty on 'small' (extra, held by value in irq), a
# top-level table only on 'big' (hv) between two others, and a data member that is not
# pointer-sized (flag).
SPEC = """\
abi facts { version 1; }
target small { data_model ilp32; }
target big { data_model lp64; defines BIG; }
table lazy { void enter(); void leave(); }
table extra { @if(BIG) void only_big(); }
table mmu { void set(u32 v); lazy lazy_mode; u8 flag; void after(); }
@if(BIG) table hv { void call(); }
table irq { extra more; void save_fl(); }
backend native default;
"""

# Worked out by hand. small (ilp32): lazy is 8 bytes; extra is empty, 0 bytes, as in GNU C;
# mmu = set@0, lazy_mode@4, flag@12, after@16 (4-aligned): 20 bytes; irq = more@0 (0 bytes),
# save_fl@0: 4 bytes; the aggregate is mmu@0, irq@20: 24 bytes.
# big (lp64): lazy is 16 bytes; extra 8; mmu = set@0, lazy_mode@8, flag@24, after@32: 40;
# hv 8; irq = more@0, save_fl@8: 16; the aggregate is mmu@0, hv@40, irq@48: 64 bytes.
AGGREGATE = {
    "small": (24, {"mmu": 0, "irq": 20}),
    "big": (64, {"mmu": 0, "hv": 40, "irq": 48}),
}
SLOT_OFFSETS = {
    "small": {
        "mmu.set": 0,
        "mmu.lazy_mode.enter": 4,
        "mmu.lazy_mode.leave": 8,
        "mmu.flag": 12,
        "mmu.after": 16,
        "irq.save_fl": 20,
    },
    "big": {
        "mmu.set": 0,
        "mmu.lazy_mode.enter": 8,
        "mmu.lazy_mode.leave": 16,
        "mmu.flag": 24,
        "mmu.after": 32,
        "hv.call": 40,
        "irq.more.only_big": 48,
        "irq.save_fl": 56,
    },
}
PATCH_IDS = {
    "small": {
        "mmu.set": 0,
        "mmu.lazy_mode.enter": 1,
        "mmu.lazy_mode.leave": 2,
        "mmu.after": 4,
        "irq.save_fl": 5,
    },
    "big": {
        "mmu.set": 0,
        "mmu.lazy_mode.enter": 1,
        "mmu.lazy_mode.leave": 2,
        "mmu.after": 4,
        "hv.call": 5,
        "irq.more.only_big": 6,
        "irq.save_fl": 7,
    },
}


def macro(abi: Abi, path: str) -> str:
    return f"{abi.name.upper()}_PATCH_{path.replace('.', '_').upper()}"


def python_patch_ids(abi: Abi, folder: Path) -> object:
    """PATCH_IDS as the generated package, imported in a fresh interpreter, has them."""
    root = write_python(abi, folder)
    code = f"import json, {abi.name}; print(json.dumps({abi.name}.PATCH_IDS))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_facts_of_each_target_are_the_numbers_worked_out_by_hand(tmp_path: Path) -> None:
    abi = load_text(tmp_path, SPEC)
    for name, facts in abi.facts.items():
        size, tables = AGGREGATE[name]
        assert facts.aggregate.size == size
        assert list(facts.aggregate.offsets.items()) == list(tables.items())
        assert list(facts.slot_offsets.items()) == list(SLOT_OFFSETS[name].items())
        assert list(facts.patch_ids.items()) == list(PATCH_IDS[name].items())
        assert [s.path for s in facts.slots] == list(SLOT_OFFSETS[name])
    small, big = abi.facts["small"], abi.facts["big"]
    # On small, extra is empty and irq holds it: under ISO C both would be larger.
    assert small.gnu_only == {"extra", "irq"} and not small.aggregate_exact
    assert big.gnu_only == set() and big.aggregate_exact
    assert small.present.get("hv") is None and big.present.get("hv") is abi.tables_by_name["hv"]
    assert abi.layouts["small"] is small.layout


@needs_compilers
def test_gcc_lays_out_the_aggregate_as_the_facts_say(tmp_path: Path) -> None:
    abi = load_text(tmp_path, SPEC)
    folder = write_c(abi, tmp_path)
    header = (folder / "facts.h").read_text()
    # The literals on small hold for GNU C only; big's hold for every compiler.
    gnu_only = header.split("#define FACTS_TARGET_SMALL 1\n")[1].split("#endif /* target")[0]
    assert gnu_only.startswith("#if defined(__GNUC__) && !defined(__cplusplus)\n")
    assert "#define FACTS_PATCH_IRQ_SAVE_FL 5\n" in gnu_only
    exact = header.split("#define FACTS_TARGET_BIG 1\n")[1].split("#endif /* target")[0]
    assert exact.startswith("#define FACTS_PATCH_MMU_SET 0\n")
    for target in abi.targets:
        facts = abi.facts[target.name]
        checks = [f'_Static_assert(sizeof(struct facts_ops) == {facts.aggregate.size}, "size");']
        for path, offset in facts.slot_offsets.items():
            what = f"offsetof(struct facts_ops, {path})"
            checks.append(f'_Static_assert({what} == {offset}, "{path}");')
        for path, number in facts.patch_ids.items():
            checks.append(f'_Static_assert({macro(abi, path)} == {number}, "{path}");')
        (folder / "facts_check.c").write_text('#include "facts.h"\n' + "\n".join(checks) + "\n")
        width = WIDTHS[target.data_model]
        compile_ok([*COMPILERS["c11"][0], *width, *defines(target), "facts_check.c"], folder)


def test_the_generated_python_has_the_model_s_patch_ids(tmp_path: Path) -> None:
    abi = load_text(tmp_path, SPEC)
    assert python_patch_ids(abi, tmp_path / "gen") == PATCH_IDS


def test_one_walk_gives_paths_owners_conditions_and_inherited_deprecation(tmp_path: Path) -> None:
    abi = load_text(
        tmp_path,
        PREAMBLE + """\
table lazy { void enter(); @if(X86_64) u64 depth; }
@deprecated(since = 1, use = mmu.set)
table old { void go(); }
table mmu {
    void set();
    @if(LEVELS >= 3) lazy lazy_mode;
    old older;
}
@if(X86_32) table irq { lazy nested; }
backend native default;
""",
    )
    slots = {s.path: s for s in abi.slots}
    assert list(slots) == [
        "mmu.set",
        "mmu.lazy_mode.enter",
        "mmu.lazy_mode.depth",
        "mmu.older.go",
        "irq.nested.enter",
        "irq.nested.depth",
    ]
    depth = slots["mmu.lazy_mode.depth"]
    assert isinstance(depth, DataSlot) and depth.data.name == "depth"
    assert depth.names == ("lazy_mode", "depth")
    assert [t.name for t in depth.owners] == ["mmu", "lazy"] and depth.owner.name == "lazy"
    assert [t.name for t in abi.targets if t.holds(depth.condition)] == ["x86_64"]
    assert depth.deprecated is None
    go = slots["mmu.older.go"]
    assert isinstance(go, HookSlot) and go.deprecated is abi.tables_by_name["old"].deprecated
    assert abi.hook_slots == tuple(s for s in abi.slots if isinstance(s, HookSlot))
    # Each target's facts hold the slots present there: conditions on the way included.
    present = {t: [s.path for s in f.slots] for t, f in abi.facts.items()}
    assert present == {
        "i386": ["mmu.set", "mmu.older.go", "irq.nested.enter"],
        "x86_64": [
            "mmu.set",
            "mmu.lazy_mode.enter",
            "mmu.lazy_mode.depth",
            "mmu.older.go",
        ],
    }
    for name, facts in abi.facts.items():
        assert [s for s in abi.slots if facts.holds(s)] == list(facts.slots), name


def test_declarations_present_follow_typedefs_per_target(tmp_path: Path) -> None:
    abi = load_text(
        tmp_path,
        PREAMBLE + """\
opaque struct task;
struct pair { u32 a; u32 b; }
@if(X86_32) typedef pair word_t;
@if(X86_64) typedef u64 word_t;
typedef word_t alias_t;
typedef task *task_p;
table t { void f(alias_t a, task_p p); }
backend native default;
""",
    )
    i386, x86_64 = abi.facts["i386"].present, abi.facts["x86_64"].present
    assert isinstance(i386.behind(TypeRef("alias_t", False)), Struct)
    assert i386.record_behind("alias_t") is abi.types_by_name["pair"][0]
    assert x86_64.behind(TypeRef("alias_t", False)) == TypeRef("u64", True)
    assert x86_64.record_behind("alias_t") is None
    assert x86_64.behind(TypeRef("task_p", False)) == TypeRef("task", False, pointers=(False,))
    assert isinstance(x86_64.behind(TypeRef("task", False)), Opaque)


def test_a_callee_save_hook_is_judged_only_where_its_table_is_present(tmp_path: Path) -> None:
    # On i386 a u64 and a u32 take three argument words, one more than eax and edx; on
    # x86_64 two registers. The table holding the hook is x86_64's only.
    spec = PREAMBLE + (
        "/// Only on x86_64.\n@if(X86_64) table pv_cpu_ops {\n"
        "    /// Writes an MSR.\n    @callee_save void write_msr(u64 value, u32 msr);\n}\n"
        "/// Native.\nbackend native default;\n"
    )
    assert [d.code for d in run_rules(load_text(tmp_path, spec))] == []
    everywhere = spec.replace("@if(X86_64) table", "table")
    found = [d for d in run_rules(load_text(tmp_path, everywhere)) if d.code == "PV105"]
    assert len(found) == 1 and "on i386:" in found[0].message


# ---- the shipped specs --------------------------------------------------------------------


@needs_compilers
@pytest.mark.parametrize("spec", ROOT_SPECS, ids=root_spec_id)
def test_the_header_s_patch_ids_are_the_model_s(spec: Path, tmp_path: Path) -> None:
    abi = load(spec)
    folder = write_c(abi, tmp_path)
    for target in abi.targets:
        ids = abi.facts[target.name].patch_ids
        assert ids, f"no hook on target {target.name}"
        checks = [f'_Static_assert({macro(abi, p)} == {n}, "{p}");' for p, n in ids.items()]
        source = folder / f"ids_{target.name}.c"
        source.write_text(f'#include "{abi.name}.h"\n' + "\n".join(checks) + "\n")
        width = WIDTHS[target.data_model]
        compile_ok([*COMPILERS["c11"][0], *width, *defines(target), source.name], folder)


@pytest.mark.parametrize("spec", ROOT_SPECS, ids=root_spec_id)
def test_the_header_and_the_python_number_hooks_as_the_model(spec: Path, tmp_path: Path) -> None:
    abi = load(spec)
    model = {t.name: dict(abi.facts[t.name].patch_ids) for t in abi.targets}
    assert python_patch_ids(abi, tmp_path) == model
    header = c.render(abi, GenOptions())[0].content
    for target in abi.targets:
        block = header.split(f"#define {abi.name.upper()}_TARGET_{target.name.upper()} 1\n")[1]
        block = block.split(f"#endif /* target {target.name} */")[0]
        literals = {
            name: int(value)
            for name, value in (
                line.split()[1:3] for line in block.splitlines() if line.startswith("#define ")
            )
        }
        assert literals == {macro(abi, p): n for p, n in model[target.name].items()}
