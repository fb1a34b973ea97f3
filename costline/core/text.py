"""Untrusted text (resource names, tag and property values) made safe for a terminal.

Names and values come from the stack, so anyone who can edit the Pulumi program chooses
them. Printed raw to a terminal (``pulumi preview`` shows policy violations as they are), an
ANSI escape could recolour or rewrite the screen and a line break could forge a line such
as ``- [mandatory] stack-budget``. :func:`strip_control` removes escape sequences, control
characters and bidirectional overrides; :func:`one_line` also turns line breaks into spaces,
for text that must stay one line. Markdown escaping (:mod:`costline.render.templates`) builds on
these.
"""

from __future__ import annotations

import re

_ANSI_AND_CONTROL = re.compile(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]"  # CSI sequences: colours, cursor moves, erase
    r"|\x1b[@-_]"  # other two-character escapes (OSC start, ...)
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 (but tab and newline) and C1 control characters
    r"|[\u202a-\u202e\u2066-\u2069]"  # bidirectional overrides and isolates ("Trojan Source")
)
_LINE_BREAKS = re.compile(
    r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]"
)  # what str.splitlines splits on


def strip_control(text: str) -> str:
    """Remove ANSI escape sequences and control characters (they could rewrite a terminal);
    tabs and newlines stay."""
    return _ANSI_AND_CONTROL.sub("", text)


def one_line(text: str) -> str:
    """:func:`strip_control`, and every line break becomes a space: the text stays one line."""
    return strip_control(_LINE_BREAKS.sub(" ", text))


_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_escape_controls(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the characters it leaves raw but a
    terminal or a JavaScript reader must not get raw — DEL and C1 controls (``\\x9b`` starts an
    escape sequence like ESC ``[``), line separators, bidirectional overrides — written as
    ``\\uXXXX`` escapes: the same data, nothing that acts. JSON's own syntax is ASCII, so these
    characters only ever stand inside strings."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
