"""The kernel's own numbers, worked out from tests/facts/linux-paravirt-history.json.

Nothing here reads a spec or pvgen's output: member order, `#if` conditions and the patch
template come from the facts file, the configurations from the kernel's Kconfig, so that
tests can hold pvgen's numbers to the kernel's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

FACTS = Path(__file__).resolve().parent / "facts" / "linux-paravirt-history.json"

# The configurations of the 2.6.2x x86 builds that the shipped specs name as targets: a
# classic 32-bit kernel (2-level paging, page tables in highmem), the same with PAE, and the
# 64-bit kernel. PAGETABLE_LEVELS is what <asm/pgtable_types.h> derives from them.
CONFIGS: Mapping[str, Mapping[str, int]] = {
    "i386": {
        "CONFIG_X86_32": 1,
        "CONFIG_X86_LOCAL_APIC": 1,
        "CONFIG_HIGHPTE": 1,
        "PAGETABLE_LEVELS": 2,
    },
    "i386_pae": {
        "CONFIG_X86_32": 1,
        "CONFIG_X86_PAE": 1,
        "CONFIG_X86_LOCAL_APIC": 1,
        "CONFIG_HIGHPTE": 1,
        "PAGETABLE_LEVELS": 3,
    },
    "x86_64": {"CONFIG_X86_64": 1, "CONFIG_X86_LOCAL_APIC": 1, "PAGETABLE_LEVELS": 4},
}


@cache
def release(version: str) -> Any:
    """The facts of one release, such as 'v2.6.26'."""
    return json.loads(FACTS.read_text(encoding="utf-8"))["versions"][version]


_TOKEN = re.compile(r"\s*(defined\s*\(\s*\w+\s*\)|&&|\|\||[!=<>]=|[<>()!]|\w+)")


def holds(condition: str | None, config: Mapping[str, int]) -> bool:
    """Whether a preprocessor condition as the facts file writes it holds in `config`."""
    if condition is None:
        return True
    words: list[str] = []
    position = 0
    text = condition.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match is not None, f"cannot read {condition!r}"
        token = match.group(1)
        position = match.end()
        if token.startswith("defined"):
            name = token[token.index("(") + 1 : -1].strip()
            words.append(str(name in config))
        elif token == "&&":
            words.append("and")
        elif token == "||":
            words.append("or")
        elif token == "!":
            words.append("not")
        elif token.isdigit() or not token[0].isalnum() and token[0] != "_":
            words.append(token)
        else:  # an undefined macro is 0 in #if
            words.append(str(config.get(token, 0)))
    return bool(eval(" ".join(words), {"__builtins__": {}}))  # noqa: S307 - our own tokens


def walk(
    version: str, table: str, config: Mapping[str, int], prefix: str = ""
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path under `table`, member) of every member present in `config`, nested tables
    expanded, in declaration order."""
    for member in release(version)["tables"][table]:
        if not holds(member.get("cond"), config):
            continue
        if member["kind"] == "nested":
            yield from walk(version, member["type"], config, f"{prefix}{member['name']}.")
        else:
            yield prefix + member["name"], member


def patch_ids(version: str, target: str) -> dict[str, int]:
    """Each hook's PARAVIRT_PATCH number: its slot in struct paravirt_patch_template, whose
    members are whole tables, each holding function pointers only. Paths are named after
    each table's type (pv_irq_ops.save_fl), as the specs name them."""
    config = CONFIGS[target]
    ids: dict[str, int] = {}
    for entry in release(version)["tables"]["paravirt_patch_template"]:
        assert entry["kind"] == "nested" and not entry.get("cond")
        for path, member in walk(version, entry["type"], config):
            assert member["kind"] in ("fn", "callee_save"), member  # one pointer each
            ids[f"{entry['type']}.{path}"] = len(ids)
    return ids


def template_tables(version: str) -> list[str]:
    """The tables of struct paravirt_patch_template, in its order."""
    return [e["type"] for e in release(version)["tables"]["paravirt_patch_template"]]


def hook_count(version: str, target: str) -> int:
    """The hooks a kernel built for `target` has: every function slot of every table that is
    not nested in another (nested tables counted where they are embedded)."""
    tables = {
        name: members
        for name, members in release(version)["tables"].items()
        # The template embeds the others; struct paravirt_callee_save is a hook's type.
        if name not in ("paravirt_patch_template", "paravirt_callee_save")
    }
    nested = {m["type"] for ms in tables.values() for m in ms if m["kind"] == "nested"}
    count = 0
    for name in tables:
        if name in nested:
            continue
        count += sum(1 for _, m in walk(version, name, CONFIGS[target]) if m["kind"] != "data")
    return count


# Where each backend of 2.6.26 can be built, from the kernel's Kconfig: Xen needs a 32-bit
# PAE kernel, lguest a 32-bit kernel without PAE, VMI a 32-bit kernel; KVM's guest support
# and bare hardware build everywhere. Backends are named as the facts file names them.
BACKEND_TARGETS: Mapping[str, frozenset[str]] = {
    "native": frozenset(CONFIGS),
    "VMI": frozenset({"i386", "i386_pae"}),
    "Xen": frozenset({"i386_pae"}),
    "lguest": frozenset({"i386"}),
    "KVM": frozenset(CONFIGS),
}


def set_by(version: str, backend: str) -> set[str]:
    """The members `backend` assigns, as table.path ('pv_cpu_ops.lazy_mode.enter')."""
    return {
        f"{e['table']}.{e['hook']}"
        for e in release(version)["backends_set"][backend]
        if e["hook"] != "*"
    }


def copied_tables(version: str, backend: str) -> set[str]:
    """The tables `backend` replaces by copying a whole struct over them."""
    return {
        e["table"] for e in release(version)["backends_set"][backend] if e["how"] == "table-copy"
    }


def null_hooks(version: str, backend: str, target: str) -> set[str]:
    """The function slots that are NULL in a kernel built for `target` running on `backend`:
    in a table the backend copies whole, what it does not set; elsewhere, what neither it nor
    native (whose static tables are the starting point) sets."""
    tables = {
        name: members
        for name, members in release(version)["tables"].items()
        if name not in ("paravirt_patch_template", "paravirt_callee_save")
    }
    nested = {m["type"] for ms in tables.values() for m in ms if m["kind"] == "nested"}
    own, native = set_by(version, backend), set_by(version, "native")
    copied = copied_tables(version, backend)
    found = set()
    for name in tables:
        if name in nested:
            continue
        for path, member in walk(version, name, CONFIGS[target]):
            full = f"{name}.{path}"
            if member["kind"] == "data" or full in own:
                continue
            if name in copied or full not in native:
                found.add(full)
    return found
