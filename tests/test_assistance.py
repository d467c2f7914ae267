"""Assistance matchmaking: the rules on hand-built sources and requests whose right answers are known, the
HTTP route on a node harvested from the bundled samples, and a request matched with a source that lives only
on a peer node."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import requests

from harvester import config
from harvester.assistance import (NotAssistance, RecordNotFound, countries_in_text, deadline_end, find_matches,
                                  match_request, match_source)
from harvester.index import catch_up, open_backend
from harvester.store import Item, Store


from .nodeserver import NodeServer

TODAY = date(2026, 6, 1)


def record(node: str, n: str, type_: str, countries=None, chemicals=None, **assistance) -> dict:
    rec = {"id": f"{node}:portal:{n}", "origin": {"node": node, "source": "portal", "identifier": n},
           "path": [node], "datestamp": "2026-01-02T03:04:05Z", "title": {"en": f"{type_} {n}"}, "type": type_,
           "languages": ["en"]}
    if countries:
        rec["countries"] = countries
    if chemicals:
        rec["chemicals"] = chemicals
    if assistance:
        rec["assistance"] = assistance
    return rec


def source(n, **kw):
    return record("x", n, "assistance_source", chemicals=kw.pop("chemicals", None), **kw)


def request(n, countries=None, **kw):
    return record("x", n, "assistance_request", countries=countries, chemicals=kw.pop("chemicals", None), **kw)


KE_REQUEST = request("ke-pcb", ["KE"], chemicals=["pcb"], kind=["technical"], status="submitted",
                     activities=["Disposal of PCB transformers", "training of utility staff"])
BR_REQUEST = request("br-pcb", ["BR"], chemicals=["pcb"], kind=["technical"], status="open")

AFRICA = source("africa", kind=["technical"], eligible_regions=["africa"], status="open", deadline="2026-12-31")
KE_LISTED = source("ke-listed", kind=["technical"], eligible_countries=["KE", "UG"], status="open")
EVERYONE = source("everyone", kind=["technical"])                       # no eligibility, no status, no deadline
CLOSED = source("closed", kind=["technical"], status="closed")
EXPIRED = source("expired", kind=["technical"], status="open", deadline="2026-05-31")
FINANCIAL = source("financial", kind=["financial"], status="open")
NO_KIND = source("no-kind", eligible_regions=["africa"], status="open")
PCB_AFRICA = source("pcb-africa", kind=["technical"], eligible_regions=["africa"], status="open",
                    deadline="2027-03-31", chemicals=["pcb", "ddt"],
                    activities=["PCB disposal and decontamination", "staff training"])
ASIA = source("asia", kind=["technical"], eligible_regions=["asia_pacific"], status="open")
SOURCES = [AFRICA, KE_LISTED, EVERYONE, CLOSED, EXPIRED, FINANCIAL, NO_KIND, PCB_AFRICA, ASIA]


def ids(matches) -> list[str]:
    return [m.id.split(":")[-1] for m in matches]


# ----------------------------------------------------------------------------------------------- the rules


def test_a_kenyan_request_gets_exactly_the_sources_that_fit():
    matches = match_request(KE_REQUEST, SOURCES, today=TODAY)
    assert set(ids(matches)) == {"africa", "ke-listed", "everyone", "no-kind", "pcb-africa"}
    # closed, expired, financial-only and Asia-Pacific sources are left out
    assert ids(matches)[0] == "pcb-africa"                      # chemical and activities shared: ranks first
    by_id = {i: m for i, m in zip(ids(matches), matches)}
    assert "eligible: KE is in region africa" in by_id["africa"].reasons
    assert "eligible: KE is listed" in by_id["ke-listed"].reasons
    assert "eligible: open to every Party (no eligibility set)" in by_id["everyone"].reasons
    assert "kind: technical" in by_id["africa"].reasons
    assert any(r.startswith("kind: any") for r in by_id["no-kind"].reasons)
    assert "chemicals: pcb" in by_id["pcb-africa"].reasons
    assert "activities: disposal, staff, training" in by_id["pcb-africa"].reasons
    assert "open until 2026-12-31" in by_id["africa"].reasons
    assert by_id["pcb-africa"].score > by_id["ke-listed"].score > by_id["africa"].score > by_id["everyone"].score
    assert all(m.type == "assistance_source" and m.title for m in matches)


def test_region_eligibility_depends_on_the_requesting_country():
    assert "africa" in ids(match_request(KE_REQUEST, [AFRICA], today=TODAY))
    assert ids(match_request(BR_REQUEST, [AFRICA, KE_LISTED, PCB_AFRICA], today=TODAY)) == []
    assert ids(match_request(BR_REQUEST, SOURCES, today=TODAY)) == ["everyone"]


def test_closed_expired_and_other_kind_are_excluded():
    assert ids(match_request(KE_REQUEST, [CLOSED, EXPIRED, FINANCIAL], today=TODAY)) == []
    # the deadline is the last day: on that day the source is still open
    assert ids(match_request(KE_REQUEST, [EXPIRED], today=date(2026, 5, 31))) == ["expired"]
    # a request without a kind takes any kind
    no_kind_request = request("ke-any", ["KE"], status="submitted")
    assert "financial" in ids(match_request(no_kind_request, SOURCES, today=TODAY))


def test_ties_go_by_deadline_soonest_first():
    soon = source("soon", kind=["technical"], eligible_regions=["africa"], deadline="2026-07-01")
    late = source("late", kind=["technical"], eligible_regions=["africa"], deadline="2026-12-01")
    none = source("none", kind=["technical"], eligible_regions=["africa"])
    assert ids(match_request(KE_REQUEST, [none, late, soon], today=TODAY)) == ["soon", "late", "none"]


def test_the_party_may_be_named_by_the_provider():
    req = request("by-provider", None, kind=["technical"], provider="Government of Kenya, Ministry of Environment")
    assert countries_in_text("Government of Kenya, Ministry of Environment") == ["KE"]
    assert countries_in_text("Republic of Equatorial Guinea") == ["GQ"]
    assert set(ids(match_request(req, SOURCES, today=TODAY))) == {"africa", "ke-listed", "everyone", "no-kind",
                                                                   "pcb-africa"}
    nobody = request("nobody", None, kind=["technical"])
    assert ids(match_request(nobody, SOURCES, today=TODAY)) == ["everyone"]


def test_a_source_gets_the_open_requests_it_could_answer():
    met = request("met", ["KE"], kind=["technical"], status="met")
    withdrawn = request("withdrawn", ["TZ"], kind=["technical"], status="withdrawn")
    old = request("old", ["UG"], kind=["technical"], status="submitted", deadline="2025-12")
    tz = request("tz", ["TZ"], kind=["technical"], status="in_progress", chemicals=["ddt"])
    planned = request("planned", ["ET"], status="planned")
    financial = request("fin", ["KE"], kind=["financial"], status="open")
    candidates = [KE_REQUEST, BR_REQUEST, met, withdrawn, old, tz, planned, financial, AFRICA]
    matches = match_source(PCB_AFRICA, candidates, today=TODAY)
    assert ids(matches) == ["ke-pcb", "tz", "planned"]
    assert all(m.type == "assistance_request" for m in matches)
    assert matches[0].status == "submitted"
    assert ids(match_source(EVERYONE, candidates, today=TODAY)) == ["br-pcb", "ke-pcb", "tz", "planned"]  # ties: by id
    assert ids(match_source(CLOSED, candidates, today=TODAY)) == []


def test_deadlines_of_a_year_or_a_month_end_with_the_period():
    assert deadline_end("2026") == date(2026, 12, 31)
    assert deadline_end("2024-02") == date(2024, 2, 29)
    assert deadline_end("2026-09-30") == date(2026, 9, 30)
    assert deadline_end("soon") is None and deadline_end(None) is None


# ----------------------------------------------------------------------------------------------- on a node

SAMPLE_REQUEST = "ke:ke-moe:oai:environment.go.ke.example:chm/request-pcb-disposal"
SOUTH_SOUTH = "ke:ke-moe:oai:environment.go.ke.example:chm/assistance-pcb-esm-south-south"
SMALL_GRANTS = "ke:ke-moe:oai:environment.go.ke.example:chm/assistance-ea-small-grants-2026"
TWINNING = "ke:ke-moe:oai:environment.go.ke.example:chm/assistance-laboratory-twinning"


@pytest.fixture(scope="module")
def node(sample_node):
    return sample_node


def test_the_sample_pcb_request_is_matched_over_http(node):
    r = requests.get(f"{node.url}/api/assistance/{SAMPLE_REQUEST}/matches",
                     params={"federated": "false", "on": "2026-06-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["record"] == SAMPLE_REQUEST and body["type"] == "assistance_request"
    assert [m["id"] for m in body["matches"]] == [SOUTH_SOUTH, SMALL_GRANTS]      # the twinning one is closed
    first = body["matches"][0]
    assert set(first) >= {"id", "title", "node", "score", "reasons", "kind", "deadline", "status"}
    assert first["node"] == "ke" and first["status"] == "open" and first["kind"] == ["technical"]
    assert "eligible: KE is in region africa" in first["reasons"] and "chemicals: pcb" in first["reasons"]
    assert "eligible: KE is listed" in body["matches"][1]["reasons"]
    assert [n["id"] for n in body["nodes"]] == ["ke"]
    # after the small grants' deadline only the south-south offer is left
    later = requests.get(f"{node.url}/api/assistance/{SAMPLE_REQUEST}/matches",
                         params={"federated": "false", "on": "2026-10-01"}).json()
    assert [m["id"] for m in later["matches"]] == [SOUTH_SOUTH]


def test_federated_by_default_and_a_dead_peer_is_reported(node):
    body = requests.get(f"{node.url}/api/assistance/{SAMPLE_REQUEST}/matches", params={"on": "2026-06-01"}).json()
    assert [m["id"] for m in body["matches"]] == [SOUTH_SOUTH, SMALL_GRANTS]
    assert [n["id"] for n in body["nodes"]] == ["ke", "secretariat"]
    assert body["nodes"][1]["status"] != "answered"      # the sample config's peer is not running


def test_a_source_lists_the_sample_requests(node):
    body = requests.get(f"{node.url}/api/assistance/{SOUTH_SOUTH}/matches",
                        params={"federated": "false", "on": "2026-06-01"}).json()
    assert body["type"] == "assistance_source"
    assert [m["id"].rsplit("/", 1)[1] for m in body["matches"]] == ["request-pcb-disposal", "request-pfos-foams"]
    closed = requests.get(f"{node.url}/api/assistance/{TWINNING}/matches",
                          params={"federated": "false", "on": "2026-06-01"}).json()
    assert closed["matches"] == []


def test_errors_are_json(node):
    r = requests.get(f"{node.url}/api/assistance/ke:nothing:here/matches", params={"federated": "false"})
    assert r.status_code == 404 and "no record" in r.json()["error"]
    doc = requests.get(f"{node.url}/api/search", params={"q": "PCB", "filter": "type:national_report"}).json()
    rid = doc["results"][0]["id"]
    r = requests.get(f"{node.url}/api/assistance/{rid}/matches", params={"federated": "false"})
    assert r.status_code == 400 and "not an assistance source or request" in r.json()["error"]
    for on in ("2026-13-45", "2026-02-29", "0000-01-01", "2026-6-01", "", ["2026-06-01", "2026-06-02"]):
        r = requests.get(f"{node.url}/api/assistance/{SAMPLE_REQUEST}/matches", params={"on": on})
        assert r.status_code == 400 and r.json()["error"].startswith("on: "), (on, r.text)
    with pytest.raises(RecordNotFound):
        find_matches(node.cfg, "ke:nothing:here", federated=False)
    with pytest.raises(NotAssistance):
        find_matches(node.cfg, rid, federated=False)


# ----------------------------------------------------------------------------------------------- federated


def write_config(path: Path, node_id: str, store: Path, peers=()) -> Path:
    data = {"node": {"id": node_id, "name": f"node {node_id}", "url": f"http://{node_id}.example.org"},
            "store": {"path": str(store)}, "index": {"backend": "embedded"}, "peers": list(peers)}
    path.write_text(json.dumps(data))
    return path


def make_store(path: Path, records: list[dict]) -> Path:
    cfg = config.load(write_config(path.with_suffix(".yaml"), "x", path))
    with Store(path) as store:
        store.apply_batch([Item(r["origin"]["source"], r["origin"]["identifier"], r, raw=json.dumps(r),
                                format="pops") for r in records])
        with open_backend(cfg, store) as index:
            catch_up(index, store)
    return path


def test_a_request_on_one_node_meets_a_source_on_its_peer(tmp_path):
    ke_request = record("ke", "req", "assistance_request", countries=["KE"], chemicals=["pcb"],
                        kind=["technical"], status="submitted")
    ke_closed = record("ke", "closed", "assistance_source", kind=["technical"], status="closed")
    tz_source = record("tz", "src", "assistance_source", chemicals=["pcb"], kind=["technical", "financial"],
                       eligible_regions=["africa"], status="open", deadline="2099-12-31")
    tz_asia = record("tz", "asia", "assistance_source", kind=["technical"], eligible_regions=["asia_pacific"])
    tz_store = make_store(tmp_path / "tz.sqlite", [tz_source, tz_asia])
    ke_store = make_store(tmp_path / "ke.sqlite", [ke_request, ke_closed])
    with NodeServer(write_config(tmp_path / "tz.yaml", "tz", tz_store)) as tz:
        ke_cfg = write_config(tmp_path / "ke.yaml", "ke", ke_store, [{"id": "tz", "url": tz.url, "timeout": 5}])
        with NodeServer(ke_cfg) as ke:
            body = requests.get(f"{ke.url}/api/assistance/{ke_request['id']}/matches").json()
            assert [(m["id"], m["node"]) for m in body["matches"]] == [(tz_source["id"], "tz")]
            assert "chemicals: pcb" in body["matches"][0]["reasons"]
            assert [(n["id"], n["status"]) for n in body["nodes"]] == [("ke", "answered"), ("tz", "answered")]
            local = requests.get(f"{ke.url}/api/assistance/{ke_request['id']}/matches",
                                 params={"federated": "false"}).json()
            assert local["matches"] == []
            # the other way: a source only the peer holds, looked up from this node, finds this node's request
            back = find_matches(config.load(ke_cfg), tz_source["id"])
            assert back["node"] == "tz" and back["type"] == "assistance_source"
            assert [(m["id"], m["node"]) for m in back["matches"]] == [(ke_request["id"], "ke")]
