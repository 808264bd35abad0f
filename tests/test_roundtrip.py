"""Dumps lose nothing: a spec printed from a dump compiles to the same dump again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT_SPECS, root_spec_id

from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.dump import abi_to_dict
from pvgen.printer import print_spec

PLACES = {"loc", "sources"}


def without_places(value: Any) -> Any:
    """A dump without what depends on where the text stood: locations and source files."""
    if isinstance(value, dict):
        return {k: without_places(v) for k, v in value.items() if k not in PLACES}
    if isinstance(value, list):
        return [without_places(v) for v in value]
    return value


def round_trip(spec: Path, tmp_path: Path) -> tuple[Any, Any]:
    first = abi_to_dict(load_abi(spec, Config(None)))
    printed = tmp_path / "printed.pvspec"
    printed.write_text(print_spec(first), encoding="utf-8")
    second = abi_to_dict(load_abi(printed, Config(None)))
    return without_places(first), without_places(second)


@pytest.mark.parametrize(
    "spec",
    ROOT_SPECS,
    ids=root_spec_id,
)
def test_printed_spec_compiles_to_the_same_dump(spec: Path, tmp_path: Path) -> None:
    first, second = round_trip(spec, tmp_path)
    assert second == first


def test_every_annotation_survives(tmp_path: Path) -> None:
    spec = tmp_path / "all.pvspec"
    spec.write_text(
        '/// An ABI.\n@allow(PV101, reason = "a \\"quoted\\" reason")\n'
        "abi demo { version 3; stability internal; budget 1; low_level_budget 4; }\n"
        "target i386 { data_model ilp32; defines X86_32, LEVELS = -2; }\n"
        "target x86_64 { data_model lp64; defines X86_64, LEVELS = 4; }\n"
        "@if(LEVELS >= 3) typedef u64 wide_t;\n@if(!(LEVELS >= 3)) typedef u32 wide_t;\n"
        "/// A pair.\n@packed @shared struct pair { /// First.\n u32 a; @since(2) u32 b; }\n"
        "opaque struct mm;\nenum mode : s8 { /// Off.\n OFF = -1, ON }\n"
        "table lz { void enter(); void leave(); }\n"
        "/// Ops.\n@budget(9) @since(2) table ops {\n"
        '    @callee_save @hot(callsites = 7) @patch(native = "cli\\n\\x01", clobbers = "eax")\n'
        "    @batched @low_level @renamed_from(old) unsigned long save(const struct mm *m);\n"
        '    @hot @no_native(reason = "r") @backend_specific(reason = "b\\\\") void h();\n'
        "    @deprecated(since = 2, use = ops.save) void gone();\n"
        "    const char *name;\n    lz lazy;\n}\n"
        "backend native default;\nbackend xen { ops: save, lazy.enter, name; }\n",
        encoding="utf-8",
    )
    first, second = round_trip(spec, tmp_path)
    assert second == first
