"""Every rule's own bad example breaks it and its good example does not.

These are the examples `pvgen rules PVnnn` and docs/rules.md show, so they
must stay true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pvgen.cli import load_abi
from pvgen.config import Config
from pvgen.rules import all_rules, run_rules


def codes(tmp_path: Path, text: str) -> list[str]:
    spec = tmp_path / "example.pvspec"
    spec.write_text(text + "\n", encoding="utf-8")
    return [d.code or "" for d in run_rules(load_abi(spec, Config(None)))]


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_bad_example_breaks_the_rule(rule_id: str, tmp_path: Path) -> None:
    assert rule_id in codes(tmp_path, all_rules()[rule_id].bad)


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_good_example_keeps_the_rule(rule_id: str, tmp_path: Path) -> None:
    assert rule_id not in codes(tmp_path, all_rules()[rule_id].good)
