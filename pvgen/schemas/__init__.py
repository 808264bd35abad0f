"""Schemas: the JSON schemas of pvgen's configuration and of every JSON output.

Takes: nothing; the schemas are package data, read with importlib.resources.
Hands on: `NAMES` (what `pvgen schema NAME` accepts), `text(name)` and `load(name)`, and
`tool_schema`, the entry point through which validate-pyproject checks `[tool.pvgen]`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

NAMES = ("config",)


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
