"""Report data: what the page shows of one ABI, read from the model and its frozen releases.

Takes: a `model.Abi` (its backends, `Abi.source` for each backend and hook, and per target
the `TargetFacts`: the hooks present, the layouts, the aggregate and patch-template offsets
and the patch IDs), the frozen dumps of its releases with the `Change`s between each two
in a row (from `pvgen.api.diff`), and `pvgen sim --compare --format json` output.
Hands on: plain JSON-ready values for the page: the backend-by-hook matrix (a state code
per hook and backend; presence per target; where each backend runs), each target's layout
of every table, the hook count per table of every release, and the sim's cycles. Every
string from a spec, a dump or a file goes through `escape.plain` here, so the page's script
only has to write it as text. Nothing is laid out or numbered again: the facts are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..escape import plain
from ..layout import DATA_MODELS
from ..model import Abi, Backend, DataSlot, HookSlot, Source, TargetFacts, TypeRef
from ..records import record

if TYPE_CHECKING:
    from ..abi.changes import Change

# The state of a backend's slot for a hook, as the page's script reads it. The first five
# come from the model; the page turns a cell into ABSENT where the hook is not present on
# the chosen target, and OFF where the backend does not run there.
NATIVE = "D"  # the default backend's own implementation
OWN = "O"  # the backend overrides the hook
MUST_PATCH = "M"  # overridden with a value never called: every call site is patched
FALLBACK = "F"  # the default backend's implementation
NULL = "N"  # NULL: callers check, or never call
ABSENT = "A"
OFF = "X"
STATES = {
    NATIVE: "native",
    OWN: "overridden",
    MUST_PATCH: "must-patch",
    FALLBACK: "fallback",
    NULL: "NULL",
    ABSENT: "absent",
    OFF: "not run",
}


class ReportError(Exception):
    """An input of the report that cannot be used; the message names it and says why."""


def _text(value: str | None) -> str:
    return "" if value is None else plain(value)


def signature(slot: HookSlot) -> str:
    hook = slot.hook
    params = ", ".join(f"{p.type.spelling()} {p.name}" for p in hook.params) or "void"
    return plain(f"{hook.returns.spelling()} {hook.name}({params})")


def _flags(slot: HookSlot) -> str:
    hook = slot.hook
    return "".join(
        flag
        for flag, on in (
            ("h", hook.hot),
            ("c", hook.callee_save),
            ("n", hook.nullable),
            ("d", slot.deprecated is not None),
            ("p", hook.patch is not None),
            ("x", hook.no_native is not None),
        )
        if on
    )


def state(abi: Abi, backend: Backend, slot: HookSlot, must_patch: frozenset[str]) -> str:
    """The state code of `backend`'s slot for the hook at `slot`, on every target it has."""
    source = abi.source(backend, slot)
    if source is Source.NULL:
        return NULL
    if backend.default:
        return NATIVE
    if source is Source.DEFAULT:
        return FALLBACK
    return MUST_PATCH if slot.path in must_patch else OWN


def matrix(abi: Abi) -> dict[str, Any]:
    """Targets, backends (with the targets each runs on) and one row per hook of the
    aggregate: path, top-level table, flags, doc, signature, a "1" or "0" per target for
    whether the hook is present there, and a state code per backend."""
    targets = list(abi.facts)
    facts = [abi.facts[name] for name in targets]
    backends = list(abi.backends)
    must_patch = [frozenset(o.path for o in b.must_patch) for b in backends]
    hooks = []
    for slot in abi.hook_slots:
        present = "".join("1" if f.holds(slot) else "0" for f in facts)
        states = "".join(
            state(abi, b, slot, mp) for b, mp in zip(backends, must_patch, strict=True)
        )
        doc = _text(slot.hook.doc)
        hooks.append(
            [slot.path, slot.top.name, _flags(slot), doc, signature(slot), present, states]
        )
    by_target = {t.name: t for t in abi.targets}
    return {
        "targets": [
            {"name": t, "data_model": by_target[t].data_model, "doc": _text(by_target[t].doc)}
            for t in targets
        ],
        "backends": [
            {
                "name": b.name,
                "default": b.default,
                "doc": _text(b.doc),
                "runs": [i for i, t in enumerate(targets) if b.runs_on(by_target[t])],
                "null_fallback": sorted(b.null_fallback),
            }
            for b in backends
        ],
        "hooks": hooks,
    }


def _slot_size(facts: TargetFacts, slot: HookSlot | DataSlot) -> int | None:
    """The bytes of a slot: a pointer for a hook; for a data member, what its type is on
    this target as the model's tables say (None for a type they do not list)."""
    layout = facts.layout
    if isinstance(slot, HookSlot):
        return layout.pointer_size
    ref: TypeRef = slot.data.type
    if ref.pointers:
        return layout.pointer_size
    if ref.builtin:
        if ref.name == "void":
            return None
        return DATA_MODELS[facts.target.data_model].integer(ref.name)[0]
    found = layout.types.get(ref.name)
    return None if found is None else found[0]


def layouts(abi: Abi) -> dict[str, Any]:
    """Per target: the pointer size, the aggregate's and the patch template's size, and for
    every top-level table present there its size, alignment, offset in the aggregate and in
    the patch template, and one row per slot: path below the table, kind, type, the table
    that declares it with its offset there, its offset in the aggregate, size and patch ID."""
    result: dict[str, Any] = {}
    for name, facts in abi.facts.items():
        records = facts.layout.records
        by_top: dict[str, list[list[Any]]] = {}
        for slot in facts.slots:
            owner = slot.owner.name
            kind = "hook" if isinstance(slot, HookSlot) else "data"
            type_text = (
                signature(slot) if isinstance(slot, HookSlot) else plain(slot.data.type.spelling())
            )
            by_top.setdefault(slot.top.name, []).append(
                [
                    plain(".".join(slot.names)),
                    kind,
                    type_text,
                    owner,
                    records[owner].offsets.get(slot.names[-1]),
                    facts.slot_offsets.get(slot.path),
                    _slot_size(facts, slot),
                    facts.patch_ids.get(slot.path),
                ]
            )
        tables = []
        for table, offset in facts.aggregate.offsets.items():
            record = records[table]
            tables.append(
                [
                    table,
                    record.size,
                    record.align,
                    offset,
                    facts.patch_template.offsets.get(table),
                    table in facts.gnu_only,
                    by_top.get(table, []),
                ]
            )
        result[name] = {
            "pointer": facts.layout.pointer_size,
            "aggregate": [facts.aggregate.size, facts.aggregate.align, facts.aggregate_exact],
            "template": [
                facts.patch_template.size,
                facts.patch_template.align,
                facts.patch_template_exact,
                list(facts.patch_template.offsets),
            ],
            "hooks": len(facts.hooks),
            "tables": tables,
        }
    return result


# ---- releases ------------------------------------------------------------------------------


@record
class Release:
    """One frozen version: its number, the root spec it was frozen from, the hooks reached
    from each top-level table (every target's, sub-tables included), in table order."""

    version: int
    source: str
    hooks: Mapping[str, int]


@record
class Step:
    """The changes from one release to the next, as `pvgen diff` reports them."""

    old: Release
    new: Release
    changes: tuple[Change, ...]

    @property
    def anchor(self) -> str:
        return f"diff-{self.old.version}-{self.new.version}"

    @property
    def breaking(self) -> bool:
        from ..abi.changes import ChangeClass

        return any(c.change_class is ChangeClass.BREAKING for c in self.changes)

    @property
    def breaking_accepted(self) -> bool:
        """Whether every breaking change of the step is accepted in accepted.toml."""
        from ..abi.changes import ChangeClass

        found = [c for c in self.changes if c.change_class is ChangeClass.BREAKING]
        return bool(found) and all(c.accepted for c in found)


def hooks_per_table(dump: Mapping[str, Any]) -> dict[str, int]:
    """The hooks each top-level table of a dump reaches through its sub-tables, the union
    over targets (as `count_hooks`), in declaration order; tables without hooks are left out."""
    tables = {t["name"]: t for t in dump["tables"]}
    embedded = {m["table"] for t in dump["tables"] for m in t["members"] if m["kind"] == "subtable"}

    def count(name: str, depth: int) -> int:
        table = tables.get(name)
        if table is None or depth > len(tables):  # a dump of a spec with errors
            return 0
        total = 0
        for member in table["members"]:
            if member["kind"] == "hook":
                total += 1
            elif member["kind"] == "subtable":
                total += count(member["table"], depth + 1)
        return total

    counts = {name: count(name, 0) for name in tables if name not in embedded}
    return {name: n for name, n in counts.items() if n}


def release(dump: Mapping[str, Any]) -> Release:
    try:
        sources = dump.get("sources") or [{"path": ""}]
        return Release(
            int(dump["abi"]["version"]), plain(str(sources[-1]["path"])), hooks_per_table(dump)
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ReportError(
            f"not a dump of the shape pvgen writes ({type(exc).__name__}: {exc})"
        ) from None


def steps(releases: Sequence[Release], changes: Sequence[Sequence[Change]]) -> list[Step]:
    return [
        Step(old, new, tuple(found))
        for old, new, found in zip(releases, releases[1:], changes, strict=False)
    ]


# ---- the simulated guest -------------------------------------------------------------------


@record
class SimTable:
    """Cycles per workload and backend from `pvgen sim --compare --format json`."""

    backends: tuple[str, ...]
    workloads: tuple[str, ...]
    cycles: Mapping[tuple[str, str], int]  # (workload, backend) -> cycles
    relative: Mapping[tuple[str, str], float]
    caption: str


def sim_table(document: object) -> SimTable:
    """Check that `document` is a comparison of `pvgen sim` (format 1) and read its cycles."""
    from ..schemas import SIM_FORMAT

    if not isinstance(document, dict) or "workloads" not in document:
        raise ReportError("it is not the JSON of 'pvgen sim --compare --format json'")
    if document.get("format") != SIM_FORMAT:
        raise ReportError(
            f"its format is {document.get('format')!r}; this pvgen reads format {SIM_FORMAT}"
        )
    backends, workloads = document.get("backends"), document["workloads"]
    if not (isinstance(backends, list) and all(isinstance(b, str) for b in backends)):
        raise ReportError("'backends' is not a list of names")
    if not isinstance(workloads, dict) or not workloads:
        raise ReportError("'workloads' is not an object of workloads")
    cycles: dict[tuple[str, str], int] = {}
    relative: dict[tuple[str, str], float] = {}
    for workload, row in workloads.items():
        for backend in backends:
            cell = row.get(backend) if isinstance(row, dict) else None
            value = cell.get("cycles") if isinstance(cell, dict) else None
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ReportError(
                    f"workload '{plain(workload)}' has no cycles of '{plain(backend)}'"
                )
            rel = cell.get("relative") if isinstance(cell, dict) else None
            cycles[(workload, backend)] = value
            relative[(workload, backend)] = float(rel) if isinstance(rel, int | float) else 0.0
    caption = (
        f"size {document.get('size')}, seed {document.get('seed')},"
        f" target {document.get('target')}"
    )
    return SimTable(tuple(backends), tuple(workloads), cycles, relative, plain(caption))
