"""The commands of `pvgen`, one module each, its options beside its code.

Takes: nothing itself; `pvgen.cli` builds the parser from these modules.
Hands on: `COMMANDS`, in the order `pvgen --help` lists them. Each module has `NAME`,
`HELP`, `DESCRIPTION`, `add_arguments(parser)` and `run(args, config) -> exit status`;
it works through `pvgen.api` and only prints and chooses exit statuses itself.
"""

from __future__ import annotations

from . import (
    check,
    diff,
    doc,
    dump,
    fmt,
    freeze,
    generate,
    importer,
    lsp,
    report,
    rules,
    schema,
    sim,
)

COMMANDS = (
    check,
    rules,
    generate,
    diff,
    freeze,
    fmt,
    importer,
    dump,
    doc,
    sim,
    report,
    schema,
    lsp,
)

__all__ = ["COMMANDS"]
