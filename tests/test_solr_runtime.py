"""The POPs configset in a real Solr 9 (standalone and SolrCloud) started from Maven Central artifacts."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
import uuid

import pysolr
import pytest
import requests
from click.testing import CliRunner

from cli import main
from harvester.index import solr_runtime
from tests.conftest import copy_sample_node
from tests.nodeserver import free_port
from tests.solr_fixture import require_solr_tools, solr_session

pytestmark = pytest.mark.solr

DOCS = [
    {
        "id": "gh:moe:en1",
        "title_txt_en": ["National inventory of polychlorinated biphenyls (PCBs) in Ghana"],
        "description_txt_en": ["Inventories of PCB-containing transformers and capacitors."],
        "keywords_txt_en": ["PCB", "transformers"],
        "title_display": "National inventory of polychlorinated biphenyls (PCBs) in Ghana",
        "type": "national_report", "countries": ["GH"], "regions": ["africa"], "languages": ["en"],
        "chemicals": ["pcb"], "year": 2019, "origin_node": "gh", "source": "moe", "path": ["gh"],
        "datestamp": "2024-03-01T00:00:00Z", "completeness": 0.9,
    },
    {
        "id": "sn:env:fr1",
        "title_txt_fr": ["Plan national de mise en œuvre de la Convention de Stockholm"],
        "description_txt_fr": ["L'élimination des polluants organiques persistants : plans nationaux et actions."],
        "title_display": "Plan national de mise en œuvre de la Convention de Stockholm",
        "type": "nip", "countries": ["SN"], "regions": ["africa"], "languages": ["fr"], "chemicals": ["ddt"],
        "year": 2020, "origin_node": "sn", "source": "env", "path": ["sn"],
    },
    {
        "id": "mx:semarnat:es1",
        "title_txt_es": ["Contaminantes orgánicos persistentes en América Latina"],
        "type": "study", "countries": ["MX"], "regions": ["latin_america_caribbean"], "languages": ["es"],
        "year": 2018, "origin_node": "mx", "source": "semarnat", "path": ["mx"],
    },
    {
        "id": "ru:mnr:ru1",
        "title_txt_ru": ["Стойкие органические загрязнители в Российской Федерации"],
        "type": "national_report", "countries": ["RU"], "regions": ["central_eastern_europe"],
        "languages": ["ru"], "year": 2021, "origin_node": "ru", "source": "mnr", "path": ["ru"],
    },
    {
        "id": "eg:eeaa:ar1",
        "title_txt_ar": ["إدارة المواد الكيميائية الخطرة"],
        "type": "legislation", "countries": ["EG"], "regions": ["africa"], "languages": ["ar"], "year": 2017,
        "origin_node": "eg", "source": "eeaa", "path": ["eg"],
    },
    {
        "id": "cn:mee:zh1",
        "title_txt_zh": ["中国多氯联苯清单报告"],
        "type": "national_report", "countries": ["CN"], "regions": ["asia_pacific"], "languages": ["zh"],
        "chemicals": ["pcb"], "year": 2022, "origin_node": "cn", "source": "mee", "path": ["cn"],
    },
    {
        "id": "cn:mee:zh2",
        "title_txt_zh": ["二恶英排放控制技术"],
        "type": "best_practice", "countries": ["CN"], "regions": ["asia_pacific"], "languages": ["zh"],
        "chemicals": ["pcdd"], "year": 2022, "origin_node": "cn", "source": "mee", "path": ["cn"],
    },
    {
        "id": "gh:moe:xss",
        "title_txt_en": ["Report <script>alert(1)</script> on dioxin emissions"],
        "type": "study", "countries": ["GH"], "regions": ["africa"], "languages": ["en"], "chemicals": ["pcdd"],
        "year": 2023, "origin_node": "gh", "source": "moe", "path": ["gh"],
    },
]


@pytest.fixture(scope="module")
def base_url(request, tmp_path_factory):
    """The session's Solr (tests/conftest.py) or, when the suite has none wired, one for this module."""
    try:
        url = request.getfixturevalue("solr_url")
    except pytest.FixtureLookupError:
        yield from solr_session(tmp_path_factory)
    else:
        yield url


@pytest.fixture(scope="module")
def core(base_url):
    name = f"runtime_{uuid.uuid4().hex[:8]}"
    url = solr_runtime.create_core(base_url, name)
    solr = pysolr.Solr(url, timeout=60, always_commit=False)
    solr.add(DOCS, commit=True)
    yield solr
    solr.get_session().close()
    solr_runtime.unload_core(base_url, name)


def ids(results) -> set[str]:
    return {d["id"] for d in results}


def select(solr: pysolr.Solr, **params) -> requests.Response:
    """A raw /select request, so that any parameter (even hostile) reaches Solr unchanged."""
    return requests.get(f"{solr.url}/select", params={"wt": "json", **params}, timeout=30)


# ------------------------------------------------------------------------------------------ configset


def test_configset_loads_with_the_classic_schema(core):
    r = requests.get(f"{core.url}/schema", params={"wt": "json"}, timeout=30).json()["schema"]
    assert r["name"] == "pops-chm"
    assert r["uniqueKey"] == "id"
    types = {t["name"] for t in r["fieldTypes"]}
    assert {"text_en", "text_fr", "text_es", "text_ru", "text_ar", "text_zh", "text_cjk", "text_icu"} <= types
    dyn = {f["name"] for f in r["dynamicFields"]}
    assert {"*_txt_en", "*_txt_fr", "*_txt_es", "*_txt_ru", "*_txt_ar", "*_txt_zh", "*_txt_und"} <= dyn
    # immutable schema: the Schema API cannot change it
    resp = requests.post(f"{core.url}/schema", json={"add-field": {"name": "x_new", "type": "string"}}, timeout=30)
    assert resp.status_code >= 400 or "errors" in resp.json()


def test_unknown_fields_are_rejected_not_guessed(core):
    with pytest.raises(pysolr.SolrError):
        core.add([{"id": "bad", "no_such_field": "x"}], commit=True)
    assert core.search("id:bad", fq="{!term f=id}bad").hits == 0


def test_record_json_is_stored_not_indexed(core):
    doc = {"id": "rj1", "title_txt_en": ["stored record test"], "record_json": '{"id": "rj1", "secret": "zebrafish"}'}
    core.add([doc], commit=True)
    try:
        res = core.search("stored record test", fl="id,record_json")
        assert [d["record_json"] for d in res if d["id"] == "rj1"] == [doc["record_json"]]
        assert core.search("zebrafish").hits == 0
    finally:
        core.delete(id="rj1", commit=True)


# ------------------------------------------------------------------------------------------ languages


def test_chinese_words(core):
    found = ids(core.search("多氯联苯"))
    assert "cn:mee:zh1" in found
    assert "cn:mee:zh2" not in found
    assert ids(core.search("清单")) == {"cn:mee:zh1"}
    assert ids(core.search("二恶英")) == {"cn:mee:zh2"}


def test_arabic_normalisation_and_stemming(core):
    assert "eg:eeaa:ar1" in ids(core.search("ادارة"))       # alef without hamza: إدارة
    assert "eg:eeaa:ar1" in ids(core.search("كيميائية"))    # no article: الكيميائية
    assert "eg:eeaa:ar1" in ids(core.search("إِدَارَةُ"))     # with diacritics (tashkeel)


def test_french_stemming_elision_and_accents(core):
    assert "sn:env:fr1" in ids(core.search("plans nationaux"))
    assert "sn:env:fr1" in ids(core.search("elimination"))          # l'élimination
    assert "sn:env:fr1" in ids(core.search("polluant organique persistant"))


def test_spanish_russian_english(core):
    assert "mx:semarnat:es1" in ids(core.search("contaminante organico persistente"))
    assert "ru:mnr:ru1" in ids(core.search("органических загрязнителей"))
    assert "gh:moe:en1" in ids(core.search("inventory biphenyl"))
    assert "gh:moe:en1" in ids(core.search("title:inventories"))  # field alias


# ------------------------------------------------------------------------------------------ facets, highlighting


def test_facets_count(core):
    res = core.search("*:*", rows=0, **{"facet": "true", "facet.field": ["countries", "chemicals", "type", "year"]})
    assert res.hits == len(DOCS)
    countries = dict(zip(*[iter(res.facets["facet_fields"]["countries"])] * 2))
    assert countries == {"GH": 2, "CN": 2, "SN": 1, "MX": 1, "RU": 1, "EG": 1}
    chemicals = dict(zip(*[iter(res.facets["facet_fields"]["chemicals"])] * 2))
    assert chemicals == {"pcb": 2, "pcdd": 2, "ddt": 1}
    assert 0 not in res.facets["facet_fields"]["type"][1::2]  # facet.mincount=1
    filtered = core.search("*:*", fq="{!term f=countries}CN", rows=0)
    assert filtered.hits == 2


def test_highlighting_escapes_html(core):
    res = core.search("dioxin", hl="true", **{"hl.encoder": "", "hl.method": "original"})
    snippets = res.highlighting["gh:moe:xss"]["title_txt_en"]
    text = " ".join(snippets)
    assert "<mark>dioxin</mark>" in text
    assert "&lt;script&gt;" in text
    assert "<script>" not in text


# ------------------------------------------------------------------------------------------ the query parser is fixed


def test_deftype_cannot_be_changed(core):
    assert select(core, q="id:gh\\:moe\\:en1").json()["response"]["numFound"] == 0
    assert select(core, q="id:gh\\:moe\\:en1", defType="lucene").json()["response"]["numFound"] == 0
    assert select(core, q="{!lucene}id:gh\\:moe\\:en1").json()["response"]["numFound"] == 0
    assert select(core, q='_query_:"{!lucene}id:gh\\:moe\\:en1"').json()["response"]["numFound"] == 0
    assert select(core, q="{!func}42", defType="func").json()["response"]["numFound"] == 0
    # q.alt is an invariant: an empty q lists everything, never a query of the caller's choice
    r = select(core, q="", **{"q.alt": "id:gh\\:moe\\:en1"}).json()
    assert r["response"]["numFound"] == len(DOCS)


def test_qt_and_streams_do_not_escape(core):
    before = core.search("*:*", rows=0).hits
    r = select(core, q="pcb", qt="/update", commit="true",
               **{"stream.body": "<delete><query>*:*</query></delete>"})
    assert r.status_code in (200, 400)
    r = requests.post(f"{core.url}/select", params={"qt": "/update", "commit": "true"},
                      data="<delete><query>*:*</query></delete>", headers={"Content-Type": "text/xml"}, timeout=30)
    assert r.status_code in (200, 400)
    core.commit()
    assert core.search("*:*", rows=0).hits == before
    r = select(core, q="pcb", **{"stream.url": "file:///etc/passwd"})
    assert "root:" not in r.text
    r = select(core, q="pcb", **{"stream.file": "/etc/passwd"})
    assert "root:" not in r.text


# ------------------------------------------------------------------------------------------ suggestions


def test_suggester_completes_after_build(core):
    suggest = f"{core.url}/suggest"
    r = requests.get(suggest, params={"suggest.build": "true", "wt": "json"}, timeout=60)
    assert r.status_code == 200, r.text
    r = requests.get(suggest, params={"suggest.q": "polychl", "wt": "json"}, timeout=30).json()
    terms = [s["term"] for s in r["suggest"]["pops"]["polychl"]["suggestions"]]
    assert "National inventory of polychlorinated biphenyls (PCBs) in Ghana" in terms
    r = requests.get(suggest, params={"suggest.q": "contaminantes org", "wt": "json"}, timeout=30).json()
    terms = [s["term"] for s in r["suggest"]["pops"]["contaminantes org"]["suggestions"]]
    assert terms == ["Contaminantes orgánicos persistentes en América Latina"]


# ------------------------------------------------------------------------------------------ SolrCloud


@pytest.mark.solr
def test_solrcloud_two_nodes_two_shards(tmp_path):
    require_solr_tools()
    home = tmp_path / "cloud"
    t0 = time.monotonic()
    handle = solr_runtime.start(home, port=0, cloud=2, heap="512m", jvm_opts=solr_runtime.TEST_JVM_OPTS,
                                stop_with_parent=True)
    started = time.monotonic() - t0
    try:
        assert handle.cloud and handle.zk_host and len(handle.urls) == 2
        t1 = time.monotonic()
        url = solr_runtime.init(handle, "pops_cloud", shards=2, replicas=1)
        created = time.monotonic() - t1
        print(f"\nSolrCloud: 2 nodes started in {started:.1f} s, 2-shard collection created in {created:.1f} s")
        state = solr_runtime.collection_status(handle.url, "pops_cloud")
        assert len(state["shards"]) == 2
        nodes = {r["node_name"] for s in state["shards"].values() for r in s["replicas"].values()}
        assert len(nodes) == 2  # one shard on each node

        docs = [dict(d, id=f"{d['id']}:{i}") for i in range(5) for d in DOCS]
        solr, zk = _cloud_client(handle, "pops_cloud", url)
        try:
            _check_cloud_collection(solr, state, url, docs)
        finally:
            if zk is not None:  # kazoo's threads would otherwise retry the stopped ZooKeeper forever
                zk.zk.stop()
                zk.zk.close()
        assert solr_runtime.delete_collection(handle.url, "pops_cloud")
    finally:
        assert solr_runtime.stop(home)
    assert solr_runtime.status(home) is None


def _check_cloud_collection(solr: pysolr.Solr, state: dict, url: str, docs: list[dict]) -> None:
    solr.add(docs, commit=True)
    assert solr.search("*:*", rows=0).hits == len(docs)
    assert len(ids(solr.search("多氯联苯", rows=100))) == 5
    res = solr.search("*:*", rows=0, **{"facet": "true", "facet.field": "countries"})
    assert dict(zip(*[iter(res.facets["facet_fields"]["countries"])] * 2))["CN"] == 10
    # both shards hold documents
    per_shard = [
        requests.get(f"{r['base_url']}/{r['core']}/select",
                     params={"q": "*:*", "rows": 0, "distrib": "false", "wt": "json"}, timeout=30)
        .json()["response"]["numFound"]
        for s in state["shards"].values() for r in s["replicas"].values()
    ]
    assert sum(per_shard) == len(docs) and all(n > 0 for n in per_shard)
    # the edismax invariants hold through the distributed request too
    r = requests.get(f"{url}/select", params={"q": "{!lucene}*:*", "defType": "lucene", "wt": "json"},
                     timeout=30).json()
    assert r["response"]["numFound"] == 0


def _cloud_client(handle: solr_runtime.SolrHandle, collection: str, url: str):
    """(client, ZooKeeper watcher or None): pysolr's ZooKeeper-aware client when kazoo is installed, else the
    collection URL on one node."""
    try:
        import kazoo  # noqa: F401
    except ImportError:
        return pysolr.Solr(url, timeout=60), None
    zk = pysolr.ZooKeeper(handle.zk_host, max_retries=3)
    deadline = time.monotonic() + 30
    while True:  # the watch on the collection's state.json fires shortly after creation
        try:
            return pysolr.SolrCloud(zk, collection, timeout=60), zk
        except pysolr.SolrError:
            if time.monotonic() > deadline:
                zk.zk.stop()
                zk.zk.close()
                raise
            time.sleep(0.2)


def free_base_port(nodes: int) -> int:
    """A port P such that P .. P+nodes-1 and P+1000 (the ports of a local SolrCloud) are all free now."""
    for _ in range(50):
        base = free_port()
        ports = [base + i for i in range(nodes)] + [base + solr_runtime.ZK_PORT_OFFSET]
        if ports[-1] < 65536 and all(_is_free(p) for p in ports):
            return base
    raise RuntimeError("no free range of ports found")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cloud_ports_are_stable_across_restarts(tmp_path, caplog):
    """`solr start --cloud 2 --port P` twice (stopped in between): the same ports, ZooKeeper on P+1000, and the
    index line printed works as the node's config, without pysolr's warning about a missing cluster state."""
    require_solr_tools()
    base = free_base_port(2)
    home = tmp_path / "cloud"
    printed = []
    for _ in range(2):
        r = cli("solr", "--home", home, "start", "--cloud", 2, "--port", base)
        try:
            assert r.exit_code == 0, r.output
            assert f"http://127.0.0.1:{base}/solr http://127.0.0.1:{base + 1}/solr" in r.output
            init = cli("solr", "--home", home, "init", "--shards", 1)
            assert init.exit_code == 0, init.output
            line = init.output.splitlines()[-1]
            assert r.output.splitlines()[-1] == line      # start already printed the same line
            printed.append(line)
        finally:
            assert cli("solr", "--home", home, "stop").exit_code == 0
    assert printed[0] == printed[1] == \
        f'index: {{backend: solr, solr: {{zk_hosts: "127.0.0.1:{base + 1000}/solr", collection: pops}}}}'

    r = cli("solr", "--home", home, "start", "--cloud", 2, "--port", base)
    try:
        assert cli("solr", "--home", home, "init", "--shards", 1).exit_code == 0
        cfg = copy_sample_node(tmp_path)
        cfg.write_text(re.sub(r"(?m)^index:\n  backend: embedded.*$", printed[0], cfg.read_text()))
        caplog.set_level(logging.WARNING)
        found = cli("--config", cfg, "search", "PCB", "--json")
        assert found.exit_code == 0, found.output
        assert json.loads(found.stdout)["total"] == 0
        assert not [rec for rec in caplog.records if rec.name == "pysolr"], caplog.text
    finally:
        assert cli("solr", "--home", home, "stop").exit_code == 0


def test_standalone_honours_the_port(tmp_path):
    require_solr_tools()
    base = free_base_port(1)
    r = cli("solr", "--home", tmp_path / "h", "start", "--port", base)
    try:
        assert r.exit_code == 0, r.output
        assert f"Solr running (pid" in r.output and f"http://127.0.0.1:{base}/solr" in r.output
        assert r.output.splitlines()[-1] == f'index: {{backend: solr, solr: {{url: "http://127.0.0.1:{base}/solr/pops"}}}}'
    finally:
        assert cli("solr", "--home", tmp_path / "h", "stop").exit_code == 0


def test_a_port_in_use_is_named(tmp_path):
    base = free_base_port(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + solr_runtime.ZK_PORT_OFFSET))
        taken.listen()
        r = cli("solr", "--home", tmp_path / "h", "start", "--cloud", 2, "--port", base)
    assert r.exit_code == 1
    assert f"port {base + 1000} (ZooKeeper) is in use" in r.stderr and "another --port" in r.stderr
    with pytest.raises(solr_runtime.SolrRuntimeError, match="1 to 999 nodes"):
        solr_runtime.cloud_ports(8983, 1000)
    assert solr_runtime.status(tmp_path / "h") is None


def test_start_stop_errors(tmp_path):
    require_solr_tools()
    with pytest.raises(solr_runtime.SolrRuntimeError, match="no solrconfig.xml"):
        solr_runtime.start(tmp_path / "h", port=0, conf_dir=tmp_path)
    assert solr_runtime.stop(tmp_path / "nothing-here") is False
    assert solr_runtime.status(tmp_path / "nothing-here") is None
