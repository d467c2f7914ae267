"""harvester.enrich: recognition in the six UN languages, normalisation, completeness, dedup key, enrich()."""
from __future__ import annotations

import copy
import json
import time

import pytest

from harvester import enrich as E
from harvester import vocab
from harvester.record import validate

MINIMAL = {"id": "ke:s:1", "origin": {"node": "ke", "source": "s", "identifier": "1"}, "path": ["ke"],
           "datestamp": "2024-01-01T00:00:00Z", "title": {"en": "National implementation plan for PCBs"},
           "type": "national_implementation_plan", "countries": ["KE"]}


def full_record(**changes) -> dict:
    rec = {
        "id": "ke:moe:nip-2019",
        "origin": {"node": "ke", "source": "moe", "identifier": "nip-2019"},
        "path": ["ke"],
        "datestamp": "2024-03-01T10:00:00Z",
        "title": {"en": "Updated national implementation plan", "fr": "Plan national de mise en œuvre actualisé"},
        "description": {"en": "Inventories of PCBs in transformers and of obsolete DDT stocks."},
        "keywords": {"en": ["POPs", "inventory"]},
        "type": "national_implementation_plan",
        "countries": ["KE"],
        "languages": ["en", "fr"],
        "dates": {"issued": "2019-06-30"},
        "links": [{"url": "https://example.org/nip.pdf", "rel": "file"}],
        "creators": ["Ministry of Environment"],
        "rights": "Public domain",
    }
    rec.update(changes)
    return rec


# ------------------------------------------------------------------------------------------- chemicals

@pytest.mark.parametrize("text, expected", [
    # English, with case, plural and abbreviation variants
    ("Inventory of polychlorinated biphenyls in transformers", ["pcb"]),
    ("polychlorinated biphenyl", ["pcb"]),
    ("PCBs", ["pcb"]),
    ("pcb", ["pcb"]),
    ("Aroclor 1260 in capacitors", ["pcb"]),
    ("DDT-free malaria control", ["ddt"]),
    ("p,p'-DDT residues", ["ddt"]),
    ("HBCD in polystyrene insulation", ["hbcdd"]),
    ("gamma-HCH (lindane) shampoos", ["lindane"]),
    ("gamma-hexachlorocyclohexane", ["lindane"]),
    ("Decabromodiphenyl ether (c-decaBDE)", ["decabde"]),
    ("short-chain chlorinated paraffins", ["sccp"]),
    ("PFOS, PFOA and PFHxS in fire-fighting foams", ["pfos", "pfoa", "pfhxs"]),
    ("dioxins and furans from open burning", ["pcdd", "pcdf"]),
    ("PCDD/Fs", ["pcdd", "pcdf"]),
    # French (accents optional)
    ("Plan d'élimination des polychlorobiphényles", ["pcb"]),
    ("la chlordécone aux Antilles", ["chlordecone"]),
    ("la chlordecone aux Antilles", ["chlordecone"]),
    ("rejets de dioxines et de furanes", ["pcdd", "pcdf"]),
    # Spanish
    ("Inventario de bifenilos policlorados y dioxinas", ["pcb", "pcdd"]),
    ("uso del endosulfán en algodón", ["endosulfan"]),
    ("éter de decabromodifenilo", ["decabde"]),
    # Russian, inflected
    ("Инвентаризация полихлорированных бифенилов и ДДТ", ["pcb", "ddt"]),
    ("запрет линдана", ["lindane"]),
    ("выбросы диоксинов", ["pcdd"]),
    # Arabic, with the article and conjunction
    ("خطة وطنية للتخلص من الألدرين والديوكسينات", ["aldrin", "pcdd"]),
    ("ثنائي الفينيل متعدد الكلور", ["pcb"]),
    ("مبيد دي دي تي", ["ddt"]),
    # Chinese, by substring
    ("多氯联苯", ["pcb"]),
    ("关于滴滴涕替代品的研究", ["ddt"]),
    ("全氟辛烷磺酸及其盐类", ["pfos"]),
    ("六氯苯和五氯苯", ["hcb", "pecb"]),
    ("多氯联苯(PCBs)和DDT", ["pcb", "ddt"]),
    ("紫外线吸收剂（UV-328）", ["uv328"]),
    # CAS numbers
    ("1336-36-3", ["pcb"]),
    ("CAS No. 50-29-3 and 335-67-1", ["ddt", "pfoa"]),
    ("CAS 1336\u201136\u20113", ["pcb"]),
])
def test_recognises_chemicals(text, expected):
    assert E.recognise_chemicals(text) == sorted(expected, key=list(vocab.chemicals()).index)


@pytest.mark.parametrize("text", [
    "DDTX", "addtional notes", "ddtfree",        # DDT inside other words
    "PFO", "PCBX-2", "hcbx",                      # abbreviations only as whole words
    "1336-36-4", "50-29-4",                       # wrong CAS check digits
    "7732-18-5",                                  # a valid CAS number that is not a POP (water)
    "2019-05-10",                                 # a date is not a CAS number
    "今天天气很好，我们去公园散步。",                 # unrelated Chinese
    "Национальный доклад о состоянии окружающей среды",
    "التقرير الوطني عن حالة البيئة",
    "", "   ",
])
def test_does_not_recognise_unrelated_text(text):
    assert E.recognise_chemicals(text) == []


def test_longer_name_wins_over_a_shorter_one_it_contains():
    assert E.recognise_chemicals("甲氧滴滴涕") == ["methoxychlor"]          # contains 滴滴涕 (DDT)
    assert E.recognise_chemicals("异狄氏剂") == ["endrin"]                  # contains 狄氏剂 (dieldrin)
    assert E.recognise_chemicals("五氯苯酚") == ["pcp"]                     # contains 五氯苯 (PeCB)
    assert E.recognise_chemicals("异狄氏剂和狄氏剂") == ["dieldrin", "endrin"]
    assert E.recognise_chemicals("HBCDD") == ["hbcdd"] and E.recognise_chemicals("HCBD") == ["hcbd"]
    assert E.recognise_chemicals("HCB") == ["hcb"]


def test_every_name_synonym_and_cas_number_recognises_its_chemical():
    for cid, chem in vocab.chemicals().items():
        terms = list(chem["names"].values()) + [s for v in chem["synonyms"].values() for s in v] + chem["cas"]
        for term in terms:
            if len(term) < 3:  # 'DP' is too short for free text
                continue
            assert cid in E.recognise_chemicals(term), (cid, term)
            assert cid in E.recognise_chemicals(f"Report on {term} in 2020."), (cid, term)


def test_a_chemical_id_alone_is_recognised():
    assert E.recognise_chemicals("hexabde_heptabde") == ["hexabde_heptabde"]
    assert E.recognise_chemicals("lc_pfca") == ["lc_pfca"]


def test_valid_cas():
    assert E.valid_cas("1336-36-3") and E.valid_cas(" 50-29-3 ") and E.valid_cas("25637-99-4")
    assert not E.valid_cas("1336-36-4") and not E.valid_cas("1336363") and not E.valid_cas("abc")


def test_recognition_is_compiled_once_and_fast():
    assert E._chemical_matcher() is E._chemical_matcher()
    text = ("The national implementation plan covers inventories of polychlorinated biphenyls (PCBs) in "
            "transformers, obsolete DDT stocks, PFOS in fire-fighting foams and unintentional releases of "
            "dioxins and furans. ") * 6
    zh = "本报告介绍了多氯联苯、滴滴涕和全氟辛烷磺酸的国家清单，以及二噁英的无意排放。" * 4
    E.recognise_chemicals(text)
    start = time.perf_counter()
    for _ in range(300):
        E.recognise_chemicals(text)
        E.recognise_chemicals(zh)
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, f"600 recognitions took {elapsed:.2f} s"


# ------------------------------------------------------------------------------------------- countries, languages

@pytest.mark.parametrize("text, expected", [
    ("Kenya", ["KE"]), ("Kenia", ["KE"]), ("Кения", ["KE"]), ("в Кении и России", ["KE", "RU"]),
    ("肯尼亚", ["KE"]), ("كينيا", ["KE"]), ("KE, TZ", ["KE", "TZ"]), ("ken", ["KE"]),
    ("Republic of Kenya and the United Republic of Tanzania", ["KE", "TZ"]),
    ("Côte d’Ivoire", ["CI"]), ("Cote d'Ivoire", ["CI"]), ("Ivory Coast", ["CI"]),
    ("Democratic Republic of the Congo", ["CD"]), ("Congo", ["CG"]),
    ("Guinea-Bissau and Papua New Guinea", ["GW", "PG"]), ("Niger and Nigeria", ["NE", "NG"]),
    ("中国和南非", ["CN", "ZA"]), ("الإمارات العربية المتحدة", ["AE"]),
    ("Île de la Réunion", ["RE"]), ("se presentó en la reunión de la Conferencia", []),
    ("la réunion des Parties", []), ("南美国家也参加了会议", []), ("印度洋", []),
    ("it is", []), ("in English", []), ("New Mexico", []), ("", []),
])
def test_recognises_countries(text, expected):
    assert E.recognise_countries(text) == sorted(expected)


@pytest.mark.parametrize("tag, expected", [
    ("en", "en"), ("EN", "en"), ("eng", "en"), ("en-GB", "en"), ("en_US", "en"), ("English", "en"),
    ("english", "en"), ("anglais", "en"), ("English (United Kingdom)", "en"), ("английский", "en"),
    ("fre", "fr"), ("fra", "fr"), ("français", "fr"), ("Francais", "fr"),
    ("spa", "es"), ("Español", "es"), ("castellano", "es"), ("rus", "ru"), ("Русский", "ru"),
    ("chi", "zh"), ("zho", "zh"), ("zh-Hans", "zh"), ("zh-TW", "zh"), ("中文", "zh"), ("汉语", "zh"),
    ("ara", "ar"), ("العربية", "ar"),
    ("de", "de"), ("ger", "de"), ("Deutsch", "de"), ("German", "de"), ("nl", "nl"), ("dut", "nl"),
    ("pt", "pt"), ("por", "pt"), ("it", "it"), ("sv", "sv"), ("ca", "ca"), ("el", "el"), ("gre", "el"),
    ("sw", "sw"), ("Kiswahili", "sw"), ("Farsi", "fa"), ("iw", "he"),
    ("und", None), ("mul", None), ("zxx", None), ("xx", None), ("Klingon", None), ("", None), (None, None),
])
def test_normalise_language(tag, expected):
    assert E.normalise_language(tag) == expected


@pytest.mark.parametrize("text, expected", [
    ("eng; fra", ["en", "fr"]), ("English, Spanish", ["en", "es"]), ("in English and French", ["en", "fr"]),
    ("на английском языке", ["en"]), ("中文版", ["zh"]), ("العربية", ["ar"]),
    ("francés", ["fr"]), ("España y Francia", []), ("La France", []), ("fine-tuning", []),
    ("Latin America", []), ("French Guiana", []), ("المملكة العربية السعودية", []), ("it is", []),
])
def test_recognises_languages(text, expected):
    assert E.recognise_languages(text) == expected


def test_lookup():
    assert E.lookup("Informe sobre PCB en Kenia, en español") == {
        "chemicals": ["pcb"], "countries": ["KE"], "languages": ["es"]}
    assert E.lookup("") == {"chemicals": [], "countries": [], "languages": []}


def test_normalise_country_and_regions():
    assert E.normalise_country("ke") == "KE" and E.normalise_country("KEN") == "KE"
    assert E.normalise_country("Kenya") == "KE" and E.normalise_country("Republic of Kenya") == "KE"
    assert E.normalise_country("Atlantis") is None and E.normalise_country("") is None
    assert E.regions_for(["KE", "BR", "TW", "NG"]) == ["africa", "grulac"]
    assert E.regions_for([]) == []
    assert E.normalise_region("GRULAC") == "grulac" and E.normalise_region("weog") == "weog"
    assert E.normalise_region("Eastern European States") == "cee" and E.normalise_region("Mars") is None


# ------------------------------------------------------------------------------------------- completeness

def test_completeness_of_a_full_record_is_one():
    score, missing = E.completeness(full_record(chemicals=["pcb"]))
    assert score == pytest.approx(1.0) and missing == []


def test_completeness_names_what_is_missing():
    score, missing = E.completeness(MINIMAL)
    assert missing == ["description", "chemicals", "links", "year", "creators", "keywords", "languages",
                       "title_translations", "rights"]
    assert score == pytest.approx(0.15 + 0.10 + 0.05)


def test_completeness_rewards_more_fields_and_a_second_title_language():
    one_title = full_record(chemicals=["pcb"], title={"en": "Updated national implementation plan"})
    score_one, missing_one = E.completeness(one_title)
    assert missing_one == ["title_translations"] and score_one == pytest.approx(0.95)
    no_rights = full_record(chemicals=["pcb"])
    del no_rights["rights"]
    assert E.completeness(no_rights)[0] == pytest.approx(0.96)
    assert E.completeness(full_record(chemicals=["pcb"], publisher="UNEP", creators=[]))[1] == []


def test_completeness_of_assistance_records_counts_assistance_fields():
    base = full_record(chemicals=["pcb"], type="assistance_source")
    score, missing = E.completeness(base)
    assert missing == ["assistance.kind", "assistance.provider", "assistance.eligible_countries",
                       "assistance.how_to_apply", "assistance.status"]
    assert score == pytest.approx(1.0 / 1.2)
    complete = full_record(chemicals=["pcb"], type="assistance_source", assistance={
        "kind": ["financial"], "provider": "GEF", "eligible_regions": ["africa"], "contact": "gef@example.org",
        "status": "open"})
    assert E.completeness(complete) == (pytest.approx(1.0), [])
    request = full_record(chemicals=["pcb"], type="assistance_request", assistance={"kind": ["technical"]})
    assert E.completeness(request)[1] == ["assistance.provider", "assistance.status", "assistance.deadline",
                                          "assistance.activities"]


# ------------------------------------------------------------------------------------------- dedup key

def test_dedup_key_ignores_case_accents_punctuation_and_spaces():
    a = full_record(title={"en": "National Implementation Plan: PCBs & Dioxins (update)"})
    b = full_record(title={"en": "national implementation plan -- pcbs dioxins   UPDATE!"}, countries=["KE"])
    assert E.dedup_key(a) == E.dedup_key(b) == "national implementation plan pcbs dioxins update|KE|2019|" \
                                               "national_implementation_plan"
    c = full_record(title={"fr": "Plan national de mise en œuvre révisé"})
    d = full_record(title={"fr": "PLAN NATIONAL DE MISE EN ŒUVRE REVISE."})
    assert E.dedup_key(c) == E.dedup_key(d)


def test_dedup_key_separates_years_types_and_countries():
    base = E.dedup_key(full_record())
    assert E.dedup_key(full_record(dates={"issued": "2020-01-01"})) != base
    assert E.dedup_key(full_record(type="national_report")) != base
    assert E.dedup_key(full_record(countries=["TZ"])) != base
    assert E.dedup_key(full_record(year=2019, dates={})) == base


def test_dedup_key_uses_the_english_title_and_the_first_country_in_code_order():
    a = full_record(title={"fr": "Plan", "en": "Plan for PCBs"}, countries=["UG", "KE"])
    b = full_record(title={"eng": "Plan for PCBs"}, countries=["KE", "UG"])
    assert E.dedup_key(a) == E.dedup_key(b)
    assert E.dedup_key(a).startswith("plan for pcbs|KE|")


# ------------------------------------------------------------------------------------------- enrich

def test_enrich_does_not_change_its_input():
    rec = full_record(chemicals=["pcb"], keywords={"eng": ["DDT"]}, countries=["ke"])
    before = copy.deepcopy(rec)
    out = E.enrich(rec)
    assert rec == before
    assert out is not rec and out["keywords"] is not rec["keywords"]


def test_enrich_minimal_record_validates_and_is_filled():
    out = validate(E.enrich(MINIMAL))
    assert out["chemicals"] == ["pcb"]
    assert out["regions"] == ["africa"]
    assert out["languages"] == ["en"]
    assert out["quality"]["completeness"] == 0.48
    assert "description" in out["quality"]["missing"]
    assert out["dedup_key"] == "national implementation plan for pcbs|KE||national_implementation_plan"
    assert "year" not in out


def test_enrich_unions_chemicals_from_every_text_and_language():
    rec = dict(MINIMAL, chemicals=["mirex", "1336-36-3", "unknown-thing"],
               title={"en": "Plan", "zh": "滴滴涕替代品"},
               description={"ru": "Инвентаризация ПХБ", "fr": "rejets de dioxines"},
               keywords={"es": ["clordecona"], "ar": ["الألدرين"]})
    out = validate(E.enrich(rec))
    assert out["chemicals"] == ["aldrin", "mirex", "pcb", "ddt", "pcdd", "chlordecone"]


def test_enrich_normalises_languages_countries_and_regions():
    rec = dict(MINIMAL, title={"eng": "Plan", "fre": "Plan", "xx-Klingon": "?"},
               description={"English": "A plan."}, keywords={"EN": ["a"], "en-GB": ["a", "b"]},
               languages=["English", "fre", "tlh-x", "und"], countries=["ken", "Brazil", "Atlantis"],
               regions=["GRULAC", "scrc_kenya", "nowhere"],
               links=[{"url": "https://example.org", "language": "eng"}, {"url": "https://example.org/2",
                                                                         "language": "zzz"}])
    out = validate(E.enrich(rec))
    assert out["title"] == {"en": "Plan", "fr": "Plan", "xx-klingon": "?"}
    assert out["description"] == {"en": "A plan."}
    assert out["keywords"] == {"en": ["a", "b"]}
    assert out["languages"] == ["en", "fr"]
    assert out["countries"] == ["KE", "BR"]
    assert out["regions"] == ["africa", "grulac", "scrc_kenya"]
    assert out["links"] == [{"url": "https://example.org", "language": "en"}, {"url": "https://example.org/2"}]


def test_enrich_takes_languages_from_title_keys_except_und():
    out = E.enrich(dict(MINIMAL, title={"fr": "Plan", "und": "Plan", "ru": "План"}))
    assert out["languages"] == ["fr", "ru"]
    assert "languages" not in E.enrich(dict(MINIMAL, title={"und": "Plan"}))


@pytest.mark.parametrize("dates, year", [
    ({"issued": "2019-06", "created": "2017", "modified": "2021-01-01"}, 2019),
    ({"created": "2017-02-03", "modified": "2021-01-01"}, 2017),
    ({"modified": "2021-01-01"}, 2021),
    ({"valid_until": "2030"}, None),
])
def test_enrich_year_from_dates(dates, year):
    out = validate(E.enrich(dict(MINIMAL, dates=dates)))
    assert out.get("year") == year


def test_enrich_keeps_a_given_year():
    assert E.enrich(dict(MINIMAL, year=2001, dates={"issued": "2019"}))["year"] == 2001


def test_enrich_assistance_regions_and_quality():
    rec = dict(MINIMAL, type="assistance_source", assistance={
        "kind": ["financial"], "provider": "GEF", "eligible_countries": ["BR", "Argentina", "ke"],
        "eligible_regions": ["asia_pacific"], "conditions": {"eng": "Parties only"}, "status": "open"})
    out = validate(E.enrich(rec))
    assert out["assistance"]["eligible_countries"] == ["BR", "AR", "KE"]
    assert out["assistance"]["eligible_regions"] == ["africa", "asia_pacific", "grulac"]
    assert out["assistance"]["conditions"] == {"en": "Parties only"}
    assert "assistance.how_to_apply" in out["quality"]["missing"]
    assert "assistance.kind" not in out["quality"]["missing"]


def test_enrich_omits_empty_values():
    rec = dict(MINIMAL, title={"en": "Annual report", "fr": "  "}, countries=["Atlantis"], languages=["xx"],
               keywords={"en": ["", " "]}, chemicals=[], description={}, creators=[""], rights="")
    out = validate(E.enrich(rec))
    for key in ("countries", "regions", "chemicals", "keywords", "description", "creators", "rights"):
        assert key not in out, key
    assert out["title"] == {"en": "Annual report"} and out["languages"] == ["en"]


def test_enrich_of_a_complete_record_has_no_missing_list():
    out = validate(E.enrich(full_record()))
    assert out["quality"] == {"completeness": 1.0}
    assert out["chemicals"] == ["pcb", "ddt"] and out["year"] == 2019


def test_enrich_is_idempotent():
    once = E.enrich(full_record(keywords={"eng": ["PFOS"]}, quality={"completeness": 0.1}, dedup_key="stale"))
    assert E.enrich(once) == once
    assert once["quality"] == {"completeness": 1.0} and once["dedup_key"] != "stale"


# ------------------------------------------------------------------------------------------- list caps

def _oai_dc_file(path, elements: list[str]):
    body = "".join(elements)
    path.write_text('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
                    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>One huge record</dc:title>'
                    f'{body}</oai_dc:dc>', encoding="utf-8")
    return path


def _map_one(path) -> dict:
    from click.testing import CliRunner
    from cli import main
    r = CliRunner().invoke(main, ["map", "--format", "oai_dc", str(path)])
    assert r.exit_code == 0, r.output
    (line,) = r.stdout.splitlines()
    return json.loads(line)


def test_map_cuts_100000_subjects_to_the_cap_and_says_so(tmp_path):
    """3.2 MB of dc:subject (under the record size limit) used to take over a minute: membership was tested
    on lists. The behaviour is asserted here, never the time (bench/enrich_lists.py measures it)."""
    subjects = ["<dc:subject>PCB</dc:subject>"] + [f"<dc:subject>subject {i}</dc:subject>" for i in range(99_999)]
    rec = _map_one(_oai_dc_file(tmp_path / "subjects.xml", subjects))
    cap = E.LIST_CAPS["keywords"]
    assert rec["keywords"]["und"] == ["PCB"] + [f"subject {i}" for i in range(cap - 1)]
    assert rec["quality"]["warnings"] == [f"keywords: 100000 values, kept the first {cap}"]
    assert rec["chemicals"] == ["pcb"]


def test_map_cuts_60000_identifiers_to_the_link_cap(tmp_path):
    ids = [f"<dc:identifier>https://example.org/doc/{i}</dc:identifier>" for i in range(60_000)]
    ids += ["<dc:identifier>https://example.org/doc/0</dc:identifier>"]   # a repeat stays one link
    rec = _map_one(_oai_dc_file(tmp_path / "ids.xml", ids))
    cap = E.LIST_CAPS["links"]
    assert [link["url"] for link in rec["links"]] == [f"https://example.org/doc/{i}" for i in range(cap)]
    assert rec["links"][0]["rel"] == "landing"
    assert rec["quality"]["warnings"] == [f"links: 60000 values, kept the first {cap}"]


def test_enrich_caps_every_list_field_and_counts_keywords_across_languages(monkeypatch):
    for name in E.LIST_CAPS:
        monkeypatch.setitem(E.LIST_CAPS, name, 3)
    rec = full_record(keywords={"en": ["a", "b"], "fr": ["c", "d"], "es": ["e"]},
                      creators=[f"Author {i}" for i in range(5)], countries=["KE", "TZ", "UG", "RW"])
    out = validate(E.enrich(rec))
    assert out["keywords"] == {"en": ["a", "b"], "fr": ["c"]}
    assert out["creators"] == ["Author 0", "Author 1", "Author 2"]
    assert out["countries"] == ["KE", "TZ", "UG"]
    assert out["quality"]["warnings"] == ["keywords: 5 values, kept the first 3", "creators: 5 values, kept the first 3",
                                          "countries: 4 values, kept the first 3"]


def test_enrich_at_the_cap_cuts_nothing():
    cap = E.LIST_CAPS["keywords"]
    out = E.enrich(full_record(keywords={"en": [f"k{i}" for i in range(cap)]}))
    assert len(out["keywords"]["en"]) == cap
    assert "warnings" not in out["quality"]
