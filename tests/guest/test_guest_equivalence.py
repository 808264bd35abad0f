"""The invariant: paravirtualization changes what things cost, never what the guest sees.

Every backend runs every workload from the same seed and must leave the same page tables,
memory, translations, registers and descriptors, and read back the same values."""

from __future__ import annotations

import pytest

from pvgen.guest import TARGET, WORKLOADS, runnable, simulate
from pvgen.guest.backends import BackendMismatch
from pvgen.guest.backends.xen import XenHooks

SIZE = 100
SEEDS = (0, 1, 2)


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_every_backend_leaves_the_same_guest_visible_state(workload: str) -> None:
    for seed in SEEDS:
        native = simulate("native", workload, size=SIZE, seed=seed)
        assert native.state.page_tables and native.state.readings
        for backend in runnable()[1:]:
            other = simulate(backend, workload, size=SIZE, seed=seed)
            assert other.state == native.state, (
                backend,
                seed,
                native.state.differences(other.state),
            )
            assert other.readings == native.readings
            assert other.run.cycles != native.run.cycles


def test_the_guest_runs_the_backends_the_spec_gives_its_target() -> None:
    # Linux 2.6.26 builds lguest for 32-bit kernels without PAE only: the PAE guest has it not.
    assert TARGET == "i386_pae"
    assert runnable() == ("native", "xen", "vmi", "kvm")
    with pytest.raises(BackendMismatch, match="'lguest' does not run on i386_pae.* gives it i386$"):
        simulate("lguest", "kbuild", size=1)


def test_runs_are_deterministic() -> None:
    first = simulate("xen", "kbuild", size=25, seed=7)
    again = simulate("xen", "kbuild", size=25, seed=7)
    assert (first.run, first.state) == (again.run, again.state)
    assert simulate("xen", "kbuild", size=25, seed=8).readings != first.readings


def test_the_comparison_catches_a_backend_that_changes_what_the_guest_sees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Xen keeps machine frames in its page tables; if pte_val forgot to translate them
    # back, the kernel would see different entries.
    monkeypatch.setattr(XenHooks, "pv_mmu_ops_pte_val", lambda self, pte: pte.pte)
    native = simulate("native", "context-switch", size=5)
    broken = simulate("xen", "context-switch", size=5)
    assert broken.state != native.state
    assert any(line.startswith("page_tables") for line in native.state.differences(broken.state))


def test_the_comparison_catches_a_late_interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    # Unmasking events must deliver what is pending at once, as sti does natively.
    monkeypatch.setattr(
        XenHooks, "_unmask_events", lambda self: self.machine.mask_virtual_interrupts(False)
    )
    native = simulate("native", "fork", size=SIZE, seed=3)
    late = simulate("xen", "fork", size=SIZE, seed=3)
    assert late.state.readings_digest != native.state.readings_digest
