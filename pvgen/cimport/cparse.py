"""C declarations: scanned tokens to the structs, enums, typedefs and inline functions of a header.

Takes: a `Scan` (tokens with their `#if` frames).
Hands on: `Header`, the top-level declarations pvgen can use, each with its
first line and frames. Struct members are classified (hook, data, callee-save
thunk, or unsupported with the reason). Everything else at the top level
(prototypes, variables, macros' leftovers) is skipped and counted. Unbalanced
braces or parentheses are a `HeaderError` naming where the bracket opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..records import record
from .scan import HeaderError, Scan, Token

C_TYPE_WORDS = frozenset({"unsigned", "signed", "short", "long", "int", "char", "void"})
QUALIFIERS = frozenset({"volatile", "restrict", "__restrict", "register"})
# Words that change how a function is called; they become @callconv.
CALLING_CONVENTIONS = {"fastcall": "fastcall", "asmlinkage": "asmlinkage"}
# Kernel annotations with no effect on the interface's layout or calls.
IGNORED_WORDS = frozenset(
    {
        "__init",
        "__initdata",
        "__cpuinit",
        "__visible",
        "__user",
        "__iomem",
        "__rcu",
        "__percpu",
        "__force",
        "__kernel",
        "__must_check",
        "__always_inline",
        "__noreturn",
        "noinline",
        "notrace",
        "__pure",
        "__nocast",
        "__bitwise",
        "__no_randomize_layout",
        "__randomize_layout",
        "__attribute_used__",
        "__used",
        "__ro_after_init",
        "__read_mostly",
        "inline",
        "__inline",
        "__inline__",
    }
)
CALLEE_SAVE_STRUCT = "paravirt_callee_save"


@record
class CType:
    words: tuple[str, ...]  # ("unsigned", "long"), ("pte_t",), ("struct", "mm_struct")
    const: bool = False
    pointers: tuple[bool, ...] = ()  # one per `*`, True where that pointer is const

    @property
    def tag(self) -> str | None:
        """`struct`, `enum` or `union` when the type is written with one."""
        return (
            self.words[0] if self.words and self.words[0] in ("struct", "enum", "union") else None
        )

    @property
    def base(self) -> str:
        return self.words[-1] if self.tag else " ".join(self.words)

    @property
    def is_c_words(self) -> bool:
        return all(w in C_TYPE_WORDS for w in self.words)


@record
class CParam:
    type: CType
    name: str | None


@dataclass
class CMember:
    kind: str  # hook, data, callee_save, unsupported
    name: str
    first: Token
    last: Token
    type: CType | None = None  # return type of a hook, type of data
    params: tuple[CParam, ...] = ()
    callconv: str | None = None
    reason: str = ""  # why unsupported, or what was dropped
    source: str = ""  # the member as written, for TODO notes
    dropped: list[str] = field(default_factory=list)  # attributes not carried over


@dataclass
class CStruct:
    name: str
    first: Token
    open_brace: Token
    close_brace: Token
    members: list[CMember]
    is_union: bool = False


@dataclass
class CEnum:
    name: str
    first: Token
    values: list[tuple[str, str | None, Token]]  # (name, value as written, token)
    open_brace: Token
    close_brace: Token


@dataclass
class CTypedef:
    name: str
    first: Token
    type: CType


@dataclass
class CInline:
    """A function with a body; read only to recover callee-save hook signatures."""

    name: str
    returns: CType | None
    params: tuple[CParam, ...] | None
    body: list[Token]
    first: Token  # where the definition starts, for notes and its `#if` frames


@dataclass
class Header:
    structs: list[CStruct] = field(default_factory=list)
    enums: list[CEnum] = field(default_factory=list)
    typedefs: list[CTypedef] = field(default_factory=list)
    inlines: list[CInline] = field(default_factory=list)
    skipped: int = 0
    notes: list[tuple[int, str]] = field(default_factory=list)


def parse_header(scanned: Scan, name: str) -> Header:
    tokens = scanned.tokens
    _check_brackets(tokens, name)
    return _Reader(tokens).run()


def _check_brackets(tokens: Sequence[Token], name: str) -> None:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[Token] = []
    for token in tokens:
        if token.kind != "punct":
            continue
        if token.text in "([{":
            stack.append(token)
        elif token.text in pairs:
            if not stack or stack[-1].text != pairs[token.text]:
                raise HeaderError(
                    f"{name}:{token.line}:{token.column}",
                    f"'{token.text}' closes nothing"
                    + (
                        f" (the open '{stack[-1].text}' is at line {stack[-1].line})"
                        if stack
                        else ""
                    ),
                )
            stack.pop()
    if stack:
        token = stack[-1]
        raise HeaderError(f"{name}:{token.line}:{token.column}", f"'{token.text}' is never closed")


def matching(tokens: Sequence[Token], index: int) -> int:
    """Index of the bracket that closes the one at `index` (brackets are balanced)."""
    depth = 0
    for i in range(index, len(tokens)):
        text = tokens[i].text
        if tokens[i].kind == "punct" and text in "([{":
            depth += 1
        elif tokens[i].kind == "punct" and text in ")]}":
            depth -= 1
            if depth == 0:
                return i
    raise AssertionError("brackets were checked")


class _Reader:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.header = Header()

    def run(self) -> Header:
        i = 0
        while i < len(self.tokens):
            i = self.top_level(i)
        return self.header

    def text(self, i: int) -> str:
        return self.tokens[i].text if i < len(self.tokens) else ""

    def top_level(self, i: int) -> int:
        word = self.text(i)
        if word == "typedef":
            return self.typedef(i)
        if word in ("struct", "union", "enum") and self.text(i + 2) == "{":
            return self.tagged_definition(i, i + 2, self.text(i + 1))
        return self.skip(i)

    def skip(self, i: int) -> int:
        """Pass over one declaration or function definition, remembering inline functions."""
        start = i
        while i < len(self.tokens):
            text = self.tokens[i].text
            if text in ("(", "["):
                i = matching(self.tokens, i) + 1
                continue
            if text == "{":
                end = matching(self.tokens, i)
                if self.text(i - 1) == ")":  # a function body ends the declaration
                    self.remember_inline(start, i, end)
                    self.header.skipped += 1
                    return end + 1
                i = end + 1
                continue
            if text == ";" or text == "}":
                self.header.skipped += 1
                return i + 1
            i += 1
        self.header.skipped += 1
        return i

    def remember_inline(self, start: int, body_open: int, body_close: int) -> None:
        decl = self.tokens[start:body_open]
        paren = next((k for k in range(len(decl) - 1, -1, -1) if decl[k].text == "("), None)
        if paren is None or paren == 0 or decl[paren - 1].kind != "ident":
            return
        close = matching(decl, paren)
        ret = type_of([t for t in decl[: paren - 1] if t.text not in ("static", "extern")])
        params = _params(decl[paren + 1 : close])
        self.header.inlines.append(
            CInline(
                decl[paren - 1].text,
                ret,
                params,
                self.tokens[body_open + 1 : body_close],
                self.tokens[start],
            )
        )

    def typedef(self, i: int) -> int:
        first = self.tokens[i]
        if self.text(i + 1) in ("struct", "union", "enum"):
            # `typedef struct [tag] { ... } alias;` declares the struct under its alias.
            brace = i + 2 if self.text(i + 2) == "{" else i + 3
            if self.text(brace) == "{":
                close = matching(self.tokens, brace)
                alias = self.tokens[close + 1] if close + 1 < len(self.tokens) else None
                if alias is not None and alias.kind == "ident" and self.text(close + 2) == ";":
                    return self.tagged_definition(i + 1, brace, alias.text, first)
        end = self.statement_end(i)
        parts = self.tokens[i + 1 : end - 1]  # between `typedef` and `;`
        if any(t.text == "(" for t in parts) or len(parts) < 2 or parts[-1].kind != "ident":
            self.header.notes.append(
                (first.line, "skipped a typedef that is not a plain type name (function type?)")
            )
        else:
            ctype = type_of(parts[:-1])
            if ctype is not None:
                self.header.typedefs.append(CTypedef(parts[-1].text, first, ctype))
        return end

    def tagged_definition(
        self, keyword: int, brace: int, name: str, first: Token | None = None
    ) -> int:
        """A struct, union or enum body opening at `brace`; returns where the next item starts."""
        close = matching(self.tokens, brace)
        first = first or self.tokens[keyword]
        if self.text(keyword) == "enum":
            values = _enumerators(self.tokens[brace + 1 : close])
            self.header.enums.append(
                CEnum(name, first, values, self.tokens[brace], self.tokens[close])
            )
        else:
            members = _members(self.tokens[brace + 1 : close])
            is_union = self.text(keyword) == "union"
            self.header.structs.append(
                CStruct(name, first, self.tokens[brace], self.tokens[close], members, is_union)
            )
        return self.statement_end(close + 1)

    def statement_end(self, i: int) -> int:
        """Just past the `;` that ends the declaration at `i` (brackets skipped whole)."""
        while i < len(self.tokens) and self.text(i) != ";":
            if self.text(i) in _OPENING:
                i = matching(self.tokens, i)
            i += 1
        return i + 1


_OPENING = frozenset("([{")


# ---- members -------------------------------------------------------------------------


def split_at(tokens: Sequence[Token], separator: str) -> list[list[Token]]:
    """Split at `separator` outside brackets."""
    parts: list[list[Token]] = [[]]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "punct" and token.text in "([{":
            end = matching(tokens, i)
            parts[-1].extend(tokens[i : end + 1])
            i = end + 1
            continue
        if token.kind == "punct" and token.text == separator:
            parts.append([])
        else:
            parts[-1].append(token)
        i += 1
    return parts


def _members(body: Sequence[Token]) -> list[CMember]:
    members = []
    for part in split_at(body, ";"):
        if part:
            members.extend(_member(part))
    return members


def _source(tokens: Sequence[Token]) -> str:
    """Tokens back to C text in the kernel's spacing: `void (*fn)(void *data)`."""
    out = ""
    for index, token in enumerate(tokens):
        text = token.text
        previous = tokens[index - 1] if index else None
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if previous is None:
            out = text
        elif text in (")", "]", ",", ";", "[") or previous.text in ("(", "["):
            out += text
        elif text == "(" and (previous.text == ")" or previous.kind == "ident"):
            # `f(` and `)(` stay joined; `void (*f)` keeps the kernel's space before `(*`.
            out += (" " if following == "*" and previous.kind == "ident" else "") + text
        elif previous.text == "*" and token.kind == "ident":
            out += text
        else:
            out += " " + text
    return out


def _member(tokens: list[Token]) -> list[CMember]:
    first, last = tokens[0], tokens[-1]
    source = _source(tokens) + ";"

    def unsupported(reason: str, name: str = "") -> list[CMember]:
        return [CMember("unsupported", name, first, last, reason=reason, source=source)]

    if any(t.text == "{" for t in tokens):
        return unsupported("a nested struct or union definition")
    callconv, dropped, rest = _strip_attributes(tokens)
    if not rest:
        return unsupported("nothing pvgen can read")
    paren = next((i for i, t in enumerate(rest) if t.text == "("), None)
    if paren is not None:
        return [_function_pointer(rest, paren, first, last, source, callconv, dropped)]
    if any(t.text == ":" for t in rest):
        return unsupported("a bit-field")
    if any(t.text == "[" for t in rest):
        return unsupported("an array member")
    members = []
    declarators = split_at(rest, ",")
    head = declarators[0]
    name_at = len(head) - 1
    if name_at < 1 or head[name_at].kind != "ident":
        return unsupported("a declaration pvgen cannot read")
    base = head[:name_at]
    # `int a, *b;`: each further declarator keeps the base words and has its own stars.
    base_words = [t for t in base if t.text != "*"]
    for index, declarator in enumerate(declarators):
        parts = declarator if index == 0 else base_words + declarator
        if any(t.text == "[" for t in parts):
            return unsupported("an array member")
        if len(parts) < 2 or parts[-1].kind != "ident":
            return unsupported("a declaration pvgen cannot read")
        ctype = type_of(parts[:-1])
        if ctype is None:
            return unsupported("a type pvgen cannot read")
        kind = (
            "callee_save"
            if ctype.words == ("struct", CALLEE_SAVE_STRUCT) and not ctype.pointers
            else "data"
        )
        members.append(
            CMember(kind, parts[-1].text, first, last, type=ctype, source=source, dropped=dropped)
        )
    return members


def _function_pointer(
    rest: list[Token],
    paren: int,
    first: Token,
    last: Token,
    source: str,
    callconv: str | None,
    dropped: list[str],
) -> CMember:
    close = matching(rest, paren)
    inner = rest[paren + 1 : close]
    stars = [t for t in inner if t.text == "*"]
    names = [t for t in inner if t.kind == "ident" and t.text != "const"]
    after = rest[close + 1 :]
    if len(stars) != 1 or len(names) != 1 or not after or after[0].text != "(":
        name = names[-1].text if names else ""
        return CMember(
            "unsupported", name, first, last, reason="not a plain function pointer", source=source
        )
    params_close = matching(after, 0)
    params = _params(after[1:params_close])
    returns = type_of(rest[:paren])
    name = names[0].text
    if params is None or returns is None or params_close != len(after) - 1:
        param_texts = {t.text for t in after[1:params_close]}
        if "..." in param_texts:
            why = "a variadic parameter list ('...')"
        elif "(" in param_texts:
            why = "a function-pointer parameter"
        elif params is None:
            why = "a parameter pvgen cannot read"
        else:
            why = "a return type pvgen cannot read"
        return CMember("unsupported", name, first, last, reason=why, source=source)
    return CMember(
        "hook", name, first, last, returns, params, callconv, source=source, dropped=dropped
    )


def _params(tokens: Sequence[Token]) -> tuple[CParam, ...] | None:
    if not tokens or [t.text for t in tokens] == ["void"]:
        return ()
    params = []
    for part in split_at(tokens, ","):
        _, _, part = _strip_attributes(part)
        if not part or any(t.text in ("(", "...") for t in part):
            return None
        if part[-1].text == "]":  # `u32 regs[]` is a pointer
            start = max(i for i, t in enumerate(part) if t.text == "[")
            part = part[:start]
            array = True
        else:
            array = False
        name = None
        if _names_parameter(part):
            name = part[-1].text
            part = part[:-1]
        ctype = type_of(part)
        if ctype is None:
            return None
        if array:
            ctype = CType(ctype.words, ctype.const, ctype.pointers + (False,))
        params.append(CParam(ctype, name))
    return tuple(params)


def _names_parameter(part: Sequence[Token]) -> bool:
    """Whether the last word of a parameter is its name rather than part of its type."""
    if len(part) < 2 or part[-1].kind != "ident":
        return False
    word, before = part[-1].text, part[-2].text
    if word in C_TYPE_WORDS or word == "const" or before in ("struct", "enum", "union"):
        return False
    return any(t.text not in ("const", *QUALIFIERS) for t in part[:-1])


def _strip_attributes(tokens: Sequence[Token]) -> tuple[str | None, list[str], list[Token]]:
    """Remove attributes; returns the calling convention found, what was dropped, and the rest."""
    callconv = None
    dropped: list[str] = []
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        text = token.text
        if text in CALLING_CONVENTIONS:
            callconv = CALLING_CONVENTIONS[text]
        elif text == "__attribute__" and i + 1 < len(tokens) and tokens[i + 1].text == "(":
            end = matching(tokens, i + 1)
            inside = " ".join(t.text for t in tokens[i + 2 : end])
            regparm = _regparm(tokens[i + 2 : end])
            if regparm is not None:
                callconv = regparm
            else:
                dropped.append(f"__attribute__(({inside.strip('( )')}))")
            i = end + 1
            continue
        elif text in IGNORED_WORDS or text in QUALIFIERS:
            pass
        elif (
            text.startswith("__")
            and i + 1 < len(tokens)
            and tokens[i + 1].text == "("
            and token.kind == "ident"
        ):
            end = matching(tokens, i + 1)
            dropped.append(_source(tokens[i : end + 1]))
            i = end + 1
            continue
        else:
            out.append(token)
        i += 1
    return callconv, dropped, out


def _regparm(inside: Sequence[Token]) -> str | None:
    words = [t.text for t in inside if t.text not in "()"]
    if len(words) == 2 and words[0] in ("regparm", "__regparm__"):
        return {"3": "fastcall", "0": "asmlinkage"}.get(words[1])
    return None


def type_of(tokens: Sequence[Token]) -> CType | None:
    """A type from its tokens (attributes already gone): words, const, stars."""
    _, _, tokens = _strip_attributes(tokens)
    words: list[str] = []
    const = False
    pointers: list[bool] = []
    for token in tokens:
        text = token.text
        if text == "*":
            pointers.append(False)
        elif text == "const":
            if pointers:
                pointers[-1] = True
            else:
                const = True
        elif token.kind == "ident" and not pointers:
            words.append(text)
        else:
            return None
    if not words:
        return None
    if words[0] in ("struct", "enum", "union"):
        if len(words) != 2:
            return None
    elif len(words) > 1 and not all(w in C_TYPE_WORDS for w in words):
        return None
    return CType(tuple(words), const, tuple(pointers))


def _enumerators(tokens: Sequence[Token]) -> list[tuple[str, str | None, Token]]:
    values: list[tuple[str, str | None, Token]] = []
    for part in split_at(tokens, ","):
        if not part or part[0].kind != "ident":
            continue
        if len(part) == 1:
            values.append((part[0].text, None, part[0]))
        elif len(part) >= 3 and part[1].text == "=":
            literal = "".join(t.text for t in part[2:])
            values.append((part[0].text, literal, part[0]))
    return values
