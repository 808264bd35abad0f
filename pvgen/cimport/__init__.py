"""`pvgen import`: a first spec from a C header that declares hook tables.

The stages, in order: `scan` (text to tokens, comments and `#if` frames),
`cparse` (tokens to structs, enums, typedefs and inline functions), `convert`
(those to spec text with TODO notes). `import_header` runs them and formats the
result, which also proves that it parses. Further headers go through `scan` and
`cparse` too, for the kernel's call wrappers of callee-save thunks.

Takes: the header's bytes and name, struct patterns, the ABI name, further headers.
Hands on: `Imported` (spec text and notes), or `HeaderError` for unusable input.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..diagnostics import SpecError
from ..fmt import format_source
from ..source import SourceFile
from .convert import Imported, write_spec
from .cparse import parse_header
from .scan import HeaderError, scan

# Real headers are tens of kilobytes; the limit only stops runaway input early.
MAX_HEADER_BYTES = 8 * 1024 * 1024


def import_header(
    data: bytes,
    name: str,
    patterns: tuple[str, ...] = (),
    abi: str | None = None,
    wrappers: Sequence[tuple[bytes, str]] = (),
) -> Imported:
    """The spec text for a header's hook tables, and notes of what was skipped where.

    `wrappers` are further headers, (content, name), read only for their inline
    functions: the kernel's call wrappers, which give callee-save thunks' signatures.
    """
    text = _text(data, name)
    scanned = scan(text, name)
    header = parse_header(scanned, name)
    others = [
        (shown, parse_header(scan(_text(more, shown), shown), shown)) for more, shown in wrappers
    ]
    imported = write_spec(header, scanned, name, patterns, abi, others)
    try:
        formatted = format_source(SourceFile.from_text(name, imported.text))
    except SpecError as exc:  # the writer produced text pvgen cannot read: a bug
        raise AssertionError(f"the imported spec does not parse: {exc}") from None
    return Imported(formatted, imported.notes)


def _text(data: bytes, name: str) -> str:
    if len(data) > MAX_HEADER_BYTES:
        raise HeaderError(
            f"{name}",
            f"{len(data) / 2**20:.1f} MiB is over the limit of"
            f" {MAX_HEADER_BYTES // 2**20} MiB for a header",
        )
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise HeaderError(f"{name}:{line}:1", "not a text file (it contains a NUL byte)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # old headers carry Latin-1 names in comments
    return text.replace("\r\n", "\n")


__all__ = ["HeaderError", "Imported", "import_header"]
