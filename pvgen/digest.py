"""SHA-256 and HMAC-SHA256, without loading OpenSSL where the interpreter has its own.

Takes: bytes. Hands on: `sha256`, the usual hashlib constructor, `Pieces` (the digest of
data fed in pieces, by the same choice), and `hmac_sha256` with
`compare_digest` (for the sealed cache entries). Loading OpenSSL (through hashlib or hmac)
costs about 4 ms at every start, a noticeable share of a `pvgen check` that hits the cache;
CPython ships a built-in SHA-256 that gives the same digests, and HMAC (RFC 2104) is two
hashes over padded keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from hashlib import _Hash

    _builtin: Callable[[bytes], _Hash]
else:
    try:
        from _sha256 import sha256 as _builtin  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256 as _builtin  # CPython 3.12 and later
        except ImportError:
            from hashlib import sha256 as _builtin

# From this many bytes on, OpenSSL's SHA-256 is used: about three times as fast as the
# built-in one (1.1 GB/s against 0.37 GB/s here), it repays its loading time on an input of
# a few megabytes: the compiled-spec cache's large entries, abi.json, generated headers.
# Once loaded, it also hashes the inputs from a few kilobytes on (the smaller generated
# files of the same run).
LARGE = 1 << 21
LARGE_ONCE_LOADED = 1 << 12
_loaded: list[Callable[[bytes], _Hash]] = []  # OpenSSL's, once loaded


def sha256(data: bytes = b"") -> _Hash:
    """A SHA-256 hash object, as hashlib's, started with `data`."""
    size = len(data)
    if size >= LARGE or (_loaded and size >= LARGE_ONCE_LOADED):
        return _openssl()(data)
    return _builtin(data)


class Pieces:
    """SHA-256 of data fed in pieces whose total is not known ahead (a generated file as it
    is written), by the rule of `sha256`: the pieces are held until they reach `LARGE`
    bytes, then OpenSSL's hash takes them (and the rest); if they never do, the built-in
    one hashes them at the end. Once OpenSSL is loaded, it hashes from the start."""

    def __init__(self) -> None:
        self._hash: _Hash | None = _openssl()(b"") if _loaded else None
        self._held: list[bytes] = []
        self._size = 0

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)
            return
        self._held.append(data)
        self._size += len(data)
        if self._size >= LARGE:
            self._hash = _openssl()(b"")
            for held in self._held:
                self._hash.update(held)
            self._held.clear()

    def hexdigest(self) -> str:
        if self._hash is not None:
            return self._hash.hexdigest()
        hashed = _builtin(b"")
        for held in self._held:
            hashed.update(held)
        return hashed.hexdigest()


def _openssl() -> Callable[[bytes], _Hash]:
    if not _loaded:
        from hashlib import sha256 as openssl

        _loaded.append(openssl)
    return _loaded[0]


if TYPE_CHECKING:
    from hmac import compare_digest
else:
    try:
        from _operator import _compare_digest as compare_digest  # what hmac re-exports
    except ImportError:
        from hmac import compare_digest

BLOCK = 64  # SHA-256's block size in bytes
_INNER = bytes(x ^ 0x36 for x in range(256))
_OUTER = bytes(x ^ 0x5C for x in range(256))


def hmac_sha256(key: bytes, *message: bytes) -> bytes:
    """HMAC-SHA256 of the concatenation of `message` under `key`, as
    `hmac.new(key, b"".join(message), "sha256").digest()`, without joining the parts."""
    new = _openssl() if sum(map(len, message)) >= LARGE else _builtin
    if len(key) > BLOCK:
        key = _builtin(key).digest()
    key = key.ljust(BLOCK, b"\0")
    inner = new(key.translate(_INNER))
    for part in message:
        inner.update(part)
    return _builtin(key.translate(_OUTER) + inner.digest()).digest()


__all__ = ["Pieces", "compare_digest", "hmac_sha256", "sha256"]
