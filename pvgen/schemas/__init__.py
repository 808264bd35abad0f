"""Schemas: the JSON schemas of pvgen's configuration and of every JSON output.

Takes: nothing; the schemas are package data, read with importlib.resources.
Hands on: `NAMES` (what `pvgen schema NAME` accepts), the format version of each JSON output,
`text(name)` and `load(name)`, and
`tool_schema`, the entry point through which validate-pyproject checks `[tool.pvgen]`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

NAMES = ("config", "check", "dump", "diff", "sim", "rules", "plugin-response")

# The format version of each JSON output, in its "format" field; a change that a reader of
# the previous version could not follow raises it (the dump's lives in pvgen.dump).
CHECK_FORMAT = 1
DIFF_FORMAT = 1
SIM_FORMAT = 1
RULES_FORMAT = 1


def text(name: str) -> str:
    """The schema `name` as the JSON text the package ships."""
    if name not in NAMES:
        raise KeyError(name)
    return (resources.files(__name__) / f"{name}.json").read_text(encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(text(name))
    return schema


def tool_schema(tool_name: str = "pvgen") -> dict[str, Any]:
    """For validate-pyproject's `validate_pyproject.tool_schema` entry points."""
    return load("config")
