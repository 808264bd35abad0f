"""The ABI dump: `<abi>/abi.json`, canonical and hashed, for diffs and frozen releases.

Takes: a `model.Abi`.
Hands on: one `OutputFile` (or `StreamedFile`) holding the model dump (see dump.py) with an
ownership mark (its key sorts first, so the writer finds it at the top of the
file) and the SHA-256 of the canonical dump, so that a frozen copy
edited by hand can be detected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..digest import Pieces, sha256
from ..dump import dump_sections, pretty_into
from ..model import Abi
from .common import BANNER_MARK, OutputFile
from .stream import Sink, StreamedFile


def content_hash(data: dict[str, object]) -> str:
    """SHA-256 of `data` without its `_generated_by` and `sha256` keys.

    Hashed in compact canonical form (sorted keys, no spaces), which the C JSON
    encoder writes far faster than the indented form the file is stored in.
    """
    body = {k: v for k, v in data.items() if k not in ("_generated_by", "sha256")}
    compact = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256(compact.encode()).hexdigest()


_GENERATED_BY = f"{BANNER_MARK}; do not edit"


def render(abi: Abi) -> OutputFile:
    """abi.json as text (what `render_streamed` writes)."""
    return OutputFile("abi.json", render_streamed(abi).content)


def render_streamed(abi: Abi) -> StreamedFile:
    """abi.json, written as it is made: one element of the long lists (types, tables,
    backends) at a time. The dump is the largest structure rendering builds; whole, it and
    its text were most of generate's peak at 100,000 hooks."""
    return StreamedFile("abi.json", lambda sink: write(abi, sink), aside=True)


# Where the digest goes until it is known: the body it covers is written after it.
_PLACEHOLDER = "0" * 64
_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write(abi: Abi, sink: Sink) -> None:
    """abi.json into `sink`: the dump (`dump.abi_to_dict`) with `_generated_by` and the
    `sha256` of `content_hash`, indented as `dump.pretty_json` writes it. Its top-level keys
    go in order, each written as text and hashed in compact form in the same pass (as
    `content_hash` hashes the whole); the digest is written into its place at the end."""
    entries: dict[str, object] = dump_sections(abi)
    entries["_generated_by"] = _GENERATED_BY
    entries["sha256"] = _PLACEHOLDER
    body = Pieces()
    separator = "{"
    opening = "{"  # of the hashed body's compact text
    out: list[str] = []
    digest_at = -1
    for key in sorted(entries):
        value = entries[key]
        out.append(f"{separator}\n  {json.encoder.encode_basestring(key)}: ")
        separator = ","
        hashed = key not in ("_generated_by", "sha256")
        if hashed:
            body.update((opening + _COMPACT.encode(key) + ":").encode())
            opening = ","
        if key == "sha256":
            out.append('"')
            sink.writelines(out)
            out.clear()
            digest_at = sink.tell()
            out.append(_PLACEHOLDER + '"')
        elif isinstance(value, Iterator):
            _write_list(value, out, sink, body)
        else:
            pretty_into(value, "\n  ", out)
            if hashed:
                body.update(_COMPACT.encode(value).encode())
    out.append("\n}\n")
    sink.writelines(out)
    body.update(b"}")
    sink.overwrite(digest_at, body.hexdigest())


def _write_list(items: Iterator[object], out: list[str], sink: Sink, body: Pieces) -> None:
    """A list of the dump's top level, one element made, written and hashed at a time."""
    separator = "["
    hashed = separator
    for item in items:
        out.append(separator + "\n    ")
        pretty_into(item, "\n    ", out)
        body.update((hashed + _COMPACT.encode(item)).encode())
        separator = hashed = ","
        if len(out) > 8192:
            sink.writelines(out)
            out.clear()
    if separator == "[":
        out.append("[]")
        body.update(b"[]")
    else:
        out.append("\n  ]")
        body.update(b"]")
