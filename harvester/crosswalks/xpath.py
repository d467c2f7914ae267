"""`xpath`: any XML a source publishes, read through a mapping of fields to XPath expressions in the config.

    xpath:
      record: "//ns:item"                  # the elements that are records
      identifier: "ns:id"                  # relative to a record (default: the file and line)
      namespaces: {ns: "urn:example"}
      fields:
        title: "ns:title"                  # an XPath, or a list of XPaths
        description: "ns:summary"
        keywords: ["ns:tag", "ns:subject/@term"]
        date: "ns:published"               # dates.issued; also created, issued, modified
        link: "ns:link/@href"              # the first is the landing page, others related
        language: "@xml:lang"
        country: "ns:country"
        type: "ns:kind"
        ...

Every field XPath is evaluated relative to the record element. A text keeps the xml:lang of the element it
comes from (or of its nearest ancestor that has one). The registry's "xpath" entry only explains that a
mapping is needed: a source builds its crosswalk with `make_xpath_crosswalk(spec)`.
"""
from __future__ import annotations

from typing import Iterator

from lxml import etree

from ..raw import RawRecord
from ..xmlsafe import parse_bytes
from . import Crosswalk, register
from .codes import lang_tag
from .common import UNTAGGED, Partial
from .text import clean

# field name -> what it fills
FIELDS = {
    "title": "title", "description": "description", "keywords": "keywords",
    "date": "dates.issued", "issued": "dates.issued", "created": "dates.created", "modified": "dates.modified",
    "link": "links (landing, then related)", "related": "links (related)", "file": "links (file)",
    "service": "links (service)", "language": "languages", "country": "countries", "type": "type",
    "creator": "creators", "publisher": "publisher", "rights": "rights", "datestamp": "datestamp",
}
SPEC_KEYS = {"record", "identifier", "fields", "namespaces"}
_LANG = etree.XPath("ancestor-or-self::*[@xml:lang][1]/@xml:lang")
_PROBE = etree.Element("probe")


def source_mapping(src: dict) -> dict:
    """A source's xpath mapping; its `record` XPath may be given as the source's `record_xpath` instead."""
    mapping = dict(src.get("xpath") or {})
    if "record" not in mapping and src.get("record_xpath"):
        mapping["record"] = src["record_xpath"]
    return mapping


def compile_expression(expr, namespaces: dict, what: str) -> etree.XPath:
    """One XPath, compiled and tried; ValueError naming `what` when it is not a usable expression."""
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError(f"xpath mapping: {what}: expected an XPath expression, got {expr!r}")
    try:
        compiled = etree.XPath(expr, namespaces=namespaces)
        compiled(_PROBE)         # undefined prefixes and unknown functions show only when evaluated
    except (etree.XPathSyntaxError, etree.XPathEvalError) as exc:
        raise ValueError(f"xpath mapping: {what}: invalid XPath {expr!r}: {exc}") from None
    return compiled


def compile_spec(spec: dict) -> dict:
    """Check a mapping and compile its XPaths; ValueError naming the key or field at fault."""
    if not isinstance(spec, dict):
        raise ValueError("xpath mapping: expected a mapping with record, fields and namespaces")
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise ValueError(f"xpath mapping: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(SPEC_KEYS))}")
    namespaces = spec.get("namespaces") or {}
    if not isinstance(namespaces, dict) or not all(isinstance(k, str) and isinstance(v, str) and k and v
                                                   for k, v in namespaces.items()):
        raise ValueError("xpath mapping: namespaces must map prefixes to namespace URIs")
    if "record" not in spec:
        raise ValueError("xpath mapping: 'record' (the XPath of the record elements) is required; "
                         "give it in the mapping or as the source's `record_xpath`")
    fields = spec.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise ValueError("xpath mapping: 'fields' must map field names to XPaths")
    compiled = {}
    for name, exprs in fields.items():
        if name not in FIELDS:
            raise ValueError(f"xpath mapping: field {name!r} is not a known field; known fields: "
                             f"{', '.join(sorted(FIELDS))}")
        exprs = exprs if isinstance(exprs, list) else [exprs]
        if not exprs:
            raise ValueError(f"xpath mapping: field {name!r}: no XPath given")
        compiled[name] = [compile_expression(e, namespaces, f"field {name!r}") for e in exprs]
    if "title" not in compiled:
        raise ValueError("xpath mapping: field 'title' is required (a record without a title cannot be used)")
    return {
        "record": compile_expression(spec["record"], namespaces, "record"),
        "identifier": compile_expression(spec["identifier"], namespaces, "identifier") if spec.get("identifier") else None,
        "fields": compiled,
    }


def _values(result) -> list[tuple[str, str | None]]:
    """(text, xml:lang or None) for each item an XPath returned."""
    if isinstance(result, bool):
        return [("true" if result else "false", None)]
    if isinstance(result, float):
        return [(str(int(result)) if result.is_integer() else str(result), None)]
    if isinstance(result, str):
        result = [result]
    out = []
    for item in result:
        if isinstance(item, etree._Element):
            text, parent = "".join(item.itertext()), item
        elif isinstance(item, str):
            text = str(item)
            parent = item.getparent() if hasattr(item, "getparent") else None
        else:
            continue
        lang = None
        if parent is not None and isinstance(parent, etree._Element):
            found = _LANG(parent)
            lang = str(found[0]) if found else None
        out.append((text, lang))
    return out


def make_xpath_crosswalk(spec: dict) -> Crosswalk:
    """A crosswalk for one source's XML, from its mapping (checked here: errors name the field)."""
    compiled = compile_spec(spec)
    fields = compiled["fields"]

    def extract(raw: RawRecord) -> dict:
        el = raw.payload
        if not isinstance(el, etree._Element):
            raise ValueError("no XML element in this record")
        p = Partial(f"record {raw.identifier}")

        def each(name: str):
            for xp in fields.get(name, ()):
                try:
                    yield from _values(xp(el))
                except etree.XPathEvalError as exc:
                    raise ValueError(f"field {name!r}: XPath {xp.path!r} failed: {exc}") from None

        for text, _ in each("language"):
            p.language(text)
        for text, lang in each("title"):
            p.title(text, lang_tag(lang) if lang else UNTAGGED)
        for text, lang in each("description"):
            p.description(text, lang_tag(lang) if lang else UNTAGGED)
        for text, lang in each("keywords"):
            p.keyword(text, lang_tag(lang) if lang else UNTAGGED)
        for name, kind in (("date", "issued"), ("issued", "issued"), ("created", "created"), ("modified", "modified")):
            for text, _ in each(name):
                p.date(kind, text)
        for text, _ in each("datestamp"):
            p.set_datestamp(text)
        landing = False
        for text, _ in each("link"):
            if p.link(text, "related" if landing else "landing"):
                landing = True
        for name in ("file", "service", "related"):
            for text, _ in each(name):
                p.link(text, name)
        for text, _ in each("country"):
            p.country(text)
        for text, _ in each("type"):
            p.type_hints.append(text)
        for text, _ in each("creator"):
            p.creator(text)
        for text, _ in each("publisher"):
            p.set_publisher(text)
        for text, _ in each("rights"):
            p.right(text)
        return p.to_dict()

    def split(data: bytes, where: str) -> Iterator[RawRecord]:
        root = parse_bytes(data, where).getroot()
        for pos, el in enumerate(compiled["record"](root), 1):
            if not isinstance(el, etree._Element):
                raise ValueError(f"{where}: the record XPath must select elements, it returned {el!r}")
            ident = ""
            if compiled["identifier"] is not None:
                found = _values(compiled["identifier"](el))
                ident = next((clean(t) for t, _ in found if clean(t)), "")
            yield RawRecord(identifier=ident or f"{where}#{el.sourceline or pos}", payload=el,
                            location=f"{where}, line {el.sourceline}")

    return Crosswalk("xpath", extract, split, "XML read through a configured XPath mapping")


def _unconfigured(*_args, **_kwargs):
    raise ValueError("the xpath format needs a mapping: configure `xpath: {record: ..., fields: {title: ...}, "
                     "namespaces: {...}}` on the source (its crosswalk is built with make_xpath_crosswalk)")


register(Crosswalk("xpath", _unconfigured, _unconfigured,
                   "any XML through an XPath mapping given in the source's configuration"))
