"""The common record: its JSON Schema, and the native pops XML round trip."""
import copy

import pytest
from lxml import etree

from harvester import popsxml
from harvester.record import InvalidRecord, canonical, problems, validate
from harvester.schemas import SCHEMAS_DIR

from .conftest import valid_record

FULL = valid_record(
    id="ke:ke-moe:oai:ke.go:42",
    origin={"node": "ke", "source": "ke-moe", "identifier": "oai:ke.go:42", "format": "oai_dc", "url": "https://ke.example/oai"},
    path=["ke", "global"],
    harvested="2024-05-06T07:08:09Z",
    title={"en": "PCB inventory & <disposal> plan", "fr": "Inventaire des PCB", "zh": "多氯联苯清单", "ar": "خطة"},
    description={"en": "Line one\nline two", "ru": "Инвентаризация ПХБ"},
    keywords={"en": ["PCB", "transformers"], "es": ["bifenilos policlorados"]},
    type="release_inventory",
    chemicals=["pcb", "ddt"],
    articles=[5, 6],
    countries=["KE", "TZ"],
    regions=["africa"],
    languages=["en", "fr"],
    dates={"issued": "2023-11", "modified": "2024-01-05"},
    year=2023,
    creators=["Ministry of Environment"],
    publisher="NEMA",
    links=[{"url": "https://ke.example/a.pdf", "rel": "file", "format": "application/pdf", "title": "Report"},
           {"url": "https://ke.example/a", "rel": "landing"}],
    rights="CC-BY-4.0",
    assistance={"kind": ["technical", "financial"], "provider": "GEF", "eligible_countries": ["KE"],
                "eligible_regions": ["africa"], "activities": ["PCB disposal"], "conditions": {"en": "Parties only"},
                "deadline": "2025-12-31", "status": "open"},
    quality={"completeness": 0.87, "missing": ["contact"]},
    dedup_key="pcb inventory|KE|2023|release_inventory",
)


def test_full_record_is_valid():
    assert validate(copy.deepcopy(FULL)) == FULL


@pytest.mark.parametrize("change, expected", [
    (lambda r: r.pop("title"), "'title' is a required property"),
    (lambda r: r.update(title={}), "title"),
    (lambda r: r.update(title={"english": "x"}), "title"),
    (lambda r: r.update(countries=["Kenya"]), "countries/0"),
    (lambda r: r.update(datestamp="2024-01-02"), "datestamp"),
    (lambda r: r.update(surprise=1), "Additional properties"),
    (lambda r: r.update(links=[{"url": "javascript:alert(1)"}]), "links/0/url"),
    (lambda r: r.update(quality={"completeness": 1.5}), "quality/completeness"),
    (lambda r: r.update(assistance={"status": "maybe"}), "assistance/status"),
    (lambda r: r.update(type="recipe"), "unknown document type 'recipe'"),
    (lambda r: r.update(chemicals=["caffeine"]), "unknown chemical id 'caffeine'"),
    (lambda r: r.update(regions=["atlantis"]), "unknown region id 'atlantis'"),
])
def test_invalid_records_are_refused_with_the_path(change, expected):
    rec = valid_record()
    change(rec)
    found = problems(rec)
    assert found and any(expected in p for p in found), found
    with pytest.raises(InvalidRecord):
        validate(rec)


def test_canonical_drops_empty_values():
    assert canonical({"a": "", "b": [], "c": {}, "d": None, "e": [" x ", ""], "f": {"g": ""}}) == {"e": ["x"]}


def test_pops_xml_round_trip_is_lossless():
    xml = popsxml.to_xml(FULL)
    assert popsxml.from_xml(xml) == FULL


def test_pops_xml_validates_against_the_xml_schema():
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS_DIR / "pops.xsd")))
    doc = etree.fromstring(popsxml.to_xml(FULL))
    assert schema.validate(doc), schema.error_log
    bad = etree.fromstring(popsxml.to_xml(FULL).replace(b"<pops:year>2023", b"<pops:year>soon"))
    assert not schema.validate(bad)


def test_committed_xsd_is_the_one_generated_from_the_json_schema():
    assert (SCHEMAS_DIR / "pops.xsd").read_bytes() == popsxml.xsd()


def test_pops_xml_keeps_markup_as_text():
    back = popsxml.from_xml(popsxml.to_xml(FULL))
    assert back["title"]["en"] == "PCB inventory & <disposal> plan"


def test_pops_xml_refuses_unknown_elements():
    xml = popsxml.to_xml(FULL).replace(b"<pops:rights>", b"<pops:secret>x</pops:secret><pops:rights>")
    with pytest.raises(popsxml.PopsXMLError, match="unexpected element <secret>"):
        popsxml.from_xml(xml)


def test_text_that_is_not_unicode_is_named_not_stored():
    """JSON input can escape a lone surrogate ("\\ud800"); such text can be neither stored nor sent."""
    rec = valid_record()
    rec["keywords"] = {"en": ["fine", "bro\ud83dken"]}
    assert problems(rec) == ["keywords/en/1: text holds a lone surrogate (U+D83D) at character 3"]
    with pytest.raises(InvalidRecord):
        validate(rec)
    rec["keywords"]["en"][1] = "mended \U0001F600"
    assert problems(rec) == []
