"""Node-to-node harvesting over OAI-PMH in the native pops format, on three real nodes on 127.0.0.1.

Country node A (`ke`) harvests the bundled static repository; country node B (`tz`) holds records stored
directly; the global node G (`global`) harvests A's and B's /oai. Then A and B harvest each other (a loop)
and G harvests both again; deletions at the origin travel to G as tombstones.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests
from lxml import etree

from harvester import config, popsxml, run
from harvester.node import oai
from harvester.node.oai import oai_identifier
from harvester.record import validate
from harvester.store import Item, Store

from .conftest import ROOT, valid_record
from .nodeserver import NodeServer

OAI = "{http://www.openarchives.org/OAI/2.0/}"
A, B, G = "ke", "tz", "global"
STATIC = {"type": "oaipmh", "path": "samples/ke-moe-oai.xml"}
A_SOURCES = [{"id": "ke-moe", **STATIC, "metadata_prefix": "oai_dc", "defaults": {"country": "KE", "type": "national_report"}},
             {"id": "ke-moe-pops", **STATIC, "metadata_prefix": "pops"}]
TZ_TYPES = ["national_implementation_plan", "national_report", "legislation", "monitoring_report"]


def write_config(d: Path, node_id: str, sources: list) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    listed = "".join(f"\n  - {json.dumps(s)}" for s in sources) or " []"
    (d / "node_config.yaml").write_text(
        f'node: {{id: {node_id}, name: "Node {node_id}", role: {"global" if node_id == G else "country"}}}\n'
        "store: {path: node.sqlite}\n"
        "index: {backend: embedded}\n"
        "harvest: {batch_size: 10, retries: 1, timeout: 10, backoff: 0.05}\n"
        f"sources:{listed}\n", encoding="utf-8")
    return d / "node_config.yaml"


def oai_source(source_id: str, server: NodeServer) -> dict:
    return {"id": source_id, "type": "oaipmh", "url": f"{server.url}/oai", "metadata_prefix": "pops"}


def tz_records(n: int = 8) -> list[dict]:
    return [validate(valid_record(
        id=f"tz:tz-docs:doc-{i}", origin={"node": B, "source": "tz-docs", "identifier": f"urn:tz:doc:{i}"}, path=[B],
        title={"en": f"Tanzania document {i}", "sw": f"Hati ya Tanzania {i}"}, type=TZ_TYPES[i % 4], countries=["TZ"],
        chemicals=["pcb"] if i % 2 else ["ddt"])) for i in range(n)]


def harvest(path: Path, *source_ids: str) -> dict:
    """Harvest a node's sources (all, or those named) in process; every run must succeed."""
    cfg = config.load(path)
    with Store(cfg.store_path) as store:
        reports = run.harvest(cfg, store, list(source_ids) or None)
    for r in reports:
        assert r.status == "ok", (r.source, r.status, r.error, r.problems)
    return {r.source: r for r in reports}


def live(node: NodeServer) -> dict[str, dict]:
    with Store(node.cfg.store_path) as store:
        return {r["id"]: json.loads(r["record"]) for r in store.db.execute("SELECT id, record FROM records WHERE deleted=0")}


def held(node: NodeServer) -> list:
    with Store(node.cfg.store_path) as store:
        return [dict(r) for r in store.db.execute("SELECT id, source, identifier, deleted, format FROM records")]


def as_sent(rec: dict) -> dict:
    """A record but its path and what every node computes again (its completeness and dedup key)."""
    return {k: v for k, v in rec.items() if k not in ("path", "quality", "dedup_key")}


@pytest.fixture
def nodes(tmp_path, monkeypatch):
    """Three running nodes: A (ke) and B (tz) with their own records, G (global) harvesting both (not yet run);
    every node's /oai pages by 7, so each harvest follows resumption tokens."""
    monkeypatch.setattr(oai, "PAGE_SIZE", 7)
    shutil.copytree(ROOT / "samples", tmp_path / "a" / "samples")
    a_path = write_config(tmp_path / "a", A, A_SOURCES)
    harvest(a_path)
    b_path = write_config(tmp_path / "b", B, [])
    with Store(config.load(b_path).store_path) as store:
        store.apply_batch([Item("tz-docs", r["origin"]["identifier"], r, "", "pops") for r in tz_records()])
    with NodeServer(a_path) as a, NodeServer(b_path) as b:
        g_path = write_config(tmp_path / "g", G, [oai_source("from-ke", a), oai_source("from-tz", b)])
        with NodeServer(g_path) as g:
            a.path, b.path, g.path = a_path, b_path, g_path
            yield a, b, g


def start_loop(a: NodeServer, b: NodeServer) -> None:
    """A harvests B and B harvests A."""
    write_config(a.path.parent, A, A_SOURCES + [oai_source("from-tz", b)])
    write_config(b.path.parent, B, [oai_source("from-ke", a)])


def test_the_global_node_holds_exactly_the_country_nodes_records(nodes):
    a, b, g = nodes
    at_a, at_b = live(a), live(b)
    assert len(at_a) == 33 and len(at_b) == 8
    page = etree.fromstring(requests.get(f"{a.url}/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "pops"},
                                         timeout=10).content)
    assert page.find(f".//{OAI}resumptionToken").get("completeListSize") == "33"   # G reads A in 5 pages
    reports = harvest(g.path)
    assert reports["from-ke"].stored == 33 and reports["from-tz"].stored == 8
    at_g = live(g)
    assert set(at_g) == set(at_a) | set(at_b) and len(at_g) == 41            # origin ids kept, nothing else
    for rid, rec in at_g.items():
        origin = at_a.get(rid) or at_b[rid]
        assert rec["path"] == [origin["origin"]["node"], G]
        assert as_sent(rec) == as_sent(origin)                              # lossless: everything else as it was
        assert rec["quality"]["completeness"] > 0 and rec["dedup_key"]     # scored here
    rows = {r["id"]: r for r in held(g)}
    assert len(rows) == 41 and not any(r["deleted"] for r in rows.values())
    some = next(iter(at_a))
    assert rows[some]["source"] == "from-ke" and rows[some]["identifier"] == oai_identifier(A, some)
    assert rows[some]["format"] == "pops"
    # G serves them again, with the path it holds, to whoever harvests the global node
    r = requests.get(f"{g.url}/oai", params={"verb": "GetRecord", "metadataPrefix": "pops",
                                              "identifier": oai_identifier(G, "tz:tz-docs:doc-3")}, timeout=10)
    rec = popsxml.from_element(etree.fromstring(r.content).find(f".//{OAI}metadata")[0])
    assert rec["path"] == [B, G] and rec["origin"] == at_b["tz:tz-docs:doc-3"]["origin"]
    # harvesting again changes nothing
    again = harvest(g.path)
    assert again["from-ke"].stored == again["from-tz"].stored == 0
    assert len(held(g)) == 41


def test_a_harvest_loop_is_skipped_and_nothing_grows(nodes):
    a, b, g = nodes
    harvest(g.path)
    ids_before = set(live(g))
    start_loop(a, b)
    a_took = harvest(a.path, "from-tz")["from-tz"]
    assert a_took.stored == 8 and a_took.skipped == 0
    b_took = harvest(b.path, "from-ke")["from-ke"]
    assert b_took.stored == 33 and b_took.skipped == 8                   # B's own records, back from A: a loop
    a_again = harvest(a.path, "from-tz")["from-tz"]
    assert a_again.stored == 0 and a_again.skipped == 33                # A's records, back from B
    b_again = harvest(b.path, "from-ke")["from-ke"]
    assert b_again.stored == 0 and b_again.skipped == 8
    at_a, at_b = live(a), live(b)
    assert len(at_a) == len(at_b) == 41
    assert all(r["path"] == ([A] if r["origin"]["node"] == A else [B, A]) for r in at_a.values())
    assert all(r["path"] == ([B] if r["origin"]["node"] == B else [A, B]) for r in at_b.values())
    for _ in range(2):
        harvest(g.path)
        rows = held(g)
        assert len(rows) == 41 and {r["id"] for r in rows} == ids_before  # no duplicates, no growth
        assert not any(r["deleted"] for r in rows)
        for rec in live(g).values():
            assert rec["path"][0] == rec["origin"]["node"] and rec["path"][-1] == G
            assert len(rec["path"]) == len(set(rec["path"]))                 # no node twice on a path


def tombstone(node: NodeServer, record_id: str) -> None:
    with Store(node.cfg.store_path) as store:
        row = store.row(record_id)
        assert store.tombstone_ids(row["source"], [row["identifier"]]) == 1


def deleted_at(node: NodeServer, record_id: str) -> bool:
    with Store(node.cfg.store_path) as store:
        return bool(store.row(record_id)["deleted"])


def test_a_deletion_at_the_origin_reaches_the_global_node(nodes):
    a, b, g = nodes
    harvest(g.path)
    gone_a = sorted(rid for rid in live(a) if rid.startswith("ke:ke-moe:"))[0]
    tombstone(a, gone_a)
    tombstone(b, "tz:tz-docs:doc-5")
    reports = harvest(g.path)
    assert reports["from-ke"].deleted == 1 and reports["from-tz"].deleted == 1
    assert deleted_at(g, gone_a) and deleted_at(g, "tz:tz-docs:doc-5")
    assert len(live(g)) == 39 and len(held(g)) == 41                       # tombstones kept
    # G passes the deletions on: its own /oai lists them as deleted
    r = requests.get(f"{g.url}/oai", params={"verb": "GetRecord", "metadataPrefix": "pops",
                                              "identifier": oai_identifier(G, gone_a)}, timeout=10)
    header = etree.fromstring(r.content).find(f".//{OAI}header")
    assert header.get("status") == "deleted"


def test_a_deletion_travels_through_a_loop(nodes):
    a, b, g = nodes
    harvest(g.path)
    start_loop(a, b)
    harvest(a.path, "from-tz")
    harvest(b.path, "from-ke")
    harvest(g.path)
    gone = sorted(rid for rid in live(a) if rid.startswith("ke:ke-moe:"))[1]
    tombstone(a, gone)
    assert harvest(b.path, "from-ke")["from-ke"].deleted == 1               # B's copy (path ke > tz) goes too
    assert deleted_at(b, gone)
    harvest(g.path)
    assert deleted_at(g, gone)
    assert len(live(g)) == 40 and len(held(g)) == 41
    harvest(a.path, "from-tz")                                              # and it does not come back
    harvest(g.path)
    assert deleted_at(a, gone) and deleted_at(g, gone) and len(held(a)) == 41


def test_the_origins_tombstone_wins_over_a_stale_copy(nodes):
    a, b, g = nodes
    start_loop(a, b)
    harvest(b.path, "from-ke")
    harvest(g.path, "from-ke")
    harvest(g.path, "from-tz")                  # G's copies of A's records now came last by way of B
    gone = sorted(rid for rid in live(a) if rid.startswith("ke:ke-moe:"))[2]
    tombstone(a, gone)
    harvest(g.path)                             # from the origin: deleted; B has not heard of it yet
    assert deleted_at(g, gone)


def test_records_reaching_a_node_by_two_paths_do_not_churn(nodes):
    a, b, g = nodes
    start_loop(a, b)
    harvest(a.path, "from-tz")
    harvest(b.path, "from-ke")
    harvest(g.path)
    again = harvest(g.path)
    assert again["from-ke"].stored == again["from-tz"].stored == 0


def test_source_is_the_id_the_operator_gave_the_peer(nodes):
    """G's records from B came in by G's source `from-tz`; at their origin they were `tz-docs`. Search
    (API and CLI), SRU pops.source and the OAI-PMH set source:<id> all mean G's own id; origin_source (SRU
    pops.originSource) the origin's."""
    from click.testing import CliRunner

    from cli import main

    from .nodeserver import write_records
    _a, _b, g = nodes
    harvest(g.path)
    write_records(g.path, [])                       # the index caught up with what the harvest stored

    def api(*filters, **params):
        return requests.get(f"{g.url}/api/search", params={"filter": list(filters), "limit": 100, **params},
                            timeout=10).json()
    assert api("source:from-tz")["total"] == 8 and api("source:tz-docs")["total"] == 0
    hits = api("origin_source:tz-docs")["results"]
    assert len(hits) == 8 and {(h["source"], h["origin_source"]) for h in hits} == {("from-tz", "tz-docs")}
    facets = api(facets="true")["facets"]
    assert facets["source"] == {"from-ke": 33, "from-tz": 8}
    assert facets["origin_source"] == {"ke-moe": 33, "tz-docs": 8}
    cli = CliRunner().invoke(main, ["--config", str(g.path), "search", "-f", "source:from-tz", "--json"])
    assert cli.exit_code == 0 and json.loads(cli.output)["total"] == 8

    def sru_count(query: str) -> int:
        root = etree.fromstring(requests.get(f"{g.url}/sru", params={"query": query}, timeout=10).content)
        return int(root.findtext(".//{*}numberOfRecords"))
    assert sru_count("pops.source = from-tz") == 8 and sru_count("pops.originSource = tz-docs") == 8
    assert sru_count("pops.source = tz-docs") == 0
    listed = etree.fromstring(requests.get(f"{g.url}/oai", params={
        "verb": "ListIdentifiers", "metadataPrefix": "pops", "set": "source:from-tz"}, timeout=10).content)
    assert listed.find(f".//{OAI}resumptionToken").get("completeListSize") == "8"   # pages of 7 here
