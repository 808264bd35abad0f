"""The package as a user gets it: pvgen's wheel installed into a fresh virtual environment,
every command run from a folder outside the repository; with it, the two example plugins of
examples/ (a generator and a rule), installed from their own wheels and put to work.

The wheel is built from this tree without build isolation (the dev environment has the
build backend); its dependencies come from tests/.wheels, which `make test` fills, so
nothing here needs the network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, TEST_SPECS

from pvgen import schemas

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
    before = set(out.glob("*.whl"))
    subprocess.run(
        [*DEV_PIP, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    return next(iter(set(out.glob("*.whl")) - before))


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
    for example in ("asm-offsets", "rule-ops-suffix"):
        build_wheel(ROOT / "examples" / example, wheel.parent)
    install(
        base / "venv" / "bin" / "python",
        "pvgen",
        "pvgen-gen-asm-offsets",
        "pvgen-rule-ops-suffix",
        links=wheel.parent,
    )
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
    assert installed.wheel.name.startswith("pvgen-0")
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    for name in (
        "pvgen/py.typed",
        "pvgen/specs/paravirt.pvspec",
        "pvgen/specs/mm_types.pvspec",
        "pvgen/schemas/config.json",
        "pvgen/grammar/pvspec.lark",
        "pvgen/report/assets/report.js",
        "pvgen/report/assets/report.css",
        "pvgen/gen/templates/c/header.h.j2",
        "pvgen/gen/compiled/c_header_h.py",  # the templates compiled ahead
        "pvgen/gen/compiled/python_tables_py.py",
    ):
        assert name in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Typing :: Typed" in metadata


def installed_python(installed: Installed, code: str) -> str:
    """What `code` prints, run by the installed environment's Python outside the repository."""
    return subprocess.run(
        [str(installed.bin / "python"), "-c", code],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_pvgen_comes_from_the_environment_not_the_repository(installed: Installed) -> None:
    where = installed_python(installed, "import pvgen; print(pvgen.__file__)")
    assert Path(where).is_relative_to(installed.bin.parent)
    assert not Path(where).resolve().is_relative_to(ROOT)
    # The installed templates are loaded from their compiled modules, as byte-compiled by pip.
    used = installed_python(
        installed,
        "from pvgen.gen.common import environment;"
        " print(environment('c').get_template('header.h.j2').filename)",
    )
    assert Path(used).name == "c_header_h.py" and Path(used).is_relative_to(installed.bin.parent)


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
    result = run("report", "-o", "report.html")
    assert result.returncode == 0, result.stderr
    page = (installed.work / "report.html").read_text(encoding="utf-8")
    assert "pvgenReport" in page and "pv_mmu_ops.write_cr3" in page


def test_sim_runs_the_packaged_reference_spec(installed: Installed) -> None:
    result = installed.run("sim", "--backend", "xen", "--size", "2")
    assert result.returncode == 0, result.stderr
    assert "backend xen" in result.stdout
    result = installed.run("sim", "--size", "1", "--spec", "contract/paravirt.pvspec")
    assert result.returncode == 2
    assert "the spec lacks what the simulated guest needs" in result.stderr


# ---- the example plugins ----------------------------------------------------------------------

RULE_SPEC = """abi demo { version 1; stability internal; }
target x86_64 { data_model lp64; }
/// Interrupt-flag operations.
table pv_irq {
    /// Halts the CPU until the next interrupt.
    void halt();
}
backend native default;
"""


def test_the_rule_plugin_is_listed_explained_and_run(installed: Installed, tmp_path: Path) -> None:
    run = installed.run
    listing = run("rules").stdout
    assert re.search(r"^PV901  table-ops-suffix +warning", listing, re.M)
    assert "pv_irq_ops" in run("rules", "PV901").stdout  # the good example
    catalogue = json.loads(run("rules", "--format", "json").stdout)
    jsonschema.validate(catalogue, schemas.load("rules"))
    assert ("PV901", "spec") in [(r["id"], r["category"]) for r in catalogue["rules"]]
    (tmp_path / "a.pvspec").write_text(RULE_SPEC, encoding="utf-8")
    found = json.loads(run("check", "a.pvspec", "--format", "json", cwd=tmp_path).stdout)
    assert [(f["rule"], f["line"]) for f in found["findings"]] == [("PV901", 4)]
    assert "does not end in _ops" in found["findings"][0]["message"]
    # Like any rule: accepted with @allow, turned off in [rules] or with --ignore.
    allowed = RULE_SPEC.replace(
        "table pv_irq", '@allow(PV901, reason = "named by the hypervisor")\ntable pv_irq'
    )
    (tmp_path / "b.pvspec").write_text(allowed, encoding="utf-8")
    result = run("check", "b.pvspec", "--format", "json", cwd=tmp_path)
    assert json.loads(result.stdout)["findings"] == []
    assert (
        json.loads(
            run("check", "a.pvspec", "--ignore", "PV901", "--format", "json", cwd=tmp_path).stdout
        )["findings"]
        == []
    )
    (tmp_path / "pvgen.toml").write_text('[rules]\nPV901 = "error"\n', encoding="utf-8")
    assert run("check", "a.pvspec", cwd=tmp_path).returncode == 1
    (tmp_path / "pvgen.toml").write_text('[rules]\nPV901 = "off"\n', encoding="utf-8")
    result = run("check", "a.pvspec", cwd=tmp_path)
    assert result.returncode == 0 and "PV901" not in result.stderr


def test_the_generator_plugin_writes_offsets_gcc_agrees_with(installed: Installed) -> None:
    run = installed.run
    result = run("generate", "--plugin", "asm-offsets")
    assert result.returncode == 0, result.stderr
    out = installed.work / "generated" / "paravirt"
    headers = sorted(p.name for p in (out / "asm-offsets").iterdir())
    assert headers == ["i386.h", "i386_pae.h", "x86_64.h"]
    assert run("generate", "--check", "--plugin", "asm-offsets").returncode == 0
    result = run("generate", "--check")
    assert result.returncode == 1 and "asm-offsets/x86_64.h: extra" in result.stderr
    (installed.work / "pvgen.toml").write_text(
        'specs = ["specs/paravirt.pvspec"]\nplugins = ["asm-offsets"]\n', encoding="utf-8"
    )
    assert run("generate", "--check").returncode == 0
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    # Every offset and size of every table on x86_64, as gcc lays out pvgen's own header.
    dump = json.loads(run("dump").stdout)
    target = next(t for t in dump["targets"] if t["name"] == "x86_64")
    records = dump["layouts"]["x86_64"]["records"]
    tables = [t["name"] for t in dump["tables"]]
    checks = [
        f'_Static_assert(offsetof(struct {table}, {member}) == OFFSET_{table}__{member}, "{table}.{member}");'
        for table in tables
        for member in records[table]["offsets"]
    ]
    checks += [f'_Static_assert(sizeof(struct {t}) == SIZEOF_{t}, "{t}");' for t in tables]
    assert len(checks) > 100
    source = out / "check_offsets.c"
    source.write_text(
        '#include <stddef.h>\n#include "c/paravirt.h"\n#include "asm-offsets/x86_64.h"\n'
        + "\n".join(checks)
        + "\n",
        encoding="utf-8",
    )
    defines = [
        f"-DCONFIG_{name}" if value is True else f"-DCONFIG_{name}={value}"
        for name, value in sorted(target["defines"].items())
    ]
    compiled = subprocess.run(
        ["gcc", "-std=c11", "-m64", "-fsyntax-only", *defines, "check_offsets.c"],
        cwd=out,
        capture_output=True,
        text=True,
    )
    source.unlink()
    assert compiled.returncode == 0, compiled.stderr
    # The plugin's files are owned like pvgen's own: an edit is stale, kept until --force.
    header = out / "asm-offsets" / "x86_64.h"
    header.write_text(header.read_text().replace("#define SIZEOF_pv_irq_ops", "#define SIZEOF_x"))
    assert "asm-offsets/x86_64.h: stale" in run("generate", "--check").stderr
    assert run("generate").returncode == 2  # the manifest does not list the edited content
    assert run("generate", "--force").returncode == 0
    assert run("generate", "--check").returncode == 0
