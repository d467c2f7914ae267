"""The node's SRU endpoint (harvester/node/sru.py) on a real node on 127.0.0.1 over the harvested sample
store: SRU 1.2 through the third-party client sruthi (searchRetrieve, paging, schemas, explain,
diagnostics), SRU 2.0 and the protocol details through the XML itself (lxml), and attacks: CQL terms
holding Solr or SQL syntax match literally or nothing, never fail, never widen the result set, on the
embedded index and on a real Solr.

sruthi 2.0.0 reads only the SRU 1.x namespace (it refuses an SRU 2.0 response as "not SRU"), so 2.0 is
checked on the XML.
"""
from __future__ import annotations

import json
import shutil
import uuid

import pytest
import requests
import sruthi
from click.testing import CliRunner
from lxml import etree

from harvester import popsxml
from harvester.index import Query, catch_up, open_backend, solr_runtime
from harvester.node.sru import (PRECISION_EXACT, SRU12_DIAG_NS, SRU12_NS, SRU20_DIAG_NS, SRU20_NS, SRW_DC_NS,
                                ZEEREX_NS)
from harvester.store import Item, Store

from .conftest import ROOT, valid_record
from .nodeserver import NodeServer

DC = "{http://purl.org/dc/elements/1.1/}"
S12, S20 = f"{{{SRU12_NS}}}", f"{{{SRU20_NS}}}"
POPS = f"{{{popsxml.NS}}}"


# ----------------------------------------------------------------------------------------------- helpers


def sru(node, method: str = "get", **params) -> tuple[requests.Response, etree._Element]:
    if method == "post":
        r = requests.post(f"{node.url}/sru", data=params, timeout=30)
    else:
        r = requests.get(f"{node.url}/sru", params=params, timeout=30)
    assert r.status_code == 200, r.text[:500]
    return r, etree.fromstring(r.content)


def diagnostics(root) -> list[tuple[int, str, str]]:
    out = []
    for ns in (SRU12_DIAG_NS, SRU20_DIAG_NS):
        for d in root.iter(f"{{{ns}}}diagnostic"):
            uri = d.findtext(f"{{{ns}}}uri")
            assert uri.startswith("info:srw/diagnostic/1/")
            out.append((int(uri.rsplit("/", 1)[1]), d.findtext(f"{{{ns}}}details") or "",
                        d.findtext(f"{{{ns}}}message") or ""))
    return out


def record_ids(root) -> list[str]:
    """The ids of a response's records, in order, whatever the schema."""
    out = []
    for data in root.iter(f"{S12}recordData", f"{S20}recordData"):
        if len(data):
            el = data[0]
        else:                                                    # string packing: the record as text
            el = etree.fromstring(data.text.encode())
        out.append(el.findtext(f"{DC}identifier") if el.tag == f"{{{SRW_DC_NS}}}dc" else el.findtext(f"{POPS}id"))
    return out


def count(root) -> int:
    return int(root.findtext(f"{S12}numberOfRecords") or root.findtext(f"{S20}numberOfRecords"))


def every_id(node, query: str, version: str = "1.2", page: int = 7, **params) -> list[str]:
    """Every record of a query, page after page through nextRecordPosition."""
    ns = S12 if version == "1.2" else S20
    out, start = [], 1
    while True:
        extra = {"operation": "searchRetrieve"} if version == "1.2" else {}
        _, root = sru(node, version=version, query=query, startRecord=start, maximumRecords=page, **extra, **params)
        assert not diagnostics(root)
        out += record_ids(root)
        nxt = root.findtext(f"{ns}nextRecordPosition")
        if nxt is None:
            assert len(out) == count(root)
            return out
        assert int(nxt) == start + page
        start = int(nxt)


def api_ids(node, **params) -> list[str]:
    r = requests.get(f"{node.url}/api/search", params={"limit": 100, **params}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] <= 100
    return [hit["id"] for hit in body["results"]]


def index_ids(node, query: Query) -> list[str]:
    """What the node's own index answers (the search API offers fewer sorts than the index)."""
    with Store(node.cfg.store_path) as store, open_backend(node.cfg, store) as index:
        return [h.id for h in index.search(query).hits]


def store_records(node) -> list[dict]:
    with Store(node.cfg.store_path) as store:
        return [json.loads(r["record"]) for r in store.db.execute("SELECT record FROM records WHERE deleted=0")]


def sruthi_dc(rec: dict) -> dict:
    """A Dublin Core record as sruthi gives it: flattened, or (when sruthi cannot flatten it) under its tag."""
    return rec if "identifier" in rec else rec[f"{SRW_DC_NS}:dc"]


def sruthi_ids(result) -> list[str]:
    out = []
    for rec in result:
        ident = sruthi_dc(rec)["identifier"]
        out.append(ident[0] if isinstance(ident, list) else ident)
    return out


@pytest.fixture(scope="module")
def node(sample_node):
    return sample_node


@pytest.fixture(scope="module")
def records(node):
    return {r["id"]: r for r in store_records(node)}


# ----------------------------------------------------------------------------------------------- SRU 1.2 with sruthi


def test_sruthi_searches_and_pages_through_every_record_once(node, records):
    res = sruthi.searchretrieve(f"{node.url}/sru", query="cql.allRecords = 1", maximum_records=7)
    assert res.count == len(records) >= 40
    ids = sruthi_ids(res)                           # sruthi follows nextRecordPosition page after page
    assert len(ids) == len(set(ids)) == len(records) and set(ids) == set(records)


def test_sruthi_text_search_finds_what_the_search_api_finds(node):
    for query, text in (("PCB", "PCB"), ("多氯联苯", "多氯联苯"), ('cql.anywhere all "PCB Kenya"', "PCB Kenya")):
        res = sruthi.searchretrieve(f"{node.url}/sru", query=query, maximum_records=10)
        expected = api_ids(node, q=text)
        assert res.count == len(expected) > 0, query
        assert sruthi_ids(res) == expected, query             # relevance order, as the API ranks


BOOLEAN_QUERIES = [
    ("pops.country = TZ", lambda r: "TZ" in r.get("countries", [])),
    ("pops.country = Tanzania", lambda r: "TZ" in r.get("countries", [])),
    ("pops.country = UG or pops.country = RW", lambda r: {"UG", "RW"} & set(r.get("countries", []))),
    ('pops.country any "UG RW"', lambda r: {"UG", "RW"} & set(r.get("countries", []))),
    ('pops.country all "KE TZ"', lambda r: {"KE", "TZ"} <= set(r.get("countries", []))),
    ("pops.country = KE and dc.type = national_report",
     lambda r: "KE" in r.get("countries", []) and r["type"] == "national_report"),
    ('dc.type = "Legislation" not pops.year < 2020', lambda r: r["type"] == "legislation" and r.get("year", 0) >= 2020),
    ("cql.allRecords = 1 not pops.chemical = pcb", lambda r: "pcb" not in r.get("chemicals", [])),
    ('pops.year within "2019 2020"', lambda r: r.get("year") in (2019, 2020)),
    ("pops.year > 2023", lambda r: r.get("year", 0) > 2023),
    ("pops.chemical = 多氯联苯", lambda r: "pcb" in r.get("chemicals", [])),
    ("pops.chemical = 1336-36-3 and pops.chemical = DDT",
     lambda r: {"pcb", "ddt"} <= set(r.get("chemicals", []))),
    ("dc.language = French", lambda r: "fr" in r.get("languages", [])),
    ("pops.source = ke-geo", lambda r: r["origin"]["source"] == "ke-geo"),
    ("(pops.source = ke-geo or pops.source = ke-data) and pops.year >= 2022",
     lambda r: r["origin"]["source"] in ("ke-geo", "ke-data") and r.get("year", 0) >= 2022),
    ("pops.assistance = technical", lambda r: "technical" in (r.get("assistance") or {}).get("kind", [])
     or (r.get("assistance") or {}).get("status") == "technical"),
    ("pops.country = Atlantis", lambda r: False),
]


@pytest.mark.parametrize("query,wanted", BOOLEAN_QUERIES, ids=[q for q, _ in BOOLEAN_QUERIES])
def test_sruthi_boolean_queries(node, records, query, wanted):
    expected = {rid for rid, r in records.items() if wanted(r)}
    res = sruthi.searchretrieve(f"{node.url}/sru", query=query, maximum_records=50)
    assert res.count == len(expected), query
    assert set(sruthi_ids(res)) == expected


def test_field_scoped_words(node, records):
    titled = sruthi.searchretrieve(f"{node.url}/sru", query="dc.title = PCB", maximum_records=50)
    assert 0 < titled.count < len(api_ids(node, q="PCB"))
    for rec in titled:
        title = sruthi_dc(rec)["title"]
        titles = title if isinstance(title, list) else [title]
        texts = [t["text"] if isinstance(t, dict) else t for t in titles]
        assert any("PCB" in t or "多氯联苯" in t for t in texts) and any("PCB" in t for t in texts), texts


def test_sruthi_reads_the_native_schema(node, records):
    res = sruthi.searchretrieve(f"{node.url}/sru", query="pops.source = ke-geo", record_schema="pops",
                                maximum_records=3)
    got = [(rec if f"{popsxml.NS}:id" in rec else rec[f"{popsxml.NS}:record"])[f"{popsxml.NS}:id"] for rec in res]
    assert len(got) == res.count and {records[i]["origin"]["source"] for i in got} == {"ke-geo"}
    assert all(rec["schema"] == popsxml.NS for rec in res)


@pytest.mark.parametrize("kwargs,code", [
    ({"query": "a prox b"}, 39),
    ({"query": "dc.rights = x"}, 16),
    ({"query": "dc.title < x"}, 19),
    ({"query": "dc.title =/respectCase x"}, 20),
    ({"query": 'dc.title = ""'}, 27),
    ({"query": "PCB*"}, 28),
    ({"query": "(PCB"}, 13),
    ({"query": "pops.year = soon"}, 36),
    ({"query": "PCB", "record_schema": "marcxml"}, 66),
    ({"query": "PCB", "start_record": 0}, 6),
    ({"query": "PCB", "start_record": "first"}, 6),
    ({"query": "PCB", "start_record": 10_000}, 61),
    ({"query": "PCB", "maximum_records": -1}, 6),
    ({"query": "PCB", "sru_version": "1.1"}, 5),
    ({"query": "PCB sortBy dc.subject"}, 88),
])
def test_sruthi_raises_diagnostics(node, kwargs, code):
    with pytest.raises(sruthi.SruError, match=f"info:srw/diagnostic/1/{code},"):
        sruthi.searchretrieve(f"{node.url}/sru", **kwargs)


def test_sruthi_explain(node):
    info = sruthi.explain(f"{node.url}/sru")
    assert info.sru_version == "1.2"
    assert info.server == {"host": "127.0.0.1", "port": node.port, "database": "sru"}
    assert info.database["title"] == node.cfg.node["name"]
    assert set(info.index) == {"cql", "dc", "rec", "pops"}
    assert {"title", "subject", "creator", "date", "identifier"} <= set(info.index["dc"])
    assert {"chemical", "country", "region", "year", "harvested"} <= set(info.index["pops"])
    assert set(info.schema) == {"dc", "pops"} and info.schema["dc"]["identifier"] == "info:srw/schema/1/dc-v1.1"
    assert info.config["maximumRecords"] == 100 and info.config["defaults"]["numberOfRecords"] == 10


# ----------------------------------------------------------------------------------------------- the XML


def test_sru_12_response_structure(node, records):
    r, root = sru(node, version="1.2", operation="searchRetrieve", query="cql.allRecords = 1", maximumRecords=5,
                  startRecord=3)
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert root.tag == f"{S12}searchRetrieveResponse"
    assert [c.tag for c in root] == [f"{S12}version", f"{S12}numberOfRecords", f"{S12}records",
                                     f"{S12}nextRecordPosition", f"{S12}echoedSearchRetrieveRequest"]
    assert root.findtext(f"{S12}version") == "1.2" and count(root) == len(records)
    recs = root.findall(f"{S12}records/{S12}record")
    assert [rec.findtext(f"{S12}recordPosition") for rec in recs] == ["3", "4", "5", "6", "7"]
    assert [c.tag for c in recs[0]] == [f"{S12}recordSchema", f"{S12}recordPacking", f"{S12}recordData",
                                        f"{S12}recordPosition"]
    assert recs[0].findtext(f"{S12}recordSchema") == "info:srw/schema/1/dc-v1.1"
    dc = recs[0].find(f"{S12}recordData")[0]
    assert dc.tag == f"{{{SRW_DC_NS}}}dc" and dc[0].tag == f"{DC}identifier" and dc[0].text in records
    assert root.findtext(f"{S12}nextRecordPosition") == "8"
    echo = root.find(f"{S12}echoedSearchRetrieveRequest")
    assert echo.findtext(f"{S12}query") == "cql.allRecords = 1" and echo.findtext(f"{S12}startRecord") == "3"
    # the last page has no nextRecordPosition
    _, last = sru(node, version="1.2", operation="searchRetrieve", query="cql.allRecords = 1",
                  startRecord=len(records) - 1, maximumRecords=5)
    assert len(record_ids(last)) == 2 and last.find(f"{S12}nextRecordPosition") is None
    # maximumRecords=0 counts only
    _, none = sru(node, version="1.2", operation="searchRetrieve", query="PCB", maximumRecords=0)
    assert count(none) > 0 and none.find(f"{S12}records") is None and none.find(f"{S12}nextRecordPosition") is None


def test_sru_20_response_structure_and_paging(node, records):
    r, root = sru(node, version="2.0", query="pops.country = KE", maximumRecords=10)
    assert r.headers["content-type"] == "application/sru+xml; charset=utf-8"
    assert root.tag == f"{S20}searchRetrieveResponse" and root.find(f"{S20}version") is None
    tags = [c.tag for c in root]
    assert tags == [f"{S20}numberOfRecords", f"{S20}records", f"{S20}nextRecordPosition",
                    f"{S20}echoedSearchRetrieveRequest", f"{S20}resultCountPrecision"]
    assert root.findtext(f"{S20}resultCountPrecision") == PRECISION_EXACT
    rec = root.find(f"{S20}records/{S20}record")
    assert [c.tag for c in rec] == [f"{S20}recordSchema", f"{S20}recordXMLEscaping", f"{S20}recordData",
                                    f"{S20}recordPosition"]
    ke = {rid for rid, r in records.items() if "KE" in r.get("countries", [])}
    assert count(root) == len(ke)
    ids20 = every_id(node, "pops.country = KE sortBy dc.title", version="2.0", page=9)
    assert len(ids20) == len(set(ids20)) and set(ids20) == ke
    assert ids20 == every_id(node, "pops.country = KE sortBy dc.title", version="1.2", page=4)
    assert ids20 == api_ids(node, filter="countries:KE", sort="title")


def test_sru_20_defaults_explain_without_a_query(node):
    r, root = sru(node)
    assert root.tag == f"{S20}explainResponse" and r.headers["content-type"].startswith("application/sru+xml")
    assert root.find(f"{S20}record/{S20}recordData/{{{ZEEREX_NS}}}explain") is not None
    assert root.findtext(f"{S20}record/{S20}recordSchema") == ZEEREX_NS
    _, searched = sru(node, query="PCB")
    assert searched.tag == f"{S20}searchRetrieveResponse" and count(searched) > 0
    _, explained = sru(node, version="1.2", operation="explain")
    assert explained.tag == f"{S12}explainResponse"
    zr = explained.find(f"{S12}record/{S12}recordData/{{{ZEEREX_NS}}}explain")
    sortable = {i.find(f"{{{ZEEREX_NS}}}map/{{{ZEEREX_NS}}}name").text
                for i in zr.iter(f"{{{ZEEREX_NS}}}index") if i.get("sort") == "true"}
    assert sortable == {"title", "date", "year", "harvested"}


def test_native_records_are_the_stored_records_in_both_packings(node, records):
    for version, packing in (("1.2", "recordPacking"), ("2.0", "recordXMLEscaping")):
        for mode in ("xml", "string"):
            extra = {"operation": "searchRetrieve"} if version == "1.2" else {}
            _, root = sru(node, version=version, query="pops.source = ke-data", recordSchema="pops",
                          maximumRecords=100, **{packing: mode}, **extra)
            datas = list(root.iter(f"{S12}recordData", f"{S20}recordData"))
            assert len(datas) == count(root) > 0
            for data in datas:
                el = data[0] if mode == "xml" else etree.fromstring(data.text.encode())
                assert (len(data) == 0) == (mode == "string")
                got = popsxml.from_element(el)
                assert got == records[got["id"]]                 # lossless
    _, root = sru(node, version="2.0", query="PCB", recordSchema=popsxml.NS, maximumRecords=1)
    assert root.findtext(f"{S20}records/{S20}record/{S20}recordSchema") == popsxml.NS


def test_sorts_by_sort_keys_and_sort_by(node):
    by_title = api_ids(node, filter="type:monitoring_report", sort="title")
    _, root = sru(node, version="1.2", operation="searchRetrieve", query="dc.type = monitoring_report",
                  sortKeys="dc.title,,1", maximumRecords=50)
    assert record_ids(root) == by_title and len(by_title) > 3
    recent = index_ids(node, Query("", filters={"type": ["monitoring_report"]}, sort="recent", limit=100))
    assert every_id(node, "dc.type = monitoring_report sortBy pops.harvested/sort.descending") == recent
    newest = api_ids(node, filter="type:monitoring_report", sort="newest")
    assert every_id(node, "dc.type = monitoring_report sortBy dc.date/sort.descending", version="2.0") == newest
    _, root = sru(node, version="1.2", operation="searchRetrieve", query="PCB sortBy dc.title", sortKeys="dc.date")
    assert diagnostics(root)[0][0] == 96
    _, root = sru(node, version="1.2", operation="searchRetrieve", query="PCB", sortKeys="dc.title,,0")
    assert diagnostics(root)[0][0] == 90
    _, root = sru(node, version="1.2", operation="searchRetrieve", query="PCB", sortKeys="dc.title dc.date")
    assert diagnostics(root)[0][0] == 84


def test_post_answers_as_get(node):
    params = {"version": "1.2", "operation": "searchRetrieve", "query": "pops.country = UG", "maximumRecords": "3"}
    _, got = sru(node, **params)
    _, posted = sru(node, method="post", **params)
    assert record_ids(got) == record_ids(posted) and count(got) == count(posted) > 0


def test_media_types(node):
    r, _ = sru(node, version="2.0", query="PCB", httpAccept="application/xml")
    assert r.headers["content-type"] == "application/xml; charset=utf-8"
    r = requests.get(f"{node.url}/sru", params={"version": "1.2", "operation": "explain"},
                     headers={"Accept": "application/sru+xml"}, timeout=30)
    assert r.headers["content-type"] == "application/sru+xml; charset=utf-8"
    _, root = sru(node, version="2.0", query="PCB", httpAccept="text/html")
    assert diagnostics(root)[0][:2] == (6, "httpAccept")


@pytest.mark.parametrize("params,code,details", [
    ({"version": "1.2", "operation": "scan", "scanClause": "dc.title=a"}, 4, "scan"),
    ({"version": "1.2", "operation": "frobnicate"}, 4, "frobnicate"),
    ({"version": "3.0", "query": "PCB"}, 5, "2.0"),
    ({"version": "1.2", "operation": "searchRetrieve"}, 7, "query"),
    ({"version": "2.0", "query": "PCB", "maximumRecords": "ten"}, 6, "maximumRecords"),
    ({"version": "2.0", "query": "PCB", "startRecord": "99999999999999999999999"}, 61, "2147483647"),
    ({"version": "2.0", "query": "PCB", "queryType": "xcql"}, 6, "queryType"),
    ({"version": "2.0", "query": "PCB", "color": "red"}, 8, "color"),
    ({"version": "1.2", "operation": "searchRetrieve", "query": "PCB", "recordPacking": "json"}, 71, "json"),
    ({"version": "2.0", "query": "PCB", "recordXMLEscaping": "json"}, 71, "json"),
    ({"version": "2.0", "query": "PCB", "recordPacking": "unpacked"}, 71, "unpacked"),
    ({"version": "1.2", "operation": "searchRetrieve", "query": "PCB", "recordXPath": "/a"}, 72, ""),
    ({"version": "2.0", "query": "PCB", "stylesheet": "http://x/s.xsl"}, 110, ""),
    ({"version": "2.0", "query": "PCB", "recordSchema": "marc21"}, 66, "marc21"),
])
def test_protocol_diagnostics(node, params, code, details):
    _, root = sru(node, **params)
    diags = diagnostics(root)
    assert [d[:2] for d in diags] == [(code, details)], diags
    assert diags[0][2]                                            # a message saying what is wrong
    if root.tag.endswith("searchRetrieveResponse"):
        assert count(root) == 0 and not record_ids(root)
    if params.get("version") == "1.2":
        assert root.tag.startswith(S12) and list(root.iter(f"{{{SRU12_DIAG_NS}}}diagnostic"))
    else:
        assert root.tag.startswith(S20) and list(root.iter(f"{{{SRU20_DIAG_NS}}}diagnostic"))


def test_extension_parameters_are_ignored_and_repeats_refused(node):
    _, root = sru(node, version="2.0", query="PCB", **{"x-info-debug": "1"})
    assert not diagnostics(root) and count(root) > 0
    r = requests.get(f"{node.url}/sru?version=2.0&query=PCB&query=dioxin", timeout=30)
    assert diagnostics(etree.fromstring(r.content))[0][:2] == (6, "query")


@pytest.fixture
def odd_node(tmp_path):
    """A node over a store holding a record with text XML cannot carry, indexed, then deleted in the store
    only (the index not caught up)."""
    (tmp_path / "node_config.yaml").write_text(
        'node: {id: ke, name: "Odd <node> & co", country: KE, role: country}\n'
        "store: {path: node.sqlite}\nindex: {backend: embedded}\nsources: []\n", encoding="utf-8")
    cfg_path = tmp_path / "node_config.yaml"
    with NodeServer(cfg_path) as srv:
        with Store(srv.cfg.store_path) as store:
            odd = valid_record(id="ke:docs:ctl", title={"en": "bell\x07 and \x0b tab \ufffe PCB"},
                               description={"en": "nul\x00 byte </dc:title><evil/>"}, creators=["A\x1bB"])
            gone = valid_record(id="ke:docs:gone", title={"en": "PCB record deleted later"})
            store.apply_batch([Item("docs", "ctl", odd, "", "pops"), Item("docs", "gone", gone, "", "pops")])
            with open_backend(srv.cfg, store) as index:
                catch_up(index, store)
            store.apply_batch([Item("docs", "gone", None)])
        yield srv


def test_text_xml_cannot_carry_is_dropped(odd_node):
    for schema in ("dc", "pops"):
        for version, packing in (("1.2", "recordPacking"), ("2.0", "recordXMLEscaping")):
            for mode in ("xml", "string"):
                extra = {"operation": "searchRetrieve"} if version == "1.2" else {}
                _, root = sru(odd_node, version=version, query="dc.title = bell", recordSchema=schema,
                              **{packing: mode}, **extra)
                assert count(root) == 1 and record_ids(root) == ["ke:docs:ctl"]
                data = next(root.iter(f"{S12}recordData", f"{S20}recordData"))
                el = data[0] if mode == "xml" else etree.fromstring(data.text.encode())
                text = " ".join(el.itertext())
                assert "bell and  tab  PCB" in text and "AB" in text and "</dc:title><evil/>" in text
                assert el.find(".//evil") is None
    _, explain = sru(odd_node, version="1.2", operation="explain")
    assert explain.findtext(f".//{{{ZEEREX_NS}}}databaseInfo/{{{ZEEREX_NS}}}title") == "Odd <node> & co"


def test_a_record_deleted_before_the_index_caught_up_is_a_surrogate_diagnostic(odd_node):
    _, root = sru(odd_node, version="1.2", operation="searchRetrieve", query="PCB sortBy dc.title")
    recs = root.findall(f"{S12}records/{S12}record")
    assert count(root) == 2 and len(recs) == 2
    gone = [r for r in recs if r.findtext(f"{S12}recordSchema") == "info:srw/schema/1/diagnostics-v1.1"]
    assert len(gone) == 1
    diag = gone[0].find(f"{S12}recordData/{{{SRU12_DIAG_NS}}}diagnostic")
    assert diag.findtext(f"{{{SRU12_DIAG_NS}}}uri") == "info:srw/diagnostic/1/65"
    assert diag.findtext(f"{{{SRU12_DIAG_NS}}}details") == "ke:docs:gone"
    assert not root.findall(f"{S12}diagnostics")             # not fatal: the other record is there


# ----------------------------------------------------------------------------------------------- attacks


ATTACKS = [
    # (CQL, how many records at most: 0, or the count of a plain query it must equal)
    (r'"{!lucene}\*:\*"', 0),
    (r'dc.title = "\*:\*"', 0),
    (r'pops.country = "KE OR \*:\*"', 0),
    ('pops.country = "{!lucene}KE"', 0),
    (r'dc.identifier = "\*"', 0),
    ('dc.identifier = "{!terms f=id}x"', 0),
    (r'dc.type = "national_report\" OR type:\"legislation"', 0),
    ('dc.type = "national_report) OR (type:legislation"', 0),
    ('pops.chemical = "pcb\\" OR chemicals:\\"ddt"', 0),
    ('pops.chemical = "pcb OR ddt"', 0),
    ('dc.title = "x\\") OR (\\"y"', 0),
    ('"x\'); DROP TABLE records; --"', 0),
    ('dc.title = "\' OR 1=1 --"', 0),
    ('dc.description = "NEAR(PCB Kenya)"', 0),
    ('dc.title = "{!func}sum(1,1)"', 0),
    ('pops.year = "2019 OR 1"', 0),
    (r'dc.date = "2019-01-01T00:00:00Z\" TO \*] OR \*:\*"', 0),
    ('dc.title = "</srw:query><evil/>"', 0),
    (r'"PCB\*"', "PCB"),
    ('"PCB\\\\"', "PCB"),
    ("PCB\x00\x1b", "PCB"),
    ('dc.title = "PCB\x0b"', "dc.title = PCB"),
]


def attack(node, query, limit):
    r, root = sru(node, version="1.2", operation="searchRetrieve", query=query, maximumRecords=100)
    codes = [d[0] for d in diagnostics(root)]
    assert 1 not in codes and 2 not in codes, (query, diagnostics(root))
    n = count(root)
    if isinstance(limit, str):
        _, plain = sru(node, version="1.2", operation="searchRetrieve", query=limit, maximumRecords=100)
        assert n == count(plain) > 0 and record_ids(root) == record_ids(plain), query
    else:
        assert n == 0 and not record_ids(root), (query, n)
    assert root.find(".//evil") is None and root.find(".//{*}evil") is None
    echoed = root.findtext(f"{S12}echoedSearchRetrieveRequest/{S12}query")
    if echoed is not None:
        assert echoed == "".join(c for c in query if c >= " " or c in "\t\n\r")
    return root


@pytest.mark.parametrize("query,limit", ATTACKS, ids=[repr(a[0])[:40] for a in ATTACKS])
def test_attacks_match_literally_or_nothing(node, query, limit):
    attack(node, query, limit)


@pytest.mark.parametrize("query,code", [
    ("x" * 5000, 12),
    ("(" * 200 + "PCB" + ")" * 200, 13),
    (" or ".join(["PCB"] * 200), 38),
    ('"' + "a" * 3000, 14),
    ('dc.title = "' + "\\" * 999 + '"', 14),
])
def test_oversized_queries_are_diagnostics(node, query, code):
    _, root = sru(node, method="post", version="1.2", operation="searchRetrieve", query=query)
    assert diagnostics(root)[0][0] == code and count(root) == 0


# ----------------------------------------------------------------------------------------------- on Solr


@pytest.fixture(scope="module")
def solr_node(tmp_path_factory, solr_url):
    from cli import main
    core = f"sru_{uuid.uuid4().hex[:8]}"
    solr_runtime.create_core(solr_url, core)
    d = tmp_path_factory.mktemp("solr-node")
    shutil.copytree(ROOT / "samples", d / "samples")
    text = (ROOT / "node_config.yaml").read_text().replace(
        "  backend: embedded ", f'  backend: solr\n  solr: {{url: "{solr_url}/{core}"}}\n  #')
    (d / "node_config.yaml").write_text(text)
    try:
        result = CliRunner().invoke(main, ["--config", str(d / "node_config.yaml"), "harvest"])
        assert result.exit_code == 0, result.output
        with NodeServer(d / "node_config.yaml") as srv:
            yield srv
    finally:
        solr_runtime.unload_core(solr_url, core)


@pytest.mark.solr
def test_solr_node_answers_as_the_embedded_one(solr_node, node):
    assert solr_node.cfg.index["backend"] == "solr"
    for query in ["cql.allRecords = 1 sortBy dc.title", "PCB sortBy dc.title", "多氯联苯 sortBy dc.date",
                  *(q + " sortBy dc.title" for q, _ in BOOLEAN_QUERIES),
                  "dc.title = PCB sortBy dc.title", 'dc.subject any "transformers dioxin" sortBy dc.title',
                  'dc.date within "2019 2021-06" sortBy dc.date/sort.descending',
                  "rec.lastModificationDate >= 2022 sortBy dc.title"]:
        assert every_id(solr_node, query, page=20) == every_id(node, query, page=20), query


@pytest.mark.solr
@pytest.mark.parametrize("query,limit", ATTACKS, ids=[repr(a[0])[:40] for a in ATTACKS])
def test_attacks_on_solr_match_literally_or_nothing(solr_node, query, limit):
    attack(solr_node, query, limit)
