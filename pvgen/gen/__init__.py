"""Generators: the model to the files both sides of the interface compile against.

Takes: a `model.Abi` and `GenOptions`.
Hands on: `OutputFile`s (a path relative to the ABI's output folder, and the
exact text), or `StreamedFile`s rendered as they are written, from one module per output family: `c.py` (header and native
table), `python.py` (dispatch tables, types, backend stubs) and the ABI dump.
Nothing here touches the disk; `writer.py` does, safely.
"""

from __future__ import annotations

from collections.abc import Collection

from .common import GenOptions, OutputFile
from .stream import StreamedFile

__all__ = ["FAMILIES", "GenOptions", "OutputFile", "StreamedFile", "render_all", "streamed_all"]

# The output families, each the name of its folder under `<out>/<abi>/` (abi.json aside).
FAMILIES = ("c", "python", "abi")


def render_all(
    abi: object,
    options: GenOptions | None = None,
    families: Collection[str] = FAMILIES,
    *,
    workers: int = 1,
) -> list[OutputFile]:
    """Every output of one ABI (or of the chosen `families`), sorted by path, as text.

    With `workers` > 1 (for single-threaded callers, such as the command line: see
    parallel.py), abi.json, about half of the rendering, is rendered in a second process
    while this one renders the C and Python files (its text comes back through an anonymous
    temporary file); the files are the same either way.
    """
    files = streamed_all(abi, options, families)
    chosen = [f for f in files if f.aside][:1] if workers > 1 else []
    if not chosen:
        return [OutputFile(f.path, f.content) for f in files]
    import tempfile

    from .parallel import stage_aside

    try:
        # The child's file goes through an anonymous temporary file; the others stay in
        # memory, so that no file system can fail a rendering here.
        pending = stage_aside(chosen[0], lambda: ("", tempfile.TemporaryFile()), workers)
    except OSError:
        return [OutputFile(f.path, f.content) for f in files]
    try:
        made = [OutputFile(f.path, f.content) for f in files if f is not chosen[0]]
    finally:
        # The child is waited for, and its file closed, even when rendering here failed.
        staged = pending.result()
        text = staged.text() if staged is not None else None
        if pending.file is not None:
            pending.file.close()
    made.append(OutputFile(chosen[0].path, chosen[0].content if text is None else text))
    return sorted(made, key=lambda f: f.path)


def streamed_all(
    abi: object, options: GenOptions | None = None, families: Collection[str] = FAMILIES
) -> list[StreamedFile]:
    """The same outputs, each rendered only when it is written (`StreamedFile`), sorted by
    path."""
    from ..model import Abi
    from . import abi_json, c, python

    assert isinstance(abi, Abi)
    options = options or GenOptions()
    files: list[StreamedFile] = []
    if "abi" in families:
        files.append(abi_json.render_streamed(abi))
    if "c" in families:
        files += c.render_streamed(abi, options)
    if "python" in families:
        files += python.render_streamed(abi, options)
    return sorted(files, key=lambda f: f.path)
