"""Rules on versions: `@since` within the ABI's version, complete and timely deprecations."""

from __future__ import annotations

from collections.abc import Iterator

from .. import model as m
from ..diagnostics import Severity
from .context import Context
from .registry import Finding, rule


def _elements(abi: m.Abi) -> Iterator[tuple[tuple[object, ...], m.Element]]:
    """Every versioned element with the chain of declarations it sits in."""
    for decl in abi.types:
        yield (decl,), decl
        if isinstance(decl, m.Struct):
            for f in decl.fields:
                yield (decl, f), f
        elif isinstance(decl, m.Enum):
            for v in decl.values:
                yield (decl, v), v
    for table in abi.tables:
        yield (table,), table
        for member in table.members:
            yield (table, member), member


@rule(
    "PV003",
    "frozen-release",
    Severity.ERROR,
    purpose="Frozen dumps of released versions are never edited, and the spec is either a"
    " released version unchanged or the next version after the latest release.",
    bad="""
abi demo { version 5; }
target x86_64 { data_model lp64; }
""",
    good="""
abi demo { version 1; }
target x86_64 { data_model lp64; }
""",
)
def frozen_release(ctx: Context) -> Iterator[Finding]:
    if ctx.frozen is None:
        return
    from ..abi.freeze import check_frozen, frozen_inputs
    from ..cache import cached_result

    abi, folder = ctx.abi, ctx.frozen
    # Loading, verifying and diffing the frozen dumps is most of a cached check of a
    # released spec: the answer is kept while the spec's files and the dumps are the same.
    problems = cached_result(
        "frozen", str(folder), frozen_inputs(abi, folder), lambda: check_frozen(abi, folder)
    )
    for problem in problems:
        yield Finding(abi.span, problem, subjects=(abi,))


@rule(
    "PV109",
    "since-beyond-version",
    Severity.ERROR,
    purpose="@since(N) names a version the ABI has reached: N is at most the ABI's version.",
    bad="""
abi demo { version 2; }
target x86_64 { data_model lp64; }
table pv_irq_ops { @since(3) void safe_halt(); }
""",
    good="""
abi demo { version 3; }
target x86_64 { data_model lp64; }
table pv_irq_ops { @since(3) void safe_halt(); }
""",
)
def since_beyond_version(ctx: Context) -> Iterator[Finding]:
    version = ctx.abi.version
    for chain, element in _elements(ctx.abi):
        if element.since > version:
            yield Finding(
                element.span,
                f"'{element.name}' is @since({element.since}) but the ABI is at version {version}",
                hint=f"raise the abi 'version' to {element.since}, or correct @since",
                subjects=chain,
            )


def _member_exists(abi: m.Abi, path: str) -> bool:
    parts = path.split(".")
    table = abi.tables_by_name.get(parts[0])
    for depth, part in enumerate(parts[1:], 1):
        if table is None:
            return False
        members = table.members_by_name.get(part)
        if not members:
            return False
        member = members[0]
        if depth == len(parts) - 1:
            return True
        table = abi.tables_by_name.get(member.table) if isinstance(member, m.SubTable) else None
    return False


def _members(abi: m.Abi) -> Iterator[tuple[tuple[object, ...], m.Table | m.TableMember]]:
    for table in abi.tables:
        yield (table,), table
        for member in table.members:
            yield (table, member), member


@rule(
    "PV110",
    "deprecation-incomplete",
    Severity.ERROR,
    purpose="@deprecated says since which version (not beyond the ABI's) and names a replacement"
    " that exists, so users know where to go.",
    bad="""
abi demo { version 3; }
target x86_64 { data_model lp64; }
table pv_mmu_ops { @deprecated(since = 3, use = pv_mmu_ops.flush_all) void flush_tlb_user(); }
""",
    good="""
abi demo { version 3; }
target x86_64 { data_model lp64; }
table pv_mmu_ops {
    void flush_tlb_kernel();
    @deprecated(since = 3, use = pv_mmu_ops.flush_tlb_kernel) void flush_tlb_user();
}
""",
)
def deprecation_incomplete(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    for chain, element in _members(abi):
        d = element.deprecated
        if d is None:
            continue
        problems = []
        if d.since is None:
            problems.append("says no version (since = N)")
        elif d.since > abi.version:
            problems.append(f"is since version {d.since}, beyond the ABI's version {abi.version}")
        if d.use is None:
            problems.append("names no replacement (use = table.hook)")
        elif not _member_exists(abi, d.use):
            problems.append(f"names a replacement '{d.use}' that does not exist")
        for problem in problems:
            yield Finding(
                d.span,
                f"deprecation of '{element.name}' {problem}",
                subjects=chain,
            )


@rule(
    "PV116",
    "overdue-deprecation",
    Severity.WARNING,
    purpose="A member deprecated for more versions than the window (default 2) is reported for"
    " removal, so deprecated hooks do not live forever.",
    bad="""
abi demo { version 5; }
target x86_64 { data_model lp64; }
table pv_mmu_ops {
    void flush_tlb_kernel();
    @deprecated(since = 2, use = pv_mmu_ops.flush_tlb_kernel) void flush_tlb_user();
}
""",
    good="""
abi demo { version 5; }
target x86_64 { data_model lp64; }
table pv_mmu_ops {
    void flush_tlb_kernel();
    @deprecated(since = 4, use = pv_mmu_ops.flush_tlb_kernel) void flush_tlb_user();
}
""",
)
def overdue_deprecation(ctx: Context) -> Iterator[Finding]:
    abi = ctx.abi
    window = ctx.settings.deprecation_window
    for chain, element in _members(abi):
        d = element.deprecated
        if d is None or d.since is None:
            continue
        age = abi.version - d.since
        if age > window:
            yield Finding(
                d.span,
                f"'{element.name}' has been deprecated for {age} versions (since {d.since});"
                f" the window is {window}",
                hint="remove it in the next version that may break the ABI",
                subjects=chain,
            )


@rule(
    "PV120",
    "since-not-the-new-version",
    Severity.ERROR,
    purpose="A member that no table of the last frozen release has (by name or @renamed_from)"
    " is new in this version and says so with @since(<this version>); without it the member"
    " claims version 1 and the generated *_SINCE_VERSION lies to consumers. The examples"
    " assume version 1 (pv_irq_ops with halt alone) is frozen.",
    bad="""
abi demo { version 2; }
target x86_64 { data_model lp64; }
table pv_irq_ops {
    void halt();
    void safe_halt();
}
""",
    good="""
abi demo { version 2; }
target x86_64 { data_model lp64; }
table pv_irq_ops {
    void halt();
    @since(2) void safe_halt();
}
""",
)
def since_not_new_version(ctx: Context) -> Iterator[Finding]:
    if ctx.frozen is None:
        return
    from ..abi.frozen import frozen_versions
    from ..abi.sides import SideError, load_dump_file

    version = ctx.abi.version
    earlier = [v for v in frozen_versions(ctx.frozen) if v < version]
    if not earlier:
        return
    path = frozen_versions(ctx.frozen)[max(earlier)]
    try:
        released = load_dump_file(path)
        names = {m["name"] for t in released["tables"] for m in t["members"] if isinstance(m, dict)}
    except (SideError, KeyError, TypeError):
        return  # an unreadable release is PV003's to report
    for table in ctx.abi.tables:
        for member in table.members:
            if member.name in names or member.renamed_from in names:
                continue
            if member.since != version:
                yield Finding(
                    member.span,
                    f"'{table.name}.{member.name}' is new since frozen version {max(earlier)}"
                    f" ('{path.name}') but says @since({member.since})",
                    hint=f"add @since({version}) to '{member.name}'",
                    subjects=(table, member),
                )
