"""Rules on who implements what: a native fallback for every hook, no private hooks."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Related, Severity
from .context import Context
from .registry import Finding, rule


@rule(
    "PV102",
    "native-default",
    Severity.ERROR,
    purpose="The kernel boots with no hypervisor: a default (native) backend exists, and a hook"
    " marked @no_native is implemented by some other backend.",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_cpu_ops { void wbinvd(); }
backend xen { pv_cpu_ops: wbinvd; }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_cpu_ops { void wbinvd(); }
backend native default;
backend xen { pv_cpu_ops: wbinvd; }
""",
)
def native_default(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    if ctx.default_backend is None:
        yield Finding(
            abi.span,
            f"ABI '{abi.name}' has no default backend, so no hook has a bare-hardware fallback",
            hint="declare 'backend native default;'",
            subjects=(abi,),
        )
        return
    for entry in ctx.hook_entries:
        if entry.hook.no_native is not None and not ctx.overriders.get(entry.path):
            yield Finding(
                entry.hook.span,
                f"hook '{entry.path}' has no native implementation and no backend implements it",
                hint="implement it in a backend, or give it a native implementation",
                subjects=(entry.table, entry.owner, entry.hook),
            )


@rule(
    "PV114",
    "no-native",
    Severity.NOTE,
    purpose="Reports each hook without a native implementation, with the reason it gives.",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_time_ops { @no_native(reason = "needs a hypervisor clock") u64 steal_clock(); }
backend native default;
backend kvm { pv_time_ops: steal_clock; }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_time_ops { u64 sched_clock(); }
backend native default;
backend kvm { pv_time_ops: sched_clock; }
""",
)
def no_native(ctx: Context) -> Iterator[Finding]:
    for entry in ctx.hook_entries:
        if entry.hook.no_native is not None:
            yield Finding(
                entry.hook.span,
                f"hook '{entry.path}' has no native implementation: {entry.hook.no_native}",
                subjects=(entry.table, entry.owner, entry.hook),
            )


@rule(
    "PV103",
    "private-hook",
    Severity.ERROR,
    purpose="A hook overridden by exactly one hypervisor is that hypervisor's private API in the"
    " common table; it needs a second user or @backend_specific(reason = ...).",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_mmu_ops { void write_cr3(unsigned long cr3); void dup_mmap(); }
backend native default;
backend xen { pv_mmu_ops: write_cr3, dup_mmap; }
backend lguest { pv_mmu_ops: write_cr3; }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_mmu_ops {
    void write_cr3(unsigned long cr3);
    @backend_specific(reason = "Xen pins page tables when an address space is copied")
    void dup_mmap();
}
backend native default;
backend xen { pv_mmu_ops: write_cr3, dup_mmap; }
backend lguest { pv_mmu_ops: write_cr3; }
""",
)
def private_hook(ctx: Context) -> Iterator[Finding]:
    for entry in ctx.hook_entries:
        users = ctx.overriders.get(entry.path, [])
        if len(users) == 1 and entry.hook.backend_specific is None:
            only = users[0]
            override = next(o for o in only.overrides if o.path == entry.path)
            yield Finding(
                entry.hook.span,
                f"hook '{entry.path}' is overridden only by backend '{only.name}'",
                hint='find a second user, or mark it @backend_specific(reason = "...")',
                related=(Related(override.span, f"backend '{only.name}' overrides it here"),),
                subjects=(entry.table, entry.owner, entry.hook),
            )


@rule(
    "PV115",
    "stale-backend-specific",
    Severity.NOTE,
    purpose="A hook marked @backend_specific that several backends now override is no longer"
    " private; the annotation can go.",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_mmu_ops { @backend_specific(reason = "Xen only") void exit_mmap(); }
backend native default;
backend xen { pv_mmu_ops: exit_mmap; }
backend kvm { pv_mmu_ops: exit_mmap; }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
table pv_mmu_ops { void exit_mmap(); }
backend native default;
backend xen { pv_mmu_ops: exit_mmap; }
backend kvm { pv_mmu_ops: exit_mmap; }
""",
)
def stale_backend_specific(ctx: Context) -> Iterator[Finding]:
    for entry in ctx.hook_entries:
        users = ctx.overriders.get(entry.path, [])
        if entry.hook.backend_specific is not None and len(users) > 1:
            names = ", ".join(f"'{b.name}'" for b in users)
            yield Finding(
                entry.hook.span,
                f"hook '{entry.path}' is marked @backend_specific but backends {names} override it",
                subjects=(entry.table, entry.owner, entry.hook),
            )
