"""`pvgen fmt`: one layout, every comment kept, meaning unchanged, idempotent."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PREAMBLE, ROOT, ROOT_SPECS, SPECS, TEST_SPECS, root_spec_id, run_cli
from test_roundtrip import without_places

from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.diagnostics import SpecError
from pvgen.dump import abi_to_dict
from pvgen.fmt import format_source
from pvgen.source import SourceFile


def fmt(text: str) -> str:
    return format_source(SourceFile.from_text("t.pvspec", text))


def spec_files() -> list[Path]:
    return (
        sorted(SPECS.glob("*.pvspec"))
        + sorted(TEST_SPECS.rglob("*.pvspec"))
        + sorted((ROOT / "tests" / "import").glob("*.pvspec"))
    )


@pytest.mark.parametrize("path", spec_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_in_the_repository_is_a_fixed_point(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = fmt(text)
    assert fmt(once) == once


def test_shipped_specs_are_formatted() -> None:
    result = run_cli("fmt", "--check", str(SPECS))
    assert result.status == 0, result.err


@pytest.mark.parametrize(
    "root",
    ROOT_SPECS,
    ids=root_spec_id,
)
def test_formatting_every_file_keeps_the_model(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "specs"
    shutil.copytree(root.parent, copy)
    for path in copy.rglob("*.pvspec"):
        # Make them untidy first, so formatting has work to do.
        untidy = path.read_text(encoding="utf-8").replace("\n", "\r\n").replace("    ", "\t")
        path.write_text(fmt(untidy), encoding="utf-8", newline="")
    before = abi_to_dict(load_abi(root, Config(None)))
    after = abi_to_dict(load_abi(copy / root.name, Config(None)))
    assert without_places(after) == without_places(before)


def spec_folders() -> list[Path]:
    return sorted({p.parent for p in ROOT.joinpath("tests").rglob("*.pvspec")} | {SPECS})


@pytest.mark.parametrize("folder", spec_folders(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_that_compiles_compiles_to_the_same_model_formatted(
    folder: Path, tmp_path: Path
) -> None:
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    for path in copy.rglob("*.pvspec"):
        path.write_text(fmt(path.read_text(encoding="utf-8")), encoding="utf-8")
    compared = 0
    for path in sorted(folder.glob("*.pvspec")):
        try:
            before = abi_to_dict(load_abi(path, Config(None)))
        except SpecError:
            continue  # an error example, or a file that is only included
        after = abi_to_dict(load_abi(copy / path.name, Config(None)))
        assert without_places(after) == without_places(before), path
        compared += 1
    assert compared, f"no spec in {folder} compiles"


HOSTILE = (
    "// head\r\n\r\n\r\n"
    "/* block\r\n   two */ abi x { version 1; /* v */ /// documents nothing\r\n"
    "stability stable; } // after abi\r\n"
    "target t{data_model lp64;defines A,B=0x10;}\r\n"
    "///doc for typedef\r\n"
    "@if(defined(A) && (B >= 0x2)) typedef unsigned long foo_t; // trailing\r\n"
    "opaque struct mm;\r\n"
    "enum e : u32 { X = 0x1, Y, /* c */ Z = -2 }\r\n"
    "table t {\r\n"
    "\t/// doc\r\n"
    "\t// note\r\n"
    "\t@since(1)   @hot(callsites = 0x100)\r\n"
    "\tvoid   a(int x, // first\r\n"
    "\t   struct mm * const * y);\r\n\r\n\r\n"
    "\tconst char*name;\r\n"
    "\t/// stray? no, it documents b\r\n"
    "\tint b;\r\n"
    "  // last in t\r\n"
    "};\r\n"
    "backend native default;\r\n"
    "backend empty {}\r\n"
    'backend b { t: a, name; } @allow(PV111, reason = "tab\\there")\r\n'
    "backend c;\r\n"
    "// the end\r\n"
)

HOSTILE_FORMATTED = """// head

/* block
   two */
abi x {
    version 1; /* v */ // documents nothing
    stability stable;
} // after abi

target t {
    data_model lp64;
    defines A, B = 0x10;
}

/// doc for typedef
@if(A && B >= 0x2)
typedef unsigned long foo_t; // trailing
opaque struct mm;

enum e : u32 {
    X = 0x1,
    Y, /* c */
    Z = -2,
}

table t {
    /// doc
    // note
    @since(1) @hot(callsites = 0x100)
    void a(int x, struct mm *const *y); // first

    const char *name;
    /// stray? no, it documents b
    int b;
    // last in t
}

backend native default;
backend empty;

backend b {
    t: a, name;
}

@allow(PV111, reason = "tab\\there")
backend c;
// the end
""".replace("\n", "\r\n")


def test_hostile_layout_gets_the_canonical_one() -> None:
    assert fmt(HOSTILE) == HOSTILE_FORMATTED
    assert fmt(HOSTILE_FORMATTED) == HOSTILE_FORMATTED


def test_line_endings_follow_the_first_line() -> None:
    assert "\r" not in fmt(HOSTILE.replace("\r\n", "\n"))
    assert fmt(HOSTILE).count("\r\n") == fmt(HOSTILE).count("\n")


def test_long_signatures_and_lists_wrap_at_100_columns() -> None:
    params = ", ".join(f"unsigned long argument_{i}" for i in range(6))
    names = ", ".join(f"hook_number_{i}" for i in range(12))
    text = fmt(
        PREAMBLE + f"table t {{ void long_hook({params}); }}\n" + f"backend b {{ t: {names}; }}\n"
    )
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "    void long_hook(\n        unsigned long argument_0,\n" in text
    assert "        unsigned long argument_5\n    );\n" in text
    assert "    t: hook_number_0, hook_number_1," in text
    assert "\n        hook_number_" in text
    assert fmt(text) == text


def test_comments_everywhere_are_all_kept() -> None:
    # A comment between every pair of tokens of a small spec.
    tokens = (
        "abi x { version 1 ; } table t { @ since ( 1 ) const char * name ; "
        "void f ( int a , u32 * b ) ; } backend native default ;"
    ).split()
    text = "".join(f"{tok} /*c{i}*/\n" for i, tok in enumerate(tokens))
    out = fmt(text)
    for i in range(len(tokens)):
        assert f"/*c{i}*/" in out
    positions = [out.index(f"/*c{i}*/") for i in range(len(tokens))]
    assert positions == sorted(positions)  # still in their order
    assert fmt(out) == out


def test_numbers_and_strings_keep_their_spelling() -> None:
    out = fmt(
        PREAMBLE + 'enum e : u32 { A = 0X1f, B = 10 }\n@allow(PV111, reason = "\\x41\\"")'
        " opaque struct o;\n"
    )
    assert "A = 0X1f," in out and 'reason = "\\x41\\""' in out


def test_syntax_errors_are_reported_and_the_file_kept(tmp_path: Path) -> None:
    spec = tmp_path / "bad.pvspec"
    spec.write_text("abi x {\n  version 1\n}\n")
    result = run_cli("fmt", str(spec))
    assert result.status == 1
    assert f"{spec}:3:1: error:" in result.err
    assert spec.read_text() == "abi x {\n  version 1\n}\n"


def test_check_and_diff_write_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "a.pvspec"
    spec.write_text("abi x { version 1; }\n")
    check = run_cli("fmt", "--check", str(spec))
    assert check.status == 1 and f"would reformat {spec}" in check.err
    diff = run_cli("fmt", "--diff", str(spec))
    assert diff.status == 0
    assert "-abi x { version 1; }\n+abi x {\n+    version 1;\n+}\n" in diff.out
    assert spec.read_text() == "abi x { version 1; }\n"


def test_in_place_keeps_permissions_and_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real.pvspec"
    real.write_text("abi x { version 1; }\n")
    os.chmod(real, 0o640)
    link = tmp_path / "link.pvspec"
    link.symlink_to(real)
    result = run_cli("fmt", str(link))
    assert result.status == 0, result.err
    assert link.is_symlink()
    assert real.read_text() == "abi x {\n    version 1;\n}\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pvgen-tmp")]
    again = run_cli("fmt", str(link))
    assert again.status == 0 and "0 file(s) reformatted, 1 unchanged" in again.err


def test_folders_are_searched_and_stdin_goes_to_stdout(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.pvspec").write_text("abi x { version 1; }\n")
    (tmp_path / "b.pvspec").write_text("abi y {\n    version 1;\n}\n")
    result = run_cli("fmt", "--check", str(tmp_path))
    assert result.status == 1
    assert "1 file(s) would be reformatted, 1 unchanged" in result.err
    piped = subprocess.run(
        [sys.executable, "-m", "pvgen", "fmt", "-"],
        input="abi x { version 1; }\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert piped.returncode == 0 and piped.stdout == "abi x {\n    version 1;\n}\n"


def test_a_stray_doc_comment_without_a_space_becomes_a_plain_comment() -> None:
    # Found by fuzzing: the check that every comment survives must respace as the printer does.
    assert fmt("abi x { version 1; ///x\n stability stable; }\n") == (
        "abi x {\n    version 1; //x\n    stability stable;\n}\n"
    )
