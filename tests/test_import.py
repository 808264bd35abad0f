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
import shutil
import subprocess
from pathlib import Path

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
