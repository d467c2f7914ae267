"""`iso19139`: ISO 19115 geographic metadata: ISO 19139 (gmd:MD_Metadata, gmi:MI_Metadata, the Swiss
che:CHE_MD_Metadata) and ISO 19115-3 (mdb:MD_Metadata, 1.0 and 2.0).

The profiles share their element names and differ in namespaces, so paths here match local names in any
namespace ('{*}'); the root element tells the profile. Read:
  fileIdentifier / metadataIdentifier            the record's identifier (bare documents)
  language / defaultLocale, locale / otherLocale  the metadata's languages (PT_FreeText locale ids -> tags)
  hierarchyLevel / metadataScope, *ServiceIdentification    type hints
  citation title, abstract, descriptiveKeywords   title, description, keywords (all PT_FreeText languages)
  citation dates (creation, publication, revision)           dates
  citedResponsibleParty, pointOfContact           creators (author, originator ...), publisher
  resource language / defaultLocale               languages
  geographicIdentifier (ISO 3166 authority or a country name), place keywords naming a country   countries
  CI_OnlineResource in distributionInfo, dataSetURI, metadataLinkage                             links
  resourceConstraints (useLimitation, otherConstraints)      rights
  dateStamp / dateInfo                            datestamp
"""
from __future__ import annotations

import re

from lxml import etree

from ..raw import RawRecord
from . import Crosswalk, register
from .codes import country_code, country_in_uri, country_name, language
from .common import Partial
from .text import clean, unescape_twice_escaped, url
from .xmlsplit import expect_root, split_xml

GMD = "http://www.isotc211.org/2005/gmd"
GMI = "http://www.isotc211.org/2005/gmi"
CHE = "http://www.geocat.ch/2008/che"
MDB1 = "http://standards.iso.org/iso/19115/-3/mdb/1.0"
MDB2 = "http://standards.iso.org/iso/19115/-3/mdb/2.0"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

TAGS = {f"{{{GMD}}}MD_Metadata", f"{{{GMI}}}MI_Metadata", f"{{{CHE}}}CHE_MD_Metadata",
        f"{{{MDB1}}}MD_Metadata", f"{{{MDB2}}}MD_Metadata"}

_TEXT_TAGS = ("CharacterString", "Anchor", "FileName", "MimeFileType", "Decimal", "Integer", "Real", "Boolean")
_CREATOR_ROLES = ("author", "originator", "principalInvestigator", "coAuthor")
_PUBLISHER_ROLES = ("publisher", "owner", "custodian", "resourceProvider", "distributor", "originator",
                    "pointOfContact")
_DATE_KINDS = {"creation": "created", "publication": "issued", "released": "issued", "distribution": "issued",
               "revision": "modified", "lastUpdate": "modified", "lastRevision": "modified"}
_PLACE_THESAURUS = re.compile(r"place|location|countr|geograph|region|spatial", re.IGNORECASE)
_FILE_EXT = re.compile(r"\.(?:pdf|docx?|xlsx?|odt|ods|csv|zip|7z|gz|tar|rar|shp|kmz|kml|gpkg|tiff?|geotiff|nc|"
                       r"json|geojson|xml|gml|jp2|jpe?g|png|txt|rtf|sqlite|mdb|dbf)$", re.IGNORECASE)
_SERVICE = re.compile(r"ogc:|esri:|opendap|\bw[mfc]s\b|wmts|\bsos\b|\bcsw\b|atom|rest|get-?capabilities|"
                      r"get-?map|get-?feature|service|api\b|sparql|thredds", re.IGNORECASE)
_SERVICE_URL = re.compile(r"[?&](?:service=|request=getcapabilities)|/ows\b|/wms\b|/wfs\b|/wcs\b", re.IGNORECASE)
_MEDIA_TYPE = re.compile(r"^[a-z]+/[\w.+-]+$", re.IGNORECASE)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _find(el, path: str) -> list:
    """Elements at a '/'-separated path of local names ('*' for any element), in any namespace."""
    return el.findall("/".join(s if s == "*" else "{*}" + s for s in path.split("/")))


def _code(prop) -> str:
    """The value of a code property: codeListValue of its code element, else its text."""
    for child in prop.iter():
        if child is prop or not isinstance(child.tag, str):
            continue
        value = child.get("codeListValue")
        if value:
            return clean(value)
        if child.text and clean(child.text):
            return clean(child.text)
    return clean(prop.text)


class _Reader:
    def __init__(self, root: etree._Element):
        self.root = root
        self.modern = etree.QName(root).namespace in (MDB1, MDB2)   # ISO 19115-3
        self.locales: dict[str, str] = {}
        self.default = "und"
        self._read_locales()

    # ---- languages
    def _read_locales(self) -> None:
        r = self.root
        if self.modern:
            default = _find(r, "defaultLocale/PT_Locale")
            locales = default + _find(r, "otherLocale/PT_Locale")
            meta_lang = [language(_code(p)) for d in default for p in _find(d, "language")]
        else:
            locales = _find(r, "locale/PT_Locale")
            meta_lang = [language(_code(p)) for p in _find(r, "language")]
        for loc in locales:
            code = next((language(_code(p)) for p in _find(loc, "languageCode") + _find(loc, "language")), None)
            if loc.get("id") and code:
                self.locales[loc.get("id").lower()] = code
        self.default = next((c for c in meta_lang if c), None) or "und"

    def locale_lang(self, ref: str | None) -> str:
        ref = clean(ref).lstrip("#").lower()
        if not ref:
            return self.default
        if ref in self.locales:
            return self.locales[ref]
        for prefix in ("locale-", "locale_", "loc-", "lang-"):
            if ref.startswith(prefix):
                ref = ref[len(prefix):]
        return language(ref) or "und"

    # ---- text
    def texts(self, prop) -> list[tuple[str, str]]:
        """Every (language, text) of a character-string property: the plain value and its PT_FreeText forms."""
        out = []
        for child in prop:
            if _local(child) in _TEXT_TAGS:
                t = clean("".join(child.itertext()))
                if t:
                    out.append((self.default, t))
        for lcs in prop.iter("{*}LocalisedCharacterString"):
            t = clean("".join(lcs.itertext()))
            if t:
                out.append((self.locale_lang(lcs.get("locale")), t))
        if not out and len(prop) == 0 and clean(prop.text):
            out.append((self.default, clean(prop.text)))
        return out

    def text(self, prop) -> str:
        """One text of a property: in the metadata language when there is one, else the first."""
        found = self.texts(prop)
        for lang, t in found:
            if lang == self.default:
                return t
        return found[0][1] if found else ""

    def anchor_hrefs(self, prop) -> list[str]:
        return [a.get(XLINK_HREF) for a in prop.iter("{*}Anchor") if a.get(XLINK_HREF)]

    def link_url(self, resource) -> str:
        """The URL of a CI_OnlineResource: gmd:URL, gco:CharacterString (19115-3) or che:LocalisedURL."""
        for linkage in _find(resource, "linkage"):
            for el in linkage.iter():
                if el is not linkage and _local(el) in ("URL", "CharacterString", "LocalisedURL", "Anchor") \
                        and url(el.text):
                    return clean(el.text)
            if url(linkage.text):
                return clean(linkage.text)
        return ""


def _parties(reader: _Reader, ident) -> list[tuple[str, str, str]]:
    """(role, individual, organisation) of the resource's responsible parties, cited ones first."""
    out = []
    for prop in _find(ident, "citation/*/citedResponsibleParty") + _find(ident, "pointOfContact"):
        for party in prop:
            if not isinstance(party.tag, str):
                continue
            role = next((_code(r) for r in _find(party, "role")), "")
            if reader.modern:            # CI_Responsibility / party / CI_Organisation|CI_Individual / name
                org = next((reader.text(n) for n in _find(party, "party/CI_Organisation/name")), "")
                person = next((reader.text(n) for n in _find(party, "party/CI_Individual/name")
                               + _find(party, "party/CI_Organisation/individual/CI_Individual/name")), "")
            else:
                org = next((reader.text(n) for n in _find(party, "organisationName")), "")
                person = next((reader.text(n) for n in _find(party, "individualName")), "")
            out.append((role, person, org))
    return out


def _rel(protocol: str, function: str, href: str, name: str, service_record: bool) -> str:
    """landing | file | service | related for an online resource, from its protocol, function and URL."""
    path = href.split("?", 1)[0]
    proto = protocol.lower()
    if _SERVICE.search(protocol) and "download" not in proto:
        return "service"
    if _FILE_EXT.search(path) or _FILE_EXT.search(name):
        return "file"
    if _SERVICE_URL.search(href) or function == "search":
        return "service"
    if function == "download" or "download" in proto or proto == "enclosure":
        return "service" if service_record and not proto else "file"
    return "related"


def extract(raw: RawRecord) -> dict:
    root = expect_root(raw, TAGS, "ISO 19139 / ISO 19115-3")
    r = _Reader(root)
    p = Partial(f"ISO record {raw.identifier or ''}".strip())
    idents = _find(root, "identificationInfo/*")
    if not idents:
        raise ValueError("ISO record without identificationInfo: nothing describes the resource")
    ident = idents[0]

    # type hints: hierarchy level, service identification
    scopes = _find(root, "metadataScope/MD_MetadataScope/resourceScope") if r.modern else _find(root, "hierarchyLevel")
    p.type_hints.extend(_code(s) for s in scopes)
    is_service = _local(ident).endswith("ServiceIdentification")
    if is_service:
        p.type_hints.append("service")

    for prop in _find(ident, "citation/*/title"):
        for lang, t in r.texts(prop):
            p.title(t, lang)
    for prop in _find(ident, "abstract"):
        for lang, t in r.texts(prop):
            p.description(t, lang)

    # resource languages: the resource's own, else the metadata's
    if r.modern:
        langs = [_code(x) for x in _find(ident, "defaultLocale/PT_Locale/language")
                 + _find(ident, "otherLocale/PT_Locale/language")]
    else:
        langs = [_code(x) for x in _find(ident, "language")]
    for code in langs:
        p.language(code)
    if not p.languages and r.default != "und":
        p.language(r.default)

    # keywords; place keywords naming a country
    for group in _find(ident, "descriptiveKeywords/MD_Keywords"):
        kind = next((_code(t) for t in _find(group, "type")), "")
        thesaurus = " ".join(r.text(t) for t in _find(group, "thesaurusName/*/title"))
        place = kind == "place" or bool(_PLACE_THESAURUS.search(thesaurus))
        for kw in _find(group, "keyword"):
            for lang, t in r.texts(kw):
                p.keyword(t, lang)
                if place:
                    for segment in re.split(r"\s*>\s*", unescape_twice_escaped(t)):
                        code = country_name(segment)
                        if code:
                            p.country(code)
            if place:
                for href in r.anchor_hrefs(kw):
                    code = country_in_uri(href)
                    if code:
                        p.country(code)

    # geographic identifiers: codes under an ISO 3166 authority, else only country names
    for gid in _find(ident, "extent/EX_Extent/geographicElement/EX_GeographicDescription/geographicIdentifier/*"):
        authority = " ".join(clean(" ".join(a.itertext())) for a in _find(gid, "authority") + _find(gid, "codeSpace"))
        iso = bool(re.search(r"3166|countr", authority, re.IGNORECASE))
        for code_prop in _find(gid, "code"):
            for href in r.anchor_hrefs(code_prop):
                code = country_in_uri(href)
                if code:
                    p.country(code)
            value = r.text(code_prop)
            code = (country_code(value.upper()) or country_name(value)) if iso else country_name(value)
            if code:
                p.country(code)
    for desc in _find(ident, "extent/EX_Extent/description"):
        code = country_name(r.text(desc))
        if code:
            p.country(code)

    # dates of the resource
    modified = []
    for ci_date in _find(ident, "citation/*/date/CI_Date"):
        kind = _DATE_KINDS.get(next((_code(t) for t in _find(ci_date, "dateType")), ""))
        value = next((clean("".join(d.itertext())) for d in _find(ci_date, "date")), "")
        if kind == "modified":
            modified.append(value)
        elif kind:
            p.date(kind, value)
    for value in sorted(modified, reverse=True):
        p.date("modified", value)

    # responsible parties
    parties = _parties(r, ident)
    for role, person, org in parties:
        if role in _CREATOR_ROLES:
            p.creator(person or org)
    for wanted in _PUBLISHER_ROLES:
        org = next((o or n for role, n, o in parties if role == wanted and (o or n)), None)
        if org:
            p.set_publisher(org)
            break

    # links
    for prop in _find(root, "dataSetURI"):
        href = r.text(prop)
        p.link(href, "file" if _FILE_EXT.search(href.split("?", 1)[0]) else "landing")
    for res in _find(root, "metadataLinkage/CI_OnlineResource"):
        p.link(r.link_url(res), "landing")
    resources = list(root.iterfind(".//{*}distributionInfo//{*}CI_OnlineResource"))
    resources += _find(ident, "citation/*/onlineResource/CI_OnlineResource")
    formats = {r.text(n) for n in root.iterfind(".//{*}distributionInfo//{*}MD_Format/{*}name")}
    formats = {f for f in formats if f and f.upper() not in ("N/A", "UNKNOWN", "NONE")}
    for res in resources:
        href = r.link_url(res)
        if not href:
            continue
        protocol = next((r.text(x) for x in _find(res, "protocol")), "")
        function = next((_code(x) for x in _find(res, "function")), "")
        name = next((r.text(x) for x in _find(res, "name")), "")
        description = next((r.text(x) for x in _find(res, "description")), "")
        rel = _rel(protocol, function, href, name, is_service)
        if _MEDIA_TYPE.match(protocol):
            fmt = protocol
        elif rel == "service":
            fmt = protocol
        elif rel == "file" and len(formats) == 1:
            fmt = next(iter(formats))
        else:
            fmt = None
        p.link(href, rel, fmt, name or description)

    # rights
    for cons in _find(ident, "resourceConstraints/*"):
        for prop in _find(cons, "useLimitation") + _find(cons, "otherConstraints") \
                + _find(cons, "reference/CI_Citation/title"):
            t = r.text(prop)
            if t:
                p.right(t)

    # the metadata's own datestamp (the OAI envelope's wins when there is one)
    if r.modern:
        infos = []
        for ci_date in _find(root, "dateInfo/CI_Date"):
            value = next((clean("".join(d.itertext())) for d in _find(ci_date, "date")), "")
            infos.append(value)
        for value in sorted(infos, reverse=True):
            p.set_datestamp(value)
    else:
        for prop in _find(root, "dateStamp"):
            p.set_datestamp("".join(prop.itertext()))
    return p.to_dict()


def _identify(el: etree._Element) -> str:
    for path in ("fileIdentifier", "metadataIdentifier/MD_Identifier/code"):
        for prop in _find(el, path):
            t = clean("".join(prop.itertext()))
            if t:
                return t
    return ""


def split(data: bytes, where: str):
    return split_xml(data, where, TAGS, _identify, "iso19139")


register(Crosswalk("iso19139", extract, split,
                   "ISO 19139 (gmd, gmi, che) and ISO 19115-3 (mdb) metadata, multilingual PT_FreeText"))
