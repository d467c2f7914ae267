"""The test OAI-PMH providers behave: our own (tests/oaiserver.py), with and without faults, and the
third-party oaipmh 4.0.0 peer (tests/peers.py), both harvested over real HTTP on 127.0.0.1."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from lxml import etree
from sickle import Sickle, oaiexceptions

from tests.oaiserver import (
    CHEMICALS, LANGUAGES, Fault, GeneratedSource, ListSource, OAIServer, Query, ServedRecord,
    bad_resumption_token, decode_token, drop_connection, duplicate_across_pages, encode_token, http_500,
    http_503, make_records, malformed_page, parse_fault, server_fixture, slow, truncated_page,
    wrong_granularity_datestamps,
)
from tests.peers import DELETED_ID, PEER_FILES, corpus_dir, oaipmh_peer

from .conftest import need

UTC = timezone.utc
OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
START = datetime(2020, 1, 1, tzinfo=UTC)
TIMEOUT = 10


def get(url, **params) -> requests.Response:
    return requests.get(url, params=params, timeout=TIMEOUT)


def oai(url, **params) -> etree._Element:
    r = get(url, **params)
    assert r.status_code == 200, r.text
    return etree.fromstring(r.content)


def error_code(root) -> str | None:
    e = root.find(f"{OAI}error")
    return None if e is None else e.get("code")


def token_of(root) -> etree._Element | None:
    return root.find(f".//{OAI}resumptionToken")


def header_ids(root) -> list[str]:
    return [e.text for e in root.iter(f"{OAI}identifier") if e.getparent().tag == f"{OAI}header"]


def harvest(url, verb="ListRecords", **kw) -> list:
    sickle = Sickle(url, max_retries=kw.pop("max_retries", 0), timeout=TIMEOUT,
                    **({"http_method": kw.pop("http_method")} if "http_method" in kw else {}))
    kw.setdefault("metadataPrefix", "oai_dc")
    return list(getattr(sickle, verb)(**kw))


def ids(items) -> list[str]:
    return [(i.header if hasattr(i, "header") else i).identifier for i in items]


@pytest.fixture(scope="module")
def oai_schema():
    xsd = need(corpus_dir() / "other" / "schemas" / "OAI-PMH.xsd")
    return etree.XMLSchema(etree.parse(str(xsd)))


# --------------------------------------------------------------------------- harvesting our server

def test_identify():
    with OAIServer(make_records(5), granularity="seconds") as srv:
        ident = Sickle(srv.url, timeout=TIMEOUT).Identify()
        assert ident.granularity == "YYYY-MM-DDThh:mm:ssZ"
        assert ident.deletedRecord == "persistent"
        assert ident.earliestDatestamp == "2020-01-01T00:00:00Z"
        assert ident.baseURL == srv.url
        assert ident.protocolVersion == "2.0"
    with OAIServer(make_records(5, start=datetime(2021, 3, 4, 5, 6, 7)), granularity="day",
                   deleted_record="transient") as srv:
        ident = Sickle(srv.url, timeout=TIMEOUT).Identify()
        assert (ident.granularity, ident.deletedRecord, ident.earliestDatestamp) == \
            ("YYYY-MM-DD", "transient", "2021-03-04")


def test_full_harvest_across_pages_exact_counts():
    records = make_records(95, deleted_every=10)
    with OAIServer(records, page_size=10) as srv:
        got = harvest(srv.url)
        assert ids(got) == [r.identifier for r in records]
        assert srv.stats.requests == 10 and len(srv.requests) == 10
        assert srv.requests[0] == {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
        assert set(srv.requests[1]) == {"verb", "resumptionToken"}
        assert sum(r.deleted for r in got) == 9
        assert len(harvest(srv.url, ignore_deleted=True)) == 86
        assert ids(harvest(srv.url, "ListIdentifiers")) == [r.identifier for r in records]
        live = [r for r in got if not r.deleted]
        assert live[0].metadata["title"] and live[0].metadata["language"] == ["en"]
        assert srv.stats.records_served == 95 + 95 + 95


def test_resumption_token_cursor_and_complete_list_size():
    with OAIServer(make_records(25), page_size=10) as srv:
        root = oai(srv.url, verb="ListIdentifiers", metadataPrefix="oai_dc")
        cursors = []
        while True:
            tok = token_of(root)
            assert tok.get("completeListSize") == "25"
            cursors.append(tok.get("cursor"))
            if not tok.text:
                break
            verb, args, offset = decode_token(tok.text)
            assert (verb, args["metadataPrefix"], offset) == ("ListIdentifiers", "oai_dc", len(cursors) * 10)
            root = oai(srv.url, verb="ListIdentifiers", resumptionToken=tok.text)
        assert cursors == ["0", "10", "20"]
        assert len(header_ids(root)) == 5
        # a list that fits in one page has no token at all
        root = oai(srv.url, verb="ListIdentifiers", metadataPrefix="oai_dc", set="chemical:pcb")
        assert token_of(root) is None and len(header_ids(root)) == 3


def test_post_requests():
    with OAIServer(make_records(23), page_size=5) as srv:
        assert len(harvest(srv.url, http_method="POST")) == 23
        r = requests.post(srv.url, data={"verb": "GetRecord", "metadataPrefix": "oai_dc",
                                         "identifier": "oai:pops.test:doc-0000004"}, timeout=TIMEOUT)
        assert header_ids(etree.fromstring(r.content)) == ["oai:pops.test:doc-0000004"]


def test_from_until_seconds_granularity():
    with OAIServer(make_records(48, step=timedelta(hours=1)), page_size=4) as srv:
        got = harvest(srv.url, **{"from": "2020-01-01T05:00:00Z", "until": "2020-01-01T10:00:00Z"})
        assert ids(got) == [f"oai:pops.test:doc-{i:07d}" for i in range(5, 11)]
        assert len(harvest(srv.url, **{"from": "2020-01-01T05:00:01Z"})) == 42
        assert len(harvest(srv.url, until="2020-01-01T00:00:00Z")) == 1
        # day values are accepted by a seconds repository and cover whole days
        assert len(harvest(srv.url, **{"from": "2020-01-02"})) == 24
        assert len(harvest(srv.url, until="2020-01-01")) == 24
        with pytest.raises(oaiexceptions.NoRecordsMatch):
            harvest(srv.url, **{"from": "2020-01-03"})


def test_from_until_day_granularity():
    with OAIServer(make_records(20, step=timedelta(hours=6)), granularity="day", page_size=3) as srv:
        got = harvest(srv.url, **{"from": "2020-01-02", "until": "2020-01-03"})
        assert ids(got) == [f"oai:pops.test:doc-{i:07d}" for i in range(4, 12)]
        assert {r.header.datestamp for r in got} == {"2020-01-02", "2020-01-03"}
        root = oai(srv.url, verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2020-01-02T00:00:00Z"})
        assert error_code(root) == "badArgument"          # finer than the declared granularity


def test_sets_filter():
    records = make_records(77)
    with OAIServer(records, page_size=10) as srv:
        sets = {s.setSpec: s.setName for s in Sickle(srv.url, timeout=TIMEOUT).ListSets()}
        assert "chemical:ddt" in sets and "type:nip" in sets and "chemical" in sets
        ddt = harvest(srv.url, set="chemical:ddt")
        assert ids(ddt) == [r.identifier for r in records if "chemical:ddt" in r.sets]
        assert len(ddt) == 7 and all("chemical:ddt" in r.header.setSpecs for r in ddt)
        assert len(harvest(srv.url, set="type:legislation")) == 11
        assert len(harvest(srv.url, "ListIdentifiers", set="chemical")) == 77    # parent set holds all
        with pytest.raises(oaiexceptions.NoRecordsMatch):
            harvest(srv.url, set="chemical:unknown")


def test_generated_records_are_realistic_and_multilingual():
    records = make_records(12)
    with OAIServer(records) as srv:
        got = harvest(srv.url)
    langs = [r.metadata["language"][0] for r in got]
    assert langs[:6] == list(LANGUAGES)
    titles = [r.metadata["title"][0] for r in got]
    assert "PCB" in titles[0] and "DDT" in titles[1] and "dioxinas" in titles[2]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in titles[4])          # zh
    assert any("\u0600" <= ch <= "\u06ff" for ch in titles[5])          # ar
    first = got[0].metadata
    assert "CAS 1336-36-3" in first["subject"] and first["coverage"] == ["Kenya"]
    assert first["identifier"][0].startswith("https://") and first["type"] == ["national implementation plan", "Text"]
    assert len(got[10].metadata["title"]) == 2          # every 5th non-English record has an English title too
    root = etree.fromstring(records[1].metadata["oai_dc"])
    assert root.find(f"{DC}title").get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"


def test_list_metadata_formats_and_get_record():
    records = make_records(4)
    records.append(ServedRecord("oai:x:iso", START, (), False, {"iso19139": "<gmd:MD_Metadata "
                                "xmlns:gmd='http://www.isotc211.org/2005/gmd'/>"}))
    with OAIServer(records, sets={"a": "A"}) as srv:
        s = Sickle(srv.url, timeout=TIMEOUT)
        assert [f.metadataPrefix for f in s.ListMetadataFormats()] == ["oai_dc", "iso19139"]
        assert [f.metadataPrefix for f in s.ListMetadataFormats(identifier="oai:x:iso")] == ["iso19139"]
        rec = s.GetRecord(identifier="oai:pops.test:doc-0000002", metadataPrefix="oai_dc")
        assert rec.header.identifier == "oai:pops.test:doc-0000002" and rec.metadata["language"] == ["es"]
        assert len(harvest(srv.url)) == 4 and len(harvest(srv.url, metadataPrefix="iso19139")) == 1
        with pytest.raises(oaiexceptions.CannotDisseminateFormat):
            s.GetRecord(identifier="oai:x:iso", metadataPrefix="oai_dc")
        with pytest.raises(oaiexceptions.IdDoesNotExist):
            s.ListMetadataFormats(identifier="oai:x:nothing")


def test_incremental_harvest_sees_changes_between_requests():
    records = make_records(30, step=timedelta(hours=1))
    with OAIServer(records, page_size=7) as srv:
        assert len(harvest(srv.url)) == 30
        later = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
        srv.update("oai:pops.test:doc-0000003", datestamp=later)
        srv.delete("oai:pops.test:doc-0000010", datestamp=later + timedelta(seconds=1))
        srv.add(ServedRecord("oai:pops.test:new-1", later + timedelta(seconds=2), ("chemical:pcb",), False,
                             {"oai_dc": records[0].metadata["oai_dc"]}))
        got = harvest(srv.url, **{"from": "2024-06-01T12:00:00Z"})
        assert ids(got) == ["oai:pops.test:doc-0000003", "oai:pops.test:doc-0000010", "oai:pops.test:new-1"]
        assert [r.deleted for r in got] == [False, True, False]
        assert got[0].header.datestamp == "2024-06-01T12:00:00Z"
        srv.remove("oai:pops.test:doc-0000005")            # gone without a tombstone
        assert len(harvest(srv.url)) == 30
        with pytest.raises(oaiexceptions.IdDoesNotExist):
            Sickle(srv.url, timeout=TIMEOUT).GetRecord(identifier="oai:pops.test:doc-0000005",
                                                       metadataPrefix="oai_dc")


def test_generated_source_matches_list_source():
    kw = dict(step=timedelta(minutes=7), deleted_every=9)
    gen, lst = GeneratedSource(211, **kw), ListSource(make_records(211, **kw))
    t = lambda m: START + timedelta(minutes=m)  # noqa: E731
    queries = [Query("oai_dc"), Query("oai_dc", "chemical:hcb"), Query("oai_dc", "type:training"),
               Query("oai_dc", "type"), Query("oai_dc", None, t(70), t(700)),
               Query("oai_dc", "chemical:mirex", t(69), t(1400)), Query("oai_dc", None, t(-100), t(1)),
               Query("oai_dc", None, t(5000)), Query("pops"), Query("oai_dc", "nope")]
    for q in queries:
        assert gen.count(q) == lst.count(q), q
        for off in (0, 3, 17):
            assert gen.page(q, off, 5) == lst.page(q, off, 5), (q, off)
    assert gen.get("oai:pops.test:doc-0000042") == lst.get("oai:pops.test:doc-0000042")
    assert gen.get("oai:pops.test:doc-0000211") is None and gen.get("oai:pops.test:doc-42") is None
    assert gen.set_names().keys() >= lst.set_names().keys()
    gen.extend(5)
    assert gen.count(Query("oai_dc")) == 216


def test_a_million_generated_records_are_served_lazily():
    src = GeneratedSource(1_000_000, step=timedelta(seconds=30))
    with OAIServer(src, page_size=500) as srv:
        root = oai(srv.url, verb="ListIdentifiers", metadataPrefix="oai_dc")
        assert token_of(root).get("completeListSize") == "1000000" and len(header_ids(root)) == 500
        last = START + timedelta(seconds=30 * 999_999)
        tail = harvest(srv.url, "ListIdentifiers", **{"from": (last - timedelta(seconds=30 * 749))
                                                      .strftime("%Y-%m-%dT%H:%M:%SZ")})
        assert len(tail) == 750 and tail[-1].identifier == "oai:pops.test:doc-0999999"
        rec = Sickle(srv.url, timeout=TIMEOUT).GetRecord(identifier="oai:pops.test:doc-0999999",
                                                        metadataPrefix="oai_dc")
        assert rec.header.datestamp == last.strftime("%Y-%m-%dT%H:%M:%SZ")
        pcb = oai(srv.url, verb="ListIdentifiers", metadataPrefix="oai_dc", set="chemical:pcb")
        assert token_of(pcb).get("completeListSize") == str(len(range(0, 1_000_000, len(CHEMICALS))))


# --------------------------------------------------------------------------- OAI errors

@pytest.fixture(scope="module")
def plain_server():
    with OAIServer(make_records(12), page_size=5) as srv:
        yield srv


@pytest.fixture(scope="module")
def setless_server():
    records = [ServedRecord(r.identifier, r.datestamp, (), r.deleted, r.metadata) for r in make_records(3)]
    with OAIServer(records) as srv:
        yield srv


def _token(verb="ListRecords", **args):
    return encode_token(verb, {"metadataPrefix": "oai_dc", **args}, 5)


ERROR_CASES = [
    ({}, "badVerb"),
    ({"verb": "ListEverything"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListIdentifiers", "metadataPrefix": ["oai_dc", "oai_dc"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": _token()}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-13-45"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01", "until": "2020-01-02T00:00:00Z"},
     "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-02-01", "until": "2020-01-01"}, "badArgument"),
    ({"verb": "GetRecord", "identifier": "oai:pops.test:doc-0000001"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": ""}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "marc21", "identifier": "oai:pops.test:doc-0000001"},
     "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:pops.test:nothing"}, "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": "oai:pops.test:nothing"}, "idDoesNotExist"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2030-01-01"}, "noRecordsMatch"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "type:nothing"}, "noRecordsMatch"),
    ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": _token("ListIdentifiers")}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": encode_token("ListRecords", {"metadataPrefix": "oai_dc"}, 500)},
     "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "abc"}, "badResumptionToken"),
]


@pytest.mark.parametrize("params,code", ERROR_CASES, ids=[f"{c}-{i}" for i, (_, c) in enumerate(ERROR_CASES)])
def test_error_conditions(plain_server, params, code):
    root = oai(plain_server.url, **params)
    assert error_code(root) == code
    req = root.find(f"{OAI}request")
    assert req.text == plain_server.url
    if code in ("badVerb", "badArgument"):
        assert dict(req.attrib) == {}                      # the base URL only, as the protocol requires
    assert plain_server.stats.errors[code] >= 1


@pytest.mark.parametrize("params", [{"verb": "ListSets"},
                                    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "a"}])
def test_no_set_hierarchy(setless_server, params):
    assert error_code(oai(setless_server.url, **params)) == "noSetHierarchy"


@pytest.mark.corpus
def test_responses_validate_against_the_oai_schema(plain_server, oai_schema):
    url = plain_server.url
    first = oai(url, verb="ListRecords", metadataPrefix="oai_dc")
    docs = [oai(url, verb="Identify"), oai(url, verb="ListMetadataFormats"), oai(url, verb="ListSets"),
            first, oai(url, verb="ListRecords", resumptionToken=token_of(first).text),
            oai(url, verb="ListIdentifiers", metadataPrefix="oai_dc", set="chemical:pcb"),
            oai(url, verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:pops.test:doc-0000003")]
    docs += [oai(url, **p) for p, _ in ERROR_CASES[:2] + ERROR_CASES[13:]]
    for doc in docs:
        assert oai_schema.validate(doc), oai_schema.error_log


def test_unknown_path_is_404(plain_server):
    assert requests.get(plain_server.url.replace("/oai", "/other"), timeout=TIMEOUT).status_code == 404


served = server_fixture(lambda: make_records(12), page_size=5)


def test_server_fixture_helper(served):
    assert len(harvest(served.url)) == 12 and served.stats.requests == 3


# --------------------------------------------------------------------------- faults

def test_http_503_with_retry_after():
    with OAIServer(make_records(5), faults=[http_503(retry_after=1, on_requests={1})]) as srv:
        r = get(srv.url, verb="Identify")
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        assert get(srv.url, verb="Identify").status_code == 200
        assert srv.stats.faults["http_503"] == 1 and srv.stats.injected == [(1, "http_503")]


def test_sickle_retries_a_503_page():
    with OAIServer(make_records(30), page_size=10, faults=[http_503(retry_after=0, on_pages={2}, times=1)]) as srv:
        assert len(harvest(srv.url, max_retries=3)) == 30
        assert srv.stats.requests == 4 and srv.stats.injected == [(2, "http_503")]
        assert srv.requests[1] == srv.requests[2]          # the same page asked again


def test_http_500():
    with OAIServer(make_records(30), page_size=10, faults=[http_500(on_pages={3})]) as srv:
        with pytest.raises(requests.HTTPError):
            harvest(srv.url)
        assert srv.stats.faults == {"http_500": 1}


def test_on_requests_and_verbs_triggers():
    with OAIServer(make_records(5), faults=[http_500(on_requests={2, 4})]) as srv:
        assert [get(srv.url, verb="Identify").status_code for _ in range(5)] == [200, 500, 200, 500, 200]
    with OAIServer(make_records(5), faults=[http_500(verbs={"ListSets"})]) as srv:
        assert get(srv.url, verb="Identify").status_code == 200
        assert get(srv.url, verb="ListSets").status_code == 500
        assert get(srv.url, verb="ListSets").status_code == 500


def test_random_faults_are_reproducible_with_a_seed():
    runs = []
    for _ in range(2):
        with OAIServer(make_records(5), faults=[Fault("http_500", probability=0.3, seed=42)]) as srv:
            statuses = [get(srv.url, verb="Identify").status_code for _ in range(40)]
            runs.append([n for n, _ in srv.stats.injected])
            assert statuses.count(500) == srv.stats.faults["http_500"] == len(runs[-1])
    assert runs[0] == runs[1] and 4 <= len(runs[0]) <= 24


def test_drop_connection_mid_body():
    with OAIServer(make_records(30), page_size=10, faults=[drop_connection(fraction=0.4, on_requests={1})]) as srv:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            get(srv.url, verb="ListRecords", metadataPrefix="oai_dc")
        srv.add_fault(drop_connection(on_pages={2}, times=1))
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            harvest(srv.url)
        assert srv.stats.faults["drop_connection"] == 2
        assert len(harvest(srv.url)) == 30


def test_drop_connection_before_headers():
    with OAIServer(make_records(5), faults=[drop_connection(before_headers=True, on_requests={1})]) as srv:
        with pytest.raises(requests.exceptions.ConnectionError):
            get(srv.url, verb="Identify")
        assert get(srv.url, verb="Identify").status_code == 200


@pytest.mark.parametrize("mode", ["cut", "control_char", "bad_byte", "noncharacter", "undefined_entity"])
@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_malformed_page_fails_to_parse(mode, verb):
    with OAIServer(make_records(30), page_size=10, faults=[malformed_page(mode, on_pages={2})]) as srv:
        first = get(srv.url, verb=verb, metadataPrefix="oai_dc")
        root = etree.fromstring(first.content)               # page 1 is fine
        bad = get(srv.url, verb=verb, resumptionToken=token_of(root).text)
        assert bad.status_code == 200
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(bad.content)
        if mode == "cut":
            assert int(bad.headers["Content-Length"]) == len(bad.content) < len(first.content)
        assert srv.stats.faults == {"malformed_page": 1}


def test_malformed_page_damages_the_chosen_record_only():
    with OAIServer(make_records(10), faults=[malformed_page("control_char", record=3)]) as srv:
        body = get(srv.url, verb="ListRecords", metadataPrefix="oai_dc").content
    records = body.split(b"<record>")[1:]
    assert [b"\x0b" in r for r in records] == [i == 3 for i in range(10)]
    assert b"\x0b</dc:title>" in records[3]


def test_sickle_recovering_parser_hides_a_malformed_page():
    # sickle parses with recover=True: a cut page silently ends the harvest early, so a harvester
    # must check what it got (completeListSize, or parse pages strictly itself)
    with OAIServer(make_records(30), page_size=10, faults=[malformed_page("cut", on_pages={2})]) as srv:
        got = harvest(srv.url)
        assert 10 <= len(got) < 30


def test_bad_resumption_token_once():
    with OAIServer(make_records(30), page_size=10, faults=[bad_resumption_token(on_pages={2})]) as srv:
        with pytest.raises(oaiexceptions.BadResumptionToken):
            harvest(srv.url)
        token = srv.requests[-1]["resumptionToken"]
        again = oai(srv.url, verb="ListRecords", resumptionToken=token)   # the same valid token now works
        assert error_code(again) is None and len(header_ids(again)) == 10
        assert srv.stats.faults == {"bad_resumption_token": 1}
        assert len(harvest(srv.url)) == 30


def test_slow_answers():
    with OAIServer(make_records(5), faults=[slow(0.6, on_requests={1}), slow(0.3, on_requests={2})]) as srv:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(srv.url, params={"verb": "Identify"}, timeout=0.15)
        t0 = time.monotonic()
        assert get(srv.url, verb="Identify").status_code == 200
        assert time.monotonic() - t0 >= 0.3
        t0 = time.monotonic()
        get(srv.url, verb="Identify")
        assert time.monotonic() - t0 < 0.25
        assert srv.stats.faults["slow"] == 2


def test_duplicate_across_pages():
    records = make_records(30)
    with OAIServer(records, page_size=10, faults=[duplicate_across_pages(on_pages={2})]) as srv:
        got = ids(harvest(srv.url))
        assert len(got) == 31 and len(set(got)) == 30
        assert got[9] == got[10] == records[9].identifier
        assert srv.stats.faults == {"duplicate_across_pages": 1}


def test_truncated_page_keeps_its_token():
    records = make_records(30)
    with OAIServer(records, page_size=10, faults=[truncated_page(keep=4, on_pages={2})]) as srv:
        got = ids(harvest(srv.url))
        assert got == [r.identifier for r in records[:14] + records[20:]]
        srv.reset_log()
        root = oai(srv.url, verb="ListRecords", metadataPrefix="oai_dc")
        page2 = oai(srv.url, verb="ListRecords", resumptionToken=token_of(root).text)
        assert len(header_ids(page2)) == 4 and token_of(page2).get("cursor") == "10"
        assert decode_token(token_of(page2).text)[2] == 20


@pytest.mark.parametrize("granularity,style,expected", [
    ("seconds", "swap", "2020-01-01"),
    ("day", "swap", "2020-01-01T00:00:00Z"),
    ("seconds", "fractional", "2020-01-01T00:00:00.000Z"),
    ("seconds", "offset", "2020-01-01T02:00:00+02:00"),
])
def test_wrong_granularity_datestamps(granularity, style, expected):
    with OAIServer(make_records(3), granularity=granularity,
                   faults=[wrong_granularity_datestamps(style, on_requests={1})]) as srv:
        bad = oai(srv.url, verb="ListIdentifiers", metadataPrefix="oai_dc")
        assert bad.find(f".//{OAI}datestamp").text == expected
        good = oai(srv.url, verb="ListIdentifiers", metadataPrefix="oai_dc")
        assert good.find(f".//{OAI}datestamp").text == ("2020-01-01" if granularity == "day"
                                                        else "2020-01-01T00:00:00Z")


def test_several_faults_in_one_harvest_and_stats():
    faults = [http_503(retry_after=0, on_pages={2}, times=1), duplicate_across_pages(on_pages={3}),
              slow(0.05, on_pages={4})]
    with OAIServer(make_records(50), page_size=10, faults=faults) as srv:
        got = ids(harvest(srv.url, max_retries=2))
        assert len(got) == 51 and len(set(got)) == 50
        assert srv.stats.faults == {"http_503": 1, "duplicate_across_pages": 1, "slow": 1}
        assert srv.stats.requests == 6 and srv.stats.verbs["ListRecords"] == 6
        stats = requests.get(srv.url.replace("/oai", "/_stats"), timeout=TIMEOUT).json()
        assert stats["faults"] == {"http_503": 1, "duplicate_across_pages": 1, "slow": 1}


def test_fault_specs_are_validated_and_parsed():
    with pytest.raises(ValueError):
        Fault("explode")
    with pytest.raises(ValueError):
        malformed_page("sideways")
    f = parse_fault("http_503:on_pages=2+5,times=2,retry_after=3")
    assert (f.kind, f.on_pages, f.times, f.params) == ("http_503", {2, 5}, 2, {"retry_after": 3})
    assert parse_fault("bad_resumption_token").times == 1
    assert parse_fault("malformed_page:probability=0.5,seed=7,mode=bad_byte").params == {"mode": "bad_byte"}


def test_command_line_server():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "tests.oaiserver", "--records", "25", "--page-size", "10",
                             "--fault", "duplicate_across_pages:on_pages=2"],
                            cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert len(harvest(url)) == 26
        assert requests.get(url.replace("/oai", "/_stats"), timeout=TIMEOUT).json()["requests"] == 3
    finally:
        proc.terminate()
        proc.wait(10)


# --------------------------------------------------------------------------- the third-party peer

@pytest.fixture(scope="module")
def peer():
    for f in PEER_FILES:
        need(corpus_dir() / f)
    with oaipmh_peer() as p:
        yield p


@pytest.mark.corpus
def test_peer_serves_its_records_across_pages(peer):
    peer.requests.clear()
    got = harvest(peer.url)
    assert ids(got) == peer.identifiers and peer.count == 8
    assert len(peer.requests) == 3                       # batch size 3: 3 + 3 + 2
    assert [r.header.identifier for r in got if r.deleted] == peer.deleted_identifiers == [DELETED_ID]
    assert ids(harvest(peer.url, ignore_deleted=True)) == peer.live_identifiers
    assert ids(harvest(peer.url, "ListIdentifiers")) == peer.identifiers
    titles = {r.header.identifier: r.metadata["title"][0] for r in got if not r.deleted}
    assert titles == {i: peer.record(i).title for i in peer.live_identifiers}
    assert peer.record(peer.live_identifiers[3]).dc["language"] == ["fre"]


@pytest.mark.corpus
def test_peer_sets_iso19139_and_dates(peer):
    odd = harvest(peer.url, metadataPrefix="iso19139", set="odd")
    assert ids(odd) == peer.sets["odd"]
    for rec in odd:
        md = rec.xml.find(f".//{OAI}metadata")[0]
        assert md.tag == "{http://www.isotc211.org/2005/gmd}MD_Metadata"
        fid = md.findtext("{http://www.isotc211.org/2005/gmd}fileIdentifier/{http://www.isotc211.org/2005/gco}"
                          "CharacterString").strip()
        assert rec.header.identifier.endswith(fid)
    assert ids(harvest(peer.url, set="iso")) == peer.identifiers
    window = harvest(peer.url, **{"from": "2024-01-02T00:00:00Z", "until": "2024-01-04T23:59:59Z"})
    assert ids(window) == peer.identifiers[1:4]


@pytest.mark.corpus
def test_peer_errors(peer, oai_schema):
    s = Sickle(peer.url, timeout=TIMEOUT)
    with pytest.raises(oaiexceptions.IdDoesNotExist):
        s.GetRecord(identifier="oai:peer.local:nothing", metadataPrefix="oai_dc")
    with pytest.raises(oaiexceptions.CannotDisseminateFormat):
        harvest(peer.url, metadataPrefix="marc21")
    assert error_code(oai(peer.url, verb="Nope")) == "badVerb"
    assert error_code(oai(peer.url, verb="ListRecords", resumptionToken="garbage")) == "badResumptionToken"
    rec = s.GetRecord(identifier=DELETED_ID, metadataPrefix="oai_dc")
    assert rec.deleted
    first = oai(peer.url, verb="ListRecords", metadataPrefix="iso19139")
    assert oai_schema.validate(first), oai_schema.error_log
    r = requests.post(peer.url, data={"verb": "Identify"}, timeout=TIMEOUT)
    assert etree.fromstring(r.content).findtext(f".//{OAI}baseURL") == peer.url
