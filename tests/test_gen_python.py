"""The generated Python: imported and called for real, black-clean, mypy --strict clean."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SPECS

from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.gen import python
from pvgen.gen.common import GenOptions
from pvgen.model import Abi

VENV_BIN = Path(sys.executable).parent


def generate(abi: Abi, folder: Path) -> Path:
    for f in python.render(abi, GenOptions()):
        path = folder / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content, encoding="utf-8")
    return folder / "python"


@pytest.fixture(scope="module")
def paravirt(tmp_path_factory: pytest.TempPathFactory) -> Any:
    abi = load_abi(SPECS / "paravirt.pvspec", Config(None))
    package_root = generate(abi, tmp_path_factory.mktemp("gen"))
    sys.path.insert(0, str(package_root))
    try:
        for name in [n for n in sys.modules if n == "paravirt" or n.startswith("paravirt.")]:
            del sys.modules[name]
        module = importlib.import_module("paravirt")
        backends = importlib.import_module("paravirt.backends")
        yield abi, module, backends, package_root
    finally:
        sys.path.remove(str(package_root))


def recording(stub: type, label: str) -> Any:
    """An implementation of `stub` whose every method returns (label, method name)."""

    def make(name: str) -> Any:
        def method(self: Any, *args: Any) -> Any:
            return (label, name)

        return method

    methods = {
        name: make(name)
        for name, value in vars(stub).items()
        if callable(value) and not name.startswith("_")
    }
    return type(f"Recording{stub.__name__}", (stub,), methods)()


def call_args(abi: Abi, path: str) -> list[int]:
    table, *rest = path.split(".")
    current = abi.tables_by_name[table]
    member = None
    for part in rest:
        member = current.members_by_name[part][0]
        if hasattr(member, "table"):
            current = abi.tables_by_name[member.table]  # type: ignore[union-attr]
    return [0] * len(getattr(member, "params", ()))


def test_every_hook_dispatches_to_backend_or_native(paravirt: Any) -> None:
    abi, module, backends, _ = paravirt
    native = recording(backends.NativeStub, "native")
    for backend_decl in abi.backends:
        if backend_decl.default:
            continue
        stub = getattr(backends, python.class_name(backend_decl.name, "Stub"))
        backend = recording(stub, backend_decl.name)
        ops = module.ParavirtOps(backend, native)
        overridden = {o.path for o in backend_decl.overrides}
        nulls = set(module.NULL[backend_decl.name])
        for path in module.SINCE:
            table, *rest = path.split(".")
            slot: Any = getattr(ops, table)
            for part in rest:
                slot = getattr(slot, part)
            if path in nulls:  # NULL under this backend: nothing is bound
                assert slot is None, path
                continue
            expected_source = backend_decl.name if path in overridden else "native"
            if callable(slot):
                assert slot(*call_args(abi, path)) == (expected_source, python.method_name(path))
            else:  # a data member: the class attribute of whoever provides it
                provider = backend if path in overridden else native
                assert slot == getattr(provider, python.method_name(path))


def test_sub_table_embedded_twice_has_separate_slots(paravirt: Any) -> None:
    _, module, backends, _ = paravirt
    native = recording(backends.NativeStub, "native")
    xen = recording(backends.XenStub, "xen")
    ops = module.ParavirtOps(xen, native)
    assert ops.pv_cpu_ops.lazy_mode is not ops.pv_mmu_ops.lazy_mode
    assert ops.pv_mmu_ops.lazy_mode.enter() == ("xen", "pv_mmu_ops_lazy_mode_enter")


def test_installed_tables_hold_exactly_the_spec_members(paravirt: Any) -> None:
    _, module, backends, _ = paravirt
    ops = module.ParavirtOps(
        recording(backends.KvmStub, "kvm"), recording(backends.NativeStub, "n")
    )
    installed = {name for name in vars(ops.pv_irq_ops) if not name.startswith("__")}
    assert installed == set(ops.pv_irq_ops.__mro__[1].__annotations__)  # the generated table
    assert installed == {
        "init_IRQ",
        "save_fl",
        "restore_fl",
        "irq_disable",
        "irq_enable",
        "safe_halt",
        "halt",
    }
    # Each dispatch object has classes of its own: installing into one leaves another alone.
    other = module.ParavirtOps(
        recording(backends.XenStub, "xen"), recording(backends.NativeStub, "n")
    )
    assert other.pv_irq_ops is not ops.pv_irq_ops
    assert ops.pv_irq_ops.save_fl() == ("n", "pv_irq_ops_save_fl")
    assert other.pv_irq_ops.save_fl() == ("xen", "pv_irq_ops_save_fl")


def test_patch_ids_count_pointer_slots(paravirt: Any) -> None:
    _, module, _, _ = paravirt
    ids = module.PATCH_IDS
    # The patch template starts with pv_init_ops (pv_info, which holds data only, is not in
    # it), so its first hook is slot 0 on every target, as PARAVIRT_PATCH counts.
    assert ids["i386"]["pv_init_ops.patch"] == 0
    assert ids["x86_64"]["pv_init_ops.patch"] == 0
    assert "pv_info.name" not in ids["x86_64"]
    assert list(ids["i386"].values()) == sorted(ids["i386"].values())


def test_stub_methods_raise_until_implemented(paravirt: Any) -> None:
    _, _, backends, _ = paravirt
    with pytest.raises(NotImplementedError):
        backends.XenStub().pv_mmu_ops_write_cr3(0)


def test_generated_code_is_black_and_mypy_clean(paravirt: Any) -> None:
    package_root = paravirt[3]
    black = subprocess.run(
        [VENV_BIN / "black", "--check", "--quiet", "--config", ROOT / "pyproject.toml", "."],
        cwd=package_root,
        capture_output=True,
        text=True,
    )
    assert black.returncode == 0, black.stderr
    mypy = subprocess.run(
        [VENV_BIN / "mypy", "--strict", "--no-incremental", "paravirt"],
        cwd=package_root,
        capture_output=True,
        text=True,
    )
    assert mypy.returncode == 0, mypy.stdout


def test_imports_without_pvgen(paravirt: Any) -> None:
    package_root = paravirt[3]
    probe = (
        "import sys, paravirt, paravirt.backends\n"
        "assert not any(m == 'pvgen' or m.startswith('pvgen.') for m in sys.modules)\n"
        "print(paravirt.ABI_VERSION)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(package_root)!r})\n" + probe,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"


def test_a_typedef_doc_with_control_characters_stays_in_its_comment(tmp_path: Path) -> None:
    # A typedef becomes `name = type` under a `#:` comment; a carriage return would end that
    # comment for Python's compiler and a NUL would make the file unreadable.
    spec = tmp_path / "hostile.pvspec"
    spec.write_text(
        "abi hostile { version 1; }\ntarget t { data_model lp64; }\n"
        "/// one\rraise SystemExit(3)\x00\x01 two\n/// three\ntypedef u32 word_t;\n"
        "table ops { word_t f(); }\nbackend native default;\n",
        encoding="utf-8",
    )
    package_root = generate(load_abi(spec, Config(None)), tmp_path / "gen")
    types = (package_root / "hostile" / "types.py").read_text(encoding="utf-8")
    assert "#: one\\x0draise SystemExit(3)\\x00\\x01 two three\nword_t = int\n" in types
    result = subprocess.run(
        [sys.executable, "-c", "import hostile.types as t; print(t.word_t.__name__)"],
        cwd=package_root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "int\n"


def test_hostile_doc_comments_stay_inert(tmp_path: Path) -> None:
    spec = tmp_path / "hostile.pvspec"
    spec.write_text(
        "abi hostile { version 1; }\ntarget t { data_model lp64; }\n"
        '/// Ends here: """ and \\ and \u202e reversed and caf\u00e9 "\n'
        "table ops {\n"
        '    /// """; import os; os.system("echo pwned") #\n'
        "    u32 f(u32 x);\n"
        "}\n"
        "/// Native \\\n"
        "backend native default;\n",
        encoding="utf-8",
    )
    package_root = generate(load_abi(spec, Config(None)), tmp_path / "gen")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(package_root)!r}); import hostile.backends as b;"
            " print(b.NativeStub.ops_f.__doc__)",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('"""; import os;')
    black = subprocess.run(
        [VENV_BIN / "black", "--check", "--quiet", "--config", ROOT / "pyproject.toml", "."],
        cwd=package_root,
        capture_output=True,
        text=True,
    )
    assert black.returncode == 0, black.stderr
