"""`check` passing means `generate` works: names that generated C or Python cannot use are
refused by `pvgen check` at the declaration at fault, and names close to them go through
`generate` into a header that gcc (and g++) compiles and a package that imports and installs
every backend.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PREAMBLE, SPECS, TEST_SPECS, run_cli
from test_gen_c import WARNINGS, WIDTHS, compile_header, defines

from pvgen.api import load_abi
from pvgen.config import Config
from pvgen.gen.cnames import enum_as_macros
from pvgen.gennames import (
    BOTH,
    MACRO,
    ORDINARY,
    c_template_words,
    generated_c_names,
)
from pvgen.model import Abi, Enum
from pvgen.names import (
    C_STANDARD_NAMES,
    PY_BUILTINS_USED,
    PY_DISPATCH_ATTRIBUTES,
    PY_DISPATCH_INIT_LOCALS,
    PY_STDLIB_IMPORTS,
    PY_TABLES_ANNOTATION_NAMES,
    PY_TABLES_RUNTIME_NAMES,
    PY_TYPES_MODULE_NAMES,
    class_name,
    method_name,
    problem_with,
)

HAS_GCC = shutil.which("gcc") is not None and shutil.which("g++") is not None

# Installs every backend of a generated package: each backend's stub over the default
# backend's, then checks every slot of the dispatch is bound to the method the spec says.
INSTALL = r"""
import importlib, json, sys, types
sys.path.insert(0, sys.argv[1])
abi, default, stubs = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
package = importlib.import_module(abi)
backends = importlib.import_module(abi + ".backends")
dispatch = getattr(package, "".join(p.capitalize() for p in abi.split("_")) + "Ops")
paths = list(package.SINCE)
if default:
    native = getattr(backends, stubs[default])()
else:  # no default backend: any object with a method per hook will do
    native = types.SimpleNamespace(**{p.replace(".", "_"): object() for p in paths})
assert sorted(backends.__all__) == sorted(stubs.values()), backends.__all__
for name, stub_name in stubs.items():
    stub = getattr(importlib.import_module(f"{abi}.backends.{name}"), stub_name)
    assert getattr(backends, stub_name) is stub and stub.NAME == name, (name, stub_name)
    backend = stub()
    ops = dispatch(backend, native)
    overridden = set(package.OVERRIDES.get(name, ()))
    for path in paths:
        slot = ops
        for part in path.split("."):
            slot = getattr(slot, part)
        source = backend if path in overridden else native
        expected = getattr(source, path.replace(".", "_"))
        assert slot == expected, (name, path, slot, expected)
print(len(stubs))
"""


def install_every_backend(package_root: Path, abi: Abi) -> None:
    """Import the generated package in a fresh interpreter and install each backend: its
    stub class, from its own module and as the package exports it, over the default's."""
    default = next((b.name for b in abi.backends if b.default), "")
    stubs = json.dumps({b.name: class_name(b.name, "Stub") for b in abi.backends})
    proc = subprocess.run(
        [sys.executable, "-c", INSTALL, str(package_root), abi.name, default, stubs],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == len(abi.backends)


def compile_c(abi: Abi, c_folder: Path, *, cpp: bool = True) -> None:
    """The header in C11, GNU89 (where GCC predefines `linux`, `unix`, `i386`) and C++17
    for every target at both widths, and the native table in C11 and GNU C."""
    for compiler in ("c11", "gnu89", *(("c++17",) if cpp else ())):
        compile_header(abi, c_folder, compiler)
    for target in abi.targets:
        for std in (["-std=c11", "-pedantic"], ["-std=gnu11"]):
            cmd = ["gcc", *std, *WARNINGS, "-fsyntax-only", *WIDTHS[target.data_model]]
            cmd += [*defines(target), f"{abi.name}_native.c"]
            proc = subprocess.run(cmd, cwd=c_folder, capture_output=True, text=True)
            assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"


def goes_through(folder: Path, spec: str) -> Abi:
    """check passes (the rules aside: they judge style and evolution, not names), generate
    succeeds, the C compiles, the package installs every backend."""
    (folder / "a.pvspec").write_text(spec, encoding="utf-8")
    check = run_cli("check", "a.pvspec", "--no-rules", cwd=folder)
    assert check.status == 0, check.err
    generate = run_cli("generate", "a.pvspec", "--out", "out", cwd=folder)
    assert generate.status == 0, generate.err
    abi = load_abi(folder / "a.pvspec", Config(None))
    if HAS_GCC:
        compile_c(abi, folder / "out" / abi.name / "c")
    install_every_backend(folder / "out" / abi.name / "python", abi)
    return abi


# ---- refused: (spec after the preamble, "line:col", part of the message) -----------------
#
# The preamble is three lines, so the first line of a case is line 4.

NATIVE = "backend native default;\n"
REFUSED: dict[str, tuple[str, str, str]] = {
    # C: the aggregate, wrappers, natives, macros
    "table named like the aggregate": (
        "table demo_ops { void a(); }\n" + NATIVE,
        "4:7",
        "table 'demo_ops' and the C aggregate of every table would both be named 'demo_ops'"
        " in the generated C code",
    ),
    "type named like a call wrapper": (
        "typedef u32 demo_t_f;\ntable t { void f(); }\n" + NATIVE,
        "4:13",
        "typedef 'demo_t_f' and the call wrapper of 't.f' would both be named 'demo_t_f'",
    ),
    "enumerator named like a native implementation": (
        "enum e : u32 { native_t_f }\ntable t { void f(); }\n" + NATIVE,
        "4:16",
        "enumerator 'native_t_f' and the native implementation of 't.f' would both be named"
        " 'native_t_f'",
    ),
    "ABI named native: a wrapper is named like its native implementation": (
        "table t { @callconv(fastcall) void f(u32 x); }\n" + NATIVE,
        "4:36",
        "the native implementation of 't.f' and the call wrapper of 't.f' would both be named"
        " 'native_t_f'",
    ),
    "member named like the ABI version macro": (
        "table t { void DEMO_ABI_VERSION(); }\n" + NATIVE,
        "4:16",
        "member 't.DEMO_ABI_VERSION' would be replaced by the macro 'DEMO_ABI_VERSION'",
    ),
    "field named like a patch ID macro": (
        "struct s { u32 DEMO_PATCH_T_F; }\ntable t { void f(s *p); }\n" + NATIVE,
        "4:16",
        "field 's.DEMO_PATCH_T_F' would be replaced by the macro 'DEMO_PATCH_T_F' (the patch"
        " ID macro of 't.f')",
    ),
    "enumerator named like a since-version macro": (
        "enum e : u32 { T_F_SINCE_VERSION }\ntable t { void f(); }\n" + NATIVE,
        "4:16",
        "enumerator 'T_F_SINCE_VERSION' and the since-version macro of 't.f' would both be"
        " named 'T_F_SINCE_VERSION'",
    ),
    "type named like a target macro": (
        "opaque struct DEMO_TARGET_I386;\ntable t { void f(); }\n" + NATIVE,
        "4:15",
        "opaque struct 'DEMO_TARGET_I386' and the macro of target 'i386' would both be named",
    ),
    "table named like the include guard": (
        "table PVGEN_DEMO_H { void f(); }\n" + NATIVE,
        "4:7",
        "table 'PVGEN_DEMO_H' and the header's include guard would both be named",
    ),
    "parameter named like a calling-convention macro": (
        "table t { @callconv(fastcall) void f(u32 DEMO_FASTCALL); }\n" + NATIVE,
        "4:38",
        "parameter 'DEMO_FASTCALL' of 't.f' would be replaced by the macro 'DEMO_FASTCALL'",
    ),
    "member named like a macro GCC predefines": (
        "table t { void linux(); }\n" + NATIVE,
        "4:16",
        "member 't.linux' is named 'linux', which the C headers that the generated header"
        " includes, or GCC itself, define",
    ),
    "type named like a <stdint.h> macro": (
        "typedef u32 INT8_MAX;\ntable t { void f(); }\n" + NATIVE,
        "4:13",
        "typedef 'INT8_MAX' is named 'INT8_MAX', which the C headers",
    ),
    "field named like a configuration macro": (
        "struct s { u32 CONFIG_X86_32; }\ntable t { void f(s *p); }\n" + NATIVE,
        "4:16",
        "field 's.CONFIG_X86_32' starts with 'CONFIG_', the prefix of the configuration"
        " macros that @if tests in generated C",
    ),
    "type named like a layout proof": (
        "typedef u32 demo_layout_check_x86_64_1;\ntable t { void f(); }\n" + NATIVE,
        "4:13",
        "starts with 'demo_layout_check_', the prefix of the typedef names of the header's"
        " layout proofs",
    ),
    "enumerator written as a macro named like a member": (
        "enum e : u32 { @if(X86_64) ON = 1 }\ntable t { void ON(); }\n" + NATIVE,
        "5:16",
        "member 't.ON' would be replaced by the macro 'ON' (enumerator 'ON')",
    ),
    "enumerator written as a macro named like a word of the header": (
        "enum e : u32 { @if(X86_64) packed = 1 }\n@packed struct s { u8 a; u32 b; }\n"
        "table t { void f(s *x); }\n" + NATIVE,
        "4:28",
        "enumerator 'packed' is written as a macro in the generated C header",
    ),
    "parameter named like the aggregate": (
        "table t { void f(u32 demo_ops); }\n" + NATIVE,
        "4:18",
        "parameter 'demo_ops' of 't.f' would hide the C aggregate 'demo_ops'",
    ),
    "parameter named like the type of a later parameter": (
        "typedef u32 word;\ntable t { void f(u32 word, word x); }\n" + NATIVE,
        "5:18",
        "parameter 'word' of 't.f' would hide type 'word', which parameter 'x' uses",
    ),
    "member hiding a type from a later member (C++)": (
        "typedef u32 word;\nstruct s { u32 word; word b; }\ntable t { void f(s *p); }\n" + NATIVE,
        "5:16",
        "member 'word' of struct 's' would hide type 'word' from the later member 'b' in the"
        " generated header's C++ form",
    ),
    # Python: the package, tables.py, the dispatch
    "ABI named like a standard-library module": (
        "table t { void f(); }\n" + NATIVE,
        "1:5",
        "ABI 'typing' would name the generated Python package 'python/typing', which would"
        " shadow the standard-library module 'typing'",
    ),
    "table named install": (
        "table install { void f(); }\n" + NATIVE,
        "4:7",
        "table 'install' would be the Python class 'install' and collide with an attribute"
        " of the dispatch object itself",
    ),
    "table named backend": (
        "table backend { void f(); }\n" + NATIVE,
        "4:7",
        "table 'backend' would be the Python class 'backend' and collide with a parameter of"
        " the dispatch's __init__",
    ),
    "table named self": (
        "table self { void f(); }\n" + NATIVE,
        "4:7",
        "table 'self' would be the Python class 'self' and collide with a parameter of the"
        " dispatch's __init__",
    ),
    "table named native": (
        "table native { void f(); }\n" + NATIVE,
        "4:7",
        "table 'native' would be the Python class 'native' and collide with a parameter",
    ),
    "table named type": (
        "table type { void f(); }\n" + NATIVE,
        "4:7",
        "table 'type' would be the Python class 'type' and collide with a Python builtin that"
        " python/demo/tables.py calls",
    ),
    "table named getattr": (
        "table getattr { void f(); }\n" + NATIVE,
        "4:7",
        "collide with a Python builtin that python/demo/tables.py calls",
    ),
    "table named cast": (
        "table cast { void f(); }\n" + NATIVE,
        "4:7",
        "table 'cast' would be the Python class 'cast' and collide with a name that"
        " python/demo/tables.py defines or imports",
    ),
    "table named OVERRIDES": (
        "table OVERRIDES { void f(); }\n" + NATIVE,
        "4:7",
        "table 'OVERRIDES' would be the Python class 'OVERRIDES' and collide with a name",
    ),
    "table named _table": (
        "table _table { void f(); }\n" + NATIVE,
        "4:7",
        "table '_table' would be the Python class '_table' and collide with a name",
    ),
    "table named like the dispatch class": (
        "table DemoOps { void f(); }\n" + NATIVE,
        "4:7",
        "table 'DemoOps' would be the Python class 'DemoOps' and collide with the dispatch"
        " class of python/demo/tables.py",
    ),
    "embedded table named self": (
        "table self { void f(); }\ntable t { self inner; }\n" + NATIVE,
        "4:7",
        "table 'self' would be the Python class 'self' and collide with a parameter",
    ),
    # Python: types.py
    "type named field": (
        "typedef u32 field;\nstruct p { u32 a; }\nstruct s { p x; }\ntable t { void f(s *x); }\n"
        + NATIVE,
        "4:13",
        "type 'field' would replace 'field', which python/demo/types.py uses",
    ),
    "type named dataclass": (
        "opaque struct dataclass;\nstruct s { u32 a; }\ntable t { void f(s *x); }\n" + NATIVE,
        "4:15",
        "type 'dataclass' would replace 'dataclass'",
    ),
    "type named str": (
        "typedef u32 str;\ntypedef char *text;\ntable t { void f(text x); }\n" + NATIVE,
        "4:13",
        "type 'str' would replace 'str'",
    ),
    "struct field named field before a field whose default calls field()": (
        "struct p { u32 a; }\nstruct s { u32 field; p inner; }\ntable t { void f(s *x); }\n"
        + NATIVE,
        "5:16",
        "field 's.field' would hide 'field' from the default of the later field 'inner'"
        " (field(default_factory=p))",
    ),
    "struct field named like an enum a later field's default names": (
        "enum mode : u8 { OFF }\nstruct s { u32 mode; mode m; }\ntable t { void f(s *x); }\n"
        + NATIVE,
        "5:16",
        "field 's.mode' would hide 'mode' from the default of the later field 'm' (mode(0))",
    ),
    "enumerator named mro": (
        "enum e : u32 { A, mro }\ntable t { void f(); }\n" + NATIVE,
        "4:19",
        "enumerator 'mro' cannot name a member of the Python enum 'e'",
    ),
    "enumerator named _missing_": (
        "enum e : u32 { _missing_ }\nstruct s { e x; }\ntable t { void f(s *x); }\n" + NATIVE,
        "4:16",
        "enumerator '_missing_' cannot name a member of the Python enum 'e'",
    ),
    # Python: backends and their stubs
    "hook parameter named self": (
        "table t { void f(u32 self); }\n" + NATIVE,
        "4:18",
        "parameter 'self' of 't.f' would repeat the 'self' of the backend stub's Python method",
    ),
    "two backends with one stub class (foo_bar, foo__bar)": (
        "table t { void f(); }\n"
        + NATIVE
        + "backend foo_bar { t: f; }\nbackend foo__bar { t: f; }\n",
        "7:9",
        "the stub class of backend 'foo__bar' and the stub class of backend 'foo_bar' would"
        " both be named 'FooBarStub'",
    ),
    "two backends with one stub class (Xen, xen)": (
        "table t { void f(); }\n" + NATIVE + "backend xen { t: f; }\nbackend Xen { t: f; }\n",
        "7:9",
        "would both be named 'XenStub'",
    ),
    "backend named like another backend's stub class": (
        "table t { void f(); }\n" + NATIVE + "backend XenStub { t: f; }\nbackend xen { t: f; }\n",
        "6:9",
        "backend 'XenStub' and the stub class of backend 'xen' would both be named 'XenStub'"
        " in the generated Python package python/demo/backends",
    ),
    "method name that Python mangles": (
        "table _ { void x(); }\n" + NATIVE,
        "4:16",
        "'_.x' would be the Python method '__x' of every backend stub",
    ),
    # both: member paths spelled alike
    "member paths spelled alike": (
        "table t { void a_b(); void A_B(); }\n" + NATIVE,
        "4:28",
        "'t.A_B' and 't.a_b' would share the name 'T_A_B' in generated code",
    ),
}

ABI_NAMES = {
    "ABI named like a standard-library module": "typing",
    "ABI named native: a wrapper is named like its native implementation": "native",
}

# What goes wrong when the check is skipped: gcc or g++ refuses the C ("C"), or the package
# does not import or install every backend ("Python").
BREAKS = {
    "ABI named like a standard-library module": "Python",
    "embedded table named self": "Python",
    "enumerator named _missing_": "Python",
    "enumerator named like a native implementation": "C",
    "enumerator named like a since-version macro": "C",
    "enumerator named mro": "Python",
    "enumerator written as a macro named like a member": "C",
    "enumerator written as a macro named like a word of the header": "C",
    "field named like a configuration macro": "C",
    "field named like a patch ID macro": "C",
    "hook parameter named self": "Python",
    "member named like a macro GCC predefines": "C",
    "member named like the ABI version macro": "C",
    "member paths spelled alike": "C",
    "method name that Python mangles": "Python",
    "parameter named like a calling-convention macro": "C",
    "parameter named like the aggregate": "C",
    "parameter named like the type of a later parameter": "C",
    "struct field named field before a field whose default calls field()": "Python",
    "struct field named like an enum a later field's default names": "C",
    "table named OVERRIDES": "Python",
    "table named _table": "Python",
    "table named backend": "Python",
    "table named cast": "Python",
    "table named getattr": "Python",
    "table named install": "Python",
    "table named like the aggregate": "C",
    "table named like the include guard": "C",
    "table named native": "Python",
    "table named self": "Python",
    "table named type": "Python",
    "two backends with one stub class (Xen, xen)": "Python",
    "two backends with one stub class (foo_bar, foo__bar)": "Python",
    "type named dataclass": "Python",
    "type named field": "Python",
    "type named like a <stdint.h> macro": "C",
    "type named like a call wrapper": "C",
    "type named like a layout proof": "C",
    "type named like a target macro": "C",
    "ABI named native: a wrapper is named like its native implementation": "C",
    "member hiding a type from a later member (C++)": "C",
}
# Refused although the output still builds: what would go wrong instead.
WRONG_NOT_BROKEN = {
    "ABI named native: a wrapper is named like its native implementation": "without"
    " @callconv it compiles, and the native table points every hook at its own wrapper",
    "backend named like another backend's stub class": "backends.XenStub is the class, so"
    " `import demo.backends.XenStub as m` gives the class, not the module",
    "table named like the dispatch class": "the table class is replaced by the dispatch class",
    "type named str": "types.py's later `text = str` becomes an alias of int",
}


def test_every_refusal_is_explained() -> None:
    assert set(REFUSED) == set(BREAKS) | set(WRONG_NOT_BROKEN)


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_without_the_check_generated_code_breaks(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each refusal is needed: with the name checks skipped, what generate writes fails."""
    monkeypatch.setattr("pvgen.resolve.check_generated_names", lambda abi, errors: None)
    text = PREAMBLE.replace("abi demo", f"abi {ABI_NAMES.get(case, 'demo')}") + REFUSED[case][0]
    (tmp_path / "a.pvspec").write_text(text, encoding="utf-8")
    generate = run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path)
    assert generate.status == 0, generate.err  # the generators themselves check no names
    abi = load_abi(tmp_path / "a.pvspec", Config(None))
    with pytest.raises(AssertionError):
        if BREAKS[case] == "C":
            if not HAS_GCC:
                pytest.skip("needs gcc and g++")
            compile_c(abi, tmp_path / "out" / abi.name / "c")
        else:
            install_every_backend(tmp_path / "out" / abi.name / "python", abi)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_check_refuses_a_name_generated_code_cannot_use(case: str, tmp_path: Path) -> None:
    text, where, message = REFUSED[case]
    preamble = PREAMBLE.replace("abi demo", f"abi {ABI_NAMES.get(case, 'demo')}")
    (tmp_path / "a.pvspec").write_text(preamble + text, encoding="utf-8")
    check = run_cli("check", "a.pvspec", cwd=tmp_path)
    assert check.status == 1, check.err
    errors = [line for line in check.err.splitlines() if ": error: " in line]
    located = [e for e in errors if e.startswith(f"a.pvspec:{where}: error: ")]
    assert any(message in e for e in located), "\n".join(errors)
    generate = run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path)
    assert generate.status == 1 and "Traceback" not in generate.err  # same refusal


def test_a_clash_names_the_other_declaration(tmp_path: Path) -> None:
    text = PREAMBLE + "typedef u32 demo_t_f;\ntable t { void f(); }\n" + NATIVE
    (tmp_path / "a.pvspec").write_text(text, encoding="utf-8")
    check = run_cli("check", "a.pvspec", cwd=tmp_path)
    assert "a.pvspec:5:16: note: the call wrapper of 't.f' comes from here" in check.err


# ---- accepted: names close to the refused ones go all the way through ---------------------

NEAR = """abi typings { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64; }
typedef u32 fields;
typedef u32 enums;
enum Enum : u32 { name, value, values, real, _, _x, mro_ }
@if(X86_64) enum wide : u64 { WIDE_ON = 0x100000000 }
@if(X86_32) enum wide : u32 { WIDE_OFF = 1 }
struct dataclasses { u32 self; u32 cls; u32 name; u32 field_; Enum kind; fields count; }
struct holder { u32 fields_; dataclasses inner; wide w; }
opaque struct typing;
table pick { void install(u32 t, u32 cls); u32 backend(u32 native); void mro(); }
table overridden { void name(u32 pick, dataclasses *backend); holder data; }
table t { void self_(u32 path, u32 source); typing *type; }
table Callable { pick inner; void f(); }
table holder_ops { pick inner; }
table Any { void g(Enum e); }
table tables { void h(); }
table typings_tables_h { void h(); }
table types { void h(); }
table typings_ops_ { void h(); }
table TypingsOp { void h(); }
table selfish { void getattr(); void cast(); }
table installs { void OVERRIDES(); void _table(); }
backend native default;
backend typing { Callable: inner.install; t: *; }
backend self { overridden: name; }
backend install { Callable: inner; }
backend xen_stub { Any: g; }
"""


def test_names_close_to_the_refused_go_all_the_way_through(tmp_path: Path) -> None:
    abi = goes_through(tmp_path, NEAR)
    assert len(abi.backends) == 5


def test_tables_named_after_builtins_read_only_in_annotations_go_through(tmp_path: Path) -> None:
    spec = (
        "abi natives { version 1; }\ntarget x86_64 { data_model lp64; }\n"
        "table dict { void keys(); }\ntable object { void f(); }\n"
        "table TYPE_CHECKING { void f(); }\ntable annotations { void f(); }\n"
        "backend native default;\nbackend NativeStubs { dict: keys; }\n"
    )
    goes_through(tmp_path, spec)


def test_without_a_default_backend_generate_still_works(tmp_path: Path) -> None:
    # Rule PV102 refuses it; with the rules off, check passes and so must generate.
    spec = PREAMBLE + "table t { void f(); u32 g(u32 x); }\nbackend hv { t: f; }\n"
    goes_through(tmp_path, spec)
    (tmp_path / "a.pvspec").write_text(spec, encoding="utf-8")
    assert "PV102" in run_cli("check", "a.pvspec", cwd=tmp_path).err


# ---- the name lists cover what the generators write ---------------------------------------


@pytest.fixture(scope="module")
def paravirt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Abi, Path]:
    folder = tmp_path_factory.mktemp("paravirt")
    status = run_cli("generate", str(SPECS / "paravirt.pvspec"), "--out", str(folder))
    assert status.status == 0, status.err
    return load_abi(SPECS / "paravirt.pvspec", Config(None)), folder / "paravirt"


def spec_names(abi: Abi) -> set[str]:
    names = {abi.name, *(t.name for t in abi.targets), *(b.name for b in abi.backends)}
    for decl in [*abi.types, *abi.tables]:
        names.add(decl.name)
        for sub in [*getattr(decl, "fields", ()), *getattr(decl, "values", ())]:
            names.add(sub.name)
        for member in getattr(decl, "members", ()):
            names.add(member.name)
            names.update(p.name for p in getattr(member, "params", ()))
    names.update(method_name(slot.path) for slot in abi.slots)
    names.update(class_name(b.name, "Stub") for b in abi.backends)
    names.add(class_name(abi.name, "Ops"))
    return names


def names_by_use(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names a module binds or reads at run time, and names it reads in annotations only."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        parts: list[ast.expr | None] = []
        if isinstance(node, ast.AnnAssign):
            parts.append(node.annotation)
        elif isinstance(node, ast.FunctionDef):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            parts += [a.annotation for a in every if a is not None]
            parts.append(node.returns)
        for part in parts:
            if part is not None:
                inside.update(id(n) for n in ast.walk(part) if isinstance(n, ast.Name))
    runtime: set[str] = set()
    annotated: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (annotated if id(node) in inside else runtime).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            runtime.add(node.name)
        elif isinstance(node, ast.alias):
            runtime.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            runtime.add(node.arg)
    return runtime, annotated - runtime


def test_python_name_lists_cover_what_the_package_uses(paravirt: tuple[Abi, Path]) -> None:
    abi, root = paravirt
    package = root / "python" / abi.name
    own = spec_names(abi) | {"__all__", "__slots__", "__init__", "__name__", "NAME"}
    tables = ast.parse((package / "tables.py").read_text())
    runtime, annotated = names_by_use(tables)
    locals_ = {"overridden", "pick", "path", "source", "base", "nulls", "name"}
    known_runtime = (
        PY_TABLES_RUNTIME_NAMES
        | PY_BUILTINS_USED
        | PY_DISPATCH_INIT_LOCALS
        | PY_DISPATCH_ATTRIBUTES
        | {"annotations", "TYPE_CHECKING", "t", "Callable", "Any"}  # bound by imports
        | locals_
    )
    assert runtime - own - known_runtime == set()
    assert annotated - own <= PY_TABLES_ANNOTATION_NAMES
    types = ast.parse((package / "types.py").read_text())
    used = {n.id for n in ast.walk(types) if isinstance(n, ast.Name)}
    used |= {(a.asname or a.name) for a in ast.walk(types) if isinstance(a, ast.alias)}
    assert used - own - {"annotations"} <= PY_TYPES_MODULE_NAMES
    imported = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
    assert imported == PY_STDLIB_IMPORTS
    for backend in (package / "backends").glob("*.py"):
        tree = ast.parse(backend.read_text())
        builtins_read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - own
        assert builtins_read <= {"t", "self", "NotImplementedError", "int", "str", "bool"}


@pytest.mark.parametrize(
    "spec", [SPECS / "paravirt.pvspec", TEST_SPECS / "contract" / "paravirt.pvspec"]
)
def test_c_names_the_check_knows_are_the_names_the_c_files_define(
    spec: Path, tmp_path: Path
) -> None:
    abi = load_abi(spec, Config(None))
    assert run_cli("generate", str(spec), "--out", str(tmp_path)).status == 0
    c_files = tmp_path / abi.name / "c"
    header = (c_files / f"{abi.name}.h").read_text()
    native = (c_files / f"{abi.name}_native.c").read_text()
    known = generated_c_names(abi)
    enums = [d for d in abi.types if isinstance(d, Enum)]
    macro_enumerators = {v.name for e in enums if enum_as_macros(e) for v in e.values}
    macros = set(re.findall(r"^#define (\w+)", header, flags=re.M))
    known_macros = {n for n, space in known.items() if space == MACRO}
    assert macros - macro_enumerators <= known_macros
    # the placeholder member's macro only where some struct is empty on some configuration
    assert known_macros - macros <= {f"{abi.name.upper()}_EMPTY_MEMBER"}
    wrappers = set(re.findall(r"^static inline .*?(\w+)\(", header, flags=re.M))
    natives = set(re.findall(r"^extern .*?(native_\w+)\(", native, flags=re.M))
    ordinary = {n for n, space in known.items() if space == ORDINARY}
    assert wrappers | natives == ordinary
    assert f"extern struct {abi.name}_ops {abi.name}_ops;" in header
    assert known[f"{abi.name}_ops"] == BOTH
    words = c_template_words()
    assert {"packed", "deprecated", "regparm", "pvgen_empty_", "expr", "msg"} <= words
    assert problem_with("offsetof") and problem_with("sizeof")  # what c.py writes itself
    assert {"linux", "unix", "i386", "INT8_MAX", "intmax_t"} <= C_STANDARD_NAMES


def test_enumerators_written_as_macros_are_the_ones_the_check_expects(tmp_path: Path) -> None:
    spec = PREAMBLE + (
        "enum plain : u32 { P_A, P_B }\n"
        "enum wide : u64 { W_A = 0x100000000 }\n"
        "enum picked : u32 { K_A, @if(X86_64) K_B }\n"
        "table t { void f(plain a, wide b, picked c); }\n" + NATIVE
    )
    (tmp_path / "a.pvspec").write_text(spec, encoding="utf-8")
    assert run_cli("generate", "a.pvspec", "--out", "out", cwd=tmp_path).status == 0
    header = (tmp_path / "out" / "demo" / "c" / "demo.h").read_text()
    defined = set(re.findall(r"^#define (\w+) \(\(", header, flags=re.M))
    abi = load_abi(tmp_path / "a.pvspec", Config(None))
    enums = [d for d in abi.types if isinstance(d, Enum)]
    assert defined == {v.name for e in enums if enum_as_macros(e) for v in e.values}
    assert defined == {"W_A", "K_A", "K_B"}


@pytest.mark.parametrize(("header", "abi"), [("types.h", "types_abi"), ("pv_ops.h", "pv_ops")])
def test_import_names_the_abi_so_that_check_accepts_it(
    header: str, abi: str, tmp_path: Path
) -> None:
    # The ABI's default name is the header's; `types` would shadow a standard module.
    (tmp_path / header).write_text("struct pv_cpu_ops {\n\tvoid (*wbinvd)(void);\n};\n")
    imported = run_cli("import", header, cwd=tmp_path)
    assert imported.status == 0, imported.err
    assert f"\nabi {abi} {{\n" in imported.out
    (tmp_path / "a.pvspec").write_text(imported.out, encoding="utf-8")
    assert run_cli("check", "--no-rules", "a.pvspec", cwd=tmp_path).status == 0


def test_a_table_named_like_the_patch_template_is_refused(tmp_path: Path) -> None:
    spec = PREAMBLE.replace("{ version 1; }", "{ version 1; patch_template t; }") + (
        "table t { void f(); }\ntable demo_patch_template { void g(); }\n" + NATIVE
    )
    (tmp_path / "a.pvspec").write_text(spec, encoding="utf-8")
    check = run_cli("check", "a.pvspec", cwd=tmp_path)
    assert check.status == 1
    assert (
        "a.pvspec:5:7: error: table 'demo_patch_template' and the C patch template would both"
        " be named 'demo_patch_template' in the generated C code"
    ) in check.err
    # Renamed, the table goes through: the header with its patch template compiles.
    renamed = spec.replace("table demo_patch_template { void g(); }", "table u { void g(); }")
    goes_through(tmp_path, renamed)
