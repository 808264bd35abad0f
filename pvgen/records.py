"""Frozen records: quick to create at import, small in memory, quick to pickle.

Takes: a class body of annotated fields, as for a frozen dataclass.
Hands on: `@record`, a frozen dataclass (fields, defaults, `dataclasses.replace` and
`dataclasses.fields` work as usual) whose equality, hash and repr are three functions
shared by every record instead of code compiled for each class; with `slots=True`, also
slotted and pickled as the tuple of its field values.

Why shared methods: Python compiles each method a dataclass generates from source text
when the class is created, which for pvgen's hundred-odd records made class creation a
fifth of a small spec's check. A record compiles only what must know its fields by name:
`__init__`, and the guards that make it frozen. Equality and hash compare the fields that
take part in comparison, as a dataclass's would; repr shows the fields a dataclass's would.

Why slots: the syntax trees and the model hold a few objects per hook, and a 100,000-hook
spec makes millions of them: without an instance dictionary each takes about a third of
the memory. The state methods that `dataclass(slots=True)` adds to frozen classes look the
fields up again for every object and set each value through `object.__setattr__`; a slotted
record's read its fields with one C call and write them through the slots' own setters, so
entries of the compiled-spec cache are written and read as fast as with dictionaries. Its
`__init__` writes them through the slots' setters too, which builds the model's records in
about two thirds of the time the dataclass's own `__init__` takes. A
class that derives from a slotted record without slots of its own (one with cached
properties) keeps a dictionary for its own fields; its state is taken and restored the same
way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from types import MemberDescriptorType
from typing import Any, TypeVar, cast, dataclass_transform, overload

C = TypeVar("C", bound=type)

Getter = Callable[[Any], tuple[Any, ...]]
Setter = Callable[[Any, Any], None]

# Per class: the values it is compared by, hashed by, and the names its repr shows.
_COMPARED: dict[type, Getter] = {}
_HASHED: dict[type, Getter] = {}
_SHOWN: dict[type, tuple[str, ...]] = {}


@overload
@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def record(cls: C, /) -> C: ...


@overload
def record(*, eq: bool = True, kw_only: bool = False, slots: bool = False) -> Callable[[C], C]: ...


def record(
    cls: Any = None, /, *, eq: bool = True, kw_only: bool = False, slots: bool = False
) -> Any:
    """A frozen dataclass with shared equality, hash and repr (see above). `eq=False`
    compares by identity; `kw_only` as for dataclasses; `slots=True` makes it slotted and
    pickled compactly."""

    def make(cls: C) -> C:
        own = cls.__dict__
        made: Any = dataclasses.dataclass(
            cls, frozen=True, eq=False, repr=False, kw_only=kw_only, slots=slots
        )
        if "__repr__" not in own:
            made.__repr__ = _repr
        if eq and "__eq__" not in own:
            made.__eq__ = _eq
            if "__hash__" not in own:
                made.__hash__ = _hash
        if slots:
            made.__getstate__ = _getstate
            made.__setstate__ = _setstate
            made.__init__ = _first_init(made, made.__init__)
        return cast(C, made)

    return make if cls is None else make(cls)


def _getter(names: tuple[str, ...]) -> Getter:
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        read = attrgetter(names[0])
        return lambda obj: (read(obj),)
    return lambda obj: ()


def _compared(cls: type) -> Getter:
    getter = _COMPARED.get(cls)
    if getter is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.compare)
        getter = _COMPARED[cls] = _getter(names)
    return getter


def _eq(self: Any, other: object) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    compared = _compared(self.__class__)
    return compared(self) == compared(other)


def _hash(self: Any) -> int:
    getter = _HASHED.get(self.__class__)
    if getter is None:
        fields = dataclasses.fields(self.__class__)
        names = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        getter = _HASHED[self.__class__] = _getter(names)
    return hash(getter(self))


def _repr(self: Any) -> str:
    names = _SHOWN.get(self.__class__)
    if names is None:
        names = _SHOWN[self.__class__] = tuple(
            f.name for f in dataclasses.fields(self.__class__) if f.repr
        )
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
    return f"{self.__class__.__qualname__}({shown})"


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _setter(cls: type, name: str) -> Setter:
    for klass in cls.__mro__:
        slot = klass.__dict__.get(name)
        if isinstance(slot, MemberDescriptorType):
            setter: Setter = slot.__set__
            return setter

    def set_in_dict(obj: Any, value: Any) -> None:
        object.__setattr__(obj, name, value)

    return set_in_dict


# A slotted record's state methods are made for its class on first use: a class's
# `__setstate__` unpacks the tuple and sets each slot, with no loop and no look-up per
# object (a large spec's cache entries hold a hundred thousand records). A class's own
# methods serve only its own objects; a subclass's make theirs on first use.


def _getstate(self: Any) -> tuple[Any, ...]:
    cls = self.__class__
    read = _getter(_fields(cls))

    def __getstate__(self: Any) -> tuple[Any, ...]:
        if self.__class__ is not cls:
            return _getstate(self)
        return read(self)

    cls.__getstate__ = __getstate__
    return read(self)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    cls = self.__class__
    names = _fields(cls)
    scope: dict[str, Any] = {f"set_{i}": _setter(cls, name) for i, name in enumerate(names)}
    scope.update(cls=cls, generic=_setstate)
    values = "".join(f"v{i}, " for i in range(len(names)))
    body = "".join(f"    set_{i}(self, v{i})\n" for i in range(len(names)))
    code = (
        "def __setstate__(self, state):\n"
        "    if self.__class__ is not cls:\n"
        "        return generic(self, state)\n"
        f"    ({values}) = state\n{body}"
    )
    namespace: dict[str, Any] = {}
    exec(code, scope, namespace)  # only generated names: no field name enters the code
    cls.__setstate__ = namespace["__setstate__"]
    cls.__setstate__(self, state)


# A slotted record's `__init__` is made for its class on first use too: it takes the
# dataclass's arguments and sets each field through its slot's own setter, as `__setstate__`
# does, where the dataclass's looks the attribute up again through `object.__setattr__` for
# every field of every object (a hook has twenty). The dataclass's own is kept where it does
# more than set fields: a default factory, a field left out of `__init__`, a `__post_init__`,
# an init-only variable.


def _first_init(cls: type, original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        made = _init(cls) or original
        setattr(cls, "__init__", made)  # noqa: B010 (mypy refuses assigning a method)
        made(self, *args, **kwargs)

    __init__.__wrapped__ = original  # type: ignore[attr-defined]  # what inspect shows
    return __init__


def _init(cls: type) -> Callable[..., None] | None:
    fields = dataclasses.fields(cls)
    if (
        hasattr(cls, "__post_init__")
        or len(fields) != len(cls.__dataclass_fields__)  # type: ignore[attr-defined]
        or any(not f.init or f.default_factory is not dataclasses.MISSING for f in fields)
    ):
        return None
    scope: dict[str, Any] = {}
    params: list[str] = []
    body: list[str] = []
    # In the dataclass's order: the fields taken by position, then the keyword-only ones.
    for i, f in sorted(enumerate(fields), key=lambda item: item[1].kw_only is True):
        if f.kw_only is True and "*" not in params:
            params.append("*")
        params.append(f.name if f.default is dataclasses.MISSING else f"{f.name}=default_{i}")
        scope[f"default_{i}"] = f.default
        scope[f"set_{i}"] = _setter(cls, f.name)
        body.append(f"    set_{i}(self, {f.name})\n")
    code = f"def __init__(self, {', '.join(params)}):\n" + ("".join(body) or "    pass\n")
    namespace: dict[str, Any] = {}
    exec(code, scope, namespace)  # field names, which are identifiers, and generated names
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
