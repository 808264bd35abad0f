"""Releases as a release manager makes them: freeze, check (PV003) and diff agree, and only
the ABI decides whether a spec is still the release it was frozen as."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

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
