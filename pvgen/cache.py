"""Cache: compiled specs kept between runs, so an unchanged spec is not parsed again.

Takes: a root spec path, its spec root, and the function that compiles it.
Hands on: the `Abi`, either unpickled from the cache (when pvgen's code, the
Python version, the working directory, the text of every file the spec was
built from, all compared by SHA-256, and the file each include's name leads
to through symbolic links are unchanged) or freshly compiled and then stored. One entry per root spec; a changed spec replaces its entry.

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
import os
import pickle
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from . import __version__
from .digest import compare_digest, hmac_sha256, sha256
from .files import ReadProblem, read_bounded
from .model import Abi

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

# An entry is MAGIC, then the HMAC-SHA256 of its name and payload under the user's key,
# then the payload (a pickle). Nothing is unpickled before its HMAC is verified.
MAGIC = b"pvgen-cache\x00\x02"
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


def _seal(key: bytes, name: str, value: object) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    mac = hmac_sha256(key, name.encode() + b"\x00" + payload)
    return MAGIC + mac + payload


def _unseal(key: bytes, name: str, data: bytes) -> object | None:
    """The value of an entry that this user's pvgen sealed, else None, unpickling nothing."""
    head = len(MAGIC) + _MAC_BYTES
    if len(data) < head or not data.startswith(MAGIC):
        return None
    mac, payload = data[len(MAGIC) : head], data[head:]
    expected = hmac_sha256(key, name.encode() + b"\x00" + payload)
    if not compare_digest(mac, expected):
        return None
    try:
        value: object = pickle.loads(payload)
        return value
    except Exception:  # an entry of another pvgen version: a miss, whatever it raises
        return None


def _fetch(entry: Path) -> object | None:
    folder = _Folder.open(entry.parent, create=False)
    if folder is None:
        return None
    try:
        key = folder.key()
        data = folder.read(entry.name)
        return None if key is None or data is None else _unseal(key, entry.name, data)
    finally:
        folder.close()


def _load(entry: Path) -> Abi | None:
    found = _fetch(entry)
    if not isinstance(found, tuple) or len(found) != 2:
        return None
    traced, abi = found
    if not isinstance(abi, Abi) or len(traced) != len(abi.sources):
        return None
    for (named, resolved), source in zip(traced, abi.sources, strict=True):
        # The name must still lead to the same file (a retargeted link is a miss), and
        # that file must hold the same text.
        if os.path.realpath(named) != resolved or _text_hash(Path(resolved)) != source.sha256:
            return None
    return abi


def _store(entry: Path, traced: list[tuple[Path, Path]], abi: Abi) -> None:
    _store_pickle(entry, ([(str(named), str(resolved)) for named, resolved in traced], abi))


def _store_pickle(entry: Path, value: object) -> None:
    folder = _Folder.open(entry.parent, create=True)
    if folder is None:
        return  # the cache is an optimisation only
    try:
        key = folder.key()
        if key is not None:
            folder.write(entry.name, _seal(key, entry.name, value))
    except (pickle.PicklingError, RecursionError, TypeError):
        pass
    finally:
        folder.close()


def cached_outputs(
    root: Path,
    spec_root: Path | None,
    abi: Abi,
    variant: str,
    render: Callable[[], list[T]],
) -> list[T]:
    """What `render` makes of `abi`, from the cache while the spec's files are unchanged.

    `variant` names the generation options, which are part of the key.
    """
    folder = cache_dir()
    if folder is None:
        return render()
    model_entry = _entry_path(folder, root, spec_root)
    suffix = sha256(variant.encode()).hexdigest()[:12]
    entry = model_entry.with_name(f"{model_entry.stem}-out-{suffix}.pickle")
    sources = [(s.path, s.sha256) for s in abi.sources]
    found = _fetch(entry)
    if isinstance(found, tuple) and len(found) == 2 and found[0] == sources:
        return list(found[1])
    outputs = render()
    _store_pickle(entry, (sources, outputs))
    return outputs


def cached_compile(
    root: Path,
    spec_root: Path | None,
    compile_spec: Callable[[Path, Path | None], tuple[Abi, list[tuple[Path, Path]]]],
) -> Abi:
    """The Abi of `root`, from the cache if still valid, else compiled and stored.

    `compile_spec` returns the Abi and, for each of its sources in the order of
    `Abi.sources`, the path as named and the file it resolved to when read.
    """
    folder = cache_dir()
    if folder is None:
        return compile_spec(root, spec_root)[0]
    entry = _entry_path(folder, root, spec_root)
    abi = _load(entry)
    if abi is None:
        abi, paths = compile_spec(root, spec_root)
        _store(entry, paths, abi)
    return abi
