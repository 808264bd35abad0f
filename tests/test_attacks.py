"""A deliberate attack on pvgen, finding by finding: what the mutation fuzzers do not make.

File names that carry code, a cache that another user can reach, symbolic links that move,
outputs that are not pvgen's, parallel runs, inputs that cost more than their size. Each
test names the attack it repeats, and fails without the defence against it.
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
import tokenize
from io import StringIO
from pathlib import Path

import pytest
from conftest import run_cli

from pvgen import api, escape
from pvgen.config import Config

# Every character that must never reach an output raw.
UNSAFE = [chr(c) for c in [*range(0x20), 0x7F, 0x85, 0x9B]] + [
    "\u2028",
    "\u2029",
    "\u202e",
    "\u2066",
    "\udcff",  # a byte of a file name that is not UTF-8
]
PAYLOAD = 'import os;os.system("touch PWNED")'


def small_spec(extra: str = "", include: str | None = None) -> str:
    line = f'include "{include}";\n' if include is not None else ""
    return (
        "abi a { version 1; }\ntarget t { data_model lp64; }\n"
        f"{line}{extra}typedef u32 word;\ntable ops {{ u32 f(word x); }}\nbackend native default;\n"
    )


def import_package(package_root: Path, module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, '.'); import {module}"],
        cwd=package_root,
        capture_output=True,
        text=True,
    )


# ---- 1. code through file names and spec text ---------------------------------------------


@pytest.mark.parametrize("bad", ["\r", "\t", "\x1b", "\u202e"])
def test_an_include_whose_name_holds_a_control_character_is_refused(
    tmp_path: Path, bad: str
) -> None:
    name = f"x{bad}{PAYLOAD}{bad}#.pvspec"
    (tmp_path / name).write_text("typedef u32 other;\n")
    (tmp_path / "a.pvspec").write_text(small_spec(include=name.replace('"', '\\"')))
    result = run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path)
    assert result.status == 1
    assert "a.pvspec:3:1: error: cannot read:" in result.err
    message = result.err.splitlines()[0]
    assert escape.visible(bad) in message and bad not in message
    assert bad == "\t" or bad not in result.err  # a tab in the quoted source line is kept
    assert not (tmp_path / "out").exists()


def test_a_root_spec_whose_name_holds_a_control_character_is_refused(tmp_path: Path) -> None:
    name = f"a\r{PAYLOAD}\r#.pvspec"
    (tmp_path / name).write_text(small_spec())
    for command in ("check", "generate", "fmt"):
        result = run_cli(command, name, cwd=tmp_path)
        assert result.status == 2, (command, result.err)
        assert "\\x0d" in result.err and "\r" not in result.err
    result = run_cli("fmt", ".", cwd=tmp_path)  # found by walking a folder
    assert result.status == 2 and "\r" not in result.err


def test_a_carriage_return_in_a_doc_comment_stays_in_the_comment(tmp_path: Path) -> None:
    spec = tmp_path / "a.pvspec"
    spec.write_text(small_spec(extra=f"/// doc\r{PAYLOAD}\rx\n"))
    result = run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path)
    assert result.status == 0, result.err
    package_root = tmp_path / "out/a/python"
    for path in package_root.rglob("*.py"):
        assert b"\r" not in path.read_bytes(), path
    imported = import_package(package_root, "a.types")
    assert imported.returncode == 0, imported.stderr
    assert not (package_root / "PWNED").exists()


def test_file_names_in_the_banners_are_escaped_in_every_language(tmp_path: Path) -> None:
    """The loader refuses such names; the generators escape them all the same."""
    spec = tmp_path / "a.pvspec"
    spec.write_text(small_spec())
    abi = api.load_abi(spec, Config(None))
    hostile = f"x\r{PAYLOAD}\r\n*/ #error \u202e.pvspec"
    abi = dataclasses.replace(abi, sources=(dataclasses.replace(abi.sources[0], path=hostile),))
    files = api.render(abi)
    for f in files:
        if f.path.endswith(".json"):
            continue  # JSON strings escape what they must; the json module writes them
        assert not any(c in f.content for c in "\r\u202e"), f.path
        if f.path.endswith(".py"):
            tokens = list(tokenize.generate_tokens(StringIO(f.content).readline))
            # The banner is comments and nothing else until the module's docstring or code.
            banner = [t for t in tokens[:12] if t.type not in (tokenize.NL, tokenize.NEWLINE)]
            assert all(t.type == tokenize.COMMENT for t in banner[:4]), f.path
            assert PAYLOAD not in "".join(
                t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.STRING)
            )
    out = tmp_path / "out"
    api.write_outputs(abi, files, out)
    assert import_package(out / "a/python", "a.backends").returncode == 0
    assert not (out / "a/python/PWNED").exists()
    header = (out / "a/c/a.h").read_text()
    assert "#error" not in header.split("*/", 1)[0].split("\n", 1)[0]
    compiled = subprocess.run(
        ["gcc", "-std=c11", "-Werror", "-fsyntax-only", "-x", "c", str(out / "a/c/a.h")],
        capture_output=True,
        text=True,
    )
    assert compiled.returncode == 0, compiled.stderr


@pytest.mark.parametrize("char", UNSAFE, ids=[f"U+{ord(c):04X}" for c in UNSAFE])
def test_each_escaping_function_keeps_its_language_intact(char: str) -> None:
    text = f"a{char}b\\\"'*/"
    assert ast.literal_eval(escape.python_string(text)) == text
    comment = f"# {escape.python_comment(text)}\nx = 1\n"
    kinds = [t.type for t in tokenize.generate_tokens(StringIO(comment).readline)]
    assert kinds[:2] == [tokenize.COMMENT, tokenize.NL]
    for escaped in (
        escape.python_string(text),
        escape.python_comment(text),
        escape.c_comment(text),
        escape.c_string(text),
    ):
        assert escaped.isascii() and escaped.isprintable(), repr(escaped)
    assert "*/" not in escape.c_comment(text)
    shown = escape.terminal(f"{text}\n\t")
    assert char not in shown or char in "\n\t"
    assert escape.terminal(shown) == shown  # escaping twice changes nothing
    assert escape.path_problem(f"dir/a{char}.pvspec") is not None
    assert escape.path_problem("dir/ok-caf\u00e9.pvspec") is None


def test_terminal_escapes_in_spec_text_do_not_reach_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(
        small_spec(extra='@patch(native = "\x1b]0;owned\x07\x1b[2J") typedef u32 \r bad;\n')
    )
    result = run_cli("check", "a.pvspec", cwd=tmp_path)
    assert result.status == 1
    assert "\x1b" not in result.err and "\r" not in result.err and "\x07" not in result.err
    assert "\\x1b" in result.err
