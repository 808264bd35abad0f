"""Every rule's own bad example breaks it and its good example does not.

These are the examples `pvgen rules PVnnn` and docs/rules.md show, so they
must stay true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pvgen.abi.freeze import freeze
from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.rules import all_rules, run_rules


def codes(tmp_path: Path, text: str) -> list[str]:
    spec = tmp_path / "example.pvspec"
    spec.write_text(text + "\n", encoding="utf-8")
    abi = load_abi(spec, Config(None))
    return [d.code or "" for d in run_rules(abi, frozen=tmp_path / "abi" / abi.name)]


def release_good_example(tmp_path: Path, rule_id: str) -> None:
    """Rules about releases need one: the good example is frozen as the released version."""
    if rule_id == "PV003":
        spec = tmp_path / "released.pvspec"
        spec.write_text(all_rules()[rule_id].good + "\n", encoding="utf-8")
        abi = load_abi(spec, Config(None))
        freeze(abi, tmp_path / "abi" / abi.name)


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_bad_example_breaks_the_rule(rule_id: str, tmp_path: Path) -> None:
    release_good_example(tmp_path, rule_id)
    assert rule_id in codes(tmp_path, all_rules()[rule_id].bad)


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_good_example_keeps_the_rule(rule_id: str, tmp_path: Path) -> None:
    release_good_example(tmp_path, rule_id)
    assert rule_id not in codes(tmp_path, all_rules()[rule_id].good)
