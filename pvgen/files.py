"""Files: the one bounded reader through which pvgen reads every spec and header.

Takes: a path, the folder that its symbolic links may not lead out of, and a size limit.
Hands on: the file's bytes, or `ReadProblem`, whose message says why not:
- a name that holds a control character (see `escape.path_problem`);
- no such file, a loop of symbolic links, or a link that leads out of the folder;
- not a regular file: a folder, a FIFO (reading would block), a device (`/dev/zero` never
  ends), a socket; the file is opened without blocking and checked on its descriptor;
- more than the limit, which is enforced while reading, so a file that grows after its
  size was looked at cannot pass either.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .escape import path_problem

# A spec of 100,000 hooks is about 14 MB and needs about 600 MB of memory to
# check; larger inputs stop with a clear error instead of exhausting memory.
MAX_FILE_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 20


class ReadProblem(Exception):
    """A file that pvgen will not read; the message is for the user."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "it is a directory"
    if stat.S_ISFIFO(mode):
        return "it is a FIFO, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "it is a socket, not a regular file"
    return "it is not a regular file"


def resolve_inside(path: Path, root: Path | None, shown: str) -> Path:
    """The file `path` names, all symbolic links followed; with `root`, it must lie inside
    `root` (itself resolved)."""
    problem = path_problem(str(path))
    if problem is not None:
        raise ReadProblem(f"cannot read: {problem}")
    try:
        real = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        raise ReadProblem(f"cannot read '{shown}': no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReadProblem(f"cannot read '{shown}': a loop of symbolic links") from None
        raise ReadProblem(f"cannot read '{shown}': {exc.strerror or exc}") from None
    problem = path_problem(str(real))
    if problem is not None:
        raise ReadProblem(f"cannot read: {problem}")
    if root is not None and not real.is_relative_to(Path(os.path.realpath(root))):
        raise ReadProblem(
            f"cannot read '{shown}': it is a symbolic link to '{real}', outside '{root}'"
        )
    return real


def read_bounded(
    path: Path, root: Path | None, *, limit: int = MAX_FILE_BYTES, shown: str | None = None
) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them."""
    shown = shown if shown is not None else str(path)
    real = resolve_inside(path, root, shown)
    try:
        # O_NOFOLLOW: `real` has no link left in it; one planted since is refused.
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        why = "it is a directory" if exc.errno == errno.EISDIR else exc.strerror or str(exc)
        raise ReadProblem(f"cannot read '{shown}': {why}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadProblem(f"cannot read '{shown}': {_kind(info.st_mode)}")
        if info.st_size > limit:
            raise ReadProblem(_too_large(shown, f"{info.st_size / 2**20:.1f} MiB", limit))
        chunks = []
        total = 0
        while chunk := os.read(fd, _CHUNK):
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise ReadProblem(_too_large(shown, "more than that", limit))
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise ReadProblem(f"cannot read '{shown}': {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _too_large(shown: str, size: str, limit: int) -> str:
    return f"'{shown}' is {size}, over pvgen's limit of {limit // 2**20} MiB per spec file"
