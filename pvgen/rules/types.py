"""How a type travels in registers and memory on one target, for the checks that care."""

from __future__ import annotations

from .. import model as m
from ..layout import DATA_MODELS
from ..records import record


def value_kind(abi: m.Abi, ref: m.TypeRef, target: m.Target) -> tuple[str, int]:
    """('void' | 'pointer' | 'integer' | 'struct', size in bytes) of `ref` on `target`.

    Typedefs are followed to what they name on that target (the model's view of the
    declarations present there); enums are integers.
    """
    facts = abi.facts[target.name]
    behind = facts.present.behind(ref)
    if isinstance(behind, m.TypeRef):
        if behind.pointers:
            return "pointer", facts.layout.pointer_size
        if behind.name == "void":
            return "void", 0
        return "integer", DATA_MODELS[target.data_model].integer(behind.name)[0]
    if behind is None:
        return "struct", 0
    size = facts.layout.types.get(behind.name, (0, 0))[0]
    return ("integer" if isinstance(behind, m.Enum) else "struct"), size


# ---- the callee-save convention ---------------------------------------------------------


@record
class CalleeSaveConvention:
    """How a callee-save thunk passes values on one data model (the kernel's convention).

    i386 is built with -mregparm=3 -freg-struct-return: arguments take 4-byte words from
    eax then edx (a u64 or an 8-byte struct takes both), and a value of up to two words comes
    back in eax or edx:eax; the thunk may clobber only those two. x86_64 follows System V:
    arguments in rdi then rsi, each one 8-byte word, and the return value in rax alone.
    """

    word: int  # bytes in one register
    argument_registers: tuple[str, ...]  # in the order arguments take them
    returns_in: str  # the registers of a return value of up to 8 bytes


CALLEE_SAVE = {
    "ilp32": CalleeSaveConvention(4, ("eax", "edx"), "eax or edx:eax"),
    "lp64": CalleeSaveConvention(8, ("rdi", "rsi"), "rax"),
}

# A struct (or union) passed in registers has one of these sizes.
REGISTER_STRUCT_SIZES = (1, 2, 4, 8)


def register_value(abi: m.Abi, ref: m.TypeRef, target: m.Target) -> tuple[int, str | None]:
    """(size in bytes, why not) of `ref` as a value a callee-save thunk passes in registers
    on `target`. What may travel there: integers, enums, bool, pointers, and structs made of
    those (nested ones included) whose size is 1, 2, 4 or 8 bytes. `why not` is None when
    `ref` is one of those, else says what it is."""
    facts = abi.facts[target.name]
    behind = facts.present.behind(ref)
    if isinstance(behind, m.TypeRef):
        if behind.pointers:
            return facts.layout.pointer_size, None
        if behind.name == "void":
            return 0, None
        return DATA_MODELS[target.data_model].integer(behind.name)[0], None
    if isinstance(behind, m.Enum):
        return facts.layout.types.get(behind.name, (0, 0))[0], None
    if not isinstance(behind, m.Struct):
        return 0, "not a value type here"
    record = facts.layout.records.get(behind.name)
    size = 0 if record is None else record.size
    for f in behind.fields:
        if target.holds(f.condition) and register_value(abi, f.type, target)[1] is not None:
            return size, f"a struct whose field '{f.name}' is not an integer or pointer"
    if size not in REGISTER_STRUCT_SIZES:
        return size, f"a struct of {size} bytes, not 1, 2, 4 or 8"
    return size, None
