"""ABI diffs: one case per change kind, with the exact findings (rule, class, item, targets)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

BASE = """abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
typedef u32 word_t;
struct pair { u32 a; u32 b; }
enum mode : u32 { OFF = 0, ON = 1 }
table lz { void enter(); void leave(); }
table ops {
    void first(u32 x);
    unsigned long second(unsigned int y);
    @callee_save @patch(native = "cli") void third();
}
table other { void g(); void h(); }
table holder { u64 lazy_mode; }
backend native default;
backend xen { ops: first; }
"""


def edit(*pairs: tuple[str, str], version: int = 2) -> str:
    text = BASE.replace("version 1;", f"version {version};")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


B, S, K, C = "breaking", "source-breaking", "compatible", "cosmetic"

CASES: dict[str, tuple[str, set[tuple[str, str, str]]]] = {
    "table removed": (edit(("table other { void g(); void h(); }\n", "")), {("PV201", B, "other")}),
    "table added": (
        edit(("backend native", "table extra { void x(); }\nbackend native")),
        {("PV202", K, "extra")},
    ),
    "hook removed": (
        edit(("    unsigned long second(unsigned int y);\n", "")),
        {("PV203", B, "ops.second"), ("PV205", B, "ops")},
    ),
    "hook added at the end": (
        edit(("void third();\n", "void third();\n    void fourth();\n")),
        {("PV204", K, "ops.fourth")},
    ),
    "hook inserted first": (
        edit(("    void first(u32 x);\n", "    void zeroth();\n    void first(u32 x);\n")),
        {("PV205", B, "ops")},
    ),
    "hooks reordered": (
        edit(("table other { void g(); void h(); }", "table other { void h(); void g(); }")),
        {("PV205", B, "other")},
    ),
    "hook moved to another table": (
        edit(
            ("table other { void g(); void h(); }", "table other { void g(); }"),
            ("void third();\n", "void third();\n    void h();\n"),
        ),
        {("PV206", B, "other.h")},
    ),
    "hook renamed in place": (
        edit(
            ("    void first(u32 x);", "    @renamed_from(first) void initial(u32 x);"),
            ("ops: first", "ops: initial"),
        ),
        {("PV207", S, "ops.initial")},
    ),
    "return type widened on one target": (
        edit(("unsigned long second", "u64 second")),
        {("PV208", B, "ops.second")},
    ),
    "parameter type respelled": (
        edit(("second(unsigned int y)", "second(u32 y)")),
        {("PV209", C, "ops.second")},
    ),
    "parameter added": (
        edit(("void first(u32 x)", "void first(u32 x, u32 z)")),
        {("PV210", B, "ops.first")},
    ),
    "parameter renamed": (
        edit(("void first(u32 x)", "void first(u32 value)")),
        {("PV211", C, "ops.first")},
    ),
    "calling convention changed": (
        edit(('@callee_save @patch(native = "cli")', '@patch(native = "cli")')),
        {("PV212", B, "ops.third")},
    ),
    "patch site changed": (
        edit(('@patch(native = "cli")', '@patch(native = "cli; nop")')),
        {("PV213", B, "ops.third")},
    ),
    "struct field added": (
        edit(("struct pair { u32 a; u32 b; }", "struct pair { u32 a; u32 b; u32 c; }")),
        {("PV214", B, "pair")},
    ),
    "enum value changed": (edit(("ON = 1", "ON = 2")), {("PV215", B, "mode.ON")}),
    "enum value added": (edit(("ON = 1 }", "ON = 1, AUTO = 2 }")), {("PV215", K, "mode.AUTO")}),
    "typedef retargeted": (
        edit(("typedef u32 word_t;", "typedef u64 word_t;")),
        {("PV216", B, "word_t")},
    ),
    "condition changed": (
        edit(("    unsigned long second", "    @if(X86_64) unsigned long second")),
        {("PV217", B, "ops.second"), ("PV205", B, "ops")},
    ),
    "hook deprecated": (
        edit(
            (
                "    void first(u32 x);",
                "    @deprecated(since = 2, use = ops.third) void first(u32 x);",
            )
        ),
        {("PV218", C, "ops.first")},
    ),
    "backend overrides changed": (
        edit(("ops: first;", "ops: first, third;")),
        {("PV219", K, "backend xen")},
    ),
    "member became a sub-table": (
        edit(("table holder { u64 lazy_mode; }", "table holder { lz lazy_mode; }")),
        {("PV220", B, "holder.lazy_mode")},
    ),
    "type removed": (edit(("typedef u32 word_t;\n", "")), {("PV221", B, "word_t")}),
    "type added": (
        edit(("typedef u32 word_t;", "typedef u32 word_t;\ntypedef u64 dword_t;")),
        {("PV222", K, "dword_t")},
    ),
    "breaking change without a new version": (
        edit(("table other { void g(); void h(); }\n", ""), version=1),
        {("PV201", B, "other"), ("PV223", B, "demo")},
    ),
}


def diff_json(tmp_path: Path, new_text: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    (tmp_path / "old.pvspec").write_text(BASE)
    (tmp_path / "new.pvspec").write_text(new_text)
    result = run_cli("diff", "old.pvspec", "new.pvspec", "--format", "json", *extra, cwd=tmp_path)
    assert result.status in (0, 4, 12), result.err
    return result.status, json.loads(result.out)


@pytest.mark.parametrize("case", sorted(CASES))
def test_change_kind(case: str, tmp_path: Path) -> None:
    text, expected = CASES[case]
    _, report = diff_json(tmp_path, text)
    found = {(c["rule"], c["class"], c["item"]) for c in report["changes"]}
    assert found == expected


def test_type_change_is_judged_per_target(tmp_path: Path) -> None:
    _, report = diff_json(tmp_path, edit(("unsigned long second", "u64 second")))
    (change,) = report["changes"]
    assert change["targets"]["i386"].startswith("breaking: 4 bytes -> 8 bytes")
    assert change["targets"]["x86_64"].startswith("compatible: 8 bytes -> 8 bytes")


def test_exit_status_is_a_bitmask(tmp_path: Path) -> None:
    assert diff_json(tmp_path, BASE)[0] == 0
    assert diff_json(tmp_path, edit(("ops: first;", "ops: first, third;")))[0] == 4
    assert diff_json(tmp_path, edit(("table other { void g(); void h(); }\n", "")))[0] == 12


def test_internal_abi_reports_but_does_not_gate(tmp_path: Path) -> None:
    internal = "abi demo { version 1; stability internal; }"
    old = BASE.replace("abi demo { version 1; }", internal)
    (tmp_path / "old.pvspec").write_text(old)
    (tmp_path / "new.pvspec").write_text(old.replace("table other { void g(); void h(); }\n", ""))
    result = run_cli("diff", "old.pvspec", "new.pvspec", cwd=tmp_path)
    assert result.status == 4
    assert "breaking (2)" in result.out


def test_accepted_breaking_change_and_stale_acceptance(tmp_path: Path) -> None:
    (tmp_path / "abi" / "demo").mkdir(parents=True)
    (tmp_path / "abi/demo/accepted.toml").write_text(
        '[[accept]]\nrule = "PV201"\nitem = "other"\nversion = 2\nreason = "nobody used it"\n'
        '[[accept]]\nrule = "PV203"\nitem = "ops.first"\nversion = 2\nreason = "stale"\n'
    )
    status, report = diff_json(tmp_path, edit(("table other { void g(); void h(); }\n", "")))
    assert status == 4
    assert report["changes"][0]["accepted"] == "nobody used it"
    assert [a["item"] for a in report["unused_acceptances"]] == ["ops.first"]


def test_acceptance_of_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    (tmp_path / "abi" / "demo").mkdir(parents=True)
    (tmp_path / "abi/demo/accepted.toml").write_text(
        '[[accept]]\nrule = "PV2050"\nitem = "other"\nversion = 2\nreason = "typo"\n'
    )
    (tmp_path / "old.pvspec").write_text(BASE)
    (tmp_path / "new.pvspec").write_text(edit(("table other { void g(); void h(); }\n", "")))
    result = run_cli("diff", "old.pvspec", "new.pvspec", cwd=tmp_path)
    assert result.status == 2
    assert "entry 1: 'PV2050' is not a change rule; did you mean 'PV205'?" in result.err


def test_every_format(tmp_path: Path) -> None:
    (tmp_path / "old.pvspec").write_text(BASE)
    (tmp_path / "new.pvspec").write_text(edit(("unsigned long second", "u64 second")))
    text = run_cli("diff", "old.pvspec", "new.pvspec", cwd=tmp_path).out
    assert "breaking (1):\n  PV208 return-type-changed: ops.second:" in text
    markdown = run_cli("diff", "old.pvspec", "new.pvspec", "--format", "markdown", cwd=tmp_path).out
    assert "| PV208 | `ops.second` |" in markdown
    github = run_cli("diff", "old.pvspec", "new.pvspec", "--format", "github", cwd=tmp_path).out
    line, column = position(edit(("unsigned long second", "u64 second")), "second(")
    assert f"\n      at new.pvspec:{line}:{column}\n" in text
    assert f"| `ops.second` | new.pvspec:{line}:{column} |" in markdown
    assert re.fullmatch(
        rf"::error file=new\.pvspec,line={line},col={column},title=PV208 [^:,]+::ops\.second[^\n]*\n",
        github,
    )


def position(text: str, needle: str) -> tuple[int, int]:
    """Line and column (from 1) of the one occurrence of `needle` in `text`."""
    assert text.count(needle) == 1, needle
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def located(report: dict, rule: str, item: str) -> tuple[str, str, int, int]:  # type: ignore[type-arg]
    (change,) = [c for c in report["changes"] if (c["rule"], c["item"]) == (rule, item)]
    where = change["location"]
    return where["side"], where["file"], where["line"], where["column"]


def test_changes_carry_the_place_of_their_item(tmp_path: Path) -> None:
    """A change points at its item in the new version where it exists there, else in the old."""
    new = edit(
        ("void third();\n", "void third();\n    void fourth();\n"),
        ("    unsigned long second(unsigned int y);\n", ""),
        ("enum mode : u32 { OFF = 0, ON = 1 }", "enum mode : u32 { OFF = 0 }"),
        ("struct pair { u32 a; u32 b; }", "struct pair { u32 a; u64 b; }"),
        ("backend xen { ops: first; }", "backend xen { ops: first, third; }"),
    )
    _, report = diff_json(tmp_path, new)
    # Added, changed or shifted: at the item in the new spec.
    assert located(report, "PV204", "ops.fourth") == ("new", "new.pvspec", *position(new, "fourth"))
    assert located(report, "PV214", "pair") == ("new", "new.pvspec", *position(new, "pair"))
    assert located(report, "PV205", "ops") == ("new", "new.pvspec", *position(new, "ops {"))
    xen = position(new, "xen")
    assert located(report, "PV219", "backend xen") == ("new", "new.pvspec", *xen)
    # Gone: at the item in the old spec, whose lines differ from the new one's.
    second = position(BASE, "second")
    assert located(report, "PV203", "ops.second") == ("old", "old.pvspec", *second)
    assert located(report, "PV215", "mode.ON") == ("old", "old.pvspec", *position(BASE, "ON"))
    # GitHub places annotations on the checked-out (new) files, so a gone item's place in the
    # old spec is said in the message instead.
    github = run_cli("diff", "old.pvspec", "new.pvspec", "--format", "github", cwd=tmp_path).out
    (removed,) = [line for line in github.splitlines() if "title=PV203" in line]
    assert removed.startswith("::error title=PV203 ")
    assert removed.endswith(f"(at old.pvspec:{second[0]}:{second[1]} in the old version)")
    (added,) = [line for line in github.splitlines() if "title=PV204" in line]
    line, column = position(new, "fourth")
    assert added.startswith(f"::notice file=new.pvspec,line={line},col={column},title=PV204 ")


def git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def test_against_a_git_revision(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.pvgen]\nspecs = ["specs/demo.pvspec"]\n')
    (tmp_path / "specs/types.pvspec").write_text("typedef u32 word_t;\n")
    spec = tmp_path / "specs/demo.pvspec"
    spec.write_text(BASE.replace("typedef u32 word_t;\n", 'include "types.pvspec";\n'))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "v1")
    # Edit both files: the included one as well, so the revision's include must be read.
    (tmp_path / "specs/types.pvspec").write_text("typedef u64 word_t;\n")
    spec.write_text(spec.read_text().replace("version 1;", "version 2;"))
    result = run_cli("diff", "--against", "git:HEAD", "--format", "json", cwd=tmp_path)
    assert result.status == 12, result.err
    items = {(c["rule"], c["item"]) for c in json.loads(result.out)["changes"]}
    assert items == {("PV216", "word_t")}
    # The place is in the included file, named relative to the spec root as the dump has it.
    where = located(json.loads(result.out), "PV216", "word_t")
    assert where == ("new", "types.pvspec", 1, 1 + len("typedef u64 "))
    explicit = run_cli("diff", "git:HEAD:specs/demo.pvspec", "specs/demo.pvspec", cwd=tmp_path)
    assert explicit.status == 12
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=tmp_path, capture_output=True, text=True
    )
    assert status.stdout.count(" M ") == 2  # the working tree is untouched


def test_unknown_revision_is_a_usage_error(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.pvspec").write_text(BASE)
    result = run_cli("diff", "git:nope:a.pvspec", "a.pvspec", cwd=tmp_path)
    assert result.status == 2 and "nope" in result.err


def test_reference_history_2_6_25_to_2_6_26() -> None:
    result = run_cli(
        "diff",
        "specs/abi/paravirt/1.json",
        "specs/abi/paravirt/2.json",
        "--format",
        "json",
        cwd=ROOT,
    )
    assert result.status == 4, result.err  # changed; the one break is accepted
    changes = json.loads(result.out)["changes"]
    found = {(c["rule"], c["class"], c["item"], c["old"], c["new"]) for c in changes}
    renames = {
        ("PV207", S, f"pv_mmu_ops.{new}", old, new)
        for old, new in [
            ("alloc_pt", "alloc_pte"),
            ("alloc_pd", "alloc_pmd"),
            ("alloc_pd_clone", "alloc_pmd_clone"),
            ("release_pt", "release_pte"),
            ("release_pd", "release_pmd"),
        ]
    }
    assert renames <= found
    shifted = [c for c in changes if c["rule"] == "PV205"]
    assert [c["item"] for c in shifted] == ["pv_mmu_ops"]
    assert "alloc_pud, release_pud" in shifted[0]["message"] and shifted[0]["accepted"]
    assert ("PV219", K, "backend kvm", None, None) in found
    assert len(changes) == 7
    # Frozen dumps keep each element's place in the spec they were frozen from: version 2 is
    # specs/paravirt.pvspec as it stood when 2.json was frozen (edited since, as PV003 allows
    # for changes that keep the release what it was; the file's hash in the dump says which).
    side, file, line, column = located(json.loads(result.out), "PV207", "pv_mmu_ops.alloc_pte")
    assert (side, file) == ("new", "paravirt.pvspec")
    text = frozen_source("specs/abi/paravirt/2.json", "specs/paravirt.pvspec").splitlines()
    assert text[line - 1][column - 1 :].startswith("alloc_pte(")


def frozen_source(dump: str, spec: str) -> str:
    """The text of `spec` that the frozen `dump` was made from: the file itself while it is
    unchanged, else the version of it in the commit that froze the dump."""
    recorded = {s["path"]: s["sha256"] for s in json.loads((ROOT / dump).read_text())["sources"]}
    text = (ROOT / spec).read_bytes()
    if hashlib.sha256(text).hexdigest() != recorded[Path(spec).name]:
        log = ["git", "log", "-1", "--format=%H", "--", dump]
        commit = subprocess.run(log, cwd=ROOT, capture_output=True, text=True, check=True)
        show = ["git", "show", f"{commit.stdout.strip()}:{spec}"]
        text = subprocess.run(show, cwd=ROOT, capture_output=True, check=True).stdout
    assert hashlib.sha256(text).hexdigest() == recorded[Path(spec).name]
    return text.decode()


def test_frozen_dump_edited_by_hand_is_caught(tmp_path: Path) -> None:
    shutil_copy = (ROOT / "specs/abi/paravirt/2.json").read_text()
    data = json.loads(shutil_copy)
    data["abi"]["budget"] = 1000
    (tmp_path / "2.json").write_text(json.dumps(data))
    result = run_cli("diff", str(tmp_path / "2.json"), str(ROOT / "specs/abi/paravirt/2.json"))
    assert result.status == 2
    assert "was edited by hand" in result.err


def test_freeze_refuses_to_rewrite_a_release(tmp_path: Path) -> None:
    spec = tmp_path / "demo.pvspec"
    spec.write_text(BASE + "backend lguest { ops: first; }\n")
    first = run_cli("freeze", "demo.pvspec", cwd=tmp_path)
    assert first.status == 0 and "froze version 1" in first.out
    # Freezing the next version keeps the first.
    spec.write_text(BASE.replace("version 1;", "version 2;"))
    assert run_cli("freeze", "demo.pvspec", cwd=tmp_path).status == 0
    assert sorted(p.name for p in (tmp_path / "abi/demo").iterdir()) == ["1.json", "2.json"]
    spec.write_text(BASE + "backend lguest { ops: first; }\n")
    assert run_cli("freeze", "demo.pvspec", cwd=tmp_path).out.startswith("already frozen")
    spec.write_text(BASE)
    refused = run_cli("freeze", "demo.pvspec", cwd=tmp_path)
    assert refused.status == 1 and "already frozen" in refused.err
    check = run_cli("check", "--format", "json", "demo.pvspec", cwd=tmp_path)
    problems = [f for f in json.loads(check.out)["findings"] if f["rule"] == "PV003"]
    assert problems and "changes frozen version 1" in problems[0]["message"]
