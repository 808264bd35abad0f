"""A deliberate attack on pvgen, finding by finding: what the mutation fuzzers do not make.

File names that carry code, a cache that another user can reach, symbolic links that move,
outputs that are not pvgen's, parallel runs, inputs that cost more than their size. Each
test names the attack it repeats, and fails without the defence against it.
"""

from __future__ import annotations

import ast
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from pvgen import api, cache, escape
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
    doc = f'{text}\nx"""y'
    assert ast.literal_eval(f'"""{escape.python_docstring(doc)} """') == doc + " "
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


# ---- 2. the cache: a file pvgen did not write is never unpickled -------------------------


class Planted:
    """Unpickling this creates the file `marker`: code run by whoever loads the entry."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def cache_entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle"))


def real_header(entry: Path) -> bytes:
    """The header of a real entry, so that a planted one is judged fresh and only its
    seal or where it lies can stop it."""
    parts = cache._split(entry.read_bytes())
    assert parts is not None
    return parts[2]


def test_an_entry_planted_in_the_users_own_cache_is_not_unpickled(
    tmp_path: Path, private_cache: Path
) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    expected = run_cli("dump", "a.pvspec", cwd=tmp_path)
    assert expected.status == 0 and cache_entries(private_cache)
    marker = tmp_path / "PWNED"
    guessed_key = bytes(cache.KEY_BYTES)
    for entry in cache_entries(private_cache):
        raw = pickle.dumps(Planted(marker))
        header = real_header(entry)
        entry.write_bytes(raw)  # a bare pickle, as the cache once stored them
        assert run_cli("dump", "a.pvspec", cwd=tmp_path).out == expected.out
        entry.write_bytes(cache._seal(guessed_key, entry.name, Planted(marker), header))
        assert run_cli("dump", "a.pvspec", cwd=tmp_path).out == expected.out
    assert not marker.exists()
    # A key that others can read is no secret: entries sealed with it are not trusted.
    key = private_cache / cache.KEY_NAME
    key.chmod(0o644)
    for entry in cache_entries(private_cache):
        header = real_header(entry)
        entry.write_bytes(cache._seal(key.read_bytes(), entry.name, Planted(marker), header))
    assert run_cli("dump", "a.pvspec", cwd=tmp_path).out == expected.out
    assert not marker.exists()


def test_a_symbolic_link_in_place_of_an_entry_or_the_folder_is_not_followed(
    tmp_path: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    expected = run_cli("dump", "a.pvspec", cwd=tmp_path).out
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(private_cache, elsewhere)
    marker = tmp_path / "PWNED"
    for entry in cache_entries(private_cache):
        # A correctly sealed entry, but reached through a link: not read.
        key = (private_cache / cache.KEY_NAME).read_bytes()
        planted = cache._seal(key, entry.name, Planted(marker), real_header(entry))
        (elsewhere / entry.name).write_bytes(planted)
        entry.unlink()
        entry.symlink_to(elsewhere / entry.name)
    assert run_cli("dump", "a.pvspec", cwd=tmp_path).out == expected
    assert not marker.exists()
    link = tmp_path / "link"
    link.symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.setenv("PVGEN_CACHE_DIR", str(link))
    assert run_cli("dump", "a.pvspec", cwd=tmp_path).out == expected
    assert not marker.exists()


# Swaps two folders back and forth as fast as it can (renameat2 with RENAME_EXCHANGE).
SWAPPER = r"""
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    libc.renameat2(-100, a, -100, b, 2)
"""
NOBODY = 65534


def as_nobody(*command: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]


def _python_for_nobody() -> str | None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"):
        if os.path.exists(candidate):
            probe = subprocess.run(as_nobody(candidate, "-c", "pass"), capture_output=True)
            if probe.returncode == 0:
                return candidate
    return None


def test_another_user_swapping_the_cache_folder_runs_no_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache folder's parent is writable by everyone (no sticky bit): another user
    swaps the folder with their own, full of entries sealed with their own key, while
    pvgen runs. pvgen must never unpickle them, nor write into their folder."""
    python = _python_for_nobody()
    if python is None:
        pytest.skip("needs root, setpriv and a Python that an unprivileged user can run")
    base = Path(tempfile.mkdtemp(prefix="pvgen-shared-"))
    try:
        base.chmod(0o755)
        shared = base / "shared"
        shared.mkdir()
        shared.chmod(0o777)
        ours = shared / "cache"
        monkeypatch.setenv("PVGEN_CACHE_DIR", str(ours))
        spec = tmp_path / "a.pvspec"
        spec.write_text(small_spec())
        config = Config(None)
        api.render(api.load_abi(spec, config), spec=spec, config=config)
        names = [p.name for p in cache_entries(ours)]
        assert len(names) == 3  # the model, the outputs and the one file's syntax tree
        marker = base / "PWNED"
        theirs = shared / "theirs"
        theirs.mkdir(mode=0o700)
        their_key = b"k" * cache.KEY_BYTES
        (theirs / cache.KEY_NAME).write_bytes(their_key)
        (theirs / cache.KEY_NAME).chmod(0o600)
        for name in names:
            planted = cache._seal(their_key, name, Planted(marker), real_header(ours / name))
            (theirs / name).write_bytes(planted)
        for path in [theirs, *theirs.iterdir()]:
            os.chown(path, NOBODY, NOBODY)
        swapper = subprocess.Popen(as_nobody(python, "-c", SWAPPER, str(ours), str(theirs), "1.5"))
        try:
            deadline = time.monotonic() + 1.2
            runs = 0
            while time.monotonic() < deadline:
                abi = api.load_abi(spec, config)
                assert abi.name == "a"
                # A new variant each time: the store side runs too.
                options = api.GenOptions(macro_prefix=f"P{runs}_")
                api.render(abi, options, spec=spec, config=config)
                runs += 1
        finally:
            swapper.wait()
        assert runs > 20
        assert not marker.exists(), "a planted entry was unpickled"
        for folder in (ours, theirs):
            if folder.stat().st_uid == NOBODY:
                owners = {p.stat().st_uid for p in folder.iterdir()}
                assert owners == {NOBODY}, "pvgen wrote into the other user's folder"
    finally:
        shutil.rmtree(base)


# ---- 3. stale results from the cache -----------------------------------------------------


def test_retargeting_an_included_link_is_seen(tmp_path: Path, private_cache: Path) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec(include="inc.pvspec"))
    (tmp_path / "u32.pvspec").write_text("typedef u32 other;\n")
    (tmp_path / "u64.pvspec").write_text("typedef u64 other;\n")
    (tmp_path / "inc.pvspec").symlink_to("u32.pvspec")
    assert '"target": "u32"' in run_cli("dump", "a.pvspec", cwd=tmp_path).out
    assert run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path).status == 0
    (tmp_path / "inc.pvspec").unlink()
    (tmp_path / "inc.pvspec").symlink_to("u64.pvspec")  # ln -sfn u64.pvspec inc.pvspec
    assert '"target": "u64"' in run_cli("dump", "a.pvspec", cwd=tmp_path).out
    generated = run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path)
    assert generated.status == 0 and "0 written" not in generated.out
    assert run_cli("generate", "a.pvspec", "--out", "out", "--check", cwd=tmp_path).status == 0
    # Retargeted out of the spec root: an error, as without the cache.
    outside = tmp_path.parent / f"{tmp_path.name}-outside.pvspec"
    outside.write_text("typedef u32 other;\n")
    try:
        (tmp_path / "inc.pvspec").unlink()
        (tmp_path / "inc.pvspec").symlink_to(outside)
        result = run_cli("check", "a.pvspec", cwd=tmp_path)
        assert result.status == 1 and "leaves the spec root" in result.err
    finally:
        outside.unlink()


def test_an_edit_of_pvgen_that_keeps_size_and_mtime_changes_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "pvgen"
    shutil.copytree(cache.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE", copy)
    fingerprint = cache._code_fingerprint.__wrapped__  # type: ignore[attr-defined]
    before = fingerprint()
    source = copy / "layout.py"
    info = source.stat()
    data = source.read_bytes()
    source.write_bytes(data.replace(b"4", b"8", 1))
    os.utime(source, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert source.stat().st_size == info.st_size and source.stat().st_mtime_ns == info.st_mtime_ns
    assert fingerprint() != before


# ---- 4. ownership is the manifest, not a banner ------------------------------------------


def test_a_hand_written_file_that_mentions_the_banner_is_never_removed(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    assert run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path).status == 0
    readme = tmp_path / "out/a/README.md"
    readme.write_text("These files are Generated by pvgen; see the spec.\n")
    result = run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path)
    assert result.status == 0 and "0 removed" in result.out
    assert readme.exists()
    check = run_cli("generate", "a.pvspec", "--out", "out", "--check", cwd=tmp_path)
    assert check.status == 0 and "extra" not in check.err


def test_generating_into_a_source_tree_deletes_none_of_its_files(tmp_path: Path) -> None:
    """`pvgen generate --out .` for an ABI named like a package beside it."""
    package = tmp_path / "pvgen" / "gen"
    package.mkdir(parents=True)
    common = package / "common.py"
    common.write_text('BANNER_MARK = "Generated by pvgen"\n')
    (tmp_path / "a.pvspec").write_text(small_spec().replace("abi a ", "abi pvgen "))
    result = run_cli("generate", "a.pvspec", "--out", ".", cwd=tmp_path)
    assert result.status == 0, result.err
    assert common.read_text() == 'BANNER_MARK = "Generated by pvgen"\n'


def test_only_files_listed_with_their_content_are_replaced_or_removed(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    assert run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path).status == 0
    manifest = tmp_path / "out/a/pvgen.manifest"
    listed = manifest.read_text()
    assert "  c/a.h\n" in listed and "  abi.json\n" in listed
    # Edited since pvgen wrote it: no longer pvgen's to replace.
    header = tmp_path / "out/a/c/a.h"
    header.write_text(header.read_text() + "/* mine */\n")
    (tmp_path / "a.pvspec").write_text(small_spec().replace("version 1;", "version 2;"))
    result = run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path)
    assert result.status == 2 and "was not generated by pvgen" in result.err
    assert header.read_text().endswith("/* mine */\n")
    assert run_cli("generate", "a.pvspec", "--out", "out", "--force", cwd=tmp_path).status == 0
    # A file that carries the banner but is not in the manifest is not pvgen's either.
    (tmp_path / "out/a/python/a/backends/old.py").write_text("# Generated by pvgen\n")
    assert run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path).status == 0
    assert (tmp_path / "out/a/python/a/backends/old.py").exists()
    # A manifest that lists a file outside the folder removes nothing there.
    outside = tmp_path / "victim.txt"
    outside.write_text("x")
    digest = hashlib.sha256(b"x").hexdigest()
    manifest.write_text(manifest.read_text() + f"{digest}  ../../victim.txt\n")
    result = run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path)
    assert result.status == 2 and "could leave the output folder" in result.err
    assert outside.exists()


# ---- 5. one bounded reader for every spec ------------------------------------------------


def run_bounded(*args: str, cwd: Path, memory: int = 1 << 30) -> subprocess.CompletedProcess[str]:
    """`pvgen ARGS` in its own process, with a memory limit and a time limit: the attacks
    below made pvgen hang or eat all memory."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-m", "pvgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=limit,
        env=dict(os.environ, PVGEN_NO_CACHE="1"),
    )


def test_fmt_does_not_follow_a_link_out_of_the_tree(tmp_path: Path) -> None:
    tree = tmp_path / "specs"
    tree.mkdir()
    (tree / "a.pvspec").write_text(small_spec())
    secret = tmp_path / "secret.txt"
    secret.write_text("root:TOPSECRET-HASH:19000:0:99999:7:::\n")
    (tree / "leak.pvspec").symlink_to(secret)
    (tree / "zero.pvspec").symlink_to("/dev/zero")
    result = run_bounded("fmt", "specs", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "TOPSECRET" not in result.stderr + result.stdout
    assert "leak.pvspec': it is a symbolic link to" in result.stderr
    assert "zero.pvspec': it is a symbolic link to '/dev/zero'" in result.stderr
    assert secret.read_text().startswith("root:TOPSECRET")
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_specs_that_are_not_regular_files_are_refused(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "inc.pvspec"
    if kind == "fifo":
        os.mkfifo(target)  # reading it would block for ever
    elif kind == "device":
        os.symlink("/dev/zero", target)  # reading it never ends
    else:
        target.mkdir()
    (tmp_path / "a.pvspec").write_text(small_spec(include="inc.pvspec"))
    (tmp_path / "b.pvspec").symlink_to(target)
    commands = [["check", "a.pvspec"], ["check", "b.pvspec"], ["import", "b.pvspec"]]
    if kind != "directory":  # fmt takes a folder for one to format the specs in
        commands += [["fmt", "b.pvspec"], ["fmt", "."]]
    checked, *others = run_bounded_many(commands, cwd=tmp_path)
    assert checked[0] == 1, checked[1]
    if kind == "device":  # inside the spec root, the link leads outside
        assert "leaves the spec root" in checked[1]
    else:
        assert f"cannot read 'inc.pvspec': it is a {kind.replace('fifo', 'FIFO')}" in checked[1]
    for command, (status, err) in zip(commands[1:], others, strict=True):
        assert status == 2, (command, err)
        assert "cannot read" in err and "internal error" not in err


# Runs several pvgen commands in one process (a start of Python for each would cost more
# than the commands), printing the status and the errors of each as JSON.
MANY = """
import contextlib, io, json, sys
from pvgen.cli import main
results = []
for command in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(command)
    results.append((status, err.getvalue()))
print(json.dumps(results))
"""


def run_bounded_many(commands: list[list[str]], cwd: Path) -> list[tuple[int, str]]:
    """Like `run_bounded`, for several commands run one after the other in one process."""
    result = run_bounded_python(MANY, json.dumps(commands), cwd=cwd)
    assert result.returncode == 0, result.stderr
    return [(status, err) for status, err in json.loads(result.stdout)]


def run_bounded_python(
    code: str, *args: str, cwd: Path, memory: int = 1 << 30
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=limit,
        env=dict(os.environ, PVGEN_NO_CACHE="1"),
    )


# ---- 8. a symbolic link at the output root -----------------------------------------------


@pytest.mark.parametrize("linked", ["out", "out/a"])
def test_a_symbolic_link_at_the_output_root_is_not_written_through(
    tmp_path: Path, linked: str
) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / linked).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / linked).symlink_to(elsewhere, target_is_directory=True)
    for extra in ([], ["--check"]):
        result = run_cli("generate", "a.pvspec", "--out", "out", *extra, cwd=tmp_path)
        assert result.status == 2, result.err
        assert "refusing to write through symbolic link" in result.err
    assert list(elsewhere.iterdir()) == []


# ---- 7. parallel runs, edits during fmt, signals -----------------------------------------


def test_a_run_waits_for_the_one_in_flight_and_keeps_its_files(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    out = tmp_path / "out" / "a"
    out.mkdir(parents=True)
    in_flight = out / ".pvgen-tmp-inflight"
    in_flight.write_text("another run's file, half written")
    folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # as a run that is writing holds it
        proc = subprocess.Popen(
            [sys.executable, "-m", "pvgen", "generate", "a.pvspec", "--out", "out"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.8)
        assert in_flight.exists()
        in_flight.unlink()  # the other run renames its file and lets go
    finally:
        os.close(folder)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (out / "c/a.h").exists()


def test_fmt_does_not_overwrite_an_edit_made_while_it_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "a.pvspec"
    spec.write_text(small_spec().replace("u32 f(word x);", "u32   f( word x );"))
    import pvgen.fmt

    real_format = pvgen.fmt.format_source

    def format_while_someone_appends(source: Any) -> str:
        formatted = real_format(source)
        with spec.open("a") as f:
            f.write("/// appended by an editor\ntypedef u32 later;\n")
        return formatted

    monkeypatch.setattr(pvgen.fmt, "format_source", format_while_someone_appends)
    result = run_cli("fmt", "a.pvspec", cwd=tmp_path)
    assert result.status == 2 and "changed while pvgen worked on it" in result.err
    assert spec.read_text().endswith("typedef u32 later;\n")
    assert not list(tmp_path.glob(".pvgen-tmp-*"))


# Runs `pvgen fmt` and sends itself a signal once the temporary copy is written.
SIGNALLED_FMT = """
import os, signal, sys
import pvgen.gen.writer
real_fsync = os.fsync
def fsync_then_signal(fd):
    real_fsync(fd)
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
pvgen.gen.writer.os.fsync = fsync_then_signal
from pvgen.cli import main
sys.exit(main(["fmt", "a.pvspec"]))
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_signal_during_fmt_leaves_no_temporary_file(tmp_path: Path, name: str) -> None:
    spec = tmp_path / "a.pvspec"
    original = small_spec().replace("u32 f(word x);", "u32   f( word x );")
    spec.write_text(original)
    result = subprocess.run(
        [sys.executable, "-c", SIGNALLED_FMT, name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 128 + getattr(signal, name), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pvspec"]
    assert spec.read_text() == original


# ---- 6. inputs that cost more than their size --------------------------------------------


def test_many_errors_on_one_long_line_give_a_bounded_report(tmp_path: Path) -> None:
    line = "u32 h(nope x);" * 1000  # 1,999 errors, each on this 14 KB line
    (tmp_path / "a.pvspec").write_text(small_spec(extra=f"table t {{ {line} }}\n"))
    result = run_cli("check", "a.pvspec", cwd=tmp_path)
    assert result.status == 1
    assert "1999 errors" in result.err
    assert "a.pvspec: note: 1899 more diagnostics of this file not shown" in result.err
    assert len(result.err) < 100_000
    assert max(len(line) for line in result.err.splitlines()) < 400


@pytest.mark.parametrize(
    "text",
    [
        "/*" + "x" * 4_000_000 + "*/\n",
        "/*" + "x" * 4_000_000 + "\n",  # never closed
        '@deprecated(reason = "' + "x" * 4_000_000 + '") typedef u32 old;\n',
    ],
    ids=["comment", "unterminated-comment", "string"],
)
def test_long_comments_and_strings_need_memory_in_proportion(tmp_path: Path, text: str) -> None:
    """A 4 MB comment or string once needed about 200 bytes of memory per character."""
    (tmp_path / "a.pvspec").write_text(small_spec(extra=text))
    result = run_bounded("check", "a.pvspec", cwd=tmp_path, memory=300 << 20)
    assert result.returncode in (0, 1), result.stderr[-500:]  # warnings, or the error
    assert "out of memory" not in result.stderr


def best_time(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def growth(make_spec: Callable[[int], str], small: int, folder: Path) -> float:
    """How much longer compiling takes for a spec 8 times larger: about 8 when the cost is
    linear, 64 when it is quadratic (the best of several runs, against a busy machine)."""
    paths = []
    for n in (small, 8 * small):
        path = folder / f"n{n}.pvspec"
        path.write_text(make_spec(n))
        paths.append(path)

    def compile_one(path: Path) -> None:
        try:
            api.compile_spec(path)
        except api.SpecError:
            pass

    first = best_time(functools.partial(compile_one, paths[0]), 5)
    second = best_time(functools.partial(compile_one, paths[1]), 2)
    return second / first


def test_typedef_and_condition_chains_cost_linear_time(tmp_path: Path) -> None:
    def typedefs(n: int) -> str:
        chain = "".join(f"typedef t{i} t{i + 1};\n" for i in range(n))
        return small_spec(extra=f"typedef u32 t0;\n{chain}")

    def conditions(n: int) -> str:
        spec = small_spec(extra=f"@if({' && '.join(['X'] * n)}) typedef u32 c;\n")
        return spec.replace("data_model lp64;", "data_model lp64; defines X;")

    assert growth(typedefs, 700, tmp_path) < 24
    assert growth(conditions, 400, tmp_path) < 24


def test_huge_if_chains_in_an_imported_header_stop_early(tmp_path: Path) -> None:
    branches = "".join(f"#elif A{i}\nstruct s{i} {{ int (*f)(void); }};\n" for i in range(8000))
    (tmp_path / "elif.h").write_text(f"#if B\n{branches}#endif\n")
    nested = "#if A\n" * 100_000 + "struct s { int (*f)(void); };\n" + "#endif\n" * 100_000
    (tmp_path / "nested.h").write_text(nested)
    start = time.monotonic()
    result = run_cli("import", "elif.h", cwd=tmp_path)
    assert result.status == 1 and "group has more than 100 branches" in result.err
    result = run_cli("import", "nested.h", cwd=tmp_path)
    assert result.status == 1 and "nest more than 100 levels deep" in result.err
    assert time.monotonic() - start < 10


# ---- 9. clean errors, not internal errors ------------------------------------------------


def assert_clean(result: Any, status: int, text: str) -> None:
    assert result.status == status, result.err
    assert text in result.err, result.err
    assert "internal error" not in result.err


def test_an_integer_of_thousands_of_digits_is_a_clean_error(tmp_path: Path) -> None:
    huge = "1" + "0" * 5000
    (tmp_path / "a.pvspec").write_text(small_spec(extra=f"@if(X == {huge}) typedef u32 big;\n"))
    assert_clean(run_cli("check", "a.pvspec", cwd=tmp_path), 1, "integer of 5001 digits")
    (tmp_path / "big.h").write_text(
        f"#if X == {huge}\nstruct s {{ int (*f)(void); }};\n#endif\n" f"enum e {{ E = {huge} }};\n"
    )
    imported = run_cli("import", "big.h", cwd=tmp_path)
    assert imported.status in (0, 1) and "internal error" not in imported.err
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.pvgen]\nrules = {{ hot_callsites = {huge} }}\n"
    )
    assert_clean(run_cli("check", "a.pvspec", cwd=tmp_path), 2, "cannot read the configuration")


def test_a_loop_of_symbolic_links_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "loop1.pvspec").symlink_to("loop2.pvspec")
    (tmp_path / "loop2.pvspec").symlink_to("loop1.pvspec")
    (tmp_path / "a.pvspec").write_text(small_spec(include="loop1.pvspec"))
    assert_clean(run_cli("check", "a.pvspec", cwd=tmp_path), 1, "a loop of symbolic links")
    assert_clean(run_cli("check", "loop1.pvspec", cwd=tmp_path), 2, "a loop of symbolic links")
    assert_clean(run_cli("fmt", "loop1.pvspec", cwd=tmp_path), 2, "a loop of symbolic links")


def test_diff_against_git_with_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.pvgen]\nspecs = ["specs/a.pvspec"]\n')
    (tmp_path / "specs/a.pvspec").write_text(small_spec())
    os.close(os.open(os.path.join(os.fsencode(tmp_path / "specs"), b"odd-\xff.txt"), os.O_CREAT))
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "v1"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
    result = run_cli("diff", "--against", "git:HEAD", cwd=tmp_path)
    assert result.status == 0, result.err


def test_a_dump_of_the_wrong_shape_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    good = run_cli("dump", "a.pvspec", cwd=tmp_path).out
    (tmp_path / "good.json").write_text(good)
    for bad in ({"abi": 3, "tables": 3}, {**json.loads(good), "targets": "x"}):
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        result = run_cli("diff", "good.json", "bad.json", cwd=tmp_path)
        assert_clean(result, 2, "'bad.json' is not a dump of the shape pvgen writes")
    (tmp_path / "huge.json").write_text('{"abi": 1' + "0" * 5000 + "}")
    assert_clean(run_cli("diff", "good.json", "huge.json", cwd=tmp_path), 2, "cannot read dump")
    os.mkfifo(tmp_path / "fifo.json")  # read, it would block for ever
    assert_clean(run_cli("diff", "good.json", "fifo.json", cwd=tmp_path), 2, "it is a FIFO")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_a_failed_write_in_fmt_is_a_clean_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "a.pvspec").write_text(small_spec().replace("u32 f(word x);", "u32   f( word x );"))
    folder.chmod(0o555)
    try:
        assert_clean(run_cli("fmt", "ro/a.pvspec", cwd=tmp_path), 2, "cannot write")
    finally:
        folder.chmod(0o755)


def test_a_failed_write_in_fmt_is_a_clean_error_as_root_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec().replace("u32 f(word x);", "u32   f( word x );"))
    import pvgen.gen.writer

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pvgen.gen.writer.os, "fsync", disk_full)
    assert_clean(run_cli("fmt", "a.pvspec", cwd=tmp_path), 2, "No space left on device")
    assert not list(tmp_path.glob(".pvgen-tmp-*"))


# ---- 10. --macro-prefix, and fmt on stdin ------------------------------------------------


@pytest.mark.parametrize("prefix", ['X\n#include "/etc/passwd"\n', "1X_", "A-B", "A B", "\u00e9_"])
def test_a_macro_prefix_that_is_not_an_identifier_start_is_refused(
    tmp_path: Path, prefix: str
) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    result = run_cli("generate", "a.pvspec", "--out", "out", "--macro-prefix", prefix, cwd=tmp_path)
    assert_clean(result, 2, "is not the start of a C identifier")
    assert "\n#include" not in result.err
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="not the start of a C identifier"):
        api.GenOptions(macro_prefix=prefix)


@pytest.mark.parametrize("prefix", ["", "CONFIG_", "_K", "PV2_"])
def test_identifier_prefixes_are_accepted(tmp_path: Path, prefix: str) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    args = ("generate", "a.pvspec", "--out", "out", "--macro-prefix", prefix)
    assert run_cli(*args, cwd=tmp_path).status == 0


def fmt_stdin(data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "pvgen", "fmt", "-"], input=data, capture_output=True, timeout=60
    )


def test_fmt_on_stdin_reads_as_a_file_does(tmp_path: Path) -> None:
    spec = small_spec().replace("u32 f(word x);", "u32   f( word x );").encode()
    bad = spec.replace(b"typedef", b"typedef \xff", 1)
    (tmp_path / "bad.pvspec").write_bytes(bad)
    from_file = run_cli("fmt", "bad.pvspec", cwd=tmp_path)
    piped = fmt_stdin(bad)
    assert from_file.status == piped.returncode == 2
    assert b"invalid UTF-8 (byte 0xff)" in piped.stderr and piped.stdout == b""
    (tmp_path / "bom.pvspec").write_bytes(b"\xef\xbb\xbf" + spec)
    assert run_cli("fmt", "bom.pvspec", cwd=tmp_path).status == 0
    piped = fmt_stdin(b"\xef\xbb\xbf" + spec)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.decode() == (tmp_path / "bom.pvspec").read_text()


def test_a_fifo_in_the_output_folder_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(small_spec())
    (tmp_path / "out/a/c").mkdir(parents=True)
    os.mkfifo(tmp_path / "out/a/c/a.h")  # read, it would block for ever
    checked, written = run_bounded_many(
        [
            ["generate", "a.pvspec", "--out", "out", "--check"],
            ["generate", "a.pvspec", "--out", "out"],
        ],
        cwd=tmp_path,
    )
    assert checked[0] == 1 and "out/a/c/a.h: stale" in checked[1]
    assert written[0] == 2 and "was not generated by pvgen" in written[1]


def test_a_link_planted_while_generate_runs_is_not_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user swaps out/a/c for a link after pvgen checked the tree, before it writes."""
    (tmp_path / "a.pvspec").write_text(small_spec())
    abi = api.load_abi(tmp_path / "a.pvspec")
    out = tmp_path / "out"
    api.write_outputs(abi, api.render(abi), out)
    (tmp_path / "a.pvspec").write_text(small_spec().replace("version 1;", "version 2;"))
    abi2 = api.compile_spec(tmp_path / "a.pvspec")[0]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    import pvgen.gen.writer as writer

    real_listing = writer._existing_files

    def listing_then_swap(root: Path) -> list[str]:
        found = real_listing(root)
        shutil.rmtree(root / "c")
        (root / "c").symlink_to(elsewhere, target_is_directory=True)
        return found

    monkeypatch.setattr(writer, "_existing_files", listing_then_swap)
    with pytest.raises(writer.WriteError, match="refusing to write through"):
        api.write_outputs(abi2, api.render(abi2), out)
    assert list(elsewhere.iterdir()) == []
