"""One directory per rule under tests/rules/: bad.pvspec breaks the rule exactly at the places
expected.txt lists (rule ID, file, line, column), and good.pvspec does not break it.

Message wording is free to change; the places are not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from pvgen.rules import all_rules

RULES = Path(__file__).resolve().parent / "rules"


def findings(spec: Path, rule_id: str) -> list[str]:
    result = run_cli("check", spec.name, "--format", "json", cwd=spec.parent)
    assert result.status in (0, 1), result.err
    return [
        f"{f['rule']} {f['file']}:{f['line']}:{f['column']}"
        for f in json.loads(result.out)["findings"]
        if f["rule"] == rule_id
    ]


def test_every_rule_has_a_test_directory() -> None:
    assert sorted(p.name for p in RULES.iterdir() if p.is_dir()) == sorted(all_rules())


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_bad_spec_breaks_the_rule_where_expected(rule_id: str) -> None:
    expected = (RULES / rule_id / "expected.txt").read_text().split("\n")
    assert findings(RULES / rule_id / "bad.pvspec", rule_id) == [e for e in expected if e]


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_good_spec_keeps_the_rule(rule_id: str) -> None:
    assert findings(RULES / rule_id / "good.pvspec", rule_id) == []
