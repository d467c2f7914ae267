"""The OpenSearch description and the Atom feeds, on a real node serving the harvested sample store over
HTTP, read with the third-party ``feedparser`` (as feed readers read them) and with lxml (the raw XML).

The node (ke) is the bundled samples harvested with ``pops-chm harvest``, plus records written to its store
directly: one whose every text is hostile markup (and characters XML cannot carry), one with titles in
three languages, and one deleted."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import feedparser
import lxml.html
import pytest
import requests
import yaml
from click.testing import CliRunner
from lxml import etree

from cli import main
from harvester import vocab
from harvester.index import encode_cursor, recent_date
from harvester.node import feeds
from harvester.store import Store

from .conftest import copy_sample_node
from .nodeserver import NodeServer, free_port, write_records

ATOM = "{http://www.w3.org/2005/Atom}"
OS_NS = "http://a9.com/-/spec/opensearch/1.1/"
OS = "{%s}" % OS_NS
POPS = "{urn:pops-chm:record:1}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

EVIL_ID = "ke:evil:x1\"'<i>& ?#%é"
EVIL_TITLE = 'Evil <script>alert(1)</script> "><img src=x onerror=alert(1)> ]]> PCB register\x0b\ufffe'
EVIL = {
    "id": EVIL_ID, "origin": {"node": "ke", "source": "evil", "identifier": "x1\"'<i>& ?#%é", "format": "pops"},
    "path": ["ke"], "datestamp": "2024-05-06T07:08:09Z", "harvested": "2024-05-07T00:00:00Z",
    "title": {"en": EVIL_TITLE, "fr": "<script>window.__pwned=3</script>Registre"},
    "description": {"en": 'Notes <script>window.__pwned=1</script><img src=x onerror="alert(2)"> on PCB'},
    "type": "national_report", "chemicals": ["pcb", "<b>chem</b>"], "countries": ["KE"], "languages": ["en"],
    "year": 2024, "rights": "<a href=javascript:alert(9)>rights</a>",
    "links": [{"url": "javascript:alert(5)", "rel": "file", "format": "application/pdf"},
              {"url": 'https://example.org/a"><script>alert(6)</script>', "rel": "file",
               "format": 'text/html"><script>', "title": "<b>file</b>"}],
    "creators": ["<script>alert(7)</script>"],
}
MULTI = {
    "id": "ke:multi:1", "origin": {"node": "tz", "source": "multi", "identifier": "1", "format": "pops"},
    "path": ["tz", "ke"], "datestamp": "2024-02-02T00:00:00Z", "harvested": "2024-02-03T00:00:00Z",
    "title": {"en": "Dioxin inventory of Mombasa", "fr": "Inventaire des dioxines de Mombasa",
              "zh": "蒙巴萨二恶英清单"},
    "description": {"en": "Releases of dioxins in Mombasa.", "fr": "Rejets de dioxines à Mombasa."},
    "type": "release_inventory", "chemicals": ["pcdd"], "countries": ["KE"], "languages": ["en", "fr", "zh"],
    "dates": {"issued": "2023-04-05"}, "year": 2023,
    "links": [{"url": "https://example.org/mombasa.pdf", "rel": "file", "format": "application/pdf",
               "language": "fr", "title": "Rapport"},
              {"url": "https://example.org/mombasa", "rel": "landing"}],
    "publisher": "NEMA",
}
GONE = {"id": "ke:evil:gone", "origin": {"node": "ke", "source": "evil", "identifier": "gone"}, "path": ["ke"],
        "datestamp": "2024-01-01T00:00:00Z", "title": {"en": "A PCB record deleted at its source"},
        "type": "national_report", "chemicals": ["pcb"]}


# ----------------------------------------------------------------------------------------------- helpers


def sample_node_config(d: Path, port: int) -> Path:
    """The bundled node, harvested, its public URL on the given port, with the extra records written."""
    cfg = copy_sample_node(d, "t0ken-for-tests")
    data = yaml.safe_load(cfg.read_text())
    data["node"]["url"] = f"http://127.0.0.1:{port}"
    data.pop("peers", None)
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = CliRunner().invoke(main, ["--config", str(cfg), "harvest"])
    assert result.exit_code == 0, result.output
    write_records(cfg, [EVIL, MULTI, GONE], delete=[("evil", "gone")])
    return cfg


def live_records(srv) -> dict[str, dict]:
    with Store(srv.cfg.store_path) as store:
        rows = store.db.execute("SELECT id, record FROM records WHERE deleted = 0").fetchall()
    return {r["id"]: json.loads(r["record"]) for r in rows}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    port = free_port()
    cfg = sample_node_config(tmp_path_factory.mktemp("feeds"), port)
    with NodeServer(cfg, port=port) as srv:
        yield srv


def get(srv, path: str, **params) -> requests.Response:
    return requests.get(srv.url + path, params=params, timeout=30)


def feed(srv, **params):
    r = get(srv, "/feed.atom", **params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed, etree.fromstring(r.content), r


def record_id_of(entry_id: str) -> str:
    assert entry_id.startswith(feeds.ENTRY_ID_PREFIX)
    return unquote(entry_id[len(feeds.ENTRY_ID_PREFIX):])


def link(links, rel: str, type_: str | None = None) -> str | None:
    for lk in links:
        if lk.get("rel") == rel and (type_ is None or lk.get("type") == type_):
            return lk["href"]
    return None


def follow(srv, **params) -> tuple[list[str], list]:
    """Every entry's record id, following the next links from the first page; and every page parsed."""
    ids, pages = [], []
    parsed, _, _ = feed(srv, **params)
    while True:
        pages.append(parsed)
        ids += [record_id_of(e.id) for e in parsed.entries]
        nxt = link(parsed.feed.links, "next")
        if not nxt:
            return ids, pages
        assert nxt.startswith(srv.url + "/feed.atom?")
        assert len(pages) < 100, "the next links never end"
        r = requests.get(nxt, timeout=30)
        assert r.status_code == 200, r.text
        parsed = feedparser.parse(r.content)
        assert not parsed.bozo


# ----------------------------------------------------------------------------------------------- OpenSearch


def test_opensearch_description(node):
    r = get(node, "/opensearch.xml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/opensearchdescription+xml")
    root = etree.fromstring(r.content)
    assert root.tag == f"{OS}OpenSearchDescription"
    short = root.findtext(f"{OS}ShortName")
    assert short == "Kenya POPs" and 0 < len(short) <= 16
    assert 0 < len(root.findtext(f"{OS}Description")) <= 1024
    assert len(root.findtext(f"{OS}LongName")) <= 48
    assert [e.text for e in root.findall(f"{OS}Language")] == list(vocab.UN_LANGUAGES)
    assert root.findtext(f"{OS}InputEncoding") == "UTF-8"
    example = root.find(f"{OS}Query[@role='example']")
    assert example is not None and example.get("searchTerms")
    urls = {u.get("type"): u for u in root.findall(f"{OS}Url")}
    assert {"text/html", "application/atom+xml", "application/json"} <= set(urls)
    for kind in ("text/html", "application/atom+xml"):
        template = urls[kind].get("template")
        assert template.startswith(node.url + "/")
        for param in ("{searchTerms}", "{startIndex?}", "{count?}", "{language?}"):
            assert param in template
        assert urls[kind].get("indexOffset") == "0"
    assert urls["application/json"].get("template").startswith(node.url + "/api/search?q={searchTerms}")
    assert root.find(f"{OS}Url[@rel='self']").get("template") == node.url + "/opensearch.xml"


def fill(template: str, **values) -> str:
    """An OpenSearch template filled in as a client does: optional parameters it has no value for empty."""
    for name in ("searchTerms", "startIndex", "count", "language"):
        value = values.get(name, "")
        template = template.replace("{%s}" % name, value).replace("{%s?}" % name, value)
    return template


def test_every_template_answers_a_filled_in_search(node):
    root = etree.fromstring(get(node, "/opensearch.xml").content)
    urls = {u.get("type"): u.get("template") for u in root.findall(f"{OS}Url")}
    api_total = get(node, "/api/search", q="PCB").json()["total"]
    # optional parameters left empty, as OpenSearch clients send them
    page = requests.get(fill(urls["text/html"], searchTerms="PCB"), timeout=30)
    assert page.status_code == 200
    assert lxml.html.fromstring(page.content).xpath("//h2[@id='count']/@data-total") == [str(api_total)]
    atom = feedparser.parse(requests.get(fill(urls["application/atom+xml"], searchTerms="PCB"), timeout=30).content)
    assert int(atom.feed.opensearch_totalresults) == api_total
    # and filled: the second page of three, in French
    atom = feedparser.parse(requests.get(fill(urls["application/atom+xml"], searchTerms="PCB", startIndex="3",
                                              count="3", language="fr"), timeout=30).content)
    assert (atom.feed.opensearch_startindex, atom.feed.opensearch_itemsperpage) == ("3", "3")
    assert len(atom.entries) == 3
    data = requests.get(fill(urls["application/json"], searchTerms="PCB", startIndex="0", count="5"), timeout=30)
    assert data.status_code == 200 and data.json()["total"] == api_total and len(data.json()["results"]) == 5


def test_pages_point_to_the_description_and_the_search_feed(node):
    r = get(node, "/", q="PCB", filter="type:legislation", lang="fr")
    doc = lxml.html.fromstring(r.content)
    search = doc.xpath("//head/link[@rel='search']")
    assert [e.get("type") for e in search] == ["application/opensearchdescription+xml"]
    assert get(node, search[0].get("href")).status_code == 200
    alternate = doc.xpath("//head/link[@rel='alternate'][@type='application/atom+xml']")
    assert len(alternate) == 1
    href = alternate[0].get("href")
    assert parse_qs(urlsplit(href).query) == {"q": ["PCB"], "filter": ["type:legislation"], "lang": ["fr"]}
    visible = doc.xpath("//main//a[@type='application/atom+xml']")
    assert [a.get("href") for a in visible] == [href]
    assert visible[0].text_content().strip() == "Flux Atom de cette recherche"
    parsed = feedparser.parse(requests.get(node.url + href, timeout=30).content)
    assert parsed.feed.title == "PCB — type:legislation"
    assert parsed.feed.opensearch_totalresults == doc.xpath("//h2[@id='count']/@data-total")[0]
    # a record page names the description too
    rec = lxml.html.fromstring(get(node, "/record/ke:multi:1").content)
    assert rec.xpath("//head/link[@rel='search']/@href") == ["/opensearch.xml"]


# ----------------------------------------------------------------------------------------------- feeds


def test_entries_most_recently_stored_first_with_their_links_and_categories(node):
    parsed, root, _ = feed(node, q="PCB")
    total = get(node, "/api/search", q="PCB").json()["total"]
    assert parsed.feed.title == "PCB"
    assert int(parsed.feed.opensearch_totalresults) == total
    assert len(parsed.entries) == min(total, feeds.DEFAULT_LIMIT)
    records = live_records(node)
    keys = [(recent_date(records[record_id_of(e.id)]), record_id_of(e.id)) for e in parsed.entries]
    assert keys == sorted(keys, reverse=True)
    with Store(node.cfg.store_path) as store:
        changed = {r["id"]: r["changed"] for r in store.db.execute("SELECT id, changed FROM records")}
    for e in parsed.entries:
        rid = record_id_of(e.id)
        rec = records[rid]
        assert "pcb" in rec["chemicals"]
        assert e.updated == changed[rid]
        page = link(e.links, "alternate", "text/html")
        assert page.startswith(node.url + "/record/")
        assert ("pcb", feeds.SCHEMES["chemicals"]) in {(t.term, t.scheme) for t in e.tags}
        assert {t.term for t in e.tags if t.scheme == feeds.SCHEMES["countries"]} == set(rec.get("countries", []))
        files = [lk for lk in rec.get("links", []) if lk.get("rel") == "file" and lk["url"].startswith("https:")]
        assert [x.href for x in e.enclosures] == [lk["url"] for lk in files]
    # the record pages the entries link to exist
    for e in parsed.entries[:3]:
        r = requests.get(link(e.links, "alternate", "text/html"), timeout=30)
        assert r.status_code == 200
        assert lxml.html.fromstring(r.content).xpath("//article/@data-id") == [record_id_of(e.id)]
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == node.url + "/feed.atom?q=PCB"
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == node.url + "/?q=PCB"


def test_an_entry_carries_the_whole_record(node):
    parsed, root, _ = feed(node, filter="source:multi")
    assert len(parsed.entries) == 1
    e = parsed.entries[0]
    assert record_id_of(e.id) == "ke:multi:1"
    assert e.title == "Dioxin inventory of Mombasa" and e.title_detail.language == "en"
    assert e.summary == "Releases of dioxins in Mombasa."
    assert e.published.startswith("2023-04-05")
    assert [a.name for a in e.authors] == ["NEMA"]
    assert (e.enclosures[0].href, e.enclosures[0].type) == ("https://example.org/mombasa.pdf", "application/pdf")
    assert link(e.links, "related") == "https://example.org/mombasa"
    assert link(e.links, "alternate", "application/json") == node.url + "/api/records/ke:multi:1"
    assert requests.get(link(e.links, "alternate", "application/json"), timeout=30).json()["id"] == "ke:multi:1"
    assert ("release_inventory", feeds.SCHEMES["document_types"], vocab.label("document_types", "release_inventory")) \
        in {(t.term, t.scheme, t.label) for t in e.tags}
    entry = root.find(f"{ATOM}entry")
    assert {el.get(XML_LANG): el.text for el in entry.findall(f"{POPS}title")} == MULTI["title"]
    assert {el.get(XML_LANG): el.text for el in entry.findall(f"{POPS}description")} == MULTI["description"]
    assert [el.text for el in entry.findall(f"{POPS}languages")] == ["en", "fr", "zh"]
    assert entry.findtext(f"{POPS}origin/{POPS}node") == "tz"
    assert [el.text for el in entry.findall(f"{POPS}path")] == ["tz", "ke"]
    assert entry.findtext("{http://purl.org/dc/elements/1.1/}source") == "1"


@pytest.mark.parametrize("lang, title, title_lang, summary_lang", [
    ("fr", "Inventaire des dioxines de Mombasa", "fr", "fr"),
    ("zh-Hans", "蒙巴萨二恶英清单", "zh", "en"),          # no Chinese description: the English one
    ("ru", "Dioxin inventory of Mombasa", "en", "en"),    # no Russian title: English
])
def test_titles_and_labels_in_the_language_asked_for(node, lang, title, title_lang, summary_lang):
    parsed, root, _ = feed(node, filter="source:multi", lang=lang)
    e = parsed.entries[0]
    assert e.title == title
    assert e.title_detail.language == title_lang
    assert e.summary_detail.language == summary_lang
    primary = lang.split("-")[0]
    label = vocab.label("document_types", "release_inventory", primary)
    assert label in {t.label for t in e.tags}
    assert link(e.links, "alternate", "text/html").endswith(f"/record/ke:multi:1?lang={primary}")
    # every language is still there
    assert len(root.findall(f"{ATOM}entry/{POPS}title")) == 3


def test_paging_follows_next_links_to_every_record_once(node):
    records = live_records(node)
    ids, pages = follow(node, limit=7)
    assert len(ids) == len(set(ids)) == len(records)
    assert set(ids) == set(records)
    assert "ke:evil:gone" not in ids
    total = int(pages[0].feed.opensearch_totalresults)
    assert total == len(records)
    last_offset = (total - 1) // 7 * 7
    for n, page in enumerate(pages):
        links = page.feed.links
        assert int(page.feed.opensearch_startindex) == 7 * n
        assert link(links, "first") == f"{node.url}/feed.atom?limit=7"
        assert link(links, "last") == f"{node.url}/feed.atom?limit=7&offset={last_offset}"
        assert (link(links, "previous") is None) == (n == 0)
        assert (link(links, "next") is None) == (n == len(pages) - 1)
        assert page.feed.id == pages[0].feed.id
    # previous of the third page is the second page, by offset
    prev = requests.get(link(pages[2].feed.links, "previous"), timeout=30)
    assert [record_id_of(e.id) for e in feedparser.parse(prev.content).entries] == ids[7:14]
    # the last link is the last page
    last = feedparser.parse(requests.get(link(pages[0].feed.links, "last"), timeout=30).content)
    assert [record_id_of(e.id) for e in last.entries] == ids[last_offset:]


def test_a_filtered_feed_holds_only_its_records(node):
    records = live_records(node)
    pcb = {rid for rid, rec in records.items() if "pcb" in rec.get("chemicals", [])}
    ids, pages = follow(node, filter="chemicals:pcb", limit=10)
    assert set(ids) == pcb and len(ids) == len(pcb)
    assert pages[0].feed.title == "All records — chemicals:pcb"
    for page in pages:
        for e in page.entries:
            assert "pcb" in {t.term for t in e.tags if t.scheme == feeds.SCHEMES["chemicals"]}
    # two fields: AND; words and a filter: the title names both
    parsed, _, _ = feed(node, q="PCB", filter=["type:legislation", "countries:KE"])
    assert parsed.feed.title == "PCB — type:legislation, countries:KE"
    assert parsed.entries and all(records[record_id_of(e.id)]["type"] == "legislation" for e in parsed.entries)


def test_feed_ids_are_stable_per_query(node):
    one, _, _ = feed(node, q="PCB", filter=["type:legislation", "countries:KE"])
    again, _, _ = feed(node, q="PCB", filter=["countries:KE", "type:legislation"])
    other, _, _ = feed(node, q="PCB", filter="type:legislation")
    paged, _, _ = feed(node, q="PCB", filter=["type:legislation", "countries:KE"], offset=1, limit=1)
    assert one.feed.id == again.feed.id == paged.feed.id
    assert one.feed.id != other.feed.id
    assert one.feed.id.startswith("urn:pops-chm:feed:ke:")
    assert [e.id for e in one.entries] == [e.id for e in again.entries]
    assert [e.id for e in one.entries] == [feeds.ENTRY_ID_PREFIX + rid for rid in
                                           (record_id_of(e.id) for e in one.entries)]


def test_hostile_record_text_arrives_as_text(node):
    parsed, root, r = feed(node, filter="source:evil")
    assert len(parsed.entries) == 1
    e = parsed.entries[0]
    assert record_id_of(e.id) == EVIL_ID
    assert e.title == EVIL_TITLE.replace("\x0b", "").replace("\ufffe", "")
    assert e.title_detail.type == "text/plain"
    # the raw XML: the markup is text, never elements or attributes
    everything = list(root.iter())
    assert not [el for el in everything if isinstance(el.tag, str) and etree.QName(el).localname in
                ("script", "img", "a", "b", "i")]
    assert not [name for el in everything for name in el.attrib if name.lower().startswith("on")]
    assert not [el for el in everything if el.get("type") in ("html", "xhtml")]
    hrefs = [el.get("href") for el in root.iter(f"{ATOM}link")]
    assert not [h for h in hrefs if h.lower().startswith("javascript:") or '"' in h or "<" in h]
    assert "https://example.org/a%22%3E%3Cscript%3Ealert(6)%3C/script%3E" in hrefs
    # a format that is no media type is not given as the type
    assert all(el.get("type") in (None, "text/html", "application/json", "application/pdf", "application/atom+xml",
                                  "application/opensearchdescription+xml") for el in root.iter(f"{ATOM}link"))
    assert b"<script" not in r.content and b"\x0b" not in r.content
    assert root.find(f"{ATOM}entry/{ATOM}rights").text == EVIL["rights"]
    # the record's page, from the entry's link, is the record
    page = requests.get(link(e.links, "alternate", "text/html"), timeout=30)
    assert page.status_code == 200
    assert lxml.html.fromstring(page.content).xpath("//article/@data-id") == [EVIL_ID]


@pytest.mark.parametrize("params, needle", [
    ({"limit": "101"}, "limit"), ({"limit": "-1"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": "-5"}, "offset"), ({"offset": "1000001"}, "offset"), ({"offset": "1e3"}, "offset"), ({"limit": "007"}, "limit"), ({"filter": " type:x"}, "FIELD"),
    ({"filter": "type:\x1c "}, "FIELD"),
    ({"filter": "nocolon"}, "FIELD:VALUE"), ({"filter": "secret:x"}, "FIELD one of type, chemicals"),
    ({"filter": ["type:" + "x" * 300]}, "filter"), ({"filter": [f"type:t{i}" for i in range(51)]}, "filters"),
    ({"cursor": "not-a-cursor"}, "cursor"), ({"cursor": "x" * 2001}, "cursor"),
    ({"cursor": encode_cursor("recent", ["2024-01-01T00:00:00Z", "x"]), "offset": "10"}, "offset or a cursor"),
    ({"cursor": encode_cursor("newest", ["2024-01-01T00:00:00Z", "x"])}, "cursor belongs to sort 'newest'"),
    ({"lang": "<script>"}, "lang"), ({"lang": "en\x00"}, "lang"), ({"q": "x" * 1001}, "q"),
    ({"lang": ["en", "fr"]}, "lang: give it once"), ({"limit": ["5", "6"]}, "limit: give it once"),
])
def test_bad_parameters_are_400_with_a_clear_message(node, params, needle):
    r = get(node, "/feed.atom", **params)
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]


@pytest.mark.parametrize("q", [
    "<script>alert(1)</script>", "]]>&amp;<![CDATA[", "\x00\x0b\x1f PCB", "*:*", "{!xmlparser v='<!DOCTYPE a "
    "SYSTEM \"http://127.0.0.1:1/x\"><a/>'}", "PCB) OR (1=1", "\ud800".encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"), "多氯联苯 \u202e", "x" * 1000,
])
def test_hostile_query_strings_make_well_formed_feeds(node, q):
    parsed, root, r = feed(node, q=q)
    title = root.findtext(f"{ATOM}title")
    assert "\x00" not in title and "\x0b" not in title
    assert root.find(f"{OS}Query").get("role") == "request"
    assert b"<script" not in r.content
    if q == "*:*":
        assert parsed.feed.opensearch_totalresults == "0"       # symbols are no query: nothing, not all
    if q.startswith("\x00"):
        assert int(parsed.feed.opensearch_totalresults) > 0     # the control characters are dropped


def test_conditional_requests_and_a_changed_feed(node):
    _, _, r = feed(node, q="Mombasa")
    etag = r.headers["etag"]
    assert r.headers["last-modified"].endswith("GMT")
    again = get(node, "/feed.atom", q="Mombasa")
    assert again.headers["etag"] == etag and again.content == r.content
    r304 = requests.get(node.url + "/feed.atom", params={"q": "Mombasa"}, headers={"If-None-Match": etag},
                        timeout=30)
    assert r304.status_code == 304 and r304.content == b""
    other = requests.get(node.url + "/feed.atom", params={"q": "Mombasa"},
                         headers={"If-None-Match": '"something-else"'}, timeout=30)
    assert other.status_code == 200
    # a new record for the search: a new feed, a new ETag, the record first
    fresh = dict(MULTI, id="ke:multi:2", origin=dict(MULTI["origin"], identifier="2"),
                 title={"en": "Mombasa PCB transformers"}, harvested="2099-01-01T00:00:00Z")
    write_records(node.cfg.path, [fresh])
    changed = requests.get(node.url + "/feed.atom", params={"q": "Mombasa"}, headers={"If-None-Match": etag},
                           timeout=30)
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert record_id_of(feedparser.parse(changed.content).entries[0].id) == "ke:multi:2"


def test_search_unavailable_is_503_and_an_empty_node_serves_its_own_address(tmp_path):
    cfg = tmp_path / "node.yaml"
    cfg.write_text(yaml.safe_dump({"node": {"id": "empty", "name": "An empty node with a rather long name"},
                                   "store": {"path": str(tmp_path / "empty.sqlite")},
                                   "index": {"backend": "solr", "solr": {"url": f"http://127.0.0.1:{free_port()}/solr/x"}}}))
    with NodeServer(cfg) as srv:
        r = get(srv, "/feed.atom", q="PCB")
        assert r.status_code == 503 and "unavailable" in r.json()["error"]
        desc = etree.fromstring(get(srv, "/opensearch.xml").content)
        assert desc.findtext(f"{OS}ShortName") == "An empty node"
        # no node.url in the config: the address the request came to
        assert desc.find(f"{OS}Url[@type='application/atom+xml']").get("template").startswith(srv.url + "/feed.atom?")
