"""Rules on the size of the interface: the hook budget and the low-level budget."""

from __future__ import annotations

from collections.abc import Iterator

from .. import model as m
from ..diagnostics import Severity
from .context import Context
from .registry import Finding, rule


def _largest(counts: dict[str, int], limit: int = 3) -> str:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return ", ".join(f"{name} ({count})" for name, count in ranked)


@rule(
    "PV101",
    "hook-budget",
    Severity.ERROR,
    purpose="The ABI, and any table with @budget, stays within its declared number of hooks on"
    " every target: a kernel is built for one configuration, and counts the hooks it has.",
    bad="""
abi demo { version 1; budget 2; }
target x86_64 { data_model lp64; }
table pv_irq_ops { void irq_disable(); void irq_enable(); void halt(); }
""",
    good="""
abi demo { version 1; budget 3; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
table pv_irq_ops {
    void irq_disable();
    void irq_enable();
    @if(X86_32) void halt();
    @if(X86_64) void safe_halt();
}
""",
)
def hook_budget(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    if abi.budget is not None:
        over: dict[str, dict[str, int]] = {}  # target -> table -> hooks there
        for target, facts in abi.facts.items():
            if len(facts.hooks) > abi.budget:
                counts = over.setdefault(target, {})
                for slot in facts.hooks:
                    counts[slot.top.name] = counts.get(slot.top.name, 0) + 1
        if over:
            worst = max(over, key=lambda t: sum(over[t].values()))
            where = ", ".join(f"{sum(c.values())} on {t}" for t, c in over.items())
            yield Finding(
                abi.span,
                f"ABI '{abi.name}' has {where}, over its budget of {abi.budget} hooks;"
                f" largest tables on {worst}: {_largest(over[worst])}",
                hint="merge or remove hooks, or raise 'budget' after review",
                subjects=(abi,),
            )
    for table in abi.tables:
        if table.budget is None:
            continue
        where = ", ".join(
            f"{count} on {target}"
            for target, count in _table_hooks(ctx, table).items()
            if count > table.budget
        )
        if where:
            yield Finding(
                table.span,
                f"table '{table.name}' has {where}, over its budget of {table.budget} hooks",
                hint="split the table or raise its @budget after review",
                subjects=(table,),
            )


def _table_hooks(ctx: Context, table: m.Table) -> dict[str, int]:
    """The hooks reachable from `table` (sub-tables expanded) that each target has."""
    abi = ctx.abi
    slots = [s for s in m.slots_under(table, abi.tables_by_name) if isinstance(s, m.HookSlot)]
    return {
        target.name: sum(1 for s in slots if target.holds(s.condition)) for target in abi.targets
    }


@rule(
    "PV113",
    "low-level-budget",
    Severity.WARNING,
    purpose="Hooks that mirror one privileged instruction (@low_level) stay within"
    " the ABI's low_level_budget, so the tables do not grow into a model of the whole CPU.",
    bad="""
abi demo { version 1; low_level_budget 1; }
target x86_64 { data_model lp64; }
table pv_cpu_ops { @low_level void clts(); @low_level void wbinvd(); }
""",
    good="""
abi demo { version 1; low_level_budget 2; }
target x86_64 { data_model lp64; }
table pv_cpu_ops { @low_level void clts(); @low_level void wbinvd(); }
""",
)
def low_level_budget(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    if abi.low_level_budget is None:
        return
    counts: dict[str, int] = {}
    for entry in ctx.hook_entries:
        if entry.hook.low_level:
            counts[entry.table.name] = counts.get(entry.table.name, 0) + 1
    total = sum(counts.values())
    if total > abi.low_level_budget:
        yield Finding(
            abi.span,
            f"ABI '{abi.name}' has {total} low-level hooks, over its low_level_budget of"
            f" {abi.low_level_budget}; most in: {_largest(counts)}",
            hint="replace instruction-level hooks with higher-level operations",
            subjects=(abi,),
        )
