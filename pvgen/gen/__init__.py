"""Generators: the model to the files both sides of the interface compile against.

Takes: a `model.Abi` and `GenOptions`.
Hands on: `OutputFile`s (a path relative to the ABI's output folder, and the
exact text), from one module per output family: `c.py` (header and native
table), `python.py` (dispatch tables, types, backend stubs) and the ABI dump.
Nothing here touches the disk; `writer.py` does, safely.
"""

from __future__ import annotations

from collections.abc import Collection

from .common import GenOptions, OutputFile

__all__ = ["FAMILIES", "GenOptions", "OutputFile", "render_all"]

# The output families, each the name of its folder under `<out>/<abi>/` (abi.json aside).
FAMILIES = ("c", "python", "abi")


def render_all(
    abi: object, options: GenOptions | None = None, families: Collection[str] = FAMILIES
) -> list[OutputFile]:
    """Every output of one ABI (or of the chosen `families`), sorted by path."""
    from ..model import Abi
    from . import abi_json, c, python

    assert isinstance(abi, Abi)
    options = options or GenOptions()
    files: list[OutputFile] = []
    # abi.json first: its dump is the largest structure rendering builds, and it is freed
    # before the other files are made, not on top of them.
    if "abi" in families:
        files.append(abi_json.render(abi))
    if "c" in families:
        files += c.render(abi, options)
    if "python" in families:
        files += python.render(abi, options)
    return sorted(files, key=lambda f: f.path)
