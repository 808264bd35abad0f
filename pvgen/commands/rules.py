"""`pvgen rules`: the catalogue of every rule ID, one explained, or docs/rules.md.

Takes: an optional rule ID, `--markdown`, `--format`.
Hands on: text (or JSON, `pvgen schema rules`) on stdout; exit 2 for an unknown ID, with the
nearest IDs suggested.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..config import Config
from .base import EXIT_OK, UsageError

if TYPE_CHECKING:
    from ..rules.registry import RuleInfo

NAME = "rules"
HELP = "list the rule IDs, or explain one"
DESCRIPTION = (
    "List every rule ID pvgen prints (compiler errors, the rules of 'pvgen check', the changes"
    " of 'pvgen diff'), or explain one with examples."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule", nargs="?", metavar="ID", help="a rule ID such as PV104 or PV205")
    parser.add_argument("--markdown", action="store_true", help="print docs/rules.md")
    parser.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="json: the catalogue (or the one rule) for tools (default: text)",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from ..diagnostics import did_you_mean
    from ..rules.explain import explain, listing, markdown
    from ..rules.registry import every_rule

    rules = every_rule()
    if args.format == "json":
        if args.rule is not None and args.rule.upper() not in rules:
            raise UsageError(f"unknown rule '{args.rule}'" + did_you_mean(args.rule.upper(), rules))
        chosen = [rules[args.rule.upper()]] if args.rule else list(rules.values())
        sys.stdout.write(catalogue_json(chosen))
    elif args.markdown:
        sys.stdout.write(markdown())
    elif args.rule is None:
        sys.stdout.write(listing())
    elif args.rule.upper() in rules:
        sys.stdout.write(explain(rules[args.rule.upper()]))
    else:
        raise UsageError(f"unknown rule '{args.rule}'" + did_you_mean(args.rule.upper(), rules))
    return EXIT_OK


def catalogue_json(entries: Sequence[RuleInfo]) -> str:
    """The rules as JSON: ID, name, category, default severity (a change's is that of its
    class, which is given too), purpose, and where the rule comes from."""
    import json

    from .. import __version__
    from ..rules.registry import ChangeRule
    from ..schemas import RULES_FORMAT

    rules = [
        {
            "id": r.id,
            "name": r.name,
            "category": str(r.category),
            "severity": str(r.severity),
            "class": str(r.change_class) if isinstance(r, ChangeRule) else None,
            "purpose": r.purpose,
        }
        for r in entries
    ]
    document = {"format": RULES_FORMAT, "pvgen": __version__, "rules": rules}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
