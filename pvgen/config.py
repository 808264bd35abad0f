"""Config: the `[tool.pvgen]` table of the nearest pyproject.toml.

Takes: the working directory (or an explicit pyproject path).
Hands on: `Config`, with spec paths and folders made absolute against the
folder of the pyproject.toml that declared them. Unknown keys are errors, so
that a typo does not silently fall back to a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import did_you_mean

KEYS = {
    "specs": "root spec files, each one ABI (list of paths)",
    "spec_root": "folder that includes may not leave (default: each root spec's folder)",
    "out": "output folder for generated code (default: generated)",
    "abi_dir": "folder of frozen ABI dumps (default: 'abi' beside each root spec)",
    "rules": "thresholds of the checks (a table)",
    "allow": "findings accepted for whole files (an array of tables)",
}
RULE_KEYS = {
    "hot_callsites": "call sites above which a hook counts as hot (default 100)",
    "deprecation_window": "versions a member may stay deprecated (default 2)",
}
ALLOW_KEYS = ("rule", "path", "reason")


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of the checks, from `[tool.pvgen.rules]`."""

    hot_callsites: int = 100
    deprecation_window: int = 2


@dataclass(frozen=True)
class FileAllow:
    """`[[tool.pvgen.allow]]`: accept findings of `rule` in files matching `path`."""

    rule: str
    path: str  # a glob, relative to `base`
    reason: str
    base: Path  # the folder of the pyproject.toml


class ConfigError(Exception):
    """A pyproject.toml that cannot be used; the message names file and key."""


@dataclass(frozen=True)
class Config:
    path: Path | None  # the pyproject.toml, or None when there is none
    specs: tuple[Path, ...] = ()
    spec_root: Path | None = None
    out: Path = field(default_factory=lambda: Path("generated"))
    abi_dir: Path | None = None
    rules: RuleSettings = field(default_factory=RuleSettings)
    allow: tuple[FileAllow, ...] = ()


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path | None = None) -> Config:
    start = (start or Path.cwd()).resolve()
    path = find_pyproject(start)
    if path is None:
        return Config(None, out=start / "generated")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # TOMLDecodeError, bad UTF-8, a 5,000-digit int
        raise ConfigError(f"{path}: cannot read [tool.pvgen]: {exc}") from None
    table = data.get("tool", {}).get("pvgen")
    base = path.parent
    if table is None:
        return Config(path, out=base / "generated")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.pvgen] must be a table")
    for key in table:
        if key not in KEYS:
            raise ConfigError(
                f"{path}: unknown key '{key}' in [tool.pvgen]" + did_you_mean(key, KEYS)
            )
    specs = table.get("specs", [])
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise ConfigError(f"{path}: [tool.pvgen] 'specs' must be a list of paths")
    for key in ("spec_root", "out", "abi_dir"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"{path}: [tool.pvgen] '{key}' must be a path")
    return Config(
        path,
        specs=tuple(base / s for s in specs),
        spec_root=base / table["spec_root"] if "spec_root" in table else None,
        out=base / table.get("out", "generated"),
        abi_dir=base / table["abi_dir"] if "abi_dir" in table else None,
        rules=_rule_settings(path, table.get("rules", {})),
        allow=_file_allows(path, table.get("allow", [])),
    )


def _rule_settings(path: Path, table: object) -> RuleSettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.pvgen.rules] must be a table")
    for key, value in table.items():
        if key not in RULE_KEYS:
            raise ConfigError(
                f"{path}: unknown key '{key}' in [tool.pvgen.rules]" + did_you_mean(key, RULE_KEYS)
            )
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{path}: [tool.pvgen.rules] '{key}' must be a whole number")
    return RuleSettings(**table)


def _file_allows(path: Path, entries: object) -> tuple[FileAllow, ...]:
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'allow' in [tool.pvgen] must be an array of tables")
    allows = []
    for number, entry in enumerate(entries, 1):
        where = f"{path}: [[tool.pvgen.allow]] entry {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table")
        for key in entry:
            if key not in ALLOW_KEYS:
                raise ConfigError(f"{where}: unknown key '{key}'" + did_you_mean(key, ALLOW_KEYS))
        for key in ALLOW_KEYS:
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ConfigError(f"{where} needs '{key}' (a non-empty string)")
        allows.append(FileAllow(entry["rule"], entry["path"], entry["reason"], path.parent))
    return tuple(allows)
