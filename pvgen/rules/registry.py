"""The rule registry: every ID any output of pvgen can print, each with a category.

Takes: the check functions that the rule modules register with `@rule`, and
the diff's change kinds (abi/changes.py).
Hands on: one table of `RuleInfo`s by ID, in ID order, in three categories:

- compiler: PV000, the errors of the language itself (parse and resolve),
  which carry no rule ID of their own; machine formats report them as PV000;
- spec: the safeguards `pvgen check` runs (`Rule`, with a check function and
  a bad and a good example); `all_rules()` is these alone. Installed packages
  add spec rules through the entry-point group `pvgen.rules` (see
  `pvgen.plugins`), with IDs of their own range, PV9nn;
- change: the kinds of change `pvgen diff` reports (`ChangeRule`, with a
  class and an old and a new spec that differ by that kind). They are
  registered when the whole registry is first asked for, not at import:
  `pvgen check` needs only the spec rules.

It also hands on the records a check yields: `Finding`s, which carry a span,
a message, a hint, and the model elements they concern (where `@allow` is
looked up). Checks never format anything.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterator
from dataclasses import field
from typing import TYPE_CHECKING

from ..config import ConfigError
from ..diagnostics import Related, Severity
from ..entrypoints import RULES_GROUP, entry_points
from ..records import record
from ..source import Span

if TYPE_CHECKING:
    from ..abi.changes import ChangeClass, ChangeKind
    from .context import Context


class Category(enum.Enum):
    COMPILER = "compiler"
    SPEC = "spec"
    CHANGE = "change"

    def __str__(self) -> str:
        return self.value


@record
class Finding:
    span: Span | None
    message: str
    hint: str | None = None
    related: tuple[Related, ...] = ()
    # The declarations the finding is about, outermost first; an `@allow` on
    # any of them (or on the abi) accepts it.
    subjects: tuple[object, ...] = field(default=())


Check = Callable[["Context"], Iterator[Finding]]


# Entries compare by identity (one per ID), which also spares generating __eq__ and __hash__
# for each class when `pvgen check` imports the registry.
@record(eq=False)
class RuleInfo:
    """What every registered ID has: enough to name and explain it wherever it is printed."""

    id: str
    name: str
    category: Category
    severity: Severity  # of a finding, by default; of a change, the level of its class
    purpose: str

    def describe(self) -> str:
        return f"{self.id} {self.name} ({self.severity}): {self.purpose}"


@record(eq=False)
class CompilerRule(RuleInfo):
    bad: str  # a spec the compiler rejects
    good: str  # the same spec, accepted


@record(eq=False)
class Rule(RuleInfo):
    bad: str  # a spec fragment that breaks the rule
    good: str  # the same fragment, fixed
    check: Check


@record(eq=False)
class ChangeRule(RuleInfo):
    kind: ChangeKind  # its default class, and the old and new example specs

    @property
    def change_class(self) -> ChangeClass:
        return self.kind.change_class


_REGISTRY: dict[str, RuleInfo] = {}

# Rules from installed packages: the entry points of this group are imported the first time
# the spec rules are asked for, and register themselves through `pvgen.plugins.rule`, with
# IDs of this range only.
ENTRY_POINT_GROUP = RULES_GROUP
PLUGIN_RANGE = range(900, 1000)
# Rule ID -> the distribution (package) that registered it, for plugin rules.
ORIGINS: dict[str, str] = {}


class RulePluginError(ConfigError):
    """A rule plugin that cannot be loaded or registers something wrong; the message names it."""


def plugin_id(rule_id: str) -> bool:
    return (
        len(rule_id) == 5
        and rule_id.startswith("PV")
        and rule_id[2:].isdigit()
        and int(rule_id[2:]) in PLUGIN_RANGE
    )


def _register(entry: RuleInfo) -> None:
    if entry.id in _REGISTRY:
        raise RulePluginError(f"rule {entry.id} is registered twice")
    _REGISTRY[entry.id] = entry


_LOADING: list[str] = []  # the distribution whose rules are being loaded, while they are


@functools.cache
def _load_plugins() -> None:
    """Import every entry point of ENTRY_POINT_GROUP, once."""
    import importlib

    for name, value, origin in sorted(entry_points(ENTRY_POINT_GROUP)):
        _LOADING.append(origin)
        try:
            module, _, attribute = value.partition(":")
            loaded: object = importlib.import_module(module.strip())
            for part in filter(None, attribute.strip().split(".")):
                loaded = getattr(loaded, part)
        except RulePluginError:
            raise
        except Exception as exc:
            raise RulePluginError(
                f"rule plugin '{name}' ({origin}) failed to load: {type(exc).__name__}: {exc}"
            ) from None
        finally:
            _LOADING.pop()


def plugin_rule(
    rule_id: str, name: str, severity: Severity, *, purpose: str, bad: str, good: str
) -> Callable[[Check], Check]:
    """`rule`, for a package's entry point: only while plugins load, only IDs of the range."""
    if not _LOADING:
        raise RulePluginError(
            f"rule {rule_id}: plugin rules register while pvgen loads the entry points of"
            f" '{ENTRY_POINT_GROUP}', not on import elsewhere"
        )
    if not plugin_id(rule_id):
        raise RulePluginError(
            f"rule plugin {_LOADING[-1]}: '{rule_id}' is not a plugin rule ID"
            f" (PV{PLUGIN_RANGE.start}-PV{PLUGIN_RANGE.stop - 1})"
        )
    ORIGINS[rule_id] = _LOADING[-1]
    return _rule(rule_id, name, severity, purpose=purpose, bad=bad, good=good)


def rule(
    rule_id: str, name: str, severity: Severity, *, purpose: str, bad: str, good: str
) -> Callable[[Check], Check]:
    """Register a check function as spec rule `rule_id` (pvgen's own: not a plugin ID)."""
    assert not plugin_id(rule_id), f"{rule_id} is in the range of plugin rules"
    return _rule(rule_id, name, severity, purpose=purpose, bad=bad, good=good)


def _rule(
    rule_id: str, name: str, severity: Severity, *, purpose: str, bad: str, good: str
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        _register(
            Rule(
                id=rule_id,
                name=name,
                category=Category.SPEC,
                severity=severity,
                purpose=purpose,
                bad=bad.strip("\n"),
                good=good.strip("\n"),
                check=check,
            )
        )
        return check

    return register


COMPILER = CompilerRule(
    id="PV000",
    name="invalid-spec",
    category=Category.COMPILER,
    severity=Severity.ERROR,
    purpose="The spec is well-formed and every name in it resolves: the compiler rejects"
    " what cannot be given a meaning (syntax errors, unknown or duplicate names, names"
    " that are C, C++ or Python keywords, opaque structs used by value, and the like).",
    bad="""abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_mmu_ops { void flush_tlb_one(virt_addr addr); }""",
    good="""abi demo { version 1; }
target x86_64 { data_model lp64; }
typedef unsigned long virt_addr;
table pv_mmu_ops { void flush_tlb_one(virt_addr addr); }""",
)
_register(COMPILER)


@functools.cache
def _register_change_rules() -> None:
    from ..abi.changes import KINDS

    for kind in KINDS.values():
        _register(
            ChangeRule(
                id=kind.id,
                name=kind.name,
                category=Category.CHANGE,
                severity=kind.change_class.severity,
                purpose=kind.purpose,
                kind=kind,
            )
        )


def every_rule() -> dict[str, RuleInfo]:
    """Every registered ID, in ID order: what `pvgen rules` lists and explains."""
    _register_change_rules()
    _load_plugins()
    return dict(sorted(_REGISTRY.items()))


def rules_of(category: Category) -> list[RuleInfo]:
    """The rules of one category, in ID order."""
    return [r for r in every_rule().values() if r.category is category]


def all_rules() -> dict[str, Rule]:
    """The spec rules, in ID order: what `run_rules` runs and an `@allow` may name; with the
    rules of installed plugins (PV9nn)."""
    _load_plugins()
    return {r.id: r for _, r in sorted(_REGISTRY.items()) if isinstance(r, Rule)}
