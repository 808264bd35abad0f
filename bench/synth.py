"""Synthetic specs for benchmarks: N hooks in tables of 100, every type construct present.

`python bench/synth.py HOOKS OUT.pvspec [--seed N]` writes one spec. The spec
has two targets (ilp32 and lp64), conditional typedefs, a packed struct, an
opaque struct, an enum, a sub-table embedded in every table, hooks with up to
four parameters of builtin, typedef, struct-by-value and pointer types, and
ten backends that each override a random third of the hooks. The same seed
gives the same spec. `--as wayland` and `--as proto` write the same tables as a
Wayland protocol (one interface per table, one request per hook) and as a
protobuf file (one service per table, one rpc per hook), for peer benchmarks;
`--as header` writes them as a C header of function-pointer structs with the
kernel's trimmings (comments, `#ifdef`s, macros, an inline wrapper), for
`pvgen import`.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

TABLE_SIZE = 100
BACKENDS = 10

PARAM_TYPES = [
    "u32",
    "u64",
    "unsigned long",
    "int",
    "word_t",
    "entry_t",
    "const struct desc *",
    "struct obj *",
    "void *",
    "mode_t",
]

HEADER = """/// Synthetic ABI for benchmarks.
abi synth {
    version 1;
    stability stable;
    budget 1000000;
}

target i386 { data_model ilp32; defines X86_32, LEVELS = 2; }
target x86_64 { data_model lp64; defines X86_64, WIDE, LEVELS = 4; }

@if(WIDE) typedef u64 word_t;
@if(!WIDE) typedef u32 word_t;
struct entry_t { word_t value; }
@packed struct desc { u16 size; unsigned long address; }
opaque struct obj;
enum mode_t : u32 { OFF = 0, ON = 1, AUTO }

/// Brackets a batch of deferred updates.
table lazy_ops {
    void enter();
    void leave();
}
"""


@dataclass(frozen=True)
class SynthHook:
    name: str
    returns: str
    params: tuple[tuple[str, str], ...]  # (type, name)
    annotations: str


@dataclass(frozen=True)
class SynthTable:
    name: str
    hooks: tuple[SynthHook, ...]


def synth_shape(
    hooks: int, seed: int = 1
) -> tuple[list[SynthTable], list[list[tuple[str, list[str]]]]]:
    """The tables, and per backend the hooks it overrides by table; the same for every format."""
    rng = random.Random(seed)
    tables = []
    table_count = max(1, (hooks + TABLE_SIZE - 1) // TABLE_SIZE)
    made = 0
    for t in range(table_count):
        members = []
        for h in range(min(TABLE_SIZE, hooks - made)):
            params = tuple((rng.choice(PARAM_TYPES), f"arg{i}") for i in range(rng.randint(0, 4)))
            returns = rng.choice(["void", "void", "u64", "unsigned long", "entry_t", "int"])
            annotations = ""
            if h % 25 == 0:
                annotations = "    @if(LEVELS >= 3)\n"
            elif h % 10 == 0:
                annotations = "    @batched @since(1)\n"
            members.append(SynthHook(f"hook_{t:04d}_{h:03d}", returns, params, annotations))
            made += 1
        tables.append(SynthTable(f"ops_{t:04d}", tuple(members)))
    backends = []
    for _ in range(BACKENDS):
        chosen = []
        for table in tables:
            names = [h.name for h in table.hooks if rng.random() < 1 / 3]
            if names:
                chosen.append((table.name, names))
        backends.append(chosen)
    return tables, backends


def _tables_text(tables: list[SynthTable], first: int = 0) -> list[str]:
    out = []
    for t, table in enumerate(tables, first):
        out.append(f"/// Table {t}.\ntable {table.name} {{")
        for h, hook in enumerate(table.hooks):
            params = ", ".join(f"{kind} {name}" for kind, name in hook.params)
            out.append(
                f"    /// Hook {h} of table {t}.\n{hook.annotations}"
                f"    {hook.returns} {hook.name}({params});"
            )
        out.append("    lazy_ops lazy_mode;\n}\n")
    return out


def _backends_text(backends: list[list[tuple[str, list[str]]]]) -> list[str]:
    out = ["/// Bare hardware.\nbackend native default;\n"]
    for b, chosen in enumerate(backends):
        out.append(f"/// Backend {b}.\nbackend hv{b} {{")
        out += [f"    {table}: {', '.join(names)};" for table, names in chosen]
        out.append("}\n")
    return out


def synth_spec(hooks: int, seed: int = 1) -> str:
    tables, backends = synth_shape(hooks, seed)
    return "\n".join([HEADER, *_tables_text(tables), *_backends_text(backends)])


def synth_split(hooks: int, parts: int = 10, seed: int = 1) -> dict[str, str]:
    """The same ABI as `synth_spec`, split as a large ABI is kept: a root and `parts` files.

    The root (`root.pvspec`) holds the ABI header, the targets and types, an include of
    each part and the backends; each part (`tables_NN.pvspec`) holds an equal share of
    the tables. Returns the file names and their texts.
    """
    tables, backends = synth_shape(hooks, seed)
    share = -(-len(tables) // parts)
    files: dict[str, str] = {}
    includes = []
    for p in range(parts):
        chunk = tables[p * share : (p + 1) * share]
        if not chunk:
            break
        name = f"tables_{p:02d}.pvspec"
        files[name] = "\n".join(_tables_text(chunk, p * share))
        includes.append(f'include "{name}";')
    root = [HEADER, *includes, "", *_backends_text(backends)]
    return {"root.pvspec": "\n".join(root), **files}


def edit_one_hook(text: str) -> str:
    """`text` with one hook's return type changed: the edit of the incremental benchmark.

    The first hook returning `void` now returns `u64` (marked with a comment), or, in a
    text edited so before, that hook returns `void` again: repeated edits alternate
    between two versions, and each is a change.
    """
    edited = "\n    u64 /* edited */ hook_"
    if edited in text:
        return text.replace(edited, "\n    void hook_", 1)
    return text.replace("\n    void hook_", edited, 1)


# How each spec type is spelled by the peers. Wayland has 32-bit int/uint, `array` for
# aggregates and `object` for references; protobuf has fixed-width scalars and messages.
WAYLAND_TYPES = {
    "u32": "uint",
    "u64": "uint",
    "unsigned long": "uint",
    "int": "int",
    "word_t": "uint",
    "entry_t": "array",
    "mode_t": "uint",
}
PROTO_TYPES = {
    "u32": "uint32",
    "u64": "uint64",
    "unsigned long": "uint64",
    "int": "int32",
    "word_t": "uint64",
    "entry_t": "Entry",
    "mode_t": "Mode",
    "void": "",
}


def _wayland_type(kind: str) -> str:
    return "object" if "*" in kind else WAYLAND_TYPES[kind]


def _proto_type(kind: str) -> str:
    return "uint64" if "*" in kind else PROTO_TYPES[kind]


def synth_wayland(hooks: int, seed: int = 1) -> str:
    """The same tables as a Wayland protocol: one interface per table, one request per hook."""
    tables, _ = synth_shape(hooks, seed)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<protocol name="synth">']
    for table in tables:
        out.append(f'  <interface name="{table.name}" version="1">')
        for hook in table.hooks:
            out.append(f'    <request name="{hook.name}">')
            out += [
                f'      <arg name="{name}" type="{_wayland_type(kind)}"/>'
                for kind, name in hook.params
            ]
            out.append("    </request>")
        out.append("  </interface>")
    out.append("</protocol>")
    return "\n".join(out) + "\n"


def synth_proto(hooks: int, seed: int = 1) -> str:
    """The same tables as protobuf: one service per table, one rpc per hook."""
    tables, _ = synth_shape(hooks, seed)
    out = [
        'syntax = "proto3";',
        "package synth;",
        "message Entry { uint64 value = 1; }",
        "enum Mode { OFF = 0; ON = 1; AUTO = 2; }",
    ]
    for table in tables:
        for hook in table.hooks:
            fields = " ".join(
                f"{_proto_type(kind)} {name} = {i};"
                for i, (kind, name) in enumerate(hook.params, 1)
            )
            out.append(f"message {hook.name}_args {{ {fields} }}")
            result = _proto_type(hook.returns)
            out.append(
                f"message {hook.name}_result {{ {result + ' value = 1;' if result else ''} }}"
            )
        out.append(f"service {table.name} {{")
        out += [f"  rpc {h.name}({h.name}_args) returns ({h.name}_result);" for h in table.hooks]
        out.append("}")
    return "\n".join(out) + "\n"


C_HEADER = """/* Synthetic hook tables for benchmarks. */
#ifndef SYNTH_H
#define SYNTH_H
#include <linux/types.h>
#define SYNTH_PATCH(x) (offsetof(struct ops_0000, x) / sizeof(void *))

#ifdef CONFIG_WIDE
typedef u64 word_t;
#else
typedef u32 word_t;
#endif
typedef struct { word_t value; } entry_t;
struct desc;
struct obj;
enum mode_t { OFF, ON, AUTO };

struct lazy_ops {
\t/* Brackets a batch of deferred updates. */
\tvoid (*enter)(void);
\tvoid (*leave)(void);
};
"""


def synth_header(hooks: int, seed: int = 1) -> str:
    """The same tables as a C header, for `pvgen import`."""
    tables, _ = synth_shape(hooks, seed)
    out = [C_HEADER]
    for table in tables:
        out.append(f"struct {table.name} {{")
        for hook in table.hooks:
            params = ", ".join(
                f"{'enum ' if kind == 'mode_t' else ''}{kind}{'' if kind.endswith('*') else ' '}{name}"
                for kind, name in hook.params
            )
            guarded = hook.annotations.strip().startswith("@if")
            out += ["#if LEVELS >= 3"] if guarded else []
            out.append(f"\t/* Hook {hook.name}. */")
            out.append(f"\t{hook.returns} (*{hook.name})({params or 'void'});")
            out += ["#endif"] if guarded else []
        out += ["\tstruct lazy_ops lazy_mode;", "} __no_randomize_layout;", ""]
    out.append("static inline void synth_enter(void) { }")
    out.append("#endif")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hooks", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--as", dest="form", choices=["pvspec", "wayland", "proto", "header"], default="pvspec"
    )
    parser.add_argument(
        "--split",
        type=int,
        metavar="PARTS",
        help="write a root and PARTS included files into the folder OUT instead of one file",
    )
    args = parser.parse_args()
    if args.split:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, text in synth_split(args.hooks, args.split, args.seed).items():
            (args.out / name).write_text(text, encoding="utf-8")
        return
    render = {
        "pvspec": synth_spec,
        "wayland": synth_wayland,
        "proto": synth_proto,
        "header": synth_header,
    }[args.form]
    args.out.write_text(render(args.hooks, args.seed), encoding="utf-8")


if __name__ == "__main__":
    main()
