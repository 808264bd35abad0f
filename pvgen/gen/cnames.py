"""How generated C names things: the aggregate, the patch template, the header's own
macros, call wrappers, patch ID, since-version, table fingerprint and target macros,
native implementations.

Takes: a `model.Abi`.
Hands on: `CNames`, the one place these spellings live. The C generator writes with them;
the name checks of resolve (`gennames.py`) read them to refuse a spec whose names would
clash in the generated code. Nothing here renders text or imports a template engine, so
`pvgen check` can ask for names without loading the generator.
"""

from __future__ import annotations

from ..model import Abi, Backend, Enum, Hook, HookSlot, Table, Target
from ..records import record

# The largest `int`, and the smallest: enumerators beyond them are written as macros.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


@record
class HeaderNames:
    """The names the header defines for its own use, and the files it names."""

    guard: str  # the include guard
    abi_version: str
    deprecated: str  # the attribute of deprecated call wrappers
    empty_member: str  # the placeholder member of a struct empty on some configuration
    packed: str
    static_assert: str
    layout_check: str  # the name of the pre-C11 static assert's typedefs, before its id
    native_file: str  # the file that defines the aggregate
    callconvs: tuple[tuple[str, int], ...]  # (macro, regparm count on i386) of each @callconv


class CNames:
    """The C spelling of everything the header and the native table define."""

    def __init__(self, abi: Abi) -> None:
        self.abi = abi
        self.upper = abi.name.upper()
        self.ops = f"{abi.name}_ops"
        # The struct whose slots the patch IDs count: the aggregate, unless the ABI lists
        # the tables of its patch template.
        self.template = self.ops if abi.patch_template is None else f"{abi.name}_patch_template"
        self.header_file = f"{abi.name}.h"
        self.native_file = f"{abi.name}_native.c"
        self.names = self.header_names()

    def callconv_macro(self, callconv: str) -> str:
        return f"{self.upper}_{callconv.upper()}"

    def header_names(self) -> HeaderNames:
        callconvs = sorted(
            {
                m.callconv
                for t in self.abi.tables
                for m in t.members
                if isinstance(m, Hook) and m.callconv
            }
        )
        return HeaderNames(
            guard=f"PVGEN_{self.upper}_H",
            abi_version=f"{self.upper}_ABI_VERSION",
            deprecated=f"{self.upper}_DEPRECATED",
            empty_member=f"{self.upper}_EMPTY_MEMBER",
            packed=f"{self.upper}_PACKED",
            static_assert=f"{self.upper}_STATIC_ASSERT",
            layout_check=f"{self.abi.name}_layout_check_",
            native_file=self.native_file,
            # fastcall passes three arguments in registers on i386, asmlinkage none.
            callconvs=tuple(
                (self.callconv_macro(c), 3 if c == "fastcall" else 0) for c in callconvs
            ),
        )

    def wrapper_name(self, slot: HookSlot) -> str:
        return f"{self.abi.name}_{slot.top.name}_{'_'.join(slot.names)}"

    def is_set_name(self, slot: HookSlot) -> str:
        """The function that tells whether a `@nullable` hook's slot is set."""
        return f"{self.wrapper_name(slot)}_is_set"

    def backend_macro(self, backend: Backend) -> str:
        """Defined in the block of each target the backend runs on."""
        return f"{self.upper}_BACKEND_{backend.name.upper()}"

    def patch_macro(self, slot: HookSlot) -> str:
        return f"{self.upper}_PATCH_{slot.top.name.upper()}_{'_'.join(slot.names).upper()}"

    def in_template(self, slot: HookSlot) -> bool:
        """Whether the hook has a patch ID: its top-level table is in the patch template."""
        template = self.abi.patch_template
        return template is None or slot.top.name in template

    def fingerprint_macro(self, table: Table) -> str:
        """The table's fingerprint (`pvgen.dump.fingerprints`), an unsigned 64-bit literal."""
        return f"{self.upper}_{table.name.upper()}_FINGERPRINT"

    def target_macro(self, target: Target) -> str:
        return f"{self.upper}_TARGET_{target.name.upper()}"

    @staticmethod
    def since_macro(table: Table, hook: Hook) -> str:
        return f"{table.name}_{hook.name}_SINCE_VERSION".upper()

    @staticmethod
    def native_name(table: Table, hook: Hook) -> str:
        """The bare-hardware implementation of a hook, which the native table points at."""
        return f"native_{table.name}_{hook.name}"


def enum_as_macros(enum: Enum) -> bool:
    """Whether the header writes an enum's values as macros rather than enumerators: when
    one has a condition, or a value outside `int`."""
    return any(v.condition is not None for v in enum.values) or not all(
        INT_MIN <= v.value <= INT_MAX for v in enum.values
    )
