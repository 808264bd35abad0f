"""Generated documentation stays current with the code it is generated from."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT, run_cli

from pvgen.rules.explain import markdown


def test_rules_md_is_current() -> None:
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == markdown(), "docs/rules.md is stale: run 'make docs'"


def pvspec_blocks(text: str, tag: str) -> list[str]:
    return re.findall(rf"^```{tag}\n(.*?)^```$", text, flags=re.S | re.M)


def test_language_examples_check(tmp_path: Path) -> None:
    """Every ```pvspec block of docs/language.md is a complete spec the language accepts;
    all but the contract example (which the rules report on, as the page says) pass the rules."""
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    includes = pvspec_blocks(text, "pvspec-include")
    assert len(includes) == 1
    (tmp_path / "mm_types.pvspec").write_text(includes[0])
    blocks = pvspec_blocks(text, "pvspec")
    assert len(blocks) > 5
    for number, block in enumerate(blocks):
        spec = tmp_path / f"example{number}.pvspec"
        spec.write_text(block)
        language = run_cli("check", "--no-rules", spec.name, cwd=tmp_path)
        assert language.status == 0, f"block {number}:\n{block}\n{language.err}"
        if 'include "mm_types.pvspec"' not in block:
            full = run_cli("check", spec.name, cwd=tmp_path)
            assert full.status == 0, f"block {number}:\n{block}\n{full.err}"
