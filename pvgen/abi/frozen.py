"""The frozen releases in an ABI's folder, found and fingerprinted without reading them.

Takes: the folder of an ABI's frozen dumps (`<abi_dir>/<abi name>/N.json`).
Hands on: `frozen_versions`, each version's file; `frozen_dumps`, each with the SHA-256 of
its bytes: what kept findings depend on, asked of the disk without loading the model.
"""

from __future__ import annotations

from pathlib import Path


def frozen_versions(folder: Path) -> dict[int, Path]:
    """Each frozen version in `folder` and its dump file, in version order."""
    found = {}
    if folder.is_dir():
        for path in folder.glob("*.json"):
            if path.stem.isdigit():
                found[int(path.stem)] = path
    return dict(sorted(found.items()))


def frozen_dumps(folder: Path) -> list[list[object]]:
    """Each frozen dump in `folder` as its version, path and SHA-256 (a dump that cannot
    be read by its error)."""
    from ..digest import sha256
    from ..files import ReadProblem, read_bounded

    dumps: list[list[object]] = []
    for version, path in frozen_versions(folder).items():
        try:
            digest = sha256(read_bounded(path, None)).hexdigest()
        except ReadProblem as exc:
            digest = f"unreadable: {exc}"
        dumps.append([version, str(path), digest])
    return dumps
