"""The simulated machine on its own: paging, the TLB, interrupts, cycle accounting."""

from __future__ import annotations

import pytest

from pvgen.guest import apic as lapic
from pvgen.guest.costs import (
    CYCLES,
    EXITS_UNDER_VTX,
    HYPERVISOR,
    INSTRUCTIONS,
    TRAPS,
    VM_EXITS,
    VTX_EXIT_HANDLING,
    WORK,
    Cost,
)
from pvgen.guest.machine import Machine, MachineError, PageFault, Platform
from pvgen.guest.x86 import (
    CR0_PG,
    CR0_WP,
    CR4_PGE,
    INTERRUPT_GATE,
    PTE_GLOBAL,
    PTE_PRESENT,
    PTE_RW,
    PTE_USER,
    TRAP_GATE,
    gate_descriptor,
)

PDPT, DIRECTORY, TABLE = 0x1000, 0x2000, 0x3000
VA = 0x0040_3000  # pdpt 0, directory 2, table 3
IDT = 0x9000
HANDLER = 0xC010_0000


def paged(platform: Platform = Platform.BARE_METAL) -> Machine:
    """A machine whose VA maps frame 0x50 through a three-level PAE table."""
    machine = Machine(platform)
    machine.store(PDPT, DIRECTORY | PTE_PRESENT)
    machine.store(DIRECTORY + 8 * 2, TABLE | PTE_PRESENT | PTE_RW | PTE_USER)
    machine.store(TABLE + 8 * 3, 0x50_000 | PTE_PRESENT | PTE_RW | PTE_USER)
    machine.cr3 = PDPT
    machine.cr0 |= CR0_PG | CR0_WP
    return machine


def test_the_walk_follows_three_levels() -> None:
    machine = paged()
    assert machine.translate(VA + 0x18, write=True) == 0x50_018
    assert machine.meter.events["tlb miss"] == 1
    assert machine.meter.categories["page walks"] == 3 * CYCLES[Cost.PAGE_WALK_LEVEL]


def test_a_missing_entry_faults_and_sets_cr2() -> None:
    machine = paged()
    with pytest.raises(PageFault) as fault:
        machine.translate(VA + 0x1000, write=False)
    assert machine.cr2 == VA + 0x1000
    assert fault.value.error & 1 == 0  # not present


def test_writes_to_read_only_pages_fault_as_present() -> None:
    machine = paged()
    machine.store(TABLE + 8 * 3, 0x50_000 | PTE_PRESENT | PTE_USER)
    assert machine.translate(VA, write=False) == 0x50_000
    with pytest.raises(PageFault) as fault:
        machine.translate(VA, write=True)
    assert fault.value.error & 0b11 == 0b11  # present, write


def test_the_tlb_keeps_a_translation_until_it_is_flushed() -> None:
    machine = paged()
    assert machine.translate(VA, write=False) == 0x50_000
    machine.store(TABLE + 8 * 3, 0x60_000 | PTE_PRESENT | PTE_RW | PTE_USER)
    assert machine.translate(VA, write=False) == 0x50_000  # stale, as on hardware
    machine.invlpg(VA)
    assert machine.translate(VA, write=False) == 0x60_000
    assert machine.meter.events["tlb miss"] == 2


def test_a_cr3_load_keeps_global_entries_only_with_pge() -> None:
    machine = paged()
    machine.store(TABLE + 8 * 3, 0x50_000 | PTE_PRESENT | PTE_USER | PTE_GLOBAL)
    machine.cr4 |= CR4_PGE
    machine.translate(VA, write=False)
    machine.store(TABLE + 8 * 3, 0)
    machine.write_cr3(PDPT)
    assert machine.translate(VA, write=False) == 0x50_000  # global: survives the reload
    machine.write_cr4(machine.cr4 & ~CR4_PGE)  # toggling PGE flushes everything
    with pytest.raises(PageFault):
        machine.translate(VA, write=False)


def test_the_p2m_moves_guest_frames_in_machine_memory() -> None:
    machine = Machine(Platform.DEPRIVILEGED)
    machine.install_p2m([3, 0, 1, 2])
    machine.store(0x1008, 42)
    assert machine.load_machine(0x0008) == 42
    assert machine.load(0x1008) == 42
    assert machine.guest_frame(0) == 1


class Recorder:
    """A kernel that records the vectors it is entered with and returns at once."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.entered: list[tuple[int, bool]] = []

    def __call__(self, vector: int, handler: int) -> None:
        assert handler == HANDLER + vector
        self.entered.append((vector, self.machine.interrupts_enabled()))
        self.machine.apic_register_write(lapic.EOI, 0)
        self.machine.iret()


def with_idt(machine: Machine, *gates: tuple[int, int]) -> Recorder:
    for vector, kind in gates:
        machine.store(IDT + 8 * vector, gate_descriptor(HANDLER + vector, 0x60, kind, 0))
    machine.idtr = (IDT, 256 * 8 - 1)
    recorder = Recorder(machine)
    machine.attach_kernel(recorder)
    return recorder


def test_interrupts_stay_pending_until_interrupts_are_enabled() -> None:
    machine = Machine(Platform.BARE_METAL)
    kernel = with_idt(machine, (0x31, INTERRUPT_GATE))
    machine.raise_interrupt(0x31)
    machine.advance(100)
    assert kernel.entered == [] and machine.pending == {0x31}
    machine.sti()
    assert kernel.entered == [(0x31, False)]  # an interrupt gate clears IF in the handler
    assert machine.interrupts_enabled() and not machine.pending
    assert machine.interrupt_frames == []


def test_a_trap_gate_leaves_interrupts_enabled() -> None:
    machine = Machine(Platform.BARE_METAL)
    kernel = with_idt(machine, (0x40, TRAP_GATE))
    machine.sti()
    machine.raise_interrupt(0x40)
    machine.poll()
    assert kernel.entered == [(0x40, True)]


def test_the_apic_timer_fires_periodically_and_halt_waits_for_it() -> None:
    machine = Machine(Platform.BARE_METAL)
    kernel = with_idt(machine, (0xEF, INTERRUPT_GATE))
    machine.apic_write(lapic.TIMER_DIVIDE, 0xB)
    machine.apic_write(lapic.LVT_TIMER, lapic.LVT_PERIODIC | 0xEF)
    machine.apic_write(lapic.TIMER_INITIAL, 1_000)
    machine.sti()
    machine.advance(999)
    assert kernel.entered == []
    machine.advance(1)
    assert kernel.entered == [(0xEF, False)]
    before = machine.meter.cycles
    machine.hlt()
    assert machine.tsc == 2_000 and len(kernel.entered) == 2
    delivered = CYCLES[Cost.INTERRUPT_DELIVERY] + CYCLES[Cost.IRET]
    assert machine.meter.cycles - before == CYCLES[Cost.HLT] + delivered  # idle time is free
    assert machine.meter.idle_cycles == 1_000


def test_halting_with_interrupts_off_is_an_error() -> None:
    machine = Machine(Platform.BARE_METAL)
    with pytest.raises(MachineError):
        machine.hlt()


def test_a_virtual_interrupt_flag_masks_delivery_without_trapping() -> None:
    machine = Machine(Platform.DEPRIVILEGED)
    kernel = with_idt(machine, (0x31, INTERRUPT_GATE))
    machine.use_virtual_interrupt_flag(0x7000_0000)
    machine.raise_interrupt(0x31)
    machine.mask_virtual_interrupts(False)
    assert kernel.entered == []  # a store does not deliver: the guest must ask
    machine.poll()
    assert kernel.entered == [(0x31, False)]
    assert machine.meter.events["trap"] == 1  # the delivery bounced through the hypervisor


def test_work_advances_guest_time_and_costs_cycles() -> None:
    machine = Machine(Platform.BARE_METAL)
    machine.advance(500)
    assert machine.tsc == 500
    assert machine.meter.cycles == machine.meter.categories[WORK] == 500


@pytest.mark.parametrize(
    ("platform", "cost", "extra", "handling", "event"),
    [
        (Platform.BARE_METAL, Cost.WRITE_CR3, 0, 0, None),
        (Platform.DEPRIVILEGED, Cost.WRITE_CR3, CYCLES[Cost.TRAP_AND_EMULATE], 0, "trap"),
        (Platform.DEPRIVILEGED, Cost.RDTSC, 0, 0, None),
        (
            Platform.HARDWARE_ASSISTED,
            Cost.WRITE_CR3,
            CYCLES[Cost.VM_EXIT],
            VTX_EXIT_HANDLING[Cost.WRITE_CR3],
            "vm exit",
        ),
        (Platform.HARDWARE_ASSISTED, Cost.CLI, 0, 0, None),
    ],
)
def test_an_instruction_costs_what_its_platform_says(
    platform: Platform, cost: Cost, extra: int, handling: int, event: str | None
) -> None:
    machine = Machine(platform)
    machine.execute(cost)
    assert machine.meter.cycles == CYCLES[cost] + extra + handling
    assert machine.meter.categories[INSTRUCTIONS] == CYCLES[cost]
    exits = machine.meter.categories[TRAPS] + machine.meter.categories[VM_EXITS]
    assert exits == extra
    # The host's work after a VM exit is charged too; a trap's price already holds it.
    assert machine.meter.categories.get(HYPERVISOR, 0) == handling
    assert dict(machine.meter.events) == ({event: 1, f"{event}:{cost.value}": 1} if event else {})


def test_every_vm_exit_reason_has_its_handling_priced() -> None:
    assert set(VTX_EXIT_HANDLING) == set(EXITS_UNDER_VTX)
    assert all(cycles > 0 for cycles in VTX_EXIT_HANDLING.values())


def test_the_hypervisor_runs_privileged_instructions_natively() -> None:
    machine = Machine(Platform.DEPRIVILEGED)
    machine.as_hypervisor(lambda: machine.write_cr3(0x1000))
    assert machine.cr3 == 0x1000
    assert machine.meter.cycles == machine.meter.categories[HYPERVISOR] == CYCLES[Cost.WRITE_CR3]
    assert not machine.meter.events.get("trap")
