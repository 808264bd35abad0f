"""Rules on how hooks are called: hot paths, the callee-save convention, batching."""

from __future__ import annotations

from collections.abc import Iterator

from .. import model as m
from ..diagnostics import Severity
from .context import Context
from .registry import Finding, rule
from .types import CALLEE_SAVE, register_value


@rule(
    "PV104",
    "hot-hook-unpatched",
    Severity.ERROR,
    purpose="A hot hook (a bare @hot, or @hot(callsites = N) with N above the threshold, default"
    " 100) is @callee_save and carries @patch(native = ...): an indirect call at a thousand sites"
    " costs.",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_irq_ops { @hot(callsites = 1400) void irq_disable(); }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_irq_ops {
    @hot(callsites = 1400) @callee_save @patch(native = "cli")
    void irq_disable();
}
""",
)
def hot_hook_unpatched(ctx: Context) -> Iterator[Finding]:
    threshold = ctx.settings.hot_callsites
    for entry in ctx.hook_entries:
        hook = entry.hook
        # A count decides by the threshold; a bare @hot is hot by declaration.
        if hook.callsites is not None:
            hot = hook.callsites > threshold
        else:
            hot = hook.hot
        if not hot:
            continue
        missing = [
            a for a, ok in (("@callee_save", hook.callee_save), ("@patch", hook.patch)) if not ok
        ]
        if missing:
            why = f"{hook.callsites} call sites" if hook.callsites is not None else "marked @hot"
            yield Finding(
                hook.span,
                f"hot hook '{entry.path}' ({why}) lacks {' and '.join(missing)}",
                hint='make it @callee_save and give the native sequence: @patch(native = "...")',
                subjects=(entry.table, entry.owner, hook),
            )


@rule(
    "PV105",
    "callee-save-limits",
    Severity.ERROR,
    purpose="A @callee_save hook fits the kernel's callee-save thunks on every target: on i386"
    " (-mregparm=3 -freg-struct-return) at most two argument words in eax and edx, a u64 or"
    " 8-byte struct taking both, and a return value of up to two words (eax or edx:eax); on"
    " x86_64 at most two arguments (rdi, rsi) and a return value in rax alone. Each value is an"
    " integer, enum, bool, pointer, or a struct of those of 1, 2, 4 or 8 bytes.",
    bad="""
abi demo { version 1; }
target i386 { data_model ilp32; }
table pv_cpu_ops { @callee_save void write_msr(u64 value, u32 msr); }
""",
    good="""
abi demo { version 1; }
target i386 { data_model ilp32; }
table pv_cpu_ops {
    @callee_save u64 read_tsc();
    @callee_save void write_msr(u64 value);
}
""",
)
def callee_save_limits(ctx: Context) -> Iterator[Finding]:
    for entry in ctx.hook_entries:
        hook = entry.hook
        if not hook.callee_save:
            continue
        problems: dict[str, list[str]] = {}
        for target in ctx.abi.targets:
            if ctx.abi.facts[target.name].holds(entry.slot):
                for problem in _callee_save_problems(ctx.abi, hook, target):
                    problems.setdefault(problem, []).append(target.name)
        for problem, targets in problems.items():
            yield Finding(
                hook.span,
                f"callee-save hook '{entry.path}' on {', '.join(targets)}: {problem}",
                hint="pass a pointer instead, or drop @callee_save",
                subjects=(entry.table, entry.owner, hook),
            )


def _callee_save_problems(abi: m.Abi, hook: m.Hook, target: m.Target) -> Iterator[str]:
    """What keeps `hook` from the callee-save convention of `target`."""
    convention = CALLEE_SAVE[target.data_model]
    word = convention.word
    words = 0  # argument words, each value rounded up to whole registers
    for p in hook.params:
        size, why = register_value(abi, p.type, target)
        if why is not None:
            yield f"parameter '{p.name}' ({p.type}) is {why}"
        words += max(1, -(-size // word))
    registers = convention.argument_registers
    if words > len(registers):
        yield (
            f"its arguments take {words} register words; at most {len(registers)}"
            f" ({', '.join(registers)})"
        )
    # Every value allowed fits the return registers: up to 8 bytes, in edx:eax or rax.
    why = register_value(abi, hook.returns, target)[1]
    if why is not None:
        yield f"its return value ({hook.returns}) is {why} (it comes back in {convention.returns_in})"


def _has_lazy_bracket(abi: m.Abi, table: m.Table) -> bool:
    for member in table.members:
        if isinstance(member, m.SubTable):
            names = abi.tables_by_name[member.table].members_by_name
            if "enter" in names and "leave" in names:
                return True
    return False


@rule(
    "PV108",
    "batched-needs-lazy-mode",
    Severity.ERROR,
    purpose="A @batched hook lives in a table that embeds a lazy-mode bracket (a sub-table with"
    " enter and leave), so a hypervisor can defer it until the batch ends.",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_mmu_ops { @batched void set_pte(u64 *ptep, u64 pte); }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_lazy_ops { void enter(); void leave(); }
table pv_mmu_ops {
    @batched void set_pte(u64 *ptep, u64 pte);
    pv_lazy_ops lazy_mode;
}
""",
)
def batched_needs_lazy_mode(ctx: Context) -> Iterator[Finding]:
    checked: set[tuple[str, str]] = set()
    for entry in ctx.hook_entries:
        key = (entry.owner.name, entry.hook.name)
        if not entry.hook.batched or key in checked:
            continue
        checked.add(key)
        if not _has_lazy_bracket(ctx.abi, entry.owner):
            yield Finding(
                entry.hook.span,
                f"batched hook '{entry.owner.name}.{entry.hook.name}' has no lazy-mode bracket"
                f" in table '{entry.owner.name}'",
                hint="embed a sub-table with enter() and leave(), such as 'pv_lazy_ops lazy_mode;'",
                subjects=(entry.table, entry.owner, entry.hook),
            )
