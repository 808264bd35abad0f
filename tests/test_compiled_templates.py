"""The Jinja templates compiled ahead (pvgen/gen/compiled/, written by `make tables`): current
for every template, used while they match the template's text and the Jinja series, and
giving the very files that compiling the templates from their text gives."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import jinja2
import pytest
from conftest import ROOT

from pvgen import api
from pvgen.digest import sha256
from pvgen.gen import common
from pvgen.gen.common import TEMPLATES, compiled_module_name, environment

TEMPLATE_FILES = sorted(TEMPLATES.glob("*/*.j2"))


def compiled(template: Path) -> Any:
    name = compiled_module_name(template.parent.name, template.name)
    return importlib.import_module(f"pvgen.gen.compiled.{name}")


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_template_has_a_current_compiled_module(template: Path) -> None:
    module = compiled(template)
    text = template.read_text(encoding="utf-8")
    assert module.SOURCE_SHA256 == sha256(text.encode()).hexdigest(), "make tables"


@pytest.fixture
def fresh_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environments made anew for the test, as the compiled modules' Jinja series says (so
    that they are used whatever Jinja is installed); made anew again afterwards."""
    series = compiled(TEMPLATE_FILES[0]).JINJA_SERIES
    monkeypatch.setattr(common, "jinja_series", lambda: series)
    environment.cache_clear()
    yield
    environment.cache_clear()


def from_text(family: str) -> jinja2.Environment:
    """The family's environment with its templates compiled from their text."""
    made = environment(family)
    return made.overlay(loader=jinja2.FileSystemLoader(str(TEMPLATES / family)), cache_size=0)


@pytest.mark.usefixtures("fresh_environments")
def test_compiled_templates_are_used_and_render_what_the_text_renders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for template in TEMPLATE_FILES:
        loaded = environment(template.parent.name).get_template(template.name)
        assert loaded.filename is not None and "compiled" in loaded.filename
    spec = ROOT / "specs" / "linux" / "linux-2.6.27.pvspec"
    abi = api.load_abi(spec)
    precompiled = api.render(abi)
    texts = {family: from_text(family) for family in ("c", "python")}
    monkeypatch.setattr(common, "environment", texts.__getitem__)
    for module in ("c", "python"):
        monkeypatch.setattr(f"pvgen.gen.{module}.environment", texts.__getitem__)
    assert api.render(abi) == precompiled


@pytest.mark.usefixtures("fresh_environments")
def test_a_stale_compiled_module_gives_way_to_the_template_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = TEMPLATE_FILES[0]
    monkeypatch.setattr(compiled(template), "SOURCE_SHA256", "0" * 64)
    loaded = environment(template.parent.name).get_template(template.name)
    assert loaded.filename == str(template)


def test_another_jinja_series_compiles_from_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "jinja_series", lambda: "0.0")
    environment.cache_clear()
    try:
        for template in TEMPLATE_FILES:
            loaded = environment(template.parent.name).get_template(template.name)
            assert loaded.filename == str(template)
    finally:
        environment.cache_clear()
