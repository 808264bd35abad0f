"""Configuration: pvgen.toml and [tool.pvgen] (one schema), discovery, --config, rule
severities from [rules], --select/--ignore, check --summary, and the published schema."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, run_cli

from pvgen import schemas
from pvgen.config import KEYS, RULE_KEYS, ConfigError, load_config, parse_config

# One error (PV103), three warnings (PV111) and a note (PV112).
SPEC = """abi demo { version 1; stability stable; }
target x86_64 { data_model lp64; }
table pv_mmu_ops {
    void dupMmap();
    void flush();
}
backend native default;
backend xen { pv_mmu_ops: dupMmap; }
"""


def findings(result_out: str) -> list[tuple[str, str]]:
    return [(f["rule"], f["severity"]) for f in json.loads(result_out)["findings"]]


def check_json(folder: Path, *args: str) -> list[tuple[str, str]]:
    result = run_cli("check", "--format", "json", *args, cwd=folder)
    assert result.status in (0, 1), result.err
    return findings(result.out)


def test_pvgen_toml_is_found_from_a_subfolder(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"pvgen.toml": 'specs = ["specs/a.pvspec"]\n', "specs/a.pvspec": SPEC})
    (folder / "drivers" / "net").mkdir(parents=True)
    result = run_cli("check", cwd=folder / "drivers" / "net")
    assert result.status == 1
    assert "abi 'demo'" in result.out


def test_pyproject_without_tool_pvgen_is_passed_over(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "pvgen.toml": 'specs = ["specs/a.pvspec"]\n',
            "specs/a.pvspec": SPEC,
            "tools/pyproject.toml": '[project]\nname = "kernel-scripts"\n',
        }
    )
    config = load_config(folder / "tools")
    assert config.path == folder / "pvgen.toml"
    assert config.specs == (folder / "specs" / "a.pvspec",)
    assert run_cli("check", cwd=folder / "tools").status == 1


def test_pvgen_toml_wins_over_pyproject_in_the_same_folder(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "pvgen.toml": 'specs = ["a.pvspec"]\n',
            "pyproject.toml": '[tool.pvgen]\nspecs = ["b.pvspec"]\n',
        }
    )
    assert load_config(folder).specs == (folder / "a.pvspec",)


def test_same_keys_in_both_files(write_specs) -> None:  # type: ignore[no-untyped-def]
    body = (
        'specs = ["s/a.pvspec"]\nout = "gen"\nspec_root = "s"\nabi_dir = "frozen"\n'
        '[rules]\nhot_callsites = 7\nPV111 = "off"\n'
        '[[allow]]\nrule = "PV103"\npath = "s/*.pvspec"\nreason = "xen only"\n'
    )
    tool = body.replace("[rules]", "[tool.pvgen.rules]").replace(
        "[[allow]]", "[[tool.pvgen.allow]]"
    )
    one = write_specs({"one/pvgen.toml": body, "two/pyproject.toml": "[tool.pvgen]\n" + tool})
    a, b = load_config(one / "one"), load_config(one / "two")
    for config, base in ((a, one / "one"), (b, one / "two")):
        assert config.specs == (base / "s" / "a.pvspec",)
        assert (config.out, config.spec_root, config.abi_dir) == (
            base / "gen",
            base / "s",
            base / "frozen",
        )
        assert config.rules.hot_callsites == 7 and config.rules.levels == {"PV111": None}
        assert [(x.rule, x.path, x.base) for x in config.allow] == [("PV103", "s/*.pvspec", base)]


def test_errors_name_the_file_and_table(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"pvgen.toml": 'spec = ["a.pvspec"]\n'})
    result = run_cli("check", cwd=folder)
    assert result.status == 2
    assert "pvgen.toml: unknown key 'spec' in pvgen.toml; did you mean 'specs'?" in result.err
    folder = write_specs({"pvgen.toml": '[rules]\nPV111 = "silent"\n'})
    result = run_cli("check", cwd=folder)
    assert result.status == 2
    assert "[rules] 'PV111' must be one of 'error', 'warning', 'note', 'off'" in result.err


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_option(write_specs, where: str) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "elsewhere/ci.toml": 'specs = ["../a.pvspec"]\n[rules]\nPV103 = "warning"\n',
            "a.pvspec": SPEC,
        }
    )
    option = ["--config", "elsewhere/ci.toml"]
    args = [*option, "check"] if where == "before" else ["check", *option]
    result = run_cli(*args, cwd=folder)
    assert result.status == 0, result.err  # PV103 is a warning under this configuration
    assert "abi 'demo'" in result.out


def test_config_option_errors(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"pyproject.toml": '[project]\nname = "x"\n'})
    result = run_cli("--config", "pyproject.toml", "check", cwd=folder)
    assert result.status == 2
    assert "pyproject.toml: has no [tool.pvgen] table" in result.err
    result = run_cli("--config", "missing.toml", "check", cwd=folder)
    assert result.status == 2
    assert "missing.toml: no such configuration file" in result.err


def test_rule_levels_from_config(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "pvgen.toml": 'specs = ["a.pvspec"]\n[rules]\nPV111 = "off"\nPV112 = "error"\n'
            'PV103 = "note"\n',
            "a.pvspec": SPEC,
        }
    )
    assert sorted(check_json(folder)) == [("PV103", "note"), ("PV112", "error")]
    assert run_cli("check", cwd=folder).status == 1  # PV112 is an error now


def test_unknown_rule_in_config(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {"pvgen.toml": 'specs = ["a.pvspec"]\n[rules]\nPV211 = "off"\nPV11 = "off"\n'}
    )
    with pytest.raises(ConfigError, match="unknown key 'PV11'"):
        load_config(folder)
    (folder / "pvgen.toml").write_text('specs = ["a.pvspec"]\n[rules]\nPV211 = "off"\n')
    (folder / "a.pvspec").write_text(SPEC)
    result = run_cli("check", cwd=folder)
    assert result.status == 2
    assert "sets 'PV211', which is not a rule of 'pvgen check'" in result.err


def test_a_turned_off_rule_keeps_its_allows_used(write_specs) -> None:  # type: ignore[no-untyped-def]
    spec = SPEC.replace(
        "    void dupMmap();", '    @allow(PV103, reason = "xen pins it")\n    void dupMmap();'
    )
    folder = write_specs({"pvgen.toml": '[rules]\nPV103 = "off"\n', "a.pvspec": spec})
    assert ("PV001", "warning") not in check_json(folder, "a.pvspec")


def test_select_and_ignore(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": SPEC, "pvgen.toml": '[rules]\nPV112 = "off"\n'})
    assert {r for r, _ in check_json(folder, "a.pvspec", "--ignore", "PV111")} == {"PV103"}
    assert {r for r, _ in check_json(folder, "a.pvspec", "--select", "pv111,PV103")} == {
        "PV103",
        "PV111",
    }
    # Selected by name: on again, at its default severity, though [rules] turned it off.
    assert check_json(folder, "a.pvspec", "--select", "PV112") == [("PV112", "note")]
    both = check_json(folder, "a.pvspec", "--select", "PV1", "--ignore", "PV103,PV111")
    assert both == [("PV112", "note")]
    result = run_cli("check", "a.pvspec", "--select", "PV9", cwd=folder)
    assert result.status == 2
    assert "--select PV9: no rule of 'pvgen check' has such an ID" in result.err


def test_summary_counts_per_rule(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": SPEC})
    each = check_json(folder, "a.pvspec")
    result = run_cli("check", "a.pvspec", "--summary", cwd=folder)
    assert result.status == 1 and result.err == ""
    lines = result.out.splitlines()
    assert lines[0].startswith("a.pvspec: abi 'demo'")
    counted = {}
    for line in lines[1:-1]:
        count, rule_id, _name, *_ = line.split()
        counted[rule_id] = int(count)
    assert counted == {r: sum(1 for x, _ in each if x == r) for r, _ in each}
    assert lines[-1] == "total: 1 error, 3 warnings, 1 note"
    assert "PV111  missing-doc" in result.out
    result = run_cli("check", "a.pvspec", "--summary", "--format", "json", cwd=folder)
    assert result.status == 2


# ---- the schema -------------------------------------------------------------------------

VALID = [
    {},
    {"specs": ["a.pvspec"], "out": "gen", "spec_root": ".", "abi_dir": "abi"},
    {"rules": {"hot_callsites": 5, "PV111": "off", "PV104": "warning"}},
    {"allow": [{"rule": "PV103", "path": "*.pvspec", "reason": "why"}]},
]
INVALID = [
    {"spec": ["a.pvspec"]},
    {"specs": "a.pvspec"},
    {"out": 3},
    {"rules": {"hot_callsites": -1}},
    {"rules": {"hot_callsites": True}},
    {"rules": {"PV111": "silent"}},
    {"rules": {"pv111": "off"}},
    {"allow": [{"rule": "PV103", "path": "*.pvspec"}]},
    {"allow": [{"rule": "PV103", "path": "*.pvspec", "reason": " "}]},
    {"allow": {"rule": "PV103"}},
]


@pytest.mark.parametrize("table", VALID + INVALID)
def test_schema_and_loader_agree(table: dict[str, object], tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(schemas.load("config"))
    try:
        parse_config(tmp_path / "pvgen.toml", table)
        loads = True
    except ConfigError:
        loads = False
    assert validator.is_valid(table) == loads == (table in VALID)


def test_schema_lists_every_key() -> None:
    schema = schemas.load("config")
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == set(KEYS)
    assert set(schema["properties"]["rules"]["properties"]) == set(RULE_KEYS)


def test_schema_accepts_the_projects_own_table() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    jsonschema.validate(data["tool"]["pvgen"], schemas.load("config"))
    from pvgen.schemas import tool_schema

    assert tool_schema("pvgen") == schemas.load("config")


def test_schema_command() -> None:
    result = run_cli("schema", "config")
    assert result.status == 0
    assert json.loads(result.out) == schemas.load("config")
    assert "config" in run_cli("schema").out.split()
    result = run_cli("schema", "confg")
    assert result.status == 2 and "did you mean 'config'?" in result.err
