"""Bad input: each case asserts the exact file, line, column and message of the error.

The first line of stderr is `file:line:col: error: message`; the exit status
is 1 for errors in a spec and 2 when the root file itself cannot be read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import PREAMBLE, run_cli

P = PREAMBLE  # three lines: user text starts on line 4

CASES: dict[str, tuple[dict[str, str | bytes], str, int]] = {
    # ---- syntax, at every level
    "top-level keyword misspelled": (
        {"a.pvspec": P + "tabel pv_ops { void f(); }\n"},
        "a.pvspec:4:1: error: unexpected 'tabel'; expected '@', 'abi', 'backend', 'enum',"
        " 'include', 'opaque', 'struct', 'table', ...",
        1,
    ),
    "setting written as an assignment": (
        {"a.pvspec": "abi demo { version = 1; }\n"},
        "a.pvspec:1:20: error: unexpected '='; expected ';', a name, a string, an integer",
        1,
    ),
    "member without semicolon": (
        {"a.pvspec": P + "table t {\n    void f()\n}\n"},
        "a.pvspec:6:1: error: unexpected '}'; expected ';'",
        1,
    ),
    "trailing comma in parameters": (
        {"a.pvspec": P + "table t { void f(int a,); }\n"},
        "a.pvspec:4:24: error: unexpected ')'; expected a name",
        1,
    ),
    "annotation argument missing": (
        {"a.pvspec": P + "table t { @hot(callsites = ) void f(); }\n"},
        "a.pvspec:4:28: error: unexpected ')'; expected a name, a string, an integer",
        1,
    ),
    "condition operand missing": (
        {"a.pvspec": P + "@if(X86_64 &&) typedef u32 x;\n"},
        "a.pvspec:4:14: error: unexpected ')'; expected '!', '(', a name, an integer",
        1,
    ),
    "unterminated string": (
        {"a.pvspec": P + 'table t { @patch(native = "cli) void f(); }\n'},
        "a.pvspec:4:27: error: unterminated string or invalid escape in string",
        1,
    ),
    "invalid escape in string": (
        {"a.pvspec": P + 'table t { @patch(native = "c\\qli") void f(); }\n'},
        "a.pvspec:4:29: error: invalid escape '\\q' in string;"
        r" valid: \" \' \\ \n \t \r \0 \xNN",
        1,
    ),
    "unterminated block comment": (
        {"a.pvspec": P + "/* never closed\ntable t { void f(); }\n"},
        "a.pvspec:4:1: error: unterminated comment '/*'",
        1,
    ),
    "end of file inside a table": (
        {"a.pvspec": P + "table t { void f();\n"},
        "a.pvspec:4:19: error: unexpected end of file; expected '@', 'char', 'const', 'enum',"
        " 'int', 'long', 'short', 'signed', ...",
        1,
    ),
    "unexpected character": (
        {"a.pvspec": P + "table t { void f() $; }\n"},
        "a.pvspec:4:20: error: unexpected character '$'",
        1,
    ),
    # ---- names and types
    "unknown type": (
        {"a.pvspec": P + "table t { void f(pte_tt *p); }\nstruct pte_t { u32 pte; }\n"},
        "a.pvspec:4:18: error: unknown type 'pte_tt'; did you mean 'pte_t'?",
        1,
    ),
    "unknown annotation": (
        {"a.pvspec": P + "table t { @hott void f(); }\n"},
        "a.pvspec:4:11: error: unknown annotation '@hott'; did you mean '@hot'?",
        1,
    ),
    "annotation on the wrong kind of declaration": (
        {"a.pvspec": P + "@packed table t { void f(); }\n"},
        "a.pvspec:4:1: error: '@packed' cannot be used on a table; it applies to: struct",
        1,
    ),
    "annotation argument of the wrong kind": (
        {"a.pvspec": P + 'table t { @since("two") void f(); }\n'},
        "a.pvspec:4:18: error: argument 'version' of '@since' must be an integer, not a string",
        1,
    ),
    "unknown define in a condition": (
        {"a.pvspec": P + "@if(X86_6) typedef u32 x;\n"},
        "a.pvspec:4:5: error: 'X86_6' is not defined by any target; did you mean 'X86_64'?",
        1,
    ),
    "unknown abi setting": (
        {"a.pvspec": "abi demo { version 1; stabilty stable; }\ntarget t { data_model lp64; }\n"},
        "a.pvspec:1:23: error: unknown abi setting 'stabilty'; did you mean 'stability'?",
        1,
    ),
    "unknown data model": (
        {"a.pvspec": "abi demo { version 1; }\ntarget t { data_model lp32; }\n"},
        "a.pvspec:2:23: error: unknown data model 'lp32'; did you mean 'ilp32'?",
        1,
    ),
    "unknown table in a backend": (
        {"a.pvspec": P + "table pv_ops { void f(); }\nbackend xen { pv_opz: f; }\n"},
        "a.pvspec:5:15: error: unknown table 'pv_opz'; did you mean 'pv_ops'?",
        1,
    ),
    "unknown member in a backend": (
        {"a.pvspec": P + "table pv_ops { void flush(); }\nbackend xen { pv_ops: flsh; }\n"},
        "a.pvspec:5:23: error: table 'pv_ops' has no member 'flsh'; did you mean 'flush'?",
        1,
    ),
    "member listed twice in a backend": (
        {
            "a.pvspec": P
            + "table pv_ops { void f(); void g(); }\nbackend xen { pv_ops: f, g, f; }\n"
        },
        "a.pvspec:5:29: error: 'pv_ops.f' is listed twice in backend 'xen'",
        1,
    ),
    "sub-table member listed twice in a backend": (
        {
            "a.pvspec": P
            + "table lz { void enter(); }\ntable mmu { lz lazy; void f(); }\n"
            + "backend xen { mmu: lazy.enter, f, lazy; }\n"
        },
        "a.pvspec:6:35: error: 'mmu.lazy.enter' is listed twice in backend 'xen'",
        1,
    ),
    "no abi declaration": (
        {"a.pvspec": "table t { void f(); }\n"},
        "a.pvspec:1:1: error: no 'abi' declaration; a spec starts with 'abi NAME { version N; }'",
        1,
    ),
    # ---- duplicates point at the earlier declaration
    "duplicate type": (
        {"a.pvspec": P + "struct a { u32 x; }\ntypedef u32 a;\n"},
        "a.pvspec:5:13: error: duplicate declaration of 'a'\n"
        "    typedef u32 a;\n"
        "                ^\n"
        "a.pvspec:4:8: note: first declared here",
        1,
    ),
    "duplicate hook": (
        {"a.pvspec": P + "table t {\n    void f();\n    void f(int x);\n}\n"},
        "a.pvspec:6:10: error: duplicate member 'f'\n"
        "        void f(int x);\n"
        "             ^\n"
        "a.pvspec:5:10: note: first declared here",
        1,
    ),
    "conditional declarations that can both hold": (
        {"a.pvspec": P + "@if(X86_64) typedef u32 a;\n@if(LEVELS >= 3) typedef u64 a;\n"},
        "a.pvspec:5:30: error: duplicate declaration of 'a' (both declared for target 'x86_64')",
        1,
    ),
    "table declared twice, even for exclusive targets": (
        {"a.pvspec": P + "@if(X86_32) table t { void f(); }\n@if(X86_64) table t { void g(); }\n"},
        "a.pvspec:5:19: error: table 't' is declared twice; declare it once and put @if on the"
        " members that differ between targets\n"
        "    @if(X86_64) table t { void g(); }\n"
        "                      ^\n"
        "a.pvspec:4:19: note: first declared here",
        1,
    ),
    "member paths that generated code spells alike": (
        {
            "a.pvspec": P
            + "table pv_a_b { void c(); }\ntable pv_a { void b_c(); void Go(); void GO(); }\n"
        },
        "a.pvspec:5:19: error: 'pv_a.b_c' and 'pv_a_b.c' would share the name 'pv_a_b_c' in"
        " generated code\n"
        "    table pv_a { void b_c(); void Go(); void GO(); }\n"
        "                      ^^^\n"
        "a.pvspec:4:21: note: 'pv_a_b.c' is declared here\n"
        "a.pvspec:5:42: error: 'pv_a.GO' and 'pv_a.Go' would share the name 'PV_A_GO' in"
        " generated code",
        1,
    ),
    "duplicate parameter": (
        {"a.pvspec": P + "table t { void f(int a, u32 a); }\n"},
        "a.pvspec:4:25: error: duplicate parameter 'a'",
        1,
    ),
    "duplicate backend": (
        {"a.pvspec": P + "table t { void f(); }\nbackend x { t: f; }\nbackend x { t: *; }\n"},
        "a.pvspec:6:9: error: duplicate backend 'x'",
        1,
    ),
    # ---- includes
    "include cycle": (
        {
            "a.pvspec": P + 'include "b.pvspec";\n',
            "b.pvspec": 'include "a.pvspec";\n',
        },
        "b.pvspec:1:1: error: include cycle: 'a.pvspec' is already being included\n"
        '    include "a.pvspec";\n'
        "    ^^^^^^^^^^^^^^^^^^\n"
        "a.pvspec:4:1: note: included from here",
        1,
    ),
    "include climbing out of the spec root": (
        {"specs/a.pvspec": P + 'include "../outside.pvspec";\n', "outside.pvspec": ""},
        "specs/a.pvspec:4:1: error: include '../outside.pvspec' leaves the spec root 'specs'",
        1,
    ),
    "absolute include": (
        {"a.pvspec": P + 'include "/etc/hostname";\n'},
        "a.pvspec:4:1: error: include path '/etc/hostname' is absolute;"
        " use a path relative to this file",
        1,
    ),
    "missing include": (
        {"a.pvspec": P + 'include "nope.pvspec";\n'},
        "a.pvspec:4:1: error: cannot read 'nope.pvspec': no such file",
        1,
    ),
    # ---- types by value and parameters
    "opaque struct by value": (
        {"a.pvspec": P + "opaque struct mm_struct;\ntable t { void f(struct mm_struct mm); }\n"},
        "a.pvspec:5:18: error: opaque struct 'mm_struct' is used by value;"
        " it may only appear behind a pointer",
        1,
    ),
    "opaque struct by value through a typedef": (
        {
            "a.pvspec": P + "opaque struct cpumask;\ntypedef struct cpumask cpumask_t;\n"
            "table t { cpumask_t mask; }\n"
        },
        "a.pvspec:6:21: error: 'cpumask_t' names opaque struct 'cpumask' and is used by value;"
        " it may only appear behind a pointer",
        1,
    ),
    "void parameter not alone": (
        {"a.pvspec": P + "table t { void f(void, int x); }\n"},
        "a.pvspec:4:18: error: 'void' must be the only parameter",
        1,
    ),
    "named void parameter": (
        {"a.pvspec": P + "table t { void f(void x); }\n"},
        "a.pvspec:4:18: error: parameter 'x' cannot have type 'void'",
        1,
    ),
    "unnamed parameter": (
        {"a.pvspec": P + "table t { void write_cr0(unsigned long); }\n"},
        "a.pvspec:4:26: error: parameter 1 of 'write_cr0' needs a name;"
        " generated code refers to it",
        1,
    ),
    "type missing on one target": (
        {"a.pvspec": P + "@if(X86_64) typedef u64 pmdval_t;\ntable t { pmdval_t pmd; }\n"},
        "a.pvspec:5:20: error: type 'pmdval_t' is not declared for target 'i386'",
        1,
    ),
    "struct containing itself": (
        {"a.pvspec": P + "struct a { b inner; }\nstruct b { a outer; }\n"},
        "a.pvspec:5:14: error: 'a' contains itself by value",
        1,
    ),
    "backend with neither a block nor 'default'": (
        {"a.pvspec": P + "table t { void f(); }\nbackend kvm;\n"},
        "a.pvspec:5:9: error: backend 'kvm' lists no members;"
        " give '{ table: member, ...; }' or mark it 'default'",
        1,
    ),
    "backend naming a table that is only embedded": (
        {
            "a.pvspec": P
            + "table lz { void enter(); void leave(); }\n"
            + "table mmu { lz lazy_mode; }\nbackend xen { lz: enter; }\n"
        },
        "a.pvspec:6:15: error: table 'lz' is only embedded in other tables;"
        " name its members through them, such as 'pv_mmu_ops: lazy_mode.enter'",
        1,
    ),
    "table embedding itself": (
        {"a.pvspec": P + "table a { b inner; }\ntable b { a outer; }\n"},
        "a.pvspec:5:13: error: table 'a' embeds itself (a -> b -> a)",
        1,
    ),
    "integer with a leading zero": (
        {"a.pvspec": P + "enum e : u8 { A = 010 }\n"},
        "a.pvspec:4:19: error: '010' has a leading zero, which C reads as octal;"
        " write it in decimal without the zero, or in hex",
        1,
    ),
    "parenthesised condition compared": (
        {"a.pvspec": P + "@if((X86_64 || X86_32) == 1) typedef u32 x;\n"},
        "a.pvspec:4:24: error: unexpected '=='; expected '&&', ')', '||'",
        1,
    ),
    "doc comment with no declaration after it": (
        {"a.pvspec": P + "table t {\n    void f();\n    /// dangling\n}\n"},
        "a.pvspec:7:1: error: a doc comment '///' must be followed by the declaration it documents",
        1,
    ),
    "annotation on the abi block": (
        {"a.pvspec": "@since(1) abi demo { version 1; }\ntarget t { data_model lp64; }\n"},
        "a.pvspec:1:1: error: '@since' cannot be used on an abi; it applies to: data member,"
        " enum, enumerator, field, hook, opaque struct, struct, sub-table, table, typedef",
        1,
    ),
    "allow on a target": (
        {
            "a.pvspec": "abi demo { version 1; }\n"
            + '@allow(PV101, reason = "x") target t { data_model lp64; }\n'
        },
        "a.pvspec:2:1: error: '@allow' cannot be used on a target; it applies to: abi, backend,"
        " data member, enum, enumerator, field, hook, opaque struct, struct, sub-table, table,"
        " typedef",
        1,
    ),
    "keyword as target name": (
        {"a.pvspec": "abi demo { version 1; }\ntarget class { data_model lp64; }\n"},
        "a.pvspec:2:8: error: 'class' is a C++ keyword and cannot name a target;"
        " generated code would break",
        1,
    ),
    "enumerator names clash across enums": (
        {"a.pvspec": P + "enum a : u8 { ONE }\nenum b : u8 { ONE }\n"},
        "a.pvspec:5:15: error: duplicate enumerator 'ONE'",
        1,
    ),
    "const enum type": (
        {"a.pvspec": P + "enum a : const u8 { ONE }\n"},
        "a.pvspec:4:10: error: the type of enum 'a' must be a builtin integer type such as 'u32'",
        1,
    ),
    # ---- encodings and empty input
    "invalid UTF-8": (
        {"a.pvspec": b"abi demo { version 1; }\n// caf\xe9\n"},
        "a.pvspec:2:7: error: invalid UTF-8 (byte 0xe9); specs must be UTF-8",
        2,
    ),
    "empty file": (
        {"a.pvspec": "\n  \n"},
        "a.pvspec:1:1: error: empty spec: expected declarations such as 'abi', 'table'",
        1,
    ),
    # ---- keywords that would break generated C, C++ or Python
    "C++ keyword as hook name": (
        {"a.pvspec": P + "table t { void class(); }\n"},
        "a.pvspec:4:16: error: 'class' is a C++ keyword and cannot name a hook;"
        " generated code would break",
        1,
    ),
    "C keyword as hook name": (
        {"a.pvspec": P + "table t { void int(); }\n"},
        "a.pvspec:4:16: error: 'int' is a C keyword and cannot be used as a name",
        1,
    ),
    "Python keyword as parameter name": (
        {"a.pvspec": P + "table t { void f(u32 def); }\n"},
        "a.pvspec:4:22: error: 'def' is a Python keyword and cannot name a parameter;"
        " generated code would break",
        1,
    ),
    "Python keyword as member name": (
        {"a.pvspec": P + "table t { u32 lambda; }\n"},
        "a.pvspec:4:15: error: 'lambda' is a Python keyword and cannot name a data member;"
        " generated code would break",
        1,
    ),
    # ---- backends: where they run, their fallback, what they must patch
    "backend that runs on no target": (
        {"a.pvspec": P + "table t { void f(); }\n@if(X86_32 && X86_64)\nbackend b { t: f; }\n"},
        "a.pvspec:6:9: error: backend 'b' runs on no declared target: no target's defines"
        " satisfy 'X86_32 && X86_64'",
        1,
    ),
    "backend condition naming an unknown define": (
        {"a.pvspec": P + "table t { void f(); }\n@if(X86_PAE)\nbackend b { t: f; }\n"},
        "a.pvspec:5:5: error: 'X86_PAE' is not defined by any target; did you mean 'X86_64'?",
        1,
    ),
    "unknown fallback": (
        {
            "a.pvspec": P
            + "table t { void f(); }\nbackend native default;\n"
            + "@fallback(nothing)\nbackend b { t: f; }\n"
        },
        "a.pvspec:6:1: error: unknown fallback 'nothing'; expected one of 'native', 'none'",
        1,
    ),
    "fallback of one entry misspelt": (
        {
            "a.pvspec": P
            + "table t { void f(); }\nbackend native default;\n"
            + "backend b { @fallback(nativ) t: f; }\n"
        },
        "a.pvspec:6:13: error: unknown fallback 'nativ'; did you mean 'native'?",
        1,
    ),
    "fallback on the default backend": (
        {"a.pvspec": P + "table t { void f(); }\n@fallback(none)\nbackend native default;\n"},
        "a.pvspec:5:1: error: 'native' is the default backend: it has no fallback to choose",
        1,
    ),
    "must-patch hook the backend does not list": (
        {
            "a.pvspec": P
            + "table t { void f(); void g(); }\nbackend native default;\n"
            + "@must_patch(t.g)\nbackend b { t: f; }\n"
        },
        "a.pvspec:6:1: error: backend 'b' does not list 't.g', so it has no slot of its own"
        " to patch",
        1,
    ),
    "annotation on a backend entry other than fallback": (
        {"a.pvspec": P + "table t { void f(); }\nbackend b { @nullable t: f; }\n"},
        "a.pvspec:5:13: error: '@nullable' cannot be used on a backend entry; it applies to: hook",
        1,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case: str, write_specs) -> None:  # type: ignore[no-untyped-def]
    files, expected, status = CASES[case]
    folder = write_specs(files)
    root = next(iter(files))
    result = run_cli("check", root, cwd=folder)
    assert result.status == status, result.err
    assert result.err.startswith(expected + "\n"), result.err
    assert "Traceback" not in result.err


def test_symlink_out_of_the_spec_root(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder: Path = write_specs(
        {"specs/a.pvspec": P + 'include "link.pvspec";\n', "outside.pvspec": "typedef u32 x;\n"}
    )
    os.symlink(folder / "outside.pvspec", folder / "specs" / "link.pvspec")
    result = run_cli("check", "specs/a.pvspec", cwd=folder)
    assert result.status == 1
    assert result.err.startswith(
        "specs/a.pvspec:4:1: error: include 'link.pvspec' leaves the spec root 'specs'\n"
    )


def test_all_semantic_errors_reported_in_one_run(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "a.pvspec": P
            + "table t {\n"
            + "    @hott void f(pte_tt p);\n"
            + "    void g(u32 class);\n"
            + "}\n"
        }
    )
    result = run_cli("check", "a.pvspec", cwd=folder)
    assert result.status == 1
    locations = [line.split(": error")[0] for line in result.err.splitlines() if ": error:" in line]
    assert locations == ["a.pvspec:5:5", "a.pvspec:5:18", "a.pvspec:6:16"]
    assert result.err.rstrip().endswith("3 errors")


def test_missing_root_file_is_unusable_input(tmp_path: Path) -> None:
    result = run_cli("check", "nope.pvspec", cwd=tmp_path)
    assert result.status == 2
    assert result.err.startswith("pvgen: error: cannot read 'nope.pvspec': no such file")
