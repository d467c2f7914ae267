"""The embedded search backend: SQLite FTS5 in the store's own file, no server.

    index = EmbeddedBackend("data/node.sqlite")       # the store's file: the index has its own tables
    index.upsert(records); index.commit()
    res = index.search(Query("polychlorobiphényles", filters={"countries": ["SN"]}, facets=True))

Tables (created on first use, next to the store's):

    idx_docs(doc INTEGER PRIMARY KEY, id UNIQUE, sort_date, title_sort, facets, recent_date, issued,
             datestamp)                                                   one small row per record
    idx_records(doc INTEGER PRIMARY KEY, record)                          the record as indexed (JSON)
    idx_facets(field, value, doc)                                         one row per facet value (filters)
    idx_fts(title, description, keywords, other)                          FTS5, rowid = doc

``idx_docs.facets`` repeats the record's facet values ("field<US>value<RS>..."): facet counts over a
matching set read those short rows and count in Python, which is several times faster than grouping
idx_facets; counts over every record group idx_facets and are kept until the index changes.

The FTS5 table tokenises with ``unicode61 remove_diacritics 2`` (case and accents folded; words of Latin,
Cyrillic, Greek and Arabic script). Before text reaches it, :func:`prepare` folds what unicode61 does not:
each Chinese or Japanese character becomes a token of its own (a zero-width space on each side), Arabic
short vowels and tatweel are removed and alef/ta marbuta/alef maqsura variants folded, full-width forms and
ligatures are NFKC-folded, invisible characters dropped, and a plural s is dropped from Latin-script words
("dioxins" finds "dioxin", "PCBs" finds "PCB"). Queries go through the same preparation, and every
term is passed to FTS5 as a quoted string, so a CJK run is a phrase of characters and nothing a user types
is ever FTS5 syntax. Each column holds the texts of all languages of that field, one per line, in the order
of their language tags (:func:`_columns`: the same whatever order the record's dicts come in, so the
record read back from idx_records, whose keys JSON sorted, gives the very text that was indexed); highlights
are made by FTS5's highlight() with private-use markers on the prepared text as stored, mapped back onto the
original text (:func:`prepare` keeps, for each character it outputs, where it came from; the record's texts
are first lined up with the stored column, :func:`_stored_order`, so an index written with its languages in
another order is still marked right, and a column that cannot be lined up gets no marks rather than
misplaced ones), HTML-escaped, and the markers turned into ``<mark>``. A phrase's mark is split where
punctuation other than a dash, apostrophe or slash stands between its words ("<mark>bifenilos
policlorados</mark> (<mark>PCB</mark>)").

Ranking is FTS5's bm25 with the columns weighted 10 (title), 4 (description), 2 (keywords), 1 (other);
records that match only because they hold a chemical the query names score 0; ties go by doc. A text
query's matching set is computed once per search into a temporary table, then counted, faceted and paged
from there; a query without text reads idx_docs directly through its (sort_date, id) and (title_sort, id)
indexes. Cursors carry the last hit's sort key and id (doc for relevance) and continue with a row-value
comparison, so a page past hit 10,000 costs what the first does.

Every write is one transaction (BEGIN IMMEDIATE), committed when upsert() or delete() returns; searches
read one snapshot. The backend serialises its own callers with a lock, so threads may share it.

Changing :func:`prepare` or the tables changes what the index means: bump ``SCHEMA_VERSION``, and an index
of an older version is dropped on open (indexed_seq goes back to 0, so the next catch_up rebuilds it). A
column that can be worked out from the records already indexed is added on open instead, without a rebuild,
and filled from idx_records in the same transaction that adds it (:func:`_add_columns`): ``recent_date``
(the ``recent`` sort and the ``harvested`` range, :func:`harvester.index.recent_date`), ``issued`` and
``datestamp`` (date ranges; :func:`harvester.index.fit_datetime`, '' when the record has none).

A boolean query (``Query.where``) becomes one SQL condition on the doc number (:func:`where_sql`): words
are ``doc IN (SELECT rowid FROM idx_fts WHERE idx_fts MATCH ?)`` with the terms as quoted FTS5 strings (a
field scope as an FTS5 column filter, ``title : (...)``), equalities and year ranges subqueries on
idx_facets, date ranges comparisons on idx_docs' columns; every value is an SQL parameter.
"""
from __future__ import annotations

import html
import json
import re
import threading
import unicodedata
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from ..store import Store
from . import (CJK_CLASS, FACET_FIELDS, FACET_LIMIT, TEXT_FIELDS, Backend, Hit, Query, QueryPlan, Results,
               decode_cursor, encode_cursor, facet_values, fit_datetime, hit_from_record, index_lag, issued_date, plan_query,
               recent_date, sort_date, stored_record, text_segments, title_sort, And, Equals, Not, Or, Range, Words, NOTHING,
               word_plan)

SCHEMA_VERSION = "2"      # 2: facets source (this node's source) and origin_source
META_SEQ = "index.embedded.seq"
META_SCHEMA = "index.embedded.schema"

WEIGHTS = (10.0, 4.0, 2.0, 1.0)  # bm25 weights of TEXT_FIELDS
SNIPPET_CHARS = 240
SNIPPETS_PER_FIELD = 3

_TABLES = """
CREATE TABLE IF NOT EXISTS idx_docs (
    doc         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    sort_date   TEXT NOT NULL,
    title_sort  TEXT NOT NULL,
    facets      TEXT NOT NULL,
    recent_date TEXT NOT NULL DEFAULT '',
    issued      TEXT NOT NULL DEFAULT '',
    datestamp   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS idx_records (
    doc         INTEGER PRIMARY KEY,
    record      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_docs_date ON idx_docs(sort_date, id);
CREATE INDEX IF NOT EXISTS idx_docs_title ON idx_docs(title_sort, id);
CREATE INDEX IF NOT EXISTS idx_docs_recent ON idx_docs(recent_date, id);
CREATE TABLE IF NOT EXISTS idx_facets (
    field   TEXT NOT NULL,
    value   TEXT NOT NULL,
    doc     INTEGER NOT NULL,
    PRIMARY KEY (field, value, doc)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS idx_fts USING fts5(
    title, description, keywords, other, tokenize = 'unicode61 remove_diacritics 2'
);
"""
_DROP = ("DROP TABLE IF EXISTS idx_docs; DROP TABLE IF EXISTS idx_records; DROP TABLE IF EXISTS idx_facets; "
         "DROP TABLE IF EXISTS idx_fts;")

# ----------------------------------------------------------------------------------------------- text preparation

ZW = "\u200b"            # token separator inserted around CJK characters
OPEN, CLOSE = "\ue000", "\ue001"   # highlight markers (private use: never in prepared text)
_UNIT, _PAIR = "\x1f", "\x1e"      # separators of idx_docs.facets: field<US>value<RS>field<US>value...


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for ch in (OPEN, CLOSE, ZW, "\x00"):                    # markers and separators of our own, NUL
        table[ord(ch)] = " "
    for cp in [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640,
               0x00AD, 0x200C, 0x200D, 0x2060, 0xFEFF]:      # Arabic short vowels and tatweel; invisible
        table[cp] = ""
    for a, b in (("\u0622", "\u0627"), ("\u0623", "\u0627"), ("\u0625", "\u0627"), ("\u0671", "\u0627"),
                 ("\u0629", "\u0647"), ("\u0649", "\u064a"), ("\u06cc", "\u064a"), ("\u06a9", "\u0643")):
        table[ord(a)] = b                                     # Arabic letter variants
    for cp in [*range(0xFF01, 0xFFEF), *range(0xFB00, 0xFB07)]:  # full- and half-width forms, ligatures
        table[cp] = unicodedata.normalize("NFKC", chr(cp))
    return table


_FOLD = _fold_table()
_NEEDS_FOLD = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_FOLD)) + "]")
_CJK = re.compile(f"[{CJK_CLASS}]")
_CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
# A light, language-blind plural rule for Latin-script words (en, fr, es): a final s is dropped from words
# of four letters or more, unless it follows s, u or i ("process", "virus", "analysis" stay). The s is
# matched first and the lookbehind checked after: many times faster than the other way round.
_PLURAL = re.compile(r"[sS](?<=[^\W\d_]{2}[^\W\d_sSuUiI][sS])\b")


def _facet_pairs(blob: str) -> list[tuple[str, str]]:
    """idx_docs.facets back into (field, value) pairs."""
    return [tuple(p.split(_UNIT, 1)) for p in blob.split(_PAIR) if _UNIT in p] if blob else []


def _cjk_apart(m: re.Match) -> str:
    return ZW + ZW.join(m.group()) + ZW


def prepare(text: str, with_map: bool = False) -> tuple[str, list[int] | None]:
    """Text as the FTS5 table is given it (see the module docstring), and, when ``with_map``, for each
    character of the result the index of the original character it comes from (-1: an inserted separator;
    None: every character kept its place). Both paths apply the same three steps: fold characters (_FOLD), put a
    zero-width space around and between CJK characters, drop a plural s."""
    if text.isascii():
        folded = text.replace("\x00", " ") if "\x00" in text else text
        src = None
    elif with_map and _NEEDS_FOLD.search(text):
        parts, src, pos = [], [], 0
        for m in _NEEDS_FOLD.finditer(text):
            i = m.start()
            parts.append(text[pos:i])
            src.extend(range(pos, i))
            rep = _FOLD[ord(text[i])]
            parts.append(rep)
            src.extend([i] * len(rep))
            pos = i + 1
        parts.append(text[pos:])
        src.extend(range(pos, len(text)))
        folded = "".join(parts)
    else:
        folded = text.translate(_FOLD) if _NEEDS_FOLD.search(text) else text
        src = None
    if not folded.isascii() and _CJK.search(folded):
        if not with_map:
            folded = _CJK_RUN.sub(_cjk_apart, folded)
        else:
            if src is None:
                src = list(range(len(folded)))
            out, out_src, pos = [], [], 0
            for m in _CJK_RUN.finditer(folded):
                out.append(folded[pos:m.start()])
                out_src.extend(src[pos:m.start()])
                out.append(_cjk_apart(m))
                for k in range(m.start(), m.end()):
                    out_src.extend((-1, src[k]))
                out_src.append(-1)
                pos = m.end()
            out.append(folded[pos:])
            out_src.extend(src[pos:])
            folded, src = "".join(out), out_src
    if not with_map:
        return _PLURAL.sub("", folded), None
    drops = [m.start() for m in _PLURAL.finditer(folded)]
    if drops:
        if src is None:
            src = list(range(len(folded)))
        pieces, keep_src, pos = [], [], 0
        for d in drops:
            pieces.append(folded[pos:d])
            keep_src.extend(src[pos:d])
            pos = d + 1
        pieces.append(folded[pos:])
        keep_src.extend(src[pos:])
        folded, src = "".join(pieces), keep_src
    return folded, src


def _fts_string(term: str) -> str:
    """A term as an FTS5 string: its tokens must occur in sequence (a phrase). Never FTS5 syntax."""
    prepared, _ = prepare(term)
    return '"' + prepared.replace('"', '""') + '"'


def _all_of(terms) -> str:
    return " AND ".join(_fts_string(t) for t in terms)


def match_expressions(plan: QueryPlan) -> tuple[str, str | None]:
    """The FTS5 expression a text query matches and ranks with, and the one its residual terms must match
    in records holding one of its chemicals (None: no residual terms)."""
    expr = f"({_all_of(plan.terms)})"
    residual = _all_of(plan.residual) if plan.residual else None
    if plan.chemicals and plan.names:
        names = "(" + " OR ".join(_fts_string(n) for n in plan.names) + ")"
        expr += f" OR ({names} AND ({residual}))" if residual else f" OR {names}"
    return expr, residual


_DATE_COLUMN = {"issued": "issued", "datestamp": "datestamp", "harvested": "recent_date"}


def where_sql(node, col: str) -> tuple[str, list]:
    """A checked boolean query (harvester.index.check_where) as an SQL condition on the doc number ``col``
    and its parameters. Nothing from the query but parameters and quoted FTS5 strings reaches SQLite."""
    if isinstance(node, (And, Or)):
        if not node.items:
            return ("1" if isinstance(node, And) else "0"), []
        parts = [where_sql(item, col) for item in node.items]
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [a for _, args in parts for a in args]
    if isinstance(node, Not):
        sql, args = where_sql(node.item, col)
        return f"(NOT {sql})", args
    if isinstance(node, Equals):
        marks = ",".join("?" * len(node.values))
        if node.field == "id":
            return f"{col} IN (SELECT doc FROM idx_docs WHERE id IN ({marks}))", list(node.values)
        return (f"{col} IN (SELECT doc FROM idx_facets WHERE field=? AND value IN ({marks}))",
                [node.field, *node.values])
    if isinstance(node, Range):
        if node.field == "year":
            conds, args = [], []
            for bound, op in ((node.low, ">="), (node.high, "<=")):
                if bound is not None:
                    conds.append(f"CAST(value AS INTEGER) {op} ?")
                    args.append(bound)
            return (f"{col} IN (SELECT doc FROM idx_facets WHERE field='year' AND {' AND '.join(conds)})", args)
        column = _DATE_COLUMN[node.field]
        conds, args = [f"{column} <> ''"], []
        if node.low is not None:
            conds.append(f"{column} {'>=' if node.low_inclusive else '>'} ?")
            args.append(node.low)
        if node.high is not None:
            conds.append(f"{column} {'<=' if node.high_inclusive else '<'} ?")
            args.append(node.high)
        return f"{col} IN (SELECT doc FROM idx_docs WHERE {' AND '.join(conds)})", args
    if isinstance(node, Words):
        plan = word_plan(node)
        if plan.chemicals:
            expr, residual = match_expressions(plan)
        else:
            expr, residual = _all_of(plan.terms), None
        if node.scope != "any":
            expr = f"{node.scope} : ({expr})"
        sql = f"{col} IN (SELECT rowid FROM idx_fts WHERE idx_fts MATCH ?)"
        args: list = [expr]
        if plan.chemicals:
            tagged = (f"{col} IN (SELECT doc FROM idx_facets WHERE field='chemicals' AND value IN "
                      f"({','.join('?' * len(plan.chemicals))})")
            args += plan.chemicals
            if residual:
                tagged += " AND doc IN (SELECT rowid FROM idx_fts WHERE idx_fts MATCH ?)"
                args.append(residual)
            sql = f"({sql} OR {tagged}))"
        return sql, args
    raise ValueError(f"not a checked boolean query: {node!r}")


# ----------------------------------------------------------------------------------------------- highlights


def _segments(record: dict) -> list[list[tuple[str, str]]]:
    """Each text column's segments (lang, text), in the order they are indexed: by language tag (stable, so
    several texts of one language keep their order). Not the dicts' order: a record read back from
    idx_records has its keys sorted by JSON, the record that was indexed had them in any order."""
    segs = text_segments(record)
    return [sorted(segs[name], key=lambda s: s[0]) for name in TEXT_FIELDS]


def _join(segments: list[tuple[str, str]]) -> tuple[str, list[tuple[int, int, str]]]:
    """Segments as one column's original text (one per line) and their places in it (start, end, lang)."""
    layout, pos = [], 0
    for lang, text in segments:
        layout.append((pos, pos + len(text), lang))
        pos += len(text) + 1
    return "\n".join(t for _, t in segments), layout


def _columns(record: dict) -> tuple[list[str], list[list[tuple[int, int, str]]]]:
    """Each text column as the original text (segments one per line) and its segments (start, end, lang)."""
    texts, layouts = [], []
    for segments in _segments(record):
        text, layout = _join(segments)
        texts.append(text)
        layouts.append(layout)
    return texts, layouts


def _stored_order(stored: str, segments: list[tuple[str, str]], budget: int = 10_000) -> list[int] | None:
    """The order of ``segments`` whose prepared texts, one per line, are ``stored`` (a column as the index
    holds it); None when no order is. :func:`prepare` works within a line, so a column is its segments
    prepared one by one and joined."""
    prepared = [prepare(t)[0] for _, t in segments]
    if "\n".join(prepared) == stored:
        return list(range(len(segments)))
    if not any("\n" in p for p in prepared):        # one line per segment: match the lines
        lines = stored.split("\n")
        if len(lines) != len(prepared):
            return None
        free: dict[str, list[int]] = {}
        for i, p in enumerate(prepared):
            free.setdefault(p, []).append(i)
        order = []
        for line in lines:
            if not free.get(line):
                return None
            order.append(free[line].pop(0))
        return order
    # a text with line breaks of its own: try the segments that fit at each place, going back when stuck
    used, order, steps = [False] * len(segments), [], [0]

    def place(pos: int) -> bool:
        if len(order) == len(segments):
            return pos == len(stored) + 1
        steps[0] += 1
        if steps[0] > budget:
            return False
        tried = set()
        for i, p in enumerate(prepared):
            if used[i] or p in tried or not stored.startswith(p, pos):
                continue
            end = pos + len(p)
            if end != len(stored) and stored[end] != "\n":
                continue
            tried.add(p)                      # segments that prepare alike are interchangeable
            used[i] = True
            order.append(i)
            if place(end + 1):
                return True
            used[i] = False
            order.pop()
        return False

    return order if place(0) else None


def _soft(ch: str) -> bool:
    """May this character stand between two words of one mark (a phrase's words: "PCB-containing",
    "South–South", "l'air", "PCDD/PCDF", "bifenilos policlorados")?"""
    return (ch.isalnum() or ch.isspace() or ch in "'\u2019\u02bc/"
            or unicodedata.category(ch) in ("Pd", "Mn", "Mc", "Me", "Cf"))


def _split_span(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """A marked span of the original text as the parts to mark: cut at characters that do not join words
    (brackets, quotes, commas, colons...), each part without spaces, dashes or slashes at its ends."""
    parts, start = [], s
    for k in range(s, e + 1):
        if k == e or not _soft(text[k]):
            a, b = start, k
            while a < b and not (text[a].isalnum() or _CJK.match(text[a])):
                a += 1
            while b > a and (text[b - 1].isspace() or text[b - 1] in "'\u2019\u02bc/"
                             or unicodedata.category(text[b - 1]) == "Pd"):
                b -= 1
            if a < b:
                parts.append((a, b))
            start = k + 1
    return parts


def _marked_spans(highlighted: str, src: list[int] | None, original_len: int,
                  text: str | None = None) -> list[tuple[int, int]]:
    """Spans [start, end) of the original text that highlight() marked in the prepared text (split at
    punctuation between words when ``text``, the original, is given)."""
    spans, k, start = [], 0, None
    for piece in re.split(f"([{OPEN}{CLOSE}])", highlighted):
        if piece == OPEN:
            start = k
        elif piece == CLOSE:
            if start is not None and k > start:
                spans.append((start, k))
            start = None
        else:
            k += len(piece)
    if src is not None:
        out = []
        for s, e in spans:
            kept = [src[x] for x in range(s, min(e, len(src))) if src[x] >= 0]
            if not kept:
                continue
            # the span ends where the next character that made it into the prepared text begins, so that
            # characters dropped from the end of a word (a plural s, Arabic vowels) are marked with it
            end = next((src[x] for x in range(e, len(src)) if src[x] >= 0), None)
            out.append((kept[0], end if end is not None else original_len))
        spans = out
    if text is None:
        return spans
    return [part for s, e in spans for part in _split_span(text, s, e)]


def _render(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for s, e in spans:
        if s < pos:
            s = pos
        if e <= s:
            continue
        out.append(html.escape(text[pos:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _window(text: str, spans: list[tuple[int, int]], size: int = SNIPPET_CHARS) -> str:
    """An HTML snippet of about ``size`` characters around the first match, cut at spaces where it can."""
    if len(text) <= size:
        return _render(text, spans)
    first_s, first_e = spans[0]
    start = max(0, first_s - size // 4)
    if start:
        sp = text.rfind(" ", max(0, start - 20), first_s)
        start = sp + 1 if sp >= 0 else start
    end = min(len(text), max(start + size, first_e))
    if end < len(text):
        sp = text.rfind(" ", first_e, end)
        end = sp if sp > first_e else end
    inner = [(max(s, start) - start, min(e, end) - start) for s, e in spans if e > start and s < end]
    return ("…" if start else "") + _render(text[start:end], inner) + ("…" if end < len(text) else "")


def field_snippets(name: str, text: str, layout, spans, want: str | None) -> list[str]:
    """The HTML snippets of one text field: each language segment holding marked spans, rendered whole
    (title, keywords) or as a window around the marks; the interface's language first, then field order."""
    snippets: list[tuple[bool, str]] = []
    for seg_start, seg_end, seg_lang in layout:
        inside = [(max(s, seg_start) - seg_start, min(e, seg_end) - seg_start)
                  for s, e in spans if e > seg_start and s < seg_end]
        if not inside:
            continue
        seg = text[seg_start:seg_end]
        snippet = _render(seg, inside) if name in ("title", "keywords") else _window(seg, inside)
        first = bool(want) and seg_lang.replace("_", "-").split("-")[0].lower() == want
        snippets.append((not first, snippet))
    snippets.sort(key=lambda s: s[0])  # stable
    return [s for _, s in snippets[:SNIPPETS_PER_FIELD]]


def highlights_for(record: dict, marked: list[str], lang: str | None = None) -> dict[str, list[str]]:
    """The HTML snippets of each text field, from highlight() output of each FTS column."""
    want = (lang or "").replace("_", "-").split("-")[0].lower()
    out: dict[str, list[str]] = {}
    for name, segments, hl in zip(TEXT_FIELDS, _segments(record), marked):
        if not hl or OPEN not in hl:
            continue
        stored = hl.replace(OPEN, "").replace(CLOSE, "")
        text, layout = _join(segments)
        prepared, src = prepare(text, with_map=True)
        if prepared != stored:
            # written with the languages in another order (an index made before they were sorted)
            order = _stored_order(stored, segments)
            if order is None:           # the index holds other text than the record's: no marks at all
                continue
            text, layout = _join([segments[i] for i in order])
            prepared, src = prepare(text, with_map=True)
            if prepared != stored:
                continue
        spans = _marked_spans(hl, src, len(text), text)
        snippets = field_snippets(name, text, layout, spans, want)
        if snippets:
            out[name] = snippets
    return out


# ----------------------------------------------------------------------------------------------- backend

_ORDER = {
    # ties in score are broken by doc (the row number), not id: no join with idx_docs before the page is cut
    "relevance": ("m.score DESC, m.doc ASC", "(m.score < ? OR (m.score = ? AND m.doc > ?))"),
    "newest": ("d.sort_date DESC, d.id DESC", "(d.sort_date, d.id) < (?, ?)"),
    "oldest": ("d.sort_date ASC, d.id ASC", "(d.sort_date, d.id) > (?, ?)"),
    "title": ("d.title_sort ASC, d.id ASC", "(d.title_sort, d.id) > (?, ?)"),
    "recent": ("d.recent_date DESC, d.id DESC", "(d.recent_date, d.id) < (?, ?)"),
}


_DATE_COLUMNS = ("recent_date", "issued", "datestamp")


def _dates(record: dict) -> tuple[str, str, str]:
    """The record's values of _DATE_COLUMNS."""
    return (recent_date(record), fit_datetime(issued_date(record)) or "",
            fit_datetime(record.get("datestamp")) or "")


def _add_columns(db) -> None:
    """Add the _DATE_COLUMNS an index made before them lacks, filled from the records it holds, inside the
    caller's transaction (a crash leaves the index as it was)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(idx_docs)")}
    missing = [c for c in _DATE_COLUMNS if c not in have]
    if not missing:
        return
    for name in missing:
        db.execute(f"ALTER TABLE idx_docs ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")
    update = f"UPDATE idx_docs SET {', '.join(f'{c}=?' for c in _DATE_COLUMNS)} WHERE doc=?"
    records = db.execute("SELECT doc, record FROM idx_records")
    while rows := records.fetchmany(1000):           # a large index is never all in memory
        db.executemany(update, [(*_dates(json.loads(body)), doc) for doc, body in rows])


class EmbeddedBackend(Backend):
    """The search index in the SQLite file at ``path`` (the store's file; see the module docstring)."""

    name = "embedded"

    def __init__(self, path: str | Path):
        if str(path) == ":memory:":
            raise ValueError("the embedded index needs a file (the store's), not :memory:")
        self._store = Store(path)
        self.path = self._store.path
        self.db = self._store.db
        self._lock = threading.RLock()
        self._rebuilding = False
        self._writes = 0            # with PRAGMA data_version: has the index changed since a cached answer?
        self._all_facets: tuple[tuple[int, int], dict] | None = None
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.execute("PRAGMA temp_store=MEMORY")
        with self._write():
            if self._store.meta(META_SCHEMA) not in (None, SCHEMA_VERSION):
                for stmt in _DROP.split(";"):
                    if stmt.strip():
                        self.db.execute(stmt)
                self._store.set_meta(META_SEQ, "0")
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE name='idx_docs'").fetchone():
                _add_columns(self.db)               # an index made before the recent sort and date ranges
            for stmt in _TABLES.split(";"):
                if stmt.strip():
                    self.db.execute(stmt)
            self._store.set_meta(META_SCHEMA, SCHEMA_VERSION)
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS idx_match (doc INTEGER PRIMARY KEY, score REAL NOT NULL)")

    # ---------------------------------------------------------------- transactions

    @contextmanager
    def _write(self):
        with self._lock:
            if self._rebuilding:      # inside rebuild_swap's one transaction
                yield self.db
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")
            finally:
                self._writes += 1

    @contextmanager
    def _read(self):
        with self._lock:
            self.db.execute("BEGIN")
            try:
                yield self.db
            finally:
                self.db.execute("COMMIT")

    # ---------------------------------------------------------------- writing

    @staticmethod
    def _row(record: dict):
        if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
            raise ValueError("a record to index needs a string id")
        texts, _ = _columns(record)
        cols = [prepare(t)[0] for t in texts]
        facets = [(f, v.replace(_PAIR, " ").replace(_UNIT, " "))
                  for f, vals in facet_values(record).items() for v in vals]
        return (record["id"], json.dumps(record, ensure_ascii=False, sort_keys=True), sort_date(record),
                title_sort(record), _dates(record), cols, facets)

    def upsert(self, records: list[dict]) -> None:
        rows: dict[str, tuple] = {}
        for r in records:                  # prepared before the transaction; a later duplicate id wins
            row = self._row(r)
            rows.pop(row[0], None)
            rows[row[0]] = row
        if not rows:
            return
        with self._write() as db:
            old: dict[str, tuple[int, str, str]] = {}
            keys = list(rows)
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                old.update((rid, (doc, body, fblob)) for rid, doc, body, fblob in db.execute(
                    f"SELECT d.id, d.doc, r.record, d.facets FROM idx_docs d JOIN idx_records r ON r.doc = d.doc "
                    f"WHERE d.id IN ({','.join('?' * len(chunk))})", chunk))
            next_doc = db.execute("SELECT COALESCE(MAX(doc), 0) + 1 FROM idx_docs").fetchone()[0]
            inserts, updates, replaced, fts, facets, bodies, new_bodies, stale = [], [], [], [], [], [], [], []
            for rid, body, sdate, tsort, dates, cols, fvals in rows.values():
                if rid in old:
                    doc, old_body, old_facets = old[rid]
                    if old_body == body:
                        continue
                    stale.extend((f, v, doc) for f, v in _facet_pairs(old_facets))
                    updates.append((_PAIR.join(f + _UNIT + v for f, v in fvals), sdate, tsort, *dates, doc))
                    bodies.append((body, doc))
                    replaced.append((doc,))
                else:
                    doc, next_doc = next_doc, next_doc + 1
                    inserts.append((doc, rid, _PAIR.join(f + _UNIT + v for f, v in fvals), sdate, tsort, *dates))
                    new_bodies.append((doc, body))
                fts.append((doc, *cols))
                facets.extend((f, v, doc) for f, v in fvals)
            if replaced:
                db.executemany("DELETE FROM idx_fts WHERE rowid=?", replaced)
                db.executemany("DELETE FROM idx_facets WHERE field=? AND value=? AND doc=?", stale)
                db.executemany("UPDATE idx_docs SET facets=?, sort_date=?, title_sort=?, recent_date=?, issued=?, "
                               "datestamp=? WHERE doc=?", updates)
                db.executemany("UPDATE idx_records SET record=? WHERE doc=?", bodies)
            db.executemany("INSERT INTO idx_docs(doc, id, facets, sort_date, title_sort, recent_date, issued, "
                           "datestamp) VALUES (?,?,?,?,?,?,?,?)", inserts)
            db.executemany("INSERT INTO idx_records(doc, record) VALUES (?,?)", new_bodies)
            db.executemany("INSERT INTO idx_fts(rowid, title, description, keywords, other) VALUES (?,?,?,?,?)", fts)
            db.executemany("INSERT OR IGNORE INTO idx_facets(field, value, doc) VALUES (?,?,?)", facets)

    def delete(self, ids: list[str]) -> None:
        with self._write() as db:
            for rid in ids:
                row = db.execute("SELECT doc, facets FROM idx_docs WHERE id=?", (rid,)).fetchone()
                if row is None:
                    continue
                db.execute("DELETE FROM idx_fts WHERE rowid=?", (row[0],))
                db.executemany("DELETE FROM idx_facets WHERE field=? AND value=? AND doc=?",
                               [(f, v, row[0]) for f, v in _facet_pairs(row[1])])
                db.execute("DELETE FROM idx_docs WHERE doc=?", (row[0],))
                db.execute("DELETE FROM idx_records WHERE doc=?", (row[0],))

    def commit(self) -> None:
        """Nothing to do: every upsert and delete is committed (and visible) when it returns."""

    def clear(self) -> None:
        with self._write() as db:
            for stmt in (_DROP + _TABLES).split(";"):
                if stmt.strip():
                    db.execute(stmt)
            self._store.set_meta(META_SEQ, "0")

    def rebuild_swap(self, store, progress=None) -> int:
        """Rebuild the whole index from the store in ONE transaction: other connections (a running node)
        keep searching the old index until the new one is complete and commits."""
        from . import catch_up
        with self._write():
            self._rebuilding = True
            try:
                self.clear()
                return catch_up(self, store, progress=progress)
            finally:
                self._rebuilding = False

    def optimize(self) -> None:
        """Merge the FTS5 index's segments into one (worth it after a rebuild; takes a while)."""
        with self._write() as db:
            db.execute("INSERT INTO idx_fts(idx_fts) VALUES ('optimize')")

    def indexed_seq(self) -> int:
        with self._lock:
            return int(self._store.meta(META_SEQ, "0") or 0)

    def set_indexed_seq(self, seq: int) -> None:
        with self._lock:
            self._store.set_meta(META_SEQ, str(int(seq)))

    def close(self) -> None:
        with self._lock:
            self._store.close()

    # ---------------------------------------------------------------- reading

    def get(self, record_id: str) -> dict | None:
        with self._lock:
            row = self.db.execute("SELECT r.record FROM idx_docs d JOIN idx_records r ON r.doc = d.doc "
                                  "WHERE d.id=?", (record_id,)).fetchone()
        return stored_record(json.loads(row[0])) if row else None

    def count(self) -> int:
        with self._lock:
            return self.db.execute("SELECT COUNT(*) FROM idx_docs").fetchone()[0]

    @staticmethod
    def _filters(q: Query, col: str) -> tuple[str, list]:
        """The SQL condition of the query's filters and boolean query on the doc number ``col``."""
        sql, args = [], []
        for name, values in q.filters.items():
            sql.append(f"{col} IN (SELECT doc FROM idx_facets WHERE field=? AND value IN "
                       f"({','.join('?' * len(values))}))")
            args += [name, *values]
        if q.where is not None:
            where, wargs = where_sql(q.where, col)
            sql.append(where)
            args += wargs
        return " AND ".join(sql) or "1", args

    def search(self, q: Query) -> Results:
        res = self._search(q)
        with self._lock:
            res.index_lag = index_lag(self, self._store, self.indexed_seq())
        return res

    def _search(self, q: Query) -> Results:
        q = q.checked()
        plan = plan_query(q.text)
        sort = q.effective_sort
        after = decode_cursor(q.cursor, sort) if q.cursor else None
        if after is not None and (len(after) != 2 or not (
                isinstance(after[0], (int, float)) and isinstance(after[1], int) if sort == "relevance"
                else isinstance(after[0], str) and isinstance(after[1], str))):
            raise ValueError("invalid cursor (use next_cursor from a previous result)")
        chems = list(plan.chemicals)
        if plan.match_none or q.where == NOTHING:
            return Results(0, [], {f: {} for f in q.facets}, None, chems, ids=[] if q.ids else None)
        where, wargs = self._filters(q, "doc" if not plan.match_all else "d.doc")
        with self._read() as db:
            if plan.match_all:
                # pages come straight from idx_docs, in the order of its indexes
                source = "idx_docs d"
                score = "0.0"
                base_where, base_args = where, wargs
                if (q.filters or q.where is not None) and q.facets:
                    db.execute("DELETE FROM temp.idx_match")
                    db.execute(f"INSERT INTO temp.idx_match(doc, score) SELECT d.doc, 0.0 FROM idx_docs d "
                               f"WHERE {where}", wargs)
                    total = db.execute("SELECT COUNT(*) FROM temp.idx_match").fetchone()[0]
                    matched = True
                else:
                    total = db.execute(f"SELECT COUNT(*) FROM idx_docs d WHERE {where}", wargs).fetchone()[0]
                    matched = False
            else:
                expr, residual = match_expressions(plan)
                # "+rowid": the filters must not reach FTS5 as rowid constraints (it would run the match
                # once per filtered row)
                fwhere, fargs = self._filters(q, "+rowid")
                db.execute("DELETE FROM temp.idx_match")
                db.execute(f"INSERT INTO temp.idx_match(doc, score) SELECT rowid, "
                           f"-bm25(idx_fts, {', '.join(map(str, WEIGHTS))}) FROM idx_fts "
                           f"WHERE idx_fts MATCH ? AND {fwhere}", [expr, *fargs])
                if chems:
                    # text scores are above 0, so a record already found by its text keeps its score
                    tagged = (f"INSERT OR IGNORE INTO temp.idx_match(doc, score) SELECT doc, 0.0 FROM idx_facets "
                              f"WHERE field='chemicals' AND value IN ({','.join('?' * len(chems))}) AND {where}")
                    targs = [*chems, *wargs]
                    if residual:
                        tagged += " AND doc IN (SELECT rowid FROM idx_fts WHERE idx_fts MATCH ?)"
                        targs.append(residual)
                    db.execute(tagged, targs)
                source = "temp.idx_match m JOIN idx_docs d ON d.doc = m.doc"
                score = "m.score"
                base_where, base_args = "1", []
                total = db.execute("SELECT COUNT(*) FROM temp.idx_match").fetchone()[0]
                matched = True
            order, cursor_cond = _ORDER[sort]
            page_where, page_args = base_where, list(base_args)
            if after is not None:
                page_where += f" AND {cursor_cond}"
                page_args += [after[0], after[0], after[1]] if sort == "relevance" else after
            limits = [q.limit + 1, q.offset if after is None else 0]
            if not q.limit:
                rows = []
            elif sort == "relevance":
                top = db.execute(f"SELECT m.doc, m.score FROM temp.idx_match m WHERE {page_where} "
                                 f"ORDER BY {order} LIMIT ? OFFSET ?", page_args + limits).fetchall()
                found = {doc: (rid, sdate, tsort, rdate) for doc, rid, sdate, tsort, rdate in db.execute(
                    f"SELECT doc, id, sort_date, title_sort, recent_date FROM idx_docs WHERE doc IN "
                    f"({','.join('?' * len(top))})", [d for d, _ in top])} if top else {}
                rows = [(doc, *found[doc][:3], sc, found[doc][3]) for doc, sc in top if doc in found]
            else:
                rows = db.execute(
                    f"SELECT d.doc, d.id, d.sort_date, d.title_sort, {score}, d.recent_date FROM {source} "
                    f"WHERE {page_where} ORDER BY {order} LIMIT ? OFFSET ?", page_args + limits).fetchall()
            facets = self._facets(db, q.facets, total if matched else None) if q.facets else {}
            listed = self._listing(db, q, source, base_where, base_args) if q.ids else None
            more = len(rows) > q.limit
            rows = rows[: q.limit]
            bodies = dict(db.execute(f"SELECT doc, record FROM idx_records WHERE doc IN "
                                     f"({','.join('?' * len(rows))})", [r[0] for r in rows]).fetchall()) if rows else {}
            marked = self._highlight(db, plan, [r[0] for r in rows]) if (q.highlight and rows and
                                                                          not plan.match_all) else {}
        hits: list[Hit] = []
        for doc, rid, sdate, tsort, sc, _rdate in rows:
            record = json.loads(bodies[doc])
            hl = highlights_for(record, marked[doc], q.lang) if doc in marked else {}
            hits.append(hit_from_record(record, plan, sc, q.lang, hl))
        next_cursor = None
        if more and rows:
            last = rows[-1]
            key = {"relevance": [last[4], last[0]], "newest": [last[2], last[1]], "oldest": [last[2], last[1]],
                   "title": [last[3], last[1]], "recent": [last[5], last[1]]}[sort]
            next_cursor = encode_cursor(sort, key)
        return Results(total, hits, facets, next_cursor, chems, ids=listed)

    @staticmethod
    def _listing(db, q: Query, source: str, where: str, args: list) -> list[dict]:
        """The first ``q.ids`` matches in id order (along idx_docs' id index when nothing is matched yet),
        each with its values of the facet fields asked for, from idx_docs.facets."""
        wanted = set(q.facets)
        out = []
        for rid, blob in db.execute(f"SELECT d.id, d.facets FROM {source} WHERE {where} ORDER BY d.id LIMIT ?",
                                    [*args, q.ids]):
            values: dict[str, list[str]] = {}
            for name, value in _facet_pairs(blob):
                if name in wanted:
                    values.setdefault(name, []).append(value)
            out.append({"id": rid, "facets": values})
        return out

    def _facets(self, db, fields: list[str], matched: int | None) -> dict[str, dict[str, int]]:
        """Facet counts; those over every record (the landing page's) are kept until the index changes."""
        if matched is not None:
            return self._facet_counts(db, fields, matched)
        token = (db.execute("PRAGMA data_version").fetchone()[0], self._writes)
        if self._all_facets is None or self._all_facets[0] != token:
            self._all_facets = (token, self._facet_counts(db, list(FACET_FIELDS), None))
        return {f: dict(self._all_facets[1][f]) for f in fields}

    @staticmethod
    def _facet_counts(db, fields: list[str], matched: int | None) -> dict[str, dict[str, int]]:
        """Counts per value over temp.idx_match (``matched`` records), or over every record (None)."""
        by_field: dict[str, list[tuple[str, int]]] = {f: [] for f in fields}
        if matched is None:
            # every record: group the (field, value, doc) index, which is in that order already
            rows = db.execute(f"SELECT field, value, COUNT(*) FROM idx_facets WHERE field IN "
                              f"({','.join('?' * len(fields))}) GROUP BY field, value", list(fields))
        else:
            # the matching records' own lists of "field<US>value" pairs, counted at C speed by Counter
            blobs = [b for (b,) in db.execute("SELECT d.facets FROM temp.idx_match m "
                                                "JOIN idx_docs d ON d.doc = m.doc") if b]
            pairs = Counter(_PAIR.join(blobs).split(_PAIR)) if blobs else Counter()
            rows = []
            for pair, n in pairs.items():
                name, _, value = pair.partition(_UNIT)
                if name in by_field:
                    rows.append((name, value, n))
        for name, value, n in rows:
            by_field[name].append((value, n))
        return {name: dict(sorted(vals, key=lambda vn: (-vn[1], vn[0]))[:FACET_LIMIT])
                for name, vals in by_field.items()}

    @staticmethod
    def _highlight(db, plan: QueryPlan, docs: list[int]) -> dict[int, list[str]]:
        expr, _ = match_expressions(plan)
        cols = ", ".join(f"highlight(idx_fts, {i}, '{OPEN}', '{CLOSE}')" for i in range(len(TEXT_FIELDS)))
        # "+rowid": filtering the match is much faster than FTS5 running it once per rowid
        rows = db.execute(f"SELECT rowid, {cols} FROM idx_fts WHERE idx_fts MATCH ? AND +rowid IN "
                          f"({','.join('?' * len(docs))})", [expr, *docs])
        return {r[0]: list(r[1:]) for r in rows}

