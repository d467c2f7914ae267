"""The node's SRU endpoint at /sru (GET, or POST with form-encoded parameters): search and retrieve records
with CQL queries, the web successor of Z39.50, in SRU 1.2 and SRU 2.0.

`respond(params, index, store, cfg, base_url, accept)` is the whole protocol as a function of the request's
parameters, the search index and the store; the FastAPI `router` only reads the request and writes the
answer. Every answer is HTTP 200 with an SRU response; what goes wrong is a diagnostic in it
(``info:srw/diagnostic/1/<n>``), as the protocol asks.

Versions and operations
-----------------------
``version=1.2``: the response is in ``http://www.loc.gov/zing/srw/`` and ``operation`` is
``searchRetrieve`` or ``explain`` (``scan``: diagnostic 4); without an operation, a request with a
``query`` is a searchRetrieve and one without an explain. ``version=2.0`` (the default when no version is
given, unless an ``operation`` is: 1.x clients always send one): ``http://docs.oasis-open.org/ns/
search-ws/sruResponse``, searchRetrieve when there is a ``query``, explain otherwise. Any other version:
diagnostic 5.

searchRetrieve
--------------
``query`` (CQL, see harvester/cql.py for the indexes and relations), ``startRecord`` (from 1),
``maximumRecords`` (default 10, at most 100; 0 counts only), ``recordSchema`` (``dc`` =
``info:srw/schema/1/dc-v1.1``, Simple Dublin Core in ``srw_dc:dc``, its first ``dc:identifier`` the record
id; ``pops`` = ``urn:pops-chm:record:1``, the native lossless record), ``recordPacking`` (1.2) or
``recordXMLEscaping`` (2.0): ``xml`` (the record as XML) or ``string`` (the record's XML as escaped text),
``sortKeys`` (``path,schema,ascending`` with one key: dc.title, dc.date, pops.year, pops.harvested; or
sortBy in the query), ``queryType`` (2.0: ``cql`` only), ``httpAccept`` (``application/sru+xml``,
``application/xml`` or ``text/xml``; else the Accept header; else ``application/sru+xml`` for 2.0 and
``text/xml`` for 1.2). The response holds ``numberOfRecords``, the records with their ``recordPosition``,
``nextRecordPosition`` while more follow, the echoed request and, in 2.0, ``resultCountPrecision`` (exact).
Records come from the store (the record of truth); one deleted there but still in the index (not caught up
yet) is a surrogate diagnostic 65 in its place (schema ``info:srw/schema/1/diagnostics-v1.1``).

Diagnostics: 1 (an unexpected failure, logged), 2 (the search index is down), 4 (unsupported operation),
5 (version), 6 (a bad parameter value: startRecord, maximumRecords, queryType, httpAccept, a repeated
parameter), 7 (query missing), 8 (an unknown parameter; ``x-`` extensions are ignored), 61 (startRecord after
the last record), 66 (unknown schema), 71 (recordPacking or recordXMLEscaping), 72 (recordXPath), 110
(stylesheets), the CQL ones (harvester/cql.py), the sort ones (84, 88, 90, 91, 92, and 96 when the query's
sortBy and sortKeys are both given).

explain
-------
A ZeeRex 2.0 record (``http://explain.z3950.org/dtd/2.0/``): host, port and path as the client reached
the node, the node's name, every index (by context set, with which can be sorted on), the two record schemas,
the paging limits (default and maximum records) and the relations supported.

Text from records and requests reaches the XML through lxml only, without the characters XML 1.0 forbids.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from lxml import etree
from starlette.concurrency import run_in_threadpool

from .. import cql, popsxml
from ..index import Query, SearchUnavailable
from .app import ErrorBody
from .oai import DC_NS, bounded_body, oai_dc_element, params_of, pops_element

log = logging.getLogger(__name__)

SRU12_NS = "http://www.loc.gov/zing/srw/"
SRU12_DIAG_NS = "http://www.loc.gov/zing/srw/diagnostic/"
SRU20_NS = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
SRU20_DIAG_NS = "http://docs.oasis-open.org/ns/search-ws/diagnostic"
ZEEREX_NS = "http://explain.z3950.org/dtd/2.0/"
SRW_DC_NS = "info:srw/schema/1/dc-schema"
DC_SCHEMA = "info:srw/schema/1/dc-v1.1"
DIAG_SCHEMA = "info:srw/schema/1/diagnostics-v1.1"
PRECISION_EXACT = "info:srw/vocabulary/resultCountPrecision/1/exact"

SCHEMAS = {"dc": DC_SCHEMA, "pops": popsxml.NS}
"""Short name -> identifier of the record schemas served (either may be asked for)."""
VERSIONS = ("1.2", "2.0")
DEFAULT_RECORDS = 10
MAX_RECORDS = 100
MAX_START = 2**31 - 1
MAX_POST_BYTES = 64 * 1024
MEDIA_TYPES = ("application/sru+xml", "application/xml", "text/xml")

_COMMON = {"version", "operation", "stylesheet", "httpAccept", "recordPacking", "recordXMLEscaping"}
PARAMETERS = {
    "searchRetrieve": _COMMON | {"query", "queryType", "startRecord", "maximumRecords", "recordSchema",
                                 "sortKeys", "resultSetTTL", "recordXPath", "renderedBy", "responseType"},
    "explain": _COMMON,
}


class Diagnostic(Exception):
    """A fatal SRU diagnostic: the request cannot be answered (number, details, message)."""

    def __init__(self, code: int, details: str = "", message: str = ""):
        super().__init__(message or details)
        self.code, self.details, self.message = code, details, message


_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text) -> str:
    """Text as XML 1.0 can carry it: the characters it forbids (control characters, lone surrogates) dropped."""
    return _NOT_XML.sub("", str(text))


# ----------------------------------------------------------------------------------------------- XML


class _Doc:
    """Builds one response in the namespaces of its SRU version."""

    def __init__(self, version: str):
        self.version = version
        self.ns = SRU12_NS if version == "1.2" else SRU20_NS
        self.diag_ns = SRU12_DIAG_NS if version == "1.2" else SRU20_DIAG_NS
        self.prefix = "srw" if version == "1.2" else "sruResponse"

    def root(self, name: str) -> etree._Element:
        root = etree.Element(self.q(name), nsmap={self.prefix: self.ns})
        if self.version == "1.2":          # 2.0 left the version out of its responses
            self.sub(root, "version", "1.2")
        return root

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def sub(self, parent, name: str, text=None) -> etree._Element:
        el = etree.SubElement(parent, self.q(name))
        if text is not None:
            el.text = _clean(text)
        return el

    def diagnostic(self, parent, code: int, details: str = "", message: str = "") -> etree._Element:
        diag = etree.SubElement(parent, f"{{{self.diag_ns}}}diagnostic", nsmap={"diag": self.diag_ns})
        etree.SubElement(diag, f"{{{self.diag_ns}}}uri").text = f"{cql.DIAGNOSTIC_URI}{code}"
        if details:
            etree.SubElement(diag, f"{{{self.diag_ns}}}details").text = _clean(details)
        if message:
            etree.SubElement(diag, f"{{{self.diag_ns}}}message").text = _clean(message)
        return diag

    def record(self, parent, schema: str, data: etree._Element, escaping: str, position: int | None):
        rec = self.sub(parent, "record")
        self.sub(rec, "recordSchema", schema)
        self.sub(rec, "recordPacking" if self.version == "1.2" else "recordXMLEscaping", escaping)
        holder = self.sub(rec, "recordData")
        if escaping == "string":
            holder.text = etree.tostring(data, encoding="unicode")
        else:
            holder.append(data)
        if position is not None:
            self.sub(rec, "recordPosition", position)
        return rec


def dc_element(record: dict) -> etree._Element:
    """The record as SRU's Simple Dublin Core (``srw_dc:dc``): oai_dc's elements, the record id first."""
    dc = etree.Element(f"{{{SRW_DC_NS}}}dc", nsmap={"srw_dc": SRW_DC_NS, "dc": DC_NS})
    etree.SubElement(dc, f"{{{DC_NS}}}identifier").text = _clean(record.get("id", ""))
    for child in list(oai_dc_element(record)):
        dc.append(child)
    etree.cleanup_namespaces(dc)
    return dc


def _serialise(root: etree._Element) -> bytes:
    # indented: besides readability, some clients read a diagnostic element's own text
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


# ----------------------------------------------------------------------------------------------- request


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise Diagnostic(6, name, f"parameter {name} given {len(values)} times")
    return values[0]


def _number(params, name: str, default: int, low: int) -> int:
    raw = _one(params, name)
    if raw is None or raw == "":
        return default
    digits = raw.strip()
    if not digits.isascii() or not digits.isdigit() or int(digits[:12]) < low:
        raise Diagnostic(6, name, f"{name} must be a whole number from {low}, not {raw[:40]!r}")
    return MAX_START if len(digits) > 10 else min(int(digits), MAX_START)


def _version_and_operation(params) -> tuple[str, str]:
    version = _one(params, "version")
    operation = _one(params, "operation")
    if version is None or version == "":
        version = "1.2" if operation else "2.0"
    if version not in VERSIONS:
        raise _VersionError(version)
    if not operation:
        operation = "searchRetrieve" if params.get("query") else "explain"
    return version, operation


class _VersionError(Exception):
    def __init__(self, asked: str):
        super().__init__(asked)
        self.asked = asked


def _media_type(params, accept: str, version: str) -> str:
    asked = _one(params, "httpAccept")
    if asked:
        if asked not in MEDIA_TYPES:
            raise Diagnostic(6, "httpAccept", f"httpAccept {asked[:60]!r} is not served (served: "
                                              f"{', '.join(MEDIA_TYPES)})")
        return asked
    for part in (accept or "").split(","):
        kind = part.split(";")[0].strip().lower()
        if kind in MEDIA_TYPES:
            return kind
    return "text/xml" if version == "1.2" else "application/sru+xml"


def _check_parameters(params, operation: str) -> None:
    known = PARAMETERS[operation]
    for name in params:
        if name not in known and not name.startswith("x-"):
            raise Diagnostic(8, name, f"unsupported parameter {name[:60]!r}")
    if params.get("stylesheet"):
        raise Diagnostic(110, "", "stylesheets are not supported")


def _escaping(params, version: str) -> str:
    name = "recordPacking" if version == "1.2" else "recordXMLEscaping"
    value = _one(params, name) or "xml"
    if value not in ("xml", "string"):
        raise Diagnostic(71, value, f"{name} must be xml or string, not {value[:40]!r}")
    if version == "2.0":
        packing = _one(params, "recordPacking") or "packed"
        if packing != "packed":
            raise Diagnostic(71, packing, f"recordPacking {packing[:40]!r} is not supported (packed only)")
    return value


def sort_keys(text: str) -> str | None:
    """An SRU ``sortKeys`` parameter (``path,schema,ascending,caseSensitive,missingValue`` per key) -> the
    index sort; Diagnostic for what cannot be sorted so."""
    keys = text.split()
    if not keys:
        return None
    if len(keys) > 1:
        raise Diagnostic(84, "1", "sorting by more than one key is not supported")
    parts = keys[0].split(",")
    path = parts[0]
    ascending = parts[2] if len(parts) > 2 and parts[2] else "1"
    if ascending not in ("0", "1", "true", "false"):
        raise Diagnostic(90, ascending, f"sortKeys: ascending must be 1 or 0, not {ascending[:20]!r}")
    if len(parts) > 3 and parts[3] in ("1", "true"):
        raise Diagnostic(91, parts[3], "case-sensitive sorting is not supported")
    if len(parts) > 4 and parts[4]:
        raise Diagnostic(92, parts[4], "missing-value actions are not supported (records without a value "
                                       "sort last)")
    try:
        return cql.sort_for(cql.resolve_index(path), ascending in ("0", "false"))
    except cql.CQLError as err:
        code = 88 if err.code == 16 else err.code
        raise Diagnostic(code, err.details, err.message) from None


# ----------------------------------------------------------------------------------------------- operations


def respond(params: dict[str, list[str]], index, store, cfg, base_url: str, accept: str = "") -> tuple[bytes, str]:
    """The SRU response to a request's parameters (name -> every value given): (XML, media type)."""
    try:
        version, operation = _version_and_operation(params)
    except _VersionError as err:
        version = "1.2" if err.asked.startswith("1") else "2.0"
        doc = _Doc(version)
        root = doc.root("explainResponse" if not params.get("query") else "searchRetrieveResponse")
        if root.tag.endswith("searchRetrieveResponse"):
            doc.sub(root, "numberOfRecords", 0)
        doc.diagnostic(doc.sub(root, "diagnostics"), 5, VERSIONS[-1],
                       f"version {err.asked[:20]!r} is not supported (supported: {', '.join(VERSIONS)})")
        return _serialise(root), "text/xml" if version == "1.2" else "application/sru+xml"
    except Diagnostic as diag:
        return _fatal(_Doc("2.0"), "searchRetrieveResponse", diag), "application/sru+xml"
    doc = _Doc(version)
    try:
        media = _media_type(params, accept, version)
    except Diagnostic as diag:
        media = "text/xml" if version == "1.2" else "application/sru+xml"
        return _fatal(doc, _response_name(operation), diag), media
    try:
        if operation == "searchRetrieve":
            root = _search_retrieve(doc, params, index, store)
        elif operation == "explain":
            root = _explain(doc, params, cfg, base_url)
        else:
            raise Diagnostic(4, operation[:60], f"unsupported operation {operation[:60]!r} (supported: "
                                                f"searchRetrieve, explain)")
    except Diagnostic as diag:
        return _fatal(doc, _response_name(operation), diag), media
    except Exception:   # noqa: BLE001  (a bug must not become an HTML error page: SRU clients expect XML)
        log.exception("SRU %s failed", operation)
        return _fatal(doc, _response_name(operation), Diagnostic(1, "", "internal error; see the node's log")), media
    return _serialise(root), media


def _response_name(operation: str) -> str:
    return "explainResponse" if operation == "explain" else "searchRetrieveResponse"


def _fatal(doc: _Doc, name: str, diag: Diagnostic) -> bytes:
    root = doc.root(name)
    if name == "searchRetrieveResponse":
        doc.sub(root, "numberOfRecords", 0)
    doc.diagnostic(doc.sub(root, "diagnostics"), diag.code, diag.details, diag.message)
    return _serialise(root)


def _search_retrieve(doc: _Doc, params, index, store) -> etree._Element:
    _check_parameters(params, "searchRetrieve")
    if params.get("recordXPath"):
        raise Diagnostic(72, "", "recordXPath is not supported")
    query = _one(params, "query")
    if query is None or not query.strip():
        raise Diagnostic(7, "query", "the query parameter is missing")
    query_type = _one(params, "queryType")
    if query_type not in (None, "", "cql"):
        raise Diagnostic(6, "queryType", f"queryType {query_type[:40]!r} is not supported (cql only)")
    start = _number(params, "startRecord", 1, 1)
    maximum = min(_number(params, "maximumRecords", DEFAULT_RECORDS, 0), MAX_RECORDS)
    schema_asked = _one(params, "recordSchema") or "dc"
    schema = SCHEMAS.get(schema_asked) or (schema_asked if schema_asked in SCHEMAS.values() else None)
    if schema is None:
        raise Diagnostic(66, schema_asked[:200], f"unknown record schema {schema_asked[:60]!r} (served: "
                                                 f"{', '.join(f'{k} = {v}' for k, v in SCHEMAS.items())})")
    escaping = _escaping(params, doc.version)
    keys = _one(params, "sortKeys")
    try:
        search = cql.translate(cql.parse(query))
    except cql.CQLError as err:
        raise Diagnostic(err.code, err.details, err.message) from None
    sort = search.sort
    if keys and keys.strip():
        if sort is not None:
            raise Diagnostic(96, "", "a sort is given both in the query (sortBy) and in sortKeys")
        sort = sort_keys(keys)
    try:
        res = index.search(Query(search.text, where=search.where, sort=sort or "relevance", limit=maximum,
                                 offset=start - 1, highlight=False))
    except SearchUnavailable as err:
        raise Diagnostic(2, "", f"the search index is unavailable: {err}") from None
    except ValueError as err:
        raise Diagnostic(47, "", f"the query cannot be processed: {err}") from None
    if res.total and start > res.total:
        raise Diagnostic(61, str(start), f"startRecord {start} is after the last record ({res.total})")

    root = doc.root("searchRetrieveResponse")
    doc.sub(root, "numberOfRecords", res.total)
    if res.hits:
        records = doc.sub(root, "records")
        for position, hit in enumerate(res.hits, start):
            record = store.get(hit.id)
            if record is None:      # deleted from the store, and the index not caught up yet
                holder = etree.Element("holder")
                doc.diagnostic(holder, 65, hit.id, "the record was deleted")
                doc.record(records, DIAG_SCHEMA, holder[0], escaping, position)
                continue
            data = dc_element(record) if schema == DC_SCHEMA else pops_element(record)
            doc.record(records, schema, data, escaping, position)
    following = start + len(res.hits)
    if res.hits and following <= res.total:
        doc.sub(root, "nextRecordPosition", following)
    echo = doc.sub(root, "echoedSearchRetrieveRequest")
    if doc.version == "1.2":
        doc.sub(echo, "version", "1.2")
    doc.sub(echo, "query", query)
    doc.sub(echo, "startRecord", start)
    doc.sub(echo, "maximumRecords", maximum)
    doc.sub(echo, "recordPacking" if doc.version == "1.2" else "recordXMLEscaping", escaping)
    doc.sub(echo, "recordSchema", schema)
    if keys:
        doc.sub(echo, "sortKeys", keys)
    if doc.version == "2.0":
        doc.sub(root, "resultCountPrecision", PRECISION_EXACT)
    return root


def _explain(doc: _Doc, params, cfg, base_url: str) -> etree._Element:
    _check_parameters(params, "explain")
    escaping = _escaping(params, doc.version)
    root = doc.root("explainResponse")
    doc.record(root, ZEEREX_NS, zeerex(cfg, base_url, doc.version), escaping, None)
    return root


def zeerex(cfg, base_url: str, version: str) -> etree._Element:
    """The ZeeRex 2.0 record describing this endpoint."""
    def z(name: str) -> str:
        return f"{{{ZEEREX_NS}}}{name}"

    def sub(parent, tag: str, text=None, **attrib):
        el = etree.SubElement(parent, z(tag), {k: str(v) for k, v in attrib.items()})
        if text is not None:
            el.text = _clean(text)
        return el

    url = urlsplit(base_url)
    node = cfg.node or {}
    explain = etree.Element(z("explain"), nsmap={"zr": ZEEREX_NS})
    server = sub(explain, "serverInfo", protocol="SRU", version=version, transport=url.scheme or "http",
                 method="GET POST")
    sub(server, "host", url.hostname or "localhost")
    sub(server, "port", url.port or (443 if url.scheme == "https" else 80))
    sub(server, "database", url.path.lstrip("/") or "sru")
    db = sub(explain, "databaseInfo")
    name = node.get("name") or f"POPs clearing-house node {node.get('id', '')}"
    sub(db, "title", name, lang="en", primary="true")
    sub(db, "description", f"Records of the POPs clearing-house node {node.get('id', '')} "
                           f"({node.get('country', '') or node.get('role', '')}): documents, national plans and "
                           f"reports, laws, studies, experts, assistance offers and requests, in the six UN "
                           f"languages.", lang="en", primary="true")
    indexes = sub(explain, "indexInfo")
    for cset, identifier in cql.CONTEXT_SETS.items():
        sub(indexes, "set", name=cset, identifier=identifier)
    for key, idx in cql.INDEXES.items():
        el = sub(indexes, "index", search="true", scan="false",
                 sort="true" if idx.sort != (None, None) else "false")
        sub(el, "title", idx.title, lang="en")
        sub(sub(el, "map"), "name", cql.INDEX_NAMES.get(key, key[1]), set=key[0])
    schemas = sub(explain, "schemaInfo")
    for short, identifier, title, location in (
            ("dc", DC_SCHEMA, "Simple Dublin Core", "http://www.loc.gov/standards/sru/recordSchemas/dc-schema.xsd"),
            ("pops", popsxml.NS, "POPs clearing-house record (native, lossless)",
             f"{url.scheme}://{url.netloc}/oai/schemas/pops.xsd")):
        el = sub(schemas, "schema", identifier=identifier, name=short, location=location, sort="false",
                 retrieve="true")
        sub(el, "title", title, lang="en")
    config = sub(explain, "configInfo")
    sub(config, "default", DEFAULT_RECORDS, type="numberOfRecords")
    sub(config, "default", "dc", type="retrieveSchema")
    sub(config, "default", "cql", type="contextSet")
    sub(config, "default", "serverChoice", type="index")
    sub(config, "setting", MAX_RECORDS, type="maximumRecords")
    for relation in ("=", "==", "<>", "<", ">", "<=", ">=", "adj", "all", "any", "exact", "within"):
        sub(config, "supports", relation, type="relation")
    for modifier in ("ignoreCase", "ignoreAccents"):
        sub(config, "supports", modifier, type="relationModifier")
    sub(config, "supports", "sortBy", type="sort")
    return explain


# ----------------------------------------------------------------------------------------------- HTTP

router = APIRouter(tags=["sru"])

_DOC = """SRU 1.2 and 2.0 (version parameter): searchRetrieve with a CQL `query`, `startRecord`,
`maximumRecords` (at most 100), `recordSchema` dc or pops, `recordPacking`/`recordXMLEscaping` xml or
string, `sortKeys`; explain (a ZeeRex record). Errors are SRU diagnostics in an HTTP 200 response."""
_XML = {200: {"content": {"application/sru+xml": {}, "text/xml": {}}, "description": "An SRU response"}}


@router.get("/sru", summary="SRU 1.2 / 2.0 search (CQL)", description=_DOC, operation_id="sru_get",
            response_class=Response, responses=_XML)
async def sru_get(request: Request):
    return await _sru(request)


@router.post("/sru", summary="SRU 1.2 / 2.0 search (CQL, form-encoded parameters)", description=_DOC,
             operation_id="sru_post", response_class=Response,
             responses={**_XML, 400: {"model": ErrorBody, "description": "A body that is not UTF-8"},
                        413: {"model": ErrorBody, "description": f"A body over {MAX_POST_BYTES} bytes"}})
async def sru_post(request: Request):
    return await _sru(request)


async def _sru(request: Request) -> Response:
    if request.method == "POST":
        body = await bounded_body(request, MAX_POST_BYTES, "an SRU")
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise HTTPException(400, "an SRU request body must be UTF-8 form-encoded parameters") from None
        pairs += list(request.query_params.multi_items())
    else:
        pairs = list(request.query_params.multi_items())
    state = request.app.state.node
    base_url = str(request.url.replace(query="", fragment=""))
    accept = request.headers.get("accept", "")
    xml, media = await run_in_threadpool(
        lambda: respond(params_of(pairs), state.index(), state.store(), state.cfg, base_url, accept))
    return Response(xml, status_code=200, media_type=f"{media}; charset=utf-8")
