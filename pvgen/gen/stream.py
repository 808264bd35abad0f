"""Streamed outputs: generated files put in a file piece by piece as they are rendered.

Takes: a renderer's text, in pieces and in order, and a binary file to hold it.
Hands on: `StreamedFile` (an output's path and how to write it), `Sink` (what a renderer
writes to: the pieces encoded in batches, and the SHA-256 of what the file holds),
`render_template` (a Jinja template's pieces into a sink, each `Lines` of its context, a long
run of text made only as it is written, written out in place), and `write_staged`, which
writes one output into a temporary file and hands back a `Staged` record (the open file and
its SHA-256), for the writer to rename into place or to drop (parallel.py's `stage` does it
for every output of a run).

A 100,000-hook ABI renders to about 320 MB of text. Held whole until written, as text and
then once more as the bytes written, it was more than half of generate's peak memory;
streamed, each file holds a batch of text at a time, and the writer compares digests, not
texts, with what the output folder holds.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from io import BytesIO
from itertools import islice
from typing import TYPE_CHECKING, BinaryIO

from ..digest import Pieces
from .common import OutputFile

if TYPE_CHECKING:
    import jinja2

# Pieces of text joined, encoded and written at a time: a renderer yields many short ones.
_BATCH = 4096
_READ = 1 << 20


class Sink:
    """Where one output's text goes: joined and encoded in batches, hashed as written."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self._pending: list[str] = []
        self._hash = Pieces()
        self._exact = True  # False once a part was overwritten: then hashed again at the end
        self.size = 0

    def write(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) >= _BATCH:
            self.flush()

    def writelines(self, pieces: Iterable[str]) -> None:
        self.flush()
        pieces = iter(pieces)
        while batch := list(islice(pieces, _BATCH)):
            self._put("".join(batch).encode("utf-8"))

    def flush(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._put(text.encode("utf-8"))

    def _put(self, data: bytes) -> None:
        self.file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def tell(self) -> int:
        """How many bytes the file holds so far."""
        self.flush()
        return self.size

    def overwrite(self, offset: int, text: str) -> None:
        """Replace the bytes at `offset` (written before) with `text`, of the same length."""
        self.flush()
        data = text.encode("utf-8")
        if offset < 0 or offset + len(data) > self.size:
            raise ValueError("overwrite outside what was written")
        self.file.seek(offset)
        self.file.write(data)
        self.file.seek(self.size)
        self._exact = False

    def digest(self) -> str:
        """The SHA-256 (hex) of everything written."""
        self.flush()
        self.file.flush()
        if self._exact:
            return self._hash.hexdigest()
        return file_digest(self.file)


def file_digest(file: BinaryIO) -> str:
    """The SHA-256 (hex) of all of `file`, read from its start."""
    file.seek(0)
    hashed = Pieces()
    while chunk := file.read(_READ):
        hashed.update(chunk)
    return hashed.hexdigest()


class StreamedFile:
    """An output rendered straight into a file: `write(sink)` puts its text in `sink`, and
    may be called again for the same text. `aside` marks a large file that needs nothing
    the others make, which a second process may render meanwhile."""

    __slots__ = ("path", "write", "aside")

    def __init__(self, path: str, write: Callable[[Sink], object], *, aside: bool = False) -> None:
        self.path = path
        self.write = write
        self.aside = aside

    @property
    def content(self) -> str:
        """The whole text, in memory: for callers that want it as a string."""
        buffer = BytesIO()
        sink = Sink(buffer)
        self.write(sink)
        sink.flush()
        return buffer.getvalue().decode("utf-8")

    def __repr__(self) -> str:
        return f"StreamedFile({self.path!r})"


class Lines:
    """A long run of text (a line per hook, say), made only as it is written. In a template,
    `{{ lines }}` writes the pieces `make()` gives, each after `sep` but the first; `{% if
    lines %}` asks `nonempty`, which the maker knows without making them.

    Jinja turns what `{{ }}` shows into a string first; a `Lines` shows as a marker of its
    own, which `render_template` replaces with the pieces as it passes them on, so that they
    are never all in memory at once."""

    __slots__ = ("make", "sep", "nonempty", "marker", "__weakref__")

    def __init__(self, make: Callable[[], Iterable[str]], sep: str, nonempty: bool) -> None:
        self.make = make
        self.sep = sep
        self.nonempty = nonempty
        self.marker = f"\0pvgen-lines-{os.urandom(12).hex()}\0"
        _LIVE[self.marker] = self

    def __bool__(self) -> bool:
        return self.nonempty

    def __str__(self) -> str:
        return self.marker

    def pieces(self) -> Iterator[str]:
        sep = self.sep
        items = iter(self.make())
        for first in items:
            yield first
            for item in items:
                yield sep
                yield item


# Every `Lines` alive, by marker; all markers have one length.
_LIVE: weakref.WeakValueDictionary[str, Lines] = weakref.WeakValueDictionary()
_MARKER_SIZE = len(f"\0pvgen-lines-{'0' * 24}\0")


def render_template(template: jinja2.Template, sink: Sink | None, /, **context: object) -> str:
    """`template` rendered with `context`: its text, or, given a `sink`, written there piece
    by piece as Jinja makes it (and ""). Each `Lines` it shows is written out in place."""
    pieces = template.generate(**context)
    if _LIVE:
        pieces = _expanded(pieces)
    if sink is None:
        return "".join(pieces)
    sink.writelines(pieces)
    return ""


def _expanded(pieces: Iterable[str]) -> Iterator[str]:
    size, live = _MARKER_SIZE, _LIVE
    for piece in pieces:
        lines = live.get(piece) if len(piece) == size else None
        if lines is None:
            yield piece
        else:
            yield from lines.pieces()


@dataclass
class Staged:
    """One output written into a temporary file: `file` is still open."""

    path: str
    name: str  # the temporary file's name, in the folder that `open_temp` made it in
    file: BinaryIO
    digest: str

    def text(self) -> str:
        self.file.seek(0)
        return self.file.read().decode("utf-8")


# Makes a temporary file to stage an output in: its name (empty for one without) and the
# file, open for reading and writing.
OpenTemp = Callable[[], tuple[str, BinaryIO]]


def write_staged(f: OutputFile | StreamedFile, name: str, out: BinaryIO) -> Staged:
    """`f` written into the open, empty file `out` (named `name`)."""
    sink = Sink(out)
    if isinstance(f, StreamedFile):
        f.write(sink)
    else:
        sink.write(f.content)
    return Staged(f.path, name, out, sink.digest())
