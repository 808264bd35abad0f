"""The probe: counts every hook call made through a dispatch object.

Takes: a `ParavirtOps` as the generated `install` left it, the hook paths, the hooks that
exist on the simulated target, and the meter.
Hands on: the same object with each hook slot wrapped by a counter (calls go on to the very
method `install` bound), and which backend handles each hook, read off the bound methods.
A hook that does not exist on the target raises if the kernel calls it; a NULL slot is left
NULL, for its callers to check.

The bench measures the dispatch object without the probe.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from .machine import MachineError
from .meter import Meter

NULL = "(null)"  # what handles a NULL slot: nothing


def _slot(ops: Any, path: str) -> tuple[Any, str]:
    """The table object holding hook `path`, and the slot's name in it."""
    *tables, leaf = path.split(".")
    holder = ops
    for name in tables:
        holder = getattr(holder, name)
    return holder, leaf


def _counting(path: str, method: Callable[..., Any], counts: dict[str, int]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        counts[path] += 1
        return method(*args)

    return call


def _absent(path: str, target: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        raise MachineError(f"hook {path} does not exist on target {target}")

    return call


def instrument(
    ops: Any, hooks: Sequence[str], present: Collection[str], target: str, meter: Meter
) -> dict[str, str]:
    """Wrap every hook slot of `ops`; returns hook path -> name of the backend handling it
    (`NULL` for a NULL slot)."""
    handled_by: dict[str, str] = {}
    for path in hooks:
        holder, leaf = _slot(ops, path)
        method = getattr(holder, leaf)
        meter.hook_calls.setdefault(path, 0)
        if method is None:  # a NULL slot stays NULL: its callers check
            handled_by[path] = NULL
            continue
        handled_by[path] = str(method.__self__.NAME)
        wrapper = _counting(path, method, meter.hook_calls) if path in present else None
        setattr(holder, leaf, wrapper or _absent(path, target))
    return handled_by
