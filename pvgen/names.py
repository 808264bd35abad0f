"""Names that generated code cannot use, and the names generated code gives things.

Takes: identifiers from a spec.
Hands on: why an identifier would break generated C, C++ or Python, or None; how the
generators spell Python class and method names (`class_name`, `method_name`, shared with
gen/python.py so that the checks cannot drift from it); and the names the generated C
header and Python package use themselves, which pvgen/gennames.py keeps the spec from
taking. The resolver reports these as errors before any generator sees the name.
"""

from __future__ import annotations

import keyword
import sys

C_KEYWORDS = frozenset(
    """auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex
    _Generic _Imaginary _Noreturn _Static_assert _Thread_local asm typeof""".split()
)

CPP_KEYWORDS = frozenset(
    """alignas alignof and and_eq bitand bitor bool catch char16_t char32_t char8_t class
    compl concept consteval constexpr constinit const_cast co_await co_return co_yield
    decltype delete dynamic_cast explicit export false friend mutable namespace new noexcept
    not not_eq nullptr operator or or_eq private protected public reinterpret_cast requires
    static_assert static_cast template this thread_local throw true try typeid typename using
    virtual wchar_t xor xor_eq""".split()
)

PYTHON_KEYWORDS = frozenset(keyword.kwlist)

# Macros and typedefs that the generated C header itself relies on.
C_RESERVED_NAMES = frozenset(
    """NULL int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t size_t
    ptrdiff_t uintptr_t intptr_t offsetof""".split()
)


# Lower-case names that GCC (keywords and predefined macros without trailing underscores) or
# the C library headers the generated header includes (<stdint.h>, <stddef.h>, <stdbool.h>,
# glibc's internal typedefs and macros among them) define. Other names with leading
# underscores are the spec's to use: the kernel is the C implementation and names its own
# types that way (`__u32`, `__ticket_t`). tests/test_names.py asks gcc for the current list.
C_IMPLEMENTATION_NAMES = frozenset("""
    ___int_ptrdiff_t_h ___int_size_t_h ___int_wchar_t_h __alignof __always_inline
    __amd64 __asm __athlon __attr_access __attr_access_none __attr_dealloc
    __attr_dealloc_free __attribute __auto_type __bf16 __blkcnt64_t __blkcnt_t
    __blksize_t __bool_true_false_are_defined __bos __bos0 __caddr_t __clock_t
    __clockid_t __complex __const __core2 __corei7 __daddr_t __dev_t __errordecl
    __extern_always_inline __extern_inline __flexarr __float128 __fortified_attr_access
    __fortify_function __fp16 __fsblkcnt64_t __fsblkcnt_t __fsfilcnt64_t __fsfilcnt_t
    __fsid_t __fsword_t __gid_t __glibc_c99_flexarr_available __glibc_clang_prereq
    __glibc_has_attribute __glibc_has_builtin __glibc_has_extension __glibc_likely
    __glibc_macro_warning __glibc_macro_warning1 __glibc_objsize __glibc_objsize0
    __glibc_unlikely __gnu_linux __i386 __i486 __i586 __i686 __id_t __imag __inline
    __ino64_t __ino_t __int128 __int128_t __int16_t __int32_t __int64_t __int8_t
    __int_least16_t __int_least32_t __int_least64_t __int_least8_t __intmax_t __intptr_t
    __intptr_t_defined __k6 __k8 __key_t __linux __loff_t __max_align_ld __max_align_ll
    __mode_t __nlink_t __nocona __nonnull __off64_t __off_t __pentium __pentiumpro
    __pid_t __ptr_t __quad_t __real __restrict __restrict_arr __returns_nonnull
    __rlim64_t __rlim_t __seg_fs __seg_gs __sig_atomic_t __signed __size_t __socklen_t
    __ssize_t __stub___compat_bdflush __stub_chflags __stub_fchflags __stub_gtty
    __stub_revoke __stub_setlogin __stub_sigreturn __stub_stty __suseconds64_t
    __suseconds_t __syscall_slong_t __syscall_ulong_t __thread __time_t __timer_t
    __typeof __u_char __u_int __u_long __u_quad_t __u_short __uid_t __uint128_t
    __uint16_t __uint32_t __uint64_t __uint8_t __uint_least16_t __uint_least32_t
    __uint_least64_t __uint_least8_t __uintmax_t __unix __useconds_t __va_arg_pack
    __va_arg_pack_len __val __volatile __warnattr __wur __x86_64
    """.split())
C_IMPLEMENTATION_PREFIXES = ("__builtin_", "__sync_", "__atomic_", "__has_", "__glibc_", "__stub_")


def implementation_name(name: str) -> bool:
    """Whether the C compiler or its headers may use `name` itself: `__x__` (GCC's keywords
    and predefined macros), `_X` and `__X` (the library's macros and feature tests), and the
    lower-case names of `C_IMPLEMENTATION_NAMES` and its prefixes."""
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        return True
    if name.startswith("_") and name.lstrip("_")[:1].isupper():
        return True
    return name in C_IMPLEMENTATION_NAMES or name.startswith(C_IMPLEMENTATION_PREFIXES)


# Every name `problem_with` refuses is one of these or starts with an underscore (the
# implementation's names do: tests/test_kernel_names.py holds them to it), so that most names,
# which are neither, are passed with one set lookup.
_REFUSED_WORDS = C_KEYWORDS | CPP_KEYWORDS | PYTHON_KEYWORDS | C_RESERVED_NAMES


def problem_with(name: str) -> str | None:
    """Why `name` cannot be used in generated code, or None if it can."""
    if name not in _REFUSED_WORDS and not name.startswith("_"):
        return None
    if name in C_KEYWORDS:
        return f"'{name}' is a C keyword"
    if name in CPP_KEYWORDS:
        return f"'{name}' is a C++ keyword"
    if name in PYTHON_KEYWORDS:
        return f"'{name}' is a Python keyword"
    if name in C_RESERVED_NAMES:
        return f"'{name}' is a name the C standard library defines"
    if implementation_name(name):
        return f"'{name}' is a name the C compiler or its standard headers use themselves"
    return None


# ---- how the generators spell names -------------------------------------------------------


def class_name(name: str, suffix: str) -> str:
    """A Python class name: `pv_xen` -> `PvXen` + suffix (`foo__bar` and `Foo_bar` alike)."""
    return "".join(part.capitalize() for part in name.split("_")) + suffix


def method_name(path: str) -> str:
    """The Python method of a member path: `pv_mmu_ops.lazy_mode.enter` ->
    `pv_mmu_ops_lazy_mode_enter`."""
    return path.replace(".", "_")


# ---- what the generated C code uses -------------------------------------------------------

# Macros and typedefs of <stdint.h>, <stddef.h> and <stdbool.h>, which the header includes,
# and the macros GCC predefines in its GNU modes (gnu89, gnu11) on Linux and i386.
C_STANDARD_NAMES = frozenset(
    [
        *(
            f"{kind}{bits}_{end}"
            for kind in ("INT", "UINT")
            for bits in (8, 16, 32, 64)
            for end in ("MAX", "C")
        ),
        *(f"INT{bits}_MIN" for bits in (8, 16, 32, 64)),
        *(
            f"{kind}_{speed}{bits}_{end}"
            for kind in ("INT", "UINT")
            for speed in ("LEAST", "FAST")
            for bits in (8, 16, 32, 64)
            for end in ("MIN", "MAX")
            if not (kind == "UINT" and end == "MIN")
        ),
        *(
            f"{sign}int_{speed}{bits}_t"
            for sign in ("", "u")
            for speed in ("least", "fast")
            for bits in (8, 16, 32, 64)
        ),
        *"""INTMAX_C INTMAX_MAX INTMAX_MIN UINTMAX_C UINTMAX_MAX INTPTR_MAX INTPTR_MIN
        UINTPTR_MAX PTRDIFF_MAX PTRDIFF_MIN SIG_ATOMIC_MAX SIG_ATOMIC_MIN SIZE_MAX WCHAR_MAX
        WCHAR_MIN WINT_MAX WINT_MIN intmax_t uintmax_t max_align_t linux unix i386""".split(),
    ]
)

# The prefix of the configuration macros that `@if` tests, unless `generate --macro-prefix`
# says otherwise: `@if(X86_PAE)` is `#if defined(CONFIG_X86_PAE)`. A build may define any
# macro with the prefix, so a spec name with it could be replaced by the preprocessor.
DEFAULT_MACRO_PREFIX = "CONFIG_"

# ---- what the generated Python package uses -----------------------------------------------

# The modules of the package python/<abi>/ besides the backends' (backends/<name>.py).
PY_PACKAGE_MODULES = ("tables", "types", "backends")
# The standard-library modules the package imports.
PY_STDLIB_IMPORTS = frozenset({"__future__", "collections", "typing", "enum", "dataclasses"})
# Top-level module names a package named after the ABI would shadow.
PY_STDLIB_MODULES = frozenset(sys.stdlib_module_names) | PY_STDLIB_IMPORTS
# What tables.py binds or reads at run time, besides the table classes and the dispatch
# class `<Abi>Ops`: every table is a class there, defined after the constants and before the
# rest, so a table named like one of these would replace it (or what the package exports).
PY_TABLES_RUNTIME_NAMES = frozenset(
    """TypeVar cast ABI_NAME ABI_VERSION FINGERPRINTS PATCH_IDS SINCE OVERRIDES NULL RUNS_ON
    MUST_PATCH
    _Table _table""".split()
)
# What tables.py reads only in annotations, which `from __future__ import annotations` keeps
# as strings: a table class of one of these names leaves the package working (only a type
# checker run on the generated code would see the shadowing). The default backend's stub
# class, imported under TYPE_CHECKING, is one of these too.
PY_TABLES_ANNOTATION_NAMES = frozenset(
    "annotations Callable TYPE_CHECKING Any t dict tuple str int bool object".split()
)
# Builtins tables.py calls at run time. (The backend stubs raise NotImplementedError, but
# nothing there is named by the spec but the stub class, which ends in `Stub`.)
PY_BUILTINS_USED = frozenset({"type", "frozenset", "getattr", "ValueError"})
# What types.py binds or reads at module level besides the spec's types.
PY_TYPES_MODULE_NAMES = frozenset({"enum", "dataclass", "field", "int", "str", "bool"})
# Attributes of the dispatch object besides the top-level tables (its `__slots__`).
PY_DISPATCH_ATTRIBUTES = frozenset({"backend", "install"})
# Parameters of the dispatch's `__init__`, where every table class is named bare.
PY_DISPATCH_INIT_LOCALS = frozenset({"self", "backend", "native", "target"})
# Enum members Python 3.11 refuses besides _sunder_ names.
PY_ENUM_RESERVED = frozenset({"mro"})
