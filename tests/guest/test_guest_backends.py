"""Each backend implements exactly what the spec says it overrides, and the generated
dispatch falls back to native for everything else."""

from __future__ import annotations

import pytest

from pvgen.guest import runnable, simulate
from pvgen.guest.backends import BACKENDS, IMPLEMENTATIONS, bound_class, install
from pvgen.guest.bindings import Bindings, load_bindings
from pvgen.guest.machine import Machine, MachineError
from pvgen.guest.meter import BATCH, HYPERCALL
from pvgen.guest.probe import NULL, instrument
from pvgen.guest.sim import TARGET

OTHERS = [name for name in BACKENDS if name != "native"]
RUNNABLE_OTHERS = [name for name in runnable() if name != "native"]


@pytest.fixture(scope="module")
def bindings() -> Bindings:
    return load_bindings()


def public_names(cls: type) -> set[str]:
    return {name for name in vars(cls) if name.startswith("pv_")}


def test_the_backends_are_the_spec_backends(bindings: Bindings) -> None:
    assert set(BACKENDS) == set(bindings.stubs)
    assert bindings.default_backend == "native"


@pytest.mark.parametrize("name", BACKENDS)
def test_an_implementation_defines_exactly_its_stubs_members(bindings: Bindings, name: str) -> None:
    assert public_names(IMPLEMENTATIONS[name]) == bindings.stub_methods(name)


@pytest.mark.parametrize("name", OTHERS)
def test_a_stub_holds_exactly_the_hooks_the_spec_lists(bindings: Bindings, name: str) -> None:
    overrides = {path.replace(".", "_") for path in bindings.overrides[name]}
    assert bindings.stub_methods(name) == overrides


def test_native_implements_every_hook_and_data_member(bindings: Bindings) -> None:
    nulls = set(bindings.nulls["native"])
    assert nulls == {"pv_init_ops.post_allocator_init"}  # NULL in Linux's native table too
    every = {
        path.replace(".", "_")
        for path in (*bindings.hooks, *bindings.data_members)
        if path not in nulls
    }
    assert public_names(IMPLEMENTATIONS["native"]) == every


@pytest.mark.parametrize("name", BACKENDS)
def test_the_bound_class_subclasses_the_generated_stub(bindings: Bindings, name: str) -> None:
    cls = bound_class(bindings, name)
    assert issubclass(cls, bindings.stubs[name])
    assert cls.__mro__[1] is IMPLEMENTATIONS[name]  # the implementation comes first
    for member in bindings.stub_methods(name):
        assert getattr(cls, member) is getattr(IMPLEMENTATIONS[name], member)


@pytest.mark.parametrize("name", BACKENDS)
def test_each_slot_is_bound_to_the_backend_or_to_native(bindings: Bindings, name: str) -> None:
    machine = Machine(IMPLEMENTATIONS[name].PLATFORM)
    backend, native = install(bindings, name, machine, TARGET)
    ops = bindings.dispatch(backend, native)
    overridden = set(bindings.overrides.get(name, bindings.hooks))
    nulls = set(bindings.nulls[name])
    for path in bindings.hooks:
        table, *rest = path.split(".")
        slot = getattr(ops, table)
        for part in rest:
            slot = getattr(slot, part)
        if path in nulls:
            assert slot is None, path
            continue
        expected = backend if path in overridden else native
        assert slot.__self__ is expected, path
    info = ops.pv_info
    assert info.name == (backend if "pv_info.name" in overridden else native).pv_info_name


@pytest.mark.parametrize("name", RUNNABLE_OTHERS)
def test_calls_to_hooks_a_backend_does_not_override_reach_native(name: str) -> None:
    bindings = load_bindings()
    result = simulate(name, "timekeeping", size=40, seed=2)
    overridden = set(bindings.overrides[name])
    called = {path for path, count in result.run.hook_calls.items() if count}
    fallbacks = called - overridden
    if name == "xen":  # it copies whole tables: nothing it does not set reaches native
        assert not fallbacks
        assert set(result.handled_by.values()) == {"xen", NULL}
        assert {p for p, by in result.handled_by.items() if by == NULL} == set(bindings.nulls[name])
        return
    assert fallbacks, "the workload exercises no fallback"
    for path in called:
        assert result.handled_by[path] == (name if path in overridden else "native")
    native_calls = sum(result.run.hook_calls[path] for path in fallbacks)
    assert native_calls > 0


# A hook a backend leaves NULL, and the hook the kernel calls instead (workloads.clock_cycle).
KERNEL_FALLBACKS = {"pv_cpu_ops.read_tscp": "pv_cpu_ops.read_tsc"}


def test_every_backend_makes_the_same_hook_calls() -> None:
    def folded(calls: dict[str, int]) -> dict[str, int]:
        out = dict(calls)
        for hook, fallback in KERNEL_FALLBACKS.items():
            out[fallback] = out.get(fallback, 0) + out.pop(hook, 0)
        return out

    counts = {name: simulate(name, "kbuild", size=20, seed=4).run.hook_calls for name in runnable()}
    assert all(folded(calls) == folded(counts["native"]) for calls in counts.values())
    for name, calls in counts.items():  # only where the hook is NULL does the kernel fall back
        if "pv_cpu_ops.read_tscp" not in load_bindings().nulls[name]:
            assert calls == counts["native"], name


def test_a_hook_that_does_not_exist_on_the_target_cannot_be_called(bindings: Bindings) -> None:
    machine = Machine(IMPLEMENTATIONS["native"].PLATFORM)
    backend, native = install(bindings, "native", machine, TARGET)
    ops = bindings.dispatch(backend, native)
    instrument(ops, bindings.hooks, bindings.patch_ids[TARGET], TARGET, machine.meter)
    with pytest.raises(MachineError, match="pv_cpu_ops.read_cr8 does not exist on target i386_pae"):
        ops.pv_cpu_ops.read_cr8()


def test_xen_batches_page_table_writes_in_the_lazy_bracket() -> None:
    lazy = simulate("xen", "fork", size=10, seed=1)
    eager = simulate("xen", "fork", size=10, seed=1, lazy_mmu=False)
    assert lazy.state == eager.state
    assert lazy.run.event(BATCH) > 0
    assert lazy.run.event(HYPERCALL) * 2 < eager.run.event(HYPERCALL)
    assert lazy.run.cycles < eager.run.cycles
    assert lazy.run.event(f"{HYPERCALL}:mmu_update") == eager.run.event(f"{HYPERCALL}:mmu_update")


def test_the_interrupt_flag_under_xen_costs_no_hypercall() -> None:
    result = simulate("xen", "interrupts", size=30, seed=0)
    flag_calls = sum(
        result.run.hook_calls.get(f"pv_irq_ops.{hook}", 0)
        for hook in ("save_fl", "restore_fl", "irq_disable", "irq_enable")
    )
    assert flag_calls > 50
    assert result.run.event(f"{HYPERCALL}:evtchn_upcall") < flag_calls / 10
