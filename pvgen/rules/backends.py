"""Rules on who implements what: a native fallback for every hook, no private hooks, NULL
slots that callers check, must-patch hooks that can be patched, backends on their targets."""

from __future__ import annotations

from collections.abc import Iterator

from .. import model as m
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
    overriders = ctx.overriders
    private = []
    for entry in ctx.hook_entries:
        users = overriders.get(entry.path, ())
        if len(users) == 1 and entry.hook.backend_specific is None:
            private.append((entry, users[0]))
    # Where each backend overrides the hooks it alone overrides: one pass over its list, for
    # the paths wanted only (a search per finding made the rule quadratic in large ABIs, and
    # an index of every override held a large spec's hundreds of thousands).
    wanted: dict[int, dict[str, m.Override | None]] = {}
    for entry, only in private:
        wanted.setdefault(id(only), {})[entry.path] = None
    for backend in ctx.abi.backends:
        paths = wanted.get(id(backend))
        if not paths:
            continue
        for o in backend.overrides:
            if o.path in paths and paths[o.path] is None:
                paths[o.path] = o
    for entry, only in private:
        override = wanted[id(only)][entry.path]
        assert override is not None  # the backend overrides it: it is among its overriders
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


@rule(
    "PV117",
    "unchecked-null",
    Severity.ERROR,
    purpose="A hook left NULL under some backend, on a target where that backend runs (a"
    " backend with @fallback(none) that does not set it, or a @no_native hook under the default"
    " backend), is marked @nullable: its callers check before calling.",
    bad="""
abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
/// CPU state.
table pv_cpu_ops {
    /// Writes back caches.
    void wbinvd();
    /// Exchanges the GS bases.
    void swapgs();
}
backend native default;
/// Copies the whole table.
@fallback(none)
backend xen { pv_cpu_ops: wbinvd; }
backend kvm { pv_cpu_ops: wbinvd; }
""",
    good="""
abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
/// CPU state.
table pv_cpu_ops {
    /// Writes back caches.
    void wbinvd();
    /// Exchanges the GS bases; callers check that it is set.
    @nullable
    void swapgs();
}
backend native default;
/// Copies the whole table.
@fallback(none)
backend xen { pv_cpu_ops: wbinvd; }
backend kvm { pv_cpu_ops: wbinvd; }
""",
)
def unchecked_null(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    for backend in abi.backends:
        where: dict[str, list[str]] = {}
        for target in abi.targets:
            if not backend.runs_on(target):
                continue
            for slot in abi.null_slots(backend, target.name):
                if isinstance(slot, m.HookSlot) and not slot.hook.nullable:
                    where.setdefault(slot.path, []).append(target.name)
        if not where:
            continue
        for entry in ctx.hook_entries:
            targets = where.get(entry.path)
            if targets is None:
                continue
            why = (
                "it has no native implementation"
                if entry.hook.no_native is not None
                else "it does not set it and falls back to nothing"
            )
            yield Finding(
                entry.hook.span,
                f"hook '{entry.path}' is NULL under backend '{backend.name}' on"
                f" {', '.join(targets)} ({why}), but is not marked @nullable",
                hint="mark it @nullable (its callers check), or have the backend set it",
                related=(Related(backend.span, f"backend '{backend.name}' is declared here"),),
                subjects=(backend, entry.table, entry.owner, entry.hook),
            )


@rule(
    "PV118",
    "unpatchable-must-patch",
    Severity.ERROR,
    purpose="A hook that a backend marks @must_patch has a patch site: an @patch and a patch"
    " ID on every target the backend runs on where the hook exists; otherwise its sentinel"
    " would be called.",
    bad="""
abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
/// CPU state.
table pv_cpu_ops {
    /// Returns from an interrupt.
    void iret();
}
backend native default;
/// Stores a sentinel in iret.
@must_patch(pv_cpu_ops.iret)
backend vmi { pv_cpu_ops: iret; }
backend kvm { pv_cpu_ops: iret; }
""",
    good="""
abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
/// CPU state.
table pv_cpu_ops {
    /// Returns from an interrupt.
    @patch(native = "iret")
    void iret();
}
backend native default;
/// Stores a sentinel in iret.
@must_patch(pv_cpu_ops.iret)
backend vmi { pv_cpu_ops: iret; }
backend kvm { pv_cpu_ops: iret; }
""",
)
def unpatchable_must_patch(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    by_path: dict[str, list[m.Slot]] = {}
    for slot in abi.slots:
        by_path.setdefault(slot.path, []).append(slot)
    for backend in abi.backends:
        for mark in backend.must_patch:
            slots = by_path.get(mark.path, [])
            hooks = [s for s in slots if isinstance(s, m.HookSlot)]
            related = (Related(mark.span, f"backend '{backend.name}' must patch it here"),)
            subjects = (backend,)
            if not hooks:
                yield Finding(
                    mark.span,
                    f"'{mark.path}' is a data member: there is no call to patch",
                    subjects=subjects,
                )
                continue
            unpatched = [s for s in hooks if s.hook.patch is None]
            if unpatched:
                yield Finding(
                    unpatched[0].hook.span,
                    f"backend '{backend.name}' must patch hook '{mark.path}', which has no"
                    " patch site",
                    hint='give the hook @patch(native = "...")',
                    related=related,
                    subjects=(*subjects, *unpatched[0].owners, unpatched[0].hook),
                )
                continue
            missing = [
                t.name
                for t in abi.targets
                if backend.runs_on(t)
                and any(abi.facts[t.name].holds(s) for s in hooks)
                and mark.path not in abi.facts[t.name].patch_ids
            ]
            if missing:
                yield Finding(
                    hooks[0].hook.span,
                    f"backend '{backend.name}' must patch hook '{mark.path}', which has no"
                    f" patch ID on {', '.join(missing)}",
                    hint="put its table in the abi's patch_template",
                    related=related,
                    subjects=(*subjects, *hooks[0].owners, hooks[0].hook),
                )


@rule(
    "PV119",
    "backend-member-absent",
    Severity.ERROR,
    purpose="A backend names only members that exist on some target it runs on; a member"
    " that exists on other targets only is a mistake in the member or in the backend's @if."
    " (A member on no declared target at all, such as one of a configuration the spec does"
    " not build, is not the backend's doing.)",
    bad="""
abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
/// CPU state.
table pv_cpu_ops {
    /// Writes back caches.
    void wbinvd();
    /// Reads CR8.
    @if(X86_64)
    unsigned long read_cr8();
}
backend native default;
/// A 32-bit hypervisor.
@if(X86_32)
backend vmi { pv_cpu_ops: wbinvd, read_cr8; }
/// Runs everywhere.
backend kvm { pv_cpu_ops: wbinvd, read_cr8; }
""",
    good="""
abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
/// CPU state.
table pv_cpu_ops {
    /// Writes back caches.
    void wbinvd();
    /// Reads CR8.
    @if(X86_64)
    unsigned long read_cr8();
}
backend native default;
/// A 32-bit hypervisor.
@if(X86_32)
backend vmi { pv_cpu_ops: wbinvd; }
/// Runs everywhere.
backend kvm { pv_cpu_ops: wbinvd, read_cr8; }
""",
)
def backend_member_absent(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    present = ctx.present_on
    for backend in abi.backends:
        targets = {t.name for t in abi.targets if backend.runs_on(t)}
        for override in backend.overrides:
            where = present.get(override.path)
            # A member on no target at all is the spec's choice of targets, not the backend's.
            if override.whole or not where or not targets.isdisjoint(where):
                continue
            yield Finding(
                override.span,
                f"backend '{backend.name}' lists '{override.path}', which exists on none of"
                f" the targets it runs on ({', '.join(sorted(targets)) or 'none'})",
                hint="drop it from the backend, or widen the backend's @if",
                subjects=(backend,),
            )
