"""Sides of a diff: a spec file, a frozen dump, or `git:REF[:PATH]`, loaded as a dump.

Takes: what the user named on the command line.
Hands on: the canonical dump (a dict) of that ABI version, or a `SideError`
that says why it cannot be read. A git side reads exactly the files the spec
reads at that revision, into a private temporary folder laid out as the
repository is: the root spec, then each file it includes (symbolic links
followed as the revision has them), with the spec root where the
configuration puts it. PATH is relative to the current folder, as any path
on the command line. The working tree and index are never touched.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..escape import path_problem
from ..files import ReadProblem, read_bounded
from ..gen.abi_json import content_hash

Dump = dict[str, Any]


class SideError(Exception):
    """A side that cannot be loaded; the message names it."""


def load_dump_file(path: Path) -> Dump:
    """A frozen dump, refused if its content no longer matches its hash."""
    try:
        # The bounded reader: a FIFO or a device named as a dump is refused, not read.
        data = json.loads(read_bounded(path, None).decode("utf-8"))
    except ReadProblem as exc:
        raise SideError(str(exc)) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or a 5,000-digit int
        raise SideError(f"cannot read dump '{path}': {exc}") from None
    if not isinstance(data, dict) or "tables" not in data or "abi" not in data:
        raise SideError(f"'{path}' is not an ABI dump")
    if "sha256" in data and data["sha256"] != content_hash(data):
        raise SideError(f"dump '{path}' was edited by hand: its content does not match its hash")
    return data


def load_side(
    text: str,
    compile_spec: Callable[[Path], Dump],
    *,
    default_path: str | None = None,
    compile_once: Callable[[Path, Path | None], Dump] | None = None,
    spec_root: Path | None = None,
) -> Dump:
    """Load `text`: `git:REF[:PATH]`, a `.json` dump, or a spec file compiled by `compile_spec`.

    Specs read from git live in a temporary folder, so they are compiled with
    `compile_once(path, spec_root)` (no point caching what will never be read again). Paths
    (PATH, `default_path`) are relative to the current folder; `spec_root` is the configured
    spec root in the working tree, which the revision's files are placed under as well.
    """
    if text.startswith("git:"):
        ref, _, path = text[4:].partition(":")
        path = path or default_path or ""
        if not ref or not path:
            raise SideError(f"'{text}' needs a revision and a path: git:REF:PATH")
        once = compile_once or (lambda spec, _root: compile_spec(spec))
        return _load_from_git(ref, path, once, spec_root)
    local = Path(text)
    if local.suffix == ".json":
        return load_dump_file(local)
    return compile_spec(local)


def _git(*args: str, cwd: Path | None = None) -> bytes:
    import subprocess

    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise SideError("git is not installed") from None
    if result.returncode != 0:
        raise SideError(result.stderr.decode(errors="replace").strip() or f"git {args[0]} failed")
    return result.stdout


def _in_repository(top: Path, path: str, prefix: str) -> str | None:
    """`path` (relative to the current folder, `prefix` below `top`) as a path from the top
    of the repository; None when it leaves the repository."""
    given = Path(path)
    if given.is_absolute():
        try:
            given = given.resolve().relative_to(top)
        except ValueError:
            return None
        joined = given.as_posix()
    else:
        joined = posixpath.normpath(posixpath.join(prefix, given.as_posix()))
    if joined == ".." or joined.startswith("../") or joined == ".":
        return None
    return joined


# Symbolic links followed in a row before a git side gives up (as the kernel's ELOOP).
MAX_LINKS = 40


class _Revision:
    """The files of one revision that a spec reads, written under a temporary folder."""

    def __init__(self, top: Path, ref: str, folder: Path) -> None:
        self.top, self.ref, self.folder = top, ref, folder
        self.written: set[str] = set()

    def entry(self, path: str) -> tuple[str, str] | None:
        """(mode, object) of `path` at the revision, or None when it has no such file."""
        listing = _git("ls-tree", "-z", self.ref, "--", path, cwd=self.top)
        for record in listing.split(b"\0"):
            meta, _, name = record.partition(b"\t")
            if name.decode("utf-8", errors="surrogateescape") == path:
                mode, _kind, obj = meta.decode().split(" ")
                return mode, obj
        return None

    def fetch(self, path: str, depth: int = 0) -> str | None:
        """Write `path` (a symbolic link: it and what it leads to) and return the path of the
        file it leads to; None when the revision has nothing there."""
        if path_problem(path) is not None or depth > MAX_LINKS:
            return None
        entry = self.entry(path)
        if entry is None:
            return None
        mode, obj = entry
        target = Path(self.folder, path)
        if mode == "120000":  # a symbolic link, as the revision has it
            link = _git("cat-file", "blob", obj, cwd=self.top).decode("utf-8", "surrogateescape")
            leads = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
            if path not in self.written:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(link)
                self.written.add(path)
            if leads.startswith("../") or posixpath.isabs(link):
                return None  # outside the repository: the loader reports what it cannot read
            return self.fetch(leads, depth + 1)
        if not mode.startswith("100"):
            return None  # a folder or a submodule is no spec
        if path not in self.written:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_git("cat-file", "blob", obj, cwd=self.top))
            self.written.add(path)
        return path

    def includes(self, path: str) -> list[str]:
        """The paths (from the top) that the spec file at `path` includes, as written there."""
        from ..diagnostics import SpecError
        from ..loader import decode_source
        from ..syntax import IncludeDecl, parse

        try:
            source = decode_source(Path(self.folder, path).read_bytes(), path)
            items = parse(source).items
        except (SpecError, OSError):
            return []  # compiling the copy reports it, at its place
        found = []
        for item in items:
            if isinstance(item, IncludeDecl) and item.path and not item.path.startswith("/"):
                joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), item.path))
                if not joined.startswith("../") and joined != "..":
                    found.append(joined)
        return found


def _load_from_git(
    ref: str, path: str, compile_spec: Callable[[Path, Path | None], Dump], spec_root: Path | None
) -> Dump:
    top = Path(_git("rev-parse", "--show-toplevel").decode(errors="surrogateescape").strip())
    top = top.resolve()
    prefix = _git("rev-parse", "--show-prefix").decode(errors="surrogateescape").strip()
    wanted = _in_repository(top, path, prefix)
    if wanted is None:
        raise SideError(f"'{path}' is outside the git repository at '{top}'")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pvgen-git-") as tmp:
        revision = _Revision(top, ref, Path(tmp))
        first = revision.fetch(wanted)
        if first is None:
            raise SideError(f"'{wanted}' does not exist at revision '{ref}'")
        local = Path(tmp, wanted)
        if local.suffix == ".json":
            return load_dump_file(local)
        # Every file the spec includes, and the files those include, as the revision has them.
        seen = {wanted}
        queue = [first]
        while queue:
            for included in revision.includes(queue.pop()):
                if included not in seen:
                    seen.add(included)
                    found = revision.fetch(included)
                    if found is not None:
                        queue.append(found)
        root = None
        if spec_root is not None:
            try:
                root = Path(tmp, spec_root.resolve().relative_to(top))
            except ValueError:
                root = None  # a spec root outside the repository: the file's folder
        return compile_spec(local, root)
