"""Sides of a diff: a spec file, a frozen dump, or `git:REF[:PATH]`, loaded as a dump.

Takes: what the user named on the command line.
Hands on: the canonical dump (a dict) of that ABI version, or a `SideError`
that says why it cannot be read. Git revisions are read with `git show` into
a private temporary folder; the working tree and index are never touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
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
    compile_once: Callable[[Path], Dump] | None = None,
) -> Dump:
    """Load `text`: `git:REF[:PATH]`, a `.json` dump, or a spec file compiled by `compile_spec`.

    Specs read from git live in a temporary folder, so they are compiled with
    `compile_once` (no point caching what will never be read again) when given.
    """
    if text.startswith("git:"):
        ref, _, path = text[4:].partition(":")
        path = path or default_path or ""
        if not ref or not path:
            raise SideError(f"'{text}' needs a revision and a path: git:REF:PATH")
        return _load_from_git(ref, path, compile_once or compile_spec)
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


def _load_from_git(ref: str, path: str, compile_spec: Callable[[Path], Dump]) -> Dump:
    top = Path(_git("rev-parse", "--show-toplevel").decode(errors="surrogateescape").strip())
    prefix = _git("rev-parse", "--show-prefix").decode(errors="surrogateescape").strip()
    import tempfile

    wanted = PurePosixPath(prefix) / path if prefix else PurePosixPath(path)
    folder = str(wanted.parent)
    with tempfile.TemporaryDirectory(prefix="pvgen-git-") as tmp:
        listing = _git("ls-tree", "-r", "--name-only", "-z", ref, "--", folder, cwd=top)
        # A name that is not UTF-8 or holds a control character is no spec pvgen reads (the
        # loader refuses such names): it is not copied out.
        decoded = (n.decode("utf-8", errors="surrogateescape") for n in listing.split(b"\0"))
        names = [n for n in decoded if n and path_problem(n) is None]
        if str(wanted) not in names:
            raise SideError(f"'{path}' does not exist at revision '{ref}'")
        for name in names:
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_git("show", f"{ref}:{name}", cwd=top))
        local = Path(tmp, str(wanted))
        if local.suffix == ".json":
            return load_dump_file(local)
        return compile_spec(local)
