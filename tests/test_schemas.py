"""Output contracts: every JSON output carries a format version and validates against the
schema the package ships (`pvgen schema NAME`), on real outputs of every kind."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import ROOT, ROOT_SPECS, SPECS, root_spec_id, run_cli

from pvgen import schemas
from pvgen.dump import FORMAT_VERSION

# A spec with an error that has a related place, warnings with hints, and a note.
FINDINGS = """abi demo { version 1; stability stable; }
target x86_64 { data_model lp64; }
table pv_mmu_ops {
    void dupMmap();
    void flush();
}
backend native default;
backend xen { pv_mmu_ops: dupMmap; }
"""


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schemas.load(name))


def assert_valid(name: str, document: dict[str, Any]) -> None:
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def assert_invalid(name: str, document: dict[str, Any]) -> None:
    assert not validator(name).is_valid(document)


@pytest.mark.parametrize("name", schemas.NAMES)
def test_each_schema_is_a_valid_schema_and_printed_as_shipped(name: str) -> None:
    schema = schemas.load(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"pvgen:{name}"
    result = run_cli("schema", name)
    assert result.status == 0 and json.loads(result.out) == schema


def test_format_versions_match_the_schemas() -> None:
    versions = {
        "check": schemas.CHECK_FORMAT,
        "diff": schemas.DIFF_FORMAT,
        "rules": schemas.RULES_FORMAT,
        "dump": FORMAT_VERSION,
    }
    for name, version in versions.items():
        assert schemas.load(name)["properties"]["format"] == {"const": version}
    for kind in ("run", "comparison"):
        assert schemas.load("sim")["$defs"][kind]["properties"]["format"] == {
            "const": schemas.SIM_FORMAT
        }


def test_check_json(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": FINDINGS, "broken.pvspec": "abi x { version 1; }\ntable"})
    result = run_cli("check", "a.pvspec", "broken.pvspec", "--format", "json", cwd=folder)
    document = json.loads(result.out)
    assert document["format"] == schemas.CHECK_FORMAT
    rules = {f["rule"] for f in document["findings"]}
    assert {"PV000", "PV103", "PV111", "PV112"} <= rules
    assert any(f["related"] for f in document["findings"])
    assert_valid("check", document)
    clean = json.loads(run_cli("check", "--format", "json", cwd=ROOT).out)
    # the shipped spec has notes at most (PV114: post_allocator_init has no native code)
    assert {f["severity"] for f in clean["findings"]} <= {"note"}
    assert clean["format"] == schemas.CHECK_FORMAT
    assert_valid("check", clean)
    # The schema holds the shape: a misspelt severity or an extra key is refused.
    bad = copy.deepcopy(document)
    bad["findings"][0]["severity"] = "fatal"
    assert_invalid("check", bad)
    bad = copy.deepcopy(document)
    bad["findings"][0]["column_end"] = 3
    assert_invalid("check", bad)


@pytest.mark.parametrize("spec", ROOT_SPECS, ids=root_spec_id)
def test_dump_json(spec: Path) -> None:
    result = run_cli("dump", str(spec))
    assert result.status == 0, result.err
    document = json.loads(result.out)
    assert document["format"] == FORMAT_VERSION
    assert_valid("dump", document)


def test_generated_and_frozen_dumps_follow_the_dump_schema() -> None:
    files = [ROOT / "generated" / "paravirt" / "abi.json", *sorted(SPECS.glob("abi/*/*.json"))]
    assert len(files) >= 3
    for path in files:
        assert_valid("dump", json.loads(path.read_text(encoding="utf-8")))


def test_dump_schema_refuses_what_is_not_a_dump() -> None:
    document = json.loads(run_cli("dump", str(SPECS / "paravirt.pvspec")).out)
    table = next(t for t in document["tables"] if any(m["kind"] == "hook" for m in t["members"]))
    index = document["tables"].index(table)
    hook = next(m for m in table["members"] if m["kind"] == "hook")
    for change in (
        lambda h: h.update(kind="method"),
        lambda h: h.pop("returns"),
        lambda h: h.update(patch={"native": "nop"}),
        lambda h: h.update(inline=True),
    ):
        bad = copy.deepcopy(document)
        target = next(m for m in bad["tables"][index]["members"] if m["name"] == hook["name"])
        change(target)
        assert_invalid("dump", bad)


def test_diff_json() -> None:
    old, new = SPECS / "abi" / "paravirt" / "1.json", SPECS / "abi" / "paravirt" / "2.json"
    result = run_cli("diff", str(old), str(new), "--format", "json")
    document = json.loads(result.out)
    assert document["format"] == schemas.DIFF_FORMAT
    assert document["changes"] and any(c["accepted"] for c in document["changes"])
    assert any(c["targets"] for c in document["changes"])
    assert_valid("diff", document)
    same = json.loads(run_cli("diff", str(new), str(new), "--format", "json").out)
    assert same["changes"] == []
    assert_valid("diff", same)
    bad = copy.deepcopy(document)
    bad["changes"][0]["class"] = "harmless"
    assert_invalid("diff", bad)


def test_sim_json() -> None:
    run = run_cli(
        "sim", "--backend", "xen", "--workload", "fork", "--size", "2", "--format", "json"
    )
    assert run.status == 0, run.err
    document = json.loads(run.out)
    assert document["format"] == schemas.SIM_FORMAT
    assert_valid("sim", document)
    compared = run_cli(
        "sim", "--compare", "--workload", "syscalls", "--size", "1", "--format", "json"
    )
    assert compared.status == 0, compared.err
    comparison = json.loads(compared.out)
    assert comparison["format"] == schemas.SIM_FORMAT
    assert set(comparison["workloads"]["syscalls"]) == set(comparison["backends"])
    assert_valid("sim", comparison)
    bad = copy.deepcopy(document)
    bad["cycles"] = -1
    assert_invalid("sim", bad)


def test_rules_json() -> None:
    from pvgen.rules.registry import every_rule

    result = run_cli("rules", "--format", "json")
    assert result.status == 0
    document = json.loads(result.out)
    assert document["format"] == schemas.RULES_FORMAT
    assert [r["id"] for r in document["rules"]] == list(every_rule())
    assert {r["category"] for r in document["rules"]} == {"compiler", "spec", "change"}
    assert_valid("rules", document)
    one = json.loads(run_cli("rules", "pv205", "--format", "json").out)
    assert [(r["id"], r["class"]) for r in one["rules"]] == [("PV205", "breaking")]
    assert_valid("rules", one)
    assert run_cli("rules", "PV999", "--format", "json").status == 2
