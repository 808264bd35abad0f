"""How a type travels in registers and memory on one target, for the checks that care."""

from __future__ import annotations

from .. import model as m


def value_kind(abi: m.Abi, ref: m.TypeRef, target: m.Target) -> tuple[str, int]:
    """('void' | 'pointer' | 'integer' | 'struct', size in bytes) of `ref` on `target`.

    Typedefs are followed to what they name on that target; enums are integers.
    """
    layout = abi.layouts[target.name]
    seen: set[str] = set()
    while True:
        if ref.pointers:
            return "pointer", layout.pointer_size
        if ref.builtin:
            if ref.name == "void":
                return "void", 0
            from ..layout import DATA_MODELS

            return "integer", DATA_MODELS[target.data_model].integer(ref.name)[0]
        decl = present_decl(abi, ref.name, target)
        if decl is None or ref.name in seen:
            return "struct", 0
        seen.add(ref.name)
        if isinstance(decl, m.Typedef):
            ref = decl.target
            continue
        if isinstance(decl, m.Enum):
            return "integer", layout.types[decl.name][0]
        size = layout.types.get(decl.name, (0, 0))[0]
        return "struct", size


def present_decl(abi: m.Abi, name: str, target: m.Target) -> m.TypeDecl | None:
    for decl in abi.types_by_name.get(name, ()):
        if target.holds(decl.condition):
            return decl
    return None
