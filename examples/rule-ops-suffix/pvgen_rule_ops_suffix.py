"""PV901 table-ops-suffix: a rule plugin for pvgen.

Takes: the resolved ABI, through `pvgen.plugins.Context`, when `pvgen check` runs its rules.
Hands on: a finding for each top-level table whose name does not end in `_ops`, the
convention of Linux's paravirt tables (pv_cpu_ops, pv_mmu_ops): a project that mirrors the
kernel's names keeps C code that reads like the kernel's. A table that must keep another
name says so with @allow(PV901, reason = "..."), or the project turns the rule off with
`PV901 = "off"` under [rules].
"""

from __future__ import annotations

from collections.abc import Iterator

from pvgen.plugins import Context, Finding, Severity, model, rule

BAD = """
abi demo { version 1; }
target x86_64 { data_model lp64; }
/// Interrupt-flag operations.
table pv_irq {
    /// Halts the CPU until the next interrupt.
    void halt();
}
"""
GOOD = BAD.replace("table pv_irq {", "table pv_irq_ops {")


@rule(
    "PV901",
    "table-ops-suffix",
    Severity.WARNING,
    purpose="Hook tables are named like the kernel's paravirt tables, ending in _ops, so that"
    " the generated C reads like the kernel it mirrors.",
    bad=BAD,
    good=GOOD,
)
def ops_suffix(ctx: Context) -> Iterator[Finding]:
    # Embedded tables (a lazy-mode bracket, say) are named by the table that embeds them.
    embedded = {m.table for t in ctx.abi.tables for m in t.members if isinstance(m, model.SubTable)}
    for table in ctx.abi.tables:
        if table.name in embedded or table.name.endswith("_ops"):
            continue
        yield Finding(
            table.span,
            f"table '{table.name}' does not end in _ops",
            hint=f"rename it {table.name}_ops (keep its slots with @renamed_from), or accept it"
            " with @allow(PV901, reason = ...)",
            subjects=(table,),
        )
