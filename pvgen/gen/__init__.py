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
    abi: object,
    options: GenOptions | None = None,
    families: Collection[str] = FAMILIES,
    *,
    workers: int = 1,
) -> list[OutputFile]:
    """Every output of one ABI (or of the chosen `families`), sorted by path.

    With `workers` > 1 (for single-threaded callers, such as the command line: see
    parallel.py), abi.json, about half of the rendering, is rendered in a second process
    while this one renders the C and Python files; the files are the same either way.
    """
    from ..model import Abi
    from . import abi_json, c, python
    from .parallel import render_aside

    assert isinstance(abi, Abi)
    options = options or GenOptions()
    files: list[OutputFile] = []
    aside = render_aside(lambda: abi_json.render(abi), workers if "abi" in families else 1)
    # Serially, abi.json first: its dump is the largest structure rendering builds, and it
    # is freed before the other files are made, not on top of them.
    if "abi" in families and aside.child is None:
        files.append(abi_json.render(abi))
    try:
        if "c" in families:
            files += c.render(abi, options)
        if "python" in families:
            files += python.render(abi, options)
    finally:
        # The child is waited for even when rendering here failed.
        delivered = aside.result()
    if aside.child is not None:
        # What the child could not deliver is rendered here, raising what a serial run would.
        files.append(delivered or abi_json.render(abi))
    return sorted(files, key=lambda f: f.path)
