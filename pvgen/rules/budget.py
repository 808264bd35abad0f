"""Rules on the size of the interface: the hook budget and the low-level budget."""

from __future__ import annotations

from collections.abc import Iterator

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
    purpose="The ABI, and any table with @budget, stays within its declared number of hooks.",
    bad="""
abi demo { version 1; budget 2; }
target x86_64 { data_model lp64; }
table pv_irq_ops { void irq_disable(); void irq_enable(); void halt(); }
""",
    good="""
abi demo { version 1; budget 3; }
target x86_64 { data_model lp64; }
table pv_irq_ops { void irq_disable(); void irq_enable(); void halt(); }
""",
)
def hook_budget(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    counts = {name: len(entries) for name, entries in ctx.hooks_by_table.items()}
    total = sum(counts.values())
    if abi.budget is not None and total > abi.budget:
        yield Finding(
            abi.span,
            f"ABI '{abi.name}' has {total} hooks, over its budget of {abi.budget};"
            f" largest tables: {_largest(counts)}",
            hint="merge or remove hooks, or raise 'budget' after review",
            subjects=(abi,),
        )
    for table in abi.tables:
        if table.budget is None:
            continue
        count = sum(1 for _ in abi.hooks(table))
        if count > table.budget:
            yield Finding(
                table.span,
                f"table '{table.name}' has {count} hooks, over its budget of {table.budget}",
                hint="split the table or raise its @budget after review",
                subjects=(table,),
            )


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
