"""A gate into a hypervisor: immediate calls, and batches of deferred requests.

Takes: the machine, what one entry costs and which events it counts, what each request of
a batch costs, and how many requests fit in a batch.
Hands on: `HypervisorGate`, used by the Xen (hypercalls and multicalls), KVM (vmcall and
its MMU-operation buffer), lguest (hypercalls, no batching) and VMI (monitor entries)
backends. A request's effect is a function run as the hypervisor, so the instructions in
it are charged natively and never trap.

Order is kept: a request that cannot wait (`call`) first sends whatever is queued, as a
hypervisor's per-CPU batch buffer is flushed before a direct hypercall.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..costs import Cost
from ..machine import Machine
from ..meter import BATCH, BATCHED, HYPERCALL

T = TypeVar("T")


class HypervisorGate:
    """Entries into one hypervisor, priced and counted."""

    def __init__(
        self,
        machine: Machine,
        *,
        entry: tuple[Cost, ...],
        per_request: Cost | None = None,
        batch_limit: int = 0,
        events: tuple[str, ...] = (HYPERCALL,),
    ) -> None:
        self.machine = machine
        self.entry = entry
        self.per_request = per_request
        self.batch_limit = batch_limit
        self.events = events
        self.batching = False
        self.queue: list[tuple[str, Callable[[], object]]] = []

    def _enter(self) -> None:
        for cost in self.entry:
            self.machine.charge(cost)
        for event in self.events:
            self.machine.meter.count(event)

    def call(self, request: str, action: Callable[[], T]) -> T:
        """One entry now, after anything queued; returns what the hypervisor returns."""
        self.flush()
        self._enter()
        self.machine.meter.count(f"{HYPERCALL}:{request}")
        return self.machine.as_hypervisor(action)

    def submit(self, request: str, action: Callable[[], object]) -> None:
        """Queue the request while a batch is open (sending a full batch), else call now."""
        if not self.batching or self.batch_limit == 0:
            self.call(request, action)
            return
        self.queue.append((request, action))
        if len(self.queue) >= self.batch_limit:
            self.flush()

    def open_batch(self) -> None:
        self.batching = True

    def close_batch(self) -> None:
        self.flush()
        self.batching = False

    def flush(self) -> None:
        """Send the queued requests in one entry (a multicall), in order."""
        if not self.queue:
            return
        queue, self.queue = self.queue, []
        self._enter()
        meter = self.machine.meter
        meter.count(BATCH)
        meter.count(BATCHED, len(queue))
        for request, action in queue:
            if self.per_request is not None:
                self.machine.charge(self.per_request)
            meter.count(f"{HYPERCALL}:{request}")
            self.machine.as_hypervisor(action)
