"""The node's JSON API on a real server: search, records, vocabularies, status, metrics, admin token, errors."""

import json

import pytest
import requests
from click.testing import CliRunner

from cli import main



@pytest.fixture(scope="module")
def node(sample_node):
    return sample_node


def test_search_api_has_the_cli_shape(node):
    r = requests.get(f"{node.url}/api/search", params={"q": "多氯联苯", "facets": "true", "limit": 3})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"total", "results", "facets", "next_cursor", "query_chemicals"}
    assert body["total"] > 5 and len(body["results"]) == 3 and body["query_chemicals"] == ["pcb"]
    assert all("pcb" in hit["chemicals"] for hit in body["results"])
    cli = CliRunner().invoke(main, ["--config", str(node.cfg.path), "search", "多氯联苯", "--json", "--limit", "3", "--facets"])
    import json
    assert json.loads(cli.output)["total"] == body["total"]


def test_filters_and_errors_are_json(node):
    r = requests.get(f"{node.url}/api/search", params={"q": "PCB", "filter": ["type:assistance_source"]})
    assert r.status_code == 200 and all(h["type"] == "assistance_source" for h in r.json()["results"])
    r = requests.get(f"{node.url}/api/search", params={"q": "x", "filter": ["colour:red"]})
    assert r.status_code == 400 and "unknown filter field 'colour'" in r.json()["error"]
    r = requests.get(f"{node.url}/api/search", params={"q": "x", "filter": ["nocolon"]})
    assert r.status_code == 400 and "give FIELD:VALUE" in r.json()["error"]
    r = requests.get(f"{node.url}/api/search", params={"limit": "many"})
    assert r.status_code == 400 and "limit" in r.json()["error"]
    r = requests.get(f"{node.url}/api/search", params={"q": "{!lucene}*:*", "qt": "/update", "stream.url": "file:///etc/passwd"})
    assert r.status_code == 200 and r.json()["total"] == 0


def test_record_and_vocab(node):
    hit = requests.get(f"{node.url}/api/search", params={"q": "PCB"}).json()["results"][0]
    rec = requests.get(f"{node.url}/api/records/{hit['id']}").json()
    assert rec["id"] == hit["id"] and rec["origin"]["node"] == "ke"
    r = requests.get(f"{node.url}/api/records/ke:nothing:here")
    assert r.status_code == 404 and "no record" in r.json()["error"]
    chem = requests.get(f"{node.url}/api/vocab/chemicals").json()
    assert chem["pcb"]["names"]["zh"] == "多氯联苯"
    assert requests.get(f"{node.url}/api/vocab/recipes").status_code == 404


def test_status_and_metrics(node):
    st = requests.get(f"{node.url}/api/status").json()
    assert st["node"] == "ke" and st["index"]["behind"] == 0
    m = requests.get(f"{node.url}/metrics").text
    assert 'pops_records{source="ke-moe"} 25' in m
    assert 'pops_harvest_runs_total{source="ke-moe",status="ok"} 1' in m
    assert "pops_search_requests_total" in m


def test_changes_need_the_admin_token(node):
    assert requests.post(f"{node.url}/api/admin/reindex").status_code == 401
    assert requests.post(f"{node.url}/api/admin/reindex", headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = requests.post(f"{node.url}/api/admin/reindex", headers={"Authorization": "Bearer t0ken-for-tests"})
    assert r.status_code == 200 and r.json()["index"]["behind"] == 0
    r = requests.post(f"{node.url}/api/admin/harvest", params={"source": "ke-geo"},
                      headers={"Authorization": "Bearer t0ken-for-tests"})
    assert r.status_code == 200 and r.json()["runs"][0]["status"] == "ok"


def test_openapi_describes_the_api(node):
    spec = requests.get(f"{node.url}/openapi.json").json()
    assert {"/api/search", "/api/records/{record_id}", "/api/status"} <= set(spec["paths"])


def test_recent_sort_from_the_api_the_cli_and_the_page(node):
    """Most recently stored first: what a subscriber to new records wants; the same from every entry point."""
    import json
    body = requests.get(f"{node.url}/api/search", params={"sort": "recent", "limit": 100}).json()
    ids = [hit["id"] for hit in body["results"]]
    records = [requests.get(f"{node.url}/api/records/{i}").json() for i in ids]
    harvested = [r.get("harvested") or r["datestamp"] for r in records]   # native records may carry none
    assert len(ids) == body["total"] > 10 and harvested == sorted(harvested, reverse=True)
    cli = CliRunner().invoke(main, ["--config", str(node.cfg.path), "search", "", "--sort", "recent", "--json",
                                    "--limit", "100"])
    assert cli.exit_code == 0 and [h["id"] for h in json.loads(cli.output)["results"]] == ids
    for lang, label in (("en", "recently added"), ("fr", "ajoutés récemment"), ("zh", "最近添加")):
        page = requests.get(f"{node.url}/", params={"q": "PCB", "lang": lang}).text
        assert label in page and "sort_recent" not in page


def test_a_single_valued_parameter_given_twice_is_refused(node):
    """Which of limit=5&limit=6 would count? Neither: the request is refused, naming the parameter."""
    r = requests.get(f"{node.url}/api/search", params=[("q", "PCB"), ("limit", "5"), ("limit", "6")])
    assert r.status_code == 400 and r.json()["error"] == "limit: give it once"
    r = requests.get(f"{node.url}/api/search", params=[("sort", "title"), ("sort", "newest")])
    assert r.status_code == 400 and "sort" in r.json()["error"]
    r = requests.get(f"{node.url}/api/search", params=[("filter", "countries:KE"), ("filter", "chemicals:pcb")])
    assert r.status_code == 200      # filters are repeatable


def test_search_lists_ids_when_asked(node):
    body = requests.get(f"{node.url}/api/search", params={"q": "PCB", "ids": 5, "facets": "true", "limit": 1}).json()
    ids = [e["id"] for e in body["ids"]]
    assert len(ids) == 5 < body["total"] and ids == sorted(ids) and len(body["results"]) == 1
    assert all("pcb" in e["facets"]["chemicals"] for e in body["ids"])
    assert "ids" not in requests.get(f"{node.url}/api/search", params={"q": "PCB"}).json()
    r = requests.get(f"{node.url}/api/search", params={"ids": 100_000})
    assert r.status_code == 400 and "ids" in r.json()["error"]


def test_status_shows_internals_only_to_the_admin(tmp_path):
    """A node whose ke-geo folder vanished (its error names the absolute path) and whose ke-data run died
    with its process (a real process that took the lock and exited): the public sees names, counts, runs
    and errors without paths or process ids; the admin token shows everything."""
    import shutil
    import subprocess
    import sys

    from harvester.store import Store
    from tests.conftest import ADMIN_TOKEN, copy_sample_node
    from tests.nodeserver import NodeServer
    cfg = copy_sample_node(tmp_path, ADMIN_TOKEN)
    assert CliRunner().invoke(main, ["--config", str(cfg), "harvest"]).exit_code == 0
    shutil.rmtree(tmp_path / "samples" / "iso")
    store_path = tmp_path / "data" / "node.sqlite"
    subprocess.run([sys.executable, "-c", f"from harvester.store import Store; Store({str(store_path)!r}).acquire('ke-data')"],
                   check=True)
    CliRunner().invoke(main, ["--config", str(cfg), "harvest", "ke-geo", "ke-data"])
    with Store(store_path) as store:
        dead_pid = next(r["pid"] for r in store.runs("ke-data") if r["status"] == "crashed")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with NodeServer(cfg) as srv:
        views = {name: [requests.get(f"{srv.url}{path}", headers=h).json() for path in ("/status", "/api/status")]
                 for name, h in (("public", {}), ("admin", admin))}
        pages = {name: requests.get(f"{srv.url}/status", headers={"Accept": "text/html", **h}).text
                 for name, h in (("public", {}), ("admin", admin))}
        wrong = requests.get(f"{srv.url}/status", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and "admin token" in wrong.json()["error"]

    for public in views["public"]:
        text = json.dumps(public)
        assert str(tmp_path) not in text and "store" not in public and '"pid"' not in text
        assert str(dead_pid) not in text
        src = {s["id"]: s for s in public["sources"]}
        assert src["ke-moe"]["name"].startswith("Ministry of Environment") and src["ke-moe"]["records"] == 25
        assert src["ke-moe"]["last_run"]["status"] == "ok" and "next_run" in src["ke-moe"]
        assert src["ke-geo"]["last_error"] == "…/iso: no such file or folder"
        assert src["ke-data"]["last_error"] == "a process died during the run"
    assert str(tmp_path) not in pages["public"] and str(dead_pid) not in pages["public"]
    assert "…/iso: no such file or folder" in pages["public"] and "Ministry of Environment" in pages["public"]

    for full in views["admin"]:
        src = {s["id"]: s for s in full["sources"]}
        assert full["store"] == str(store_path)
        assert src["ke-geo"]["last_error"] == f"{tmp_path}/samples/iso: no such file or folder"
        assert src["ke-data"]["last_error"] == f"process {dead_pid} died during the run"
        assert isinstance(src["ke-moe"]["last_run"]["pid"], int)
    assert str(store_path) in pages["admin"] and f"process {dead_pid}" in pages["admin"]


def test_public_errors_keep_web_addresses_and_drop_paths():
    from harvester.status import public_error
    assert public_error("HTTP 503 from https://repo.example.org/oai/a/b?verb=x") == \
        "HTTP 503 from https://repo.example.org/oai/a/b?verb=x"
    assert public_error("[Errno 2] No such file: '/srv/pops/samples/ke.xml'") == "[Errno 2] No such file: '…/ke.xml'"
    assert public_error("cannot read file:///etc/passwd") == "cannot read file:…"
    assert public_error(r"C:\data\pops\x.xml is missing") == "…/x.xml is missing"
    assert public_error("a run of ke is already in progress (process 991 since 2024-01-01)") == \
        "a run of ke is already in progress (a process since 2024-01-01)"
    assert public_error("either / or") == "either / or" and public_error(None) is None
