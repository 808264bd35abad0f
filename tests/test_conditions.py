"""Conditions: evaluation per target, overlap of two conditions, canonical text."""

from __future__ import annotations

from pvgen import conditions as c

PAE = c.Name("X86_PAE")
X64 = c.Name("X86_64")
LEVELS = c.Name("LEVELS")


def ge(name: c.Name, value: int) -> c.Compare:
    return c.Compare(">=", name, c.Int(value))


def test_bare_name_means_defined() -> None:
    assert c.evaluate(PAE, {"X86_PAE": True})
    assert not c.evaluate(PAE, {"X86_64": True})
    assert c.evaluate(c.Not(PAE), {})


def test_comparison_uses_values_and_undefined_is_zero() -> None:
    assert c.evaluate(ge(LEVELS, 3), {"LEVELS": 4})
    assert not c.evaluate(ge(LEVELS, 3), {"LEVELS": 2})
    assert not c.evaluate(ge(LEVELS, 3), {})
    assert c.evaluate(c.Compare("==", LEVELS, c.Int(0)), {})


def test_and_or() -> None:
    both = c.And((PAE, ge(LEVELS, 3)))
    assert c.evaluate(both, {"X86_PAE": True, "LEVELS": 3})
    assert not c.evaluate(both, {"X86_PAE": True, "LEVELS": 2})
    either = c.Or((PAE, X64))
    assert c.evaluate(either, {"X86_64": True})
    assert not c.evaluate(either, {})


def test_render_keeps_precedence() -> None:
    cond = c.And((c.Or((PAE, X64)), c.Not(ge(LEVELS, 3))))
    assert c.render(cond) == "(X86_PAE || X86_64) && !(LEVELS >= 3)"
    assert (
        c.render(cond, "CONFIG_{}", "defined(CONFIG_{})")
        == "(defined(CONFIG_X86_PAE) || defined(CONFIG_X86_64)) && !(CONFIG_LEVELS >= 3)"
    )
