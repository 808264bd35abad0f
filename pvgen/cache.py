"""Cache: compiled specs kept between runs, so an unchanged spec is not parsed again.

Takes: a root spec path, its spec root, and the function that compiles it; for other
results, a kind, a name and what the result is made from.
Hands on: the `Abi`, either unpickled from the cache (when pvgen's code, the
Python version, the working directory, the text of every file the spec was
built from, all compared by SHA-256, and the file each include's name leads
to through symbolic links are unchanged) or freshly compiled, and stored from the second
compile of the same sources on (the first leaves a mark). One entry per root spec; a changed
spec replaces its entry. Besides: each file's syntax tree
(`cached_parse`), results kept while their inputs compare equal (`cached_result`), and results
kept with a header that the caller checks against the disk again (`fetch`, `keep`): a check's
findings, and the manifest of the files a generate made.

The cache lives in $PVGEN_CACHE_DIR, else $XDG_CACHE_HOME/pvgen, else
~/.cache/pvgen; PVGEN_NO_CACHE=1 turns it off. Any problem with the cache
(unwritable, corrupt, stale, planted) only means a normal compile: the cache
never changes a result.

An entry is a pickle, and unpickling runs code, so a file that pvgen did not
write must never be unpickled. The cache's contents are not trusted:
- the folder is opened once (`O_NOFOLLOW`) and checked on the open descriptor
  (a folder, owned by the user, writable by nobody else); every file is then
  opened relative to that descriptor, again without following links, and
  checked on its descriptor (a regular file with one link, owned by the user);
- each entry is sealed with an HMAC-SHA256 under a per-user random key, kept
  in the folder as `key` (mode 0600), and nothing is unpickled before its seal
  is verified. Another local user who swaps the folder, or a file in it, gets
  a cache miss at most.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import __version__
from .digest import compare_digest, hmac_sha256, sha256
from .files import ReadProblem, read_bounded

if TYPE_CHECKING:
    from .model import Abi
    from .source import SourceFile
    from .syntax import SpecFile

FORMAT = 3
T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    if os.environ.get("PVGEN_NO_CACHE"):
        return None
    explicit = os.environ.get("PVGEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "pvgen"


@functools.cache
def _code_fingerprint() -> str:
    """Changes whenever a file of pvgen itself changes.

    Each source file counts by its name, size, inode and its modification and status-change
    times to the nanosecond. The status-change time (ctime) is set by the kernel on every
    write, rename or `utime`, and no user can set it back, so an edit that keeps a file's
    size and modification time is still seen; reading every file's content instead cost
    several milliseconds of every run. Symbolic links are not followed.
    """
    digest = sha256()
    folders = [PACKAGE]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        folders.append(Path(entry.path))
                elif entry.name.endswith((".py", ".lark", ".j2")) and entry.is_file(
                    follow_symlinks=False
                ):
                    info = entry.stat(follow_symlinks=False)
                    name = Path(entry.path).relative_to(PACKAGE).as_posix()
                    stamp = (name, info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
                    digest.update(repr(stamp).encode() + b"\0")
    return digest.hexdigest()


def file_stamp(path: str | None) -> list[object] | None:
    """A file's name, size, inode and modification and status-change times, as the code
    fingerprint counts pvgen's own files: for code that is not pvgen's (a rule plugin)."""
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return [path]
    return [path, info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns]


def _entry_path(folder: Path, root: Path, spec_root: Path | None) -> Path:
    key = "\0".join(
        [
            str(FORMAT),
            __version__,
            sys.version,
            _code_fingerprint(),
            os.path.realpath(root),
            os.path.realpath(spec_root) if spec_root else "",
            os.getcwd(),  # diagnostics name files relative to it
        ]
    )
    return folder / (sha256(key.encode()).hexdigest()[:32] + ".pickle")


def _text_hash(path: Path) -> str | None:
    try:
        text = read_bounded(path, None).decode("utf-8")
    except (ReadProblem, UnicodeDecodeError):
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    return sha256(text.encode()).hexdigest()


# ---- the folder, the key and sealed entries --------------------------------------------

# An entry is MAGIC, the HMAC-SHA256 of its name and header and that of its name, header MAC
# and payload, under the user's key; then the header's length, the header (JSON) and the
# payload (a pickle). Nothing is unpickled before both MACs are verified.
MAGIC = b"pvgen-cache\x00\x03"
KEY_NAME = "key"
KEY_BYTES = 32
_MAC_BYTES = 32
_OPEN_FLAGS = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _ours(info: os.stat_result, *, private: bool = False) -> bool:
    """Owned by the user running pvgen, with one name, and writable by nobody else (nor
    readable, when `private`)."""
    forbidden = 0o077 if private else stat.S_IWGRP | stat.S_IWOTH
    return info.st_uid == os.geteuid() and not info.st_mode & forbidden


class _Folder:
    """The cache folder, opened once: every later step works relative to this descriptor,
    so swapping the folder (or a parent) for another after the check changes nothing."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def open(cls, path: Path, *, create: bool) -> _Folder | None:
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
            except OSError:
                return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _OPEN_FLAGS)
        except OSError:  # missing, not a folder, or a symbolic link (O_NOFOLLOW)
            return None
        info = os.fstat(fd)
        if not (stat.S_ISDIR(info.st_mode) and _ours(info)):
            os.close(fd)
            return None
        return cls(fd)

    def close(self) -> None:
        os.close(self.fd)

    def read(self, name: str, *, private: bool = False) -> bytes | None:
        """The bytes of regular file `name` in the folder, if it is ours (and one link)."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _OPEN_FLAGS, dir_fd=self.fd)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not (stat.S_ISREG(info.st_mode) and info.st_nlink == 1):
                return None
            if not _ours(info, private=private):
                return None
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)

    def write(self, name: str, data: bytes, *, replace: bool = True) -> bool:
        """Write `name` through a new private temporary file; with `replace` False, an
        existing `name` is kept (and False returned)."""
        tmp = f".tmp-{os.urandom(8).hex()}"
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o600, dir_fd=self.fd
            )
        except OSError:
            return False
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            if replace:
                os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            else:
                os.link(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd, follow_symlinks=False)
            return True
        except OSError:
            return False
        finally:
            try:
                os.unlink(tmp, dir_fd=self.fd)
            except OSError:
                pass  # renamed over `name`

    def key(self) -> bytes | None:
        """The user's secret key, made on first use: private, so only pvgen run by this
        user can seal an entry that it will later unpickle."""
        for _ in range(2):
            key = self.read(KEY_NAME, private=True)
            if key is not None:
                return key if len(key) == KEY_BYTES else None
            if not self.write(KEY_NAME, os.urandom(KEY_BYTES), replace=False):
                continue  # another run made it first: read theirs
        return None


def _seal(key: bytes, name: str, value: object, header: bytes = b"") -> bytes:
    """An entry: `header` (JSON that says what the value was made from, compared before
    anything else is done with the entry) and the pickled `value`, each under its own MAC."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    header_mac = hmac_sha256(key, name.encode(), b"\x00header\x00", header)
    payload_mac = hmac_sha256(key, name.encode(), b"\x00payload\x00", header_mac, payload)
    size = len(header).to_bytes(4, "big")
    return MAGIC + header_mac + payload_mac + size + header + payload


def _split(data: bytes) -> tuple[bytes, bytes, bytes, bytes] | None:
    """(header MAC, payload MAC, header, payload) of an entry, or None if it is not one."""
    head = len(MAGIC) + 2 * _MAC_BYTES + 4
    if len(data) < head or not data.startswith(MAGIC):
        return None
    at = len(MAGIC)
    header_mac = data[at : at + _MAC_BYTES]
    payload_mac = data[at + _MAC_BYTES : at + 2 * _MAC_BYTES]
    size = int.from_bytes(data[head - 4 : head], "big")
    if head + size > len(data):
        return None
    return header_mac, payload_mac, data[head : head + size], data[head + size :]


def _unseal(
    key: bytes, name: str, data: bytes, fresh: Callable[[Any], bool] = lambda header: True
) -> object | None:
    """The value of an entry that this user's pvgen sealed and that `fresh` accepts, else
    None. The header's MAC is verified and the header judged first: a stale entry is
    turned away without its payload being verified or unpickled."""
    parts = _split(data)
    if parts is None:
        return None
    header_mac, payload_mac, header, payload = parts
    expected = hmac_sha256(key, name.encode(), b"\x00header\x00", header)
    if not compare_digest(header_mac, expected):
        return None
    try:
        judged = fresh(json.loads(header)) if header else fresh(None)
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if not judged:
        return None
    expected = hmac_sha256(key, name.encode(), b"\x00payload\x00", header_mac, payload)
    if not compare_digest(payload_mac, expected):
        return None
    try:
        value: object = pickle.loads(payload)
        return value
    except Exception:  # an entry of another pvgen version: a miss, whatever it raises
        return None


def _fetch(entry: Path, fresh: Callable[[Any], bool]) -> object | None:
    folder = _Folder.open(entry.parent, create=False)
    if folder is None:
        return None
    try:
        key = folder.key()
        data = folder.read(entry.name)
        return None if key is None or data is None else _unseal(key, entry.name, data, fresh)
    finally:
        folder.close()


def sources_fresh(header: Any) -> bool:
    """Whether each source in a model entry's header (as named, the file it led to, the
    SHA-256 of its text) still leads to the same file with the same text."""
    for named, resolved, digest in header:
        # The name must still lead to the same file (a retargeted link is a miss), and
        # that file must hold the same text.
        if os.path.realpath(named) != resolved or _text_hash(Path(resolved)) != digest:
            return False
    return True


# What a model entry holds after the first compile of its sources: only that mark. The
# model itself is kept from the second compile of the same sources on (see
# `cached_compile`).
_COMPILED_ONCE = "compiled once"


def _load(entry: Path) -> tuple[Abi | None, list[list[str]]] | None:
    """The model kept in `entry` with its header, if its sources are unchanged: (None,
    header) when the entry only marks that these sources were compiled once; None for a
    miss."""
    header: list[Any] = []

    def fresh(found: Any) -> bool:
        header[:] = found
        return sources_fresh(found)

    found = _fetch(entry, fresh)
    if found == _COMPILED_ONCE:
        return None, header
    from .model import Abi

    if not isinstance(found, Abi) or len(header) != len(found.sources):
        return None
    if any(h[2] != source.sha256 for h, source in zip(header, found.sources, strict=True)):
        return None
    return found, header


def _store_pickle(entry: Path, value: object, header: bytes) -> None:
    folder = _Folder.open(entry.parent, create=True)
    if folder is None:
        return  # the cache is an optimisation only
    try:
        key = folder.key()
        if key is not None:
            folder.write(entry.name, _seal(key, entry.name, value, header))
    except (pickle.PicklingError, RecursionError, TypeError):
        pass
    finally:
        folder.close()


def cached_parse(parse: Callable[[SourceFile], SpecFile]) -> Callable[[SourceFile], SpecFile]:
    """`parse`, with each file's syntax tree kept in the cache by the file's name and text.

    One entry per file (its display name and its name below the spec root, which the tree
    carries), replaced when the text changes: after an edit of one file of a large ABI,
    only that file is parsed again.
    """
    if cache_dir() is None:
        return parse

    def parse_cached(source: SourceFile) -> SpecFile:
        name = f"{source.display}\0{source.relative or ''}"
        digest = sha256(source.text.encode()).hexdigest()
        return cached_result("parse", name, digest, lambda: parse(source))

    return parse_cached


def cached_result(kind: str, name: str, inputs: object, compute: Callable[[], T]) -> T:
    """`compute()`, kept under (`kind`, `name`) while `inputs` are the same.

    `inputs` (plain JSON values) must describe everything `compute` reads and is not pvgen's
    code (which is part of the key): the hashes of the files it reads, say. One entry per
    (`kind`, `name`), replaced when the inputs change.
    """
    expected = json.loads(json.dumps(inputs, sort_keys=True))
    found = fetch(kind, name, lambda found: found == expected)
    if found is not None:
        return cast(T, found)
    value = compute()
    keep(kind, name, inputs, value)
    return value


def fetch(kind: str, name: str, fresh: Callable[[Any], bool]) -> object | None:
    """The value kept under (`kind`, `name`) if `fresh` accepts the header it was kept
    with (read before anything is unpickled); else None. For results whose inputs are
    checked by asking the disk again rather than by comparing with values at hand."""
    folder = cache_dir()
    return None if folder is None else _fetch(_result_entry(folder, kind, name), fresh)


def keep(kind: str, name: str, header: object, value: object) -> None:
    """Keep `value` under (`kind`, `name`) with `header` (plain JSON values) saying what
    it was made from."""
    folder = cache_dir()
    if folder is not None:
        entry = _result_entry(folder, kind, name)
        _store_pickle(entry, value, json.dumps(header, sort_keys=True).encode())


def _result_entry(folder: Path, kind: str, name: str) -> Path:
    key = "\0".join([str(FORMAT), __version__, sys.version, _code_fingerprint(), kind, name])
    return folder / (f"{kind}-" + sha256(key.encode()).hexdigest()[:32] + ".pickle")


def cached_compile(
    root: Path,
    spec_root: Path | None,
    compile_spec: Callable[[Path, Path | None], tuple[Abi, list[tuple[Path, Path]]]],
) -> tuple[Abi, list[list[str]]]:
    """The Abi of `root`, from the cache if still valid, else compiled and stored; with
    each of its sources as named, the file that name led to and the SHA-256 of its text
    (what `sources_fresh` checks again).

    `compile_spec` returns the Abi and, for each of its sources in the order of
    `Abi.sources`, the path as named and the file it resolved to when read.
    """
    folder = cache_dir()
    once = False
    if folder is not None:
        found = _load(_entry_path(folder, root, spec_root))
        if found is not None:
            abi, header = found
            if abi is not None:
                return abi, header
            once = True
    abi, paths = compile_spec(root, spec_root)
    sources = [
        [str(named), str(resolved), source.sha256]
        for (named, resolved), source in zip(paths, abi.sources, strict=True)
    ]
    if folder is not None:
        # The model is kept from the second time the same sources are compiled on. A spec
        # being edited is compiled once per state (by `check`, or by a `generate` whose
        # folder then answers for it), and writing every state's model (8 MB and a quarter
        # of a second at 10,000 hooks) would cost each edit more than it saves; the first
        # compile leaves a mark, so the next command on the same sources keeps it.
        entry = _entry_path(folder, root, spec_root)
        if once:
            store_model(entry, abi, sources)
        else:
            mark_compiled(entry, sources)
    return abi, sources


def mark_compiled(entry: Path, sources: list[list[str]]) -> None:
    """Record in `entry` that the model of `sources` was compiled once (not the model)."""
    _store_pickle(entry, _COMPILED_ONCE, json.dumps(sources).encode())


def store_model(entry: Path, abi: Abi, sources: list[list[str]]) -> None:
    """Keep `abi` in `entry`, its sources (as `cached_compile` hands them on) as header."""
    _store_pickle(entry, abi, json.dumps(sources).encode())
