"""Frozen records that are small in memory and quick to pickle.

Takes: a frozen dataclass declared with `slots=True`.
Hands on: the same class, pickled as the tuple of its field values: `@compact` replaces the
state methods that `dataclass(slots=True)` adds to frozen classes, which look the fields up
again for every object and set each value through `object.__setattr__`.

The syntax trees and the model hold a few objects per hook, and a 100,000-hook spec makes
millions of them: without an instance dictionary each takes about a third of the memory,
and with these state methods they are written to and read from the compiled-spec cache
about as fast as objects with dictionaries. A class that derives from a compact one without
slots of its own (one with cached properties) keeps a dictionary for its own fields; its
state is taken and restored the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from types import MemberDescriptorType
from typing import Any, TypeVar

C = TypeVar("C", bound=type)

Getter = Callable[[Any], tuple[Any, ...]]
Setter = Callable[[Any, Any], None]

# Per class: how its field values are read (one C call) and written (a slot's own setter,
# which a frozen class's __setattr__ does not intercept).
_PLANS: dict[type, tuple[Getter, tuple[Setter, ...]]] = {}


def compact(cls: C) -> C:
    """Give a frozen, slotted dataclass state methods that read and write its fields
    directly; subclasses inherit them."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: @compact needs a dataclass declared with slots=True")
    cls.__getstate__ = _getstate  # type: ignore[method-assign]
    cls.__setstate__ = _setstate  # type: ignore[attr-defined]
    return cls


def _plan(cls: type) -> tuple[Getter, tuple[Setter, ...]]:
    plan = _PLANS.get(cls)
    if plan is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        read = attrgetter(*names)
        getter: Getter = read if len(names) > 1 else (lambda obj: (read(obj),))
        plan = _PLANS[cls] = (getter, tuple(_setter(cls, name) for name in names))
    return plan


def _setter(cls: type, name: str) -> Setter:
    for klass in cls.__mro__:
        slot = klass.__dict__.get(name)
        if isinstance(slot, MemberDescriptorType):
            setter: Setter = slot.__set__
            return setter

    def set_in_dict(obj: Any, value: Any) -> None:
        object.__setattr__(obj, name, value)

    return set_in_dict


def _getstate(self: Any) -> tuple[Any, ...]:
    return _plan(self.__class__)[0](self)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for set_value, value in zip(_plan(self.__class__)[1], state, strict=True):
        set_value(self, value)
