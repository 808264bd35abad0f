"""Rules on how a spec reads: documented tables and hooks, snake_case names."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import model as m
from ..diagnostics import Severity
from ..source import Span
from .context import Context
from .registry import Finding, rule

# Leading underscores are allowed: the kernel names its own types that way (`__ticket_t`).
SNAKE_CASE = re.compile(r"_*[a-z][a-z0-9]*(_[a-z0-9]+)*")


@rule(
    "PV111",
    "missing-doc",
    Severity.WARNING,
    purpose="In a stable ABI every table and hook has a /// doc comment: it is the contract"
    " that hypervisor authors implement against.",
    bad="""
abi demo { version 1; stability stable; }
target x86_64 { data_model lp64; }
/// Interrupt-flag operations.
table pv_irq_ops { void halt(); }
""",
    good="""
abi demo { version 1; stability stable; }
target x86_64 { data_model lp64; }
/// Interrupt-flag operations.
table pv_irq_ops {
    /// Halts the CPU until the next interrupt.
    void halt();
}
""",
)
def missing_doc(ctx: Context) -> Iterator[Finding]:
    if ctx.abi.stability is not m.Stability.STABLE:
        return
    for table in ctx.abi.tables:
        if not table.doc:
            yield Finding(table.span, f"table '{table.name}' has no doc comment", subjects=(table,))
        for member in table.members:
            if isinstance(member, m.Hook) and not member.doc:
                yield Finding(
                    member.span,
                    f"hook '{table.name}.{member.name}' has no doc comment",
                    hint="say in a /// comment what the hook does and what it returns",
                    subjects=(table, member),
                )


@rule(
    "PV112",
    "naming-style",
    Severity.NOTE,
    purpose="Tables, members, parameters and types are snake_case (a note only: real kernel"
    " names such as init_IRQ exist).",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_irq_ops { void initIRQ(); }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_irq_ops { void init_irq(); }
""",
)
def naming_style(ctx: Context) -> Iterator[Finding]:
    def finding(name: str, what: str, subjects: tuple[object, ...], span: Span) -> Finding:
        return Finding(span, f"{what} '{name}' is not snake_case", subjects=subjects)

    # Tested inline: a large ABI has tens of thousands of names, nearly all snake_case.
    snake_case = SNAKE_CASE.fullmatch
    for decl in ctx.abi.types:
        if not snake_case(decl.name):
            yield finding(decl.name, "type", (decl,), decl.span)
    for table in ctx.abi.tables:
        if not snake_case(table.name):
            yield finding(table.name, "table", (table,), table.span)
        for member in table.members:
            if not snake_case(member.name):
                yield finding(member.name, "member", (table, member), member.span)
            if isinstance(member, m.Hook):
                for p in member.params:
                    if not snake_case(p.name):
                        yield finding(p.name, "parameter", (table, member), p.span)
