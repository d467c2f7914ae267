"""Boolean queries (``Query.where``) and the ``recent`` sort, on every backend (embedded SQLite FTS5 and a
real Solr: the ``backend`` fixture of tests/search_backends.py), plus a check that both backends give the
very same answers.

CORPUS is a hand-built set of records; the expected results below are worked out by hand from it.
"""
from __future__ import annotations

import json
import uuid

import pytest

from harvester.index import (MAX_LIMIT, MAX_WHERE_DEPTH, And, Equals, Not, Or, Query, Range, Results, Words,
                             check_where, recent_date)
from harvester.index.embedded import EmbeddedBackend
from harvester.record import validate
from tests.search_backends import backend, load  # noqa: F401  (backend: the fixture)


def rec(rid: str, title: dict, *, type="national_report", year=None, datestamp, harvested=None, **fields) -> dict:
    node, source, ident = rid.split(":", 2)
    r = {"id": rid, "origin": {"node": node, "source": source, "identifier": ident}, "path": [node],
         "datestamp": datestamp, "title": title, "type": type}
    if year is not None:
        r["year"] = year
    if harvested is not None:
        r["harvested"] = harvested
    r.update(fields)
    return r


R1 = rec("ke:moe:pcb-inventory", {"en": "PCB inventory of Kenya"}, year=2019, dates={"issued": "2019-06-15"},
         description={"en": "National inventory of transformers containing polychlorinated biphenyls."},
         keywords={"en": ["transformers", "inventory"]}, creators=["Ministry of Environment and Forestry"],
         publisher="Government of Kenya", chemicals=["pcb"], countries=["KE"], regions=["africa"], languages=["en"],
         datestamp="2024-01-10T08:00:00Z", harvested="2024-03-01T10:00:00Z")
R2 = rec("sn:env:plan", {"fr": "Plan d'élimination des transformateurs contaminés aux PCB"}, type="action_plan",
         year=2020, dates={"issued": "2020-02"}, description={"fr": "Élimination au Sénégal."}, chemicals=["pcb"],
         countries=["SN"], regions=["africa"], languages=["fr"],
         datestamp="2023-11-01T00:00:00Z", harvested="2024-03-01T10:00:00Z")        # stored with R1
R3 = rec("cn:mee:pcb", {"zh": "中国多氯联苯清单报告"}, year=2022, dates={"issued": "2022-09-30"},
         description={"zh": "全国含多氯联苯电力设备调查"}, chemicals=["pcb"], countries=["CN"], regions=["asia_pacific"],
         languages=["zh"], datestamp="2024-02-01T00:00:00Z", harvested="2024-02-15T12:00:00Z")
R4 = rec("ke:moe:dioxin", {"en": "Dioxin and furan releases from open burning"}, type="release_inventory",
         year=2021, description={"en": "Estimates of unintentional releases in Kenya."}, keywords={"en": ["burning"]},
         chemicals=["pcdd", "pcdf"], countries=["KE"], regions=["africa"], languages=["en"],
         datestamp="2022-05-05T05:05:05Z", harvested="2024-01-20T00:00:00Z")
R5 = rec("mx:sem:ddt", {"es": "Contaminantes orgánicos persistentes: DDT en México"},
         type="scientific_technical_study", year=2018, dates={"issued": "2018"},
         description={"es": "Estudio de residuos en suelos agrícolas."}, creators=["Instituto Nacional de Ecología"],
         chemicals=["ddt"], countries=["MX"], regions=["grulac"], languages=["es"],
         datestamp="2021-07-07T07:07:07Z", harvested="2023-06-01T00:00:00Z")
R6 = rec("gef:gef:fund", {"en": "Financial assistance for persistent organic pollutants projects"},
         type="assistance_source", year=2023,
         description={"en": "Grants for countries eligible under the Stockholm Convention."},
         publisher="GEF Secretariat", regions=["africa", "asia_pacific"], languages=["en"],
         assistance={"kind": ["financial", "technical"], "status": "open", "provider": "Global Environment Facility"},
         datestamp="2023-03-03T03:03:03Z", harvested="2023-03-04T00:00:00Z")
R7 = rec("br:bad:script", {"en": "<script>alert('x')</script> {!lucene}*:* title:PCB \"quoted\" back\\slash "
                                 "NEAR(a b) OR *"}, year=2016,
         description={"en": "Hazardous waste & chemicals: id:* AND year:[* TO *]"}, countries=["BR"],
         regions=["grulac"], languages=["en"], datestamp="2020-01-01T00:00:00Z")     # never harvested here
R8 = rec("ru:mnr:pops", {"ru": "Стойкие органические загрязнители в Российской Федерации"}, year=2021,
         dates={"issued": "2021-12-31"}, description={"ru": "Обзор источников ДДТ"}, chemicals=["ddt"],
         countries=["RU"], regions=["cee"], languages=["ru"],
         datestamp="2024-02-15T12:00:00Z", harvested="2024-02-15T12:00:00Z")        # stored with R3
R9 = rec("tz:vpo:request", {"en": "Request for technical support on PCB disposal"}, type="assistance_request",
         year=2023, keywords={"en": ["disposal", "transformers"]}, chemicals=["pcb"], countries=["TZ"],
         regions=["africa"], languages=["en"], assistance={"kind": ["technical"], "status": "submitted"},
         datestamp="2024-04-01T00:00:00Z", harvested="2024-04-01T00:00:00Z")
R10 = rec("ca:eccc:rapport", {"fr": "Rapport sur les polychlorobiphényles dans les sols"}, year=2014,
          creators=["Environnement Canada"], countries=["CA"], regions=["weog"], languages=["fr"],
          datestamp="2019-09-09T09:09:09Z", harvested="2019-09-10T00:00:00Z")
R11 = rec("ke:moe:persistent", {"en": "Persistent effects of pesticides on soil"},
          type="scientific_technical_study", year=2015, description={"en": "Field study of DDT residues"},
          keywords={"en": ["pollution", "Kenya"]}, countries=["KE"], regions=["africa"], languages=["en"],
          datestamp="2018-01-01T00:00:00Z")

CORPUS = [R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11]
ALL = {r["id"] for r in CORPUS}


def _ids(*records) -> set[str]:
    return {r["id"] for r in records}


PCB_WORD = _ids(R1, R2, R3, R7, R9, R10)    # "PCB" in the text, tagged pcb, or a name of PCBs in the text
AFRICA = _ids(R1, R2, R4, R6, R9, R11)

# (where, expected ids): the cases every backend must answer exactly so
CASES = [
    # words: scopes
    (Words("PCB"), PCB_WORD),
    (Words("PCB", "title"), _ids(R1, R2, R7, R9)),
    (Words("PCB", "description"), set()),
    (Words("transformers", "keywords"), _ids(R1, R9)),
    (Words("transformers"), _ids(R1, R9)),
    (Words("Kenya"), _ids(R1, R4, R11)),
    (Words("Kenya", "other"), _ids(R1)),                                   # the publisher
    (Words("Environment", "other"), _ids(R1, R6)),                          # a creator, a provider
    (Words("Global Environment Facility", "other", "phrase"), _ids(R6)),
    # words: all, any, phrase
    (Words("dioxin mexico", match="any"), _ids(R4, R5)),
    (Words("dioxin mexico"), set()),
    (Words("open burning", match="phrase"), _ids(R4)),
    (Words("burning open", match="phrase"), set()),
    (Words("burning open"), _ids(R4)),
    # a chemical named in any language (scope any only)
    (Words("多氯联苯"), PCB_WORD),
    (Words("多氯联苯", "title"), _ids(R3)),
    (Words("ДДТ"), _ids(R5, R8, R11)),
    (Words("polychlorinated biphenyls", match="phrase"), PCB_WORD),
    # equality
    (Equals("type", ("national_report",)), _ids(R1, R3, R7, R8, R10)),
    (Equals("countries", ("KE", "TZ")), _ids(R1, R4, R9, R11)),
    (Equals("id", (R5["id"],)), _ids(R5)),
    (Equals("year", ("2019",)), _ids(R1)),
    (Equals("assistance_kind", ("technical",)), _ids(R6, R9)),
    # ranges
    (Range("year", 2020, 2022), _ids(R2, R3, R4, R8)),
    (Range("year", 2020, 2022, low_inclusive=False), _ids(R3, R4, R8)),
    (Range("year", None, 2015), _ids(R10, R11)),
    (Range("issued", "2019", "2020"), _ids(R1, R2)),
    (Range("issued", None, "2018-12-31"), _ids(R5, R7, R10, R11)),     # without dates: the year's first day
    (Range("issued", "2021-12-31", None), _ids(R3, R6, R8, R9)),
    (Range("issued", "2021-12-31", None, low_inclusive=False), _ids(R3, R6, R9)),
    (Range("issued", "2019-06-15", "2019-06-15"), _ids(R1)),
    (Range("datestamp", "2024", None), _ids(R1, R3, R8, R9)),
    (Range("harvested", "2024-02", None), _ids(R1, R2, R3, R8, R9)),
    (Range("harvested", None, "2020"), _ids(R7, R10, R11)),                # not harvested: its datestamp
    (Range("harvested", "2024-03-01T10:00:00Z", None, low_inclusive=False), _ids(R9)),
    # and, or, not
    (And(Words("PCB"), Not(Equals("countries", ("KE",)))), _ids(R2, R3, R7, R9, R10)),
    (Or(Equals("type", ("action_plan",)), And(Words("Kenya"), Range("year", 2020, None))), _ids(R2, R4)),
    (Not(Or(Equals("regions", ("africa",)), Words("PCB"))), _ids(R5, R8)),
    (Not(Range("year", 2016, None)), _ids(R10, R11)),
    (And(Or(Words("PCB", "title"), Words("DDT", "title")), Not(Equals("languages", ("en",)))), _ids(R2, R5)),
    (Or(), set()),
    (And(), ALL),
    (Not(And()), set()),
    # hostile words match literally, or nothing
    (Words("{!lucene}*:*"), _ids(R7)),
    (Words("title:PCB"), _ids(R7)),
    (Words("*:*"), set()),
    (Words('"'), set()),
    (Words('"quoted" back\\slash'), _ids(R7)),
    (Words("NEAR(a b)", match="phrase"), _ids(R7)),
    (Words("OR"), _ids(R7)),
    (Words("AND"), _ids(R1, R4, R7)),                                       # "and" is a word like any other
    (Words("PCB\\"), PCB_WORD),
    (Words("\x00PCB\x1b"), PCB_WORD),
    (Words("x' OR 1=1 --"), set()),
    (Words("id:* AND year:[* TO *]", match="phrase"), _ids(R7)),
    (Words("PCB*", "title"), _ids(R1, R2, R7, R9)),                         # not a wildcard
    (Equals("type", ("*",)), set()),
    (Equals("countries", ("KE OR *:*",)), set()),
    (Equals("countries", ("{!lucene}*:*",)), set()),
    (Equals("id", ("*:*", "*")), set()),
    (Equals("type", ('national_report") OR ("x',)), set()),
    (Equals("type", ("national_report\\",)), set()),
    (Equals("year", ("2019 OR 1", "[* TO *]")), set()),
    (Equals("countries", ("\ud800",)), set()),
    (Not(Equals("countries", ("{!lucene}*:*",))), ALL),
]


@pytest.fixture
def corpus(backend):
    load(backend, CORPUS)
    return backend


def ids(res: Results) -> list[str]:
    return [h.id for h in res.hits]


def found(b, where, text: str = "", **kw) -> set[str]:
    res = b.search(Query(text, where=where, limit=MAX_LIMIT, **kw))
    assert res.total == len(res.hits)
    return set(ids(res))


def test_corpus_records_are_valid_pops_records():
    for r in CORPUS:
        validate(r)


# ----------------------------------------------------------------------------------------------- recent sort


def recent_order(records) -> list[str]:
    return [r["id"] for r in sorted(records, key=lambda r: (recent_date(r), r["id"]), reverse=True)]


def test_recent_date_is_when_stored_else_the_datestamp():
    assert recent_date(R1) == "2024-03-01T10:00:00Z"
    assert recent_date(R7) == R7["datestamp"]
    assert recent_date({"id": "x"}) == "0000-01-01T00:00:00Z"


def test_recent_sort_puts_the_last_stored_first_then_id(corpus):
    expected = recent_order(CORPUS)
    assert expected[:3] == [R9["id"], R2["id"], R1["id"]]        # R1 and R2 stored together: id descending
    assert ids(corpus.search(Query("", sort="recent", limit=MAX_LIMIT))) == expected
    pcb = [i for i in expected if i in PCB_WORD]
    assert ids(corpus.search(Query("PCB", sort="recent", limit=MAX_LIMIT))) == pcb
    africa = ids(corpus.search(Query("", sort="recent", filters={"regions": ["africa"]}, limit=MAX_LIMIT)))
    assert africa == [i for i in expected if i in AFRICA]


@pytest.mark.parametrize("text,where", [("", None), ("PCB", None), ("", Not(Equals("type", ("x",))))])
def test_recent_sort_pages_by_cursor_and_offset(corpus, text, where):
    expected = ids(corpus.search(Query(text, where=where, sort="recent", limit=MAX_LIMIT)))
    seen, cursor, pages = [], None, 0
    while True:
        res = corpus.search(Query(text, where=where, sort="recent", limit=2, cursor=cursor))
        assert res.total == len(expected)
        seen += ids(res)
        pages += 1
        cursor = res.next_cursor
        if cursor is None:
            break
    assert seen == expected and pages == -(-len(expected) // 2)
    by_offset = [ids(corpus.search(Query(text, where=where, sort="recent", limit=3, offset=o)))
                 for o in range(0, len(expected), 3)]
    assert sum(by_offset, []) == expected
    with pytest.raises(ValueError, match="belongs to sort 'recent'"):
        corpus.search(Query(text, sort="newest", cursor=corpus.search(Query(text, sort="recent", limit=1)).next_cursor))


def test_recent_sort_follows_a_new_harvest(corpus):
    corpus.upsert([{**R10, "harvested": "2025-01-01T00:00:00Z"}])
    corpus.commit()
    assert ids(corpus.search(Query("", sort="recent", limit=1))) == [R10["id"]]


def test_embedded_index_made_before_the_recent_sort_is_upgraded_on_open(tmp_path):
    path = tmp_path / "node.sqlite"
    with EmbeddedBackend(path) as b:
        load(b, CORPUS)
        b.set_indexed_seq(42)
        newest = ids(b.search(Query("", sort="newest", limit=MAX_LIMIT)))
    # make it what an older version wrote: idx_docs without the date columns and their index
    with EmbeddedBackend(path) as b:
        b.db.execute("DROP INDEX idx_docs_recent")
        for column in ("recent_date", "issued", "datestamp"):
            b.db.execute(f"ALTER TABLE idx_docs DROP COLUMN {column}")
        assert "recent_date" not in {r[1] for r in b.db.execute("PRAGMA table_info(idx_docs)")}
    with EmbeddedBackend(path) as b:
        assert b.indexed_seq() == 42 and b.count() == len(CORPUS)       # kept: nothing to rebuild
        assert ids(b.search(Query("", sort="recent", limit=MAX_LIMIT))) == recent_order(CORPUS)
        assert ids(b.search(Query("", sort="newest", limit=MAX_LIMIT))) == newest
        assert found(b, Range("issued", "2021-12-31", None)) == _ids(R3, R6, R8, R9)
        assert found(b, Range("datestamp", "2024", None)) == _ids(R1, R3, R8, R9)
        b.upsert([{**R7, "harvested": "2030-01-01T00:00:00Z"}])
        assert ids(b.search(Query("", sort="recent", limit=1))) == [R7["id"]]
        assert b.db.execute("SELECT 1 FROM sqlite_master WHERE name='idx_docs_recent'").fetchone()


# ----------------------------------------------------------------------------------------------- boolean queries


@pytest.mark.parametrize("where,expected", CASES, ids=[repr(c[0])[:60] for c in CASES])
def test_boolean_query(corpus, where, expected):
    assert found(corpus, where) == expected


def test_where_combines_with_text_and_filters_by_and(corpus):
    assert found(corpus, Equals("type", ("release_inventory",)), "Kenya") == _ids(R4)
    assert found(corpus, Words("burning"), filters={"countries": ["KE"]}) == _ids(R4)
    assert found(corpus, Words("PCB"), "Kenya", filters={"regions": ["africa"]}) == _ids(R1)
    assert found(corpus, Not(Words("PCB")), "inventory") == set()
    res = corpus.search(Query("PCB", where=Equals("countries", ("SN",))))
    assert ids(res) == [R2["id"]] and "<mark>PCB</mark>" in res.hits[0].why["highlights"]["title"][0]


def test_where_counts_facets_over_the_matching_records(corpus):
    res = corpus.search(Query("", where=Words("PCB"), facets=["countries", "type"], limit=0))
    assert res.total == len(PCB_WORD) and res.hits == []
    assert res.facets["countries"] == {"BR": 1, "CA": 1, "CN": 1, "KE": 1, "SN": 1, "TZ": 1}
    assert res.facets["type"] == {"national_report": 4, "action_plan": 1, "assistance_request": 1}
    res = corpus.search(Query("Kenya", where=Not(Equals("type", ("national_report",))), facets=["type"]))
    assert res.facets["type"] == {"release_inventory": 1, "scientific_technical_study": 1}


def test_nothing_matches_quickly_and_everything_is_no_condition(corpus):
    res = corpus.search(Query("", where=And(Words("*"), Equals("type", ("national_report",))), facets=["type"]))
    assert res.total == 0 and res.facets == {"type": {}} and res.next_cursor is None
    assert corpus.search(Query("", where=Or(Words("PCB"), Not(Words("PCB"))))).total == len(ALL)


def test_where_relevance_without_text_sorts_as_newest(corpus):
    newest = ids(corpus.search(Query("", where=Words("PCB"), sort="newest", limit=MAX_LIMIT)))
    assert ids(corpus.search(Query("", where=Words("PCB"), limit=MAX_LIMIT))) == newest


# ----------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize("where,message", [
    (Equals("secret", ("x",)), "unknown field 'secret'"),
    (Words("x", scope="body"), "unknown word scope 'body'"),
    (Words("x", match="some"), "unknown word match 'some'"),
    (Words("   "), "needs words"),
    (Range("price", 1, 2), "unknown range field 'price'"),
    (Range("year"), "needs a low or a high bound"),
    (Range("year", "twenty"), "invalid year"),
    (Range("issued", "2019-13"), "invalid date '2019-13'"),
    (Range("issued", "2019-02-30"), "no such day"),
    (Range("issued", '2019" TO *] OR *:*'), "invalid date"),
    (Range("datestamp", None, "yesterday"), "invalid date 'yesterday'"),
    ("type:national_report", "not a boolean query condition: str"),
    (And(Words("x"), {"or": []}), "not a boolean query condition: dict"),
    (Equals("type", (None,)), "is not a string"),
])
def test_bad_boolean_queries_are_refused_clearly(corpus, where, message):
    with pytest.raises(ValueError, match=message):
        corpus.search(Query("", where=where))


def test_boolean_queries_have_limits():
    deep = Words("x")
    for _ in range(MAX_WHERE_DEPTH):
        deep = And(deep, Words("y"))
    with pytest.raises(ValueError, match="nested more than"):
        check_where(deep)
    with pytest.raises(ValueError, match="more than 128 conditions"):
        check_where(Or(*(Equals("type", (f"t{i}",)) for i in range(200))))
    with pytest.raises(ValueError, match="more than 256 values"):
        check_where(Equals("countries", tuple(f"C{i}" for i in range(300))))
    with pytest.raises(ValueError, match="phrases"):
        check_where(Or(*(Words(f"PFOS {i}") for i in range(40))))     # each names PFOS: every name counts


def test_check_where_simplifies():
    assert check_where(And()) is None and check_where(None) is None
    assert check_where(Not(Not(Words("PCB")))) == Words("PCB")
    assert check_where(Words("a b", match="any")) == Or(Words("a"), Words("b"))
    assert check_where(And(Words("a"), And(Words("b"), Words("a")))) == And(Words("a"), Words("b"))
    assert check_where(Or(Words("a"), Words("*"))) == Words("a")
    assert check_where(Equals("year", ["2019", " 2019 ", "19x"])) == Equals("year", ("2019",))
    assert check_where(Range("issued", "2019", "2019")) == Range("issued", "2019-01-01T00:00:00Z",
                                                                "2019-12-31T23:59:59Z")
    assert check_where(Range("issued", "2019", "2019", low_inclusive=False)) == Or()
    assert check_where(Range("year", 2020, 2019)) == Or()


# ----------------------------------------------------------------------------------------------- both backends agree


@pytest.mark.solr
def test_embedded_and_solr_answer_alike(tmp_path, solr_url):
    from harvester.index import solr_runtime
    from harvester.index.solr import SolrBackend
    core = f"boolean_{uuid.uuid4().hex[:10]}"
    solr = SolrBackend({"url": solr_runtime.create_core(solr_url, core)})
    embedded = EmbeddedBackend(tmp_path / "node.sqlite")
    try:
        load(solr, CORPUS)
        load(embedded, CORPUS)
        for where, _expected in CASES:
            for text, sort in (("", "newest"), ("", "recent"), ("PCB", "relevance"), ("", "title")):
                q = Query(text, where=where, sort=sort, limit=MAX_LIMIT, facets=["countries", "year"])
                a, b = embedded.search(q), solr.search(q)
                assert a.total == b.total, (where, text)
                if sort == "relevance":
                    assert set(ids(a)) == set(ids(b)), (where, text)
                else:
                    assert ids(a) == ids(b), (where, sort)
                assert a.facets == b.facets, where
                assert json.dumps(a.as_json()) and json.dumps(b.as_json())
    finally:
        embedded.close()
        solr.close()
        solr_runtime.unload_core(solr_url, core)
