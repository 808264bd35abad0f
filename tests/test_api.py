"""The compile API: docs/api.md's examples run as written, and the API is the pipeline.

The examples are run in order, in one namespace, in an empty folder, as a reader would
paste them; each asserts what the page says it shows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def test_api_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks((ROOT / "docs" / "api.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks):
        code = compile(block, f"docs/api.md block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples
    # The examples wrote what they said they wrote.
    assert (tmp_path / "generated" / "demo" / "c" / "demo.h").is_file()
    assert (tmp_path / "abi" / "demo" / "1.json").is_file()


def test_api_agrees_with_the_command_line(tmp_path: Path) -> None:
    """What `pvgen generate` writes is what `api.render` returns, file for file."""
    from pvgen import api

    spec = ROOT / "specs" / "paravirt.pvspec"
    run = run_cli("generate", "--out", str(tmp_path), str(spec), cwd=tmp_path)
    assert run.status == 0, run.err
    abi = api.load_abi(spec)
    for output in api.render(abi):
        written = (tmp_path / abi.name / output.path).read_text(encoding="utf-8")
        assert written == output.content, output.path


def test_import_of_the_api_does_not_load_the_commands() -> None:
    """`import pvgen.api` gives the pipeline without the command line or the generators."""
    code = (
        "import sys, pvgen.api\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pvgen'))\n"
        "print(' '.join(loaded))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert "pvgen.api" in out
    assert not [m for m in out if m == "pvgen.cli" or m.startswith("pvgen.commands")]
    assert "pvgen.gen.c" not in out and "pvgen.gen.python" not in out


def test_later_errors_are_importable_from_the_api() -> None:
    from pvgen import api
    from pvgen.abi.freeze import FreezeError
    from pvgen.abi.sides import SideError
    from pvgen.gen.writer import WriteError

    assert (api.SideError, api.FreezeError, api.WriteError) == (
        SideError,
        FreezeError,
        WriteError,
    )
    with pytest.raises(AttributeError):
        api.NoSuchThing  # noqa: B018 - the access is the test


def test_the_package_is_typed() -> None:
    assert (ROOT / "pvgen" / "py.typed").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "py.typed" in pyproject


def test_the_syntax_trees_are_freed_once_the_model_holds_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`load_abi` hands the loaded trees over to resolve, which lets go of them before the
    per-target layouts are computed: no syntax tree is alive by then (a large spec's memory
    peaks there otherwise)."""
    import weakref

    from pvgen import api, loader
    from pvgen import resolve as resolve_module

    monkeypatch.setenv("PVGEN_NO_CACHE", "1")
    trees: list[weakref.ref[object]] = []
    alive_at_layouts: list[int] = []
    real_load, real_compute = loader.load, resolve_module._Layouts.compute

    def load(*args: Any, **kwargs: Any) -> Any:
        loaded = real_load(*args, **kwargs)
        trees.extend(weakref.ref(f) for f in loaded.files)
        return loaded

    def compute(self: Any) -> Any:
        alive_at_layouts.append(sum(ref() is not None for ref in trees))
        return real_compute(self)

    monkeypatch.setattr(loader, "load", load)
    monkeypatch.setattr(resolve_module._Layouts, "compute", compute)
    abi = api.load_abi(ROOT / "specs" / "paravirt.pvspec")
    assert len(trees) == 2  # the reference spec and the file it includes
    assert alive_at_layouts == [0]
    assert abi.tables  # and the model is whole
