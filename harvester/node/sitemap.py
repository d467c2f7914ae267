"""Sitemaps of the node's record pages, and the robots.txt that names them (sitemaps.org protocol 0.9).

Routes (the ``router`` of this module):

  /sitemap.xml           a sitemap index: one <sitemap><loc> per page below that holds at least one record
  /sitemaps/{n}.xml      page n: <url><loc>{base}/record/{id}</loc><lastmod>{changed}</lastmod></url> for the
                         live records whose change sequence (the store's ``seq``) lies in
                         (n * PAGE_SIZE, (n + 1) * PAGE_SIZE], in that order; 404 for a page with none
  /robots.txt            crawling allowed (pages and feeds), the JSON API and the OAI-PMH endpoint left out,
                         and the sitemap index named

Pages are ranges of the change sequence, not counts of records: a sequence number belongs to one record, so
a page never holds more than PAGE_SIZE URLs, and a page is read with a range scan of the sequence index
(no OFFSET, never every id in memory: the page is streamed in batches of BATCH rows). A record that changes
takes a new sequence number and so moves to the last page, with its new lastmod; tombstones (deleted
records) are left out, so a page may hold fewer than PAGE_SIZE URLs, and a range left with no live record
is not listed. The index gives no <lastmod> of its own for a page: records leaving a page would not show
in it.

URLs are absolute, from the config's ``node.url`` (the node's public address), else from the address the
request came in on; record ids are percent-encoded as the web pages encode them (``web.PATH_SAFE``).
``lastmod`` is when this node last changed the record (the store's ``changed``, UTC).
"""
from __future__ import annotations

import itertools
import re
import sqlite3
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from lxml import etree

from .app import ErrorBody
from .web import PATH_SAFE

router = APIRouter(tags=["crawlers"])

PAGE_SIZE = 50_000
"""Change sequence numbers per sitemap page, so at most this many URLs (the protocol's limit); the routes
read it at each request, so it can be lowered (tests do)."""
BATCH = 1000
"""Rows read from the store at a time while a page is written."""
MAX_SITEMAPS = 50_000
"""Pages an index lists at most (the protocol's limit)."""
MAX_URL_CHARS = 2047
"""The protocol's limit for a URL: a record whose page URL is longer is left out."""
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
CACHE = "public, max-age=3600"
PAGE_NAME = r"^(?:0|[1-9][0-9]{0,11})\.xml$"
_DATESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def public_base(request: Request) -> str:
    """The node's public base URL without a trailing slash: ``node.url`` from the config (where crawlers and
    other nodes reach it), else the address this request came in on."""
    url = request.app.state.node.cfg.node.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return url.rstrip("/")
    return str(request.base_url).rstrip("/")


def record_page_url(base: str, record_id: str) -> str:
    """The absolute URL of a record's web page (the id percent-encoded as the web pages link it)."""
    return f"{base}/record/{quote(record_id, safe=PATH_SAFE)}"


# ----------------------------------------------------------------------------------------------- the store


def _connect(path) -> sqlite3.Connection:
    """A read-only connection of its own: a streamed page is read from several worker threads in turn."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=30000")
    return db


def max_id_chars(base: str) -> int:
    """The longest record id whose page URL can be within MAX_URL_CHARS (percent-encoding only lengthens)."""
    return MAX_URL_CHARS - len(record_page_url(base, ""))


def listed_pages(db: sqlite3.Connection, page_size: int, id_chars: int = MAX_URL_CHARS) -> list[int]:
    """The numbers of the pages holding at least one live record (with an id of at most ``id_chars``): from
    each one found, jump to the end of its page, so the work grows with the pages, not the sequence."""
    pages: list[int] = []
    after = 0
    while len(pages) < MAX_SITEMAPS:
        row = db.execute("SELECT seq FROM records WHERE seq > ? AND deleted = 0 AND length(id) <= ? "
                         "ORDER BY seq LIMIT 1", (after, id_chars)).fetchone()
        if row is None:
            break
        n = (row[0] - 1) // page_size
        pages.append(n)
        after = (n + 1) * page_size
    return pages


def page_rows(db: sqlite3.Connection, n: int, page_size: int, id_chars: int = MAX_URL_CHARS):
    """The live records of page n as (id, changed), in sequence order, BATCH rows at a time (keyset)."""
    after, last = n * page_size, (n + 1) * page_size
    while True:
        rows = db.execute("SELECT id, changed, seq FROM records WHERE seq > ? AND seq <= ? AND deleted = 0 "
                          "AND length(id) <= ? ORDER BY seq LIMIT ?", (after, last, id_chars, BATCH)).fetchall()
        if not rows:
            return
        yield [(r[0], r[1]) for r in rows]
        after = rows[-1][2]


# ----------------------------------------------------------------------------------------------- XML


class _Chunks:
    """A file-like sink for lxml's incremental writer: what was written since the last take()."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def urlset_chunks(base: str, batches):
    """The bytes of a <urlset> for batches of (record id, changed), one chunk per batch."""
    sink = _Chunks()
    with etree.xmlfile(sink, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS}):
            for rows in batches:
                for record_id, changed in rows:
                    loc = record_page_url(base, record_id)
                    if len(loc) > MAX_URL_CHARS:
                        continue
                    with xf.element(f"{{{SITEMAP_NS}}}url"):
                        with xf.element(f"{{{SITEMAP_NS}}}loc"):
                            xf.write(loc)
                        if isinstance(changed, str) and _DATESTAMP.fullmatch(changed):
                            with xf.element(f"{{{SITEMAP_NS}}}lastmod"):
                                xf.write(changed)
                xf.flush()
                yield sink.take()
    yield sink.take() + b"\n"


def _not_found(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=404)


# ----------------------------------------------------------------------------------------------- routes


_XML = {200: {"content": {"application/xml": {}}, "description": "A sitemaps.org 0.9 document"}}


@router.get("/sitemap.xml", summary="Sitemap index of the record pages", response_class=Response, responses=_XML)
def sitemap_index(request: Request):
    state = request.app.state.node
    base = public_base(request)
    state.store()                      # makes the store's file on a node that has not harvested yet
    db = _connect(state.cfg.store_path)
    try:
        pages = listed_pages(db, max(1, int(PAGE_SIZE)), max_id_chars(base))
    finally:
        db.close()
    root = etree.Element(f"{{{SITEMAP_NS}}}sitemapindex", nsmap={None: SITEMAP_NS})
    for n in pages:
        sm = etree.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        etree.SubElement(sm, f"{{{SITEMAP_NS}}}loc").text = f"{base}/sitemaps/{n}.xml"
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return Response(body, media_type="application/xml; charset=utf-8", headers={"Cache-Control": CACHE})


@router.get("/sitemaps/{name}", summary="One page of the sitemap: record page URLs", response_class=Response,
            responses={**_XML, 404: {"description": "No such page, or no record left in it", "model": ErrorBody}})
def sitemap_page(request: Request, name: str = Path(description="<number>.xml, as listed in /sitemap.xml",
                                                     json_schema_extra={"pattern": PAGE_NAME})):
    if not re.fullmatch(PAGE_NAME, name):
        return _not_found(f"no sitemap {name!r}: sitemap pages are /sitemaps/<number>.xml, listed in /sitemap.xml")
    n, page_size = int(name[:-4]), max(1, int(PAGE_SIZE))
    state = request.app.state.node
    base = public_base(request)
    state.store()
    db = _connect(state.cfg.store_path)
    batches = page_rows(db, n, page_size, max_id_chars(base))
    try:
        first = next(batches, None)
    except BaseException:
        db.close()
        raise
    if first is None:
        db.close()
        return _not_found(f"sitemap page {n} holds no record (the pages are listed in /sitemap.xml)")

    def body():
        try:
            yield from urlset_chunks(base, itertools.chain([first], batches))
        finally:
            db.close()
    return StreamingResponse(body(), media_type="application/xml; charset=utf-8", headers={"Cache-Control": CACHE})


@router.get("/robots.txt", summary="Crawling rules, naming the sitemap", response_class=PlainTextResponse)
def robots(request: Request):
    base = public_base(request)
    text = ("# Record pages are listed in the sitemap; the JSON API and the OAI-PMH endpoint are for\n"
            "# programs, not for crawling.\n"
            "User-agent: *\n"
            "Disallow: /api/\n"
            "Disallow: /oai\n"
            "Allow: /\n"
            f"\nSitemap: {base}/sitemap.xml\n")
    return PlainTextResponse(text, headers={"Cache-Control": CACHE})
