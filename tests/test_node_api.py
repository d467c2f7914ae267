"""The node's JSON API on a real server: search, records, vocabularies, status, metrics, admin token, errors."""

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
