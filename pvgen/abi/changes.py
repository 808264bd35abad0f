"""Change kinds: every way two versions of an ABI can differ, with a rule ID and a class.

Takes: nothing; `diff.py` reports changes of these kinds.
Hands on: `KINDS` (ID -> `ChangeKind`) and `Change`, the record of one change:
its kind, class, item, old and new values, and per-target detail. The class
of a change is one of four, in increasing gravity:

- cosmetic: nothing a consumer can notice (a renamed parameter, a new doc);
- compatible: consumers built against the old version keep working;
- source-breaking: binaries keep working, but code stops compiling;
- breaking: a consumer built against the old version misbehaves with the new.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ChangeClass(enum.IntEnum):
    COSMETIC = 0
    COMPATIBLE = 1
    SOURCE_BREAKING = 2
    BREAKING = 3

    def __str__(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class ChangeKind:
    id: str
    name: str
    change_class: ChangeClass  # the default; type changes are judged per target
    purpose: str


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    change_class: ChangeClass
    item: str  # pv_mmu_ops.alloc_pte, struct desc_ptr, backend xen
    message: str
    old: str | None = None
    new: str | None = None
    targets: dict[str, str] = field(default_factory=dict)  # target -> what happens there
    accepted: str | None = None  # the reason, when accepted.toml accepts it

    @property
    def id(self) -> str:
        return self.kind.id


C, K, S, B = (
    ChangeClass.COSMETIC,
    ChangeClass.COMPATIBLE,
    ChangeClass.SOURCE_BREAKING,
    ChangeClass.BREAKING,
)

KINDS: dict[str, ChangeKind] = {
    k.id: k
    for k in (
        ChangeKind("PV201", "table-removed", B, "A table of the old version is gone."),
        ChangeKind("PV202", "table-added", K, "A new table."),
        ChangeKind("PV203", "member-removed", B, "A hook or data member is gone."),
        ChangeKind("PV204", "member-added", K, "A member added after every existing one."),
        ChangeKind(
            "PV205",
            "slots-shifted",
            B,
            "Members inserted, removed or reordered move later slots: their offsets and patch"
            " IDs change.",
        ),
        ChangeKind(
            "PV206", "member-moved", B, "A member moved to another table (same name, signature)."
        ),
        ChangeKind(
            "PV207",
            "member-renamed",
            S,
            "A member renamed in place (@renamed_from): same slot, new name in source.",
        ),
        ChangeKind("PV208", "return-type-changed", B, "A hook's return type changed."),
        ChangeKind("PV209", "parameter-type-changed", B, "A parameter's type changed."),
        ChangeKind("PV210", "parameters-changed", B, "Parameters were added or removed."),
        ChangeKind("PV211", "parameter-renamed", C, "A parameter has a new name."),
        ChangeKind(
            "PV212",
            "calling-convention-changed",
            B,
            "@callee_save or @callconv changed: callers and callees disagree on registers.",
        ),
        ChangeKind(
            "PV213",
            "patch-site-changed",
            B,
            "The @patch native sequence or clobbers changed: patched call sites differ.",
        ),
        ChangeKind("PV214", "struct-changed", B, "A struct's fields changed."),
        ChangeKind("PV215", "enum-changed", B, "An enum value changed or was removed."),
        ChangeKind("PV216", "typedef-retargeted", B, "A typedef names another type."),
        ChangeKind(
            "PV217",
            "condition-changed",
            B,
            "An @if changed: the member appears or vanishes on some target.",
        ),
        ChangeKind("PV218", "member-deprecated", C, "A member was deprecated."),
        ChangeKind("PV219", "backend-overrides-changed", K, "A backend overrides other hooks."),
        ChangeKind(
            "PV220",
            "embedding-changed",
            B,
            "A member became or stopped being an embedded sub-table.",
        ),
        ChangeKind("PV221", "type-removed", B, "A type of the old version is gone."),
        ChangeKind("PV222", "type-added", K, "A new type."),
        ChangeKind(
            "PV223",
            "version-not-raised",
            B,
            "A breaking change needs a higher ABI version than the old one.",
        ),
    )
}
