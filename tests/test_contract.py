"""The language contract: the example of the language reference parses and resolves as written.

The example is held here verbatim; tests/specs/contract/paravirt.pvspec must
stay byte-identical to it, so that neither can drift.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TEST_SPECS, run_cli

from pvgen import model as m
from pvgen.api import load_abi
from pvgen.config import Config

CONTRACT = """/// Paravirtualization hook tables of the x86 guest kernel.
abi paravirt {
    version 3;
    stability stable;          // stable: a binary ABI with strict evolution rules; internal: a source API
    budget 100;                // most hooks allowed in the whole ABI
}

target i386   { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64;  defines X86_64, X86_PAE; }

include "mm_types.pvspec";     // path relative to this file; never outside the spec root

@if(X86_PAE) typedef u64 pteval_t;
@if(!X86_PAE) typedef u32 pteval_t;
struct pte_t { pteval_t pte; }
opaque struct mm_struct;       // kernel-internal: may only appear behind a pointer
enum paravirt_lazy_mode : u32 { NONE = 0, MMU = 1, CPU = 2 }
@packed struct desc_ptr { u16 size; unsigned long address; }

table pv_info {
    unsigned int kernel_rpl;   // a data member: no parentheses
    const char *name;
}

/// Brackets a batch of updates that a hypervisor may defer.
table pv_lazy_ops {
    void enter();
    void leave();
}

table pv_irq_ops {
    /// Returns EFLAGS; inlined as native code at every call site.
    @callee_save @hot(callsites = 1463) @patch(native = "pushf; pop %eax", clobbers = "eax")
    unsigned long save_fl();

    @callee_save @hot(callsites = 1400) @patch(native = "cli")
    void irq_disable();

    @since(2)
    void safe_halt();

    @if(X86_64) @since(3)
    void swapgs();
}

table pv_mmu_ops {
    void write_cr3(unsigned long cr3);
    @batched
    void set_pte(pte_t *ptep, pte_t pteval);
    @renamed_from(alloc_pt)
    void alloc_pte(struct mm_struct *mm, unsigned long pfn);
    pv_lazy_ops lazy_mode;     // an embedded sub-table
    @deprecated(since = 3, use = pv_mmu_ops.write_cr3)
    void flush_tlb_user();
}

/// Bare hardware: implements every hook and is the fallback for every backend.
backend native default;

/// Xen paravirtualized guest.
backend xen {
    pv_irq_ops: save_fl, irq_disable, safe_halt;
    pv_mmu_ops: *;
}
"""

CONTRACT_PATH = TEST_SPECS / "contract" / "paravirt.pvspec"


def load() -> m.Abi:
    return load_abi(CONTRACT_PATH, Config(None))


def test_contract_file_is_the_example_verbatim() -> None:
    assert CONTRACT_PATH.read_text(encoding="utf-8") == CONTRACT


def test_contract_parses_and_resolves() -> None:
    # The safeguard rules may report on the example; the language must accept it.
    result = run_cli("check", str(CONTRACT_PATH), "--format", "json")
    findings = json.loads(result.out)["findings"]
    assert findings, "the rules are expected to report on the example"
    assert all(f["rule"] != "PV000" for f in findings), findings
    text = run_cli("check", str(CONTRACT_PATH))
    # swapgs is x86_64's only: 10 hooks in all, 9 on i386.
    summary = "4 tables, 10 hooks (9 on i386, 10 on x86_64), 2 backends, 2 targets"
    assert f"abi 'paravirt' version 3: {summary}" in text.out


def test_abi_settings_and_targets() -> None:
    abi = load()
    assert (abi.name, abi.version, abi.stability, abi.budget) == (
        "paravirt",
        3,
        m.Stability.STABLE,
        100,
    )
    assert abi.doc == "Paravirtualization hook tables of the x86 guest kernel."
    assert [(t.name, t.data_model, dict(t.defines)) for t in abi.targets] == [
        ("i386", "ilp32", {"X86_32": True}),
        ("x86_64", "lp64", {"X86_64": True, "X86_PAE": True}),
    ]


def test_conditional_typedef_resolves_per_target() -> None:
    abi = load()
    assert abi.layouts["i386"].types["pteval_t"] == (4, 4)
    assert abi.layouts["x86_64"].types["pteval_t"] == (8, 8)
    assert abi.layouts["i386"].records["pte_t"].size == 4
    assert abi.layouts["x86_64"].records["pte_t"].size == 8


def test_packed_struct_has_no_padding() -> None:
    abi = load()
    assert abi.layouts["i386"].records["desc_ptr"].size == 6
    assert abi.layouts["x86_64"].records["desc_ptr"].size == 10
    assert dict(abi.layouts["x86_64"].records["desc_ptr"].offsets) == {"size": 0, "address": 2}


def test_hook_annotations_become_typed_fields() -> None:
    abi = load()
    irq = abi.tables_by_name["pv_irq_ops"]
    save_fl = irq.members[0]
    assert isinstance(save_fl, m.Hook)
    assert save_fl.doc == "Returns EFLAGS; inlined as native code at every call site."
    assert save_fl.callee_save and save_fl.hot and save_fl.callsites == 1463
    assert save_fl.patch == m.Patch("pushf; pop %eax", "eax")
    assert str(save_fl.returns) == "unsigned long"
    swapgs = irq.members[3]
    assert isinstance(swapgs, m.Hook) and swapgs.since == 3
    assert swapgs.condition is not None
    assert "swapgs" not in abi.layouts["i386"].records["pv_irq_ops"].offsets
    assert abi.layouts["x86_64"].records["pv_irq_ops"].offsets["swapgs"] == 24

    mmu = abi.tables_by_name["pv_mmu_ops"]
    kinds = [(type(mb).__name__, mb.name) for mb in mmu.members]
    assert kinds == [
        ("Hook", "write_cr3"),
        ("Hook", "set_pte"),
        ("Hook", "alloc_pte"),
        ("SubTable", "lazy_mode"),
        ("Hook", "flush_tlb_user"),
    ]
    alloc = mmu.members[2]
    assert isinstance(alloc, m.Hook) and alloc.renamed_from == "alloc_pt"
    assert [str(p.type) for p in alloc.params] == ["mm_struct *", "unsigned long"]
    flush = mmu.members[4]
    assert isinstance(flush, m.Hook) and flush.deprecated is not None
    assert (flush.deprecated.since, flush.deprecated.use) == (3, "pv_mmu_ops.write_cr3")


def test_sub_table_is_embedded_by_value() -> None:
    abi = load()
    i386 = abi.layouts["i386"].records["pv_mmu_ops"]
    assert dict(i386.offsets) == {
        "write_cr3": 0,
        "set_pte": 4,
        "alloc_pte": 8,
        "lazy_mode": 12,
        "flush_tlb_user": 20,
    }
    assert i386.size == 24


def test_backends_expand_star_through_sub_tables() -> None:
    abi = load()
    native, xen = abi.backends
    assert native.default and native.overrides == ()
    assert [o.path for o in xen.overrides] == [
        "pv_irq_ops.save_fl",
        "pv_irq_ops.irq_disable",
        "pv_irq_ops.safe_halt",
        "pv_mmu_ops.write_cr3",
        "pv_mmu_ops.set_pte",
        "pv_mmu_ops.alloc_pte",
        "pv_mmu_ops.lazy_mode.enter",
        "pv_mmu_ops.lazy_mode.leave",
        "pv_mmu_ops.flush_tlb_user",
    ]


def test_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    abi = load()
    assert [s.path for s in abi.sources] == ["mm_types.pvspec", "paravirt.pvspec"]
    assert "cpumask" in abi.types_by_name


def test_exclusive_conditions_may_repeat_a_name(tmp_path: Path) -> None:
    # No declared target defines both X86_32 and X86_64, so the names do not clash.
    spec = tmp_path / "a.pvspec"
    spec.write_text(
        "abi demo { version 1; }\n"
        "target i386 { data_model ilp32; defines X86_32; }\n"
        "target x86_64 { data_model lp64; defines X86_64; }\n"
        "@if(X86_32) typedef u32 word_t;\n@if(X86_64) typedef u64 word_t;\n"
        'include "empty.pvspec";\n'
    )
    (tmp_path / "empty.pvspec").write_text("// nothing here yet\n")
    abi = load_abi(spec, Config(None))
    assert abi.layouts["i386"].types["word_t"] == (4, 4)
    assert abi.layouts["x86_64"].types["word_t"] == (8, 8)
