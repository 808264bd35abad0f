"""`pvgen freeze`: freeze the canonical dump of each spec's current ABI version.

Takes: root spec paths (or `[tool.pvgen] specs`).
Hands on: `<abi_dir>/<abi>/<version>.json` written once; exit 1 when a version is already
frozen with different content or a spec has errors.
"""

from __future__ import annotations

import argparse

from ..config import Config
from ..diagnostics import SpecError
from ..source import display_name
from .base import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, error, print_errors, spec_paths

NAME = "freeze"
HELP = "freeze the current version's ABI dump"
DESCRIPTION = (
    "Write the canonical dump of the spec's version to <abi_dir>/<abi>/<version>.json; a"
    " frozen version is never overwritten with different content."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="SPEC", help="root .pvspec files")


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import api
    from ..abi.freeze import FreezeError
    from ..gen.writer import WriteError

    status = EXIT_OK
    for path in spec_paths(args.paths, config):
        try:
            abi = api.load_abi(path, config)
            written_to, written = api.freeze(abi, path, config)
        except SpecError as exc:
            print_errors(exc)
            status = max(status, EXIT_FINDINGS)
            continue
        except FreezeError as exc:
            error(str(exc))
            status = max(status, EXIT_FINDINGS)
            continue
        except (OSError, WriteError) as exc:
            error(f"cannot freeze '{display_name(path)}': {exc}")
            status = max(status, EXIT_USAGE)
            continue
        verb = "froze" if written else "already frozen:"
        print(f"{verb} version {abi.version} of '{abi.name}' in {display_name(written_to)}")
    return status
