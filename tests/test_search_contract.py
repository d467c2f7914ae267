"""The search backend contract: every backend (embedded SQLite FTS5, Solr) passes these same tests.

The fixture ``backend`` (tests/search_backends.py) yields a fresh, empty backend per test and per backend.
CORPUS is a hand-built set of records whose facet counts are worked out by hand below.
"""
from __future__ import annotations

import html
import json
import os
import re
import time
import unicodedata

import pytest

from harvester.index import (FACET_FIELDS, MAX_LIMIT, MAX_MATCH_IDS, Equals, facet_values, Hit, Query, Results, catch_up, decode_cursor, encode_cursor,
                             index_status, plan_query, query_chemicals, rebuild, title_sort, to_document)
from harvester import config
from harvester.index import open_backend
from harvester.index.embedded import META_SCHEMA, EmbeddedBackend, prepare
from harvester.record import validate
from harvester.store import Item, Store
from tests.search_backends import backend, load  # noqa: F401  (backend: the fixture)


def rec(rid: str, title: dict, *, type="national_report", year=None, datestamp="2024-01-15T10:00:00Z", **fields) -> dict:
    node, source, ident = rid.split(":", 2)
    r = {"id": rid, "origin": {"node": node, "source": source, "identifier": ident}, "path": [node],
         "datestamp": datestamp, "title": title, "type": type}
    if year is not None:
        r["year"] = year
    r.update(fields)
    return r


A = rec("ke:moe:pcb-inventory", {"en": "PCB inventory of Kenya"}, year=2019,
        description={"en": "National inventory of transformers containing polychlorinated biphenyls."},
        keywords={"en": ["transformers", "inventory"]}, chemicals=["pcb"], countries=["KE"], regions=["africa"],
        languages=["en"], links=[{"url": "https://example.go.ke/pcb.pdf", "rel": "file"}])
B = rec("sn:env:plan-elimination", {"fr": "Plan d'élimination des transformateurs contaminés"}, type="action_plan",
        year=2020, description={"fr": "Élimination écologiquement rationnelle des équipements au Sénégal."},
        chemicals=["pcb"], countries=["SN"], regions=["africa"], languages=["fr"])
C = rec("gh:epa:oil", {"en": "Transformer oil phase-out in Ghana"}, year=2018,
        description={"en": "Replacing contaminated transformer oil in the national grid."},
        chemicals=["pcb"], countries=["GH"], regions=["africa"], languages=["en"])
D = rec("cn:mee:pcb", {"zh": "中国多氯联苯清单报告"}, year=2022, description={"zh": "全国含多氯联苯电力设备调查"},
        chemicals=["pcb"], countries=["CN"], regions=["asia_pacific"], languages=["zh"])
E = rec("ru:mnr:pops", {"ru": "Стойкие органические загрязнители в Российской Федерации"}, year=2021,
        description={"ru": "Обзор источников загрязнения"}, chemicals=["ddt"], countries=["RU"], regions=["cee"],
        languages=["ru"])
F = rec("eg:eeaa:law", {"ar": "إدارة المواد الكيميائية الخطرة"}, type="legislation", year=2017,
        description={"ar": "قانون بشأن تداول المواد"}, countries=["EG"], regions=["africa"], languages=["ar"])
G = rec("mx:sem:study", {"es": "Contaminantes orgánicos persistentes en América Latina"},
        type="scientific_technical_study", year=2018, chemicals=["ddt"], countries=["MX"], regions=["grulac"],
        languages=["es"])
H = rec("jp:moe:monitoring", {"ja": "残留性有機汚染物質の環境モニタリング"}, type="monitoring_report", year=2020,
        chemicals=["pfos"], countries=["JP"], regions=["asia_pacific"], languages=["ja"])
I = rec("ke:moe:dioxin", {"en": "Dioxin and furan releases from open burning"}, type="release_inventory", year=2021,
        description={"en": "Estimates of unintentional releases in Kenya."}, chemicals=["pcdd", "pcdf"],
        countries=["KE"], regions=["africa"], languages=["en"])
J = rec("gef:gef:fund", {"en": "Financial assistance for persistent organic pollutants projects"},
        type="assistance_source", year=2023,
        description={"en": "Grants for countries eligible under the Stockholm Convention."},
        regions=["africa", "asia_pacific"], languages=["en"],
        assistance={"kind": ["financial", "technical"], "status": "open", "provider": "Global Environment Facility"})
K = rec("tz:vpo:request", {"en": "Request for technical support on PCB disposal"}, type="assistance_request",
        year=2023, chemicals=["pcb"], countries=["TZ"], regions=["africa"], languages=["en"],
        assistance={"kind": ["technical"], "status": "submitted"})
L = rec("br:bad:script", {"en": "<script>alert('x')</script> Hazardous waste & chemicals inventory"}, year=2016,
        description={"en": "Text with \ue000 private markers \ue001 and <mark>fake</mark> tags"},
        countries=["BR"], regions=["grulac"], languages=["en"])
M = rec("ke:moe:persistent", {"en": "Persistent effects of pesticides on soil"}, type="scientific_technical_study",
        year=2015, description={"en": "Field study"}, keywords={"en": ["pollution"]}, countries=["KE"],
        regions=["africa"], languages=["en"])
O = rec("ca:eccc:rapport", {"fr": "Rapport sur les polychlorobiphényles dans les sols"}, year=2014,
        countries=["CA"], regions=["weog"], languages=["fr"])

CORPUS = [A, B, C, D, E, F, G, H, I, J, K, L, M, O]
ALL = {r["id"] for r in CORPUS}
PCB_TAGGED = {r["id"] for r in CORPUS if "pcb" in r.get("chemicals", [])}   # A B C D K
NOT_PCB = ALL - PCB_TAGGED - {O["id"]}

# Worked out by hand from CORPUS.
FACETS_ALL = {
    "countries": {"KE": 3, "BR": 1, "CA": 1, "CN": 1, "EG": 1, "GH": 1, "JP": 1, "MX": 1, "RU": 1, "SN": 1, "TZ": 1},
    "regions": {"africa": 8, "asia_pacific": 3, "grulac": 2, "cee": 1, "weog": 1},
    "chemicals": {"pcb": 5, "ddt": 2, "pcdd": 1, "pcdf": 1, "pfos": 1},
    "type": {"national_report": 6, "scientific_technical_study": 2, "action_plan": 1, "assistance_request": 1,
             "assistance_source": 1, "legislation": 1, "monitoring_report": 1, "release_inventory": 1},
    "languages": {"en": 7, "fr": 2, "ar": 1, "es": 1, "ja": 1, "ru": 1, "zh": 1},
    "year": {"2018": 2, "2020": 2, "2021": 2, "2023": 2, "2014": 1, "2015": 1, "2016": 1, "2017": 1, "2019": 1,
             "2022": 1},
    "source": {"moe": 4, "bad": 1, "eccc": 1, "eeaa": 1, "env": 1, "epa": 1, "gef": 1, "mee": 1, "mnr": 1,
               "sem": 1, "vpo": 1},
    "origin_source": {"moe": 4, "bad": 1, "eccc": 1, "eeaa": 1, "env": 1, "epa": 1, "gef": 1, "mee": 1, "mnr": 1,
                      "sem": 1, "vpo": 1},     # records given without SOURCE_KEY came in by their origin's source
    "origin_node": {"ke": 3, "br": 1, "ca": 1, "cn": 1, "eg": 1, "gef": 1, "gh": 1, "jp": 1, "mx": 1, "ru": 1,
                    "sn": 1, "tz": 1},
    "assistance_kind": {"technical": 2, "financial": 1},
    "assistance_status": {"open": 1, "submitted": 1},
}


@pytest.fixture
def corpus(backend):
    load(backend, CORPUS)
    return backend


def ids(res: Results) -> list[str]:
    return [h.id for h in res.hits]


def found(b, text: str, **kw) -> set[str]:
    return set(ids(b.search(Query(text, limit=MAX_LIMIT, **kw))))


def test_corpus_records_are_valid_pops_records():
    for r in CORPUS:
        validate(r)


# ----------------------------------------------------------------------------------------------- documents


def test_upsert_get_count_delete_clear(backend):
    assert backend.count() == 0 and backend.get(A["id"]) is None
    load(backend, [A, B, C])
    assert backend.count() == 3
    assert backend.get(B["id"]) == B
    assert backend.get("nope:nope:nope") is None
    load(backend, [A, B, C])                                   # the same again: nothing changes
    assert backend.count() == 3
    changed = {k: v for k, v in A.items() if k not in ("description", "keywords", "chemicals")}
    changed["title"] = {"en": "Capacitor register of Kenya"}
    load(backend, [changed])                                   # replaced, not added
    assert backend.count() == 3
    assert backend.get(A["id"]) == changed
    assert A["id"] in found(backend, "capacitor")
    assert A["id"] not in found(backend, "inventory") | found(backend, "", filters={"chemicals": ["pcb"]})
    backend.delete([C["id"], "unknown:id:1"])
    backend.commit()
    assert backend.count() == 2 and backend.get(C["id"]) is None
    assert C["id"] not in found(backend, "Ghana")
    assert found(backend, "", filters={"countries": ["GH"]}) == set()
    assert backend.search(Query("", facets=["countries", "chemicals"])).facets == {
        "countries": {"KE": 1, "SN": 1}, "chemicals": {"pcb": 1}}
    backend.delete([C["id"]])                                  # deleting again is fine
    backend.commit()
    assert backend.count() == 2
    backend.clear()
    backend.commit()
    assert backend.count() == 0
    assert backend.search(Query("")).total == 0


def test_a_batch_with_a_bad_record_indexes_nothing(backend):
    with pytest.raises(ValueError):
        backend.upsert([A, {"title": {"en": "no id"}}, B])
    backend.commit()
    assert backend.count() == 0


def test_indexed_seq_round_trip_and_clear_resets_it(backend):
    assert backend.indexed_seq() == 0
    backend.set_indexed_seq(42)
    assert backend.indexed_seq() == 42
    backend.clear()
    assert backend.indexed_seq() == 0


def test_catch_up_follows_the_store(backend, tmp_path):
    with Store(tmp_path / "store.sqlite") as store:
        store.apply_batch([Item(r["origin"]["source"], r["origin"]["identifier"], r) for r in CORPUS])
        store.tombstone_ids("epa", ["oil"])                    # C deleted at its source
        assert catch_up(backend, store, batch_size=4) == len(CORPUS)
        assert backend.count() == len(CORPUS) - 1 and backend.get(C["id"]) is None
        assert backend.indexed_seq() == store.max_seq()
        assert index_status(backend, store)["behind"] == 0
        store.apply_batch([Item("moe", "pcb-inventory", {**A, "title": {"en": "Capacitor register"}})])
        status = index_status(backend, store)
        assert status["behind"] == 1 and status["documents"] == len(CORPUS) - 1
        assert catch_up(backend, store) == 1
        assert A["id"] in found(backend, "capacitor")
        assert catch_up(backend, store) == 0
        assert rebuild(backend, store) == len(CORPUS)        # every record again (the tombstone too)
        assert backend.count() == len(CORPUS) - 1
        assert backend.indexed_seq() == store.max_seq()


def test_source_is_the_nodes_own_and_origin_source_the_origins(backend, tmp_path):
    """Records that came in by this node's source "tz-node" (a peer's OAI-PMH) keep their origin's source
    ids (moe, env) as origin_source; `source` is the operator's id, for filters, facets, boolean queries
    and hits alike, and get() answers the record as stored."""
    with Store(tmp_path / "store.sqlite") as store:
        store.apply_batch([Item("tz-node", r["origin"]["identifier"], r) for r in (A, B)]
                          + [Item("epa", C["origin"]["identifier"], C)])
        assert catch_up(backend, store) == 3
    assert found(backend, "", filters={"source": ["tz-node"]}) == {A["id"], B["id"]}
    assert found(backend, "", filters={"source": ["moe"]}) == set()
    assert found(backend, "", filters={"origin_source": ["moe", "epa"]}) == {A["id"], C["id"]}
    assert found(backend, "", where=Equals("source", ("epa",))) == {C["id"]}
    assert found(backend, "", where=Equals("origin_source", ("env",))) == {B["id"]}
    res = backend.search(Query("", facets=["source", "origin_source"], sort="title", limit=MAX_LIMIT))
    assert res.facets == {"source": {"tz-node": 2, "epa": 1}, "origin_source": {"env": 1, "epa": 1, "moe": 1}}
    assert {h.id: (h.source, h.origin_source) for h in res.hits} == {
        A["id"]: ("tz-node", "moe"), B["id"]: ("tz-node", "env"), C["id"]: ("epa", "epa")}
    assert backend.get(A["id"]) == A and backend.get(C["id"]) == C
    text = backend.search(Query("PCB", filters={"source": ["tz-node"]}, limit=MAX_LIMIT))
    assert {h.id for h in text.hits} == {A["id"], B["id"]}


# ----------------------------------------------------------------------------------------------- matching


def test_empty_query_matches_everything(corpus):
    res = corpus.search(Query("", limit=MAX_LIMIT))
    assert res.total == len(CORPUS) and set(ids(res)) == ALL
    assert corpus.search(Query("   ")).total == len(CORPUS)


def test_all_words_must_match(corpus):
    assert found(corpus, "persistent pollutants") == {J["id"]}
    both = found(corpus, "persistent")
    assert {J["id"], M["id"]} <= both
    assert found(corpus, "persistent pesticides") == {M["id"]}
    assert found(corpus, "Kenya releases") == {I["id"]}
    assert found(corpus, "zzyzx") == set()
    assert found(corpus, "Kenya zzyzx") == set()


def test_words_match_in_every_text_field(corpus):
    assert found(corpus, "grants") == {J["id"]}                # description
    assert M["id"] in found(corpus, "pollution")               # keywords
    assert J["id"] in found(corpus, "Global Environment Facility")   # other text: the provider


def test_accents_and_case_do_not_matter(corpus):
    assert B["id"] in found(corpus, "élimination")
    assert B["id"] in found(corpus, "ELIMINATION")
    assert B["id"] in found(corpus, "Senegal")


def test_multilingual_words(corpus):
    assert B["id"] in found(corpus, "transformateurs")                        # French
    assert found(corpus, "écologiquement rationnelle") == {B["id"]}
    assert E["id"] in found(corpus, "загрязнители")                           # Russian
    assert E["id"] in found(corpus, "ЗАГРЯЗНИТЕЛИ Российской")
    assert F["id"] in found(corpus, "الكيميائية")                             # Arabic
    assert F["id"] in found(corpus, "الْكِيمِيائِيَّة")                            # with short vowels typed
    assert G["id"] in found(corpus, "contaminantes orgánicos")                # Spanish
    assert D["id"] in found(corpus, "多氯联苯")                                # Chinese, inside a longer run
    assert D["id"] in found(corpus, "清单")
    assert D["id"] in found(corpus, "中国 报告")
    assert H["id"] in found(corpus, "汚染物質")                                # Japanese
    assert H["id"] in found(corpus, "モニタリング")


# ----------------------------------------------------------------------------------------------- cross-language


def test_query_chemicals_in_six_languages():
    for text in ("多氯联苯", "PCB", "PCBs", "polychlorinated biphenyls", "1336-36-3", "polychlorobiphényles"):
        assert query_chemicals(text) == ["pcb"], text
    assert query_chemicals("Kenya") == []
    assert query_chemicals("") == []


@pytest.mark.parametrize("text", ["多氯联苯", "PCB", "polychlorinated biphenyls", "1336-36-3", "ПХБ",
                                  "polychlorobiphényles", "ثنائيات الفينيل متعددة الكلور"])
def test_a_chemical_named_in_any_language_finds_records_in_every_language(corpus, text):
    if "pcb" not in query_chemicals(text):
        pytest.skip(f"the vocabulary does not know {text!r}")
    res = corpus.search(Query(text, limit=MAX_LIMIT))
    got = {h.id: h for h in res.hits}
    assert res.query_chemicals == ["pcb"]
    # English and French records whose text holds none of the query's words, found through their chemicals
    assert {A["id"], B["id"], C["id"], D["id"], K["id"]} <= set(got)
    for rid in PCB_TAGGED:
        assert got[rid].why["chemicals"] == ["pcb"]
    assert not set(got) & NOT_PCB
    assert res.total == len(got)


def test_a_chemical_name_in_untagged_text_is_found_and_highlighted(corpus):
    res = corpus.search(Query("PCB", limit=MAX_LIMIT))
    hit = next(h for h in res.hits if h.id == O["id"])        # French text, no chemicals field
    assert hit.why["chemicals"] == []
    assert any("<mark>polychlorobiphényles</mark>" in s for s in hit.why["highlights"]["title"])


def test_other_words_still_count_next_to_a_chemical(corpus):
    assert found(corpus, "PCB Kenya") == {A["id"]}
    assert found(corpus, "多氯联苯 Kenya") == {A["id"]}
    assert found(corpus, "PCB Senegal") == {B["id"]}           # chemical from the tag, country from the text
    assert found(corpus, "polychlorinated biphenyls transformer") >= {A["id"], C["id"]}
    assert found(corpus, "PCB zzyzx") == set()


def test_cross_language_respects_filters_and_facets(corpus):
    res = corpus.search(Query("多氯联苯", filters={"regions": ["africa"]}, facets=["countries", "languages"]))
    assert res.total == 4
    assert res.facets == {"countries": {"GH": 1, "KE": 1, "SN": 1, "TZ": 1}, "languages": {"en": 3, "fr": 1}}


# ----------------------------------------------------------------------------------------------- filters, facets


def test_facet_counts_over_everything(corpus):
    res = corpus.search(Query("", facets=True, limit=0))
    assert res.total == len(CORPUS) and res.hits == []
    assert list(res.facets) == list(FACET_FIELDS)
    assert res.facets == FACETS_ALL
    for name, counts in res.facets.items():                   # most frequent first, then by value
        assert list(counts.items()) == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])), name


def test_facet_counts_follow_changes(corpus):
    assert corpus.search(Query("", facets=["countries"])).facets["countries"]["KE"] == 3
    load(corpus, [{**C, "id": "ke:epa:oil2", "countries": ["KE"]}])
    assert corpus.search(Query("", facets=["countries"])).facets["countries"]["KE"] == 4
    corpus.delete([A["id"], I["id"]])
    corpus.commit()
    assert corpus.search(Query("", facets=["countries"])).facets["countries"]["KE"] == 2


def test_facet_counts_follow_the_query_and_filters(corpus):
    res = corpus.search(Query("", filters={"regions": ["africa"]}, facets=["chemicals", "type", "year"]))
    assert res.total == 8
    assert res.facets == {
        "chemicals": {"pcb": 4, "pcdd": 1, "pcdf": 1},
        "type": {"national_report": 2, "action_plan": 1, "assistance_request": 1, "assistance_source": 1,
                 "legislation": 1, "release_inventory": 1, "scientific_technical_study": 1},
        "year": {"2023": 2, "2015": 1, "2017": 1, "2018": 1, "2019": 1, "2020": 1, "2021": 1},
    }
    res = corpus.search(Query("Kenya", facets=["type", "chemicals"]))
    assert res.total == 2                                       # A (title), I (description)
    assert res.facets == {"type": {"national_report": 1, "release_inventory": 1},
                          "chemicals": {"pcb": 1, "pcdd": 1, "pcdf": 1}}


def test_filters_or_within_a_field_and_across_fields(corpus):
    assert found(corpus, "", filters={"countries": ["KE"]}) == {A["id"], I["id"], M["id"]}
    assert found(corpus, "", filters={"countries": ["KE", "SN"]}) == {A["id"], I["id"], M["id"], B["id"]}
    assert found(corpus, "", filters={"countries": ["KE", "SN"], "chemicals": ["pcb"]}) == {A["id"], B["id"]}
    assert found(corpus, "", filters={"year": [2023]}) == {J["id"], K["id"]}
    assert found(corpus, "", filters={"year": ["2019", "2014"]}) == {A["id"], O["id"]}
    assert found(corpus, "", filters={"assistance_kind": ["technical"], "assistance_status": ["open"]}) == {J["id"]}
    assert found(corpus, "", filters={"origin_node": ["ke"], "source": ["moe"]}) == {A["id"], I["id"], M["id"]}
    assert found(corpus, "", filters={"languages": ["fr"], "type": ["national_report"]}) == {O["id"]}
    assert found(corpus, "", filters={"countries": ["ZZ"]}) == set()
    assert found(corpus, "transformer", filters={"countries": ["GH"]}) == {C["id"]}
    assert found(corpus, "", filters={"countries": []}) == ALL  # an empty list filters nothing


def test_unknown_fields_are_refused_clearly(corpus):
    with pytest.raises(ValueError, match="colour"):
        corpus.search(Query("", filters={"colour": ["red"]}))
    with pytest.raises(ValueError, match="colour"):
        corpus.search(Query("", facets=["colour"]))
    with pytest.raises(ValueError, match="sort"):
        corpus.search(Query("", sort="random"))
    with pytest.raises(ValueError):
        corpus.search(Query("", offset=-1))


# ----------------------------------------------------------------------------------------------- sorting, paging


def _newest_order() -> list[str]:
    by_year = sorted(CORPUS, key=lambda r: (r["year"], r["id"]), reverse=True)
    return [r["id"] for r in by_year]


def test_sort_by_date_and_title(corpus):
    newest = ids(corpus.search(Query("", sort="newest", limit=MAX_LIMIT)))
    assert newest == _newest_order()
    assert ids(corpus.search(Query("", sort="oldest", limit=MAX_LIMIT))) == newest[::-1]
    assert ids(corpus.search(Query("", limit=MAX_LIMIT))) == newest        # no text: relevance is newest
    titles = ids(corpus.search(Query("", sort="title", limit=MAX_LIMIT)))
    assert titles == [r["id"] for r in sorted(CORPUS, key=lambda r: (title_sort(r), r["id"]))]
    assert titles[0] == L["id"] and titles[-1] == H["id"]      # "<script>..." first, 残留性... last
    res = corpus.search(Query("", sort="newest", filters={"regions": ["africa"]}, limit=3))
    assert ids(res) == [K["id"], J["id"], I["id"]]


def test_sort_by_relevance_weighs_title_over_description_over_keywords(backend):
    load(backend, [
        rec("x:r:kw", {"en": "Warehouse survey"}, keywords={"en": ["lindane", "stockpile"]}),
        rec("x:r:desc", {"en": "Warehouse survey"}, description={"en": "Old lindane stocks in two warehouses"}),
        rec("x:r:title", {"en": "Lindane stocks"}, description={"en": "Warehouse survey of old stocks"}),
        rec("x:r:none", {"en": "Warehouse survey"}),
    ])
    res = backend.search(Query("lindane"))
    assert ids(res) == ["x:r:title", "x:r:desc", "x:r:kw"]
    assert res.hits[0].score > res.hits[1].score > res.hits[2].score > 0


def test_paging_by_offset(corpus):
    order = _newest_order()
    pages = [ids(corpus.search(Query("", sort="newest", limit=5, offset=o))) for o in (0, 5, 10, 15)]
    assert pages[0] + pages[1] + pages[2] == order and pages[3] == []
    res = corpus.search(Query("", sort="newest", limit=5, offset=10))
    assert res.total == len(CORPUS) and res.next_cursor is None


@pytest.mark.parametrize("sort", ["newest", "oldest", "title", "relevance"])
def test_paging_by_cursor_visits_every_hit_once_in_order(corpus, sort):
    text = "" if sort != "relevance" else "PCB"
    expected = ids(corpus.search(Query(text, sort=sort, limit=MAX_LIMIT)))
    seen, cursor, pages = [], None, 0
    while True:
        res = corpus.search(Query(text, sort=sort, limit=3, cursor=cursor))
        seen += ids(res)
        pages += 1
        cursor = res.next_cursor
        if cursor is None:
            break
    assert seen == expected and pages == -(-len(expected) // 3)


def test_bad_cursors_are_refused(corpus):
    cursor = corpus.search(Query("", sort="newest", limit=2)).next_cursor
    assert cursor
    with pytest.raises(ValueError):
        corpus.search(Query("", sort="title", cursor=cursor))   # made for another sort
    for bad in ("garbage!", "eyJ4Ijoi", "W10", encode_cursor("newest", []), encode_cursor("newest", [{}, "x"])):
        with pytest.raises(ValueError):
            corpus.search(Query("", sort="newest", cursor=bad))
    with pytest.raises(ValueError):
        corpus.search(Query("", sort="newest", cursor=cursor, offset=4))


def generated(n: int) -> list[dict]:
    words = ["inventory", "monitoring", "plan", "report", "study"]
    return [rec(f"gen:g{i % 3}:{i:06d}", {"en": f"Generated {words[i % 5]} number {i}"}, year=1950 + i % 70,
                countries=[("KE", "SN", "CN", "BR")[i % 4]]) for i in range(n)]


def test_cursor_pages_past_ten_thousand_hits(backend):
    n = 10_050
    t0 = time.monotonic()
    load(backend, generated(n), batch=2_000)
    assert backend.count() == n, f"indexed in {time.monotonic() - t0:.1f}s"
    assert len(backend.search(Query("", limit=1000)).hits) == MAX_LIMIT     # the limit is capped
    for query in (Query("", sort="newest"), Query("generated", sort="relevance")):
        seen, cursor = [], None
        while True:
            res = backend.search(Query(query.text, sort=query.sort, limit=MAX_LIMIT, cursor=cursor))
            assert res.total == n
            seen += [(h.year, h.id) for h in res.hits]
            cursor = res.next_cursor
            if cursor is None:
                break
        assert len(seen) == n and len({i for _, i in seen}) == n
        if query.sort == "newest":
            assert seen == sorted(seen, reverse=True)
            tail = backend.search(Query("", sort="newest", offset=n - 50, limit=50))
            assert [h.id for h in tail.hits] == [i for _, i in seen[-50:]]
    res = backend.search(Query("inventory", filters={"countries": ["KE"]}, facets=["year"], limit=MAX_LIMIT))
    # i % 5 == 0 and i % 4 == 0: every 20th record, i < 10050 -> 503 of them
    assert res.total == 503
    assert sum(res.facets["year"].values()) == 503


# ----------------------------------------------------------------------------------------------- highlighting


def _plain(snippet: str) -> str:
    return html.unescape(re.sub("</?mark>", "", snippet))


def test_highlights_mark_matches_and_escape_everything_else(corpus):
    res = corpus.search(Query("inventory hazardous"))
    hit = next(h for h in res.hits if h.id == L["id"])
    [title] = hit.why["highlights"]["title"]
    assert "<script>" not in title and "&lt;script&gt;" in title
    assert "<mark>Hazardous</mark>" in title and "<mark>inventory</mark>" in title
    assert "<" not in re.sub("</?mark>", "", title) and ">" not in re.sub("</?mark>", "", title)
    assert _plain(title) == L["title"]["en"]
    assert hit.title == L["title"]                                  # the record's own text stays as it was


def test_harvested_markup_and_private_characters_never_become_marks(corpus):
    hit = corpus.search(Query("fake")).hits[0]
    [desc] = hit.why["highlights"]["description"]
    assert desc.count("<mark>") == 1 and "&lt;mark&gt;<mark>fake</mark>&lt;/mark&gt;" in desc
    hit = corpus.search(Query("private")).hits[0]
    [desc] = hit.why["highlights"]["description"]
    assert desc.count("<mark>") == 1 and "<mark>private</mark>" in desc


def test_highlights_in_chinese_and_across_fields(corpus):
    hit = corpus.search(Query("多氯联苯")).hits
    zh = next(h for h in hit if h.id == D["id"])
    assert zh.why["highlights"]["title"] == ["中国<mark>多氯联苯</mark>清单报告"]
    assert zh.why["highlights"]["description"] == ["全国含<mark>多氯联苯</mark>电力设备调查"]
    a = corpus.search(Query("transformers")).hits
    ke = next(h for h in a if h.id == A["id"])
    assert set(ke.why["highlights"]) == {"description", "keywords"}
    assert ke.why["highlights"]["keywords"] == ["<mark>transformers</mark>"]


def test_long_descriptions_give_a_short_snippet_around_the_match(backend):
    text = "Background text. " * 60 + "The needle sits here <b>bold</b>. " + "More words follow. " * 60
    load(backend, [rec("x:l:1", {"en": "Long"}, description={"en": text})])
    [snippet] = backend.search(Query("needle")).hits[0].why["highlights"]["description"]
    assert "<mark>needle</mark>" in snippet and "&lt;b&gt;bold&lt;/b&gt;" in snippet
    assert len(_plain(snippet)) < 400
    assert _plain(snippet).strip("…") in text


def test_highlighting_can_be_turned_off(corpus):
    hit = corpus.search(Query("PCB Kenya", highlight=False)).hits[0]
    assert hit.why == {"highlights": {}, "chemicals": ["pcb"]}


# ----------------------------------------------------------------------------------------------- hostile input

SYMBOLS_ONLY = ['"', "*", "')--", "(", ")", "\\", "-", "+", "*:*", "&&", "||", "!", "~", "^2", "{}", "[]", ":", "/",
                "?", '""', "''", ";", "%", "\x00", "\x1b[31m", "\ue000\ue001", "\u200b", "¿¡", "…", "«»"]
HOSTILE = SYMBOLS_ONLY + [
    "title:x", "NEAR(a b)", "a OR", "OR", "AND", "NOT", "{!lucene}x", "{!func}sum(1,1)", "[* TO *]", "id:*",
    "q=*:*&rows=1000", "' OR 1=1 --", "x' UNION SELECT * FROM idx_docs --", "<script>alert(1)</script>",
    '"unbalanced', "a*", "PCB*", "title:PCB", "NEAR(\"PCB\" \"Kenya\", 2)", "PCB^100", "Kenya~2", "%00",
    "x" * 5000, "PCB " * 3000, "\x00PCB\x1b", "\ud800", "x\udfffy", "\U0001f4a9", "é" * 2000, "中" * 3000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:30]))
def test_hostile_text_never_raises_nor_matches_everything_by_accident(corpus, text):
    res = corpus.search(Query(text, facets=True))
    assert isinstance(res.total, int) and res.total < len(CORPUS)
    json.dumps(res.as_json())
    if text in SYMBOLS_ONLY:
        assert res.total == 0 and res.hits == [] and res.next_cursor is None


def test_query_syntax_is_plain_text(corpus):
    assert found(corpus, "title:PCB") == set()                 # not a field query: "title" must occur too
    assert found(corpus, "PCB -Kenya") == found(corpus, "PCB Kenya") == {A["id"]}   # not a negation
    assert found(corpus, "PCB AND zzyzx") == set()
    assert found(corpus, "Kenya*") == found(corpus, "Kenya")   # not a wildcard
    assert found(corpus, "\x00PCB\x1b") == found(corpus, "PCB")
    assert found(corpus, "PCB " * 3000) == found(corpus, "PCB")


# ----------------------------------------------------------------------------------------------- result shape


def test_ids_list_the_matches_in_id_order_whatever_the_page(corpus):
    pcb = sorted(r["id"] for r in CORPUS if r["id"] in found(corpus, "PCB"))
    listed = corpus.search(Query("PCB", ids=MAX_MATCH_IDS)).ids
    assert [e["id"] for e in listed] == pcb and all(e["facets"] == {} for e in listed)
    paged = corpus.search(Query("PCB", sort="title", offset=2, limit=1, ids=MAX_MATCH_IDS))
    assert paged.ids == listed and len(paged.hits) == 1
    assert [e["id"] for e in corpus.search(Query("PCB", ids=2)).ids] == pcb[:2]
    kenya = corpus.search(Query("", filters={"countries": ["KE"]}, facets=["type", "chemicals", "year"], ids=50))
    by_id = {r["id"]: r for r in CORPUS}
    assert [e["id"] for e in kenya.ids] == sorted([A["id"], I["id"], M["id"]])
    for entry in kenya.ids:
        want = facet_values(by_id[entry["id"]])
        assert entry["facets"] == {f: want[f] for f in ("type", "chemicals", "year") if want[f]}
    assert corpus.search(Query("*", ids=10)).ids == [] and corpus.search(Query("PCB")).ids is None
    assert "ids" not in corpus.search(Query("PCB")).as_json()
    assert Query(ids=10 ** 6).checked().ids == MAX_MATCH_IDS


def test_result_json_shape(corpus):
    res = corpus.search(Query("PCB Kenya", facets=["countries"], limit=1))
    out = json.loads(json.dumps(res.as_json()))
    assert set(out) == {"total", "results", "facets", "next_cursor", "query_chemicals"}
    assert out["total"] == 1 and out["next_cursor"] is None and out["query_chemicals"] == ["pcb"]
    assert out["facets"] == {"countries": {"KE": 1}}
    [r] = out["results"]
    assert set(r) == {"id", "identifier", "title", "description", "links", "chemicals", "countries", "regions",
                      "languages", "type", "year", "origin_node", "source", "origin_source", "path", "score", "why"}
    assert r["id"] == A["id"] and r["identifier"] == "pcb-inventory" and r["title"] == A["title"]
    assert r["description"] == A["description"]["en"]
    assert r["links"] == A["links"] and r["chemicals"] == ["pcb"] and r["countries"] == ["KE"]
    assert (r["type"], r["year"], r["origin_node"], r["source"], r["origin_source"], r["path"]) == \
        ("national_report", 2019, "ke", "moe", "moe", ["ke"])
    assert r["score"] > 0
    assert set(r["why"]) == {"highlights", "chemicals"} and r["why"]["chemicals"] == ["pcb"]
    assert isinstance(res.hits[0], Hit)
    more = corpus.search(Query("", limit=2))
    assert more.as_json()["next_cursor"] == more.next_cursor and isinstance(more.next_cursor, str)


def test_description_excerpt_follows_the_interface_language(backend):
    load(backend, [rec("x:d:1", {"en": "Bilingual"}, description={"en": "English text", "fr": "Texte français"})])
    assert backend.search(Query("bilingual", lang="fr")).hits[0].description == "Texte français"
    assert backend.search(Query("bilingual", lang="ru")).hits[0].description == "English text"


# ----------------------------------------------------------------------------------------------- embedded only


def test_embedded_sees_what_another_connection_wrote(tmp_path):
    with EmbeddedBackend(tmp_path / "node.sqlite") as one, EmbeddedBackend(tmp_path / "node.sqlite") as two:
        load(one, CORPUS)
        assert two.search(Query("", facets=["countries"])).facets["countries"]["KE"] == 3
        one.delete([A["id"]])
        assert two.search(Query("", facets=["countries"])).facets["countries"]["KE"] == 2
        assert two.count() == len(CORPUS) - 1


def test_embedded_prepare_keeps_track_of_every_character():
    for text in ["中国PCB多氯 dioxins PCBs", "ｐｃｂ ﬁres", "إدارةُ المواد\u0640 الكيميائية", "a\ue000b\x00c\u200bd",
                 "élimination des PCBs", "plain text"]:
        fast, _ = prepare(text)
        mapped, src = prepare(text, with_map=True)
        assert fast == mapped
        assert src is None and len(mapped) == len(text) or len(src) == len(mapped)
    assert prepare("中国PCB")[0] == "\u200b中\u200b国\u200bPCB"
    assert prepare("dioxins processes PCBs analysis")[0] == "dioxin processe PCB analysis"


def test_embedded_drops_an_index_of_another_version(tmp_path):
    with EmbeddedBackend(tmp_path / "node.sqlite") as b:
        load(b, CORPUS)
        b.set_indexed_seq(9)
        b._store.set_meta(META_SCHEMA, "0")
    with EmbeddedBackend(tmp_path / "node.sqlite") as b:
        assert b.count() == 0 and b.indexed_seq() == 0


def test_open_backend_follows_the_config(tmp_path):
    (tmp_path / "node_config.yaml").write_text(
        "node: {id: ke, name: Kenya}\nstore: {path: data/node.sqlite}\nindex: {backend: embedded}\n")
    cfg = config.load(tmp_path / "node_config.yaml")
    with open_backend(cfg) as b:
        assert isinstance(b, EmbeddedBackend) and b.path == tmp_path / "data" / "node.sqlite"
        load(b, [A])
    with Store(cfg.store_path) as store, open_backend(cfg, store) as b:
        assert b.get(A["id"]) == A


# ----------------------------------------------------------------------------------------------- shared helpers


def test_to_document_flattens_a_record_for_any_index():
    doc = to_document({**J, "dates": {"issued": "2023-05"}, "quality": {"completeness": 0.8, "missing": ["links"]}})
    assert doc["id"] == J["id"] and doc["origin_node"] == "gef" and doc["source"] == "gef"
    assert doc["title_txt_en"] == [J["title"]["en"]] and doc["other_txt_und"] == ["Global Environment Facility"]
    assert doc["assistance_kind"] == ["financial", "technical"] and doc["assistance_status"] == "open"
    assert doc["year"] == 2023 and doc["issued"] == doc["sort_dt"] == "2023-05-01T00:00:00Z"
    assert doc["completeness"] == 0.8 and json.loads(doc["record_json"])["id"] == J["id"]
    assert to_document(H)["title_txt_cjk"] == [H["title"]["ja"]]
    assert to_document(D)["title_txt_zh"] == [D["title"]["zh"]]
    assert to_document(rec("x:y:z", {"de": "Bericht"}))["title_txt_und"] == ["Bericht"]
    assert "issued" not in to_document(rec("x:y:z", {"en": "t"})) and to_document(rec("x:y:z", {"en": "t"}))["sort_dt"] == "2024-01-15T10:00:00Z"
    with pytest.raises(ValueError):
        to_document({"title": {"en": "no id"}})


def test_query_plan_splits_chemicals_from_other_words():
    plan = plan_query("PCB-containing transformers in Kenya")
    assert plan.chemicals == ("pcb",)
    assert plan.terms == ("PCB containing", "transformers", "in", "Kenya")
    assert plan.residual == ("containing", "transformers", "in", "Kenya")
    assert "polychlorobiphényles" in plan.names and "多氯联苯" in plan.names
    assert plan_query("中国多氯联苯清单").residual == ("中国", "清单")
    assert plan_query("polychlorinated biphenyls").residual == ()
    assert plan_query("1336-36-3 Ghana").residual == ("Ghana",)
    assert plan_query("*").match_none and plan_query("").match_all and not plan_query("x").match_none


def test_cursor_tokens_round_trip():
    token = encode_cursor("newest", ["2024-01-01T00:00:00Z", "ke:s:1"])
    assert decode_cursor(token, "newest") == ["2024-01-01T00:00:00Z", "ke:s:1"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


# ----------------------------------------------------------------------------------------------- highlight alignment
# Marks must wrap the words that matched, in the text as harvested, whatever the script, the order of the
# record's languages, or what the index does to the text (accents, plurals, spaced-out Chinese characters).

MULTI = rec("ke:moe:pcb-esm", {"es": "Gestión ambientalmente racional de los bifenilos policlorados (PCB): experiencias "
                                     "de Kenya y Uruguay",
                               "en": "Environmentally Sound Management of Polychlorinated Biphenyls (PCB): Experiences "
                                     "from Kenya and Uruguay",
                               "zh": "多氯联苯环境无害化管理技术援助（南南合作）"},
            type="best_practice", year=2022,
            description={"zh": "为非洲和亚太地区的发展中国家缔约方提供含多氯联苯（PCB）电气设备清单编制与临时储存方面的"
                               "技术援助。",
                         "en": "South–South exchange paper comparing PCB inventories, equipment labelling, interim "
                               "storage and “safe” disposal of <script>alert('x')</script> transformers.",
                         "ru": "Инвентаризация ПХБ‑содержащего оборудования — «ПХБ» в трансформаторах",
                         "ar": "إدارةُ ثنائيات الفينيل متعددة الكلور في المحوّلات الكهربائية",
                         "es": "Almacenamiento temporal y eliminación de transformadores con PCB en Kenya y Uruguay."},
            keywords={"es": ["bifenilos policlorados", "cooperación Sur-Sur"], "en": ["PCB", "technical assistance",
                                                                                     "environmentally sound management"]},
            chemicals=["pcb"], countries=["KE", "UY"], regions=["africa", "grulac"], languages=["es", "en", "zh"],
            assistance={"kind": ["technical"], "status": "open", "provider": "Ministère de l'Environnement"})

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)
_CJK_CHAR = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_RUN = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    """Case, accents, Arabic short vowels and letter variants, full-width forms folded (for comparisons)."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c) and c not in "\u0640\u00ad")
    return text.translate(str.maketrans("أإآٱةىی", "اااايهي"))


def _words(text: str) -> list[str]:
    """The words of a text: runs of Chinese/Japanese characters, and runs of other letters and digits."""
    out = []
    for w in _WORD_RUN.findall(_fold(text)):
        out += [p for p in re.split(f"({_CJK_CHAR.pattern}+)", w) if p]
    return out


def _allowed_words(query: str) -> set[str]:
    plan = plan_query(query)
    return {w for t in (*plan.terms, *plan.names) for w in _words(t)}


def _is_query_word(word: str, allowed: set[str]) -> bool:
    """A query word, a word of a chemical name the query names, or a form of one (a plural, a stem)."""
    for a in allowed:
        if _CJK_CHAR.match(word):
            if _CJK_CHAR.match(a) and (a in word or word in a):
                return True
        elif word == a:
            return True
        else:
            common = len(os.path.commonprefix([word, a]))
            if common >= 3 and common >= max(len(word), len(a)) - 3:
                return True
    return False


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def assert_marks_aligned(hit: Hit, query: str, record: dict) -> list[str]:
    """Every snippet of the hit is the record's text, HTML-escaped, with marks around whole query words
    only. Returns the marked texts."""
    allowed = _allowed_words(query)
    texts = _strings(record)
    marked = []
    for name, snippets in hit.why["highlights"].items():
        for snippet in snippets:
            outside = _MARK.sub("", snippet)
            assert "<" not in outside and ">" not in outside, snippet          # harvested text stays escaped
            plain = _plain(snippet)
            for piece in plain.split("…"):
                assert not piece or any(piece in t for t in texts), (name, snippet)
            for m in _MARK.finditer(snippet):
                inner = html.unescape(m.group(1))
                words = _words(inner)
                assert words, (name, snippet)
                assert all(_is_query_word(w, allowed) for w in words), (name, inner, snippet)
                before = _plain(snippet[:m.start()])[-1:]
                after = _plain(snippet[m.end():])[:1]
                for outer, edge in ((before, inner[:1]), (after, inner[-1:])):
                    if _CJK_CHAR.match(outer or " ") or _CJK_CHAR.match(edge or " "):
                        continue
                    assert not (outer.isalnum() or unicodedata.combining(outer or " ")), \
                        f"a mark cuts a word: {snippet!r}"
                marked.append(inner)
    return marked


@pytest.mark.parametrize("query", [
    "PCB", "PCBs", "多氯联苯", "polychlorinated biphenyls", "bifenilos policlorados", "ПХБ", "Technical assistance",
    "labelling", "Uruguay", "Kenya transformers", "оборудования", "трансформаторах", "المحولات", "الكهربائية",
    "电气", "清单", "技术援助", "South-South", "South–South", "gestión", "GESTION", "safe", "script",
    "environmentally sound management", "1336-36-3"])
def test_highlights_wrap_exactly_the_matched_words(backend, query):
    load(backend, [MULTI])
    [hit] = backend.search(Query(query, limit=MAX_LIMIT)).hits
    assert hit.why["highlights"], query             # each query's words, or its chemical's names, are in the text
    assert_marks_aligned(hit, query, MULTI)


def test_highlights_mark_the_words_in_each_language_of_a_field(backend):
    load(backend, [MULTI])
    hit = backend.search(Query("PCB", limit=MAX_LIMIT)).hits[0]
    marked = [_fold(m) for m in assert_marks_aligned(hit, "PCB", MULTI)]
    assert "pcb" in marked
    for lang, query, word in [("en", "technical", "technical"), ("en", "labelling", "labelling"),
                              ("zh", "电气", "电气"), ("ru", "оборудования", "оборудования"),
                              ("es", "transformadores", "transformadores"), ("en", "experiences", "Experiences"),
                              ("ar", "الكهربائية", "الكهربائية")]:
        hit = backend.search(Query(query, lang=lang)).hits[0]
        marked = assert_marks_aligned(hit, query, MULTI)
        assert any(word in m or m in word for m in marked if len(m) >= 2), (query, hit.why["highlights"])
    hit = backend.search(Query("safe transformers", lang="en")).hits[0]
    [desc] = [s for s in hit.why["highlights"]["description"] if "safe" in s]
    assert "&lt;script&gt;" in desc and "<script>" not in desc and "“<mark>safe</mark>”" in desc


def test_highlights_do_not_depend_on_the_order_of_the_languages(backend):
    reordered = {**MULTI, "id": "ke:moe:pcb-esm-2",
                 **{f: dict(reversed(list(MULTI[f].items()))) for f in ("title", "description", "keywords")}}
    load(backend, [MULTI, reordered])
    for query in ("Kenya", "Uruguay", "电气", "labelling", "оборудования"):   # at most three snippets a field
        hits = {h.id: h for h in backend.search(Query(query, limit=MAX_LIMIT)).hits}
        assert len(hits) == 2
        one, two = hits[MULTI["id"]], hits[reordered["id"]]
        assert sorted(assert_marks_aligned(one, query, MULTI)) == \
            sorted(assert_marks_aligned(two, query, reordered))
        assert {f: sorted(v) for f, v in one.why["highlights"].items()} == \
               {f: sorted(v) for f, v in two.why["highlights"].items()}


def test_highlights_across_the_corpus_stay_aligned(corpus):
    for query in ("PCB", "多氯联苯", "polychlorobiphényles", "inventory hazardous", "transformers Kenya",
                  "élimination", "ЗАГРЯЗНИТЕЛИ", "الْكِيمِيائِيَّة", "汚染物質", "モニタリング", "contaminantes orgánicos",
                  "fake", "private", "Global Environment Facility", "persistent"):
        for hit in corpus.search(Query(query, limit=MAX_LIMIT)).hits:
            assert_marks_aligned(hit, query, next(r for r in CORPUS if r["id"] == hit.id))


# ----------------------------------------------------------------------------------------------- embedded only


def test_embedded_marks_phrases_without_the_punctuation_between_their_words(tmp_path):
    with EmbeddedBackend(tmp_path / "node.sqlite") as b:
        load(b, [MULTI])
        hl = b.search(Query("PCB", lang="es")).hits[0].why["highlights"]
        assert hl["title"][0] == ("Gestión ambientalmente racional de los <mark>bifenilos policlorados</mark> "
                                  "(<mark>PCB</mark>): experiencias de Kenya y Uruguay")
        assert ("Environmentally Sound Management of <mark>Polychlorinated Biphenyls</mark> (<mark>PCB</mark>): "
                "Experiences from Kenya and Uruguay") in hl["title"]
        assert "<mark>多氯联苯</mark>环境无害化管理技术援助（南南合作）" in hl["title"]
        hl = b.search(Query("PCB", lang="zh")).hits[0].why["highlights"]
        assert hl["description"][0].startswith(
            "为非洲和亚太地区的发展中国家缔约方提供含<mark>多氯联苯</mark>（<mark>PCB</mark>）电气")
        hl = b.search(Query("PCB", lang="ru")).hits[0].why["highlights"]
        assert hl["description"][0] == ("Инвентаризация <mark>ПХБ</mark>‑содержащего оборудования — "
                                        "«<mark>ПХБ</mark>» в трансформаторах")
        hl = b.search(Query("PCB", lang="ar")).hits[0].why["highlights"]
        assert hl["description"][0] == "إدارةُ <mark>ثنائيات الفينيل متعددة الكلور</mark> في المحوّلات الكهربائية"
        hl = b.search(Query("PCB inventories", lang="en")).hits[0].why["highlights"]
        assert "comparing <mark>PCB</mark> <mark>inventories</mark>, equipment" in hl["description"][0]
        hl = b.search(Query("South-South Environnement")).hits[0].why["highlights"]
        assert hl["description"][0].startswith("<mark>South–South</mark> exchange")
        assert hl["other"] == ["Ministère de l&#x27;<mark>Environnement</mark>"]
        assert b.search(Query("cooperación sur-sur")).hits[0].why["highlights"]["keywords"] == \
            ["<mark>cooperación</mark> <mark>Sur-Sur</mark>"]


def test_embedded_highlights_an_index_written_with_the_languages_in_another_order(tmp_path):
    from harvester.index.embedded import _stored_order
    with EmbeddedBackend(tmp_path / "node.sqlite") as b:
        load(b, [MULTI])
        doc = b.db.execute("SELECT doc FROM idx_docs WHERE id=?", (MULTI["id"],)).fetchone()[0]
        # the columns as an index made before the languages were sorted holds them: in the record's order
        cols = ["\n".join(prepare(t)[0] for t in parts) for parts in (
            list(MULTI["title"].values()), list(MULTI["description"].values()),
            [v for vs in MULTI["keywords"].values() for v in vs], [MULTI["assistance"]["provider"]])]
        b.db.execute("DELETE FROM idx_fts WHERE rowid=?", (doc,))
        b.db.execute("INSERT INTO idx_fts(rowid, title, description, keywords, other) VALUES (?,?,?,?,?)",
                     (doc, *cols))
        for query in ("PCB", "Uruguay", "labelling", "电气", "Environnement"):
            assert_marks_aligned(b.search(Query(query)).hits[0], query, MULTI)
        hl = b.search(Query("Uruguay", lang="en")).hits[0].why["highlights"]
        assert hl["title"][0].endswith("from Kenya and <mark>Uruguay</mark>")
        # a column holding other text than the record's gets no marks rather than misplaced ones
        b.db.execute("UPDATE idx_fts SET title=? WHERE rowid=?", ("Uruguay " + cols[0], doc))
        assert "title" not in b.search(Query("Uruguay")).hits[0].why["highlights"]
    # texts with line breaks of their own are lined up too (going back from a wrong first guess)
    segments = [("en", "a\nb"), ("fr", "a"), ("es", "b\nc"), ("zh", "b")]
    for order in ([1, 3, 2, 0], [1, 2, 3, 0], [0, 3, 1, 2]):
        stored = "\n".join(segments[i][1] for i in order)
        found_order = _stored_order(stored, segments)
        assert "\n".join(segments[i][1] for i in found_order) == stored
    assert _stored_order("x\na", segments) is None and _stored_order("a\nb", segments) is None
