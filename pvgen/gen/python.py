"""The Python family: dispatch tables, types and backend stubs for the simulated side.

Takes: a `model.Abi`.
Hands on: the files of the package `python/<abi>/`: `tables.py` (patch IDs,
since-versions, per backend what it overrides, what is NULL under it, the
targets it runs on and the hooks it must patch, a class with `__slots__` per
table, and the dispatch object that binds each slot once, at install time, to
None where the slot is NULL), `types.py` (integers, structs, enums),
`backends/<name>.py` (one stub class per backend with the hooks it overrides;
the default backend's stub has every hook it does not leave NULL) and
`__init__.py`.
The code is emitted black-clean and mypy --strict clean, so nothing is
reformatted at generation time.

Conventions of the generated code: pointers are addresses (`int`) into the
simulated guest's memory, except `char` pointers, which are `str`; a backend
method is named after the hook's path with dots replaced: `pv_mmu_ops.lazy_mode.enter`
is `pv_mmu_ops_lazy_mode_enter`.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from functools import partial

from .. import model as m
from ..dump import fingerprints
from ..escape import python_comment, python_docstring
from ..names import class_name as class_name  # the spelling the name checks use too
from ..names import method_name as method_name
from ..records import record
from .common import (
    GenOptions,
    OutputFile,
    banner_lines,
    environment,
)
from .pytypes import py_default, py_type, py_value
from .stream import Lines, Sink, StreamedFile, render_template

LINE_LENGTH = 100  # black's line length for this project
INDENT = "    "


def docstring(text: str | None, indent: str, fallback: str) -> list[str]:
    """A docstring as black leaves it: escaped, stripped, one or several lines."""
    body = (text or fallback).strip()
    escaped = python_docstring(body)
    lines = [line.rstrip() for line in escaped.split("\n")]
    if escaped.endswith('"'):
        lines[-1] += " "  # a quote right before the closing quotes would end the string
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""']
    out = [f'{indent}"""{lines[0]}']
    out += [f"{indent}{line}" if line else "" for line in lines[1:]]
    out.append(f'{indent}"""')
    return out


def signature(indent: str, name: str, params: Sequence[str], returns: str) -> list[str]:
    """A `def` line split the way black splits it when it is too long."""
    head = f"{indent}def {name}("
    tail = f") -> {returns}:"
    one_line = head + ", ".join(params) + tail
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    inner = indent + INDENT
    joined = inner + ", ".join(params)
    if len(joined) <= LINE_LENGTH and "," not in "".join(params[-1:]):
        return [head, joined, f"{indent}{tail}"]
    return [head, *[f"{inner}{p}," for p in params], f"{indent}{tail}"]


# ---- what the templates receive -------------------------------------------------------


@record
class HookView:
    path: str  # pv_mmu_ops.lazy_mode.enter
    table: str  # top-level table
    method: str
    params: tuple[str, ...]  # "name: type"
    args: tuple[str, ...]
    returns: str
    doc: list[str]
    since: int
    is_data: bool
    default: str  # for data members


@record
class TableView:
    name: str
    doc: list[str]
    members: tuple[str, ...]  # the annotation lines: hooks and data, then sub-tables


def hook_views(abi: m.Abi) -> list[HookView]:
    views = []
    for slot in abi.slots:
        path = slot.path
        # Two paths never share a method: pvgen/gennames.py reports it at resolve time.
        method = method_name(path)
        if isinstance(slot, m.HookSlot):
            hook = slot.hook
            views.append(
                HookView(
                    path,
                    slot.top.name,
                    method,
                    tuple(f"{p.name}: {py_type(abi, p.type, 't.')}" for p in hook.params),
                    tuple(p.name for p in hook.params),
                    py_type(abi, hook.returns, "t."),
                    [],
                    hook.since,
                    False,
                    "",
                )
            )
        else:
            views.append(
                HookView(
                    path,
                    slot.top.name,
                    method,
                    (),
                    (),
                    py_type(abi, slot.data.type, "t."),
                    [],
                    slot.data.since,
                    True,
                    py_default(abi, slot.data.type, "t.", factory=False),
                )
            )
    return views


def _member_docs(abi: m.Abi) -> dict[str, str | None]:
    """The doc of each path: of the first member reached by that path."""
    docs: dict[str, str | None] = {}
    for slot in abi.slots:
        docs.setdefault(slot.path, slot.member.doc)
    return docs


Nulls = list[list[m.HookSlot | m.DataSlot]]  # per backend of `Abi.backends`, its NULL slots


def null_slots(abi: m.Abi) -> Nulls:
    """Per backend (in the order of `abi.backends`), the slots NULL under it, in spec order.

    `Abi.source` decides; it is asked only about the slots it can find NULL: a `@no_native`
    hook's, or, under a backend with `@fallback(none)`, every slot (not every slot of a
    large ABI under every backend)."""
    no_native = [s for s in abi.hook_slots if s.hook.no_native is not None]
    return [
        [
            s
            for s in (abi.slots if b.null_fallback else no_native)
            if abi.source(b, s) is m.Source.NULL
        ]
        for b in abi.backends
    ]


def may_be_null(abi: m.Abi, nulls: Nulls) -> set[int]:
    """The ids of the hooks and data members whose slot is NULL under some backend
    (`nulls`: `null_slots(abi)`)."""
    found = {id(s.member) for slots in nulls for s in slots}
    found |= {id(s.member) for s in abi.hook_slots if s.hook.nullable}
    return found


def table_views(abi: m.Abi, nulls: Nulls) -> list[TableView]:
    views = []
    nullable = may_be_null(abi, nulls)
    for table in abi.tables:
        slots = []
        subtables = []
        for member in table.members:
            if isinstance(member, m.Hook):
                params = ", ".join(py_type(abi, p.type, "t.") for p in member.params)
                callable_ = f"Callable[[{params}], {py_type(abi, member.returns, 't.')}]"
                none = " | None" if id(member) in nullable else ""
                slots.append((member.name, callable_ + none))
            elif isinstance(member, m.DataMember):
                none = " | None" if id(member) in nullable else ""
                slots.append((member.name, py_type(abi, member.type, "t.") + none))
            else:
                subtables.append((member.name, member.table))
        views.append(
            TableView(
                table.name,
                docstring(table.doc, INDENT, f"The hooks of table '{table.name}'."),
                (
                    *[f"{INDENT}{name}: {annotation}" for name, annotation in slots],
                    *[f"{INDENT}{name}: type[{cls}]" for name, cls in subtables],
                ),
            )
        )
    return views


def patch_ids(abi: m.Abi) -> dict[str, dict[str, int]]:
    """Per target: hook path -> patch ID, the model's (as the C header's macros)."""
    return {t.name: dict(abi.facts[t.name].patch_ids) for t in abi.targets}


# ---- rendering -------------------------------------------------------------------------


def _banner(abi: m.Abi) -> list[str]:
    return [f"# {python_comment(line)}".rstrip() for line in banner_lines(abi)]


def render(abi: m.Abi, options: GenOptions) -> list[OutputFile]:
    return [OutputFile(path, make(None)) for path, make in _files(abi)]


def render_streamed(abi: m.Abi, options: GenOptions) -> list[StreamedFile]:
    """The same files as `render`, each rendered when it is written."""
    return [StreamedFile(path, make) for path, make in _files(abi)]


def _files(abi: m.Abi) -> list[tuple[str, Callable[[Sink | None], str]]]:
    """Each file's path, and what renders it (into a sink, or as text). What several files
    share (each hook's view, the slots NULL under each backend, the stub methods) is made
    when the first of them is rendered, and let go with the list."""
    shared = _Shared(abi)
    base = f"python/{abi.name}"
    files: list[tuple[str, Callable[[Sink | None], str]]] = [
        (f"{base}/__init__.py", partial(_render_init, abi)),
        (f"{base}/types.py", partial(_render_types, abi)),
        (f"{base}/tables.py", shared.tables),
        (f"{base}/backends/__init__.py", partial(_render_backends_init, abi)),
    ]
    for i, backend in enumerate(abi.backends):
        files.append((f"{base}/backends/{backend.name}.py", partial(shared.backend, i)))
    return files


class _Shared:
    """What the dispatch tables and the backend stubs are made from, made once when first
    asked for. The stub methods' texts are let go once every stub is written."""

    def __init__(self, abi: m.Abi) -> None:
        self.abi = abi
        self.views: tuple[list[HookView], Nulls] | None = None
        self.methods: _Methods | None = None
        self.stubs_left = len(abi.backends)

    def parts(self) -> tuple[list[HookView], Nulls]:
        if self.views is None:
            self.views = hook_views(self.abi), null_slots(self.abi)
        return self.views

    def tables(self, sink: Sink | None) -> str:
        hooks, nulls = self.parts()
        return _render_tables(self.abi, hooks, nulls, sink)

    def backend(self, i: int, sink: Sink | None) -> str:
        hooks, nulls = self.parts()
        if self.methods is None:
            self.methods = _Methods(hooks, _member_docs(self.abi))
        methods = self.methods
        self.stubs_left -= 1
        if self.stubs_left <= 0:
            self.methods, self.stubs_left = None, len(self.abi.backends)
        return _render_backend(self.abi, self.abi.backends[i], nulls[i], methods, sink)


def _render_init(abi: m.Abi, sink: Sink | None) -> str:
    return render_template(
        environment("python").get_template("init.py.j2"),
        sink,
        banner=_banner(abi),
        dispatch=class_name(abi.name, "Ops"),
        doc=docstring(abi.doc, "", f"Bindings of ABI '{abi.name}'.")[0:],
    )


def _render_backends_init(abi: m.Abi, sink: Sink | None) -> str:
    stubs = sorted((b.name, class_name(b.name, "Stub")) for b in abi.backends)
    template = environment("python").get_template("backends_init.py.j2")
    return render_template(template, sink, banner=_banner(abi), abi_name=abi.name, stubs=stubs)


def _render_types(abi: m.Abi, sink: Sink | None) -> str:
    views = _type_views(abi)
    defaults = [d for v in views for _, (_, d) in v.get("fields", [])]  # type: ignore[attr-defined]
    kinds = {v["kind"] for v in views}
    imports = ["import enum"] if "enum" in kinds else []
    if "struct" in kinds:
        uses_field = any(d.startswith("field(") for d in defaults)
        imports.append(f"from dataclasses import dataclass{', field' if uses_field else ''}")
    template = environment("python").get_template("types.py.j2")
    return render_template(
        template, sink, banner=_banner(abi), abi_name=abi.name, types=views, imports=imports
    )


def _type_views(abi: m.Abi) -> list[dict[str, object]]:
    """One entry per type name (variants under conditions merged), in spec order."""
    views: list[dict[str, object]] = []
    for name, decls in abi.types_by_name.items():
        first = decls[0]
        doc = next((d.doc for d in decls if d.doc), None)
        if all(isinstance(d, m.Opaque) for d in decls):
            views.append(
                {
                    "kind": "opaque",
                    "name": name,
                    "doc": docstring(
                        doc, INDENT, f"Opaque '{name}': kernel-internal, only passed by address."
                    ),
                }
            )
        elif all(isinstance(d, m.Enum) for d in decls):
            assert isinstance(first, m.Enum)
            values: dict[str, int] = {}
            for d in decls:
                assert isinstance(d, m.Enum)
                values.update((v.name, v.value) for v in d.values)
            views.append(
                {
                    "kind": "enum",
                    "name": name,
                    "doc": docstring(doc, INDENT, f"Enum '{name}' ({first.underlying})."),
                    "values": list(values.items()),
                }
            )
        elif all(isinstance(d, m.Typedef) for d in decls):
            targets = sorted({py_type(abi, d.target) for d in decls if isinstance(d, m.Typedef)})
            alias = targets[0] if len(targets) == 1 else " | ".join(targets)
            comment = python_comment(doc.replace("\n", " ")) if doc else None
            views.append({"kind": "alias", "name": name, "target": alias, "comment": comment})
        else:
            fields: dict[str, tuple[str, str]] = {}
            for d in decls:
                for f in d.fields if isinstance(d, m.Struct) else ():
                    fields.setdefault(f.name, (py_type(abi, f.type), py_default(abi, f.type)))
            views.append(
                {
                    "kind": "struct",
                    "name": name,
                    "doc": docstring(doc, INDENT, f"Struct '{name}'."),
                    "fields": list(fields.items()),
                }
            )
    return _definition_order(views)


def _definition_order(views: list[dict[str, object]]) -> list[dict[str, object]]:
    """Aliases and structs after what they name, so module-level names exist when used."""
    by_name = {str(v["name"]): v for v in views}
    done: set[str] = set()
    ordered: list[dict[str, object]] = []

    def needs(view: dict[str, object]) -> list[str]:
        text = str(view.get("target", "")) + " ".join(
            f"{a} {d}" for _, (a, d) in view.get("fields", [])  # type: ignore[attr-defined]
        )
        return [n for n in by_name if n != view["name"] and _mentions(text, n)]

    def visit(view: dict[str, object]) -> None:
        name = str(view["name"])
        if name in done:
            return
        done.add(name)
        for dependency in needs(view):
            visit(by_name[dependency])
        ordered.append(view)

    for view in views:
        visit(view)
    return ordered


def _mentions(text: str, name: str) -> bool:

    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


def assignment(indent: str, target: str, call: str, argument: str) -> list[str]:
    """`target = call("argument")`, split as black splits a line that is too long."""
    line = f'{indent}{target} = {call}("{argument}")'
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"{indent}{target} = {call}(", f'{indent}{INDENT}"{argument}"', f"{indent})"]


def tables_made(abi: m.Abi) -> list[str]:
    """The lines of the dispatch's `__init__` that make a class per table and sub-table."""
    indent = INDENT * 2
    lines: list[str] = []

    def make(target: str, table: m.Table) -> None:
        base = py_value(table.name)  # inside a method: `__x` would be mangled
        line = f"{indent}{target} = _table({base})"
        if len(line) <= LINE_LENGTH:
            lines.append(line)
        else:
            lines.extend([f"{indent}{target} = _table(", f"{indent}{INDENT}{base}", f"{indent})"])
        for member in table.members:
            if isinstance(member, m.SubTable):
                make(f"{target}.{member.name}", abi.tables_by_name[member.table])

    for table in abi.top_level_tables():
        make(f"self.{table.name}", table)
    return lines


def _render_tables(abi: m.Abi, hooks: list[HookView], nulls: Nulls, sink: Sink | None) -> str:
    top = list(abi.top_level_tables())
    native = _default_backend(abi)
    native_stub = class_name(native, "Stub") if native else "object"
    dispatch_params = [
        "self",
        "backend: object",
        f"native: {native_stub}",
        "target: str | None = None",
    ]
    install = Lines(
        lambda: (
            line for h in hooks for line in assignment(INDENT * 2, f"self.{h.path}", "pick", h.path)
        ),
        "\n",
        bool(hooks),
    )
    return render_template(
        environment("python").get_template("tables.py.j2"),
        sink,
        banner=_banner(abi),
        abi_name=abi.name,
        abi_version=abi.version,
        # black writes hex digits in upper case
        fingerprints={t: "0x" + v[2:].upper() for t, v in fingerprints(abi).items()},
        dispatch=class_name(abi.name, "Ops"),
        native_stub=native_stub,
        native_module=native,
        # TYPE_CHECKING guards the import of the default backend's stub, if there is one
        typing_names=f"{'TYPE_CHECKING, ' if native else ''}Any, TypeVar, cast",
        tables=table_views(abi, nulls),
        top=[t.name for t in top],
        # `"path": value,` entries of the dicts of every hook
        since=Lines(lambda: (f'{INDENT}"{h.path}": {h.since},' for h in hooks), "\n", bool(hooks)),
        install=install,
        tables_made=tables_made(abi),
        patch_ids={target: _id_entries(ids) for target, ids in patch_ids(abi).items()},
        patch_template=textwrap.wrap(", ".join(abi.patch_template or ()), 76),
        overrides={b.name: [o.path for o in b.overrides] for b in abi.backends if not b.default},
        nulls={b.name: [s.path for s in null] for b, null in zip(abi.backends, nulls, strict=True)},
        runs_on={b.name: [t.name for t in abi.targets if b.runs_on(t)] for b in abi.backends},
        must_patch={b.name: [o.path for o in b.must_patch] for b in abi.backends},
        init_signature=signature(INDENT, "__init__", dispatch_params, "None"),
        install_signature=signature(INDENT, "install", dispatch_params, "None"),
    )


def _id_entries(ids: dict[str, int]) -> Lines:
    """The `"path": number,` entries of one target's patch IDs, made when written."""
    return Lines(
        lambda: (f'{INDENT * 2}"{path}": {number},' for path, number in ids.items()),
        "\n",
        bool(ids),
    )


def _default_backend(abi: m.Abi) -> str | None:
    """The backend the dispatch falls back on. Without one (rule PV102 reports that), the
    dispatch takes any object with a method per hook as `native`."""
    default = next((b for b in abi.backends if b.default), None)
    return default.name if default is not None else None


class _Methods:
    """The text of each hook's (or data member's) stub method, made once for every backend
    that has it; and where each path's hooks are in spec order."""

    def __init__(self, hooks: list[HookView], docs: dict[str, str | None]) -> None:
        self.hooks = hooks
        self.docs = docs
        self.texts: dict[int, str] = {}  # by index in `hooks`
        self.at: dict[str, list[int]] = {}
        for i, h in enumerate(hooks):
            self.at.setdefault(h.path, []).append(i)

    def text(self, i: int) -> str:
        found = self.texts.get(i)
        if found is None:
            found = self.texts[i] = self.method(self.hooks[i])
        return found

    def method(self, h: HookView) -> str:
        if h.is_data:
            return f"{INDENT}{h.method}: {h.returns} = {h.default}"
        lines = signature(INDENT, h.method, ["self", *h.params], h.returns)
        lines += docstring(self.docs[h.path], INDENT * 2, f"Hook '{h.path}'.")
        lines.append(f"{INDENT * 2}raise NotImplementedError")
        return "\n".join(lines)


def _render_backend(
    abi: m.Abi,
    backend: m.Backend,
    nulls: list[m.HookSlot | m.DataSlot],
    methods: _Methods,
    sink: Sink | None,
) -> str:
    """The stub of one backend: a method per hook it overrides; the default backend's has
    every hook that is not NULL under it."""
    overridden = {o.path for o in backend.overrides}
    chosen = {i for path in overridden for i in methods.at.get(path, ())}
    if backend.default:
        null_paths = {s.path for s in nulls}
        chosen.update(i for i, h in enumerate(methods.hooks) if h.path not in null_paths)
    texts = [methods.text(i) for i in sorted(chosen)]
    return render_template(
        environment("python").get_template("backend.py.j2"),
        sink,
        banner=_banner(abi),
        abi_name=abi.name,
        name=backend.name,
        default=backend.default,
        stub=class_name(backend.name, "Stub"),
        doc=docstring(
            backend.doc,
            INDENT,
            f"Backend '{backend.name}'.",
        ),
        methods=texts,
        # Whether a method names a type: the stub then imports the types module.
        uses_types=any("t." in text for text in texts),
    )
