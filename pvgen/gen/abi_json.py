"""The ABI dump: `<abi>/abi.json`, canonical and hashed, for diffs and frozen releases.

Takes: a `model.Abi`.
Hands on: one `OutputFile` holding the model dump (see dump.py) with an
ownership mark (its key sorts first, so the writer finds it at the top of the
file) and the SHA-256 of the canonical dump, so that a frozen copy
edited by hand can be detected.
"""

from __future__ import annotations

import json

from ..digest import sha256
from ..dump import abi_to_dict, pretty_json
from ..model import Abi
from .common import BANNER_MARK, OutputFile


def canonical(data: object) -> str:
    return pretty_json(data) + "\n"


def content_hash(data: dict[str, object]) -> str:
    """SHA-256 of `data` without its `_generated_by` and `sha256` keys.

    Hashed in compact canonical form (sorted keys, no spaces), which the C JSON
    encoder writes far faster than the indented form the file is stored in.
    """
    body = {k: v for k, v in data.items() if k not in ("_generated_by", "sha256")}
    compact = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256(compact.encode()).hexdigest()


def render(abi: Abi) -> OutputFile:
    data: dict[str, object] = abi_to_dict(abi)
    data["_generated_by"] = f"{BANNER_MARK}; do not edit"
    data["sha256"] = content_hash(data)
    return OutputFile("abi.json", canonical(data))
