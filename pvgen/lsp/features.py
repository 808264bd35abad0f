"""Features: the answer to each editor request, from a compile and a position.

Takes: a `Snapshot` and its `Index`, a file (its resolved path) and a 1-based line and
column (pvgen's own positions; the server converts the protocol's).
Hands on: plain data: hover text (Markdown), the places of a definition or of every
reference, completion items for the context at the cursor (annotations, types, tables and
members in backend blocks, target defines in `@if`), the outline of a file, and quick
fixes (a did-you-mean replacement, an `@allow` above the finding's declaration). Nothing
here knows the protocol.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import annotations as ann
from .. import model as m
from .. import syntax as syn
from ..conditions import render
from ..diagnostics import Diagnostic
from ..layout import BUILTIN_TYPES, DATA_MODELS, INTEGER_TYPES
from ..records import record
from ..rules import all_rules
from ..rules.suppress import META_RULES
from ..source import SourceFile, Span
from .analysis import Snapshot, span_path
from .index import (
    ABI,
    BACKEND,
    DEFINE,
    FILE,
    MEMBER,
    TARGET,
    TYPE,
    Index,
    Occurrence,
    body_start,
    declaration_end,
    declaration_start,
    declaration_text,
    find_word,
    offset,
    span_at,
    walk_declarations,
)


@record
class Place:
    """A range in a file: 1-based lines and columns, the end column just after the range."""

    path: Path
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def of(cls, path: Path, span: Span) -> Place:
        return cls(path, span.line, span.column, span.end_line, span.end_column)


# ---- hover --------------------------------------------------------------------------------


def hover(
    snapshot: Snapshot, index: Index, path: Path, line: int, column: int
) -> tuple[str, Place] | None:
    """Markdown about the name at a position, and the range of that name."""
    at = index.at(path, line, column)
    if at is None:
        return None
    text = _hover_text(snapshot, index, at)
    return None if text is None else (text, Place.of(at.path, at.span))


def _hover_text(snapshot: Snapshot, index: Index, at: Occurrence) -> str | None:
    kind, name = at.symbol.kind, at.symbol.name
    abi = snapshot.abi
    if kind == FILE:
        return f"Included spec file `{_md(name)}`"
    if kind == DEFINE:
        defined = index.defines.get(name, [])
        if not defined:
            return f"`{name}`: defined by no target"
        rows = ", ".join(f"{t}" + ("" if v is True else f" (= {v})") for t, v in defined)
        return f"Target define `{name}`, set by: {rows}"
    if abi is None:  # the spec has errors: what the syntax alone says
        return _syntax_hover(index, at)
    if kind == MEMBER:
        table_name, _, member_name = name.partition(".")
        table = abi.tables_by_name.get(table_name)
        if table is None:
            return None
        members = table.members_by_name.get(member_name, ())
        if at.definition:
            members = tuple(mb for mb in members if _same_place(mb.span, at)) or members
        return "\n\n---\n\n".join(_member_hover(index, abi, table, mb) for mb in members) or None
    if kind == TYPE:
        table = abi.tables_by_name.get(name)
        if table is not None:
            return _table_hover(abi, table)
        decls = abi.types_by_name.get(name, ())
        if at.definition:
            decls = tuple(d for d in decls if _same_place(d.span, at)) or decls
        return "\n\n---\n\n".join(_type_hover(abi, d) for d in decls) or None
    if kind == BACKEND:
        backend = next((b for b in abi.backends if b.name == name), None)
        return None if backend is None else _backend_hover(abi, backend)
    if kind == TARGET:
        target = next((t for t in abi.targets if t.name == name), None)
        if target is None:
            return None
        defines = ", ".join(k if v is True else f"{k} = {v}" for k, v in target.defines.items())
        return _join(
            _code(f"target {target.name}"),
            _doc(target.doc),
            f"Data model `{target.data_model}`; defines: {defines or 'none'}",
        )
    if kind == ABI:
        return _join(
            _code(f"abi {abi.name}"),
            _doc(abi.doc),
            f"Version {abi.version}, {abi.stability.value}; {len(abi.hook_slots)} hooks,"
            f" {len(abi.tables)} tables, {len(abi.backends)} backends, {len(abi.targets)} targets",
        )
    return None


def _syntax_hover(index: Index, at: Occurrence) -> str | None:
    kind, name = at.symbol.kind, at.symbol.name
    if kind == MEMBER:
        table, _, member = name.partition(".")
        info = next((i for i in index.members.get(table, []) if i.name == member), None)
        return None if info is None else _code(info.detail) + "\n\n(the spec has errors)"
    if kind == TYPE and name in index.types:
        return _code(f"{index.types[name]} {name}") + "\n\n(the spec has errors)"
    return None


def _same_place(span: Span, at: Occurrence) -> bool:
    return (
        span_path(span) == at.path and span.line == at.span.line and span.column == at.span.column
    )


def _member_hover(index: Index, abi: m.Abi, table: m.Table, member: m.TableMember) -> str:
    decl = index.member_decls.get((span_path(member.span), member.span.line, member.span.column))
    signature = declaration_text(decl) if decl is not None else member.name
    facts: list[str] = [f"**{table.name}.{member.name}**", f"since version {member.since}"]
    if member.condition is not None:
        facts.append(f"`@if({_md(render(member.condition))})`")
    if isinstance(member, m.Hook):
        facts += [f"`@{flag}`" for flag in _hook_flags(member)]
    parts = [_code(signature), _doc(member.doc), " · ".join(facts)]
    if member.deprecated is not None:
        d = member.deprecated
        text = "**Deprecated**" + (f" since version {d.since}" if d.since is not None else "")
        if d.use:
            text += f"; use `{_md(d.use)}`"
        if d.reason:
            text += f": {_md(d.reason)}"
        parts.append(text)
    if member.renamed_from:
        parts.append(f"Renamed from `{member.renamed_from}`")
    slots = [s for s in abi.slots if s.member is member]
    for slot in slots:
        parts.append(_slot_table(abi, slot, len(slots) > 1))
    return _join(*parts)


def _hook_flags(hook: m.Hook) -> list[str]:
    flags = []
    if hook.callee_save:
        flags.append("callee_save")
    if hook.hot:
        flags.append("hot" + (f"(callsites = {hook.callsites})" if hook.callsites else ""))
    if hook.patch is not None:
        flags.append(f'patch(native = "{_md(hook.patch.native)}")')
    for name, on in (
        ("batched", hook.batched),
        ("low_level", hook.low_level),
        ("nullable", hook.nullable),
    ):
        if on:
            flags.append(name)
    if hook.no_native is not None:
        flags.append("no_native")
    return flags


def _slot_table(abi: m.Abi, slot: m.HookSlot | m.DataSlot, named: bool) -> str:
    lines = [f"`{slot.path}`:"] if named else []
    lines += ["| target | offset | size | patch ID |", "|---|---|---|---|"]
    for target in abi.targets:
        facts = abi.facts[target.name]
        if not facts.holds(slot):
            lines.append(f"| {target.name} | absent | | |")
            continue
        where = facts.slot_offsets[slot.path]
        if isinstance(slot, m.HookSlot):
            size = str(facts.layout.pointer_size)
        else:
            size = _size(facts, slot.data.type)
        patch_id = facts.patch_ids.get(slot.path)
        shown = "" if patch_id is None else str(patch_id)
        lines.append(f"| {target.name} | {where} | {size} | {shown} |")
    table = "\n".join(lines)
    own = [b.name for b in abi.backends if not b.default and slot.path in b.listed]
    null = [b.name for b in abi.backends if abi.source(b, slot) is m.Source.NULL]
    default = abi.default_backend
    notes = [f"Overridden by: {', '.join(own) if own else 'no backend'}"]
    if default is not None:
        notes[0] += f" (else `{default.name}`, the default)"
    if null:
        notes.append(f"NULL under: {', '.join(null)}")
    return table + "\n\n" + "; ".join(notes)


def _size(facts: m.TargetFacts, ref: m.TypeRef) -> str:
    if ref.pointers:
        return str(facts.layout.pointer_size)
    found = facts.layout.types.get(ref.name)
    if found is not None:
        return str(found[0])
    if ref.name in INTEGER_TYPES:
        return str(DATA_MODELS[facts.target.data_model].integer(ref.name)[0])
    return ""


def _table_hover(abi: m.Abi, table: m.Table) -> str:
    hooks = sum(1 for _ in abi.hooks(table))
    lines = ["| target | size | offset in the aggregate |", "|---|---|---|"]
    for target in abi.targets:
        facts = abi.facts[target.name]
        record = facts.layout.records.get(table.name)
        if record is None:
            lines.append(f"| {target.name} | absent | |")
            continue
        where = facts.aggregate.offsets.get(table.name)
        lines.append(f"| {target.name} | {record.size} | {'' if where is None else where} |")
    facts_line = [f"**{table.name}**", f"{hooks} hooks", f"since version {table.since}"]
    if table.budget is not None:
        facts_line.append(f"budget {table.budget}")
    return _join(
        _code(f"table {table.name}"), _doc(table.doc), " · ".join(facts_line), "\n".join(lines)
    )


def _type_hover(abi: m.Abi, decl: m.TypeDecl) -> str:
    if isinstance(decl, m.Typedef):
        head = f"typedef {decl.target} {decl.name}"
    elif isinstance(decl, m.Opaque):
        head = f"opaque struct {decl.name}"
    elif isinstance(decl, m.Enum):
        head = f"enum {decl.name} : {decl.underlying}"
    else:
        head = f"struct {decl.name}"
    lines = ["| target | size | align |", "|---|---|---|"]
    for target in abi.targets:
        facts = abi.facts[target.name]
        present = facts.present.get(decl.name) is decl
        found = facts.layout.types.get(decl.name) if present else None
        if not present:
            lines.append(f"| {target.name} | absent | |")
        elif found is None:
            lines.append(f"| {target.name} | (no size) | |")
        else:
            lines.append(f"| {target.name} | {found[0]} | {found[1]} |")
    condition = f"`@if({_md(render(decl.condition))})`" if decl.condition is not None else ""
    return _join(_code(head), _doc(decl.doc), condition, "\n".join(lines))


def _backend_hover(abi: m.Abi, backend: m.Backend) -> str:
    runs = [t.name for t in abi.targets if backend.runs_on(t)]
    facts = [f"runs on: {', '.join(runs) or 'no target'}"]
    if backend.default:
        facts.append("the default backend")
    else:
        facts.append(f"implements {len(backend.overrides)} members")
    if backend.null_fallback:
        facts.append("leaves unlisted members NULL in " + ", ".join(sorted(backend.null_fallback)))
    if backend.must_patch:
        facts.append("must patch " + ", ".join(o.path for o in backend.must_patch))
    return _join(_code(f"backend {backend.name}"), _doc(backend.doc), "; ".join(facts))


def _md(text: str) -> str:
    """Text from a spec made inert in Markdown: no HTML, no code span broken out of."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("`", "'")
        .replace("\n", " ")
    )


def _doc(doc: str | None) -> str:
    if not doc:
        return ""
    return "\n\n".join(_md(p).replace("*", "\\*").replace("_", "\\_") for p in doc.split("\n\n"))


def _code(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}pvspec\n{text}\n{fence}"


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


# ---- definition and references ------------------------------------------------------------


def definition(index: Index, path: Path, line: int, column: int) -> list[Place]:
    at = index.at(path, line, column)
    if at is None:
        return []
    if at.symbol.kind == FILE:
        return [Place(Path(at.symbol.name), 1, 1, 1, 1)]
    return [Place.of(o.path, o.span) for o in index.of(at.symbol) if o.definition]


def references(
    indexes: Sequence[Index], path: Path, line: int, column: int, include_declaration: bool
) -> list[Place]:
    """Every use of the name at a position, across the compiles that read the file."""
    found: dict[tuple[Path, int, int], Place] = {}
    for index in indexes:
        at = index.at(path, line, column)
        if at is None:
            continue
        for o in index.of(at.symbol):
            if o.definition and not include_declaration:
                continue
            found.setdefault((o.path, o.span.line, o.span.column), Place.of(o.path, o.span))
    return sorted(found.values(), key=lambda p: (str(p.path), p.line, p.column))


# ---- completion ---------------------------------------------------------------------------


@record
class Item:
    label: str
    kind: str  # "annotation", "type", "table", "member", "define", "backend", "keyword"
    detail: str = ""
    documentation: str = ""
    insert: str | None = None  # a snippet, when the client takes snippets


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_BLOCK_KINDS = ("abi", "target", "table", "struct", "enum", "backend")
TOP_KEYWORDS = (
    "abi",
    "target",
    "include",
    "typedef",
    "struct",
    "opaque",
    "enum",
    "table",
    "backend",
)
_KIND_OF_BLOCK = {
    "table": ann.MEMBERS,
    "struct": frozenset({ann.FIELD}),
    "enum": frozenset({ann.ENUMERATOR}),
    "backend": frozenset({ann.BACKEND_ENTRY}),
}
_TOP_KINDS = ann.TYPES | {ann.TABLE, ann.BACKEND, ann.ABI}


def blank_comments_and_strings(text: str) -> str:
    """`text` with every comment and the inside of every string replaced by blanks (line
    ends kept), so that braces and parentheses can be counted."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out[i:end] = " " * (end - i)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out[i:end] = ["\n" if ch == "\n" else " " for ch in text[i:end]]
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            out[i + 1 : min(j, n)] = " " * (min(j, n) - i - 1)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def completion(
    index: Index | None, text: str, line: int, column: int, snippets: bool
) -> list[Item]:
    """What may be written at a position of a document's current text."""
    lines = text.split("\n")
    before = "\n".join(
        lines[: line - 1] + [lines[line - 1][: column - 1] if line <= len(lines) else ""]
    )
    clean = blank_comments_and_strings(before)
    word = _WORD.search(clean)
    prefix_start = word.start() if word else len(clean)
    head = clean[:prefix_start]
    block, statement = _block_and_statement(head)
    open_annotation = _open_annotation(statement)
    if head.endswith("@"):
        kinds = _KIND_OF_BLOCK.get(block or "", _TOP_KINDS if block is None else frozenset())
        return _annotation_items(kinds, snippets)
    if open_annotation is not None:
        name, inside = open_annotation
        if name == "if":
            return _define_items(index)
        if name == "fallback" and index is not None:
            return [Item("none", "keyword", "unlisted members are NULL")] + [
                Item(b, "backend", "backend") for b in index.backends
            ]
        if name == "must_patch" or (
            name == "deprecated" and re.search(r"use\s*=\s*[\w.]*$", inside)
        ):
            return _path_items(index, inside)
        return []
    if index is None:
        index = Index()
    body = _strip_annotations(statement).strip()
    if block == "backend":
        if ":" in body:
            table = body.split(":", 1)[0].strip()
            after = re.split(r"[:,]", body)[-1]
            return _member_items(index, table, after.strip())
        return [Item(t, "table", "table") for t in index.top_level_tables]
    if block in ("table", "struct") or (
        block is None and re.fullmatch(r"typedef(\s+const)?", body)
    ):
        return _type_position(index, body, block == "table")
    if block is None and body == "":
        return [Item(k, "keyword", "declaration") for k in TOP_KEYWORDS]
    return []


def _block_and_statement(head: str) -> tuple[str | None, str]:
    """The kind of the innermost open block (`table`, `backend`, ...; None at the top level)
    and the text of the statement being written in it."""
    block: str | None = None
    start = 0
    for i, c in enumerate(head):
        if c == "{":
            words = _strip_annotations(head[start:i]).split()
            block = next((w for w in words if w in _BLOCK_KINDS), None)
            start = i + 1
        elif c == "}":
            block = None
            start = i + 1
        elif c == ";":
            start = i + 1
    return block, head[start:]


def _open_annotation(statement: str) -> tuple[str, str] | None:
    """The annotation whose parentheses are open at the end of `statement`, with the text
    written inside them so far."""
    for match in reversed(list(re.finditer(r"@([A-Za-z_]\w*)\s*\(", statement))):
        depth = 0
        for c in statement[match.end() - 1 :]:
            depth += {"(": 1, ")": -1}.get(c, 0)
            if depth == 0:
                break
        else:
            return match.group(1), statement[match.end() :]
        return None
    return None


def _strip_annotations(statement: str) -> str:
    """`statement` without its leading annotations (their arguments included)."""
    out = statement
    while True:
        stripped = out.lstrip()
        match = re.match(r"@[A-Za-z_]\w*\s*", stripped)
        if match is None:
            return out
        rest = stripped[match.end() :]
        if rest.startswith("("):
            depth = 0
            for i, c in enumerate(rest):
                depth += {"(": 1, ")": -1}.get(c, 0)
                if depth == 0:
                    rest = rest[i + 1 :]
                    break
            else:
                return ""
        out = rest


def _type_position(index: Index, body: str, in_table: bool) -> list[Item]:
    """Types where a member, field, typedef or parameter's type is being written."""
    words = body.replace("*", " ").split()
    if "(" in body:  # a parameter: after `(` or `,`
        tail = re.split(r"[(,]", body)[-1]
        words = tail.replace("*", " ").split()
    words = [w for w in words if w not in ("const", "typedef")]
    if words and words[-1] in ("struct", "enum"):
        wanted = ("struct", "opaque struct") if words[-1] == "struct" else ("enum",)
        return [Item(n, "type", k) for n, k in index.types.items() if k in wanted]
    if words and "(" not in body:
        return []  # a type is written: the name follows
    if words:
        return []
    items = [Item(n, "type", "builtin type") for n in sorted(BUILTIN_TYPES)]
    for name, kind in index.types.items():
        if kind == "table" and not in_table:
            continue
        items.append(Item(name, "table" if kind == "table" else "type", kind))
    return items


def _member_items(index: Index, table: str, written: str) -> list[Item]:
    """Members of `table` (through the sub-tables of a dotted prefix being written)."""
    parts = written.split(".")[:-1]
    current: str | None = table
    for part in parts:
        info = next((i for i in index.members.get(current or "", []) if i.name == part), None)
        current = info.table if info is not None else None
    if current is None:
        return []
    return [Item(i.name, "member", i.detail) for i in index.members.get(current, [])]


def _path_items(index: Index | None, inside: str) -> list[Item]:
    if index is None:
        return []
    written = re.split(r"[=(,\s]", inside)[-1]
    if "." not in written:
        return [Item(t, "table", "table") for t in index.types if index.types[t] == "table"]
    table, _, rest = written.partition(".")
    return _member_items(index, table, rest)


def _define_items(index: Index | None) -> list[Item]:
    if index is None:
        return []
    items = []
    for name, where in sorted(index.defines.items()):
        detail = ", ".join(t if v is True else f"{t} = {v}" for t, v in where)
        items.append(Item(name, "define", f"defined by {detail}"))
    return items


def _annotation_items(kinds: frozenset[str], snippets: bool) -> list[Item]:
    items = []
    for spec in ann.REGISTRY.values():
        if kinds and not (spec.applies_to & kinds):
            continue
        items.append(
            Item(
                spec.name,
                "annotation",
                spec.signature() if spec.name != "if" else "@if(condition)",
                spec.purpose,
                _annotation_snippet(spec) if snippets else None,
            )
        )
    return items


def _annotation_snippet(spec: ann.AnnotationSpec) -> str:
    if spec.name == "if":
        return "if(${1:condition})"
    args: list[str] = []
    n = 1
    for name, _kind in spec.positional:
        args.append(f"${{{n}:{name}}}")
        n += 1
    for key, kind in spec.keywords.items():
        if spec.required and key not in spec.required:
            continue
        value = f'"${{{n}}}"' if kind == ann.STRING else f"${{{n}:{kind.replace(' ', '_')}}}"
        args.append(f"{key} = {value}")
        n += 1
    return f"{spec.name}({', '.join(args)})" if args else spec.name


# ---- outline ------------------------------------------------------------------------------


@dataclass
class Outline:
    name: str
    kind: str  # "abi", "target", "typedef", "struct", "opaque", "enum", "table", "hook",
    # "data", "sub-table", "field", "enumerator", "backend"
    detail: str
    range: tuple[int, int, int, int]  # line, column, end line, end column (1-based)
    selection: tuple[int, int, int, int]
    children: list[Outline] = field(default_factory=list)


def outline(spec: syn.SpecFile) -> list[Outline]:
    top: list[Outline] = []
    parents: dict[int, Outline] = {}
    for decl, parent in walk_declarations(spec):
        start = declaration_start(decl)
        end = declaration_end(spec, decl)
        s = decl.span
        node = Outline(
            decl.name,
            _outline_kind(decl),
            _outline_detail(decl),
            (*start, *end),
            (s.line, s.column, s.end_line, s.end_column),
        )
        if parent is None:
            top.append(node)
            parents[id(decl)] = node
        else:
            parents[id(parent)].children.append(node)
    return top


def _outline_kind(decl: syn.Declaration) -> str:
    if isinstance(decl, syn.MemberDecl):
        if decl.params is not None:
            return "hook"
        return "data"
    return {
        syn.AbiDecl: "abi",
        syn.TargetDecl: "target",
        syn.TypedefDecl: "typedef",
        syn.StructDecl: "struct",
        syn.OpaqueDecl: "opaque",
        syn.EnumDecl: "enum",
        syn.TableDecl: "table",
        syn.FieldDecl: "field",
        syn.EnumeratorDecl: "enumerator",
        syn.BackendDecl: "backend",
    }[type(decl)]


def _outline_detail(decl: syn.Declaration) -> str:
    if isinstance(decl, syn.MemberDecl | syn.FieldDecl):
        return declaration_text(decl)
    if isinstance(decl, syn.BackendDecl):
        return "default" if decl.default else f"{len(decl.entries)} tables"
    if isinstance(decl, syn.TableDecl):
        return f"{sum(1 for mb in decl.members if mb.params is not None)} hooks"
    return ""


# ---- quick fixes --------------------------------------------------------------------------


@record
class Fix:
    title: str
    place: Place  # the text to replace (empty: insert there)
    new_text: str
    preferred: bool = False


_SUGGESTION = re.compile(r"; did you mean '([^']*)'\?")


def did_you_mean_fix(d: Diagnostic) -> Fix | None:
    """The replacement a diagnostic's "did you mean" suggests, at the misspelt word: the
    quoted word of the message most like the suggestion, found in the spanned text (or
    after it, on its line)."""
    match = _SUGGESTION.search(d.message)
    if match is None or d.span is None:
        return None
    suggestion = match.group(1)
    quoted = re.findall(r"'([^']*)'", d.message[: match.start()])
    source = d.span.file
    start = offset(source, d.span.line, d.span.column)
    end = offset(source, d.span.end_line, d.span.end_column)
    line_end = source.text.find("\n", end)
    line_end = len(source.text) if line_end < 0 else line_end
    ranked = sorted(
        quoted, key=lambda w: difflib.SequenceMatcher(None, w, suggestion).ratio(), reverse=True
    )
    for word in ranked:
        if word == suggestion or not word:
            continue
        found = _find_text(source, word, start, end) or _find_text(source, word, start, line_end)
        if found is not None:
            return Fix(
                f"Change '{word}' to '{suggestion}'",
                Place.of(span_path(d.span), found),
                suggestion,
                preferred=True,
            )
    return None


def _find_text(source: SourceFile, word: str, start: int, end: int) -> Span | None:
    if word.startswith("@"):  # `@name`: the annotation as written
        found = source.text.find(word, start, end)
        return None if found < 0 else span_at(source, found, found + len(word))
    if "." in word:
        found = source.text.find(word, start, end)
        return None if found < 0 else span_at(source, found, found + len(word))
    return find_word(source, word, start, end)


def allow_fix(d: Diagnostic, trees: Sequence[syn.SpecFile]) -> Fix | None:
    """`@allow(ID, reason = "...")` above the declaration a rule's finding is in."""
    if d.span is None or d.code is None or d.code not in all_rules() or d.code in META_RULES:
        return None  # compiler errors cannot be allowed; nor can an allow's own findings
    spec = next((t for t in trees if t.source is d.span.file), None)
    if spec is None:
        return None
    decl = _declaration_around(spec, d.span)
    if decl is None:
        return None
    line, _ = body_start(decl)
    text = spec.source.line_text(line)
    indent = text[: len(text) - len(text.lstrip())]
    place = Place(span_path(d.span), line, 1, line, 1)
    return Fix(
        f"Allow {d.code} here with @allow",
        place,
        f'{indent}@allow({d.code}, reason = "...")\n',
    )


def _declaration_around(spec: syn.SpecFile, span: Span) -> syn.Declaration | None:
    """The innermost declaration whose text holds `span`, where `@allow` may stand."""
    found: syn.Declaration | None = None
    where = (span.line, span.column)
    for decl, _ in walk_declarations(spec):
        if isinstance(decl, syn.TargetDecl):
            continue
        if declaration_start(decl) <= where < declaration_end(spec, decl):
            found = decl  # blocks come before their members: the last match is innermost
    return found
