"""Writer: puts generated files on disk safely, or says what would change.

Takes: the files of one ABI (`OutputFile`s rendered already, or `StreamedFile`s rendered as
they are written) and its output folder.
Hands on: a `WriteReport` (written, unchanged, removed, the manifest; or stale, missing,
extra in check mode). The rules it keeps:
- every file is first written into a temporary file of pvgen's own in the output folder
  (streamed: a large ABI's files are never whole in memory), and what to replace, keep or
  refuse is decided on their SHA-256s before anything the folder held is replaced or
  removed; a refusal, or a renderer that fails, leaves the folder as it was;
- only what changed is replaced, so unchanged files keep their mtime;
- each file is renamed from its temporary file over the old one, so a killed run leaves
  every file old or new, never torn;
- ownership is exact: each run records the files it wrote, with their
  SHA-256, in the folder's manifest (`pvgen.manifest`, itself an output). A
  file is pvgen's only while the manifest lists it with its current content,
  and only such files are replaced or removed; anything else in the way
  stops the run (unless forced). A banner in a file proves nothing;
- no path escapes the output folder, whatever the names say, and symbolic
  links are never followed: not inside it, not the folder itself, not its parent.
  The folder is locked (`flock`) while a run writes it, and every write and
  removal goes through descriptors opened from it component by component without
  following links, so a link planted while pvgen runs is refused too.
"""

from __future__ import annotations

import difflib
import errno
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..digest import sha256
from ..escape import path_problem
from ..files import ReadProblem, read_bounded
from .common import BANNER_MARK, OutputFile
from .parallel import stage
from .stream import OpenTemp, Staged, StreamedFile, file_digest

TEMP_PREFIX = ".pvgen-tmp-"
MANIFEST = "pvgen.manifest"
_MANIFEST_HEAD = (
    f"# {BANNER_MARK}: the files of this folder that pvgen wrote, with their SHA-256.\n"
    "# pvgen replaces or removes only these, and only while they hold this content.\n"
)


class WriteError(Exception):
    """The output folder cannot be brought to the wanted state; nothing more was written."""


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # Check mode only:
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    # The manifest the folder holds after a write.
    manifest: str = ""

    @property
    def clean(self) -> bool:
        return not (self.stale or self.missing or self.extra)


def manifest_file(files: Sequence[OutputFile]) -> OutputFile:
    """The manifest of a folder holding exactly `files`."""
    return OutputFile(MANIFEST, manifest_text({f.path: _digest(f.content.encode()) for f in files}))


def manifest_text(digests: Mapping[str, str]) -> str:
    """The manifest of a folder holding files with these SHA-256s ({path: hex digest})."""
    return _MANIFEST_HEAD + "".join(f"{digests[p]}  {p}\n" for p in sorted(digests))


def _digest(data: bytes) -> str:
    return sha256(data).hexdigest()


def read_manifest(root: Path) -> dict[str, str] | None:
    """What the folder's manifest lists ({path: SHA-256}); None when there is no manifest
    (or a file in its place that is not one: then nothing in the folder is pvgen's)."""
    path = root / MANIFEST
    if path.is_symlink():
        return None
    text = _read(path)
    return None if text is None else _parse_manifest(text)


def _parse_manifest(text: str) -> dict[str, str] | None:
    """{path: SHA-256} of a manifest's text; None if it is not one."""
    if not text.startswith(_MANIFEST_HEAD):
        return None
    listed = {}
    for line in text[len(_MANIFEST_HEAD) :].splitlines():
        digest, sep, relative = line.partition("  ")
        if not sep or len(digest) != 64:
            return None
        listed[relative] = digest
    return listed


def _owned(root: Path, relative: str, listed: dict[str, str] | None) -> bool:
    """Whether `relative` is a regular file that pvgen wrote and nobody changed since."""
    if listed is None or relative not in listed:
        return False
    return _current_digest(root / relative) == listed[relative]


# What `_current_digest` says of something that is not a regular file: it matches no digest.
_UNREADABLE = "unreadable"


def _current_digest(path: Path) -> str | None:
    """The SHA-256 (hex) of the regular file at `path`, read in pieces; None when nothing is
    there; `_UNREADABLE` for anything else there (a link, a folder, a FIFO, a device), which
    is never read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return _UNREADABLE
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return _UNREADABLE
        with open(fd, "rb", closefd=False) as f:
            return file_digest(f)
    except OSError:
        return _UNREADABLE
    finally:
        os.close(fd)


def safe_target(root: Path, relative: str) -> Path:
    """`root / relative`, refusing anything that could land outside `root`."""
    parts = relative.split("/")
    if (
        not relative
        or relative.startswith("/")
        or "\\" in relative
        or "\0" in relative
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise WriteError(f"refusing output path '{relative}': it could leave the output folder")
    for name in (str(root), relative):
        problem = path_problem(name)
        if problem is not None:
            raise WriteError(f"cannot write: {problem}")
    path = root.joinpath(*parts)
    # The output folder and its parent (generated/<abi> and generated) may not be symbolic
    # links, nor any component below: a planted link would redirect the write elsewhere.
    for folder in (root.parent, root):
        if folder.is_symlink():
            raise WriteError(f"refusing to write through symbolic link '{folder}'")
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise WriteError(f"refusing to write through symbolic link '{current}'")
    return path


# Generated files are far larger than specs; this only bounds what a planted file costs.
_MAX_OUTPUT_BYTES = 1 << 30


def _bytes(path: Path) -> bytes | None:
    """The bytes of a regular file at `path`; None when nothing is there. Anything else
    there (a FIFO, a device, a link to one) raises `OSError`, and is never read."""
    if not os.path.lexists(path):
        return None
    try:
        return read_bounded(path, None, limit=_MAX_OUTPUT_BYTES)
    except ReadProblem as exc:
        raise OSError(str(exc)) from None


def _read(path: Path) -> str | None:
    try:
        data = _bytes(path)
        return None if data is None else data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return "\0unreadable"


def write_file(path: Path, content: str, *, unchanged: Callable[[], bool] | None = None) -> None:
    """Write one file atomically (temporary file in the same folder, then rename).

    A file written again keeps its permission bits; a new one gets what `open` would
    give it (0666 less the umask), not the private 0600 of a temporary file. With
    `unchanged`, it is asked right before the rename whether the file still holds what
    the new content was made from; if not, nothing is replaced (`WriteError`), so an edit
    made meanwhile is not lost.
    """
    problem = path_problem(str(path))
    if problem is not None:
        raise WriteError(f"cannot write: {problem}")
    _atomic_write(path, content, unchanged)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _atomic_write(path: Path, content: str, unchanged: Callable[[], bool] | None = None) -> None:
    """`path` (its folder made if missing) written through a temporary file and a rename,
    both relative to the folder's descriptor, so that the folder cannot be swapped between
    the two."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _write_at(folder, path.name, content, unchanged, shown=path)
    finally:
        os.close(folder)


def _write_at(
    folder: int,
    name: str,
    content: str,
    unchanged: Callable[[], bool] | None = None,
    *,
    shown: Path,
) -> None:
    """Write `name` in the open `folder` atomically; a file written again keeps its mode."""
    mode = _mode_at(folder, name)
    tmp = _temp_name()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600, dir_fd=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(content.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if unchanged is not None and not unchanged():
            raise WriteError(f"'{shown}' changed while pvgen worked on it; it was left as it is")
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=folder)
        except OSError:
            pass
        raise


def _mode_at(folder: int, name: str) -> int:
    """The permission bits a file written as `name` in `folder` gets: those of the file it
    replaces, or what `open` would give a new one (not a temporary file's private 0600)."""
    try:
        return stat.S_IMODE(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _temp_name() -> str:
    return f"{TEMP_PREFIX}{os.urandom(6).hex()}"


def _write_below(root: int, relative: str, content: str, shown: Path) -> None:
    *folders, name = relative.split("/")
    folder = _open_below(root, folders, shown)
    try:
        _write_at(folder, name, content, shown=shown)
    finally:
        os.close(folder)


def _remove_below(root: int, relative: str, shown: Path) -> None:
    *folders, name = relative.split("/")
    folder = _open_below(root, folders, shown)
    try:
        os.unlink(name, dir_fd=folder)
    finally:
        os.close(folder)


def _open_below(root: int, parts: Sequence[str], shown: Path) -> int:
    """The folder `root/parts...`, made where missing, opened component by component
    without following a link: a link planted on the way, even while pvgen runs, is refused
    rather than followed."""
    folder = os.dup(root)
    try:
        for part in parts:
            try:
                below = os.open(part, _DIR_FLAGS, dir_fd=folder)
            except FileNotFoundError:
                os.mkdir(part, 0o777, dir_fd=folder)
                below = os.open(part, _DIR_FLAGS, dir_fd=folder)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise WriteError(
                        f"refusing to write through '{shown}': a part of it is a symbolic link"
                        " or not a folder"
                    ) from None
                raise
            os.close(folder)
            folder = below
        return folder
    except BaseException:
        os.close(folder)
        raise


def _existing_files(root: Path) -> list[str]:
    """Every regular file under `root`, relative, not following symbolic links."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            found.append(Path(folder, name).relative_to(root).as_posix())
    return found


def _leftovers(root: Path) -> list[str]:
    """The temporary files under `root`: of runs that died, since runs on one folder take
    turns and a live run removes its own."""
    return [r for r in _existing_files(root) if r.rsplit("/", 1)[-1].startswith(TEMP_PREFIX)]


# What the writer takes: files rendered already, or rendered as they are written.
Output = OutputFile | StreamedFile


def check(
    root: Path, files: Sequence[Output], *, diff: bool = False, workers: int = 1
) -> WriteReport:
    """Compare the folder with what would be written; touches nothing in it. Each file is
    rendered into an anonymous temporary file and compared by its SHA-256."""
    import tempfile

    report = WriteReport()
    paths = {f.path: safe_target(root, f.path) for f in files}
    temps: list[BinaryIO] = []

    def open_temp() -> tuple[str, BinaryIO]:
        temps.append(tempfile.TemporaryFile())
        return "", temps[-1]

    try:
        staged, manifest = _stage(files, open_temp, workers, f"cannot compare with '{root}'")
        for s in staged:
            current = _current_digest(paths[s.path])
            if current is None:
                report.missing.append(s.path)
            elif current != s.digest:
                report.stale.append(s.path)
                if diff:
                    old = _read(paths[s.path]) or ""
                    report.diffs.append(_unified(s.path, old, s.text()))
            else:
                report.unchanged.append(s.path)
    finally:
        for temp in temps:
            temp.close()
    current_manifest = _read(safe_target(root, MANIFEST))
    if current_manifest is None:
        report.missing.append(MANIFEST)
    elif current_manifest != manifest:  # the manifest counts only when it is out of date
        report.stale.append(MANIFEST)
        if diff:
            report.diffs.append(_unified(MANIFEST, current_manifest, manifest))
    listed = read_manifest(root)
    for relative in sorted(listed or ()):
        if relative not in paths and _owned(root, relative, listed):
            report.extra.append(relative)
    return report


def _stage(
    files: Sequence[Output], open_temp: OpenTemp, workers: int, failing: str
) -> tuple[list[Staged], str]:
    """Each file written into a temporary file (see `stage`), and the manifest of them all;
    a file system that refuses is a `WriteError` starting with `failing`."""
    try:
        staged = stage(files, open_temp, workers)
    except OSError as exc:
        raise WriteError(f"{failing}: {exc.strerror}") from None
    return staged, manifest_text({s.path: s.digest for s in staged})


def current(root: Path, manifest: str) -> list[str] | None:
    """The files of `root` if it holds exactly what a run that wrote `manifest` left there:
    that manifest, every file it lists with the listed content, and no temporary file of a
    run that died; None otherwise (then a full run decides what to write or refuse).
    Touches nothing; runs that write the folder are waited for."""
    if not os.path.isdir(root) or os.path.islink(root) or os.path.islink(root.parent):
        return None
    with _locked(root):
        try:
            if _read(safe_target(root, MANIFEST)) != manifest:
                return None
            listed = _parse_manifest(manifest) or {}
            for relative in listed:
                safe_target(root, relative)  # a planted manifest cannot lead elsewhere
                if not _owned(root, relative, listed):
                    return None
            if _leftovers(root):
                return None
        except (WriteError, OSError, ValueError):
            return None
    return sorted(listed)


def _unified(name: str, old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )


@contextmanager
def _locked(root: Path) -> Iterator[int]:
    """Hold an exclusive lock on the output folder (`flock` on the folder itself), so that
    runs writing the same folder take turns; a run that dies drops its lock."""
    import fcntl

    for folder in (root.parent, root):
        if folder.is_symlink():
            raise WriteError(f"refusing to write through symbolic link '{folder}'")
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise WriteError(f"cannot write '{exc.filename}': {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def write(
    root: Path, files: Sequence[Output], *, force: bool = False, workers: int = 1
) -> WriteReport:
    """Bring `root` to exactly `files` (plus whatever pvgen does not own). Runs on the same
    folder take turns, so the temporary files found here are those of dead runs.

    Each file is rendered into a temporary file of pvgen's own in `root`; what to replace,
    keep or refuse is decided on their SHA-256s, and only then is anything the folder holds
    replaced or removed. A refusal leaves the folder as it was (the temporary files go).
    """
    with _locked(root) as root_fd:
        return _write_locked(root, root_fd, files, force=force, workers=workers)


def _write_locked(
    root: Path, root_fd: int, files: Sequence[Output], *, force: bool, workers: int
) -> WriteReport:
    report = WriteReport()
    if any(f.path == MANIFEST for f in files):
        raise WriteError(f"refusing output path '{MANIFEST}': pvgen keeps its manifest there")
    paths = {f.path: safe_target(root, f.path) for f in files}
    manifest_path = safe_target(root, MANIFEST)
    listed = read_manifest(root)
    leftovers = _leftovers(root)
    temps: list[tuple[str, BinaryIO]] = []

    def open_temp() -> tuple[str, BinaryIO]:
        name = _temp_name()
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        temps.append((name, open(os.open(name, flags, 0o600, dir_fd=root_fd), "w+b")))
        return temps[-1]

    try:
        staged, manifest = _stage(files, open_temp, workers, f"cannot write '{root}'")
        report.manifest = manifest
        plan = _decide(root, paths, staged, listed, force, report)
        current_manifest = _read(manifest_path)
        if current_manifest != manifest and current_manifest is not None:
            if listed is None and not force:
                raise _not_pvgens(manifest_path)
        # Files of the last run that this one does not write, unchanged since: removed.
        stale_owned = [
            relative
            for relative in sorted(listed or ())
            if relative not in paths and _owned(root, relative, listed)
        ]
        for relative in stale_owned:
            safe_target(root, relative)
        _commit(root, root_fd, plan, stale_owned, leftovers, report)
        if current_manifest != manifest:
            # The manifest goes last: until it is replaced, it still covers the old files.
            try:
                _write_below(root_fd, MANIFEST, manifest, manifest_path)
            except OSError as exc:
                raise WriteError(f"cannot write '{manifest_path}': {exc.strerror}") from None
    finally:
        for name, file in temps:
            file.close()
            try:
                os.unlink(name, dir_fd=root_fd)
            except FileNotFoundError:  # renamed into place
                pass
    return report


def _decide(
    root: Path,
    paths: Mapping[str, Path],
    staged: Sequence[Staged],
    listed: dict[str, str] | None,
    force: bool,
    report: WriteReport,
) -> list[tuple[Path, Staged]]:
    """What to replace: every staged file whose digest differs from what its path holds.
    Raises `WriteError` for a path that holds something pvgen may not replace."""
    plan = []
    for s in staged:
        path = paths[s.path]
        current = _current_digest(path)
        if current == s.digest:
            report.unchanged.append(s.path)
            continue
        ours = listed is not None and listed.get(s.path) == current
        if current is not None and not force and not ours:
            raise _not_pvgens(path)
        if path.is_dir():
            raise WriteError(f"'{path}' is a folder where pvgen wants to write a file")
        plan.append((path, s))
    return plan


def _not_pvgens(path: Path) -> WriteError:
    return WriteError(
        f"'{path}' exists and was not generated by pvgen (its manifest does not list it with"
        " this content); move it away, or pass --force to overwrite it"
    )


def _commit(
    root: Path,
    root_fd: int,
    plan: Sequence[tuple[Path, Staged]],
    stale_owned: Sequence[str],
    leftovers: Sequence[str],
    report: WriteReport,
) -> None:
    """Rename each planned file into place and remove what is no longer generated; every
    step relative to the locked root's descriptor."""
    where: Path = root
    try:
        for path, s in plan:
            where = path
            _rename_below(root_fd, s, path)
            report.written.append(s.path)
        for relative in stale_owned:
            where = root / relative
            _remove_below(root_fd, relative, where)
            report.removed.append(relative)
        for relative in leftovers:
            where = root / relative
            try:
                _remove_below(root_fd, relative, where)
            except FileNotFoundError:
                pass
    except OSError as exc:
        done = f"; {len(report.written)} files were already replaced" if report.written else ""
        raise WriteError(f"cannot write '{where}': {exc.strerror}{done}") from None


def _rename_below(root: int, s: Staged, shown: Path) -> None:
    """The staged file (in `root`) renamed over `s.path`, with the mode of the file it
    replaces and its data on disk first."""
    *folders, name = s.path.split("/")
    folder = _open_below(root, folders, shown)
    try:
        os.fchmod(s.file.fileno(), _mode_at(folder, name))
        s.file.flush()
        os.fsync(s.file.fileno())
        os.replace(s.name, name, src_dir_fd=root, dst_dir_fd=folder)
    finally:
        os.close(folder)
