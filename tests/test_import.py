"""`pvgen import`: C headers in the style of Linux's paravirt headers to specs that check.

The headers in tests/import/ are written for these tests; each reproduces the
constructs of one generation of the kernel's header (see the comment at its top).
The expected spec and notes beside each are reviewed goldens; PVGEN_UPDATE_GOLDEN=1
rewrites them. Each folder tests/import/linux-<release>/ holds a pair, the tables
(paravirt_types.h) and the call wrappers (paravirt.h), imported together, and an
extract of the kernel facts of that release that the import is held to.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli, run_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

IMPORT = ROOT / "tests" / "import"
HEADERS = sorted(p.stem for p in IMPORT.glob("*.h"))
PAIRS = sorted(p.name for p in IMPORT.glob("linux-*") if p.is_dir())
UPDATE = os.environ.get("PVGEN_UPDATE_GOLDEN") == "1"
# Each golden: (folder, the command's headers, the expected spec's path without suffix).
GOLDENS = [(IMPORT, (f"{name}.h",), IMPORT / name) for name in HEADERS] + [
    (IMPORT / pair, ("paravirt_types.h", "paravirt.h"), IMPORT / pair / "paravirt_types")
    for pair in PAIRS
]
GOLDEN_IDS = HEADERS + PAIRS


@pytest.mark.parametrize(("folder", "headers", "expected"), GOLDENS, ids=GOLDEN_IDS)
def test_import_gives_the_expected_spec_and_notes(
    folder: Path, headers: tuple[str, ...], expected: Path
) -> None:
    result = run_cli("import", *headers, cwd=folder)
    assert result.status == 0, result.err
    if UPDATE:
        expected.with_suffix(".pvspec").write_text(result.out)
        expected.with_suffix(".notes").write_text(result.err)
    assert result.out == expected.with_suffix(".pvspec").read_text()
    assert result.err == expected.with_suffix(".notes").read_text()


@pytest.mark.parametrize("expected", [g[2] for g in GOLDENS], ids=GOLDEN_IDS)
def test_imported_spec_checks_generates_and_compiles(expected: Path, tmp_path: Path) -> None:
    spec = tmp_path / f"{expected.name}.pvspec"
    shutil.copy(expected.with_suffix(".pvspec"), spec)
    check = run_cli("check", str(spec))
    assert check.status == 0, check.err
    assert run_cli("generate", str(spec), "--out", str(tmp_path / "out")).status == 0
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    dump = json.loads(run_cli("dump", str(spec)).out)
    header = tmp_path / "out" / dump["abi"]["name"] / "c" / f"{dump['abi']['name']}.h"
    for target in dump["targets"]:
        width = ["-m32", "-ffreestanding"] if target["data_model"] == "ilp32" else ["-m64"]
        defines = [
            f"-DCONFIG_{k}" if v is True else f"-DCONFIG_{k}={v}"
            for k, v in target["defines"].items()
        ]
        compiled = subprocess.run(
            ["gcc", *width, "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"]
            + defines
            + ["-x", "c", str(header)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert compiled.returncode == 0, compiled.stderr


def test_fastcall_becomes_regparm_on_i386_only(tmp_path: Path) -> None:
    spec = tmp_path / "i386_paravirt.pvspec"
    shutil.copy(IMPORT / "i386_paravirt.pvspec", spec)
    assert run_cli("generate", str(spec), "--out", str(tmp_path)).status == 0
    header = (tmp_path / "i386_paravirt" / "c" / "i386_paravirt.h").read_text()
    assert "#define I386_PARAVIRT_FASTCALL __attribute__((regparm(3)))" in header
    assert "void (I386_PARAVIRT_FASTCALL *clts)(void);" in header
    assert "void (*arch_setup)(void);" in header


def test_a_changed_calling_convention_is_a_breaking_change(tmp_path: Path) -> None:
    old = (IMPORT / "i386_paravirt.pvspec").read_text()
    (tmp_path / "old.pvspec").write_text(old)
    new = old.replace("@callconv(fastcall)\n    void clts();", "void clts();")
    assert new != old
    (tmp_path / "new.pvspec").write_text(new)
    result = run_cli("diff", "old.pvspec", "new.pvspec", cwd=tmp_path)
    assert result.status & 8, result.out
    assert (
        "PV212" in result.out and "calling convention of 'paravirt_ops.clts' changed" in result.out
    )


def test_struct_patterns_choose_the_tables() -> None:
    result = run_cli("import", "x86_paravirt.h", "--struct", "pv_*", "--abi", "pv", cwd=IMPORT)
    assert result.status == 0, result.err
    assert "abi pv {" in result.out
    assert "table pv_info {" in result.out  # data only, but named
    assert "paravirt_patch_template" not in result.out  # not named, so not imported
    assert "table pv_lazy_ops {" in result.out
    missing = run_cli("import", "x86_paravirt.h", "--struct", "xen_*", cwd=IMPORT)
    assert missing.status == 1
    assert (
        "error: no struct matches xen_*; structs in the header: paravirt_patch_template"
        in missing.err
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"struct a {\n  int x;\n", "bad.h:1:10: error: '{' is never closed"),
        (b"struct a { int x; };\n}\n", "bad.h:2:1: error: '}' closes nothing"),
        (b"struct a {\n /* open\n", "bad.h:2:2: error: unterminated comment '/*'"),
        (
            b"#ifdef X\nstruct a { void (*f)(void); };\n",
            "bad.h:1:1: error: '#ifdef X' has no '#endif'",
        ),
        (b"#endif\n", "bad.h:1:1: error: '#endif' without '#if'"),
        (
            b"\x7fELF\x02\x01\x01\x00\x00\x00",
            "bad.h:1:1: error: not a text file (it contains a NUL byte)",
        ),
        (
            b"int x;\n",
            "bad.h: error: no hook tables found: no struct has a function-pointer member",
        ),
        (b"", "bad.h: error: no hook tables found"),
        (b'char *s = "open;\n', 'bad.h:1:11: error: unterminated " literal'),
    ],
    ids=[
        "open-brace",
        "extra-brace",
        "open-comment",
        "no-endif",
        "stray-endif",
        "binary",
        "no-tables",
        "empty",
        "open-string",
    ],
)
def test_garbage_ends_in_a_clean_error(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "bad.h").write_bytes(content)
    result = run_cli("import", "bad.h", cwd=tmp_path)
    assert result.status == 1
    assert result.err.startswith(message), result.err
    assert result.out == ""


def test_a_ten_megabyte_header_ends_in_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "big.h").write_bytes(b"/* padding */\n" * (10 * 1024 * 1024 // 14 + 1))
    result = run_process("import", "big.h", cwd=tmp_path)
    assert result.status == 1
    assert result.err == "big.h: error: 10.0 MiB is over the limit of 8 MiB for a header\n"


def test_output_file_is_written_once_and_replaced_only_with_force(tmp_path: Path) -> None:
    shutil.copy(IMPORT / "i386_paravirt.h", tmp_path)
    expected = (IMPORT / "i386_paravirt.pvspec").read_text()
    first = run_cli("import", "i386_paravirt.h", "-o", "spec.pvspec", cwd=tmp_path)
    assert first.status == 0 and first.out == "" and "wrote spec.pvspec" in first.err
    assert (tmp_path / "spec.pvspec").read_text() == expected
    (tmp_path / "spec.pvspec").write_text("// my edits\n")
    again = run_cli("import", "i386_paravirt.h", "-o", "spec.pvspec", cwd=tmp_path)
    assert again.status == 2
    assert "'spec.pvspec' exists; pass --force to replace it" in again.err
    assert (tmp_path / "spec.pvspec").read_text() == "// my edits\n"
    forced = run_cli("import", "i386_paravirt.h", "-o", "spec.pvspec", "--force", cwd=tmp_path)
    assert forced.status == 0 and (tmp_path / "spec.pvspec").read_text() == expected


def test_a_missing_header_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("import", "nowhere.h", cwd=tmp_path)
    assert result.status == 2
    assert "cannot read 'nowhere.h'" in result.err


SOURCES = [(IMPORT / f"{name}.h").read_bytes() for name in HEADERS]
TOKENS = [
    b"{",
    b"}",
    b"(",
    b")",
    b"*",
    b";",
    b",",
    b"#if X\n",
    b"#else\n",
    b"#endif\n",
    b"/*",
    b"*/",
    b"//",
    b"\\\n",
    b'"',
    b"'",
    b"...",
    b"struct",
    b"\x00",
    b"\xff",
]


@settings(
    max_examples=int(os.environ.get("PVGEN_FUZZ_EXAMPLES", "60")) // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(SOURCES),
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 30), st.sampled_from(TOKENS)),
        min_size=1,
        max_size=5,
    ),
)
def test_mutated_headers_never_crash(
    tmp_path: Path, source: bytes, edits: list[tuple[int, int, bytes]]
) -> None:
    data = bytearray(source)
    for at, cut, token in edits:
        at = min(at, len(data))
        data[at : at + cut] = token
    (tmp_path / "m.h").write_bytes(bytes(data))
    result = run_cli("import", "m.h", cwd=tmp_path)
    assert result.status in (0, 1), result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    if result.status == 0:
        # The output always parses; it is formatted by pvgen fmt, which re-parses it.
        (tmp_path / "m.pvspec").write_text(result.out)
        check = run_cli("check", "--no-rules", "m.pvspec", cwd=tmp_path)
        assert "syntax" not in check.err and "unexpected" not in check.err, check.err


# ---- callee-save slots, held to the kernel facts -----------------------------------------


def _facts_file() -> Path | None:
    """The whole facts file of the Linux releases, as the repository keeps it for its tests."""
    path = ROOT / "tests" / "facts" / "linux-paravirt-history.json"
    return path if path.is_file() else None


def _extract(pair: str) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((IMPORT / pair / "facts.json").read_text())
    return facts


def _slot_paths(
    tables: dict[str, list[dict[str, str]]],
    table: str,
    prefix: str,
    defines: Mapping[str, bool | int],
) -> list[str]:
    """The hooks of `table` in the facts that a target with `defines` has, embedded tables
    walked in place, as spec paths."""
    paths = []
    for member in tables[table]:
        if not _holds(member.get("cond"), defines):
            continue
        if member["kind"] == "nested":
            paths += _slot_paths(tables, member["type"], f"{prefix}{member['name']}.", defines)
        elif member["kind"] in ("fn", "callee_save"):
            paths.append(prefix + member["name"])
    return paths


def _holds(condition: str | None, defines: Mapping[str, bool | int]) -> bool:
    """A facts condition as the C preprocessor reads it: `defined(CONFIG_X86_PAE)`,
    `PAGETABLE_LEVELS >= 3 && ...`, `!defined(...)`."""
    if not condition:
        return True

    def value(name: str) -> str:
        return str(int(defines.get(name.removeprefix("CONFIG_"), False)))

    def is_defined(name: str) -> str:
        return str(int(name.removeprefix("CONFIG_") in defines))

    expr = re.sub(r"defined\s*\(\s*(\w+)\s*\)", lambda m: is_defined(m.group(1)), condition)
    expr = re.sub(r"[A-Za-z_]\w*", lambda m: value(m.group(0)), expr)
    expr = re.sub(r"!(?!=)", " not ", expr.replace("&&", " and ").replace("||", " or "))
    return bool(eval(expr, {"__builtins__": {}}))


def _import_to(tmp_path: Path, pair: str, *headers: str) -> tuple[Any, str, str]:
    """The imported spec compiled, and the command's stdout and stderr."""
    from pvgen import api

    result = run_cli("import", *headers, cwd=IMPORT / pair)
    assert result.status == 0, result.err
    spec = tmp_path / "imported.pvspec"
    spec.write_text(result.out)
    return api.load_abi(spec), result.out, result.err


@pytest.mark.parametrize("pair", PAIRS)
def test_the_facts_extract_matches_the_facts_file(pair: str) -> None:
    whole = _facts_file()
    if whole is None:
        pytest.skip("tests/facts/linux-paravirt-history.json is missing")
    extract = _extract(pair)
    release = json.loads(whole.read_text())["versions"][extract["release"]]
    assert extract["callee_save"] == release["callee_save"]
    for name, members in extract["tables"].items():
        assert members == release["tables"][name], name


@pytest.mark.parametrize("with_wrappers", [True, False], ids=["with-wrappers", "tables-only"])
@pytest.mark.parametrize("pair", PAIRS)
def test_every_callee_save_slot_keeps_the_kernels_place(
    pair: str, with_wrappers: bool, tmp_path: Path
) -> None:
    facts = _extract(pair)
    callee_save = [k for k, m in facts["tables"].items() for x in m if x["kind"] == "callee_save"]
    assert len(callee_save) == len(facts["callee_save"]) > 0
    headers = ("paravirt_types.h", "paravirt.h") if with_wrappers else ("paravirt_types.h",)
    abi, _, _ = _import_to(tmp_path, pair, *headers)
    for target in abi.targets:
        template = "paravirt_patch_template"
        expected = _slot_paths(facts["tables"], template, f"{template}.", target.defines)
        facts_here = abi.facts[target.name]
        pointer = 8 if target.data_model == "lp64" else 4
        # Every slot of the header, in its order: patch IDs count from 0 through the template.
        assert list(facts_here.patch_ids) == expected, target.name
        assert list(facts_here.patch_ids.values()) == list(range(len(expected)))
        assert [facts_here.slot_offsets[p] for p in expected] == [
            i * pointer for i in range(len(expected))
        ]
        if pair == "linux-6.19":
            assert len(expected) == 81  # the case: 81 slots, 16 of them callee-save


@pytest.mark.parametrize("pair", PAIRS)
def test_callee_save_signatures_are_the_kernels(pair: str, tmp_path: Path) -> None:
    facts = _extract(pair)
    abi, _, _ = _import_to(tmp_path, pair, "paravirt_types.h", "paravirt.h")
    for path, wrappers in facts["callee_save"].items():
        table, name = path.split(".")
        hook = next(m for m in abi.tables_by_name[table].members if m.name == name)
        assert hook.callee_save, path
        got = (hook.returns.name, [_c_param(p.type, p.name) for p in hook.params])
        if not wrappers:  # the kernel calls it from assembler only: a placeholder stays
            assert got == ("void", []), path
            continue
        # The wrapper's own parameters, as the facts give its declaration.
        declared = wrappers[0]["wrapper"].split("(", 1)[1].rstrip(")")
        params = [] if declared == "void" else [p.strip() for p in declared.split(",")]
        assert {(w["ret"], w["wrapper"]) for w in wrappers} == {
            (wrappers[0]["ret"], wrappers[0]["wrapper"])
        }
        assert got == (wrappers[0]["ret"], params), path


def _c_param(ctype: Any, name: str) -> str:
    """A parameter as C writes it: `struct qspinlock *lock`, `pte_t pte`, `long cpu`."""
    spelled = (
        ctype.name if ctype.builtin else f"struct {ctype.name}" if ctype.pointers else ctype.name
    )
    return f"{'const ' if ctype.const else ''}{spelled} {'*' * len(ctype.pointers)}{name}"


@pytest.mark.parametrize("pair", PAIRS)
def test_without_wrappers_each_callee_save_slot_is_a_marked_placeholder(
    pair: str, tmp_path: Path
) -> None:
    facts = _extract(pair)
    abi, text, notes = _import_to(tmp_path, pair, "paravirt_types.h")
    todos = " ".join(line.strip().removeprefix("// ") for line in text.splitlines())
    for path in facts["callee_save"]:
        table, name = path.split(".")
        hook = next(m for m in abi.tables_by_name[table].members if m.name == name)
        assert hook.callee_save and hook.returns.name == "void" and not hook.params, path
        assert f"'{name}' is a callee-save thunk (struct paravirt_callee_save {name};)" in todos
        assert f"{path}: callee-save thunk, and the header does not give its C signature" in notes
    count = len(facts["callee_save"])
    assert f"{count} callee-save slots: 0 signatures recovered" in notes
    assert f"{count} kept as placeholders marked TODO" in notes


@pytest.mark.parametrize("pair", PAIRS)
def test_the_imported_patch_ids_are_the_headers_offsets_under_gcc(
    pair: str, tmp_path: Path
) -> None:
    """gcc lays out the test header itself; every imported patch ID must be its offset."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    abi, text, _ = _import_to(tmp_path, pair, "paravirt_types.h")
    header = IMPORT / pair / "paravirt_types.h"
    include = tmp_path / "include"
    for included in re.findall(r"^#include <([\w/.-]+)>", header.read_text(), re.MULTILINE):
        (include / included).parent.mkdir(parents=True, exist_ok=True)
        (include / included).write_text("")
    # The types the header takes from elsewhere appear only in parameters, so any
    # definition lays the tables out alike.
    guessed = re.findall(r"^typedef unsigned long (\w+);", text, re.MULTILINE)
    enums = re.findall(r"^typedef u32 (\w+);", text, re.MULTILINE)
    prelude = [
        "#include <stddef.h>",
        "#include <stdbool.h>",
        "#define __no_randomize_layout",
        "typedef unsigned char u8;",
        "typedef unsigned short u16;",
        "typedef unsigned int u32;",
        "typedef unsigned long long u64;",
        "typedef struct gate_struct gate_desc;",
        *(f"typedef struct {{ unsigned long v; }} {name};" for name in guessed),
        *(f"enum {name} {{ {name}_first }};" for name in enums),
    ]
    for target in abi.targets:
        checks = [
            f"_Static_assert(offsetof(struct paravirt_patch_template, {path.split('.', 1)[1]})"
            f' == {patch_id} * sizeof(void *), "{path}");'
            for path, patch_id in abi.facts[target.name].patch_ids.items()
        ]
        assert checks
        program = tmp_path / f"{target.name}.c"
        lines = [*prelude, f'#include "{header}"', *checks]
        program.write_text("\n".join(lines) + "\n")
        width = ["-m32", "-ffreestanding"] if target.data_model == "ilp32" else ["-m64"]
        # The spec drops CONFIG_ from the names the header tests; some never had it.
        defines = ["-DCONFIG_PARAVIRT"] + [
            f"-D{prefix}{k}" if v is True else f"-D{prefix}{k}={v}"
            for k, v in target.defines.items()
            for prefix in ("CONFIG_", "")
        ]
        compiled = subprocess.run(
            ["gcc", *width, "-std=c11", "-fsyntax-only", "-I", str(include), *defines]
            + [str(program)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert compiled.returncode == 0, compiled.stderr


CALLEE_TABLES = b"""\
struct paravirt_callee_save {
	void *func;
};

struct pv_mmu_ops {
	struct paravirt_callee_save pte_val;
	struct paravirt_callee_save make_pte;
};

struct pv_lock_ops {
	struct paravirt_callee_save lock_spinning;
	struct paravirt_callee_save unlock;
	struct paravirt_callee_save vcpu_is_preempted;
	struct paravirt_callee_save odd;
};

struct paravirt_patch_template {
	struct pv_mmu_ops mmu;
	struct pv_lock_ops lock;
};
"""

# The wrappers' forms across releases, and the ones pvgen must not guess from.
CALLEE_WRAPPERS = b"""\
/* 2.6.30 to 4.19: the table's own variable, two words for a 64-bit value on i386. */
static inline pteval_t pte_val(pte_t pte)
{
	pteval_t ret;

	if (sizeof(pteval_t) > sizeof(long))
		ret = PVOP_CALLEE2(pteval_t, pv_mmu_ops.pte_val,
			pte.pte, (u64)pte.pte >> 32);
	else
		ret = PVOP_CALLEE1(pteval_t, pv_mmu_ops.pte_val, pte.pte);
	return ret;
}

/* Kernels that name the ops array before the op. */
static inline pte_t __pte(pteval_t val)
{
	return (pte_t) { PVOP_ALT_CALLEE1(pteval_t, pv_ops, mmu.make_pte, val,
			"mov %%rdi, %%rax", ALT_NOT_XEN) };
}

static __always_inline void ticket_spinning(struct arch_spinlock *lock, u16 ticket)
{
	PVOP_VCALLEE2(pv_lock_ops.lock_spinning, lock, ticket);
}

static inline void unlock_one(struct qspinlock *lock)
{
	PVOP_VCALLEE1(lock.unlock, lock);
}

static inline void unlock_other(int cpu)
{
	PVOP_VCALLEE1(lock.unlock, cpu);
}

static inline bool preempted(void)
{
	long cpu = 0;

	return PVOP_CALLEE1(bool, lock.vcpu_is_preempted, cpu);
}

#ifdef __ASSEMBLY__
static inline void odd(int x)
{
	PVOP_VCALLEE1(lock.odd, x);
}
#endif
"""


def test_call_wrappers_of_every_era_give_signatures_and_doubtful_ones_do_not(
    tmp_path: Path,
) -> None:
    (tmp_path / "types.h").write_bytes(CALLEE_TABLES)
    (tmp_path / "wrappers.h").write_bytes(CALLEE_WRAPPERS)
    result = run_cli("import", "types.h", "wrappers.h", cwd=tmp_path)
    assert result.status == 0, result.err
    (tmp_path / "types.pvspec").write_text(result.out)
    from pvgen import api

    abi = api.load_abi(tmp_path / "types.pvspec")
    hooks = {
        f"{table}.{hook.name}": (
            hook.returns.name,
            [(p.type.name, len(p.type.pointers), p.name) for p in hook.params],
        )
        for table in ("pv_mmu_ops", "pv_lock_ops")
        for hook in abi.tables_by_name[table].members
    }
    assert hooks == {
        "pv_mmu_ops.pte_val": ("pteval_t", [("pte_t", 0, "pte")]),
        "pv_mmu_ops.make_pte": ("pteval_t", [("pteval_t", 0, "val")]),
        "pv_lock_ops.lock_spinning": (
            "void",
            [("arch_spinlock", 1, "lock"), ("u16", 0, "ticket")],
        ),
        # Placeholders: the wrappers disagree, pass a local, or are assembler.
        "pv_lock_ops.unlock": ("void", []),
        "pv_lock_ops.vcpu_is_preempted": ("void", []),
        "pv_lock_ops.odd": ("void", []),
    }
    assert list(abi.facts["lp64"].patch_ids.values()) == list(range(6))
    notes = result.err
    assert (
        "pv_mmu_ops.pte_val: callee-save signature recovered from pte_val() at wrappers.h:2"
        in notes
    )
    assert (
        "pv_lock_ops.unlock: callee-save thunk, and its call wrappers give different signatures"
        " (unlock_one() at wrappers.h:26, unlock_other() at wrappers.h:31)" in notes
    )
    assert (
        "pv_lock_ops.vcpu_is_preempted: callee-save thunk, and its call wrapper (preempted() at"
        " wrappers.h:36) passes values pvgen cannot trace to the wrapper's parameters" in notes
    )
    assert (
        "pv_lock_ops.odd: callee-save thunk, and no PVOP_*CALLEE* call wrapper in types.h,"
        " wrappers.h calls it" in notes
    )
    assert "types.h: note: 6 callee-save slots: 3 signatures recovered" in notes
    assert "3 kept as placeholders marked TODO\n" in notes
    assert "wrappers.h:" not in notes.replace(" at wrappers.h:", "")  # nothing else of it


@pytest.mark.parametrize(
    ("files", "args", "status", "message"),
    [
        (
            {"types.h": CALLEE_TABLES, "wrappers.h": CALLEE_WRAPPERS},
            ("wrappers.h", "types.h"),
            1,
            "wrappers.h: error: no hook tables found: no struct has a function-pointer member"
            " (name structs with --struct to import them anyway); the first HEADER must be the"
            " one with the tables (the others are read for call wrappers only)",
        ),
        (
            {"types.h": CALLEE_TABLES, "wrappers.h": b"static inline int f(void)\n{\n\x00}\n"},
            ("types.h", "wrappers.h"),
            1,
            "wrappers.h:3:1: error: not a text file (it contains a NUL byte)",
        ),
        (
            {"types.h": CALLEE_TABLES, "wrappers.h": b"static inline int f(void)\n{\n"},
            ("types.h", "wrappers.h"),
            1,
            "wrappers.h:2:1: error: '{' is never closed",
        ),
        ({"types.h": CALLEE_TABLES}, ("types.h", "nowhere.h"), 2, "cannot read 'nowhere.h'"),
        ({"types.h": CALLEE_TABLES}, ("-", "-"), 2, "'-' (stdin) can be given once"),
    ],
    ids=["tables-last", "binary-wrappers", "broken-wrappers", "missing-wrappers", "stdin-twice"],
)
def test_a_bad_further_header_is_a_clean_error(
    tmp_path: Path, files: dict[str, bytes], args: tuple[str, ...], status: int, message: str
) -> None:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    result = run_cli("import", *args, cwd=tmp_path)
    assert result.status == status
    assert message in result.err, result.err
    assert result.out == ""


WRAPPER_SOURCES = [(IMPORT / pair / "paravirt.h").read_bytes() for pair in PAIRS]


@settings(
    max_examples=int(os.environ.get("PVGEN_FUZZ_EXAMPLES", "60")) // 4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(range(len(PAIRS))),
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 30), st.sampled_from(TOKENS)),
        min_size=1,
        max_size=5,
    ),
)
def test_mutated_wrapper_headers_never_crash(
    tmp_path: Path, pair: int, edits: list[tuple[int, int, bytes]]
) -> None:
    data = bytearray(WRAPPER_SOURCES[pair])
    for at, cut, token in edits:
        at = min(at, len(data))
        data[at : at + cut] = token
    shutil.copy(IMPORT / PAIRS[pair] / "paravirt_types.h", tmp_path / "types.h")
    (tmp_path / "w.h").write_bytes(bytes(data))
    result = run_cli("import", "types.h", "w.h", cwd=tmp_path)
    assert result.status in (0, 1), result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    if result.status == 1:
        assert result.err.startswith("w.h"), result.err  # the broken header is named
    else:
        # Whatever the wrappers say, every slot of the tables is there.
        assert result.out.count("@callee_save") == len(_extract(PAIRS[pair])["callee_save"])
        (tmp_path / "types.pvspec").write_text(result.out)
        check = run_cli("check", "--no-rules", "types.pvspec", cwd=tmp_path)
        assert check.status == 0, check.err
