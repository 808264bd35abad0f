"""Freeze: the canonical dump of a released version, kept beside the specs and never edited.

Takes: a model and the ABI folder (`<spec folder>/abi/<abi>/` unless configured).
Hands on: `<version>.json` written (refused if that version is already
frozen with another ABI), and the checks `pvgen check` runs on the frozen
dumps: each still matches its hash, and the spec is either a frozen version
it does not change (beyond cosmetics) or the next version after the latest.

Freeze, PV003 and `pvgen diff` agree because they ask one question, the one
`release_changes` answers: what the diff of the frozen dump and the spec
reports beyond cosmetics. Only the ABI decides; where the spec's lines are
(`loc`), the hashes of its files and its comments and docs never do, so an
edit of a comment or of the layout of a released spec needs no new version.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .frozen import frozen_dumps, frozen_versions
from .sides import SideError, load_dump_file

if TYPE_CHECKING:
    from ..model import Abi
    from .changes import Change


class FreezeError(Exception):
    """Freezing would lose or contradict a released version; the message says why."""


def abi_folder(abi: Abi, spec: Path, configured: Path | None) -> Path:
    return (configured or spec.parent / "abi") / abi.name


def release_changes(frozen: dict[str, Any], abi: Abi) -> list[Change]:
    """What the spec changes in the frozen release: the diff's changes beyond cosmetics."""
    from ..dump import abi_to_dict
    from .changes import ChangeClass
    from .diff import diff

    return [c for c in diff(frozen, abi_to_dict(abi)) if c.change_class > ChangeClass.COSMETIC]


def freeze(abi: Abi, folder: Path) -> tuple[Path, bool]:
    """Write the dump of `abi.version`; returns its path and whether it was written.

    A version already frozen is kept as it is when the spec has the same ABI (it may
    differ in comments, docs and lines); otherwise freezing is refused with the first
    change, which needs a new version.
    """
    from ..gen.abi_json import render as render_dump
    from ..gen.writer import write_file

    dump = render_dump(abi)
    path = folder / f"{abi.version}.json"
    if path.exists():
        if path.read_text(encoding="utf-8") == dump.content:
            return path, False
        try:
            frozen = load_dump_file(path)
        except SideError as exc:
            raise FreezeError(str(exc)) from None
        changed = release_changes(frozen, abi)
        if not changed:
            return path, False
        latest = max(frozen_versions(folder))
        raise FreezeError(
            f"version {abi.version} is already frozen in '{path}' with another ABI, e.g."
            f" {changed[0].id} {changed[0].item}: {changed[0].message}; raise the abi"
            f" 'version' to {latest + 1} to release a new one"
        )
    # One file, atomically; not a tree sync, which would remove the other releases.
    write_file(path, dump.content)
    return path, True


def check_frozen(abi: Abi, folder: Path) -> list[str]:
    """Problems with the frozen dumps of `abi` and its version, as messages."""
    problems = []
    versions = frozen_versions(folder)
    loaded = {}
    for version, path in versions.items():
        try:
            data = load_dump_file(path)
        except SideError as exc:
            problems.append(str(exc))
            continue
        loaded[version] = data
        if data["abi"]["version"] != version:
            problems.append(f"'{path}' holds version {data['abi']['version']}, not {version}")
    if not versions:
        return problems
    latest = max(versions)
    if abi.version in versions and abi.version not in loaded:
        return problems  # that release's dump is unreadable, as reported
    if abi.version in versions:
        if _same_sources(abi, loaded[abi.version]):
            return problems  # the very files the release was frozen from
        # The spec of a released version, edited since: it must still be that release.
        changed = release_changes(loaded[abi.version], abi)
        if changed:
            problems.append(
                f"the spec changes frozen version {abi.version} ('{versions[abi.version]}'), e.g."
                f" {changed[0].id} {changed[0].item}; raise the abi 'version' to {latest + 1}"
            )
    elif abi.version != latest + 1:
        problems.append(
            f"abi '{abi.name}' is at version {abi.version}, but the latest frozen version is"
            f" {latest}; a new version is {latest + 1}"
        )
    return problems


def frozen_inputs(abi: Abi, folder: Path) -> dict[str, Any]:
    """What `check_frozen` reads, for its answer to be kept: the spec's files and the
    frozen dumps."""
    return {
        "abi": [abi.name, abi.version],
        "sources": [[s.path, s.sha256] for s in abi.sources],
        "frozen": frozen_dumps(folder),
    }


def _same_sources(abi: Abi, frozen: dict[str, object]) -> bool:
    """Whether the spec files are byte for byte those the release was frozen from."""
    recorded = frozen.get("sources")
    current = [{"path": s.path, "sha256": s.sha256} for s in abi.sources]
    return isinstance(recorded, list) and recorded == current
