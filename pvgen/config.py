"""Config: one schema, read from `pvgen.toml` or from `[tool.pvgen]` of a pyproject.toml.

Takes: the working directory, or an explicit configuration file (`--config PATH`).
Hands on: `Config`, with spec paths and folders made absolute against the folder of the
file that declared them, and `RuleSettings`: the thresholds of the checks and the
severity each rule's findings get (or that the rule is off). Unknown keys are errors, so
that a typo does not silently fall back to a default.

Discovery walks up from the working directory; in each folder a `pvgen.toml` wins over a
pyproject.toml, and a pyproject.toml without a `[tool.pvgen]` table is passed over (a C
tree may hold Python tools of its own). The same keys, described by `KEYS` and published
as the JSON schema `pvgen schema config`, are valid in both files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from types import MappingProxyType

from .diagnostics import Severity, did_you_mean
from .records import record

CONFIG_FILE = "pvgen.toml"
PYPROJECT = "pyproject.toml"

KEYS = {
    "specs": "root spec files, each one ABI (list of paths)",
    "spec_root": "folder that includes may not leave (default: each root spec's folder)",
    "out": "output folder for generated code (default: generated)",
    "abi_dir": "folder of frozen ABI dumps (default: 'abi' beside each root spec)",
    "rules": "thresholds of the checks, and a severity (or off) per rule ID (a table)",
    "allow": "findings accepted for whole files (an array of tables)",
    "plugins": "generator plugins 'pvgen generate' runs: NAME runs pvgen-gen-NAME (list)",
}
RULE_KEYS = {
    "hot_callsites": "call sites above which a hook counts as hot (default 100)",
    "deprecation_window": "versions a member may stay deprecated (default 2)",
}
ALLOW_KEYS = ("rule", "path", "reason")
# What a rule ID may be set to in [rules]; None turns the rule off.
LEVELS: Mapping[str, Severity | None] = MappingProxyType(
    {"error": Severity.ERROR, "warning": Severity.WARNING, "note": Severity.NOTE, "off": None}
)
RULE_ID = re.compile(r"PV\d{3}")
PLUGIN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@record
class RuleSettings:
    """Thresholds of the checks, and the severity of each rule set in `[rules]`."""

    hot_callsites: int = 100
    deprecation_window: int = 2
    # Rule ID -> the severity its findings get, or None: the rule is off.
    levels: Mapping[str, Severity | None] = field(default_factory=dict)

    def level(self, rule_id: str, default: Severity) -> Severity | None:
        return self.levels.get(rule_id, default)


@record
class FileAllow:
    """`[[allow]]`: accept findings of `rule` in files matching `path`."""

    rule: str
    path: str  # a glob, relative to `base`
    reason: str
    base: Path  # the folder of the configuration file


class ConfigError(Exception):
    """A configuration that cannot be used; the message names file and key."""


@record
class Config:
    path: Path | None  # the pvgen.toml or pyproject.toml, or None when there is none
    specs: tuple[Path, ...] = ()
    spec_root: Path | None = None
    out: Path = field(default_factory=lambda: Path("generated"))
    abi_dir: Path | None = None
    rules: RuleSettings = field(default_factory=RuleSettings)
    allow: tuple[FileAllow, ...] = ()
    plugins: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        """How messages name the table the keys are in."""
        if self.path is not None and self.path.name == PYPROJECT:
            return "[tool.pvgen]"
        return self.path.name if self.path is not None else CONFIG_FILE


def find_config(start: Path) -> tuple[Path, dict[str, object]] | None:
    """The nearest pvgen.toml, or pyproject.toml with a [tool.pvgen] table, at or above
    `start`, with its table of keys."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate, _read(candidate)
        candidate = folder / PYPROJECT
        if candidate.is_file():
            table = _tool_table(candidate, _read(candidate))
            if table is not None:
                return candidate, table
    return None


def load_config(start: Path | None = None, *, path: Path | None = None) -> Config:
    """The configuration found from `start` (default: the working directory), or the one in
    `path` (a pvgen.toml, a pyproject.toml with [tool.pvgen], or a TOML file of any other
    name with the keys at its top level)."""
    start = (start or Path.cwd()).resolve()
    if path is not None:
        path = path.resolve()
        data = _read(path)
        if path.name == PYPROJECT:
            table = _tool_table(path, data)
            if table is None:
                raise ConfigError(f"{path}: has no [tool.pvgen] table")
        else:
            table = data
        return parse_config(path, table)
    found = find_config(start)
    if found is None:
        return Config(None, out=start / "generated")
    return parse_config(*found)


def _read(path: Path) -> dict[str, object]:
    try:
        import tomllib  # only where there is a configuration file to read

        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, ValueError) as exc:  # TOMLDecodeError, bad UTF-8, a 5,000-digit int
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None


def _tool_table(path: Path, data: dict[str, object]) -> dict[str, object] | None:
    tool = data.get("tool", {})
    table = tool.get("pvgen") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.pvgen] must be a table")
    return table


def parse_config(path: Path, table: Mapping[str, object]) -> Config:
    """A `Config` from the keys of `table`, found in the file `path`."""
    where = "[tool.pvgen]" if path.name == PYPROJECT else path.name
    prefix = "tool.pvgen." if path.name == PYPROJECT else ""
    for key in table:
        if key not in KEYS:
            raise ConfigError(f"{path}: unknown key '{key}' in {where}" + did_you_mean(key, KEYS))
    specs = table.get("specs", [])
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise ConfigError(f"{path}: {where} 'specs' must be a list of paths")
    for key in ("spec_root", "out", "abi_dir"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"{path}: {where} '{key}' must be a path")
    plugins = table.get("plugins", [])
    if not isinstance(plugins, list) or not all(
        isinstance(p, str) and PLUGIN_NAME.fullmatch(p) for p in plugins
    ):
        raise ConfigError(
            f"{path}: {where} 'plugins' must be a list of names (lower-case letters, digits,"
            " '-' and '_')"
        )
    base = path.parent
    return Config(
        path,
        specs=tuple(base / str(s) for s in specs),
        spec_root=base / str(table["spec_root"]) if "spec_root" in table else None,
        out=base / str(table.get("out", "generated")),
        abi_dir=base / str(table["abi_dir"]) if "abi_dir" in table else None,
        rules=_rule_settings(path, f"[{prefix}rules]", table.get("rules", {})),
        allow=_file_allows(path, f"[[{prefix}allow]]", table.get("allow", [])),
        plugins=tuple(str(p) for p in plugins),
    )


def _rule_settings(path: Path, where: str, table: object) -> RuleSettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    thresholds: dict[str, int] = {}
    levels: dict[str, Severity | None] = {}
    for key, value in table.items():
        if RULE_ID.fullmatch(key):
            if not isinstance(value, str) or value not in LEVELS:
                raise ConfigError(
                    f"{path}: {where} '{key}' must be one of " + ", ".join(map(repr, LEVELS))
                )
            levels[key] = LEVELS[value]
        elif key in RULE_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{path}: {where} '{key}' must be a whole number")
            thresholds[key] = value
        else:
            raise ConfigError(
                f"{path}: unknown key '{key}' in {where} (a threshold, or a rule ID such as"
                " PV111)" + did_you_mean(key, RULE_KEYS)
            )
    return RuleSettings(**thresholds, levels=levels)


def _file_allows(path: Path, where: str, entries: object) -> tuple[FileAllow, ...]:
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'allow' must be an array of tables ({where})")
    allows = []
    for number, entry in enumerate(entries, 1):
        here = f"{path}: {where} entry {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{here} must be a table")
        for key in entry:
            if key not in ALLOW_KEYS:
                raise ConfigError(f"{here}: unknown key '{key}'" + did_you_mean(key, ALLOW_KEYS))
        for key in ALLOW_KEYS:
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ConfigError(f"{here} needs '{key}' (a non-empty string)")
        allows.append(FileAllow(entry["rule"], entry["path"], entry["reason"], path.parent))
    return tuple(allows)
