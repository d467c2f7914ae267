"""The record store: the node's records of truth, in one SQLite file (WAL).

Holds each record (the mapped POPs record, the raw payload, format, datestamps, tombstone flag), each
source's harvest state (checkpoint, conditional-GET validators, lock), a log of harvest runs and the
records that failed to map. A batch is one transaction together with its checkpoint: a crash in the
middle of a batch leaves the store exactly as before it, and the next run resumes from the checkpoint.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .dates import utcnow

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    format      TEXT,
    datestamp   TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    record      TEXT,
    raw         TEXT,
    hash        TEXT,
    changed     TEXT NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS records_source ON records(source, identifier);
CREATE UNIQUE INDEX IF NOT EXISTS records_seq ON records(seq);
CREATE INDEX IF NOT EXISTS records_changed ON records(changed, seq);
CREATE TABLE IF NOT EXISTS sources (
    id              TEXT PRIMARY KEY,
    checkpoint      TEXT,
    last_datestamp  TEXT,
    validators      TEXT,
    lock_pid        INTEGER,
    lock_host       TEXT,
    lock_run        INTEGER,
    lock_since      TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    started     TEXT NOT NULL,
    ended       TEXT,
    status      TEXT NOT NULL,
    full        INTEGER NOT NULL DEFAULT 0,
    seen        INTEGER NOT NULL DEFAULT 0,
    stored      INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    superseded  INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    marked_deleted INTEGER NOT NULL DEFAULT 0,
    taken_over  INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    pid         INTEGER
);
CREATE INDEX IF NOT EXISTS runs_source ON runs(source, id);
CREATE TABLE IF NOT EXISTS record_errors (
    source      TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    error       TEXT NOT NULL,
    location    TEXT,
    raw         TEXT,
    run_id      INTEGER,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    PRIMARY KEY (source, identifier)
);
CREATE TABLE IF NOT EXISTS pending_deletes (
    source      TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    datestamp   TEXT,
    PRIMARY KEY (source, identifier)
);
CREATE TABLE IF NOT EXISTS seen_in_run (
    source      TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    location    TEXT,
    run_id      INTEGER,
    PRIMARY KEY (source, identifier)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS document_records (
    source      TEXT NOT NULL,
    document    TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    PRIMARY KEY (source, document, identifier)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

RUN_COUNTERS = ("seen", "stored", "unchanged", "superseded", "duplicates", "marked_deleted", "failed", "skipped",
                "deleted", "taken_over")
# columns added since the first release: a store made before gets them when opened
_ADDED_COLUMNS = {"runs": [(c, "INTEGER NOT NULL DEFAULT 0") for c in ("superseded", "duplicates", "marked_deleted", "taken_over")],
                  "seen_in_run": [("location", "TEXT"), ("document", "TEXT"), ("run_id", "INTEGER")]}


@dataclass
class Item:
    """One thing a harvest learnt about a record: a new version, or its deletion (record None)."""
    source: str
    identifier: str
    record: dict | None = None
    raw: str = ""
    format: str = ""
    datestamp: str | None = None

    @property
    def deleted(self) -> bool:
        return self.record is None


@dataclass
class Failure:
    """A record that could not be mapped: kept for diagnostics and replay, never stored as a record."""
    source: str
    identifier: str
    error: str
    location: str = ""
    raw: str = ""


@dataclass
class BatchResult:
    stored: int = 0
    unchanged: int = 0
    superseded: int = 0    # not stored: the record is held in the native format from another source
    taken_over: int = 0    # of stored: replaced another source's live copy of the record
    deleted: int = 0
    failed: int = 0


def record_hash(record: dict, with_datestamp: bool = True) -> str:
    """What makes two versions different: the mapped record, but not when it was harvested nor the path it
    came by (the same record reaching a node by two paths is one record, not a change). A payload change
    that maps to the same record is not a change either. Without `with_datestamp` the datestamp is left out
    too (see _item_hash)."""
    skip = ("harvested", "path") if with_datestamp else ("harvested", "path", "datestamp")
    body = {k: v for k, v in record.items() if k not in skip}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


NATIVE_FORMAT = "pops"


def _item_hash(it: "Item") -> str:
    """A crosswalked record whose source gives no datestamp (files, DCAT) is dated by its own dates or, lacking
    them, by when it was harvested: that datestamp is not a change, so an unchanged record keeps the
    datestamp it was first stored with and a second harvest writes nothing."""
    return record_hash(it.record, with_datestamp=it.datestamp is not None or it.format == NATIVE_FORMAT)


def _native_wins(stored_format: str | None, new_format: str) -> bool:
    """The same record in the lossless native format and in a lossy crosswalked one: keep the native."""
    return stored_format == NATIVE_FORMAT and new_format != NATIVE_FORMAT


def _seen_row(seen) -> tuple:
    """(identifier, where it was met, the document holding it) from an identifier alone or such a tuple."""
    return (seen, None, None) if isinstance(seen, str) else (*seen, None, None)[:3]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.executescript(SCHEMA)
        self._add_columns()

    def _add_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            have = {r["name"] for r in self.db.execute(f"PRAGMA table_info({table})")}
            for name, decl in columns:
                if name not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE .. COMMIT; any exception rolls everything back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # ------------------------------------------------------------------ records

    def _next_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM records").fetchone()[0]

    def apply_batch(self, items: Iterable[Item], failures: Iterable[Failure] = (), *, pending: Iterable[Item] = (),
                    checkpoint: dict | None = None, source: str | None = None, run_id: int | None = None,
                    seen: Iterable[str] = ()) -> BatchResult:
        """Store new versions and tombstones, record failures, note deletions still to be confirmed (`pending`)
        and the identifiers a whole listing has `seen` so far (of `source`; identifiers, or (identifier, where,
        document) tuples), and (optionally) move the
        source's checkpoint, all in one transaction. Re-applying the same batch changes nothing (idempotent
        by id and content)."""
        result = BatchResult()
        with self.transaction() as db:
            now = utcnow()  # taken under the write lock, so `changed` never goes back in time
            seq = self._next_seq()
            for it in items:
                if it.deleted:
                    for (rid,) in db.execute("SELECT id FROM records WHERE source=? AND identifier=? AND deleted=0",
                                             (it.source, it.identifier)).fetchall():
                        db.execute("UPDATE records SET deleted=1, changed=?, seq=?, datestamp=COALESCE(?, datestamp) WHERE id=?",
                                   (now, seq, it.datestamp, rid))
                        seq += 1
                        result.deleted += 1
                    db.execute("DELETE FROM pending_deletes WHERE source=? AND identifier=?", (it.source, it.identifier))
                    continue
                rec = it.record
                h = _item_hash(it)
                row = db.execute("SELECT hash, deleted, format, source, json_array_length(record, '$.path') AS hops "
                                 "FROM records WHERE id=?", (rec["id"],)).fetchone()
                shorter = row is not None and len(rec.get("path", ())) < (row["hops"] or 0)
                # a stale copy from another path: the very version another source deleted does not come back
                stale = row is not None and row["deleted"] and row["hash"] == h and row["source"] != it.source
                live = row is not None and not row["deleted"]
                if stale or (live and row["hash"] == h and not shorter):
                    result.unchanged += 1
                elif live and _native_wins(row["format"], it.format):
                    result.superseded += 1
                else:
                    if live and row["source"] != it.source:
                        result.taken_over += 1
                    db.execute(
                        "INSERT INTO records(id, source, identifier, format, datestamp, deleted, record, raw, hash, changed, seq) "
                        "VALUES (?,?,?,?,?,0,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET source=excluded.source, "
                        "identifier=excluded.identifier, format=excluded.format, datestamp=excluded.datestamp, deleted=0, "
                        "record=excluded.record, raw=excluded.raw, hash=excluded.hash, changed=excluded.changed, seq=excluded.seq",
                        (rec["id"], it.source, it.identifier, it.format, it.datestamp or rec.get("datestamp"),
                         json.dumps(rec, ensure_ascii=False), it.raw, h, now, seq))
                    seq += 1
                    result.stored += 1
                db.execute("DELETE FROM record_errors WHERE source=? AND identifier=?", (it.source, it.identifier))
                db.execute("DELETE FROM pending_deletes WHERE source=? AND identifier=?", (it.source, it.identifier))
            for it in pending:
                db.execute("INSERT OR REPLACE INTO pending_deletes(source, identifier, datestamp) VALUES (?,?,?)",
                           (it.source, it.identifier, it.datestamp))
            for f in failures:
                db.execute(
                    "INSERT INTO record_errors(source, identifier, error, location, raw, run_id, first_seen, last_seen) "
                    "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(source, identifier) DO UPDATE SET error=excluded.error, "
                    "location=excluded.location, raw=excluded.raw, run_id=excluded.run_id, last_seen=excluded.last_seen",
                    (f.source, f.identifier, f.error, f.location, f.raw, run_id, now, now))
                result.failed += 1
            if source is not None:   # a resumed run takes over what the killed one had seen
                db.executemany("INSERT INTO seen_in_run(source, identifier, location, document, run_id) VALUES (?,?,?,?,?) "
                               "ON CONFLICT(source, identifier) DO UPDATE SET location=excluded.location, "
                               "document=excluded.document, run_id=excluded.run_id WHERE run_id IS NOT excluded.run_id",
                               ((source, *_seen_row(i), run_id) for i in seen))
            if checkpoint is not None and source is not None:
                self._ensure_source(source)
                db.execute("UPDATE sources SET checkpoint=? WHERE id=?", (json.dumps(checkpoint), source))
        return result

    def pending_deletes(self, source: str) -> list[Item]:
        rows = self.db.execute("SELECT identifier, datestamp FROM pending_deletes WHERE source=?", (source,))
        return [Item(source, r["identifier"], datestamp=r["datestamp"]) for r in rows]

    def clear_pending_deletes(self, source: str) -> None:
        self.db.execute("DELETE FROM pending_deletes WHERE source=?", (source,))

    # A whole listing's identifiers are kept here, not in memory, so that finding the records that vanished
    # from a source costs the same memory for a million records as for ten, and survives a resumed run.
    def forget_seen(self, source: str) -> None:
        self.db.execute("DELETE FROM seen_in_run WHERE source=?", (source,))

    def first_met(self, source: str, identifier: str, run_id: int | None) -> str | None:
        """Where run `run_id` already met this identifier of the source (a duplicate), or None."""
        row = self.db.execute("SELECT location FROM seen_in_run WHERE source=? AND identifier=? AND run_id IS ?",
                              (source, identifier, run_id)).fetchone()
        return None if row is None else row[0] or "an earlier record"

    # Which document (of an XML or RDF source read over HTTP) holds each record, as of the last whole listing:
    # a document that did not change (304) is not read again, yet its records are seen, not deleted.
    def known_documents(self, source: str) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT DISTINCT document FROM document_records WHERE source=?", (source,))}

    def see_documents_again(self, source: str, documents: Iterable[str], run_id: int | None) -> None:
        """Count the records of unchanged `documents` as seen by this listing, as if they had been read."""
        with self.transaction() as db:
            for doc in documents:
                db.execute("INSERT OR IGNORE INTO seen_in_run(source, identifier, document, run_id) "
                           "SELECT source, identifier, document, ? FROM document_records WHERE source=? AND document=?",
                           (run_id, source, doc))

    def remember_documents(self, source: str) -> None:
        """After a whole listing: its documents and the records each holds, in place of the previous ones."""
        with self.transaction() as db:
            db.execute("DELETE FROM document_records WHERE source=?", (source,))
            db.execute("INSERT OR IGNORE INTO document_records(source, document, identifier) SELECT source, document, "
                       "identifier FROM seen_in_run WHERE source=? AND document IS NOT NULL", (source,))

    def seen_count(self, source: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM seen_in_run WHERE source=?", (source,)).fetchone()[0]

    @staticmethod
    def _doomed_query(vanished: bool, after: bool = False) -> str:
        key = " AND r.identifier > :a" if after else ""
        q = ("SELECT r.identifier FROM records r JOIN pending_deletes p ON p.source=r.source AND "
             f"p.identifier=r.identifier WHERE r.source=:s AND r.deleted=0{key}")
        if vanished:
            q += (f" UNION SELECT r.identifier FROM records r WHERE r.source=:s AND r.deleted=0{key} AND NOT EXISTS "
                  "(SELECT 1 FROM seen_in_run x WHERE x.source=r.source AND x.identifier=r.identifier)")
        return q

    def doomed_count(self, source: str, vanished: bool) -> int:
        """How many live records of the source a run would delete: those with a pending deletion, and (with
        `vanished`) those the whole listing did not show."""
        return self.db.execute(f"SELECT COUNT(*) FROM ({self._doomed_query(vanished)})", {"s": source}).fetchone()[0]

    def doomed(self, source: str, vanished: bool, chunk: int = 1000) -> Iterator[list[str]]:
        """The identifiers of doomed_count, in chunks, in identifier order, each chunk read from where the
        last ended (by key, along the (source, identifier) index)."""
        q = self._doomed_query(vanished, after=True) + " ORDER BY 1 LIMIT :n"
        after = ""
        while True:
            ids = [r[0] for r in self.db.execute(q, {"s": source, "a": after, "n": chunk})]
            if not ids:
                return
            yield ids
            after = ids[-1]

    def tombstone_ids(self, source: str, identifiers: Iterable[str]) -> int:
        return self.apply_batch([Item(source, i) for i in identifiers]).deleted

    def get(self, record_id: str, include_deleted: bool = False) -> dict | None:
        row = self.db.execute("SELECT record, deleted FROM records WHERE id=?", (record_id,)).fetchone()
        if not row or (row["deleted"] and not include_deleted) or row["record"] is None:
            return None
        return json.loads(row["record"])

    def row(self, record_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM records WHERE id=?", (record_id,)).fetchone()

    def count(self, source: str | None = None, deleted: bool = False) -> int:
        q, args = "SELECT COUNT(*) FROM records WHERE deleted=?", [int(deleted)]
        if source:
            q += " AND source=?"
            args.append(source)
        return self.db.execute(q, args).fetchone()[0]

    def live_identifiers(self, source: str) -> set[str]:
        """Every live identifier of a source, in memory: for tests and small tools, not for harvests."""
        return {r[0] for r in self.db.execute("SELECT identifier FROM records WHERE source=? AND deleted=0", (source,))}

    def max_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0]

    def changes(self, after_seq: int = 0, limit: int = 1000) -> list[sqlite3.Row]:
        """Records (and tombstones) changed after a sequence number, oldest change first."""
        return self.db.execute("SELECT * FROM records WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)).fetchall()

    def changed_since(self, since: str | None = None, until: str | None = None) -> Iterator[sqlite3.Row]:
        """Every record changed on this node in [since, until] (UTC datestamps), in change order, streamed."""
        after = 0
        while True:
            q, args = "SELECT * FROM records WHERE seq > ?", [after]
            if since:
                q += " AND changed >= ?"
                args.append(since)
            if until:
                q += " AND changed <= ?"
                args.append(until)
            rows = self.db.execute(q + " ORDER BY seq LIMIT 1000", args).fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1]["seq"]

    # ------------------------------------------------------------------ harvest state

    def _ensure_source(self, source: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO sources(id) VALUES (?)", (source,))

    def state(self, source: str) -> dict:
        row = self.db.execute("SELECT * FROM sources WHERE id=?", (source,)).fetchone()
        if not row:
            return {"checkpoint": None, "last_datestamp": None, "validators": {}}
        return {"checkpoint": json.loads(row["checkpoint"]) if row["checkpoint"] else None,
                "last_datestamp": row["last_datestamp"],
                "validators": json.loads(row["validators"]) if row["validators"] else {}}

    def save_state(self, source: str, *, checkpoint=..., last_datestamp=..., validators=...) -> None:
        """Update the given parts of a source's state (unnamed parts stay as they are)."""
        sets, args = [], []
        if checkpoint is not ...:
            sets.append("checkpoint=?")
            args.append(json.dumps(checkpoint) if checkpoint is not None else None)
        if last_datestamp is not ...:
            sets.append("last_datestamp=?")
            args.append(last_datestamp)
        if validators is not ...:
            sets.append("validators=?")
            args.append(json.dumps(validators) if validators else None)
        if not sets:
            return
        with self.transaction() as db:
            self._ensure_source(source)
            db.execute(f"UPDATE sources SET {', '.join(sets)} WHERE id=?", (*args, source))

    # ------------------------------------------------------------------ locks and runs

    def acquire(self, source: str, full: bool = False) -> int | None:
        """Start a run of `source` unless one is running; a run whose process died is marked crashed and
        its lock cleared. Returns the new run id, or None when a live run holds the lock."""
        host, pid, now = socket.gethostname(), os.getpid(), utcnow()
        with self.transaction() as db:
            self._ensure_source(source)
            row = db.execute("SELECT lock_pid, lock_host, lock_run FROM sources WHERE id=?", (source,)).fetchone()
            if row["lock_pid"]:
                if row["lock_host"] == host and not _pid_alive(row["lock_pid"]):
                    db.execute("UPDATE runs SET status='crashed', ended=?, error=? WHERE id=? AND status='running'",
                               (now, f"process {row['lock_pid']} died during the run", row["lock_run"]))
                else:
                    return None
            run_id = db.execute("INSERT INTO runs(source, started, status, full, pid) VALUES (?,?,?,?,?)",
                                (source, now, "running", int(full), pid)).lastrowid
            db.execute("UPDATE sources SET lock_pid=?, lock_host=?, lock_run=?, lock_since=? WHERE id=?",
                       (pid, host, run_id, now, source))
            return run_id

    def lock_holder(self, source: str) -> dict | None:
        row = self.db.execute("SELECT lock_pid, lock_host, lock_run, lock_since FROM sources WHERE id=?", (source,)).fetchone()
        return dict(row) if row and row["lock_pid"] else None

    def update_run(self, run_id: int, **counters) -> None:
        if counters:
            cols = ", ".join(f"{k}=?" for k in counters)
            self.db.execute(f"UPDATE runs SET {cols} WHERE id=?", (*counters.values(), run_id))

    def finish(self, source: str, run_id: int, status: str, error: str | None = None, **counters) -> None:
        with self.transaction() as db:
            cols = "".join(f", {k}=?" for k in counters)
            db.execute(f"UPDATE runs SET status=?, ended=?, error=?{cols} WHERE id=?",
                       (status, utcnow(), error, *counters.values(), run_id))
            db.execute("UPDATE sources SET lock_pid=NULL, lock_host=NULL, lock_run=NULL, lock_since=NULL "
                       "WHERE id=? AND lock_run=?", (source, run_id))

    def runs(self, source: str | None = None, limit: int = 20) -> list[dict]:
        q, args = "SELECT * FROM runs", []
        if source:
            q += " WHERE source=?"
            args.append(source)
        return [dict(r) for r in self.db.execute(q + " ORDER BY id DESC LIMIT ?", (*args, limit))]

    def last_run(self, source: str) -> dict | None:
        runs = self.runs(source, 1)
        return runs[0] if runs else None

    def sources(self) -> list[str]:
        """Every source the store knows: from its records, its state or its runs."""
        q = "SELECT id FROM sources UNION SELECT DISTINCT source FROM records UNION SELECT DISTINCT source FROM runs"
        return sorted(r[0] for r in self.db.execute(q))

    # ------------------------------------------------------------------ diagnostics

    def failures(self, source: str | None = None) -> list[dict]:
        q, args = "SELECT * FROM record_errors", []
        if source:
            q += " WHERE source=?"
            args.append(source)
        return [dict(r) for r in self.db.execute(q + " ORDER BY source, error, identifier", args)]

    def failure(self, source: str, identifier: str) -> dict | None:
        row = self.db.execute("SELECT * FROM record_errors WHERE source=? AND identifier=?", (source, identifier)).fetchone()
        return dict(row) if row else None

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))
