"""Rendering one output in a second process while this one renders the others.

Takes: the outputs of a run (`OutputFile`s, or `StreamedFile`s rendered as they are
written), a way to make temporary files, and how many processes may work (`usable_cpus`
says how many the machine gives).
Hands on: `stage`: every output written into a temporary file of its own, each a `Staged`
record. Where `fork` exists and more than one process may work, the output marked `aside`
(abi.json) is written by a forked child meanwhile (`stage_aside`, a `PendingStage`); a child
that fails, is killed or cannot be made only costs time: the file is then written here, so
that any error is raised as a serial run raises it, and the files are the same either way.

The child inherits the model as the parent holds it (nothing is serialized on the way in)
and writes the file into its temporary file, which the parent reads once the child has
exited: a pipe would stall the child as soon as its buffer filled, while the parent is busy
rendering. The child leaves through `os._exit`, so no buffer of the parent's is flushed twice
and no exit handler runs in it. Forking is only for callers that are single-threaded, such as
the command line: a forked child of a threaded program may find a lock held forever.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import BinaryIO

from .common import OutputFile
from .stream import OpenTemp, Staged, StreamedFile, file_digest, write_staged


def usable_cpus() -> int:
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class PendingStage:
    """One streamed output being written into its temporary file by a child (`child` is
    None when there is none)."""

    def __init__(
        self, output: StreamedFile, child: int | None, name: str, file: BinaryIO | None
    ) -> None:
        self.output = output
        self.child = child
        self.name = name
        self.file = file

    def result(self) -> Staged | None:
        """The staged file, once the child has exited; None if it did not finish it."""
        if self.child is None or self.file is None:
            return None
        _, status = os.waitpid(self.child, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status):
            return None
        # The child's digest went with it: the file is read back once to hash it.
        return Staged(self.output.path, self.name, self.file, file_digest(self.file))

    def again(self) -> Staged:
        """The file written here instead, from empty, for a child that did not finish it."""
        assert self.file is not None
        self.file.seek(0)
        self.file.truncate()
        return write_staged(self.output, self.name, self.file)


def stage_aside(output: StreamedFile, open_temp: OpenTemp, workers: int) -> PendingStage:
    """Start writing `output` into a new temporary file in a child process, when `workers`
    > 1 and the platform forks."""
    if workers < 2 or not hasattr(os, "fork"):
        return PendingStage(output, None, "", None)
    name, file = open_temp()
    try:
        child = os.fork()
    except OSError:  # no process to spare: the caller writes the file itself
        return PendingStage(output, None, "", None)
    if child == 0:  # pragma: no cover  (the child's coverage is not collected)
        status = 1
        try:
            write_staged(output, name, file)
            file.flush()
            status = 0
        finally:
            os._exit(status)
    return PendingStage(output, child, name, file)


def stage(
    files: Sequence[OutputFile | StreamedFile], open_temp: OpenTemp, workers: int = 1
) -> list[Staged]:
    """Each of `files` written into a temporary file of its own made by `open_temp`, in the
    order of their paths. With `workers` > 1, the first file marked `aside` is rendered by a
    second process meanwhile (`stage_aside`); a child that fails only costs time: the file
    is then rendered here, raising what a serial run would."""
    chosen = [f for f in files if isinstance(f, StreamedFile) and f.aside][:1]
    pending = stage_aside(chosen[0], open_temp, workers) if chosen else None
    staged = []
    try:
        for f in files:
            if pending is not None and pending.child is not None and f is pending.output:
                continue
            name, out = open_temp()
            staged.append(write_staged(f, name, out))
    finally:
        # The child is waited for even when rendering here failed.
        delivered = pending.result() if pending is not None else None
    if pending is not None and pending.child is not None:
        staged.append(delivered or pending.again())
    return sorted(staged, key=_by_path)


def _by_path(s: Staged) -> str:
    return s.path
