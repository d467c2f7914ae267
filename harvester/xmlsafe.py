"""The only way the node parses XML: no DTDs, no entities, no network.

Harvested XML is untrusted. A document that declares entities (XXE, billion laughs) is refused before
parsing; the parser itself never resolves entities, never loads a DTD and never opens a URL.
"""
from __future__ import annotations

import re

from lxml import etree


class UnsafeXML(ValueError):
    """The document declares a DTD with entities, or otherwise tries to reach outside itself."""


class MalformedXML(ValueError):
    """The document is not well-formed; the message names the line and column."""


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


def parser(**extra) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False, **extra)


def check_prolog(data: bytes, where: str = "document") -> None:
    """Refuse entity declarations wherever they appear (they only have a use in attacks here)."""
    if _ENTITY.search(data):
        raise UnsafeXML(f"{where}: declares XML entities (<!ENTITY>); refused as a possible XXE or entity bomb")
    m = _DOCTYPE.search(data)
    if m and b"SYSTEM" in data[m.start(): m.start() + 2000].split(b">", 1)[0].upper():
        raise UnsafeXML(f"{where}: DOCTYPE references an external DTD; refused")


def parse_bytes(data: bytes, where: str = "document") -> etree._ElementTree:
    check_prolog(data, where)
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedXML(f"{where}: line {exc.lineno}, column {exc.offset}: {exc.msg}") from None
    return root.getroottree()


def parse_file(path, where: str | None = None) -> etree._ElementTree:
    with open(path, "rb") as fh:
        return parse_bytes(fh.read(), where or str(path))


def iterparse(source, tag=None, where: str = "document"):
    """Stream elements from a file-like object or path (big documents), with the same protections.

    The caller must check the prolog first when the bytes are at hand; the parser itself still refuses entities.
    """
    return etree.iterparse(source, events=("end",), tag=tag, resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=False)
