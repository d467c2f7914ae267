"""OGC CSW 2.0.2 catalogues (pycsw, GeoNetwork, ESRI Geoportal ...): GetRecords, page by page.

GetCapabilities first: the configured output schema must be offered (ISO 19139 `gmd` or Dublin Core
`csw:Record`), else the run fails clearly. Then GetRecords (GET KVP, or POST XML with `method: post`),
resultType=results, elementSetName=full, startPosition/maxRecords paging.

Paging never trusts nextRecord alone: the next start is startPosition + the records the page really
returned. A page with no records ends the list; so does reaching numberOfRecordsMatched. A list that ends
before numberOfRecordsMatched is a problem (the run is partial, nothing deleted). A server that repeats a
start position, or answers nextRecord 0 / beyond the end / backwards, cannot make the harvest loop: the
number of pages is bounded by what numberOfRecordsMatched allows.

Incremental: after a successful run, the next run asks only for records modified since the last run's
start (a CQL constraint on apiso:Modified for ISO, dct:modified for Dublin Core, ANDed with the configured
`constraint`). Deletions cannot be seen in an increment; a full listing (`--full`, the first run, or an
increment whose catalogue now matches fewer records than the last run saw, a cheap hits request) reads
everything, so records no longer listed are tombstoned through the run's guarded deletion.

The checkpoint is the next startPosition (with the constraint it belongs to): a killed run re-reads at
most one page. Each page is parsed once, with the node's safe parser; its records are yielded in place.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

from lxml import etree

from ..dates import normalise_datestamp, utcnow
from ..http import FetchError, Fetcher
from ..raw import RawRecord
from ..xmlsafe import MalformedXML, UnsafeXML, parse_bytes
from . import SourceError

log = logging.getLogger(__name__)

CSW = "http://www.opengis.net/cat/csw/2.0.2"
OWS = "http://www.opengis.net/ows"
OWS11 = "http://www.opengis.net/ows/1.1"
GMD = "http://www.isotc211.org/2005/gmd"
DC = "http://purl.org/dc/elements/1.1/"
DCT = "http://purl.org/dc/terms/"

SCHEMAS = {"iso19139": GMD, "csw-record": CSW}
CROSSWALKS = {"iso19139": "iso19139", "csw-record": "oai_dc"}
MODIFIED = {"iso19139": "apiso:Modified", "csw-record": "dct:modified"}
DEFAULT_PAGE = 50


class CSWException(SourceError):
    """The catalogue answered with an ows:ExceptionReport."""


def exception_text(root: etree._Element) -> str | None:
    """'code (locator): text' for an ows:ExceptionReport (OWS 1.0 or 1.1), else None."""
    if etree.QName(root).localname != "ExceptionReport":
        return None
    parts = []
    for exc in root.iter(f"{{{OWS}}}Exception", f"{{{OWS11}}}Exception"):
        code, loc = exc.get("exceptionCode", ""), exc.get("locator")
        text = " ".join(" ".join(" ".join(t.itertext()).split()) for t in exc
                        if isinstance(t.tag, str) and etree.QName(t).localname == "ExceptionText")
        parts.append(f"{code}{f' ({loc})' if loc else ''}: {text}".strip(": "))
    return "; ".join(parts) or "ExceptionReport without exceptions"


def record_identifier(el: etree._Element) -> str:
    """fileIdentifier (ISO), dc:identifier (csw:Record), or '' when the record has none."""
    for path in ("{*}fileIdentifier/{*}CharacterString", "{*}metadataIdentifier/{*}MD_Identifier/{*}code/{*}CharacterString",
                 f"{{{DC}}}identifier"):
        found = el.find(path)
        if found is not None and (found.text or "").strip():
            return found.text.strip()
    return ""


def record_datestamp(el: etree._Element) -> str | None:
    for path in ("{*}dateStamp/{*}DateTime", "{*}dateStamp/{*}Date", "{*}dateInfo/{*}CI_Date/{*}date/{*}DateTime",
                 f"{{{DCT}}}modified", f"{{{DC}}}date"):
        found = el.find(path)
        if found is not None and (found.text or "").strip():
            return normalise_datestamp(found.text.strip())
    return None


def search_results(body: bytes, where: str) -> tuple[etree._Element, etree._Element]:
    """(root, csw:SearchResults) of a GetRecords response; CSWException for an ExceptionReport."""
    root = parse_bytes(body, where).getroot()
    err = exception_text(root)
    if err is not None:
        raise CSWException(f"{where}: the catalogue answered with an exception: {err}")
    results = root.find(f"{{{CSW}}}SearchResults")
    if results is None:
        raise SourceError(f"{where}: not a CSW 2.0.2 GetRecords response (root <{etree.QName(root).localname}>)")
    return root, results


def page_records(results: etree._Element, where: str, url: str = "", start: int = 1):
    """RawRecords for the records of one csw:SearchResults (any record element, in document order)."""
    for n, el in enumerate((c for c in results if isinstance(c.tag, str)), start):
        ident = record_identifier(el)
        loc = f"{where}, record {n}, line {el.sourceline}"
        if not ident:
            yield RawRecord(identifier=f"{url or where}#{n}", error="record without fileIdentifier / dc:identifier",
                            location=loc, raw_bytes=etree.tostring(el)[:100_000], url=url)
            continue
        yield RawRecord(identifier=ident, payload=el, datestamp=record_datestamp(el), location=loc, url=url)


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


class CSWSource:
    def __init__(self, spec: dict, cfg, state: dict, full: bool, fetcher: Fetcher):
        self.spec, self.cfg, self.state, self.full, self.fetcher = spec, cfg, state, full, fetcher
        self.url = spec["url"]
        self.schema = spec.get("output_schema", "iso19139")
        self.page_size = int(spec.get("page_size") or DEFAULT_PAGE)
        self.method = spec.get("method", "get")
        self.complete = False
        self.listing_complete = False
        self.not_modified = False
        self.enumerates_all = False
        self.problems: list[str] = []
        self.started: str | None = None
        self.matched: int | None = None
        self.total: int | None = None        # numberOfRecordsMatched of the unconstrained listing, when known
        self.pages = 0

    # ---------------------------------------------------------------- requests

    def _fetch(self, params: dict | None = None, body: bytes | None = None) -> bytes:
        try:
            if body is not None:
                return self.fetcher.get(self.url, params=body, method="POST",
                                        headers={"Content-Type": "application/xml; charset=UTF-8"}).body
            return self.fetcher.get(self.url, params=params).body
        except FetchError as exc:
            raise SourceError(str(exc)) from None

    def _parse(self, body: bytes, where: str) -> etree._Element:
        try:
            return parse_bytes(body, where).getroot()
        except (UnsafeXML, MalformedXML) as exc:
            raise SourceError(str(exc)) from None

    def capabilities(self) -> dict:
        """The output schemas and queryables the catalogue's GetRecords offers (empty sets when it does not say)."""
        body = self._fetch({"service": "CSW", "version": "2.0.2", "request": "GetCapabilities"})
        root = self._parse(body, f"{self.url} (GetCapabilities)")
        err = exception_text(root)
        if err is not None:
            raise CSWException(f"{self.url}: GetCapabilities: the catalogue answered with an exception: {err}")
        if etree.QName(root).localname != "Capabilities":
            raise SourceError(f"{self.url}: not a CSW GetCapabilities response (root <{etree.QName(root).localname}>)")
        schemas, queryables = set(), set()
        for op in root.iter("{*}Operation"):
            if op.get("name") != "GetRecords":
                continue
            for p in op.iter("{*}Parameter", "{*}Constraint"):
                values = {(v.text or "").strip() for v in p.iter("{*}Value")}
                if p.get("name", "").lower() == "outputschema":
                    schemas |= values
                elif "queryables" in p.get("name", "").lower():
                    queryables |= values
        return {"schemas": schemas, "queryables": queryables}

    def _getrecords(self, start: int, constraint: str | None, hits: bool = False) -> bytes:
        if self.method == "post":
            return self._fetch(body=self._post_body(start, constraint, hits))
        params = {"service": "CSW", "version": "2.0.2", "request": "GetRecords", "typeNames": "csw:Record",
                  "namespace": f"xmlns(csw={CSW})", "resultType": "hits" if hits else "results",
                  "elementSetName": "full", "outputSchema": SCHEMAS[self.schema],
                  "startPosition": str(start), "maxRecords": "0" if hits else str(self.page_size)}
        if constraint:
            params.update(constraintLanguage="CQL_TEXT", constraint_language_version="1.1.0", constraint=constraint)
        return self._fetch(params)

    def _post_body(self, start: int, constraint: str | None, hits: bool) -> bytes:
        where = (f'<csw:Constraint version="1.1.0"><csw:CqlText>{escape(constraint)}</csw:CqlText></csw:Constraint>'
                 if constraint else "")
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<csw:GetRecords xmlns:csw="{CSW}" service="CSW" version="2.0.2" '
                f'resultType="{"hits" if hits else "results"}" startPosition="{start}" '
                f'maxRecords="{0 if hits else self.page_size}" outputSchema="{SCHEMAS[self.schema]}">'
                f'<csw:Query typeNames="csw:Record"><csw:ElementSetName>full</csw:ElementSetName>{where}'
                f'</csw:Query></csw:GetRecords>').encode("utf-8")

    # ---------------------------------------------------------------- listing

    def _constraint(self, queryables: set[str]) -> tuple[str | None, bool]:
        """(the CQL constraint of this run, whether it lists the whole source)."""
        base = self.spec.get("constraint")
        since = None if self.full else self.state.get("last_datestamp")
        previous = (self.state.get("validators") or {}).get("matched")
        if since and previous is not None:
            # a catalogue that lost records since the last run is listed whole, so they are tombstoned
            self.total = self._hits(base)
            if self.total is not None and self.total < previous:
                log.info("%s: the catalogue matches %d records, %d at the last run; listing everything",
                         self.spec["id"], self.total, previous)
                since = None
        field = MODIFIED[self.schema]
        if queryables and field not in queryables:
            field = next((f for f in ("dct:modified", "Modified", "apiso:Modified") if f in queryables), field)
        parts = [base] if base else []
        if self.spec.get("from"):
            parts.append(f"{field} >= '{self.spec['from']}'")
        if since:
            parts.append(f"{field} >= '{_minus_second(since)}'")
        if len(parts) > 1 and re.search(r"\bor\b", base or "", re.I):
            parts[0] = f"({base})"   # only when needed: some servers' CQL parsers refuse parentheses
        return (" AND ".join(parts) or None), not since and not self.spec.get("from")

    def _hits(self, constraint: str | None) -> int | None:
        try:
            _, results = search_results(self._getrecords(1, constraint, hits=True), f"{self.url} (hits)")
        except (SourceError, MalformedXML, UnsafeXML) as exc:
            log.warning("%s: hits request failed (%s)", self.spec["id"], exc)
            return None
        return _int(results.get("numberOfRecordsMatched"))

    def records(self):
        checkpoint = None if self.full else self.state.get("checkpoint")
        caps = self.capabilities()
        wanted = SCHEMAS[self.schema]
        if caps["schemas"] and wanted not in caps["schemas"]:
            raise SourceError(f"{self.url}: the catalogue does not offer outputSchema {wanted} (output_schema "
                              f"{self.schema!r}); it offers: {', '.join(sorted(caps['schemas']))}")
        if checkpoint and "start" in checkpoint:
            constraint, whole = checkpoint.get("constraint"), checkpoint.get("whole", False)
            start, self.started = int(checkpoint["start"]), checkpoint.get("started")
        else:
            constraint, whole = self._constraint(caps["queryables"])
            start = 1
        self.enumerates_all = whole      # only a whole listing tells which held records vanished
        matched = None
        returned_total = start - 1
        max_pages = None
        previous_first = None
        while True:
            self.pages += 1
            where = f"{self.url} GetRecords startPosition={start}"
            try:
                root, results = search_results(self._getrecords(start, constraint), where)
            except (UnsafeXML, MalformedXML) as exc:
                raise SourceError(str(exc)) from None
            if self.started is None:     # the catalogue's own clock: the next increment starts there
                status = root.find(f"{{{CSW}}}SearchStatus")
                self.started = normalise_datestamp(status.get("timestamp")) if status is not None else None
                self.started = self.started or utcnow()
            m = _int(results.get("numberOfRecordsMatched"))
            if m is not None:
                matched = m if matched is None else matched
                if max_pages is None:   # bounded: every page brings at least one record, or the list ends
                    max_pages = m - start + 2
            declared = _int(results.get("numberOfRecordsReturned"))
            nxt = _int(results.get("nextRecord"))
            resume = {"start": start, "constraint": constraint, "whole": whole, "started": self.started}
            count, first = 0, None
            for raw in page_records(results, where, self.url, start):
                count += 1
                first = first or raw.identifier
                if first == previous_first and count == 1:
                    break
                yield raw, resume
            results.clear()              # the page's records are done with; the page is the only copy
            if count and first == previous_first:
                self.problems.append(f"{where}: the catalogue sent the previous page again; stopped")
                break
            previous_first = first
            if declared is not None and declared != count:
                log.warning("%s: numberOfRecordsReturned=%s but the page holds %d records", where, declared, count)
            returned_total = start - 1 + count
            if count == 0:
                break
            if matched is not None and returned_total >= matched:
                break
            if nxt not in (None, 0, start + count):
                log.info("%s: nextRecord=%s ignored; continuing at %d", where, nxt, start + count)
            start += count
            if max_pages is not None and self.pages >= max_pages:
                self.problems.append(f"{self.url}: stopped after {self.pages} pages without reaching the end")
                break
        if matched is not None and returned_total < matched:
            self.problems.append(f"{self.url}: the list ended after {returned_total} of {matched} records")
        self.matched = matched
        self.complete = True
        self.listing_complete = whole and not self.problems

    def final_state(self) -> dict:
        """The catalogue's clock at this run's start, and how many records it matched (kept with the validators)."""
        matched = (self.matched if self.listing_complete else self.total) if (self.listing_complete or self.total is not None) \
            else (self.state.get("validators") or {}).get("matched")
        return {"last_datestamp": self.started or self.state.get("last_datestamp"),
                "validators": {"matched": matched} if matched is not None else {}}


def _minus_second(stamp: str) -> str:
    """The last run's start, one second earlier (nothing modified in the same second is missed)."""
    try:
        dt = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt.astimezone(timezone.utc) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
