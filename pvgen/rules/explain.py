"""Rule documentation: `pvgen rules`, `pvgen rules PVnnn` and docs/rules.md, from the registry.

Takes: the rule registry, all three categories (compiler, spec, change).
Hands on: a listing grouped by category, one line per rule; a full
explanation of one rule with its examples (bad and good for the compiler
and the spec rules, old and new versions for a change); and the Markdown of
docs/rules.md (a test keeps it current).
"""

from __future__ import annotations

from .registry import Category, ChangeRule, CompilerRule, Rule, RuleInfo, every_rule, rules_of

HEADINGS = {
    Category.COMPILER: "Compiler errors (PV000 in machine formats)",
    Category.SPEC: "Spec rules (pvgen check)",
    Category.CHANGE: "Change rules (pvgen diff; the class is the default)",
}

_ALLOW = (
    'Accept a finding on purpose with @allow({id}, reason = "...") on the declaration,'
    " or for whole files with [[allow]] in pvgen.toml ([[tool.pvgen.allow]] in"
    ' pyproject.toml); set its severity, or turn it off, with {id} = "..." under [rules].'
)
_COMPILER_NOTE = (
    "The text output prints these as 'error:' without a rule ID; --format json, github and"
    " sarif give them the ID PV000. They cannot be accepted with @allow: a spec means nothing"
    " until they are fixed, so 'pvgen check' exits 1 and nothing is generated."
)
_ACCEPT = (
    "A breaking change made on purpose is accepted in accepted.toml beside the frozen dumps"
    " (rule, item as the report names it, the new version, and a reason)."
)


def _column(entry: RuleInfo) -> str:
    """The third column of a listing: the default class of a change, else the severity."""
    if isinstance(entry, ChangeRule):
        return str(entry.change_class)
    return str(entry.severity)


def listing() -> str:
    entries = list(every_rule().values())
    name_width = max(len(r.name) for r in entries)
    column_width = max(len(_column(r)) for r in entries)
    blocks = []
    for category in Category:
        lines = [f"{HEADINGS[category]}:"]
        lines += [
            f"{r.id}  {r.name:<{name_width}}  {_column(r):<{column_width}}  {r.purpose}"
            for r in rules_of(category)
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _indented(text: str) -> str:
    return "\n".join("    " + line if line else "" for line in text.splitlines())


def explain(entry: RuleInfo) -> str:
    """The full text of `pvgen rules ID`."""
    if isinstance(entry, Rule):
        return (
            f"{entry.id} {entry.name} (spec rule, default severity: {entry.severity})\n\n"
            f"{entry.purpose}\n\n"
            f"Breaks the rule:\n\n{_indented(entry.bad)}\n\n"
            f"Keeps it:\n\n{_indented(entry.good)}\n\n"
            f"{_ALLOW.format(id=entry.id)}\n"
        )
    if isinstance(entry, ChangeRule):
        note = f"{entry.kind.note}\n\n" if entry.kind.note else ""
        return (
            f"{entry.id} {entry.name} (change rule, class: {entry.change_class})\n\n"
            f"{entry.purpose} Reported by 'pvgen diff OLD NEW'.\n\n"
            f"{note}"
            f"An old version:\n\n{_indented(entry.kind.old)}\n\n"
            f"and a new one that 'pvgen diff' reports as {entry.id}:\n\n"
            f"{_indented(entry.kind.new)}\n\n"
            f"{_ACCEPT}\n"
        )
    assert isinstance(entry, CompilerRule), entry
    return (
        f"{entry.id} {entry.name} (compiler error)\n\n"
        f"{entry.purpose}\n\n"
        f"{_COMPILER_NOTE}\n\n"
        f"Rejected:\n\n{_indented(entry.bad)}\n\n"
        f"Accepted:\n\n{_indented(entry.good)}\n"
    )


def _table(entries: list[RuleInfo], third: str) -> list[str]:
    rows = [f"| ID | name | {third} | purpose |", "|---|---|---|---|"]
    rows += [
        f"| [{r.id}](#{r.id.lower()}) | {r.name} | {_column(r)} | {r.purpose} |" for r in entries
    ]
    return rows


def _example(label: str, text: str) -> list[str]:
    return [label, "", "```pvspec", text, "```"]


def markdown() -> str:
    out = [
        "# Rules",
        "",
        "Every ID that pvgen prints, in three categories: the compiler's own errors (PV000),",
        "the spec rules that `pvgen check` runs (PV0nn, PV1nn) and the kinds of change that",
        "`pvgen diff` reports (PV2nn). `pvgen rules` lists them and `pvgen rules PVnnn`",
        "explains one. This page is generated from the rule registry",
        "(`pvgen rules --markdown > docs/rules.md`); a test fails when it is stale.",
        "",
        "## Compiler errors",
        "",
        "The compiler itself rejects what cannot be given a meaning. The text output prints",
        "these errors without a rule ID; JSON, GitHub and SARIF output give them the ID PV000.",
        "They cannot be accepted: a spec means nothing until they are fixed.",
        "",
        *_table(rules_of(Category.COMPILER), "severity"),
    ]
    for r in rules_of(Category.COMPILER):
        assert isinstance(r, CompilerRule)
        out += ["", f"### {r.id}", "", f"**{r.name}**, error. {r.purpose}", ""]
        out += _example("Rejected:", r.bad) + [""] + _example("Accepted:", r.good)
    out += [
        "",
        "## Spec rules",
        "",
        "The safeguards `pvgen check` runs on every spec.",
        "Findings at error severity make `pvgen check` exit 1; `--werror` counts warnings too.",
        'A finding is accepted on purpose with `@allow(PVnnn, reason = "...")` on the',
        "declaration it concerns (or any declaration around it, or the `abi` block), or for whole",
        "files with `[[allow]]` in pvgen.toml or `[[tool.pvgen.allow]]` in pyproject.toml (`rule`,",
        "`path` glob, `reason`). An allow that accepts nothing is itself reported (PV001).",
        'A project sets a rule\'s severity under `[rules]` (`PV111 = "note"`, or `"off"`), and',
        "`pvgen check --select`/`--ignore` choose rules by ID prefix for one run. Installed",
        "packages add rules with IDs of their own range ([plugins.md](plugins.md)).",
        "",
        *_table(rules_of(Category.SPEC), "severity"),
    ]
    for r in rules_of(Category.SPEC):
        assert isinstance(r, Rule)
        out += ["", f"### {r.id}", "", f"**{r.name}**, default severity {r.severity}. {r.purpose}"]
        out += [""] + _example("Breaks the rule:", r.bad) + [""] + _example("Keeps it:", r.good)
    out += [
        "",
        "## Change rules",
        "",
        "The kinds of change `pvgen diff OLD NEW` reports between two versions of an ABI. Each",
        "change has a class, in increasing gravity: cosmetic (nothing a consumer can notice),",
        "compatible (consumers built against the old version keep working), source-breaking",
        "(binaries keep working, code stops compiling) and breaking (a consumer built against",
        "the old version misbehaves with the new). The class below is the default; where a",
        "change may be classed otherwise, its entry says how. A breaking change made on purpose",
        "is accepted in `accepted.toml` beside the frozen dumps (`rule`, `item`, `version`,",
        "`reason`). Each example is a diff that reports its rule (a test runs them). Every",
        "change carries the place of its item: in the new version where the item exists there,",
        "else in the old one.",
        "",
        *_table(rules_of(Category.CHANGE), "class"),
    ]
    for r in rules_of(Category.CHANGE):
        assert isinstance(r, ChangeRule)
        note = f" {r.kind.note}" if r.kind.note else ""
        out += ["", f"### {r.id}", "", f"**{r.name}**, class {r.change_class}. {r.purpose}{note}"]
        out += [""]
        out += _example("An old version:", r.kind.old) + [""]
        out += _example(f"and a new one that `pvgen diff` reports as {r.id}:", r.kind.new)
    return "\n".join(out) + "\n"
