"""Synthetic specs for benchmarks: N hooks in tables of 100, every type construct present.

`python bench/synth.py HOOKS OUT.pvspec [--seed N]` writes one spec. The spec
has two targets (ilp32 and lp64), conditional typedefs, a packed struct, an
opaque struct, an enum, a sub-table embedded in every table, hooks with up to
four parameters of builtin, typedef, struct-by-value and pointer types, and
ten backends that each override a random third of the hooks. The same seed
gives the same spec.
"""

from __future__ import annotations

import argparse
import random
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


def synth_spec(hooks: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out = [HEADER]
    names: list[tuple[str, list[str]]] = []
    table_count = max(1, (hooks + TABLE_SIZE - 1) // TABLE_SIZE)
    made = 0
    for t in range(table_count):
        table = f"ops_{t:04d}"
        members: list[str] = []
        out.append(f"/// Table {t}.\ntable {table} {{")
        for h in range(min(TABLE_SIZE, hooks - made)):
            name = f"hook_{t:04d}_{h:03d}"
            params = ", ".join(
                f"{rng.choice(PARAM_TYPES)} arg{i}" for i in range(rng.randint(0, 4))
            )
            returns = rng.choice(["void", "void", "u64", "unsigned long", "entry_t", "int"])
            annotations = ""
            if h % 25 == 0:
                annotations = "    @if(LEVELS >= 3)\n"
            elif h % 10 == 0:
                annotations = "    @batched @since(1)\n"
            out.append(
                f"    /// Hook {h} of table {t}.\n{annotations}    {returns} {name}({params});"
            )
            members.append(name)
            made += 1
        out.append("    lazy_ops lazy_mode;\n}\n")
        names.append((table, members))
    out.append("/// Bare hardware.\nbackend native default;\n")
    for b in range(BACKENDS):
        out.append(f"/// Backend {b}.\nbackend hv{b} {{")
        for table, members in names:
            chosen = [m for m in members if rng.random() < 1 / 3]
            if chosen:
                out.append(f"    {table}: {', '.join(chosen)};")
        out.append("}\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hooks", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.out.write_text(synth_spec(args.hooks, args.seed), encoding="utf-8")


if __name__ == "__main__":
    main()
