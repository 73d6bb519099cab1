"""Terminal-safe display of strings that come from files, projects or users.

File names, labels, memos, reviewer names and cell values can hold terminal escape sequences
("\\x1b[2J" clears the screen, OSC 8 makes links), newlines that forge whole output lines, carriage
returns that overwrite them, and bidirectional overrides that reorder what a reader sees. Every CLI
output that prints such a string passes it through `shown` (plain text), `shown_text` (rich tables:
no markup is interpreted either) or `shown_json`; the stored values are never changed.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls (newline and tab included: one value must stay on one line), DEL, the bidirectional
# embeddings, overrides and isolates, line and paragraph separators, and the byte-order mark.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# In JSON text, json.dumps has escaped the C0 controls inside strings; the newlines and spaces left are its
# own layout.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def shown(value: object) -> str:
    """`value` as text a terminal prints literally: control and reordering characters written as escapes."""
    return _UNSAFE.sub(_escape, str(value))


def shown_text(value: object) -> Text:
    """`shown`, as a rich `Text`, so that "[red]" or "[link=…]" in a label is printed, not interpreted."""
    return Text(shown(value))


def shown_json(dumped: str) -> str:
    r"""JSON text with every unsafe character written as a \uXXXX escape (still the same JSON).

    json.dumps(ensure_ascii=False) escapes C0 controls itself but leaves C1 controls (\x9b is a one-byte
    CSI) and bidirectional overrides as they are; outside strings JSON text is plain ASCII, so replacing
    them anywhere is safe.
    """
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
