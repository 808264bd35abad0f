"""Grammar-aware fuzzing: random specs must go through every command, and `check` passing
means `generate` works.

Each generated spec uses tables, hooks of every builtin and declared type, pointers, structs,
typedefs, enums, sub-tables, annotations, conditions over the targets' defines, includes and
backends. Some of its names are drawn from the names generated code itself uses or that C or
Python keep (DANGEROUS), so that the property is tried against them: either check refuses
the spec (a compiler error, which must name one of those names, and generate refuses it
too), or check finds no compiler error (rules may report) and then generate must succeed,
the header and native table must compile with gcc, the generated package must import and
install every backend, a diff of a spec against itself must find nothing, and the spec
printed from its dump must compile to the same dump.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_generated_names import install_every_backend
from test_roundtrip import without_places

from pvgen.api import load_abi
from pvgen.config import Config
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

# Names that generated C or Python use themselves, or that C, GCC or Python keep: drawn now
# and then in place of an ordinary name. (No pvspec keyword: those do not parse as names.)
DANGEROUS = """install type cast getattr self backend native OVERRIDES SINCE PATCH_IDS _table _Table
TypeVar t pick overridden Callable Any TYPE_CHECKING field dataclass str mro name value
_missing_ _x_ _ __x typing os abc collections FuzzedOps NativeStub HvStub fuzzed_ops
native_t_lazy_enter fuzzed_t_lazy_enter linux unix i386 NULL INT8_MAX SIZE_MAX CONFIG_WIDE
CONFIG_LEVELS FUZZED_ABI_VERSION FUZZED_PACKED FUZZED_PATCH_T_LAZY_ENTER T_LAZY_ENTER_SINCE_VERSION
PVGEN_FUZZED_H FUZZED_TARGET_WIDE packed deprecated regparm word_t mode_t pair_t OFF ON AUTO
class def bool offsetof size_t wchar_t lazy_mode t_lazy enter""".split()
DANGEROUS_NAMES = st.sampled_from(DANGEROUS)


def named(prefix: str) -> st.SearchStrategy[str]:
    """`prefix` + an ordinary name or, one time in twelve, a dangerous name (a spec has a few
    dozen names: about half the specs get none and pass, the rest test the refusals)."""
    ordinary = NAMES.filter(lambda n: n != "lazy").map(lambda n: prefix + n)
    return st.integers(0, 11).flatmap(lambda k: DANGEROUS_NAMES if k == 0 else ordinary)


types = st.sampled_from(BUILTINS + DECLARED).flatmap(
    lambda base: st.sampled_from([base, f"{base} *", f"const {base} *"])
)
params = st.lists(st.tuples(named("p_"), types), max_size=4, unique_by=lambda p: p[0])
hooks = st.lists(
    st.tuples(
        named("h_"),
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
    st.tuples(named("t_"), hooks, st.booleans()), min_size=1, max_size=4, unique_by=lambda t: t[0]
)
# The ABI, the backends, and an enum and a struct whose members are drawn too.
extras = st.fixed_dictionaries(
    {
        "abi": st.sampled_from(["fuzzed", "fuzzed", "fuzzed", "typing", "native", "t", "FUZZED"]),
        "default": st.sampled_from(["native", "native", "native", *DANGEROUS]),
        "other": st.sampled_from(["hv", "hv", "hv", *DANGEROUS]),
        "enumerators": st.lists(named("E_"), min_size=1, max_size=3, unique=True),
        "fields": st.lists(named("f_"), min_size=1, max_size=3, unique=True),
    }
)


def render(tables_value: list, seed: int, extra: dict | None = None) -> str:  # type: ignore[type-arg]
    extra = extra or {"abi": "fuzzed", "default": "native", "other": "hv"}
    lines = [
        "/// A fuzzed ABI.",
        f"abi {extra['abi']} {{ version 2; stability stable; }}",
        "target narrow { data_model ilp32; defines LEVELS = 2; }",
        "target wide { data_model lp64; defines WIDE, LEVELS = 4; }",
        'include "types.pvspec";',
        "/// Lazy bracket.",
        "table t_lazy { /// Starts.\n void enter(); /// Ends.\n void leave(); }",
    ]
    overrides: dict[str, list[str]] = {}
    if "enumerators" in extra:
        lines.append(f"enum e_drawn : u32 {{ {', '.join(extra['enumerators'])} }}")
        fields = " ".join(f"u32 {f};" for f in extra["fields"])
        lines.append(f"struct s_drawn {{ {fields} mode_t m; pair_t p; }}")
    for index, (table, hook_list, embeds) in enumerate(tables_value):
        lines.append(f"/// Table {index}.")
        lines.append(f"table {table} {{")
        for hook, returns, param_list, condition, hot in hook_list:
            params_text = ", ".join(f"{t} {n}" for n, t in param_list)
            prefix = f"@if({condition}) " if condition else ""
            if hot:
                prefix += '@since(2) @low_level @patch(native = "nop") '
            lines.append(f"    /// Hook {hook}.\n    {prefix}{returns} {hook}({params_text});")
            if (seed + len(hook)) % 3 == 0:
                overrides.setdefault(table, []).append(hook)
        if embeds:
            lines.append("    t_lazy lazy_mode;")
        lines.append("}")
    lines.append(f"/// Native.\nbackend {extra['default']} default;")
    if overrides:
        entries = [f"    {table}: {', '.join(names)};" for table, names in overrides.items()]
        lines.append(
            f"/// A hypervisor.\nbackend {extra['other']} {{\n" + "\n".join(entries) + "\n}"
        )
    return "\n".join(lines) + "\n"


TYPES = """@if(WIDE) typedef u64 word_t;
@if(!WIDE) typedef u32 word_t;
struct pair_t { u16 a; word_t b; }
enum mode_t : u32 { OFF = 0, ON, AUTO = 0x10 }
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("valid")


def refused_for_a_drawn_name(errors: list[dict], text: str) -> None:  # type: ignore[type-arg]
    """Only dangerous names make a spec of this fuzzer invalid: each compiler error names
    one that the spec uses."""
    drawn = [n for n in DANGEROUS if re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", text)]
    assert drawn, errors
    for error in errors:
        assert any(re.search(rf"\b{re.escape(n)}\b", error["message"]) for n in drawn), error


def compile_c(folder: Path, abi: str) -> None:
    """The native table (and so the header) for each target, as ISO C and as GNU C (where
    GCC predefines `linux`, `unix` and, on i386, `i386`)."""
    for std, width, defines in (
        ("-std=c11", "-m64", ["-DCONFIG_WIDE", "-DCONFIG_LEVELS=4"]),
        ("-std=gnu11", "-m32", ["-DCONFIG_LEVELS=2"]),
    ):
        command = ["gcc", std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only", width]
        command += ["-ffreestanding", *defines, f"out/{abi}/c/{abi}_native.c"]
        compiled = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        assert compiled.returncode == 0, compiled.stderr


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tables_value=tables, seed=st.integers(0, 1000), extra=extras)
def test_check_passing_means_every_command_works(
    folder: Path, tables_value: list, seed: int, extra: dict  # type: ignore[type-arg]
) -> None:
    (folder / "types.pvspec").write_text(TYPES)
    text = render(tables_value, seed, extra)
    (folder / "f.pvspec").write_text(text)
    check = run_cli("check", "f.pvspec", "--format", "json", cwd=folder)
    assert check.status in (0, 1), check.err
    findings = json.loads(check.out)["findings"]
    errors = [f for f in findings if f["rule"] == "PV000"]
    shutil.rmtree(folder / "out", ignore_errors=True)
    generate = run_cli("generate", "f.pvspec", "--out", "out", cwd=folder)
    if errors:  # refused: by check, and by generate alike
        refused_for_a_drawn_name(errors, text)
        assert generate.status == 1 and "internal error" not in generate.err, generate.err
        return
    assert generate.status == 0, generate.err
    abi = load_abi(folder / "f.pvspec", Config(None))
    if shutil.which("gcc"):
        compile_c(folder, abi.name)
    install_every_backend(folder / "out" / abi.name / "python", abi)
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
