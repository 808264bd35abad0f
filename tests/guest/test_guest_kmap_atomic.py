"""Native's kmap_atomic_pte is the kernel's own kmap_atomic (arch/x86/mm/highmem_32.c):
its fixmap store, clear and flush go through the hooks, so a backend that keeps native's
kmap_atomic_pte (lguest, KVM) pays its own set_pte, pte_clear and flush_tlb_single for
it, never a trapped store or invlpg."""

from __future__ import annotations

import pytest

from pvgen.guest import kstructs as k
from pvgen.guest import simulate
from pvgen.guest.meter import TRAP
from pvgen.guest.mm import KMAP_ATOMIC_INDEX
from pvgen.guest.sim import prepare


@pytest.mark.parametrize(("backend", "target"), [("lguest", "i386"), ("kvm", "i386_pae")])
def test_native_kmap_atomic_pte_runs_the_backends_hooks(backend: str, target: str) -> None:
    result = simulate(backend, "fork", size=5, target=target)
    calls = result.run.hook_calls
    maps = calls["pv_mmu_ops.kmap_atomic_pte"]
    assert maps > 0 and result.handled_by["pv_mmu_ops.kmap_atomic_pte"] == "native"
    assert calls["pv_mmu_ops.set_pte"] >= maps
    assert calls["pv_mmu_ops.flush_tlb_single"] >= maps
    # what traps is interrupt and fault delivery only: no page-table store, no invlpg
    delivered = result.run.event("trap:fault delivery") + result.run.event(
        "trap:interrupt delivery"
    )
    assert result.run.event(TRAP) == delivered
    native = simulate("native", "fork", size=5, target=target)
    assert result.state == native.state, native.state.differences(result.state)


def test_lguest_kmap_atomic_pte_costs_what_lguests_hooks_cost() -> None:
    """lguest_set_pte is a store and, after the first CR3 load, a flush hypercall;
    pte_clear without PAE is set_pte_at, a store and LHCALL_SET_PTE; flush_tlb_single is
    LHCALL_SET_PTE as well (arch/x86/lguest/boot.c of 2.6.26)."""
    result = simulate("lguest", "fork", size=5, target="i386")
    assert (
        result.run.event("hypercall:flush_tlb")
        >= result.run.hook_calls["pv_mmu_ops.kmap_atomic_pte"]
    )


def test_kmap_atomic_leaves_its_fixmap_slots_clear() -> None:
    kernel = prepare("kvm", target="i386_pae")
    kernel.boot()
    machine, mm = kernel.machine, kernel.mm
    address = int(kernel.mmu.kmap_atomic_pte(k.page_struct(40), kernel.types.km_pte1))
    assert address == 40 << 12
    for index in (KMAP_ATOMIC_INDEX, KMAP_ATOMIC_INDEX + 1):
        assert machine.load_entry(mm._slot_address(k.KERNEL_PTE_PFN, index)) == 0
