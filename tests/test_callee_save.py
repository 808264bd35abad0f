"""PV105 models the kernel's callee-save convention per target.

i386 is built with -mregparm=3 -freg-struct-return: two argument words in eax and edx (a u64
or an 8-byte struct takes both), a return value of up to two words (eax or edx:eax). x86_64:
two arguments in rdi and rsi, the return value in rax alone. Values are integers, enums,
bool, pointers, or structs of those of 1, 2, 4 or 8 bytes. The real case comes from the
kernel facts: the page-table hooks that are callee-save since 2.6.30, with the page-table
types of each configuration.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import kernel_facts
import pytest
from conftest import SPECS

from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.diagnostics import Diagnostic
from pvgen.rules import run_rules

TYPES = """abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
/// Two words on i386, one on x86_64.
struct pair_t { /** Low half. */ u32 lo; /** High half. */ u32 hi; }
/// Three words.
struct desc_t { /** a */ u32 a; /** b */ u32 b; /** c */ u32 c; }
/// Sixteen bytes.
struct wide_t { /** Low. */ u64 lo; /** High. */ u64 hi; }
/// Six bytes: no register size.
struct odd_t { /** a */ u16 a; /** b */ u16 b; /** c */ u16 c; }
/// A word holding a pointer.
struct ptr_t { /** The pointer. */ u32 *p; }
/// Interrupt state.
enum irq_state : u32 { /** Off. */ IRQ_OFF, /** On. */ IRQ_ON }
"""


def pv105(tmp_path: Path, hook: str) -> list[Diagnostic]:
    """The PV105 findings of one callee-save hook declared after TYPES."""
    spec = TYPES + f"/// Hooks.\ntable ops {{\n    /// The hook.\n    @callee_save {hook}\n}}\n"
    spec += "/// Bare hardware.\nbackend native default;\n"
    path = tmp_path / "a.pvspec"
    path.write_text(spec)
    return [d for d in run_rules(load_abi(path, Config(None))) if d.code == "PV105"]


def refused_on(findings: list[Diagnostic]) -> set[str]:
    """The targets the findings name."""
    found: set[str] = set()
    for d in findings:
        match = re.search(r" on ([\w, ]+): ", d.message)
        assert match is not None, d.message
        found |= set(match.group(1).split(", "))
    return found


@pytest.mark.parametrize(
    "hook",
    [
        "void f(u64 value);",  # i386: both eax and edx
        "void f(u32 a, u32 b);",
        "u64 f();",  # i386: edx:eax
        "pair_t f();",  # i386: an 8-byte struct in edx:eax; x86_64: rax
        "pair_t f(pair_t v);",
        "void f(bool on, enum irq_state state);",
        "ptr_t f(const void *p);",
        "unsigned long f(u8 *a, unsigned long b);",
        "void f();",
    ],
)
def test_accepted_on_every_target(tmp_path: Path, hook: str) -> None:
    assert pv105(tmp_path, hook) == []


@pytest.mark.parametrize(
    ("hook", "targets", "message"),
    [
        ("void f(u64 a, u32 b);", {"i386"}, "its arguments take 3 register words; at most 2"),
        ("void f(u32 a, u64 b);", {"i386"}, "its arguments take 3 register words; at most 2"),
        ("void f(pair_t a, u32 b);", {"i386"}, "its arguments take 3 register words"),
        ("void f(u32 a, u32 b, u32 c);", {"i386", "x86_64"}, "take 3 register words"),
        ("desc_t f();", {"i386", "x86_64"}, "is a struct of 12 bytes, not 1, 2, 4 or 8"),
        ("wide_t f();", {"i386", "x86_64"}, "is a struct of 16 bytes, not 1, 2, 4 or 8"),
        ("void f(odd_t v);", {"i386", "x86_64"}, "is a struct of 6 bytes"),
    ],
)
def test_refused_where_the_convention_has_no_room(
    tmp_path: Path, hook: str, targets: set[str], message: str
) -> None:
    findings = pv105(tmp_path, hook)
    assert findings and all(message in d.message for d in findings)
    assert refused_on(findings) == targets


def test_a_16_byte_return_is_refused_on_x86_64_only(tmp_path: Path) -> None:
    # w_t is a u64 on i386 (edx:eax) and a 16-byte struct on x86_64, where rax is all.
    spec = TYPES.replace("defines X86_64; }", "defines X86_64; }\n@if(X86_64) typedef wide_t w_t;")
    spec = spec.replace("defines X86_32; }", "defines X86_32; }\n@if(X86_32) typedef u64 w_t;")
    path = tmp_path / "a.pvspec"
    path.write_text(
        spec + "/// Hooks.\ntable ops {\n    /// r\n    @callee_save w_t r();\n}\n"
        "/// Bare hardware.\nbackend native default;\n"
    )
    findings = [d for d in run_rules(load_abi(path, Config(None))) if d.code == "PV105"]
    assert refused_on(findings) == {"x86_64"}
    assert "its return value (w_t) is a struct of 16 bytes" in findings[0].message


def test_the_page_table_hooks_of_2_6_30_fit_on_every_configuration(tmp_path: Path) -> None:
    """pte_val, make_pte, pgd_val, make_pgd (and pmd, pud where the kernel has them) with
    the page-table types of i386, i386 PAE and x86_64: 8-byte entries on PAE and x86_64."""
    shutil.copy(SPECS / "mm_types.pvspec", tmp_path / "mm_types.pvspec")
    facts = kernel_facts.release("v2.6.30")
    conditions = {m["name"]: m.get("cond") for m in facts["tables"]["pv_mmu_ops"]}
    hooks = []
    for path, wrappers in facts["callee_save"].items():
        table, name = path.split(".")
        if table != "pv_mmu_ops":
            continue
        # `static inline pte_t __pte(pteval_t val)`: the hook returns and takes those types.
        match = re.fullmatch(r"static inline (\w+) \w+\((\w+) (\w+)\)", wrappers[0]["wrapper"])
        assert match is not None, wrappers[0]
        returns, param, param_name = match.groups()
        condition = conditions[name]
        guard = f"@if({condition}) " if condition else ""
        hooks.append(
            f"    /// {name}\n    {guard}@callee_save {returns} {name}({param} {param_name});"
        )
    assert {"pte_val", "make_pte", "pgd_val", "make_pgd"} <= {
        h.split("(")[-2].split()[-1] for h in hooks
    }
    spec = (
        "abi demo { version 1; }\n"
        "target i386 { data_model ilp32; defines X86_32, HIGHPTE, PAGETABLE_LEVELS = 2; }\n"
        "target i386_pae {\n    data_model ilp32;\n"
        "    defines X86_32, X86_PAE, HIGHPTE, PAGETABLE_LEVELS = 3;\n}\n"
        "target x86_64 { data_model lp64; defines X86_64, PAGETABLE_LEVELS = 4; }\n"
        'include "mm_types.pvspec";\n'
        "/// Page tables.\ntable pv_mmu_ops {\n" + "\n".join(hooks) + "\n}\n"
        "/// Bare hardware.\nbackend native default;\n"
    )
    (tmp_path / "a.pvspec").write_text(spec)
    abi = load_abi(tmp_path / "a.pvspec", Config(None))
    # The interesting configurations are really there: two-word entries on PAE.
    assert abi.facts["i386_pae"].layout.records["pte_t"].size == 8
    assert abi.facts["i386_pae"].layout.types["pteval_t"][0] == 8
    assert abi.facts["i386"].layout.records["pte_t"].size == 4
    assert abi.facts["x86_64"].layout.records["pgd_t"].size == 8
    assert [d.message for d in run_rules(abi) if d.code == "PV105"] == []
    # And the rule does judge them: a third argument word is refused on PAE, not on i386.
    wider = spec.replace("pte_val(pte_t pte)", "pte_val(pte_t pte, u32 flags)")
    (tmp_path / "b.pvspec").write_text(wider)
    findings = [d for d in run_rules(load_abi(tmp_path / "b.pvspec")) if d.code == "PV105"]
    assert refused_on(findings) == {"i386_pae"}
