"""SHA-256 for content hashes, without loading OpenSSL where the interpreter has its own.

Takes: bytes. Hands on: `sha256`, the usual hashlib constructor. Loading OpenSSL costs
a few milliseconds at every start, a noticeable share of a `pvgen check` that hits the
cache; CPython ships a built-in SHA-256 that gives the same digests.
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

__all__ = ["sha256"]
