"""The five backends of the reference spec, and how one is put together for a run.

Takes: the loaded bindings (for the generated stub classes) and a machine.
Hands on: `IMPLEMENTATIONS` (backend name -> implementation class, one module each, as
Linux 2.6.26 set them), `RELEASES` (the implementations of each release the guest knows:
2.6.26 and 2.6.27, whose classes revise 2.6.26's, `release27`), `implementations` (the
release whose classes match a spec's stubs),
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
from .release27 import IMPLEMENTATIONS_2_6_27
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
RELEASES: dict[str, dict[str, type[Backend]]] = {
    "2.6.26": IMPLEMENTATIONS,
    "2.6.27": IMPLEMENTATIONS_2_6_27,
}

_BOUND: dict[tuple[str, str], type[Backend]] = {}
_RELEASE_OF: dict[str, str] = {}  # bindings package -> the release its stubs match


class BackendMismatch(SpecMismatch):
    """The spec's backends and the guest's implementations disagree; the message says how."""


def implementation_members(implementation: type[Backend]) -> frozenset[str]:
    """The hooks and data members a class implements: those it defines, and for a
    revision of an earlier release's class (`REVISES`) that class's, less the members the
    release withdrew (`WITHDRAWN`)."""
    own = {member for member in vars(implementation) if member.startswith("pv_")}
    base = vars(implementation).get("REVISES")
    if base is None:
        return frozenset(own)
    withdrawn: frozenset[str] = vars(implementation).get("WITHDRAWN", frozenset())
    return frozenset(own | (implementation_members(base) - withdrawn))


def release(bindings: Bindings) -> str:
    """The release whose implementations match the spec's stubs member for member (the
    native one decides; every backend is checked when bound); 2.6.26 when none does, so
    that the mismatch is reported against the reference."""
    if bindings.package_name not in _RELEASE_OF:
        default = bindings.default_backend
        found = "2.6.26"
        for name, classes in RELEASES.items():
            native = classes.get(default)
            if native is not None and implementation_members(native) == bindings.stub_methods(
                default
            ):
                found = name
                break
        _RELEASE_OF[bindings.package_name] = found
    return _RELEASE_OF[bindings.package_name]


def implementations(bindings: Bindings) -> dict[str, type[Backend]]:
    """Backend name -> implementation class, of the release the spec describes."""
    return RELEASES[release(bindings)]


def check_implementation(bindings: Bindings, name: str) -> None:
    """An implementation must define exactly the members of its generated stub."""
    classes = implementations(bindings)
    if name not in classes or name not in bindings.stubs:
        raise BackendMismatch(
            f"backend '{name}' is not both in the spec ({', '.join(sorted(bindings.stubs))})"
            f" and in the guest ({', '.join(classes)})"
        )
    defined = implementation_members(classes[name])
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
        implementation = implementations(bindings)[name]
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
