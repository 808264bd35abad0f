"""Generated documentation stays current with the code it is generated from."""

from __future__ import annotations

from conftest import ROOT

from pvgen.rules.explain import markdown


def test_rules_md_is_current() -> None:
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == markdown(), "docs/rules.md is stale: run 'make docs'"
