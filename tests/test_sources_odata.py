"""OData sources against a real OData service on 127.0.0.1 in v4 JSON, v2 JSON and Atom: paging through
next links ($skiptoken), incremental $filter runs, tombstones, resume, a looping next link, hostile XML,
and the InforMEA crosswalk on every entity kind."""
import json
import textwrap

import pytest

from harvester import config, run
from harvester.mapping import MapContext, map_record
from harvester.raw import RawRecord
from harvester.sources import open_source
from harvester.store import Store

from .odataserver import ODataServer, make_entities

SETS = {"documents": "Documents", "decisions": "Decisions", "meetings": "Meetings", "contacts": "Contacts",
        "national_reports": "CountryReports", "national_plans": "NationalPlans"}


def node_config(tmp_path, url, entity="documents", **source):
    extra = "".join(f", {k}: {json.dumps(v)}" for k, v in source.items())
    path = tmp_path / "node_config.yaml"
    path.write_text(textwrap.dedent(f"""\
        node: {{id: ke, name: Test node}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        harvest: {{batch_size: 5, retries: 1, timeout: 10, backoff: 0.01}}
        sources:
          - {{id: src, type: odata, url: "{url}", entity: {entity}{extra}}}
        """), encoding="utf-8")
    return config.load(path)


def harvest(cfg, **kw):
    with Store(cfg.store_path) as store:
        return run.harvest_source(cfg, store, cfg.source("src"), **kw)


def live(cfg):
    with Store(cfg.store_path) as s:
        return s.live_identifiers("src")


@pytest.mark.parametrize("form", ["v4", "v2", "atom"])
def test_paging_incremental_and_tombstone(tmp_path, form):
    ents = make_entities("documents", 40)
    with ODataServer(ents, form=form, page_size=6) as srv:
        cfg = node_config(tmp_path, srv.url, modified_field="updated", page_size=5)
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        assert (rep.seen, rep.stored, rep.failed) == (40, 40, 0)
        assert live(cfg) == {e["id"] for e in ents}
        assert len(srv.requests) == 7 and "$skiptoken" in srv.requests[1]    # $top 5, then the server's pages of 6
        # nothing changed: the increment filters on `updated` and stores nothing
        srv.requests.clear()
        rep = harvest(cfg)
        assert rep.status == "ok" and rep.stored == 0 and rep.seen == 0, rep.error
        assert srv.requests[0]["$filter"].startswith("updated gt ")
        assert ("datetime'" in srv.requests[0]["$filter"]) == (form != "v4")
        # one changed: only it comes back
        srv.touch(ents[5]["id"])
        rep = harvest(cfg)
        assert rep.status == "ok" and rep.seen == 1 and rep.stored == 1
        # one removed: a full listing tombstones it
        srv.delete(ents[0]["id"])
        rep = harvest(cfg, full=True)
        assert rep.status == "ok" and rep.deleted == 1
        assert live(cfg) == {e["id"] for e in ents[1:]}


@pytest.mark.parametrize("form", ["v4", "v2", "atom"])
@pytest.mark.parametrize("kind", list(SETS))
def test_every_entity_kind_maps(tmp_path, form, kind):
    with ODataServer(make_entities(kind, 9), form=form, page_size=4, set_name=SETS[kind]) as srv:
        cfg = node_config(tmp_path, srv.url, entity=kind)
        rep = harvest(cfg)
        assert rep.status == "ok" and rep.stored == 9 and rep.failed == 0, rep.error
        with Store(cfg.store_path) as s:
            recs = [json.loads(r[0]) for r in s.db.execute("SELECT record FROM records WHERE source='src'")]
    want = {"documents": None, "decisions": "information_exchange", "meetings": "information_exchange",
            "contacts": "national_focal_point", "national_reports": "national_report",
            "national_plans": "national_implementation_plan"}[kind]
    for rec in recs:
        if want:
            assert rec["type"] == want
        assert rec["title"]
    if kind == "documents":
        assert any(len(r["title"]) >= 5 for r in recs), "multilingual titles kept"
        assert {"en", "fr"} <= set(recs[0]["title"])
        assert any(l["rel"] == "file" for l in recs[0]["links"])
    if kind == "contacts":
        assert recs[0]["title"]["und"].startswith("Dr. Amina") or any(v.startswith("Dr. Amina") for v in recs[0]["title"].values())


def test_resume_from_checkpoint(tmp_path):
    ents = make_entities("decisions", 30)
    with ODataServer(ents, page_size=7, set_name="Decisions") as srv:
        cfg = node_config(tmp_path, srv.url, entity="decisions")
        with Store(cfg.store_path) as store:
            it = open_source(cfg.source("src"), cfg, store.state("src")).records()
            got = [next(it) for _ in range(16)]      # into the third page, then the process dies
            store.save_state("src", checkpoint=got[-1][1])
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        assert rep.seen == 30 - 14                  # the third page read again, nothing before it
        assert "$skiptoken" in srv.requests[-3]


def test_a_looping_next_link_stops_and_deletes_nothing(tmp_path):
    ents = make_entities("documents", 10)
    with ODataServer(ents, page_size=4) as srv:
        cfg = node_config(tmp_path, srv.url)
        assert harvest(cfg).status == "ok"
        srv.loop_next = True
        srv.delete(ents[0]["id"])
        rep = harvest(cfg, full=True)
        assert rep.status == "partial" and rep.deleted == 0
        assert "repeats" in "; ".join(rep.problems)
        assert len(srv.requests) < 12


def test_select_and_service_errors(tmp_path):
    with ODataServer(make_entities("meetings", 3), set_name="Meetings") as srv:
        cfg = node_config(tmp_path, srv.url, entity="meetings", select="title,start,end,updated")
        rep = harvest(cfg)
        assert rep.status == "ok" and rep.stored == 3
        assert srv.requests[0]["$select"] == "title,start,end,updated"


def test_hostile_atom_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")

    class Evil(ODataServer):
        def page(self, q):
            return (f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file://{secret}">]>'
                    '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&x;</title></entry></feed>').encode()

    with Evil([], form="atom") as srv:
        cfg = node_config(tmp_path, srv.url)
        rep = harvest(cfg)
        assert rep.status == "failed" and "entities" in rep.error


def test_error_payload_is_a_clear_failure(tmp_path):
    class Broken(ODataServer):
        def page(self, q):
            return json.dumps({"error": {"code": "BadRequest", "message": "The query parameter '$filter' is invalid"}}).encode()

    with Broken([]) as srv:
        rep = harvest(node_config(tmp_path, srv.url))
        assert rep.status == "failed" and "BadRequest" in rep.error and "$filter" in rep.error


def test_config_needs_entity(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("node: {id: ke, name: n}\nstore: {path: s.sqlite}\nindex: {backend: embedded}\n"
                    "sources:\n  - {id: s, type: odata, url: 'http://127.0.0.1:9/x'}\n")
    with pytest.raises(config.ConfigError) as exc:
        config.load(path)
    assert "needs `entity`" in str(exc.value)


def test_crosswalk_on_a_v2_entity_with_wrapped_collections():
    e = {"__metadata": {"type": "InforMEA.Document"}, "id": "d1",
         "titles": {"results": [{"language": "en", "value": "PCB inventory"}, {"language": "zh", "value": "多氯联苯清单"}]},
         "updated": "/Date(1700000000000)/", "countries": {"results": [{"value": "KE"}]}}
    from harvester.crosswalks.informea import Entity
    rec = map_record("informea", RawRecord(identifier="d1", payload=Entity(e)), MapContext(node="ke", source="s"))
    assert rec["title"] == {"en": "PCB inventory", "zh": "多氯联苯清单"}
    assert rec["countries"] == ["KE"] and rec["dates"]["modified"].startswith("2023-11-14")
