"""Dump: the model as canonical JSON.

Takes: a `model.Abi`.
Hands on: a JSON-ready dict (sorted keys, no spans but `loc` strings relative
to the spec root) and its text. The same text always comes from the same
specs, wherever they are checked out; golden tests and tools read it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from . import conditions as cond
from . import model as m

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
        "records": {
            n: {"size": r.size, "align": r.align, "offsets": dict(r.offsets)}
            for n, r in layout.records.items()
        },
    }


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


def abi_to_dict(abi: m.Abi) -> dict[str, Any]:
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
        "types": [_type_decl(t) for t in abi.types],
        "tables": [
            {
                **_element(t),
                "budget": t.budget,
                "renamed_from": t.renamed_from,
                "deprecated": _deprecation(t.deprecated),
                "members": [_member(mb) for mb in t.members],
            }
            for t in abi.tables
        ],
        "backends": [_backend(b) for b in abi.backends],
        "layouts": {name: _layout(facts) for name, facts in abi.facts.items()},
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
