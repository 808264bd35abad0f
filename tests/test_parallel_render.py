"""abi.json rendered in a second process (`generate --jobs 2`, the default on two CPUs)
gives the same files as a serial run, and a child that fails or dies costs nothing but time:
the file is rendered again in the parent, which raises what a serial run would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT

from pvgen import api
from pvgen.gen import abi_json, render_all
from pvgen.gen.parallel import PendingStage, stage_aside
from pvgen.gen.stream import Sink, StreamedFile

SPECS = [ROOT / "specs" / "paravirt.pvspec", ROOT / "specs" / "linux" / "linux-2.6.27.pvspec"]

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


def aside(output: StreamedFile, workers: int) -> PendingStage:
    """`output` started aside into an anonymous temporary file."""
    return stage_aside(output, lambda: ("", tempfile.TemporaryFile()), workers)


@needs_fork
@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_two_processes_render_what_one_renders(spec: Path) -> None:
    abi = api.load_abi(spec)
    pending = aside(abi_json.render_streamed(abi), 2)
    assert pending.child is not None  # a child really rendered it
    staged = pending.result()
    assert staged is not None and staged.text() == abi_json.render(abi).content
    assert render_all(abi, workers=2) == render_all(abi, workers=1)


@needs_fork
def test_a_child_that_dies_is_replaced_by_the_parent() -> None:
    def die(sink: Sink) -> None:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    pending = aside(StreamedFile("x", die, aside=True), 2)
    assert pending.child is not None
    assert pending.result() is None


@needs_fork
def test_a_failing_render_raises_in_the_parent_as_serially(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    abi = api.load_abi(SPECS[0])

    def broken(_abi: object, _sink: object) -> None:
        raise RuntimeError("the dump failed")

    monkeypatch.setattr(abi_json, "write", broken)
    for workers in (1, 2):
        with pytest.raises(RuntimeError, match="the dump failed"):
            render_all(abi, workers=workers)


def test_one_worker_forks_nothing() -> None:
    pending = aside(StreamedFile("x", lambda sink: sink.write("y"), aside=True), 1)
    assert pending.child is None and pending.result() is None


def _generate(out: Path, tmp: Path, *jobs: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PVGEN_NO_CACHE="1", TMPDIR=str(tmp))
    return subprocess.run(
        [sys.executable, "-m", "pvgen", "generate", str(SPECS[0]), "--out", str(out), *jobs],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@needs_fork
def test_generate_with_one_or_two_jobs_writes_the_same_folder(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    one, two = tmp_path / "one", tmp_path / "two"
    assert _generate(one, temp, "--jobs", "1").returncode == 0
    done = _generate(two, temp, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert _tree(one) == _tree(two) != {}
    if sys.platform.startswith("linux"):
        assert list(temp.iterdir()) == []  # the files went through unnamed temporary files


def test_jobs_must_be_a_positive_number(tmp_path: Path) -> None:
    for bad in ("0", "-1", "two"):
        done = _generate(tmp_path / "out", tmp_path, "--jobs", bad)
        assert done.returncode == 2
        assert "--jobs: expected a whole number of processes, 1 or more" in done.stderr
        assert "Traceback" not in done.stderr


@needs_fork
def test_the_child_is_waited_for_when_rendering_here_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pvgen.gen import c, parallel

    abi = api.load_abi(SPECS[0])
    children: list[int] = []
    real_aside = parallel.stage_aside

    def counted(output: StreamedFile, open_temp: object, workers: int) -> PendingStage:
        pending = real_aside(output, open_temp, workers)  # type: ignore[arg-type]
        assert pending.child is not None
        children.append(pending.child)
        return pending

    def broken(sink: Sink) -> None:
        raise RuntimeError("the header failed")

    monkeypatch.setattr(parallel, "stage_aside", counted)
    monkeypatch.setattr(c, "render_streamed", lambda *_: [StreamedFile("c/x.h", broken)])
    with pytest.raises(RuntimeError, match="the header failed"):
        render_all(abi, workers=2)
    (child,) = children
    with pytest.raises(ChildProcessError):  # already waited for: no zombie left behind
        os.waitpid(child, os.WNOHANG)
