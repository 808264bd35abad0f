"""Where a check after a one-hook edit of a large split ABI spends its time.

`python bench/edit_profile.py [--hooks N] [--parts P]` writes the synthetic ABI of N hooks
(default 10,000) as a root and P included files (default 10) into a temporary folder, runs
one check and one generate to fill a private cache and an output folder, changes one hook's
return type in one file, and then runs the stages of `pvgen check` one by one in this
process, printing the CPU time of each: the look-up that turns the stale model away, the
syntax trees (the edited file parsed and kept, the others read back), resolving, marking the
new sources as compiled once, the rules, and the report; then what `pvgen generate` adds: rendering each family
of outputs, and bringing the output folder up to date. Garbage collection is off, as in the
commands.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from synth import edit_one_hook, synth_split  # noqa: E402

T = TypeVar("T")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hooks", type=int, default=10_000)
    parser.add_argument("--parts", type=int, default=10)
    args = parser.parse_args()
    gc.disable()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cache = folder / "cache"
        cache.mkdir(mode=0o700)
        os.environ["PVGEN_CACHE_DIR"] = str(cache)
        os.environ.pop("PVGEN_NO_CACHE", None)
        for name, text in synth_split(args.hooks, args.parts).items():
            (folder / name).write_text(text, encoding="utf-8")
        root = folder / "root.pvspec"
        os.chdir(folder)
        stages = profile(root, folder / "tables_00.pvspec")
    total = sum(stages.values())
    print(
        f"check, then generate, after a one-hook edit, {args.hooks:,} hooks in"
        f" {args.parts + 1} files (CPU):"
    )
    for name, seconds in stages.items():
        print(f"  {name:52s} {seconds * 1000:7.0f} ms  {seconds / total:4.0%}")
    print(f"  {'total':52s} {total * 1000:7.0f} ms")


def profile(root: Path, edited: Path) -> dict[str, float]:
    stages: dict[str, float] = {}

    def timed(name: str, run: Callable[[], T]) -> T:
        start = time.process_time()
        try:
            return run()
        finally:
            stages[name] = stages.get(name, 0.0) + time.process_time() - start

    def imports() -> Any:
        from pvgen import api, cache, formats, loader, resolve, rules, syntax  # noqa: F401

        syntax._driver()  # the parser's tables, as the first parse loads them

    timed("imports and the parser's tables", imports)
    from pvgen import api, cache, formats, loader, resolve, syntax
    from pvgen.gen.stream import Sink, StreamedFile

    api.check([root])  # fills the cache, as the run before the edit did
    out = root.parent / "out"
    api.write_outputs(api.load_abi(root), api.render(api.load_abi(root)), out)
    edited.write_text(edit_one_hook(edited.read_text(encoding="utf-8")), encoding="utf-8")
    folder = cache.cache_dir()
    assert folder is not None
    entry = cache._entry_path(folder, root, None)
    stale = timed("the stale model turned away on its header", lambda: cache._load(entry))
    assert stale is None
    kept = cache.cached_parse(syntax.parse)
    loaded = timed(
        "syntax trees: one parsed and kept, the others read",
        lambda: loader.load(root, None, parse=kept),
    )
    abi = timed("resolve", lambda: resolve.resolve(loaded))
    sources = [
        [str(named), str(path), source.sha256]
        for named, path, source in zip(loaded.named, loaded.paths, abi.sources, strict=True)
    ]
    timed(
        "mark the compile (the model is kept from the second)",
        lambda: cache.mark_compiled(entry, sources),
    )
    found = timed("rules (and keeping their findings)", lambda: api.lint(abi, root))
    timed("report the findings", lambda: formats.render_text(found))
    # What `pvgen generate` does (in one process here): each output rendered piece by piece
    # into a temporary file, then the writer's decisions and renames. The rendering of each
    # family is timed inside the writer's run, the writer's own share is the rest.
    options = api.GenOptions()
    family = {"c": "render the C header and native table", "python": "render the Python package"}

    def stage_of(path: str) -> str:
        return f"generate: {family.get(path.split('/', 1)[0], 'render abi.json')}"

    def timed_write(f: StreamedFile) -> StreamedFile:
        def write(sink: Sink) -> object:
            return timed(stage_of(f.path), lambda: f.write(sink))

        return StreamedFile(f.path, write, aside=f.aside)

    files = [timed_write(f) for f in api.render_streamed(abi, options)]
    start = time.process_time()
    api.write_outputs(abi, files, out)
    rendering = sum(v for k, v in stages.items() if k.startswith("generate: render"))
    stages["generate: bring the output folder up to date"] = time.process_time() - start - rendering
    return stages


if __name__ == "__main__":
    main()
