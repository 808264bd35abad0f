"""`pvgen diff`: classify every change between two versions of an ABI.

Takes: OLD and NEW (a spec, a frozen `.json` dump, or `git:REF[:PATH]`), or `--against REF`
for the configured spec; `--format`; `--fail-on`.
Hands on: the report on stdout, and an exit status that is a bitmask: 0 no change, 1 an
error in a spec, 2 bad usage, 4 the ABI changed, 8 a breaking change (not accepted). With
`--fail-on breaking` a change that breaks nothing exits 0; with `--fail-on never`, every
change does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..diagnostics import SpecError
from .base import EXIT_FINDINGS, EXIT_USAGE, UsageError, error, print_errors

if TYPE_CHECKING:
    from ..abi.changes import Change

NAME = "diff"
HELP = "compare two versions of an ABI"
DESCRIPTION = (
    "Compare two versions of an ABI and classify every change. Each side is a spec file, a"
    " frozen dump (.json), or git:REF[:PATH]. Exit status is a bitmask: 0 no change, 1 error"
    " in a spec, 2 usage error, 4 the ABI changed, 8 a breaking change (see --fail-on)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", nargs="?", metavar="OLD")
    parser.add_argument("new", nargs="?", metavar="NEW")
    parser.add_argument(
        "--against", metavar="git:REF", help="compare the working spec with a git revision"
    )
    parser.add_argument(
        "--format",
        choices=["text", "json", "markdown", "github", "sarif"],
        default="text",
        help="report format",
    )
    parser.add_argument(
        "--fail-on",
        choices=["changed", "breaking", "never"],
        default="changed",
        help="what makes the exit status non-zero: any change (default), a breaking change"
        " not accepted in accepted.toml, or nothing (errors still do)",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from .. import api
    from ..abi.accept import AcceptError
    from ..abi.report import RENDERERS, exit_bits
    from ..abi.sides import SideError

    if args.against:
        if args.old or args.new:
            raise UsageError("give either OLD NEW or --against REF, not both")
        if not config.specs:
            raise UsageError("--against needs the specs listed in [tool.pvgen]")
        sides = (args.against, str(config.specs[0]))
    elif args.old and args.new:
        sides = (args.old, args.new)
    else:
        raise UsageError("name two versions: pvgen diff OLD NEW, or pvgen diff --against git:REF")
    try:
        result = api.diff(*sides, config)
    except (SideError, AcceptError) as exc:
        error(str(exc))
        return EXIT_USAGE
    except SpecError as exc:
        print_errors(exc)
        return EXIT_FINDINGS  # in diff's bitmask, 2 is bad usage only
    old, new = result.old["abi"], result.new["abi"]
    title = (
        f"ABI '{new['name']}': version {old['version']} ({sides[0]}) -> "
        f"{new['version']} ({sides[1]})"
    )
    changes = list(result.changes)
    new_spec = sides[1]
    if (
        args.format in ("github", "sarif")
        and not new_spec.startswith("git:")
        and not new_spec.endswith(".json")
    ):
        # Annotations land on files of the checkout: name them from the working directory,
        # not from the spec root as the dump does.
        changes = on_disk(changes, config.spec_root or Path(new_spec).parent)
    sys.stdout.write(RENDERERS[args.format](title, changes, list(result.unused_acceptances)))
    return exit_bits(changes, stable=result.stable, fail_on=args.fail_on)


def on_disk(changes: list[Change], spec_root: Path) -> list[Change]:
    """`changes` with the files of new-side locations relative to the working directory."""
    import os
    from dataclasses import replace

    def moved(change: Change) -> Change:
        loc = change.location
        if loc is None or loc.side != "new":
            return change
        path = Path(os.path.relpath(spec_root / loc.file)).as_posix()
        return replace(change, location=replace(loc, file=path))

    return [moved(c) for c in changes]
