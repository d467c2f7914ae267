"""Harvested text as the record keeps it: plain text, whitespace collapsed, control characters dropped.

Markup in harvested text stays literal text (a '<script>' in a title is just those characters); escaping is
the job of whatever shows the text. URLs are taken only with an http, https or ftp scheme.
"""
from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote

from ..textsafe import drop_controls   # the one sanitiser: imports and every other way in use it too

_SPACE = re.compile(r"\s+")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v\u00a0]*\n\s*")
_ENTITY = re.compile(r"&(?:gt|lt|amp|quot|apos|#\d{1,6}|#x[0-9a-fA-F]{1,6});")
_URL = re.compile(r"^(?:https?|ftp)://[^\s/?#]+", re.IGNORECASE)
_UNSAFE = re.compile(r'[\s"<>`{}|\\^]')
_URL_IN = re.compile(r"(?:https?|ftp)://\S+", re.IGNORECASE)


def clean(text) -> str:
    """One line of text: control characters dropped, runs of whitespace made one space, ends stripped."""
    if text is None:
        return ""
    text = drop_controls(str(text))
    return _SPACE.sub(" ", text).strip()


def clean_paragraphs(text) -> str:
    """Longer text (descriptions): each paragraph cleaned, paragraphs kept apart by one blank line."""
    if text is None:
        return ""
    text = drop_controls(str(text)).replace("\r\n", "\n").replace("\r", "\n")
    parts = [clean(p) for p in _PARAGRAPH.split(text)]
    return "\n\n".join(p for p in parts if p)


def unescape_twice_escaped(text: str) -> str:
    """Short values (keywords) escaped twice at the source ('Ocean &gt; Pacific Ocean') read as meant.

    Only for values that are names or terms; descriptions are kept exactly as sent.
    """
    return clean(html.unescape(text)) if _ENTITY.search(text) else text


def url(text) -> str | None:
    """The text as a URL when it is one (http, https, ftp), inner whitespace percent-encoded; else None."""
    t = clean(text)
    if not t or not _URL.match(t):
        return None
    return _UNSAFE.sub(lambda m: quote(m.group(0)), t)


def urls_in(text) -> list[str]:
    """Every URL found inside a text (e.g. 'application/pdf https://host/file.pdf')."""
    out = []
    for m in _URL_IN.finditer(clean(text)):
        u = url(m.group(0).rstrip(".,;)"))
        if u:
            out.append(u)
    return out


def fold(text) -> str:
    """A key for comparing names: case-folded, accents removed, punctuation made space."""
    t = unicodedata.normalize("NFKD", clean(text).casefold())
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = re.sub(r"[^\w]+", " ", t)
    return _SPACE.sub(" ", t).strip()


def has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)
