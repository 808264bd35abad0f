"""Names in the kernel's own namespace: the kernel is the C implementation and names its types
with leading underscores (`__u32`, `__ticket_t`, since 2.6.25), so a spec may too. What the
compiler and the C library headers that generated code includes use themselves stays refused,
and so do names Python would mangle where the generated package writes them inside a class.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

from pvgen import names
from pvgen.names import implementation_name, problem_with

PREAMBLE = "abi kern { version 1; }\ntarget x86_64 { data_model lp64; }\n"

KERNEL_STYLE = PREAMBLE + """/// The spinlock ticket type, as Linux 2.6.25 declares it.
typedef u16 __ticket_t;
/// The kernel's own fixed-width type.
typedef u32 __u32;
/// A raw lock.
struct __raw_lock { __ticket_t head; __ticket_t tail; }
/// Lock states.
enum __lock_state : u32 { lock_free, lock_held }
/// Ticket lock hooks.
table __ticket_ops {
    /// Spins on a contended lock.
    void lock_spinning(struct __raw_lock *lock, __ticket_t __want);
    /// Returns the kernel's word.
    __u32 word(void);
    /// A lock value.
    __raw_lock snapshot;
    /// A state.
    __lock_state state;
}
/// Every lock hook.
table pv_lock_ops {
    /// The ticket hooks.
    __ticket_ops ticket;
}
backend native default;
"""


def test_kernel_style_names_check_generate_compile_and_install(tmp_path: Path) -> None:
    (tmp_path / "k.pvspec").write_text(KERNEL_STYLE, encoding="utf-8")
    checked = run_cli("check", "k.pvspec", cwd=tmp_path)
    assert checked.status == 0, checked.err
    assert "error" not in checked.err
    assert run_cli("generate", "k.pvspec", "--out", "out", cwd=tmp_path).status == 0
    header = tmp_path / "out" / "kern" / "c" / "kern.h"
    for compiler, language, std in (
        ("gcc", "c", "c11"),
        ("gcc", "c", "gnu89"),
        ("g++", "c++", "c++17"),
    ):
        subprocess.run(
            [
                compiler,
                f"-std={std}",
                "-Wall",
                "-Werror",
                "-fsyntax-only",
                "-x",
                language,
                str(header),
            ],
            check=True,
        )
    program = """
import kern, kern.types as t
from kern.backends import NativeStub

class Native(NativeStub):
    def pv_lock_ops_ticket_lock_spinning(self, lock, want):
        return None
    def pv_lock_ops_ticket_word(self):
        return 7

ops = kern.KernOps(Native(), Native())
assert ops.pv_lock_ops.ticket.word() == 7
assert ops.pv_lock_ops.ticket.snapshot == getattr(t, "__raw_lock")(head=0, tail=0)
assert ops.pv_lock_ops.ticket.state == getattr(t, "__lock_state").lock_free
assert getattr(t, "__ticket_t") is int
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path / "out" / "kern" / "python",
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize(
    ("declaration", "name"),
    [
        ("typedef u32 __x86_64;", "__x86_64"),  # a macro gcc predefines on x86_64
        ("typedef u32 __int8_t;", "__int8_t"),  # a typedef of glibc's <stdint.h>
        ("typedef u32 __LP64__;", "__LP64__"),  # the generated header tests it
        ("typedef u32 _Ticket;", "_Ticket"),  # the library's macro space
        ("typedef u32 __builtin_ticket;", "__builtin_ticket"),
    ],
)
def test_names_of_the_compiler_and_its_headers_stay_refused(
    tmp_path: Path, declaration: str, name: str
) -> None:
    (tmp_path / "k.pvspec").write_text(PREAMBLE + declaration + "\n", encoding="utf-8")
    result = run_cli("check", "k.pvspec", cwd=tmp_path)
    assert result.status == 1
    column = declaration.index(name) + 1
    assert (
        f"k.pvspec:3:{column}: error: '{name}' is a name the C compiler or its standard"
        " headers use themselves" in result.err
    )


@pytest.mark.parametrize(
    ("body", "what", "line", "column"),
    [
        ("struct s { u32 __pad; }\ntable t { void f(s x); }", "field 's.__pad'", 3, 16),
        ("enum e : u32 { __first }\ntable t { void f(e x); }", "enumerator '__first'", 3, 16),
        ("table t { void __hook(void); }", "member 't.__hook'", 3, 16),
        ("table __t { void f(void); }", "top-level table '__t'", 3, 7),
    ],
)
def test_names_python_would_mangle_are_refused_where_it_would(
    tmp_path: Path, body: str, what: str, line: int, column: int
) -> None:
    (tmp_path / "k.pvspec").write_text(PREAMBLE + body + "\n", encoding="utf-8")
    result = run_cli("check", "--no-rules", "k.pvspec", cwd=tmp_path)
    assert result.status == 1
    assert (
        f"k.pvspec:{line}:{column}: error: {what} would be an attribute of a class in the"
        " generated Python, where Python renames names that start with '__' inside a class"
        in result.err
    ), result.err


def test_every_name_gcc_and_the_included_headers_define_is_refused() -> None:
    """The list in names.py against what this machine's gcc and C library define."""
    source = "#include <stdint.h>\n#include <stddef.h>\n#include <stdbool.h>\n"
    macros = subprocess.run(
        ["gcc", "-std=gnu11", "-E", "-dM", "-x", "c", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expanded = subprocess.run(
        ["gcc", "-std=gnu11", "-E", "-x", "c", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    code = "\n".join(line for line in expanded.splitlines() if not line.startswith("#"))
    names = set(re.findall(r"^#define (_\w+)", macros, flags=re.M))
    names |= set(re.findall(r"\b(_\w+)", code))
    assert len(names) > 100
    missed = sorted(n for n in names if not implementation_name(n))
    assert missed == []
    for kernel_name in ("__ticket_t", "__u32", "__pte", "__raw_lock", "_x"):
        assert problem_with(kernel_name) is None


def test_names_passed_by_the_quick_check_are_passed_by_every_check() -> None:
    """`problem_with` passes a name that is no keyword or reserved word and does not start
    with an underscore without asking `implementation_name`: no such name may be one."""
    assert all(n.startswith("_") for n in names.C_IMPLEMENTATION_NAMES)
    assert all(p.startswith("_") for p in names.C_IMPLEMENTATION_PREFIXES)
    for name in ("pv_ops", "Xen", "x", "arg0", "lazy_mode", "CONFIG_X", "u32", "self"):
        assert not implementation_name(name)
    for word in ("struct", "class", "lambda", "NULL", "_Bool", "__x__", "_Foo", "__int128"):
        assert problem_with(word) is not None
