"""Federated search on real nodes on 127.0.0.1: this node (ke) and peer A (tz) served by NodeServer, peer B
slow for real (an HTTP server that sleeps before answering), peer C down (a port nothing listens on), plus
misbehaving peers (bad JSON, malformed hits, oversize answers, redirects) and one that accepts connections
and closes them at once (to count attempts during a cool-down)."""
from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from harvester import config
from harvester.index import Query, catch_up, open_backend
from harvester.node.app import NodeState
from harvester.node.federation import (MAX_RESPONSE_BYTES, PeerHealth, clean_hit, clean_snippet,
                                       federated_search)
from harvester.store import Item, Store

from .nodeserver import NodeServer, free_port

MARGIN = 0.75   # seconds allowed on top of a budget for thread hand-over and merging on a busy machine


def rec(node: str, n: str, title: str, type_: str, year: int, countries: list[str]) -> dict:
    return {"id": f"{node}:portal:{n}", "origin": {"node": node, "source": "portal", "identifier": n},
            "path": [node], "datestamp": "2024-01-02T03:04:05Z", "title": {"en": title}, "type": type_,
            "year": year, "countries": countries, "chemicals": ["pcb"], "languages": ["en"]}


SHARED = rec("tz", "shared", "PCB regional guidance", "best_practice", 2015, ["KE", "TZ"])
KE_RECORDS = [rec("ke", "1", "PCB inventory Kenya", "national_report", 2019, ["KE"]),
              rec("ke", "2", "PCB transformer disposal plan", "national_implementation_plan", 2021, ["KE"]),
              SHARED]
TZ_RECORDS = [rec("tz", "1", "PCB survey Tanzania", "national_report", 2020, ["TZ"]),
              rec("tz", "2", "Transformer PCB phase out", "legislation", 2018, ["TZ"]),
              SHARED]


def write_config(path: Path, node_id: str, store: Path, peers: list[dict] = ()) -> Path:
    data = {"node": {"id": node_id, "name": f"node {node_id}", "url": f"http://{node_id}.example.org"},
            "store": {"path": str(store)}, "index": {"backend": "embedded"}, "peers": list(peers)}
    path.write_text(json.dumps(data))       # JSON is YAML
    return path


def make_store(path: Path, records: list[dict]) -> Path:
    cfg_path = write_config(path.with_suffix(".yaml"), "x", path)
    cfg = config.load(cfg_path)
    with Store(path) as store:
        store.apply_batch([Item(r["origin"]["source"], r["origin"]["identifier"], r, raw=json.dumps(r),
                                format="pops") for r in records])
        with open_backend(cfg, store) as index:
            catch_up(index, store)
    return path


class FakePeer:
    """A real HTTP server on 127.0.0.1 that answers /<route>/api/search as its routes say: each route is
    (delay seconds, status, headers, body bytes), optionally followed by a delay between the headers and
    the body. Counts the requests per route."""

    def __init__(self, routes: dict[str, tuple[float, int, dict, bytes]]):
        self.routes = routes
        self.requests: dict[str, int] = {}
        self.stopping = threading.Event()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                route = self.path.lstrip("/").split("/", 1)[0]
                peer.requests[route] = peer.requests.get(route, 0) + 1
                if route not in peer.routes or "/api/search" not in self.path:
                    self.send_response(404)
                    self.end_headers()
                    return
                delay, status, headers, body, *stall = peer.routes[route]
                if delay:
                    peer.stopping.wait(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v.replace("{port}", str(peer.port)))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if stall:
                        self.wfile.write(body[:5])
                        self.wfile.flush()
                        peer.stopping.wait(stall[0])
                        body = body[5:]
                    self.wfile.write(body)
                except OSError:
                    pass    # the client gave up waiting

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, route: str) -> str:
        return f"http://127.0.0.1:{self.port}/{route}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Closer:
    """A listening socket that accepts every connection and closes it at once, counting them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


def search_body(hits: list[dict], total: int | None = None, facets: dict | None = None) -> bytes:
    return json.dumps({"total": len(hits) if total is None else total, "results": hits, "facets": facets or {},
                       "next_cursor": None, "query_chemicals": ["pcb"]}).encode()


SLOW_HIT = {"id": "bw:portal:slow", "title": {"en": "PCB from the slow node"}, "year": 2024, "score": 1.0}


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    d = tmp_path_factory.mktemp("federation")
    ke_store = make_store(d / "ke.sqlite", KE_RECORDS)
    tz_store = make_store(d / "tz.sqlite", TZ_RECORDS)
    with NodeServer(write_config(d / "tz.yaml", "tz", tz_store)) as tz, \
            FakePeer({"slow": (5.0, 200, {"Content-Type": "application/json"}, search_body([SLOW_HIT]))}) as fake:
        dead = f"http://127.0.0.1:{free_port()}"
        peers = [{"id": "tz", "url": tz.url, "timeout": 3},
                 {"id": "slow", "url": fake.url("slow"), "timeout": 3},
                 {"id": "dead", "url": dead, "timeout": 3}]
        yield {"dir": d, "ke_store": ke_store, "tz": tz, "fake": fake, "dead": dead, "peers": peers,
               "ke_cfg": write_config(d / "ke.yaml", "ke", ke_store, peers)}


def state_for(net, peers=None, name="ke-x") -> NodeState:
    """A fresh node app state for ke (its own peer health) with the given peers."""
    path = write_config(net["dir"] / f"{name}.yaml", "ke", net["ke_store"], net["peers"] if peers is None else peers)
    return NodeState(config.load(path))


def merge_state(net) -> NodeState:
    """ke with peer A and the dead peer only: for the merge tests, which need no waiting."""
    return state_for(net, [p for p in net["peers"] if p["id"] != "slow"], "ke-merge")


def statuses(out) -> dict[str, str]:
    return {n["id"]: n["status"] for n in out["nodes"]}


def test_partial_results_within_the_budget(net):
    state = state_for(net)
    t0 = time.monotonic()
    out = federated_search(state, Query("PCB", limit=10), budget=1.0)
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0 + MARGIN
    assert [n["id"] for n in out["nodes"]] == ["ke", "tz", "slow", "dead"]
    assert statuses(out) == {"ke": "answered", "tz": "answered", "slow": "timed_out", "dead": "failed"}
    nodes = {n["id"]: n for n in out["nodes"]}
    assert nodes["ke"]["total"] == 3 and nodes["tz"]["total"] == 3
    assert nodes["dead"]["error"] == "connection refused" and nodes["dead"]["ms"] < 1000   # fails fast
    assert nodes["slow"]["total"] is None and "no answer" in nodes["slow"]["error"]
    assert out["partial"] is True
    ids = {h["id"] for h in out["results"]}
    assert {"ke:portal:1", "ke:portal:2", "tz:portal:1", "tz:portal:2", "tz:portal:shared"} == ids
    assert "bw:portal:slow" not in ids
    assert net["fake"].requests.get("slow", 0) >= 1     # it was asked, and cut off


def test_each_peer_has_its_own_timeout(net):
    peers = [dict(p, timeout=0.4) if p["id"] == "slow" else p for p in net["peers"]]
    state = state_for(net, peers, "ke-own-timeout")
    t0 = time.monotonic()
    out = federated_search(state, Query("PCB"))          # default budget: the largest timeout (3 s) + a little
    elapsed = time.monotonic() - t0
    assert elapsed < 0.4 + MARGIN                      # not the budget: every peer was done or cut at 0.4 s
    assert statuses(out) == {"ke": "answered", "tz": "answered", "slow": "timed_out", "dead": "failed"}
    assert "0.4" in {n["id"]: n for n in out["nodes"]}["slow"]["error"]


def test_a_slow_peer_within_its_timeout_is_merged(tmp_path, net):
    with FakePeer({"slowish": (0.3, 200, {}, search_body([SLOW_HIT]))}) as fake:
        state = state_for(net, [{"id": "bw", "url": fake.url("slowish"), "timeout": 2}], "ke-slowish")
        out = federated_search(state, Query("PCB"))
    assert statuses(out) == {"ke": "answered", "bw": "answered"}
    hit = next(h for h in out["results"] if h["id"] == "bw:portal:slow")
    assert hit["nodes"] == ["bw"] and hit["title"] == {"en": "PCB from the slow node"}
    assert out["total"] == 4 and out["partial"] is False


def test_a_peer_that_stalls_in_the_middle_of_its_answer_times_out(net):
    with FakePeer({"stall": (0, 200, {}, search_body([SLOW_HIT]), 5.0)}) as fake:
        state = state_for(net, [{"id": "stall", "url": fake.url("stall"), "timeout": 0.5}], "ke-stall")
        t0 = time.monotonic()
        out = federated_search(state, Query("PCB"))
        assert time.monotonic() - t0 < 0.5 + MARGIN
    assert statuses(out) == {"ke": "answered", "stall": "timed_out"}
    assert out["total"] == 3


def test_a_record_on_two_nodes_is_one_hit(net):
    out = federated_search(merge_state(net), Query("PCB", limit=20))
    shared = [h for h in out["results"] if h["id"] == SHARED["id"]]
    assert len(shared) == 1 and shared[0]["nodes"] == ["ke", "tz"]
    assert [h for h in out["results"] if h["id"] != SHARED["id"]] == \
        [h for h in out["results"] if len(h["nodes"]) == 1]
    assert out["duplicates"] == 1 and out["total"] == 3 + 3 - 1 and len(out["results"]) == 5
    assert out["total_exact"] is False and out["total_is_estimate"] is True       # the dead peer
    assert out["total_reason"] == "a lower bound: dead (failed) did not answer; their records are not counted"


def test_facet_counts_count_each_record_once(net):
    out = federated_search(merge_state(net), Query("PCB", facets=["type", "countries"]))
    assert out["facets"] == {
        "type": {"national_report": 2, "best_practice": 1, "legislation": 1, "national_implementation_plan": 1},
        "countries": {"KE": 3, "TZ": 3},         # the shared record (KE and TZ) once
    }
    assert list(out["facets"]["type"]) == ["national_report", "best_practice", "legislation",
                                           "national_implementation_plan"]


def test_sorts_merge_across_nodes(net):
    state = merge_state(net)
    newest = federated_search(state, Query("PCB", sort="newest", limit=10))
    assert [h["year"] for h in newest["results"]] == [2021, 2020, 2019, 2018, 2015]
    oldest = federated_search(state, Query("PCB", sort="oldest", limit=10))
    assert [h["year"] for h in oldest["results"]] == [2015, 2018, 2019, 2020, 2021]
    title = federated_search(state, Query("PCB", sort="title", limit=10))
    assert [h["title"]["en"] for h in title["results"]] == [
        "PCB inventory Kenya", "PCB regional guidance", "PCB survey Tanzania", "PCB transformer disposal plan",
        "Transformer PCB phase out"]


def test_relevance_interleaves_by_rank(net):
    ke = merge_state(net).index().search(Query("transformer")).as_json()["results"]
    tz = requests.get(f"{net['tz'].url}/api/search", params={"q": "transformer"}).json()["results"]
    assert ke and tz
    expected = []
    for i in range(max(len(ke), len(tz))):
        for hits in (ke, tz):
            if i < len(hits) and hits[i]["id"] not in expected:
                expected.append(hits[i]["id"])
    out = federated_search(merge_state(net), Query("transformer"))
    assert [h["id"] for h in out["results"]] == expected
    assert out["sort"] == "relevance"


def test_offset_pages_the_merged_list(net):
    state = merge_state(net)
    full = federated_search(state, Query("PCB", sort="title", limit=10))["results"]
    page = federated_search(state, Query("PCB", sort="title", offset=2, limit=2))
    assert [h["id"] for h in page["results"]] == [h["id"] for h in full[2:4]]
    assert page["next_offset"] == 4 and page["page_exact"] is True


def test_cursor_paging_is_refused(net):
    with pytest.raises(ValueError, match="cursor paging is per node"):
        federated_search(state_for(net), Query("PCB", cursor="abc"))


def test_the_http_api_answers_with_partial_results(net):
    with NodeServer(net["ke_cfg"]) as ke:
        t0 = time.monotonic()
        r = requests.get(f"{ke.url}/api/search",
                         params={"q": "PCB", "scope": "federation", "facets": "true", "limit": 10}, timeout=30)
        elapsed = time.monotonic() - t0
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert elapsed < 3 + 0.25 + MARGIN                   # the default budget: the largest peer timeout
    assert statuses(body) == {"ke": "answered", "tz": "answered", "slow": "timed_out", "dead": "failed"}
    assert {"ke:portal:1", "tz:portal:1", SHARED["id"]} <= {h["id"] for h in body["results"]}
    assert body["facets"]["countries"] == {"KE": 3, "TZ": 3}
    assert set(body) >= {"total", "results", "facets", "next_cursor", "query_chemicals", "nodes"}


def test_a_failing_peer_is_skipped_during_its_cool_down(net):
    with Closer() as closer:
        state = state_for(net, [{"id": "flaky", "url": closer.url, "timeout": 2}], "ke-cooldown")
        for attempt in range(1, 4):
            out = federated_search(state, Query("PCB"))
            flaky = out["nodes"][1]
            assert flaky["status"] == "failed" and closer.accepted == attempt, flaky
            assert flaky["error"] == "connection closed without an answer"
        for _ in range(3):
            out = federated_search(state, Query("PCB"))
            flaky = out["nodes"][1]
            assert flaky["status"] == "skipped" and "3 failures in a row" in flaky["error"]
            assert out["nodes"][0]["status"] == "answered" and out["total"] == 3
        assert closer.accepted == 3                     # not contacted while skipped

        # after the cool-down it is tried once more; one more failure skips it again at once
        state.federation_health = PeerHealth(failures_before_cooldown=3, cooldown=0.3)
        for _ in range(3):
            federated_search(state, Query("PCB"))
        assert federated_search(state, Query("PCB"))["nodes"][1]["status"] == "skipped"
        accepted = closer.accepted
        time.sleep(0.35)
        assert federated_search(state, Query("PCB"))["nodes"][1]["status"] == "failed"
        assert closer.accepted == accepted + 1
        assert federated_search(state, Query("PCB"))["nodes"][1]["status"] == "skipped"
        assert closer.accepted == accepted + 1


def test_an_answer_resets_the_failure_count():
    now = [0.0]
    health = PeerHealth(failures_before_cooldown=3, cooldown=60, clock=lambda: now[0])
    key = ("tz", "http://127.0.0.1:1")
    for ok in (False, False, True, False, False):
        health.record(key, ok, None if ok else "boom")
    assert health.skip_reason(key) is None
    health.record(key, False, "boom")
    assert "3 failures in a row" in health.skip_reason(key) and "boom" in health.skip_reason(key)
    now[0] = 61.0
    assert health.skip_reason(key) is None


def test_untrusted_answers_are_checked(net):
    good = {"id": "mw:portal:ok", "title": {"en": "PCB <b>ok</b>"}, "year": 2022, "score": 2.5,
            "links": [{"url": "javascript:alert(1)"}, {"url": "https://mw.example.org/doc", "rel": "landing"}],
            "why": {"highlights": {"title": ["<mark>PCB</mark> <img src=x onerror=alert(1)>"],
                                   "secret": ["x"]}, "chemicals": ["pcb"]},
            "countries": ["MW", 7, {"x": 1}], "year_extra": "dropped"}
    malformed = [None, 3, "mw:portal:str", {"title": {"en": "no id"}}, {"id": ""}, {"id": "has space"},
                 {"id": ["list"]}, {"id": "x" * 600}]
    body = search_body(malformed + [good], total=9,
                       facets={"type": {"legislation": 2, "bad": -1, "worse": "3"}, "colour": {"red": 1}})
    big = b'{"total": 1, "results": [], "pad": "' + b"x" * (MAX_RESPONSE_BYTES + 10) + b'"}'
    routes = {
        "ok": (0, 200, {"Content-Type": "application/json"}, body),
        "notjson": (0, 200, {"Content-Type": "application/json"}, b"<html>gateway</html>"),
        "shape": (0, 200, {}, b'{"total": "many", "results": {}}'),
        "big": (0, 200, {}, big),
        "error": (0, 503, {}, b'{"error": "index rebuilding"}'),
        "away": (0, 302, {"Location": "http://localhost:{port}/ok/api/search"}, b""),
        "here": (0, 302, {"Location": "/ok/api/search?q=PCB&facets=true"}, b""),
    }
    with FakePeer(routes) as fake:
        peers = [{"id": r, "url": fake.url(r), "timeout": 2} for r in routes]
        out = federated_search(state_for(net, peers, "ke-untrusted"), Query("PCB", facets=["type"]))
        assert fake.requests.get("ok") == 2
    nodes = {n["id"]: n for n in out["nodes"]}
    assert nodes["ok"]["status"] == "answered" and nodes["ok"]["total"] == 9
    assert nodes["notjson"]["status"] == "failed" and nodes["notjson"]["error"] == "answer is not JSON"
    assert nodes["shape"]["status"] == "failed" and "total" in nodes["shape"]["error"]
    assert nodes["big"]["status"] == "failed" and "exceeds the limit" in nodes["big"]["error"]
    assert nodes["error"]["status"] == "failed" and nodes["error"]["error"] == "HTTP 503: index rebuilding"
    assert nodes["away"]["status"] == "failed" and "redirected to another host" in nodes["away"]["error"]
    assert nodes["here"]["status"] == "answered"       # same host: followed
    peer_hits = [h for h in out["results"] if h["id"].startswith("mw:")]
    assert len(peer_hits) == 1 and peer_hits[0]["nodes"] == ["ok", "here"]
    hit = peer_hits[0]
    assert hit["links"] == [{"url": "https://mw.example.org/doc", "rel": "landing"}]
    assert hit["why"]["highlights"] == {"title": ["<mark>PCB</mark> &lt;img src=x onerror=alert(1)&gt;"]}
    assert hit["countries"] == ["MW"] and "year_extra" not in hit
    assert out["facets"]["type"]["legislation"] == 2 + 2     # ok and here; bad counts dropped
    assert "bad" not in out["facets"]["type"] and "colour" not in out["facets"]


def test_clean_hit_and_snippet():
    assert clean_hit({"id": "a:b:c"})["title"] == {} and clean_hit({"id": "a:b:c"})["score"] == 0.0
    assert clean_hit({"id": "a:b:c", "score": float("nan"), "year": True})["year"] is None
    assert clean_hit({"id": "a:b\nc"}) is None
    assert clean_snippet("<mark>a</mark></mark><mark><mark>b") == "<mark>a</mark><mark>b</mark>"
    assert clean_snippet("x &amp; y < z") == "x &amp; y &lt; z"


# ----------------------------------------------------------------------------------------------- distinct counts

COUNTRIES = ["KE", "TZ", "UG"]
TYPES = ["national_report", "legislation", "best_practice"]
TWINS = [rec("ke", f"{i:02d}", f"PCB record {i}", TYPES[i % 3], 2000 + i, [COUNTRIES[i % 3]]) for i in range(30)]


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """Node ke federating peer tz (a real node): with the same 26 records, and with records 0-19 (ke)
    against 10-29 (tz), 10 of them on both."""
    d = tmp_path_factory.mktemp("twins")
    setups = {"same": (TWINS[:26], TWINS[:26]), "overlap": (TWINS[:20], TWINS[10:30])}
    out = {}
    with NodeServer(write_config(d / "tz-same.yaml", "tz", make_store(d / "tz-same.sqlite", TWINS[:26]))) as same, \
            NodeServer(write_config(d / "tz-overlap.yaml", "tz",
                                    make_store(d / "tz-overlap.sqlite", TWINS[10:30]))) as overlap:
        for name, tz in (("same", same), ("overlap", overlap)):
            ke_store = make_store(d / f"ke-{name}.sqlite", setups[name][0])
            out[name] = NodeState(config.load(write_config(d / f"ke-{name}.yaml", "ke", ke_store,
                                                           [{"id": "tz", "url": tz.url, "timeout": 5}])))
        yield out


def pages(state, n: int = 3, **kw) -> list[dict]:
    return [federated_search(state, Query("PCB", limit=10, offset=10 * i, **kw)) for i in range(n)]


def counted(records: list[dict], field: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        for v in (r[field] if isinstance(r[field], list) else [r[field]]):
            counts[v] = counts.get(v, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def test_the_same_records_on_two_nodes_count_once_on_every_page(twins):
    answers = pages(twins["same"], facets=["type", "countries"])
    assert [a["total"] for a in answers] == [26, 26, 26]
    assert all(a["total_exact"] and a["total_reason"] is None and a["duplicates"] == 26 for a in answers)
    assert [n["total"] for n in answers[0]["nodes"]] == [26, 26]
    ids = [h["id"] for a in answers for h in a["results"]]
    assert len(ids) == len(set(ids)) == 26
    assert all(h["nodes"] == ["ke", "tz"] for a in answers for h in a["results"])
    for a in answers:
        assert a["facets"] == {"type": counted(TWINS[:26], "type"), "countries": counted(TWINS[:26], "countries")}
    assert answers[0]["next_offset"] == 10 and answers[2]["next_offset"] is None


def test_partly_overlapping_nodes_count_distinct_records(twins):
    answers = pages(twins["overlap"], n=4, facets=["type", "year"])
    assert [a["total"] for a in answers] == [30, 30, 30, 30] and all(a["total_exact"] for a in answers)
    assert answers[0]["duplicates"] == 10
    held = {h["id"]: h["nodes"] for a in answers for h in a["results"]}
    assert len(held) == 30
    for i, r in enumerate(TWINS):
        assert held[r["id"]] == (["ke"] if i < 10 else ["ke", "tz"] if i < 20 else ["tz"]), r["id"]
    assert answers[0]["facets"]["type"] == counted(TWINS, "type")
    assert answers[0]["facets"]["year"] == {str(2000 + i): 1 for i in range(30)}


def test_above_the_bound_the_total_is_an_estimate_within_bounds(twins, monkeypatch):
    """Each node lists 8 ids only: the listings are compared below the smallest last id, and the rest
    estimated; the total stays the same on every page and says so."""
    from harvester import index
    from harvester.node import federation
    monkeypatch.setattr(index, "MAX_MATCH_IDS", 8)
    monkeypatch.setattr(federation, "MAX_MATCH_IDS", 8)
    same = pages(twins["same"], facets=["countries"])
    assert {a["total"] for a in same} == {26} and not any(a["total_exact"] for a in same)
    assert same[0]["facets"]["countries"] == counted(TWINS[:26], "countries")
    overlap = pages(twins["overlap"])
    assert len({a["total"] for a in overlap}) == 1 and not overlap[0]["total_exact"]
    reason = overlap[0]["total_reason"]
    assert reason.startswith("an estimate: ke has 20 matches, more than the 8 it listed by id; tz has 20 matches")
    low, high = map(int, re.search(r"between (\d+) and (\d+) in all", reason).groups())
    assert low <= 30 <= high and low <= overlap[0]["total"] <= high
    # the only node that answered: its own total and facets, whatever it listed
    cfg = copy.copy(twins["same"].cfg)
    cfg.peers = [{"id": "dead", "url": f"http://127.0.0.1:{free_port()}", "timeout": 1}]
    alone = federated_search(NodeState(cfg), Query("PCB", facets=["countries"]))
    assert alone["total"] == 26 and alone["facets"]["countries"] == counted(TWINS[:26], "countries")
    assert alone["total_reason"] == "a lower bound: dead (failed) did not answer; their records are not counted"


def test_a_hit_lists_every_node_that_holds_it_beyond_their_windows(twins):
    """Relevance interleaves the nodes' windows by rank: a hit from one node's window that the other holds
    further down its own ranking still names both nodes (from their listings)."""
    state = twins["overlap"]
    out = federated_search(state, Query("PCB", limit=4))
    window = {h.id for h in state.index().search(Query("PCB", limit=4)).hits}
    shared = {r["id"] for r in TWINS[10:20]}
    assert any(h["id"] in shared and h["id"] not in window for h in out["results"])     # beyond ke's window
    for h in out["results"]:
        assert h["nodes"] == (["ke", "tz"] if h["id"] in shared else ["ke"] if h["id"] < TWINS[10]["id"]
                              else ["tz"]), h["id"]
