"""The `pvgen` command: options, exit codes, and printing; nothing else.

Takes: the command line and `[tool.pvgen]`.
Hands on: exit status 0 (clean), 1 (the specs have errors), 2 (bad usage or
unreadable input), 3 (a bug in pvgen). Diagnostics go to stderr, results to
stdout.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import __version__
from .config import Config, ConfigError, load_config
from .diagnostics import Diagnostic, SpecError
from .formats import FORMATS
from .model import Abi
from .source import display_name

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class UsageError(Exception):
    pass


def compile_spec(path: Path, spec_root: Path | None) -> tuple[Abi, list[Path]]:
    """Load, parse and resolve one root spec; also returns the files it read."""
    from .loader import load
    from .resolve import resolve

    loaded = load(path, spec_root)
    return resolve(loaded), list(loaded.paths)


def load_abi(path: Path, config: Config) -> Abi:
    """The model of one root spec, compiled or taken from the cache."""
    from .cache import cached_compile

    return cached_compile(path, config.spec_root, compile_spec)


def spec_paths(paths: Sequence[str], config: Config) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    if config.specs:
        return list(config.specs)
    where = f" in {config.path}" if config.path else ""
    raise UsageError(
        f"no spec given: name spec files, or list them as 'specs' in [tool.pvgen]{where}"
    )


def count_hooks(abi: Abi) -> int:
    return sum(1 for t in abi.top_level_tables() for _ in abi.hooks(t))


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    from .abi.freeze import abi_folder
    from .diagnostics import Severity
    from .rules import all_rules, run_rules

    diagnostics: list[Diagnostic] = []
    summaries: list[str] = []
    unusable = False
    used_file_allows: set[int] = set()
    for path in spec_paths(args.paths, config):
        try:
            abi = load_abi(path, config)
        except SpecError as exc:
            diagnostics.extend(exc.diagnostics)
            unusable = unusable or exc.unreadable
            continue
        summaries.append(
            f"{display_name(path)}: abi '{abi.name}' version {abi.version}: "
            f"{len(abi.tables)} tables, {count_hooks(abi)} hooks, "
            f"{len(abi.backends)} backends, {len(abi.targets)} targets"
        )
        if not args.no_rules:
            frozen = abi_folder(abi, path, config.abi_dir)
            diagnostics.extend(run_rules(abi, config.rules, config.allow, used_file_allows, frozen))
    for allow in () if args.no_rules else config.allow:
        if id(allow) not in used_file_allows and allow.rule in all_rules():
            diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    f"{config.path}: [[tool.pvgen.allow]] of {allow.rule} for '{allow.path}'"
                    " accepts no finding; remove it",
                    None,
                    code="PV001",
                )
            )
    if args.werror:
        diagnostics = [
            replace(d, severity=Severity.ERROR) if d.severity is Severity.WARNING else d
            for d in diagnostics
        ]
    emit(args.format, diagnostics, summaries)
    if unusable:
        return EXIT_USAGE
    return EXIT_FINDINGS if any(d.severity is Severity.ERROR for d in diagnostics) else EXIT_OK


def compile_dump(path: Path, config: Config) -> dict[str, object]:
    from .dump import abi_to_dict

    return abi_to_dict(load_abi(path, config))


def cmd_diff(args: argparse.Namespace, config: Config) -> int:
    from .abi.accept import AcceptError, apply_acceptances, load_acceptances
    from .abi.diff import diff
    from .abi.report import RENDERERS, exit_bits
    from .abi.sides import SideError, load_side
    from .dump import abi_to_dict

    def compile_once(p: Path) -> dict[str, object]:
        return abi_to_dict(compile_spec(p, None)[0])

    default = (
        str(config.specs[0].relative_to(config.path.parent))
        if config.specs and config.path
        else None
    )
    if args.against:
        if args.old or args.new:
            raise UsageError("give either OLD NEW or --against REF, not both")
        if not config.specs and not default:
            raise UsageError("--against needs the specs listed in [tool.pvgen]")
        sides = [args.against, str(config.specs[0])]
    elif args.old and args.new:
        sides = [args.old, args.new]
    else:
        raise UsageError("name two versions: pvgen diff OLD NEW, or pvgen diff --against git:REF")
    try:
        old, new = (
            load_side(
                s,
                lambda p: compile_dump(p, config),
                default_path=default,
                compile_once=compile_once,
            )
            for s in sides
        )
    except SideError as exc:
        print(f"pvgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SpecError as exc:
        print_errors(exc)
        return EXIT_FINDINGS
    changes = diff(old, new)
    abi_name = new["abi"]["name"]
    accepted_file = _accepted_file(sides[1], abi_name, config)
    try:
        changes, unused = apply_acceptances(
            changes, load_acceptances(accepted_file), new["abi"]["version"]
        )
    except AcceptError as exc:
        print(f"pvgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    title = (
        f"ABI '{abi_name}': version {old['abi']['version']} ({sides[0]}) -> "
        f"{new['abi']['version']} ({sides[1]})"
    )
    sys.stdout.write(RENDERERS[args.format](title, changes, unused))
    return exit_bits(changes, stable=new["abi"]["stability"] == "stable")


def _accepted_file(new_side: str, abi_name: str, config: Config) -> Path:
    """accepted.toml of the ABI folder that the new side belongs to."""
    if config.abi_dir is not None:
        return config.abi_dir / abi_name / "accepted.toml"
    if new_side.endswith(".json") and not new_side.startswith("git:"):
        return Path(new_side).parent / "accepted.toml"
    spec = Path(new_side) if not new_side.startswith("git:") else None
    if spec is None and config.specs:
        spec = config.specs[0]
    folder = spec.parent if spec is not None else Path.cwd()
    return folder / "abi" / abi_name / "accepted.toml"


def cmd_freeze(args: argparse.Namespace, config: Config) -> int:
    from .abi.freeze import FreezeError, abi_folder, freeze

    status = EXIT_OK
    for path in spec_paths(args.paths, config):
        try:
            abi = load_abi(path, config)
            written_to, written = freeze(abi, abi_folder(abi, path, config.abi_dir))
        except SpecError as exc:
            print_errors(exc)
            status = max(status, EXIT_FINDINGS)
            continue
        except FreezeError as exc:
            print(f"pvgen: error: {exc}", file=sys.stderr)
            status = max(status, EXIT_FINDINGS)
            continue
        verb = "froze" if written else "already frozen:"
        print(f"{verb} version {abi.version} of '{abi.name}' in {display_name(written_to)}")
    return status


def emit(fmt: str, diagnostics: Sequence[Diagnostic], summaries: Sequence[str]) -> None:
    """Print findings in the chosen format; text also prints one summary line per ABI."""
    from . import formats
    from .rules import all_rules

    rules = all_rules()
    names = {r.id: r.name for r in rules.values()}
    diagnostics = sorted(diagnostics, key=_location_key)
    if fmt == "text":
        for line in summaries:
            print(line)
        sys.stderr.write(formats.render_text(diagnostics))
    elif fmt == "json":
        sys.stdout.write(formats.render_json(diagnostics, names))
    elif fmt == "github":
        sys.stdout.write(formats.render_github(diagnostics, names))
    else:
        catalogue = [(r.id, r.name, r.purpose, r.severity) for r in rules.values()]
        sys.stdout.write(formats.render_sarif(diagnostics, catalogue))


def _location_key(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.span is None:
        return ("~", 0, 0, d.code or "")  # findings without a place come last
    return (d.span.file.display, d.span.line, d.span.column, d.code or "")


def cmd_rules(args: argparse.Namespace, config: Config) -> int:
    from .rules import all_rules
    from .rules.explain import explain, listing, markdown

    rules = all_rules()
    if args.markdown:
        sys.stdout.write(markdown())
    elif args.rule is None:
        sys.stdout.write(listing())
    elif args.rule.upper() in rules:
        sys.stdout.write(explain(rules[args.rule.upper()]))
    else:
        from .diagnostics import did_you_mean

        raise UsageError(f"unknown rule '{args.rule}'" + did_you_mean(args.rule.upper(), rules))
    return EXIT_OK


def cmd_generate(args: argparse.Namespace, config: Config) -> int:
    from .cache import cached_outputs
    from .gen import GenOptions, render_all
    from .gen.common import GenerationError
    from .gen.writer import WriteError, check, write

    base = Path(args.out) if args.out else config.out
    options = GenOptions(macro_prefix=args.macro_prefix)
    status = EXIT_OK
    for path in spec_paths(args.paths, config):
        try:
            abi = load_abi(path, config)
            render = functools.partial(render_all, abi, options)
            files = cached_outputs(path, config.spec_root, abi, repr(options), render)
        except SpecError as exc:
            status = max(status, report_spec_error(exc))
            continue
        except GenerationError as exc:
            print(f"{display_name(path)}: error: {exc}", file=sys.stderr)
            status = max(status, EXIT_FINDINGS)
            continue
        root = base / abi.name
        shown = display_name(root)
        try:
            if args.check:
                report = check(root, files, diff=args.diff)
            else:
                report = write(root, files, force=args.force)
        except WriteError as exc:
            print(f"pvgen: error: {exc}", file=sys.stderr)
            status = max(status, EXIT_USAGE)
            continue
        if args.check:
            for diff in report.diffs:
                sys.stdout.write(diff)
            for kind in ("stale", "missing", "extra"):
                for name in getattr(report, kind):
                    print(f"{shown}/{name}: {kind}", file=sys.stderr)
            if not report.clean:
                print(f"{shown}: out of date; run 'pvgen generate'", file=sys.stderr)
                status = max(status, EXIT_FINDINGS)
            else:
                print(f"{shown}: up to date ({len(report.unchanged)} files)")
        else:
            print(
                f"{shown}: {len(report.written)} written, {len(report.unchanged)} unchanged,"
                f" {len(report.removed)} removed"
            )
    return status


def fmt_paths(paths: Sequence[str], config: Config) -> list[Path]:
    """The files to format: those named, every .pvspec under named folders, or the project's."""
    if not paths:
        roots = [config.spec_root] if config.spec_root else sorted({p.parent for p in config.specs})
        if not roots:
            raise UsageError("no spec given: name files or folders, or set 'specs' in [tool.pvgen]")
        paths = [str(r) for r in roots]
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(path.rglob("*.pvspec")))
        else:
            found.append(path)
    return found


def cmd_fmt(args: argparse.Namespace, config: Config) -> int:
    import difflib

    from .fmt import FormatterBug, format_source
    from .gen.writer import write_file
    from .loader import read_source
    from .source import SourceFile

    if args.paths == ["-"]:
        text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        try:
            sys.stdout.write(format_source(SourceFile.from_text("<stdin>", text)))
        except SpecError as exc:
            print_errors(exc)
            return EXIT_FINDINGS
        return EXIT_OK
    status = EXIT_OK
    changed = unchanged = 0
    for path in fmt_paths(args.paths, config):
        try:
            source = read_source(path, path.parent)
            formatted = format_source(source)
        except SpecError as exc:
            status = max(status, report_spec_error(exc))
            continue
        except FormatterBug as exc:
            print(f"pvgen: internal error: {exc}; the file was left as it is", file=sys.stderr)
            status = max(status, EXIT_BUG)
            continue
        if formatted == source.text:
            unchanged += 1
            continue
        changed += 1
        shown = display_name(path)
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    source.text.splitlines(keepends=True),
                    formatted.splitlines(keepends=True),
                    f"{shown} (original)",
                    f"{shown} (formatted)",
                )
            )
        if args.check or args.diff:
            print(f"would reformat {shown}", file=sys.stderr)
            if args.check:
                status = max(status, EXIT_FINDINGS)
            continue
        # Write through a symlink to the file it names, keeping its permissions.
        target = path.resolve()
        write_file(target, formatted)
        print(f"reformatted {shown}", file=sys.stderr)
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    print(f"{changed} file(s) {verb}, {unchanged} unchanged", file=sys.stderr)
    return status


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    import re

    from .cimport import HeaderError, import_header

    if args.abi is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.abi):
        raise UsageError(f"--abi '{args.abi}' is not a name (letters, digits, '_')")
    output = Path(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        # A spec the user may have started editing is never replaced without being asked.
        raise UsageError(f"'{display_name(output)}' exists; pass --force to replace it")
    path = Path(args.header)
    shown = display_name(path)
    try:
        data = sys.stdin.buffer.read() if args.header == "-" else path.read_bytes()
    except OSError as exc:
        print(f"pvgen: error: cannot read '{shown}': {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        imported = import_header(data, shown, tuple(args.struct or ()), args.abi)
    except HeaderError as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_FINDINGS
    for line, note in imported.notes:
        where = f"{shown}:{line}" if line else shown
        print(f"{where}: note: {note}", file=sys.stderr)
    if output is None:
        sys.stdout.write(imported.text)
        return EXIT_OK
    from .gen.writer import write_file

    try:
        write_file(output.resolve(), imported.text)
    except OSError as exc:
        print(f"pvgen: error: cannot write '{display_name(output)}': {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {display_name(output)}", file=sys.stderr)
    return EXIT_OK


def cmd_dump(args: argparse.Namespace, config: Config) -> int:
    from .dump import dump_json

    paths = spec_paths([args.path] if args.path else [], config)
    if len(paths) != 1:
        raise UsageError("dump takes one spec; name it on the command line")
    try:
        abi = load_abi(paths[0], config)
    except SpecError as exc:
        return report_spec_error(exc)
    sys.stdout.write(dump_json(abi))
    return EXIT_OK


def cmd_sim(args: argparse.Namespace, config: Config) -> int:
    import json

    from .guest import BACKENDS, WORKLOADS, compare, report, simulate
    from .guest.backends import BackendMismatch
    from .guest.bindings import load_bindings

    if args.size < 1:
        raise UsageError(f"--size must be at least 1, not {args.size}")
    for value, choices, what in (
        (args.backend, BACKENDS, "backend"),
        (args.workload, WORKLOADS, "workload"),
    ):
        if value is not None and value not in choices:
            raise UsageError(f"unknown {what} '{value}'; choose from {', '.join(choices)}")
    if args.compare and args.backend:
        raise UsageError("--compare runs every backend; drop --backend")
    try:
        bindings = load_bindings(Path(args.spec) if args.spec else None)
    except SpecError as exc:
        return report_spec_error(exc)

    def progress(done: int, total: int, label: str) -> None:
        sys.stderr.write(f"\r\x1b[K{label}: {done}/{total}")
        sys.stderr.flush()

    show = progress if sys.stderr.isatty() else None
    try:
        if args.compare:
            workloads = [args.workload] if args.workload else list(WORKLOADS)
            results = compare(
                size=args.size,
                seed=args.seed,
                workloads=workloads,
                bindings=bindings,
                progress=show,
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
                    bindings=bindings,
                    progress=show,
                )
            ]
    except BackendMismatch as exc:
        raise UsageError(f"the spec does not fit the simulated guest: {exc}") from exc
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


def report_spec_error(exc: SpecError) -> int:
    """Print a spec's errors; returns the exit status they call for."""
    print_errors(exc)
    return EXIT_USAGE if exc.unreadable else EXIT_FINDINGS


def print_errors(exc: SpecError) -> None:
    from .formats import render_text

    sys.stderr.write(render_text(exc.diagnostics))


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the width up front.

    argparse makes a formatter for every argument it adds, and each asks the terminal
    for its width through `shutil`, whose import (with bz2 and lzma) costs a few
    milliseconds of every run; the width only matters when help is printed.
    """

    def __init__(self, prog: str, **options: Any) -> None:
        columns = os.environ.get("COLUMNS", "")
        options.setdefault("width", int(columns) - 2 if columns.isdigit() else 98)
        super().__init__(prog, **options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        formatter_class=_HelpFormatter,
        prog="pvgen",
        description="Compile paravirtualization hook-table specs (.pvspec) and check them.",
        epilog="Exit status: 0 clean, 1 errors in the specs, 2 bad usage or unreadable input.",
    )
    parser.add_argument("--version", action="version", version=f"pvgen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    add_command = functools.partial(commands.add_parser, formatter_class=_HelpFormatter)

    check = add_command(
        "check",
        help="parse and validate specs",
        description="Parse and validate specs and run every rule; with no paths, check the"
        " 'specs' of [tool.pvgen].",
    )
    check.add_argument("paths", nargs="*", metavar="SPEC", help="root .pvspec files")
    check.add_argument(
        "--format", choices=FORMATS, default="text", help="how to print findings (default: text)"
    )
    check.add_argument("--werror", action="store_true", help="count warnings as errors")
    check.add_argument(
        "--no-rules", action="store_true", help="parse and resolve only; skip the safeguard rules"
    )
    check.set_defaults(run=cmd_check)

    rules = add_command(
        "rules",
        help="list the checks, or explain one",
        description="List every rule of 'pvgen check', or explain one with examples.",
    )
    rules.add_argument("rule", nargs="?", metavar="ID", help="a rule ID such as PV104")
    rules.add_argument("--markdown", action="store_true", help="print docs/rules.md")
    rules.set_defaults(run=cmd_rules)

    generate = add_command(
        "generate",
        help="write the C and Python bindings and the ABI dump",
        description="Generate C headers, Python dispatch tables and stubs, and abi.json for"
        " each spec into OUT/<abi>/. Only changed files are written, each atomically; only"
        " files pvgen generated are replaced or removed.",
    )
    generate.add_argument("paths", nargs="*", metavar="SPEC", help="root .pvspec files")
    generate.add_argument("--out", metavar="DIR", help="output folder (default: [tool.pvgen] out)")
    generate.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any output is out of date"
    )
    generate.add_argument("--diff", action="store_true", help="with --check, print unified diffs")
    generate.add_argument(
        "--force", action="store_true", help="overwrite files in the way that pvgen did not write"
    )
    generate.add_argument(
        "--macro-prefix",
        default="CONFIG_",
        metavar="PREFIX",
        help="prefix of the C macros that @if conditions test (default: CONFIG_)",
    )
    generate.set_defaults(run=cmd_generate)

    diff = add_command(
        "diff",
        help="compare two versions of an ABI",
        description="Compare two versions of an ABI and classify every change. Each side is a"
        " spec file, a frozen dump (.json), or git:REF[:PATH]. Exit status is a bitmask: 0 no"
        " change, 1 error in a spec, 2 usage error, 4 the ABI changed, 8 a breaking change.",
    )
    diff.add_argument("old", nargs="?", metavar="OLD")
    diff.add_argument("new", nargs="?", metavar="NEW")
    diff.add_argument(
        "--against", metavar="git:REF", help="compare the working spec with a git revision"
    )
    diff.add_argument(
        "--format",
        choices=["text", "json", "markdown", "github"],
        default="text",
        help="report format",
    )
    diff.set_defaults(run=cmd_diff)

    freeze = add_command(
        "freeze",
        help="freeze the current version's ABI dump",
        description="Write the canonical dump of the spec's version to <abi_dir>/<abi>/<version>.json;"
        " a frozen version is never overwritten with different content.",
    )
    freeze.add_argument("paths", nargs="*", metavar="SPEC", help="root .pvspec files")
    freeze.set_defaults(run=cmd_freeze)

    fmt = add_command(
        "fmt",
        help="format spec files in the canonical layout",
        description="Rewrite .pvspec files in the canonical layout, in place and atomically;"
        " comments are kept and the declared ABI never changes. With no paths, format every"
        " .pvspec in the folders of [tool.pvgen] specs. '-' formats stdin to stdout.",
    )
    fmt.add_argument("paths", nargs="*", metavar="PATH", help="spec files or folders, or '-'")
    fmt.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file would change"
    )
    fmt.add_argument("--diff", action="store_true", help="write nothing; print unified diffs")
    fmt.set_defaults(run=cmd_fmt)

    importer = add_command(
        "import",
        help="write a first spec from a C header of hook tables",
        description="Read a C header that declares hook tables as structs of function"
        " pointers and print a spec for them on stdout: hooks with their C signatures,"
        " #ifdef as @if, comments as docs, fastcall as @callconv. What cannot be carried"
        " over is a TODO comment in the spec and a note on stderr with its header line.",
    )
    importer.add_argument("header", metavar="HEADER", help="the C header, or '-' for stdin")
    importer.add_argument(
        "--struct",
        action="append",
        metavar="PATTERN",
        help="import the structs whose names match this glob (repeatable; default: every"
        " struct with a function-pointer member)",
    )
    importer.add_argument("--abi", metavar="NAME", help="the ABI's name (default: the file's)")
    importer.add_argument(
        "-o",
        "--output",
        metavar="SPEC",
        help="write the spec here (atomically) instead of to stdout; an existing file is kept",
    )
    importer.add_argument("--force", action="store_true", help="with --output, replace a file")
    importer.set_defaults(run=cmd_import)

    dump = add_command(
        "dump",
        help="print the resolved model",
        description="Print the resolved model of one spec as canonical JSON.",
    )
    dump.add_argument("path", nargs="?", metavar="SPEC", help="root .pvspec file")
    dump.add_argument("--format", choices=["json"], default="json", help="output format")
    dump.set_defaults(run=cmd_dump)

    sim = add_command(
        "sim",
        help="run the simulated x86 guest on a paravirt backend",
        description="Boot the simulated x86 guest, whose kernel calls every hook through the"
        " dispatch object generated from the spec, on one backend and run a workload; print"
        " hook calls, hypercalls, batches and simulated cycles. With --compare, run every"
        " backend on every workload and print cycles relative to native.",
    )
    sim.add_argument(
        "--backend", help="native (default), xen, vmi, lguest or kvm; not with --compare"
    )
    sim.add_argument(
        "--workload",
        help="fork, context-switch, interrupts, timekeeping, syscalls or kbuild (default);"
        " with --compare, only this workload",
    )
    sim.add_argument("--size", type=int, default=100, help="workload steps (default: 100)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    sim.add_argument("--compare", action="store_true", help="every backend, side by side")
    sim.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default: text)"
    )
    sim.add_argument(
        "--no-lazy-mmu", action="store_true", help="the kernel does not open lazy-MMU brackets"
    )
    sim.add_argument(
        "--emit-callsites",
        metavar="FILE",
        help="write the measured calls per hook as JSON (hook path -> count)",
    )
    sim.add_argument("--spec", metavar="SPEC", help="the root spec (default: the reference spec)")
    sim.set_defaults(run=cmd_sim)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # pvgen is a short-lived process that builds large acyclic structures; the
    # cycle collector would only rescan them (a third of the time of a large
    # check). Reference counting still frees everything that is dropped.
    gc.disable()
    try:
        return _run(argv)
    finally:
        gc.enable()


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config()
        return int(args.run(args, config))
    except (UsageError, ConfigError) as exc:
        print(f"pvgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print("pvgen: error: input nests too deeply", file=sys.stderr)
        return EXIT_FINDINGS
    except MemoryError:
        print("pvgen: error: out of memory", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so plainly, without a wall of traceback
        print(f"pvgen: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("please report this with the spec that caused it", file=sys.stderr)
        if os.environ.get("PVGEN_DEBUG"):
            import traceback

            traceback.print_exc()
        return EXIT_BUG
