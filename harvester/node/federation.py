"""Federated search: this node's own index and every configured peer's search API, queried in parallel
under a time budget, merged into one page that says which nodes answered.

    from harvester.node.federation import federated_search
    out = federated_search(state, Query("PCB", facets=True, limit=10))
    out["results"]        # merged hits, each with "nodes": the nodes that had it (this node first)
    out["nodes"]          # [{"id", "url", "status", "total", "ms", "error"}, ...], this node first
    out["partial"]        # True when a node did not answer (timed out, failed or skipped)

What is asked of each node
    The same text, filters, facets, sort and language, with ``scope=local`` (a peer never fans out again),
    for the window ``offset + limit`` hits from offset 0 (at most :data:`MAX_WINDOW`, what a node serves in
    one page), so the merged page is exact for ``offset + limit <= MAX_WINDOW``; deeper pages are taken from
    the merged windows and are approximate (``page_exact`` is False). Cursor paging is per node: a query
    with a cursor is refused (ValueError). In the same request, when there are peers, each node lists the
    ids of its first :data:`~harvester.index.MAX_MATCH_IDS` matches in id order with their facet values
    (``ids``, see :mod:`harvester.index`): what the total and the facet counts are counted from.

Time
    Peers are contacted at the same time, from a shared pool of threads, while this node searches its own
    index in the calling thread. Each peer has its own ``timeout`` from the config (default
    :data:`DEFAULT_PEER_TIMEOUT` s) and the whole call a budget (``budget``, default: the largest peer
    timeout plus :data:`MERGE_ALLOWANCE`, at most :data:`MAX_BUDGET`); a peer that has not answered by
    ``min(its timeout, the budget)`` is reported ``timed_out`` and left behind; one whose connection is
    refused fails at once. Nothing a peer does raises to the caller.

Cool-down
    A peer that fails or times out :data:`FAILURES_BEFORE_COOLDOWN` times in a row is not contacted for
    :data:`COOLDOWN_SECONDS` and is reported ``skipped``; the first call after the cool-down tries it again
    (one more failure starts a new cool-down, an answer resets it). The state lives in the process, per
    node app (:func:`health_of`), behind a lock.

Untrusted answers
    A peer's answer is data: no redirect to another host is followed (same host: at most
    :data:`MAX_REDIRECTS`), the body is read up to :data:`MAX_RESPONSE_BYTES` (compressed bodies are
    decompressed within the same bound), the JSON must have the search API's shape, at most the window of
    hits is kept, a hit without a usable id is dropped, every field is type-checked and cut to size, links
    keep only http(s)/ftp URLs, and highlight snippets are re-escaped so only ``<mark>`` survives.

Merge
    Dedup: hits are one per record id (a record keeps its origin id wherever it travels). The copy kept is
    the one ranked highest by the node that had it (ties: this node, then peers in config order); its
    ``nodes`` lists every node that had it, in node order.

    Order, by the query's effective sort:

    * ``relevance``: interleaved by rank. Scores are not comparable between nodes (BM25 depends on each
      index's own collection statistics, and FTS5 and Solr score differently), ranks are: every node was
      asked for the same window, so position *r* in one node's list is weighed like position *r* in
      another's. Hits are ordered by (rank, node order): the first hit of every node, then the second of
      every node, and so on (round robin, this node first).
    * ``title``: by the index's own title key (:func:`harvester.index.title_sort` of the hit's title, then
      id), which every node computes the same way: exact.
    * ``newest`` / ``oldest``: hits carry the year, not the full date a node sorts on, so the lists are
      merged (k-way, each node's own order kept) on the year; a hit without a year takes the year of the
      hit before it in its node's list; ties go by rank, then node order.

    Then ``offset`` and ``limit`` are applied to the merged list.

    A hit's ``nodes`` are every node that listed its id or had it in its window.

Counting (:func:`count_distinct`)
    ``total`` and the facet counts count distinct records: a record held by several nodes once, with the
    facet values of the first node (in node order) that lists it. They do not depend on the page: page 1, 2
    and 3 of a query give the same total. When every node listed all its matches (at most MAX_MATCH_IDS
    each), they are exact over the nodes that answered (``total_exact``; with a node that did not answer, a
    lower bound, and ``total_reason`` says which nodes are missing). When a node has more matches than it
    listed, the listings are compared up to the *horizon*, the smallest last id of a cut listing (below it
    every node's listing is complete, since all are in id order), exactly; beyond it, each node's matches
    (its total, or its facet count, less what it listed below the horizon) are added up at the share of
    distinct records found below the horizon, kept between the largest node's part (all of them the same
    records) and their sum (no record shared). ``total_exact`` is False and ``total_reason`` says why and
    gives those bounds. A node that lists no ids (another program) has its records counted in full.
    ``duplicates`` counts the copies beyond the first among the ids listed. Facets: most frequent first, at
    most FACET_LIMIT values per field.
"""
from __future__ import annotations

import heapq
import html
import json
import math
import re
import threading
import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor, wait, FIRST_COMPLETED
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from .. import __version__
from collections import Counter

from ..index import FACET_LIMIT, MAX_LIMIT, MAX_MATCH_IDS, MAX_QUERY_CHARS, Query, query_chemicals, title_sort

DEFAULT_PEER_TIMEOUT = 3.0
"""Seconds a peer gets when the config gives it no ``timeout``."""
MAX_BUDGET = 10.0
"""The longest a federated search waits for peers, whatever their timeouts."""
MERGE_ALLOWANCE = 0.25
"""Added to the largest peer timeout for the default budget: time to merge and answer."""
MAX_WINDOW = MAX_LIMIT
"""Hits asked of each node at most (one page of its API)."""
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
"""A peer's answer larger than this (decompressed) is refused."""
MAX_REDIRECTS = 3
FAILURES_BEFORE_COOLDOWN = 3
COOLDOWN_SECONDS = 60.0
POOL_THREADS = 64

USER_AGENT = f"pops-chm/{__version__} (POPs clearing-house node federated search)"

ANSWERED, TIMED_OUT, FAILED, SKIPPED = "answered", "timed_out", "failed", "skipped"

# caps on what a peer's hit may hold
_MAX_ID = 512
_MAX_SHORT = 200          # tokens, codes, ids in lists
_MAX_TEXT = 2000          # titles, descriptions, snippets
_MAX_ITEMS = 200          # items of a list field
_MAX_LANGS = 50           # languages of a title
_MAX_LINKS = 50
_MAX_SNIPPETS = 10        # highlight snippets per field
_MAX_ERROR = 300          # characters of an error message shown
_MAX_TOTAL = 10 ** 12

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TOKEN = re.compile(r"^[^\s]+$")
_LINK_URL = re.compile(r"^(https?|ftp)://[^\s]+$", re.IGNORECASE)
_LINK_RELS = {"landing", "file", "service", "related"}
_MARK = re.compile(r"(</?mark>)")
_TEXT_FIELDS = ("title", "description", "keywords", "other")


# ----------------------------------------------------------------------------------------------- peer health


@dataclass
class _PeerState:
    failures: int = 0
    skip_until: float = 0.0
    last_error: str | None = None


class PeerHealth:
    """Consecutive failures per peer, and the cool-down they trigger. Thread-safe."""

    def __init__(self, failures_before_cooldown: int = FAILURES_BEFORE_COOLDOWN,
                 cooldown: float = COOLDOWN_SECONDS, clock=time.monotonic):
        self.failures_before_cooldown = failures_before_cooldown
        self.cooldown = cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self._peers: dict[tuple[str, str], _PeerState] = {}

    def skip_reason(self, key: tuple[str, str]) -> str | None:
        """Why the peer is not to be contacted now, or None when it is."""
        with self._lock:
            st = self._peers.get(key)
            if st is None or st.skip_until <= self.clock():
                return None
            left = st.skip_until - self.clock()
            return (f"skipped for another {left:.0f} s after {st.failures} failures in a row"
                    + (f" (last: {st.last_error})" if st.last_error else ""))

    def record(self, key: tuple[str, str], ok: bool, error: str | None = None) -> None:
        with self._lock:
            st = self._peers.setdefault(key, _PeerState())
            if ok:
                st.failures, st.skip_until, st.last_error = 0, 0.0, None
                return
            st.failures += 1
            st.last_error = error
            if st.failures >= self.failures_before_cooldown:
                st.skip_until = self.clock() + self.cooldown

    def snapshot(self) -> dict[str, dict]:
        """{"<id> <url>": {"failures", "skipped_for"}}: for status pages and tests."""
        with self._lock:
            now = self.clock()
            return {f"{k[0]} {k[1]}": {"failures": s.failures, "skipped_for": max(0.0, s.skip_until - now)}
                    for k, s in self._peers.items()}


_HEALTH_LOCK = threading.Lock()


def health_of(state) -> PeerHealth:
    """The peer health of a node app (created on first use, kept on ``state.federation_health``)."""
    health = getattr(state, "federation_health", None)
    if health is None:
        with _HEALTH_LOCK:
            health = getattr(state, "federation_health", None)
            if health is None:
                health = PeerHealth()
                state.federation_health = health
    return health


# ----------------------------------------------------------------------------------------------- the pool

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_SESSIONS = threading.local()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="federation")
    return _POOL


def _session() -> requests.Session:
    """One HTTP session (and its kept-alive connections) per pool thread: sessions are not shared."""
    s = getattr(_SESSIONS, "session", None)
    if s is None:
        s = _SESSIONS.session = requests.Session()
        s.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "identity"})
        s.max_redirects = MAX_REDIRECTS
    return s


# ----------------------------------------------------------------------------------------------- answers


@dataclass
class _Answer:
    status: str
    total: int | None = None
    hits: list[dict] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    query_chemicals: list[str] | None = None
    listing: list[tuple[str, dict[str, list[str]]]] | None = None   # (id, facet values), in id order
    error: str | None = None
    seconds: float = 0.0
    finished: float = 0.0     # time.monotonic() when the answer was complete


class _PeerError(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def _short(text, limit: int = _MAX_ERROR) -> str:
    text = _CONTROL.sub(" ", str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _peer_params(q: Query, window: int) -> list[tuple[str, str]]:
    params = [("q", q.text[:MAX_QUERY_CHARS]), ("sort", q.sort), ("limit", str(window)), ("offset", "0"),
              ("scope", "local"), ("ids", str(MAX_MATCH_IDS))]
    for name, values in q.filters.items():
        params.extend(("filter", f"{name}:{v}") for v in values)
    if q.facets:
        params.append(("facets", "true"))
    if q.lang:
        params.append(("lang", q.lang))
    return params


def _same_host(a: str, b: str) -> bool:
    return (urlsplit(a).hostname or "").lower() == (urlsplit(b).hostname or "").lower()


def _read_body(resp: requests.Response, deadline: float) -> bytes:
    """The body, decompressed if need be, within MAX_RESPONSE_BYTES and the deadline."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _PeerError(FAILED, f"answer of {int(declared)} bytes exceeds the limit of {MAX_RESPONSE_BYTES}")
    encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    elif encoding in ("", "identity"):
        decoder = None
    else:
        raise _PeerError(FAILED, f"answer in an unsupported encoding {_short(encoding, 40)!r}")
    out = bytearray()
    while True:
        if time.monotonic() > deadline:
            raise _PeerError(TIMED_OUT, "answer not complete in time")
        chunk = resp.raw.read(64 * 1024, decode_content=False)
        if not chunk:
            break
        if decoder is not None:
            try:
                chunk = decoder.decompress(chunk, MAX_RESPONSE_BYTES + 1 - len(out))
            except zlib.error:
                raise _PeerError(FAILED, "answer is not valid compressed data") from None
        out += chunk
        if len(out) > MAX_RESPONSE_BYTES:
            raise _PeerError(FAILED, f"answer exceeds the limit of {MAX_RESPONSE_BYTES} bytes")
    return bytes(out)


def _ask_peer(url: str, params: list[tuple[str, str]], deadline: float, window: int,
              facet_fields: list[str]) -> _Answer:
    """Run in a pool thread: one peer's answer, never an exception."""
    answer = _query_peer(url, params, deadline, window, facet_fields)
    answer.finished = time.monotonic()
    return answer


def _query_peer(url: str, params: list[tuple[str, str]] | None, deadline: float, window: int,
                   facet_fields: list[str]) -> _Answer:
    t0 = time.monotonic()
    try:
        target = url.rstrip("/") + "/api/search"
        session = _session()
        for _hop in range(MAX_REDIRECTS + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise _PeerError(TIMED_OUT, "no answer in time")
            with _get(session, target, params, left) as resp:
                if resp.is_redirect:
                    nxt = urljoin(target, resp.headers.get("Location", ""))
                    if not _same_host(nxt, target):
                        raise _PeerError(FAILED, f"redirected to another host ({_short(urlsplit(nxt).hostname, 80)}); "
                                                 "not followed")
                    target, params = nxt, None
                    continue
                body = _read_body(resp, deadline)
                if resp.status_code != 200:
                    raise _PeerError(FAILED, f"HTTP {resp.status_code}" + _error_of(body))
                answer = _parse_answer(body, window, facet_fields)
                answer.seconds = time.monotonic() - t0
                return answer
        raise _PeerError(FAILED, f"more than {MAX_REDIRECTS} redirects")
    except _PeerError as exc:
        return _Answer(exc.status, error=str(exc), seconds=time.monotonic() - t0)
    except requests.Timeout:
        return _Answer(TIMED_OUT, error="no answer in time", seconds=time.monotonic() - t0)
    except requests.ConnectionError as exc:
        return _Answer(FAILED, error=_connection_error(exc), seconds=time.monotonic() - t0)
    except (urllib3.exceptions.TimeoutError, TimeoutError):        # while reading the body
        return _Answer(TIMED_OUT, error="answer not complete in time", seconds=time.monotonic() - t0)
    except (urllib3.exceptions.ProtocolError, OSError):
        return _Answer(FAILED, error="connection dropped in the middle of the answer", seconds=time.monotonic() - t0)
    except Exception as exc:  # a peer must never break the search
        return _Answer(FAILED, error=_short(f"{type(exc).__name__}: {exc}"), seconds=time.monotonic() - t0)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _closed_early(exc: Exception) -> bool:
    text = str(exc)
    return any(s in text for s in ("RemoteDisconnected", "without response", "Connection aborted",
                                   "Connection reset", "BrokenPipe", "Broken pipe"))


def _get(session: requests.Session, url: str, params, left: float) -> requests.Response:
    """GET, streamed, redirects not followed. A kept-alive connection the peer closed while it was idle (a
    race no client can avoid) is retried once on a new connection; a peer that never answered this thread
    before is not retried, so a failing peer costs one connection per search."""
    known = getattr(_SESSIONS, "answered", None)
    if known is None:
        known = _SESSIONS.answered = set()
    origin = _origin(url)
    deadline = time.monotonic() + left
    while True:
        try:
            resp = session.get(url, params=params, timeout=(left, left), stream=True, allow_redirects=False)
        except requests.ConnectionError as exc:
            left = deadline - time.monotonic()
            if origin in known and _closed_early(exc) and left > 0:
                known.discard(origin)
                continue
            raise
        known.add(origin)
        return resp


def _connection_error(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "RemoteDisconnected" in text or "without response" in text or "Connection aborted" in text:
        return "connection closed without an answer"
    if "Name or service not known" in text or "getaddrinfo" in text or "NameResolution" in text:
        return "host name not found"
    return "connection failed: " + _short(text, 200)


def _error_of(body: bytes) -> str:
    try:
        msg = json.loads(body[:10_000]).get("error")
    except Exception:
        return ""
    return f": {_short(msg, 200)}" if isinstance(msg, str) and msg else ""


# ----------------------------------------------------------------------------------------------- validation


def _parse_answer(body: bytes, window: int, facet_fields: list[str]) -> _Answer:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _PeerError(FAILED, "answer is not JSON") from None
    if not isinstance(data, dict):
        raise _PeerError(FAILED, "answer is not a JSON object")
    total, results = data.get("total"), data.get("results")
    if not _is_int(total) or total < 0:
        raise _PeerError(FAILED, "answer has no valid total")
    if not isinstance(results, list):
        raise _PeerError(FAILED, "answer has no results list")
    hits, seen = [], set()
    for raw in results[:window]:
        hit = clean_hit(raw)
        if hit is not None and hit["id"] not in seen:
            seen.add(hit["id"])
            hits.append(hit)
    qc = data.get("query_chemicals")
    qc = [c for c in qc[:_MAX_ITEMS] if _is_short(c)] if isinstance(qc, list) else None
    return _Answer(ANSWERED, total=min(total, _MAX_TOTAL), hits=hits,
                   facets=clean_facets(data.get("facets"), facet_fields), query_chemicals=qc,
                   listing=clean_listing(data.get("ids"), facet_fields))


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_short(v) -> bool:
    return isinstance(v, str) and 0 < len(v) <= _MAX_SHORT and not _CONTROL.search(v)


def _text(v, limit: int = _MAX_TEXT) -> str | None:
    if not isinstance(v, str):
        return None
    v = _CONTROL.sub(" ", v)
    return v if len(v) <= limit else v[: limit - 1] + "…"


def _short_list(v) -> list[str]:
    if not isinstance(v, list):
        return []
    return list(dict.fromkeys(x for x in v[:_MAX_ITEMS] if _is_short(x)))


def clean_snippet(snippet: str) -> str:
    """A highlight snippet from elsewhere made safe: every character escaped except <mark> and </mark>,
    which are kept balanced."""
    out, depth = [], 0
    for part in _MARK.split(snippet):
        if part == "<mark>":
            if depth == 0:
                out.append(part)
                depth = 1
        elif part == "</mark>":
            if depth == 1:
                out.append(part)
                depth = 0
        elif part:
            out.append(html.escape(html.unescape(part), quote=True))
    if depth:
        out.append("</mark>")
    return "".join(out)


def _usable_id(rid) -> bool:
    return isinstance(rid, str) and 0 < len(rid) <= _MAX_ID and bool(_TOKEN.match(rid)) and not _CONTROL.search(rid)


def clean_listing(raw, fields: list[str]) -> list[tuple[str, dict[str, list[str]]]] | None:
    """A node's ``ids`` as [(id, {field: values})] in id order, one per id, at most MAX_MATCH_IDS, only the
    facet fields asked for; entries without a usable id dropped; None when there is no list (a node that
    lists no ids)."""
    if not isinstance(raw, list):
        return None
    out: dict[str, dict[str, list[str]]] = {}
    for entry in raw[:MAX_MATCH_IDS]:
        if not isinstance(entry, dict) or not _usable_id(entry.get("id")):
            continue
        given = entry.get("facets") if isinstance(entry.get("facets"), dict) else {}
        values = {name: _short_list(given.get(name)) for name in fields}
        out.setdefault(entry["id"], {name: v for name, v in values.items() if v})
    return sorted(out.items())


def clean_hit(raw) -> dict | None:
    """A hit from a peer with the result shape's fields only, each type-checked and cut to size; None when
    it has no usable id."""
    if not isinstance(raw, dict):
        return None
    rid = raw.get("id")
    if not _usable_id(rid):
        return None
    title = {}
    if isinstance(raw.get("title"), dict):
        for lang, text in list(raw["title"].items())[:_MAX_LANGS]:
            text = _text(text, _MAX_TEXT)
            if _is_short(lang) and text:
                title[lang] = text
    links = []
    for link in raw.get("links") if isinstance(raw.get("links"), list) else []:
        if len(links) >= _MAX_LINKS:
            break
        if not isinstance(link, dict) or not isinstance(link.get("url"), str) or len(link["url"]) > _MAX_TEXT \
                or not _LINK_URL.match(link["url"]):
            continue
        clean = {"url": link["url"]}
        if link.get("rel") in _LINK_RELS:
            clean["rel"] = link["rel"]
        for key in ("format", "title", "language"):
            value = _text(link.get(key), _MAX_SHORT)
            if value:
                clean[key] = value
        links.append(clean)
    year = raw.get("year")
    score = raw.get("score")
    why = raw.get("why") if isinstance(raw.get("why"), dict) else {}
    highlights = {}
    if isinstance(why.get("highlights"), dict):
        for name, snippets in why["highlights"].items():
            if name in _TEXT_FIELDS and isinstance(snippets, list):
                kept = [clean_snippet(_text(s, _MAX_TEXT)) for s in snippets[:_MAX_SNIPPETS] if isinstance(s, str)]
                if kept:
                    highlights[name] = kept
    return {
        "id": rid,
        "identifier": _text(raw.get("identifier"), _MAX_ID) or "",
        "title": title,
        "description": _text(raw.get("description")) or "",
        "links": links,
        "chemicals": _short_list(raw.get("chemicals")),
        "countries": _short_list(raw.get("countries")),
        "regions": _short_list(raw.get("regions")),
        "languages": _short_list(raw.get("languages")),
        "type": raw["type"] if _is_short(raw.get("type")) else None,
        "year": year if _is_int(year) and 0 < year < 10000 else None,
        "origin_node": raw["origin_node"] if _is_short(raw.get("origin_node")) else None,
        "source": raw["source"] if _is_short(raw.get("source")) else None,
        "origin_source": raw["origin_source"] if _is_short(raw.get("origin_source")) else None,
        "path": _short_list(raw.get("path")),
        "score": float(score) if isinstance(score, (int, float)) and not isinstance(score, bool)
        and math.isfinite(score) else 0.0,
        "why": {"highlights": highlights, "chemicals": _short_list(why.get("chemicals"))},
    }


def clean_facets(raw, fields: list[str]) -> dict[str, dict[str, int]]:
    """A peer's facet counts for the fields asked: string values, whole counts of at least one, at most
    FACET_LIMIT values per field; anything else dropped."""
    out: dict[str, dict[str, int]] = {}
    if not isinstance(raw, dict):
        return out
    for name in fields:
        counts = raw.get(name)
        if not isinstance(counts, dict):
            continue
        clean = {}
        for value, n in list(counts.items())[:FACET_LIMIT]:
            if _is_short(value) and _is_int(n) and 0 < n <= _MAX_TOTAL:
                clean[value] = n
        out[name] = clean
    return out


# ----------------------------------------------------------------------------------------------- merge


def _merge_hits(lists: list[tuple[str, list[dict]]], sort: str, holders: dict[str, list[str]]) -> list[dict]:
    """The hits of several nodes (in node order, each in its own order) as one list in the sort's order,
    one per record id, each with "nodes": those that had it in their window or list it in ``holders``."""
    copies: dict[str, list[tuple[int, int]]] = {}   # id -> [(rank, node index)] in node order
    for ni, (_node, hits) in enumerate(lists):
        for rank, hit in enumerate(hits):
            copies.setdefault(hit["id"], []).append((rank, ni))
    keep = {rid: min(places) for rid, places in copies.items()}   # best rank, then node order
    order = [node for node, _hits in lists]

    streams = []
    for ni, (_node, hits) in enumerate(lists):
        kept = [(rank, hit) for rank, hit in enumerate(hits) if keep[hit["id"]] == (rank, ni)]
        years = _monotone_years([hit["year"] for _r, hit in kept], descending=sort == "newest")
        stream = []
        for (rank, hit), year in zip(kept, years):
            if sort == "title":
                key = (title_sort({"title": hit["title"]}), hit["id"])
            elif sort in ("newest", "oldest"):
                key = (year, rank, ni)
            else:
                key = (rank, ni)
            out = dict(hit)
            held = {lists[n][0] for _r, n in copies[hit["id"]]} | set(holders.get(hit["id"], ()))
            out["nodes"] = [node for node in order if node in held]
            stream.append((key, out))
        streams.append(stream)
    return [h for _k, h in heapq.merge(*streams, key=lambda kv: kv[0])]


def _monotone_years(years: list[int | None], descending: bool) -> list[float]:
    """Merge keys for a node's list in year order: ascending numbers (a descending sort negates the years);
    a missing year takes the key of the hit before it (leading ones: of the first hit with a year), and a
    year out of the node's own order is lifted to the running key, so the list stays sorted on its key."""
    keys = [(-y if descending else y) if y is not None else None for y in years]
    first = next((k for k in keys if k is not None), 0)
    out, running = [], first
    for k in keys:
        running = max(running, k if k is not None else running)
        out.append(running)
    return out


@dataclass
class Count:
    """Distinct records over the nodes that answered (:func:`count_distinct`)."""

    total: int
    facets: dict[str, dict[str, int]]
    holders: dict[str, list[str]]       # id -> the nodes that list it, in node order
    duplicates: int                     # copies beyond the first among the ids listed
    reason: str | None                  # why total and facets are estimates; None when exact


def count_distinct(answered: list[tuple[str, "_Answer"]], fields: list[str]) -> Count:
    """Count the distinct records of the nodes that answered (in node order), and their facet values, from
    their listings of ids (see "Counting" in the module docstring)."""
    cut = [(node, a) for node, a in answered if a.listing is None or len(a.listing) < (a.total or 0)]
    horizon = min((a.listing[-1][0] if a.listing else "" for _n, a in cut), default=None)
    kept: dict[str, dict[str, list[str]]] = {}        # below the horizon: id -> the first node's values
    holders: dict[str, list[str]] = {}
    below: list[tuple[int, Counter]] = []              # per node: ids and (field, value)s below the horizon
    copies = 0
    for node, a in answered:
        n, values_n = 0, Counter()
        for rid, values in a.listing or []:
            holders.setdefault(rid, []).append(node)
            copies += 1
            if horizon is None or rid <= horizon:
                n += 1
                values_n.update(_pairs(values))
                kept.setdefault(rid, values)
        below.append((n, values_n))
    counts = Counter(pair for values in kept.values() for pair in _pairs(values))
    total, reason = len(kept), None
    if horizon is not None:
        listed = sum(n for n, _c in below)
        share = len(kept) / listed if listed else 1.0
        beyond = [max(0, (a.total or 0) - n) for (_node, a), (n, _c) in zip(answered, below)]
        total = len(kept) + _spread(beyond, share)
        reported = {(f, v) for _node, a in answered for f, vals in a.facets.items() if f in fields for v in vals}
        for f, v in reported | set(counts):
            counts[(f, v)] += _spread([max(0, a.facets.get(f, {}).get(v, 0) - c[(f, v)])
                                       for (_node, a), (_n, c) in zip(answered, below)], share)
        reason = _estimate_reason(cut, len(kept) + max(beyond, default=0), len(kept) + sum(beyond))
    facets = {f: {} for f in fields}
    for (f, v), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1])):
        if n > 0 and f in facets and len(facets[f]) < FACET_LIMIT:
            facets[f][v] = n
    return Count(total, facets, holders, copies - len(holders), reason)


def _pairs(values: dict[str, list[str]]):
    return ((f, v) for f, vs in values.items() for v in vs)


def _spread(parts: list[int], share: float) -> int:
    """Distinct records among parts of several nodes, estimated at a share of distinct ones: at least the
    largest part (every other part the same records), at most their sum (none shared)."""
    return min(sum(parts), max(max(parts, default=0), round(share * sum(parts))))


def _estimate_reason(cut: list[tuple[str, "_Answer"]], low: int, high: int) -> str:
    why = [f"{node} has {a.total} matches, more than the {len(a.listing)} it listed by id" if a.listing is not None
           else f"{node} listed no ids of its matches" for node, a in cut]
    return (f"an estimate: {'; '.join(why)}; records held by several nodes are counted once among the ids "
            f"listed and estimated beyond them (between {low} and {high} in all)")


# ----------------------------------------------------------------------------------------------- search


def _default_budget(peers: list[dict]) -> float:
    longest = max([float(p.get("timeout") or DEFAULT_PEER_TIMEOUT) for p in peers] or [DEFAULT_PEER_TIMEOUT])
    return min(MAX_BUDGET, longest + MERGE_ALLOWANCE)


def federated_search(state, query: Query, budget: float | None = None) -> dict:
    """Search this node and every peer of ``state.cfg.peers`` at once and merge the answers (see the module
    docstring). Returns the search API's shape plus ``nodes`` (per node: id, url, status answered /
    timed_out / failed / skipped, total, ms, error), ``partial``, ``total_exact`` and ``total_reason`` (why
    the total and facets are a lower bound or an estimate, in plain words), ``total_is_estimate`` (not
    total_exact), ``duplicates``, ``page_exact`` and ``next_offset``. Raises ValueError only for a query that is wrong in itself (a
    cursor, an unknown field): never because of a node."""
    if query.cursor:
        raise ValueError("cursor paging is per node; use offset with scope=federation")
    q = query.checked()
    started = time.monotonic()
    cfg = state.cfg
    peers = list(cfg.peers or [])
    budget = _default_budget(peers) if budget is None else max(0.0, float(budget))
    deadline = started + budget
    window = min(q.offset + q.limit, MAX_WINDOW) if q.limit else 0
    sort = q.effective_sort
    facet_fields = list(q.facets) if q.facets else []
    health = health_of(state)

    # 1. peers: start every request
    params = _peer_params(replace(q, sort=sort), window)
    pending: list[tuple[dict, tuple[str, str], Future | None, float, str | None]] = []
    for peer in peers:
        key = (str(peer.get("id")), str(peer.get("url")))
        reason = health.skip_reason(key)
        if reason:
            pending.append((peer, key, None, 0.0, reason))
            continue
        peer_deadline = min(started + float(peer.get("timeout") or DEFAULT_PEER_TIMEOUT), deadline)
        try:
            fut = _pool().submit(_ask_peer, str(peer["url"]), params, peer_deadline, window, facet_fields)
        except Exception as exc:     # the pool refused (interpreter shutting down)
            fut = Future()
            fut.set_result(_Answer(FAILED, error=_short(f"not started: {exc}")))
        pending.append((peer, key, fut, peer_deadline, None))

    # 2. this node, meanwhile, in the calling thread
    t0 = time.monotonic()
    try:
        ids = MAX_MATCH_IDS if peers else 0       # alone, its own total and facets are exact already
        local = state.index().search(replace(q, offset=0, limit=window, cursor=None, ids=ids)).as_json()
        local_answer = _Answer(ANSWERED, total=int(local["total"]), hits=[dict(h) for h in local["results"]],
                               facets={k: dict(v) for k, v in (local.get("facets") or {}).items()
                                       if k in facet_fields},
                               query_chemicals=list(local.get("query_chemicals") or []),
                               listing=sorted((e["id"], e["facets"]) for e in local["ids"]) if ids else None)
    except ValueError:
        raise
    except Exception as exc:
        local_answer = _Answer(FAILED, error=_short(f"{type(exc).__name__}: {exc}"))
    local_answer.seconds = time.monotonic() - t0

    # 3. wait for the peers, each until its own deadline, all until the budget
    futures = {fut: dl for _p, _k, fut, dl, _r in pending if fut is not None}
    while True:
        now = time.monotonic()
        waiting = [f for f, dl in futures.items() if not f.done() and dl > now]
        if not waiting:
            break
        wait(waiting, timeout=max(0.0, min(futures[f] for f in waiting) - now), return_when=FIRST_COMPLETED)

    reports = [{"id": str(cfg.node.get("id")), "url": cfg.node.get("url"), "status": local_answer.status,
                "total": local_answer.total, "ms": round(local_answer.seconds * 1000, 1),
                "error": local_answer.error}]
    answered: list[tuple[str, _Answer]] = []
    if local_answer.status == ANSWERED:
        answered.append((reports[0]["id"], local_answer))
    for peer, key, fut, peer_deadline, reason in pending:
        report = {"id": key[0], "url": key[1], "status": SKIPPED, "total": None, "ms": 0.0, "error": reason}
        if fut is not None:
            if fut.done() and not fut.cancelled():
                try:
                    ans = fut.result()
                except Exception as exc:   # _ask_peer never raises; kept for safety
                    ans = _Answer(FAILED, error=_short(f"{type(exc).__name__}: {exc}"))
                if ans.status == ANSWERED and ans.finished > peer_deadline:
                    ans = _Answer(TIMED_OUT, error="answered too late", seconds=ans.seconds, finished=ans.finished)
            else:
                fut.cancel()
                timeout = float(peer.get("timeout") or DEFAULT_PEER_TIMEOUT)
                ans = _Answer(TIMED_OUT, error=f"no answer within {min(timeout, budget):g} s",
                              seconds=time.monotonic() - started)
            ms = ((ans.finished or time.monotonic()) - started) * 1000
            report.update(status=ans.status, total=ans.total, ms=round(ms, 1), error=ans.error)
            health.record(key, ans.status == ANSWERED, ans.error)
            if ans.status == ANSWERED:
                answered.append((key[0], ans))
        reports.append(report)

    # 4. merge
    if len(answered) > 1:
        count = count_distinct(answered, facet_fields)
    else:       # one node's own total and facets are exact, however many it holds
        only = answered[0][1] if answered else _Answer(FAILED, total=0)
        count = Count(only.total or 0, {f: dict(only.facets.get(f) or {}) for f in facet_fields}, {}, 0, None)
    total = count.total
    page = _merge_hits([(nid, a.hits) for nid, a in answered], sort, count.holders)[q.offset: q.offset + q.limit]
    missing = [f"{r['id']} ({r['status']})" for r in reports if r["status"] != ANSWERED]
    reasons = ([f"a lower bound: {', '.join(missing)} did not answer; their records are not counted"]
               if missing else []) + ([count.reason] if count.reason else [])
    chemicals = local_answer.query_chemicals if local_answer.status == ANSWERED else None
    if chemicals is None:
        try:
            chemicals = query_chemicals(q.text)
        except Exception:
            chemicals = []
    return {
        "total": total,
        "results": page,
        "facets": count.facets,
        "next_cursor": None,
        "next_offset": q.offset + q.limit if q.limit and q.offset + q.limit < total else None,
        "query_chemicals": chemicals,
        "nodes": reports,
        "partial": any(r["status"] != ANSWERED for r in reports),
        "total_exact": not reasons,
        "total_reason": "; ".join(reasons) or None,
        "total_is_estimate": bool(reasons),
        "duplicates": count.duplicates,
        "page_exact": q.offset + q.limit <= MAX_WINDOW,
        "sort": sort,
    }
