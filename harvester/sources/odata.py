"""OData entity sets (InforMEA-style APIs): v4 JSON, v2/v3 JSON and Atom/XML, paged through next links.

  v4 JSON     {"value": [...], "@odata.nextLink": "..."}   (also "odata.nextLink" of v3 JSON light)
  v2/v3 JSON  {"d": {"results": [...], "__next": "..."}}   (or "d": [...] in v1)
  Atom        <feed><entry><content><m:properties>...   <link rel="next" href="..."/>

The first request carries $select, $expand, $top (`page_size`) and, on an incremental run, $filter on
`modified_field` greater than the last run's start (less one second), written for the version the last
run saw. Every later request is the server's next link as given ($skiptoken or $skip inside). A next link
seen twice ends the listing (a server that loops cannot make the harvest loop). The checkpoint is the URL
of the page being read, so a killed run re-reads at most one page. Only a listing without $filter is the
whole set: then entities no longer listed are tombstoned through the run's guarded deletion. v4 delta
entries ("@removed") are deletions.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

from lxml import etree

from ..crosswalks.informea import Entity, odata_date
from ..dates import normalise_datestamp, utcnow
from ..http import FetchError, Fetcher
from ..xmlsafe import MalformedXML, UnsafeXML, parse_bytes
from ..raw import RawRecord
from . import SourceError

log = logging.getLogger(__name__)

ATOM = "http://www.w3.org/2005/Atom"
M = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
D = "http://schemas.microsoft.com/ado/2007/08/dataservices"
M4 = "http://docs.oasis-open.org/odata/ns/metadata"
D4 = "http://docs.oasis-open.org/odata/ns/data"
_KEYS = ("id", "Id", "ID", "uuid", "guid")


def _identifier(entity: dict, fallback: str = "") -> str:
    for k in _KEYS:
        v = entity.get(k)
        if v not in (None, ""):
            return str(v)
    meta = entity.get("__metadata") or {}
    return str(entity.get("@odata.id") or (meta.get("uri") if isinstance(meta, dict) else "") or fallback)


def _atom_value(el: etree._Element):
    if el.get(f"{{{M}}}null") == "true" or el.get(f"{{{M4}}}null") == "true":
        return None
    children = [c for c in el if isinstance(c.tag, str)]
    if children:
        if all(etree.QName(c).localname == "element" for c in children):     # a collection
            return [_atom_value(c) for c in children]
        return {etree.QName(c).localname: _atom_value(c) for c in children}  # a complex value
    return el.text or ""


def _atom_entity(entry: etree._Element) -> Entity:
    props = entry.find(f"{{{ATOM}}}content/{{{M}}}properties")
    if props is None:
        props = entry.find(f"{{{M}}}properties")
    if props is None:
        props = entry.find(f"{{{ATOM}}}content/{{{M4}}}properties")
    if props is None:
        props = entry.find(f"{{{M4}}}properties")
    out = Entity()
    if props is not None:
        for c in props:
            if isinstance(c.tag, str):
                out[etree.QName(c).localname] = _atom_value(c)
    cat = entry.find(f"{{{ATOM}}}category")
    if cat is not None and cat.get("term"):
        out.setdefault("@category", cat.get("term"))
    # expanded collections inline: <link rel=".../related/titles"><m:inline><feed><entry>...
    for link in entry.findall(f"{{{ATOM}}}link"):
        inline = link.find(f"{{{M}}}inline")
        if inline is None:
            inline = link.find(f"{{{M4}}}inline")
        if inline is not None:
            name = (link.get("title") or link.get("rel", "").rsplit("/", 1)[-1])
            out[name] = [_atom_entity(e) for e in inline.iter(f"{{{ATOM}}}entry")]
    if "id" not in out and entry.findtext(f"{{{ATOM}}}id"):
        out["@odata.id"] = entry.findtext(f"{{{ATOM}}}id").strip()
    return out


def parse_page(body: bytes, where: str, modified_field: str | None = None):
    """([(identifier, entity, deleted, datestamp)], next link or None, version 'v4' | 'v2' | 'atom')."""
    head = body[:200].lstrip()
    if head.startswith(b"<"):
        try:
            root = parse_bytes(body, where).getroot()
        except UnsafeXML:
            raise
        if root.tag == f"{{{M}}}error" or etree.QName(root).localname == "error":
            msg = " ".join(" ".join(root.itertext()).split())
            raise SourceError(f"{where}: the OData service answered with an error: {msg[:500]}")
        if root.tag != f"{{{ATOM}}}feed":
            raise SourceError(f"{where}: not an OData Atom feed (root <{etree.QName(root).localname}>)")
        nxt = next((l.get("href") for l in root.findall(f"{{{ATOM}}}link") if l.get("rel") == "next"), None)
        entries = []
        for entry in root.findall(f"{{{ATOM}}}entry"):
            e = _atom_entity(entry)
            entries.append((_identifier(e), e, False, _stamp(e, modified_field)))
        root.clear()
        return entries, nxt, "atom"
    try:
        doc = json.loads(body, object_hook=Entity)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedXML(f"{where}: not JSON or XML: {exc}") from None
    if not isinstance(doc, dict):
        raise SourceError(f"{where}: not an OData response (a JSON {type(doc).__name__})")
    if "error" in doc or "odata.error" in doc:
        err = doc.get("error") or doc.get("odata.error")
        msg = err.get("message") if isinstance(err, dict) else err
        if isinstance(msg, dict):
            msg = msg.get("value")
        code = err.get("code", "") if isinstance(err, dict) else ""
        raise SourceError(f"{where}: the OData service answered with an error: {code} {msg}".strip())
    if "d" in doc:
        d = doc["d"]
        rows = d.get("results", []) if isinstance(d, dict) else d
        nxt = d.get("__next") if isinstance(d, dict) else None
        version = "v2"
    elif "value" in doc:
        rows, version = doc["value"], "v4"
        nxt = doc.get("@odata.nextLink") or doc.get("odata.nextLink")
    else:
        raise SourceError(f"{where}: not an OData collection (no `value` nor `d`)")
    out = []
    for e in rows or []:
        if not isinstance(e, dict):
            continue
        removed = "@removed" in e or "@odata.removed" in e
        ident = _identifier(e)
        if removed and not ident and isinstance(e.get("@id"), str):
            ident = e["@id"]
        out.append((ident, e, removed, _stamp(e, modified_field)))
    return out, nxt, version


def _stamp(entity: dict, field: str | None) -> str | None:
    for k in ([field] if field else []) + ["updated", "modified", "Modified", "dateOfModification"]:
        if k and entity.get(k):
            return normalise_datestamp(odata_date(entity[k]))
    return None


def _server_time(value: str | None) -> str | None:
    from email.utils import parsedate_to_datetime
    try:
        return parsedate_to_datetime(value).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
    except (TypeError, ValueError):
        return None


def _literal(stamp: str, version: str) -> str:
    dt = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(timezone.utc) - timedelta(seconds=1)
    if version == "v4":
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.strftime("datetime'%Y-%m-%dT%H:%M:%S'")


class ODataSource:
    def __init__(self, spec: dict, cfg, state: dict, full: bool, fetcher: Fetcher):
        self.spec, self.cfg, self.state, self.full, self.fetcher = spec, cfg, state, full, fetcher
        self.url = spec["url"]
        self.entity = spec["entity"]
        self.complete = self.listing_complete = self.not_modified = self.enumerates_all = False
        self.problems: list[str] = []
        self.started: str | None = None
        self.version: str | None = None
        self.pages = 0

    def _first_params(self) -> tuple[dict, bool]:
        params = {}
        for key in ("select", "expand"):
            if self.spec.get(key):
                params[f"${key}"] = self.spec[key]
        if self.spec.get("page_size"):
            params["$top"] = str(self.spec["page_size"])
        previous = self.state.get("validators") or {}
        field = self.spec.get("modified_field")
        since = None if self.full else self.state.get("last_datestamp")
        if field and since:
            params["$filter"] = f"{field} gt {_literal(since, previous.get('version', 'v4'))}"
        return params, "$filter" not in params

    def records(self):
        checkpoint = None if self.full else self.state.get("checkpoint")
        if checkpoint and checkpoint.get("page"):
            url, params, whole = checkpoint["page"], checkpoint.get("params"), checkpoint.get("whole", False)
            self.started = checkpoint.get("started")
        else:
            (params, whole), url = self._first_params(), self.url
        self.enumerates_all = whole
        seen_links: set[str] = set()
        while True:
            self.pages += 1
            where = f"{self.url} page {self.pages}"
            try:
                resp = self.fetcher.get(url, params=params, headers={"Accept": "application/json, application/atom+xml;q=0.9, application/xml;q=0.8"})
            except FetchError as exc:
                raise SourceError(str(exc)) from None
            if self.started is None:     # the server's clock (its Date header) where it gives one
                self.started = _server_time(resp.headers.get("Date")) or utcnow()
            try:
                entities, nxt, self.version = parse_page(resp.body, where, self.spec.get("modified_field"))
            except (UnsafeXML, MalformedXML) as exc:
                raise SourceError(str(exc)) from None
            resume = {"page": url, "params": params, "whole": whole, "started": self.started}
            for n, (ident, entity, deleted, stamp) in enumerate(entities, 1):
                loc = f"{where}, entity {n}"
                if not ident:
                    yield RawRecord(identifier=f"{where}#{n}", error="entity without id", location=loc,
                                    raw_bytes=str(entity).encode()[:100_000], url=self.url), resume
                    continue
                yield RawRecord(identifier=ident, payload=None if deleted else entity, datestamp=stamp, deleted=deleted,
                                sets=[self.entity], location=loc, url=self.url), resume
            if not nxt:
                break
            nxt = urljoin(resp.url, nxt)
            if nxt in seen_links or (not entities and nxt == resp.url):
                self.problems.append(f"{where}: the next link repeats ({nxt}); stopped")
                break
            seen_links.add(nxt)
            url, params = nxt, None       # the next link carries every parameter
        self.complete = True
        self.listing_complete = whole and not self.problems

    def final_state(self) -> dict:
        return {"last_datestamp": self.started or self.state.get("last_datestamp"),
                "validators": {"version": self.version} if self.version else {}}
