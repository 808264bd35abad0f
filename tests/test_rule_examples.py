"""Every rule's own examples do what they say.

A spec rule's bad example breaks it and its good example does not; the
compiler rejects its bad example and accepts its good one; the old and new
versions of a change rule's example differ by that change. These are the
examples `pvgen rules PVnnn` and docs/rules.md show, so they must stay true.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from pvgen.abi.freeze import freeze
from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.rules import all_rules, run_rules
from pvgen.rules.registry import COMPILER, Category, ChangeRule, every_rule, rules_of


def codes(tmp_path: Path, text: str) -> list[str]:
    spec = tmp_path / "example.pvspec"
    spec.write_text(text + "\n", encoding="utf-8")
    abi = load_abi(spec, Config(None))
    return [d.code or "" for d in run_rules(abi, frozen=tmp_path / "abi" / abi.name)]


# The release the examples of a rule about releases assume frozen, where it is not the good one.
RELEASED = {
    "PV120": "abi demo { version 1; }\ntarget x86_64 { data_model lp64; }\n"
    "table pv_irq_ops { void halt(); }"
}


def release_good_example(tmp_path: Path, rule_id: str) -> None:
    """Rules about releases need one: the good example is frozen as the released version."""
    released = RELEASED.get(rule_id)
    if rule_id == "PV003" or released is not None:
        spec = tmp_path / "released.pvspec"
        text = released or all_rules()[rule_id].good
        spec.write_text(text + "\n", encoding="utf-8")
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


def test_compiler_example(tmp_path: Path) -> None:
    (tmp_path / "bad.pvspec").write_text(COMPILER.bad + "\n", encoding="utf-8")
    (tmp_path / "good.pvspec").write_text(COMPILER.good + "\n", encoding="utf-8")
    bad = run_cli("check", "--no-rules", "--format", "json", "bad.pvspec", cwd=tmp_path)
    assert bad.status == 1
    findings = json.loads(bad.out)["findings"]
    assert findings and {f["rule"] for f in findings} == {COMPILER.id}
    good = run_cli("check", "--no-rules", "good.pvspec", cwd=tmp_path)
    assert good.status == 0, good.err


# A version that was not raised is about some breaking change, which is reported too.
# A split or merge is told beside the tables gone and added and the members moved.
COMPANIONS = {
    "PV206": {"PV227"},  # safe_halt grows the first table: the second starts later
    "PV220": {"PV227"},  # pv_lazy_ops, embedded now, leaves the template before pv_mmu_ops
    "PV223": {"PV203"},
    "PV224": {"PV204"},
    "PV225": {"PV201", "PV202", "PV206"},
    "PV226": {"PV201", "PV202", "PV206"},
    "PV227": {"PV204"},  # the hook added at the end of a table that is not the last
}


@pytest.mark.parametrize("rule_id", [r.id for r in rules_of(Category.CHANGE)])
def test_change_example_reports_its_rule(rule_id: str, tmp_path: Path) -> None:
    entry = every_rule()[rule_id]
    assert isinstance(entry, ChangeRule)
    (tmp_path / "old.pvspec").write_text(entry.kind.old + "\n", encoding="utf-8")
    (tmp_path / "new.pvspec").write_text(entry.kind.new + "\n", encoding="utf-8")
    result = run_cli("diff", "old.pvspec", "new.pvspec", "--format", "json", cwd=tmp_path)
    assert result.status in (4, 12), result.err  # both versions compile, and they differ
    changes = json.loads(result.out)["changes"]
    # The example shows its rule, at its default class, and nothing else beside it.
    assert {c["rule"] for c in changes} == {rule_id} | COMPANIONS.get(rule_id, set())
    classes = {c["class"] for c in changes if c["rule"] == rule_id}
    assert classes == {str(entry.change_class)}
