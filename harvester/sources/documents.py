"""Reading documents for the XML and RDF sources: a local file or folder, or a URL (one document, or an
HTML/plain listing of documents), with conditional GET so an unchanged document is not read again.

Only a document whose records the store knows (`state["documents"]`, from the last whole listing) is asked
for conditionally: its records then count as seen without being read, so a document removed from a listing
is noticed as soon as in a local folder. A listing itself is always read whole (it says what is there)."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

from ..http import FetchError, Fetcher
from . import SourceError

_HREF = re.compile(rb"""href\s*=\s*["']([^"'#?]+\.(?:xml|rdf|ttl|jsonld|json|nt|owl)(?:\?[^"']*)?)["']""", re.I)


class Document:
    def __init__(self, where: str, body: bytes | None, content_type: str = "", not_modified: bool = False):
        self.where, self.body, self.content_type, self.not_modified = where, body, content_type, not_modified


def _is_listing(body: bytes, content_type: str) -> bool:
    head = body[:2048].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


class DocumentReader:
    """Yields Documents for a source spec; remembers HTTP validators per URL in `validators`."""

    def __init__(self, spec: dict, cfg, state: dict, full: bool, fetcher: Fetcher, suffixes: tuple[str, ...]):
        self.spec, self.cfg, self.fetcher, self.suffixes = spec, cfg, fetcher, suffixes
        self.previous = {} if full else dict(state.get("validators") or {})
        self.known = state.get("documents") or set()
        self.validators: dict = {}

    def documents(self):
        if "path" in self.spec:
            yield from self._local(self.cfg.resolve(self.spec["path"]))
        else:
            yield from self._remote(self.spec["url"], follow_listing=True)

    def nothing_changed(self, docs: int, unchanged: list[str] | None) -> bool:
        """Every document answered 304 and none the store knows is missing from the listing."""
        return bool(docs and unchanged is not None and len(unchanged) == docs and self.known <= set(unchanged))

    def _local(self, path: Path):
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in self.suffixes)
            if not files:
                raise SourceError(f"{path}: no {'/'.join(self.suffixes)} files in this folder")
        elif path.is_file():
            files = [path]
        else:
            raise SourceError(f"{path}: no such file or folder")
        limit = self.cfg.harvest["max_response_bytes"]
        for f in files:
            size = f.stat().st_size
            if size > limit:
                raise SourceError(f"{f}: {size} bytes exceeds the limit of {limit} (harvest.max_response_bytes)")
            yield Document(str(f), f.read_bytes())

    def _remote(self, url: str, follow_listing: bool):
        headers = {}
        old = (self.previous.get(url) if url in self.known else None) or {}
        if old.get("etag"):
            headers["If-None-Match"] = old["etag"]
        if old.get("last_modified"):
            headers["If-Modified-Since"] = old["last_modified"]
        try:
            resp = self.fetcher.get(url, headers=headers)
        except FetchError as exc:
            raise SourceError(str(exc)) from None
        if resp.not_modified:
            self.validators[url] = old
            yield Document(url, None, not_modified=True)
            return
        self.validators[url] = {k: v for k, v in (("etag", resp.headers.get("ETag")),
                                                   ("last_modified", resp.headers.get("Last-Modified"))) if v}
        ctype = resp.headers.get("Content-Type", "")
        if follow_listing and _is_listing(resp.body, ctype):
            self.validators.pop(url)   # a listing is read whole every time
            links = sorted({urljoin(resp.url, m.decode("utf-8", "replace")) for m in _HREF.findall(resp.body)})
            if not links:
                raise SourceError(f"{url}: an HTML page that links to no documents")
            for link in links:
                yield from self._remote(link, follow_listing=False)
            return
        yield Document(url, resp.body, ctype)
