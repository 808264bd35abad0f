"""Escaping: the one place where text from a spec or from a file name is made safe to print.

Takes: any string that came from a spec (docs, annotation strings, names) or from the file
system (the paths of spec files), on its way into an output.
Hands on: one function per output language, each total (any string in, safe text out):
- `python_comment`, `python_string` and `python_docstring`: a `#` comment's text, a string
  literal, the body of a docstring;
- `c_comment` and `c_string`: text inside a `/* */` comment, a string literal;
- `terminal`: text for a person's terminal (text diagnostics, error lines);
- `html_text` and `script_json`: text for HTML (element content and quoted attribute
  values), and JSON for inside a `<script>` element of an HTML page;
and `path_problem`, the reason a path name is refused (pvgen reads and writes no file
whose name holds a control character).

What is unsafe: control characters (C0, DEL, C1) end lines or rewrite what a terminal
shows (a carriage return makes Python see a new line where an editor shows a comment);
Unicode's line separators; the bidirectional embeddings, overrides and isolates, which
make text read in another order than a compiler sees it; and lone surrogates, which are
how Python carries the bytes of a file name that is not UTF-8. Each is written as a
visible `\\xNN` / `\\uNNNN` escape.
"""

from __future__ import annotations

import re

# Unicode's bidirectional embeddings, overrides and isolates.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# Every character that no output may carry raw.
_OTHER_UNSAFE = f"\\x7f-\\x9f\u2028\u2029{BIDI_CONTROLS}\ud800-\udfff"
_UNSAFE_CHAR = re.compile(f"[\\x00-\\x1f{_OTHER_UNSAFE}]")
# The same but for tabs and line breaks, for text that keeps its layout (a terminal message).
_UNSAFE_BUT_LAYOUT = re.compile(f"[\\x00-\\x08\\x0b-\\x1f{_OTHER_UNSAFE}]")
# The same but for line breaks (the body of a docstring keeps its lines).
_UNSAFE_BUT_NEWLINE = re.compile(f"[\\x00-\\x09\\x0b-\\x1f{_OTHER_UNSAFE}]")
# `??` followed by one of these is a trigraph in older C modes; `??/` is a backslash.
_TRIGRAPH = re.compile(r"\?\?(?=[=/'()!<>-])")


def visible(char: str) -> str:
    """One unsafe character as an escape sequence made of printable ASCII."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escaped(match: re.Match[str]) -> str:
    return visible(match.group())


def has_unsafe(text: str) -> bool:
    return _UNSAFE_CHAR.search(text) is not None


def path_problem(name: str) -> str | None:
    """Why pvgen refuses a path with this name, or None when it is acceptable."""
    found = _UNSAFE_CHAR.search(name)
    if found is None:
        return None
    return (
        f"the path '{_UNSAFE_CHAR.sub(_escaped, name)}' contains the control character"
        f" {visible(found.group())}; pvgen reads and writes no file whose name holds one"
    )


# ---- Python -----------------------------------------------------------------------------


def python_comment(text: str) -> str:
    """Text for after a `#`: it cannot end the comment's line or hide what follows."""
    return _UNSAFE_CHAR.sub(_escaped, text)


def python_string(text: str) -> str:
    """A double-quoted Python string literal with the value `text`."""
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _UNSAFE_CHAR.sub(_escaped, body) + '"'


def python_docstring(text: str) -> str:
    """The body of a triple-quoted Python string with the value `text`: its lines kept,
    backslashes and every other unsafe character escaped, no closing `\"\"\"`. (The
    caller makes sure that the body does not end in a quote.)"""
    body = _UNSAFE_BUT_NEWLINE.sub(_escaped, text.replace("\\", "\\\\"))
    return body.replace('"""', '\\"\\"\\"')


# ---- C ----------------------------------------------------------------------------------


def c_comment(text: str) -> str:
    """Text that cannot end or confuse a C block comment, a line or a preprocessor line.

    `*/` would close the comment; backslash-newline (or the trigraph `??/`) would
    splice lines; control and bidirectional-override characters could hide code from
    a reader. A tab stays blank space.
    """
    if text.isascii() and text.isprintable() and "/" not in text and "??" not in text:
        return text  # the common case: nothing unsafe, no comment delimiter, no trigraph
    text = _UNSAFE_CHAR.sub(_c_comment_char, text)
    text = text.replace("*/", "*\\/").replace("/*", "/\\*")
    return _TRIGRAPH.sub("?\\\\?", text)


def _c_comment_char(match: re.Match[str]) -> str:
    char = match.group()
    return "    " if char == "\t" else f"\\u{ord(char):04x}"


def c_string(text: str) -> str:
    """A C string literal: ASCII only, no trigraphs, every other byte as an octal escape."""
    if text.isascii() and text.isprintable() and not ('"' in text or "\\" in text or "?" in text):
        return f'"{text}"'  # the common case needs no escaping
    out = []
    for byte in text.encode("utf-8", errors="surrogateescape"):
        ch = chr(byte)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


# ---- Markdown ---------------------------------------------------------------------------

# Every character with a meaning inside a line of Markdown (emphasis, code spans, links and
# images, raw HTML and autolinks, entities, table cells, strikethrough), escaped wherever it
# stands. (`(`, `!` and `#` only act after `]`, before `[` or at a line's start.)
_MARKDOWN_INLINE = re.compile(r"[\\`*_\[\]<>|~&]")


def _layout_free(text: str) -> str:
    """Text on one line: tabs and line breaks become spaces, other unsafe characters are
    written as escapes."""
    return _UNSAFE_CHAR.sub(lambda m: " " if m.group() in "\t\n\r" else visible(m.group()), text)


def markdown_text(text: str) -> str:
    """Inline Markdown that shows `text` as it is, on one line: no emphasis, link, image,
    code span, raw HTML, entity, table-cell break or line break can come out of it."""
    return _MARKDOWN_INLINE.sub(lambda m: "\\" + m.group(), _layout_free(text))


def markdown_line(line: str) -> str:
    """A line of inline Markdown that cannot start a block: no indented code, and a list
    item, a heading or its underline, or an ordered list item (`1.`, `1)`) at its start is
    escaped (what `markdown_text` escapes everywhere, such as `>` and `*`, needs no more)."""
    line = line.lstrip(" ")
    if line[:1] in ("-", "+", "=", "#"):
        line = "\\" + line
    return re.sub(r"^([0-9]+)([.)])", r"\1\\\2", line)


def markdown_code(text: str) -> str:
    """A Markdown code span showing `text` on one line (a backtick inside is fenced by a
    longer run of backticks)."""
    text = _layout_free(text)
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# ---- the terminal -----------------------------------------------------------------------


def terminal(text: str) -> str:
    """Text for a terminal: line breaks and tabs are kept, every other unsafe character is
    escaped (a carriage return would rewrite the line; escape sequences would drive the
    terminal)."""
    return _UNSAFE_BUT_LAYOUT.sub(_escaped, text)


# ---- HTML -------------------------------------------------------------------------------

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_HTML_SPECIAL = re.compile("[&<>\"']")


def plain(text: str) -> str:
    """Text with line breaks and tabs kept and every other unsafe character escaped: the
    value an HTML escaper (or a page's script writing it as text) then makes safe."""
    return _UNSAFE_BUT_LAYOUT.sub(_escaped, text)


def html_text(text: str, *, keep_lines: bool = False) -> str:
    """Text for HTML element content or a double- or single-quoted attribute value: markup
    characters as character references, and every unsafe character (a right-to-left override
    would reorder what a reader sees) as a visible escape. Line breaks and tabs are kept with
    `keep_lines` (text whose layout matters: docs, preformatted code); otherwise a line break
    is escaped too and a tab is a space (a heading, a name, a title)."""
    if keep_lines:
        text = plain(text)
    else:
        text = _UNSAFE_CHAR.sub(lambda m: " " if m.group() == "\t" else visible(m.group()), text)
    return _HTML_SPECIAL.sub(lambda m: _HTML[m.group()], text)


# In a <script> element only `</script`, `<!--` and `<script` change what the parser does;
# writing `<`, `>` and `&` as JSON escapes rules all of them out. U+2028 and U+2029 end a
# line in JavaScript source before ES2019, and a lone surrogate (a file name's byte that is
# not UTF-8) cannot be written as UTF-8 at all: both are escaped too.
_SCRIPT_SPECIAL = re.compile("[<>&\u2028\u2029\ud800-\udfff]")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def script_json(value: object) -> str:
    """`value` as compact JSON text that is safe inside an HTML `<script>` element: it cannot
    close the element, open a comment, or break a line of script; it parses to `value`."""
    import json

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return _SCRIPT_SPECIAL.sub(_json_escape, text)
