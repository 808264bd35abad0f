"""Rule documentation: `pvgen rules`, `pvgen rules PVnnn` and docs/rules.md, from the registry.

Takes: the rule registry.
Hands on: a one-line-per-rule listing, a full explanation with the bad and
good examples, and the Markdown of docs/rules.md (a test keeps it current).
"""

from __future__ import annotations

from .registry import Rule, all_rules


def listing() -> str:
    rules = all_rules().values()
    width = max(len(r.name) for r in rules)
    lines = [f"{r.id}  {r.name:<{width}}  {str(r.severity):<7}  {r.purpose}" for r in rules]
    return "\n".join(lines) + "\n"


def explain(rule: Rule) -> str:
    indent = "    "
    bad = "\n".join(indent + line for line in rule.bad.splitlines())
    good = "\n".join(indent + line for line in rule.good.splitlines())
    return (
        f"{rule.id} {rule.name} (default severity: {rule.severity})\n\n"
        f"{rule.purpose}\n\n"
        f"Breaks the rule:\n\n{bad}\n\n"
        f"Keeps it:\n\n{good}\n\n"
        f'Accept a finding on purpose with @allow({rule.id}, reason = "...") on the declaration.\n'
    )


def markdown() -> str:
    rules = all_rules().values()
    out = [
        "# Rules",
        "",
        "The safeguards `pvgen check` runs on every spec. This page is generated from the rule",
        "registry (`pvgen rules --markdown > docs/rules.md`); a test fails when it is stale.",
        "",
        "Findings at error severity make `pvgen check` exit 1; `--werror` counts warnings too.",
        'A finding is accepted on purpose with `@allow(PVnnn, reason = "...")` on the',
        "declaration it concerns (or any declaration around it, or the `abi` block), or for whole",
        "files with `[[tool.pvgen.allow]]` in pyproject.toml (`rule`, `path` glob, `reason`).",
        "An allow that accepts nothing is itself reported (PV001).",
        "",
        "Besides these rules, the compiler itself rejects (as errors without a rule ID, `PV000` in",
        "machine formats) what cannot be given a meaning: unknown names, duplicate names, names",
        "that are C, C++ or Python keywords, opaque structs used by value, and the like.",
        "",
        "| ID | name | severity | purpose |",
        "|---|---|---|---|",
    ]
    out += [f"| [{r.id}](#{r.id.lower()}) | {r.name} | {r.severity} | {r.purpose} |" for r in rules]
    for r in rules:
        out += [
            "",
            f"## {r.id}",
            "",
            f"**{r.name}**, default severity {r.severity}. {r.purpose}",
            "",
            "Breaks the rule:",
            "",
            "```pvspec",
            r.bad,
            "```",
            "",
            "Keeps it:",
            "",
            "```pvspec",
            r.good,
            "```",
        ]
    return "\n".join(out) + "\n"
