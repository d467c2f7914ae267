"""OAI-PMH 2.0 sources (endpoints and static repositories), fetched page by page with sickle.

Incremental from the last harvest's start (less one granule, at the repository's own granularity);
resumption tokens are the checkpoint; a badResumptionToken restarts the listing from the same `from`;
noRecordsMatch is an empty, successful harvest. A malformed page is fetched again; if it comes back the
same, its readable records are kept and the unreadable ones quarantined. A page holding fewer records than
the next page's cursor says is fetched again, and reported if it stays short.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lxml import etree
from sickle import Sickle
from sickle.response import OAIResponse

from ..crosswalks.xmlsplit import OAI, STATIC, oai_records
from ..http import FetchError, Fetcher
from ..raw import RawRecord
from ..xmlsafe import MalformedXML, UnsafeXML, parse_bytes
from . import SourceError

log = logging.getLogger(__name__)


class _SafeResponse(OAIResponse):
    """sickle's response, parsed by the node's safe parser (no recovery that silently drops records)."""

    def __init__(self, body: bytes, params: dict, url: str):
        self.params, self.body, self.url = params, body, url
        self.http_response = None

    @property
    def raw(self):
        return self.body.decode("utf-8", "replace")

    @property
    def xml(self):
        return parse_bytes(self.body, self.url).getroot()


class _Client(Sickle):
    """sickle, with the node's fetcher: retries, Retry-After, size limits, and safe parsing."""

    def __init__(self, url: str, fetcher: Fetcher):
        super().__init__(url)
        self.fetcher = fetcher

    def harvest(self, **params):
        resp = self.fetcher.get(self.endpoint, params=params)
        return _SafeResponse(resp.body, params, self.endpoint)


def _granule(granularity: str) -> timedelta:
    return timedelta(days=1) if granularity == "YYYY-MM-DD" else timedelta(seconds=1)


def _format(dt: datetime, granularity: str) -> str:
    return dt.strftime("%Y-%m-%d" if granularity == "YYYY-MM-DD" else "%Y-%m-%dT%H:%M:%SZ")


def _parse_stamp(s: str) -> datetime:
    s = s.strip()
    if len(s) == 10:
        return datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc)


_RECORD = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?record\b.*?</(?:[A-Za-z_][\w.-]*:)?record\s*>", re.S)
_TOKEN = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)resumptionToken\b([^>]*?)(?:/>|>(.*?)</\1resumptionToken\s*>)", re.S)
_ROOT_NS = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?OAI-PMH\b([^>]*)>", re.S)
_IDENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?identifier>\s*(.*?)\s*</", re.S)


class OAIPMHSource:
    def __init__(self, spec: dict, cfg, state: dict, full: bool, fetcher: Fetcher):
        self.spec, self.cfg, self.state, self.full, self.fetcher = spec, cfg, state, full, fetcher
        self.prefix = spec["metadata_prefix"]
        self.set = spec.get("set")
        self.complete = False
        self.listing_complete = False
        self.not_modified = False
        self.enumerates_all = False          # True for static repositories: one file holds the whole source
        self.problems: list[str] = []
        self.started: str | None = None      # the repository's responseDate at the start of this increment
        self.max_datestamp: str | None = None
        self.validators: dict = {}

    # ---------------------------------------------------------------- entry point

    def records(self):
        if "path" in self.spec:
            path = self.cfg.resolve(self.spec["path"])
            try:
                body = Path(path).read_bytes()
            except OSError as exc:
                raise SourceError(f"{path}: {exc.strerror}") from None
            yield from self._static(body, str(path))
            return
        url = self.spec["url"]
        client = _Client(url, self.fetcher)
        try:
            first = self.fetcher.get(url, params={"verb": "Identify"})
        except FetchError as exc:
            raise SourceError(str(exc)) from None
        root = self._parse(first.body, f"{url} (Identify)")
        if root.tag == f"{{{STATIC}}}Repository":
            yield from self._static(first.body, url)
            return
        if root.tag != f"{{{OAI}}}OAI-PMH":
            raise SourceError(f"{url}: not an OAI-PMH response (root <{etree.QName(root).localname}>)")
        self._check_error(root, "Identify")
        granularity = (root.findtext(f".//{{{OAI}}}granularity") or "YYYY-MM-DDThh:mm:ssZ").strip()
        self._check_offer(client)
        yield from self._list(client, granularity)

    def _check_offer(self, client: _Client) -> None:
        """Refuse clearly when the repository does not offer the configured format or set (ListMetadataFormats,
        ListSets), rather than harvesting nothing and calling it a success."""
        try:
            offered = sorted(f.metadataPrefix for f in client.ListMetadataFormats())
        except (FetchError, MalformedXML, AttributeError, StopIteration) as exc:
            log.warning("%s: ListMetadataFormats failed (%s); harvesting anyway", self.spec["id"], exc)
            return
        except Exception as exc:  # sickle raises its own OAI error classes
            log.warning("%s: ListMetadataFormats: %s; harvesting anyway", self.spec["id"], exc)
            return
        if offered and self.prefix not in offered:
            raise SourceError(f"{self.spec['url']}: the repository does not offer metadataPrefix {self.prefix!r} "
                              f"(it offers: {', '.join(offered)})")
        if not self.set:
            return
        try:
            sets = {s.setSpec for s in client.ListSets()}
        except Exception as exc:  # noSetHierarchy and friends: say so, but let ListRecords decide
            raise SourceError(f"{self.spec['url']}: set {self.set!r} configured, but ListSets failed: {exc}") from None
        if sets and self.set not in sets:
            raise SourceError(f"{self.spec['url']}: the repository has no set {self.set!r} "
                              f"(it has: {', '.join(sorted(sets)[:20])}{' ...' if len(sets) > 20 else ''})")

    # ---------------------------------------------------------------- ListRecords

    def _initial_params(self, granularity: str) -> dict:
        params = {"verb": "ListRecords", "metadataPrefix": self.prefix}
        if self.set:
            params["set"] = self.set
        since = None
        if not self.full and self.state.get("last_datestamp"):
            since = _parse_stamp(self.state["last_datestamp"]) - _granule(granularity)
        if self.spec.get("from"):
            floor = _parse_stamp(self.spec["from"][:10])
            since = max(since, floor) if since else floor
        if since:
            params["from"] = _format(since, granularity)
        if self.spec.get("until"):   # the whole day named, at the repository's granularity
            last = _parse_stamp(self.spec["until"][:10]) + timedelta(days=1) - _granule(granularity)
            params["until"] = _format(last, granularity)
        return params

    def _list(self, client: _Client, granularity: str):
        checkpoint = None if self.full else self.state.get("checkpoint")
        initial = self._initial_params(granularity)
        if checkpoint and checkpoint.get("params"):
            initial = checkpoint["params"]            # the increment a killed run was reading
            self.started = checkpoint.get("started")
            self.problems.extend(checkpoint.get("gaps", []))   # gaps seen before the crash still count
        params = dict(checkpoint["page"]) if checkpoint and checkpoint.get("page") else dict(initial)
        if initial.get("from", "") > initial.get("until", "9999"):   # the window closed since the last run
            self.complete = True
            return
        restarted = False
        seen_tokens: set[str] = set()
        prev = None                                  # (params, records in page, cursor) of the previous page
        page_no = 0
        while True:
            page_no += 1
            root = self._page(client, params, page_no)
            if self.started is None:
                self.started = (root.findtext(f"{{{OAI}}}responseDate") or "").strip() or None
            err = root.find(f"{{{OAI}}}error")
            if err is not None:
                code = err.get("code", "")
                if code == "noRecordsMatch":
                    break
                if code == "badResumptionToken" and "resumptionToken" in params and not restarted:
                    log.warning("%s: resumption token refused; restarting the listing from %s",
                                self.spec["id"], initial.get("from", "the beginning"))
                    restarted, params, prev, seen_tokens = True, dict(initial), None, set()
                    continue
                if code == "badArgument" and "resumptionToken" in params and "metadataPrefix" not in params:
                    params = {**params, "metadataPrefix": self.prefix}   # servers that want it repeated
                    continue
                raise SourceError(f"{self.spec['url']}: OAI-PMH error {code}: {(err.text or '').strip()}")
            where = f"{self.spec['url']} page {page_no}"
            recs = list(oai_records(root.iter(f"{{{OAI}}}record"), where, self.spec["url"]))
            recs += getattr(root, "quarantined", [])
            tok = root.find(f".//{{{OAI}}}resumptionToken")
            token = (tok.text or "").strip() if tok is not None else ""
            cursor = _int(tok.get("cursor")) if tok is not None else None
            size = _int(tok.get("completeListSize")) if tok is not None else None
            if prev and prev[2] is not None and cursor is not None and cursor - prev[2] > prev[1]:
                self.problems.append(f"{where}: the previous page held {prev[1]} records but the cursor moved by "
                                     f"{cursor - prev[2]}; records may be missing")
            if not token and size is not None and cursor is not None and cursor + len(recs) < size:
                self.problems.append(f"{where}: the list ended after {cursor + len(recs)} of {size} records")
            resume = {"params": initial, "page": params, "started": self.started, "gaps": list(self.problems)}
            for raw in recs:
                if raw.datestamp and (self.max_datestamp is None or raw.datestamp > self.max_datestamp):
                    self.max_datestamp = raw.datestamp
                yield raw, resume
            if not token:
                break
            if token in seen_tokens:
                log.warning("%s: resumption token %r repeats; treating the list as complete", self.spec["id"], token)
                break
            seen_tokens.add(token)
            prev = (params, len(recs), cursor)
            params = {"verb": "ListRecords", "resumptionToken": token}
            if "metadataPrefix" in prev[0] and "resumptionToken" in prev[0]:
                params["metadataPrefix"] = self.prefix
        self.complete = True

    def _page(self, client: _Client, params: dict, page_no: int):
        """One page, parsed; refetched when malformed; salvaged record by record when it stays malformed."""
        last_body = None
        attempts = self.fetcher.retries + 1
        for attempt in range(attempts):
            try:
                body = client.harvest(**params).body
            except FetchError as exc:
                raise SourceError(str(exc)) from None
            try:
                return self._parse(body, f"{self.spec['url']} page {page_no}")
            except MalformedXML as exc:
                if body == last_body or attempt == attempts - 1:
                    salvaged = self._salvage(body, page_no)
                    if salvaged is not None:
                        return salvaged
                    raise SourceError(f"{exc}; the page stays malformed after {attempt + 1} attempts") from None
                log.warning("%s; fetching the page again", exc)
                last_body = body
                self.fetcher.sleep(min(self.fetcher.backoff * (2 ** attempt), 30))
        raise AssertionError("unreachable")

    def _salvage(self, body: bytes, page_no: int):
        """Keep the readable records of a page that stays malformed; quarantine the others.

        Only for a page that is complete (it ends with </OAI-PMH>): a cut page is a transfer failure and
        must not be read as a short list.
        """
        if not body.rstrip().endswith(b"OAI-PMH>"):
            return None
        ns = _ROOT_NS.search(body)
        decls = ns.group(1) if ns else b' xmlns="http://www.openarchives.org/OAI/2.0/"'
        out = etree.Element(f"{{{OAI}}}OAI-PMH")
        lr = etree.SubElement(out, f"{{{OAI}}}ListRecords")
        quarantined = []
        where = f"{self.spec['url']} page {page_no}"
        for n, m in enumerate(_RECORD.finditer(body), 1):
            chunk = m.group(0)
            try:
                wrapped = parse_bytes(b"<w" + decls + b">" + chunk + b"</w>", where).getroot()
                lr.append(wrapped[0])
            except (MalformedXML, UnsafeXML) as exc:
                ident = _IDENT.search(chunk)
                line = body.count(b"\n", 0, m.start()) + 1
                quarantined.append(RawRecord(
                    identifier=ident.group(1).decode("utf-8", "replace") if ident else f"{where}#record{n}",
                    error=f"unreadable XML: {str(exc).split(': ', 1)[-1]}", location=f"{where}, line {line}",
                    raw_bytes=chunk[:100_000], url=self.spec["url"]))
        tok = _TOKEN.search(body)
        if tok:
            t = etree.SubElement(lr, f"{{{OAI}}}resumptionToken")
            t.text = (tok.group(3) or b"").decode("utf-8", "replace").strip()
            for attr in ("cursor", "completeListSize"):
                a = re.search(attr.encode() + rb'="(\d+)"', tok.group(2))
                if a:
                    t.set(attr, a.group(1).decode())
        log.warning("%s: malformed page; kept %d records, quarantined %d", where, len(lr) - bool(tok), len(quarantined))
        return _Salvaged(out, quarantined)

    # ---------------------------------------------------------------- static repositories

    def _static(self, body: bytes, where: str):
        self.enumerates_all = True
        root = self._parse(body, where)
        if root.tag != f"{{{STATIC}}}Repository":
            raise SourceError(f"{where}: not an OAI-PMH static repository (root <{etree.QName(root).localname}>)")
        lists = [lr for lr in root.iter(f"{{{STATIC}}}ListRecords") if lr.get("metadataPrefix") == self.prefix]
        if not lists:
            have = sorted({lr.get("metadataPrefix") for lr in root.iter(f"{{{STATIC}}}ListRecords")})
            raise SourceError(f"{where}: no records in format {self.prefix!r} (the repository has: {', '.join(have)})")
        for lr in lists:
            for raw in oai_records(lr.iter(f"{{{OAI}}}record"), where, where):
                if self.set and self.set not in raw.sets or not self._in_window(raw.datestamp):
                    continue
                if raw.datestamp and (self.max_datestamp is None or raw.datestamp > self.max_datestamp):
                    self.max_datestamp = raw.datestamp
                yield raw, None
        self.complete = True
        self.listing_complete = not (self.spec.get("from") or self.spec.get("until"))

    def _in_window(self, datestamp: str | None) -> bool:
        """Within the source's `from` and `until` days (both included); a record without a datestamp is."""
        day = (datestamp or "")[:10]
        return not day or (self.spec.get("from", "")[:10] <= day <= self.spec.get("until", "9999")[:10])

    # ---------------------------------------------------------------- helpers

    def _parse(self, body: bytes, where: str):
        try:
            return parse_bytes(body, where).getroot()
        except UnsafeXML as exc:
            raise SourceError(str(exc)) from None

    def _check_error(self, root, verb: str):
        err = root.find(f"{{{OAI}}}error")
        if err is not None:
            raise SourceError(f"{self.spec['url']}: {verb}: OAI-PMH error {err.get('code')}: {(err.text or '').strip()}")

    def final_state(self) -> dict:
        """Next increment starts where this one started (the repository's clock), so nothing falls between runs."""
        return {"last_datestamp": self.started or self.max_datestamp or self.state.get("last_datestamp")}


class _Salvaged:
    """A salvaged page: behaves like the page's root element, and carries its quarantined records."""

    def __init__(self, root, quarantined):
        self._root, self.quarantined = root, quarantined

    def __getattr__(self, name):
        return getattr(self._root, name)


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None
