"""Table fingerprints: computed once from the model's dump elements, the same from a frozen
dump, defined by the generated C header (read back through gcc) and Python package
(imported), changed by what code built against a table depends on and by nothing else."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from pvgen import api
from pvgen.dump import fingerprints, table_fingerprints
from pvgen.gen.cnames import CNames

REFERENCE = ROOT / "specs" / "paravirt.pvspec"
LINUX = ROOT / "specs" / "linux"
FROZEN = LINUX / "abi" / "linux_paravirt"

BASE = """abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
struct pair { u32 a; u32 b; }
table ops {
    /// Doc.
    void first(u32 x);
    unsigned long second(struct pair *p);
    @callee_save @patch(native = "cli") void third();
}
table other { void g(); }
backend native default;
"""


def prints(tmp_path: Path, text: str) -> dict[str, str]:
    spec = tmp_path / f"demo{len(list(tmp_path.iterdir()))}.pvspec"
    spec.write_text(text, encoding="utf-8")
    return fingerprints(api.compile_spec(spec)[0])


def test_a_fingerprint_is_64_bits_per_table() -> None:
    found = fingerprints(api.load_abi(REFERENCE))
    abi = api.load_abi(REFERENCE)
    assert list(found) == [t.name for t in abi.tables]
    assert all(len(v) == 18 and int(v, 16) >= 0 for v in found.values())
    assert len(set(found.values())) == len(found)


def test_the_model_and_its_dump_give_the_same_fingerprints() -> None:
    abi = api.load_abi(REFERENCE)
    assert table_fingerprints(api.dump(abi)) == fingerprints(abi)


@pytest.mark.parametrize("number", [6, 7, 8])
def test_a_frozen_release_gives_the_fingerprints_of_its_spec(number: int) -> None:
    frozen = json.loads((FROZEN / f"{number}.json").read_text(encoding="utf-8"))
    spec = LINUX / f"linux-2.6.{19 + number}.pvspec"
    assert table_fingerprints(frozen) == fingerprints(api.load_abi(spec))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/// Doc.", "/// Another doc."),
        ("void first(u32 x);", "void first(u32 renamed);"),
        ("void first(u32 x);", "@since(1) void first(u32 x);"),
        ("table other { void g(); }", "table other {\n    void g();\n}"),
    ],
)
def test_what_no_compiled_code_depends_on_keeps_the_fingerprint(
    tmp_path: Path, old: str, new: str
) -> None:
    assert old in BASE
    assert prints(tmp_path, BASE.replace(old, new)) == prints(tmp_path, BASE)


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ("void first(u32 x);", "void first(u64 x);", {"ops"}),
        ("struct pair { u32 a; u32 b; }", "struct pair { u64 a; u32 b; }", {"ops"}),
        ("void first(u32 x);\n    unsigned long second", "unsigned long second", {"ops"}),
        ("@callee_save @patch", "@patch", {"ops"}),
        ('@patch(native = "cli")', '@patch(native = "cli", clobbers = "eax")', {"ops"}),
        ("table other { void g(); }", "table other { void g(); void h(); }", {"other"}),
        ("table other { void g(); }", "table other { void h(); }", {"other"}),
        ("table other { void g(); }", "table other { @if(X86_64) void g(); }", {"other"}),
    ],
)
def test_what_compiled_code_depends_on_changes_the_fingerprint(
    tmp_path: Path, old: str, new: str, changed: set[str]
) -> None:
    assert old in BASE
    before, after = prints(tmp_path, BASE), prints(tmp_path, BASE.replace(old, new))
    assert {t for t in before if before[t] != after[t]} == changed


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_the_c_header_defines_each_fingerprint(tmp_path: Path) -> None:
    abi = api.load_abi(REFERENCE)
    api.write_outputs(abi, api.render(abi, families=("c",)), tmp_path)
    names = CNames(abi)
    found = fingerprints(abi)
    lines = "\n".join(
        f'    printf("%s %016llx\\n", "{t.name}", {names.fingerprint_macro(t)});'
        for t in abi.tables
    )
    (tmp_path / "main.c").write_text(
        f'#include <stdio.h>\n#include "paravirt.h"\nint main(void) {{\n{lines}\n'
        "    return 0;\n}\n",
        encoding="utf-8",
    )
    header_dir = tmp_path / abi.name / "c"
    x86_64 = next(t for t in abi.targets if t.name == "x86_64")
    macros = [
        f"-DCONFIG_{name}" if value is True else f"-DCONFIG_{name}={value}"
        for name, value in sorted(x86_64.defines.items())
    ]
    cmd = ["gcc", "-std=c11", "-Wall", "-Werror", *macros, f"-I{header_dir}", "main.c"]
    built = subprocess.run([*cmd, "-o", "main"], cwd=tmp_path, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    out = subprocess.run([tmp_path / "main"], capture_output=True, text=True, check=True)
    assert dict(line.split() for line in out.stdout.splitlines()) == {
        t: v[2:] for t, v in found.items()
    }


def test_the_python_package_defines_each_fingerprint(tmp_path: Path) -> None:
    abi = api.load_abi(REFERENCE)
    api.write_outputs(abi, api.render(abi, families=("python",)), tmp_path)
    package = tmp_path / abi.name / "python" / abi.name
    spec = importlib.util.spec_from_file_location(
        "_fingerprint_test_pkg", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        assert module.FINGERPRINTS == {t: int(v, 16) for t, v in fingerprints(abi).items()}
    finally:
        for name in [n for n in sys.modules if n.startswith(spec.name)]:
            del sys.modules[name]
