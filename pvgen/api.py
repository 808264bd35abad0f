"""The compile API: the whole pipeline of pvgen, below the command line.

Takes: paths of root specs (or spec text), and a `Config` (from pyproject.toml, or the
defaults of `Config(None)`).
Hands on: typed results of every stage: the `Abi` model (compiled, or from the cache),
the rules' `Diagnostic`s, the generated `OutputFile`s and what writing them did, the
canonical dump, a frozen version, the `Change`s between two versions, formatted spec text,
the reference documentation.
Nothing here prints or exits; errors are exceptions: `SpecError` (with diagnostics that
carry file:line:col) for a spec, and one exception type per other stage (`SideError`,
`AcceptError`, `FreezeError`, `WriteError`, `PluginError`, `ConfigError`).

The command line (`pvgen.commands`), the simulated guest and the tests all go through
this module; see docs/api.md for examples.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .config import Config, ConfigError, load_config
from .diagnostics import Diagnostic, Severity, SpecError
from .gen import FAMILIES
from .gen.common import GenOptions, OutputFile
from .gen.stream import StreamedFile
from .records import record

if TYPE_CHECKING:  # imported on first use at run time (see __getattr__ below)
    from collections.abc import Callable, Mapping

    from .abi.accept import Acceptance, AcceptError
    from .abi.changes import Change
    from .abi.freeze import FreezeError
    from .abi.sides import SideError
    from .gen.common import PluginError
    from .gen.writer import WriteError, WriteReport
    from .loader import LoadedSpec
    from .model import Abi
    from .source import SourceFile
    from .syntax import SpecFile

__all__ = [
    "Abi",
    "AcceptError",
    "CheckReport",
    "CheckedSpec",
    "Config",
    "ConfigError",
    "Diagnostic",
    "DiffResult",
    "FreezeError",
    "GenOptions",
    "OutputFile",
    "PluginError",
    "SideError",
    "SpecError",
    "SpecSummary",
    "StreamedFile",
    "WriteError",
    "check",
    "check_outputs",
    "check_rule_levels",
    "compile_spec",
    "count_hooks",
    "count_hooks_per_target",
    "current_outputs",
    "diff",
    "document",
    "dump",
    "dump_json",
    "format_text",
    "freeze",
    "lint",
    "load_abi",
    "load_config",
    "load_spec",
    "plugin_outputs",
    "remember_outputs",
    "render",
    "render_streamed",
    "resolve_spec",
    "write_outputs",
]


# ---- compile ----------------------------------------------------------------------------


def compile_spec(
    path: Path, spec_root: Path | None = None, *, sources: Mapping[Path, str] | None = None
) -> tuple[Abi, list[Path]]:
    """Load, parse and resolve one root spec, never from the cache.

    Returns the model and the files it was read from (the root and its includes).
    `sources` maps resolved file paths to text used instead of the file's content (an
    editor's unsaved buffers). Raises `SpecError` for a spec with errors or a file that
    cannot be read.
    """
    loaded = load_spec(path, spec_root, sources=sources)
    return resolve_spec(loaded), list(loaded.paths)


def load_spec(
    path: Path,
    spec_root: Path | None = None,
    *,
    sources: Mapping[Path, str] | None = None,
    parse: Callable[[SourceFile], SpecFile] | None = None,
) -> LoadedSpec:
    """The first half of `compile_spec`: the syntax trees of a root spec and its includes,
    in include order, each with its resolved path. `parse`, if given, turns each file's
    text into its tree instead of the parser (one that remembers trees, for a tool that
    compiles the same files again and again). Raises `SpecError` for a file that cannot
    be read or parsed, or a bad include."""
    from .loader import load

    if parse is None:
        return load(path, spec_root, sources=sources)
    return load(path, spec_root, sources=sources, parse=parse)


def resolve_spec(loaded: LoadedSpec) -> Abi:
    """The second half of `compile_spec`: the model of loaded syntax trees. Raises
    `SpecError` with every error of the spec."""
    from .resolve import resolve

    return resolve(loaded)


def _compile_traced(path: Path, spec_root: Path | None) -> tuple[Abi, list[tuple[Path, Path]]]:
    """`compile_spec`, with each source as named and the file that name resolved to when
    it was read: what the cache checks again before it hands the model out."""
    from .cache import cached_parse
    from .loader import load
    from .resolve import resolve
    from .syntax import parse

    held = [load(path, spec_root, parse=cached_parse(parse))]
    traced = list(zip(held[0].named, held[0].paths, strict=True))
    # Handed over, not kept: resolve lets go of the syntax trees once the model has them.
    return resolve(held.pop()), traced


def load_abi(path: Path, config: Config | None = None) -> Abi:
    """The model of one root spec, compiled or taken from the cache.

    The cache is keyed by the content of every file the spec reads and by where each
    include's symbolic links led, so an edit or a retargeted link is never missed; `PVGEN_CACHE_DIR` moves it and `PVGEN_NO_CACHE=1` turns it off.
    """
    return _load_abi_traced(path, config)[0]


def _load_abi_traced(path: Path, config: Config | None) -> tuple[Abi, list[list[str]]]:
    """`load_abi`, with each source as named, where it led and its SHA-256."""
    from .cache import cached_compile

    spec_root = config.spec_root if config is not None else None
    abi, sources = cached_compile(path, spec_root, _compile_traced)
    _SOURCES[abi] = sources
    return abi, sources


# The sources (as named, where each led, their hashes) of each model `load_abi` handed out:
# what `render` keeps its manifest under.
_SOURCES: weakref.WeakKeyDictionary[Abi, list[list[str]]] = weakref.WeakKeyDictionary()


# ---- findings ---------------------------------------------------------------------------


def lint(abi: Abi, spec: Path, config: Config | None = None) -> list[Diagnostic]:
    """The findings of every rule on `abi`, after `@allow` and the config's allows.

    `spec` is the root spec the model came from: the frozen versions that the version
    rules compare with are looked up beside it (or in the configured `abi_dir`).
    """
    return _run_rules(abi, spec, config or Config(None), None)


def _run_rules(
    abi: Abi,
    spec: Path,
    config: Config,
    used_file_allows: set[int] | None,
    *,
    keep: bool = True,
) -> list[Diagnostic]:
    """The findings of the rules on `abi`; with `keep`, kept in the cache while their
    inputs are the same (`check` keeps its own, with the spec's summary, instead)."""
    from .abi.freeze import abi_folder, frozen_inputs
    from .cache import cached_result, file_stamp
    from .rules import all_rules, run_rules

    check_rule_levels(config)
    frozen = abi_folder(abi, spec, config.abi_dir)
    allows = list(config.allow)

    def run() -> tuple[list[Diagnostic], list[int]]:
        used: set[int] = set()
        found = run_rules(abi, config.rules, allows, used, frozen)
        return found, [i for i, a in enumerate(allows) if id(a) in used]

    if not keep:
        return _used(run(), allows, used_file_allows)
    # The findings are kept while everything they are made from is the same: the spec's
    # files (and where their names lead: file allows match resolved paths), the settings
    # and allows of the configuration, the frozen dumps, and the rules themselves (pvgen's
    # own are part of the cache key; a plugin's by its module file).
    rules = all_rules()
    inputs = {
        "cwd": os.getcwd(),
        "sources": [[s.path, s.sha256] for s in abi.sources],
        "resolved": _resolved_files(abi),
        "settings": repr(config.rules),
        "allows": [repr(a) for a in allows],
        "frozen": frozen_inputs(abi, frozen)["frozen"],
        "rules": [
            [rule_id, file_stamp(_rule_module_file(rule))] for rule_id, rule in rules.items()
        ],
    }
    return _used(
        cached_result("rules", os.path.realpath(spec), inputs, run), allows, used_file_allows
    )


def _used(
    result: tuple[list[Diagnostic], list[int]], allows: list[Any], used_file_allows: set[int] | None
) -> list[Diagnostic]:
    """The findings of `result`, after marking the allows they used (by their index)."""
    found, used = result
    if used_file_allows is not None:
        used_file_allows.update(id(allows[i]) for i in used)
    return list(found)


def _resolved_files(abi: Abi) -> list[list[str]]:
    """Each file that declares something, as named and where the name leads now: file
    allows match findings by the resolved path of their file."""
    declared = (*abi.targets, *abi.types, *abi.tables, *abi.backends)
    names = sorted({d.span.file.display for d in declared} | {abi.span.file.display})
    return [[name, os.path.realpath(name)] for name in names]


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _rule_module_file(rule: object) -> str | None:
    """The file of a plugin rule's module; None for pvgen's own rules (in the cache key)."""
    import sys

    check = getattr(rule, "check", None)
    module = sys.modules.get(getattr(check, "__module__", "") or "")
    path = getattr(module, "__file__", None)
    if path is None or os.path.abspath(path).startswith(_PACKAGE):
        return None
    return str(path)


def check_rule_levels(config: Config) -> None:
    """Raise `ConfigError` if the config's `[rules]` sets the severity of an ID that is not a
    rule of `check` (a typo, a compiler error, a change kind of `diff`)."""
    from .diagnostics import did_you_mean
    from .rules import all_rules

    known = all_rules()
    for rule_id in config.rules.levels:
        if rule_id not in known:
            raise ConfigError(
                f"{config.path}: {config.table} 'rules' sets '{rule_id}', which is not a rule"
                " of 'pvgen check'" + did_you_mean(rule_id, known)
            )


def count_hooks(abi: Abi) -> int:
    """How many hooks the aggregate reaches, sub-tables included: the union over targets."""
    return len(abi.hook_slots)


def count_hooks_per_target(abi: Abi) -> dict[str, int]:
    """How many hooks each target has (those whose conditions hold there), by target name."""
    return {name: len(facts.hooks) for name, facts in abi.facts.items()}


@record
class SpecSummary:
    """What a check says of a spec that compiled: its ABI's name and version and how much
    it holds."""

    name: str
    version: int
    tables: int
    hooks: int  # the union over targets, as `count_hooks`
    hooks_per_target: dict[str, int]  # as `count_hooks_per_target`
    backends: int
    targets: int

    @classmethod
    def of(cls, abi: Abi) -> SpecSummary:
        return cls(
            abi.name,
            abi.version,
            len(abi.tables),
            count_hooks(abi),
            count_hooks_per_target(abi),
            len(abi.backends),
            len(abi.targets),
        )


class CheckedSpec:
    """One root spec that compiled: its summary, and its model, read when first asked for
    (a check whose findings were kept has no need of it)."""

    def __init__(self, path: Path, summary: SpecSummary, abi: Abi | None, config: Config) -> None:
        self.path = path
        self.summary = summary
        self._abi = abi
        self._config = config

    @property
    def abi(self) -> Abi:
        if self._abi is None:
            self._abi = load_abi(self.path, self._config)
        return self._abi


@record
class CheckReport:
    """What `check` found: the specs that compiled, and every diagnostic, sorted."""

    specs: tuple[CheckedSpec, ...]
    diagnostics: tuple[Diagnostic, ...]
    unreadable: bool  # some spec could not be read at all

    @property
    def errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def check(
    paths: Sequence[Path], config: Config | None = None, *, rules: bool = True
) -> CheckReport:
    """Compile every root spec and, with `rules`, run the rules on each.

    A spec that does not compile contributes its errors; the others are still checked.
    A `[[tool.pvgen.allow]]` of the config that accepted no finding in any spec is
    reported as PV001. While nothing a spec's findings are made from has changed, they
    are taken from the cache without reading the model.
    """
    config = config or Config(None)
    diagnostics: list[Diagnostic] = []
    checked: list[CheckedSpec] = []
    unreadable = False
    used_file_allows: set[int] = set()
    for path in paths:
        try:
            spec, found = _check_spec(path, config, rules, used_file_allows)
        except SpecError as exc:
            diagnostics.extend(exc.diagnostics)
            unreadable = unreadable or exc.unreadable
            continue
        checked.append(spec)
        diagnostics.extend(found)
    unused_level = config.rules.level("PV001", Severity.WARNING)
    for allow in config.allow if rules else ():
        if unused_level is None:  # PV001 is off
            break
        from .rules import all_rules

        if id(allow) not in used_file_allows and allow.rule in all_rules():
            diagnostics.append(
                Diagnostic(
                    unused_level,
                    f"{config.path}: an allow of {allow.rule} for '{allow.path}'"
                    " accepts no finding; remove it",
                    None,
                    code="PV001",
                )
            )
    diagnostics.sort(key=_location_key)
    return CheckReport(tuple(checked), tuple(diagnostics), unreadable)


# A kept check: the findings, the indices of the configuration's allows they used, and the
# spec's summary.
_Kept = tuple[list[Diagnostic], list[int], SpecSummary]


def _check_spec(
    path: Path, config: Config, rules: bool, used_file_allows: set[int]
) -> tuple[CheckedSpec, list[Diagnostic]]:
    """One spec's part of `check`. The findings are kept with a header of everything they
    are made from that is not pvgen's code: the spec's files (as named, where each name
    led, their text's SHA-256), the files that declare something (file allows match their
    resolved paths), the configuration's rule settings and allows, the
    frozen dumps and the rule plugins' modules. A later check asks the disk about each of
    these again before it takes the findings, and reads neither the model nor the rules."""
    from .cache import fetch, keep

    name = f"{os.path.realpath(path)}\0{config.spec_root}\0{os.getcwd()}\0{rules}"
    allows = list(config.allow)
    kept = cast("_Kept | None", fetch("check", name, lambda h: _check_fresh(h, path, config)))
    if kept is not None:
        found, used, summary = kept
        used_file_allows.update(id(allows[i]) for i in used)
        return CheckedSpec(path, summary, None, config), found
    abi, sources = _load_abi_traced(path, config)
    used_here: set[int] = set()
    found = _run_rules(abi, path, config, used_here, keep=False) if rules else []
    used_file_allows.update(used_here)
    summary = SpecSummary.of(abi)
    used = [i for i, a in enumerate(allows) if id(a) in used_here]
    header = {
        "sources": sources,
        "abi": abi.name,
        **_check_inputs(path, config, abi.name, [n for n, _ in _resolved_files(abi)]),
    }
    keep("check", name, header, (found, used, summary))
    return CheckedSpec(path, summary, abi, config), found


def _check_inputs(
    spec: Path, config: Config, abi_name: str, declaring: list[str]
) -> dict[str, Any]:
    """The inputs of a spec's findings beyond its own files, asked of the disk now."""
    from .abi.frozen import frozen_dumps

    return {  # the working folder is part of the entry's name
        "resolved": [[n, os.path.realpath(n)] for n in declaring],
        "settings": repr(config.rules),
        "allows": [repr(a) for a in config.allow],
        "frozen": frozen_dumps((config.abi_dir or spec.parent / "abi") / abi_name),
        "plugins": _rule_plugin_stamps(),
    }


def _rule_plugin_stamps() -> list[list[object]]:
    """Each rule plugin's entry point, with its module's file stamped (pvgen's own rules
    are in the cache key): found without importing the rules or the plugins' modules."""
    from importlib.util import find_spec

    from .cache import file_stamp
    from .entrypoints import RULES_GROUP, entry_points

    stamps: list[list[object]] = []
    for name, value, dist in sorted(entry_points(RULES_GROUP)):
        try:
            spec = find_spec(value.partition(":")[0].strip())
        except (ImportError, ValueError):
            spec = None
        stamps.append([name, value, dist, file_stamp(spec.origin if spec else None)])
    return stamps


def _check_fresh(header: Any, spec: Path, config: Config) -> bool:
    """Whether the inputs a kept check's header records are still what the disk says."""
    from .cache import sources_fresh

    try:
        if not sources_fresh(header["sources"]):
            return False
        declaring = [n for n, _ in header["resolved"]]
        now = _check_inputs(spec, config, header["abi"], declaring)
    except (KeyError, TypeError, ValueError):
        return False
    expected = json.loads(json.dumps(now, sort_keys=True))
    return all(header.get(key) == value for key, value in expected.items())


def _location_key(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.span is None:
        return ("~", 0, 0, d.code or "")  # findings without a place come last
    return (d.span.file.display, d.span.line, d.span.column, d.code or "")


# ---- outputs ----------------------------------------------------------------------------


def render(
    abi: Abi,
    options: GenOptions | None = None,
    *,
    families: Collection[str] = FAMILIES,
    spec: Path | None = None,
    config: Config | None = None,
    workers: int = 1,
) -> list[OutputFile]:
    """The generated files of `abi`, sorted by path; nothing is written. `families` chooses
    among "c" (header and native table), "python" (the package) and "abi" (abi.json).
    `workers` > 1 lets a single-threaded caller render abi.json in a forked second process
    meanwhile (the files are the same).

    With `spec`, the root spec `abi` was loaded from by `load_abi` (under `config`), the
    manifest of the files is kept until one of the spec's files changes (`current_outputs`
    asks it whether an output folder already holds them), and from the second rendering of
    the same files on, the files themselves.
    """
    from .gen import render_all

    options = options or GenOptions()
    sources = _SOURCES.get(abi)
    if spec is None or sources is None or set(families) != set(FAMILIES):
        return render_all(abi, options, tuple(families), workers=workers)
    from .cache import cached_result, fetch, keep
    from .gen.writer import manifest_file

    name = _made_name(spec, config, options)
    # The files are kept from the second time the same sources are rendered on: a spec
    # being edited is rendered once per state, and keeping every state's files (33 MB at
    # 10,000 hooks) would cost each edit more than it saves; one generated into several
    # folders, or into an emptied one, is rendered once more and then read back.
    again = fetch("made", name, lambda header: header == {"sources": sources}) is not None
    if again:
        files = cached_result(
            "out", name, sources, lambda: render_all(abi, options, FAMILIES, workers=workers)
        )
    else:
        files = render_all(abi, options, FAMILIES, workers=workers)
        keep("made", name, {"sources": sources}, (abi.name, manifest_file(files).content))
    return list(files)


def render_streamed(
    abi: Abi, options: GenOptions | None = None, *, families: Collection[str] = FAMILIES
) -> list[StreamedFile]:
    """The files `render` makes, each rendered only as `write_outputs` or `check_outputs`
    writes it, piece by piece: a large ABI's files are never whole in memory (320 MB of
    text at 100,000 hooks). Sorted by path; `families` as for `render`."""
    from .gen import streamed_all

    return streamed_all(abi, options, tuple(families))


def remember_outputs(
    abi: Abi,
    spec: Path,
    manifest: str,
    options: GenOptions | None = None,
    config: Config | None = None,
) -> None:
    """Keep `manifest`, what `write_outputs` reported after writing the files of
    `render_streamed(abi, options)` (all families, nothing else), for `current_outputs`:
    until one of the files of `spec` (the root spec `abi` was loaded from by `load_abi`,
    under `config`) changes, a folder holding exactly that is known to be up to date."""
    from .cache import keep

    sources = _SOURCES.get(abi)
    if sources is not None and manifest:
        name = _made_name(spec, config, options or GenOptions())
        keep("made", name, {"sources": sources}, (abi.name, manifest))


def current_outputs(
    spec: Path, out: Path, options: GenOptions | None = None, config: Config | None = None
) -> tuple[str, list[str]] | None:
    """The ABI's name and its files, if `out/<abi>/` holds exactly what `generate` would
    write for `spec` (under `config`, with `options`): known from the manifest that
    `render` kept, while none of the spec's files has changed, without reading the model
    or rendering anything; None when that cannot be told so (then render and write)."""
    from .cache import fetch, sources_fresh
    from .gen.writer import current

    def fresh(header: Any) -> bool:
        return isinstance(header, dict) and sources_fresh(header.get("sources", ()))

    options = options or GenOptions()
    kept = fetch("made", _made_name(spec, config, options), fresh)
    if not isinstance(kept, tuple):
        return None
    name, manifest = kept
    files = current(out / name, manifest)
    return None if files is None else (name, files)


def _made_name(spec: Path, config: Config | None, options: GenOptions) -> str:
    spec_root = config.spec_root if config is not None else None
    return f"{os.path.realpath(spec)}\0{spec_root}\0{os.getcwd()}\0{options!r}"


def plugin_outputs(abi: Abi, plugins: Sequence[str]) -> list[OutputFile]:
    """The files of generator plugins (`pvgen-gen-NAME` run on the canonical dump), each
    under `NAME/`, sorted by path. Raises `PluginError` when a plugin cannot be run, fails
    or answers something unusable."""
    from .gen.plugins import run_plugin

    text = dump_json(abi) if plugins else ""
    files = [f for name in dict.fromkeys(plugins) for f in run_plugin(name, text)]
    return sorted(files, key=lambda f: f.path)


def write_outputs(
    abi: Abi,
    files: Sequence[OutputFile | StreamedFile],
    out: Path,
    *,
    force: bool = False,
    workers: int = 1,
) -> WriteReport:
    """Write `files` into `out/<abi>/`: only what changed, each file atomically, and only
    over files that the folder's manifest lists with their current content (what pvgen
    wrote there) unless `force`; the manifest is brought up to date too. Runs on the same
    folder take turns. Returns a `WriteReport`; raises `WriteError` for a refusal, before
    anything the folder held is replaced or removed. `workers` > 1 lets a single-threaded
    caller have abi.json rendered by a second process meanwhile."""
    from .gen.writer import write

    return write(out / abi.name, files, force=force, workers=workers)


def check_outputs(
    abi: Abi,
    files: Sequence[OutputFile | StreamedFile],
    out: Path,
    *,
    diff: bool = False,
    workers: int = 1,
) -> WriteReport:
    """Compare `files` with `out/<abi>/` without writing: a `WriteReport` whose `stale`,
    `missing` and `extra` name what is out of date (and `diffs`, with `diff`)."""
    from .gen.writer import check as check_files

    return check_files(out / abi.name, files, diff=diff, workers=workers)


# ---- versions ---------------------------------------------------------------------------


def dump(abi: Abi) -> dict[str, Any]:
    """The canonical dump of `abi`: the resolved model as plain JSON values."""
    from .dump import abi_to_dict

    return abi_to_dict(abi)


def dump_json(abi: Abi) -> str:
    """The canonical dump as the indented JSON text that `pvgen dump` prints."""
    from .dump import dump_json as as_json

    return as_json(abi)


def document(abi: Abi, fmt: str = "markdown") -> str:
    """The reference documentation of `abi`, from its doc comments (`pvgen doc`): Markdown,
    or with `fmt="html"` one self-contained HTML page."""
    from .docgen import render as render_doc

    return render_doc(abi, fmt)


def freeze(abi: Abi, spec: Path, config: Config | None = None) -> tuple[Path, bool]:
    """Freeze the dump of `abi`'s version in its ABI folder; returns the file and whether it
    was written now (False: already frozen, and the spec still has that release's ABI; its
    comments, docs and lines may differ). Raises `FreezeError` when that version is frozen
    with another ABI, naming the first change."""
    from .abi.freeze import abi_folder
    from .abi.freeze import freeze as freeze_dump

    configured = config.abi_dir if config is not None else None
    return freeze_dump(abi, abi_folder(abi, spec, configured))


@record
class DiffResult:
    """The changes from one version of an ABI to another."""

    old: dict[str, Any]  # the two canonical dumps
    new: dict[str, Any]
    changes: tuple[Change, ...]  # accepted ones carry the reason
    unused_acceptances: tuple[Acceptance, ...]  # entries of accepted.toml that matched nothing

    @property
    def stable(self) -> bool:
        return bool(self.new["abi"]["stability"] == "stable")


def diff(old: str, new: str, config: Config | None = None) -> DiffResult:
    """Compare two versions of an ABI; each is a spec path, a frozen dump (`.json`) or
    `git:REF[:PATH]` (PATH defaults to the first spec of the config).

    Changes that the ABI folder's `accepted.toml` accepts are marked accepted. Raises
    `SpecError`, `SideError` (a side that cannot be read) or `AcceptError`.
    """
    from .abi.accept import apply_acceptances, load_acceptances
    from .abi.diff import diff as diff_dumps
    from .abi.sides import SideError, load_side

    config = config or Config(None)
    default = str(config.specs[0].absolute()) if config.specs else None

    def compiled(path: Path) -> dict[str, Any]:
        return dump(load_abi(path, config))

    def compiled_once(path: Path, spec_root: Path | None) -> dict[str, Any]:
        return dump(compile_spec(path, spec_root)[0])

    before, after = (
        load_side(
            side,
            compiled,
            default_path=default,
            compile_once=compiled_once,
            spec_root=config.spec_root,
        )
        for side in (old, new)
    )
    try:
        changes = diff_dumps(before, after)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # A dump from a spec always has the shape the diff reads; one read from a file
        # may have any shape at all.
        dumps = [side for side in (old, new) if side.endswith(".json")]
        if not dumps:
            raise
        # A dump that carries its hash was written by pvgen (a changed one is refused).
        unhashed = [s for s, d in ((old, before), (new, after)) if s in dumps and "sha256" not in d]
        dumps = unhashed or dumps
        named = " or ".join(f"'{side}'" for side in dumps)
        raise SideError(
            f"{named} is not a dump of the shape pvgen writes"
            f" ({type(exc).__name__}: {exc}); compare specs, or dumps made by 'pvgen freeze'"
        ) from None
    accepted = _accepted_file(new, after["abi"]["name"], config)
    marked, unused = apply_acceptances(changes, load_acceptances(accepted), after["abi"]["version"])
    return DiffResult(before, after, tuple(marked), tuple(unused))


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


# ---- spec text --------------------------------------------------------------------------


def format_text(text: str, name: str = "<string>") -> str:
    """`text` in the canonical layout of `pvgen fmt`; raises `SpecError` if it does not
    parse. `name` is the file name that error messages give."""
    from .fmt import format_source
    from .source import SourceFile

    return format_source(SourceFile.from_text(name, text))


_LATER_ERRORS = {
    "Abi": "pvgen.model",
    "AcceptError": "pvgen.abi.accept",
    "FreezeError": "pvgen.abi.freeze",
    "PluginError": "pvgen.gen.common",
    "SideError": "pvgen.abi.sides",
    "WriteError": "pvgen.gen.writer",
}


def __getattr__(name: str) -> object:
    """The error types of the later stages, imported only when asked for, so that
    `import pvgen.api` costs no more than compiling needs."""
    if name in _LATER_ERRORS:
        import importlib

        return getattr(importlib.import_module(_LATER_ERRORS[name]), name)
    raise AttributeError(f"module 'pvgen.api' has no attribute '{name}'")
