"""The one text sanitiser of every way into the store: harvests (through the crosswalks' text cleaning),
bundle imports, and anything else that writes records.

It drops the characters that are never useful in metadata text and that break XML output, terminals and
search engines: C0 controls other than tab, line feed and carriage return (NUL, ESC, ...), DEL, C1 controls,
the byte order mark (zero-width no-break space), the non-characters U+FFFE and U+FFFF, and lone
surrogates. It changes nothing else (whitespace stays as it is: the crosswalks collapse it themselves), so
text that went through it once passes through it again unchanged.
"""
from __future__ import annotations

import re

DROPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff\ud800-\udfff]")


def drop_controls(text: str) -> str:
    """The text without the characters this module drops."""
    return DROPPED.sub("", text)


def first_dropped(text: str) -> str | None:
    """The first character of the text that the sanitiser would drop, or None."""
    m = DROPPED.search(text)
    return m.group(0) if m else None


def sanitise_strings(value):
    """A JSON value with every string in it (not the keys of objects: the schema checks those) sanitised."""
    if isinstance(value, str):
        return drop_controls(value)
    if isinstance(value, dict):
        return {k: sanitise_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitise_strings(v) for v in value]
    return value
