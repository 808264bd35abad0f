"""Change kinds: every way two versions of an ABI can differ, with a rule ID and a class.

Takes: nothing; `diff.py` reports changes of these kinds, and the rule
registry (rules/registry.py) lists them beside the spec rules.
Hands on: `KINDS` (ID -> `ChangeKind`, each with an old and a new spec that
differ by that kind, shown by `pvgen rules` and run by a test) and `Change`,
the record of one change: its kind, class, item, old and new values,
per-target detail and the `Location` of the item. The class of a change is
one of four, in increasing gravity:

- cosmetic: nothing a consumer can notice (a renamed parameter, a new doc);
- compatible: consumers built against the old version keep working;
- source-breaking: binaries keep working, but code stops compiling;
- breaking: a consumer built against the old version misbehaves with the new.
"""

from __future__ import annotations

import enum
from dataclasses import field
from typing import Literal

from ..diagnostics import Severity
from ..records import record


class ChangeClass(enum.IntEnum):
    COSMETIC = 0
    COMPATIBLE = 1
    SOURCE_BREAKING = 2
    BREAKING = 3

    def __str__(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def severity(self) -> Severity:
        """How loudly a report shows a change of this class (the level of a GitHub annotation)."""
        if self is ChangeClass.BREAKING:
            return Severity.ERROR
        return Severity.WARNING if self is ChangeClass.SOURCE_BREAKING else Severity.NOTE


@record
class ChangeKind:
    id: str
    name: str
    change_class: ChangeClass  # the default; type changes are judged per target
    purpose: str
    old: str  # a spec ...
    new: str  # ... and its next version, whose diff reports this kind
    note: str = ""  # when the class of a change may differ from the default, how it is judged


Side = Literal["old", "new"]


@record
class Location:
    """Where an item is declared, as the dump of its side records it (`loc`).

    `file` is relative to the spec root of that side, since dumps are the same
    wherever the specs are checked out; it is shown as it is.
    """

    side: Side  # the version whose spec the line is in
    file: str
    line: int
    column: int

    @classmethod
    def of(cls, side: Side, element: object) -> Location | None:
        """The location a dump element records, or None where it has none (or a malformed one)."""
        loc = element.get("loc") if isinstance(element, dict) else None
        if not isinstance(loc, str):
            return None
        file, _, rest = loc.rpartition(":")
        file, _, line = file.rpartition(":")
        if not (file and line.isdigit() and rest.isdigit()):
            return None
        return cls(side, file, int(line), int(rest))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@record
class Change:
    kind: ChangeKind
    change_class: ChangeClass
    item: str  # pv_mmu_ops.alloc_pte, struct desc_ptr, backend xen
    message: str
    old: str | None = None
    new: str | None = None
    targets: dict[str, str] = field(default_factory=dict)  # target -> what happens there
    accepted: str | None = None  # the reason, when accepted.toml accepts it
    # The item in the new version where it exists there, else in the old one.
    location: Location | None = None
    # The changes (rule, item) that this one follows from, when it is only their effect (the
    # slots that a removal shifts): accepting them all accepts it, one acceptance per cause.
    causes: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return self.kind.id


C, K, S, B = (
    ChangeClass.COSMETIC,
    ChangeClass.COMPATIBLE,
    ChangeClass.SOURCE_BREAKING,
    ChangeClass.BREAKING,
)


def _spec(version: int, body: str, targets: str = "target x86_64 { data_model lp64; }") -> str:
    """A whole example spec: the abi block at `version`, the targets, then `body`."""
    return f"abi demo {{ version {version}; }}\n{targets}\n{body.strip(chr(10))}"


TWO_TARGETS = """target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }"""

BY_LAYOUT = (
    "Classed per target by layout, the worst target counting: breaking when the size or"
    " pointer-ness changes, compatible for another integer type of the same size, cosmetic"
    " for another spelling of the same type, source-breaking otherwise."
)

KINDS: dict[str, ChangeKind] = {
    k.id: k
    for k in (
        ChangeKind(
            "PV201",
            "table-removed",
            B,
            "A table of the old version is gone.",
            old=_spec(
                1, "table pv_irq_ops { void halt(); }\ntable pv_time_ops { u64 sched_clock(); }"
            ),
            new=_spec(2, "table pv_irq_ops { void halt(); }"),
        ),
        ChangeKind(
            "PV202",
            "table-added",
            K,
            "A new table.",
            old=_spec(1, "table pv_irq_ops { void halt(); }"),
            new=_spec(
                2,
                "table pv_irq_ops { void halt(); }\n"
                "table pv_time_ops { @since(2) u64 sched_clock(); }",
            ),
        ),
        ChangeKind(
            "PV203",
            "member-removed",
            B,
            "A hook or data member is gone.",
            old=_spec(1, "table pv_irq_ops {\n    void halt();\n    void safe_halt();\n}"),
            new=_spec(2, "table pv_irq_ops {\n    void halt();\n}"),
        ),
        ChangeKind(
            "PV204",
            "member-added",
            K,
            "A member added after every existing one.",
            old=_spec(1, "table pv_irq_ops {\n    void halt();\n}"),
            new=_spec(
                2, "table pv_irq_ops {\n    void halt();\n    @since(2) void safe_halt();\n}"
            ),
        ),
        ChangeKind(
            "PV205",
            "slots-shifted",
            B,
            "Members inserted, removed or reordered move later slots: their offsets and patch"
            " IDs change.",
            old=_spec(1, "table pv_irq_ops {\n    void halt();\n    void safe_halt();\n}"),
            new=_spec(2, "table pv_irq_ops {\n    void safe_halt();\n    void halt();\n}"),
        ),
        ChangeKind(
            "PV206",
            "member-moved",
            B,
            "A member moved to another table (same name, signature).",
            old=_spec(
                1,
                "table pv_cpu_ops {\n    void wbinvd();\n}\n"
                "table pv_irq_ops {\n    void halt();\n    void safe_halt();\n}",
            ),
            new=_spec(
                2,
                "table pv_cpu_ops {\n    void wbinvd();\n    void safe_halt();\n}\n"
                "table pv_irq_ops {\n    void halt();\n}",
            ),
        ),
        ChangeKind(
            "PV207",
            "member-renamed",
            S,
            "A member renamed in place (@renamed_from): same slot, new name in source.",
            old=_spec(1, "table pv_mmu_ops {\n    void alloc_pt(u32 pfn);\n}"),
            new=_spec(
                2, "table pv_mmu_ops {\n    @renamed_from(alloc_pt) void alloc_pte(u32 pfn);\n}"
            ),
        ),
        ChangeKind(
            "PV208",
            "return-type-changed",
            B,
            "A hook's return type changed.",
            old=_spec(1, "table pv_cpu_ops {\n    u32 read_cr0();\n}"),
            new=_spec(2, "table pv_cpu_ops {\n    u64 read_cr0();\n}"),
            note=BY_LAYOUT,
        ),
        ChangeKind(
            "PV209",
            "parameter-type-changed",
            B,
            "A parameter's type changed.",
            old=_spec(1, "table pv_cpu_ops {\n    void write_cr0(u32 value);\n}"),
            new=_spec(2, "table pv_cpu_ops {\n    void write_cr0(u64 value);\n}"),
            note=BY_LAYOUT,
        ),
        ChangeKind(
            "PV210",
            "parameters-changed",
            B,
            "Parameters were added or removed.",
            old=_spec(1, "table pv_cpu_ops {\n    void load_sp0(u64 sp0);\n}"),
            new=_spec(2, "table pv_cpu_ops {\n    void load_sp0(u64 sp0, u32 cpu);\n}"),
        ),
        ChangeKind(
            "PV211",
            "parameter-renamed",
            C,
            "A parameter has a new name.",
            old=_spec(1, "table pv_cpu_ops {\n    void write_cr0(u64 x);\n}"),
            new=_spec(2, "table pv_cpu_ops {\n    void write_cr0(u64 value);\n}"),
        ),
        ChangeKind(
            "PV212",
            "calling-convention-changed",
            B,
            "@callee_save or @callconv changed: callers and callees disagree on registers.",
            old=_spec(1, "table pv_irq_ops {\n    void irq_disable();\n}"),
            new=_spec(2, "table pv_irq_ops {\n    @callee_save void irq_disable();\n}"),
        ),
        ChangeKind(
            "PV213",
            "patch-site-changed",
            B,
            "The @patch native sequence or clobbers changed: patched call sites differ.",
            old=_spec(
                1,
                'table pv_irq_ops {\n    @callee_save @patch(native = "cli") void irq_disable();\n}',
            ),
            new=_spec(
                2,
                'table pv_irq_ops {\n    @callee_save @patch(native = "cli; nop")'
                " void irq_disable();\n}",
            ),
        ),
        ChangeKind(
            "PV214",
            "struct-changed",
            B,
            "A struct's fields changed.",
            old=_spec(1, "struct desc_ptr { u16 size; u32 address; }"),
            new=_spec(2, "struct desc_ptr { u16 size; u64 address; }"),
            note="Breaking when a target's size or offsets change; otherwise source-breaking when"
            " field names changed, compatible when only types did.",
        ),
        ChangeKind(
            "PV215",
            "enum-changed",
            B,
            "An enum value changed or was removed.",
            old=_spec(1, "enum lazy_mode : u32 { NONE = 0, MMU = 1, CPU = 2 }"),
            new=_spec(2, "enum lazy_mode : u32 { NONE = 0, MMU = 2, CPU = 1 }"),
            note="An added value is compatible; a new underlying type is classed per target by"
            " layout, as a typedef retargeted (PV216) is.",
        ),
        ChangeKind(
            "PV216",
            "typedef-retargeted",
            B,
            "A typedef names another type.",
            old=_spec(1, "typedef u32 pteval_t;"),
            new=_spec(2, "typedef u64 pteval_t;"),
            note=BY_LAYOUT,
        ),
        ChangeKind(
            "PV217",
            "condition-changed",
            B,
            "An @if changed: the member appears or vanishes on some target.",
            old=_spec(
                1,
                "table pv_mmu_ops {\n    void set_pte(u64 pte);\n    void set_pud(u64 pud);\n}",
                TWO_TARGETS,
            ),
            new=_spec(
                2,
                "table pv_mmu_ops {\n    void set_pte(u64 pte);\n"
                "    @if(X86_64) void set_pud(u64 pud);\n}",
                TWO_TARGETS,
            ),
        ),
        ChangeKind(
            "PV218",
            "member-deprecated",
            C,
            "A member was deprecated.",
            old=_spec(1, "table pv_irq_ops {\n    void halt();\n    void safe_halt();\n}"),
            new=_spec(
                2,
                "table pv_irq_ops {\n    @deprecated(since = 2, use = pv_irq_ops.safe_halt)"
                " void halt();\n    void safe_halt();\n}",
            ),
        ),
        ChangeKind(
            "PV219",
            "backend-overrides-changed",
            K,
            "A backend overrides other hooks.",
            old=_spec(
                1,
                "table pv_irq_ops {\n    void halt();\n    void safe_halt();\n}\n"
                "backend native default;\nbackend xen { pv_irq_ops: halt; }",
            ),
            new=_spec(
                2,
                "table pv_irq_ops {\n    void halt();\n    void safe_halt();\n}\n"
                "backend native default;\nbackend xen { pv_irq_ops: halt, safe_halt; }",
            ),
        ),
        ChangeKind(
            "PV220",
            "embedding-changed",
            B,
            "A member became or stopped being an embedded sub-table.",
            old=_spec(
                1,
                "table pv_lazy_ops {\n    void enter();\n    void leave();\n}\n"
                "table pv_mmu_ops {\n    u64 lazy_mode;\n}",
            ),
            new=_spec(
                2,
                "table pv_lazy_ops {\n    void enter();\n    void leave();\n}\n"
                "table pv_mmu_ops {\n    pv_lazy_ops lazy_mode;\n}",
            ),
        ),
        ChangeKind(
            "PV221",
            "type-removed",
            S,
            "A type of the old version is gone: code that names it stops compiling. A type has"
            " no place in a binary of its own; what its removal does to layout is reported"
            " where it was used (PV208, PV209, PV214).",
            old=_spec(1, "typedef u64 pteval_t;\ntypedef u64 pmdval_t;"),
            new=_spec(2, "typedef u64 pteval_t;"),
        ),
        ChangeKind(
            "PV222",
            "type-added",
            K,
            "A new type.",
            old=_spec(1, "typedef u64 pteval_t;"),
            new=_spec(2, "typedef u64 pteval_t;\ntypedef u64 pmdval_t;"),
        ),
        ChangeKind(
            "PV223",
            "version-not-raised",
            B,
            "A breaking change needs a higher ABI version than the old one.",
            old=_spec(1, "table pv_irq_ops {\n    void halt();\n    void safe_halt();\n}"),
            new=_spec(1, "table pv_irq_ops {\n    void halt();\n}"),
        ),
        ChangeKind(
            "PV225",
            "table-split",
            B,
            "A table that is gone left its members to several tables: one line per split,"
            " beside a move (PV206) per member.",
            old=_spec(1, "table paravirt_ops {\n    void halt();\n    u64 sched_clock();\n}"),
            new=_spec(
                2,
                "table pv_irq_ops {\n    void halt();\n}\n"
                "table pv_time_ops {\n    u64 sched_clock();\n}",
            ),
        ),
        ChangeKind(
            "PV226",
            "tables-merged",
            B,
            "A table took the members of several tables that are gone: one line per merge,"
            " beside a move (PV206) per member.",
            old=_spec(
                1,
                "table pv_init_ops {\n    void patch();\n}\n"
                "table pv_time_ops {\n    u64 sched_clock();\n}",
            ),
            new=_spec(2, "table pv_ops {\n    void patch();\n    u64 sched_clock();\n}"),
        ),
        ChangeKind(
            "PV227",
            "patch-ids-shifted",
            B,
            "A table of the patch template starts at another slot (a table inserted before it,"
            " or one before it grew or shrank): every patch ID in it and after it moves, on"
            " the targets listed with the first shifted ID.",
            old=_spec(
                1,
                "table pv_cpu_ops {\n    void wbinvd();\n}\n"
                "table pv_irq_ops {\n    void halt();\n}",
            ),
            new=_spec(
                2,
                "table pv_cpu_ops {\n    void wbinvd();\n    @since(2) void clts();\n}\n"
                "table pv_irq_ops {\n    void halt();\n}",
            ),
        ),
        ChangeKind(
            "PV224",
            "since-disagrees",
            K,
            "A member's @since disagrees with the history: a member new in this version is not"
            " @since(<this version>), or one the old version has no longer says the version it"
            " arrived in. The generated *_SINCE_VERSION of the member is wrong.",
            old=_spec(1, "table pv_irq_ops {\n    void halt();\n}"),
            new=_spec(2, "table pv_irq_ops {\n    void halt();\n    void safe_halt();\n}"),
        ),
    )
}
