"""Cache: compiled specs kept between runs, so an unchanged spec is not parsed again.

Takes: a root spec path, its spec root, and the function that compiles it.
Hands on: the `Abi`, either unpickled from the cache (when pvgen's code, the
Python version, the working directory and the text of every file the spec was
built from are unchanged, the last compared by SHA-256) or freshly compiled
and then stored. One entry per root spec; a changed spec replaces its entry.

The cache lives in $PVGEN_CACHE_DIR, else $XDG_CACHE_HOME/pvgen, else
~/.cache/pvgen; PVGEN_NO_CACHE=1 turns it off. It is only ever read from a
folder owned by the current user and writable by nobody else, because an
entry is a pickle. Any problem with the cache (unwritable, corrupt, stale)
only means a normal compile: the cache never changes a result.
"""

from __future__ import annotations

import os
import pickle
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from . import __version__
from .digest import sha256
from .model import Abi

FORMAT = 1
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


def _code_fingerprint() -> str:
    """Changes whenever a file of pvgen itself changes (size or modification time)."""
    digest = sha256()
    for path in sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.lark"), *PACKAGE.rglob("*.j2")]):
        info = path.stat()
        digest.update(f"{path.name}:{info.st_size}:{info.st_mtime_ns};".encode())
    return digest.hexdigest()


def _entry_path(folder: Path, root: Path, spec_root: Path | None) -> Path:
    key = "\0".join(
        [
            str(FORMAT),
            __version__,
            sys.version,
            _code_fingerprint(),
            str(root.resolve()),
            str(spec_root.resolve()) if spec_root else "",
            os.getcwd(),  # diagnostics name files relative to it
        ]
    )
    return folder / (sha256(key.encode()).hexdigest()[:32] + ".pickle")


def _private(path: Path) -> bool:
    """Owned by us and writable by no one else: safe to unpickle from."""
    try:
        info = path.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _text_hash(path: Path) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    return sha256(text.encode()).hexdigest()


def _load(entry: Path) -> Abi | None:
    if not (_private(entry.parent) and _private(entry)):
        return None
    try:
        paths, abi = pickle.loads(entry.read_bytes())
    except Exception:  # a corrupt or old entry is a miss, whatever it raises
        return None
    if not isinstance(abi, Abi) or len(paths) != len(abi.sources):
        return None
    for path, source in zip(paths, abi.sources, strict=True):
        if _text_hash(Path(path)) != source.sha256:
            return None
    return abi


def _store(entry: Path, paths: list[Path], abi: Abi) -> None:
    _store_pickle(entry, ([str(p) for p in paths], abi))


def _store_pickle(entry: Path, value: object) -> None:
    import tempfile  # only when writing: it is slow to import

    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(entry.parent):
            return
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, entry)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, pickle.PicklingError, RecursionError):
        pass  # the cache is an optimisation only


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
    if _private(folder) and _private(entry):
        try:
            recorded, outputs = pickle.loads(entry.read_bytes())
            if recorded == sources:
                return list(outputs)
        except Exception:  # a corrupt or old entry is a miss, whatever it raises
            pass
    outputs = render()
    _store_pickle(entry, (sources, outputs))
    return outputs


def cached_compile(
    root: Path,
    spec_root: Path | None,
    compile_spec: Callable[[Path, Path | None], tuple[Abi, list[Path]]],
) -> Abi:
    """The Abi of `root`, from the cache if still valid, else compiled and stored.

    `compile_spec` returns the Abi and the paths of its sources, in the order
    of `Abi.sources`.
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
