"""Bindings: the Python package generated from the spec, imported under a private name.

Takes: a root spec (by default the reference spec, specs/paravirt.pvspec, which the package
ships as data: `pvgen/specs/`).
Hands on: `Bindings`: the generated modules, the stub class of every backend, OVERRIDES,
PATCH_IDS and the hook paths, the dispatch class, `GuestTypes`, typed constructors of
the page-table entry types the hooks take, and each hook's calling convention as the spec
gives it (`HookConvention`: its call sites from `@hot(callsites = N)`, `@callee_save`, the
registers its `@patch` lets a patched site clobber). `SpecMismatch` says what a spec lacks that the
guest needs.

The package is rendered by `pvgen.gen.python` from the model of the spec, so the guest
always runs against the spec as it is now, never against a stale copy. It is written to a
private temporary folder (removed at exit), one subfolder per hash of the rendered files,
and imported as `_pvgen_guest_<abi>_<hash>`; loading the same content twice in a process
returns the same modules, and two different specs can be loaded side by side.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import importlib.util
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import pvgen
from pvgen.model import HookSlot
from pvgen.names import class_name as names_class_name

from ..records import record


class PteValue(Protocol):
    """A generated `pte_t`."""

    pte: int


class PmdValue(Protocol):
    """A generated `pmd_t`: `pmd` with 3 or 4 levels; folded into `pud.pgd` with 2."""

    pmd: int
    pud: PudValue


class PgdValue(Protocol):
    """A generated `pgd_t`."""

    pgd: int


class PudValue(Protocol):
    """A generated `pud_t`: `pud` on 4-level targets; folded into `pgd` with PAE."""

    pud: int
    pgd: PgdValue


@record
class GuestTypes:
    """Constructors of the generated entry types, typed for the guest's code."""

    pte: Callable[[int], PteValue]
    pmd: Callable[[int], PmdValue]
    pgd: Callable[[int], PgdValue]
    pud_from_pgd: Callable[[PgdValue], PudValue]  # PAE: the pud level folds into the pgd
    pud: Callable[[int], PudValue]  # 4-level targets
    pmd_from_pgd: Callable[[PgdValue], PmdValue]  # 2-level: the pmd level folds into the pgd
    km_pte0: int
    km_pte1: int


#: Call sites of a hook whose spec gives no `@hot(callsites = N)`: most hooks are called
#: from a handful of places in the kernel; two keeps the patcher's work per hook honest
#: without pretending to a count nobody measured.
DEFAULT_CALLSITES = 2
#: Registers a site lets its callee change: the C convention's caller-saved ones.
CLOBBERS_C_CALL = ("eax", "ecx", "edx")
#: Registers a callee-save site lets its callee change: the return register only.
CLOBBERS_CALLEE_SAVE = ("eax",)


@record
class HookConvention:
    """How the kernel's call sites call one hook, as the spec declares it."""

    callsites: int  # `@hot(callsites = N)`, else DEFAULT_CALLSITES
    callsites_given: bool  # whether the spec gave the count
    callee_save: bool  # `@callee_save`: the hook keeps every register but the clobbers
    clobbers: tuple[str, ...]  # registers a call at the site may change
    native: str | None  # `@patch(native = ...)`: the bare-hardware sequence, as text


@record
class Bindings:
    """The generated package of one spec, loaded."""

    abi_name: str
    package_name: str
    digest: str  # SHA-256 of the rendered files
    package: ModuleType
    tables: ModuleType
    types_module: ModuleType
    stubs: Mapping[str, type]  # backend name -> generated stub class
    default_backend: str
    overrides: Mapping[str, tuple[str, ...]]  # backend name -> hook paths it implements
    patch_ids: Mapping[str, Mapping[str, int]]  # target -> hook path -> patch ID
    nulls: Mapping[str, tuple[str, ...]]  # backend name -> paths whose slot is NULL under it
    runs_on: Mapping[str, tuple[str, ...]]  # backend name -> the targets it runs on
    hooks: tuple[str, ...]  # callable hook paths, in table order
    data_members: tuple[str, ...]
    types: GuestTypes
    conventions: Mapping[str, HookConvention]  # hook path -> how its call sites call it
    must_patch: Mapping[str, tuple[str, ...]]  # backend name -> hooks every site must patch

    def dispatch(self, backend: object, native: object, target: str | None = None) -> Any:
        """A `ParavirtOps` with `backend` installed and `native` as the fallback; given a
        target, one the backend runs on."""
        dispatch = getattr(self.tables, names_class_name(self.abi_name, "Ops"))
        return dispatch(backend, native, target)

    def stub_methods(self, backend: str) -> frozenset[str]:
        """Names of the hook methods and data members the stub of `backend` declares."""
        return frozenset(name for name in vars(self.stubs[backend]) if name.startswith("pv_"))


def default_spec() -> Path:
    """The reference spec, shipped inside the package (`pvgen/specs/`)."""
    return reference_spec("paravirt.pvspec")


def reference_spec(name: str) -> Path:
    """A spec file shipped as package data, as a path on disk (includes are read beside it)."""
    folder = resources.files(pvgen) / "specs"
    if not isinstance(folder, Path):  # installed in a zip: copy the specs out once
        folder = _private_folder() / "specs"
        if not folder.is_dir():
            folder.mkdir()
            for item in (resources.files(pvgen) / "specs").iterdir():
                if item.name.endswith(".pvspec"):
                    (folder / item.name).write_bytes(item.read_bytes())
    return folder / name


_LOADED: dict[str, Bindings] = {}
_FOLDER: list[Path] = []  # the process's private folder, created on first use


def load_bindings(spec: Path | None = None) -> Bindings:
    """Render the Python package of `spec`, import it privately, and describe it.

    Raises `pvgen.diagnostics.SpecError` if the spec has errors.
    """
    from pvgen import api

    abi = api.load_abi((spec or default_spec()).resolve())
    files = {f.path: f.content for f in api.render(abi, families=("python",))}
    digest = hashlib.sha256(
        b"".join(f"{path}\0{text}\0".encode() for path, text in sorted(files.items()))
    ).hexdigest()
    if digest not in _LOADED:
        package_name = f"_pvgen_guest_{abi.name}_{digest[:16]}"
        folder = _write_package(files, f"python/{abi.name}/", package_name)
        _LOADED[digest] = _describe(
            abi.name, package_name, digest, folder, _conventions(abi.hook_slots)
        )
    return _LOADED[digest]


def _private_folder() -> Path:
    if not _FOLDER:
        folder = Path(tempfile.mkdtemp(prefix="pvgen-guest-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _FOLDER.append(folder)
    return _FOLDER[0]


def _write_package(files: Mapping[str, str], prefix: str, package_name: str) -> Path:
    folder = _private_folder() / package_name
    for path, text in files.items():
        if not path.startswith(prefix):
            continue
        target = folder / path[len(prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    importlib.invalidate_caches()
    return folder


def _import_package(name: str, folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import the generated package from {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _conventions(slots: Sequence[HookSlot]) -> dict[str, HookConvention]:
    found: dict[str, HookConvention] = {}
    for slot in slots:
        hook = slot.hook
        if hook.patch is not None and hook.patch.clobbers is not None:
            clobbers = tuple(r.strip() for r in hook.patch.clobbers.split(",") if r.strip())
        else:
            clobbers = CLOBBERS_CALLEE_SAVE if hook.callee_save else CLOBBERS_C_CALL
        found[slot.path] = HookConvention(
            callsites=hook.callsites if hook.callsites is not None else DEFAULT_CALLSITES,
            callsites_given=hook.callsites is not None,
            callee_save=hook.callee_save,
            clobbers=clobbers,
            native=hook.patch.native if hook.patch is not None else None,
        )
    return found


def _describe(
    abi_name: str,
    package_name: str,
    digest: str,
    folder: Path,
    conventions: Mapping[str, HookConvention],
) -> Bindings:
    package = _import_package(package_name, folder)
    tables = importlib.import_module(f"{package_name}.tables")
    types_module = importlib.import_module(f"{package_name}.types")
    backends = importlib.import_module(f"{package_name}.backends")
    stubs: dict[str, type] = {}
    for class_name in backends.__all__:
        stub = getattr(backends, class_name)
        stubs[str(stub.NAME)] = stub
    default = next((name for name in stubs if name not in tables.OVERRIDES), None)
    if default is None:
        raise SpecMismatch("the spec has no default backend for the guest to fall back to")
    native = stubs[default]
    paths = tuple(tables.SINCE)
    # A data member always has a value in the default stub; a hook is a method there, or
    # absent when the default backend leaves it NULL.
    hooks = tuple(p for p in paths if callable(getattr(native, p.replace(".", "_"), len)))
    return Bindings(
        abi_name=abi_name,
        package_name=package_name,
        digest=digest,
        package=package,
        tables=tables,
        types_module=types_module,
        stubs=stubs,
        default_backend=default,
        overrides={name: tuple(paths) for name, paths in tables.OVERRIDES.items()},
        patch_ids=tables.PATCH_IDS,
        nulls={name: tuple(paths) for name, paths in tables.NULL.items()},
        runs_on={name: tuple(targets) for name, targets in tables.RUNS_ON.items()},
        hooks=hooks,
        data_members=tuple(p for p in paths if p not in hooks),
        types=_guest_types(types_module),
        conventions=conventions,
        must_patch={name: tuple(paths) for name, paths in tables.MUST_PATCH.items()},
    )


class SpecMismatch(Exception):
    """The spec lacks what the simulated guest needs; the message says what."""


# What the guest's kernel builds page tables and atomic mappings with.
GUEST_TYPES = ("pte_t", "pmd_t", "pgd_t", "pud_t", "km_type")
GUEST_KMAP_SLOTS = ("KM_PTE0", "KM_PTE1")


def _guest_types(t: Any) -> GuestTypes:
    missing = [f"type '{name}'" for name in GUEST_TYPES if not hasattr(t, name)]
    if hasattr(t, "km_type"):
        missing += [
            f"value '{slot}' of enum 'km_type'"
            for slot in GUEST_KMAP_SLOTS
            if not hasattr(t.km_type, slot)
        ]
    if missing:
        raise SpecMismatch(
            "the spec lacks what the simulated guest needs: "
            + ", ".join(missing)
            + " (the reference spec, specs/paravirt.pvspec, declares them)"
        )
    return GuestTypes(
        pte=t.pte_t,
        pmd=t.pmd_t,
        pgd=t.pgd_t,
        pud_from_pgd=lambda pgd: t.pud_t(pgd=pgd),
        pud=t.pud_t,
        pmd_from_pgd=lambda pgd: t.pmd_t(pud=t.pud_t(pgd=pgd)),
        km_pte0=int(t.km_type.KM_PTE0),
        km_pte1=int(t.km_type.KM_PTE1),
    )
