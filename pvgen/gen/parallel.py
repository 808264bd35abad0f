"""Rendering one output in a second process while this one renders the others.

Takes: a function that renders one `OutputFile` from data this process already holds (the
model), or the outputs of a run to stream into temporary files; and how many processes may
work (`usable_cpus` says how many the machine gives).
Hands on: a `Pending` render: started in a forked child where `fork` exists and more than
one process may work, whose `result()` is the child's file, or None when the child could not
deliver it (it failed, was killed, or there was no child); the caller then renders the file
itself, so that any error is raised as a serial run raises it, and the output is the same
either way. And `stage`: every output of a run written into a temporary file of its own,
the one marked `aside` by a child meanwhile (`PendingStage`), with the same fallback.

The child inherits the model as the parent holds it (nothing is serialized on the way in)
and writes the file's text into a file, which the parent reads once the child has
exited: a pipe would stall the child as soon as its buffer filled, while the parent is busy
rendering. The child leaves through `os._exit`, so no buffer of the parent's is flushed twice
and no exit handler runs in it. Forking is only for callers that are single-threaded, such as
the command line: a forked child of a threaded program may find a lock held forever.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import BinaryIO

from .common import OutputFile
from .stream import OpenTemp, Staged, StreamedFile, file_digest, write_staged


def usable_cpus() -> int:
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class Pending:
    """One file being rendered aside (or not at all, when `child` is None)."""

    def __init__(self, child: int | None, sink: BinaryIO | None) -> None:
        self.child = child
        self.sink = sink

    def result(self) -> OutputFile | None:
        """The child's file, once it has exited; None if it did not deliver one (or was
        asked for already)."""
        if self.child is None or self.sink is None:
            return None
        try:
            _, status = os.waitpid(self.child, 0)
            self.sink.seek(0)
            data = self.sink.read() if os.WIFEXITED(status) and not os.WEXITSTATUS(status) else b""
        finally:
            self.sink.close()
            self.sink = None
        end = data.find(b"\0")
        if end <= 0:
            return None
        # Decoded where it lies: a large file is not copied once more on the way.
        content = str(memoryview(data)[end + 1 :], "utf-8")
        return OutputFile(data[:end].decode("utf-8"), content)


def render_aside(render: Callable[[], OutputFile], workers: int) -> Pending:
    """Start `render()` in a child process when `workers` > 1 and the platform forks."""
    if workers < 2 or not hasattr(os, "fork"):
        return Pending(None, None)
    sink = _anonymous_file()
    try:
        child = os.fork()
    except OSError:  # no process to spare: the caller renders the file itself
        sink.close()
        return Pending(None, None)
    if child == 0:  # pragma: no cover  (the child's coverage is not collected)
        status = 1
        try:
            file = render()
            sink.write(file.path.encode("utf-8") + b"\0")
            sink.write(file.content.encode("utf-8"))
            sink.flush()
            status = 0
        finally:
            os._exit(status)
    return Pending(child, sink)


def _anonymous_file() -> BinaryIO:
    """A file with no name in any folder: in memory where Linux offers it, else a temporary
    file unlinked at once (no other user can open or replace it)."""
    if hasattr(os, "memfd_create"):
        try:
            return os.fdopen(os.memfd_create("pvgen-render", os.MFD_CLOEXEC), "w+b")
        except OSError:
            pass
    import tempfile

    return tempfile.TemporaryFile()


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
