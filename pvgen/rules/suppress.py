"""Suppressions: `@allow(PVnnn, reason = ...)` and `[[tool.pvgen.allow]]`, and their own checks.

Takes: findings of the other rules and the allows in the model and config.
Hands on: whether a finding is accepted (and by which allow), and two rules
of their own: an allow must name a known rule (PV002) and must still accept
something (PV001), since a stale allowlist hides the next real problem.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence
from pathlib import Path

from .. import model as m
from ..config import FileAllow
from ..diagnostics import Severity
from .context import Context
from .registry import Finding, all_rules, rule


def model_allows(abi: m.Abi) -> Iterator[tuple[m.Allow, tuple[object, ...]]]:
    """Every `@allow` in the model, with the declaration chain it sits on."""
    for a in abi.allows:
        yield a, (abi,)
    for decl in abi.types:
        for a in decl.allows:
            yield a, (decl,)
        inner: Sequence[m.Element] = ()
        if isinstance(decl, m.Struct):
            inner = decl.fields
        elif isinstance(decl, m.Enum):
            inner = decl.values
        for element in inner:
            for a in element.allows:
                yield a, (decl, element)
    for table in abi.tables:
        for a in table.allows:
            yield a, (table,)
        for member in table.members:
            for a in member.allows:
                yield a, (table, member)
    for backend in abi.backends:
        for a in backend.allows:
            yield a, (backend,)


def accepting_allow(
    finding: Finding, rule_id: str, abi: m.Abi, file_allows: Sequence[FileAllow]
) -> m.Allow | FileAllow | None:
    """The allow that accepts `finding` of `rule_id`, if any: innermost first."""
    for subject in reversed(finding.subjects):
        for a in getattr(subject, "allows", ()):
            if a.code == rule_id:
                return a  # type: ignore[no-any-return]
    for a in abi.allows:
        if a.code == rule_id:
            return a
    if finding.span is not None and file_allows:
        path = Path(finding.span.file.display).resolve()
        for fa in file_allows:
            if fa.rule == rule_id and _matches(path, fa):
                return fa
    return None


def _matches(path: Path, allow: FileAllow) -> bool:
    try:
        relative = path.relative_to(allow.base).as_posix()
    except ValueError:
        return False
    return fnmatch.fnmatchcase(relative, allow.path)


@rule(
    "PV001",
    "unused-allow",
    Severity.WARNING,
    purpose="An @allow that accepts no finding is removed: a stale allowlist would hide the next"
    " real problem at that place.",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
/// Interrupt-flag operations.
table pv_irq_ops {
    /// Halts the CPU until the next interrupt.
    @allow(PV104, reason = "patched by hand")
    void halt();
}
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
/// Interrupt-flag operations.
table pv_irq_ops {
    /// Halts the CPU until the next interrupt.
    void halt();
}
""",
)
def unused_allow(ctx: Context) -> Iterator[Finding]:
    known = all_rules()
    for allow, chain in model_allows(ctx.abi):
        if allow.code in known and id(allow) not in ctx.used_allows:
            yield Finding(
                allow.span,
                f"@allow({allow.code}) accepts no finding here; remove it",
                subjects=chain,
            )


@rule(
    "PV002",
    "unknown-rule",
    Severity.ERROR,
    purpose="An @allow names a rule that exists.",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
@allow(PV999, reason = "no such rule")
struct pair { u32 a; u32 b; }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
struct pair { u32 a; u32 b; }
""",
)
def unknown_rule(ctx: Context) -> Iterator[Finding]:
    known = all_rules()
    for allow, chain in model_allows(ctx.abi):
        if allow.code not in known:
            from ..diagnostics import did_you_mean

            yield Finding(
                allow.span,
                f"@allow names unknown rule '{allow.code}'" + did_you_mean(allow.code, known),
                hint="'pvgen rules' lists every rule",
                subjects=chain,
            )


# Rules that judge the allows themselves: they run after all the others.
META_RULES = ("PV001", "PV002")
