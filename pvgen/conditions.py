"""Conditions: the expressions of `@if(...)` and what they mean per target.

Takes: condition trees built by the syntax stage.
Hands on: evaluation against one target's defines, a test of whether two
conditions can ever hold together (used to allow a name to be declared once
per configuration), and canonical text for dumps and diagnostics.

Semantics follow the C preprocessor that the generated headers feed: a bare
name means "defined", and in a comparison a define has its integer value, a
flag counts as 1 and an undefined name as 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Name:
    name: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Int:
    value: int
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Not:
    operand: Cond


@dataclass(frozen=True)
class And:
    operands: tuple[Cond, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Cond, ...]


@dataclass(frozen=True)
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


def _constants(cond: Cond | None, into: dict[str, set[int]]) -> None:
    if isinstance(cond, Compare):
        for a, b in ((cond.left, cond.right), (cond.right, cond.left)):
            if isinstance(a, Name) and isinstance(b, Int):
                into.setdefault(a.name, set()).update({b.value - 1, b.value, b.value + 1})
    elif isinstance(cond, Not):
        _constants(cond.operand, into)
    elif isinstance(cond, (And, Or)):
        for c in cond.operands:
            _constants(c, into)


# Above this many assignments, `may_overlap` gives up proving exclusivity.
MAX_ASSIGNMENTS = 1 << 14


def may_overlap(a: Cond | None, b: Cond | None) -> bool:
    """Whether some configuration makes both conditions hold.

    Decided by enumerating the configurations that matter: each name is either
    undefined, a flag, or one of the integers near the constants it is compared
    with. That is exact when names are compared with constants; with too many
    names it answers True (overlap not ruled out).
    """
    if a is None or b is None:
        return True
    involved = sorted({n.name for n in itertools.chain(names(a), names(b))})
    consts: dict[str, set[int]] = {}
    _constants(a, consts)
    _constants(b, consts)
    domains: list[list[bool | int | None]] = []
    for name in involved:
        values: list[bool | int | None] = [None, True]
        values.extend(sorted(v for v in consts.get(name, set()) if v not in (0, 1)))
        values.extend([0] if name in consts else [])
        domains.append(values)
    total = 1
    for d in domains:
        total *= len(d)
    if total > MAX_ASSIGNMENTS:
        return True
    for combo in itertools.product(*domains):
        defines = {n: v for n, v in zip(involved, combo, strict=True) if v is not None}
        if evaluate(a, defines) and evaluate(b, defines):
            return True
    return False


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
        return name_format.format(a.name) if isinstance(a, Name) else str(a.value)

    def go(c: Cond) -> str:
        if isinstance(c, Name):
            return defined_format.format(c.name)
        if isinstance(c, Int):
            return str(c.value)
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
