"""Generators: the model to the files both sides of the interface compile against.

Takes: a `model.Abi` and `GenOptions`.
Hands on: `OutputFile`s (a path relative to the ABI's output folder, and the
exact text), from one module per output family: `c.py` (header and native
table), `python.py` (dispatch tables, types, backend stubs) and the ABI dump.
Nothing here touches the disk; `writer.py` does, safely.
"""

from __future__ import annotations

from .common import GenOptions, OutputFile

__all__ = ["GenOptions", "OutputFile", "render_all"]


def render_all(abi: object, options: GenOptions | None = None) -> list[OutputFile]:
    """Every output of one ABI, sorted by path."""
    from ..model import Abi
    from . import abi_json, c, python

    assert isinstance(abi, Abi)
    options = options or GenOptions()
    files = [*c.render(abi, options), *python.render(abi, options), abi_json.render(abi)]
    return sorted(files, key=lambda f: f.path)
