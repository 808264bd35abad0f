"""Printer: a canonical dump back to spec text.

Takes: the dict of `dump.abi_to_dict` (from a spec, a frozen dump or a git revision).
Hands on: one `.pvspec` text that declares the same ABI, includes inlined. Compiling
it gives the same dump except for locations and source files, which is how the test
suite proves that dumps lose nothing (the round trip).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

INDENT = "    "


def spec_string(text: str) -> str:
    """`text` as a double-quoted .pvspec string with C escapes."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _doc(doc: str | None, indent: str) -> Iterator[str]:
    if doc:
        for line in doc.split("\n"):
            yield f"{indent}/// {line}".rstrip()


def _common(element: dict[str, Any]) -> list[str]:
    """Annotations every element may carry: @if, @since, @allow."""
    found = []
    if element.get("if"):
        found.append(f"@if({element['if']})")
    if element.get("since", 1) != 1:
        found.append(f"@since({element['since']})")
    for allow in element.get("allow", []):
        found.append(f"@allow({allow['code']}, reason = {spec_string(allow['reason'])})")
    return found


def _member_annotations(member: dict[str, Any]) -> list[str]:
    found = _common(member)
    if member.get("renamed_from"):
        found.append(f"@renamed_from({member['renamed_from']})")
    deprecated = member.get("deprecated")
    if deprecated:
        args = []
        if deprecated.get("since") is not None:
            args.append(f"since = {deprecated['since']}")
        if deprecated.get("use"):
            args.append(f"use = {deprecated['use']}")
        if deprecated.get("reason"):
            args.append(f"reason = {spec_string(deprecated['reason'])}")
        found.append(f"@deprecated({', '.join(args)})")
    if member.get("kind") != "hook":
        return found
    flags = [
        ("callee_save", "@callee_save"),
        ("batched", "@batched"),
        ("low_level", "@low_level"),
        ("nullable", "@nullable"),
    ]
    found += [text for key, text in flags if member.get(key)]
    if member.get("callconv"):
        found.append(f"@callconv({member['callconv']})")
    if member.get("hot"):
        callsites = member.get("callsites")
        found.append("@hot" if callsites is None else f"@hot(callsites = {callsites})")
    patch = member.get("patch")
    if patch:
        clobbers = f", clobbers = {spec_string(patch['clobbers'])}" if patch.get("clobbers") else ""
        found.append(f"@patch(native = {spec_string(patch['native'])}{clobbers})")
    for key in ("no_native", "backend_specific"):
        if member.get(key) is not None:
            found.append(f"@{key}(reason = {spec_string(member[key])})")
    return found


def _with_annotations(indent: str, annotations: list[str], declaration: str) -> Iterator[str]:
    if annotations:
        yield indent + " ".join(annotations)
    yield indent + declaration


def _abi(dump: dict[str, Any]) -> Iterator[str]:
    abi = dump["abi"]
    yield from _doc(abi.get("doc"), "")
    for allow in abi.get("allow", []):
        yield f"@allow({allow['code']}, reason = {spec_string(allow['reason'])})"
    yield f"abi {abi['name']} {{"
    yield f"{INDENT}version {abi['version']};"
    yield f"{INDENT}stability {abi['stability']};"
    for key in ("budget", "low_level_budget"):
        if abi.get(key) is not None:
            yield f"{INDENT}{key} {abi[key]};"
    if abi.get("patch_template") is not None:
        yield f"{INDENT}patch_template {', '.join(abi['patch_template'])};"
    yield "}"


def _targets(dump: dict[str, Any]) -> Iterator[str]:
    for target in dump["targets"]:
        yield ""
        yield from _doc(target.get("doc"), "")
        defines = [
            name if value is True else f"{name} = {value}"
            for name, value in target["defines"].items()
        ]
        body = f"data_model {target['data_model']};"
        if defines:
            body += f" defines {', '.join(defines)};"
        yield f"target {target['name']} {{ {body} }}"


def _types(dump: dict[str, Any]) -> Iterator[str]:
    for t in dump["types"]:
        yield ""
        yield from _doc(t.get("doc"), "")
        annotations = _common(t)
        if t["kind"] == "typedef":
            yield from _with_annotations("", annotations, f"typedef {t['target']} {t['name']};")
        elif t["kind"] == "opaque":
            yield from _with_annotations("", annotations, f"opaque struct {t['name']};")
        elif t["kind"] == "struct":
            flags = [f for f in ("packed", "shared") if t.get(f)]
            annotations = [f"@{f}" for f in flags] + annotations
            yield from _with_annotations("", annotations, f"struct {t['name']} {{")
            for f in t["fields"]:
                yield from _doc(f.get("doc"), INDENT)
                yield from _with_annotations(INDENT, _common(f), f"{f['type']} {f['name']};")
            yield "}"
        else:
            yield from _with_annotations(
                "", annotations, f"enum {t['name']} : {t['underlying']} {{"
            )
            for v in t["values"]:
                yield from _doc(v.get("doc"), INDENT)
                yield from _with_annotations(INDENT, _common(v), f"{v['name']} = {v['value']},")
            yield "}"


def _member(member: dict[str, Any]) -> str:
    if member["kind"] == "hook":
        params = ", ".join(f"{p['type']} {p['name']}" for p in member["params"])
        return f"{member['returns']} {member['name']}({params});"
    if member["kind"] == "data":
        return f"{member['type']} {member['name']};"
    return f"{member['table']} {member['name']};"


def _tables(dump: dict[str, Any]) -> Iterator[str]:
    for table in dump["tables"]:
        yield ""
        yield from _doc(table.get("doc"), "")
        annotations = _member_annotations({**table, "kind": "table"})
        if table.get("budget") is not None:
            annotations.append(f"@budget({table['budget']})")
        yield from _with_annotations("", annotations, f"table {table['name']} {{")
        for member in table["members"]:
            yield from _doc(member.get("doc"), INDENT)
            yield from _with_annotations(INDENT, _member_annotations(member), _member(member))
        yield "}"


def _backends(dump: dict[str, Any]) -> Iterator[str]:
    for backend in dump["backends"]:
        yield ""
        yield from _doc(backend.get("doc"), "")
        if backend["default"]:
            yield f"backend {backend['name']} default;"
            continue
        by_table: dict[str, list[str]] = {}
        for path in backend["overrides"]:
            table, _, member = path.partition(".")
            by_table.setdefault(table, []).append(member)
        annotations = [f"@if({backend['if']})"] if backend.get("if") else []
        annotations += [f"@must_patch({path})" for path in backend.get("must_patch", [])]
        null = set(backend.get("null_fallback", []))
        unlisted = [t for t in _top_tables(dump) if t not in by_table]
        # The backend-wide fallback covers the tables it lists nothing of; an entry says
        # where its table differs.
        none_overall = bool(null) and (not unlisted or any(t in null for t in unlisted))
        if none_overall:
            annotations.append("@fallback(none)")
        yield from _with_annotations("", annotations, f"backend {backend['name']} {{")
        for table, members in by_table.items():
            mark = ""
            if (table in null) != none_overall:
                mark = "@fallback(none) " if table in null else f"@fallback({_default(dump)}) "
            yield f"{INDENT}{mark}{table}: {', '.join(members)};"
        yield "}"


def _top_tables(dump: dict[str, Any]) -> list[str]:
    embedded = {
        m["table"] for t in dump["tables"] for m in t["members"] if m.get("kind") == "subtable"
    }
    return [t["name"] for t in dump["tables"] if t["name"] not in embedded]


def _default(dump: dict[str, Any]) -> str:
    return next((b["name"] for b in dump["backends"] if b["default"]), "native")


def print_spec(dump: dict[str, Any]) -> str:
    lines = [*_abi(dump), *_targets(dump), *_types(dump), *_tables(dump), *_backends(dump)]
    return "\n".join(lines) + "\n"
