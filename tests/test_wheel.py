"""The package as a user gets it: pvgen's wheel installed into a fresh virtual environment,
every command run from a folder outside the repository.

The wheel is built from this tree without build isolation (the dev environment has the
build backend); its dependencies come from tests/.wheels, which `make test` fills, so
nothing here needs the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SPECS

WHEELHOUSE = ROOT / "tests" / ".wheels"
DEV_PIP = [sys.executable, "-m", "pip"]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path
    env: dict[str, str]
    work: Path  # a project folder outside the repository

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "pvgen"), *args],
            cwd=cwd or self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


def build_wheel(source: Path, out: Path) -> Path:
    subprocess.run(
        [*DEV_PIP, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    return next(out.glob("*.whl"))


def install(python: Path, *requirements: str, links: Path) -> None:
    subprocess.run(
        [
            *DEV_PIP,
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-index",
            "--find-links",
            str(WHEELHOUSE),
            "--find-links",
            str(links),
            *requirements,
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    if not (WHEELHOUSE / ".complete").exists():
        pytest.fail("tests/.wheels is missing: 'make test' fetches the dependencies' wheels")
    base = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(ROOT, base / "dist")
    venv.EnvBuilder(with_pip=False).create(base / "venv")
    install(base / "venv" / "bin" / "python", "pvgen", links=wheel.parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "PVGEN_"))
    }
    env["PATH"] = f"{base / 'venv' / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin"
    env["HOME"] = str(base / "home")
    env["PVGEN_CACHE_DIR"] = str(base / "cache")
    work = base / "project"
    shutil.copytree(ROOT / "specs", work / "specs")
    shutil.copytree(TEST_SPECS / "contract", work / "contract")
    (work / "pvgen.toml").write_text('specs = ["specs/paravirt.pvspec"]\n', encoding="utf-8")
    shutil.copy(ROOT / "tests" / "import" / "i386_paravirt.h", work / "i386_paravirt.h")
    return Installed(wheel, base / "venv" / "bin", env, work)


def test_the_wheel_holds_the_data_and_metadata(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    for name in (
        "pvgen/py.typed",
        "pvgen/specs/paravirt.pvspec",
        "pvgen/specs/mm_types.pvspec",
        "pvgen/schemas/config.json",
        "pvgen/grammar/pvspec.lark",
    ):
        assert name in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Typing :: Typed" in metadata


def test_pvgen_comes_from_the_environment_not_the_repository(installed: Installed) -> None:
    where = subprocess.run(
        [str(installed.bin / "python"), "-c", "import pvgen; print(pvgen.__file__)"],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.bin.parent)
    assert not Path(where).resolve().is_relative_to(ROOT)


def test_every_command_works_from_a_folder_outside_the_repository(installed: Installed) -> None:
    run = installed.run
    assert run("--version").stdout.startswith("pvgen ")
    result = run("check")
    assert result.returncode == 0, result.stderr
    assert "specs/paravirt.pvspec: abi 'paravirt'" in result.stdout
    assert run("check", "--summary", "--format", "text").returncode == 0
    assert "hot-hook-unpatched" in run("rules", "PV104").stdout
    assert run("generate").returncode == 0
    assert (installed.work / "generated" / "paravirt" / "c" / "paravirt.h").is_file()
    assert run("generate", "--check").returncode == 0
    assert run("fmt", "--check").returncode == 0
    result = run("import", "i386_paravirt.h", "-o", "imported.pvspec")
    assert result.returncode == 0, result.stderr
    assert run("check", "imported.pvspec", "--no-rules").returncode == 0
    result = run("freeze", "contract/paravirt.pvspec")
    assert result.returncode == 0, result.stderr
    frozen = next((installed.work / "contract" / "abi" / "paravirt").glob("*.json"))
    result = run("diff", str(frozen), "contract/paravirt.pvspec", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["changes"] == []
    assert json.loads(run("dump").stdout)["abi"]["name"] == "paravirt"
    assert json.loads(run("schema", "config").stdout)["title"] == "pvgen configuration"


def test_sim_runs_the_packaged_reference_spec(installed: Installed) -> None:
    result = installed.run("sim", "--backend", "xen", "--size", "2")
    assert result.returncode == 0, result.stderr
    assert "backend xen" in result.stdout
    result = installed.run("sim", "--size", "1", "--spec", "contract/paravirt.pvspec")
    assert result.returncode == 2
    assert "the spec lacks what the simulated guest needs" in result.stderr
