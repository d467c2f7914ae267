"""CSW 2.0.2 sources: a real pycsw 2.6.2 catalogue on 127.0.0.1 (paging, incremental, tombstones, resume),
a catalogue that lies about nextRecord, ExceptionReports, a hostile response, and every CSW response of the
corpus read through the crosswalks."""
import json
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from harvester import config, run
from harvester.crosswalks import iso19139, oai_dc
from harvester.mapping import MapContext, MappingError, map_record
from harvester.raw import RawRecord
from harvester.sources import SourceError
from harvester.sources.csw import CSWException, page_records, search_results
from harvester.store import Store

from .conftest import CORPUS, need
from .cswpeer import pycsw_peer

ISO_FILES = [p for d in ("iso19139/pycsw", "iso19139/owslib") for p in sorted((CORPUS / d).glob("*.xml"))]


def node_config(tmp_path, url, **source):
    extra = "".join(f", {k}: {json.dumps(v)}" for k, v in source.items())
    path = tmp_path / "node_config.yaml"
    path.write_text(textwrap.dedent(f"""\
        node: {{id: ke, name: Test node}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        harvest: {{batch_size: 4, retries: 1, timeout: 10, backoff: 0.01}}
        sources:
          - {{id: src, type: csw, url: "{url}"{extra}}}
        """), encoding="utf-8")
    return config.load(path)


def harvest(cfg, **kw):
    with Store(cfg.store_path) as store:
        return run.harvest_source(cfg, store, cfg.source("src"), **kw)


def held(cfg):
    with Store(cfg.store_path) as s:
        return s.live_identifiers("src"), s.count("src", deleted=True)


# ---------------------------------------------------------------- a real pycsw 2.6.2


@pytest.fixture
def peer(tmp_path):
    need(CORPUS / "iso19139")
    with pycsw_peer(tmp_path, ISO_FILES, maxrecords=4) as p:
        yield p


def test_pycsw_paging_incremental_and_tombstone(tmp_path, peer):
    ids = peer.identifiers()
    assert len(ids) > 8, "pycsw holds enough records for several pages"
    cfg = node_config(tmp_path, peer.url, page_size=3)
    rep = harvest(cfg)
    assert rep.status == "ok", rep.error
    assert rep.seen == len(ids) and rep.stored + rep.failed == len(ids)
    live, _ = held(cfg)
    with Store(cfg.store_path) as s:
        failed = {r[0] for r in s.db.execute("SELECT identifier FROM failures WHERE source='src'")} \
            if s.db.execute("SELECT name FROM sqlite_master WHERE name='failures'").fetchone() else set()
    assert live | failed == ids

    # nothing changed: the increment asks only for modified records, and stores nothing again
    rep2 = harvest(cfg)
    assert rep2.status == "ok" and rep2.stored == 0 and rep2.deleted == 0
    assert rep2.seen < len(ids)

    # a record disappears from the catalogue: the next run notices fewer matches, lists everything, tombstones it
    victim = sorted(live)[0]
    peer.remove(victim)
    rep3 = harvest(cfg)
    assert rep3.status == "ok", rep3.error
    assert rep3.deleted == 1 and rep3.stored == 0
    live3, tombstones = held(cfg)
    assert victim not in live3 and tombstones == 1 and live3 == live - {victim}


def test_pycsw_csw_record_by_post(tmp_path, peer):
    cfg = node_config(tmp_path, peer.url, output_schema="csw-record", method="post", page_size=5)
    assert run.format_of(cfg.source("src")) == "oai_dc"
    rep = harvest(cfg)
    assert rep.status == "ok", rep.error
    assert rep.seen == len(peer.identifiers()) and rep.failed == 0
    live, _ = held(cfg)
    assert live == peer.identifiers()
    rep = harvest(cfg)                   # the increment's CQL constraint travels in the POSTed csw:Constraint
    assert rep.status == "ok" and rep.stored == 0 and rep.seen < len(live), rep.error


def test_pycsw_constraint_and_unknown_schema(tmp_path, peer):
    cfg = node_config(tmp_path, peer.url, constraint="dc:title like '%Ortho%'")
    rep = harvest(cfg)
    assert rep.status == "ok", rep.error
    assert 0 < rep.seen < len(peer.identifiers())
    rep = harvest(cfg)                   # the increment ANDs the constraint with the modification date
    assert rep.status == "ok" and rep.stored == 0, rep.error
    cfg = node_config(tmp_path, peer.url, constraint="dc:title lke '%Ortho%'")
    rep = harvest(cfg, full=True)
    assert rep.status == "failed" and "InvalidParameterValue" in rep.error


def test_pycsw_resume_after_a_crash(tmp_path, peer):
    cfg = node_config(tmp_path, peer.url, page_size=3)
    with Store(cfg.store_path) as store:
        spec = cfg.source("src")
        from harvester.sources import open_source
        src = open_source(spec, cfg, store.state("src"))
        it = src.records()
        first = [next(it) for _ in range(7)]          # page 3 reached, then the process dies
        checkpoint = first[-1][1]
    assert checkpoint["start"] == 7
    with Store(cfg.store_path) as store:
        store.save_state("src", checkpoint=checkpoint)
    rep = harvest(cfg)
    assert rep.status == "ok", rep.error
    assert rep.seen == len(peer.identifiers()) - 6      # the run resumed at startPosition 7


# ---------------------------------------------------------------- a catalogue that lies


def _response(ids, matched, next_record, start):
    recs = "".join(f"<csw:Record><dc:identifier>{i}</dc:identifier><dc:title>Record {i}</dc:title>"
                   f"<dct:modified>2024-01-0{1 + n % 9}</dct:modified></csw:Record>" for n, i in enumerate(ids))
    return (f'<?xml version="1.0"?><csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="http://purl.org/dc/terms/" version="2.0.2">'
            f'<csw:SearchStatus timestamp="2026-01-01T00:00:00Z"/><csw:SearchResults numberOfRecordsMatched="{matched}" '
            f'numberOfRecordsReturned="{len(ids)}" nextRecord="{next_record}" elementSet="full">{recs}'
            f'</csw:SearchResults></csw:GetRecordsResponse>').encode()


CAPS = b"""<?xml version="1.0"?><csw:Capabilities xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"
 xmlns:ows="http://www.opengis.net/ows" version="2.0.2"><ows:OperationsMetadata><ows:Operation name="GetRecords">
 <ows:Parameter name="outputSchema"><ows:Value>http://www.opengis.net/cat/csw/2.0.2</ows:Value></ows:Parameter>
 </ows:Operation></ows:OperationsMetadata></csw:Capabilities>"""


class LyingCSW:
    """20 csw:Records, 3 per page (whatever maxRecords says); nextRecord per `lie`: zero, repeat, beyond, none."""

    def __init__(self, lie, total=20, page=3, body=None):
        self.lie, self.ids, self.page, self.body, self.requests = lie, [f"rec-{n:02d}" for n in range(total)], page, body, []

    def answer(self, q):
        self.requests.append(q)
        if q.get("request") == "GetCapabilities":
            return CAPS
        if self.body is not None:
            return self.body
        start = int(q.get("startPosition", "1"))
        chunk = self.ids[start - 1: start - 1 + self.page]
        nxt = {"zero": 0, "repeat": start, "beyond": 999, "backwards": 1}.get(self.lie, start + len(chunk))
        matched = len(self.ids) + (5 if self.lie == "short" else 0)
        return _response(chunk, matched, nxt, start)

    def __enter__(self):
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                q = {k.split(".")[-1]: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                body = outer.answer(q)
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/csw"
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.mark.parametrize("lie", ["zero", "repeat", "beyond", "backwards", "honest"])
def test_lying_next_record_never_loops_nor_skips(tmp_path, lie):
    with LyingCSW(lie) as srv:
        cfg = node_config(tmp_path, srv.url, output_schema="csw-record", page_size=3)
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        assert rep.seen == 20 and held(cfg)[0] == set(srv.ids)
        assert len(srv.requests) <= 1 + 7 + 1


def test_a_list_shorter_than_matched_is_partial_and_deletes_nothing(tmp_path):
    with LyingCSW("honest") as srv:
        cfg = node_config(tmp_path, srv.url, output_schema="csw-record")
        assert harvest(cfg).status == "ok"
        srv.lie = "short"
        srv.ids = srv.ids[:10]                           # half the catalogue gone, and it claims 15
        rep = harvest(cfg, full=True)
        assert rep.status == "partial" and rep.deleted == 0
        assert "ended after 10 of 15" in "; ".join(rep.problems)
        assert len(held(cfg)[0]) == 20


def test_unoffered_output_schema_is_a_clear_error(tmp_path):
    with LyingCSW("honest") as srv:
        cfg = node_config(tmp_path, srv.url)                 # iso19139, which this catalogue does not offer
        rep = harvest(cfg)
        assert rep.status == "failed"
        assert "does not offer outputSchema http://www.isotc211.org/2005/gmd" in rep.error


def test_exception_report_fails_the_run_clearly(tmp_path):
    body = (CORPUS / "csw/pycsw/csw202_ExceptionReport_invalid_request.xml").read_bytes()
    with LyingCSW("honest", body=body) as srv:
        cfg = node_config(tmp_path, srv.url, output_schema="csw-record")
        rep = harvest(cfg)
        assert rep.status == "failed"
        assert "exception" in rep.error and "NoApplicableCode" in rep.error


def test_xxe_response_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
            '<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><csw:SearchResults numberOfRecordsMatched="1" '
            'numberOfRecordsReturned="1" nextRecord="0"><csw:Record><dc:identifier>x</dc:identifier>'
            '<dc:title>&x;</dc:title></csw:Record></csw:SearchResults></csw:GetRecordsResponse>').encode()
    with LyingCSW("honest", body=body) as srv:
        cfg = node_config(tmp_path, srv.url, output_schema="csw-record")
        rep = harvest(cfg)
        assert rep.status == "failed" and "entities" in rep.error
        with Store(cfg.store_path) as s:
            assert s.count("src") == 0
            assert "TOP-SECRET" not in json.dumps([list(r) for r in s.db.execute("SELECT * FROM records")])


def test_config_checks(tmp_path):
    with pytest.raises(config.ConfigError) as exc:
        node_config(tmp_path, "http://127.0.0.1:9/csw", output_schema="dif")
    assert "output_schema" in str(exc.value)
    with pytest.raises(config.ConfigError) as exc:
        node_config(tmp_path, "http://127.0.0.1:9/csw", entity="documents")
    assert "only for odata" in str(exc.value)


# ---------------------------------------------------------------- the corpus


CSW_FILES = sorted((CORPUS / "csw").rglob("*.xml")) if (CORPUS / "csw").exists() else []


@pytest.mark.parametrize("path", CSW_FILES, ids=lambda p: str(p.relative_to(CORPUS / "csw")))
def test_every_corpus_csw_file_maps_or_errs_clearly(path):
    body = path.read_bytes()
    try:
        _, results = search_results(body, path.name)
    except CSWException as exc:
        assert "exception" in str(exc)
        return
    except SourceError as exc:      # capabilities, GetRecordById, Atom: not a GetRecords response
        assert "not a CSW 2.0.2 GetRecords response" in str(exc)
        from harvester.xmlsafe import parse_bytes
        root = parse_bytes(body, path.name).getroot()
        for rec in (e for e in root.iter() if e.tag in iso19139.TAGS | oai_dc.TAGS):
            _map(rec, path)
        return
    raws = list(page_records(results, path.name))
    assert raws or results.get("numberOfRecordsMatched") is not None
    for raw in raws:
        if raw.error:
            continue
        _map(raw.payload, path, raw.identifier)


def _map(el, path, ident="x"):
    cw = "iso19139" if el.tag in iso19139.TAGS else "oai_dc"
    try:
        rec = map_record(cw, RawRecord(identifier=ident, payload=el), MapContext(node="ke", source="csw"))
    except MappingError as exc:       # a record without title is that record's error, with a reason
        assert str(exc)
        return
    assert rec["title"]
