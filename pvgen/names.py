"""Names that generated code cannot use.

Takes: identifiers from a spec.
Hands on: why an identifier would break generated C, C++ or Python, or None.
The resolver reports these as errors before any generator sees the name.
"""

from __future__ import annotations

import keyword

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


def problem_with(name: str) -> str | None:
    """Why `name` cannot be used in generated code, or None if it can."""
    if name in C_KEYWORDS:
        return f"'{name}' is a C keyword"
    if name in CPP_KEYWORDS:
        return f"'{name}' is a C++ keyword"
    if name in PYTHON_KEYWORDS:
        return f"'{name}' is a Python keyword"
    if name in C_RESERVED_NAMES:
        return f"'{name}' is a name the C standard library defines"
    if name.startswith("__") or (name.startswith("_") and name[1:2].isupper()):
        return f"'{name}' is reserved in C (leading underscore)"
    return None
