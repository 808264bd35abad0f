"""Accepting findings on purpose: @allow on declarations, [[tool.pvgen.allow]] for files."""

from __future__ import annotations

import json

from conftest import run_cli

HEAD = """abi demo { version 1; }
target x86_64 { data_model lp64; }
/// Page tables.
table pv_mmu_ops {
    /// Copies an address space.
    @ALLOW
    void dup_mmap();
}
backend native default;
backend xen { pv_mmu_ops: dup_mmap; }
"""


def rules_found(folder, spec: str = "a.pvspec") -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    result = run_cli("check", spec, "--format", "json", cwd=folder)
    return [(f["rule"], f["line"]) for f in json.loads(result.out)["findings"]]


def test_finding_without_allow(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": HEAD.replace("    @ALLOW\n", "")})
    assert rules_found(folder) == [("PV103", 6)]


def test_allow_on_the_declaration_accepts_it(write_specs) -> None:  # type: ignore[no-untyped-def]
    allow = '@allow(PV103, reason = "Xen pins the copied page tables")'
    folder = write_specs({"a.pvspec": HEAD.replace("@ALLOW", allow)})
    assert rules_found(folder) == []


def test_allow_on_the_enclosing_table_accepts_it(write_specs) -> None:  # type: ignore[no-untyped-def]
    text = HEAD.replace("    @ALLOW\n", "").replace(
        "table pv_mmu_ops", '@allow(PV103, reason = "Xen-only table")\ntable pv_mmu_ops'
    )
    folder = write_specs({"a.pvspec": text})
    assert rules_found(folder) == []


def test_allow_for_another_rule_is_unused(write_specs) -> None:  # type: ignore[no-untyped-def]
    allow = '@allow(PV104, reason = "wrong rule")'
    folder = write_specs({"a.pvspec": HEAD.replace("@ALLOW", allow)})
    assert sorted(rules_found(folder)) == [("PV001", 6), ("PV103", 7)]


def test_allow_needs_a_reason(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": HEAD.replace("@ALLOW", "@allow(PV103)")})
    result = run_cli("check", "a.pvspec", cwd=folder)
    assert result.status == 1
    assert result.err.startswith(
        "a.pvspec:6:5: error: '@allow' needs 'reason'; write @allow(code, reason = string)"
    )


def test_unknown_rule_in_allow(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": HEAD.replace("@ALLOW", '@allow(PV130, reason = "x")')})
    assert ("PV002", 6) in rules_found(folder)


def test_file_allow_in_config(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "pyproject.toml": "[[tool.pvgen.allow]]\n"
            'rule = "PV103"\npath = "specs/*.pvspec"\nreason = "a Xen-only interface"\n',
            "specs/a.pvspec": HEAD.replace("    @ALLOW\n", ""),
        }
    )
    assert rules_found(folder, "specs/a.pvspec") == []


def test_unused_file_allow_is_reported(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "pyproject.toml": "[[tool.pvgen.allow]]\n"
            'rule = "PV104"\npath = "specs/*.pvspec"\nreason = "nothing is hot"\n',
            "specs/a.pvspec": HEAD.replace("    @ALLOW\n", ""),
        }
    )
    result = run_cli("check", "specs/a.pvspec", "--format", "json", cwd=folder)
    unused = [f for f in json.loads(result.out)["findings"] if f["rule"] == "PV001"]
    assert len(unused) == 1 and "accepts no finding" in unused[0]["message"]


def test_file_allow_needs_a_reason(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "pyproject.toml": '[[tool.pvgen.allow]]\nrule = "PV103"\npath = "*.pvspec"\n',
            "a.pvspec": HEAD.replace("    @ALLOW\n", ""),
        }
    )
    result = run_cli("check", "a.pvspec", cwd=folder)
    assert result.status == 2
    assert "[[tool.pvgen.allow]] entry 1 needs 'reason'" in result.err


def test_hot_threshold_from_config(write_specs) -> None:  # type: ignore[no-untyped-def]
    spec = """abi demo { version 1; }
target x86_64 { data_model lp64; }
/// Interrupt flag.
table pv_irq_ops {
    /// Halts.
    @hot(callsites = 150) void halt();
}
backend native default;
"""
    folder = write_specs({"a.pvspec": spec})
    assert rules_found(folder) == [("PV104", 6)]  # 150 call sites: over the default of 100
    (folder / "pyproject.toml").write_text("[tool.pvgen.rules]\nhot_callsites = 200\n")
    assert rules_found(folder) == []
