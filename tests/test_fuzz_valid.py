"""Grammar-aware fuzzing: random valid specs must go through every command.

Each generated spec uses tables, hooks of every builtin and declared type, pointers, structs,
typedefs, enums, sub-tables, annotations, conditions over the targets' defines, includes and
backends. check must find no compiler error (rules may report), generate must succeed, the
generated Python must import, the C header must compile (every few examples, since gcc is
slow), a diff of a spec against itself must find nothing, and the spec printed from its
dump must compile to the same dump.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_roundtrip import without_places

from pvgen.fmt import format_source
from pvgen.printer import print_spec
from pvgen.source import SourceFile

EXAMPLES = max(10, int(os.environ.get("PVGEN_FUZZ_EXAMPLES", "150")) // 10)
BUILTINS = ["u8", "u16", "u32", "u64", "s32", "int", "unsigned long", "bool", "char", "long long"]
DECLARED = ["word_t", "pair_t", "mode_t"]
CONDITIONS = ["WIDE", "!WIDE", "LEVELS >= 3", "LEVELS == 2 || WIDE", "(WIDE && LEVELS > 2)"]
NAMES = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True).filter(
    lambda n: n
    not in {
        "if",
        "do",
        "for",
        "int",
        "char",
        "long",
        "void",
        "auto",
        "case",
        "else",
        "enum",
        "goto",
        "try",
        "new",
        "and",
        "or",
        "not",
        "xor",
        "as",
        "in",
        "is",
        "def",
        "del",
        "pass",
        "with",
        "from",
        "elif",
        "none",
    }
)

types = st.sampled_from(BUILTINS + DECLARED).flatmap(
    lambda base: st.sampled_from([base, f"{base} *", f"const {base} *"])
)
params = st.lists(st.tuples(NAMES, types), max_size=4, unique_by=lambda p: p[0])
hooks = st.lists(
    st.tuples(
        NAMES,
        st.sampled_from(["void"] + BUILTINS + DECLARED),
        params,
        st.sampled_from([None, *CONDITIONS]),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda h: h[0],
)
tables = st.lists(
    st.tuples(NAMES, hooks, st.booleans()), min_size=1, max_size=4, unique_by=lambda t: t[0]
)


def render(tables_value: list, seed: int) -> str:  # type: ignore[type-arg]
    lines = [
        "/// A fuzzed ABI.",
        "abi fuzzed { version 2; stability stable; }",
        "target narrow { data_model ilp32; defines LEVELS = 2; }",
        "target wide { data_model lp64; defines WIDE, LEVELS = 4; }",
        'include "types.pvspec";',
        "/// Lazy bracket.",
        "table t_lazy { /// Starts.\n void enter(); /// Ends.\n void leave(); }",
    ]
    overrides: dict[str, list[str]] = {}
    for index, (name, hook_list, embeds) in enumerate(tables_value):
        table = f"t_{name}"
        lines.append(f"/// Table {index}.")
        lines.append(f"table {table} {{")
        for hook, returns, param_list, condition, hot in hook_list:
            params_text = ", ".join(f"{t} p_{n}" for n, t in param_list)
            prefix = f"@if({condition}) " if condition else ""
            if hot:
                prefix += '@since(2) @low_level @patch(native = "nop") '
            lines.append(f"    /// Hook {hook}.\n    {prefix}{returns} h_{hook}({params_text});")
            if (seed + len(hook)) % 3 == 0:
                overrides.setdefault(table, []).append(f"h_{hook}")
        if embeds:
            lines.append("    t_lazy lazy_mode;")
        lines.append("}")
    lines.append("/// Native.\nbackend native default;")
    if overrides:
        entries = [f"    {table}: {', '.join(names)};" for table, names in overrides.items()]
        lines.append("/// A hypervisor.\nbackend hv {\n" + "\n".join(entries) + "\n}")
    return "\n".join(lines) + "\n"


TYPES = """@if(WIDE) typedef u64 word_t;
@if(!WIDE) typedef u32 word_t;
struct pair_t { u16 a; word_t b; }
enum mode_t : u32 { OFF = 0, ON, AUTO = 0x10 }
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("valid")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tables_value=tables, seed=st.integers(0, 1000))
def test_valid_specs_go_through_every_command(folder: Path, tables_value: list, seed: int) -> None:  # type: ignore[type-arg]
    (folder / "types.pvspec").write_text(TYPES)
    (folder / "f.pvspec").write_text(render(tables_value, seed))
    check = run_cli("check", "f.pvspec", "--format", "json", cwd=folder)
    assert check.status in (0, 1), check.err
    findings = json.loads(check.out)["findings"]
    assert not [f for f in findings if f["rule"] == "PV000"], findings
    shutil.rmtree(folder / "out", ignore_errors=True)
    generate = run_cli("generate", "f.pvspec", "--out", "out", cwd=folder)
    assert generate.status == 0, generate.err
    same = run_cli("diff", "f.pvspec", "f.pvspec", cwd=folder)
    assert same.status == 0 and "no changes" in same.out
    dumped = json.loads(run_cli("dump", "f.pvspec", cwd=folder).out)
    (folder / "printed.pvspec").write_text(print_spec(dumped))
    again = json.loads(run_cli("dump", "printed.pvspec", cwd=folder).out)
    assert without_places(again) == without_places(dumped)  # the round trip loses nothing
    formatted = format_source(SourceFile.from_text("f.pvspec", (folder / "f.pvspec").read_text()))
    assert format_source(SourceFile.from_text("f.pvspec", formatted)) == formatted
    (folder / "formatted.pvspec").write_text(formatted)
    reformatted = json.loads(run_cli("dump", "formatted.pvspec", cwd=folder).out)
    assert without_places(reformatted) == without_places(dumped)  # fmt changes no meaning
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, 'out/fuzzed/python');"
            " import fuzzed, fuzzed.backends",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    if seed % 10 == 0 and shutil.which("gcc"):
        for width, defines in (
            ("-m64", ["-DCONFIG_WIDE", "-DCONFIG_LEVELS=4"]),
            ("-m32", ["-DCONFIG_LEVELS=2"]),
        ):
            compiled = subprocess.run(
                [
                    "gcc",
                    "-std=c11",
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                    "-pedantic",
                    "-fsyntax-only",
                    width,
                    "-ffreestanding",
                    *defines,
                    "out/fuzzed/c/fuzzed_native.c",
                ],
                cwd=folder,
                capture_output=True,
                text=True,
            )
            assert compiled.returncode == 0, compiled.stderr
