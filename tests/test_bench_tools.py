"""The profiling tools of bench/ run against the current code and print every stage.

They reach into pvgen's stages (the resolver's steps, the cache's entries), so a change
there could break them silently; `make bench` does not run them. Small sizes keep this quick:
the figures themselves are not asserted, only their shape.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads /proc/self/statm")
def test_memory_profile_notes_every_stage_of_a_check() -> None:
    out = _run("memory_profile.py", "--hooks", "300")
    rows = re.findall(r"^  (\S.*?)\s+(\d+)\s+(\d+)$", out, re.M)
    stages = [stage for stage, _, _ in rows]
    assert stages == [
        "the interpreter",
        "imports and the parser's tables",
        "syntax tree",
        "the tables' model (their trees freed)",
        "the backends' model",
        "per-target layouts",
        "generated-name check (its pool let go)",
        "model (resolve done)",
        "rules",
        "report",
    ]
    peaks = [int(peak) for _, _, peak in rows]
    assert peaks == sorted(peaks), "a peak so far never goes down"
    assert all(int(now) > 0 for _, now, _ in rows)


def test_edit_profile_times_every_stage_of_a_check_and_a_generate() -> None:
    out = _run("edit_profile.py", "--hooks", "400", "--parts", "2")
    assert "400 hooks in 3 files" in out
    rows = dict(re.findall(r"^  (\S.*?)\s+(\d+) ms", out, re.M))
    for stage in (
        "syntax trees: one parsed and kept, the others read",
        "resolve",
        "rules (and keeping their findings)",
        "generate: render abi.json",
        "generate: render the C header and native table",
        "generate: render the Python package",
        "generate: bring the output folder up to date",
        "total",
    ):
        assert stage in rows, stage
