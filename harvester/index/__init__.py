"""The search backend interface: what every index of POPs records offers, whatever engine is underneath.

Two implementations: ``harvester.index.embedded.EmbeddedBackend`` (SQLite FTS5 in the store's own file, no
server) and ``harvester.index.solr.SolrBackend`` (Apache Solr, standalone or SolrCloud). Both pass the same
contract tests (tests/test_search_contract.py). Pick one from the config with :func:`open_backend`::

    from harvester.index import Query, open_backend, catch_up
    with Store(cfg.store_path) as store, open_backend(cfg, store) as index:
        catch_up(index, store)                        # index what the store changed since the last time
        res = index.search(Query("多氯联苯", filters={"countries": ["KE", "TZ"]}, facets=["type", "year"]))
        res.total                                     # 12
        res.hits[0].title                             # {"en": "PCB inventory of Kenya", "fr": "..."}
        res.hits[0].why                               # {"highlights": {"title": ["<mark>PCB</mark> inventory ..."]},
                                                      #  "chemicals": ["pcb"]}
        res.query_chemicals                           # ["pcb"]
        res.facets                                    # {"type": {"national_report": 7, ...}, "year": {"2019": 3, ...}}
        page2 = index.search(Query("多氯联苯", cursor=res.next_cursor))
        print(json.dumps(res.as_json()))              # what `pops-chm search --json` and the HTTP API print

Query semantics (both backends):

* The user's text is split at white space into *terms*; a term is the letters and digits of one such chunk,
  matched as a phrase (``PCB-containing`` -> the phrase "pcb containing"; Chinese and Japanese runs are
  matched character by character as a phrase, so 多氯联苯 is found inside 中国多氯联苯清单报告). Everything
  else a user types (quotes, ``*``, ``:``, parentheses, AND/OR/NOT/NEAR, ``{!...}``) is plain text, never
  query syntax: AND, OR and NOT are ordinary words that must occur like any other.
* A record matches when every term occurs in its text (title, description, keywords, other text, any
  language) - OR when it holds (in ``chemicals``) a chemical the query names, in any of the six languages,
  by name, synonym, abbreviation or CAS number (``enrich.recognise_chemicals``), and every term that is
  not part of that chemical's name occurs in its text ("PCB Kenya" -> records on PCBs that mention Kenya, in
  any language; "多氯联苯" alone -> every record on PCBs) - OR when its text names that chemical in another
  language and the remaining terms occur. :func:`plan_query` computes these parts for both backends.
* An empty query (nothing but white space) matches every record. A query with text but no letter or digit
  (``*``, ``"``, ``')--``, a NUL) matches nothing: it is never an error and never everything.
* Filters: ``{field: [values]}`` over :data:`FACET_FIELDS`; values OR within a field, fields AND together.
* Boolean queries: ``where`` holds a tree of :class:`And`, :class:`Or`, :class:`Not` over :class:`Words`
  (words in every text field or one of them, all, any or as a phrase; in every text field a chemical named
  also finds the records about it, as the text does), :class:`Equals` (a facet field or the id holds one of
  some values) and :class:`Range` (year; dates of issue, datestamps, when stored). It is ANDed with the text
  and the filters. :func:`check_where` validates it (known fields, scopes, dates; at most
  :data:`MAX_WHERE_DEPTH` deep, :data:`MAX_WHERE_NODES` conditions, :data:`MAX_WHERE_VALUES` values,
  :data:`MAX_WHERE_PHRASES` phrases) and simplifies it; words are only ever matched as phrases of letters and
  digits, values only as values, whatever they hold. Relevance needs text: a query with only ``where``
  sorts as ``newest``::

      Query("", where=And(Words("PCB", scope="title"), Or(Equals("countries", ("KE", "TZ")),
                                                          Not(Range("year", high=2015)))))
* Facets: counts per value over the whole matching set (filters applied), values with a count of at least
  one, most frequent first (then by value), at most :data:`FACET_LIMIT` values per field.
* Sorts: ``relevance`` (score, with title matches weighing more than description matches, and those more
  than keyword matches; ties in an order of the backend's choosing, the same on every page; a query without
  text sorts as ``newest``), ``newest`` (:func:`sort_date` descending, then id descending), ``oldest``
  (ascending, then id ascending), ``title`` (:func:`title_sort`, then id), ``recent`` (most recently stored
  in this node first: :func:`recent_date` descending, then id descending).
* Paging by ``offset``, or by ``cursor``: ``next_cursor`` (set whenever more hits follow, also on a page
  asked for by offset) continues after the last hit of the page without counting the hits before it, so it
  pages through any number of hits at the cost of the first page. A cursor belongs to the sort it was made
  with; an offset and a cursor together are refused. ``limit`` is capped at :data:`MAX_LIMIT`.
* Highlights: ``why["highlights"]`` maps a text field (title, description, keywords, other) to HTML
  snippets: the harvested text HTML-escaped, matches wrapped in ``<mark>..</mark>``, the rest of the text
  never trusted. ``Hit.title`` and ``Hit.description`` are plain text: escape them when showing them.
  ``why["chemicals"]`` lists the chemicals the query named that the record holds.
* Listing ids (``ids=N``, what federated search counts distinct records with): ``Results.ids`` holds the
  first N matching records in id order (code point order; at most :data:`MAX_MATCH_IDS`), each as
  ``{"id", "facets": {field: [values]}}`` with its values of the facet fields asked for; whatever the page,
  sort or offset, so the listing of a query is the same on every page. Fewer than ``total``: it was cut.

Indexing: ``upsert`` and ``delete`` are idempotent by record id; a batch is one transaction (embedded) or
one update request (Solr); ``commit()`` makes them visible (the embedded backend's writes are visible at
once). ``indexed_seq()`` is the store sequence number (``Store.max_seq``) the index has caught up to;
:func:`catch_up` moves it, :func:`rebuild` starts again from an empty index, :func:`index_status` says how
far the index lags behind the store.
"""
from __future__ import annotations

import base64
import binascii
import calendar
import json
import re
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable

FACET_FIELDS = ("type", "chemicals", "countries", "regions", "languages", "year", "source", "origin_node",
                "origin_source", "assistance_kind", "assistance_status")
"""The fields that can be filtered on and counted (facets). Values are strings (years too). ``source`` is the
source of this node the record came in by (its id in this node's config); ``origin_node`` and
``origin_source`` are where the record was made (``origin.node``, ``origin.source``: the source's id on
that node)."""

SOURCE_KEY = "_source"
"""The key :func:`catch_up` adds to each record it gives a backend: the store's source of the record (this
node's source id), which the ``source`` field holds. Not part of the record: :func:`stored_record` takes it
out again, so ``get()`` answers the record as stored. A record given without it is taken to have come in by
its origin's source id."""

SORTS = ("relevance", "newest", "oldest", "title", "recent")
TEXT_FIELDS = ("title", "description", "keywords", "other")
"""The text fields searched, in order of weight; highlights are keyed by these names."""

MAX_LIMIT = 100
"""Hits per page at most; a larger limit is lowered to this."""
FACET_LIMIT = 100
"""Values per facet field at most."""
MAX_QUERY_CHARS = 1000
"""Longer query text is cut here (at a word boundary)."""
MAX_TERMS = 32
"""Terms of a query beyond this many are ignored."""
MAX_MATCH_IDS = 1000
"""Ids a search lists at most (``Query.ids``)."""

# Language tag (primary subtag) -> suffix of the per-language text fields (title_txt_en, ...): the languages
# with their own analysis in Solr; Japanese and Korean share the CJK one; every other language is "und".
_LANG_SUFFIX = {"en": "en", "fr": "fr", "es": "es", "ru": "ru", "ar": "ar", "zh": "zh", "ja": "cjk", "ko": "cjk"}

# Ideographs, kana and the CJK compatibility ranges: written without spaces, searched by character.
CJK_CLASS = ("\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
             "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f")
_CJK = re.compile(f"[{CJK_CLASS}]")
_WORD = re.compile(f"[{CJK_CLASS}]|[^\\W_{CJK_CLASS}]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufff0-\uffff\ud800-\udfff]")
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # short vowels, tatweel


# ----------------------------------------------------------------------------------------------- query


@dataclass
class Query:
    """One search. ``filters`` maps a field of :data:`FACET_FIELDS` to the values wanted; ``facets`` is True
    (every facet field), False (none) or a list of fields; ``lang`` is the language of the query and of the
    user's interface (BCP 47), used to choose which language a snippet is shown in; ``where`` is a boolean
    query (:class:`And`, :class:`Or`, :class:`Not` over :class:`Words`, :class:`Equals`, :class:`Range`)
    that must hold as well."""

    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    facets: list[str] | bool = False
    sort: str = "relevance"
    limit: int = 10
    offset: int = 0
    cursor: str | None = None
    lang: str | None = None
    highlight: bool = True
    where: Any = None
    ids: int = 0

    def checked(self) -> "Query":
        """A copy with every part validated and normalised: filters as {field: [str, ...]} without empty
        values, facets as a list, limit within 0..MAX_LIMIT, ``where`` as :func:`check_where` makes it.
        Raises ValueError naming what is wrong."""
        text = self.text if isinstance(self.text, str) else ("" if self.text is None else str(self.text))
        if not isinstance(self.filters, dict):
            raise ValueError("filters must be a mapping of field -> list of values")
        filters: dict[str, list[str]] = {}
        for name, values in self.filters.items():
            if name not in FACET_FIELDS:
                raise ValueError(f"unknown filter field {name!r}; filterable fields: {', '.join(FACET_FIELDS)}")
            if values is None:
                continue
            if isinstance(values, (str, int)):
                values = [values]
            vals = list(dict.fromkeys(str(v).strip() for v in values if v is not None and str(v).strip()))
            if vals:
                filters[name] = vals
        if self.facets is True:
            facets = list(FACET_FIELDS)
        elif not self.facets:
            facets = []
        else:
            facets = [self.facets] if isinstance(self.facets, str) else list(self.facets)
            for name in facets:
                if name not in FACET_FIELDS:
                    raise ValueError(f"unknown facet field {name!r}; facet fields: {', '.join(FACET_FIELDS)}")
            facets = list(dict.fromkeys(facets))
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}; sorts: {', '.join(SORTS)}")
        try:
            limit, offset, ids = int(self.limit), int(self.offset), int(self.ids or 0)
        except (TypeError, ValueError):
            raise ValueError("limit, offset and ids must be whole numbers") from None
        if offset < 0:
            raise ValueError("offset must be 0 or more")
        if self.cursor and offset:
            raise ValueError("give an offset or a cursor, not both")
        cursor = self.cursor or None
        if cursor is not None and not isinstance(cursor, str):
            raise ValueError("invalid cursor (use next_cursor from a previous result)")
        return replace(self, text=text, filters=filters, facets=facets, limit=max(0, min(limit, MAX_LIMIT)),
                       offset=offset, cursor=cursor, where=check_where(self.where),
                       ids=max(0, min(ids, MAX_MATCH_IDS)))

    @property
    def effective_sort(self) -> str:
        """The sort actually applied: relevance means nothing without text, so it becomes newest."""
        if self.sort == "relevance" and plan_query(self.text).match_all:
            return "newest"
        return self.sort


@dataclass
class Hit:
    """One record found. ``title`` is the record's language -> text map and ``description`` a plain-text
    excerpt (both unescaped); ``why`` says why it matched: ``{"highlights": {field: [html, ...]},
    "chemicals": [id, ...]}``."""

    id: str
    identifier: str = ""
    title: dict[str, str] = field(default_factory=dict)
    description: str = ""
    links: list[dict] = field(default_factory=list)
    chemicals: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    type: str | None = None
    year: int | None = None
    origin_node: str | None = None
    source: str | None = None
    origin_source: str | None = None
    path: list[str] = field(default_factory=list)
    score: float = 0.0
    why: dict = field(default_factory=lambda: {"highlights": {}, "chemicals": []})

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class Results:
    total: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    next_cursor: str | None = None
    query_chemicals: list[str] = field(default_factory=list)
    index_lag: dict | None = None
    """Set when the index is behind the store it follows (:func:`index_lag`): the hits miss records."""
    ids: list[dict] | None = None
    """With ``Query.ids``: the first matching records in id order, ``{"id", "facets"}`` (module docstring)."""

    def as_json(self) -> dict:
        """``{"total", "results", "facets", "next_cursor", "query_chemicals"}``: what the CLI and API print;
        plus ``"index_lag": {"documents", "records", "behind"}`` when the index is behind the store, and
        ``"ids"`` when they were asked for."""
        out = {"total": self.total, "results": [h.as_json() for h in self.hits], "facets": self.facets,
               "next_cursor": self.next_cursor, "query_chemicals": self.query_chemicals}
        if self.index_lag:
            out["index_lag"] = self.index_lag
        if self.ids is not None:
            out["ids"] = self.ids
        return out

    def lag_warning(self) -> str | None:
        """What to tell the user when the index is behind the store, or None."""
        lag = self.index_lag
        if not lag:
            return None
        return (f"the index holds {lag['documents']} of {lag['records']} records ({lag['behind']} changes in the "
                "store not indexed yet); run pops-chm reindex")


# ----------------------------------------------------------------------------------------------- backend


class SearchUnavailable(RuntimeError):
    """The search engine could not be reached or failed to answer (Solr down, a timeout, ZooKeeper lost);
    the message names where. Never raised for what a user typed."""


class Backend(ABC):
    """A search index of POPs records. Use it as a context manager, or call close()."""

    name = "backend"

    @abstractmethod
    def upsert(self, records: list[dict]) -> None:
        """Add or replace records (by ``id``), all in one transaction or request. Idempotent."""

    @abstractmethod
    def delete(self, ids: list[str]) -> None:
        """Remove records by id; unknown ids are ignored. Idempotent."""

    @abstractmethod
    def commit(self) -> None:
        """Make every upsert and delete so far visible to search, and durable."""

    @abstractmethod
    def search(self, q: Query) -> Results:
        """Run a query (see the module docstring). Raises ValueError for a bad query (unknown field or sort,
        bad cursor), never for what a user typed as text."""

    @abstractmethod
    def get(self, record_id: str) -> dict | None:
        """The record as indexed, or None."""

    @abstractmethod
    def count(self) -> int:
        """How many records the index holds."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every record and set indexed_seq() back to 0."""

    @abstractmethod
    def indexed_seq(self) -> int:
        """The store sequence number whose changes, and all before it, the index holds (0: none)."""

    @abstractmethod
    def set_indexed_seq(self, seq: int) -> None:
        """Record that the index holds every store change up to ``seq``."""

    def close(self) -> None:
        """Release connections. The backend is unusable afterwards."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parse_filters(values) -> dict[str, list[str]]:
    """``FIELD:VALUE`` strings (as the CLI and the API take them) -> ``{field: [values]}`` for :class:`Query`;
    ValueError naming the one that is not of that form. Fields are checked by :meth:`Query.checked`."""
    out: dict[str, list[str]] = {}
    for v in values:
        field, sep, value = v.partition(":")
        if not sep or not value.strip():
            raise ValueError(f"filter {v!r}: give FIELD:VALUE")
        out.setdefault(field.strip(), []).append(value.strip())
    return out


def open_backend(cfg, store=None) -> Backend:
    """The backend the config names (``index.backend``): ``embedded`` in the store's SQLite file (the given
    store's, or the config's ``store.path``), or ``solr`` with the config's ``index.solr`` settings."""
    kind = cfg.index.get("backend", "embedded")
    if kind == "embedded":
        from .embedded import EmbeddedBackend
        path = store.path if store is not None else cfg.store_path
        return EmbeddedBackend(path)
    if kind == "solr":
        from .solr import SolrBackend
        return SolrBackend(cfg.index.get("solr") or {}, store=store)
    raise ValueError(f"unknown index backend {kind!r} (known: embedded, solr)")


# ----------------------------------------------------------------------------------------------- store -> index


def catch_up(backend: Backend, store, batch_size: int = 500, commit_every: int = 10_000,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Apply to the index every store change after ``backend.indexed_seq()``: live records upserted,
    tombstones deleted, in batches; commit and move indexed_seq every ``commit_every`` changes and at the
    end, so a crash only repeats work (upserts and deletes are idempotent). Returns the changes applied;
    ``progress(applied, seq)`` is called after each batch."""
    seq = start = backend.indexed_seq()
    applied = since_commit = 0
    while True:
        rows = store.changes(after_seq=seq, limit=batch_size)
        if not rows:
            break
        live, gone = [], []
        for row in rows:
            if row["deleted"] or not row["record"]:
                gone.append(row["id"])
            else:
                live.append({**json.loads(row["record"]), SOURCE_KEY: row["source"]})
        if live:
            backend.upsert(live)
        if gone:
            backend.delete(gone)
        seq = rows[-1]["seq"]
        applied += len(rows)
        since_commit += len(rows)
        if since_commit >= commit_every:
            backend.commit()
            backend.set_indexed_seq(seq)
            since_commit = 0
        if progress:
            progress(applied, seq)
    if seq != start or since_commit:
        backend.commit()
        backend.set_indexed_seq(seq)
    return applied


def rebuild(backend: Backend, store, batch_size: int = 500,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Index every live record of the store again. Returns the changes applied. A backend that offers
    ``rebuild_swap(store, progress=None)`` builds the new index beside the old one and switches to it when it
    is complete, so searches never see an empty or half-built index; otherwise the index is emptied first."""
    swap = getattr(backend, "rebuild_swap", None)
    if swap is not None:
        return swap(store, progress=progress)
    backend.clear()
    backend.commit()
    return catch_up(backend, store, batch_size=batch_size, progress=progress)


def index_status(backend: Backend, store) -> dict:
    """How far the index is behind the store: {"backend", "documents", "indexed_seq", "store_seq", "behind"}
    where ``behind`` counts records (and tombstones) changed in the store since the index caught up."""
    seq = backend.indexed_seq()
    return {"backend": backend.name, "documents": backend.count(), "indexed_seq": seq,
            "store_seq": store.max_seq(), "behind": _changes_after(store, seq)}


def _changes_after(store, seq: int) -> int:
    return store.db.execute("SELECT COUNT(*) FROM records WHERE seq > ?", (seq,)).fetchone()[0]


def index_lag(backend: Backend, store, seq: int) -> dict | None:
    """For a search answer: None when the index, caught up to store sequence ``seq``, holds every store change;
    else ``{"documents": what the index holds, "records": the store's live records, "behind": store changes
    not indexed}``. When caught up it costs one look at the store's highest sequence number (an index),
    so every search can ask."""
    if seq >= store.max_seq():
        return None
    return {"documents": backend.count(), "records": store.count(), "behind": _changes_after(store, seq)}


# ----------------------------------------------------------------------------------------------- documents


def _lang(tag: str) -> str:
    return (tag or "und").replace("_", "-").split("-")[0].lower() or "und"


def lang_suffix(tag: str) -> str:
    """The suffix of the per-language text field for a language tag: en fr es ru ar zh, cjk (ja, ko), und."""
    return _LANG_SUFFIX.get(_lang(tag), "und")


def _lang_items(value) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items() if isinstance(v, str) and v.strip()]
    if isinstance(value, str) and value.strip():
        return [("und", value)]
    return []


def text_segments(record: dict) -> dict[str, list[tuple[str, str]]]:
    """The record's searchable text: {field: [(language tag, text), ...]} for the fields of TEXT_FIELDS, in
    a fixed order. ``other`` holds creators, publisher and the assistance texts."""
    out: dict[str, list[tuple[str, str]]] = {f: [] for f in TEXT_FIELDS}
    out["title"] = _lang_items(record.get("title"))
    out["description"] = _lang_items(record.get("description"))
    kws = record.get("keywords")
    if isinstance(kws, dict):
        for lang, values in kws.items():
            for v in values if isinstance(values, list) else [values]:
                if isinstance(v, str) and v.strip():
                    out["keywords"].append((str(lang), v))
    other = out["other"]
    for v in record.get("creators") or []:
        if isinstance(v, str) and v.strip():
            other.append(("und", v))
    if isinstance(record.get("publisher"), str) and record["publisher"].strip():
        other.append(("und", record["publisher"]))
    assistance = record.get("assistance") or {}
    if isinstance(assistance.get("provider"), str) and assistance["provider"].strip():
        other.append(("und", assistance["provider"]))
    for v in assistance.get("activities") or []:
        if isinstance(v, str) and v.strip():
            other.append(("und", v))
    for key in ("conditions", "how_to_apply"):
        other.extend(_lang_items(assistance.get(key)))
    return out


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def node_source(record: dict) -> str | None:
    """The source of this node a record given to a backend came in by (:data:`SOURCE_KEY`), else its
    origin's source id."""
    return record.get(SOURCE_KEY) or (record.get("origin") or {}).get("source")


def stored_record(record: dict) -> dict:
    """A record as a backend holds it, without :data:`SOURCE_KEY`: the record as stored."""
    if SOURCE_KEY not in record:
        return record
    return {k: v for k, v in record.items() if k != SOURCE_KEY}


def facet_values(record: dict) -> dict[str, list[str]]:
    """The record's values for each field of FACET_FIELDS, as strings (missing fields: [])."""
    origin = record.get("origin") or {}
    assistance = record.get("assistance") or {}
    year = record.get("year")
    out = {
        "type": _as_list(record.get("type")),
        "chemicals": _as_list(record.get("chemicals")),
        "countries": _as_list(record.get("countries")),
        "regions": _as_list(record.get("regions")),
        "languages": _as_list(record.get("languages")),
        "year": [str(year)] if year is not None else [],
        "source": _as_list(node_source(record)),
        "origin_node": _as_list(origin.get("node")),
        "origin_source": _as_list(origin.get("source")),
        "assistance_kind": _as_list(assistance.get("kind")),
        "assistance_status": _as_list(assistance.get("status")),
    }
    return {k: list(dict.fromkeys(str(v) for v in vals if v not in (None, ""))) for k, vals in out.items()}


def _iso_day(date: str | None) -> str | None:
    """'2019', '2019-05' or '2019-05-17' -> '2019-05-17T00:00:00Z' (missing parts: the first)."""
    if not date or not isinstance(date, str):
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", date.strip()[:10])
    if not m:
        return None
    return f"{m.group(1)}-{m.group(2) or '01'}-{m.group(3) or '01'}T00:00:00Z"


def issued_date(record: dict) -> str | None:
    """The record's date of issue as an ISO datetime: dates.issued, else dates.created, else its year."""
    dates = record.get("dates") or {}
    for d in (dates.get("issued"), dates.get("created")):
        iso = _iso_day(d)
        if iso:
            return iso
    if isinstance(record.get("year"), int):
        return f"{record['year']:04d}-01-01T00:00:00Z"
    return None


def sort_date(record: dict) -> str:
    """What newest/oldest sort on: the date of issue, else the datestamp (always present)."""
    return issued_date(record) or record.get("datestamp") or "0000-01-01T00:00:00Z"


NO_DATE = "0000-01-01T00:00:00Z"
_LOOSE_DATETIME = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?Z?",
                             re.ASCII)


def fit_datetime(value) -> str | None:
    """A date and time as both indexes hold it (``2024-01-02T03:04:05Z``; a date alone is its first second),
    parts out of range brought within it (``2024-02-30`` is the 29th, month 13 is December: a date sorts
    about where its text would), or None when it is no date (or has no year from 1 to 9999). Comparing two
    such texts compares the times."""
    if not isinstance(value, str):
        return None
    m = _LOOSE_DATETIME.fullmatch(value.strip())
    if not m or not int(m.group(1)):
        return None
    y, mo, d, h, mi, sec = (int(p) if p else dflt for p, dflt in zip(m.groups(), (0, 1, 1, 0, 0, 0)))
    mo = min(max(mo, 1), 12)
    d = min(max(d, 1), calendar.monthrange(y, mo)[1])
    return f"{y:04d}-{mo:02d}-{d:02d}T{min(h, 23):02d}:{min(mi, 59):02d}:{min(sec, 59):02d}Z"


def recent_date(record: dict) -> str:
    """What the ``recent`` sort sorts on (and the ``harvested`` range of a boolean query): when the record
    was stored (``harvested``), else its datestamp, else NO_DATE, as :func:`fit_datetime` writes it."""
    return fit_datetime(record.get("harvested")) or fit_datetime(record.get("datestamp")) or NO_DATE


def display_title(record: dict, lang: str | None = None) -> str:
    """The title in the language asked for, else English, else the first one the record has."""
    items = _lang_items(record.get("title"))
    if not items:
        return ""
    by_lang = {}
    for tag, text in items:
        by_lang.setdefault(_lang(tag), text)
    for want in (_lang(lang) if lang else None, "en"):
        if want and want in by_lang:
            return by_lang[want]
    return items[0][1]


@lru_cache(maxsize=1)
def _marks() -> re.Pattern:
    """Every non-spacing mark of the Basic Multilingual Plane (accents, Arabic short vowels, ...)."""
    marks = "".join(chr(cp) for cp in range(0x10000) if unicodedata.category(chr(cp)) == "Mn")
    return re.compile("[" + re.escape(marks) + "]+")


_LETTER_FOLD = str.maketrans({"\u0629": "\u0647", "\u0649": "\u064a", "\u0622": "\u0627", "\u0623": "\u0627",
                              "\u0625": "\u0627", "\u0671": "\u0627", "\u06cc": "\u064a", "\u06a9": "\u0643"})


def fold(text: str) -> str:
    """Case, accents, compatibility forms and Arabic letter variants folded away (for sorting and comparing)."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    if text.isascii():
        return text
    return _marks().sub("", unicodedata.normalize("NFKD", text)).translate(_LETTER_FOLD)


def title_sort(record: dict) -> str:
    """The key the title sort uses: the display title, folded, white space collapsed."""
    return " ".join(fold(display_title(record)).split())


def to_document(record: dict) -> dict:
    """Flatten a POPs record into the fields an index holds (the Solr schema's field names):

    ``id``; per-language text ``title_txt_<suffix>``, ``description_txt_<suffix>``, ``keywords_txt_<suffix>``,
    ``other_txt_<suffix>`` (lists; suffix from :func:`lang_suffix`); the facet fields of FACET_FIELDS
    (``year`` an int, the others lists of strings, ``type``/``assistance_status`` single strings);
    ``origin_identifier``, ``origin_format``, ``path``, ``articles``, ``eligible_countries``,
    ``eligible_regions``, ``deadline``, ``datestamp``, ``harvested``, ``issued`` (ISO datetimes),
    ``sort_dt`` (what newest/oldest sort on), ``recent_dt`` (what recent sorts on), ``title_sort``,
    ``title_display``, ``completeness``, ``missing``, ``dedup_key`` and ``record_json`` (the whole record, with its
    :data:`SOURCE_KEY` when given one, for get() and hits). Empty values are left out."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
        raise ValueError("a record to index needs a string id")
    origin = record.get("origin") or {}
    assistance = record.get("assistance") or {}
    quality = record.get("quality") or {}
    facets = facet_values(record)
    doc: dict[str, Any] = {
        "id": record["id"],
        "origin_node": origin.get("node"),
        "source": node_source(record),
        "origin_source": origin.get("source"),
        "origin_identifier": origin.get("identifier"),
        "origin_format": origin.get("format"),
        "path": _as_list(record.get("path")),
        "type": record.get("type"),
        "chemicals": facets["chemicals"],
        "countries": facets["countries"],
        "regions": facets["regions"],
        "languages": facets["languages"],
        "year": record.get("year") if isinstance(record.get("year"), int) else None,
        "articles": _as_list(record.get("articles")),
        "assistance_kind": facets["assistance_kind"],
        "assistance_status": assistance.get("status"),
        "eligible_countries": _as_list(assistance.get("eligible_countries")),
        "eligible_regions": _as_list(assistance.get("eligible_regions")),
        "deadline": _iso_day(assistance.get("deadline")),
        "datestamp": record.get("datestamp"),
        "harvested": record.get("harvested"),
        "issued": issued_date(record),
        "sort_dt": sort_date(record),
        "recent_dt": recent_date(record),
        "title_sort": title_sort(record),
        "title_display": display_title(record),
        "completeness": quality.get("completeness"),
        "missing": _as_list(quality.get("missing")),
        "dedup_key": record.get("dedup_key"),
        "record_json": json.dumps(record, ensure_ascii=False, sort_keys=True),
    }
    for name, segments in text_segments(record).items():
        for tag, text in segments:
            doc.setdefault(f"{name}_txt_{lang_suffix(tag)}", []).append(text)
    return {k: v for k, v in doc.items() if v not in (None, "", [])}


# ----------------------------------------------------------------------------------------------- query plan


def clean_query_text(text: str) -> str:
    """The user's text made safe to process: control characters and lone surrogates replaced by spaces, compatibility forms
    folded (NFKC: full-width letters, ligatures), Arabic short vowels removed, cut to MAX_QUERY_CHARS."""
    text = _CONTROL.sub(" ", text or "")
    if len(text) > MAX_QUERY_CHARS:
        cut = text.rfind(" ", 0, MAX_QUERY_CHARS)
        text = text[: cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS]
    text = unicodedata.normalize("NFKC", text)
    return _ARABIC_MARKS.sub("", text)


def _join_tokens(tokens: list[str]) -> str:
    """Tokens back into a term: a space between words, none between CJK characters."""
    out = ""
    for tok in tokens:
        if out and not (_CJK.fullmatch(tok) and _CJK.fullmatch(out[-1])):
            out += " "
        out += tok
    return out


@dataclass(frozen=True)
class QueryPlan:
    """What a query's text asks for, the same for every backend:

    text       the cleaned text
    blank      the query holds nothing but white space: it matches everything
    terms      the phrases that must all occur (letters and digits of each white-space chunk)
    chemicals  chemical ids the text names (enrich.recognise_chemicals)
    residual   the terms left once the chemicals' names are taken out: a record holding one of
               ``chemicals`` matches when these all occur
    names      names, synonyms and CAS numbers of ``chemicals`` in every language, as terms: a record
               whose text holds one of them matches when the residual terms all occur (and they rank it)
    """

    text: str
    blank: bool
    terms: tuple[str, ...]
    chemicals: tuple[str, ...]
    residual: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def match_all(self) -> bool:
        return self.blank

    @property
    def match_none(self) -> bool:
        """Text without a letter or digit (only symbols, control characters...): nothing matches."""
        return not self.blank and not self.terms and not self.chemicals


def query_chemicals(text: str) -> list[str]:
    """Chemical ids a query names, in any of the six languages, by name, synonym, abbreviation or CAS
    number: '多氯联苯', 'PCBs', 'ПХБ', '1336-36-3' -> ['pcb']."""
    return list(plan_query(text).chemicals)


@lru_cache(maxsize=1024)
def plan_query(text: str) -> QueryPlan:
    """Split a query's text into the parts both backends search with (see QueryPlan)."""
    from .. import enrich

    if not isinstance(text, str) or not text.strip():
        return QueryPlan("", True, (), (), (), ())
    text = clean_query_text(text).strip()
    # tokens: (chunk index, start, end, surface)
    tokens: list[tuple[int, int, int, str]] = []
    terms: list[str] = []
    seen: set[str] = set()
    for ci, m in enumerate(re.finditer(r"\S+", text)):
        if len(terms) >= MAX_TERMS:
            break
        toks = [(ci, m.start() + w.start(), m.start() + w.end(), w.group()) for w in _WORD.finditer(m.group())]
        if not toks:
            continue
        term = _join_tokens([t[3] for t in toks])
        if fold(term) in seen:
            continue
        seen.add(fold(term))
        terms.append(term)
        tokens.extend(toks)
    if not terms:
        return QueryPlan(text, False, (), (), (), ())
    searched = text[: tokens[-1][2]]
    chemicals = tuple(dict.fromkeys(enrich.recognise_chemicals(searched)))
    if not chemicals:
        return QueryPlan(text, False, tuple(terms), (), tuple(terms), ())
    covered = _covered_tokens(tokens, text, enrich.recognise_chemicals)
    residual: list[str] = []
    run: list[str] = []
    prev_chunk = None
    for i, tok in enumerate(tokens):
        if i in covered or tok[0] != prev_chunk:
            if run:
                residual.append(_join_tokens(run))
            run = []
        if i not in covered:
            run.append(tok[3])
        prev_chunk = tok[0]
    if run:
        residual.append(_join_tokens(run))
    residual = list(dict.fromkeys(residual))
    return QueryPlan(text, False, tuple(terms), chemicals, tuple(residual), _chemical_names(chemicals))


_MAX_NAME_TOKENS = 12
_MAX_COVER_TOKENS = 64


def _covered_tokens(tokens, text: str, recognise) -> set[int]:
    """Indices of the tokens that are part of a chemical's name: every smallest run of tokens whose text
    (as typed, separators included) is recognised as a chemical, while neither shorter run inside it is."""
    covered: set[int] = set()
    n = min(len(tokens), _MAX_COVER_TOKENS)   # beyond: left as they are (bounds the work on absurd input)
    cache: dict[tuple[int, int], bool] = {}

    def named(i: int, j: int) -> bool:  # tokens[i:j], j > i
        if (i, j) not in cache:
            cache[(i, j)] = bool(recognise(text[tokens[i][1]:tokens[j - 1][2]]))
        return cache[(i, j)]

    for length in range(1, min(n, _MAX_NAME_TOKENS) + 1):
        for i in range(0, n - length + 1):
            j = i + length
            if named(i, j) and (length == 1 or (not named(i + 1, j) and not named(i, j - 1))):
                covered.update(range(i, j))
    return covered


@lru_cache(maxsize=256)
def _chemical_names(chemicals: tuple[str, ...]) -> tuple[str, ...]:
    """Every name, synonym and CAS number of the chemicals, as terms (at least three letters or digits)."""
    from .. import vocab

    out: dict[str, str] = {}
    for cid in chemicals:
        entry = vocab.chemicals().get(cid) or {}
        names = list((entry.get("names") or {}).values())
        for syns in (entry.get("synonyms") or {}).values():
            names.extend(syns)
        names.extend(entry.get("cas") or [])
        for name in names:
            toks = _WORD.findall(clean_query_text(name))
            if len("".join(toks)) < 3:
                continue
            term = _join_tokens(toks)
            out.setdefault(fold(term), term)
    return tuple(out.values())


def words(text: str) -> list[str]:
    """The letters-and-digits tokens of a text (CJK characters one by one), as a query sees them."""
    return _WORD.findall(clean_query_text(text))


# ----------------------------------------------------------------------------------------------- boolean queries

WORD_SCOPES = ("any", "title", "description", "keywords", "other")
"""Where a :class:`Words` condition looks: every text field, or one of TEXT_FIELDS (``other``: creators,
publisher, the assistance provider and texts)."""
WORD_MATCHES = ("all", "any", "phrase")
EQUALS_FIELDS = (*FACET_FIELDS, "id")
RANGE_FIELDS = ("year", "issued", "datestamp", "harvested")
"""``year`` (a whole number), ``issued`` (:func:`issued_date`), ``datestamp``, ``harvested``
(:func:`recent_date`: when stored, else the datestamp)."""
MAX_WHERE_DEPTH = 16
MAX_WHERE_NODES = 128
MAX_WHERE_VALUES = 256
MAX_WHERE_PHRASES = 512
"""Phrases a boolean query may search for, the names of the chemicals its words name included (Solr
refuses a query of more than 1024 clauses)."""


@dataclass(frozen=True)
class Words:
    """Words in a text field. ``scope``: one of WORD_SCOPES. ``match``: ``all`` (every white-space
    separated term must occur, each term a phrase of its letters and digits, as in a query's text), ``any``
    (at least one term) or ``phrase`` (all the words, in this order). In scope ``any`` a chemical the words
    name also finds the records about it in every language, as a query's text does."""

    text: str
    scope: str = "any"
    match: str = "all"


@dataclass(frozen=True)
class Equals:
    """The field (EQUALS_FIELDS: a facet field, or ``id``) holds one of ``values`` exactly."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Range:
    """The field (RANGE_FIELDS) lies between ``low`` and ``high`` (None: open). Years are whole numbers;
    dates are ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SSZ``, a partial date standing for
    its whole period (``high="2019"`` inclusive: up to the end of 2019; ``low="2019"`` exclusive: from 2020)."""

    field: str
    low: int | str | None = None
    high: int | str | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True


class _Junction:
    __slots__ = ("items",)

    def __init__(self, *items):
        self.items = tuple(items)

    def __eq__(self, other):
        return type(self) is type(other) and self.items == other.items

    def __hash__(self):
        return hash((type(self).__name__, self.items))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(repr, self.items))})"


class And(_Junction):
    """Every item holds. ``And()`` holds for every record."""


class Or(_Junction):
    """At least one item holds. ``Or()`` holds for none."""


@dataclass(frozen=True)
class Not:
    """The item does not hold."""

    item: Any


EVERYTHING = And()
NOTHING = Or()


def check_where(node) -> Any:
    """A boolean query validated and simplified, as backends render it: Words with match ``any`` turned into
    an Or of one ``all`` per term, Words without a letter or digit into NOTHING, Equals values as stripped
    strings (none left: NOTHING), Range bounds normalised (dates to ``YYYY-MM-DDTHH:MM:SSZ``, an empty range:
    NOTHING), nested And/Or flattened, constants folded. None or EVERYTHING: None (no condition).
    ValueError naming what is wrong (an unknown field or scope, a bad bound, a tree too deep or too big)."""
    if node is None:
        return None
    budget = {"nodes": 0, "values": 0, "phrases": 0}
    out = _check_node(node, 1, budget)
    return None if out == EVERYTHING else out


def _check_node(node, depth: int, budget: dict):
    if depth > MAX_WHERE_DEPTH:
        raise ValueError(f"boolean query nested more than {MAX_WHERE_DEPTH} deep")
    budget["nodes"] += 1
    if budget["nodes"] > MAX_WHERE_NODES:
        raise ValueError(f"boolean query of more than {MAX_WHERE_NODES} conditions")
    if isinstance(node, Words):
        return _check_words(node, depth, budget)
    if isinstance(node, Equals):
        return _check_equals(node, budget)
    if isinstance(node, Range):
        return _check_range(node)
    if isinstance(node, Not):
        inner = _check_node(node.item, depth + 1, budget)
        if isinstance(inner, Not):
            return inner.item
        return NOTHING if inner == EVERYTHING else EVERYTHING if inner == NOTHING else Not(inner)
    if isinstance(node, (And, Or)):
        kind = type(node)
        absorbing, neutral = (NOTHING, EVERYTHING) if kind is And else (EVERYTHING, NOTHING)
        items: list = []
        for item in node.items:
            checked = _check_node(item, depth + 1, budget)
            if checked == absorbing:
                return absorbing
            if checked == neutral:
                continue
            for part in (checked.items if type(checked) is kind else (checked,)):
                if part not in items:
                    items.append(part)
        return items[0] if len(items) == 1 else kind(*items)
    raise ValueError(f"not a boolean query condition: {type(node).__name__} "
                     "(use And, Or, Not, Words, Equals, Range)")


def _check_words(node: Words, depth: int, budget: dict):
    if not isinstance(node.text, str):
        raise ValueError("Words.text must be a string")
    if node.scope not in WORD_SCOPES:
        raise ValueError(f"unknown word scope {node.scope!r}; scopes: {', '.join(WORD_SCOPES)}")
    if node.match not in WORD_MATCHES:
        raise ValueError(f"unknown word match {node.match!r}; matches: {', '.join(WORD_MATCHES)}")
    if not node.text.strip():
        raise ValueError("a Words condition needs words")
    if node.match == "any":
        chunks = list(dict.fromkeys(re.findall(r"\S+", clean_query_text(node.text))))[:MAX_TERMS]
        return _check_node(Or(*(Words(c, node.scope, "all") for c in chunks)), depth, budget)
    plan = word_plan(node)
    if not plan.terms and not plan.chemicals:
        return NOTHING
    budget["phrases"] += len(plan.terms) + len(plan.names) + len(plan.residual) + len(plan.chemicals)
    if budget["phrases"] > MAX_WHERE_PHRASES:
        raise ValueError(f"boolean query searching more than {MAX_WHERE_PHRASES} phrases "
                         "(the names of the chemicals it names included)")
    return Words(node.text, node.scope, node.match)


def _check_equals(node: Equals, budget: dict):
    if node.field not in EQUALS_FIELDS:
        raise ValueError(f"unknown field {node.field!r}; fields: {', '.join(EQUALS_FIELDS)}")
    values = node.values
    if isinstance(values, (str, int)):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise ValueError("Equals.values must be a value or a list of values")
    vals = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise ValueError(f"Equals.values: {v!r} is not a string")
        v = str(v).strip()
        if not v or not _utf8(v):                     # a lone surrogate is in no indexed value
            continue
        if node.field == "year":
            if not re.fullmatch(r"-?[0-9]{1,9}", v):   # no year is anything else
                continue
            v = str(int(v))
        if v not in vals:
            vals.append(v)
    budget["values"] += len(vals)
    if budget["values"] > MAX_WHERE_VALUES:
        raise ValueError(f"boolean query with more than {MAX_WHERE_VALUES} values")
    return Equals(node.field, tuple(vals)) if vals else NOTHING


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})Z?)?)?)?")


def date_period(text: str) -> tuple[str, str]:
    """The first and last second of the period a date names: '2019' -> ('2019-01-01T00:00:00Z',
    '2019-12-31T23:59:59Z'); '2019-05-17T10:00:00Z' -> itself twice. ValueError for what is no date."""
    m = _PARTIAL_DATE.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"invalid date {text!r}: use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
    y, mo, d, h, mi, s = (int(g) if g else None for g in m.groups())
    try:
        if not 1 <= y <= 9999 or (mo is not None and not 1 <= mo <= 12) or (
                d is not None and not 1 <= d <= calendar.monthrange(y, mo)[1]) or (
                h is not None and not (h <= 23 and mi <= 59 and s <= 59)):
            raise ValueError
    except ValueError:
        raise ValueError(f"invalid date {text!r}: no such day or time") from None
    if h is not None:
        first = last = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"
        return first, last
    if d is not None:
        return f"{y:04d}-{mo:02d}-{d:02d}T00:00:00Z", f"{y:04d}-{mo:02d}-{d:02d}T23:59:59Z"
    if mo is not None:
        end = calendar.monthrange(y, mo)[1]
        return f"{y:04d}-{mo:02d}-01T00:00:00Z", f"{y:04d}-{mo:02d}-{end:02d}T23:59:59Z"
    return f"{y:04d}-01-01T00:00:00Z", f"{y:04d}-12-31T23:59:59Z"


def _check_range(node: Range):
    if node.field not in RANGE_FIELDS:
        raise ValueError(f"unknown range field {node.field!r}; fields: {', '.join(RANGE_FIELDS)}")
    if node.low is None and node.high is None:
        raise ValueError(f"a range on {node.field} needs a low or a high bound")
    low_inc, high_inc = bool(node.low_inclusive), bool(node.high_inclusive)
    if node.field == "year":
        bounds = []
        for b in (node.low, node.high):
            if b is None:
                bounds.append(None)
                continue
            if isinstance(b, bool) or not re.fullmatch(r"-?[0-9]{1,9}", str(b).strip()):
                raise ValueError(f"invalid year {b!r}: a year is a whole number")
            bounds.append(int(str(b).strip()))
        low, high = bounds
        # whole numbers: every bound inclusive
        if low is not None and not low_inc:
            low, low_inc = low + 1, True
        if high is not None and not high_inc:
            high, high_inc = high - 1, True
        if low is not None and high is not None and low > high:
            return NOTHING
        return Range("year", low, high, True, True)
    low = high = None
    if node.low is not None:
        first, last = date_period(str(node.low))
        low = first if low_inc else last       # after a whole period: after its last second
    if node.high is not None:
        first, last = date_period(str(node.high))
        high = last if high_inc else first     # before a whole period: before its first second
    if low is not None and high is not None and (low > high or (low == high and not (low_inc and high_inc))):
        return NOTHING
    return Range(node.field, low, high, low_inc, high_inc)


@lru_cache(maxsize=1024)
def word_plan(node: Words) -> QueryPlan:
    """What a (checked) Words condition searches for, as a QueryPlan: ``all`` in scope ``any`` is exactly a
    query's text; in another scope the same terms without chemicals; ``phrase`` is one term of all the
    words, which in scope ``any`` also names a chemical when the words are nothing but its name."""
    if node.match == "phrase":
        toks = words(node.text)[:MAX_QUERY_CHARS]
        if not toks:
            return QueryPlan(node.text, False, (), (), (), ())
        term = _join_tokens(toks)
        plan = plan_query(node.text) if node.scope == "any" else None
        if plan is None or not plan.chemicals or plan.residual:
            return QueryPlan(node.text, False, (term,), (), (term,), ())
        return QueryPlan(node.text, False, (term,), plan.chemicals, (), plan.names)
    plan = plan_query(node.text)
    if node.scope == "any" or not plan.terms:
        return plan
    return QueryPlan(plan.text, False, plan.terms, (), plan.terms, ())


def where_chemicals(node) -> list[str]:
    """Chemical ids the words of a (checked) boolean query name, outside any Not."""
    out: list[str] = []
    if isinstance(node, Words):
        out.extend(word_plan(node).chemicals)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            out.extend(where_chemicals(item))
    return list(dict.fromkeys(out))


# ----------------------------------------------------------------------------------------------- cursors


def encode_cursor(sort: str, key: list) -> str:
    """An opaque paging token: the sort and the sort key of the last hit (its last element the id)."""
    raw = json.dumps([sort, key], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, sort: str) -> list:
    """The sort key a cursor continues after; ValueError when the token is not one of ours or was made
    for another sort."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        made_for, key = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValueError("invalid cursor (use next_cursor from a previous result)") from None
    if made_for != sort:
        raise ValueError(f"this cursor belongs to sort {made_for!r}, not {sort!r}")
    if not isinstance(key, list) or not key or not all(isinstance(k, (str, int, float)) for k in key):
        raise ValueError("invalid cursor (use next_cursor from a previous result)")
    return key


def hit_from_record(record: dict, plan: QueryPlan, score: float = 0.0, lang: str | None = None,
                    highlights: dict | None = None) -> Hit:
    """A Hit for a record: the fields of the result shape, a plain-text description excerpt in ``lang``
    (else English, else the first language), and ``why``."""
    origin = record.get("origin") or {}
    chems = [c for c in record.get("chemicals") or [] if c in plan.chemicals]
    return Hit(
        id=record["id"], identifier=origin.get("identifier", ""), title=dict(record.get("title") or {}),
        description=excerpt(record.get("description"), lang), links=list(record.get("links") or []),
        chemicals=list(record.get("chemicals") or []), countries=list(record.get("countries") or []),
        regions=list(record.get("regions") or []), languages=list(record.get("languages") or []),
        type=record.get("type"), year=record.get("year"), origin_node=origin.get("node"),
        source=node_source(record), origin_source=origin.get("source"), path=list(record.get("path") or []), score=float(score),
        why={"highlights": highlights or {}, "chemicals": chems})


EXCERPT_CHARS = 300


def excerpt(value, lang: str | None = None, size: int = EXCERPT_CHARS) -> str:
    """A language -> text map's text in ``lang`` (else English, else the first), cut near ``size``
    characters at a word boundary, with an ellipsis when cut."""
    items = _lang_items(value)
    if not items:
        return ""
    chosen = None
    for want in (_lang(lang) if lang else None, "en"):
        chosen = chosen or next((t for tag, t in items if want and _lang(tag) == want), None)
    text = " ".join((chosen or items[0][1]).split())
    if len(text) <= size:
        return text
    cut = text.rfind(" ", size * 2 // 3, size)
    return text[: cut if cut > 0 else size].rstrip() + "…"
