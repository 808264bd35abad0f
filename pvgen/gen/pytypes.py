"""How the generated Python types a spec type: its annotation, and a default value.

Takes: a `model.Abi` and the `TypeRef`s of its fields, members and parameters.
Hands on: annotation and default-value text. The Python generator writes with them, and the
name checks of resolve (`gennames.py`) read the defaults to find a struct field that would
hide a name a later default uses; nothing here loads the generator or a template engine.
"""

from __future__ import annotations

from .. import model as m


def py_type(abi: m.Abi, ref: m.TypeRef, module: str = "") -> str:
    """The Python annotation of a spec type; `module` prefixes names from types.py."""
    if ref.pointers:
        return "str" if ref.builtin and ref.name == "char" and len(ref.pointers) == 1 else "int"
    if ref.builtin:
        return {"void": "None", "bool": "bool"}.get(ref.name, "int")
    return f"{module}{ref.name}"


def mangled(name: str) -> bool:
    """Whether Python renames `name` where it is written inside a class: `__x`, not `__x__`."""
    return name.startswith("__") and not name.endswith("__")


def py_value(name: str, module: str = "") -> str:
    """An expression for the types.py name `name`, evaluated inside a class body (defaults):
    `t.name`, or a lookup by string for a name Python would mangle there (`__ticket_t`)."""
    if not mangled(name):
        return f"{module}{name}"
    return f'getattr({module[:-1]}, "{name}")' if module else f'globals()["{name}"]'


def py_default(abi: m.Abi, ref: m.TypeRef, module: str = "", *, factory: bool = True) -> str:
    """A default value of `ref`: for a dataclass field (`factory`) or a class attribute."""
    annotation = py_type(abi, ref, module)
    if annotation in ("int", "str", "bool"):
        return {"int": "0", "str": '""', "bool": "False"}[annotation]
    value = py_value(ref.name, module)
    decls = abi.types_by_name.get(ref.name, ())
    if decls and all(isinstance(d, m.Enum) for d in decls):
        first = decls[0]
        assert isinstance(first, m.Enum)
        return f"{value}({first.values[0].value})"
    if decls and any(isinstance(d, m.Typedef) for d in decls):
        targets = {py_type(abi, d.target) for d in decls if isinstance(d, m.Typedef)}
        if targets <= {"int"}:
            return "0"
    return f"field(default_factory={value})" if factory else f"{value}()"
