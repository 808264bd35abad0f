"""Layout: sizes, alignments and offsets per data model.

Takes: builtin type names and record shapes (ordered field sizes and
alignments) from the resolver.
Hands on: `DataModel` tables for ilp32 (i386 System V) and lp64 (x86-64
System V), and `lay_out_record`, which places fields the way a C compiler
does, so that the generated `_Static_assert`s hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .records import record

INTEGER_TYPES = {
    # canonical name: (signed, size on ilp32, size on lp64)
    "u8": (False, 1, 1),
    "u16": (False, 2, 2),
    "u32": (False, 4, 4),
    "u64": (False, 8, 8),
    "s8": (True, 1, 1),
    "s16": (True, 2, 2),
    "s32": (True, 4, 4),
    "s64": (True, 8, 8),
    "bool": (False, 1, 1),
    "char": (True, 1, 1),
    "signed char": (True, 1, 1),
    "unsigned char": (False, 1, 1),
    "short": (True, 2, 2),
    "unsigned short": (False, 2, 2),
    "int": (True, 4, 4),
    "unsigned int": (False, 4, 4),
    "long": (True, 4, 8),
    "unsigned long": (False, 4, 8),
    "long long": (True, 8, 8),
    "unsigned long long": (False, 8, 8),
}

BUILTIN_TYPES = frozenset(INTEGER_TYPES) | {"void"}

# C spellings (words sorted) to their canonical builtin name.
C_SPELLINGS = {
    ("char",): "char",
    ("char", "signed"): "signed char",
    ("char", "unsigned"): "unsigned char",
    ("short",): "short",
    ("int", "short"): "short",
    ("short", "signed"): "short",
    ("int", "short", "signed"): "short",
    ("short", "unsigned"): "unsigned short",
    ("int", "short", "unsigned"): "unsigned short",
    ("int",): "int",
    ("signed",): "int",
    ("int", "signed"): "int",
    ("unsigned",): "unsigned int",
    ("int", "unsigned"): "unsigned int",
    ("long",): "long",
    ("int", "long"): "long",
    ("long", "signed"): "long",
    ("int", "long", "signed"): "long",
    ("long", "unsigned"): "unsigned long",
    ("int", "long", "unsigned"): "unsigned long",
    ("long", "long"): "long long",
    ("int", "long", "long"): "long long",
    ("long", "long", "signed"): "long long",
    ("int", "long", "long", "signed"): "long long",
    ("long", "long", "unsigned"): "unsigned long long",
    ("int", "long", "long", "unsigned"): "unsigned long long",
    ("void",): "void",
}


def canonical_c_type(words: str) -> str | None:
    """`unsigned long int` -> `unsigned long`; None for a combination C rejects."""
    return C_SPELLINGS.get(tuple(sorted(words.split())))


@record
class DataModel:
    name: str
    pointer_size: int
    wide: bool  # long is 64-bit
    # On i386 a 64-bit integer is only 4-aligned inside structs.
    int64_align: int

    def integer(self, name: str) -> tuple[int, int]:
        """(size, alignment) of a builtin integer type."""
        _, size32, size64 = INTEGER_TYPES[name]
        size = size64 if self.wide else size32
        return size, min(size, self.int64_align) if size == 8 else size

    def integer_range(self, name: str) -> tuple[int, int]:
        signed = INTEGER_TYPES[name][0]
        bits = 8 * self.integer(name)[0]
        if name == "bool":
            return 0, 1
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


DATA_MODELS: Mapping[str, DataModel] = {
    "ilp32": DataModel("ilp32", pointer_size=4, wide=False, int64_align=4),
    "lp64": DataModel("lp64", pointer_size=8, wide=True, int64_align=8),
}


def align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def lay_out_record(
    fields: Iterable[tuple[str, int, int]], *, packed: bool = False
) -> tuple[int, int, dict[str, int]]:
    """Place (name, size, align) fields in order; returns (size, align, offsets)."""
    offset = 0
    record_align = 1
    offsets: dict[str, int] = {}
    for name, size, align in fields:
        if packed:
            align = 1
        offset = align_up(offset, align)
        offsets[name] = offset
        offset += size
        record_align = max(record_align, align)
    return align_up(offset, record_align), record_align, offsets
