"""Writes the release specs of specs/linux/ from the kernel facts: `python specs/linux/make_specs.py`.

Takes: tests/facts/linux-paravirt-history.json (the tables, members, C types, `#if`
conditions, backend assignments and callee-save signatures of 26 Linux releases, 2.6.20 to
6.19) and, for doc comments and the names of parameters the kernel left unnamed, the 2.6.26
reference spec specs/paravirt.pvspec.
Hands on: one spec per release, specs/linux/linux-<release>.pvspec, ABI `linux_paravirt`, version N
in release order (2.6.20 is 1, 6.19 is 26), in the canonical layout of `pvgen fmt`. With
`--check` nothing is written: the exit status says whether the committed specs are current.
With `--freeze` every release is also frozen into specs/linux/abi/linux_paravirt/N.json, so that
`pvgen diff specs/linux/abi/linux_paravirt/5.json specs/linux/abi/linux_paravirt/26.json` compares two
releases.

What the converter decides, release by release (the facts do not say it):
- the targets: the x86 configurations of the era (`targets`);
- the C types the members use, with their definitions per target (`types_text`);
- what each backend lists (`backend_text`, the one place that writes backends).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FACTS = ROOT / "tests" / "facts" / "linux-paravirt-history.json"
REFERENCE = ROOT / "specs" / "paravirt.pvspec"
ABI_NAME = "linux_paravirt"


def load_facts() -> dict[str, Any]:
    """The releases of the facts file, in release order."""
    versions: dict[str, Any] = json.loads(FACTS.read_text(encoding="utf-8"))["versions"]
    return versions


def spec_name(release: str) -> str:
    """linux-2.6.26.pvspec for 'v2.6.26'."""
    return f"linux-{release.removeprefix('v')}.pvspec"


def _key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.removeprefix("v").split("."))


# ---- targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    name: str
    data_model: str
    defines: tuple[tuple[str, int | None], ...]  # (name, value); None is a bare flag
    doc: str


def levels_define(release: str) -> str:
    """The name the release's conditions give the number of page-table levels: a macro of
    <asm/pgtable_types.h> until 4.0, the Kconfig symbol CONFIG_PGTABLE_LEVELS from 4.1."""
    return "PAGETABLE_LEVELS" if _key(release) < (4, 1) else "PGTABLE_LEVELS"


def targets(release: str) -> list[TargetSpec]:
    """The x86 configurations a paravirt kernel of `release` could be built for.

    - i386 only until 2.6.24: PARAVIRT depended on X86_32 until 2.6.25 enabled it on x86_64.
    - HIGHPTE (page tables in highmem) on both 32-bit targets, as distributions built them.
    - PARAVIRT_XXL (4.20 on) is selected by XEN_PV: on x86_64, and on PAE i386 until 5.9
      removed 32-bit Xen PV guests; Xen never ran 32-bit guests without PAE then.
    - QUEUED_SPINLOCKS (4.2 on) is on wherever SMP is; X86_IOPL_IOPERM (5.5 on) defaults on.
    - x86_64 has 4 page-table levels until 5-level paging became the default in 5.5.
    """
    key = _key(release)
    levels = levels_define(release)
    extra: list[tuple[str, int | None]] = []
    if key >= (4, 2):
        extra.append(("QUEUED_SPINLOCKS", None))
    if key >= (5, 5):
        extra.append(("X86_IOPL_IOPERM", None))
    xxl = key >= (4, 20)
    xen32 = xxl and key < (5, 9)

    def flags(*names: str) -> list[tuple[str, int | None]]:
        return [(n, None) for n in names]

    i386 = flags("X86_32", "X86_LOCAL_APIC", "HIGHPTE") + extra + [(levels, 2)]
    pae = (
        flags("X86_32", "X86_PAE", "X86_LOCAL_APIC", "HIGHPTE")
        + flags(*(["PARAVIRT_XXL"] if xen32 else []))
        + extra
        + [(levels, 3)]
    )
    x64 = (
        flags("X86_64", "X86_LOCAL_APIC")
        + flags(*(["PARAVIRT_XXL"] if xxl else []))
        + extra
        + [(levels, 5 if key >= (5, 5) else 4)]
    )
    found = [
        TargetSpec(
            "i386",
            "ilp32",
            tuple(i386),
            "32-bit kernel with classic 2-level paging and page tables allowed in highmem.",
        ),
        TargetSpec(
            "i386_pae",
            "ilp32",
            tuple(pae),
            "32-bit kernel with PAE (3-level paging, 64-bit entries)"
            + (" and Xen PV support (PARAVIRT_XXL)." if xen32 else "."),
        ),
    ]
    if key >= (2, 6, 25):
        found.append(
            TargetSpec(
                "x86_64",
                "lp64",
                tuple(x64),
                f"64-bit kernel with {5 if key >= (5, 5) else 4}-level paging"
                + (" and Xen PV support (PARAVIRT_XXL)." if xxl else "."),
            )
        )
    return found


def target_text(target: TargetSpec) -> str:
    defines = ", ".join(n if v is None else f"{n} = {v}" for n, v in target.defines)
    return (
        f"/// {target.doc}\ntarget {target.name} {{\n    data_model {target.data_model};\n"
        f"    defines {defines};\n}}\n"
    )


# ---- conditions and C declarations ------------------------------------------------------


def condition(cond: str) -> str:
    """A condition as the kernel writes it, in pvspec: `defined(CONFIG_X)` is `X`."""
    text = re.sub(r"defined\s*\(\s*CONFIG_(\w+)\s*\)", r"\1", cond)
    text = re.sub(r"\bCONFIG_(\w+)", r"\1", text)
    return re.sub(r"!\((\w+)\)", r"!\1", text)


C_WORDS = {"unsigned", "signed", "short", "long", "int", "char", "void", "const"}


@dataclass(frozen=True)
class Param:
    type: str
    name: str | None


def split_param(text: str) -> Param:
    """'const struct desc_ptr *dtr' -> (type, name); the name is None when left out."""
    text = " ".join(text.split())
    tokens = re.findall(r"\w+|\*", text)
    last = tokens[-1]
    unnamed = (
        last == "*"
        or last in C_WORDS
        or len(tokens) == 1
        or (len(tokens) == 2 and tokens[0] in ("struct", "enum", "const"))
    )
    if unnamed:
        return Param(text, None)
    type_text = text[: text.rstrip().rfind(last)].rstrip()
    return Param(type_text, last)


def params_of(text: str) -> list[Param]:
    text = text.strip()
    if text in ("", "void"):
        return []
    return [split_param(p) for p in text.split(",")]


def c_type(text: str) -> str:
    return " ".join(text.split())


def declarator(type_text: str, name: str) -> str:
    """'char *' and 'x' -> 'char *x'; 'int' and 'x' -> 'int x'."""
    return f"{type_text}{name}" if type_text.endswith("*") else f"{type_text} {name}"


# Names for parameters the kernel's declarations leave unnamed, by type, where the
# reference spec has no hook of that name and arity to take them from.
UNNAMED = {
    "unsigned long": "val",
    "pte_t": "pte",
    "pmd_t": "pmd",
    "pud_t": "pud",
    "pgd_t": "pgd",
    "gate_desc *": "gate",
    "struct desc_ptr *": "dtr",
    "const struct desc_ptr *": "dtr",
    "struct Xgt_desc_struct *": "dtr",
    "const struct Xgt_desc_struct *": "dtr",
    "struct desc_struct *": "desc",
}

# Callee-save hooks whose wrapper the facts do not give (the irq-flag hooks of some
# releases): their signature is the one every other release's wrapper shows.
KNOWN_CALLEE_SAVE = {
    "pv_irq_ops.save_fl": ("unsigned long", ""),
    "pv_irq_ops.restore_fl": ("void", "unsigned long flags"),
    "pv_irq_ops.irq_disable": ("void", ""),
    "pv_irq_ops.irq_enable": ("void", ""),
}

_WRAPPER = re.compile(r"^(?P<ret>.*?)\b(?P<name>\w+)\s*\((?P<params>.*)\)\s*$")
_QUALIFIERS = {"static", "inline", "notrace", "__always_inline", "__inline__"}


def callee_save_signature(path: str, entries: list[dict[str, Any]]) -> tuple[str, str]:
    """(return type, parameters) of a callee-save hook, from the kernel's call wrapper."""
    if not entries:
        return KNOWN_CALLEE_SAVE[path]
    match = _WRAPPER.match(entries[0]["wrapper"].strip())
    assert match is not None, entries
    ret = " ".join(w for w in match.group("ret").split() if w not in _QUALIFIERS)
    return ret, match.group("params")


# ---- the reference spec: docs and parameter names -----------------------------------------


@dataclass
class Reference:
    table_docs: dict[str, str] = field(default_factory=dict)
    member_docs: dict[tuple[str, str], str] = field(default_factory=dict)
    by_name: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> keys
    param_names: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    type_docs: dict[str, str] = field(default_factory=dict)

    def doc(self, table: str, name: str) -> str | None:
        if (table, name) in self.member_docs:
            return self.member_docs[(table, name)]
        keys = self.by_name.get(name, [])
        return self.member_docs[keys[0]] if len(keys) == 1 else None

    def names(self, table: str, name: str, count: int) -> list[str] | None:
        found = self.param_names.get((table, name))
        if found is None:
            keys = self.by_name.get(name, [])
            found = self.param_names.get(keys[0]) if len(keys) == 1 else None
        return found if found is not None and len(found) == count else None


def load_reference() -> Reference:
    sys.path.insert(0, str(ROOT))
    from pvgen.api import compile_spec
    from pvgen.model import DataMember, Hook

    abi, _ = compile_spec(REFERENCE)
    ref = Reference()
    for table in abi.tables:
        if table.doc:
            ref.table_docs[table.name] = table.doc
        for member in table.members:
            key = (table.name, member.name)
            if member.doc and isinstance(member, Hook | DataMember):
                ref.member_docs[key] = member.doc
                ref.by_name.setdefault(member.name, []).append(key)
            if isinstance(member, Hook):
                ref.param_names[key] = [p.name for p in member.params]
    for decl in abi.types:
        if decl.doc:
            ref.type_docs.setdefault(decl.name, decl.doc)
    return ref


# ---- types ---------------------------------------------------------------------------------


def old_pagetable_types() -> str:
    """The i386 page-table types before 2.6.25 introduced pteval_t and friends: a PAE entry
    is two 32-bit halves (pte) or one 64-bit value (pmd, pgd); without PAE one word. The
    pud level is folded into the pgd, and without PAE the pmd into the pud."""
    return (
        "// ---- page-table entries (i386 only, before pteval_t) ----\n\n"
        "/// A page-table entry: two 32-bit halves with PAE.\n@if(X86_PAE)\n"
        "struct pte_t {\n    unsigned long pte_low;\n    unsigned long pte_high;\n}\n"
        "/// A page-table entry: one word without PAE.\n@if(!X86_PAE)\n"
        "struct pte_t {\n    unsigned long pte_low;\n}\n\n"
        "/// A page-global-directory entry: 64 bits with PAE.\n@if(X86_PAE)\n"
        "struct pgd_t {\n    unsigned long long pgd;\n}\n"
        "/// A page-global-directory entry: one word without PAE.\n@if(!X86_PAE)\n"
        "struct pgd_t {\n    unsigned long pgd;\n}\n\n"
        "/// A page-upper-directory entry, folded into the pgd.\n"
        "struct pud_t {\n    pgd_t pgd;\n}\n\n"
        "/// A page-middle-directory entry: a real level, 64 bits, with PAE.\n@if(X86_PAE)\n"
        "struct pmd_t {\n    unsigned long long pmd;\n}\n"
        "/// A page-middle-directory entry folded into the pud without PAE.\n@if(!X86_PAE)\n"
        "struct pmd_t {\n    pud_t pud;\n}"
    )


def types_text(release: str, used: set[str]) -> str:
    """Declarations of the types `used` names (words of the members' C types), each with
    its definition per target, as the kernel of `release` declares it."""
    key = _key(release)
    lv = levels_define(release)
    out: list[str] = []
    has_p4d = "p4d_t" in used or "p4dval_t" in used
    pagetable = {"pte_t", "pmd_t", "pud_t", "pgd_t", "p4d_t", "pgprot_t"}
    pagetable |= {n.replace("_t", "val_t") for n in pagetable}
    if used & pagetable and key < (2, 6, 25):
        out.append(old_pagetable_types())
    elif used & pagetable:
        out.append("// ---- page-table entries ----")
        levels = ["pte", "pmd", "pud", "pgd"] + (["p4d"] if has_p4d else [])
        if "pgprot_t" in used:
            levels.append("pgprot")
        for level in levels:
            out.append(
                f"/// Raw value of a {level} entry: 64 bits wide with PAE.\n"
                f"@if(X86_PAE)\ntypedef u64 {level}val_t;\n"
                f"/// Raw value of a {level} entry: one machine word without PAE.\n"
                f"@if(!X86_PAE)\ntypedef unsigned long {level}val_t;"
            )
        out.append("/// A page-table entry.\nstruct pte_t {\n    pteval_t pte;\n}")
        out.append(
            "/// A page-global-directory entry: the top level.\nstruct pgd_t {\n    pgdval_t pgd;\n}"
        )
        if has_p4d:
            out.append(
                f"/// A p4d entry, a real level with 5-level paging.\n@if({lv} >= 5)\n"
                "struct p4d_t {\n    p4dval_t p4d;\n}\n"
                f"/// A p4d entry folded into the pgd (fewer than 5 levels).\n@if({lv} < 5)\n"
                "struct p4d_t {\n    pgd_t pgd;\n}"
            )
        upper = "p4d_t p4d" if has_p4d else "pgd_t pgd"
        out.append(
            f"/// A pud entry, a real level with 4 or more levels.\n@if({lv} >= 4)\n"
            "struct pud_t {\n    pudval_t pud;\n}\n"
            f"/// A pud entry folded into the level above (fewer than 4 levels).\n@if({lv} < 4)\n"
            f"struct pud_t {{\n    {upper};\n}}"
        )
        out.append(
            f"/// A pmd entry, a real level with 3 or more levels.\n@if({lv} >= 3)\n"
            "struct pmd_t {\n    pmdval_t pmd;\n}\n"
            f"/// A pmd entry folded into the pud (2-level paging).\n@if({lv} < 3)\n"
            "struct pmd_t {\n    pud_t pud;\n}"
        )
        if "pgprot_t" in used:
            out.append(
                "/// Protection bits of a page mapping.\nstruct pgprot_t {\n    pgprotval_t pgprot;\n}"
            )
    if "phys_addr_t" in used:
        out.append(
            "/// A physical address: 64 bits with PAE or on x86_64.\n@if(X86_PAE || X86_64)\n"
            "typedef u64 phys_addr_t;\n/// A physical address: 32 bits on classic i386.\n"
            "@if(!(X86_PAE || X86_64))\ntypedef u32 phys_addr_t;"
        )
    if "desc_ptr" in used:
        out.append(
            "/// Operand of LGDT/LIDT/SGDT/SIDT: a descriptor table's limit and base.\n"
            "@packed\nstruct desc_ptr {\n    unsigned short size;\n    unsigned long address;\n}"
        )
    if "Xgt_desc_struct" in used:
        out.append(
            "/// Operand of LGDT/LIDT/SGDT/SIDT (the name before 2.6.24), padded to 8 bytes.\n"
            "@packed\nstruct Xgt_desc_struct {\n    unsigned short size;\n"
            "    unsigned long address;\n    unsigned short pad;\n}"
        )
    if "desc_struct" in used or "gate_desc" in used:
        out.append(
            "/// An 8-byte segment descriptor, seen as two 32-bit words.\n@packed\n"
            "struct desc_struct {\n    unsigned int a;\n    unsigned int b;\n}"
        )
    if "gate_desc" in used:
        gate = "gate_struct" if key >= (4, 15) else "gate_struct64"
        out.append(
            "/// A 16-byte 64-bit mode interrupt or trap gate.\n@packed\n"
            f"struct {gate} {{\n    u16 offset_low;\n    u16 segment;\n    u16 bits;\n"
            "    u16 offset_middle;\n    u32 offset_high;\n    u32 reserved;\n}\n"
            "/// An IDT gate: an 8-byte descriptor on 32-bit kernels.\n@if(!X86_64)\n"
            "typedef struct desc_struct gate_desc;\n"
            "/// An IDT gate: a 16-byte gate on x86_64.\n@if(X86_64)\n"
            f"typedef struct {gate} gate_desc;"
        )
    if "__ticket_t" in used:
        out.append(
            "/// The spinlock ticket: u16 when NR_CPUS is 128 or more, as distributions build.\n"
            "typedef u16 __ticket_t;"
        )
    if "km_type" in used:
        names = [
            "KM_BOUNCE_READ",
            "KM_SKB_SUNRPC_DATA",
            "KM_SKB_DATA_SOFTIRQ",
            "KM_USER0",
            "KM_USER1",
            "KM_BIO_SRC_IRQ",
            "KM_BIO_DST_IRQ",
            "KM_PTE0",
            "KM_PTE1",
            "KM_IRQ0",
            "KM_IRQ1",
            "KM_SOFTIRQ0",
            "KM_SOFTIRQ1",
            "KM_TYPE_NR",
        ]
        body = "\n".join(f"    {n} = {i}," for i, n in enumerate(names))
        out.append(
            "/// Per-CPU slots for temporary atomic mappings of highmem pages (the i386\n"
            "/// values of 2.6.22 to 2.6.28; later releases add slots after KM_SOFTIRQ1).\n"
            f"enum km_type : u32 {{\n{body}\n}}"
        )
    if "paravirt_lazy_mode" in used:
        out.append(
            "/// Which kind of batched (lazy) update mode, if any, the CPU is in.\n"
            "enum paravirt_lazy_mode : u32 {\n    PARAVIRT_LAZY_NONE = 0,\n"
            "    PARAVIRT_LAZY_MMU = 1,\n    PARAVIRT_LAZY_CPU = 2,\n    PARAVIRT_LAZY_FLUSH = 3,\n}"
        )
    if "cpumask_t" in used:
        used = used | {"cpumask"}
        out.append("/// A set of CPUs.\ntypedef struct cpumask cpumask_t;")
    opaque = {
        "mm_struct": "An address space.",
        "thread_struct": "Per-thread CPU state saved across context switches.",
        "tss_struct": "A CPU's task state segment.",
        "task_struct": "A task (thread).",
        "page": "The descriptor of one physical page frame.",
        "cpumask": "A bitmap with one bit per possible CPU.",
        "raw_spinlock": "A spinlock (the raw, never-sleeping kind).",
        "arch_spinlock": "The architecture's spinlock word.",
        "qspinlock": "A queued spinlock.",
        "flush_tlb_info": "What a remote TLB flush covers.",
        "mmu_gather": "A batch of pages being unmapped.",
        "vm_area_struct": "A region of an address space.",
    }
    for name, doc in opaque.items():
        if name in used:
            out.append(f"/// {doc}\nopaque struct {name};")
    return "\n\n".join(out) + "\n" if out else ""


# ---- tables --------------------------------------------------------------------------------

TABLE_DOCS = {
    "paravirt_ops": "Every paravirt hook of the kernel, with the facts about the environment\n"
    "it runs in: one struct until 2.6.24 split it into pv_*_ops tables.",
    "pv_lock_ops": "Spinlock slow paths, so that a hypervisor can deschedule a waiting vCPU.",
}


@dataclass
class Release:
    name: str  # v2.6.26
    version: int
    facts: Mapping[str, Any]
    ref: Reference
    missing_docs: int = 0
    used_types: set[str] = field(default_factory=set)
    callee_save: int = 0
    # Member name -> the version it arrived in (renames and moves keep it), for @since.
    since: dict[str, int] = field(default_factory=dict)

    @property
    def tables(self) -> Mapping[str, list[dict[str, Any]]]:
        return {
            n: ms
            for n, ms in self.facts["tables"].items()
            if n not in ("paravirt_patch_template", "paravirt_callee_save")
        }


def _words(type_text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", type_text)) - C_WORDS - {"struct", "enum"}


# Members the kernel renamed, by the release that renamed them: (table, new name) -> old
# name, so that `pvgen diff` pairs them instead of seeing one removed and one added.
RENAMES: dict[str, dict[tuple[str, str], str]] = {
    "v2.6.23": {("paravirt_ops", "sched_clock"): "get_scheduled_cycles"},
    "v2.6.25": {("pv_cpu_ops", "load_sp0"): "load_esp0"},
    "v2.6.26": {
        ("pv_mmu_ops", "alloc_pte"): "alloc_pt",
        ("pv_mmu_ops", "alloc_pmd"): "alloc_pd",
        ("pv_mmu_ops", "alloc_pmd_clone"): "alloc_pd_clone",
        ("pv_mmu_ops", "release_pte"): "release_pt",
        ("pv_mmu_ops", "release_pmd"): "release_pd",
    },
    "v4.19.95": {("pv_mmu_ops", "flush_tlb_one_user"): "flush_tlb_single"},
    "v5.15.85": {("pv_mmu_ops", "flush_tlb_multi"): "flush_tlb_others"},
}


def member_text(rel: Release, table: str, member: dict[str, Any]) -> str:
    lines: list[str] = []
    doc = rel.ref.doc(table, member["name"])
    kind = member["kind"]
    if kind == "nested":
        doc = doc or (
            "Brackets a batch of updates that a hypervisor may defer."
            if member["type"] == "pv_lazy_ops"
            else None
        )
    if doc:
        lines += [f"/// {line}".rstrip() for line in doc.split("\n")]
    elif kind != "data":
        rel.missing_docs += 1
    notes: list[str] = []
    if member.get("cond"):
        notes.append(f"@if({condition(member['cond'])})")
    renamed = RENAMES.get(rel.name, {}).get((table, member["name"]))
    if renamed:
        notes.append(f"@renamed_from({renamed})")
    since = rel.since.get(member["name"], 1)
    if since > 1:
        notes.append(f"@since({since})")
    if kind == "nested":
        body = f"{member['type']} {member['name']};"
    elif kind == "data":
        type_text = c_type(member["type"])
        rel.used_types |= _words(type_text)
        body = declarator(type_text, member["name"]) + ";"
    else:
        if kind == "callee_save":
            rel.callee_save += 1
            notes.append("@callee_save")
            path = f"{table}.{member['name']}"
            ret, params_text = callee_save_signature(
                path, rel.facts.get("callee_save", {}).get(path, [])
            )
        else:
            ret, params_text = member["ret"], member["params"]
        ret = c_type(ret)
        params = params_of(params_text)
        names = rel.ref.names(table, member["name"], len(params))
        rendered: list[str] = []
        taken: set[str] = set()
        for i, p in enumerate(params):
            name = p.name or (names[i] if names else UNNAMED.get(p.type, f"arg{i}"))
            if name in taken:
                name = f"{name}{i}"
            taken.add(name)
            rel.used_types |= _words(p.type)
            rendered.append(declarator(p.type, name))
        rel.used_types |= _words(ret)
        body = declarator(ret, member["name"]) + "(" + ", ".join(rendered) + ");"
    if notes:
        lines.append(" ".join(notes))
    lines.append(body)
    return "\n".join("    " + line for line in lines)


def table_text(rel: Release, name: str, members: list[dict[str, Any]]) -> str:
    doc = rel.ref.table_docs.get(name) or TABLE_DOCS.get(name)
    head = "".join(f"/// {line}".rstrip() + "\n" for line in doc.split("\n")) if doc else ""
    if not doc:
        rel.missing_docs += 1
    body = "\n".join(member_text(rel, name, m) for m in members)
    return f"{head}table {name} {{\n{body}\n}}\n"


# ---- backends ------------------------------------------------------------------------------

BACKEND_DOCS = {
    "native": "Bare hardware: implements every hook and is the fallback for every backend.",
    "VMI": "VMware's Virtual Machine Interface: calls into a hypervisor-supplied ROM.",
    "Xen": "Xen paravirtualized guest: runs deprivileged and makes hypercalls to Xen.",
    "lguest": "lguest: the small in-kernel hypervisor for 32-bit Linux guests.",
    "KVM": "KVM guest: paravirt clock, MMU and spinlock hypercalls, each used if offered.",
}


def member_paths(rel: Release, table: str, prefix: str = "") -> list[str]:
    """Every member path of `table` (sub-tables expanded), in declaration order."""
    paths: list[str] = []
    for m in rel.tables[table]:
        if m["kind"] == "nested":
            paths += member_paths(rel, m["type"], f"{prefix}{m['name']}.")
        else:
            paths.append(prefix + m["name"])
    return paths


def backend_targets(release: str, name: str) -> list[str]:
    """The targets a backend of `release` runs on, which its `@if` says (and where the
    members its whole-struct copies leave NULL are counted)."""
    key = _key(release)
    every = [t.name for t in targets(release)]
    if name == "VMI":
        return ["i386", "i386_pae"]
    if name == "lguest":
        # lguest learned PAE guests in 2.6.31 (it then sets pv_mmu_ops.set_pud).
        return ["i386"] if key < (2, 6, 31) else ["i386", "i386_pae"]
    if name == "Xen":
        if key < (2, 6, 26):
            return ["i386", "i386_pae"]
        if key < (2, 6, 27):
            return ["i386_pae"]
        if key < (5, 9):
            return ["i386_pae", "x86_64"]
        return ["x86_64"]
    return every


def holds(cond: str | None, target: TargetSpec) -> bool:
    """Whether a condition of the facts holds on one of our targets."""
    if not cond:
        return True
    defines = {n: (1 if v is None else v) for n, v in target.defines}
    text = condition(cond).replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    text = re.sub(
        r"[A-Za-z_]\w*",
        lambda m: (
            m.group(0) if m.group(0) in ("and", "or", "not") else str(defines.get(m.group(0), 0))
        ),
        text,
    )
    return bool(eval(text, {"__builtins__": {}}))  # noqa: S307 - our own facts


def present_paths(rel: Release, table: str, where: list[TargetSpec], prefix: str = "") -> list[str]:
    """Member paths of `table` present on at least one of the targets `where`."""
    paths: list[str] = []
    for m in rel.tables[table]:
        if not any(holds(m.get("cond"), t) for t in where):
            continue
        if m["kind"] == "nested":
            paths += present_paths(rel, m["type"], where, f"{prefix}{m['name']}.")
        else:
            paths.append(prefix + m["name"])
    return list(dict.fromkeys(paths))


def whole_copies(rel: Release, sets: list[dict[str, Any]]) -> list[str]:
    """The tables a backend copies whole (`pv_cpu_ops = xen_cpu_ops`): in them, a member
    it does not set is NULL, not native."""
    template = {
        e["name"]: e["type"] for e in rel.facts["tables"].get("paravirt_patch_template", [])
    }
    copied: list[str] = []
    for entry in sets:
        if entry["how"] != "table-copy":
            continue
        table = entry["table"]
        table = template.get(table.removeprefix("pv_ops."), table)
        if table in rel.tables and table not in copied:
            copied.append(table)
    return copied


@dataclass(frozen=True)
class BackendFacts:
    """What the facts say about one backend of one release, in the terms a backend block
    needs."""

    listed: dict[str, list[str]]  # table -> member paths it assigns, in declaration order
    runs_on: list[str]  # target names
    null: dict[str, list[str]]  # table copied whole -> present members it leaves NULL


def backend_facts(rel: Release, name: str) -> BackendFacts:
    sets = rel.facts["backends_set"][name]
    assigned: dict[str, set[str]] = {}
    for entry in sets:
        table = entry["table"]
        if table not in rel.tables or entry["hook"] == "*":
            continue  # a static call, or a whole-struct copy (no member of its own)
        if entry["hook"] in member_paths(rel, table):
            assigned.setdefault(table, set()).add(entry["hook"])
    listed = {
        # a member declared twice under exclusive conditions is listed once
        table: [p for p in dict.fromkeys(member_paths(rel, table)) if p in assigned[table]]
        for table in rel.tables
        if table in assigned
    }
    runs_on = backend_targets(rel.name, name)
    where = [t for t in targets(rel.name) if t.name in runs_on]
    null = {}
    for table in whole_copies(rel, sets):
        unset = [p for p in present_paths(rel, table, where) if p not in assigned.get(table, set())]
        if unset:
            null[table] = unset
    return BackendFacts(listed, [t.name for t in where], null)


# A condition over the targets' defines for each set of targets a backend runs on; checked
# against the targets by `runs_on_condition`, so a new era cannot get a wrong one.
RUNS_ON = {
    ("i386",): "X86_32 && !X86_PAE",
    ("i386_pae",): "X86_32 && X86_PAE",
    ("i386", "i386_pae"): "X86_32",
    ("i386_pae", "x86_64"): "X86_PAE || X86_64",
    ("x86_64",): "X86_64",
}


def runs_on_condition(rel: Release, runs_on: list[str]) -> str | None:
    """The `@if` of a backend that runs on `runs_on`: None where it runs everywhere."""
    every = targets(rel.name)
    if len(runs_on) == len(every):
        return None
    text = RUNS_ON[tuple(runs_on)]
    assert [t.name for t in every if holds(text, t)] == runs_on, (rel.name, runs_on, text)
    return text


def backend_text(rel: Release, name: str) -> str:
    """The one place that writes a backend: the members the kernel's backend assigns (by
    initializer, assignment, the VMI ROM or a setter), `@if` for the targets it runs on, and
    `@fallback(none)` on each table it copies whole, where a member it does not set is NULL,
    not native. A table it copies whole but sets nothing in cannot be written (an entry
    needs members); its NULL members are then named in a comment."""
    doc = BACKEND_DOCS.get(name, f"The {name} backend.")
    if name == "native":
        return f"/// {doc}\nbackend native default;\n"
    facts = backend_facts(rel, name)
    if not facts.listed:
        return ""
    lines = []
    for table, paths in facts.listed.items():
        fallback = "@fallback(none) " if table in facts.null else ""
        lines.append(f"    {fallback}{table}: {', '.join(paths)};")
    unwritten = [t for t in facts.null if t not in facts.listed]
    notes = [
        f"Copies {table} whole and sets none of it, so these are NULL: {', '.join(facts.null[table])}."
        for table in unwritten
    ]
    comment = "".join(f"// {line}\n" for note in notes for line in textwrap.wrap(note, 96))
    condition = runs_on_condition(rel, facts.runs_on)
    head = f"@if({condition})\n" if condition else ""
    body = "\n".join(lines)
    return f"{comment}/// {doc}\n{head}backend {name.lower()} {{\n{body}\n}}\n"


# ---- the whole spec -----------------------------------------------------------------------

ALLOWS = {
    "PV103": "The kernel keeps one set of tables for every backend, and many hooks in it have"
    " one hypervisor user: {users}",
    "PV111": "Members the 2.6.26 reference does not document carry the kernel's declaration"
    " only; the kernel documents few of them",
    "PV117": "Members a backend's whole-struct copy leaves NULL, as the kernel's do; whether"
    " each caller checks for NULL is not in the facts these specs are made from",
}


# What each hypervisor alone hooks, for the reason of the PV103 acceptance.
USERS = {
    "VMI": "VMI calls its ROM for descriptor, TLB and time hooks",
    "Xen": "Xen pins page tables and filters MSRs, CPUID and descriptors by hypercall",
    "lguest": "lguest hooks its own interrupt and clock setup",
    "KVM": "KVM uses its hypercalls for clocks, TLB flushes and spinlocks",
}


def spec_text(rel: Release) -> str:
    tables = [table_text(rel, n, ms) for n, ms in rel.tables.items()]
    backends = [backend_text(rel, b) for b in rel.facts["backends_set"]]
    release = rel.name.removeprefix("v")
    template = [e["type"] for e in rel.facts["tables"].get("paravirt_patch_template", [])]
    settings = [f"version {rel.version};", "stability stable;"]
    if template:
        settings.append(f"patch_template {', '.join(template)};")
    else:
        settings.insert(
            2,
            "// PARAVIRT_PATCH(x) is the slot of x in struct paravirt_ops itself, data\n"
            "    // members included: the default patch template, the one table.",
        )
    allows = []
    if rel.missing_docs:
        allows.append("PV111")
    if len(rel.facts["backends_set"]) > 1:
        allows.append("PV103")
    if any(backend_facts(rel, b).null for b in rel.facts["backends_set"] if b != "native"):
        allows.append("PV117")
    users = [USERS[b] for b in rel.facts["backends_set"] if b in USERS]
    reasons = {c: ALLOWS[c].format(users="; ".join(users)) for c in allows}
    allow_text = "".join(f'@allow({c}, reason = "{reasons[c]}")\n' for c in allows)
    head = (
        f"// Linux {release}: the x86 paravirt interface as the kernel declared it.\n"
        "// Generated by specs/linux/make_specs.py from tests/facts/linux-paravirt-history.json;\n"
        "// edit the converter, not this file.\n\n"
        f"/// Paravirtualization hook tables of the Linux {release} x86 guest kernel.\n"
        f"{allow_text}abi {ABI_NAME} {{\n    " + "\n    ".join(settings) + "\n}\n"
    )
    parts = [head] + [target_text(t) for t in targets(rel.name)]
    types = types_text(rel.name, rel.used_types)
    if types:
        parts.append(types)
    parts += tables + [b for b in backends if b]
    return "\n".join(parts)


def arrivals(rel: Release, previous: Mapping[str, int]) -> dict[str, int]:
    """Member name -> the version it arrived in: the one before's for a member the release
    before had (by name, or by the name it was renamed from; in any table, since a member
    that moves stays what it was), else this release's. What PV120 asks of @since."""
    since: dict[str, int] = {}
    renames = RENAMES.get(rel.name, {})
    for table, members in rel.tables.items():
        for member in members:
            name = member["name"]
            old = renames.get((table, name))
            if name in previous:
                since[name] = previous[name]
            elif old is not None and old in previous:
                since[name] = previous[old]
            else:
                since[name] = rel.version
    return since


def render_all() -> dict[str, str]:
    """File name -> formatted spec text, for every release of the facts file."""
    sys.path.insert(0, str(ROOT))
    from pvgen.api import format_text

    ref = load_reference()
    out: dict[str, str] = {}
    previous: dict[str, int] = {}
    for number, (name, facts) in enumerate(load_facts().items(), start=1):
        rel = Release(name, number, facts, ref)
        rel.since = arrivals(rel, previous)
        previous = rel.since
        text = spec_text(rel)
        out[spec_name(name)] = format_text(text, spec_name(name))
    return out


def counts_table() -> str:
    """The hooks of each release on each of its targets, as a Markdown table: what
    `pvgen check` prints in its summary, from the committed specs."""
    sys.path.insert(0, str(ROOT))
    from pvgen.api import count_hooks_per_target, load_abi

    rows = [
        "| release | version | i386 | i386_pae | x86_64 |",
        "|---|---|---|---|---|",
    ]
    for name in load_facts():
        abi = load_abi(HERE / spec_name(name))
        counts = count_hooks_per_target(abi)
        cells = [str(counts[t]) if t in counts else "-" for t in ("i386", "i386_pae", "x86_64")]
        rows.append(f"| {name.removeprefix('v')} | {abi.version} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def history_table() -> str:
    """Each step between consecutive releases as `pvgen diff` of their frozen dumps sees it:
    the changes per class and the exit status, as a Markdown table (docs/linux-history.md)."""
    sys.path.insert(0, str(ROOT))
    from pvgen.abi.changes import ChangeClass
    from pvgen.abi.report import exit_bits
    from pvgen.api import diff

    classes = sorted(ChangeClass, reverse=True)
    rows = [
        "| step | versions | " + " | ".join(str(c) for c in classes) + " | exit |",
        "|---|---|" + "---:|" * len(classes) + "---:|",
    ]
    names = [n.removeprefix("v") for n in load_facts()]
    folder = HERE / "abi" / ABI_NAME
    for number in range(1, len(names)):
        result = diff(str(folder / f"{number}.json"), str(folder / f"{number + 1}.json"))
        counts = [sum(1 for c in result.changes if c.change_class is k) for k in classes]
        status = exit_bits(result.changes, stable=result.stable)
        rows.append(
            f"| {names[number - 1]} -> {names[number]} | {number} -> {number + 1} | "
            + " | ".join(str(n) for n in counts)
            + f" | {status} |"
        )
    return "\n".join(rows)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="only say whether the specs are current"
    )
    parser.add_argument("--freeze", action="store_true", help="also freeze every release")
    parser.add_argument(
        "--refreeze",
        action="store_true",
        help="drop the frozen releases and freeze them again (after a change of the converter)",
    )
    parser.add_argument(
        "--counts", action="store_true", help="print the hook counts per target as a table"
    )
    parser.add_argument(
        "--history",
        action="store_true",
        help="print what pvgen diff reports for each step between releases, as a table",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.history:
        print(history_table())
        return 0
    if args.counts:
        print(counts_table())
        return 0
    specs = render_all()
    stale = [
        n
        for n, t in specs.items()
        if not (HERE / n).is_file() or (HERE / n).read_text(encoding="utf-8") != t
    ]
    if args.check:
        for n in stale:
            print(f"stale: specs/linux/{n}", file=sys.stderr)
        return 1 if stale else 0
    for n in stale:
        (HERE / n).write_text(specs[n], encoding="utf-8")
        print(f"wrote specs/linux/{n}")
    if args.refreeze:
        for frozen in sorted((HERE / "abi" / ABI_NAME).glob("*.json")):
            frozen.unlink()
    if args.freeze or args.refreeze:
        from pvgen.api import freeze, load_abi

        for n in specs:
            frozen, written = freeze(load_abi(HERE / n), HERE / n)
            if written:
                print(f"froze {frozen.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
