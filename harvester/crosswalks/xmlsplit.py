"""Cutting XML as sources send it into raw records: OAI-PMH responses, OAI static repositories, bare documents."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from lxml import etree

from ..dates import normalise_datestamp
from ..raw import RawRecord
from ..xmlsafe import parse_bytes

OAI = "http://www.openarchives.org/OAI/2.0/"
STATIC = "http://www.openarchives.org/OAI/2.0/static-repository"


def oai_header(header: etree._Element) -> tuple[str, str | None, bool, list[str]]:
    """identifier, datestamp, deleted, sets of an OAI-PMH <header> (tolerating pycsw's 'dateStamp' case)."""
    ident = header.findtext(f"{{{OAI}}}identifier") or ""
    stamp = header.findtext(f"{{{OAI}}}datestamp") or header.findtext(f"{{{OAI}}}dateStamp")
    sets = list(dict.fromkeys(s.text.strip() for s in header.findall(f"{{{OAI}}}setSpec") if s.text and s.text.strip()))
    return ident.strip(), normalise_datestamp(stamp), header.get("status") == "deleted", sets


def oai_records(records: Iterable[etree._Element], where: str, url: str = "") -> Iterator[RawRecord]:
    """RawRecords from OAI-PMH <record> elements: the header's identity, the metadata's first child as payload."""
    for pos, rec in enumerate(records, 1):
        header = rec.find(f"{{{OAI}}}header")
        if header is None:
            yield RawRecord(identifier=f"#{pos}", payload=None, location=f"{where}, line {rec.sourceline}: record without header")
            continue
        ident, stamp, deleted, sets = oai_header(header)
        meta = rec.find(f"{{{OAI}}}metadata")
        payload = None
        if meta is not None:
            payload = next((c for c in meta if isinstance(c.tag, str)), None)
        yield RawRecord(identifier=ident, payload=payload, datestamp=stamp, deleted=deleted, sets=sets,
                        location=f"{where}, line {rec.sourceline}", url=url)


def split_xml(data: bytes, where: str, root_tags: set[str], identify: Callable[[etree._Element], str],
              metadata_prefix: str | None = None) -> Iterator[RawRecord]:
    """Yield the records of one format found in an XML file.

    An OAI-PMH response (ListRecords, GetRecord) yields its records; an OAI static repository yields the
    records of its ListRecords for `metadata_prefix` (or of every ListRecords whose records carry the
    format); any other document yields each outermost element whose tag is in `root_tags`.
    """
    root = parse_bytes(data, where).getroot()
    if root.tag == f"{{{OAI}}}OAI-PMH":
        yield from oai_records(root.iter(f"{{{OAI}}}record"), where)
        return
    if root.tag == f"{{{STATIC}}}Repository":
        for lr in root.iter(f"{{{STATIC}}}ListRecords"):
            if metadata_prefix is None or lr.get("metadataPrefix") == metadata_prefix:
                recs = list(lr.iter(f"{{{OAI}}}record"))
                if metadata_prefix is None and recs and not _carries(recs[0], root_tags):
                    continue
                yield from oai_records(recs, where)
        return
    for el in _outermost(root, root_tags):
        yield RawRecord(identifier=identify(el) or f"{where}#{el.sourceline}", payload=el,
                        location=f"{where}, line {el.sourceline}")


def _carries(rec: etree._Element, root_tags: set[str]) -> bool:
    meta = rec.find(f"{{{OAI}}}metadata")
    return meta is not None and any(c.tag in root_tags for c in meta if isinstance(c.tag, str))


def _outermost(root: etree._Element, tags: set[str]) -> Iterator[etree._Element]:
    if root.tag in tags:
        yield root
        return
    for el in root.iter(*tags):
        if not any(a.tag in tags for a in el.iterancestors()):
            yield el


def expect_root(raw: RawRecord, tags: set[str], fmt: str) -> etree._Element:
    """The payload, checked to be an element of the format (a clear error otherwise)."""
    el = raw.payload
    if not isinstance(el, etree._Element):
        raise ValueError(f"no {fmt} metadata in this record")
    if el.tag not in tags:
        raise ValueError(f"expected {fmt} metadata, found <{etree.QName(el).localname}> "
                         f"in namespace {etree.QName(el).namespace or '(none)'}")
    return el
