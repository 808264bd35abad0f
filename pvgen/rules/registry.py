"""The rule registry: every safeguard is an ID, a name, a purpose, a severity and a check.

Takes: the check functions that the rule modules register with `@rule`.
Hands on: `RULES` (by ID, in ID order) and the records a check yields:
`Finding`s, which carry a span, a message, a hint, and the model elements
they concern (where `@allow` is looked up). Checks never format anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..diagnostics import Related, Severity
from ..source import Span

if TYPE_CHECKING:
    from .context import Context


@dataclass(frozen=True)
class Finding:
    span: Span | None
    message: str
    hint: str | None = None
    related: tuple[Related, ...] = ()
    # The declarations the finding is about, outermost first; an `@allow` on
    # any of them (or on the abi) accepts it.
    subjects: tuple[object, ...] = field(default=())


Check = Callable[["Context"], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    purpose: str
    bad: str  # a spec fragment that breaks the rule
    good: str  # the same fragment, fixed
    check: Check

    def describe(self) -> str:
        return f"{self.id} {self.name} ({self.severity}): {self.purpose}"


_RULES: dict[str, Rule] = {}


def rule(
    rule_id: str, name: str, severity: Severity, *, purpose: str, bad: str, good: str
) -> Callable[[Check], Check]:
    """Register a check function as rule `rule_id`."""

    def register(check: Check) -> Check:
        assert rule_id not in _RULES, f"rule {rule_id} registered twice"
        _RULES[rule_id] = Rule(
            rule_id, name, severity, purpose, bad.strip("\n"), good.strip("\n"), check
        )
        return check

    return register


def all_rules() -> dict[str, Rule]:
    return dict(sorted(_RULES.items()))
