"""The loader renders the Python package from the spec and imports it under a private name."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from pvgen.guest.bindings import default_spec, load_bindings


def test_the_default_spec_is_the_reference_spec() -> None:
    assert default_spec().name == "paravirt.pvspec"
    assert default_spec().is_file()


def test_loading_twice_gives_the_same_modules() -> None:
    first, again = load_bindings(), load_bindings(default_spec())
    assert first is again
    assert first.package_name.startswith("_pvgen_guest_paravirt_")
    assert sys.modules[first.package_name] is first.package
    assert first.tables.__name__ == f"{first.package_name}.tables"


def test_the_bindings_describe_the_generated_package() -> None:
    bindings = load_bindings()
    assert "pv_mmu_ops.lazy_mode.enter" in bindings.hooks
    assert "pv_info.name" in bindings.data_members
    assert set(bindings.patch_ids) == {"i386", "i386_pae", "x86_64"}
    assert bindings.types.pte(0x1003).pte == 0x1003
    pud = bindings.types.pud_from_pgd(bindings.types.pgd(0x2001))
    assert pud.pgd.pgd == 0x2001


def test_a_changed_spec_loads_beside_the_reference_one(tmp_path: Path) -> None:
    for spec in default_spec().parent.glob("*.pvspec"):
        shutil.copy(spec, tmp_path / spec.name)
    changed = tmp_path / "paravirt.pvspec"
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("lguest: the small", "lguest, the small"), encoding="utf-8")
    reference, other = load_bindings(), load_bindings(changed)
    assert other.package_name != reference.package_name
    assert other.stubs["lguest"].__doc__ != reference.stubs["lguest"].__doc__
    assert other.stubs["lguest"] is not reference.stubs["lguest"]
