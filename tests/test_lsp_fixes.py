"""The language server's quick fixes, without the protocol: every kind of did-you-mean that
pvgen reports is fixed at the misspelt word, and the fixed text checks clean of it.

Each case misspells one name of a valid spec; the fix `pvgen.lsp.features` proposes for the
resulting diagnostic is applied to the text, which is compiled again (from memory, as the
server does) and must no longer report the misspelling.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pvgen.config import Config
from pvgen.lsp import features
from pvgen.lsp.analysis import compile_root

SPEC = """abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }

/// A page-table entry.
typedef u64 pte_t;

/// Interrupt flag control.
table pv_irq_ops {
    /// Disables interrupts.
    @patch(native = "cli") @hot(callsites = 500)
    @allow(PV104, reason = "a test of the quick fixes")
    void irq_disable();
    /// Writes a page-table entry.
    @if(X86_32)
    void set_pte(pte_t *ptep, pte_t pteval);
}

/// Bare hardware.
backend native default;

/// A hypervisor.
@must_patch(pv_irq_ops.irq_disable)
backend hv {
    pv_irq_ops: irq_disable, set_pte;
}

/// Another.
@fallback(none)
backend other {
    pv_irq_ops: irq_disable, set_pte;
}
"""

CASES = {
    "type": ("pte_t *ptep", "pte_tt *ptep", "pte_tt"),
    "table in a backend": (
        "    pv_irq_ops: irq_disable, set_pte;\n}\n\n/// Another.",
        "    pv_irq_opz: irq_disable, set_pte;\n}\n\n/// Another.",
        "pv_irq_opz",
    ),
    "member in a backend": (
        "pv_irq_ops: irq_disable, set_pte;\n}\n\n/// Another.",
        "pv_irq_ops: irq_disabel, set_pte;\n}\n\n/// Another.",
        "irq_disabel",
    ),
    "annotation": ("@hot(", "@hott(", "@hott"),
    "annotation argument": ('@patch(native = "cli")', '@patch(natve = "cli")', "natve"),
    "path of @must_patch": (
        "@must_patch(pv_irq_ops.irq_disable)",
        "@must_patch(pv_irq_ops.irq_disabl)",
        "pv_irq_ops.irq_disabl",
    ),
    "define": ("@if(X86_32)", "@if(X86_3)", "X86_3"),
    "setting": ("version 1;", "verison 1;", "verison"),
    "data model": ("data_model lp64", "data_model lp46", "lp46"),
    "fallback": ("@fallback(none)", "@fallback(nonee)", "nonee"),
}


def check(path: Path, text: str) -> list[str]:
    snapshot = compile_root(
        Path(os.path.realpath(path)), {Path(os.path.realpath(path)): text}, Config(None)
    )
    return [d.message for d in snapshot.diagnostics]


def test_the_spec_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "demo.pvspec"
    path.write_text(SPEC, encoding="utf-8")
    assert check(path, SPEC) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_did_you_mean_is_fixed_at_the_word(tmp_path: Path, case: str) -> None:
    good, bad, typo = CASES[case]
    assert SPEC.count(good) == 1
    text = SPEC.replace(good, bad)
    path = tmp_path / "demo.pvspec"
    path.write_text(SPEC, encoding="utf-8")
    real = Path(os.path.realpath(path))
    snapshot = compile_root(real, {real: text}, Config(None))
    (diagnostic,) = [d for d in snapshot.diagnostics if f"'{typo}'" in d.message]
    assert "did you mean" in diagnostic.message
    fix = features.did_you_mean_fix(diagnostic)
    assert fix is not None
    assert fix.place.path == real
    lines = text.split("\n")
    start = sum(len(x) + 1 for x in lines[: fix.place.line - 1]) + fix.place.column - 1
    end = sum(len(x) + 1 for x in lines[: fix.place.end_line - 1]) + fix.place.end_column - 1
    assert text[start:end] == typo
    assert text[:start] + fix.new_text + text[end:] == SPEC
    assert check(path, SPEC) == []
