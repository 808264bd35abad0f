"""The release specs of specs/linux/ are the kernel's, release by release, 2.6.20 to 6.19.

Each spec is the converter's output (specs/linux/make_specs.py), passes `pvgen check` with
no error or warning, and is frozen. Its numbers are held to the kernel's as worked out from
tests/facts by this file's own code, never from pvgen: the hooks each configuration has, the
offset of every member of every table, and every patch ID, in the model and in the C header,
which gcc compiles for every target (one gcc run per data model for all 26 releases).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import kernel_facts
import pytest
from conftest import SPECS

from pvgen import api
from pvgen.config import Config
from pvgen.model import Abi

LINUX = SPECS / "linux"
FROZEN = LINUX / "abi" / "linux_paravirt"
RELEASES = list(json.loads(kernel_facts.FACTS.read_text(encoding="utf-8"))["versions"])
# The releases the numbers are asserted for in every run; the others are cheap enough too.
NAMED = ["v2.6.20", "v2.6.24", "v2.6.26", "v2.6.30", "v4.20", "v6.19"]


def key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.removeprefix("v").split("."))


def spec_path(version: str) -> Path:
    return LINUX / f"linux-{version.removeprefix('v')}.pvspec"


# ---- the kernel's configurations, from Kconfig ----------------------------------------------


def configs(version: str) -> dict[str, dict[str, int]]:
    """The configurations a paravirt kernel of `version` was built for, as the facts'
    conditions name them. PARAVIRT was i386-only before 2.6.25; PARAVIRT_XXL (4.20) comes
    with XEN_PV, on x86_64 and on PAE i386 until 5.9; QUEUED_SPINLOCKS from 4.2 (SMP);
    X86_IOPL_IOPERM and 5-level paging on by default from 5.5; the number of levels is the
    macro PAGETABLE_LEVELS before 4.1 and CONFIG_PGTABLE_LEVELS after."""
    k = key(version)
    found: dict[str, dict[str, int]] = {}
    for target, base in kernel_facts.CONFIGS.items():
        if target == "x86_64" and k < (2, 6, 25):
            continue
        config = dict(base)
        if target == "x86_64" and k >= (5, 5):
            config["PAGETABLE_LEVELS"] = 5
        if k >= (4, 1):
            config["CONFIG_PGTABLE_LEVELS"] = config.pop("PAGETABLE_LEVELS")
        if k >= (4, 2):
            config["CONFIG_QUEUED_SPINLOCKS"] = 1
        if k >= (5, 5):
            config["CONFIG_X86_IOPL_IOPERM"] = 1
        xen_pv = target == "x86_64" or (target == "i386_pae" and k < (5, 9))
        if k >= (4, 20) and xen_pv:
            config["CONFIG_PARAVIRT_XXL"] = 1
        found[target] = config
    return found


# ---- the kernel's numbers, from the facts ---------------------------------------------------

DATA = {"unsigned int": 4, "int": 4, "u16": 2}  # data members' sizes; pointers aside


def pointer(target: str) -> int:
    return 8 if target == "x86_64" else 4


@cache
def table_layout(version: str, table: str, target: str) -> tuple[int, int, dict[str, int]]:
    """(size, align, member -> offset) of a table as gcc lays out the kernel's struct in
    `target`'s configuration; a member the configuration leaves out has no offset."""
    config = configs(version)[target]
    offset, align, offsets = 0, 1, {}
    for member in kernel_facts.release(version)["tables"][table]:
        if not kernel_facts.holds(member.get("cond"), config):
            continue
        if member["kind"] == "nested":
            size, member_align, _ = table_layout(version, member["type"], target)
        elif member["kind"] == "data" and not member["type"].endswith("*"):
            size = member_align = DATA[member["type"]]
        else:  # a function pointer, a callee-save thunk's pointer or a data pointer
            size = member_align = pointer(target)
        offset = -(-offset // member_align) * member_align
        offsets[member["name"]] = offset
        offset += size
        align = max(align, member_align)
    return -(-offset // align) * align, align, offsets


def patch_ids(version: str, target: str) -> dict[str, int]:
    """Each hook's PARAVIRT_PATCH number. Until 2.6.23 it is the hook's slot in struct
    paravirt_ops itself, data members included; from 2.6.24 its slot in struct
    paravirt_patch_template, whose members are whole tables of pointers."""
    facts = kernel_facts.release(version)["tables"]
    config = configs(version)[target]
    if "paravirt_patch_template" not in facts:
        _, _, offsets = table_layout(version, "paravirt_ops", target)
        return {
            f"paravirt_ops.{m['name']}": offsets[m["name"]] // pointer(target)
            for m in facts["paravirt_ops"]
            if m["kind"] != "data" and kernel_facts.holds(m.get("cond"), config)
        }
    ids: dict[str, int] = {}
    for entry in facts["paravirt_patch_template"]:
        for path, _ in kernel_facts.walk(version, entry["type"], config):
            ids[f"{entry['type']}.{path}"] = len(ids)
    return ids


def hook_count(version: str, target: str) -> int:
    """Function slots of every table no other table embeds (embedded ones counted where
    they are embedded); the template and struct paravirt_callee_save are not tables."""
    facts = kernel_facts.release(version)["tables"]
    tables = [n for n in facts if n not in ("paravirt_patch_template", "paravirt_callee_save")]
    nested = {m["type"] for n in tables for m in facts[n] if m["kind"] == "nested"}
    config = configs(version)[target]
    return sum(
        1
        for n in tables
        if n not in nested
        for _, m in kernel_facts.walk(version, n, config)
        if m["kind"] != "data"
    )


def kernel_tables(version: str) -> list[str]:
    facts = kernel_facts.release(version)["tables"]
    return [n for n in facts if n not in ("paravirt_patch_template", "paravirt_callee_save")]


# ---- the specs ------------------------------------------------------------------------------


@cache
def load(version: str) -> Abi:
    return api.load_abi(spec_path(version), Config(None))


def converter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_specs", LINUX / "make_specs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_specs"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_committed_specs_are_the_converters_output() -> None:
    rendered: Mapping[str, str] = converter().render_all()
    assert sorted(rendered) == sorted(p.name for p in LINUX.glob("*.pvspec"))
    assert sorted(rendered) == sorted(spec_path(v).name for v in RELEASES)
    for name, text in rendered.items():
        assert (LINUX / name).read_text(
            encoding="utf-8"
        ) == text, f"specs/linux/{name} is stale: run python specs/linux/make_specs.py"


def test_every_release_checks_clean_in_release_order() -> None:
    report = api.check([spec_path(v) for v in RELEASES], Config(None))
    problems = [d for d in report.diagnostics if d.severity.name.lower() in ("error", "warning")]
    assert not problems, "\n".join(d.message for d in problems)
    assert [s.abi.version for s in report.specs] == list(range(1, len(RELEASES) + 1))
    assert {s.abi.name for s in report.specs} == {"linux_paravirt"}


@pytest.mark.parametrize("version", RELEASES)
def test_targets_are_the_configurations_of_the_era(version: str) -> None:
    abi = load(version)
    spec = {
        t.name: {
            ("PAGETABLE_LEVELS" if n == "PAGETABLE_LEVELS" else f"CONFIG_{n}"): int(v)
            for n, v in t.defines.items()
        }
        for t in abi.targets
    }
    assert spec == configs(version)


@pytest.mark.parametrize("version", RELEASES)
def test_hook_counts_per_target_are_the_kernels(version: str) -> None:
    abi = load(version)
    assert api.count_hooks_per_target(abi) == {t: hook_count(version, t) for t in configs(version)}


@pytest.mark.parametrize("version", RELEASES)
def test_patch_ids_are_the_kernels(version: str) -> None:
    abi = load(version)
    for target in configs(version):
        assert dict(abi.facts[target].patch_ids) == patch_ids(version, target), target


@pytest.mark.parametrize("version", RELEASES)
def test_every_table_is_laid_out_as_the_kernels(version: str) -> None:
    abi = load(version)
    assert [t.name for t in abi.tables] == kernel_tables(version)
    for target in configs(version):
        records = abi.facts[target].layout.records
        for table in kernel_tables(version):
            size, align, offsets = table_layout(version, table, target)
            record = records[table]
            assert (record.size, record.align) == (size, align), (target, table)
            assert dict(record.offsets) == offsets, (target, table)


def member_paths(version: str, table: str) -> set[str]:
    """Every member path of a kernel table on any configuration, sub-tables expanded."""
    found: set[str] = set()
    for member in kernel_facts.release(version)["tables"][table]:
        if member["kind"] == "nested":
            found |= {f"{member['name']}.{p}" for p in member_paths(version, member["type"])}
        else:
            found.add(member["name"])
    return found


@pytest.mark.parametrize("version", RELEASES)
def test_each_backend_provides_what_the_kernels_sets(version: str) -> None:
    """Every member a backend's kernel code assigns, and no other, is listed (whole-struct
    copies and static calls aside: they name no member); native is the default."""
    facts = kernel_facts.release(version)
    tables = kernel_tables(version)
    expected: dict[str, set[str]] = {}
    for backend, entries in facts["backends_set"].items():
        expected[backend.lower()] = {
            f"{e['table']}.{e['hook']}"
            for e in entries
            if e["table"] in tables and e["hook"] in member_paths(version, e["table"])
        }
    abi = load(version)
    assert [b.name for b in abi.backends if b.default] == ["native"]
    listed = {b.name: {o.path for o in b.overrides} for b in abi.backends if not b.default}
    assert listed == {name: paths for name, paths in expected.items() if name != "native"}


def test_xen_leaves_the_kernels_null_members_in_2_6_26() -> None:
    """Xen copies pv_cpu_ops and pv_mmu_ops whole in 2.6.26, so what it does not set is NULL
    on the target it runs on (32-bit PAE): read_tscp, swapgs, alloc_pud and release_pud."""
    m = converter()
    rel = m.Release("v2.6.26", 7, kernel_facts.release("v2.6.26"), m.Reference())
    xen = m.backend_facts(rel, "Xen")
    assert xen.runs_on == ["i386_pae"]
    assert xen.null == {
        "pv_cpu_ops": ["read_tscp", "swapgs"],
        "pv_mmu_ops": ["alloc_pud", "release_pud"],
    }
    assert m.backend_facts(rel, "lguest").runs_on == ["i386"]
    assert m.backend_facts(rel, "KVM").runs_on == ["i386", "i386_pae", "x86_64"]


def test_the_named_releases_match_the_kernel_by_hand() -> None:
    """A few numbers known from the kernel sources, so that the code above is checked too."""
    assert patch_ids("v2.6.26", "i386")["pv_irq_ops.save_fl"] == 45
    assert patch_ids("v2.6.26", "x86_64")["pv_irq_ops.save_fl"] == 47
    # 2.6.20: kernel_rpl, paravirt_enabled and name come first in struct paravirt_ops.
    assert patch_ids("v2.6.20", "i386")["paravirt_ops.patch"] == 3
    assert {t: hook_count("v2.6.26", t) for t in configs("v2.6.26")} == {
        "i386": 89,
        "i386_pae": 96,
        "x86_64": 96,
    }
    assert hook_count("v6.19", "x86_64") == 81
    for version in NAMED:
        assert version in RELEASES


@pytest.mark.parametrize("version", RELEASES)
def test_every_release_is_frozen_as_it_is(version: str) -> None:
    abi = load(version)
    frozen = json.loads((FROZEN / f"{abi.version}.json").read_text(encoding="utf-8"))
    for stamp in ("_generated_by", "sha256"):  # what freeze adds around the dump
        del frozen[stamp]
    assert frozen == json.loads(api.dump_json(abi))


def test_the_history_page_shows_the_counts_the_converter_prints() -> None:
    page = (SPECS.parent / "docs" / "linux-history.md").read_text(encoding="utf-8")
    table = page.split("<!-- counts: python specs/linux/make_specs.py --counts -->\n")[1]
    assert (
        table.split("\n<!-- /counts -->")[0] == converter().counts_table()
    ), "docs/linux-history.md is stale: run python specs/linux/make_specs.py --counts"


@pytest.mark.xfail(
    strict=True,
    reason="pvgen diff pairs members by name only: 2.6.22 declares pte_val, make_pte, pgd_val"
    " and make_pgd twice under exclusive conditions, and their dump differs from itself",
)
def test_a_release_does_not_differ_from_itself() -> None:
    assert not api.diff(str(FROZEN / "3.json"), str(FROZEN / "3.json")).changes


def test_diff_between_two_releases_is_one_call() -> None:
    """2.6.26 to 2.6.27 adds struct pv_lock_ops to the template: every later patch ID moves."""
    result = api.diff(str(FROZEN / "7.json"), str(FROZEN / "8.json"))
    kinds = {c.kind.name for c in result.changes}
    assert kinds, "two releases with different tables differ"
    text = " ".join(c.message for c in result.changes)
    assert "pv_lock_ops" in text


# ---- gcc ------------------------------------------------------------------------------------


def _config_lines(config: Mapping[str, int]) -> str:
    lines = []
    for name, value in sorted(config.items()):
        macro = name if name.startswith("CONFIG_") else f"CONFIG_{name}"
        lines.append(f"#define {macro} {value}")
    return "\n".join(lines)


def _macro(path: str) -> str:
    return "LINUX_PARAVIRT_PATCH_" + re.sub(r"\W", "_", path).upper()


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_every_header_compiles_with_the_kernels_numbers(tmp_path: Path) -> None:
    """Each release's header, included under each target's configuration, compiles (its own
    static asserts hold) and gives the kernel's patch IDs and table layouts. One gcc run per
    data model compiles every release."""
    sources: dict[str, list[str]] = {"-m32": [], "-m64": []}
    for version in RELEASES:
        abi = load(version)
        folder = tmp_path / version
        folder.mkdir()
        for f in api.render(abi, families=("c",)):
            (folder / Path(f.path).name).write_text(f.content, encoding="utf-8")
        for target, config in configs(version).items():
            checks = [
                f'_Static_assert({_macro(p)} == {n}, "{version} {target} {p}");'
                for p, n in patch_ids(version, target).items()
            ]
            for table in kernel_tables(version):
                size, _, offsets = table_layout(version, table, target)
                checks.append(f'_Static_assert(sizeof(struct {table}) == {size}, "{table}");')
                checks += [
                    f"_Static_assert(offsetof(struct {table}, {m}) == {o}, "
                    f'"{version} {target} {table}.{m}");'
                    for m, o in offsets.items()
                ]
            unit = folder / f"{target}.c"
            unit.write_text(
                f"{_config_lines(config)}\n#include <stddef.h>\n"
                f'#include "linux_paravirt.h"\n' + "\n".join(checks) + "\n",
                encoding="utf-8",
            )
            sources["-m64" if target == "x86_64" else "-m32"].append(str(unit))
    for width, units in sources.items():
        run = subprocess.run(
            ["gcc", "-std=c11", "-fsyntax-only", "-ffreestanding", "-Wall", width, *units],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr[:4000]


def test_the_reference_spec_is_still_the_guests() -> None:
    """specs/paravirt.pvspec stays the 2.6.26 spec the simulated guest runs; the release
    spec of 2.6.26 has the same tables, slots and patch IDs on every target, and the same
    backends with the same members."""
    reference = api.load_abi(SPECS / "paravirt.pvspec", Config(None))
    release = load("v2.6.26")
    for target in configs("v2.6.26"):
        assert dict(reference.facts[target].patch_ids) == dict(release.facts[target].patch_ids)
        ref_records: Any = reference.facts[target].layout.records
        for table in kernel_tables("v2.6.26"):
            assert ref_records[table].offsets == release.facts[target].layout.records[table].offsets
    assert {b.name: {o.path for o in b.overrides} for b in reference.backends} == {
        b.name: {o.path for o in b.overrides} for b in release.backends
    }
