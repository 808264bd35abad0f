"""The five backends of the reference spec, and how one is put together for a run.

Takes: the loaded bindings (for the generated stub classes) and a machine.
Hands on: `IMPLEMENTATIONS` (backend name -> implementation class, one module each),
`bound_class` (an implementation joined with its generated stub: the class the dispatch
object binds) and `install` (the backend and the native fallback on one machine).
`BackendMismatch` is raised when a spec and the implementations disagree: a backend the
guest does not know, or an implementation that lacks a member of its stub or defines one
the stub does not have.

The implementation classes are plain typed Python; `bound_class` makes each a subclass of
the stub generated from the spec, `type(name, (Implementation, Stub), {})`, so the method
resolution order puts the implementation first and `isinstance(backend, Stub)` holds.
"""

from __future__ import annotations

from typing import cast

from ..bindings import Bindings, SpecMismatch
from ..machine import Machine
from .base import Backend
from .kvm import KvmHooks
from .lguest import LguestHooks
from .native import NativeHooks
from .vmi import VmiHooks
from .xen import XenHooks

IMPLEMENTATIONS: dict[str, type[Backend]] = {
    "native": NativeHooks,
    "xen": XenHooks,
    "vmi": VmiHooks,
    "lguest": LguestHooks,
    "kvm": KvmHooks,
}
BACKENDS = tuple(IMPLEMENTATIONS)

_BOUND: dict[tuple[str, str], type[Backend]] = {}


class BackendMismatch(SpecMismatch):
    """The spec's backends and the guest's implementations disagree; the message says how."""


def check_implementation(bindings: Bindings, name: str) -> None:
    """An implementation must define exactly the members of its generated stub."""
    if name not in IMPLEMENTATIONS or name not in bindings.stubs:
        raise BackendMismatch(
            f"backend '{name}' is not both in the spec ({', '.join(sorted(bindings.stubs))})"
            f" and in the guest ({', '.join(IMPLEMENTATIONS)})"
        )
    defined = {member for member in vars(IMPLEMENTATIONS[name]) if member.startswith("pv_")}
    declared = bindings.stub_methods(name)
    for members, problem in (
        (declared - defined, "lacks"),
        (defined - declared, "defines members its stub does not have:"),
    ):
        if members:
            raise BackendMismatch(
                f"the guest's '{name}' backend {problem} {', '.join(sorted(members))}"
            )


def bound_class(bindings: Bindings, name: str) -> type[Backend]:
    """The implementation of backend `name` as a subclass of its generated stub."""
    key = (bindings.package_name, name)
    if key not in _BOUND:
        check_implementation(bindings, name)
        implementation = IMPLEMENTATIONS[name]
        stub = bindings.stubs[name]
        attributes = {"__module__": implementation.__module__, "__doc__": implementation.__doc__}
        bound = type(
            implementation.__name__.replace("Hooks", "Backend"), (implementation, stub), attributes
        )
        _BOUND[key] = cast(type[Backend], bound)
    return _BOUND[key]


def install(
    bindings: Bindings, name: str, machine: Machine, target: str
) -> tuple[Backend, Backend]:
    """(backend, native fallback), both driving `machine`; the same object for native."""
    patch_ids = bindings.patch_ids[target]
    backend = bound_class(bindings, name)(machine, bindings.types, patch_ids)
    if name == bindings.default_backend:
        return backend, backend
    native = bound_class(bindings, bindings.default_backend)(machine, bindings.types, patch_ids)
    return backend, native
