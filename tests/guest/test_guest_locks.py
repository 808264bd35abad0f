"""The guest on the Linux 2.6.27 release spec: backends that match its tables member for
member, spinlocks through pv_lock_ops (native's ticket lock, Xen's byte lock that blocks
in SCHEDOP_poll and is kicked), what that changes under lock-holder preemption, and the
faults the run must catch: a lock that is never released, a waiter never kicked, a broken
2.6.27 hook, a lost IPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from pvgen.guest import WORKLOADS, runnable, simulate
from pvgen.guest import kstructs as k
from pvgen.guest.backends import (
    RELEASES,
    BackendMismatch,
    bound_class,
    implementation_members,
    implementations,
    release,
)
from pvgen.guest.backends.native import NativeHooks
from pvgen.guest.backends.release27 import (
    IMPLEMENTATIONS_2_6_27,
    NativeHooks27,
    XenHooks27,
)
from pvgen.guest.bindings import Bindings, load_bindings
from pvgen.guest.locks import Deadlock
from pvgen.guest.machine import Machine
from pvgen.guest.meter import HYPERCALL
from pvgen.guest.smp import BLOCKED, BLOCKED_CYCLES, LOCK_WAIT, RESCHEDULE, SPINLOCK

SPEC_2_6_27 = Path(__file__).resolve().parents[2] / "specs" / "linux" / "linux-2.6.27.pvspec"
SIZE = 10


@pytest.fixture(scope="module")
def b27() -> Bindings:
    return load_bindings(SPEC_2_6_27)


def test_the_release_is_recognized_from_the_stubs(b27: Bindings) -> None:
    assert release(b27) == "2.6.27"
    assert release(load_bindings()) == "2.6.26"
    assert implementations(b27) is IMPLEMENTATIONS_2_6_27
    for name, implementation in IMPLEMENTATIONS_2_6_27.items():
        assert implementation_members(implementation) == b27.stub_methods(name), name
        bound_class(b27, name)  # the check passes for every backend, lguest included
    # The withdrawn hooks are not counted, the added ones are.
    members = implementation_members(NativeHooks27)
    assert "pv_cpu_ops_irq_enable_syscall_ret" not in members
    assert {"pv_cpu_ops_irq_enable_sysexit", "pv_lock_ops_spin_lock"} <= members
    assert "pv_lock_ops_spin_lock" not in implementation_members(NativeHooks)


def test_a_revision_that_misses_or_adds_a_member_is_refused(
    b27: Bindings, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Lacking(XenHooks27):  # a revision of the revision that drops set_pte
        REVISES = XenHooks27
        WITHDRAWN = frozenset({"pv_mmu_ops_set_pte"})

    class Extra(XenHooks27):
        REVISES = XenHooks27

        def pv_lock_ops_spin_lock_flags(self, lock: int, flags: int) -> None:
            """2.6.28's member: not in 2.6.27's table."""

    for broken, problem in ((Lacking, "lacks pv_mmu_ops_set_pte"), (Extra, "spin_lock_flags")):
        classes = dict(IMPLEMENTATIONS_2_6_27, xen=broken)
        monkeypatch.setitem(RELEASES, "2.6.27", classes)
        fresh = load_bindings(SPEC_2_6_27)
        monkeypatch.setattr("pvgen.guest.backends._BOUND", {})
        with pytest.raises(BackendMismatch, match=problem):
            bound_class(fresh, "xen")


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_every_backend_leaves_the_same_state_on_2_6_27(b27: Bindings, workload: str) -> None:
    assert runnable(b27) == ("native", "xen", "vmi", "kvm")
    for cpus, pcpus in ((1, 1), (2, 2), (4, 2), (8, 3)):
        native = simulate("native", workload, size=SIZE, seed=1, cpus=cpus, bindings=b27)
        for backend in runnable(b27)[1:]:
            other = simulate(
                backend, workload, size=SIZE, seed=1, cpus=cpus, pcpus=pcpus, bindings=b27
            )
            assert other.state == native.state, (
                backend,
                cpus,
                native.state.differences(other.state),
            )
            assert not other.clobbered


def test_spinlocks_go_through_pv_lock_ops_on_2_6_27(b27: Bindings) -> None:
    for backend, owner in (("native", "native"), ("xen", "xen"), ("kvm", "native")):
        result = simulate(backend, "fork", size=20, cpus=3, bindings=b27)
        taken = result.run.event(SPINLOCK)
        assert taken > 0
        assert result.run.hook_calls["pv_lock_ops.spin_lock"] == taken
        assert result.run.hook_calls["pv_lock_ops.spin_unlock"] == taken
        assert result.handled_by["pv_lock_ops.spin_lock"] == owner
        assert ("page_table_lock held", 1) in result.readings  # assert_spin_locked
        # The renamed hooks are the ones called.
        assert "pv_cpu_ops.irq_enable_sysexit" in result.sites
        assert "pv_time_ops.get_tsc_khz" in result.boot.hook_calls
    before = simulate("xen", "fork", size=20, cpus=3)  # 2.6.26: no pv_lock_ops
    assert "pv_lock_ops.spin_lock" not in before.run.hook_calls
    assert before.run.event(SPINLOCK) > 0


def _xen(b27: Bindings, seed: int, pv: bool) -> Any:
    return simulate(
        "xen", "kbuild", size=40, seed=seed, cpus=4, pcpus=2, bindings=b27, pv_spinlocks=pv
    )


def test_xen_pv_spinlocks_wait_less_under_lock_holder_preemption(b27: Bindings) -> None:
    waited = {True: 0, False: 0}
    spun = {True: 0, False: 0}
    for seed in range(3):
        for pv in (True, False):
            run = _xen(b27, seed, pv)
            waited[pv] += run.run.event(LOCK_WAIT)
            spun[pv] += run.run.categories.get("spinning", 0)
            polls = run.run.event(BLOCKED)
            assert run.run.event(f"{HYPERCALL}:sched_op:poll") == polls
            # every blocked waiter was kicked by an event-channel send from its unlocker;
            # the other sends are the reschedule IPIs
            sends = run.run.event(f"{HYPERCALL}:event_channel_op:send")
            assert sends == polls + run.run.event(RESCHEDULE)
            if not pv:
                assert polls == 0
    assert waited[True] > 0 and spun[True] > 0
    assert 2 * waited[True] < waited[False]
    assert 2 * spun[True] < spun[False]
    # Blocking yields: the wall time a waiter spends blocked is not spinning.
    blocked = _xen(b27, 2, True).run
    assert blocked.event(BLOCKED) > 0 and blocked.event(BLOCKED_CYCLES) > 0
    # Costs change, what the guest sees does not.
    assert _xen(b27, 0, True).state == _xen(b27, 0, False).state
    # With a physical CPU per vCPU nobody is preempted and nobody blocks for long.
    dedicated = simulate("xen", "kbuild", size=40, cpus=4, pcpus=4, bindings=b27)
    assert dedicated.run.event(BLOCKED) == 0


def test_a_ticket_unlock_that_does_not_release_deadlocks(
    b27: Bindings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stuck(self: Any, lock: int) -> None:
        if self.lock_waits is not None:
            self.lock_waits.released(lock)  # the hold ends, the ticket is never served

    monkeypatch.setattr(NativeHooks27, "pv_lock_ops_spin_unlock", stuck)
    with pytest.raises(Deadlock, match=r"spinlock lockup on CPU\d: page_table_lock"):
        simulate("kvm", "fork", size=20, cpus=3, bindings=b27)


def test_a_xen_unlock_that_does_not_release_deadlocks(
    b27: Bindings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stuck(self: Any, lock: int) -> None:
        if self.lock_waits is not None:
            self.lock_waits.released(lock)  # forgets xl->lock = 0

    monkeypatch.setattr(XenHooks27, "pv_lock_ops_spin_unlock", stuck)
    with pytest.raises(Deadlock, match="reads held, and no CPU is inside it"):
        simulate("xen", "fork", size=20, cpus=3, bindings=b27)


def test_a_xen_unlock_that_does_not_kick_leaves_the_waiter_asleep(
    b27: Bindings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def silent(self: Any, lock: int) -> None:
        self.machine.store(lock, self.machine.load(lock) & ~0xFF)
        if self.lock_waits is not None:
            self.lock_waits.released(lock)  # never looks at the spinners

    assert _xen(b27, 2, True).run.event(BLOCKED) > 0  # this run blocks
    monkeypatch.setattr(XenHooks27, "pv_lock_ops_spin_unlock", silent)
    with pytest.raises(Deadlock, match="blocked in SCHEDOP_poll .* never kicked"):
        _xen(b27, 2, True)
    # Spinning only, nobody needs a kick: the same unlock is harmless.
    assert _xen(b27, 2, False).run.event(SPINLOCK) > 0


def test_the_command_line_reports_a_deadlock_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def silent(self: Any, lock: int) -> None:
        self.machine.store(lock, self.machine.load(lock) & ~0xFF)
        if self.lock_waits is not None:
            self.lock_waits.released(lock)

    monkeypatch.setattr(XenHooks27, "pv_lock_ops_spin_unlock", silent)
    args = ["sim", "--spec", str(SPEC_2_6_27), "--backend", "xen", "--cpus", "4"]
    args += ["--pcpus", "2", "--size", "40", "--seed", "2"]
    result = run_cli(*args)
    assert result.status == 1, result.err
    assert result.err.startswith("pvgen: error: the guest deadlocks: CPU")
    assert "Traceback" not in result.err


def test_broken_2_6_27_hooks_are_caught_by_the_comparison(
    b27: Bindings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = simulate("native", "fork", size=20, cpus=3, bindings=b27)
    assert simulate("xen", "fork", size=20, cpus=3, bindings=b27).state == reference.state
    monkeypatch.setattr(XenHooks27, "pv_lock_ops_spin_is_locked", lambda self, lock: 0)
    broken = simulate("xen", "fork", size=20, cpus=3, bindings=b27)
    assert broken.state != reference.state
    assert ("page_table_lock held", 0) in broken.readings
    monkeypatch.undo()
    monkeypatch.setattr(XenHooks27, "pv_time_ops_get_tsc_khz", lambda self: 1_000_000)
    assert simulate("xen", "fork", size=20, cpus=3, bindings=b27).state != reference.state


def test_a_lost_ipi_is_caught_on_2_6_27(b27: Bindings, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = simulate("kvm", "syscalls", size=40, cpus=3, bindings=b27)
    send = Machine.send_interrupt
    lost: list[int] = []

    def lossy(self: Machine, index: int, vector: int) -> None:
        if vector == k.INVALIDATE_TLB_VECTOR and index == 2 and not lost:
            lost.append(index)
            return
        send(self, index, vector)

    monkeypatch.setattr(Machine, "send_interrupt", lossy)
    broken = simulate("kvm", "syscalls", size=40, cpus=3, bindings=b27)
    assert lost == [2] and broken.state != reference.state


def test_sim_pv_spinlocks_on_the_command_line() -> None:
    args = ["sim", "--spec", str(SPEC_2_6_27), "--backend", "xen", "--cpus", "4"]
    args += ["--pcpus", "2", "--size", "40", "--seed", "2"]
    on = run_cli(*args)
    assert on.status == 0, on.err
    assert "blocked in poll" in on.out and "wall cycles lock waits" in on.out
    off = run_cli(*args, "--pv-spinlocks", "off")
    assert off.status == 0, off.err
    assert "pv spinlocks off" in off.out.splitlines()[0]
    assert "blocked in poll" not in off.out
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal
        run_cli(*args, "--pv-spinlocks", "maybe")
    assert refused.value.code == 2
