"""SHA-256 and HMAC-SHA256, without loading OpenSSL where the interpreter has its own.

Takes: bytes. Hands on: `sha256`, the usual hashlib constructor, and `hmac_sha256` with
`compare_digest` (for the sealed cache entries). Loading OpenSSL (through hashlib or hmac)
costs about 4 ms at every start, a noticeable share of a `pvgen check` that hits the cache;
CPython ships a built-in SHA-256 that gives the same digests, and HMAC (RFC 2104) is two
hashes over padded keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython 3.12 and later
        except ImportError:
            from hashlib import sha256

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


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of `message` under `key`, as `hmac.new(key, message, "sha256").digest()`."""
    if len(key) > BLOCK:
        key = sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    inner = sha256(key.translate(_INNER) + message).digest()
    return sha256(key.translate(_OUTER) + inner).digest()


__all__ = ["compare_digest", "hmac_sha256", "sha256"]
