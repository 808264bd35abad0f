"""Golden model dumps: the resolved model of each shipped spec, as canonical JSON.

A change to the language, the resolver or the specs shows up here as a diff
to review. Regenerate with `make golden` (never by hand).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SPECS, TEST_SPECS

from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.dump import dump_json

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = {
    "paravirt.json": SPECS / "paravirt.pvspec",
    "contract.json": TEST_SPECS / "contract" / "paravirt.pvspec",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_model_dump_matches_golden(name: str) -> None:
    text = dump_json(load_abi(CASES[name], Config(None)))
    golden = GOLDEN / name
    if os.environ.get("PVGEN_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == text


def test_dump_is_deterministic_across_runs() -> None:
    first = dump_json(load_abi(CASES["paravirt.json"], Config(None)))
    second = dump_json(load_abi(CASES["paravirt.json"], Config(None)))
    assert first == second


def test_generated_python_and_dump_match_golden() -> None:
    """Every Python file and the ABI dump generated from the contract spec, byte for byte."""
    from pvgen.gen import render_all

    golden = GOLDEN / "generated" / "contract"
    files = [
        f
        for f in render_all(load_abi(CASES["contract.json"], Config(None)))
        if not f.path.startswith("c/")
    ]
    if os.environ.get("PVGEN_UPDATE_GOLDEN"):
        for f in files:
            (golden / f.path).parent.mkdir(parents=True, exist_ok=True)
            (golden / f.path).write_text(f.content, encoding="utf-8")
    expected = sorted(p.relative_to(golden).as_posix() for p in golden.rglob("*") if p.is_file())
    assert expected == sorted(f.path for f in files)
    for f in files:
        assert (golden / f.path).read_text(encoding="utf-8") == f.content, f.path
