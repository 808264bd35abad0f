"""The parser: lark's LALR(1) tables for the grammar, driven by a loop and a scanner of our own.

Takes: the text of one spec file, the driver's tables (`driver_tables` computes them from
lark's analysis of the grammar; `make tables` ships them as pvgen/parsetables.py), the
builder whose methods make the syntax tree, and lexer callbacks (comments and closing
braces, for the formatter).
Hands on: what the grammar's `start` rule builds, exactly as lark's own parser would; or
`NotParsed` at the first token the grammar does not accept, so that the caller parses again
with lark's own parser and reports the canonical syntax error. A text in the grammar is
parsed without importing lark.

The grammar stays the one source of truth: the scanner is made from its terminals (one
alternation, which picks the terminal lark's lexer would: see `scan_order`) and the loop
reads lark's parse table.
What is ours is the speed. Lark's contextual lexer asks, for every token, which terminals
the parser's state accepts and then matches the text against them one regular expression at
a time; here one regular expression finds the next token and the state is consulted only
for the two choices that depend on it:
- a word that spells a keyword (`int`, `table`, `default`) is that keyword where the state
  accepts it, else a NAME where the state accepts one (keywords are usable as names);
- a `///` comment is a doc comment where the state accepts one, else a plain comment.
These are the choices the contextual lexer makes, with one correction: LALR(1) merges the
states that read a doc comment or an annotation wherever one may stand, so after `/// ...`
or `@nullable` inside a table the state also accepts the words that begin a top-level
declaration, and `table lazy;` there (a member of a table named `table`) would be read as
the keyword and refused. Where the state accepts both a keyword and a NAME, the keyword is
taken only if the parser could shift it after the reductions it makes first; otherwise the
word is a NAME. `tests/test_lalr.py` compares the two parsers on every spec of the
repository and on mutated ones: the same trees wherever lark accepts the text, and where
only this loop does, a word was read as a name by that correction. Shift and reduce run
inline, without a call per token.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Lark


class NotParsed(Exception):
    """The text is not in the grammar: parse it again with lark for the exact error."""


class Token(str):
    """A token: its text, its terminal's name and where it lies; the fields of lark's
    `Token`, so that the builder reads tokens of either parser alike."""

    __slots__ = (
        "type",
        "value",
        "start_pos",
        "line",
        "column",
        "end_line",
        "end_column",
        "end_pos",
    )
    type: str
    value: str
    start_pos: int
    line: int
    column: int
    end_line: int
    end_column: int
    end_pos: int


class Tree:
    """What a rule without a builder method makes (lark's default): its name and children."""

    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list[Any]) -> None:
        self.data = data
        self.children = children

    def __eq__(self, other: object) -> bool:
        # Lark's trees compare equal too: `tests/test_lalr.py` compares the two parsers.
        data, children = getattr(other, "data", None), getattr(other, "children", None)
        return children is not None and (self.data, self.children) == (data, children)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


# A reduction: how many values it pops, the rule's name (for the goto), its callback.
_Reduce = tuple[int, str, Callable[[list[Any]], Any]]
# A state's actions by symbol: the next state's row (shift or goto), or a reduction
# (`_Reduce`).
_Row = dict[str, Any]

# How the parser treats a terminal's tokens (bits): made a token for the tree, left out of
# it (None in its place), skipped; and shown to a lexer callback.
_KEPT, _UNSEEN, _IGNORED, _WATCHED = 0, 1, 2, 4
# What follows the last match: the end of the text.
_THE_END = (None,)


class Driver:
    """One grammar's scanner and tables, ready to parse any number of texts.

    Made from `tables` (plain data: see `driver_tables`, shipped as pvgen/parsetables.py),
    `builder` (its methods, named after the rules, build the tree) and `lexer_callbacks`
    (by terminal: called with each token of it, even of an ignored terminal). Lark is not
    imported here: the tables were computed from lark's analysis of the grammar.
    """

    def __init__(
        self,
        tables: dict[str, Any],
        builder: object,
        lexer_callbacks: dict[str, Callable[[Token], Token]],
    ) -> None:
        if sorted(lexer_callbacks) != sorted(tables["watched"]):
            raise ValueError("the tables were made for other lexer callbacks")
        if any(hasattr(builder, terminal) for terminal in tables["terminals"]):
            raise ValueError("a builder method named after a terminal is not supported")
        self.corrected = 0
        self.callbacks = lexer_callbacks
        self.keywords: dict[str, str] = tables["keywords"]
        self.scanner = re.compile(tables["scanner"], tables["flags"])
        self.blanks = re.compile(tables["blanks"], tables["flags"])
        # The terminal of each of the scanner's groups, by the group's number (a group
        # inside a terminal's pattern never ends a match last, so it is never asked for).
        self.kinds: list[str] = [""] * (self.scanner.groups + 1)
        for name, number in self.scanner.groupindex.items():
            self.kinds[number] = name
        # What becomes of a token of each terminal: skipped (ignored), left out of the tree
        # (None holds its place), or made a token; and whether a lexer callback sees it.
        ignore, unseen = set(tables["ignore"]), set(tables["unseen"])
        self.modes: dict[str, int] = {
            name: (_IGNORED if name in ignore else _UNSEEN if name in unseen else _KEPT)
            | (_WATCHED if name in lexer_callbacks else 0)
            for name in tables["terminals"]
        }
        reductions = [
            (size, origin, _rule_callback(builder, name, expand1, include, append_none))
            for size, origin, name, expand1, include, append_none in tables["rules"]
        ]
        # One row of actions per state, by symbol: a row is the state to shift (or go) to,
        # a tuple a reduction (the tables write a reduction by rule `r` as `-1 - r`). The
        # parser's stack holds rows, so that neither a shift nor a goto looks a state up.
        # The end of the text is never shifted: where a table would, the text is refused.
        rows: dict[int, _Row] = {int(state): {} for state in tables["actions"]}
        for state, actions in tables["actions"].items():
            row = rows[int(state)]
            for symbol, target in actions.items():
                if target < 0:
                    row[symbol] = reductions[-1 - target]
                elif symbol != "$END":
                    row[symbol] = rows[target]
        self.start_row = rows[tables["start_state"]]
        self.end_row = rows[tables["end_state"]]

    def _shifts(self, states: list[_Row], kind: str) -> bool:
        """Whether a `kind` token would be shifted from `states`, after the reductions the
        parser makes on seeing it (simulated on a copy: nothing is built)."""
        stack = states[:]
        while True:
            action = stack[-1].get(kind)
            if action is None:
                return False
            if action.__class__ is dict:
                return True
            size, origin, _ = action
            if size:
                del stack[-size:]
            stack.append(stack[-1][origin])

    def parse(self, text: str) -> Any:
        self.corrected = 0  # words read as names where lark's lexer reads a keyword
        keywords = self.keywords
        callbacks = self.callbacks
        modes = self.modes
        kinds = self.kinds
        end_row = self.end_row
        row = self.start_row
        states: list[_Row] = [row]
        values: list[Any] = []
        pos = 0
        line = 1
        line_start = 0
        # Every match begins where the last ended (white space is skipped inside it);
        # one that begins further on skipped a character no terminal matches.
        for found in chain(self.scanner.finditer(text), _THE_END):
            if found is None:
                if pos < len(text) and not self.blanks.match(text, pos):
                    raise NotParsed
                kind, token = "$END", None  # only white space is left
            else:
                number: int = found.lastindex  # type: ignore[assignment]
                start, after = found.span(number)
                if start != pos:  # white space was skipped: count its lines
                    if found.start() != pos:
                        raise NotParsed
                    newlines = text.count("\n", pos, start)
                    if newlines:
                        line += newlines
                        line_start = text.rfind("\n", pos, start) + 1
                    pos = start
                kind = kinds[number]
                value = text[start:after]
                if kind == "NAME":
                    keyword = keywords.get(value)
                    if keyword is not None:
                        if "NAME" not in row or (keyword in row and self._shifts(states, keyword)):
                            kind = keyword
                        elif keyword in row:
                            self.corrected += 1  # lark's lexer would take the keyword
                elif kind == "DOC_COMMENT" and kind not in row:
                    kind = "LINE_COMMENT"
                mode = modes[kind]
                if mode & _IGNORED:
                    if mode & _WATCHED:
                        callbacks[kind](self._token(kind, value, pos, line, line_start))
                    newlines = value.count("\n")
                    if newlines:
                        line += newlines
                        line_start = pos + value.rfind("\n") + 1
                    pos = after
                    continue
                if mode & _UNSEEN:  # never watched: see `driver_tables`
                    token = None
                else:
                    token = _new_token(
                        kind,
                        value,
                        pos,
                        line,
                        pos - line_start + 1,
                        line,
                        after - line_start + 1,
                        after,
                    )
                    if mode & _WATCHED:
                        token = callbacks[kind](token)
                pos = after
            # Reduce as long as the state says so, then shift the token. The end of the text
            # is never shifted: reducing the start rule there completes the parse.
            while True:
                action = row.get(kind)
                if action is None:
                    raise NotParsed
                if action.__class__ is dict:
                    states.append(action)
                    values.append(token)
                    row = action
                    break
                size, origin, callback = action
                if size:
                    popped = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    popped = []
                row = states[-1][origin]
                states.append(row)
                values.append(callback(popped))
                if row is end_row:
                    return values[-1]
        raise NotParsed  # not reached: the end of the text is reduced to the start rule

    @staticmethod
    def _token(kind: str, value: str, pos: int, line: int, line_start: int) -> Token:
        """A token that may span lines (a comment), with its end computed."""
        newlines = value.count("\n")
        if newlines:
            end_line = line + newlines
            end_column = len(value) - value.rfind("\n")
        else:
            end_line = line
            end_column = pos - line_start + 1 + len(value)
        return _new_token(
            kind, value, pos, line, pos - line_start + 1, end_line, end_column, pos + len(value)
        )


_make_str = str.__new__


def _new_token(
    kind: str,
    value: str,
    start: int,
    line: int,
    column: int,
    end_line: int,
    end_column: int,
    end: int,
) -> Token:
    """A token, its fields set one by one (a large spec has a hundred thousand)."""
    token: Token = _make_str(Token, value)
    token.type = kind
    token.value = value
    token.start_pos = start
    token.line = line
    token.column = column
    token.end_line = end_line
    token.end_column = end_column
    token.end_pos = end
    return token


# ---- the rules' callbacks -------------------------------------------------------------
#
# What lark's tree builder does with a reduced rule's children, rebuilt from the plan the
# tables hold for each rule (`driver_tables` reads it from lark): keep the children the
# rule does not filter out (punctuation), splice in those of inlined rules (`_name`), add a
# None for each optional part `[...]` that is absent, and, for a `?rule` with one child left,
# hand on that child; then call the builder's method named after the rule (or alias). An
# inlined rule without a method hands on its children as a plain list, which its parent
# splices; another rule without a method makes a `Tree`, as lark does.


def _rule_callback(
    builder: object,
    name: str,
    expand1: bool,
    include: Sequence[tuple[int, bool, int]] | None,
    append_none: int,
) -> Callable[[list[Any]], Any]:
    method = getattr(builder, name, None)
    build: Callable[[list[Any]], Any]
    if method is not None:
        build = method
    elif name.startswith("_"):
        build = _spliced
    else:

        def build(children: list[Any]) -> Any:
            return Tree(name, children)

    if include is None:
        return _single_child_or(build) if expand1 else build
    plan = tuple((i, expand, nones) for i, expand, nones in include)
    if (
        len(plan) == 2
        and plan[0] == (0, True, 0)
        and plan[1][1:] == (False, 0)
        and not append_none
        and not expand1
        and build is _spliced
    ):
        # `_items: _items item` (or `_items "," item`), the step of every repetition:
        # the item is appended to the list so far.
        return functools.partial(_append_to_first, plan[1][0])
    # The plan as one list display (`[None, *c[0], c[2]]`): a function made for the rule,
    # without a loop over the plan for every reduction (a large spec has hundreds of
    # thousands). Only integers from the tables and fixed names enter its code.
    items: list[str] = []
    for i, expand, nones in plan:
        items += ["None"] * nones
        items.append(f"*c[{int(i)}]" if expand else f"c[{int(i)}]")
    items += ["None"] * append_none
    listed = f"[{', '.join(items)}]"
    if expand1:
        body = f"    out = {listed}\n    return out[0] if len(out) == 1 else build(out)\n"
    elif build is _spliced:
        body = f"    return {listed}\n"
    else:
        body = f"    return build({listed})\n"
    scope: dict[str, Any] = {"build": build}
    exec(f"def callback(c):\n{body}", scope)
    callback: Callable[[list[Any]], Any] = scope["callback"]
    return callback


def _append_to_first(at: int, children: list[Any]) -> list[Any]:
    items: list[Any] = children[0]
    items.append(children[at])
    return items


def _spliced(children: list[Any]) -> list[Any]:
    return children


def _single_child_or(build: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    def expand1(children: list[Any]) -> Any:
        return children[0] if len(children) == 1 else build(children)

    return expand1


def scan_order(
    terminals: Sequence[tuple[str, str, bool]], flags: int
) -> list[tuple[str, str, bool]]:
    """`terminals` (name, regular expression, whether a literal string), given in the order
    lark's lexer tries them, in the order the scanner's alternation tries them (compiled
    with `flags`).

    Python's `re` tries an alternation's branches one by one, so the common tokens should
    come first: names, then one-character punctuation, then the rest. A terminal moves
    ahead of another only if no text can start a match of both (their first characters
    differ), so that the first branch to match is the same one as in lark's order.
    """

    def preference(at: int) -> tuple[int, int]:
        name, regexp, literal = terminals[at]
        if name == "NAME":
            return (0, at)
        return (1 if literal and len(re.sub(r"\\(.)", r"\1", regexp)) == 1 else 2, at)

    def may_overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
        return a is None or b is None or not a.isdisjoint(b)

    firsts = [_first_chars(regexp, flags) for _, regexp, _ in terminals]
    # Kahn's algorithm: a terminal is ready once every earlier one it might overlap is placed.
    before = [
        {j for j in range(i) if may_overlap(firsts[i], firsts[j])} for i in range(len(terminals))
    ]
    placed: list[int] = []
    left = set(range(len(terminals)))
    while left:
        ready = [i for i in left if not before[i] - set(placed)]
        best = min(ready, key=preference)
        placed.append(best)
        left.remove(best)
    return [terminals[i] for i in placed]


def _first_chars(regexp: str, flags: int) -> frozenset[str] | None:
    """The characters a match of `regexp` can begin with, or None where that is not simple
    to tell (classes such as `\\w`, negated sets, look-arounds, an empty match): such a
    terminal keeps its place in lark's order."""
    try:  # re's own parser: private, so any change to it means "not simple to tell"
        from re import _constants as c
        from re import _parser
    except ImportError:
        return None

    def of_sequence(items: Any) -> tuple[set[str], bool] | None:
        """The first characters of a sequence, and whether it can match the empty text."""
        out: set[str] = set()
        for op, arg in items:
            if op is c.LITERAL:
                return out | {chr(arg)}, False
            if op is c.IN:
                for kind, value in arg:
                    if kind is c.LITERAL:
                        out.add(chr(value))
                    elif kind is c.RANGE and value[1] - value[0] < 256:
                        out.update(chr(code) for code in range(value[0], value[1] + 1))
                    else:
                        return None
                return out, False
            if op is c.SUBPATTERN:
                inner = None if arg[1] & re.IGNORECASE else of_sequence(arg[-1])
            elif op is c.BRANCH:
                branches = [of_sequence(branch) for branch in arg[1]]
                if any(b is None for b in branches):
                    return None
                inner = (
                    set().union(*(b[0] for b in branches if b)),
                    any(b[1] for b in branches if b),
                )
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                low, _, item = arg
                found = of_sequence(item)
                inner = None if found is None else (found[0], found[1] or low == 0)
            else:
                return None
            if inner is None:
                return None
            out |= inner[0]
            if not inner[1]:
                return out, False
        return out, True

    try:
        parsed = _parser.parse(regexp, flags)
        if parsed.state.flags & re.IGNORECASE:
            return None
        found = of_sequence(parsed)
    except (re.error, AttributeError, TypeError, ValueError):
        return None
    if found is None or found[1]:
        return None
    return frozenset(found[0])


def driver_tables(lark_parser: Lark, watched: Sequence[str]) -> dict[str, Any]:
    """The tables a `Driver` is made from, as plain data, computed from a lark LALR parser
    of the grammar (built with `maybe_placeholders`); `watched` names the terminals that
    will have lexer callbacks. Only `make tables` and a grammar without shipped tables come
    here: it reads lark's internals, which `tests/test_lalr.py` holds to lark's own parses.
    """
    from lark.parse_tree_builder import (
        ChildFilterLALR,
        ChildFilterLALR_NoPlaceholders,
        ExpandSingleChild,
    )
    from lark.parsers.lalr_analysis import Shift

    conf = lark_parser.lexer_conf
    table = lark_parser.parser.parser.parser.parse_table  # frontend -> LALR_Parser -> _Parser
    word = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
    if "NAME" not in {t.name for t in conf.terminals}:
        raise ValueError("the grammar has no NAME terminal")
    # One alternation of the terminals, in lark's lexer's order save where `scan_order`
    # moves common tokens ahead of terminals no text can match alike. Words that
    # spell a keyword are found as a NAME and then decided by the parser's state; ignored
    # terminals nobody watches (white space) are skipped in the match.
    terminals = sorted(
        conf.terminals,
        key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
    )
    keywords: dict[str, str] = {}
    scanned = []
    blanks = []
    for terminal in terminals:
        pattern = terminal.pattern
        if pattern.type == "str" and word.match(pattern.value):
            keywords[pattern.value] = terminal.name
        elif terminal.name in conf.ignore and terminal.name not in watched:
            blanks.append(pattern.to_regexp())
        else:
            scanned.append((str(terminal.name), pattern.to_regexp(), pattern.type == "str"))
    alternatives = [
        f"(?P<{name}>{regexp})" for name, regexp, _ in scan_order(scanned, conf.g_regex_flags)
    ]
    if len(blanks) == 1 and re.fullmatch(r"\[[^\]]*\]\+", blanks[0]):
        skip = blanks[0][:-1] + "*"  # `[ \t\n]*` rather than the slower `(?:[ \t\n]+)*`
    else:
        skip = f"(?:{'|'.join(blanks)})*" if blanks else ""
    # The plan of each rule's callback, read from lark's tree builder.
    rule_index = {rule: i for i, rule in enumerate(lark_parser.rules)}
    rules: list[list[Any]] = [[] for _ in lark_parser.rules]
    for rule, steps in lark_parser._parse_tree_builder.rule_builders:
        expand1 = False
        include: list[list[Any]] | None = None
        append_none = 0
        for wrapper in steps:
            if wrapper is ExpandSingleChild:
                expand1 = True
            elif getattr(wrapper, "func", None) is ChildFilterLALR:
                include = [[i, bool(x), n] for i, x, n in wrapper.args[0]]
                append_none = wrapper.args[1]
            elif getattr(wrapper, "func", None) is ChildFilterLALR_NoPlaceholders:
                include = [[i, bool(x), 0] for i, x in wrapper.args[0]]
            else:
                raise ValueError(f"rule {rule}: tree builder step {wrapper!r} is not supported")
        name = rule.alias or rule.options.template_source or rule.origin.name
        rules[rule_index[rule]] = [
            len(rule.expansion),
            str(rule.origin.name),
            str(name),
            expand1,
            include,
            append_none,
        ]
    actions = {
        state: {
            str(symbol): arg if action is Shift else -1 - rule_index[arg]
            for symbol, (action, arg) in sorted(row.items())
        }
        for state, row in sorted(table.states.items())
    }
    # Terminals every rule filters out (punctuation, most keywords): no token is made for
    # them (a third of the parse's time went into making tokens); their place holds None.
    kept = {
        symbol.name
        for rule in lark_parser.rules
        for symbol in rule.expansion
        if symbol.is_term and not getattr(symbol, "filter_out", False)
    }
    return {
        "start_state": table.start_states["start"],
        "end_state": table.end_states["start"],
        "scanner": f"{skip}(?:{'|'.join(alternatives)})",
        "blanks": f"{skip}\\Z",
        "flags": conf.g_regex_flags,
        "keywords": {str(k): str(v) for k, v in sorted(keywords.items())},
        "ignore": sorted(str(name) for name in conf.ignore),
        "watched": sorted(watched),
        "terminals": sorted(str(t.name) for t in conf.terminals),
        "unseen": sorted(
            str(t.name) for t in conf.terminals if t.name not in kept and t.name not in watched
        ),
        "rules": rules,
        "actions": actions,
    }
