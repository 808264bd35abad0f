"""Layout: the data models place fields as the i386 and x86-64 System V ABIs do."""

from __future__ import annotations

from pathlib import Path

from conftest import PREAMBLE

from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.layout import DATA_MODELS, canonical_c_type, lay_out_record


def test_builtin_sizes() -> None:
    ilp32, lp64 = DATA_MODELS["ilp32"], DATA_MODELS["lp64"]
    assert ilp32.integer("unsigned long") == (4, 4)
    assert lp64.integer("unsigned long") == (8, 8)
    # i386 aligns 64-bit integers to 4 inside structs; x86-64 to 8.
    assert ilp32.integer("u64") == (8, 4)
    assert lp64.integer("long long") == (8, 8)
    assert ilp32.pointer_size == 4 and lp64.pointer_size == 8


def test_c_spellings_are_canonical() -> None:
    assert canonical_c_type("unsigned") == "unsigned int"
    assert canonical_c_type("long unsigned int") == "unsigned long"
    assert canonical_c_type("long long") == "long long"
    assert canonical_c_type("long short") is None
    assert canonical_c_type("unsigned signed") is None


def test_record_padding_and_packing() -> None:
    fields = [("a", 1, 1), ("b", 8, 8), ("c", 2, 2)]
    assert lay_out_record(fields) == (24, 8, {"a": 0, "b": 8, "c": 16})
    assert lay_out_record(fields, packed=True) == (11, 1, {"a": 0, "b": 1, "c": 9})


def test_u64_field_on_both_targets(tmp_path: Path) -> None:
    spec = tmp_path / "a.pvspec"
    spec.write_text(PREAMBLE + "struct s { u32 a; u64 b; }\nenum e : u16 { A }\n")
    abi = load_abi(spec, Config(None))
    assert abi.layouts["i386"].records["s"].size == 12
    assert dict(abi.layouts["i386"].records["s"].offsets) == {"a": 0, "b": 4}
    assert abi.layouts["x86_64"].records["s"].size == 16
    assert abi.layouts["x86_64"].types["e"] == (2, 2)


def test_conditional_members_leave_no_slot(tmp_path: Path) -> None:
    spec = tmp_path / "a.pvspec"
    spec.write_text(
        PREAMBLE
        + "table t {\n  void a();\n  @if(LEVELS >= 3) void b();\n  @if(X86_32) void c();\n}\n"
    )
    abi = load_abi(spec, Config(None))
    assert dict(abi.layouts["i386"].records["t"].offsets) == {"a": 0, "c": 4}
    assert dict(abi.layouts["x86_64"].records["t"].offsets) == {"a": 0, "b": 8}
