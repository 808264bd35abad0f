"""Call sites: where the kernel's code calls each hook, patched at boot, run by the CPU.

Takes: the dispatch object with a backend installed (its slots are what the kernel's hook
tables hold), the target's patch IDs (from the generated PATCH_IDS, the template offsets
resolve computed), each hook's convention from the bindings (call sites per hook, callee
save, the registers a site lets the callee change), the hooks the backend must patch, and
the machine.
Hands on: `CallSites`: every hook's call sites laid out in kernel text as the 32-bit kernel
compiles them (`call *pv_ops+4n`, 6 bytes; a callee-save hook's site also saves %ecx and
%edx around the call, 10 bytes), `apply` (the kernel's apply_paravirt: each site through
the backend's `patch` hook, or none with patching off), and the CPU's view of each site
decoded from its bytes: an indirect call through the table, a direct call or jump, an
inline sequence, nothing (a paravirt_nop), or ud2 (a NULL hook). The kernel's hook tables
are rebound to the decoded sites, so every hook call pays what its site costs and is
counted with the cycles it took. `SitePatch` says per hook what patching made of its
sites; `BootFailure` says why a backend cannot boot (a must-patch hook left unpatched).

Registers: a call site keeps the caller's values in every register its convention does
not let the callee change (the C convention's ebx, esi, edi, ebp; for a callee-save hook
also ecx and edx). A function without a `clobbers` mark changes eax, ecx and edx, as C
code does; a site that calls it without saving them is a broken contract. When a call
returns with a kept register changed, the caller has lost its value: the kernel records
what it now holds as a reading, so the comparison across backends sees it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from operator import itemgetter
from typing import Any

from ..records import record
from . import kstructs as k
from .bindings import HookConvention
from .costs import CALLS, CATEGORY, CYCLES, WORK, Cost
from .machine import (
    EAX,
    ECX,
    EDI,
    EDX,
    REGISTER_NAMES,
    Machine,
    MachineError,
)
from .x86 import (
    CALL_REL32,
    CLBR_ANY,
    CLBR_ANY_64,
    CLBR_RDI,
    CLOBBER_BITS,
    JMP_REL32,
    NOP,
    UD2,
)

POINTER_SIZE = 4  # a 32-bit kernel's table slot (x86_64: 8)
INDIRECT_CALL = b"\xff\x15"  # call *abs32
SAVE_REGISTERS = b"\x51\x52"  # push %ecx; push %edx
RESTORE_REGISTERS = b"\x5a\x59"  # pop %edx; pop %ecx
#: x86_64 (-mcmodel=kernel): `call *abs32` through ModRM 0x14 and SIB 0x25, the slot's
#: address sign-extended; a callee-save site saves %rdi only (PV_SAVE_REGS of 2.6.26's
#: 64-bit paravirt.h), and the compiler treats rax, rcx, rdx and rsi (and r8-r11) as
#: changed by the call (PV_VEXTRA_CLOBBERS).
INDIRECT_CALL_64 = b"\xff\x14\x25"
SAVE_REGISTERS_64 = b"\x57"  # push %rdi
RESTORE_REGISTERS_64 = b"\x5f"  # pop %rdi
SCRAMBLED = 0x0BAD_0000  # what a C function leaves in the caller-saved registers


class BootFailure(Exception):
    """The guest cannot boot on this backend; the message says why."""


class SiteKind(enum.Enum):
    """What the CPU finds at a call site."""

    INDIRECT = "indirect call"
    DIRECT = "direct call"
    JUMP = "direct jump"
    INLINE = "inline"
    NOP = "nop"
    TRAP = "ud2"


@record
class Site:
    """One call site in kernel text."""

    path: str
    patch_id: int
    address: int  # guest-physical
    length: int
    clobbers: int  # CLBR_* the site lets its callee change
    saves: bool  # the site pushes and pops %ecx and %edx around its call

    @property
    def virtual(self) -> int:
        return k.PAGE_OFFSET + self.address


@record
class Decoded:
    """A call site as the CPU decodes its bytes."""

    kind: SiteKind
    code: bytes  # the bytes before the nop padding
    target: Callable[..., Any] | None = None  # what a call or jump reaches
    inline: Callable[[Machine, tuple[Any, ...]], Any] | None = None
    inline_clobbers: int = 0


@record
class SitePatch:
    """What patching made of one hook's call sites."""

    path: str
    sites: int
    kind: SiteKind
    code: str  # hex of a site's bytes, nops stripped
    bytes_written: int  # over all its sites


# ---- what the CPU runs inline ---------------------------------------------------------


def _store_byte(address: int, value: int) -> Callable[[Machine, tuple[Any, ...]], Any]:
    def run(machine: Machine, args: tuple[Any, ...]) -> None:
        machine.charge(Cost.SHARED_MEMORY)
        machine.store_machine(address + machine.fs_base, value)  # %fs: this CPU's copy

    return run


def _swapgs_then(machine: Machine, leave: Callable[[], None]) -> None:
    """`swapgs` and the return to user mode after it (the 64-bit returns of 2.6.27)."""
    machine.swapgs()
    leave()


#: The native sequences the simulated CPU decodes, with the registers each writes.
_NATIVE: dict[bytes, tuple[Callable[[Machine, tuple[Any, ...]], Any], int]] = {
    bytes.fromhex("fa"): (lambda m, a: m.cli(), 0),
    bytes.fromhex("fb"): (lambda m, a: m.sti(), 0),
    bytes.fromhex("9c58"): (lambda m, a: m.pushf(), CLOBBER_BITS["eax"]),
    bytes.fromhex("509d"): (lambda m, a: m.popf(a[0]), 0),
    bytes.fromhex("0f06"): (lambda m, a: m.clts(), 0),
    bytes.fromhex("0f31"): (lambda m, a: m.rdtsc(), CLOBBER_BITS["eax"] | CLOBBER_BITS["edx"]),
    bytes.fromhex("fb0f35"): (lambda m, a: m.sysexit(), 0),
    bytes.fromhex("cf"): (lambda m, a: m.iret(), 0),
    bytes.fromhex("0f20d0"): (lambda m, a: m.read_cr2(), CLOBBER_BITS["eax"]),
    bytes.fromhex("0f20d8"): (lambda m, a: m.read_cr3(), CLOBBER_BITS["eax"]),
    bytes.fromhex("0f22d8"): (lambda m, a: m.write_cr3(a[0]), 0),
    # the 64-bit sequences (paravirt_patch_64.c) that differ from the 32-bit ones
    bytes.fromhex("579d"): (lambda m, a: m.popf(a[0]), 0),
    bytes.fromhex("48cf"): (lambda m, a: m.iret(), 0),
    bytes.fromhex("0f22df"): (lambda m, a: m.write_cr3(a[0]), 0),
    bytes.fromhex("0f013f"): (lambda m, a: m.invlpg(a[0]), 0),
    bytes.fromhex("0f09"): (lambda m, a: m.wbinvd(), 0),
    bytes.fromhex("0f01f8"): (lambda m, a: m.swapgs(), 0),
    # and those Linux 2.6.27 added there (swapgs; sysretq / sysretl / sti; sysexit)
    bytes.fromhex("0f01f8480f07"): (lambda m, a: _swapgs_then(m, m.sysret), 0),
    bytes.fromhex("0f01f80f07"): (lambda m, a: _swapgs_then(m, m.sysret), 0),
    bytes.fromhex("0f01f8fb0f35"): (lambda m, a: _swapgs_then(m, m.sysexit), 0),
}


def _signed32(value: int) -> int:
    return value - (1 << 32) if value & 0x8000_0000 else value


def decode(code: bytes, site: Site, slots: Mapping[int, str], machine: Machine) -> Decoded:
    """What the CPU runs for a site holding `code` (nop padding stripped here)."""
    code = code.rstrip(bytes([NOP]))
    body = code
    for save, restore in (
        (SAVE_REGISTERS, RESTORE_REGISTERS),
        (SAVE_REGISTERS_64, RESTORE_REGISTERS_64),
    ):
        if body.startswith(save) and body.endswith(restore) and len(body) > 2 * len(save):
            body = body[len(save) : -len(restore)]
            break
    call = next((c for c in (INDIRECT_CALL, INDIRECT_CALL_64) if body.startswith(c)), None)
    if call is not None and len(body) == len(call) + 4:
        slot = int.from_bytes(body[len(call) :], "little")
        if slot not in slots:
            raise MachineError(f"call site {site.virtual:#x} calls through {slot:#x}, no hook")
        return Decoded(SiteKind.INDIRECT, code)
    if not code:
        return Decoded(SiteKind.NOP, code)
    if code == UD2:
        return Decoded(SiteKind.TRAP, code)
    if len(code) == 5 and code[0] in (CALL_REL32, JMP_REL32):
        destination = (site.virtual + 5 + _signed32(int.from_bytes(code[1:], "little"))) & (
            0xFFFF_FFFF
        )
        target = machine.code.function_at(destination)
        if target is None:
            raise MachineError(f"call site {site.virtual:#x} jumps to {destination:#x}: no code")
        kind = SiteKind.DIRECT if code[0] == CALL_REL32 else SiteKind.JUMP
        return Decoded(kind, code, target=target)
    if code in _NATIVE:
        run, written = _NATIVE[code]
        return Decoded(SiteKind.INLINE, code, inline=run, inline_clobbers=written)
    if len(code) == 8 and code[:3] == b"\x64\xc6\x05":  # movb $imm8, %fs:abs32
        address = int.from_bytes(code[3:7], "little")
        return Decoded(SiteKind.INLINE, code, inline=_store_byte(address, code[7]))
    raise MachineError(f"invalid opcode at call site {site.virtual:#x}: {code.hex()}")


# ---- the sites ------------------------------------------------------------------------


def _slot(ops: Any, path: str) -> tuple[Any, str]:
    *tables, leaf = path.split(".")
    holder = ops
    for name in tables:
        holder = getattr(holder, name)
    return holder, leaf


def _kept(clobbers: int) -> tuple[int, ...]:
    """The registers a site keeps for its caller: all but the ones it lets change (and
    %esp, which no call changes)."""
    return tuple(
        i
        for i, name in enumerate(REGISTER_NAMES)
        if name != "esp" and not clobbers & CLOBBER_BITS.get(name, 0)
    )


class CallSites:
    """The call sites of every hook present on the target, and what runs at each."""

    def __init__(
        self,
        ops: Any,
        hooks: Sequence[str],
        patch_ids: Mapping[str, int],
        conventions: Mapping[str, HookConvention],
        must_patch: Collection[str],
        machine: Machine,
        backend_name: str,
        observe: Callable[[str, int], None] | None = None,
    ) -> None:
        self.ops = ops
        self.machine = machine
        self.meter = machine.meter
        self.backend_name = backend_name
        self.must_patch = frozenset(must_patch)
        self.observe = observe
        self.patched = False
        self.clobbered: list[tuple[str, str, int]] = []  # (hook, register, value it holds)
        self.table: dict[str, Any] = {}  # what the kernel's tables hold, by hook path
        self.handled_by: dict[str, str] = {}
        self.sites: list[Site] = []
        self.decoded: dict[str, Decoded] = {}
        self.bytes_written: dict[str, int] = {}
        self.long_mode = machine.target.long_mode
        self.pointer_size = machine.target.pointer_size
        self._slots = {
            k.PAGE_OFFSET + k.PV_TEMPLATE + self.pointer_size * i: path
            for path, i in patch_ids.items()
        }
        self._nesting: list[int] = []
        self.backends: tuple[Any, ...] = ()
        self._lay_out(hooks, patch_ids, conventions)

    def _lay_out(
        self,
        hooks: Sequence[str],
        patch_ids: Mapping[str, int],
        conventions: Mapping[str, HookConvention],
    ) -> None:
        address = k.CALL_SITES
        end = k.CALL_SITES + k.CALL_SITES_FRAMES * (1 << 12)
        for path in hooks:
            holder, leaf = _slot(self.ops, path)
            function = getattr(holder, leaf)
            self.handled_by[path] = "(null)" if function is None else str(function.__self__.NAME)
            if path in self.must_patch and function is not None:
                function = _sentinel(path, self.backend_name)
            self.table[path] = function
            if path not in patch_ids:  # absent on this target
                setattr(holder, leaf, _absent(path) if function is not None else None)
                continue
            convention = conventions[path]
            clobbers = 0
            for register in convention.clobbers:
                clobbers |= CLOBBER_BITS.get(register, 0)
            saves = convention.callee_save and clobbers != CLBR_ANY
            slot = k.PAGE_OFFSET + k.PV_TEMPLATE + self.pointer_size * patch_ids[path]
            if self.long_mode:
                call = INDIRECT_CALL_64 + slot.to_bytes(4, "little")
                # 64-bit: a callee-save site keeps what it pushes (%rdi); the call may
                # change every other caller-saved register
                clobbers = CLBR_ANY_64 & ~CLBR_RDI if saves else CLBR_ANY_64
                code = SAVE_REGISTERS_64 + call + RESTORE_REGISTERS_64 if saves else call
            else:
                call = INDIRECT_CALL + slot.to_bytes(4, "little")
                code = SAVE_REGISTERS + call + RESTORE_REGISTERS if saves else call
            for _ in range(convention.callsites):
                if address >= end:
                    raise MachineError("the call sites do not fit the kernel text reserved")
                site = Site(path, patch_ids[path], address, len(code), clobbers, saves)
                self.machine.write_code(address, code)
                self.sites.append(site)
                address += k.CALL_SITE_STRIDE
        self._decode()

    def bind_patcher(self, *backends: Any) -> None:
        """Let the backends' patchers read the kernel's table, as the kernel's template."""
        self.backends = backends
        by_id = {site.patch_id: site.path for site in self.sites}

        def template_slot(patch_id: int) -> object:
            return self.table.get(by_id.get(patch_id, ""))

        for backend in backends:
            backend.template_slot = template_slot

    # ---- boot: apply_paravirt -------------------------------------------------------------

    def apply(self, patch: Callable[[int, int, int, int, int], int], *, enabled: bool) -> int:
        """Run every site through `patch` (none if not `enabled`); returns the bytes
        written. Raises BootFailure if a must-patch hook keeps a call through its slot."""
        written = 0
        if enabled:
            machine = self.machine
            for site in self.sites:
                original = machine.read_code(site.address, site.length)
                machine.write_code(k.PATCH_BUFFER, original)
                used = int(
                    patch(site.patch_id, site.clobbers, k.PATCH_BUFFER, site.virtual, site.length)
                )
                if not 0 <= used <= site.length:
                    raise BootFailure(
                        f"the {self.backend_name} patcher wrote {used} bytes over a"
                        f" {site.length}-byte call site of {site.path}"
                    )
                code = machine.read_code(k.PATCH_BUFFER, used) + bytes([NOP]) * (site.length - used)
                machine.write_code(site.address, code)
                if code != original:
                    self.bytes_written[site.path] = self.bytes_written.get(site.path, 0) + used
                    written += used
        self.patched = enabled
        self._decode()
        self._check_must_patch()
        return written

    def _check_must_patch(self) -> None:
        for path in sorted(self.must_patch):
            decoded = self.decoded.get(path)
            if decoded is None:
                continue
            reaches_slot = decoded.kind is SiteKind.INDIRECT or (
                decoded.target is not None and getattr(decoded.target, "must_patch", False)
            )
            if reaches_slot:
                how = "patching is off" if not self.patched else "its patcher left them"
                raise BootFailure(
                    f"backend '{self.backend_name}' must patch every call site of {path}"
                    f" (its slot holds a sentinel), but the sites still call through the"
                    f" slot: {how}"
                )

    # ---- the CPU's view -------------------------------------------------------------------

    def _decode(self) -> None:
        by_path: dict[str, list[Site]] = {}
        for site in self.sites:
            by_path.setdefault(site.path, []).append(site)
        for path, sites in by_path.items():
            first = sites[0]
            decoded = decode(
                self.machine.read_code(first.address, first.length),
                first,
                self._slots,
                self.machine,
            )
            for other in sites[1:]:
                code = self.machine.read_code(other.address, other.length).rstrip(bytes([NOP]))
                if decode(code, other, self._slots, self.machine).kind is not decoded.kind:
                    raise MachineError(f"the call sites of {path} were patched unlike each other")
            self.decoded[path] = decoded
            holder, leaf = _slot(self.ops, path)
            if getattr(holder, leaf) is None and self.table[path] is None:
                continue  # a NULL slot stays NULL for the callers that check it
            setattr(holder, leaf, self._runner(first, decoded))

    def entry(self, path: str) -> Callable[..., Any]:
        """What the CPU runs at the first call site of `path` (also for a NULL hook, whose
        callers test the slot first and so never reach its site)."""
        site = next(s for s in self.sites if s.path == path)
        return self._runner(site, self.decoded[path])

    def _runner(self, site: Site, decoded: Decoded) -> Callable[..., Any]:
        path = site.path
        machine, meter = self.machine, self.meter
        regs = machine.regs
        calls, spent_in = meter.hook_calls, meter.hook_cycles
        categories = meter.categories
        nesting = self._nesting
        kept = _kept(site.clobbers)
        snapshot = itemgetter(*kept)
        kind = decoded.kind
        if kind is SiteKind.TRAP:

            def trap(*args: Any) -> Any:
                calls[path] += 1
                raise BootFailure(f"BUG: the call site of {path} traps (ud2): its slot is NULL")

            return trap
        overhead: list[Cost] = []
        if kind is SiteKind.INDIRECT:
            overhead = [Cost.INDIRECT_CALL] + [Cost.REGISTER_SAVE] * (2 if site.saves else 0)
        elif kind is SiteKind.DIRECT:
            overhead = [Cost.DIRECT_CALL]
        elif kind is SiteKind.JUMP:
            overhead = [Cost.DIRECT_JUMP]
        price = sum(CYCLES[cost] for cost in overhead)
        assert all(CATEGORY[cost] == CALLS for cost in overhead)
        if kind is SiteKind.INDIRECT:
            function: Any = self.table[path]
        elif kind is SiteKind.NOP:
            function = None
        elif kind is SiteKind.INLINE:
            inline = decoded.inline
            assert inline is not None

            def function(*args: Any) -> Any:
                return inline(machine, args)

        else:
            function = decoded.target
        if kind is SiteKind.INLINE:
            changes = decoded.inline_clobbers
        elif kind is SiteKind.NOP:
            changes = 0
        else:
            changes = int(getattr(function, "pv_clobbers", CLBR_ANY))
        pops = site.saves and kind is SiteKind.INDIRECT  # the site's own push/pop pairs
        saved = (EDI,) if self.long_mode else (ECX, EDX)
        if pops:
            for register in saved:
                changes &= ~CLOBBER_BITS[REGISTER_NAMES[register]]
        scramble = tuple(i for i in (ECX, EDX) if changes & CLOBBER_BITS[REGISTER_NAMES[i]])
        sets_eax = bool(changes & CLOBBER_BITS["eax"])
        clobbered = self._clobbered

        def run(*args: Any) -> Any:
            calls[path] += 1
            start, work = meter.cycles, categories[WORK]
            before = snapshot(regs)
            if price:
                meter.cycles += price
                categories[CALLS] += price
            nesting.append(0)
            pushed = [regs[register] for register in saved]
            result = function(*args) if function is not None else None
            if pops:
                for register, value in zip(saved, pushed, strict=True):
                    regs[register] = value
            inner = nesting.pop()
            for register in scramble:
                regs[register] = SCRAMBLED | (calls[path] & 0xFFFF)
            if sets_eax:
                regs[EAX] = int(result) & 0xFFFF_FFFF if isinstance(result, int) else SCRAMBLED
            if snapshot(regs) != before:
                clobbered(path, kept, before)
            cost = meter.cycles - start - (categories[WORK] - work) - inner
            spent_in[path] += cost
            if nesting:
                nesting[-1] += cost
            return result

        return run

    def _clobbered(self, path: str, kept: tuple[int, ...], before: Any) -> None:
        """A call changed a register its site keeps: the caller's value is lost."""
        values = before if isinstance(before, tuple) else (before,)
        for register, value in zip(kept, values, strict=True):
            now = self.machine.regs[register]
            if now != value:
                name = REGISTER_NAMES[register]
                self.clobbered.append((path, name, now))
                if self.observe is not None:
                    self.observe(f"{path} clobbered %{name}", now)
                self.machine.regs[register] = value  # report each call once

    # ---- what patching did ----------------------------------------------------------------

    def summary(self) -> dict[str, SitePatch]:
        counts: dict[str, int] = {}
        for site in self.sites:
            counts[site.path] = counts.get(site.path, 0) + 1
        return {
            path: SitePatch(
                path,
                counts[path],
                decoded.kind,
                decoded.code.hex(),
                self.bytes_written.get(path, 0),
            )
            for path, decoded in self.decoded.items()
        }


def _sentinel(path: str, backend: str) -> Callable[..., Any]:
    """What a must-patch hook's slot holds: calling it is a bug."""

    def sentinel(*args: Any) -> Any:
        raise BootFailure(f"{path} was called through its slot under {backend}: not patched")

    sentinel.__dict__["must_patch"] = True
    return sentinel


def _absent(path: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        raise MachineError(f"hook {path} does not exist on the simulated target")

    return call
