"""The parser's inner loop: lark's LALR(1) tables, driven by one scanner of our own.

Takes: the text of one spec file and the `Lark` parser that `pvgen.syntax` builds from
the grammar (its terminals, its parse table and the rule callbacks that build the syntax
tree), plus the builder's lexer callbacks (comments and closing braces, for the formatter).
Hands on: what the grammar's `start` rule builds, exactly as lark's own parser would; or
`NotParsed` at the first token the grammar does not accept, so that the caller parses again
with lark's own contextual lexer and reports the canonical syntax error.

The grammar stays the one source of truth: the scanner is made from its terminals (one
alternation, in the order lark's lexer tries them) and the loop reads lark's parse table.
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

import re
from collections.abc import Callable
from typing import Any

from lark import Lark, Token
from lark.parsers.lalr_analysis import Shift


class NotParsed(Exception):
    """The text is not in the grammar: parse it again with lark for the exact error."""


# A reduction: how many values it pops, the rule's name (for the goto), its callback.
_Reduce = tuple[int, str, Callable[[list[Any]], Any]]


class Driver:
    """One grammar's scanner and tables, ready to parse any number of texts."""

    def __init__(self, lark_parser: Lark, callbacks: dict[str, Callable[[Token], Token]]) -> None:
        conf = lark_parser.lexer_conf
        parser = lark_parser.parser.parser.parser  # frontend -> LALR_Parser -> _Parser
        table = parser.parse_table
        self.start_state: int = table.start_states["start"]
        self.corrected = 0
        self.end_state: int = table.end_states["start"]
        self.callbacks = callbacks
        word = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
        terminals = sorted(
            conf.terminals,
            key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
        )
        self.keywords: dict[str, str] = {}
        self.ignore = frozenset(conf.ignore)
        alternatives = []
        blanks = []  # ignored terminals nobody watches (white space): skipped in the match
        for terminal in terminals:
            pattern = terminal.pattern
            if pattern.type == "str" and word.match(pattern.value):
                self.keywords[pattern.value] = terminal.name  # found as a NAME, then decided
            elif terminal.name in self.ignore and terminal.name not in callbacks:
                blanks.append(pattern.to_regexp())
            else:
                alternatives.append(f"(?P<{terminal.name}>{pattern.to_regexp()})")
        if "NAME" not in {t.name for t in conf.terminals}:
            raise ValueError("the grammar has no NAME terminal")
        skip = f"(?:{'|'.join(blanks)})*" if blanks else ""
        self.scanner = re.compile(f"{skip}(?:{'|'.join(alternatives)})", conf.g_regex_flags)
        self.blanks = re.compile(f"{skip}\\Z", conf.g_regex_flags)
        # Actions by state and terminal: an int is the state to shift to, a tuple a reduction.
        rule_callbacks = parser.callbacks
        self.actions: dict[int, dict[str, int | _Reduce]] = {}
        for state, row in table.states.items():
            actions: dict[str, int | _Reduce] = {}
            for symbol, (action, arg) in row.items():
                if action is Shift:
                    actions[symbol] = arg
                else:
                    actions[symbol] = (len(arg.expansion), arg.origin.name, rule_callbacks[arg])
            self.actions[state] = actions
        # Callbacks lark would run on a shifted token of a terminal (a transformer method
        # named after it); none today, kept so that adding one keeps working.
        self.token_callbacks = {
            name: rule_callbacks[name] for name in rule_callbacks if isinstance(name, str)
        }
        # Terminals that every rule filters out of its children (punctuation, most keywords):
        # their tokens are never seen, so none is made for them (a third of the parse's time
        # went into making tokens); their place on the value stack holds None.
        kept = {
            symbol.name
            for rule in lark_parser.rules
            for symbol in rule.expansion
            if symbol.is_term and not getattr(symbol, "filter_out", False)
        }
        self.unseen = frozenset(
            t.name
            for t in conf.terminals
            if t.name not in kept and t.name not in callbacks and t.name not in self.token_callbacks
        )

    def _shifts(self, states: list[int], kind: str) -> bool:
        """Whether a `kind` token would be shifted from `states`, after the reductions the
        parser makes on seeing it (simulated on a copy: nothing is built)."""
        actions = self.actions
        stack = states[:]
        while True:
            action = actions[stack[-1]].get(kind)
            if action is None:
                return False
            if action.__class__ is int:
                return True
            size, origin, _ = action  # type: ignore[misc]
            if size:
                del stack[-size:]
            stack.append(actions[stack[-1]][origin])  # type: ignore[arg-type]

    def parse(self, text: str) -> Any:
        self.corrected = 0  # words read as names where lark's lexer reads a keyword
        actions = self.actions
        keywords = self.keywords
        ignore = self.ignore
        callbacks = self.callbacks
        token_callbacks = self.token_callbacks
        unseen = self.unseen
        match = self.scanner.match
        states = [self.start_state]
        values: list[Any] = []
        row = actions[self.start_state]
        pos = 0
        line = 1
        line_start = 0
        end = len(text)
        end_state = self.end_state
        while True:
            found = match(text, pos) if pos < end else None
            if found is None:
                if pos < end and not self.blanks.match(text, pos):
                    raise NotParsed
                kind, token = "$END", None  # only white space is left
            else:
                group = found.lastgroup
                assert group is not None
                kind = group
                start = found.start(kind)
                if start != pos:  # white space was skipped: count its lines
                    newlines = text.count("\n", pos, start)
                    if newlines:
                        line += newlines
                        line_start = text.rfind("\n", pos, start) + 1
                    pos = start
                value = found.group(kind)
                after = found.end()
                if kind == "NAME":
                    keyword = keywords.get(value)
                    if keyword is not None:
                        if "NAME" not in row or (keyword in row and self._shifts(states, keyword)):
                            kind = keyword
                        elif keyword in row:
                            self.corrected += 1  # lark's lexer would take the keyword
                elif kind == "DOC_COMMENT" and kind not in row:
                    kind = "LINE_COMMENT"
                if kind in ignore:
                    if kind in callbacks:
                        callbacks[kind](self._token(kind, value, pos, line, line_start))
                    newlines = value.count("\n")
                    if newlines:
                        line += newlines
                        line_start = pos + value.rfind("\n") + 1
                    pos = after
                    continue
                if kind in unseen:
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
                    if kind in callbacks:
                        token = callbacks[kind](token)
                pos = after
            # Reduce as long as the state says so, then shift the token. The end of the text
            # is never shifted: reducing the start rule there completes the parse.
            while True:
                action = row.get(kind)
                if action is None:
                    raise NotParsed
                if action.__class__ is int:
                    if token is None and kind == "$END":
                        raise NotParsed
                    states.append(action)
                    values.append(
                        token if kind not in token_callbacks else token_callbacks[kind](token)
                    )
                    row = actions[action]
                    break
                size, origin, callback = action  # type: ignore[misc]
                if size:
                    popped = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    popped = []
                goto = actions[states[-1]][origin]
                states.append(goto)  # type: ignore[arg-type]
                values.append(callback(popped))
                if goto == end_state:
                    return values[-1]
                row = actions[goto]  # type: ignore[index]

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
    """`Token(kind, value, start, line, column, end_line, end_column, end)`, in a third of
    the time: lark's constructor goes through two Python-level calls (its keyword
    deprecation shim) for each of the hundred thousand tokens of a large spec. The fields
    are lark's slots; `tests/test_lalr.py` holds the trees to lark's own."""
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
