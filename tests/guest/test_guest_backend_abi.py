"""A backend built against another frozen release: loaded table by table when the tables it
fills are identical or compatible, refused with the diff's reasons when one breaks; shown
on the Linux history (a 2.6.25 backend in a 2.6.26 guest) and through `pvgen sim`."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, run_cli

from pvgen import api
from pvgen.dump import fingerprints
from pvgen.guest.backend_abi import Verdict, check_backend_abi, render

LINUX = ROOT / "specs" / "linux"
FROZEN = LINUX / "abi" / "linux_paravirt"
REFERENCE = ROOT / "specs" / "paravirt.pvspec"
RELEASES = ROOT / "specs" / "abi" / "paravirt"


def test_a_2_6_25_backend_in_a_2_6_26_guest_is_refused_for_pv_mmu_ops_only() -> None:
    check = check_backend_abi(FROZEN / "6.json", LINUX / "linux-2.6.26.pvspec")
    assert (check.abi, check.backend_version, check.guest_version) == ("linux_paravirt", 6, 7)
    verdicts = {t.table: t.verdict for t in check.tables}
    assert verdicts.pop("pv_mmu_ops") is Verdict.REFUSED
    assert set(verdicts.values()) == {Verdict.IDENTICAL}
    (mmu,) = check.refused
    assert [(c.id, c.item) for c in mmu.changes] == [("PV205", "pv_mmu_ops")]
    assert "alloc_pud, release_pud" in mmu.changes[0].message
    assert not check.loadable
    guest = fingerprints(api.load_abi(LINUX / "linux-2.6.26.pvspec"))
    assert {t.table: t.guest_fingerprint for t in check.tables} == guest
    assert mmu.backend_fingerprint != mmu.guest_fingerprint


def test_a_2_6_26_backend_in_a_2_6_27_guest_loses_four_tables_and_the_patch_template() -> None:
    check = check_backend_abi(FROZEN / "7.json", LINUX / "linux-2.6.27.pvspec")
    verdicts = {t.table: t.verdict.value for t in check.tables}
    assert verdicts == {
        "pv_info": "identical",
        "pv_init_ops": "identical",
        "pv_lazy_ops": "identical",
        "pv_time_ops": "refused",  # get_cpu_khz removed
        "pv_cpu_ops": "refused",  # irq_enable_syscall_ret removed, slots moved
        "pv_irq_ops": "compatible",  # adjust_exception_frame added at the end
        "pv_apic_ops": "refused",
        "pv_mmu_ops": "refused",
        "pv_lock_ops": "new",
    }
    assert [c.id for c in check.refused_globally] == ["PV227"]


def test_a_break_accepted_in_the_release_still_refuses_an_old_backend() -> None:
    check = check_backend_abi(RELEASES / "1.json", REFERENCE)
    (mmu,) = check.refused
    assert mmu.table == "pv_mmu_ops" and mmu.changes[0].accepted
    assert "accepted in the release" in render(check)


def test_a_compatible_table_loads(tmp_path: Path) -> None:
    # The same release with one parameter spelled differently (same type, same layout):
    # another fingerprint, a cosmetic change, a table that loads.
    dump = json.loads((RELEASES / "2.json").read_text(encoding="utf-8"))
    del dump["sha256"]  # edited, so no longer what freeze wrote
    mmu = next(t for t in dump["tables"] if t["name"] == "pv_mmu_ops")
    write_cr3 = next(m for m in mmu["members"] if m["name"] == "write_cr3")
    write_cr3["params"][0]["type"] = "unsigned long int"
    edited = tmp_path / "2.json"
    edited.write_text(json.dumps(dump), encoding="utf-8")
    check = check_backend_abi(edited, REFERENCE)
    verdicts = {t.table: t.verdict for t in check.tables}
    assert verdicts["pv_mmu_ops"] is Verdict.COMPATIBLE
    assert check.loadable


def test_sim_refuses_the_2_6_25_backend_with_the_diffs_reasons() -> None:
    run = run_cli(
        "sim",
        "--spec",
        str(LINUX / "linux-2.6.26.pvspec"),
        "--backend-abi",
        str(FROZEN / "6.json"),
    )
    assert run.status == 1
    assert not run.out  # nothing ran
    assert "  pv_mmu_ops   refused" in run.err
    assert "PV205 slots-shifted: pv_mmu_ops: slots of table 'pv_mmu_ops' moved" in run.err
    assert (
        "pvgen: error: a backend built against 'linux_paravirt' version 6 cannot be loaded"
        " into this guest (version 7): breaking changes in pv_mmu_ops" in run.err
    )


def test_sim_loads_a_backend_of_the_same_release_and_runs() -> None:
    run = run_cli(
        "sim", "--backend", "xen", "--size", "3", "--backend-abi", str(RELEASES / "2.json")
    )
    assert run.status == 0, run.err
    assert "loaded: every table the guest has is identical, compatible or new" in run.err
    assert run.out.startswith("backend xen (Xen), workload kbuild, size 3")


def test_sim_says_what_is_wrong_with_a_backend_abi_it_cannot_use(tmp_path: Path) -> None:
    missing = run_cli("sim", "--backend-abi", str(tmp_path / "none.json"))
    assert missing.status == 2 and "--backend-abi: cannot read" in missing.err
    other = run_cli("sim", "--backend-abi", str(FROZEN / "6.json"))
    assert other.status == 2
    assert "is a release of ABI 'linux_paravirt', but the guest runs ABI 'paravirt'" in other.err
    assert "Traceback" not in missing.err + other.err
