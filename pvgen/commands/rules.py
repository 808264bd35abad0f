"""`pvgen rules`: the catalogue of every rule ID, one explained, or docs/rules.md.

Takes: an optional rule ID and `--markdown`.
Hands on: text on stdout; exit 2 for an unknown ID, with the nearest IDs suggested.
"""

from __future__ import annotations

import argparse
import sys

from ..config import Config
from .base import EXIT_OK, UsageError

NAME = "rules"
HELP = "list the rule IDs, or explain one"
DESCRIPTION = (
    "List every rule ID pvgen prints (compiler errors, the rules of 'pvgen check', the changes"
    " of 'pvgen diff'), or explain one with examples."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule", nargs="?", metavar="ID", help="a rule ID such as PV104 or PV205")
    parser.add_argument("--markdown", action="store_true", help="print docs/rules.md")


def run(args: argparse.Namespace, config: Config) -> int:
    from ..diagnostics import did_you_mean
    from ..rules.explain import explain, listing, markdown
    from ..rules.registry import every_rule

    rules = every_rule()
    if args.markdown:
        sys.stdout.write(markdown())
    elif args.rule is None:
        sys.stdout.write(listing())
    elif args.rule.upper() in rules:
        sys.stdout.write(explain(rules[args.rule.upper()]))
    else:
        raise UsageError(f"unknown rule '{args.rule}'" + did_you_mean(args.rule.upper(), rules))
    return EXIT_OK
