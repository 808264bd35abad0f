"""The cache never changes a result: random sequences of edits, renames, retargeted links,
deletions and restorations of the spec's files, and of changes to the output folder, each
followed by a cached and an uncached run that must agree on every diagnostic, the dump, every
generated file, and what `pvgen generate` says and leaves in the folder."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import PREAMBLE, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvgen import api
from pvgen.config import Config
from pvgen.diagnostics import SpecError

ROOT_SPEC = (
    PREAMBLE + 'include "types.pvspec";\ninclude "tables.pvspec";\n'
    "/// Bare hardware.\nbackend native default;\n"
    "/// A hypervisor.\nbackend xen { pv_ops: * ; }\n"
    "/// Another.\nbackend kvm { pv_ops: * ; }\n"
)
TYPES = [
    "typedef u32 word_t;\n",
    "typedef u64 word_t;\n",
    "/// Words.\ntypedef unsigned long word_t;\n",
    "typedef nope word_t;\n",  # an error in the included file
    "typedef u32 word_t\n",  # a syntax error
    "",  # empty: word_t is gone
]
TABLES = [
    "/// Ops.\ntable pv_ops {\n    /// Reads.\n    word_t read(word_t at);\n}\n",
    "/// Ops.\ntable pv_ops {\n    /// Reads.\n    void read(word_t at);\n"
    "    /// Writes.\n    void write(word_t at, u64 value);\n}\n",
    "/// Ops.\ntable pv_ops {\n    void read(word_t at);\n}\n",  # a finding: no doc comment
    "/// Ops.\ntable pv_ops {\n    /// Reads.\n    word_t read(word_t at)\n}\n",  # syntax error
]

_OPS = st.one_of(
    st.tuples(st.just("types"), st.integers(0, len(TYPES) - 1)),
    st.tuples(st.just("tables_a"), st.integers(0, len(TABLES) - 1)),
    st.tuples(st.just("tables_b"), st.integers(0, len(TABLES) - 1)),
    st.tuples(st.just("link"), st.sampled_from(["tables_a.pvspec", "tables_b.pvspec"])),
    st.tuples(st.just("delete"), st.sampled_from(["types.pvspec", "tables_a.pvspec"])),
    st.tuples(st.just("restore"), st.sampled_from(["types.pvspec", "tables_a.pvspec"])),
    st.tuples(st.just("rename"), st.just("types.pvspec")),
    st.tuples(st.just("touch"), st.sampled_from(["types.pvspec", "a.pvspec"])),
    st.tuples(st.just("outputs"), st.sampled_from(["edit", "delete", "leftover", "manifest"])),
)


def _outcome(spec: Path) -> dict[str, Any]:
    """Everything a run tells the user: diagnostics, the dump and the generated files."""
    config = Config(None)
    report = api.check([spec], config)
    result: dict[str, Any] = {
        "diagnostics": [d.format_text() for d in report.diagnostics],
        "unreadable": report.unreadable,
    }
    try:
        abi = api.load_abi(spec, config)
    except SpecError as exc:
        result["error"] = [d.format_text() for d in exc.diagnostics]
        return result
    result["dump"] = api.dump_json(abi)
    files = api.render(abi, spec=spec, config=config)
    result["files"] = [(f.path, f.content) for f in files]
    generate = run_cli("generate", str(spec), "--out", "out")
    result["generate"] = (generate.status, generate.out, generate.err)
    result["folder"] = {
        p.relative_to("out").as_posix(): p.read_bytes()
        for p in sorted(Path("out").rglob("*"))
        if p.is_file()
    }
    return result


def _apply(folder: Path, op: tuple[str, Any], saved: dict[str, str]) -> None:
    kind, arg = op
    if kind == "types":
        _write(folder / "types.pvspec", TYPES[arg])
    elif kind in ("tables_a", "tables_b"):
        _write(folder / f"{kind}.pvspec", TABLES[arg])
    elif kind == "link":
        link = folder / "tables.pvspec"
        link.unlink(missing_ok=True)
        link.symlink_to(arg)
    elif kind == "delete":
        path = folder / arg
        if path.exists():
            saved[arg] = path.read_text()
            path.unlink()
    elif kind == "restore":
        if arg in saved and not (folder / arg).exists():
            _write(folder / arg, saved.pop(arg))
    elif kind == "rename":
        path, other = folder / arg, folder / ("renamed-" + arg)
        if path.exists():
            path.rename(other)
        elif other.exists():
            other.rename(path)
    elif kind == "outputs":  # the output folder changed behind pvgen's back
        generated = sorted(p for p in (folder / "out").rglob("*.py") if p.is_file())
        if not generated:
            return
        if arg == "edit":
            generated[0].write_text(generated[0].read_text() + "# mine\n")
        elif arg == "delete":
            generated[-1].unlink()
        elif arg == "leftover":
            (generated[0].parent / ".pvgen-tmp-000000000000").write_text("a dead run's")
        else:
            manifest = next((folder / "out").rglob("pvgen.manifest"))
            manifest.write_text(manifest.read_text().replace("a", "b", 1))
    else:  # touch: the same text, a new modification time
        path = folder / arg
        if path.exists():
            os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))


def _start(folder: Path) -> Path:
    """The first state of every sequence: a root, its types, two tables files and a link."""
    (folder / "a.pvspec").write_text(ROOT_SPEC)
    (folder / "types.pvspec").write_text(TYPES[0])
    (folder / "tables_a.pvspec").write_text(TABLES[0])
    (folder / "tables_b.pvspec").write_text(TABLES[1])
    (folder / "tables.pvspec").symlink_to("tables_a.pvspec")
    return Path("a.pvspec")


def _write(path: Path, text: str) -> None:
    # A new file each time (not rewritten in place), as editors save.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(_OPS, min_size=1, max_size=8), streamed=st.booleans())
def test_cached_runs_match_uncached_runs(
    ops: list[tuple[str, Any]],
    streamed: bool,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `generate` streams the files of a large ABI and makes a small one's in memory (and
    # keeps them): half the sequences take the large ABI's way with this small spec.
    if streamed:
        monkeypatch.setattr("pvgen.commands.generate.STREAM_ABOVE_HOOKS", 0)
    folder = tmp_path_factory.mktemp("specs")
    cache = tmp_path_factory.mktemp("cache")
    cache.chmod(0o700)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PVGEN_CACHE_DIR", str(cache))
    spec = _start(folder)
    saved: dict[str, str] = {}
    _outcome(spec)  # fill the cache
    for op in ops:
        _apply(folder, op, saved)
        monkeypatch.delenv("PVGEN_NO_CACHE", raising=False)
        cached = _outcome(spec)
        again = _outcome(spec)  # now certainly from the cache where it can be
        monkeypatch.setenv("PVGEN_NO_CACHE", "1")
        fresh = _outcome(spec)
        # The first generate after a step may write where the others find nothing to do.
        assert {**cached, "generate": None} == {**fresh, "generate": None}, op
        assert again == fresh, op


def test_the_sequences_reach_both_hits_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated sequences are not vacuous: the same steps give a clean spec, a spec
    with an error in an included file and an unreadable include."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PVGEN_CACHE_DIR", str(cache))
    spec = _start(tmp_path)
    clean = _outcome(spec)
    assert clean["diagnostics"] == [] and clean["files"]
    _apply(tmp_path, ("types", 3), {})
    assert "unknown type 'nope'" in "".join(_outcome(spec)["diagnostics"])
    _apply(tmp_path, ("rename", "types.pvspec"), {})
    assert "types.pvspec" in "".join(_outcome(spec)["diagnostics"])
    _apply(tmp_path, ("rename", "types.pvspec"), {})
    _apply(tmp_path, ("types", 0), {})
    back = _outcome(spec)
    assert {**back, "generate": None} == {**clean, "generate": None}
    # The folder still holds what the clean spec made (the runs in error wrote nothing).
    assert back["generate"][1].startswith("out/demo: 0 written,")
    _apply(tmp_path, ("outputs", "edit"), {})
    refused = _outcome(spec)["generate"]
    assert refused[0] == 2 and "was not generated by pvgen" in refused[2]
