"""Several CPUs: start-up of the secondary CPUs, IPIs, TLB shootdown, spinlocks, and
virtual CPUs scheduled on fewer physical ones.

Takes: a kernel booted on CPU 0, its processes, the number of virtual CPUs, the number of
physical CPUs the hypervisor runs them on, and the seed.
Hands on: `Smp`: brings CPUs 1..n-1 up through the hooks (`startup_ipi_hook`, INIT and
STARTUP written to the APIC's ICR through `apic_write`, unless the backend brings vCPUs up
itself, as Xen does with VCPUOP_up), runs on each a thread of a multi-threaded server
process, and between two steps of the workload lets every other CPU catch up with CPU 0's
guest time. Its threads read their process's memory through their own TLB and take the
process's page-table lock; CPU 0 reclaims one of the server's pages every few steps
(clear the entry, `flush_tlb_others` to the CPUs running it, map a copy, free the old
frame), as page reclaim does, and every few steps hands a thread a request with the
reschedule IPI, as a pipe write wakes its reader. Each CPU gets its own GDT and TSS. The
spinlocks are 2.6.26's inline ticket lock, or, on a release with pv_lock_ops (2.6.27),
the backend's hooks, which wait through this module's side of `locks.LockWaits`;
`Schedule` is the hypervisor's placement of vCPUs on physical CPUs.

Time and cost. What each CPU does, and in which order, follows guest time only (each CPU's
TSC, which moves with guest work), so every backend runs the same instruction stream and
must leave the same guest-visible state. What waiting costs follows each CPU's own time
line (`Machine.elapsed`: what it ran, costs included, and what it idled), mapped through
the schedule to wall time: a CPU that finds a lock held spins until the holder's release
in wall time, and if the hypervisor descheduled the holder inside its critical section
(lock-holder preemption) the spinning includes the time the holder was off its physical
CPU. A CPU waiting for other CPUs to acknowledge a TLB-flush IPI spins until the last of
them has run its handler, later if one was descheduled. Spinning is charged as cycles
(`SPINNING`). Linux 2.6.26 has no pv_lock_ops, so there every backend spins the same way
and only the cost of being preempted differs; on 2.6.27 Xen's waiters spin a bounded time
and then block until the unlocker kicks them, their physical CPU given to the preempted
holder meanwhile (see docs/sim-smp.md for the sources and the estimates).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from . import apic as lapic
from . import kstructs as k
from .backends.base import Backend
from .costs import SPINNING, Cost
from .kernel import Kernel, KernelPanic
from .locks import Deadlock, Hold, SpinLock
from .machine import Machine
from .mm import AddressSpace
from .process import Processes, Task
from .x86 import (
    CR0_MP,
    CR0_NE,
    CR0_PG,
    CR0_WP,
    MSR_SYSENTER_CS,
    MSR_SYSENTER_EIP,
    MSR_SYSENTER_ESP,
    PAGE_SHIFT,
    PTE_PRESENT,
    PTE_RW,
    PTE_USER,
)

QUANTUM = 250_000  # cycles (125 us) a vCPU keeps a physical CPU before the next rotation
SERVER_PAGES = 12
RECLAIM_EVERY = 4  # workload steps between two reclaimed pages of the server
REQUEST_EVERY = 4  # workload steps between two requests CPU 0 hands a server thread
RESCHEDULE = "reschedule ipi"
WORK_CRITICAL = (200, 1_200)  # an AP thread's work under the page-table lock
WORK_THREAD = (4_000, 30_000)  # and outside it
WORK_RECLAIM = 1_500

SPINLOCK = "spinlock"
CONTENDED = "spinlock contended"
PREEMPTED = "lock-holder preemption"
LOCK_WAIT = "spinlock wait cycles"  # wall time from wanting a lock to holding it
BLOCKED = "spinlock poll"  # a vCPU that blocked on a lock (Xen's SCHEDOP_poll)
BLOCKED_CYCLES = "spinlock cycles blocked"  # wall time it spent blocked, its pCPU given up
YIELDED = "spinlock pcpu to preempted holder"
# From a kick to the blocked vCPU running: the event-channel send, Xen's wake-up of the
# vCPU and its return from the poll hypercall. Unverified: a few microseconds; the
# credit scheduler boosts a waking vCPU so that it preempts the running one.
WAKE_LATENCY = 6_000
SHOOTDOWN = "tlb shootdown"
IPI = "ipi"
ACK_WAIT = "ipi ack wait"


class Schedule:
    """Where the hypervisor runs each vCPU: with fewer physical CPUs than vCPUs, the
    physical CPUs rotate over the vCPUs every QUANTUM cycles, from a seeded start."""

    def __init__(self, vcpus: int, pcpus: int, seed: int) -> None:
        self.vcpus = vcpus
        self.pcpus = min(pcpus, vcpus)
        self.phase = random.Random(f"schedule/{seed}").randrange(vcpus)

    @property
    def overcommitted(self) -> bool:
        return self.pcpus < self.vcpus

    def runs(self, cpu: int, slot: int) -> bool:
        """Whether `cpu` has a physical CPU in time slot `slot`."""
        first = (slot * self.pcpus + self.phase) % self.vcpus
        return (cpu - first) % self.vcpus < self.pcpus

    def own(self, cpu: int, wall: int) -> int:
        """How much physical CPU `cpu` has had by wall time `wall`."""
        if not self.overcommitted:
            return wall
        total, slot = 0, 0
        while (slot + 1) * QUANTUM <= wall:
            total += QUANTUM if self.runs(cpu, slot) else 0
            slot += 1
        if self.runs(cpu, slot):
            total += wall - slot * QUANTUM
        return total

    def advance(self, cpu: int, wall: int, cycles: int) -> int:
        """The wall time at which `cpu`, at `wall`, has run `cycles` more."""
        if not self.overcommitted:
            return wall + cycles
        while cycles > 0:
            slot = wall // QUANTUM
            end = (slot + 1) * QUANTUM
            if self.runs(cpu, slot):
                if cycles <= end - wall:
                    return wall + cycles
                cycles -= end - wall
            wall = end
        return wall

    def next_running(self, cpu: int, wall: int) -> int:
        """The first wall time at or after `wall` when `cpu` has a physical CPU."""
        if not self.overcommitted:
            return wall
        slot = wall // QUANTUM
        while not self.runs(cpu, slot):
            slot += 1
        return max(wall, slot * QUANTUM)


@dataclass
class Thread:
    """What one secondary CPU runs."""

    cpu: int
    task: Task
    rng: random.Random = field(repr=False)


class Smp:
    """The secondary CPUs and what they do between the workload's steps."""

    def __init__(
        self,
        kernel: Kernel,
        processes: Processes,
        backends: Sequence[Backend],
        cpus: int,
        pcpus: int,
        seed: int,
    ) -> None:
        if not 1 <= cpus <= k.MAX_CPUS:
            raise ValueError(f"the guest has 1 to {k.MAX_CPUS} CPUs, not {cpus}")
        if not 1 <= pcpus:
            raise ValueError(f"the host needs at least one physical CPU, not {pcpus}")
        self.kernel = kernel
        self.machine: Machine = kernel.machine
        self.processes = processes
        self.cpus = cpus
        self.schedule = Schedule(cpus, pcpus, seed)
        self.rng = random.Random(f"smp/{seed}")
        self.requests = random.Random(f"requests/{seed}")
        self.seed = seed
        self.threads: list[Thread] = []
        self.server: Task | None = None
        self.lock_of: dict[int, SpinLock] = {}  # mm_struct -> its page_table_lock
        self.lock_at: dict[int, SpinLock] = {}  # lock address -> the lock
        self.wanted: dict[int, int] = {}  # CPU -> wall time it began to want a lock
        self.contended: set[int] = set()  # CPUs that found the lock they want held
        self.lock = kernel.lock  # pv_lock_ops, from 2.6.27 on
        self.steps = 0
        self.clock = [0] * cpus  # each CPU's wall time, as of `self.accounted`
        self.accounted = [0] * cpus  # its own time (`Machine.elapsed`) the clock includes
        self.backend = backends[0]
        for backend in backends:  # genapic's send_IPI_mask, for native_flush_tlb_others
            backend.ipi_sender = self.send_ipi_mask
            backend.lock_waits = self

    # ---- bringing the CPUs up -----------------------------------------------------------

    def boot(self) -> None:
        """Start every secondary CPU and give each a thread of the server process."""
        if self.cpus == 1:
            return
        kernel, machine = self.kernel, self.machine
        kernel.enable_smp()
        for _ in range(1, self.cpus):
            machine.add_cpu()
        for cpu in range(1, self.cpus):
            self._cpu_up(cpu)
        server = self.processes.spawn(SERVER_PAGES)
        self.server = server
        tasks = [server] + [self.processes.clone_thread(server) for _ in range(2, self.cpus)]
        for cpu, task in zip(range(1, self.cpus), tasks, strict=True):
            thread = Thread(cpu, task, random.Random(f"cpu{cpu}/{self.seed}"))
            self.threads.append(thread)
            machine.run_on(cpu, partial(self._enter_thread, thread))

    def _cpu_up(self, cpu: int) -> None:
        """native_cpu_up: the startup IPI hook, then INIT and two STARTUPs through the
        APIC; a backend with its own way (`smp_cpu_up`) uses that instead."""
        kernel, machine = self.kernel, self.machine
        stack = k.KERNEL_STACKS + (k.STRUCT_SLOTS + cpu) * k.STACK_SIZE
        kernel.fill_gdt(cpu)  # its own GDT, with its own TSS's descriptor
        if self.backend.smp_cpu_up is not None:
            self.backend.smp_cpu_up(cpu, k.TRAMPOLINE, stack)
        else:
            kernel.apic.startup_ipi_hook(cpu, k.TRAMPOLINE, stack)
            for command in (lapic.ICR_INIT, lapic.ICR_STARTUP, lapic.ICR_STARTUP):
                self._icr(cpu, command | (k.TRAMPOLINE >> PAGE_SHIFT & 0xFF))
        if cpu not in machine.started:
            raise KernelPanic(f"CPU{cpu}: not responding")
        machine.cpus[cpu]["tsc"] = machine.tsc  # the boot CPU synchronizes the TSCs
        self.clock[cpu] = self._wall(0)  # it starts now
        self.accounted[cpu] = machine.elapsed(cpu)
        machine.run_on(cpu, self._start_secondary)
        kernel.log.append(f"CPU{cpu} is up")

    def _icr(self, cpu: int, command: int) -> None:
        apic = self.kernel.apic
        apic.apic_read(lapic.ICR_LOW)  # apic_wait_icr_idle
        apic.apic_write(lapic.ICR_HIGH, cpu << 24)
        apic.apic_write(lapic.ICR_LOW, command)

    def _start_secondary(self) -> None:
        """What a secondary CPU runs first (cpu_init, then start_secondary)."""
        kernel = self.kernel
        cpu, mmu = kernel.cpu, kernel.mmu
        kernel.load_table(cpu.load_gdt, k.gdt_address(self.machine.current), k.GDT_ENTRIES)
        kernel.load_table(cpu.load_idt, k.IDT_ADDRESS, k.IDT_ENTRIES)
        cpu.write_cr0(int(cpu.read_cr0()) | CR0_MP | CR0_NE | CR0_WP)
        cpu.write_cr4(int(cpu.read_cr4_safe()) | kernel.target.cr4)
        mmu.write_cr3(k.KERNEL_PGD_PFN << PAGE_SHIFT)
        cpu.write_cr0(int(cpu.read_cr0()) | CR0_PG)
        cpu.set_ldt(0, 0)
        cpu.load_tr_desc()
        for msr, value in (
            (MSR_SYSENTER_CS, k.KERNEL_CS),
            (MSR_SYSENTER_ESP, k.KERNEL_STACKS),
            (MSR_SYSENTER_EIP, k.ENTRY_SYSENTER),
        ):
            cpu.write_msr(msr, value, 0)
        kernel.apic.setup_secondary_clock()
        cpu.clts()
        kernel.irq.irq_enable()

    def _enter_thread(self, thread: Thread) -> None:
        """Switch this CPU from the idle task to its thread of the server."""
        kernel = self.kernel
        space = thread.task.space
        kernel.mmu.activate_mm(self.processes.kernel_space.struct, space.struct)
        flags = kernel.irq_save()
        kernel.cpu.lazy_mode.enter()
        kernel.mmu.write_cr3(space.pgd)
        kernel.cpu.load_sp0(k.tss_address(thread.cpu), thread.task.thread)
        kernel.cpu.load_tls(thread.task.thread, thread.cpu)
        kernel.cpu.lazy_mode.leave()
        kernel.current_space = space
        kernel.irq_restore(flags)

    # ---- between two steps of the workload ------------------------------------------------

    def between_steps(self) -> None:
        """CPU 0 has run a step: now and then it reclaims a page of the server; every other
        CPU runs its thread until its guest time has caught up with CPU 0's."""
        if not self.threads:
            return
        self.steps += 1
        if self.steps % RECLAIM_EVERY == 0:
            self._reclaim()
        if self.steps % REQUEST_EVERY == REQUEST_EVERY // 2:
            self._request()
        machine = self.machine
        target = machine.tsc
        while True:  # one step at a time, the CPU furthest behind in guest time first
            tsc, thread = min(
                ((int(machine.cpu_state(t.cpu, "tsc")), t) for t in self.threads),
                key=lambda item: (item[0], item[1].cpu),
            )
            if tsc >= target:
                return
            machine.run_on(thread.cpu, partial(self._thread_step, thread))

    def _request(self) -> None:
        """Hand a server thread a request, as a pipe write wakes its reader on another CPU:
        the request goes into the pipe's buffer, the reader is marked need_resched
        (try_to_wake_up, resched_task) and its CPU gets the reschedule IPI."""
        machine = self.machine
        thread = self.requests.choice(self.threads)
        machine.store(k.REQUESTS + 8 * thread.cpu, self.requests.randrange(1, 1 << 32))
        machine.store(k.NEED_RESCHED + 8 * thread.cpu, 1)
        machine.meter.count(RESCHEDULE)
        if self.backend.smp_send_reschedule is not None:
            self.backend.smp_send_reschedule(thread.cpu)
        else:  # native_smp_send_reschedule: send_IPI_mask(cpumask_of_cpu(cpu), ...)
            self.send_ipi_mask(1 << thread.cpu, k.RESCHEDULE_VECTOR)
        # It arrives at once, whatever carried it: the target takes it at this point of
        # guest time (as the invalidate IPI is taken), so that every backend delivers it
        # at the same instruction of the target's stream.
        machine.run_on(thread.cpu, machine.poll)

    def _serve_request(self, thread: Thread) -> None:
        """The reader, rescheduled, copies the request to its user memory."""
        kernel, machine = self.kernel, self.machine
        machine.store(k.NEED_RESCHED + 8 * thread.cpu, 0)
        request = machine.load(k.REQUESTS + 8 * thread.cpu)
        va = min(thread.task.space.pages) + 8 * thread.cpu
        kernel.user_write(va, request)  # copy_to_user
        kernel.observe(f"cpu{thread.cpu} request", request)

    def _thread_step(self, thread: Thread) -> None:
        kernel, rng = self.kernel, thread.rng
        space = thread.task.space
        if self.machine.load(k.NEED_RESCHED + 8 * thread.cpu):
            self._serve_request(thread)
        pages = sorted(space.pages)
        for _ in range(2):
            va = rng.choice(pages) + 8 * rng.randrange(512)
            kernel.observe(f"cpu{thread.cpu} read", kernel.user_read(va))
        lock = self._page_table_lock(space)
        self.spin_lock(lock)
        kernel.work(rng.randrange(*WORK_CRITICAL))
        self.spin_unlock(lock)
        kernel.work(rng.randrange(*WORK_THREAD))

    def _reclaim(self) -> None:
        """Move one page of the server to a new frame (page reclaim, migration): the old
        frame is freed and reused, so a CPU whose TLB still maps it reads garbage."""
        assert self.server is not None
        kernel, machine, mm = self.kernel, self.machine, self.kernel.mm
        space = self.server.space
        va = self.rng.choice(sorted(space.pages))
        lock = self._page_table_lock(space)
        self.spin_lock(lock)
        if self.lock is not None:  # assert_spin_locked(&mm->page_table_lock)
            kernel.observe("page_table_lock held", int(self.lock.spin_is_locked(lock.address)))
        old = space.pages[va]
        new = mm.frames.allocate()
        machine.copy_frame(old, new)
        ptep = mm.pte_address(space, va)
        mm.clear_pte(space.struct, va, ptep)
        self.flush_tlb_others(space, va)  # ptep_clear_flush
        flags = PTE_PRESENT | PTE_USER | PTE_RW
        kernel.mmu.set_pte_at(space.struct, va, ptep, mm.make_pte(new, flags))
        space.pages[va] = new
        mm.frames.release(old)
        machine.clear_frame(old)
        self.spin_unlock(lock)
        kernel.work(WORK_RECLAIM)

    # ---- TLB shootdown and IPIs ------------------------------------------------------------

    def cpus_running(self, space: AddressSpace) -> int:
        """The cpumask of the other CPUs whose current address space is `space`."""
        mask = 0
        for thread in self.threads:
            if thread.task.space is space and thread.cpu != self.machine.current:
                mask |= 1 << thread.cpu
        return mask

    def flush_tlb_others(self, space: AddressSpace, va: int) -> None:
        """flush_tlb_page's remote half: the hook, then the wait priced in wall time."""
        kernel, machine = self.kernel, self.machine
        mask = self.cpus_running(space)
        if not mask:
            return
        machine.meter.count(SHOOTDOWN)
        targets = [cpu for cpu in range(self.cpus) if mask >> cpu & 1]
        before = {
            cpu: (machine.executed_by(cpu), machine.cpu_state(cpu, "interrupts_delivered"))
            for cpu in targets
        }
        now = self._wall(machine.current)
        machine.store(k.CPUMASK_SCRATCH, mask)
        kernel.mmu.flush_tlb_others(k.CPUMASK_SCRATCH, space.struct, va)
        done = now
        for cpu in targets:
            executed, interrupts = before[cpu]
            if machine.cpu_state(cpu, "interrupts_delivered") != interrupts:
                # It took the IPI: the sender waits for its acknowledgement, which comes
                # when that vCPU next has a physical CPU and has run the handler. (A
                # hypervisor that flushes for the guest, as Xen does, makes no one wait.)
                handled = machine.executed_by(cpu) - executed
                done = max(done, self.schedule.next_running(cpu, now) + handled)
        self._spin_until(done, ACK_WAIT)
        left = machine.load(k.FLUSH_CPUMASK)
        if left:  # the NMI watchdog's report: a CPU never acknowledged the flush
            kernel.observe("soft lockup waiting for the TLB flush of cpumask", left)
            kernel.log.append(f"BUG: soft lockup: CPU{machine.current} waits for {left:#x}")
            machine.store(k.FLUSH_CPUMASK, 0)

    def send_ipi_mask(self, mask: int, vector: int) -> None:
        """send_IPI_mask (flat APIC mode): one ICR write per CPU, through the hooks."""
        for cpu in range(self.cpus):
            if mask >> cpu & 1:
                self.machine.meter.count(IPI)
                self._icr(cpu, lapic.ICR_FIXED | vector)

    # ---- spinlocks ---------------------------------------------------------------------

    def _page_table_lock(self, space: AddressSpace) -> SpinLock:
        lock = self.lock_of.get(space.struct)
        if lock is None:
            lock = SpinLock(
                f"page_table_lock of mm {space.ident}", k.SPINLOCKS + 8 * len(self.lock_of)
            )
            self.lock_of[space.struct] = lock
            self.lock_at[lock.address] = lock
        return lock

    def _wall(self, cpu: int) -> int:
        """CPU `cpu`'s wall time: its clock moved on by what it has run since."""
        own = self.machine.elapsed(cpu)
        self.clock[cpu] = self.schedule.advance(cpu, self.clock[cpu], own - self.accounted[cpu])
        self.accounted[cpu] = own
        return self.clock[cpu]

    def _spin_until(self, wall: int, event: str | None) -> int:
        """Spin on this CPU until wall time `wall` (while it has a physical CPU: a vCPU
        that loses it spins on when it gets it back); returns the cycles spun."""
        cpu = self.machine.current
        now = self._wall(cpu)
        if wall <= now:
            return 0
        spun = self.schedule.own(cpu, wall) - self.schedule.own(cpu, now)
        self.machine.meter.charge(SPINNING, spun)
        if event is not None:
            self.machine.meter.count(event)
        self.clock[cpu] = wall
        self.accounted[cpu] = self.machine.elapsed(cpu)
        return spun

    def spin_lock(self, lock: SpinLock) -> None:
        """spin_lock: through pv_lock_ops from 2.6.27 on; before, the ticket lock inline."""
        machine = self.machine
        machine.meter.count(SPINLOCK)
        self.wanted[machine.current] = self._wall(machine.current)
        if self.lock is not None:
            self.lock.spin_lock(lock.address)
            return
        machine.execute(Cost.ATOMIC)  # lock xaddw: take a ticket
        self.spin(lock.address, handover=True)
        ticket = machine.load(lock.address)
        machine.store(lock.address, ticket + 1)
        self.taken(lock.address)

    def spin_unlock(self, lock: SpinLock) -> None:
        if self.lock is not None:
            self.lock.spin_unlock(lock.address)
            return
        self.machine.execute(Cost.ATOMIC)  # incb: serve the next ticket
        self.released(lock.address)

    # ---- the wall-time side of a lock (`locks.LockWaits`), for the CPU that runs ------------

    def spin(self, address: int, *, handover: bool, budget: int | None = None) -> bool:
        machine, schedule = self.machine, self.schedule
        cpu = machine.current
        lock = self.lock_at[address]
        now = self._wall(cpu)
        self.wanted.setdefault(cpu, now)
        free, preempted = lock.free_from(now)
        if not handover:  # a byte lock: it is taken by a waiter that looks while it runs
            while True:
                running = schedule.next_running(cpu, free)
                if running == free:
                    break
                free, behind = lock.free_from(running)
                preempted = preempted or behind
        if free <= now:
            return True
        event = None if cpu in self.contended else CONTENDED  # once per acquisition
        self.contended.add(cpu)
        if budget is not None:
            limit = schedule.advance(cpu, now, budget)
            if limit < free:
                self._spin_until(limit, event)
                return False
        if self._spin_until(free, event) and preempted:
            machine.meter.count(PREEMPTED)
        return True

    def block(self, address: int, kicked: Callable[[], bool]) -> None:
        machine, schedule = self.machine, self.schedule
        cpu = machine.current
        lock = self.lock_at[address]
        now = self._wall(cpu)
        hold = lock.covering(now)
        if hold is None:
            return
        machine.meter.count(BLOCKED)
        if schedule.overcommitted and schedule.next_running(hold.cpu, now) > now:
            # The physical CPU this vCPU gives up goes to a runnable vCPU: the preempted
            # holder, which finishes its critical section on it.
            done = schedule.own(hold.cpu, now) - schedule.own(hold.cpu, hold.start)
            end = now + max(0, hold.own - done)
            if end < hold.end:
                hold.end = end
                machine.meter.count(YIELDED)
        if hold.after_release is not None:  # what the holder's unlock did after the store
            machine.run_on(hold.cpu, hold.after_release)
        if not kicked():
            raise Deadlock(
                f"CPU{cpu} blocked in SCHEDOP_poll on {lock.name} and was never kicked: CPU"
                f"{hold.cpu} released the lock without waking its spinners, so this vCPU"
                " sleeps forever"
            )
        wake = max(now, hold.end + WAKE_LATENCY)
        machine.meter.count(BLOCKED_CYCLES, wake - now)
        self.clock[cpu] = wake
        self.accounted[cpu] = machine.elapsed(cpu)

    def taken(self, address: int) -> None:
        machine = self.machine
        cpu = machine.current
        lock = self.lock_at[address]
        lock.taken_wall = self._wall(cpu)
        lock.taken_own = machine.elapsed(cpu)
        lock.taken_by = cpu
        self.contended.discard(cpu)
        waited = lock.taken_wall - self.wanted.pop(cpu, lock.taken_wall)
        if waited > 0:
            machine.meter.count(LOCK_WAIT, waited)

    def released(self, address: int, after_release: Callable[[], None] | None = None) -> None:
        machine = self.machine
        cpu = machine.current
        lock = self.lock_at[address]
        released = self._wall(cpu)
        held = machine.elapsed(cpu) - lock.taken_own
        preempted = released - lock.taken_wall > held
        lock.record(Hold(cpu, lock.taken_wall, released, held, preempted, after_release))

    def lockup(self, address: int) -> Deadlock:
        lock = self.lock_at[address]
        return Deadlock(
            f"BUG: spinlock lockup on CPU{self.machine.current}: {lock.name} reads held, and"
            f" no CPU is inside it (CPU{lock.taken_by} took it last and left it locked)"
        )
