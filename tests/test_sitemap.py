"""Sitemaps and robots.txt on a real node serving the harvested sample store (plus a record with an id
full of characters a URL must encode, and a deleted one), read over HTTP with lxml and the standard
library's robots.txt parser; page sizes lowered so the records spread over several pages."""
from __future__ import annotations

import sqlite3
import urllib.robotparser
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
import requests
import yaml
from lxml import etree

from harvester.node import sitemap
from harvester.store import Store

from .nodeserver import NodeServer
from .test_feeds import EVIL, EVIL_ID, MULTI, free_port, sample_node_config, write_records

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
LONG = dict(MULTI, id="ke:multi:" + "L" * 2100, origin=dict(MULTI["origin"], identifier="long"))


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    port = free_port()
    cfg = sample_node_config(tmp_path_factory.mktemp("sitemap"), port)
    write_records(cfg, [LONG])
    with NodeServer(cfg, port=port) as srv:
        yield srv


def live(srv) -> dict[str, str]:
    """Live record id -> when the node last changed it."""
    with Store(srv.cfg.store_path) as store:
        return {r["id"]: r["changed"] for r in store.db.execute("SELECT id, changed FROM records WHERE deleted = 0")}


def xml(srv, url: str):
    r = requests.get(url if url.startswith("http") else srv.url + url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    return etree.fromstring(r.content)


def read_sitemaps(srv) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """The index's page URLs, and each page's (loc, lastmod) pairs."""
    index = xml(srv, "/sitemap.xml")
    assert index.tag == f"{SM}sitemapindex"
    locs = [s.findtext(f"{SM}loc") for s in index.findall(f"{SM}sitemap")]
    pages = []
    for loc in locs:
        page = xml(srv, loc)
        assert page.tag == f"{SM}urlset"
        assert all(child.tag == f"{SM}url" for child in page)
        pages.append([(u.findtext(f"{SM}loc"), u.findtext(f"{SM}lastmod")) for u in page])
    return locs, pages


def record_id_of(srv, loc: str) -> str:
    prefix = srv.url + "/record/"
    assert loc.startswith(prefix)
    return unquote(loc[len(prefix):])


def test_every_live_record_once_across_small_pages(node, monkeypatch):
    monkeypatch.setattr(sitemap, "PAGE_SIZE", 7)
    monkeypatch.setattr(sitemap, "BATCH", 3)              # pages are written in several batches
    locs, pages = read_sitemaps(node)
    expected = live(node)
    assert len(pages) >= len(expected) // 7
    assert all(0 < len(p) <= 7 for p in pages)
    assert all(loc.startswith(node.url + "/sitemaps/") and loc.endswith(".xml") for loc in locs)
    urls = [loc for p in pages for loc, _ in p]
    assert len(urls) == len(set(urls))
    ids = {record_id_of(node, loc): lastmod for p in pages for loc, lastmod in p}
    # every live record but the one whose URL is longer than the protocol allows
    assert LONG["id"] in expected and LONG["id"] not in ids
    assert ids == {rid: changed for rid, changed in expected.items() if rid != LONG["id"]}
    assert "ke:evil:gone" not in ids
    assert all(len(u) < 2048 for u in urls)


def test_urls_are_encoded_and_lead_to_the_record_pages(node, monkeypatch):
    monkeypatch.setattr(sitemap, "PAGE_SIZE", 10)
    _, pages = read_sitemaps(node)
    urls = {record_id_of(node, loc): loc for p in pages for loc, _ in p}
    evil = urls[EVIL_ID]
    assert evil.isascii() and not set(urlsplit(evil).path) & set("\"'<> ?#")
    assert urlsplit(evil).query == "" and urlsplit(evil).fragment == ""
    dcat = next(rid for rid in urls if rid.startswith("ke:ke-data:https://"))
    for rid in (EVIL_ID, dcat, "ke:multi:1", sorted(urls)[0]):
        r = requests.get(urls[rid], timeout=30)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert lxml.html.fromstring(r.content).xpath("//article/@data-id") == [rid]


def test_changes_move_to_the_last_page_and_deletions_leave(node, monkeypatch):
    monkeypatch.setattr(sitemap, "PAGE_SIZE", 5)
    before = {record_id_of(node, loc) for p in read_sitemaps(node)[1] for loc, _ in p}
    assert "ke:multi:1" in before and EVIL_ID in before
    write_records(node.cfg.path, [dict(MULTI, title={"en": "Dioxin inventory of Mombasa, revised"})],
                  delete=[(EVIL["origin"]["source"], EVIL["origin"]["identifier"])])
    locs, pages = read_sitemaps(node)
    ids = [record_id_of(node, loc) for p in pages for loc, _ in p]
    assert EVIL_ID not in ids
    assert ids.count("ke:multi:1") == 1
    assert [record_id_of(node, loc) for loc, _ in pages[-1]][-1] == "ke:multi:1"
    assert dict((record_id_of(node, loc), m) for loc, m in pages[-1])["ke:multi:1"] == live(node)["ke:multi:1"]
    # a page left without a live record is not listed, and asking for it is a 404
    listed = {int(urlsplit(loc).path.rsplit("/", 1)[1][:-4]) for loc in locs}
    unlisted = min(set(range(max(listed) + 2)) - listed)
    r = requests.get(f"{node.url}/sitemaps/{unlisted}.xml", timeout=30)
    assert r.status_code == 404 and "no record" in r.json()["error"]


@pytest.mark.parametrize("name", ["abc.xml", "1.txt", "-1.xml", "1e3.xml", "%C2%B9.xml", "99999999999999.xml"])
def test_bad_page_names_are_404(node, name):
    r = requests.get(f"{node.url}/sitemaps/{name}", timeout=30)
    assert r.status_code == 404
    assert "sitemap" in r.json()["error"]


def test_pages_are_read_by_key_ranges_of_the_sequence(node):
    """No OFFSET and no scan of the whole table: every query the sitemap runs searches the seq index."""
    db = sitemap._connect(node.cfg.store_path)
    seen: list[str] = []
    db.set_trace_callback(seen.append)
    pages = sitemap.listed_pages(db, 4)
    rows = [r for n in pages for batch in sitemap.page_rows(db, n, 4) for r in batch]
    db.set_trace_callback(None)
    assert {rid for rid, _ in rows} == set(live(node)) - {LONG["id"]}
    selects = {s for s in seen if s.lstrip().upper().startswith("SELECT")}
    assert selects and not [s for s in selects if "OFFSET" in s.upper()]
    for statement in selects:
        plan = " ".join(str(r[-1]) for r in db.execute("EXPLAIN QUERY PLAN " + statement))
        assert "records_seq" in plan and "SCAN" not in plan, (statement, plan)
    db.close()


def test_robots_txt_allows_crawling_and_names_the_sitemap(node):
    r = requests.get(node.url + "/robots.txt", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(r.text.splitlines())
    assert robots.site_maps() == [node.url + "/sitemap.xml"]
    _, pages = read_sitemaps(node)
    for loc, _ in pages[0][:5]:
        assert robots.can_fetch("AnyBot", loc)
    assert robots.can_fetch("AnyBot", node.url + "/")
    assert robots.can_fetch("AnyBot", node.url + "/feed.atom")
    assert not robots.can_fetch("AnyBot", node.url + "/api/search?q=PCB")
    assert not robots.can_fetch("AnyBot", node.url + "/oai?verb=Identify")


def test_an_empty_node_without_a_public_url(tmp_path):
    cfg = tmp_path / "node.yaml"
    cfg.write_text(yaml.safe_dump({"node": {"id": "empty", "name": "Empty"},
                                   "store": {"path": str(tmp_path / "empty.sqlite")},
                                   "index": {"backend": "embedded"}}))
    with NodeServer(cfg) as srv:
        index = xml(srv, "/sitemap.xml")
        assert index.tag == f"{SM}sitemapindex" and len(index) == 0
        assert requests.get(srv.url + "/sitemaps/0.xml", timeout=30).status_code == 404
        # no node.url: the address the request came to
        assert f"Sitemap: {srv.url}/sitemap.xml" in requests.get(srv.url + "/robots.txt", timeout=30).text
        with sqlite3.connect(tmp_path / "empty.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
