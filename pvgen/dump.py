"""Dump: the model as canonical JSON.

Takes: a `model.Abi`.
Hands on: a JSON-ready dict (sorted keys, no spans but `loc` strings relative
to the spec root) and its text. The same text always comes from the same
specs, wherever they are checked out; golden tests and tools read it.

It also computes the fingerprint of every table: `table_fingerprints` from a dump (any
dump, frozen releases included), `fingerprints` from a model (the same function over the
same dump elements, once per model), which the generated C and Python define: 64 bits of
a hash of what a consumer built against the table depends on, as genksyms' CRCs are for
exported symbols (docs/releases.md, "Table fingerprints"). The dump itself does not carry
them: a frozen release stays byte for byte what `pvgen dump` writes for its spec, and the
fingerprints of any release are computed from its dump.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

from . import conditions as cond
from . import model as m
from .digest import sha256

FORMAT_VERSION = 1


def _condition(c: cond.Cond | None) -> str | None:
    return None if c is None else cond.render(c)


def _type(t: m.TypeRef) -> str:
    return t.spelling()


def _element(e: m.Element) -> dict[str, Any]:
    return {
        "name": e.name,
        "doc": e.doc,
        "if": _condition(e.condition),
        "since": e.since,
        "allow": [{"code": a.code, "reason": a.reason} for a in e.allows],
        "loc": e.span.relative_location,
    }


def _deprecation(d: m.Deprecation | None) -> dict[str, Any] | None:
    return None if d is None else {"since": d.since, "use": d.use, "reason": d.reason}


def _type_decl(t: m.TypeDecl) -> dict[str, Any]:
    out = _element(t)
    if isinstance(t, m.Typedef):
        out.update(kind="typedef", target=_type(t.target))
    elif isinstance(t, m.Opaque):
        out.update(kind="opaque")
    elif isinstance(t, m.Struct):
        out.update(
            kind="struct",
            packed=t.packed,
            shared=t.shared,
            fields=[{**_element(f), "type": _type(f.type)} for f in t.fields],
        )
    else:
        out.update(
            kind="enum",
            underlying=_type(t.underlying),
            values=[{**_element(v), "value": v.value} for v in t.values],
        )
    return out


def _member(mb: m.TableMember) -> dict[str, Any]:
    out = _element(mb)
    out.update(renamed_from=mb.renamed_from, deprecated=_deprecation(mb.deprecated))
    if isinstance(mb, m.Hook):
        out.update(
            kind="hook",
            returns=_type(mb.returns),
            params=[{"name": p.name, "type": _type(p.type)} for p in mb.params],
            callee_save=mb.callee_save,
            hot=mb.hot,
            callsites=mb.callsites,
            patch=(
                None
                if mb.patch is None
                else {"native": mb.patch.native, "clobbers": mb.patch.clobbers}
            ),
            batched=mb.batched,
            low_level=mb.low_level,
            no_native=mb.no_native,
            backend_specific=mb.backend_specific,
        )
        if mb.callconv is not None:  # only when set, so that older dumps stay valid
            out["callconv"] = mb.callconv
        if mb.nullable:  # likewise
            out["nullable"] = True
    elif isinstance(mb, m.DataMember):
        out.update(kind="data", type=_type(mb.type))
    else:
        out.update(kind="subtable", table=mb.table)
    return out


def _backend(b: m.Backend) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": b.name,
        "default": b.default,
        "doc": b.doc,
        "overrides": [o.path for o in b.overrides],
        "loc": b.span.relative_location,
    }
    # Each only when set, so that the dumps of specs without them stay as they were.
    if b.condition is not None:
        out["if"] = _condition(b.condition)
    if b.null_fallback:
        out["null_fallback"] = sorted(b.null_fallback)
    if b.must_patch:
        out["must_patch"] = [o.path for o in b.must_patch]
    return out


def _layout(facts: m.TargetFacts) -> dict[str, Any]:
    layout = facts.layout
    return {
        "pointer_size": layout.pointer_size,
        "hooks": len(facts.hooks),  # those a kernel built for the target has
        "types": {n: {"size": s, "align": a} for n, (s, a) in layout.types.items()},
        "records": {n: _record(r) for n, r in layout.records.items()},
    }


def _record(r: m.RecordLayout) -> dict[str, Any]:
    return {"size": r.size, "align": r.align, "offsets": dict(r.offsets)}


def _abi(abi: m.Abi) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": abi.name,
        "version": abi.version,
        "stability": abi.stability.value,
        "budget": abi.budget,
        "low_level_budget": abi.low_level_budget,
        "doc": abi.doc,
        "allow": [{"code": a.code, "reason": a.reason} for a in abi.allows],
    }
    if abi.patch_template is not None:  # only when set, so that older dumps stay valid
        out["patch_template"] = list(abi.patch_template)
    return out


# ---- table fingerprints -------------------------------------------------------------------

# Words of a C type spelling that are not names of declared types.
_C_WORDS = frozenset(
    "struct union enum const volatile signed unsigned char short int long void bool".split()
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _type_names(spelling: str) -> list[str]:
    return [w for w in _IDENTIFIER.findall(spelling) if w not in _C_WORDS]


def table_type_names(table: Mapping[str, Any]) -> set[str]:
    """The names of declared types that the members of a dumped table spell."""
    names: set[str] = set()
    for member in table["members"]:
        if member["kind"] == "hook":
            spellings = [member["returns"], *(p["type"] for p in member["params"])]
        elif member["kind"] == "data":
            spellings = [member["type"]]
        else:
            continue
        for spelling in spellings:
            names.update(_type_names(spelling))
    return names


def _member_shape(member: Mapping[str, Any], subtables: Mapping[str, str]) -> list[Any]:
    """What a consumer of a member depends on (no docs, locations or parameter names)."""
    kind = member["kind"]
    if kind == "hook":
        patch = member.get("patch")
        return [
            "hook",
            member["name"],
            member["returns"],
            [p["type"] for p in member["params"]],
            member.get("callconv"),
            bool(member.get("callee_save")),
            None if patch is None else patch.get("clobbers"),
        ]
    if kind == "data":
        return ["data", member["name"], member["type"]]
    return ["table", member["name"], subtables.get(member["table"])]


def table_fingerprints(dump: Mapping[str, Any]) -> dict[str, str]:
    """Each table's fingerprint, `0x` and 16 hex digits, from a canonical dump.

    The hash (SHA-256, its first 8 bytes) is over the canonical JSON of: the table's name;
    its members in order, each with its kind, name, and for a hook the C spelling of its
    return and parameter types, its calling convention, whether it is callee-save and the
    clobbers of its patch; for a data member its type; for a subtable that table's own
    fingerprint; then per target of the dump (name, data model): the table's size,
    alignment and member offsets there, and the size, alignment and field offsets of every
    declared type the members' spellings name. Docs, locations, since-versions,
    deprecations, parameter names and hints (`@hot`) are left out: nothing compiled
    depends on them.
    """
    tables = {t["name"]: t for t in dump["tables"]}
    layouts = dump["layouts"]

    def layout(target: str, kind: str, name: str) -> Any:
        return layouts.get(target, {}).get(kind, {}).get(name)

    targets = [(t["name"], t["data_model"]) for t in dump["targets"]]
    return _fingerprints(list(tables), tables.__getitem__, targets, layout)


def _fingerprints(
    names: Sequence[str],
    table: Callable[[str], Mapping[str, Any]],
    targets: Sequence[tuple[str, str]],
    layout: Callable[[str, str, str], Any],
) -> dict[str, str]:
    """`table_fingerprints` over the tables `names`: `table(name)` is a table as the dump
    has it, `layout(target, "records" or "types", name)` an entry of a target's layout
    (None where there is none). Each is asked for when needed, so that a model's tables
    need not be dumped all at once."""
    known = set(names)
    done: dict[str, str] = {}

    def fingerprint(name: str, seen: tuple[str, ...] = ()) -> str:
        if name in done:
            return done[name]
        dumped = table(name)
        subtables = {
            mb["table"]: fingerprint(mb["table"], (*seen, name))
            for mb in dumped["members"]
            if mb["kind"] == "subtable" and mb["table"] in known and mb["table"] not in seen
        }
        members = [_member_shape(mb, subtables) for mb in dumped["members"]]
        types = sorted(table_type_names(dumped))
        per_target = [
            [
                target,
                data_model,
                layout(target, "records", name),
                {n: [layout(target, "types", n), layout(target, "records", n)] for n in types},
            ]
            for target, data_model in targets
        ]
        text = json.dumps([name, members, per_target], sort_keys=True, separators=(",", ":"))
        done[name] = "0x" + sha256(text.encode()).digest()[:8].hex()
        return done[name]

    return {name: fingerprint(name) for name in names}


_FINGERPRINTS: weakref.WeakKeyDictionary[m.Abi, dict[str, str]] = weakref.WeakKeyDictionary()


def fingerprints(abi: m.Abi) -> dict[str, str]:
    """Each table's fingerprint (`table_fingerprints`), computed once per model, from one
    table's dump at a time."""
    found = _FINGERPRINTS.get(abi)
    if found is None:
        by_name = abi.tables_by_name
        layouts = {name: facts.layout for name, facts in abi.facts.items()}

        def table(name: str) -> dict[str, Any]:
            return {"name": name, "members": [_member(mb) for mb in by_name[name].members]}

        def layout(target: str, kind: str, name: str) -> Any:
            if kind == "types":
                found = layouts[target].types.get(name)
                return None if found is None else {"size": found[0], "align": found[1]}
            record = layouts[target].records.get(name)
            return None if record is None else _record(record)

        targets = [(t.name, t.data_model) for t in abi.targets]
        found = _fingerprints([t.name for t in abi.tables], table, targets, layout)
        _FINGERPRINTS[abi] = found
    return found


def abi_to_dict(abi: m.Abi) -> dict[str, Any]:
    return {
        key: list(value) if isinstance(value, Iterator) else value
        for key, value in dump_sections(abi).items()
    }


def dump_sections(abi: m.Abi) -> dict[str, Any]:
    """The dump's top-level entries; the long lists (types, tables, backends) as iterators
    that make each element when it is asked for, so that a writer can hold one at a time."""
    return {
        "format": FORMAT_VERSION,
        "abi": _abi(abi),
        "sources": [{"path": s.path, "sha256": s.sha256} for s in abi.sources],
        "targets": [
            {
                "name": t.name,
                "data_model": t.data_model,
                "defines": dict(t.defines),
                "doc": t.doc,
                "loc": t.span.relative_location,
            }
            for t in abi.targets
        ],
        "types": map(_type_decl, abi.types),
        "tables": map(_table, abi.tables),
        "backends": map(_backend, abi.backends),
        "layouts": {name: _layout(facts) for name, facts in abi.facts.items()},
    }


def _table(t: m.Table) -> dict[str, Any]:
    return {
        **_element(t),
        "budget": t.budget,
        "renamed_from": t.renamed_from,
        "deprecated": _deprecation(t.deprecated),
        "members": [_member(mb) for mb in t.members],
    }


def dump_json(abi: m.Abi) -> str:
    return pretty_json(abi_to_dict(abi)) + "\n"


def pretty_json(value: object) -> str:
    """The text of `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`.

    The standard library writes indented JSON with its pure-Python encoder (its C
    encoder only does compact output), which took a third of the time of generating a
    10,000-hook ABI; this writes the same text with the C string encoder, a few times
    faster. A test holds the two to the same output.
    """
    out: list[str] = []
    _pretty(value, "\n", out)
    return "".join(out)


_ENCODE_STRING = json.encoder.encode_basestring  # the C version where CPython has it


_LITERALS: dict[object, str] = {None: "null", True: "true", False: "false"}


def _scalar(value: object) -> str | None:
    """The JSON of a string, integer, boolean or null; None for anything else."""
    # Exact types only: a subclass (an IntEnum, say) goes the standard encoder's way.
    kind = type(value)
    if kind is str:
        return _ENCODE_STRING(cast(str, value))
    if kind is int:
        return int.__repr__(cast(int, value))
    if value is None or kind is bool:
        return _LITERALS[value]
    return None


def pretty_into(value: object, newline: str, out: list[str]) -> None:
    """`value`'s indented JSON (as `pretty_json`), its lines starting with `newline`,
    appended to `out` in pieces."""
    _pretty(value, newline, out)


def _pretty(value: object, newline: str, out: list[str]) -> None:
    text = _scalar(value)
    if text is not None:
        out.append(text)
    elif isinstance(value, dict):
        entries = sorted(value.items())
        heads = [_ENCODE_STRING(_json_key(key)) + ": " for key, _ in entries]
        _container("{}", heads, [item for _, item in entries], newline, out)
    elif isinstance(value, list | tuple):
        _container("[]", [""] * len(value), value, newline, out)
    else:  # floats, subclasses of str or int: as the standard encoder writes them
        out.append(json.dumps(value, ensure_ascii=False))


def _container(
    brackets: str, heads: list[str], items: Sequence[object], newline: str, out: list[str]
) -> None:
    """An object or array: each item on a line of its own after its head (a key or nothing)."""
    if not items:
        out.append(brackets)
        return
    inner = newline + "  "
    separator = brackets[0] + inner
    for head, item in zip(heads, items, strict=True):
        leaf = _scalar(item)
        if leaf is not None:
            out.append(separator + head + leaf)
        else:
            out.append(separator + head)
            _pretty(item, inner, out)
        separator = "," + inner
    out.append(newline + brackets[1])


def _json_key(key: object) -> str:
    if isinstance(key, str):
        return key
    return json.dumps(key) if key is None or isinstance(key, bool) else str(key)
