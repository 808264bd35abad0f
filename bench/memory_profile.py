"""Where the memory of a large `pvgen check` goes, stage by stage.

`python bench/memory_profile.py [--hooks N]` writes the synthetic spec of N hooks (default
100,000, one file, as `make bench` checks it) into a temporary folder and runs the stages of
an uncached `pvgen check` one by one in this process, with garbage collection off as in the
commands. After each stage it prints the resident memory (what the process holds now) and
its peak so far (what `make bench` reports for the whole process): the imports, the syntax
tree, the tables' model (resolve frees each table's tree as its model is made), the
backends', the per-target layouts, the generated-name check (which peaks while it runs and
then lets its pool go), the rules and the report. Linux only: it reads /proc/self/statm.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

T = TypeVar("T")
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hooks", type=int, default=100_000)
    args = parser.parse_args()
    if not Path("/proc/self/statm").exists():
        sys.exit("memory_profile.py reads /proc/self/statm: run it on Linux")
    gc.disable()
    os.environ["PVGEN_NO_CACHE"] = "1"  # as `make bench` measures it: nothing read or kept
    rows: list[tuple[str, float, float]] = []

    def note(stage: str) -> None:
        rows.append((stage, resident_mb(), peak_mb()))

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "synth.pvspec"
        # Written by another process, so that none of this one's memory went into it.
        synth = [sys.executable, str(HERE / "synth.py"), str(args.hooks), str(spec)]
        subprocess.run(synth, check=True)
        note("the interpreter")
        profile(spec, note)
    print(f"pvgen check, {args.hooks:,} hooks, no cache: memory after each stage (MB)")
    print(f"  {'stage':58s} {'resident':>9s} {'peak':>7s}")
    for stage, now, peak in rows:
        print(f"  {stage:58s} {now:9.0f} {peak:7.0f}")


def profile(spec: Path, note: Callable[[str], None]) -> None:
    from pvgen import api, formats, loader, resolve, rules, syntax  # noqa: F401

    syntax._driver()
    note("imports and the parser's tables")
    # Resolve runs as one call; its stages are noted by wrapping the steps that begin them.
    wrapped = _Stages(resolve, note)
    held = [loader.load(spec, None, parse=syntax.parse)]
    note("syntax tree")
    abi = resolve.resolve(held.pop())
    wrapped.undo()
    note("model (resolve done)")
    found = api.lint(abi, spec)
    note("rules")
    formats.render_text(found)
    note("report")


class _Stages:
    """Wraps three steps of `resolve` to note the memory where each begins and ends."""

    def __init__(self, resolve: Any, note: Callable[[str], None]) -> None:
        self.undo_steps: list[Callable[[], None]] = []
        first_backend = [True]

        def backend(original: Callable[..., T]) -> Callable[..., T]:
            def step(*args: Any) -> T:
                if first_backend[0]:
                    first_backend[0] = False
                    note("the tables' model (their trees freed)")
                return original(*args)

            return step

        def layouts(original: Callable[..., T]) -> Callable[..., T]:
            def step(*args: Any) -> T:
                note("the backends' model")
                result = original(*args)
                note("per-target layouts")
                return result

            return step

        def names(original: Callable[..., T]) -> Callable[..., T]:
            def step(*args: Any) -> T:
                result = original(*args)
                note("generated-name check (its pool let go)")
                return result

            return step

        self.wrap(resolve._Resolver, "backend", backend)
        self.wrap(resolve._Layouts, "compute", layouts)
        self.wrap(resolve, "check_generated_names", names)

    def wrap(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        setattr(owner, name, make(original))
        self.undo_steps.append(lambda: setattr(owner, name, original))

    def undo(self) -> None:
        for step in reversed(self.undo_steps):
            step()


if __name__ == "__main__":
    main()
