"""Hooks are counted per target, as a kernel built for one configuration has them.

The expected counts come from the kernel facts (kernel_facts.py): 2.6.26 declares 101 hooks
across its configurations, but a kernel has 89 on i386 and 96 with PAE or on x86_64.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import kernel_facts
import pytest
from conftest import SPECS, run_cli

from pvgen import api
from pvgen.config import Config

RELEASES = [("v2.6.26", "paravirt.pvspec"), ("v2.6.25", "paravirt-2.6.25.pvspec")]
TARGETS = list(kernel_facts.CONFIGS)


def kernel_counts(version: str) -> dict[str, int]:
    return {t: kernel_facts.hook_count(version, t) for t in TARGETS}


def test_the_facts_give_2_6_26_s_known_counts() -> None:
    assert kernel_counts("v2.6.26") == {"i386": 89, "i386_pae": 96, "x86_64": 96}


@pytest.mark.parametrize(("version", "spec"), RELEASES)
def test_each_target_has_the_kernels_hook_count(version: str, spec: str) -> None:
    abi = api.load_abi(SPECS / spec, Config(None))
    assert api.count_hooks_per_target(abi) == kernel_counts(version)
    union = {p for t in TARGETS for p in kernel_facts.patch_ids(version, t)}
    assert api.count_hooks(abi) == len(union)  # every hook is in the patch template here


@pytest.mark.parametrize(("version", "spec"), RELEASES)
def test_check_and_dump_report_each_target(version: str, spec: str) -> None:
    counts = kernel_counts(version)
    union = len({p for t in TARGETS for p in kernel_facts.patch_ids(version, t)})
    checked = run_cli("check", str(SPECS / spec))
    assert checked.status == 0, checked.err
    per_target = ", ".join(f"{counts[t]} on {t}" for t in TARGETS)
    assert f"{union} hooks ({per_target})," in checked.out
    dumped = json.loads(run_cli("dump", str(SPECS / spec)).out)
    assert {t: dumped["layouts"][t]["hooks"] for t in TARGETS} == counts


def test_the_budget_is_held_on_each_target(tmp_path: Path) -> None:
    """Budget 95 is over on PAE and x86_64 (96 each), not on i386 (89); 96 is enough."""
    shutil.copytree(SPECS, tmp_path / "specs", ignore=shutil.ignore_patterns("abi"))
    spec = tmp_path / "specs" / "paravirt.pvspec"
    text = spec.read_text()
    assert "    budget 100;\n" in text
    counts = kernel_counts("v2.6.26")
    over = [t for t in TARGETS if counts[t] > 95]
    assert over == ["i386_pae", "x86_64"]
    spec.write_text(text.replace("    budget 100;\n", "    budget 95;\n"))
    found = [
        f
        for f in json.loads(run_cli("check", str(spec), "--format", "json").out)["findings"]
        if f["rule"] == "PV101"
    ]
    assert len(found) == 1
    where = ", ".join(f"{counts[t]} on {t}" for t in over)
    assert f"ABI 'paravirt' has {where}, over its budget of 95 hooks" in found[0]["message"]
    spec.write_text(text.replace("    budget 100;\n", f"    budget {max(counts.values())};\n"))
    findings = json.loads(run_cli("check", str(spec), "--format", "json").out)["findings"]
    assert [f for f in findings if f["rule"] == "PV101"] == []


def test_a_table_budget_counts_the_hooks_of_each_target(tmp_path: Path) -> None:
    # pv_mmu_ops of 2.6.26: its hooks on each target, from the facts.
    counts = {
        t: sum(1 for _ in kernel_facts.walk("v2.6.26", "pv_mmu_ops", kernel_facts.CONFIGS[t]))
        for t in TARGETS
    }
    shutil.copytree(SPECS, tmp_path / "specs", ignore=shutil.ignore_patterns("abi"))
    spec = tmp_path / "specs" / "paravirt.pvspec"
    budget = min(counts.values())
    text = spec.read_text().replace(
        "table pv_mmu_ops {", f"@budget({budget})\ntable pv_mmu_ops {{", 1
    )
    spec.write_text(text)
    findings = json.loads(run_cli("check", str(spec), "--format", "json").out)["findings"]
    (found,) = [f for f in findings if f["rule"] == "PV101"]
    where = ", ".join(f"{n} on {t}" for t, n in counts.items() if n > budget)
    assert found["message"] == (
        f"table 'pv_mmu_ops' has {where}, over its budget of {budget} hooks"
    )
