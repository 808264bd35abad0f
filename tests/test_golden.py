"""Golden model dumps: the resolved model of each shipped spec, as canonical JSON.

A change to the language, the resolver or the specs shows up here as a diff
to review. Regenerate with `make golden` (never by hand).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SPECS, TEST_SPECS

from pvgen.cli import load_abi
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
