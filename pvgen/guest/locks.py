"""Spinlocks in wall time: who held a lock when, and what a CPU that wants it waits for.

Takes: nothing at import; a lock is made for a kernel address by whoever owns the CPUs'
wall clocks (`smp.Smp`).
Hands on: `SpinLock` (its holds: wall-time intervals, each with whether its holder lost
its physical CPU inside it and what the holder's release left for a vCPU that blocks on
it), `Hold`, the `LockWaits` interface through which a backend's `pv_lock_ops` hooks wait
for a lock (spin, block, report a release), and `Deadlock`, raised when a lock can never
be had: a lock word that says "held" when no CPU is inside the critical section, or a vCPU
blocked for a kick that never comes.

Two layers. Memory follows guest time: every critical section completes before another
CPU runs, so a lock word always reads "free" to the CPU that takes it, whatever the
backend's layout (a ticket pair natively, a byte and a count of spinners under Xen). If it
reads "held", no CPU will ever release it, and that is a deadlock, reported at once instead
of spun on forever. Waiting follows wall time: a CPU that arrives inside an earlier
holder's interval waits, and how it waits is the backend's (`LockWaits`): a ticket lock
spins until its turn, handed over in order even to a waiter that is itself descheduled; a
byte lock is taken by whichever waiter looks first while it runs; Xen's pv spinlock spins
a bounded time and then blocks in SCHEDOP_poll, giving its physical CPU away, until the
releasing CPU kicks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

HELD_KEPT = 64  # hold intervals a lock remembers


class Deadlock(Exception):
    """No CPU can ever get a lock: the guest would hang; the message says why."""


@dataclass
class Hold:
    """One critical section in wall time."""

    cpu: int
    start: int
    end: int
    own: int  # the holder's own cycles inside it (its work, without the gaps it lost)
    preempted: bool  # the holder lost its physical CPU inside it
    # What the holder's unlock did after the store that released the lock, run for a vCPU
    # that blocked on this hold (Xen's xen_spin_unlock: look at the spinners, kick one).
    after_release: Callable[[], None] | None = None


@dataclass
class SpinLock:
    """A kernel spinlock: its word's address, and when it was held, in wall time."""

    name: str
    address: int
    held: list[Hold] = field(default_factory=list)
    taken_wall: int = 0
    taken_own: int = 0
    taken_by: int = -1

    def covering(self, wall: int) -> Hold | None:
        """The hold that wall time `wall` falls inside, if any."""
        for hold in self.held:
            if hold.start <= wall < hold.end:
                return hold
        return None

    def free_from(self, wall: int) -> tuple[int, bool]:
        """When a CPU arriving at `wall` gets the lock in ticket order, and whether it
        waited on a holder that had lost its physical CPU."""
        preempted = False
        hold = self.covering(wall)
        while hold is not None:
            wall, preempted = hold.end, preempted or hold.preempted
            hold = self.covering(wall)
        return wall, preempted

    def record(self, hold: Hold) -> None:
        self.held.append(hold)
        del self.held[:-HELD_KEPT]


class LockWaits(Protocol):
    """What a backend's lock hooks ask of the wall-time model, for the CPU that runs."""

    def spin(self, address: int, *, handover: bool, budget: int | None = None) -> bool:
        """Spin until the lock at `address` is this CPU's: in ticket order (`handover`:
        the lock passes to the next waiter even while that vCPU is descheduled), or else
        when the lock is free while this vCPU runs. With a `budget` (cycles of this CPU's
        own time) give up when it is spent: False if the lock is still held then."""
        ...

    def block(self, address: int, kicked: Callable[[], bool]) -> None:
        """Block this vCPU until the lock's holder releases it and kicks: its physical
        CPU goes to another vCPU meanwhile. `kicked` says, after the release has run,
        whether this vCPU's event arrived; if not, the vCPU would sleep forever
        (`Deadlock`)."""
        ...

    def taken(self, address: int) -> None:
        """This CPU now holds the lock."""
        ...

    def released(self, address: int, after_release: Callable[[], None] | None = None) -> None:
        """This CPU has released the lock; `after_release` is what its unlock does next,
        for a vCPU that blocked meanwhile."""
        ...

    def lockup(self, address: int) -> Deadlock:
        """The error for a lock word that reads held when no CPU holds the lock."""
        ...
