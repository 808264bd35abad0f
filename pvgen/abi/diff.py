"""Diff: two dumps of one ABI in, every change between them out, each with a class.

Takes: the old and new canonical dumps (see sides.py).
Hands on: `Change`s (see changes.py): tables and types matched by name,
members by name with `@renamed_from` honoured and moves between tables
detected; type changes judged per target by layout; slot shifts found by
comparing every member's offset on every target the two versions share.
Each change carries the `loc` of its item from the new dump where the item
exists there, else from the old one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from ..layout import DATA_MODELS, INTEGER_TYPES, lay_out_record
from .changes import KINDS, Change, ChangeClass, Location
from .sides import Dump

# The C type each fixed-width name stands for, so that `u32` and `unsigned int` compare equal.
FIXED_WIDTH = {
    "u8": "unsigned char",
    "u16": "unsigned short",
    "u32": "unsigned int",
    "u64": "unsigned long long",
    "s8": "signed char",
    "s16": "short",
    "s32": "int",
    "s64": "long long",
}

Shape = tuple[str, int, str]  # (kind, size in bytes, canonical spelling)
# id(old member) -> (old table, old member, new table, new member) of a member that moved.
Moves = dict[int, tuple[str, Any, str, Any]]


def diff(old: Dump, new: Dump) -> list[Change]:
    return _Differ(old, new).run()


class _Differ:
    def __init__(self, old: Dump, new: Dump) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []
        models_old = {t["name"]: t["data_model"] for t in old["targets"]}
        models_new = {t["name"]: t["data_model"] for t in new["targets"]}
        # Layouts are only comparable where a target means the same machine in both.
        self.targets = [n for n in models_new if models_old.get(n) == models_new[n]]
        self.models = models_new
        # Old path -> new path of the members that keep their hook under another name: the
        # tables renamed with @renamed_from, members renamed, members moved (diff_tables).
        self.table_renames: dict[str, str] = {}
        self.moved_paths: dict[str, str] = {}
        self.arrivals: set[int] = set()  # the new members that moved from another table

    def add(
        self,
        kind: str,
        item: str,
        message: str,
        *,
        before: Any = None,
        after: Any = None,
        **extra: Any,
    ) -> None:
        """Report a change; `before` and `after` are the item's dump elements, where it exists."""
        change_class = extra.pop("change_class", KINDS[kind].change_class)
        location = Location.of("new", after) or Location.of("old", before)
        self.changes.append(
            Change(KINDS[kind], change_class, item, message, location=location, **extra)
        )

    def type_change(
        self, kind: str, item: str, message: str, old: str, new: str, before: Any, after: Any
    ) -> None:
        """Report a change of type, classed by what it does to layout on each target."""
        cls, detail = self.judge(self.old, old, self.new, new)
        self.add(
            kind,
            item,
            message,
            before=before,
            after=after,
            old=old,
            new=new,
            targets=detail,
            change_class=cls,
        )

    def run(self) -> list[Change]:
        self.diff_types()
        self.diff_tables()
        self.diff_template()
        self.diff_backends()
        self.since_history()
        self.version_policy()
        return self.changes

    # ---- types as seen on one target -------------------------------------------------

    def shape(self, dump: Dump, spelled: str, target: str) -> Shape | None:
        """How a type occupies memory on `target`; None if it does not exist there."""
        layout = dump["layouts"].get(target)
        if layout is None:
            return None
        pointers = spelled.count("*")
        base = spelled.replace("*", " ").replace("const ", " ").split()
        name = " ".join(base)
        if pointers:
            return ("pointer", layout["pointer_size"], " ".join(spelled.split()))
        if name == "void":
            return ("void", 0, "void")
        if name in INTEGER_TYPES:
            size = DATA_MODELS[self.models[target]].integer(name)[0]
            return ("integer", size, FIXED_WIDTH.get(name, name))
        known = layout["types"].get(name)
        if known is None:
            return None
        kinds = {t["kind"] for t in dump["types"] if t["name"] == name}
        kind = "integer" if kinds <= {"enum"} else "named"
        return (kind, known["size"], name)

    def judge(
        self, dump_old: Dump, old: str, dump_new: Dump, new: str
    ) -> tuple[ChangeClass, dict[str, str]]:
        """The class of a type change, worst over targets, with what happens on each."""
        worst = ChangeClass.COSMETIC
        detail: dict[str, str] = {}
        for target in self.targets:
            a, b = self.shape(dump_old, old, target), self.shape(dump_new, new, target)
            if a is None or b is None:
                continue
            if a[1] != b[1] or (a[0] == "pointer") != (b[0] == "pointer"):
                verdict = ChangeClass.BREAKING
            elif a[2] == b[2]:
                verdict = ChangeClass.COSMETIC
            elif a[0] == b[0] == "integer":
                verdict = ChangeClass.COMPATIBLE
            else:
                verdict = ChangeClass.SOURCE_BREAKING
            detail[target] = f"{verdict}: {a[1]} bytes -> {b[1]} bytes"
            worst = max(worst, verdict)
        return worst, detail

    # ---- types ----------------------------------------------------------------------------

    def diff_types(self) -> None:
        old = _first_by_name(self.old["types"])
        new = _first_by_name(self.new["types"])
        for name, t in old.items():
            if name not in new:
                self.add("PV221", name, f"{t['kind']} '{name}' was removed", before=t)
        for name, t in new.items():
            if name not in old:
                self.add("PV222", name, f"{t['kind']} '{name}' was added", after=t)
                continue
            before = old[name]
            if before["kind"] != t["kind"]:
                self.add(
                    "PV216",
                    name,
                    f"'{name}' changed from {before['kind']} to {t['kind']}",
                    before=before,
                    after=t,
                    old=before["kind"],
                    new=t["kind"],
                )
            elif t["kind"] == "typedef" and before["target"] != t["target"]:
                self.type_change(
                    "PV216",
                    name,
                    f"typedef '{name}' now names '{t['target']}'",
                    before["target"],
                    t["target"],
                    before,
                    t,
                )
            elif t["kind"] == "struct":
                self.diff_struct(name, before, t)
            elif t["kind"] == "enum":
                self.diff_enum(name, before, t)

    def diff_struct(self, name: str, before: Any, after: Any) -> None:
        fields_old = [(f["name"], f["type"]) for f in before["fields"]]
        fields_new = [(f["name"], f["type"]) for f in after["fields"]]
        if fields_old == fields_new and before["packed"] == after["packed"]:
            return
        detail = {}
        for target in self.targets:
            a = self.old["layouts"][target]["records"].get(name)
            b = self.new["layouts"][target]["records"].get(name)
            if (
                a is not None
                and b is not None
                and (a["size"], a["offsets"])
                != (
                    b["size"],
                    b["offsets"],
                )
            ):
                detail[target] = (
                    f"size {a['size']} -> {b['size']}, offsets {a['offsets']} -> {b['offsets']}"
                )
        names_changed = [n for n, _ in fields_old] != [n for n, _ in fields_new]
        cls = (
            ChangeClass.BREAKING
            if detail
            else ChangeClass.SOURCE_BREAKING if names_changed else ChangeClass.COMPATIBLE
        )
        self.add(
            "PV214",
            name,
            f"fields of struct '{name}' changed",
            before=before,
            after=after,
            old=_fields(fields_old),
            new=_fields(fields_new),
            targets=detail,
            change_class=cls,
        )

    def diff_enum(self, name: str, before: Any, after: Any) -> None:
        old = {v["name"]: v["value"] for v in before["values"]}
        new = {v["name"]: v["value"] for v in after["values"]}
        old_elements = {v["name"]: v for v in before["values"]}
        new_elements = {v["name"]: v for v in after["values"]}
        for value_name, value in old.items():
            if value_name not in new:
                self.add(
                    "PV215",
                    f"{name}.{value_name}",
                    f"enum value '{value_name}' was removed",
                    before=old_elements[value_name],
                    old=str(value),
                )
            elif new[value_name] != value:
                self.add(
                    "PV215",
                    f"{name}.{value_name}",
                    f"enum value '{value_name}' changed",
                    before=old_elements[value_name],
                    after=new_elements[value_name],
                    old=str(value),
                    new=str(new[value_name]),
                )
        for value_name, value in new.items():
            if value_name not in old:
                self.add(
                    "PV215",
                    f"{name}.{value_name}",
                    f"enum value '{value_name}' was added",
                    after=new_elements[value_name],
                    new=str(value),
                    change_class=ChangeClass.COMPATIBLE,
                )
        if before["underlying"] != after["underlying"]:
            self.type_change(
                "PV215",
                name,
                f"enum '{name}' changed its underlying type",
                before["underlying"],
                after["underlying"],
                before,
                after,
            )

    # ---- tables ---------------------------------------------------------------------------

    def diff_tables(self) -> None:
        old = {t["name"]: t for t in self.old["tables"]}
        new = {t["name"]: t for t in self.new["tables"]}
        renamed = {t["renamed_from"]: n for n, t in new.items() if t.get("renamed_from") in old}
        pairs = []
        for name, table in old.items():
            new_name = name if name in new else renamed.get(name)
            if new_name is None:
                continue
            pairs.append((table, new[new_name]))
            if new_name != name:
                self.table_renames[name] = new_name
                self.add(
                    "PV207",
                    new_name,
                    f"table '{name}' renamed to '{new_name}'",
                    before=table,
                    after=new[new_name],
                    old=name,
                    new=new_name,
                )
        paired_new = {b["name"] for _, b in pairs}
        paired_old = {a["name"] for a, _ in pairs}
        removed = [t for n, t in old.items() if n not in paired_old]
        added = [t for n, t in new.items() if n not in paired_new]
        moves = self.find_moves(pairs, removed, added)
        self.arrivals = {id(after) for _, _, _, after in moves.values()}
        for old_table, before, new_table, _ in moves.values():
            self.moved_paths[f"{old_table}.{before['name']}"] = f"{new_table}.{before['name']}"
        for table in removed:
            members = table["members"]
            kept = [m["name"] for m in members if id(m) not in moves]
            self.add(
                "PV201",
                table["name"],
                f"table '{table['name']}' was removed ({_count(members, 'member')}"
                + (f", {len(members) - len(kept)} moved" if len(kept) < len(members) else "")
                + ")",
                before=table,
                old=", ".join(m["name"] for m in members) or None,
            )
            self.moves_out_of(table, moves)
        for table in added:
            members = table["members"]
            came = [m["name"] for m in members if id(m) in self.arrivals]
            self.add(
                "PV202",
                table["name"],
                f"table '{table['name']}' was added ({_count(members, 'member')}"
                + (f", {len(came)} moved in" if came else "")
                + ")",
                after=table,
                new=", ".join(m["name"] for m in members) or None,
            )
        self.splits_and_merges(moves)
        for a, b in pairs:
            self.diff_members(a, b, moves)

    def moves_out_of(self, table: Any, moves: Moves) -> None:
        """The members of a removed table that another table took, one move each."""
        for m in table["members"]:
            found = moves.get(id(m))
            if found is not None:
                self.report_move(*found)

    def report_move(self, old_table: str, before: Any, new_table: str, after: Any) -> None:
        self.add(
            "PV206",
            f"{old_table}.{before['name']}",
            f"'{before['name']}' moved from table '{old_table}' to '{new_table}'",
            before=before,
            after=after,
            old=old_table,
            new=new_table,
        )
        self.diff_member(new_table, before, after)

    def splits_and_merges(self, moves: Moves) -> None:
        """One line per table whose members went to several tables (a split) and per table
        that took members of several tables that are gone (a merge)."""
        went: dict[str, dict[str, int]] = {}
        came: dict[str, dict[str, int]] = {}
        for old_table, _, new_table, _ in moves.values():
            counts = went.setdefault(old_table, {})
            counts[new_table] = counts.get(new_table, 0) + 1
            sources = came.setdefault(new_table, {})
            sources[old_table] = sources.get(old_table, 0) + 1
        gone = {t["name"] for t in self.old["tables"]} - {t["name"] for t in self.new["tables"]}
        gone -= set(self.table_renames)
        for old_table, counts in went.items():
            if old_table in gone and len(counts) > 1:
                parts = ", ".join(f"{t} ({n})" for t, n in counts.items())
                self.add(
                    "PV225",
                    old_table,
                    f"table '{old_table}' was split: {sum(counts.values())} members moved to"
                    f" {parts}",
                    before=_table(self.old, old_table),
                    old=old_table,
                    new=", ".join(counts),
                )
        for new_table, sources in came.items():
            if len([t for t in sources if t in gone]) > 1:
                parts = ", ".join(f"{t} ({n})" for t, n in sources.items())
                self.add(
                    "PV226",
                    new_table,
                    f"tables merged into '{new_table}': {sum(sources.values())} members from"
                    f" {parts}",
                    after=_table(self.new, new_table),
                    old=", ".join(sources),
                    new=new_table,
                )

    def find_moves(
        self, pairs: list[tuple[Any, Any]], removed: list[Any], added: list[Any]
    ) -> Moves:
        """The members that left a table (one that stays, or one that is gone) for another
        (one that was there, or a new one), by the identity of the old member. They are paired
        by name; of several candidates, the one with the same condition, then signature."""
        gone: dict[str, list[tuple[str, Any]]] = {}
        arrived: dict[str, list[tuple[str, Any]]] = {}
        for a, b in pairs:
            old_names = {m["name"] for m in a["members"]}
            new_names = {m["name"] for m in b["members"]} | {
                m["renamed_from"] for m in b["members"] if m.get("renamed_from")
            }
            for m in a["members"]:
                if m["name"] not in new_names:
                    gone.setdefault(m["name"], []).append((a["name"], m))
            for m in b["members"]:
                if m["name"] not in old_names and m.get("renamed_from") not in old_names:
                    arrived.setdefault(m["name"], []).append((b["name"], m))
        for t in removed:
            for m in t["members"]:
                gone.setdefault(m["name"], []).append((t["name"], m))
        for t in added:
            for m in t["members"]:
                arrived.setdefault(m["name"], []).append((t["name"], m))
        moves: Moves = {}
        for name, leaving in gone.items():
            candidates = list(arrived.get(name, ()))
            for old_table, member in leaving:
                if not candidates:
                    break
                chosen = min(
                    candidates,
                    key=lambda c: (
                        c[1].get("if") != member.get("if"),
                        _signature(c[1]) != _signature(member),
                    ),
                )
                candidates.remove(chosen)
                moves[id(member)] = (old_table, member, chosen[0], chosen[1])
        return moves

    def diff_members(self, a: Any, b: Any, moves: Moves) -> None:
        table = b["name"]
        old = {m["name"]: m for m in a["members"]}
        new_by_name = {m["name"]: m for m in b["members"]}
        # A name declared twice under exclusive conditions (one per target) is two members:
        # each is paired with the one of the same name and condition, then any left by name.
        by_key = {(m["name"], m.get("if")): m for m in a["members"]}
        taken = {
            id(by_key[key])
            for key in ((m["name"], m.get("if")) for m in b["members"])
            if key in by_key
        }
        spare: dict[str, list[Any]] = {}
        for m in a["members"]:
            if id(m) not in taken:
                spare.setdefault(m["name"], []).append(m)
        paired: list[tuple[Any, Any]] = []
        for m in b["members"]:
            before = by_key.get((m["name"], m.get("if")))
            if before is None and spare.get(m["name"]):
                before = spare[m["name"]].pop(0)
            if (
                before is None
                and m.get("renamed_from") in old
                and m["renamed_from"] not in new_by_name
            ):
                before = old[m["renamed_from"]]
                self.add(
                    "PV207",
                    f"{table}.{m['name']}",
                    f"'{table}.{before['name']}' renamed to '{m['name']}' in place",
                    before=before,
                    after=m,
                    old=before["name"],
                    new=m["name"],
                )
            if before is not None:
                paired.append((before, m))
        paired_old = {x["name"] for x, _ in paired}
        paired_new = {y["name"] for _, y in paired}
        gone: list[tuple[str, str]] = []  # the changes that took members out: rule, item
        for m in a["members"]:
            if m["name"] in paired_old:
                continue
            destination = moves.get(id(m))
            gone.append(("PV206" if destination else "PV203", f"{a['name']}.{m['name']}"))
            if destination is not None:
                self.report_move(*destination)
            else:
                self.add(
                    "PV203",
                    f"{a['name']}.{m['name']}",
                    f"{_what(m)} '{a['name']}.{m['name']}' was removed",
                    before=m,
                )
        last_paired = max(
            (i for i, m in enumerate(b["members"]) if m["name"] in paired_new), default=-1
        )
        inserted = []
        for index, m in enumerate(b["members"]):
            if m["name"] in paired_new:
                continue
            if id(m) in self.arrivals:
                continue
            if index > last_paired:
                self.add(
                    "PV204",
                    f"{table}.{m['name']}",
                    f"{_what(m)} '{table}.{m['name']}' was added at the end",
                    after=m,
                )
            else:
                inserted.append(m["name"])
        for before, after in paired:
            self.diff_member(table, before, after)
        self.diff_slots(a, b, paired, inserted, gone)

    def diff_member(self, table: str, a: Any, b: Any) -> None:
        item = f"{table}.{b['name']}"
        # The member exists on both sides: every change is placed at it in the new version.
        add = functools.partial(self.add, before=a, after=b)
        type_change = functools.partial(self.type_change, before=a, after=b)
        if (a["kind"] == "subtable") != (b["kind"] == "subtable") or (
            a["kind"] == "subtable" and a["table"] != b["table"]
        ):
            add(
                "PV220",
                item,
                f"'{item}' changed from {_what(a)} to {_what(b)}",
                old=_what(a),
                new=_what(b),
            )
            return
        if a["kind"] != b["kind"]:
            add(
                "PV203",
                item,
                f"'{item}' changed from {_what(a)} to {_what(b)}",
                old=_what(a),
                new=_what(b),
            )
            return
        if a["kind"] == "data" and a["type"] != b["type"]:
            type_change(
                "PV208", item, f"type of data member '{item}' changed", a["type"], b["type"]
            )
        if a["kind"] == "hook":
            self.diff_hook(item, a, b)
        if a.get("if") != b.get("if"):
            add(
                "PV217",
                item,
                f"condition of '{item}' changed",
                old=a.get("if") or "(always)",
                new=b.get("if") or "(always)",
            )
        if b.get("deprecated") and not a.get("deprecated"):
            use = b["deprecated"].get("use")
            add("PV218", item, f"'{item}' is deprecated" + (f"; use '{use}'" if use else ""))

    def diff_hook(self, item: str, a: Any, b: Any) -> None:
        add = functools.partial(self.add, before=a, after=b)
        type_change = functools.partial(self.type_change, before=a, after=b)
        if a["returns"] != b["returns"]:
            type_change(
                "PV208", item, f"return type of '{item}' changed", a["returns"], b["returns"]
            )
        params_a, params_b = a["params"], b["params"]
        if len(params_a) != len(params_b):
            add(
                "PV210",
                item,
                f"'{item}' takes {len(params_b)} parameters instead of {len(params_a)}",
                old=_params(params_a),
                new=_params(params_b),
            )
        else:
            for pa, pb in zip(params_a, params_b, strict=True):
                if pa["type"] != pb["type"]:
                    type_change(
                        "PV209",
                        item,
                        f"parameter '{pb['name']}' of '{item}' changed type",
                        pa["type"],
                        pb["type"],
                    )
                if pa["name"] != pb["name"]:
                    add(
                        "PV211",
                        item,
                        f"parameter '{pa['name']}' of '{item}' renamed",
                        old=pa["name"],
                        new=pb["name"],
                    )
        if a["callee_save"] != b["callee_save"]:
            add(
                "PV212",
                item,
                f"'{item}' {'became' if b['callee_save'] else 'is no longer'} @callee_save",
                old=str(a["callee_save"]).lower(),
                new=str(b["callee_save"]).lower(),
            )
        if a.get("callconv") != b.get("callconv"):
            add(
                "PV212",
                item,
                f"calling convention of '{item}' changed",
                old=a.get("callconv") or "default",
                new=b.get("callconv") or "default",
            )
        if a["patch"] != b["patch"]:
            add(
                "PV213",
                item,
                f"patch site of '{item}' changed",
                old=_patch(a["patch"]),
                new=_patch(b["patch"]),
            )

    def diff_slots(
        self,
        a: Any,
        b: Any,
        paired: list[tuple[Any, Any]],
        inserted: list[str],
        gone: list[tuple[str, str]],
    ) -> None:
        """Members that keep their name but not their offset: consumers index the wrong slot.

        When the slots moved only because members left (removed or moved away; none inserted,
        none reordered), those changes are the cause: accepting them accepts the shift."""
        position = {id(m): i for i, m in enumerate(a["members"])}
        order = [position[id(x)] for x, _ in paired]
        in_order = all(p < q for p, q in zip(order, order[1:], strict=False))
        causes = tuple(gone) if gone and in_order and not inserted else ()
        detail = {}
        for target in self.targets:
            ra = self.old["layouts"][target]["records"].get(a["name"])
            rb = self.new["layouts"][target]["records"].get(b["name"])
            if ra is None or rb is None:
                continue
            moved = [
                (x["name"], ra["offsets"][x["name"]], rb["offsets"][y["name"]])
                for x, y in paired
                if x["name"] in ra["offsets"]
                and y["name"] in rb["offsets"]
                and ra["offsets"][x["name"]] != rb["offsets"][y["name"]]
            ]
            if moved:
                name, before, after = moved[0]
                more = f" and {len(moved) - 1} more" if len(moved) > 1 else ""
                detail[target] = f"'{name}' at offset {before} -> {after}{more}"
        if detail:
            cause = f"; inserted: {', '.join(inserted)}" if inserted else ""
            self.add(
                "PV205",
                b["name"],
                f"slots of table '{b['name']}' moved{cause}",
                before=a,
                after=b,
                targets=detail,
                causes=causes,
                new=", ".join(inserted) or None,
            )
        elif inserted:
            self.add(
                "PV205",
                b["name"],
                f"members inserted into '{b['name']}' before existing ones: {', '.join(inserted)}",
                before=a,
                after=b,
                new=", ".join(inserted),
            )

    # ---- the patch template ---------------------------------------------------------------

    def diff_template(self) -> None:
        """Tables of the patch template whose place in it moved, on each target: every patch ID
        in them moves (the numbers out-of-tree patchers and hypervisor ROMs use), though each
        table's own slots stay. A table inserted before others, or one before them that grew
        or shrank, does it; those changes are the cause (accepting them accepts this)."""
        old_tables, new_tables = _template(self.old), _template(self.new)
        renamed = {new: old for old, new in self.table_renames.items()}
        detail: dict[str, str] = {}
        first_moved: set[str] = set()
        for target in self.targets:
            old_layout, new_layout = self.old["layouts"][target], self.new["layouts"][target]
            old_bases = _bases(old_tables, old_layout)
            new_bases = _bases(new_tables, new_layout)
            moved = [
                t
                for t in new_bases
                if renamed.get(t, t) in old_bases and old_bases[renamed.get(t, t)] != new_bases[t]
            ]
            if not moved:
                continue
            table = moved[0]
            first_moved.add(table)
            old_record = old_layout["records"][renamed.get(table, table)]
            new_record = new_layout["records"][table]
            size = new_layout["pointer_size"]
            shared = [
                (offset, name)
                for name, offset in old_record["offsets"].items()
                if name in new_record["offsets"]
            ]
            where = ""
            if shared:
                offset, name = min(shared)
                before = (old_bases[renamed.get(table, table)] + offset) // size
                after = (new_bases[table] + new_record["offsets"][name]) // size
                where = f"'{table}.{name}' {before} -> {after}"
            else:
                where = f"table '{table}' at slot {old_bases[renamed.get(table, table)] // size}"
            more = f", and every ID in {', '.join(moved[1:])}" if len(moved) > 1 else ""
            detail[target] = f"first shifted ID {where}{more}"
        if not detail:
            return
        # Tables placed before the first that moved (on some target), or gone from it.
        order = list(new_tables)
        earliest = min(order.index(t) for t in first_moved)
        before_it = set(order[:earliest]) | {renamed.get(t, t) for t in order[:earliest]}
        before_it |= set(old_tables) - {renamed.get(t, t) for t in new_tables}
        causes = tuple(
            (c.id, c.item)
            for c in self.changes
            if c.change_class is ChangeClass.BREAKING and c.item.split(".")[0] in before_it
        )
        name = self.new["abi"]["name"]
        self.add(
            "PV227",
            f"{name} patch template",
            f"patch IDs of the patch template moved: {', '.join(sorted(first_moved))} and"
            " the tables after it start at other slots",
            targets=detail,
            causes=causes,
        )

    # ---- backends and versions ---------------------------------------------------------

    def diff_backends(self) -> None:
        old = {x["name"]: set(x["overrides"]) for x in self.old["backends"]}
        new = {x["name"]: set(x["overrides"]) for x in self.new["backends"]}
        elements = {x["name"]: x for x in self.old["backends"]}
        elements.update({x["name"]: x for x in self.new["backends"]})
        renames = _member_renames(self.new)

        def now(path: str) -> str:
            """Where the hook at the old `path` is in the new version."""
            if path in self.moved_paths:
                return self.moved_paths[path]
            table, dot, rest = path.partition(".")
            path = self.table_renames.get(table, table) + dot + rest
            return renames.get(path, path)

        for name in sorted(old.keys() | new.keys()):
            before = {now(p) for p in old.get(name, set())}
            after = new.get(name, set())
            if name not in old:
                self.add(
                    "PV219",
                    f"backend {name}",
                    f"backend '{name}' was added ({len(after)} overrides)",
                    after=elements[name],
                )
            elif name not in new:
                self.add(
                    "PV219",
                    f"backend {name}",
                    f"backend '{name}' was removed",
                    before=elements[name],
                )
            elif before != after:
                gained, lost = sorted(after - before), sorted(before - after)
                parts = []
                if gained:
                    parts.append("now overrides " + ", ".join(gained))
                if lost:
                    parts.append("no longer overrides " + ", ".join(lost))
                self.add(
                    "PV219",
                    f"backend {name}",
                    f"backend '{name}' " + "; ".join(parts),
                    after=elements[name],
                )

    def since_history(self) -> None:
        """Members whose @since is not what the history says: the old version's for a member
        it has (by name or @renamed_from, in any table: a move keeps it); for one it has not,
        a version after the old one (the new one, or one between). Between releases that are
        not consecutive a member renamed in between carries no @renamed_from any more, so a
        member the old version seems not to have is judged only from one release to the next.
        """
        version, first = self.new["abi"]["version"], self.old["abi"]["version"]
        if version <= first:
            return  # the same release, or going back: no member is new in it
        arrived: dict[str, int] = {}
        for table in self.old["tables"]:
            for m in table["members"]:
                arrived.setdefault(m["name"], m.get("since", 1))
        for table in self.new["tables"]:
            for m in table["members"]:
                expected = arrived.get(m["name"], arrived.get(m.get("renamed_from") or ""))
                since = m.get("since", 1)
                if expected is None and (first < since <= version or version > first + 1):
                    continue
                if since != expected:
                    item = f"{table['name']}.{m['name']}"
                    if expected is None:
                        expected = version
                        what = f"is new in version {version}"
                    else:
                        what = f"is in the history since version {expected}"
                    self.add(
                        "PV224",
                        item,
                        f"'{item}' {what} but says @since({since})",
                        after=m,
                        old=str(expected),
                        new=str(since),
                    )

    def version_policy(self) -> None:
        before, after = self.old["abi"]["version"], self.new["abi"]["version"]
        breaking = [c for c in self.changes if c.change_class is ChangeClass.BREAKING]
        if breaking and after <= before:
            self.add(
                "PV223",
                self.new["abi"]["name"],
                f"{len(breaking)} breaking changes but the version did not increase",
                old=str(before),
                new=str(after),
            )


# ---- helpers ---------------------------------------------------------------------------


def _first_by_name(types: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for t in types:
        found.setdefault(t["name"], t)
    return found


def _member_renames(dump: Dump) -> dict[str, str]:
    """Old path -> new path for members renamed with @renamed_from."""
    renames = {}
    for table in dump["tables"]:
        for m in table["members"]:
            if m.get("renamed_from"):
                renames[f"{table['name']}.{m['renamed_from']}"] = f"{table['name']}.{m['name']}"
    return renames


def _template(dump: Dump) -> list[str]:
    """The tables of the patch template in order: the abi's `patch_template`, else every
    table not embedded in another (the aggregate, as the model lays it out)."""
    listed = dump["abi"].get("patch_template")
    if listed is not None:
        return list(listed)
    embedded = {m["table"] for t in dump["tables"] for m in t["members"] if m["kind"] == "subtable"}
    return [t["name"] for t in dump["tables"] if t["name"] not in embedded]


def _bases(tables: list[str], layout: Any) -> dict[str, int]:
    """Each table's byte offset in the patch template on one target (those present there)."""
    records = layout["records"]
    present = [(t, records[t]["size"], records[t]["align"]) for t in tables if t in records]
    return lay_out_record(present)[2]


def _table(dump: Dump, name: str) -> Any:
    """The table `name` of `dump`, or None."""
    return next((t for t in dump["tables"] if t["name"] == name), None)


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}" + ("" if len(items) == 1 else "s")


def _signature(member: Any) -> tuple[Any, ...]:
    if member["kind"] == "hook":
        return ("hook", member["returns"], tuple(p["type"] for p in member["params"]))
    return (member["kind"], member.get("type"), member.get("table"))


def _what(member: Any) -> str:
    return {"hook": "hook", "data": "data member", "subtable": "sub-table"}[member["kind"]]


def _params(params: list[Any]) -> str:
    return "(" + ", ".join(f"{p['type']} {p['name']}" for p in params) + ")"


def _fields(fields: list[tuple[str, str]]) -> str:
    return "{ " + " ".join(f"{t} {n};" for n, t in fields) + " }"


def _patch(patch: Any) -> str:
    if patch is None:
        return "(none)"
    clobbers = f", clobbers {patch['clobbers']}" if patch.get("clobbers") else ""
    return f"{patch['native']!r}{clobbers}"


def iter_classes(changes: list[Change]) -> Iterator[tuple[ChangeClass, list[Change]]]:
    """Changes grouped by class, gravest first."""
    for cls in sorted(ChangeClass, reverse=True):
        group = [c for c in changes if c.change_class is cls]
        if group:
            yield cls, group
