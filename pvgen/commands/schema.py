"""`pvgen schema`: print one of the JSON schemas the package ships.

Takes: a schema name (`config`, or the name of a JSON output).
Hands on: the schema on stdout; with no name, the list of names; exit 2 for an unknown name.
"""

from __future__ import annotations

import argparse
import sys

from ..config import Config
from .base import EXIT_OK, UsageError

NAME = "schema"
HELP = "print the JSON schema of the configuration or of an output"
DESCRIPTION = (
    "Print the JSON schema of pvgen's configuration (config), for editors and"
    " validate-pyproject, or of a JSON output, for tools that read it. With no name, list the"
    " names."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help="which schema")


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import schemas
    from ..diagnostics import did_you_mean

    if args.name is None:
        sys.stdout.write("".join(name + "\n" for name in schemas.NAMES))
    elif args.name in schemas.NAMES:
        sys.stdout.write(schemas.text(args.name))
    else:
        raise UsageError(
            f"unknown schema '{args.name}'; choose from {', '.join(schemas.NAMES)}"
            + did_you_mean(args.name, schemas.NAMES)
        )
    return EXIT_OK
