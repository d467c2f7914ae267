"""The node's searches as Atom 1.0 feeds, and its OpenSearch 1.1 description.

Routes (the ``router`` of this module):

/opensearch.xml   OpenSearch 1.1 description: ShortName (the node's name, at most 16 characters), the
                  search page (text/html), the feed (application/atom+xml) and the JSON API
                  (application/json) as URL templates with {searchTerms}, {startIndex}, {count} and
                  {language} (indexOffset 0: startIndex is the offset of the first result), the six UN
                  languages, UTF-8, an example query.

/feed.atom        the Atom feed of a search (the one canonical path), with the parameters of /api/search:
                  q (words), filter=FIELD:VALUE (repeatable), lang (the language wanted for titles,
                  summaries and labels), limit (entries per page, default DEFAULT_LIMIT, at most 100),
                  offset or cursor (the next link carries ``cursor`` and ``start``, the position of its
                  first entry). An empty value counts as absent, as OpenSearch clients send them; each
                  parameter but filter is given at most once. Entries come most recently stored in this node
                  first (the index sort ``recent``).

An entry is one record:
  id         urn:pops-chm:record-id:<record id, percent-encoded>: the record keeps it on every node and run
  title      in ``lang`` (else English, else the record's first), with its xml:lang; summary likewise from
             the description; every title and description in every language also as pops:title and
             pops:description (xml:lang), and the record's languages as pops:languages (the names of the
             native ``pops`` format, namespace urn:pops-chm:record:1)
  updated    when this node last changed the record; published: its date of issue, if it has one
  link       alternate text/html: the record page on this node (absolute); alternate application/json:
             /api/records/{id}; the record's files as rel=enclosure (type = their media type, hreflang),
             its landing pages and other links as rel=related (http, https and ftp addresses only)
  author     its creators, else its publisher (else the feed's author, the node); dc:publisher, rights
  category   type, chemicals, countries and regions: term = the vocabulary id, label in ``lang``, scheme
             urn:pops-chm:vocab:{document_types|chemicals|countries|regions} (labels: /api/vocab/{kind})
  dc:source  the record's identifier at its origin; pops:origin (node, source, identifier, format) and
             pops:path (the nodes it travelled through) say where it came from

The feed: title naming the search ("PCB — type:legislation"), id stable per query (words, filters,
language), updated (its newest entry), RFC 5005 paging links (self, first, previous, next, last) and
alternate (the same search as a web page), OpenSearch response elements (totalResults, startIndex,
itemsPerPage, Query role="request"). Harvested text only ever goes in as text (lxml escapes it; no
type="html" anywhere), with the characters XML cannot carry dropped. A bad parameter is a 400 with a JSON
{"error": ...} saying what is wrong; the index being down is a 503. Responses carry an ETag (a hash of the
body; If-None-Match -> 304) and Last-Modified (the feed's updated).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query as Q, Request
from fastapi.responses import Response
from lxml import etree

from .. import __version__, popsxml, vocab
from ..index import (FACET_FIELDS, MAX_LIMIT, Query, SearchUnavailable, decode_cursor, issued_date,
                     parse_filters)
from .app import ErrorBody
from .oai import _xml_text as xml_text
from .sitemap import public_base, record_page_url
from .web import PATH_SAFE, html_lang, pick_text, safe_href

router = APIRouter(tags=["feeds"])

ATOM_NS = "http://www.w3.org/2005/Atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
DC_NS = "http://purl.org/dc/elements/1.1/"
POPS_NS = popsxml.NS
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
OPENSEARCH_TYPE = "application/opensearchdescription+xml; charset=utf-8"

FEED_SORT = "recent"
"""The index sort of every feed: most recently stored in this node first."""
DEFAULT_LIMIT = 20
MAX_OFFSET = 1_000_000
MAX_FILTERS = 50
MAX_FILTER_CHARS = 200
MAX_CURSOR_CHARS = 2000
MAX_QUERY_CHARS = 1000
ENTRY_ID_PREFIX = "urn:pops-chm:record-id:"
SCHEMES = {kind: f"urn:pops-chm:vocab:{kind}" for kind in ("document_types", "chemicals", "countries", "regions")}
NO_DATE = "1970-01-01T00:00:00Z"
EXAMPLE_QUERY = "PCB"
SHORT_NAME_CHARS, LONG_NAME_CHARS, DESCRIPTION_CHARS = 16, 48, 1024

_ID_SAFE = "!$&'()*+,;=:@/-._~"     # what a URN keeps unencoded (RFC 8141 pchar and "/"); "%" is encoded
_HREF_SAFE = "!#$%&'()*+,-./:;=?@[]_~"  # a harvested URL keeps these; '"', '<', '>', spaces... are encoded

# What each parameter of /feed.atom accepts, as patterns that mean the same to Python and to the ECMA
# regular expressions of the OpenAPI description (explicit character classes; [\s\S] for any character),
# so the description says exactly what is accepted. An empty value is accepted everywhere: it counts as absent.
_NOT_SPACE = ("[^\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029"
              "\\u202f\\u205f\\u3000]")   # not white space as str.strip() sees it
PATTERNS = {
    "limit": r"^(?:[0-9]|[1-9][0-9]|100)?$",
    "offset": r"^(?:0|[1-9][0-9]{0,5}|1000000)?$",
    "start": r"^(?:0|[1-9][0-9]{0,11}|1000000000000)?$",
    "lang": r"^(?:\*|[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)?$",
    "filter": rf"^(?:(?:{'|'.join(FACET_FIELDS)}):[\s\S]*{_NOT_SPACE}[\s\S]*)?$",
}
_CHECK = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}
_SINGLE = ("q", "lang", "limit", "offset", "cursor", "start")   # filter alone is repeatable
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_DATESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


# ----------------------------------------------------------------------------------------------- parameters


@dataclass
class FeedRequest:
    """A feed's parameters, checked: what the links of the feed are built from."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    lang: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    cursor: str | None = None
    start: int = 0

    @property
    def position(self) -> int:
        """Where the page's first entry stands in the whole result list (0-based)."""
        return self.start if self.cursor else self.offset

    def query(self) -> Query:
        return Query(text=self.q, filters=self.filters, facets=False, sort=FEED_SORT, limit=self.limit,
                     offset=self.offset, cursor=self.cursor, lang=self.lang, highlight=False).checked()


def _whole(params, name: str, default: int, low: int, high: int) -> int:
    value = params.get(name) or ""
    if not _CHECK[name].fullmatch(value):
        raise ValueError(f"{name} must be a whole number from {low} to {high} (no leading zeros), "
                         f"not {xml_text(value)[:40]!r}")
    return int(value) if value else default


def parse_feed_request(params) -> FeedRequest:
    """A FeedRequest from a request's query parameters (a multi-dict); ValueError saying what is wrong (a
    cursor first: one that is not of the feed's making is the thing to say, whatever else is wrong)."""
    for name in _SINGLE:
        if len(params.getlist(name)) > 1:
            raise ValueError(f"{name}: give it once")
    cursor = params.get("cursor") or None
    if cursor is not None:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError(f"cursor is at most {MAX_CURSOR_CHARS} characters (use the feed's next link)")
        decode_cursor(cursor, FEED_SORT)
    q = params.get("q") or ""
    if len(q) > MAX_QUERY_CHARS:
        raise ValueError(f"q is at most {MAX_QUERY_CHARS} characters")
    raw_filters = params.getlist("filter")
    if len(raw_filters) > MAX_FILTERS:
        raise ValueError(f"at most {MAX_FILTERS} filters")
    for f in raw_filters:
        if len(f) > MAX_FILTER_CHARS:
            raise ValueError(f"a filter is at most {MAX_FILTER_CHARS} characters")
        if not _CHECK["filter"].fullmatch(f):
            raise ValueError(f"filter {xml_text(f)[:60]!r}: give FIELD:VALUE, FIELD one of {', '.join(FACET_FIELDS)}")
    lang = params.get("lang") or ""
    if len(lang) > 35 or not _CHECK["lang"].fullmatch(lang):
        raise ValueError("lang must be a language tag such as en, fr or zh-Hans (or *)")
    fr = FeedRequest(q=q, filters=parse_filters([f for f in raw_filters if f]),
                     lang=None if lang in ("", "*") else lang,       # "*": OpenSearch's "any language"
                     limit=_whole(params, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT),
                     offset=_whole(params, "offset", 0, 0, MAX_OFFSET), cursor=cursor,
                     start=_whole(params, "start", 0, 0, 10 ** 12))
    fr.filters = fr.query().filters      # checked and normalised; raises ValueError (e.g. cursor and offset)
    return fr


def feed_params(fr: FeedRequest, *, offset: int = 0, cursor: str | None = None, start: int = 0,
                paging: bool = True) -> list[tuple[str, str]]:
    """The URL parameters of the feed (or, paging=False, of the same search anywhere else) at a page."""
    out: list[tuple[str, str]] = [("q", fr.q)] if fr.q else []
    for name, values in fr.filters.items():
        out.extend(("filter", f"{name}:{v}") for v in values)
    if fr.lang:
        out.append(("lang", fr.lang))
    if paging:
        if fr.limit != DEFAULT_LIMIT:
            out.append(("limit", str(fr.limit)))
        if cursor:
            out += [("cursor", cursor), ("start", str(start))]
        elif offset:
            out.append(("offset", str(offset)))
    return out


def feed_title(fr: FeedRequest) -> str:
    """What the search is: its words (or "All records"), then its filters: "PCB — type:legislation"."""
    words = " ".join(fr.q.split()) or "All records"
    filters = ", ".join(f"{name}:{v}" for name, values in fr.filters.items() for v in values)
    return f"{words} — {filters}" if filters else words


def feed_id(node_id: str, fr: FeedRequest) -> str:
    """The same for the same words, filters and language, whatever the page or the order of the filters."""
    key = json.dumps([fr.q.strip(), sorted((k, sorted(v)) for k, v in fr.filters.items()), fr.lang or ""],
                     ensure_ascii=False)
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"urn:pops-chm:feed:{quote(node_id, safe='')}:{digest}"


# ----------------------------------------------------------------------------------------------- XML


def _add(parent, tag: str, text=None, **attrs):
    """A child element; text and attribute values with what XML cannot carry dropped (None: left out)."""
    el = etree.SubElement(parent, tag)
    for name, value in attrs.items():
        if value is not None and value != "":
            el.set(XML_LANG if name == "xml_lang" else name, xml_text(str(value)))
    if text is not None:
        el.text = xml_text(str(text))
    return el


def _a(tag: str) -> str:
    return f"{{{ATOM_NS}}}{tag}"


def _texts(value) -> list[tuple[str, str]]:
    """(language tag, text) of a language -> text map, text not blank."""
    if not isinstance(value, dict):
        return []
    return [(str(k), v) for k, v in value.items() if isinstance(v, str) and v.strip()]


def _strings(values) -> list[str]:
    return [v for v in values if isinstance(v, str) and v.strip()] if isinstance(values, list) else []


def _primary(lang: str | None) -> str:
    return (lang or "en").split("-")[0].lower()


def entry_id(record_id: str) -> str:
    return ENTRY_ID_PREFIX + quote(record_id, safe=_ID_SAFE)


def entry_element(record: dict, changed: str, base: str, lang: str | None) -> etree._Element:
    """The Atom entry of one record (see the module docstring)."""
    want = _primary(lang)
    rid = record["id"]
    entry = etree.Element(_a("entry"))
    _add(entry, _a("id"), entry_id(rid))
    tag, title = pick_text(record.get("title"), want)
    _add(entry, _a("title"), title or f"Record {rid}", type="text", xml_lang=html_lang(tag))
    _add(entry, _a("updated"), changed if _DATESTAMP.fullmatch(changed or "") else NO_DATE)
    issued = issued_date(record)
    if issued:
        _add(entry, _a("published"), issued)
    authors = _strings(record.get("creators"))
    publisher = record.get("publisher") if isinstance(record.get("publisher"), str) else ""
    for name in authors or ([publisher] if publisher.strip() else []):
        _add(_add(entry, _a("author")), _a("name"), name)

    page = record_page_url(base, rid) + (f"?lang={want}" if lang and want in vocab.UN_LANGUAGES else "")
    _add(entry, _a("link"), rel="alternate", type="text/html", href=page,
         hreflang=want if lang and want in vocab.UN_LANGUAGES else None)
    _add(entry, _a("link"), rel="alternate", type="application/json",
         href=f"{base}/api/records/{quote(rid, safe=PATH_SAFE)}")
    for link in record.get("links") or []:
        url = safe_href(link.get("url")) if isinstance(link, dict) else None
        if url is None:
            continue
        fmt = link.get("format") if isinstance(link.get("format"), str) else ""
        text = link.get("title") if isinstance(link.get("title"), str) else None
        _add(entry, _a("link"), rel="enclosure" if link.get("rel") == "file" else "related",
             href=quote(url, safe=_HREF_SAFE), type=fmt if _MEDIA_TYPE.fullmatch(fmt) else None,
             hreflang=html_lang(link.get("language")) if isinstance(link.get("language"), str) else None,
             title=text)

    kinds = (("document_types", [record.get("type")]), ("chemicals", record.get("chemicals")),
             ("countries", record.get("countries")), ("regions", record.get("regions")))
    for kind, values in kinds:
        for term in _strings(values):
            _add(entry, _a("category"), term=term, scheme=SCHEMES[kind],
                 label=vocab.label(kind, term, want) or term)

    tag, summary = pick_text(record.get("description"), want)
    if summary:
        _add(entry, _a("summary"), summary, type="text", xml_lang=html_lang(tag))
    if isinstance(record.get("rights"), str) and record["rights"].strip():
        _add(entry, _a("rights"), record["rights"], type="text")
    if publisher.strip():
        _add(entry, f"{{{DC_NS}}}publisher", publisher)
    origin = record.get("origin") if isinstance(record.get("origin"), dict) else {}
    if isinstance(origin.get("identifier"), str) and origin["identifier"]:
        _add(entry, f"{{{DC_NS}}}source", origin["identifier"])

    # the record's every language, in the names of the native format
    for name in ("title", "description"):
        for tag, text in _texts(record.get(name)):
            _add(entry, f"{{{POPS_NS}}}{name}", text, xml_lang=html_lang(tag))
    for code in _strings(record.get("languages")):
        _add(entry, f"{{{POPS_NS}}}languages", code)
    if origin:
        el = _add(entry, f"{{{POPS_NS}}}origin")
        for part in ("node", "source", "identifier", "format"):
            if isinstance(origin.get(part), str) and origin[part]:
                _add(el, f"{{{POPS_NS}}}{part}", origin[part])
    for node in _strings(record.get("path")):
        _add(entry, f"{{{POPS_NS}}}path", node)
    return entry


def feed_updated(entries: list[tuple[dict, str]], store_updated: str | None) -> str:
    """When the feed last changed: its newest entry, else (no entry) the store's last change."""
    changes = [changed for _, changed in entries if _DATESTAMP.fullmatch(changed or "")]
    if changes:
        return max(changes)
    return store_updated if _DATESTAMP.fullmatch(store_updated or "") else NO_DATE


def feed_document(*, cfg, base: str, fr: FeedRequest, total: int, next_cursor: str | None,
                  entries: list[tuple[dict, str]], hits_on_page: int, updated: str) -> bytes:
    """The feed document: ``entries`` are (record, changed) in result order."""
    node = cfg.node
    root = etree.Element(_a("feed"), nsmap={None: ATOM_NS, "opensearch": OPENSEARCH_NS, "dc": DC_NS,
                                            "pops": POPS_NS})
    _add(root, _a("id"), feed_id(str(node.get("id") or ""), fr))
    _add(root, _a("title"), feed_title(fr), type="text")
    node_name = node.get("name") or node.get("id") or "POPs clearing-house node"
    _add(root, _a("subtitle"), f"{node_name}: search results, most recently stored first", type="text")
    _add(root, _a("updated"), updated)
    author = _add(root, _a("author"))
    _add(author, _a("name"), node_name)
    _add(author, _a("uri"), base)
    _add(root, _a("generator"), "pops-chm", version=__version__)

    def feed_href(**page) -> str:
        return f"{base}/feed.atom?" + urlencode(feed_params(fr, **page))

    position = fr.position
    here = {"cursor": fr.cursor, "start": fr.start} if fr.cursor else {"offset": fr.offset}
    _add(root, _a("link"), rel="self", type="application/atom+xml", href=feed_href(**here))
    _add(root, _a("link"), rel="alternate", type="text/html",
         href=f"{base}/?" + urlencode(feed_params(fr, paging=False)))
    _add(root, _a("link"), rel="search", type="application/opensearchdescription+xml",
         href=f"{base}/opensearch.xml")
    _add(root, _a("link"), rel="first", type="application/atom+xml", href=feed_href())
    if position > 0 and fr.limit:
        back = max(0, position - fr.limit)
        if back <= MAX_OFFSET:
            _add(root, _a("link"), rel="previous", type="application/atom+xml", href=feed_href(offset=back))
    if next_cursor and hits_on_page:
        _add(root, _a("link"), rel="next", type="application/atom+xml",
             href=feed_href(cursor=next_cursor, start=position + hits_on_page))
    if total > 0 and fr.limit:
        last = (total - 1) // fr.limit * fr.limit
        if last <= MAX_OFFSET:
            _add(root, _a("link"), rel="last", type="application/atom+xml", href=feed_href(offset=last))

    _add(root, f"{{{OPENSEARCH_NS}}}totalResults", total)
    _add(root, f"{{{OPENSEARCH_NS}}}startIndex", position)
    _add(root, f"{{{OPENSEARCH_NS}}}itemsPerPage", fr.limit)
    _add(root, f"{{{OPENSEARCH_NS}}}Query", role="request", searchTerms=fr.q, startIndex=position,
         count=fr.limit, language=fr.lang)
    for record, changed in entries:
        root.append(entry_element(record, changed, base, fr.lang))
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


# ----------------------------------------------------------------------------------------------- OpenSearch


def _cut(text: str, size: int) -> str:
    """Text cut to ``size`` characters at a word boundary (in the middle of a word only if it has to)."""
    text = " ".join(xml_text(text).split())
    if len(text) <= size:
        return text
    cut = text.rfind(" ", 0, size + 1)
    return text[:cut] if cut > 0 else text[:size]


def description_document(cfg, base: str) -> bytes:
    """The OpenSearch 1.1 description of this node's search (see the module docstring)."""
    node = cfg.node
    name = str(node.get("name") or f"POPs node {node.get('id', '')}")
    root = etree.Element("{%s}OpenSearchDescription" % OPENSEARCH_NS, nsmap={None: OPENSEARCH_NS})

    def add(tag, text=None, **attrs):
        return _add(root, f"{{{OPENSEARCH_NS}}}{tag}", text, **attrs)

    add("ShortName", _cut(name, SHORT_NAME_CHARS))
    add("Description", _cut(f"Search {name}: national implementation plans, national reports, laws, studies, "
                            "best practices, experts, and offers of and requests for technical and "
                            "financial assistance on persistent organic pollutants (Stockholm Convention), "
                            "in the six UN languages. A chemical named in any of them finds the records "
                            "about it in every language.", DESCRIPTION_CHARS))
    params = "q={searchTerms}&offset={startIndex?}&limit={count?}&lang={language?}"
    add("Url", type="text/html", rel="results", indexOffset="0", template=f"{base}/?{params}")
    add("Url", type="application/atom+xml", rel="results", indexOffset="0", template=f"{base}/feed.atom?{params}")
    # the JSON API refuses an empty offset or limit: a client fills them in
    add("Url", type="application/json", rel="results", indexOffset="0",
        template=f"{base}/api/search?q={{searchTerms}}&offset={{startIndex}}&limit={{count}}&lang={{language?}}")
    add("Url", type="application/opensearchdescription+xml", rel="self", template=f"{base}/opensearch.xml")
    email = node.get("admin_email") or node.get("email")
    if isinstance(email, str) and re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", email):
        add("Contact", email)
    add("Tags", "POPs Stockholm-Convention chemicals pesticides PCB dioxins clearing-house")
    add("LongName", _cut(name, LONG_NAME_CHARS))
    add("Query", role="example", searchTerms=EXAMPLE_QUERY)
    add("SyndicationRight", "open")
    add("AdultContent", "false")
    for code in vocab.UN_LANGUAGES:
        add("Language", code)
    add("OutputEncoding", "UTF-8")
    add("InputEncoding", "UTF-8")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


# ----------------------------------------------------------------------------------------------- HTTP


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(request: Request, etag: str) -> bool:
    """If-None-Match names this ETag (weak or strong) or is "*"."""
    given = request.headers.get("if-none-match")
    if not given:
        return False
    tags = [t.strip() for t in given.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def _http_date(stamp: str) -> str:
    dt = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return format_datetime(dt, usegmt=True)


def _xml_response(request: Request, body: bytes, media_type: str, cache: str, updated: str | None = None):
    etag = _etag(body)
    headers = {"ETag": etag, "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if updated:
        headers["Last-Modified"] = _http_date(updated)
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("/opensearch.xml", summary="OpenSearch 1.1 description of this node's search",
            response_class=Response, responses={200: {"content": {OPENSEARCH_TYPE.split(";")[0]: {}}}})
def opensearch_description(request: Request):
    state = request.app.state.node
    body = description_document(state.cfg, public_base(request))
    return _xml_response(request, body, OPENSEARCH_TYPE, "public, max-age=86400")


def _documented(name: str, **schema) -> dict:
    """The OpenAPI schema of a parameter: its pattern (documentation only: parse_feed_request checks)."""
    return {"pattern": PATTERNS[name], **schema}


@router.get("/feed.atom", summary="A search as an Atom feed, most recently stored records first",
            response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}, "description": "An Atom 1.0 feed"},
                       304: {"description": "Not modified (the ETag given in If-None-Match)"},
                       400: {"description": "A bad parameter", "model": ErrorBody},
                       503: {"description": "The search index cannot be reached", "model": ErrorBody}})
def atom_feed(request: Request,
              q: str | None = Q(None, description="The words searched (as in /api/search)",
                                json_schema_extra={"maxLength": MAX_QUERY_CHARS}),
              filter: list[str] = Q([], description=f"FIELD:VALUE, repeatable; fields: {', '.join(FACET_FIELDS)}",
                                    json_schema_extra={"maxItems": MAX_FILTERS, "items": _documented(
                                        "filter", type="string", maxLength=MAX_FILTER_CHARS)}),
              lang: str | None = Q(None, description="Language wanted for titles, summaries and labels",
                                   json_schema_extra=_documented("lang", maxLength=35)),
              limit: str | None = Q(None, description=f"Entries per page, 0 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
                                    json_schema_extra=_documented("limit")),
              offset: str | None = Q(None, description="Entries to skip", json_schema_extra=_documented("offset")),
              cursor: str | None = Q(None, description="Continue after a page: from the feed's next link",
                                     json_schema_extra={"maxLength": MAX_CURSOR_CHARS}),
              start: str | None = Q(None, description="With cursor: the position of the page's first entry",
                                    json_schema_extra=_documented("start"))):
    """The same parameters as /api/search; an empty value counts as absent (OpenSearch clients send them
    so). Entries: most recently stored in this node first. Paging: follow the feed's `next` link."""
    state = request.app.state.node
    try:
        fr = parse_feed_request(request.query_params)
        query = fr.query()
        results = state.index().search(query)
    except ValueError as exc:
        raise HTTPException(400, str(exc))
    except SearchUnavailable as exc:
        raise HTTPException(503, f"search is unavailable: {exc}")
    store = state.store()
    ids = [h.id for h in results.hits]
    rows = {}
    if ids:
        marks = ",".join("?" * len(ids))
        rows = {r["id"]: r for r in store.db.execute(
            f"SELECT id, changed, record FROM records WHERE deleted = 0 AND id IN ({marks})", ids)}
    # a record the index still holds but the store has since deleted is left out
    entries = [(json.loads(rows[i]["record"]), rows[i]["changed"]) for i in ids if i in rows and rows[i]["record"]]
    updated = feed_updated(entries, store.db.execute("SELECT MAX(changed) FROM records").fetchone()[0])
    body = feed_document(cfg=state.cfg, base=public_base(request), fr=fr, total=results.total,
                         next_cursor=results.next_cursor, entries=entries, hits_on_page=len(ids),
                         updated=updated)
    return _xml_response(request, body, ATOM_TYPE, "no-cache", updated)
