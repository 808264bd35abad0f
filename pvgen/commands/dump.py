"""`pvgen dump`: print the resolved model of one spec as canonical JSON.

Takes: one root spec (or the only one of `[tool.pvgen] specs`).
Hands on: the dump on stdout.
"""

from __future__ import annotations

import argparse
import sys

from ..config import Config
from ..diagnostics import SpecError
from .base import EXIT_OK, UsageError, report_spec_error, spec_paths

NAME = "dump"
HELP = "print the resolved model"
DESCRIPTION = "Print the resolved model of one spec as canonical JSON."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", metavar="SPEC", help="root .pvspec file")
    parser.add_argument("--format", choices=["json"], default="json", help="output format")


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import api

    paths = spec_paths([args.path] if args.path else [], config)
    if len(paths) != 1:
        raise UsageError("dump takes one spec; name it on the command line")
    try:
        abi = api.load_abi(paths[0], config)
    except SpecError as exc:
        return report_spec_error(exc)
    sys.stdout.write(api.dump_json(abi))
    return EXIT_OK
