"""The Solr search backend: Apache Solr 9, a standalone core or a SolrCloud collection, through pysolr.

    index = SolrBackend({"url": "http://127.0.0.1:8983/solr/pops"}, store)             # standalone core
    index = SolrBackend({"zk_hosts": "127.0.0.1:9983/solr", "collection": "pops"})      # SolrCloud (kazoo)
    index.upsert(records); index.commit()
    res = index.search(Query("多氯联苯", filters={"countries": ["KE", "TZ"]}, facets=["type"]))

Settings (the config's ``index.solr``): ``url`` (a core's URL) or ``zk_hosts`` + ``collection`` (a
collection or an alias); ``timeout`` (seconds per request, default 30); ``configset`` (the configset a
rebuild creates its new core from, default ``pops``; a collection's own configset is reused).

Documents are :func:`harvester.index.to_document` plus, for each text field, the texts of all its languages
in one value, one per line, in ``title_fold``, ``description_fold``, ``keywords_fold`` and ``other_fold``
(``text_fold`` in the schema: the folding of embedded.prepare, the same for every language) and an
always-present ``title_sort``. Those four fields are what a query matches, ranks and highlights, so both
backends find the same records for the same text (the configset's per-language fields, stemmed, serve
suggestions and direct Solr queries). A value that would not fit its field's type (a date that does not
exist, articles as text) is made to fit or left out: Solr would refuse the whole update request for it, and
the index could never catch up with the store. The record itself is stored whole in ``record_json``.

Queries: the user's text only ever reaches Solr as ``q``, and only as quoted phrases of letters and digits
(the terms of :func:`plan_query`), parsed by edismax (locked by invariants in solrconfig.xml)::

    +"t1" +"t2"                                                  no chemical named
    ( +"t1" +"t2" ) OR ( +( chemicals:"c"^0 text_fold:"name" ... ) +text_fold:"residual" ... )

with ``qf=title_fold^10 description_fold^4 keywords_fold^2 other_fold^1``. A record found only through
its ``chemicals`` scores 0, as in the embedded backend. Filters are ``fq={!term f=FIELD}value`` (one value)
or ``{!terms f=FIELD separator=S}aSb`` (several; S a character no value holds, else one ``{!term}`` per
value through parameters); facets are Solr's field facets (mincount 1, at most FACET_LIMIT values, then
ordered by count and value). Sorts are ``score desc, id asc`` (relevance),
``sort_dt desc, id desc`` (newest), ``sort_dt asc, id asc`` (oldest), ``title_sort asc, id asc`` (title),
``recent_dt desc, id desc`` (recent; ``recent_dt`` is a ``*_dt`` dynamic field, so an older configset needs no
change, but documents indexed before it existed sort as 1970 until ``pops-chm reindex``). A boolean query
(``Query.where``) is one more ``fq={!lucene}...`` (:func:`where_query`): fields of this module's choosing,
values only as quoted phrases.

Paging: a page asked for by offset uses ``start``; ``next_cursor`` is the interface's opaque cursor over the
last hit's sort values and id, and continuing from it sends Solr the equivalent ``cursorMark`` (Solr's
cursor: the same sort values, JavaBin-serialised), so deep pages cost what the first does.

Highlights: the unified highlighter marks, in the whole stored value of each ``*_fold`` field, every phrase
of the query and of the chemicals' names (``hl.q``: each phrase on its own, as FTS5's highlight() marks
them), with ``<mark>`` tags and everything else HTML-escaped by Solr (``/`` as ``&#x2F;``); the marks are
read back as spans of the original text, adjacent marks joined, and rendered per language as the embedded
backend renders its own (whole titles and keywords, a window around the first match of a description).

``indexed_seq`` is kept in the store's meta table under ``index.solr.seq:<core URL or zk/collection>``
when the backend is given the store (in memory otherwise). :meth:`SolrBackend.rebuild_swap` rebuilds into
a new core (CoreAdmin SWAP) or collection (an alias moved with CREATEALIAS) while searches keep answering
from the old one.

Errors talking to Solr raise :class:`harvester.index.SearchUnavailable` naming the URL (a closed port fails
at once: the connect timeout is at most 5 seconds); a query Solr refuses because of a forged cursor raises
ValueError.
"""
from __future__ import annotations

import base64
import json
import logging
import math
import re
import struct
import threading
import time
import uuid
from urllib.parse import urlencode, urlsplit

import pysolr
import requests

from . import (FACET_LIMIT, TEXT_FIELDS, Backend, Hit, Query, QueryPlan, Results, SearchUnavailable,
               NO_DATE, NOTHING, And, Equals, Not, Or, Range, Words, decode_cursor, encode_cursor, fit_datetime,
               hit_from_record, index_lag, plan_query, sort_date, stored_record, to_document, word_plan)
from .embedded import _join, _segments, _split_span, field_snippets

_PYSOLR_LOG = logging.getLogger("pysolr")
_NO_CLUSTER_STATE = "No cluster state available"


def _pysolr_log_filter(record: logging.LogRecord) -> bool:
    # pysolr logs every failed request with its traceback, then raises; this module raises it again as
    # SearchUnavailable (one line naming Solr's URL) and its callers report that, so those log records go.
    if record.levelno >= logging.ERROR:
        return False
    # pysolr's ZooKeeper client watches /clusterstate.json, which Solr 9 no longer writes (each collection
    # has its own state.json, which it reads too): every connection warns of a cluster state that is not
    # missing. Kept for debugging only.
    if record.getMessage().startswith(_NO_CLUSTER_STATE):
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return _PYSOLR_LOG.isEnabledFor(logging.DEBUG)
    return True


_PYSOLR_LOG.addFilter(_pysolr_log_filter)

META_SEQ = "index.solr.seq:"
DEFAULT_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0

QF = "title_fold^10 description_fold^4 keywords_fold^2 other_fold^1"
FOLD_FIELDS = tuple(f"{name}_fold" for name in TEXT_FIELDS)
FL = "id,score,record_json,sort_dt,title_sort,recent_dt"
SORTS = {
    "relevance": "score desc,id asc",
    "newest": "sort_dt desc,id desc",
    "oldest": "sort_dt asc,id asc",
    "title": "title_sort asc,id asc",
    "recent": "recent_dt desc,id desc",
}
HL_MAX_CHARS = 200_000          # a field's text beyond this many characters is not highlighted
MAX_START = 2**31 - 1 - 1024    # Solr's start + rows is an int
_DATE_FIELDS = ("deadline", "datestamp", "harvested", "issued")
_SOLR_DATE = re.compile(r"(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_HTTP_STATUS = re.compile(r"\(HTTP (\d{3})\)")
_SEPARATORS = (",", "|", ";", "~", "^", "\u0001", "\u0002", "\u0003")


class _Refused(Exception):
    """Solr answered 4xx: the request itself was refused (not that Solr is unavailable)."""


def _status_of(err: Exception) -> int | None:
    m = _HTTP_STATUS.search(str(err))
    return int(m.group(1)) if m else None


def _translate(err: pysolr.SolrError, url: str) -> Exception:
    status = _status_of(err)
    if status is not None and 400 <= status < 500 and status not in (404, 408, 429):
        return _Refused(str(err))
    return SearchUnavailable(f"Solr at {url} is unavailable: {err}")


class _Standalone(pysolr.Solr):
    """pysolr.Solr whose errors say whether Solr refused the request or could not be reached."""

    def _send_request(self, method, path="", body=None, headers=None, files=None):
        try:
            return super()._send_request(method, path, body, headers, files)
        except pysolr.SolrError as err:
            raise _translate(err, self.url) from None


class _Cloud(pysolr.SolrCloud):
    """pysolr.SolrCloud that retries only what may succeed on another node (not a refused request)."""

    def _send_request(self, method, path="", body=None, headers=None, files=None):
        last: Exception | None = None
        for attempt in range(self.retry_count):
            try:
                self.url = self.zookeeper.getRandomURL(self.collection)
                return pysolr.Solr._send_request(self, method, path, body, headers, files)
            except pysolr.SolrError as err:
                last = _translate(err, self.url)
                if isinstance(last, _Refused):
                    raise last from None
            time.sleep(self.retry_timeout * (attempt + 1))
        raise SearchUnavailable(f"Solr collection {self.collection} is unavailable after {self.retry_count} "
                                f"attempts: {last}")


# ----------------------------------------------------------------------------------------------- documents


def _json(obj) -> bytes:
    """JSON as UTF-8; text holding a lone surrogate (which UTF-8 cannot carry) is sent \\u-escaped instead."""
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_solr_date = fit_datetime   # a date as Solr takes it, or None


# The schema's type of each field to_document fills (text fields aside): a value Solr would refuse fails
# the whole update request, and the index could never catch up, so values are made to fit or left out.
_SINGLE_STRINGS = ("id", "origin_node", "source", "origin_source", "origin_identifier", "origin_format", "type",
                   "assistance_status", "dedup_key", "title_display", "title_sort", "record_json")
_MULTI_STRINGS = ("path", "chemicals", "countries", "regions", "languages", "assistance_kind",
                  "eligible_countries", "eligible_regions", "missing")


def _scalar_str(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _fit(doc: dict) -> dict:
    for name in _SINGLE_STRINGS:
        if name in doc:
            value = doc[name]
            if isinstance(value, list):
                value = next((v for v in value if _scalar_str(v)), None)
            value = _scalar_str(value)
            if value is None:
                del doc[name]
            else:
                doc[name] = value
    for name in _MULTI_STRINGS:
        if name in doc:
            values = [_scalar_str(v) for v in (doc[name] if isinstance(doc[name], list) else [doc[name]])]
            values = [v for v in values if v]
            if values:
                doc[name] = values
            else:
                del doc[name]
    if "year" in doc and not (isinstance(doc["year"], int) and -2**31 <= doc["year"] < 2**31):
        del doc["year"]
    if "articles" in doc:
        doc["articles"] = [a for a in doc["articles"] if isinstance(a, int) and not isinstance(a, bool)
                           and -2**31 <= a < 2**31]
        if not doc["articles"]:
            del doc["articles"]
    if "completeness" in doc:
        value = doc["completeness"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            del doc["completeness"]
    for name in _DATE_FIELDS:
        if name in doc:
            fixed = _solr_date(doc[name])
            if fixed:
                doc[name] = fixed
            else:
                del doc[name]
    return doc


def solr_document(record: dict) -> dict:
    """The Solr document of a record: :func:`to_document` with every value fitting its field's type, the
    ``*_fold`` columns and an always-present ``title_sort``."""
    doc = _fit(to_document(record))
    doc["sort_dt"] = _solr_date(sort_date(record)) or "0000-01-01T00:00:00Z"
    doc["recent_dt"] = _solr_date(doc.get("recent_dt")) or NO_DATE
    doc.setdefault("title_sort", "")        # to_document leaves an empty one out; it must sort first
    for name, segments in zip(TEXT_FIELDS, _segments(record)):
        if segments:
            doc[f"{name}_fold"] = _join(segments)[0]
    return doc


# ----------------------------------------------------------------------------------------------- queries


def _phrase(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def edismax_query(plan: QueryPlan) -> str:
    """The edismax ``q`` of a text query (see the module docstring): quoted phrases only."""
    terms = " ".join("+" + _phrase(t) for t in plan.terms)
    if not plan.chemicals:
        return terms
    # edismax reads an operator only at the start of a white-space separated clause: "( +x", never "(+x"
    either = " ".join([f"chemicals:{_phrase(c)}^0" for c in plan.chemicals]
                      + [f"text_fold:{_phrase(n)}" for n in plan.names])
    chem = f"+( {either} )" + "".join(f" +text_fold:{_phrase(r)}" for r in plan.residual)
    return f"( {terms} ) OR ( {chem} )"


def highlight_query(plan: QueryPlan) -> str:
    """The ``hl.q`` of a text query: every phrase of it on its own (OR), so that a field is marked wherever
    one of them occurs, as FTS5's highlight() marks every phrase of the expression (the ranking query would
    only mark a field that matches the whole query by itself). All on text_fold: with hl.requireFieldMatch
    off, each phrase marks every ``*_fold`` field, and one field makes a query four times smaller."""
    return " ".join(f"text_fold:{_phrase(p)}" for p in (*plan.terms, *plan.names))


def filter_query(name: str, values: list[str]) -> tuple[str, dict] | None:
    """The fq for one field's values (OR) and the parameters it refers to; None when none of the values can
    match (a year that is no number, text no index holds). Values follow the local params, never inside
    them."""
    if name == "year":
        values = [v for v in values if re.fullmatch(r"-?\d{1,9}", v)]
    values = [v for v in values if _encodable(v)]     # a lone surrogate is in no indexed value
    if not values:
        return None
    if len(values) == 1:
        return f"{{!term f={name}}}{values[0]}", {}
    sep = next((s for s in _SEPARATORS if not any(s in v for v in values)), None)
    if sep is not None:
        return f"{{!terms f={name} separator='{sep}'}}" + sep.join(values), {}
    # every separator occurs in some value: one term query per value, each in a parameter of its own
    refs = {f"fq_{name}_{i}": f"{{!term f={name}}}{v}" for i, v in enumerate(values)}
    return "{!bool " + " ".join(f"should=${ref}" for ref in refs) + "}", refs


_WHERE_FIELD = {"issued": "issued", "datestamp": "datestamp", "harvested": "recent_dt", "year": "year"}


def where_query(node) -> str:
    """A checked boolean query (harvester.index.check_where) as a Lucene query for ``fq={!lucene}...``: field
    names are this module's own, every value a quoted, escaped phrase (years and the normalised dates of
    ranges are checked before they get here), so nothing a user typed is ever query syntax. Words are phrases
    on the ``*_fold`` fields (scope any: ``text_fold``, which holds all four), as :func:`edismax_query`
    matches a query's text."""
    if isinstance(node, (And, Or)):
        if not node.items:
            return "*:*" if isinstance(node, And) else "(-*:*)"
        if isinstance(node, And):
            return "(" + " ".join("+" + where_query(item) for item in node.items) + ")"
        return "(" + " OR ".join(where_query(item) for item in node.items) + ")"
    if isinstance(node, Not):
        return f"(*:* -{where_query(node.item)})"      # a purely negative clause would match nothing
    if isinstance(node, Equals):
        if node.field == "year":
            return "year:(" + " OR ".join(str(int(v)) for v in node.values) + ")"
        return f"{node.field}:(" + " OR ".join(_phrase(v) for v in node.values) + ")"
    if isinstance(node, Range):
        field = _WHERE_FIELD[node.field]
        def bound(v):
            return "*" if v is None else str(int(v)) if node.field == "year" else _phrase(v)
        return (f"{field}:{'[' if node.low_inclusive else '{'}{bound(node.low)} TO "
                f"{bound(node.high)}{']' if node.high_inclusive else '}'}")
    if isinstance(node, Words):
        plan = word_plan(node)
        field = "text_fold" if node.scope == "any" else f"{node.scope}_fold"
        terms = "(" + " ".join(f"+{field}:{_phrase(t)}" for t in plan.terms) + ")"
        if not plan.chemicals:
            return terms
        either = " ".join([f"chemicals:{_phrase(c)}" for c in plan.chemicals]
                          + [f"text_fold:{_phrase(n)}" for n in plan.names])
        chem = f"+( {either} )" + "".join(f" +text_fold:{_phrase(r)}" for r in plan.residual)
        return f"({terms} OR ( {chem} ))"
    raise ValueError(f"not a checked boolean query: {node!r}")


# ----------------------------------------------------------------------------------------------- cursors


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (year 0 and before included)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _millis(value: str) -> int:
    m = _SOLR_DATE.fullmatch(value)
    if not m:
        raise ValueError("invalid cursor (use next_cursor from a previous result)")
    y, mo, d, h, mi, s, frac = m.groups()
    ms = int((frac or "0").ljust(3, "0")[:3])
    return ((_days_from_civil(int(y), int(mo), int(d)) * 24 + int(h)) * 60 + int(mi)) * 60_000 + int(s) * 1000 + ms


def _vint(n: int) -> bytes:
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _long(n: int) -> bytes:
    """A long as JavaBin writes it: SLONG (small, non-negative) or LONG."""
    if n & ~0x00FF_FFFF_FFFF_FFFF == 0:
        if n >= 0x0F:
            return bytes([0x60 | 0x10 | (n & 0x0F)]) + _vint(n >> 4)
        return bytes([0x60 | n])
    return bytes([7]) + struct.pack(">q", n)


def _tag(tag: int, size: int) -> bytes:
    return bytes([tag | size]) if size < 0x1F else bytes([tag | 0x1F]) + _vint(size - 0x1F)


def cursor_mark(sort: str, key: list) -> str:
    """Solr's cursorMark for continuing after the hit whose sort values are ``key`` (the sort field's value,
    then the id): the values JavaBin-serialised as Solr's CursorMark writes them (a float score, a date as
    a long of epoch milliseconds, strings), base64-encoded. ValueError for a key that does not fit the sort."""
    bad = ValueError("invalid cursor (use next_cursor from a previous result)")
    if len(key) != 2 or not isinstance(key[1], str):
        raise bad
    value, rid = key
    out = bytearray([2]) + _tag(0x80, 2)                      # JavaBin version 2, an array of two values
    if sort == "relevance":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise bad
        try:
            out += bytes([8]) + struct.pack(">f", float(value))  # FLOAT
        except (OverflowError, struct.error):
            raise bad from None
    elif sort in ("newest", "oldest", "recent"):
        if not isinstance(value, str):
            raise bad
        try:
            out += _long(_millis(value))                          # a date sorts as epoch milliseconds
        except (ValueError, struct.error):
            raise bad from None
    else:
        if not isinstance(value, str):
            raise bad
        raw = value.encode("utf-8", "surrogatepass")
        out += _tag(0x20, len(raw)) + raw                         # STR
    raw = rid.encode("utf-8", "surrogatepass")
    out += _tag(0x20, len(raw)) + raw
    return base64.b64encode(bytes(out)).decode()


def _cursor_key(sort: str, doc: dict) -> list:
    if sort == "relevance":
        return [float(doc.get("score") or 0.0), doc["id"]]
    if sort == "title":
        return [doc.get("title_sort") or "", doc["id"]]
    if sort == "recent":    # a document indexed before recent_dt existed: where Solr sorts a missing date
        return [doc.get("recent_dt") or "1970-01-01T00:00:00Z", doc["id"]]
    return [doc.get("sort_dt") or "0000-01-01T00:00:00Z", doc["id"]]


# ----------------------------------------------------------------------------------------------- highlights

_HL_PIECES = re.compile(r"(</?mark>)")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|#x27|#x2F|#\d{1,7});")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "#x27": "'", "#x2F": "/"}


def _unescape(text: str) -> str:
    """Undo exactly what Solr's HTML encoder did (no HTML5 remapping of numeric references)."""
    def one(m: re.Match) -> str:
        name = m.group(1)
        if name in _ENTITIES:
            return _ENTITIES[name]
        code = int(name[1:])
        return chr(code) if code <= 0x10FFFF else m.group(0)
    return _ENTITY.sub(one, text) if "&" in text else text


def marked_spans(highlighted: str) -> tuple[str, list[tuple[int, int]]]:
    """Solr's highlighted (HTML-escaped, ``<mark>``-tagged) text as the plain text and the spans marked in it,
    touching spans joined (Chinese and Japanese characters are marked one by one)."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    pos, start = 0, None
    for piece in _HL_PIECES.split(highlighted):
        if piece == "<mark>":
            start = pos
        elif piece == "</mark>":
            if start is not None and pos > start:
                if spans and spans[-1][1] == start:
                    spans[-1] = (spans[-1][0], pos)
                else:
                    spans.append((start, pos))
            start = None
        elif piece:
            text = _unescape(piece)
            plain.append(text)
            pos += len(text)
    return "".join(plain), spans


def highlights_from_solr(record: dict, fields: dict, lang: str | None = None) -> dict[str, list[str]]:
    """The HTML snippets of each text field from Solr's highlighting of the ``*_fold`` fields (whole values),
    rendered as the embedded backend renders its own: the interface's language first, at most
    SNIPPETS_PER_FIELD snippets per field."""
    want = (lang or "").replace("_", "-").split("-")[0].lower()
    out: dict[str, list[str]] = {}
    for name, segments in zip(TEXT_FIELDS, _segments(record)):
        snippets_in = fields.get(f"{name}_fold") or []
        if not snippets_in or not segments:
            continue
        plain, spans = marked_spans(snippets_in[0])
        text, layout = _join(segments)
        if not spans or not text.startswith(plain):      # the index holds other text: no marks at all
            continue
        spans = [part for s, e in spans for part in _split_span(text, s, e)]
        snippets = field_snippets(name, text, layout, spans, want)
        if snippets:
            out[name] = snippets
    return out


# ----------------------------------------------------------------------------------------------- backend


class SolrBackend(Backend):
    """A Solr core or SolrCloud collection as the node's search index (see the module docstring)."""

    name = "solr"

    def __init__(self, settings: dict, store=None):
        settings = dict(settings or {})
        self.url = (settings.get("url") or "").rstrip("/") or None
        self.zk_hosts = settings.get("zk_hosts") or None
        self.collection = settings.get("collection") or None
        if bool(self.url) == bool(self.zk_hosts):
            raise ValueError("index.solr needs either url (a core: http://host:8983/solr/pops) or zk_hosts and "
                             "collection (SolrCloud)")
        if self.zk_hosts and not self.collection:
            raise ValueError("index.solr: zk_hosts needs a collection")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"index.solr.url must be an http(s) URL of a core, not {self.url!r}")
        try:
            self.timeout = float(settings.get("timeout", DEFAULT_TIMEOUT))
        except (TypeError, ValueError):
            raise ValueError("index.solr.timeout must be a number of seconds") from None
        self.configset = settings.get("configset") or "pops"
        self.location = self.url or f"{self.zk_hosts}/{self.collection}"
        self.store = store
        self._settings = settings
        self._seq = 0
        self._lock = threading.RLock()
        self._client: pysolr.Solr | None = None
        self._zk: pysolr.ZooKeeper | None = None

    # ---------------------------------------------------------------- connection

    @property
    def _timeouts(self) -> tuple[float, float]:
        return (min(CONNECT_TIMEOUT, self.timeout), self.timeout)

    def _solr(self) -> pysolr.Solr:
        with self._lock:
            if self._client is None:
                if self.url:
                    self._client = _Standalone(self.url, timeout=self._timeouts)
                else:
                    self._client = _Cloud(self._zookeeper(), self.collection, timeout=self._timeouts,
                                          retry_count=3, retry_timeout=0.2)
            return self._client

    def _zookeeper(self) -> pysolr.ZooKeeper:
        with self._lock:
            if self._zk is None:
                self._zk = self._connect_zookeeper()
            return self._zk

    def _connect_zookeeper(self) -> pysolr.ZooKeeper:
        try:
            from kazoo.client import KazooClient
        except ImportError:
            raise SearchUnavailable("SolrCloud (index.solr.zk_hosts) needs kazoo: pip install kazoo") from None
        client = KazooClient(hosts=self.zk_hosts, timeout=self.timeout, read_only=True,
                             connection_retry={"max_tries": -1, "max_delay": 5},
                             command_retry={"max_tries": 3})
        try:
            client.start(timeout=min(self.timeout, 15.0))
        except Exception as err:  # noqa: BLE001  (kazoo's timeout, a bad host string...)
            client.stop()
            client.close()
            raise SearchUnavailable(f"ZooKeeper at {self.zk_hosts} is unavailable: {err}") from None
        zk = pysolr.ZooKeeper(self.zk_hosts, kazoo_client=client)
        deadline = time.monotonic() + min(self.timeout, 15.0)
        while True:     # the watches fill in the cluster state shortly after connecting
            try:
                if zk.getHosts(self.collection):
                    break
            except pysolr.SolrError:
                pass
            if time.monotonic() > deadline:
                client.stop()
                client.close()
                raise SearchUnavailable(f"SolrCloud at {self.zk_hosts} has no active replica of collection "
                                        f"{self.collection}")
            time.sleep(0.05)
        return zk

    def _request(self, method: str, path: str, params: dict | None = None, body: bytes | None = None):
        """A request to the core or collection (path relative to it); the decoded JSON answer."""
        query = urlencode({**(params or {}), "wt": "json"}, doseq=True)
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else None
        try:
            raw = self._solr()._send_request(method, f"{path}?{query}", body, headers)
        except _Refused as err:
            raise SearchUnavailable(f"Solr at {self.location} refused the request: {err}") from None
        return json.loads(raw)

    def _update(self, commands: bytes | str, **params) -> None:
        body = commands.encode("utf-8") if isinstance(commands, str) else commands
        self._request("post", "update", params, body)

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._client.session is not None:
                self._client.session.close()
            self._client = None
            if self._zk is not None:
                self._zk.zk.stop()
                self._zk.zk.close()
                self._zk = None

    # ---------------------------------------------------------------- writing

    def upsert(self, records: list[dict]) -> None:
        docs = [solr_document(r) for r in records]   # every record checked before anything is sent
        if docs:
            self._update(_json(docs))

    def delete(self, ids: list[str]) -> None:
        ids = [i for i in ids if isinstance(i, str) and i]
        if ids:
            self._update(_json({"delete": ids}))

    def commit(self) -> None:
        """A hard commit that opens a new searcher and waits for it: what came before is durable and seen."""
        self._update('{"commit": {"waitSearcher": true}}')

    def clear(self) -> None:
        self._update('{"delete": {"query": "*:*"}, "commit": {"waitSearcher": true}}')
        self.set_indexed_seq(0)

    # ---------------------------------------------------------------- store sequence

    @property
    def _meta_key(self) -> str:
        return META_SEQ + self.location

    def indexed_seq(self) -> int:
        """The store sequence the index has caught up to. Kept in the store (when given one); if the index
        turns out empty while the store has live records up to that sequence (a new or wiped core), 0."""
        seq = self._recorded_seq()
        if self.store is not None and seq > 0 and self.store.db.execute(
                "SELECT 1 FROM records WHERE deleted=0 AND seq<=? LIMIT 1", (seq,)).fetchone() \
                and self.count() == 0:
            return 0
        return seq

    def _recorded_seq(self) -> int:
        return self._seq if self.store is None else int(self.store.meta(self._meta_key, "0") or 0)

    def set_indexed_seq(self, seq: int) -> None:
        if self.store is None:
            self._seq = int(seq)
        else:
            self.store.set_meta(self._meta_key, str(int(seq)))

    # ---------------------------------------------------------------- reading

    def get(self, record_id: str) -> dict | None:
        """The record as indexed (real-time get: also what is not committed yet)."""
        if not isinstance(record_id, str) or not record_id or not _encodable(record_id):
            return None
        doc = self._request("get", "get", {"id": record_id, "fl": "record_json"}).get("doc")
        return stored_record(json.loads(doc["record_json"])) if doc and doc.get("record_json") else None

    def count(self) -> int:
        return int(self._request("get", "select", {"q": "", "rows": 0})["response"]["numFound"])

    def search(self, q: Query) -> Results:
        res = self._search(q)
        if self.store is not None:
            # the sequence the store records costs no request to Solr; only an empty answer asks Solr whether
            # the core itself is empty (a new one under the same address: a SolrCloud started anew)
            seq = self.indexed_seq() if res.total == 0 else self._recorded_seq()
            res.index_lag = index_lag(self, self.store, seq)
        return res

    def _search(self, q: Query) -> Results:
        q = q.checked()
        plan = plan_query(q.text)
        sort = q.effective_sort
        chems = list(plan.chemicals)
        after = decode_cursor(q.cursor, sort) if q.cursor else None
        mark = cursor_mark(sort, after) if after is not None else None
        empty = Results(0, [], {f: {} for f in q.facets}, None, chems, ids=[] if q.ids else None)
        if plan.match_none or q.where == NOTHING:
            return empty
        params: dict = {"q": "" if plan.match_all else edismax_query(plan), "qf": QF, "mm": "1", "pf": "", "pf2": "",
                        "pf3": "", "fl": FL, "sort": SORTS[sort], "rows": q.limit + 1 if q.limit else 0}
        fqs = []
        for name, values in q.filters.items():
            made = filter_query(name, values)
            if made is None:
                return empty
            fqs.append(made[0])
            params.update(made[1])
        if q.where is not None:
            fqs.append("{!lucene}" + where_query(q.where))
        if fqs:
            params["fq"] = fqs
        if self.zk_hosts:   # the same replicas for the same query: pages of one query see the same scores
            params["shards.preference"] = "replica.base:stable:hash:q"
        listing = dict(params, fl=",".join(["id", *q.facets]), sort="id asc", rows=q.ids) if q.ids else None
        if mark is not None:
            params["cursorMark"] = mark
        elif q.offset:
            if q.offset > MAX_START:
                params["rows"] = 0
            params["start"] = min(q.offset, MAX_START)
        if q.facets:
            params.update({"facet": "true", "facet.field": list(q.facets), "facet.limit": FACET_LIMIT,
                           "facet.mincount": 1, "facet.sort": "count"})
        highlight = q.highlight and q.limit > 0 and not plan.match_all
        if highlight:
            # each *_fold field whole (fragsize 0), marked with every phrase of hl.q, the names of chemicals
            # (on text_fold) included; read from the offsets in the postings
            params.update({"hl": "true", "hl.q": highlight_query(plan), "hl.fl": ",".join(FOLD_FIELDS),
                           "hl.fragsize": 0, "hl.snippets": 1, "hl.defaultSummary": "false",
                           "hl.requireFieldMatch": "false", "hl.queryFieldPattern": "*_fold",
                           "hl.weightMatches": "true", "hl.offsetSource": "POSTINGS",
                           "hl.maxAnalyzedChars": HL_MAX_CHARS})
        try:
            raw = self._solr().search(params.pop("q"), **params).raw_response
        except _Refused as err:
            if mark is not None:
                raise ValueError("invalid cursor (use next_cursor from a previous result)") from None
            raise SearchUnavailable(f"Solr at {self.location} refused the query: {err}") from None
        total = int(raw["response"]["numFound"])
        docs = raw["response"]["docs"]
        more = q.limit > 0 and len(docs) > q.limit
        docs = docs[: q.limit]
        hl = raw.get("highlighting") or {}
        hits: list[Hit] = []
        for doc in docs:
            record = json.loads(doc["record_json"])
            marks = highlights_from_solr(record, hl.get(doc["id"]) or {}, q.lang) if highlight else {}
            score = 0.0 if plan.match_all else float(doc.get("score") or 0.0)
            hits.append(hit_from_record(record, plan, score, q.lang, marks))
        facets = {}
        counts = (raw.get("facet_counts") or {}).get("facet_fields") or {}
        for name in q.facets:
            flat = counts.get(name) or []
            pairs = [(str(v), int(n)) for v, n in zip(flat[::2], flat[1::2]) if int(n) > 0]
            facets[name] = dict(sorted(pairs, key=lambda vn: (-vn[1], vn[0]))[:FACET_LIMIT])
        next_cursor = encode_cursor(sort, _cursor_key(sort, docs[-1])) if more and docs else None
        listed = self._listing(listing, q.facets) if listing else None
        return Results(total, hits, facets, next_cursor, chems, ids=listed)

    def _listing(self, params: dict, fields: list[str]) -> list[dict]:
        """The matches of a query's parameters in id order, each with its stored values of ``fields``."""
        params = dict(params)
        try:
            docs = self._solr().search(params.pop("q"), **params).raw_response["response"]["docs"]
        except _Refused as err:
            raise SearchUnavailable(f"Solr at {self.location} refused the query: {err}") from None
        out = []
        for doc in docs:
            values = {}
            for name in fields:
                got = doc.get(name)
                got = [str(v) for v in (got if isinstance(got, list) else [got]) if v not in (None, "")]
                if got:
                    values[name] = got
            out.append({"id": doc["id"], "facets": values})
        return out

    # ---------------------------------------------------------------- rebuilding without an empty index

    def rebuild_swap(self, store, progress=None, batch_size: int = 1000) -> int:
        """Index every live record of the store into a NEW core or collection, then switch to it in one
        step; searches keep answering from the old index until then. Returns the changes applied.

        Standalone: a core ``<name>_rebuild_<time>`` is created from the configset, filled, swapped with the
        live core (CoreAdmin SWAP: the configured core name now serves the new index) and the old index is
        unloaded with its directory. On failure the new core is unloaded and the live one is untouched.

        SolrCloud: a collection ``<name>_<time>`` with the shards, replicas and configset of the current one
        is created and filled, the alias ``<name>`` is pointed at it (CREATEALIAS, atomic in ZooKeeper) and
        the collection it pointed to before is deleted. The first time, when ``<name>`` is a real
        collection rather than an alias, the alias is created while that collection still exists (Solr
        resolves an alias before a collection of the same name, so requests move to the new collection at
        once) and the old collection is then deleted; from then on ``<name>`` is an alias."""
        from . import catch_up
        if self.url:
            return self._rebuild_core(store, progress, batch_size, catch_up)
        return self._rebuild_collection(store, progress, batch_size, catch_up)

    def _admin(self, base: str, path: str, params: dict, timeout: float = 180.0) -> dict:
        try:
            r = requests.get(f"{base}{path}", params={**params, "wt": "json"}, timeout=(CONNECT_TIMEOUT, timeout))
        except requests.RequestException as err:
            raise SearchUnavailable(f"Solr at {base} is unavailable: {err}") from None
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code != 200:
            msg = (body.get("error") or {}).get("msg") or r.text[:300]
            raise SearchUnavailable(f"Solr at {base}{path} {params.get('action', '')} failed ({r.status_code}): {msg}")
        return body

    def _rebuild_core(self, store, progress, batch_size, catch_up) -> int:
        from . import solr_runtime
        base, _, core = self.url.rpartition("/")
        if not core or not urlsplit(base).path.strip("/"):
            raise ValueError(f"cannot tell the core from index.solr.url {self.url!r}")
        fresh = f"{core}_rebuild_{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
        try:   # first the half-built core of a rebuild that was killed (Solr or this process), if any
            solr_runtime.unload_cores_matching(base, rf"{re.escape(core)}_rebuild_\d{{14}}_[0-9a-f]{{6}}")
            url = solr_runtime.create_core(base, fresh, config_set=self.configset)
        except solr_runtime.SolrRuntimeError as err:
            raise SearchUnavailable(str(err)) from None
        swapped = False
        try:
            applied, seq = self._fill({"url": url}, store, progress, batch_size, catch_up)
            self._admin(base, "/admin/cores", {"action": "SWAP", "core": core, "other": fresh})
            swapped = True
            self.set_indexed_seq(seq)
        finally:
            try:   # after a swap this is the old index; before it, the unfinished new one
                solr_runtime.unload_core(base, fresh, delete=True)
            except solr_runtime.SolrRuntimeError:
                if swapped:
                    raise
        return applied

    def _fill(self, where: dict, store, progress, batch_size, catch_up) -> tuple[int, int]:
        """Index the whole store into a fresh core or collection (``where`` overrides this backend's
        settings); returns the records applied and the store sequence it reached."""
        with SolrBackend({**self._settings, **where}) as target:
            applied = catch_up(target, store, batch_size=batch_size, progress=progress)
            target.commit()
            return applied, target.indexed_seq()

    def _live_node(self) -> str:
        zk = self._zookeeper()
        for node in sorted(zk.liveNodes or []):          # "127.0.0.1:8983_solr"
            hostport, _, context = node.partition("_")
            return f"http://{hostport}/{context.replace('%2F', '/')}".rstrip("/")
        raise SearchUnavailable(f"no live Solr node registered in ZooKeeper {self.zk_hosts}")

    def _rebuild_collection(self, store, progress, batch_size, catch_up) -> int:
        from . import solr_runtime
        base = self._live_node()
        name = self.collection
        aliases = self._admin(base, "/admin/collections", {"action": "LISTALIASES"}).get("aliases") or {}
        current = aliases.get(name, name)
        if "," in current:
            raise ValueError(f"alias {name} points at several collections ({current}); cannot rebuild it")
        state = self._admin(base, "/admin/collections", {"action": "CLUSTERSTATUS", "collection": current})
        coll = ((state.get("cluster") or {}).get("collections") or {}).get(current)
        if not coll:
            raise SearchUnavailable(f"SolrCloud at {self.zk_hosts} has no collection {current}")
        shards = coll.get("shards") or {}
        replicas = max((len(s.get("replicas") or {}) for s in shards.values()), default=1)
        config = coll.get("configName") or self.configset
        fresh = f"{name}_{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
        try:
            solr_runtime.create_collection(base, fresh, shards=max(1, len(shards)), replicas=replicas,
                                           config_name=config)
        except solr_runtime.SolrRuntimeError as err:
            raise SearchUnavailable(str(err)) from None
        switched = False
        try:
            applied, seq = self._fill({"collection": fresh}, store, progress, batch_size, catch_up)
            self._admin(base, "/admin/collections", {"action": "CREATEALIAS", "name": name, "collections": fresh})
            switched = True
        finally:
            if not switched:
                try:
                    solr_runtime.delete_collection(base, fresh)
                except solr_runtime.SolrRuntimeError:
                    pass
        self.set_indexed_seq(seq)
        self._wait_for_alias(name, fresh)
        self._admin(base, "/admin/collections", {"action": "DELETE", "name": current, "followAliases": "false"})
        return applied

    def _wait_for_alias(self, name: str, target: str, timeout: float = 15.0) -> None:
        """Until this client's view of ZooKeeper has the alias on its new collection."""
        zk = self._zookeeper()
        deadline = time.monotonic() + timeout
        while (zk.aliases or {}).get(name) != target or not zk.getHosts(target):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
