"""One registry explains every rule ID pvgen can print: compiler errors, spec rules, changes."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from pvgen.abi.changes import KINDS
from pvgen.rules import all_rules
from pvgen.rules.explain import HEADINGS
from pvgen.rules.registry import Category, ChangeRule, every_rule, rules_of

RULE_ID = re.compile(r"PV\d{3}")


def ids_in_source() -> dict[str, set[str]]:
    """Every PVnnn in pvgen's source, with the files it is in: in the string literals of
    Python modules (docstrings and f-string parts included) and anywhere in other files
    (templates, grammar)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "pvgen").rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            strings = [
                node.value
                for node in ast.walk(ast.parse(text))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            ]
        else:
            strings = [text]
        for string in strings:
            for rule_id in RULE_ID.findall(string):
                found.setdefault(rule_id, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_id_in_the_source_is_registered() -> None:
    """No output can print an ID that `pvgen rules` does not explain."""
    found = ids_in_source()
    registered = set(every_rule())
    # The scan sees IDs of every category, so a registered ID that it missed would show.
    assert {"PV000", "PV001", "PV104", "PV205", "PV223"} <= set(found)
    # PV002 is about an @allow of a rule that does not exist: its example must name one.
    deliberate = set(RULE_ID.findall(all_rules()["PV002"].bad)) - registered
    assert deliberate
    for rule_id in deliberate:
        assert found.pop(rule_id) == {"pvgen/rules/suppress.py"}
    unknown = {
        rule_id: sorted(files) for rule_id, files in found.items() if rule_id not in registered
    }
    assert not unknown, f"IDs that 'pvgen rules' does not know: {unknown}"


def test_docs_list_every_id() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule_id in every_rule():
        assert f"\n### {rule_id}\n" in text, rule_id
        assert f"| [{rule_id}](#{rule_id.lower()}) |" in text, rule_id


def test_categories() -> None:
    rules = every_rule()
    assert [r.id for r in rules_of(Category.COMPILER)] == ["PV000"]
    # The spec rules are what run_rules runs and what @allow may name.
    assert [r.id for r in rules_of(Category.SPEC)] == list(all_rules())
    assert all(re.fullmatch(r"PV[01]\d\d", r) for r in all_rules()) and "PV000" not in all_rules()
    changes = rules_of(Category.CHANGE)
    assert [r.id for r in changes] == sorted(KINDS)
    for entry in changes:
        assert isinstance(entry, ChangeRule)
        assert entry.change_class is KINDS[entry.id].change_class
        assert re.fullmatch(r"PV2\d\d", entry.id)
    assert len(rules) == 1 + len(all_rules()) + len(KINDS)


def test_listing_is_grouped_by_category() -> None:
    result = run_cli("rules")
    assert result.status == 0
    blocks = result.out.strip("\n").split("\n\n")
    assert len(blocks) == len(Category)
    for block, category in zip(blocks, Category, strict=True):
        heading, *rows = block.splitlines()
        assert heading == f"{HEADINGS[category]}:"
        assert [row.split()[0] for row in rows] == [r.id for r in rules_of(category)]


def test_a_change_rule_is_explained_with_its_class_and_example() -> None:
    result = run_cli("rules", "pv205")
    assert result.status == 0, result.err
    assert result.out.startswith("PV205 slots-shifted (change rule, class: breaking)\n")
    kind = KINDS["PV205"]
    for example in (kind.old, kind.new):
        assert "\n".join("    " + line for line in example.splitlines()) in result.out


def test_the_compiler_category_is_explained() -> None:
    result = run_cli("rules", "PV000")
    assert result.status == 0, result.err
    assert result.out.startswith("PV000 invalid-spec (compiler error)\n")
    assert "without a rule ID" in result.out


def test_unknown_id_is_a_usage_error() -> None:
    result = run_cli("rules", "PV299")
    assert result.status == 2 and "unknown rule 'PV299'" in result.err


def test_an_allow_cannot_name_a_change_rule(tmp_path: Path) -> None:
    """Changes are accepted in accepted.toml, not by @allow: to the spec rules PV205 is unknown."""
    (tmp_path / "a.pvspec").write_text(
        "abi demo { version 1; }\ntarget x86_64 { data_model lp64; }\n"
        '@allow(PV205, reason = "reordered on purpose")\ntable t { void f(); }\n'
        "backend native default;\n"
    )
    result = run_cli("check", "a.pvspec", "--format", "json", cwd=tmp_path)
    findings = json.loads(result.out)["findings"]
    assert [(f["rule"], f["line"]) for f in findings if f["rule"] == "PV002"] == [("PV002", 3)]


@pytest.mark.parametrize("fmt", ["json", "github", "sarif"])
def test_machine_formats_print_only_registered_ids(fmt: str, tmp_path: Path) -> None:
    """A compiler error and a rule finding, in one run: both IDs are ones `pvgen rules` explains."""
    (tmp_path / "broken.pvspec").write_text(
        "abi demo { version 1; }\ntarget x86_64 { data_model lp64; }\ntable t { void f(nope n); }\n"
    )
    (tmp_path / "style.pvspec").write_text(
        "abi demo { version 1; }\ntarget x86_64 { data_model lp64; }\ntable t { void fooBar(); }\n"
        "backend native default;\n"
    )
    result = run_cli("check", "broken.pvspec", "style.pvspec", "--format", fmt, cwd=tmp_path)
    assert result.status == 1
    if fmt == "json":
        printed = [f["rule"] for f in json.loads(result.out)["findings"]]
    elif fmt == "github":
        printed = re.findall(r"title=(PV\d{3}) ", result.out)
    else:
        run = json.loads(result.out)["runs"][0]
        printed = [r["ruleId"] for r in run["results"]]
        catalogue = [r["id"] for r in run["tool"]["driver"]["rules"]]
        assert catalogue == [r.id for r in rules_of(Category.COMPILER)] + list(all_rules())
        for entry in run["tool"]["driver"]["rules"]:
            registered = every_rule()[entry["id"]]
            assert (entry["name"], entry["shortDescription"]["text"]) == (
                registered.name,
                registered.purpose,
            )
    assert {"PV000", "PV112"} <= set(printed)
    for rule_id in set(printed):
        assert run_cli("rules", rule_id).status == 0, rule_id
