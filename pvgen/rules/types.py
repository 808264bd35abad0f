"""How a type travels in registers and memory on one target, for the checks that care."""

from __future__ import annotations

from .. import model as m
from ..layout import DATA_MODELS


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
