"""The node's catalogue in DCAT-AP 3, at /catalog, so data portals (CKAN with ckanext-dcat, data.europa.eu)
can harvest the node like any open data catalogue.

Interface
---------
- `read_page(store, size, page, after, since, source) -> Page`: one page of live records, in the store's
  change order (`seq`), and how many there are in all.
- `catalog_graph(cfg, records, paging=None, modified=None, base_url=None) -> rdflib.Graph`: pure; the node
  as a dcat:Catalog, one dcat:Dataset per record, and Hydra paging triples when `paging` is given.
- `serialize(graph, fmt) -> bytes`, fmt one of FORMATS: "turtle", "xml" (RDF/XML), "json-ld".
- `router`: GET /catalog (content negotiation between text/turtle, application/rdf+xml and
  application/ld+json; Turtle when the client takes anything; 406 otherwise), /catalog.ttl, /catalog.rdf,
  /catalog.jsonld. Parameters: `page` (from 1), `page_size` (PAGE_SIZE by default, at most MAX_PAGE_SIZE),
  `since` (records changed on this node since a day, 2024-05-01, or a time to the second, with Z or an
  offset: 2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00; the day must exist), `source` (one source of the
  node; another is a 404 {"error": ...}), `after` (a change sequence number, set in the next links). Each is
  given at most once; anything else is a 400 {"error": ...} naming the parameter. The OpenAPI description
  says exactly what is accepted (`since`: SINCE_SCHEMA).

A record as a dataset
---------------------
- IRI and dcat:landingPage: <node url>/record/<record id, percent-encoded>, the record's page on the node.
- dct:identifier the record id; dct:title, dct:description, dcat:keyword in every language of the record,
  as language tags (a record without a description gets a short English one: DCAT-AP requires it).
- dct:issued (issued, else created, else year) and dct:modified (modified, else the record's datestamp),
  typed xsd:gYear, gYearMonth, date or dateTime.
- dct:publisher, dct:creator as foaf:Agent; dcat:contactPoint (vcard:Kind) from an assistance contact.
- dct:spatial: countries as EU authority country URIs (ISO alpha-3), or <node>/vocab/countries/<code> for
  a code the vocabulary lacks; regions as <node>/vocab/regions/<id>.
- dct:language: EU authority language URIs (ISO 639-3), else <node>/vocab/languages/<code>.
- dcat:theme: chemicals as <node>/vocab/chemicals/<id> (skos:Concept, labels in the six UN languages) and
  the EU data theme ENVI; dct:type: <node>/vocab/document_types/<id>.
- dcat:distribution per link: accessURL (and downloadURL for files), title, dct:format (EU file type) and
  dcat:mediaType (IANA) where known, dct:license (a recognised licence) and dct:rights from the rights.
- dct:provenance (origin node, source, format, original identifier, path), adms:identifier (the original
  identifier), prov:wasDerivedFrom (the original's http(s) identifier or URL).
Every node the DCAT-AP 3 shapes constrain by class is typed (dct:LinguisticSystem, dct:Location, ...).

Paging
------
The catalogue is a hydra:Collection; each page a hydra:PartialCollectionView with hydra:first, next,
previous, last and totalItems, also typed hydra:PagedCollection with hydra:firstPage, nextPage, ... (what
older ckanext-dcat harvesters read). A next link carries `after=<change sequence of the page's last
record>`, so following next reads the store by key: a record changed during a harvest moves to the end of
the list and is met again there, and no other record is skipped. first, previous and last count by offset.

Deletions are not listed: DCAT has no deletion marker, and catalogue harvesters (ckanext-dcat among them)
take a dataset missing from the whole catalogue as deleted. `since` only tells what changed; /oai keeps
tombstones for harvesters that need deletions incrementally.

Safety: harvested text reaches the output only as rdflib literals (escaped by each serializer), less the
characters XML cannot carry, so every format says the same; IRIs made from record data are percent-encoded;
links that are not http(s) or ftp, or are malformed, are left out.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from math import ceil
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, HTTPException, Query as Q, Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD

from .. import vocab
from .app import ErrorBody, given_once

log = logging.getLogger(__name__)
PAGE_SIZE = 100              # records per page unless page_size says otherwise; read at each request
MAX_PAGE_SIZE = 500          # a page of 500 records takes seconds to serialise in Turtle
MAX_PAGE = 1_000_000
MAX_URL = 4096               # longer link URLs are left out

ADMS = Namespace("http://www.w3.org/ns/adms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
ENVI = URIRef(EU + "data-theme/ENVI")
ENVI_LABELS = {"en": "Environment", "fr": "Environnement", "es": "Medio ambiente"}

FORMATS = {"turtle": ("text/turtle", ".ttl"), "xml": ("application/rdf+xml", ".rdf"),
           "json-ld": ("application/ld+json", ".jsonld")}
_ACCEPTED = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/rdf+xml": "xml",
             "application/xml": "xml", "text/xml": "xml", "application/ld+json": "json-ld",
             "application/json": "json-ld", "*/*": "turtle", "text/*": "turtle", "application/*": "xml"}
_PREFIXES = {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "vcard": VCARD, "skos": SKOS, "adms": ADMS,
             "prov": PROV, "hydra": HYDRA, "rdfs": RDFS, "xsd": XSD}

# EU file types: (code, IANA media type or None, other names it goes by)
_FILE_TYPES = (
    ("PDF", "application/pdf", ()), ("HTML", "text/html", ("htm",)), ("XML", "application/xml", ("text/xml",)),
    ("JSON", "application/json", ()), ("CSV", "text/csv", ()), ("ZIP", "application/zip", ()),
    ("DOC", "application/msword", ()), ("XLS", "application/vnd.ms-excel", ()),
    ("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ()),
    ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ()),
    ("ODT", "application/vnd.oasis.opendocument.text", ()),
    ("ODS", "application/vnd.oasis.opendocument.spreadsheet", ()),
    ("RDF_XML", "application/rdf+xml", ("rdf", "rdf/xml")), ("RDF_TURTLE", "text/turtle", ("turtle", "ttl")),
    ("JSON_LD", "application/ld+json", ("json-ld", "jsonld")), ("GEOJSON", "application/geo+json", ()),
    ("KML", "application/vnd.google-earth.kml+xml", ()), ("KMZ", "application/vnd.google-earth.kmz", ()),
    ("GML", "application/gml+xml", ()), ("SHP", None, ("shapefile", "esri shapefile")),
    ("JPEG", "image/jpeg", ("jpg",)), ("PNG", "image/png", ()), ("TIFF", "image/tiff", ("tif",)),
    ("TXT", "text/plain", ("text",)), ("RTF", "application/rtf", ()),
    ("WMS_SRVC", None, ("wms", "ogc:wms")), ("WFS_SRVC", None, ("wfs", "ogc:wfs")),
)
_TYPE_BY_NAME = {name: code for code, media, names in _FILE_TYPES for name in (code.lower(), media, *names) if name}
_MEDIA_OF = {code: media for code, media, _ in _FILE_TYPES}
_LICENCES = (  # (pattern in a rights text, EU licence code); the more specific first
    (re.compile(r"cc[\s-]*by[\s-]*sa[\s-]*4\.0|creativecommons\.org/licenses/by-sa/4\.0", re.I), "CC_BYSA_4_0"),
    (re.compile(r"cc[\s-]*by[\s-]*4\.0|creative commons attribution 4\.0|creativecommons\.org/licenses/by/4\.0",
                re.I), "CC_BY_4_0"),
    (re.compile(r"\bcc0\b|creativecommons\.org/publicdomain/zero/", re.I), "CC0"),
)

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9.+_-]*/[a-z0-9][a-z0-9.+_-]*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_DATE_FORMS = ((re.compile(r"\d{4}"), "%Y", XSD.gYear), (re.compile(r"\d{4}-\d{2}"), "%Y-%m", XSD.gYearMonth),
               (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d", XSD.date),
               (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), "%Y-%m-%dT%H:%M:%SZ", XSD.dateTime))
_ID_SAFE = "!$&'()*+,;=:@/-._~"                  # RFC 3986 pchar and "/": the rest of a record id is encoded
_PATH_SAFE = "!$&'()*+,;=:@/-._~%"               # ... and in a link, "%" of escapes already there
_QUERY_SAFE = _PATH_SAFE + "?"


# ---------------------------------------------------------------- reading the store

@dataclass
class Page:
    records: list[dict]
    total: int            # live records matching the filters, counted with the page
    has_next: bool
    last_seq: int | None  # change sequence of the page's last record


def read_page(store, size: int = PAGE_SIZE, page: int = 1, after: int | None = None, since: str | None = None,
              source: str | None = None) -> Page:
    """Live records in change order: those after sequence `after` when given, else page `page` by offset."""
    cond, args = "deleted = 0 AND record IS NOT NULL", []
    if source is not None:
        cond += " AND source = ?"
        args.append(source)
    if since is not None:
        cond += " AND changed >= ?"
        args.append(since)
    store.db.execute("BEGIN")      # one snapshot, so the count and the page agree
    try:
        total = store.db.execute(f"SELECT COUNT(*) FROM records WHERE {cond}", args).fetchone()[0]
        if after is not None:
            rows = store.db.execute(f"SELECT seq, record FROM records WHERE {cond} AND seq > ? ORDER BY seq LIMIT ?",
                                    (*args, after, size + 1)).fetchall()
        else:
            rows = store.db.execute(f"SELECT seq, record FROM records WHERE {cond} ORDER BY seq LIMIT ? OFFSET ?",
                                    (*args, size + 1, (page - 1) * size)).fetchall()
    finally:
        store.db.execute("COMMIT")
    return Page([json.loads(r["record"]) for r in rows[:size]], total, len(rows) > size,
                rows[:size][-1]["seq"] if rows else None)


# ---------------------------------------------------------------- small builders

def _text(value) -> str:
    return _NOT_XML.sub("", str(value)).strip()


def _literal(text, lang: str | None = None) -> Literal | None:
    text = _text(text)
    if not text:
        return None
    if lang and lang != "und":
        try:
            return Literal(text, lang=lang)
        except ValueError:     # a tag rdflib cannot carry: the text goes untagged
            pass
    return Literal(text)


def safe_url(text) -> str | None:
    """The link as a valid http(s)/ftp URI (unsafe characters percent-encoded), None when it cannot be one."""
    if not isinstance(text, str) or len(text) > MAX_URL:
        return None
    text = text.strip()
    if not text or _CONTROL.search(text):
        return None
    try:
        parts = urlsplit(text)
        parts.port          # raises on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
        return None
    def encoded(part: str, safe: str) -> str:
        return _STRAY_PERCENT.sub("%25", quote(part, safe=safe))
    return urlunsplit((parts.scheme.lower(), encoded(parts.netloc, _PATH_SAFE + "[]"),
                       encoded(parts.path, _PATH_SAFE), encoded(parts.query, _QUERY_SAFE),
                       encoded(parts.fragment, _QUERY_SAFE)))


def dataset_iri(node_url: str, record_id: str) -> URIRef:
    return URIRef(f"{node_url}/record/{quote(record_id, safe=_ID_SAFE)}")


def _date(value) -> Literal | None:
    """A record date as a typed literal (xsd:gYear, gYearMonth, date or dateTime); None when not a real date."""
    text = str(value)
    for form, fmt, datatype in _DATE_FORMS:
        if form.fullmatch(text):
            try:
                datetime.strptime(text, fmt)
            except ValueError:
                return None
            return Literal(text, datatype=datatype, normalize=False)
    return None


def _language_iri(node_url: str, tag: str) -> URIRef | None:
    primary = tag.split("-")[0].lower()
    if primary == "und":
        return None
    entry = vocab.languages().get(primary)
    if entry and entry.get("iso639_3"):
        return URIRef(f"{EU}language/{entry['iso639_3'].upper()}")
    return URIRef(f"{node_url}/vocab/languages/{quote(primary, safe='')}")


class _Builder:
    """Triples being gathered (a set: shared nodes are described once), with the node's base URL, the
    agents named so far and the concept schemes used. Plain tuples, since rdflib graphs add slowly."""

    def __init__(self, node_url: str):
        self.node_url = node_url
        self.triples: set[tuple] = set()
        self._agents: dict[str, BNode] = {}
        self.schemes: set[URIRef] = set()

    def add(self, s, p, o):
        if o is not None:
            self.triples.add((s, p, o))

    def graph(self) -> Graph:
        g = Graph()
        for prefix, ns in _PREFIXES.items():
            g.bind(prefix, ns)
        g.addN((s, p, o, g) for s, p, o in self.triples)
        return g

    def agent(self, name) -> BNode | None:
        name = _text(name)
        if not name:
            return None
        if name not in self._agents:
            node = self._agents[name] = BNode()
            self.add(node, RDF.type, FOAF.Agent)
            self.add(node, FOAF.name, Literal(name))
        return self._agents[name]

    def typed(self, iri: URIRef, rdf_type, labels: dict | None = None) -> URIRef:
        """The node typed as DCAT-AP expects (its shapes check classes), with skos:prefLabel per language."""
        self.add(iri, RDF.type, rdf_type)
        for lang, text in (labels or {}).items():
            self.add(iri, SKOS.prefLabel, _literal(text, lang))
        return iri

    def concept(self, kind: str, cid: str, labels: dict, scheme_title: str) -> URIRef:
        scheme = URIRef(f"{self.node_url}/vocab/{kind}")
        self.scheme(scheme, scheme_title)
        iri = self.typed(URIRef(f"{scheme}/{quote(cid, safe='')}"), SKOS.Concept, labels or {"en": cid})
        self.add(iri, SKOS.inScheme, scheme)
        return iri

    def scheme(self, iri: URIRef, title: str) -> None:
        if iri not in self.schemes:
            self.schemes.add(iri)
            self.add(iri, RDF.type, SKOS.ConceptScheme)
            self.add(iri, DCTERMS.title, Literal(title, lang="en"))

    def envi(self) -> URIRef:
        self.scheme(URIRef(EU + "data-theme"), "Data theme")
        self.add(self.typed(ENVI, SKOS.Concept, ENVI_LABELS), SKOS.inScheme, URIRef(EU + "data-theme"))
        return ENVI

    def location(self, code: str) -> URIRef:
        entry = vocab.countries().get(code.upper())
        if entry and entry.get("alpha3"):
            iri = URIRef(f"{EU}country/{entry['alpha3']}")
        else:
            iri = URIRef(f"{self.node_url}/vocab/countries/{quote(code, safe='')}")
        return self.typed(iri, DCTERMS.Location, (entry or {}).get("names") or {"en": code})

    def region(self, rid: str) -> URIRef:
        entry = vocab.regions().get(rid) or {}
        return self.typed(URIRef(f"{self.node_url}/vocab/regions/{quote(rid, safe='')}"), DCTERMS.Location,
                             entry.get("names") or {"en": rid})

    def language(self, tag: str) -> URIRef | None:
        iri = _language_iri(self.node_url, tag)
        return self.typed(iri, DCTERMS.LinguisticSystem) if iri is not None else None


# ---------------------------------------------------------------- a record

def _rights(b: _Builder, rights) -> list[tuple]:
    """(predicate, object) pairs a record's rights text gives a distribution: a licence, a statement."""
    text = _text(rights or "")
    if not text:
        return []
    url = safe_url(text) if re.match(r"(?i)(https?|ftp)://\S+$", text) else None
    code = next((c for rx, c in _LICENCES if rx.search(text)), None)
    out = []
    licence = URIRef(f"{EU}licence/{code}") if code else (URIRef(url) if url else None)
    if licence is not None:
        b.add(licence, RDF.type, DCTERMS.LicenseDocument)
        out.append((DCTERMS.license, licence))
    if not url:
        statement = BNode()
        b.add(statement, RDF.type, DCTERMS.RightsStatement)
        b.add(statement, RDFS.label, Literal(text))
        out.append((DCTERMS.rights, statement))
    return out


def _format(b: _Builder, dist, fmt) -> None:
    text = _text(fmt or "")
    key = text.split(";")[0].strip().lower()
    if not key:
        return
    code = _TYPE_BY_NAME.get(key)
    media = key if _MEDIA_TYPE.fullmatch(key) else _MEDIA_OF.get(code)
    if code:
        b.add(dist, DCTERMS.format, b.typed(URIRef(f"{EU}file-type/{code}"), DCTERMS.MediaTypeOrExtent))
    else:
        other = BNode()
        b.add(other, RDF.type, DCTERMS.MediaTypeOrExtent)
        b.add(other, RDFS.label, Literal(text))
        b.add(dist, DCTERMS.format, other)
    if media:
        b.add(dist, DCAT.mediaType, b.typed(URIRef(IANA + media), DCTERMS.MediaType))


def _distributions(b: _Builder, ds: URIRef, rec: dict, rights: list[tuple]) -> None:
    seen = set()
    for link in rec.get("links", []):
        url = safe_url(link.get("url"))
        if url is None or url in seen:
            continue
        seen.add(url)
        dist = URIRef(f"{ds}#distribution-{hashlib.sha1(url.encode()).hexdigest()[:12]}")
        b.add(ds, DCAT.distribution, dist)
        b.add(dist, RDF.type, DCAT.Distribution)
        b.add(dist, DCAT.accessURL, b.typed(URIRef(url), RDFS.Resource))
        if link.get("rel") == "file":
            b.add(dist, DCAT.downloadURL, URIRef(url))
        b.add(dist, DCTERMS.title, _literal(link.get("title") or ""))
        _format(b, dist, link.get("format"))
        if link.get("language"):
            b.add(dist, DCTERMS.language, b.language(link["language"]))
        for p, o in rights:
            b.add(dist, p, o)


def _provenance(b: _Builder, ds: URIRef, rec: dict) -> None:
    origin, path = rec.get("origin", {}), rec.get("path", [])
    node, source, ident = (_text(origin.get(k, "")) for k in ("node", "source", "identifier"))
    story = f"First harvested by the POPs clearing-house node {node} from its source {source}"
    if origin.get("format"):
        story += f" (metadata format {_text(origin['format'])})"
    story += f"; original identifier {ident}"
    links = [u for u in (safe_url(origin.get("identifier")), safe_url(origin.get("url"))) if u]
    if links:
        story += f"; read from {links[-1]}"
    if len(path) > 1:
        story += f"; passed through the nodes {' > '.join(_text(p) for p in path)}"
    statement, identifier = BNode(), BNode()
    b.add(statement, RDF.type, DCTERMS.ProvenanceStatement)
    b.add(statement, RDFS.label, Literal(story + ".", lang="en"))
    b.add(ds, DCTERMS.provenance, statement)
    if ident:
        b.add(identifier, RDF.type, ADMS.Identifier)
        b.add(identifier, SKOS.notation, Literal(ident))
        b.add(identifier, ADMS.schemaAgency, Literal(f"source {source} of node {node}"))
        b.add(ds, ADMS.identifier, identifier)
    for u in dict.fromkeys(links):
        b.add(ds, PROV.wasDerivedFrom, URIRef(u))


def add_dataset(b: _Builder, rec: dict) -> URIRef:
    """The record as a dcat:Dataset in the builder's graph; returns its IRI."""
    ds = dataset_iri(b.node_url, rec["id"])
    b.add(ds, RDF.type, DCAT.Dataset)
    b.add(ds, RDF.type, FOAF.Document)      # it is also its own landing page: the record's page on the node
    b.add(ds, DCAT.landingPage, ds)
    b.add(ds, DCTERMS.identifier, _literal(rec["id"]))
    titles = [lit for lang, text in rec.get("title", {}).items() if (lit := _literal(text, lang)) is not None]
    for lit in titles or [Literal(_text(rec["id"]) or "untitled")]:
        b.add(ds, DCTERMS.title, lit)
    descriptions = [lit for lang, text in rec.get("description", {}).items()
                    if (lit := _literal(text, lang)) is not None]
    type_label = vocab.label("document_types", rec.get("type", "")) or rec.get("type") or "Record"
    for lit in descriptions or [Literal(f"{type_label}. No description was given at the source.", lang="en")]:
        b.add(ds, DCTERMS.description, lit)
    for lang, words in rec.get("keywords", {}).items():
        for word in words:
            b.add(ds, DCAT.keyword, _literal(word, lang))

    dates = rec.get("dates", {})
    issued = [dates.get("issued"), dates.get("created"), rec.get("year")]
    b.add(ds, DCTERMS.issued, next((d for d in map(_date, filter(None, issued)) if d is not None), None))
    modified = [dates.get("modified"), rec.get("datestamp")]
    b.add(ds, DCTERMS.modified, next((d for d in map(_date, filter(None, modified)) if d is not None), None))

    b.add(ds, DCTERMS.publisher, b.agent(rec.get("publisher") or ""))
    for creator in rec.get("creators", []):
        b.add(ds, DCTERMS.creator, b.agent(creator))
    contact = _text(rec.get("assistance", {}).get("contact") or "")
    if contact:
        card = BNode()
        b.add(card, RDF.type, VCARD.Kind)
        b.add(card, VCARD.fn, Literal(contact))
        email = _EMAIL.search(contact)
        b.add(card, VCARD.hasEmail, URIRef("mailto:" + quote(email.group(0), safe="@")) if email else None)
        b.add(ds, DCAT.contactPoint, card)

    for code in rec.get("countries", []):
        b.add(ds, DCTERMS.spatial, b.location(code))
    for rid in rec.get("regions", []):
        b.add(ds, DCTERMS.spatial, b.region(rid))
    for tag in rec.get("languages", []):
        b.add(ds, DCTERMS.language, b.language(tag))
    for cid in rec.get("chemicals", []):
        names = (vocab.chemicals().get(cid) or {}).get("names", {})
        b.add(ds, DCAT.theme, b.concept("chemicals", cid, names, "POPs chemicals of the Stockholm Convention"))
    b.add(ds, DCAT.theme, b.envi())
    if rec.get("type"):
        labels = (vocab.document_types().get(rec["type"]) or {}).get("labels", {})
        b.add(ds, DCTERMS.type, b.concept("document_types", rec["type"], labels, "POPs clearing-house document types"))

    rights = _rights(b, rec.get("rights"))
    for p, o in rights:
        if p == DCTERMS.rights:
            b.add(ds, p, o)
    _distributions(b, ds, rec, rights)
    _provenance(b, ds, rec)
    return ds


# ---------------------------------------------------------------- the catalogue

@dataclass
class Paging:
    current: str
    first: str
    last: str
    next: str | None
    previous: str | None
    total: int
    size: int


def catalog_graph(cfg, records: list[dict], paging: Paging | None = None, modified: str | None = None,
                  base_url: str | None = None) -> Graph:
    """The DCAT-AP 3 graph of a page of the catalogue: the node as dcat:Catalog, the records as datasets.

    IRIs start with the node's configured `url`, else with `base_url` (where the request reached the node).
    A record that cannot be mapped (a malformed stored record) is left out and logged; the page is served."""
    node = cfg.node
    node_url = str(node.get("url") or base_url or "").rstrip("/")
    if not node_url.startswith(("http://", "https://")):
        raise ValueError("the catalogue needs the node's public URL (node.url in the config) or a base URL")
    b = _Builder(node_url)
    catalog = URIRef(f"{b.node_url}/catalog")
    b.add(catalog, RDF.type, DCAT.Catalog)
    b.add(catalog, DCTERMS.title, _literal(node.get("name") or f"POPs clearing-house node {node['id']}"))
    for lang in vocab.UN_LANGUAGES:
        title = _site_titles().get(lang) or "POPs clearing-house"
        where = vocab.label("countries", node["country"], lang) if node.get("country") else None
        b.add(catalog, DCTERMS.description, _literal(f"{title} — {where}" if where else title, lang))
        b.add(catalog, DCTERMS.language, b.language(lang))
    b.add(catalog, DCTERMS.publisher, b.agent(node.get("name") or node["id"]))
    b.add(catalog, FOAF.homepage, b.typed(URIRef(b.node_url + "/"), FOAF.Document))
    if node.get("country"):
        b.add(catalog, DCTERMS.spatial, b.location(node["country"]))
    b.add(catalog, DCTERMS.modified, _date(modified) if modified else None)
    for rec in records:
        part = _Builder(node_url)     # apart: a record that fails leaves nothing half-made
        try:
            ds = add_dataset(part, rec)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning("catalogue: record %.200r left out, it cannot be mapped: %s",
                        rec.get("id") if isinstance(rec, dict) else rec, exc)
            continue
        b.triples |= part.triples
        b.schemes |= part.schemes
        b.add(catalog, DCAT.dataset, ds)
    for scheme in sorted(b.schemes):
        b.add(catalog, DCAT.themeTaxonomy, scheme)
    if paging is not None:
        _hydra(b, catalog, paging)
    return b.graph()


def _hydra(b: _Builder, catalog: URIRef, paging: Paging) -> None:
    view = URIRef(paging.current)
    b.add(catalog, RDF.type, HYDRA.Collection)
    b.add(catalog, HYDRA.totalItems, Literal(paging.total))
    b.add(catalog, HYDRA.view, view)
    b.add(view, RDF.type, HYDRA.PartialCollectionView)
    b.add(view, RDF.type, HYDRA.PagedCollection)
    b.add(view, HYDRA.totalItems, Literal(paging.total))
    b.add(view, HYDRA.itemsPerPage, Literal(paging.size))
    links = ((paging.first, HYDRA.first, HYDRA.firstPage), (paging.last, HYDRA.last, HYDRA.lastPage),
             (paging.next, HYDRA.next, HYDRA.nextPage), (paging.previous, HYDRA.previous, HYDRA.previousPage))
    for url, current, legacy in links:
        if url:
            b.add(view, current, URIRef(url))
            b.add(view, legacy, URIRef(url))


def serialize(graph: Graph, fmt: str) -> bytes:
    if fmt == "json-ld":
        return graph.serialize(format="json-ld", context={k: str(v) for k, v in _PREFIXES.items()},
                               encoding="utf-8")
    return graph.serialize(format=fmt, encoding="utf-8")


def negotiate(accept: str | None) -> str | None:
    """The format an Accept header asks for (Turtle when it takes anything); None when none is acceptable."""
    if not accept or not accept.strip():
        return "turtle"
    best = None
    for order, part in enumerate(accept.split(",")[:64]):
        mtype, *params = (p.strip() for p in part.split(";"))
        fmt = _ACCEPTED.get(mtype.lower())
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if fmt and q > 0:
            rank = (q, "*" not in mtype, -order)   # higher q, then an exact type, then the first named
            if best is None or rank > best[0]:
                best = (rank, fmt)
    return best[1] if best else None


@lru_cache(maxsize=1)
def _site_titles() -> dict:
    """The clearing-house's name in the six UN languages, from the web pages' strings."""
    strings = json.loads(Path(__file__).with_name("i18n.json").read_text(encoding="utf-8"))
    return {lang: strings[lang].get("site_title") for lang in vocab.UN_LANGUAGES if lang in strings}


# ---------------------------------------------------------------- HTTP

router = APIRouter(tags=["dcat-ap"])
_RESPONSES = {200: {"content": {m: {} for m, _ in FORMATS.values()}, "description": "A page of the catalogue"},
              404: {"model": ErrorBody, "description": "No such source on this node"}}


# `since`: a day, or a time to the second with Z or an offset; that the day exists is the `format`'s part.
SINCE_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
SINCE_TIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
              r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
SINCE_SCHEMA = {"anyOf": [{"type": "string", "format": "date", "pattern": SINCE_DAY},
                          {"type": "string", "format": "date-time", "pattern": SINCE_TIME}]}
_SINCE = (re.compile(SINCE_DAY), re.compile(SINCE_TIME))
_SINGLE = ("page", "page_size", "after", "since", "source")
EARLIEST, LATEST = "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"


@dataclass
class CatalogParams:
    page: int
    page_size: int | None
    after: int | None
    since: str | None     # the store's form: UTC, to the second
    source: str | None


def _params(request: Request,
            page: int = Q(1, ge=1, le=MAX_PAGE, description="Page number, from 1"),
            page_size: int | None = Q(None, ge=1, le=MAX_PAGE_SIZE,
                                      description=f"Records per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE})"),
            after: int | None = Q(None, ge=0, le=2**62, description="Start after this change sequence number "
                                  "(set in the next links; then `page` only numbers the page)"),
            since: str | None = Q(None, description="Only records changed on this node since then: a day "
                                  "(2024-05-01) or a time with Z or an offset (2024-05-01T12:00:00Z, "
                                  "2024-05-01T14:00:00+02:00)", json_schema_extra=SINCE_SCHEMA),
            source: str | None = Q(None, max_length=200, description="Only records of this source of the node"),
            ) -> CatalogParams:
    given_once(request, *_SINGLE)
    return CatalogParams(page, page_size, after, _since(since), source)


def _real_day(text: str) -> bool:
    """YYYY-MM-DD names a day of the proleptic Gregorian calendar (year 0000 too, a leap year like 2000, as
    JSON Schema's date format reads it)."""
    try:
        date(int(text[:4]) or 2000, int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


def _since(value: str | None) -> str | None:
    """The store's form of `since` (UTC, to the second), to compare with the `changed` column; 400 unless
    it is one of the forms of SINCE_SCHEMA."""
    if value is None:
        return None
    if not (any(p.fullmatch(value) for p in _SINCE) and _real_day(value)):
        raise HTTPException(400, f"since: {value[:40]!r} is not a real day (2024-05-01) or a time with Z or an "
                                 "offset (2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00)")
    if value.startswith("0000-"):     # before Python's year 1: before any change on this node
        return EARLIEST
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    try:
        when = when.replace(tzinfo=when.tzinfo or timezone.utc).astimezone(timezone.utc)
    except OverflowError:         # an offset that takes year 1 or 9999 out of range
        return EARLIEST if when.year < 5000 else LATEST
    return when.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _answer(request: Request, fmt: str, p: CatalogParams) -> Response:
    state = request.app.state.node
    store = state.store()
    since = p.since
    if p.source is not None and p.source not in {s["id"] for s in state.cfg.sources} | set(store.sources()):
        raise HTTPException(404, f"no source {p.source[:200]!r} on this node")
    size = p.page_size or PAGE_SIZE
    page = read_page(store, size, p.page, p.after, since, p.source)
    base = str(request.url.replace(query="", fragment=""))
    keep = {"page_size": p.page_size, "since": since, "source": p.source}

    def url(**params) -> str:
        query = {k: v for k, v in {**params, **keep}.items() if v is not None}
        return f"{base}?{urlencode(query)}"

    paging = Paging(current=url(page=p.page, after=p.after), first=url(page=1),
                    last=url(page=max(1, ceil(page.total / size))),
                    next=url(page=p.page + 1, after=page.last_seq) if page.has_next else None,
                    previous=url(page=p.page - 1) if p.page > 1 else None, total=page.total, size=size)
    modified = store.db.execute("SELECT MAX(changed) FROM records").fetchone()[0]
    graph = catalog_graph(state.cfg, page.records, paging, modified, str(request.base_url))
    body = serialize(graph, fmt)
    return Response(body, media_type=f"{FORMATS[fmt][0]}; charset=utf-8", headers={"Vary": "Accept"})


@router.get("/catalog", summary="The node's catalogue in DCAT-AP 3 (content negotiation)", response_class=Response,
            responses={**_RESPONSES, 406: {"model": ErrorBody, "description": "None of the Accept types is served"}})
def catalog(request: Request, p: CatalogParams = Depends(_params)):
    fmt = negotiate(request.headers.get("accept"))
    if fmt is None:
        raise HTTPException(406, "the catalogue is served as " + ", ".join(m for m, _ in FORMATS.values()))
    return _answer(request, fmt, p)


@router.get("/catalog.ttl", summary="The node's catalogue in DCAT-AP 3, Turtle", response_class=Response,
            responses=_RESPONSES)
def catalog_turtle(request: Request, p: CatalogParams = Depends(_params)):
    return _answer(request, "turtle", p)


@router.get("/catalog.rdf", summary="The node's catalogue in DCAT-AP 3, RDF/XML", response_class=Response,
            responses=_RESPONSES)
def catalog_rdfxml(request: Request, p: CatalogParams = Depends(_params)):
    return _answer(request, "xml", p)


@router.get("/catalog.jsonld", summary="The node's catalogue in DCAT-AP 3, JSON-LD", response_class=Response,
            responses=_RESPONSES)
def catalog_jsonld(request: Request, p: CatalogParams = Depends(_params)):
    return _answer(request, "json-ld", p)
