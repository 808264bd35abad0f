"""`pvgen sim`: run the simulated x86 guest on a paravirt backend.

Takes: `--backend`, `--workload`, `--target`, `--size`, `--seed`, `--compare`, `--format`,
`--no-lazy-mmu`, `--patching on|off`, `--hook-costs`, `--cpus N`, `--pcpus M`,
`--pv-spinlocks on|off`,
`--emit-callsites FILE`, `--spec SPEC`, `--backend-abi DUMP`.
Hands on: the guest's report (hook calls, hypercalls, batches, call sites, simulated
cycles) on stdout; with --hook-costs each hook's cycles per call with patching off and on;
with --emit-callsites the measured calls per hook as JSON. With --backend-abi, the
table-by-table verdict on a backend built against that frozen release goes to stderr
first; a refused table stops the run with exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import Config
from ..diagnostics import SpecError
from .base import EXIT_FINDINGS, EXIT_OK, UsageError, report_spec_error

NAME = "sim"
HELP = "run the simulated x86 guest on a paravirt backend"
DESCRIPTION = (
    "Boot the simulated x86 guest, whose kernel calls every hook through the dispatch object"
    " generated from the spec, on one backend and run a workload; print hook calls,"
    " hypercalls, batches and simulated cycles. With --compare, run every backend on every"
    " workload and print cycles relative to native (--target all: on each target, one table"
    " per target). Call sites are patched at boot through"
    " the backend's patcher unless --patching off; --hook-costs runs both ways and prints"
    " what each hook costs per call unpatched and patched."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", help="native (default), xen, vmi, lguest or kvm; not with --compare"
    )
    parser.add_argument(
        "--workload",
        help="fork, context-switch, interrupts, timekeeping, syscalls, null-syscall or kbuild"
        " (default);"
        " with --compare, only this workload",
    )
    parser.add_argument(
        "--target",
        help="i386 (2-level paging), i386_pae (default) or x86_64 (4-level paging, syscall);"
        " a backend runs only on the targets its spec allows. With --compare, 'all' runs"
        " every backend on each of its targets, one table per target (text only)",
    )
    parser.add_argument("--size", type=int, default=100, help="workload steps (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--compare", action="store_true", help="every backend, side by side")
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--no-lazy-mmu", action="store_true", help="the kernel does not open lazy-MMU brackets"
    )
    parser.add_argument(
        "--patching",
        choices=["on", "off"],
        default="on",
        help="patch call sites at boot through the backend's patcher (default: on)",
    )
    parser.add_argument(
        "--cpus", type=int, default=1, help="virtual CPUs of the guest, 1 to 8 (default: 1)"
    )
    parser.add_argument(
        "--pcpus",
        type=int,
        help="physical CPUs the hypervisor runs them on (default: as many as --cpus);"
        " fewer makes vCPUs lose their CPU, and lock holders with them",
    )
    parser.add_argument(
        "--pv-spinlocks",
        choices=["on", "off"],
        default="on",
        help="on a release with pv_lock_ops (--spec specs/linux/linux-2.6.27.pvspec), let Xen's"
        " lock waiters block and be kicked (default: on); off: they only spin",
    )
    parser.add_argument(
        "--hook-costs",
        action="store_true",
        help="run with patching off and on; print each hook's cycles per call both ways"
        " (every backend, or --backend)",
    )
    parser.add_argument(
        "--emit-callsites",
        metavar="FILE",
        help="write the measured calls per hook as JSON (hook path -> count)",
    )
    parser.add_argument(
        "--spec", metavar="SPEC", help="the root spec (default: the reference spec)"
    )
    parser.add_argument(
        "--backend-abi",
        metavar="DUMP",
        help="the frozen release (a dump from 'pvgen freeze') the backend was built against:"
        " its tables are checked against the guest's one by one, and a breaking change"
        " refuses the load",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    import json

    from ..guest import BACKENDS, WORKLOADS, compare, report, runnable, simulate
    from ..guest.bindings import SpecMismatch, load_bindings
    from ..guest.callsites import BootFailure
    from ..guest.locks import Deadlock
    from ..guest.sim import patching_pairs
    from ..guest.targets import DEFAULT_TARGET, TARGETS

    if args.size < 1:
        raise UsageError(f"--size must be at least 1, not {args.size}")
    if not 1 <= args.cpus <= 8:
        raise UsageError(f"--cpus must be 1 to 8, not {args.cpus}")
    if args.pcpus is not None and args.pcpus < 1:
        raise UsageError(f"--pcpus must be at least 1, not {args.pcpus}")
    for value, choices, what in (
        (args.backend, BACKENDS, "backend"),
        (args.workload, WORKLOADS, "workload"),
    ):
        if value is not None and value not in choices:
            raise UsageError(f"unknown {what} '{value}'; choose from {', '.join(choices)}")
    if args.compare and args.backend:
        raise UsageError("--compare runs every backend; drop --backend")
    target = args.target or DEFAULT_TARGET
    known = [*TARGETS, "all"] if args.compare else list(TARGETS)
    if target not in known:
        raise UsageError(f"unknown target '{target}'; choose from {', '.join(known)}")
    if target == "all" and args.format == "json":
        raise UsageError(
            "a JSON comparison holds one target: give --target i386, i386_pae or x86_64"
        )
    if args.hook_costs and (args.compare or args.patching == "off" or args.emit_callsites):
        raise UsageError("--hook-costs runs patching off and on itself, on one workload")
    if args.backend_abi:
        refused = _check_backend_abi(Path(args.backend_abi), args.spec)
        if refused is not None:
            return refused
    try:
        bindings = load_bindings(Path(args.spec) if args.spec else None)
    except SpecError as exc:
        return report_spec_error(exc)
    except SpecMismatch as exc:
        raise UsageError(f"{args.spec}: {exc}") from exc

    def progress(done: int, total: int, label: str) -> None:
        sys.stderr.write(f"\r\x1b[K{label}: {done}/{total}")
        sys.stderr.flush()

    show = progress if sys.stderr.isatty() else None
    patching = args.patching == "on"
    try:
        if args.hook_costs:
            backends = [args.backend] if args.backend else list(runnable(bindings, target=target))
            pairs = patching_pairs(
                backends,
                args.workload or "kbuild",
                size=args.size,
                seed=args.seed,
                cpus=args.cpus,
                pcpus=args.pcpus,
                target=target,
                bindings=bindings,
                progress=show,
            )
            if show is not None:
                sys.stderr.write("\r\x1b[K")
            text = report.hook_costs_json(pairs) if args.format == "json" else None
            sys.stdout.write(text or report.hook_costs_text(pairs))
            return EXIT_OK
        if args.compare:
            workloads = [args.workload] if args.workload else list(WORKLOADS)
            results = []
            for each in [DEFAULT_TARGET, *(t for t in TARGETS if t != DEFAULT_TARGET)]:
                if target not in (each, "all"):
                    continue
                results += compare(
                    size=args.size,
                    seed=args.seed,
                    workloads=workloads,
                    patching=patching,
                    cpus=args.cpus,
                    pcpus=args.pcpus,
                    target=each,
                    bindings=bindings,
                    progress=show,
                    pv_spinlocks=args.pv_spinlocks == "on",
                )
        else:
            backend, workload = args.backend or "native", args.workload or "kbuild"
            results = [
                simulate(
                    backend,
                    workload,
                    size=args.size,
                    seed=args.seed,
                    lazy_mmu=not args.no_lazy_mmu,
                    patching=patching,
                    cpus=args.cpus,
                    pcpus=args.pcpus,
                    target=target,
                    bindings=bindings,
                    progress=show,
                    pv_spinlocks=args.pv_spinlocks == "on",
                )
            ]
    except SpecMismatch as exc:
        raise UsageError(f"the spec does not fit the simulated guest: {exc}") from exc
    except BootFailure as exc:
        raise UsageError(f"the guest does not boot: {exc}") from exc
    except Deadlock as exc:
        sys.stderr.write(f"pvgen: error: the guest deadlocks: {exc}\n")
        return EXIT_FINDINGS
    finally:
        if show is not None:
            sys.stderr.write("\r\x1b[K")
    sys.stdout.write(report.render(results, compared=args.compare, fmt=args.format))
    if args.emit_callsites:
        counts = json.dumps(report.callsites(results), indent=2, sort_keys=True)
        try:
            Path(args.emit_callsites).write_text(counts + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write '{args.emit_callsites}': {exc.strerror}") from exc
    return EXIT_OK


def _check_backend_abi(dump: Path, spec: str | None) -> int | None:
    """Print the verdict on a backend built against release `dump`; an exit status if the
    backend is refused, None if it loads."""
    from ..abi.sides import SideError
    from ..guest.backend_abi import check_backend_abi, render
    from ..guest.bindings import default_spec

    try:
        check = check_backend_abi(dump, Path(spec) if spec else default_spec())
    except SpecError as exc:
        return report_spec_error(exc)
    except (SideError, ValueError) as exc:
        raise UsageError(f"--backend-abi: {exc}") from exc
    sys.stderr.write(render(check))
    if check.loadable:
        return None
    refused = [t.table for t in check.refused]
    if check.refused_globally:
        refused.append("the patch template")
    sys.stderr.write(
        f"pvgen: error: a backend built against '{check.abi}' version {check.backend_version}"
        f" cannot be loaded into this guest (version {check.guest_version}): breaking changes"
        f" in {', '.join(refused)}\n"
    )
    return EXIT_FINDINGS
