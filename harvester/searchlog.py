"""The search log: what people searched for on this node and how many records each search found, kept to
measure use (searches per month) and to find information needs the node does not meet (information gaps:
searches with no or few hits).

One row per search, in the store's own SQLite file (table ``search_log``, created on demand): the time
(UTC), the scope (local or federation), the query text normalised (NFKC, lower-cased, white space
collapsed, cut at :data:`MAX_QUERY_CHARS`), the query's language, its filters (JSON, sorted), the number of
hits and the channel (api, web or cli). Nothing about the person: no address, no user agent, no cookie,
no session; the table has no column that could hold one.

The log never grows without bound: every :data:`PRUNE_EVERY`-th insert removes rows older than the
retention period (:data:`DEFAULT_RETENTION_DAYS`, or ``POPS_CHM_SEARCH_LOG_DAYS``, or the
``retention_days`` argument). :func:`log_search` is cheap and never raises into the caller: a search is
answered even when its log line cannot be written.

Rows are written by one thread per store file, through its own connection, in the order they were logged:
searches never wait for the store's write lock and never compete for it with each other, and a row waits
for the lock as long as a harvest batch holds it instead of being dropped. Reading the log (searches,
monthly, information_gaps, prune) first waits, up to :data:`FLUSH_WAIT` seconds, for the rows logged
before it; the rows still queued when the process ends are written before it exits.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import re
import sqlite3
import threading
import time
import unicodedata
from datetime import datetime, timedelta, timezone

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS search_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    scope    TEXT NOT NULL,
    query    TEXT NOT NULL,
    lang     TEXT,
    filters  TEXT NOT NULL DEFAULT '{}',
    hits     INTEGER NOT NULL,
    channel  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_log_at ON search_log(at);
CREATE INDEX IF NOT EXISTS search_log_query ON search_log(query, filters);
"""

COLUMNS = ("id", "at", "scope", "query", "lang", "filters", "hits", "channel")
"""Every column of the table: none of them identifies a person."""
CHANNELS = ("api", "web", "cli")
SCOPES = ("local", "federation")
MAX_QUERY_CHARS = 200
MAX_FILTER_VALUES = 20
DEFAULT_RETENTION_DAYS = 400
PRUNE_EVERY = 500
"""Rows older than the retention period are removed on every PRUNE_EVERY-th insert."""
RETENTION_ENV = "POPS_CHM_SEARCH_LOG_DAYS"
MAX_PENDING = 100_000
"""Rows waiting for the writer at most; past it (the store unwritable for long) a row is dropped and logged."""
FLUSH_WAIT = 10.0
"""Seconds a reader (or the end of the process) waits for the rows logged before it."""
INSERT = "INSERT INTO search_log(at, scope, query, lang, filters, hits, channel) VALUES (?,?,?,?,?,?,?)"

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def ensure_table(store) -> None:
    """Create the table in the store when it is not there yet (once per Store object)."""
    if getattr(store, "_search_log_ready", None) is not store.db:
        store.db.executescript(SCHEMA)
        store._search_log_ready = store.db


def normalise(text) -> str:
    """The query text as logged: NFKC, lower-cased, control characters removed, white space collapsed,
    cut at MAX_QUERY_CHARS."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _CONTROL.sub(" ", unicodedata.normalize("NFKC", text)).lower()
    return _SPACE.sub(" ", text).strip()[:MAX_QUERY_CHARS].rstrip()


def normalise_filters(filters) -> str:
    """Filters as canonical JSON: fields sorted, values de-duplicated, sorted and cut."""
    if not isinstance(filters, dict):
        return "{}"
    out = {}
    for field in sorted(str(f)[:40] for f in filters):
        values = filters.get(field)
        if values is None:
            continue
        if isinstance(values, (str, int)):
            values = [values]
        vals = sorted({str(v).strip()[:100] for v in values if v is not None and str(v).strip()})
        if vals:
            out[field] = vals[:MAX_FILTER_VALUES]
    return json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _utc(dt: datetime | None = None) -> str:
    return (dt or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def retention_days(days: int | None = None) -> int:
    """The retention period: the argument, else the environment's POPS_CHM_SEARCH_LOG_DAYS, else 400."""
    if days is None:
        try:
            days = int(os.environ.get(RETENTION_ENV, DEFAULT_RETENTION_DAYS))
        except ValueError:
            days = DEFAULT_RETENTION_DAYS
    return max(1, int(days))


def log_search(store, query, total, scope: str = "local", channel: str = "api", *,
               lang: str | None = None, filters: dict | None = None, at: datetime | None = None,
               retention: int | None = None) -> bool:
    """Log one search: ``query`` is a :class:`harvester.index.Query` (its text, filters and language are
    taken) or plain text (then ``lang`` and ``filters`` may be given). ``total`` is its hit count. Returns
    True when the line was written; never raises (a failure is logged and False returned)."""
    try:
        if isinstance(query, str) or query is None:
            text = query or ""
        else:
            text = getattr(query, "text", "") or ""
            lang = lang if lang is not None else getattr(query, "lang", None)
            filters = filters if filters is not None else getattr(query, "filters", None)
        hits = int(total) if isinstance(total, (int, float)) and not isinstance(total, bool) else 0
        lang = (normalise(lang)[:35] or None) if lang else None
        row = (_utc(at), scope if scope in SCOPES else "local", normalise(text), lang, normalise_filters(filters),
               max(0, hits), channel if channel in CHANNELS else "api")
        if str(store.path) == ":memory:":   # no other connection sees that database: written here and now
            _Writer._write(store, [(row, retention)])
            return True
        return _writer(store).put(row, retention)
    except Exception:   # a log line is never worth a failed search
        log.warning("search log: could not log a search", exc_info=True)
        return False


class _Writer:
    """The one thread that writes a store file's log rows (see the module docstring)."""

    def __init__(self, path: str):
        self.path = path
        self.pid = os.getpid()
        self.queue: queue.Queue = queue.Queue(MAX_PENDING)
        threading.Thread(target=self._run, name=f"search-log {path}", daemon=True).start()

    def put(self, row: tuple, retention: int | None) -> bool:
        try:
            self.queue.put_nowait((row, retention))
            return True
        except queue.Full:
            log.warning("search log: %d rows wait for %s already; a search was not logged", MAX_PENDING, self.path)
            return False

    def flush(self, timeout: float = FLUSH_WAIT) -> bool:
        """Wait until the rows put before this call are written; False when `timeout` passed first."""
        done = threading.Event()
        try:
            self.queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def _run(self) -> None:
        from .store import Store
        store = None
        while True:
            batch = [self.queue.get()]
            while len(batch) < 500 and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            rows = [item for item in batch if isinstance(item, tuple)]
            if rows:
                try:
                    store = store or Store(self.path)
                    self._write(store, rows)
                except Exception:   # an unwritable store must not stop the thread: the next rows try again
                    log.warning("search log: %d searches could not be written to %s", len(rows), self.path,
                                exc_info=True)
                    store = None
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()

    @staticmethod
    def _write(store, rows: list[tuple]) -> None:
        """Insert the rows in one transaction, waiting out the write lock however long it is held."""
        ensure_table(store)
        pause = 0.05
        while True:
            try:
                due = []
                with store.transaction() as db:
                    for row, retention in rows:
                        if db.execute(INSERT, row).lastrowid % PRUNE_EVERY == 0:
                            due.append(retention)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(pause)
                pause = min(1.0, pause * 2)
        for retention in due:
            _prune(store, retention)


_writers: dict[str, _Writer] = {}
_writers_lock = threading.Lock()


def _writer(store) -> _Writer:
    """The writer of the store's file (one per file and process)."""
    path = os.path.realpath(store.path)
    with _writers_lock:
        w = _writers.get(path)
        if w is None or w.pid != os.getpid():   # a forked child has none of its parent's threads
            w = _writers[path] = _Writer(path)
        return w


def flush(store, timeout: float = FLUSH_WAIT) -> bool:
    """Wait until every search logged to the store's file so far (in this process) is written."""
    with _writers_lock:
        w = _writers.get(os.path.realpath(store.path)) if hasattr(store, "path") else None
    return w.flush(timeout) if w is not None and w.pid == os.getpid() else True


@atexit.register
def _flush_all() -> None:
    for w in list(_writers.values()):
        if w.pid == os.getpid():
            w.flush()


def prune(store, days: int | None = None, now: datetime | None = None) -> int:
    """Remove rows older than the retention period; returns how many were removed."""
    flush(store)
    return _prune(store, days, now)


def _prune(store, days: int | None = None, now: datetime | None = None) -> int:
    ensure_table(store)
    cutoff = _utc((now or datetime.now(timezone.utc)) - timedelta(days=retention_days(days)))
    return store.db.execute("DELETE FROM search_log WHERE at < ?", (cutoff,)).rowcount


def _period(since: str | None, until: str | None, col: str = "at") -> tuple[str, list]:
    """A WHERE clause for [since, until] (a date alone for `until` means the end of that day)."""
    where, args = [], []
    if since:
        where.append(f"{col} >= ?")
        args.append(since)
    if until:
        where.append(f"{col} <= ?")
        args.append(until if len(until) > 10 else until + "T23:59:59Z")
    return (" WHERE " + " AND ".join(where)) if where else "", args


def searches(store, since: str | None = None, until: str | None = None) -> list[dict]:
    """The logged searches of a period, oldest first."""
    flush(store)
    ensure_table(store)
    where, args = _period(since, until)
    rows = store.db.execute(f"SELECT * FROM search_log{where} ORDER BY at, id", args)
    return [dict(r, filters=json.loads(r["filters"] or "{}")) for r in rows]


def monthly(store, since: str | None = None, until: str | None = None) -> dict[str, dict]:
    """{YYYY-MM: {"searches": n, "no_hits": n}} in month order."""
    flush(store)
    ensure_table(store)
    where, args = _period(since, until)
    rows = store.db.execute(f"SELECT substr(at, 1, 7) AS month, COUNT(*) AS n, SUM(hits = 0) AS zero "
                            f"FROM search_log{where} GROUP BY month ORDER BY month", args)
    return {r["month"]: {"searches": r["n"], "no_hits": r["zero"] or 0} for r in rows}


def information_gaps(store, since: str | None = None, until: str | None = None, few: int = 3,
                     limit: int | None = None) -> list[dict]:
    """Searches that found no or few records, grouped by normalised text and filters, ranked: groups whose
    latest search found nothing first, then the most often searched, then the most recent.

    A group is a gap while its latest search in the period found at most ``few`` records (a need the node
    has since met drops out). Each gap: query, filters, searches (in the period), no_hit_searches,
    last_hits, max_hits, languages, channels, first_seen, last_seen."""
    flush(store)
    ensure_table(store)
    where, args = _period(since, until)
    inner, _ = _period(since, until, "s2.at")
    rows = store.db.execute(
        f"SELECT query, filters, COUNT(*) AS n, SUM(hits = 0) AS zero, MAX(hits) AS max_hits, MIN(at) AS first, "
        f"MAX(at) AS last, group_concat(DISTINCT lang) AS langs, group_concat(DISTINCT channel) AS channels, "
        f"(SELECT s2.hits FROM search_log s2 WHERE s2.query = s.query AND s2.filters = s.filters "
        f"{inner.replace(' WHERE ', ' AND ', 1)} ORDER BY s2.at DESC, s2.id DESC LIMIT 1) AS last_hits "
        f"FROM search_log s{where} GROUP BY query, filters", args + args).fetchall()
    gaps = []
    for r in rows:
        if r["last_hits"] is None or r["last_hits"] > few:
            continue
        gaps.append({"query": r["query"], "filters": json.loads(r["filters"] or "{}"), "searches": r["n"],
                     "no_hit_searches": r["zero"] or 0, "last_hits": r["last_hits"], "max_hits": r["max_hits"],
                     "languages": sorted(x for x in (r["langs"] or "").split(",") if x),
                     "channels": sorted(x for x in (r["channels"] or "").split(",") if x),
                     "first_seen": r["first"], "last_seen": r["last"]})
    gaps.sort(key=lambda g: g["last_seen"], reverse=True)
    gaps.sort(key=lambda g: (g["last_hits"] > 0, -g["searches"]))
    return gaps[:limit] if limit else gaps


def table_columns(store) -> list[str]:
    """The columns the table really has (to check that none holds personal data)."""
    ensure_table(store)
    return [r[1] for r in store.db.execute("PRAGMA table_info(search_log)")]


__all__ = ["log_search", "flush", "prune", "information_gaps", "monthly", "searches", "normalise", "normalise_filters",
           "ensure_table", "table_columns", "retention_days", "DEFAULT_RETENTION_DAYS"]
