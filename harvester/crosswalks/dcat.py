"""`dcat`: DCAT and DCAT-AP catalogues (Turtle, RDF/XML, JSON-LD, N-Triples), read with rdflib.

`split` parses a whole file into a graph and yields one raw record per dcat:Dataset, dcat:DatasetSeries and
dcat:DataService, and per foaf:Document or dct:BibliographicResource that has a title of its own (documents that
only serve as another resource's page are not records). The payload is (graph, node); the identifier is the
node's URI, else its dct:identifier.

Safety: RDF/XML goes through harvester.xmlsafe.check_prolog first (no DTD, no entities). JSON-LD never fetches
a remote @context: a context given by URL must be supplied locally (a source's `jsonld_contexts`), else the file is refused with
a clear error; nothing is ever requested from the network.

  dct:title / description, dcat:keyword (+ theme and subject labels)  -> title, description, keywords per language
  dct:language (codes or EU authority URIs)   -> languages          dct:issued / modified / created -> dates
  dct:publisher, dct:creator (foaf:name, skos:prefLabel, vcard:fn ...)                -> publisher, creators
  dcat:landingPage, foaf:page, dcat:distribution (downloadURL, accessURL, mediaType, format),
  dcat:endpointURL                            -> links                dct:license / rights / accessRights -> rights
  dct:spatial (EU authority country URIs, country names)            -> countries
  dct:type                                    -> type (guessed)       dct:modified (catalogue record's first) -> datestamp
"""
from __future__ import annotations

import hashlib
import json
import re
import warnings
from typing import Callable, Iterator
from urllib.parse import unquote, urlsplit

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, Namespace

from ..raw import RawRecord
from ..xmlsafe import UnsafeXML, check_prolog
from . import Crosswalk, register
from .codes import country, country_name, lang_tag
from .common import UNTAGGED, Partial
from .text import clean, url

DC = Namespace("http://purl.org/dc/elements/1.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SCHEMA = Namespace("http://schema.org/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
ADMS = Namespace("http://www.w3.org/ns/adms#")

DCAT3 = Namespace("http://www.w3.org/ns/dcat#")   # open namespace: rdflib's DCAT lacks DCAT 3 terms
RECORD_TYPES = (DCAT.Dataset, DCAT3.DatasetSeries, DCAT.DataService)
DOCUMENT_TYPES = (FOAF.Document, DCTERMS.BibliographicResource)
# a document that is only the object of one of these is another resource's page, not a record
_PAGE_PREDICATES = {DCAT.landingPage, FOAF.page, FOAF.homepage, DCTERMS.conformsTo, DCAT.accessURL,
                    DCAT.downloadURL, DCTERMS.license, DCTERMS.rights, DCTERMS.references, DCAT.endpointDescription,
                    DCTERMS.source, DCTERMS.isReferencedBy, RDFS.seeAlso}
_NAME_PREDICATES = (FOAF.name, SKOS.prefLabel, VCARD.fn, VCARD["organization-name"], SCHEMA.name, DCTERMS.title,
                    RDFS.label, LOCN.geographicName, SKOS.altLabel)

_EXTENSIONS = {"ttl": "turtle", "turtle": "turtle", "n3": "n3", "nt": "nt", "ntriples": "nt", "rdf": "xml",
               "owl": "xml", "xml": "xml", "rdfxml": "xml", "jsonld": "json-ld", "json": "json-ld"}
_FORMAT_NAMES = {"turtle": "Turtle", "n3": "N3", "nt": "N-Triples", "xml": "RDF/XML", "json-ld": "JSON-LD"}
_XML_START = re.compile(rb"^(?:<\?xml|<!--|<!DOCTYPE|<[A-Za-z_][\w.-]*(?::[\w.-]+)?[\s>/])")
_TURTLE_HINT = re.compile(rb"^\s*(?:@prefix|@base|prefix\s|base\s)", re.IGNORECASE | re.MULTILINE)
_FILE_EXT = re.compile(r"\.(?:pdf|docx?|xlsx?|odt|ods|csv|tsv|zip|7z|gz|tar|rar|shp|kmz|kml|gpkg|tiff?|nc|"
                       r"json|geojson|xml|gml|jp2|jpe?g|png|txt|rtf|sqlite|parquet|ttl|rdf|nt|jsonld)$", re.IGNORECASE)
_SERVICE = re.compile(r"\b(?:api|wms|wfs|wcs|wmts|sparql|ogc|rest|csw|sos|service)\b", re.IGNORECASE)


class RDFError(ValueError):
    """A file that cannot be read as RDF; the message names the file, the syntax and the reason."""


class RemoteContext(RDFError):
    """A JSON-LD document whose @context is given by URL and was not supplied locally (never fetched)."""


# ---------------------------------------------------------------- parsing

def rdf_format(data: bytes, where: str = "") -> str:
    """The rdflib format of a file: JSON and XML recognised from the content, else from the name, else Turtle."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return "json-ld"
    if _XML_START.match(head):
        return "xml"
    name = urlsplit(where).path if "://" in where else where
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if _TURTLE_HINT.search(head):
        return "turtle"
    lines = [ln for ln in head.splitlines() if ln.strip() and not ln.strip().startswith(b"#")]
    if lines and all(ln.strip().startswith((b"<", b"_:")) and ln.rstrip().endswith(b".") for ln in lines[:20]):
        return "nt"
    return "turtle"


def _resolve_contexts(doc, contexts: dict, where: str):
    """Replace every @context (and @import) given by URL with the locally supplied document, or refuse.

    What comes out has no context reference left, so rdflib never has anything to fetch.
    """
    active: list[str] = []

    def context(value):
        """A context value (URL, object or list of them) with every URL replaced by its local copy."""
        if isinstance(value, list):
            return [context(v) for v in value]
        if isinstance(value, dict):
            return walk(value)
        if not isinstance(value, str):
            return value                      # null resets the context
        if value not in contexts:
            raise RemoteContext(f"{where}: JSON-LD @context {value!r} is a remote document; the node does not "
                                f"fetch remote contexts (give the source a local copy of it: `jsonld_contexts: {{\"{value}\": FILE}}`)")
        if value in active:
            raise RDFError(f"{where}: not valid JSON-LD: context {value!r} includes itself")
        doc = contexts[value]
        doc = doc["@context"] if isinstance(doc, dict) and "@context" in doc else doc
        active.append(value)
        try:
            return context(doc)
        finally:
            active.pop()

    def walk(value):
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, v in value.items():
            if key == "@context":
                out[key] = context(v)
            elif key == "@import" and isinstance(v, str):
                imported = context(v)
                if not isinstance(imported, dict):
                    raise RDFError(f"{where}: not valid JSON-LD: @import {v!r} is not a context object")
                out.update({k: x for k, x in imported.items() if k not in value})
            else:
                out[key] = walk(v)
        return out

    return walk(doc)


def parse_graph(data: bytes, where: str, fmt: str | None = None, contexts: dict | None = None) -> Graph:
    """A graph from a whole file; RDFError (or xmlsafe.UnsafeXML) naming the file when it cannot be read."""
    fmt = fmt or rdf_format(data, where)
    name = _FORMAT_NAMES.get(fmt, fmt)
    graph = Graph()
    public_id = where if where.startswith(("http://", "https://")) else None
    try:
        if fmt == "xml":
            check_prolog(data, where)
            graph.parse(data=data, format="xml", publicID=public_id)
        elif fmt == "json-ld":
            try:
                doc = json.loads(data.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise RDFError(f"{where}: not valid JSON-LD: {exc}") from None
            doc = _resolve_contexts(doc, contexts or {}, where)
            with warnings.catch_warnings():      # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph
                warnings.simplefilter("ignore", DeprecationWarning)
                graph.parse(data=json.dumps(doc), format="json-ld", publicID=public_id)
        else:
            graph.parse(data=data, format=fmt, publicID=public_id)
    except (RDFError, UnsafeXML):
        raise
    except Exception as exc:  # rdflib raises many kinds (BadSyntax, SAXParseException, ValueError ...)
        message = " ".join(str(exc).split())[:500] or type(exc).__name__
        raise RDFError(f"{where}: not valid {name}: {message}") from None
    return graph


# ---------------------------------------------------------------- a stable order

def _content_key(graph: Graph, value, depth: int = 2) -> tuple:
    """A sort key made of what a value says, never of a blank node's id (a new random one on every parse):
    sorted by it, the values of a multi-valued field come out in the same order on every run, so an unchanged
    record maps to the same record and is not written again."""
    if isinstance(value, Literal):
        return (0, str(value), value.language or "", str(value.datatype or ""))
    if isinstance(value, URIRef) or depth == 0:
        return (1, str(value) if isinstance(value, URIRef) else "")
    return (2, tuple(sorted((str(p), _content_key(graph, o, depth - 1)) for p, o in graph.predicate_objects(value))))


def _ordered(graph: Graph, values) -> list:
    return sorted(values, key=lambda v: _content_key(graph, v))


def _objects(graph: Graph, node, pred) -> list:
    """The objects of (node, pred), in a stable order (see _content_key)."""
    return _ordered(graph, graph.objects(node, pred))


# ---------------------------------------------------------------- splitting

def _is_page(graph: Graph, node) -> bool:
    return any(p in _PAGE_PREDICATES for _, p in graph.subject_predicates(node))


def record_nodes(graph: Graph) -> list:
    """The nodes that are records, in a stable order."""
    found = {}
    for rdf_type in RECORD_TYPES:
        for node in graph.subjects(RDF.type, rdf_type):
            found.setdefault(node, rdf_type)
    for rdf_type in DOCUMENT_TYPES:
        for node in graph.subjects(RDF.type, rdf_type):
            if node in found or _is_page(graph, node):
                continue
            if any(True for _ in graph.objects(node, DCTERMS.title)) or any(True for _ in graph.objects(node, DC.title)):
                found[node] = rdf_type
    return sorted(found, key=lambda n: (isinstance(n, BNode), _content_key(graph, n)))


def node_identifier(graph: Graph, node, where: str) -> str:
    if isinstance(node, URIRef):
        return str(node)
    for pred in (DCTERMS.identifier, DC.identifier, ADMS.identifier):
        for value in _objects(graph, node, pred):
            text = clean(value) if isinstance(value, (Literal, URIRef)) else clean(_label(graph, value) or "")
            if text:
                return text
    titles = sorted(str(t) for t in _objects(graph, node, DCTERMS.title))
    digest = hashlib.sha1("\n".join(titles).encode("utf-8")).hexdigest()[:16]
    return f"{where}#{digest}"


def records(graph: Graph, where: str, url_: str = "") -> Iterator[RawRecord]:
    for node in record_nodes(graph):
        ident = node_identifier(graph, node, where)
        yield RawRecord(identifier=ident, payload=(graph, node), location=f"{where}: {ident}", url=url_)


def split(data: bytes, where: str, contexts: dict | None = None) -> Iterator[RawRecord]:
    yield from records(parse_graph(data, where, contexts=contexts), where)


def splitter(contexts: dict) -> Callable[[bytes, str], Iterator[RawRecord]]:
    """A split function that resolves JSON-LD contexts by URL from `contexts` ({url: context document})."""
    def split_with(data: bytes, where: str) -> Iterator[RawRecord]:
        return split(data, where, contexts)
    return split_with


# ---------------------------------------------------------------- extraction

def _literal_lang(lit: Literal) -> str | None:
    return lang_tag(lit.language) if lit.language else UNTAGGED


def _pick(literals: list[Literal], prefer: str) -> Literal | None:
    """One literal of several: the preferred language, else untagged, else English, else the first."""
    if not literals:
        return None
    for test in (lambda l: l.language and lang_tag(l.language) == prefer, lambda l: not l.language,
                 lambda l: l.language and lang_tag(l.language) == "en"):
        for lit in literals:
            if test(lit):
                return lit
    return sorted(literals, key=str)[0]


def _label(graph: Graph, value, prefer: str = "und") -> str | None:
    """A name for a value: the literal itself, else the node's name in the graph (foaf:name, skos:prefLabel ...)."""
    if isinstance(value, Literal):
        return clean(value) or None
    for pred in _NAME_PREDICATES:
        lit = _pick([o for o in _objects(graph, value, pred) if isinstance(o, Literal) and clean(o)], prefer)
        if lit is not None:
            return clean(lit)
    return None


def _value_text(graph: Graph, value, prefer: str = "und") -> str | None:
    """A literal's text, a node's label, or a URI itself."""
    label = _label(graph, value, prefer)
    if label:
        return label
    if isinstance(value, URIRef):
        return str(value)
    for v in _objects(graph, value, RDF.value):
        return clean(v) or None
    return None


def _format(graph: Graph, dist) -> str | None:
    for pred in (DCAT.mediaType, DCTERMS.format, DC.format):
        for value in _objects(graph, dist, pred):
            if isinstance(value, Literal):
                text = clean(value)
            elif isinstance(value, URIRef) and not list(graph.predicate_objects(value)):
                path = unquote(urlsplit(str(value)).path).rstrip("/")
                text = "/".join(path.split("/")[-2:]) if "media-types" in path or "/media/" in path \
                    else path.rsplit("/", 1)[-1]
            else:
                text = next((clean(v) for v in _objects(graph, value, RDF.value)), None) or _label(graph, value)
                if not text and isinstance(value, URIRef):
                    text = str(value).rstrip("/").rsplit("/", 1)[-1]
            if text:
                return text
    return None


def _urls(graph: Graph, node, pred) -> list[str]:
    out = []
    for value in _objects(graph, node, pred):
        u = url(str(value)) if isinstance(value, (URIRef, Literal)) else None
        if u and u not in out:
            out.append(u)
    return sorted(out)


def _payload(raw: RawRecord):
    payload = raw.payload
    if not (isinstance(payload, tuple) and len(payload) == 2 and isinstance(payload[0], Graph)):
        raise ValueError("no DCAT metadata in this record (expected an RDF graph and a node)")
    return payload


def extract(raw: RawRecord) -> dict:
    graph, node = _payload(raw)
    p = Partial(f"DCAT resource {raw.identifier or node}")

    for pred in (DCTERMS.language, DC.language):
        for value in _objects(graph, node, pred):
            text = _value_text(graph, value) if not isinstance(value, URIRef) else str(value)
            if text:
                p.language(text)
    prefer = p.default_lang()

    titles = [o for o in _objects(graph, node, DCTERMS.title) if isinstance(o, Literal)]
    titles += [o for o in _objects(graph, node, DC.title) if isinstance(o, Literal)]
    if not titles:       # a service or document named only by a label
        for pred in (RDFS.label, SKOS.prefLabel, FOAF.name, SCHEMA.name):
            titles += [o for o in _objects(graph, node, pred) if isinstance(o, Literal)]
    for lit in sorted(titles, key=lambda l: (l.language or "", str(l))):
        p.title(str(lit), _literal_lang(lit))
    for pred in (DCTERMS.description, DC.description, DCTERMS.abstract):
        for lit in sorted((o for o in _objects(graph, node, pred) if isinstance(o, Literal)), key=str):
            p.description(str(lit), _literal_lang(lit))
    for pred in (DCAT.keyword, DC.subject):
        for lit in sorted((o for o in _objects(graph, node, pred) if isinstance(o, Literal)), key=str):
            p.keyword(str(lit), _literal_lang(lit))
    for pred in (DCAT.theme, DCTERMS.subject):
        for value in _objects(graph, node, pred):
            labels = [value] if isinstance(value, Literal) else \
                [o for o in _objects(graph, value, SKOS.prefLabel) if isinstance(o, Literal)]
            for lit in labels:
                p.keyword(str(lit), _literal_lang(lit))

    for pred, kind in ((DCTERMS.issued, "issued"), (DCTERMS.created, "created"), (DCTERMS.modified, "modified")):
        for value in _objects(graph, node, pred):
            if isinstance(value, Literal):
                p.date(kind, str(value))
    for catalog_record in _ordered(graph, graph.subjects(FOAF.primaryTopic, node)):
        for value in _objects(graph, catalog_record, DCTERMS.modified):
            p.set_datestamp(str(value))
    for pred in (DCTERMS.modified, DCTERMS.issued):
        for value in _objects(graph, node, pred):
            p.set_datestamp(str(value))

    for value in _objects(graph, node, DCTERMS.publisher):
        p.set_publisher(_label(graph, value, prefer) or "")
    for value in _objects(graph, node, DCTERMS.creator):
        name = _label(graph, value, prefer)
        if name:
            p.creator(name)

    for value in _objects(graph, node, DCTERMS.type):
        text = _value_text(graph, value, "en")
        if text:
            p.type_hints.append(text)

    for value in _objects(graph, node, DCTERMS.spatial):
        if isinstance(value, Literal):
            code = country(str(value))
        else:
            code = country(str(value)) if isinstance(value, URIRef) else None
            label = None if code else _label(graph, value, prefer)
            code = code or (country_name(label) if label else None)
            for notation in ([] if code else _objects(graph, value, SKOS.notation)):
                code = code or country(str(notation))
        if code:
            p.country(code)

    # links
    is_document = any((node, RDF.type, t) in graph for t in DOCUMENT_TYPES)
    landing = _urls(graph, node, DCAT.landingPage)
    for u in landing:
        p.link(u, "landing")
    if isinstance(node, URIRef) and url(str(node)):
        p.link(str(node), "landing" if is_document or not landing else "related")
    for u in _urls(graph, node, FOAF.page):
        p.link(u, "related")
    for u in _urls(graph, node, DCAT.endpointURL):
        p.link(u, "service")
    for u in _urls(graph, node, DCAT.endpointDescription):
        p.link(u, "related")
    dist_rights = []
    for dist in _objects(graph, node, DCAT.distribution):
        title_lit = _pick([o for o in _objects(graph, dist, DCTERMS.title) if isinstance(o, Literal)], prefer)
        title = clean(title_lit) if title_lit is not None else None
        fmt = _format(graph, dist)
        downloads = _urls(graph, dist, DCAT.downloadURL)
        for u in downloads:
            p.link(u, "file", fmt, title)
        services = [u for svc in _objects(graph, dist, DCAT.accessService) for u in _urls(graph, svc, DCAT.endpointURL)]
        for u in _urls(graph, dist, DCAT.accessURL):
            if u in downloads:
                continue
            if _FILE_EXT.search(urlsplit(u).path):
                rel = "file"
            elif u in services or (fmt and _SERVICE.search(fmt)) or re.search(r"[?&](?:service|request)=", u, re.I):
                rel = "service"
            else:
                rel = "related"
            p.link(u, rel, fmt, title)
        for u in services:
            p.link(u, "service", fmt, title)
        for pred in (DCTERMS.license, DCTERMS.rights):
            for value in _objects(graph, dist, pred):
                text = _value_text(graph, value, prefer)
                if text and text not in dist_rights:
                    dist_rights.append(text)

    for pred in (DCTERMS.license, DCTERMS.rights, DCTERMS.accessRights, DC.rights):
        for value in _objects(graph, node, pred):
            text = _value_text(graph, value, prefer)
            if text:
                p.right(text)
    if not p.rights:
        for text in dist_rights:
            p.right(text)
    return p.to_dict()


register(Crosswalk("dcat", extract, split,
                   "DCAT / DCAT-AP (Turtle, RDF/XML, JSON-LD, N-Triples): datasets, data services, documents"))
