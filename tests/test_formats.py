"""Every output format on one spec, each checked against its own format."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import ROOT, run_cli, sarif_schema

SPEC = ROOT / "tests" / "rules" / "PV104" / "bad.pvspec"


def check(fmt: str) -> str:
    result = run_cli("check", SPEC.name, "--format", fmt, cwd=SPEC.parent)
    assert result.status == 1, result.err
    return result.out


def test_text_has_locations_carets_and_summary() -> None:
    result = run_cli("check", SPEC.name, cwd=SPEC.parent)
    assert result.status == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("bad.pvspec:13:10: error[PV104]: hot hook 'pv_irq_ops.irq_disable'")
    assert lines[1] == "        void irq_disable();"
    assert lines[2] == "             ^^^^^^^^^^^"
    assert lines[-1] == "2 errors"


def test_json_parses_and_carries_every_field() -> None:
    document = json.loads(check("json"))
    assert document["summary"] == {"note": 0, "warning": 0, "error": 2}
    first = document["findings"][0]
    assert {k: first[k] for k in ("rule", "name", "severity", "file", "line", "column")} == {
        "rule": "PV104",
        "name": "hot-hook-unpatched",
        "severity": "error",
        "file": "bad.pvspec",
        "line": 13,
        "column": 10,
    }
    assert first["hint"]


GITHUB_LINE = re.compile(
    r"^::(error|warning|notice) file=[^,:]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,"
    r"title=[^,:]+::[^\r\n]+$"
)


def test_github_lines_are_workflow_commands() -> None:
    lines = check("github").splitlines()
    assert len(lines) == 2
    for line in lines:
        assert GITHUB_LINE.match(line), line
    # Newlines inside a message are escaped, never raw.
    assert "%0Ahint: " in lines[0]


def test_sarif_validates_against_the_schema() -> None:
    import jsonschema

    document = json.loads(check("sarif"))
    schema = sarif_schema()
    assert "SARIF" in str(schema["title"]) and "2.1.0" in str(schema["title"])
    jsonschema.Draft4Validator(schema).validate(document)
    run = document["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["PV104"] * 2
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (13, 10)


def test_compiler_errors_appear_in_machine_formats(tmp_path: Path) -> None:
    spec = tmp_path / "a.pvspec"
    spec.write_text(
        "abi demo { version 1; }\ntarget t { data_model lp64; }\ntable x { void f(nope n); }\n"
    )
    result = run_cli("check", "a.pvspec", "--format", "json", cwd=tmp_path)
    assert result.status == 1
    finding = json.loads(result.out)["findings"][0]
    assert (finding["rule"], finding["line"], finding["column"]) == ("PV000", 3, 18)


def test_werror_promotes_warnings(tmp_path: Path) -> None:
    spec = tmp_path / "a.pvspec"
    spec.write_text(
        "abi demo { version 1; }\ntarget t { data_model lp64; }\n"
        "/// T.\ntable x { void f(); }\nbackend native default;\n"
    )
    assert run_cli("check", "a.pvspec", cwd=tmp_path).status == 0  # PV111 is a warning
    result = run_cli("check", "a.pvspec", "--werror", cwd=tmp_path)
    assert result.status == 1
    assert "error[PV111]" in result.err
