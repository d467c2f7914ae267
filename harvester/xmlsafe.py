"""The only way the node parses XML: no DTDs, no entities, no network.

Harvested XML is untrusted. A document that declares entities (XXE, billion laughs) is refused before
parsing, in whatever encoding it is written (the check reads it as the parser will: by its byte order mark,
its first bytes or its declared encoding, so UTF-16, UTF-32 and UTF-7 hide nothing); the parser itself never
resolves entities, never loads a DTD and never opens a URL, and a parsed document whose DTD still declares
entities is refused too.
"""
from __future__ import annotations

import re

from lxml import etree


class UnsafeXML(ValueError):
    """The document declares a DTD with entities, or otherwise tries to reach outside itself."""


class MalformedXML(ValueError):
    """The document is not well-formed; the message names the line and column."""


_DOCTYPE = {str: re.compile(r"<!DOCTYPE", re.IGNORECASE), bytes: re.compile(rb"<!DOCTYPE", re.IGNORECASE)}
_ENTITY = {str: re.compile(r"<!ENTITY", re.IGNORECASE), bytes: re.compile(rb"<!ENTITY", re.IGNORECASE)}
# How an XML parser tells the encoding before reading the declaration (XML 1.0, appendix F): the byte order
# mark, else the first bytes of '<?xml'. UTF-32 first: its little-endian mark begins like UTF-16's.
_BYTE_ORDER = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xfe\xff", "utf-16-be"),
               (b"\xff\xfe", "utf-16-le"), (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
               (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"))
_DECLARED = re.compile(rb"""\A(?:\xef\xbb\xbf)?<\?xml[^>]{0,200}?\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]{0,40})["']""")
_AS_BYTES = {"utf-8", "utf_8", "utf8", "us-ascii", "ascii"}


def parser(**extra) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False, **extra)


def _encoding(data: bytes) -> str | None:
    """The encoding the parser will read the document in, when it is not plainly UTF-8 (None)."""
    for mark, codec in _BYTE_ORDER:
        if data.startswith(mark):
            return codec
    m = _DECLARED.match(data)
    return m.group(1).decode("ascii").lower() if m else None


def _readings(data: bytes) -> list:
    """The document as bytes (what UTF-8 and the ASCII-compatible encodings show), and decoded when it names
    another encoding (an encoding Python does not know is left to the bytes)."""
    codec = _encoding(data)
    if codec is None or codec in _AS_BYTES:
        return [data]
    try:
        return [data, data.decode(codec, errors="replace")]
    except LookupError:
        return [data]


def check_prolog(data: bytes, where: str = "document") -> None:
    """Refuse entity declarations wherever they appear (they only have a use in attacks here), read in the
    document's own encoding as well as byte for byte."""
    for text in _readings(data):
        if _ENTITY[type(text)].search(text):
            raise UnsafeXML(f"{where}: declares XML entities (<!ENTITY>); refused as a possible XXE or entity bomb")
        m = _DOCTYPE[type(text)].search(text)
        if m:
            head = text[m.start(): m.start() + 2000]
            head = head.decode("latin-1") if isinstance(head, bytes) else head
            if "SYSTEM" in head.split(">", 1)[0].upper():
                raise UnsafeXML(f"{where}: DOCTYPE references an external DTD; refused")


def parse_bytes(data: bytes, where: str = "document") -> etree._ElementTree:
    check_prolog(data, where)
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedXML(f"{where}: line {exc.lineno}, column {exc.offset}: {exc.msg}") from None
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    if dtd is not None and next(dtd.iterentities(), None) is not None:   # an encoding the check could not read
        raise UnsafeXML(f"{where}: declares XML entities (<!ENTITY>); refused as a possible XXE or entity bomb")
    return tree


def parse_file(path, where: str | None = None) -> etree._ElementTree:
    with open(path, "rb") as fh:
        return parse_bytes(fh.read(), where or str(path))


def iterparse(source, tag=None, where: str = "document"):
    """Stream elements from a file-like object or path (big documents), with the same protections.

    The caller must check the prolog first when the bytes are at hand; the parser itself still refuses entities.
    """
    return etree.iterparse(source, events=("end",), tag=tag, resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=False)
