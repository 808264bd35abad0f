"""Rules on memory the hypervisor shares: no guest pointers, one layout for every width."""

from __future__ import annotations

from collections.abc import Iterator

from .. import model as m
from ..diagnostics import Severity
from .context import Context
from .registry import Finding, rule
from .types import value_kind


def _shared_structs(abi: m.Abi) -> Iterator[m.Struct]:
    return (t for t in abi.types if isinstance(t, m.Struct) and t.shared)


@rule(
    "PV106",
    "pointer-in-shared-memory",
    Severity.ERROR,
    purpose="Kernel internals stay opaque: a @shared struct holds no pointers, since the"
    " hypervisor cannot follow guest addresses and may run at another width.",
    bad="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
opaque struct task_struct;
@shared struct vcpu_info { u32 flags; struct task_struct *current; }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
@shared struct vcpu_info { u32 flags; u32 current_pid; }
""",
)
def pointer_in_shared_memory(ctx: Context) -> Iterator[Finding]:
    for struct in _shared_structs(ctx.abi):
        for f in struct.fields:
            if any(value_kind(ctx.abi, f.type, t)[0] == "pointer" for t in ctx.abi.targets):
                yield Finding(
                    f.span,
                    f"field '{f.name}' of shared struct '{struct.name}' is a pointer ({f.type})",
                    hint="share a guest-physical frame number or an index instead",
                    subjects=(struct, f),
                )


def _describe(record: m.RecordLayout) -> str:
    fields = ", ".join(f"{name}@{offset}" for name, offset in record.offsets.items())
    return f"size {record.size}, align {record.align} ({fields})"


def _padding(abi: m.Abi, struct: m.Struct, target: m.Target) -> int:
    """Bytes of padding inside `struct` on `target`, nested by-value structs included."""
    facts = abi.facts[target.name]
    record = facts.layout.records.get(struct.name)
    if record is None:
        return 0
    used = 0
    for f in struct.fields:
        if not target.holds(f.condition) or f.name not in record.offsets:
            continue
        kind, size = value_kind(abi, f.type, target)
        used += size
        inner = facts.present.behind(f.type)
        if kind == "struct" and isinstance(inner, m.Struct):
            used -= _padding(abi, inner, target)
    return record.size - used


@rule(
    "PV107",
    "shared-layout-mismatch",
    Severity.ERROR,
    purpose="A @shared struct has one layout on every target (the hypervisor may run at another"
    " width than the guest), and a @packed struct has no padding inside on any target.",
    bad="""
abi demo { version 1; }
target i386 { data_model ilp32; }
target x86_64 { data_model lp64; }
@shared struct wallclock { u32 version; unsigned long sec; }
""",
    good="""
abi demo { version 1; }
target i386 { data_model ilp32; }
target x86_64 { data_model lp64; }
@shared struct wallclock { u32 version; u32 sec; u32 nsec; }
""",
)
def shared_layout_mismatch(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    for struct in (t for t in abi.types if isinstance(t, m.Struct)):
        present = [t for t in abi.targets if abi.facts[t.name].present.get(struct.name) is struct]
        if struct.shared:
            layouts: dict[str, list[str]] = {}
            for target in present:
                record = abi.layouts[target.name].records.get(struct.name)
                if record is not None:
                    layouts.setdefault(_describe(record), []).append(target.name)
            if len(layouts) > 1:
                shown = "; ".join(f"{', '.join(ts)}: {d}" for d, ts in layouts.items())
                yield Finding(
                    struct.span,
                    f"shared struct '{struct.name}' is laid out differently per target: {shown}",
                    hint="use fixed-width fields (u32, u64) and explicit padding",
                    subjects=(struct,),
                )
            padded = [t.name for t in present if _padding(abi, struct, t) > 0]
            if padded and len(layouts) <= 1:
                yield Finding(
                    struct.span,
                    f"shared struct '{struct.name}' has implicit padding on {', '.join(padded)}",
                    hint="add explicit padding fields so both sides agree on every byte",
                    subjects=(struct,),
                )
        elif struct.packed:
            padded = [t.name for t in present if _padding(abi, struct, t) > 0]
            if padded:
                yield Finding(
                    struct.span,
                    f"packed struct '{struct.name}' still has padding inside a nested struct on"
                    f" {', '.join(padded)}",
                    hint="pack the nested struct too, or pad it explicitly",
                    subjects=(struct,),
                )
