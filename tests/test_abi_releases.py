"""Releases as a release manager makes them: freeze, check (PV003) and diff agree, and only
the ABI decides whether a spec is still the release it was frozen as."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from pvgen import api

SPEC = """abi demo { version 1; }
target x86_64 { data_model lp64; }
/// The interrupt hooks.
table pv_irq_ops {
    void halt();
    void safe_halt();
}
backend native default;
"""


def _verdicts(folder: Path, spec: str = "demo.pvspec") -> tuple[int, list[str], int]:
    """(freeze's status, PV003's messages, diff's status against frozen version 1)."""
    freeze = run_cli("freeze", spec, cwd=folder)
    check = run_cli("check", "--format", "json", spec, cwd=folder)
    pv003 = [f["message"] for f in json.loads(check.out)["findings"] if f["rule"] == "PV003"]
    diff = run_cli("diff", "abi/demo/1.json", spec, cwd=folder)
    return freeze.status, pv003, diff.status


def test_comment_and_layout_edits_keep_the_release(tmp_path: Path) -> None:
    spec = tmp_path / "demo.pvspec"
    spec.write_text(SPEC)
    assert run_cli("freeze", "demo.pvspec", cwd=tmp_path).status == 0
    frozen = (tmp_path / "abi/demo/1.json").read_text()
    # Comments, a doc, blank lines and another layout move every line of the spec.
    spec.write_text(
        "// Released as version 1.\n\n"
        + SPEC.replace("/// The interrupt hooks.", "/// Interrupt hooks, documented anew.").replace(
            "    void halt();\n", "\n    // Stops the CPU.\n    void   halt( );\n"
        )
    )
    assert _verdicts(tmp_path) == (0, [], 0)
    assert (tmp_path / "abi/demo/1.json").read_text() == frozen  # a release is never rewritten


def test_an_abi_change_needs_a_new_version_everywhere(tmp_path: Path) -> None:
    spec = tmp_path / "demo.pvspec"
    spec.write_text(SPEC)
    assert run_cli("freeze", "demo.pvspec", cwd=tmp_path).status == 0
    spec.write_text(SPEC.replace("    void safe_halt();\n", ""))
    freeze, pv003, diff = _verdicts(tmp_path)
    assert freeze == 1 and diff & 8
    assert pv003 and "PV203 pv_irq_ops.safe_halt" in pv003[0] and "to 2" in pv003[0]
    refused = run_cli("freeze", "demo.pvspec", cwd=tmp_path)
    assert "PV203 pv_irq_ops.safe_halt" in refused.err and "to 2" in refused.err


@pytest.mark.parametrize("folder", ["specs", "specs/linux"])
def test_freeze_of_the_shipped_specs_changes_nothing(tmp_path: Path, folder: str) -> None:
    """As on a fresh clone: every shipped spec is a frozen release, unchanged."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    specs = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / folder).glob("*.pvspec"))
    specs = [s for s in specs if Path(s).name != "mm_types.pvspec"]  # an include, not a root
    before = {p: p.read_bytes() for p in (tmp_path / "specs").rglob("*.json")}
    result = run_cli("freeze", *specs, cwd=tmp_path)
    assert result.status == 0, result.err
    assert result.out.count("already frozen") == len(specs)
    assert {p: p.read_bytes() for p in (tmp_path / "specs").rglob("*.json")} == before


def test_a_new_member_must_say_it_is_new(tmp_path: Path) -> None:
    spec = tmp_path / "demo.pvspec"
    spec.write_text(SPEC)
    assert run_cli("freeze", "demo.pvspec", cwd=tmp_path).status == 0
    added = "    void safe_halt();\n    void wbinvd();\n"
    spec.write_text(
        SPEC.replace("version 1;", "version 2;").replace("    void safe_halt();\n", added)
    )
    check = run_cli("check", "--format", "json", "demo.pvspec", cwd=tmp_path)
    found = [f for f in json.loads(check.out)["findings"] if f["rule"] == "PV120"]
    assert check.status == 1 and len(found) == 1
    assert "'pv_irq_ops.wbinvd' is new since frozen version 1" in found[0]["message"]
    assert found[0]["hint"] == "add @since(2) to 'wbinvd'"
    assert found[0]["line"] == SPEC.count("\n", 0, SPEC.index("safe_halt")) + 2
    # diff says the same of the history, before the fix ...
    diff = run_cli("diff", "--format", "json", "abi/demo/1.json", "demo.pvspec", cwd=tmp_path)
    since = [c for c in json.loads(diff.out)["changes"] if c["rule"] == "PV224"]
    assert [(c["item"], c["old"], c["new"]) for c in since] == [("pv_irq_ops.wbinvd", "2", "1")]
    # ... and neither says anything after it.
    spec.write_text(spec.read_text().replace("void wbinvd", "@since(2) void wbinvd"))
    assert run_cli("check", "demo.pvspec", cwd=tmp_path).status == 0
    diff = run_cli("diff", "--format", "json", "abi/demo/1.json", "demo.pvspec", cwd=tmp_path)
    assert "PV224" not in {c["rule"] for c in json.loads(diff.out)["changes"]}


def test_the_release_specs_say_when_each_member_arrived() -> None:
    """The converter writes @since from the history: the first release's members say nothing,
    and 2.6.26's alloc_pte keeps the version of alloc_pt, which it renames."""
    first = (ROOT / "specs/linux/linux-2.6.20.pvspec").read_text()
    assert "@since" not in first
    before = (ROOT / "specs/linux/linux-2.6.25.pvspec").read_text()
    assert re.search(r"@since\(2\)\s+void alloc_pt\(", before)  # arrived in 2.6.21
    renamed = (ROOT / "specs/linux/linux-2.6.26.pvspec").read_text()
    assert "@renamed_from(alloc_pt) @since(2)\n" in renamed
    lock = (ROOT / "specs/linux/linux-2.6.27.pvspec").read_text()
    assert re.search(r"@since\(8\)\s+void spin_lock\(", lock)  # 2.6.27 is version 8


# ---- CI: --fail-on and accepted.toml ---------------------------------------------------------


def _two_versions(tmp_path: Path, new: str) -> None:
    (tmp_path / "old.pvspec").write_text(SPEC)
    (tmp_path / "new.pvspec").write_text(new.replace("version 1;", "version 2;"))


@pytest.mark.parametrize(
    ("fail_on", "compatible", "breaking"),
    [("changed", 4, 12), ("breaking", 0, 12), ("never", 0, 0)],
)
def test_fail_on(tmp_path: Path, fail_on: str, compatible: int, breaking: int) -> None:
    statuses = []
    for new in (
        SPEC.replace("    void safe_halt();\n", "    void safe_halt();\n    @since(2) void x();\n"),
        SPEC.replace("    void safe_halt();\n", ""),
    ):
        _two_versions(tmp_path, new)
        run = run_cli("diff", "old.pvspec", "new.pvspec", "--fail-on", fail_on, cwd=tmp_path)
        assert "pv_irq_ops" in run.out  # the report is the same whatever fails
        statuses.append(run.status)
    assert statuses == [compatible, breaking]
    _two_versions(tmp_path, SPEC)
    same = run_cli("diff", "old.pvspec", "new.pvspec", "--fail-on", fail_on, cwd=tmp_path)
    assert same.status == 0
    broken = run_cli("diff", "old.pvspec", "nothing.pvspec", "--fail-on", fail_on, cwd=tmp_path)
    assert broken.status in (1, 2)  # errors fail whatever --fail-on says


def _documented_acceptance() -> str:
    text = (ROOT / "docs" / "releases.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"^```toml\n(.*?)^```$", text, flags=re.S | re.M)
    return block


def test_one_acceptance_covers_one_cause(tmp_path: Path) -> None:
    """The accepted.toml of docs/releases.md, as written there: removing safe_halt also shifts
    the slots after it, and the one entry accepts both."""
    # Version 1 has a member after safe_halt, so that its removal moves a slot.
    removed = SPEC.replace(
        "    void halt();\n    void safe_halt();\n",
        "    void halt();\n    void safe_halt();\n    void wbinvd();\n",
    )
    (tmp_path / "old.pvspec").write_text(removed)
    (tmp_path / "new.pvspec").write_text(
        removed.replace("version 1;", "version 2;").replace("    void safe_halt();\n", "")
    )
    before = run_cli("diff", "--format", "json", "old.pvspec", "new.pvspec", cwd=tmp_path)
    assert before.status == 12
    report = json.loads(before.out)["changes"]
    assert {(c["rule"], c["item"]) for c in report} == {
        ("PV203", "pv_irq_ops.safe_halt"),
        ("PV205", "pv_irq_ops"),
    }
    (tmp_path / "abi/demo").mkdir(parents=True)
    (tmp_path / "abi/demo/accepted.toml").write_text(_documented_acceptance())
    after = run_cli("diff", "--format", "json", "old.pvspec", "new.pvspec", cwd=tmp_path)
    assert after.status == 4, after.out
    accepted = {c["rule"]: c["accepted"] for c in json.loads(after.out)["changes"]}
    assert accepted["PV203"].startswith("safe_halt is halt")
    assert accepted["PV205"].startswith("with PV203 pv_irq_ops.safe_halt: safe_halt is halt")
    assert not json.loads(after.out)["unused_acceptances"]
    # A shift with a cause of its own (a member inserted) is not covered by the removal's.
    inserted = removed.replace("version 1;", "version 2;").replace(
        "    void safe_halt();\n", "    @since(2) void wbinvd2();\n"
    )
    (tmp_path / "new.pvspec").write_text(inserted)
    mixed = run_cli("diff", "--format", "json", "old.pvspec", "new.pvspec", cwd=tmp_path)
    assert mixed.status == 12
    shift = [c for c in json.loads(mixed.out)["changes"] if c["rule"] == "PV205"]
    assert shift and shift[0]["accepted"] is None


# ---- splits and merges -----------------------------------------------------------------------

FROZEN = ROOT / "specs/linux/abi/linux_paravirt"


def _changes(old: int, new: int) -> list[dict[str, object]]:
    run = run_cli(
        "diff", "--format", "json", str(FROZEN / f"{old}.json"), str(FROZEN / f"{new}.json")
    )
    assert run.status in (4, 12), run.err
    changes: list[dict[str, object]] = json.loads(run.out)["changes"]
    return changes


def test_the_2_6_24_split_names_every_member_that_moved() -> None:
    changes = _changes(4, 5)  # 2.6.23 -> 2.6.24
    old = json.loads((FROZEN / "4.json").read_text())
    (ops,) = [t for t in old["tables"] if t["name"] == "paravirt_ops"]
    moved = {c["item"]: c["new"] for c in changes if c["rule"] == "PV206"}
    # Every member of paravirt_ops but set_lazy_mode (which became the lazy_mode sub-tables)
    # moved, each once, to a table that has it.
    expected = {f"paravirt_ops.{m['name']}" for m in ops["members"]} - {
        "paravirt_ops.set_lazy_mode"
    }
    assert set(moved) == expected
    new = json.loads((FROZEN / "5.json").read_text())
    holders = {t["name"]: {m["name"] for m in t["members"]} for t in new["tables"]}
    assert all(item.split(".")[1] in holders[str(table)] for item, table in moved.items())
    assert moved["paravirt_ops.write_cr0"] == "pv_cpu_ops"
    assert moved["paravirt_ops.alloc_pt"] == "pv_mmu_ops"
    (split,) = [c for c in changes if c["rule"] == "PV225"]
    assert split["item"] == "paravirt_ops" and split["class"] == "breaking"
    assert set(str(split["new"]).split(", ")) == {
        "pv_info",
        "pv_init_ops",
        "pv_time_ops",
        "pv_cpu_ops",
        "pv_irq_ops",
        "pv_apic_ops",
        "pv_mmu_ops",
    }
    assert "96 members moved" in str(split["message"])
    (removed,) = [c for c in changes if c["rule"] == "PV201"]
    assert "set_lazy_mode" in str(removed["old"]).split(", ")
    added = {c["item"]: str(c["new"]).split(", ") for c in changes if c["rule"] == "PV202"}
    assert added["pv_lazy_ops"] == ["enter", "leave"]
    assert "read_cr0" in added["pv_cpu_ops"]
    # Nothing that moved is also reported removed or added on its own.
    assert not [c for c in changes if c["rule"] in ("PV203", "PV204")]


def test_tables_gone_in_5_15_list_their_members() -> None:
    changes = _changes(21, 22)  # 5.10 -> 5.15
    removed = {c["item"]: c["old"] for c in changes if c["rule"] == "PV201"}
    assert removed == {"pv_init_ops": "patch", "pv_time_ops": "sched_clock, steal_clock"}
    assert not [c for c in changes if c["rule"] in ("PV225", "PV226")]


# ---- patch-template shifts -------------------------------------------------------------------


def test_patch_id_shifts_are_reported_with_the_kernels_numbers() -> None:
    """2.6.27 grew pv_cpu_ops (not the last table of paravirt_patch_template): every ID from
    pv_irq_ops on moved. The first shifted ID is the one the compiled model gives."""
    (shift,) = [c for c in _changes(7, 8) if c["rule"] == "PV227"]
    assert shift["class"] == "breaking"
    targets = shift["targets"]
    assert isinstance(targets, dict) and set(targets) == {"i386", "i386_pae", "x86_64"}
    old = api.load_abi(ROOT / "specs/linux/linux-2.6.26.pvspec")
    new = api.load_abi(ROOT / "specs/linux/linux-2.6.27.pvspec")
    for target, text in targets.items():
        before = old.facts[target].patch_ids["pv_irq_ops.init_IRQ"]
        after = new.facts[target].patch_ids["pv_irq_ops.init_IRQ"]
        assert before != after
        assert f"'pv_irq_ops.init_IRQ' {before} -> {after}" in text


TEMPLATE = """abi demo { version 1; patch_template pv_cpu_ops, pv_irq_ops; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
table pv_info { u32 kernel_rpl; }
table pv_cpu_ops {
    void clts();
    void wbinvd();
}
table pv_irq_ops {
    void halt();
}
backend native default;
"""


def _template_diff(tmp_path: Path, new: str, accepted: str = "") -> dict[str, object]:
    (tmp_path / "old.pvspec").write_text(TEMPLATE)
    (tmp_path / "new.pvspec").write_text(new.replace("version 1;", "version 2;"))
    (tmp_path / "abi/demo").mkdir(parents=True, exist_ok=True)
    (tmp_path / "abi/demo/accepted.toml").write_text(accepted)
    run = run_cli("diff", "--format", "json", "old.pvspec", "new.pvspec", cwd=tmp_path)
    report: dict[str, object] = json.loads(run.out)
    report["status"] = run.status
    return report


def test_one_inserted_hook_is_one_acceptance(tmp_path: Path) -> None:
    inserted = TEMPLATE.replace(
        "    void wbinvd();\n", "    @since(2) void cpuid();\n    void wbinvd();\n"
    )
    report = _template_diff(tmp_path, inserted)
    changes = report["changes"]
    assert isinstance(changes, list)
    found = {(c["rule"], c["item"]) for c in changes}
    assert found == {("PV205", "pv_cpu_ops"), ("PV227", "demo patch template")}
    (shift,) = [c for c in changes if c["rule"] == "PV227"]
    assert shift["targets"] == {
        "i386": "first shifted ID 'pv_irq_ops.halt' 2 -> 3",
        "x86_64": "first shifted ID 'pv_irq_ops.halt' 2 -> 3",
    }
    assert report["status"] == 12
    one = '[[accept]]\nrule = "PV205"\nitem = "pv_cpu_ops"\nversion = 2\nreason = "cpuid"\n'
    report = _template_diff(tmp_path, inserted, one)
    assert report["status"] == 4
    changes = report["changes"]
    assert isinstance(changes, list) and all(c["accepted"] for c in changes)


def test_tables_outside_the_template_move_no_patch_id(tmp_path: Path) -> None:
    # pv_info is not in the template: growing it moves the aggregate, not a patch ID.
    grown = TEMPLATE.replace("u32 kernel_rpl;", "u32 kernel_rpl; @since(2) u32 paravirt_enabled;")
    report = _template_diff(tmp_path, grown)
    changes = report["changes"]
    assert isinstance(changes, list) and {c["rule"] for c in changes} == {"PV204"}
    # A table inserted first into the template moves every ID after it.
    first = TEMPLATE.replace("patch_template pv_cpu_ops", "patch_template pv_time_ops, pv_cpu_ops")
    first = first.replace(
        "table pv_cpu_ops", "table pv_time_ops { @since(2) u64 sched_clock(); }\ntable pv_cpu_ops"
    )
    report = _template_diff(tmp_path, first)
    changes = report["changes"]
    assert isinstance(changes, list)
    (shift,) = [c for c in changes if c["rule"] == "PV227"]
    assert shift["targets"]["x86_64"] == (
        "first shifted ID 'pv_cpu_ops.clts' 0 -> 1, and every ID in pv_irq_ops"
    )


# ---- git sides -------------------------------------------------------------------------------


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def _repository(tmp_path: Path) -> Path:
    """A repository whose spec includes a file outside its folder (the spec root is the top)
    through a symbolic link, beside a large file that is no spec."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pvgen]\nspecs = ["specs/demo.pvspec"]\nspec_root = "."\n'
    )
    (tmp_path / "common").mkdir()
    (tmp_path / "common/types.pvspec").write_text("typedef u32 word_t;\n")
    (tmp_path / "specs/deep").mkdir(parents=True)
    (tmp_path / "specs/types.pvspec").symlink_to("../common/types.pvspec")
    (tmp_path / "specs/demo.pvspec").write_text(
        SPEC.replace("/// The interrupt", 'include "types.pvspec";\n/// The interrupt').replace(
            "void halt();", "void halt(word_t why);"
        )
    )
    (tmp_path / "specs/unrelated.bin").write_bytes(b"\0" * 3_000_000)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "v1")
    return tmp_path


def test_git_side_from_a_subdirectory_reads_the_includes_outside_the_spec_folder(
    tmp_path: Path,
) -> None:
    top = _repository(tmp_path)
    (top / "common/types.pvspec").write_text("typedef u64 word_t;\n")
    for cwd in (top, top / "specs", top / "specs/deep"):
        result = run_cli("diff", "--against", "git:HEAD", "--format", "json", cwd=cwd)
        assert result.status == 12, (cwd, result.err)
        items = {(c["rule"], c["item"]) for c in json.loads(result.out)["changes"]}
        assert ("PV216", "word_t") in items
    # A path on the command line is relative to the current folder, as every path is.
    named = run_cli("diff", "git:HEAD:../demo.pvspec", "../demo.pvspec", cwd=top / "specs/deep")
    assert named.status == 12, named.err
    missing = run_cli("diff", "git:HEAD:nothing.pvspec", "../demo.pvspec", cwd=top / "specs/deep")
    assert missing.status == 2 and "'specs/deep/nothing.pvspec' does not exist" in missing.err


def test_git_side_reads_only_the_files_the_spec_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pvgen.abi import sides
    from pvgen.config import load_config

    top = _repository(tmp_path)
    read: list[str] = []
    real_git = sides._git

    def spy(*args: str, cwd: Path | None = None) -> bytes:
        if args[0] == "ls-tree":
            read.append(args[-1])
        return real_git(*args, cwd=cwd)

    monkeypatch.chdir(top / "specs")
    monkeypatch.setattr(sides, "_git", spy)
    result = api.diff("git:HEAD", str(top / "specs/demo.pvspec"), load_config(top))
    assert not result.changes
    # The spec, the link it includes and the file the link leads to; never the large file.
    assert read == ["specs/demo.pvspec", "specs/types.pvspec", "common/types.pvspec"]


# ---- SARIF -----------------------------------------------------------------------------------


def test_diff_as_sarif(tmp_path: Path) -> None:
    import jsonschema

    old = SPEC.replace("    void safe_halt();\n", "    void safe_halt();\n    void wbinvd();\n")
    new = old.replace("version 1;", "version 2;").replace("    void wbinvd();\n", "")
    new = new.replace("    void halt();\n", "    // Stops the CPU.\n    void halt(u32 why);\n")
    (tmp_path / "old.pvspec").write_text(old)
    (tmp_path / "new.pvspec").write_text(new)
    (tmp_path / "abi/demo").mkdir(parents=True)
    (tmp_path / "abi/demo/accepted.toml").write_text(
        '[[accept]]\nrule = "PV203"\nitem = "pv_irq_ops.wbinvd"\nversion = 2\nreason = "gone"\n'
    )
    run = run_cli("diff", "--format", "sarif", "old.pvspec", "new.pvspec", cwd=tmp_path)
    assert run.status == 12  # halt's new parameter is not accepted
    document = json.loads(run.out)
    schema = ROOT / "tests" / ".schemas" / "sarif-2.1.0.json"
    if schema.exists():
        jsonschema.Draft4Validator(json.loads(schema.read_text())).validate(document)
    (sarif_run,) = document["runs"]
    rule_ids = [r["id"] for r in sarif_run["tool"]["driver"]["rules"]]
    results = {r["ruleId"]: r for r in sarif_run["results"]}
    assert set(results) == {"PV203", "PV210"}
    for result in results.values():
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    # A change on the new version's line, where the item is.
    changed = results["PV210"]
    assert changed["level"] == "error"
    (place,) = changed["locations"]
    region = place["physicalLocation"]["region"]
    line = new.count("\n", 0, new.index("void halt(")) + 1
    assert place["physicalLocation"]["artifactLocation"]["uri"] == "new.pvspec"
    assert (region["startLine"], region["startColumn"]) == (line, 10)
    # A removal points into the old version, beside the scanned files, and is accepted.
    removed = results["PV203"]
    assert removed["locations"] == []
    (old_place,) = removed["relatedLocations"]
    assert old_place["physicalLocation"]["artifactLocation"]["uri"] == "old.pvspec"
    assert old_place["physicalLocation"]["region"]["startLine"] == (
        old.count("\n", 0, old.index("void wbinvd")) + 1
    )
    assert removed["suppressions"] == [{"kind": "external", "justification": "gone"}]


def test_since_between_two_releases_far_apart_is_the_history() -> None:
    """2.6.20 to 6.19: members arrived in every version between; their @since is right."""
    result = api.diff(str(FROZEN / "1.json"), str(FROZEN / "26.json"))
    assert "PV224" not in {c.id for c in result.changes}
