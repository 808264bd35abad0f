"""`pvgen lsp`: the language server, for editors.

Takes: the Language Server Protocol on stdin (an editor starts `pvgen lsp`; `--stdio`, which
some clients add, is accepted and changes nothing). Each spec is checked under the
configuration found from its own folder, or under the one `--config` names.
Hands on: the protocol's answers on stdout, until the editor says exit; see `pvgen.lsp`.
pygls, on which the server is built, is imported only here, when the server starts.
"""

from __future__ import annotations

import argparse
import gc

from ..config import Config
from .base import EXIT_OK

NAME = "lsp"
HELP = "run the language server (LSP over stdio) for editors"
DESCRIPTION = (
    "Run the language server over stdin and stdout: diagnostics as you type, hover, go to"
    " definition, references, completion, outline, formatting and quick fixes for .pvspec"
    " files. Editors start it; see docs/editors.md."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="talk over stdin and stdout (the only way; the default)",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from ..lsp.server import serve

    gc.enable()  # a long-lived process: cycles must be collected (the CLI turns this off)
    serve(config if getattr(args, "config", None) else None)
    return EXIT_OK
