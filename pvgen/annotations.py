"""Annotations: which `@name(...)` exist, where they apply and what they take.

Takes: syntax `Annotation` nodes and the kind of declaration they sit on.
Hands on: a dict of validated values per annotation name, or errors naming
the valid choices. The registry below is also the source of the annotation
table in docs/language.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from .diagnostics import Collector, did_you_mean, with_article
from .records import record
from .syntax import Annotation

# Kinds of declaration an annotation can sit on.
HOOK, DATA, SUBTABLE, TABLE = "hook", "data member", "sub-table", "table"
STRUCT, FIELD, TYPEDEF, OPAQUE, ENUM, ENUMERATOR = (
    "struct",
    "field",
    "typedef",
    "opaque struct",
    "enum",
    "enumerator",
)
ABI, TARGET, BACKEND = "abi", "target", "backend"
BACKEND_ENTRY = "backend entry"  # one `table: members;` line of a backend block
MEMBERS = frozenset({HOOK, DATA, SUBTABLE})
TYPES = frozenset({STRUCT, TYPEDEF, OPAQUE, ENUM})
EVERYTHING = MEMBERS | TYPES | {TABLE, FIELD, ENUMERATOR, ABI, TARGET, BACKEND}

# Kinds of argument value.
INT, STRING, NAME, PATH, CODE = "integer", "string", "name", "dotted name", "rule code"
_CODE = re.compile(r"PV[0-9]{3}")


@record
class AnnotationSpec:
    name: str
    purpose: str
    applies_to: frozenset[str]
    positional: tuple[tuple[str, str], ...] = ()  # (argument name, kind)
    keywords: Mapping[str, str] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    repeatable: bool = False

    def signature(self) -> str:
        parts = [n for n, _ in self.positional]
        parts += [f"{k} = {v}" for k, v in self.keywords.items()]
        return f"@{self.name}({', '.join(parts)})" if parts else f"@{self.name}"


REGISTRY: Mapping[str, AnnotationSpec] = {
    spec.name: spec
    for spec in (
        AnnotationSpec(
            "if",
            "Declares the item only for targets whose defines satisfy the condition; on a"
            " backend, the targets it runs on.",
            EVERYTHING - {ABI, TARGET},
        ),
        AnnotationSpec(
            "since",
            "The ABI version that introduced the item.",
            MEMBERS | TYPES | {TABLE, FIELD, ENUMERATOR},
            positional=(("version", INT),),
            required=frozenset({"version"}),
        ),
        AnnotationSpec(
            "deprecated",
            "Marks the item for removal; names the version and the replacement.",
            MEMBERS | {TABLE},
            keywords={"since": INT, "use": PATH, "reason": STRING},
        ),
        AnnotationSpec(
            "renamed_from",
            "The item's previous name, so that ABI diffs pair old and new.",
            MEMBERS | {TABLE},
            positional=(("name", NAME),),
            required=frozenset({"name"}),
        ),
        AnnotationSpec(
            "callee_save",
            "The hook preserves all registers but its return register (a cheap call).",
            frozenset({HOOK}),
        ),
        AnnotationSpec(
            "callconv",
            "The hook's C calling convention where it is not the platform's default:"
            " `fastcall` (arguments in registers) or `asmlinkage` (all on the stack);"
            " both mean regparm on i386 and nothing elsewhere.",
            frozenset({HOOK}),
            positional=(("convention", NAME),),
            required=frozenset({"convention"}),
        ),
        AnnotationSpec(
            "hot",
            "The hook is called on hot paths; `callsites` says how many call sites.",
            frozenset({HOOK}),
            keywords={"callsites": INT},
        ),
        AnnotationSpec(
            "patch",
            "Call sites may be patched with this native instruction sequence.",
            frozenset({HOOK}),
            keywords={"native": STRING, "clobbers": STRING},
            required=frozenset({"native"}),
        ),
        AnnotationSpec(
            "batched",
            "A page-table or descriptor write that a hypervisor may defer in lazy mode.",
            frozenset({HOOK}),
        ),
        AnnotationSpec(
            "low_level",
            "The hook mirrors one privileged instruction.",
            frozenset({HOOK}),
        ),
        AnnotationSpec(
            "no_native",
            "The hook has no bare-hardware implementation; says why.",
            frozenset({HOOK}),
            keywords={"reason": STRING},
            required=frozenset({"reason"}),
        ),
        AnnotationSpec(
            "backend_specific",
            "The hook is meant for one hypervisor only; says why.",
            frozenset({HOOK}),
            keywords={"reason": STRING},
            required=frozenset({"reason"}),
        ),
        AnnotationSpec(
            "nullable",
            "The hook's slot may be NULL (no backend, not even the default, need fill it);"
            " every caller checks before calling.",
            frozenset({HOOK}),
        ),
        AnnotationSpec(
            "fallback",
            "Where the members a backend does not list come from: the default backend's name"
            " (the default) or `none`, for a backend that copies whole tables and leaves the"
            " rest NULL. On a backend entry, for that table alone.",
            frozenset({BACKEND, BACKEND_ENTRY}),
            positional=(("source", NAME),),
            required=frozenset({"source"}),
        ),
        AnnotationSpec(
            "must_patch",
            "The backend's slot for this hook holds a value that must never be called: every"
            " call site of the hook must be patched at boot.",
            frozenset({BACKEND}),
            positional=(("hook", PATH),),
            required=frozenset({"hook"}),
            repeatable=True,
        ),
        AnnotationSpec(
            "budget",
            "The most hooks this table may hold.",
            frozenset({TABLE}),
            positional=(("hooks", INT),),
            required=frozenset({"hooks"}),
        ),
        AnnotationSpec(
            "packed",
            "The struct has no padding (C `__attribute__((packed))`).",
            frozenset({STRUCT}),
        ),
        AnnotationSpec(
            "shared",
            "The struct lives in memory that the hypervisor reads too.",
            frozenset({STRUCT}),
        ),
        AnnotationSpec(
            "allow",
            "Accepts a finding of the named check here, for the stated reason.",
            EVERYTHING - {TARGET},
            positional=(("code", CODE),),
            keywords={"reason": STRING},
            required=frozenset({"code", "reason"}),
            repeatable=True,
        ),
    )
}


def _kind_of(value: Any) -> str:
    if isinstance(value, int):
        return INT
    if isinstance(value, str):
        return STRING
    return PATH if len(value) > 1 else NAME


def _convert(value: Any, kind: str) -> Any | None:
    """The value as `kind` wants it, or None if it is of the wrong kind."""
    actual = _kind_of(value)
    if kind == INT:
        return value if actual == INT else None
    if kind == STRING:
        return value if actual == STRING else None
    if kind == NAME:
        return value[0] if actual == NAME else None
    if kind == PATH:
        return ".".join(value) if actual in (NAME, PATH) else None
    if kind == CODE:
        return value[0] if actual == NAME and _CODE.fullmatch(value[0]) else None
    raise AssertionError(kind)


def read_annotations(
    annotations: Sequence[Annotation], kind: str, errors: Collector
) -> dict[str, Any]:
    """Validate annotations on a declaration of `kind`; returns name -> value(s).

    The value is the condition for `@if`, True for flags, the single argument
    for one-argument annotations, a dict of arguments otherwise; `@allow`
    gives a list of (dict, span) pairs.
    """
    found: dict[str, Any] = {}
    for ann in annotations:
        spec = REGISTRY.get(ann.name)
        if spec is None:
            choices = [n for n, s in REGISTRY.items() if kind in s.applies_to]
            errors.error(
                ann.span,
                f"unknown annotation '@{ann.name}'" + did_you_mean(ann.name, REGISTRY, prefix="@"),
                hint="annotations allowed on a "
                + kind
                + ": "
                + ", ".join(f"@{c}" for c in sorted(choices)),
            )
            continue
        if kind not in spec.applies_to:
            where = ", ".join(sorted(spec.applies_to))
            errors.error(
                ann.span,
                f"'@{ann.name}' cannot be used on {with_article(kind)}; it applies to: {where or 'nothing'}",
            )
            continue
        if ann.name in found and not spec.repeatable:
            errors.error(ann.span, f"duplicate annotation '@{ann.name}'")
            continue
        value = _read_one(ann, spec, errors)
        if value is None:
            continue
        if spec.repeatable:  # kept with its span, to point at it later
            found.setdefault(ann.name, []).append((value, ann.span))
        else:
            found[ann.name] = value
    return found


def _read_one(ann: Annotation, spec: AnnotationSpec, errors: Collector) -> Any | None:
    if ann.name == "if":
        return ann.condition
    if not spec.positional and not spec.keywords:
        if ann.has_parens:
            errors.error(ann.span, f"'@{ann.name}' takes no arguments")
            return None
        return True
    values: dict[str, Any] = {}
    ok = True
    position = 0
    for arg in ann.args:
        if arg.key is None:
            if position >= len(spec.positional):
                errors.error(
                    arg.span, f"too many arguments to '@{ann.name}'; expected {spec.signature()}"
                )
                ok = False
                continue
            name, kind = spec.positional[position]
            position += 1
        else:
            if arg.key not in spec.keywords:
                errors.error(
                    arg.span,
                    f"unknown argument '{arg.key}' of '@{ann.name}'"
                    + did_you_mean(arg.key, spec.keywords),
                )
                ok = False
                continue
            name, kind = arg.key, spec.keywords[arg.key]
        if name in values:
            errors.error(arg.span, f"argument '{name}' of '@{ann.name}' given twice")
            ok = False
            continue
        converted = _convert(arg.value, kind)
        if converted is None:
            errors.error(
                arg.span,
                f"argument '{name}' of '@{ann.name}' must be {with_article(kind)}, not {with_article(_kind_of(arg.value))}",
            )
            ok = False
            continue
        if kind == INT and converted < 0:
            errors.error(arg.span, f"argument '{name}' of '@{ann.name}' must not be negative")
            ok = False
            continue
        values[name] = converted
    missing = sorted(spec.required - values.keys())
    if ok and missing:
        errors.error(
            ann.span,
            f"'@{ann.name}' needs {', '.join(repr(m) for m in missing)}; write {spec.signature()}",
        )
        ok = False
    if not ok:
        return None
    if len(spec.positional) == 1 and not spec.keywords:
        return values[spec.positional[0][0]]
    return values
