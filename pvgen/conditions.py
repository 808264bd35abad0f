"""Conditions: the expressions of `@if(...)` and what they mean per target.

Takes: condition trees built by the syntax stage.
Hands on: evaluation against one target's defines, the names a condition
tests, and canonical text for dumps, diagnostics and generated code.

Semantics follow the C preprocessor that the generated headers feed: a bare
name means "defined", and in a comparison a define has its integer value, a
flag counts as 1 and an undefined name as 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import field

from .records import record
from .source import Span

# A target's defines: a flag (True) or an integer value.
Defines = Mapping[str, "bool | int"]

COMPARISONS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@record
class Name:
    name: str
    span: Span | None = field(default=None, compare=False, repr=False)


@record
class Int:
    value: int
    span: Span | None = field(default=None, compare=False, repr=False)
    literal: str = field(default="", compare=False, repr=False)  # as written: 0x10 stays hex


@record
class Not:
    operand: Cond


@record
class And:
    operands: tuple[Cond, ...]


@record
class Or:
    operands: tuple[Cond, ...]


@record
class Compare:
    op: str
    left: Name | Int
    right: Name | Int


Cond = Name | Int | Not | And | Or | Compare


def _value(atom: Name | Int, defines: Defines) -> int:
    if isinstance(atom, Int):
        return atom.value
    return int(defines.get(atom.name, 0))


def evaluate(cond: Cond | None, defines: Defines) -> bool:
    """Whether `cond` holds for a target with these defines (None always holds)."""
    if cond is None:
        return True
    if isinstance(cond, Name):
        return cond.name in defines
    if isinstance(cond, Int):
        return cond.value != 0
    if isinstance(cond, Not):
        return not evaluate(cond.operand, defines)
    if isinstance(cond, And):
        return all(evaluate(c, defines) for c in cond.operands)
    if isinstance(cond, Or):
        return any(evaluate(c, defines) for c in cond.operands)
    return bool(COMPARISONS[cond.op](_value(cond.left, defines), _value(cond.right, defines)))


def names(cond: Cond | None) -> Iterator[Name]:
    """Every define name the condition mentions, with its span."""
    if cond is None or isinstance(cond, Int):
        return
    if isinstance(cond, Name):
        yield cond
    elif isinstance(cond, Not):
        yield from names(cond.operand)
    elif isinstance(cond, (And, Or)):
        for c in cond.operands:
            yield from names(c)
    else:
        for atom in (cond.left, cond.right):
            if isinstance(atom, Name):
                yield atom


_PRECEDENCE = {"or": 1, "and": 2, "cmp": 3, "not": 4, "atom": 5}


def _kind(cond: Cond) -> str:
    if isinstance(cond, Or):
        return "or"
    if isinstance(cond, And):
        return "and"
    if isinstance(cond, Not):
        return "not"
    if isinstance(cond, Compare):
        return "cmp"
    return "atom"


def render(cond: Cond, name_format: str = "{}", defined_format: str = "{}") -> str:
    """Canonical text of a condition.

    `defined_format` renders a bare name (the test "is it defined"), and
    `name_format` a name inside a comparison; the C generator passes
    "defined(CONFIG_{})" and "CONFIG_{}".
    """

    def wrap(child: Cond, parent_level: int) -> str:
        text = go(child)
        return f"({text})" if _PRECEDENCE[_kind(child)] <= parent_level else text

    def atom(a: Name | Int) -> str:
        return name_format.format(a.name) if isinstance(a, Name) else a.literal or str(a.value)

    def go(c: Cond) -> str:
        if isinstance(c, Name):
            return defined_format.format(c.name)
        if isinstance(c, Int):
            return c.literal or str(c.value)
        if isinstance(c, Not):
            # In C `!` binds tighter than comparisons, so only atoms go unwrapped.
            inner = go(c.operand)
            return "!" + (inner if _kind(c.operand) in ("atom", "not") else f"({inner})")
        if isinstance(c, And):
            return " && ".join(wrap(o, _PRECEDENCE["and"]) for o in c.operands)
        if isinstance(c, Or):
            return " || ".join(wrap(o, _PRECEDENCE["or"]) for o in c.operands)
        return f"{atom(c.left)} {c.op} {atom(c.right)}"

    return go(cond)


def conjoin(*conds: Cond | None) -> Cond | None:
    """The condition under which all of `conds` hold (None when none is given)."""
    parts: list[Cond] = []
    for c in conds:
        if c is None:
            continue
        parts.extend(c.operands if isinstance(c, And) else (c,))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))
