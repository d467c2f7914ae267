"""`oai_dc`: OAI Dublin Core (http://www.openarchives.org/OAI/2.0/oai_dc/), the format every OAI-PMH provider offers.

All fifteen elements, repeated, with xml:lang; DCMI terms refinements (dct:abstract, dct:issued, dct:spatial ...)
where providers mix them in; the same reading serves CSW's csw:Record, which is Dublin Core too.

  title -> title            description, dct:abstract -> description    subject -> keywords
  creator -> creators (contributors when there is no creator)            publisher -> publisher
  date -> dates.issued (the earliest), dct:created/issued/modified/available -> dates
  type -> type (guessed)    language -> languages                         coverage, dct:spatial -> countries
  identifier -> links (the first URL is the landing page; DOIs and handles made URLs)
  relation, source, dct:references -> related links   format -> the links' format (and file links it names)
  rights, dct:license, dct:accessRights -> rights
"""
from __future__ import annotations

import re

from lxml import etree

from ..dates import normalise_date
from ..raw import RawRecord
from . import Crosswalk, register
from .common import UNTAGGED, Partial
from .codes import lang_tag
from .text import clean, url, urls_in
from .xmlsplit import expect_root, split_xml

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
DCT = "http://purl.org/dc/terms/"
CSW = "http://www.opengis.net/cat/csw/2.0.2"
CSW3 = "http://www.opengis.net/cat/csw/3.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

SRW_DC = "info:srw/schema/1/dc-schema"
# oai_dc:dc, and the same fifteen elements in the other wrappers providers use
TAGS = {f"{{{OAI_DC}}}dc", f"{{{DC}}}dc", f"{{{SRW_DC}}}dc", f"{{{CSW}}}Record", f"{{{CSW3}}}Record"}

_DOI = re.compile(r"^(?:doi:\s*|info:doi/|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_ALT_DOI = re.compile(r"^info:eu-repo/semantics/altIdentifier/doi/(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_HANDLE = re.compile(r"^(?:hdl:|info:hdl/)(\d[\w.]*/\S+)$", re.IGNORECASE)
_MEDIA_TYPE = re.compile(r"^[a-z]+/[\w.+-]+$", re.IGNORECASE)
_FILE_EXT = re.compile(r"\.(?:pdf|docx?|xlsx?|odt|ods|csv|zip|rtf|txt|pptx?|epub|jpe?g|png|tiff?|xml|json)$", re.I)


def _values(el: etree._Element, ns: str, name: str) -> list[etree._Element]:
    return [c for c in el.iterchildren(f"{{{ns}}}{name}")]


def _text(el: etree._Element) -> str:
    return clean("".join(el.itertext()))


def _lang(el: etree._Element) -> str | None:
    value = el.get(XML_LANG)
    return lang_tag(value) if value else UNTAGGED


def identifier_url(value: str) -> str | None:
    """A URL for an identifier: URLs as they are, DOIs and handles through their resolvers."""
    t = clean(value)
    u = url(t)
    if u:
        return u
    m = _DOI.match(t) or _ALT_DOI.match(t)
    if m:
        return url("https://doi.org/" + m.group(1))
    m = _HANDLE.match(t)
    if m:
        return url("https://hdl.handle.net/" + m.group(1))
    return None


def extract(raw: RawRecord) -> dict:
    el = expect_root(raw, TAGS, "oai_dc")
    p = Partial(f"oai_dc record {raw.identifier or ''}".strip())

    def each(name: str, *, terms: tuple[str, ...] = ()):
        for c in _values(el, DC, name):
            yield c
        for term in terms:
            for c in _values(el, DCT, term):
                yield c

    for c in each("language", terms=("language",)):
        p.language(_text(c))
    for c in each("title"):
        p.title(_text(c), _lang(c))
    for c in each("description", terms=("abstract", "description")):
        p.description("".join(c.itertext()), _lang(c))
    for c in each("subject", terms=("subject",)):
        p.keyword(_text(c), _lang(c))

    creators = [_text(c) for c in each("creator", terms=("creator",))]
    if not any(creators):
        creators = [_text(c) for c in each("contributor", terms=("contributor",))]
    for name in creators:
        p.creator(name)
    for c in each("publisher", terms=("publisher",)):
        p.set_publisher(_text(c))

    for term, kind in (("issued", "issued"), ("created", "created"), ("modified", "modified"),
                       ("dateSubmitted", "created"), ("available", "issued")):
        for c in _values(el, DCT, term):
            p.date(kind, _text(c))
    dates = sorted(d for d in (normalise_date(_text(c)) for c in each("date", terms=("date",))) if d)
    if dates:                                # dc:date is unqualified: the earliest is taken as the issue date
        p.date("issued", dates[0])

    for c in each("type", terms=("type",)):
        p.type_hints.append(_text(c))
    for c in each("coverage", terms=("spatial", "coverage")):
        p.country(_text(c))

    formats = [_text(c) for c in each("format", terms=("format", "medium"))]
    media = [f for f in formats if _MEDIA_TYPE.match(f)]
    for f in formats:                       # 'application/pdf https://host/a file.pdf' (DSpace)
        head, _, rest = f.partition(" ")
        if _MEDIA_TYPE.match(head) and url(rest):
            p.link(rest, "file", head)
        else:
            for u in urls_in(f):
                p.link(u, "file")

    landing = None
    for c in each("identifier", terms=("identifier", "bibliographicCitation")):
        u = identifier_url(_text(c))
        if not u:
            continue
        if _FILE_EXT.search(u):
            p.link(u, "file", media[0] if len(set(media)) == 1 else None)
        elif landing is None:
            landing = u
            p.link(u, "landing")
        else:
            p.link(u, "related")
    for name in ("relation", "source"):
        for c in each(name, terms=(name, "references", "isPartOf", "hasPart", "isReferencedBy", "isVersionOf",
                                   "hasVersion") if name == "relation" else (name,)):
            u = identifier_url(_text(c))
            if u:
                p.link(u, "related")

    for c in each("rights", terms=("rights", "license", "accessRights")):
        p.right(_text(c))
    return p.to_dict()


def _identify(el: etree._Element) -> str:
    for c in el.iterchildren(f"{{{DC}}}identifier"):
        t = _text(c)
        if t:
            return t
    return ""


def split(data: bytes, where: str):
    return split_xml(data, where, TAGS, _identify, "oai_dc")


register(Crosswalk("oai_dc", extract, split, "OAI Dublin Core (also CSW csw:Record), all 15 elements with xml:lang"))
