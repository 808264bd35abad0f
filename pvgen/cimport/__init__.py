"""`pvgen import`: a first spec from a C header that declares hook tables.

The stages, in order: `scan` (text to tokens, comments and `#if` frames),
`cparse` (tokens to structs, enums, typedefs and inline functions), `convert`
(those to spec text with TODO notes). `import_header` runs them and formats the
result, which also proves that it parses.
"""

from __future__ import annotations

from ..diagnostics import SpecError
from ..fmt import format_source
from ..source import SourceFile
from .convert import Imported, write_spec
from .cparse import parse_header
from .scan import HeaderError, scan

# Real headers are tens of kilobytes; the limit only stops runaway input early.
MAX_HEADER_BYTES = 8 * 1024 * 1024


def import_header(
    data: bytes, name: str, patterns: tuple[str, ...] = (), abi: str | None = None
) -> Imported:
    """The spec text for a header's hook tables, and notes of what was skipped where."""
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
    text = text.replace("\r\n", "\n")
    scanned = scan(text, name)
    header = parse_header(scanned, name)
    imported = write_spec(header, scanned, name, patterns, abi)
    try:
        formatted = format_source(SourceFile.from_text(name, imported.text))
    except SpecError as exc:  # the writer produced text pvgen cannot read: a bug
        raise AssertionError(f"the imported spec does not parse: {exc}") from None
    return Imported(formatted, imported.notes)


__all__ = ["HeaderError", "Imported", "import_header"]
