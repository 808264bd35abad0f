"""Entry points of installed packages, read without importlib.metadata.

Takes: a group name, and the folders of `sys.path`.
Hands on: `entry_points(group)`, the (name, value, distribution) of each entry point of the
group; `RULES_GROUP`, the group of rule plugins.
"""

from __future__ import annotations

#: The group whose entry points name the modules of rule plugins (see pvgen.plugins).
RULES_GROUP = "pvgen.rules"


def entry_points(group: str) -> list[tuple[str, str, str]]:
    """(name, value, distribution) of the entry points of `group` in the installed
    distributions on sys.path, the first of each distribution winning.

    What importlib.metadata.entry_points finds, read straight from the `entry_points.txt`
    files: importing importlib.metadata would cost `pvgen check` a hundred milliseconds.
    """
    import os
    import sys

    found: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for folder in sys.path:
        try:
            entries = [e for e in os.scandir(folder or ".") if e.name.endswith(".dist-info")]
        except OSError:
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            dist = entry.name[: -len(".dist-info")].partition("-")[0]
            key = dist.lower().replace("-", "_").replace(".", "_")
            if key in seen:
                continue
            seen.add(key)
            try:
                with open(os.path.join(entry.path, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            found += [(n, v, dist) for n, v in _section(text, group)]
    return found


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """The `name = value` lines of section [group] of an entry_points.txt."""
    pairs = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs
