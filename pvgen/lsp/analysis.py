"""Analysis: one root spec compiled from the editor's text, with everything it found.

Takes: the resolved path of a root spec, the text of the open documents (by resolved path),
and the `Config` that applies to the spec.
Hands on: a `Snapshot`: the syntax trees of the root and its includes (when they load), the
model (when it resolves), every error and rule finding as pvgen `Diagnostic`s, and the
files the root depends on. `compile_root` is the one function through which the server
compiles anything, so that a faster, incremental pipeline can take its place in one spot.
A spec with errors, or a bug in pvgen, becomes diagnostics, never an exception.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .. import api
from ..config import Config
from ..diagnostics import Diagnostic, Severity, SpecError
from ..model import Abi
from ..records import record
from ..source import SourceFile, Span
from ..syntax import SpecFile, parse


@record
class Snapshot:
    """What one compile of a root spec found."""

    root: Path  # resolved
    files: tuple[SpecFile, ...]  # the syntax trees in include order; () if loading failed
    paths: tuple[Path, ...]  # the resolved path of each of `files`
    abi: Abi | None  # None when the spec has errors
    diagnostics: tuple[Diagnostic, ...]  # errors, else the rules' findings
    depends: frozenset[Path]  # every file whose change may change this result


def span_path(span: Span) -> Path:
    """The resolved path of the file a span points into (spans name their file as it was
    shown: relative to the working directory, or absolute)."""
    return Path(os.path.realpath(os.path.abspath(span.file.display)))


# The last syntax tree of each file, by its names: an edit of one file parses that file
# alone again.
_TREES: dict[tuple[str, str], SpecFile] = {}


def _parse(source: SourceFile) -> SpecFile:
    key = (source.display, source.relative)
    found = _TREES.get(key)
    if found is not None and found.source.text == source.text:
        return found
    tree = parse(source)
    _TREES[key] = tree
    return tree


def compile_root(root: Path, sources: Mapping[Path, str], config: Config | None = None) -> Snapshot:
    """Compile the root spec at `root` with the text of `sources` in place of those files,
    and run the rules on the model, under `config` (by default the configuration found
    from the spec's folder). Never raises for a spec or a configuration."""
    files: tuple[SpecFile, ...] = ()
    paths: tuple[Path, ...] = ()
    abi: Abi | None = None
    found: list[Diagnostic] = []
    try:
        if config is None:
            config = api.load_config(root.parent)
        loaded = api.load_spec(root, config.spec_root, sources=sources, parse=_parse)
        files, paths = loaded.files, loaded.paths
        abi = api.resolve_spec(loaded)
        found.extend(api.lint(abi, root, config))
    except SpecError as exc:
        found.extend(exc.diagnostics)
    except api.ConfigError as exc:  # the spec is not checked under a broken configuration
        found.append(Diagnostic(Severity.ERROR, str(exc), None))
    except RecursionError:
        found.append(Diagnostic(Severity.ERROR, "input nests too deeply", None))
    except Exception as exc:  # a bug in pvgen: said in the editor, the server goes on
        message = f"internal error of pvgen: {type(exc).__name__}: {exc}"
        found.append(Diagnostic(Severity.ERROR, message, None))
    depends = {root, *paths}
    for d in found:
        if d.span is not None:
            depends.add(span_path(d.span))
    return Snapshot(root, files, paths, abi, tuple(found), frozenset(depends))
