"""Plugins: what a package outside pvgen uses to add rules to `pvgen check`.

Takes: a package's check functions, registered when pvgen loads the entry points of the
group `pvgen.rules` (the entry point names the module that defines them).
Hands on: `rule`, the decorator that registers a check as a spec rule with an ID of the
plugin range (PV9nn), and what a check works with: `Context` (the model, `ctx.abi`,
and indexes such as `ctx.hook_entries`), `Finding`, `Severity`, and `model` (the classes
of the resolved ABI). Plugin rules run with pvgen's own, are listed and explained by
`pvgen rules`, can be accepted with `@allow` and set in `[rules]` like any other.

Generator plugins need nothing from here: they are programs (see `pvgen.gen.plugins`).
docs/plugins.md describes both kinds, with the examples under examples/.
"""

from __future__ import annotations

from . import model
from .diagnostics import Severity
from .rules.context import Context
from .rules.registry import PLUGIN_RANGE, Finding
from .rules.registry import plugin_rule as rule

__all__ = ["PLUGIN_RANGE", "Context", "Finding", "Severity", "model", "rule"]
