"""The node's DCAT-AP 3 catalogue (harvester/node/dcat_ap.py), over HTTP from real nodes on 127.0.0.1: the
three serialisations, conformance to the DCAT-AP 3.0.0 SHACL shapes (pyshacl), Hydra paging (also while the
store changes), languages, hostile harvested text and links, content negotiation, parameters, and a round
trip through this node's own RDF harvester."""
from __future__ import annotations

import contextlib
import os
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from lxml import etree
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF, SH

from harvester import config, run
from harvester.node import dcat_ap
from harvester.record import validate
from harvester.store import Item, Store

from .conftest import CORPUS, need, valid_record
from .nodeserver import NodeServer

SHAPES = Path(os.environ.get("POPS_DCAT_AP_SHAPES", CORPUS / "other" / "schemas" / "dcat-ap-3.0.0-SHACL.ttl"))
DCAT = Namespace("http://www.w3.org/ns/dcat#")   # open namespace (rdflib's closed DCAT warns when pytest probes it)
HYDRA = dcat_ap.HYDRA
RDF_FORMATS = {".ttl": "turtle", ".rdf": "xml", ".jsonld": "json-ld"}
EU_LANG = "http://publications.europa.eu/resource/authority/language/"
NODE_URL = "https://chm.example.org/ke"      # the small nodes' public URL: dataset IRIs start with it
# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


# --------------------------------------------------------------------------- helpers

def get(url: str, **kw) -> requests.Response:
    resp = requests.get(url, timeout=30, **kw)
    assert resp.status_code == 200, resp.text[:500]
    return resp


def fetch_graph(url: str, fmt: str = "turtle", **kw) -> Graph:
    return Graph().parse(data=get(url, **kw).content, format=fmt)


def first(g: Graph, predicate):
    """The object of the first triple with this predicate (None when there is none)."""
    return next(g.objects(None, predicate), None)


def texts(g: Graph, subject, predicate) -> set[tuple[str, str]]:
    """(language, text) of the literals, 'und' for untagged ones (as records say it)."""
    return {(lit.language or "und", str(lit)) for lit in g.objects(subject, predicate)}


def datasets(g: Graph) -> list[URIRef]:
    return sorted(g.subjects(RDF.type, DCAT.Dataset))


def live_records(cfg) -> dict[str, dict]:
    with Store(cfg.store_path) as s:
        return {r["id"]: s.get(r["id"]) for r in s.db.execute("SELECT id FROM records WHERE deleted=0")}


def shacl_problems(g: Graph) -> tuple[list[str], list[str]]:
    """(violations, warnings) of the graph against the DCAT-AP 3 shapes, each as 'focus path: message'."""
    from pyshacl import validate as shacl
    shapes = Graph().parse(need(SHAPES), format="turtle")
    _, results, _ = shacl(g, shacl_graph=shapes, inference="none", allow_warnings=True)
    out: dict = {SH.Violation: [], SH.Warning: []}
    for res in results.subjects(RDF.type, SH.ValidationResult):
        severity = results.value(res, SH.resultSeverity)
        line = f"{results.value(res, SH.focusNode)} {results.value(res, SH.resultPath)}: " \
               f"{results.value(res, SH.resultMessage)}"
        out.setdefault(severity, []).append(line)
    return out[SH.Violation], out[SH.Warning]


def follow(first_url: str, on_page=None) -> tuple[list[URIRef], list[Graph]]:
    """Every dataset IRI met following hydra:next from the first page, and each page's graph."""
    seen, pages, url = [], [], first_url
    while url:
        g = fetch_graph(url)
        pages.append(g)
        seen += datasets(g)
        if on_page:
            on_page(len(pages))
        nexts = list(g.objects(None, HYDRA.next))
        assert len(nexts) <= 1
        url = str(nexts[0]) if nexts else None
        assert len(pages) < 100, "paging does not end"
    return seen, pages


@contextlib.contextmanager
def small_node(d: Path, records: list[dict]):
    """A node whose public URL is NODE_URL, holding `records` (stored as they are, unvalidated), over HTTP."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "node_config.yaml").write_text(textwrap.dedent(f"""\
        node: {{id: ke, name: "Kenya POPs node (test)", country: KE, role: country, url: "{NODE_URL}"}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        sources:
          - {{id: docs, name: "Documents", type: oaipmh, url: "http://127.0.0.1:9/oai", metadata_prefix: oai_dc}}
        """), encoding="utf-8")
    with Store(d / "node.sqlite") as store:
        store.apply_batch([Item("docs", r["origin"]["identifier"], r, "", "pops") for r in records])
    with NodeServer(d / "node_config.yaml") as srv:
        yield srv


def doc(n: int, **over) -> dict:
    return validate(valid_record(id=f"ke:docs:{n}", origin={"node": "ke", "source": "docs", "identifier": f"d{n}"},
                                 title={"en": f"Document {n}"}, **over))


MINIMAL = validate(valid_record(id="ke:docs:minimal", origin={"node": "ke", "source": "docs", "identifier": "min"}))
HOSTILE_ID = "ke:docs:a?b#c%d[e]/é<x>"
HOSTILE = {   # stored without validation, as a peer might send it: the catalogue must still be safe
    "id": HOSTILE_ID, "origin": {"node": "ke", "source": "docs", "identifier": "hostile", "url": "javascript:evil()"},
    "path": ["tz", "ke"], "datestamp": "2024-01-02T03:04:05Z", "type": "national_report",
    "title": {"en": "<script>alert('x')</script> PCB\x01\x0b report", "fr": "Rapport ]]> &amp; <b>gras</b>"},
    "description": {"en": "Nul\x00 and escape\x1b characters"},
    "keywords": {"en": ["a\x02b"], "zh": ["多氯联苯"]},
    "languages": ["en", "fr", "zh", "tlh"], "countries": ["KE", "XK"], "regions": ["africa"], "chemicals": ["pcb"],
    "dates": {"issued": "2021-02", "modified": "2021-13-45"},
    "publisher": "<Org> & Co", "creators": ["A\x03B"], "rights": "CC BY-SA 4.0",
    "assistance": {"contact": "Focal point <focal@example.org>\x05", "kind": ["technical"]},
    "links": [{"url": "javascript:alert(1)", "rel": "file"},
              {"url": "data:text/html,<script>alert(1)</script>"},
              {"url": "http://[::1", "rel": "file"},
              {"url": "https://example.org/a b\"<>{}|^`.pdf", "rel": "file", "format": "application/pdf"},
              {"url": "https://example.org/ok?x=1&y=<2>", "title": "<i>ok</i>", "format": "Shapefile"},
              {"url": "ftp://example.org/%zz%41", "format": "OGC:WMS"}],
}


BROKEN = {"id": "ke:docs:broken", "origin": {"node": "ke", "source": "docs", "identifier": "broken"}, "path": ["ke"],
          "datestamp": "2024-01-02T03:04:05Z", "type": "national_report", "title": "not a map", "countries": [5]}


@pytest.fixture(scope="module")
def hostile_node(tmp_path_factory):
    with small_node(tmp_path_factory.mktemp("dcat-hostile"), [MINIMAL, HOSTILE, BROKEN, doc(1)]) as srv:
        yield srv


# --------------------------------------------------------------------------- the sample node

def without_paging(g: Graph) -> Graph:
    """The graph less its hydra:view page (whose links name the path asked for)."""
    view = g.value(predicate=RDF.type, object=HYDRA.PartialCollectionView, any=False)
    out = Graph()
    for t in g.triples((None, None, None)):
        if view not in (t[0], t[2]):
            out.add(t)
    return out


def test_three_serialisations_carry_the_same_triples(sample_node):
    graphs = {}
    for fmt, (media, ext) in dcat_ap.FORMATS.items():
        resp = get(f"{sample_node.url}/catalog?page_size=500", headers={"Accept": media})
        assert resp.headers["content-type"] == f"{media}; charset=utf-8"
        graphs[fmt] = Graph().parse(data=resp.content, format=fmt)
        explicit = get(f"{sample_node.url}/catalog{ext}?page_size=500")
        assert explicit.headers["content-type"] == f"{media}; charset=utf-8"
        by_path = Graph().parse(data=explicit.content, format=fmt)
        assert isomorphic(without_paging(by_path), without_paging(graphs[fmt]))
        assert str(first(by_path, HYDRA.first)).startswith(f"{sample_node.url}/catalog{ext}?")
    live = live_records(sample_node.cfg)
    assert len(live) > 40
    g = graphs["turtle"]
    assert len(datasets(g)) == len(live)
    assert {str(o) for o in g.objects(None, DCTERMS.identifier)} == set(live)
    assert isomorphic(g, graphs["xml"]) and isomorphic(g, graphs["json-ld"])
    catalog = g.value(predicate=RDF.type, object=DCAT.Catalog, any=False)
    assert set(g.objects(catalog, DCAT.dataset)) == set(datasets(g))
    assert str(g.value(g.value(catalog, DCTERMS.publisher), FOAF.name)) == sample_node.cfg.node["name"]
    assert {lit.language for lit in g.objects(catalog, DCTERMS.description)} == {"ar", "zh", "en", "fr", "ru", "es"}


@pytest.mark.parametrize("ext", list(RDF_FORMATS))
def test_sample_catalogue_conforms_to_dcat_ap_3(sample_node, ext):
    g = fetch_graph(f"{sample_node.url}/catalog{ext}?page_size=500", RDF_FORMATS[ext])
    violations, warnings = shacl_problems(g)
    assert violations == [], "\n".join(violations[:20])
    assert warnings == [], "\n".join(warnings[:20])


def test_paging_lists_every_live_record_once(sample_node):
    live = live_records(sample_node.cfg)
    size = 7
    seen, pages = follow(f"{sample_node.url}/catalog.ttl?page_size={size}")
    assert len(pages) == -(-len(live) // size) and len(pages) > 2
    assert sorted(seen) == sorted(set(seen)), "a record listed twice"
    assert {dcat_ap.dataset_iri(sample_node.cfg.node["url"], rid) for rid in live} == set(seen)
    for n, g in enumerate(pages, 1):
        view = g.value(predicate=RDF.type, object=HYDRA.PartialCollectionView, any=False)
        assert (view, RDF.type, HYDRA.PagedCollection) in g, "older ckanext-dcat reads hydra:PagedCollection"
        assert g.value(view, HYDRA.totalItems).toPython() == len(live)
        assert g.value(view, HYDRA.itemsPerPage).toPython() == size
        assert g.value(view, HYDRA.next) == g.value(view, HYDRA.nextPage)
        assert str(g.value(view, HYDRA.first)).endswith("page=1&page_size=7")
        assert str(g.value(view, HYDRA.last)).endswith(f"page={len(pages)}&page_size=7")
        assert (g.value(view, HYDRA.previous) is None) == (n == 1)
        assert len(datasets(g)) == (size if n < len(pages) else len(live) - size * (len(pages) - 1))
    last = fetch_graph(str(first(pages[0], HYDRA.last)))
    assert set(datasets(last)) == set(datasets(pages[-1])), "the last link (by offset) is the last page"


def test_every_language_of_a_record_is_kept(sample_node):
    live = live_records(sample_node.cfg)
    g = fetch_graph(f"{sample_node.url}/catalog.ttl?page_size=500")
    node_url = sample_node.cfg.node["url"]
    several = 0
    for rid, rec in live.items():
        ds = dcat_ap.dataset_iri(node_url, rid)
        assert texts(g, ds, DCTERMS.title) == set(rec["title"].items())
        if rec.get("description"):
            assert texts(g, ds, DCTERMS.description) == set(rec["description"].items())
        words = {(lang, w) for lang, ws in rec.get("keywords", {}).items() for w in ws}
        assert texts(g, ds, DCAT.keyword) == words
        langs = {str(o) for o in g.objects(ds, DCTERMS.language)}
        assert langs == {EU_LANG + {"en": "ENG", "fr": "FRA", "es": "SPA", "ru": "RUS", "ar": "ARA", "zh": "ZHO"}[t]
                         for t in rec.get("languages", [])}
        several += len(rec["title"]) > 1
    assert several >= 10, "the sample holds records titled in several languages"


def test_filters_since_and_source(sample_node):
    base = f"{sample_node.url}/catalog.ttl?page_size=500"
    g = fetch_graph(base + "&source=ke-data")
    ids = {str(o) for o in g.objects(None, DCTERMS.identifier)}
    assert len(ids) == 8 and all(i.startswith("ke:ke-data:") for i in ids)
    assert first(g, HYDRA.totalItems).toPython() == 8
    assert len(datasets(fetch_graph(base + "&since=2000-01-01"))) == len(live_records(sample_node.cfg))
    future = fetch_graph(base + "&since=2999-01-01T00:00:00Z")
    assert datasets(future) == [] and first(future, HYDRA.totalItems).toPython() == 0
    assert "since=2999-01-01T00%3A00%3A00Z" in str(first(future, HYDRA.first))
    shifted = fetch_graph(base + "&since=2999-01-01T05:30:00%2B05:30")
    assert "since=2999-01-01T00%3A00%3A00Z" in str(first(shifted, HYDRA.first)), "a time with an offset is UTC"
    # the ends of the calendar JSON Schema's date formats take: year 0000, and 9999 pushed over by an offset
    ancient = fetch_graph(base + "&since=0000-02-29")
    assert len(datasets(ancient)) == len(live_records(sample_node.cfg))
    assert "since=0000-01-01T00%3A00%3A00Z" in str(first(ancient, HYDRA.first))
    beyond = fetch_graph(base + "&since=9999-12-31T23:00:00-05:00")
    assert datasets(beyond) == [] and "since=9999-12-31T23%3A59%3A59Z" in str(first(beyond, HYDRA.first))


@pytest.mark.parametrize("query, status, words", [
    ("page=0", 400, "page"), ("page_size=501", 400, "page_size"), ("after=-1", 400, "after"),
    ("since=yesterday", 400, "since"), ("since=2024-02-30", 400, "since"),
    ("since=1700000000", 400, "since"), ("since=2024-05-01T12:00:00", 400, "since"),
    ("since=2024-05-01+12:00:00Z", 400, "since"), ("since=2023-02-29T00:00:00Z", 400, "since"),
    ("since=2024-01-01&since=2024-01-02", 400, "since: give it once"), ("page=1&page=2", 400, "page: give it once"),
    ("source=nope", 404, "no source 'nope'")])
def test_bad_parameters_are_clear_errors(sample_node, query, status, words):
    resp = requests.get(f"{sample_node.url}/catalog.ttl?{query}", timeout=30)
    assert resp.status_code == status and words in resp.json()["error"]


@pytest.mark.parametrize("accept, media", [
    (None, "text/turtle"), ("text/turtle", "text/turtle"), ("application/rdf+xml", "application/rdf+xml"),
    ("application/ld+json", "application/ld+json"), ("*/*", "text/turtle"),
    ("application/ld+json;q=0.5, text/turtle;q=0.9", "text/turtle"),
    ("text/html, application/rdf+xml;q=0.8, */*;q=0.1", "application/rdf+xml"),
    ("application/json", "application/ld+json")])
def test_content_negotiation(sample_node, accept, media):
    resp = get(f"{sample_node.url}/catalog?page_size=2", headers={"Accept": accept})  # None: no Accept sent
    assert resp.headers["content-type"].split(";")[0] == media and "Accept" in resp.headers.get("vary", "")
    fmt = {v[0]: k for k, v in dcat_ap.FORMATS.items()}[media]
    g = Graph().parse(data=resp.content, format=fmt)
    assert len(datasets(g)) == 2
    nxt = str(first(g, HYDRA.next))
    assert nxt.startswith(f"{sample_node.url}/catalog?"), "paging links keep the path asked for"


def test_unacceptable_media_type_is_406(sample_node):
    resp = requests.get(f"{sample_node.url}/catalog", headers={"Accept": "text/html"}, timeout=30)
    assert resp.status_code == 406 and "text/turtle" in resp.json()["error"]


def test_round_trip_through_this_nodes_rdf_harvester(sample_node, tmp_path):
    live = live_records(sample_node.cfg)
    cfg_path = tmp_path / "node_config.yaml"
    cfg_path.write_text(textwrap.dedent(f"""\
        node: {{id: rt, name: "Round trip"}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        harvest: {{retries: 0, timeout: 30}}
        sources:
          - {{id: chm, type: rdf, format: dcat, url: "{sample_node.url}/catalog.ttl?page_size=10"}}
        """))
    cfg = config.load(cfg_path)
    with Store(cfg.store_path) as s:
        report = run.harvest_source(cfg, s, cfg.sources[0])
        assert report.status == "ok" and report.failed == 0, report.error
        assert report.stored == len(live)
        for rid, rec in live.items():
            iri = str(dcat_ap.dataset_iri(sample_node.cfg.node["url"], rid))
            got = s.get(f"rt:chm:{iri}")
            assert got is not None, f"{rid} not harvested"
            assert got["title"] == rec["title"]


# --------------------------------------------------------------------------- hostile and minimal records

def test_worst_case_records_conform(hostile_node):
    for ext, fmt in RDF_FORMATS.items():
        g = fetch_graph(f"{hostile_node.url}/catalog{ext}", fmt)
        assert len(datasets(g)) == 3, "a malformed stored record is left out, the rest is served"
        assert f"{NODE_URL}/record/ke:docs:broken" not in {str(d) for d in datasets(g)}
        violations, warnings = shacl_problems(g)
        assert violations == [], "\n".join(violations)
        assert warnings == []
    minimal = URIRef(f"{NODE_URL}/record/ke:docs:minimal")
    assert g.value(minimal, DCTERMS.description).language == "en", "DCAT-AP needs a description: one is made"
    assert str(g.value(minimal, DCTERMS.title)) == MINIMAL["title"]["en"]
    assert g.value(minimal, DCAT.landingPage) == minimal


def test_hostile_text_and_links_serialise_safely(hostile_node):
    raw = get(f"{hostile_node.url}/catalog.rdf").content
    etree.fromstring(raw)                           # well-formed XML: the control characters are gone
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw
    graphs = {fmt: fetch_graph(f"{hostile_node.url}/catalog", fmt, headers={"Accept": media})
              for fmt, (media, _) in dcat_ap.FORMATS.items()}
    g = graphs["xml"]
    assert isomorphic(g, graphs["turtle"]) and isomorphic(g, graphs["json-ld"])
    ds = next(d for d in datasets(g) if str(g.value(d, DCTERMS.identifier)) == HOSTILE_ID)
    assert str(ds) == f"{NODE_URL}/record/ke:docs:a%3Fb%23c%25d%5Be%5D/%C3%A9%3Cx%3E"
    assert Literal("<script>alert('x')</script> PCB report", lang="en") in set(g.objects(ds, DCTERMS.title))
    assert Literal("Rapport ]]> &amp; <b>gras</b>", lang="fr") in set(g.objects(ds, DCTERMS.title))
    assert str(g.value(ds, DCTERMS.description)) == "Nul and escape characters"
    text = " ".join(str(o) for o in g.objects() if isinstance(o, Literal))
    assert not any(c in text for c in "\x00\x01\x02\x03\x05\x0b\x1b")

    access = {str(g.value(d, DCAT.accessURL)) for d in g.objects(ds, DCAT.distribution)}
    assert access == {"https://example.org/a%20b%22%3C%3E%7B%7D%7C%5E%60.pdf", "https://example.org/ok?x=1&y=%3C2%3E",
                      "ftp://example.org/%25zz%41"}, "javascript:, data: and malformed links are left out"
    assert not any(str(o).startswith(("javascript", "data")) for o in g.objects())
    assert URIRef("javascript:evil()") not in set(g.objects())

    # what the mapping made of the rest
    assert {str(o) for o in g.objects(ds, DCTERMS.language)} == {
        EU_LANG + "ENG", EU_LANG + "FRA", EU_LANG + "ZHO", f"{NODE_URL}/vocab/languages/tlh"}
    assert {str(o) for o in g.objects(ds, DCTERMS.spatial)} == {
        "http://publications.europa.eu/resource/authority/country/KEN", f"{NODE_URL}/vocab/countries/XK",
        f"{NODE_URL}/vocab/regions/africa"}
    assert str(g.value(ds, DCTERMS.issued)) == "2021-02"
    assert g.value(ds, DCTERMS.modified).toPython() == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), \
        "an impossible date falls back on the datestamp"
    assert str(g.value(g.value(ds, DCTERMS.publisher), FOAF.name)) == "<Org> & Co"
    assert g.value(g.value(ds, DCAT.contactPoint), dcat_ap.VCARD.hasEmail) == URIRef("mailto:focal@example.org")
    licences = {str(g.value(d, DCTERMS.license)) for d in g.objects(ds, DCAT.distribution)}
    assert licences == {"http://publications.europa.eu/resource/authority/licence/CC_BYSA_4_0"}
    formats = {str(g.value(d, DCTERMS.format)) for d in g.objects(ds, DCAT.distribution)}
    assert "http://publications.europa.eu/resource/authority/file-type/SHP" in formats
    assert "http://publications.europa.eu/resource/authority/file-type/WMS_SRVC" in formats
    assert URIRef(f"{NODE_URL}/vocab/chemicals/pcb") in set(g.objects(ds, DCAT.theme))
    assert "passed through the nodes tz > ke" in str(g.value(g.value(ds, DCTERMS.provenance), dcat_ap.RDFS.label))


def test_a_record_changed_while_paging_is_not_skipped(tmp_path):
    """Next links read by key (after=<seq>): a record that moves to the end of the change order during a
    harvest shifts no other record, so none is skipped (an offset would skip one here)."""
    records = [doc(n) for n in range(10)]
    with small_node(tmp_path / "node", records) as srv:
        def change_one(pages_read: int):
            if pages_read == 1:     # after page 1, record 1 (on page 1) changes and moves to the end
                with Store(tmp_path / "node" / "node.sqlite") as s:
                    s.apply_batch([Item("docs", "d1", {**records[1], "title": {"en": "Document 1, revised"}},
                                        "", "pops")])
        seen, pages = follow(f"{srv.url}/catalog.ttl?page_size=4", change_one)
        iris = {dcat_ap.dataset_iri(NODE_URL, r["id"]) for r in records}
        assert set(seen) == iris, "every record listed"
        moved = dcat_ap.dataset_iri(NODE_URL, "ke:docs:1")
        assert seen.count(moved) == 2 and len(seen) == 11
        assert pages[-1].value(moved, DCTERMS.title) == Literal("Document 1, revised", lang="en")


def test_iris_start_with_the_request_base_when_the_node_has_no_url(tmp_path):
    (tmp_path / "node_config.yaml").write_text("node: {id: ke, name: Test}\nstore: {path: node.sqlite}\n"
                                               "index: {backend: embedded}\nsources: []\n")
    cfg = config.load(tmp_path / "node_config.yaml")
    g = dcat_ap.catalog_graph(cfg, [MINIMAL], base_url="http://10.0.0.5:8080/")
    assert datasets(g) == [URIRef("http://10.0.0.5:8080/record/ke:docs:minimal")]
    with pytest.raises(ValueError, match="public URL"):
        dcat_ap.catalog_graph(cfg, [MINIMAL])


def test_the_catalogue_operations_keep_their_openapi_description(sample_node):
    """schemathesis against /openapi.json, on the catalogue's operations only: valid requests (by the
    description) are answered 200 (or 404 for an unknown source), invalid ones 400, never a server error,
    always with a status code and content type the description declares."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings, strategies as st
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{sample_node.url}/openapi.json", wait_for_schema=20)
    ops = [r.ok() for r in schema.get_all_operations() if r.ok().path.startswith("/catalog")]
    assert sorted(op.path for op in ops) == ["/catalog", "/catalog.jsonld", "/catalog.rdf", "/catalog.ttl"]
    with requests.Session() as http:
        for op in ops:
            strategy = st.one_of(op.as_strategy(generation_mode=GenerationMode.POSITIVE),
                                 op.as_strategy(generation_mode=GenerationMode.NEGATIVE))

            @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
            @given(case=strategy)
            def check(case):
                case.validate_response(case.call(session=http))
            check()
