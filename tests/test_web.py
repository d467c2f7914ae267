"""The web search page and record pages on a real node: server-side HTML read with requests and lxml, then a
real headless browser (Debian's chromium, driven through chromedriver's W3C WebDriver HTTP API with
`requests`) typing a search, clicking facets, switching to Arabic, opening records, and checking that a
record whose text is made of HTML and script never runs anything.

The node (ke) is built from the bundled samples (`pops-chm harvest`), plus records written to its store
directly: one whose every text field is hostile markup, and one deleted. Its peers are a second real node
(tz) and a port nothing listens on, for the "all nodes" scope."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
import requests
import yaml
from click.testing import CliRunner

from cli import main
from harvester import config, vocab
from harvester.node import web
from harvester.store import Item, Store

from .conftest import IN_CI, ROOT
from .nodeserver import NodeServer, free_port, write_records

EVIL_ID = "ke:evil:x1\"'<i>&"
EVIL_TITLE = 'Evil <script>alert(1)</script> "><img src=x onerror=alert(1)> PCB register'
EVIL_DESC = 'Notes <script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> on PCB </mark><b>bold</b>'
EVIL = {
    "id": EVIL_ID, "origin": {"node": "ke", "source": "evil", "identifier": "x1\"'<i>&", "format": "pops"},
    "path": ["ke"], "datestamp": "2024-05-06T07:08:09Z", "harvested": "2024-05-07T00:00:00Z",
    "title": {"en": EVIL_TITLE, "fr": "<script>window.__pwned=3</script>Registre"},
    "description": {"en": EVIL_DESC},
    "keywords": {"en": ["</mark><script>window.__pwned=4</script>", "PCB"]},
    "type": "national_report", "chemicals": ["pcb"], "countries": ["KE"], "regions": ["africa"],
    "languages": ["en"], "year": 2024,
    "links": [{"url": "javascript:alert(5)", "rel": "landing"},
              {"url": 'https://example.org/a"><script>window.__pwned=6</script>', "rel": "file",
               "title": "<b>file</b>"}],
    "creators": ["<script>window.__pwned=7</script>"],
    "quality": {"completeness": 0.5, "missing": ["rights", "<script>window.__pwned=8</script>"]},
}
GONE = {"id": "ke:evil:gone", "origin": {"node": "ke", "source": "evil", "identifier": "gone"}, "path": ["ke"],
        "datestamp": "2024-01-01T00:00:00Z", "title": {"en": "A record deleted at its source"},
        "type": "national_report"}
_COMPOUND = re.compile(r'#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)|\[(?P<attr>[\w-]+)(?:="(?P<val>[^"]*)")?\]')


def css(el, selector: str) -> list:
    """Elements under (or at) ``el`` matching a simple CSS selector: tag, #id, .class, [attr], [attr="v"],
    joined by the descendant combinator (a space)."""
    steps = []
    for compound in selector.split():
        m = re.match(r"[\w-]+|\*", compound)
        tag, rest = (m.group(), compound[m.end():]) if m else ("*", compound)
        conds = []
        for part in _COMPOUND.finditer(rest):
            if part["id"]:
                conds.append(f"@id='{part['id']}'")
            elif part["cls"]:
                conds.append(f"contains(concat(' ', normalize-space(@class), ' '), ' {part['cls']} ')")
            elif part["val"] is not None:
                conds.append(f"@{part['attr']}='{part['val']}'")
            else:
                conds.append(f"@{part['attr']}")
        steps.append(tag + "".join(f"[{c}]" for c in conds))
    return el.xpath("descendant-or-self::" + "//".join(steps))


TZ_RECORDS = [
    {"id": f"tz:portal:{n}", "origin": {"node": "tz", "source": "portal", "identifier": str(n)}, "path": ["tz"],
     "datestamp": "2024-01-02T03:04:05Z", "title": {"en": title}, "type": "national_report", "year": 2020 + n,
     "countries": ["TZ"], "chemicals": ["pcb"], "languages": ["en"]}
    for n, title in ((1, "Tanzania PCB survey of transformers"), (2, "Tanzania PCB phase-out regulations"))]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("web")
    tz_cfg = d / "tz.yaml"
    tz_cfg.write_text(yaml.safe_dump({"node": {"id": "tz", "name": "Tanzania node", "url": "http://127.0.0.1"},
                                      "store": {"path": str(d / "tz.sqlite")}, "index": {"backend": "embedded"}}))
    write_records(tz_cfg, TZ_RECORDS)
    with NodeServer(tz_cfg) as tz:
        shutil.copytree(ROOT / "samples", d / "samples")
        text = (ROOT / "node_config.yaml").read_text().replace("${POPS_CHM_ADMIN_TOKEN}", "t0ken-for-tests")
        data = yaml.safe_load(text)
        data["peers"] = [{"id": "tz", "url": tz.url, "timeout": 5},
                         {"id": "down", "url": f"http://127.0.0.1:{free_port()}", "timeout": 1}]
        (d / "node_config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
        result = CliRunner().invoke(main, ["--config", str(d / "node_config.yaml"), "harvest"])
        assert result.exit_code == 0, result.output
        write_records(d / "node_config.yaml", [EVIL, GONE], delete=[("evil", "gone")])
        with NodeServer(d / "node_config.yaml") as srv:
            srv.tz = tz
            yield srv


def page(site, path="/", **params) -> tuple[requests.Response, lxml.html.HtmlElement]:
    r = requests.get(site.url + path, params=params, timeout=30)
    return r, lxml.html.fromstring(r.content)


def api(site, **params) -> dict:
    return requests.get(f"{site.url}/api/search", params=params, timeout=30).json()


def hit_ids(doc) -> list[str]:
    return [li.get("data-id") for li in css(doc, "li.hit")]


def total_of(doc) -> int:
    return int(css(doc, "#count")[0].get("data-total"))


def facet_link(doc, field: str, value: str):
    return css(doc, f'section[data-facet="{field}"] a[data-value="{value}"]')[0]


# ----------------------------------------------------------------------------------------------- server side


def test_search_page_renders_results_and_facet_counts(site):
    r, doc = page(site, q="PCB", lang="en")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    body = api(site, q="PCB", facets="true", limit=10, lang="en")
    assert total_of(doc) == body["total"] > 10
    assert hit_ids(doc) == [h["id"] for h in body["results"]]
    assert css(doc, "#q")[0].get("value") == "PCB"
    for field in web.WEB_FACETS:
        section = css(doc, f'section[data-facet="{field}"]')
        assert section, field
        shown = {a.get("data-value"): int(css(a.getparent(), ".count")[0].text)
                 for a in css(section[0], "a[data-value]")}
        assert shown == body["facets"][field], field
    pcb = facet_link(doc, "chemicals", "pcb")
    assert pcb.text_content().strip() == vocab.label("chemicals", "pcb", "en")
    assert facet_link(doc, "type", "assistance_source").text_content().strip() == "Assistance source"
    # why it matched: the chemical the query named, and highlights with nothing but <mark> in them
    first = css(doc, "li.hit")[0]
    assert "Polychlorinated biphenyls" in css(first, ".why-chem")[0].text_content()
    assert css(first, "h3 mark") and all(not m.getchildren() for m in css(doc, "mark"))
    assert css(doc, ".qchem bdi")[0].text == vocab.label("chemicals", "pcb", "en")


def test_facet_links_add_and_remove_filters(site):
    _, doc = page(site, q="PCB", lang="en")
    everything = total_of(doc)
    link = facet_link(doc, "type", "assistance_source")
    count = int(css(link.getparent(), ".count")[0].text)
    assert parse_qs(urlsplit(link.get("href")).query) == {"q": ["PCB"], "filter": ["type:assistance_source"],
                                                          "lang": ["en"]}
    r, filtered = page(site, link.get("href"))
    assert r.status_code == 200 and total_of(filtered) == count < everything
    assert set(hit_ids(filtered)) == {h["id"] for h in api(site, q="PCB", filter="type:assistance_source",
                                                           limit=100)["results"]}
    chosen = facet_link(filtered, "type", "assistance_source")
    assert chosen.get("aria-current") == "true"
    # a second field narrows further (fields AND), a second value of a field widens (values OR)
    narrower = facet_link(filtered, "countries", "KE").get("href")
    _, both = page(site, narrower)
    assert total_of(both) == api(site, q="PCB", filter=["type:assistance_source", "countries:KE"])["total"]
    # the filtered field still offers its other values, counted as if chosen instead
    wider = facet_link(both, "type", "assistance_request")
    expected = api(site, q="PCB", filter=["type:assistance_request", "countries:KE"])["total"]
    assert int(css(wider.getparent(), ".count")[0].text) == expected > 0
    _, w = page(site, wider.get("href"))
    assert total_of(w) == total_of(both) + expected == api(
        site, q="PCB", filter=["type:assistance_source", "type:assistance_request", "countries:KE"])["total"]
    # the selected value's link removes it again; "clear" removes every filter but keeps the words
    _, back = page(site, chosen.get("href"))
    assert total_of(back) == everything
    _, cleared = page(site, css(both, "a.clear")[0].get("href"))
    assert total_of(cleared) == everything and css(cleared, "#q")[0].get("value") == "PCB"


def test_paging_with_offsets_visits_every_record_once(site):
    total = api(site)["total"]
    seen, url, pages = [], "/?lang=en", 0
    while url:
        _, doc = page(site, url)
        ids = hit_ids(doc)
        assert len(ids) == min(10, total - len(seen))
        if pages:
            prev = css(doc, "a.prev")[0].get("href")
            _, before = page(site, prev)
            assert hit_ids(before) == seen[-10:]
        seen += ids
        nxt = css(doc, "a.next")
        url = nxt[0].get("href") if nxt else None
        pages += 1
    assert len(seen) == len(set(seen)) == total and pages == -(-total // 10)


def test_deep_pages_follow_the_cursor(site, monkeypatch):
    monkeypatch.setattr(web, "DEEP_OFFSET", 10)
    _, p2 = page(site, "/", offset=10, lang="en")
    nxt = css(p2, "a.next")[0].get("href")
    params = parse_qs(urlsplit(nxt).query)
    assert "cursor" in params and params["start"] == ["20"] and "offset" not in params
    _, p3 = page(site, nxt)
    expected = [h["id"] for h in api(site, offset=20, limit=10)["results"]]
    assert hit_ids(p3) == expected and css(p3, "ol.hits")[0].get("start") == "21"
    assert "21–30" in css(p3, "#count")[0].text_content()
    # back from a cursor page goes by offset
    _, back = page(site, css(p3, "a.prev")[0].get("href"))
    assert hit_ids(back) == hit_ids(p2)
    r, _ = page(site, "/", cursor="not-a-cursor", lang="en")
    assert r.status_code == 400 and "invalid cursor" in r.text


def test_sort_links(site):
    _, doc = page(site, q="PCB", lang="en")
    title_sort = css(doc, 'a[data-sort="title"]')[0].get("href")
    _, sorted_doc = page(site, title_sort)
    assert hit_ids(sorted_doc) == [h["id"] for h in api(site, q="PCB", sort="title")["results"]]
    assert css(sorted_doc, 'a[data-sort="title"]')[0].get("aria-current") == "true"


def test_record_page_shows_provenance_and_completeness(site):
    rid = "ke:ke-moe:oai:environment.go.ke.example:chm/national-report-5"
    rec = requests.get(f"{site.url}/api/records/{rid}").json()
    r, doc = page(site, f"/record/{rid}", lang="en")
    assert r.status_code == 200
    assert css(doc, "h1")[0].text_content() == rec["title"]["en"]
    prov = css(doc, "#provenance")[0]
    assert css(prov, ".rid")[0].text == rid
    assert css(prov, ".origin-node")[0].text == "ke"
    assert css(prov, ".origin-source")[0].text == "ke-moe"
    assert css(prov, ".origin-identifier")[0].text == rec["origin"]["identifier"]
    assert css(prov, ".path")[0].text == "ke"
    assert css(prov, ".harvested")[0].text == rec["harvested"]
    assert css(doc, "#completeness .score")[0].text == f"{round(rec['quality']['completeness'] * 100)}%"
    assert "title in other languages" in css(doc, "#completeness .missing")[0].text_content()
    chems = [a.text_content() for a in css(doc, "dd.chemicals a")]
    assert chems == [vocab.label("chemicals", c, "en") for c in rec["chemicals"]]
    links = css(doc, "#links a")
    assert [a.get("href") for a in links] == [link["url"] for link in rec["links"]]
    assert all(a.get("rel") == "noopener nofollow" for a in links)
    ld = json.loads(css(doc, 'script[type="application/ld+json"]')[0].text)
    assert ld["name"] == rec["title"]["en"] and ld["identifier"] == rid
    # in French: interface strings and vocabulary labels change, the record's text does not
    _, fr = page(site, f"/record/{rid}", lang="fr")
    assert css(fr, "#provenance h2")[0].text == "Provenance"
    assert css(fr, "dd.type a")[0].text == vocab.label("document_types", "national_report", "fr")
    assert [a.text_content() for a in css(fr, "dd.chemicals a")][0] == vocab.label("chemicals", "pcb", "fr")


def test_assistance_record_shows_its_fields(site):
    rid = "ke:ke-moe:oai:environment.go.ke.example:chm/assistance-ea-small-grants-2026"
    rec = requests.get(f"{site.url}/api/records/{rid}").json()
    a = rec["assistance"]
    _, doc = page(site, f"/record/{rid}", lang="es")
    box = css(doc, "#assistance")[0]
    assert css(box, ".kind")[0].text == "financiera"
    assert css(box, ".provider")[0].text_content() == a["provider"]
    assert css(box, ".status")[0].text == "abierto"
    assert css(box, ".deadline")[0].text_content() == a["deadline"]
    assert [li.text_content() for li in css(box, ".activities li")] == a["activities"]
    eligible = [x.text_content() for x in css(box, "dd a")]
    assert vocab.label("countries", "KE", "es") in eligible and vocab.label("regions", "africa", "es") in eligible
    assert a["conditions"]["en"] in box.text_content() and a["how_to_apply"]["fr"] in box.text_content()


def test_unknown_record_is_404_and_deleted_record_is_410(site):
    r, doc = page(site, "/record/ke:nothing:here", lang="fr")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert css(doc, "h1")[0].text == "Fiche introuvable" and "ke:nothing:here" in r.text
    r, doc = page(site, "/record/ke:evil:gone", lang="en")
    assert r.status_code == 410 and css(doc, "h1")[0].text == "Record deleted"
    assert "ke:evil:gone" not in hit_ids(page(site, q="deleted at its source")[1])


def test_language_from_parameter_header_or_english(site):
    def lang_of(**kw):
        r = requests.get(site.url + "/", timeout=30, **kw)
        return lxml.html.fromstring(r.content).get("lang")
    assert lang_of(headers={"Accept-Language": "de-CH, fr;q=0.8, ar;q=0.9"}) == "ar"
    assert lang_of(headers={"Accept-Language": "zh-Hans-CN,zh;q=0.9"}) == "zh"
    assert lang_of(headers={"Accept-Language": "de, ru;q=0.1"}) == "ru"
    assert lang_of(headers={"Accept-Language": "de, *;q=0.5"}) == "en"
    assert lang_of(params={"lang": "es"}, headers={"Accept-Language": "ru"}) == "es"
    assert lang_of(params={"lang": "xx"}) == "en"
    # the language stays in every link of the page
    _, doc = page(site, q="PCB", lang="ru")
    links = [a.get("href") for a in css(doc, "main a") if a.get("href", "").startswith("/")]
    assert links and all(parse_qs(urlsplit(h).query).get("lang") == ["ru"] for h in links)
    switch = {a.get("hreflang"): a.get("href") for a in css(doc, "nav.langs a")}
    assert set(switch) == set(vocab.UN_LANGUAGES)
    assert parse_qs(urlsplit(switch["zh"]).query) == {"q": ["PCB"], "lang": ["zh"]}


def test_arabic_pages_are_right_to_left(site):
    strings = json.loads((ROOT / "harvester" / "node" / "i18n.json").read_text(encoding="utf-8"))["ar"]
    _, doc = page(site, q="PCB", lang="ar")
    assert doc.get("lang") == "ar" and doc.get("dir") == "rtl"
    assert css(doc, 'section[data-facet="type"] h2')[0].text == strings["facet_type"]
    assert css(doc, "form.search button")[0].text == strings["search"]
    assert facet_link(doc, "chemicals", "pcb").text_content().strip() == vocab.label("chemicals", "pcb", "ar")
    assert facet_link(doc, "countries", "KE").text_content().strip() == vocab.label("countries", "KE", "ar")
    _, rec = page(site, f"/record/{hit_ids(doc)[0]}", lang="ar")
    assert rec.get("dir") == "rtl" and css(rec, "#provenance h2")[0].text == strings["provenance"]
    for lang in ("zh", "en", "fr", "ru", "es"):
        assert page(site, lang=lang)[1].get("dir") == "ltr"


def test_hostile_record_is_shown_as_text(site):
    r, doc = page(site, q="Evil PCB register", lang="en")
    assert EVIL_ID in hit_ids(doc)
    hit = [li for li in css(doc, "li.hit") if li.get("data-id") == EVIL_ID][0]
    assert css(hit, "h3")[0].text_content() == EVIL_TITLE
    html = r.text
    for raw in ("<script>alert", "<script>window", "<img src=x", "onerror=\"window", "<b>bold", "<i>&"):
        assert raw not in html, raw
    assert not css(doc, "img") and len(css(doc, "script")) == 2   # page data + web.js
    assert all(not m.getchildren() for m in css(doc, "mark"))
    # its record page: every field as text, the javascript: link not a link, JSON-LD escaped
    href = css(hit, "h3 a")[0].get("href")
    r, rec = page(site, href)
    assert r.status_code == 200 and css(rec, "h1")[0].text_content() == EVIL_TITLE
    assert css(rec, ".rid")[0].text == EVIL_ID
    assert css(rec, ".origin-identifier")[0].text == EVIL["origin"]["identifier"]
    assert EVIL_DESC in css(rec, "#descriptions")[0].text_content()
    assert not css(rec, "img") and not css(rec, "#main b")
    assert [a.get("href") for a in css(rec, "#links a")] == [EVIL["links"][1]["url"]]
    assert "javascript:alert(5)" in css(rec, "#links .url")[0].text
    for raw in ("<script>alert", "<script>window", "<img src=x", "<b>file", '"><script'):
        assert raw not in r.text, raw
    ld_text = css(rec, 'script[type="application/ld+json"]')[0].text
    assert "<" not in ld_text and json.loads(ld_text)["name"] == EVIL_TITLE
    # what a user types is echoed as text too
    q = '"><script>alert(9)</script>'
    r, doc = page(site, q=q, lang="en")
    assert r.status_code == 200 and css(doc, "#q")[0].get("value") == q and "<script>alert(9)" not in r.text


def test_highlights_are_checked_before_use():
    ok = "PCB &lt;b&gt; <mark>PCB</mark> &amp; <mark>x</mark>"
    assert web.safe_highlight(ok) == ok
    for bad in ('<mark onclick="x">PCB</mark>', "<b>PCB</b>", "<mark>PCB", "PCB</mark>", "<mark><mark>x</mark></mark>",
                "<script>alert(1)</script>", "a > b", "<img src=x onerror=alert(1)>", None, 3):
        assert web.safe_highlight(bad) is None, bad
    assert web.safe_href("javascript:alert(1)") is None and web.safe_href("data:text/html,x") is None
    assert web.safe_href("//evil.example/x") is None and web.safe_href("https://a.example/\nx") is None
    assert web.safe_href("ftp://a.example/f.pdf") == "ftp://a.example/f.pdf"
    assert str(web.json_for_script({"a": "</script><!--\u2028"})) == '{"a":"\\u003c/script\\u003e\\u003c!--\\u2028"}'


def test_all_nodes_scope_says_which_nodes_answered(site):
    _, doc = page(site, q="PCB", lang="en")
    link = css(doc, 'a[data-scope="federation"]')
    assert link, "the federation module is present: the switch is offered"
    r, fed = page(site, link[0].get("href"))
    assert r.status_code == 200
    nodes = {li.get("data-node"): li.get("data-status") for li in css(fed, ".nodes li")}
    assert nodes == {"ke": "answered", "tz": "answered", "down": "failed"}
    assert css(fed, ".nodes .notice")   # partial results are said to be partial
    assert total_of(fed) > total_of(doc)
    assert css(fed, 'a[data-scope="federation"]')[0].get("aria-current") == "true"
    # a peer's record links to its page on that peer, which serves it
    _, tz_only = page(site, "/", q="Tanzania", scope="federation", lang="en")
    tz_hits = [li for li in css(tz_only, "li.hit") if li.get("data-id", "").startswith("tz:")]
    assert len(tz_hits) == 2 and all("found on: tz" in li.text_content() for li in tz_hits)
    href = css(tz_hits[0], "h3 a")[0].get("href")
    assert href.startswith(site.tz.url + "/record/tz:portal:")
    r = requests.get(href, timeout=30)
    assert r.status_code == 200 and "Tanzania PCB" in r.text
    # paging across nodes goes by offset, never by cursor
    _, all_nodes = page(site, "/", scope="federation", lang="en")
    assert "offset=10" in css(all_nodes, "a.next")[0].get("href")


def test_static_files_are_cached(site):
    _, doc = page(site)
    sheet = css(doc, 'link[rel="stylesheet"]')[0].get("href")
    r = requests.get(site.url + sheet)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert "immutable" in r.headers["cache-control"] and r.headers["etag"]
    assert requests.get(site.url + sheet, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    js = css(doc, "script[src]")[0].get("src")
    assert requests.get(site.url + js).headers["content-type"].startswith("text/javascript")
    assert requests.get(site.url + "/static/../app.py").status_code == 404
    assert len(r.content) < 8000 and len(requests.get(site.url + js).content) < 8000


# ----------------------------------------------------------------------------------------------- browser

CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1200,900"]
W3C_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def browser_binaries() -> tuple[str, str]:
    """Debian's chromium and chromedriver: installed with apt-get when missing (as root); otherwise skip,
    except under CI where the browser test must run."""
    def found():
        return shutil.which("chromium"), shutil.which("chromedriver")
    chromium, driver = found()
    if not (chromium and driver) and shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], env=env,
                       capture_output=True, timeout=1200)
        chromium, driver = found()
    if not (chromium and driver):
        message = "Debian's chromium and chromium-driver are needed for the browser test"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return chromium, driver


class WebDriverError(Exception):
    def __init__(self, status: int, value: dict):
        super().__init__(f"{status}: {value.get('error')}: {value.get('message', '')[:300]}")
        self.error = value.get("error")


class Browser:
    """A headless chromium session over chromedriver's W3C WebDriver HTTP API."""

    def __init__(self, chromium: str, driver: str, profile: Path):
        self.port = free_port()
        self.log = open(profile.parent / "chromedriver.log", "wb")
        self.proc = subprocess.Popen([driver, f"--port={self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{self.base}/status", timeout=2).json()["value"]["ready"]:
                    break
            except (requests.RequestException, ValueError, KeyError):
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        caps = {"browserName": "chrome", "unhandledPromptBehavior": "ignore", "pageLoadStrategy": "normal",
                "goog:chromeOptions": {"binary": chromium, "args": CHROME_FLAGS + [f"--user-data-dir={profile}"]}}
        try:
            self.session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
        except Exception:
            self.close()
            raise

    def _call(self, method: str, path: str, body: dict | None = None):
        r = requests.request(method, self.base + path, json=body if body is not None else
                             ({} if method == "POST" else None), timeout=60)
        value = r.json().get("value")
        if r.status_code != 200:
            raise WebDriverError(r.status_code, value if isinstance(value, dict) else {})
        return value

    def cmd(self, method: str, path: str, body: dict | None = None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def close(self):
        try:
            if getattr(self, "session", None):
                self._call("DELETE", f"/session/{self.session}")
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.log.close()

    # the few verbs the tests use
    def go(self, url: str):
        self.cmd("POST", "/url", {"url": url})

    def url(self) -> str:
        return self.cmd("GET", "/url")

    def js(self, script: str, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> str:
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[W3C_ELEMENT]

    def find_all(self, css: str) -> list[str]:
        return [e[W3C_ELEMENT] for e in self.cmd("POST", "/elements", {"using": "css selector", "value": css})]

    def text(self, element: str) -> str:
        return self.cmd("GET", f"/element/{element}/text")

    def click(self, element: str):
        self.cmd("POST", f"/element/{element}/click")

    def type(self, element: str, keys: str):
        self.cmd("POST", f"/element/{element}/value", {"text": keys})

    def alert_text(self) -> str | None:
        try:
            return self.cmd("GET", "/alert/text")
        except WebDriverError as exc:
            if exc.error == "no such alert":
                return None
            raise

    def wait(self, check, timeout: float = 15.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = check()
            except WebDriverError as exc:
                if exc.error not in ("no such element", "stale element reference"):
                    raise
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what} (at {self.url()})")
            time.sleep(0.1)

    def loaded(self, url_part: str):
        """Wait for a page whose URL holds url_part to be complete."""
        self.wait(lambda: url_part in self.url() and self.js("return document.readyState") == "complete",
                  what=f"a page at {url_part!r}")

    def total(self) -> int:
        return int(self.js("return document.getElementById('count').dataset.total"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, driver = browser_binaries()
    b = Browser(chromium, driver, tmp_path_factory.mktemp("chromium") / "profile")
    try:
        yield b
    finally:
        b.close()


def assert_nothing_ran(browser: Browser):
    assert browser.alert_text() is None, "an alert was opened"
    assert browser.js("return [window.__pwned === undefined, document.images.length]") == [True, 0]


def test_browser_search_facets_language_and_record(site, browser):
    strings = json.loads((ROOT / "harvester" / "node" / "i18n.json").read_text(encoding="utf-8"))
    browser.go(site.url + "/?lang=en")
    browser.loaded("lang=en")
    everything = browser.total()
    # type words: suggestions come as the user types (JSON API), then Enter submits the form
    box = browser.find("#q")
    browser.type(box, "PCB")
    browser.wait(lambda: browser.find_all("#suggest li a") and browser.js(
        "return !document.getElementById('suggest').hidden"), what="suggestions")
    suggested = [browser.text(a) for a in browser.find_all("#suggest li a")]
    assert len(suggested) == 5 and all(suggested)
    browser.type(box, "\ue007")
    browser.loaded("q=PCB")
    total = browser.total()
    assert 0 < total < everything == api(site)["total"] and total == api(site, q="PCB")["total"]
    assert browser.js("return document.getElementById('q').value") == "PCB"
    # a facet value narrows the results; the count changes
    facet = browser.find('section[data-facet="type"] a[data-value="assistance_source"]')
    browser.click(facet)
    browser.loaded("filter=type")
    narrowed = browser.total()
    assert narrowed < total and narrowed == api(site, q="PCB", filter="type:assistance_source")["total"]
    assert len(browser.find_all("li.hit")) == narrowed
    assert browser.find_all('section[data-facet="type"] li.selected a[data-value="assistance_source"]')
    # Arabic: right to left, translated labels, the same search
    browser.click(browser.find('nav.langs a[hreflang="ar"]'))
    browser.loaded("lang=ar")
    assert browser.js("return [document.documentElement.lang, document.documentElement.dir, getComputedStyle("
                      "document.body).direction]") == ["ar", "rtl", "rtl"]
    assert browser.text(browser.find('section[data-facet="type"] h2')) == strings["ar"]["facet_type"]
    assert browser.text(browser.find("form.search button")) == strings["ar"]["search"]
    assert browser.text(browser.find('section[data-facet="chemicals"] a[data-value="pcb"] .label')) == \
        vocab.label("chemicals", "pcb", "ar")
    assert browser.total() == narrowed and browser.js("return document.getElementById('q').value") == "PCB"
    # the record page of the first result, still in Arabic
    first_id = browser.js("return document.querySelector('li.hit').dataset.id")
    browser.click(browser.find("li.hit h3 a"))
    browser.loaded("/record/")
    assert browser.js("return document.querySelector('article.record').dataset.id") == first_id
    assert browser.js("return document.documentElement.dir") == "rtl"
    assert browser.text(browser.find("#provenance .origin-node")) == "ke"
    assert browser.text(browser.find("#provenance h2")) == strings["ar"]["provenance"]
    assert browser.text(browser.find("h1"))
    assert_nothing_ran(browser)


def test_browser_never_runs_a_records_script(site, browser):
    # The pages' Content-Security-Policy would stop inline scripts on its own; it is switched off here so
    # that what is tested is the escaping: with it off, any markup that got through would run.
    browser.cmd("POST", "/goog/cdp/execute", {"cmd": "Page.setBypassCSP", "params": {"enabled": True}})
    # the detector works: an alert opened from the page is seen (and closed)
    browser.go(site.url + "/?lang=en")
    browser.loaded("lang=en")
    browser.js("setTimeout(function () { alert('canary'); }, 0)")
    browser.wait(lambda: browser.alert_text() == "canary", what="the canary alert")
    browser.cmd("POST", "/alert/dismiss")
    assert browser.alert_text() is None
    # the hostile record in the results: its title is visible as text, nothing ran
    box = browser.find("#q")
    browser.type(box, "Evil PCB register")
    browser.wait(lambda: any("<script>" in browser.text(a) for a in browser.find_all("#suggest li a")),
                 what="the hostile title among the suggestions, as text")
    assert_nothing_ran(browser)
    browser.type(box, "\ue007")
    browser.loaded("q=Evil")
    title = browser.wait(lambda: [browser.text(h) for h in browser.find_all("li.hit h3")
                                  if "Evil" in browser.text(h)], what="the hostile record")[0]
    assert title == EVIL_TITLE
    assert_nothing_ran(browser)
    # its record page
    link = [a for a in browser.find_all("li.hit h3 a") if "Evil" in browser.text(a)][0]
    browser.click(link)
    browser.loaded("/record/")
    assert browser.text(browser.find("h1")) == EVIL_TITLE
    assert EVIL_DESC in browser.text(browser.find("#descriptions"))
    assert "<script>window.__pwned=7</script>" in browser.text(browser.find("#details"))
    assert browser.js("return Array.from(document.querySelectorAll('#links a')).map(a => a.href)") == \
        ["https://example.org/a%22%3E%3Cscript%3Ewindow.__pwned=6%3C/script%3E"]
    time.sleep(0.5)     # time for an injected handler (onerror of a broken image) to have fired
    assert_nothing_ran(browser)


def test_search_backend_down_is_a_page_not_a_crash(tmp_path):
    cfg_path = tmp_path / "node.yaml"
    cfg_path.write_text(yaml.safe_dump({
        "node": {"id": "ke", "name": "Kenya node", "url": "http://127.0.0.1"},
        "store": {"path": str(tmp_path / "node.sqlite")},
        "index": {"backend": "solr", "solr": {"url": f"http://127.0.0.1:{free_port()}/solr/pops", "timeout": 2}}}))
    cfg = config.load(cfg_path)
    with Store(cfg.store_path) as store:
        store.apply_batch([Item("portal", "1", TZ_RECORDS[0] | {"id": "ke:portal:1"})])
    with NodeServer(cfg_path) as srv:
        r, doc = page(srv, q="PCB", lang="fr")
        assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
        assert "momentanément indisponible" in css(doc, ".notice.error")[0].text
        r, doc = page(srv, "/record/ke:portal:1", lang="en")     # the store still answers
        assert r.status_code == 200 and css(doc, "h1")[0].text == TZ_RECORDS[0]["title"]["en"]


# ----------------------------------------------------------------------------------------------- API docs

SWAGGER_UI = ROOT / "harvester" / "node" / "static" / "swagger-ui"


def test_api_docs_reference_no_other_host(site):
    """/docs names only this node: Swagger UI's script, style and icon are the node's own copy, the spec is
    /openapi.json, and no validator badge is fetched from swagger.io."""
    r, doc = page(site, "/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    refs = [el.get(attr) for attr in ("src", "href") for el in doc.xpath(f"//*[@{attr}]")]
    assert len(refs) == 3 and all(ref.startswith("/static/swagger-ui/") for ref in refs), refs
    inline = " ".join(s.text or "" for s in doc.xpath("//script[not(@src)]"))
    assert "'/openapi.json'" in inline and '"validatorUrl": null' in inline
    assert not re.search(r"https?:|//[a-z]", inline)
    types = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon-32x32.png": "image/png"}
    for ref in refs:
        asset = requests.get(site.url + ref)
        name = ref.split("?")[0].rsplit("/", 1)[1]
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(types[name])
        assert asset.content == (SWAGGER_UI / name).read_bytes() and "immutable" in asset.headers["cache-control"]
    assert requests.get(site.url + "/redoc").status_code == 404        # ReDoc would load from a CDN
    assert (SWAGGER_UI / "LICENSE").read_text().lstrip().startswith("Apache License")


def test_browser_shows_the_api_docs_from_the_node_alone(site, browser):
    browser.go(site.url + "/docs")
    browser.loaded("/docs")
    browser.wait(lambda: "/api/search" in browser.js(
        "return Array.from(document.querySelectorAll('.opblock-summary-path')).map(e => e.textContent).join(' ')"),
        what="the operations of the API")
    loaded = browser.js("return performance.getEntriesByType('resource').map(e => e.name)")
    assert {u.split("?")[0].rsplit("/", 1)[1] for u in loaded} >= {"swagger-ui-bundle.js", "swagger-ui.css",
                                                                  "openapi.json"}
    assert all(u.startswith(site.url + "/") for u in loaded), loaded
