"""Every real file of the shared corpus that has a crosswalk goes through split + map_record.

A file either splits (each record then maps, or fails with a MappingError that says why) or is refused as a
whole with a clear error naming the file (the deliberately broken ones). Per-file counts are printed; run
with `-s` to see the table. The corpus is ../shared/corpus, or POPS_CORPUS_DIR; without it the tests skip,
except in CI (CI=true) where a missing corpus fails.
"""
from __future__ import annotations

import re

import pytest
import yaml

from harvester import crosswalks
from harvester.crosswalks.dcat import RDFError, RemoteContext
from harvester.mapping import MapContext, MappingError, map_record
from harvester.xmlsafe import MalformedXML

from .conftest import CORPUS, need

pytestmark = pytest.mark.corpus

HAVE_CORPUS = (CORPUS / "MANIFEST.tsv").is_file()

# OAI-PMH metadataPrefix -> crosswalk (csw:Record is Dublin Core, read by oai_dc)
PREFIXES = {"oai_dc": "oai_dc", "csw-record": "oai_dc", "iso19139": "iso19139"}
RDF_SUFFIXES = {".ttl", ".rdf", ".jsonld", ".nt", ".n3"}

# Files that are broken on purpose: the whole file is refused with this error, naming the file.
FILE_ERRORS = {
    "oaipmh/sickle/ListRecordsBroken.xml": (MalformedXML, "Start tag expected"),
    "oaipmh/pyoai/erasmus2006_Identify_bogus_element.xml": (MalformedXML, "tag mismatch"),
    "oaipmh/pyoai/erasmus2006_Identify_undefined_entity.xml": (MalformedXML, "Entity 'bogus' not defined"),
    "iso19139/ckanext-spatial/error_bad_xml.xml": (MalformedXML, "Premature end of data"),
    "dcat/ckanext-dcat/dataset.ttl": (RDFError, 'Prefix "healthdcatap:" not bound'),
    "dcat/dcat-ap/dcatap3_dataset_series_combined.ttl": (RDFError, "not valid Turtle"),
    "dcat/dcat-ap/dcatap3_dataset_series_combined.jsonld": (RemoteContext, "remote"),
}

# Files that obviously hold good records: at least this many must map.
MIN_MAPPED = {
    "oaipmh/pyoai/erasmus2004_ListRecords_81records.xml": 75,
    "oaipmh/pyoai/erasmus2003_ListRecords.xml": 15,
    "oaipmh/pyoai/erasmus2003_GetRecord.xml": 1,
    "oaipmh/pyoai/erasmus2003_bare_oai_dc_record.xml": 1,
    "oaipmh/pyoai/erasmus2004_GetRecord_1162.xml": 1,
    "oaipmh/mycore_bielefeld/listRecordsDoctoralThesis.xml": 195,
    "oaipmh/mycore_bielefeld/listRecordsDoctoralThesis2.xml": 195,
    "oaipmh/mycore_bielefeld/listpatentrecords.xml": 90,
    "oaipmh/mycore_bielefeld/getdcrecord.xml": 1,
    "oaipmh/tethys/list-records-1.xml": 3,
    "oaipmh/tethys/list-records-2.xml": 3,
    "oaipmh/tethys/list-records-3.xml": 3,
    "oaipmh/tethys/get-record.xml": 1,
    "oaipmh/sickle/GetRecord.xml": 1,
    "oaipmh/sickle/GetRecord_utf8test.xml": 1,
    "oaipmh/sickle/ListRecords.xml": 1,
    "oaipmh/pycsw/ListRecords_oai_dc.xml": 8,
    "oaipmh/pycsw/ListRecords_csw-record.xml": 8,
    "oaipmh/pycsw/ListRecords_iso19139.xml": 8,
    "oaipmh/pycsw262_live/ListRecords_oai_dc_p1.xml": 3,
    "oaipmh/pycsw262_live/ListRecords_iso19139_p1.xml": 3,
    "oaipmh/pycsw262_live/GetRecord_iso19139_che.xml": 1,
    "oaipmh/scythe_vcr/list_records.yaml#0": 50,
    "oaipmh/scythe_vcr/list_records.yaml#7": 50,
    "oaipmh/scythe_vcr/get_record.yaml#2": 1,
    "csw/geodatagov/pycsw110_GetRecordsResponse_iso.xml": 2,
    "csw/geodatagov/GetRecordsResponse_iso_2records.xml": 2,
    "csw/owslib/inspire_GetRecordsResponse_multilingual.xml": 2,
    "csw/owslib/csw_dov_GetRecordByIdResponse_nl.xml": 1,
    "csw/pycsw/csw202_GetRecordsResponse_iso_full_page1.xml": 5,
    "csw/pycsw/csw202_GetRecordsResponse_iso_from_harvested_wms.xml": 4,
    "csw/pycsw262_live/GetRecordById_geobretagne.xml": 1,
    "csw/pycsw262_live/GetRecords_iso_full_start4.xml": 3,
    "dcat/ckanext-dcat/catalog.rdf": 2,
    "dcat/ckanext-dcat/catalog_datasets_list.rdf": 2,
    "dcat/ckanext-dcat/catalog_pod.jsonld": 1,
    "dcat/ckanext-dcat/dataset.rdf": 1,
    "dcat/ckanext-dcat/dataset_gob_es.ttl": 1,
    "dcat/ckanext-dcat/dataset_gov_de.rdf": 1,
    "dcat/ckanext-dcat/dataset_multilingual.ttl": 1,
    "dcat/ckanext-dcat/dataset_sweden.rdf": 1,
    "dcat/dcat-ap/hvd3_ms_catalogue.ttl": 2,
    "dcat/dcat-ap/hvd3_ms_catalogue.jsonld": 2,
    "dcat/dcat-ap/dcatap2.1.1_example1.nt": 1,
    "dcat/dcat-ap/dcatap3_series_spatial.ttl": 3,
}
# Every ISO document under iso19139/ holds one good record, except the broken ones above.

SUMMARY: dict[str, tuple] = {}


def _prefix(data: bytes) -> str | None:
    m = re.search(rb"<(?:\w+:)?request\b[^>]*\bmetadataPrefix=\"([^\"]+)\"", data, re.IGNORECASE)
    return m.group(1).decode() if m else None


def _cases() -> list[tuple[str, str]]:
    """(case id, crosswalk name) for every corpus file (or cassette response) that has a crosswalk."""
    if not HAVE_CORPUS:
        return []
    out = []
    for path in sorted((CORPUS / "oaipmh").rglob("*.xml")):
        prefix = _prefix(path.read_bytes())
        fmt = PREFIXES.get(prefix) if prefix else "oai_dc"   # verbs without a prefix hold no records
        if fmt:
            out.append((path.relative_to(CORPUS).as_posix(), fmt))
    for path in sorted((CORPUS / "oaipmh").rglob("*.yaml")):  # recorded HTTP exchanges with real providers
        for i, exchange in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]):
            uri = exchange["request"]["uri"]
            if "verb=ListRecords" in uri or "verb=GetRecord" in uri:
                body = _cassette_body(exchange)
                if _prefix(body.encode("utf-8")) in ("oai_dc", None) and "metadataPrefix=datacite" not in uri:
                    out.append((f"{path.relative_to(CORPUS).as_posix()}#{i}", "oai_dc"))
    for path in sorted((CORPUS / "iso19139").rglob("*.xml")):
        out.append((path.relative_to(CORPUS).as_posix(), "iso19139"))
    for path in sorted((CORPUS / "csw").rglob("*.xml")):
        data = path.read_bytes()
        if re.search(rb"<(?:\w+:)?(?:MD_Metadata|MI_Metadata)[\s>]", data):
            out.append((path.relative_to(CORPUS).as_posix(), "iso19139"))
        elif re.search(rb"<(?:\w+:)?Record[\s>]", data):
            out.append((path.relative_to(CORPUS).as_posix(), "oai_dc"))
    for path in sorted((CORPUS / "dcat").rglob("*")):
        if path.suffix in RDF_SUFFIXES:
            out.append((path.relative_to(CORPUS).as_posix(), "dcat"))
    return out


def _cassette_body(exchange: dict) -> str:
    body = exchange["response"]["body"]
    return body.get("content") or body.get("string") or ""


def _read(case: str) -> tuple[bytes, str]:
    if "#" in case:
        name, index = case.rsplit("#", 1)
        exchanges = yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))["interactions"]
        return _cassette_body(exchanges[int(index)]).encode("utf-8"), case
    return (CORPUS / case).read_bytes(), case


CASES = _cases()


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    if SUMMARY:
        print("\n\ncorpus mapping summary (file: mapped / failed / deleted, or the file's error)")
        totals: dict[str, list[int]] = {}
        for case, (fmt, mapped, failed, deleted, error) in sorted(SUMMARY.items()):
            print(f"  [{fmt}] {case}: " + (error if error else f"{mapped} mapped, {failed} failed, {deleted} deleted"))
            t = totals.setdefault(fmt, [0, 0, 0, 0])
            t[0] += 1
            t[1] += mapped
            t[2] += failed
            t[3] += bool(error)
        for fmt, (files, mapped, failed, errors) in sorted(totals.items()):
            print(f"  {fmt}: {files} files, {mapped} records mapped, {failed} failed, {errors} files refused")


def test_corpus_present():
    need(CORPUS / "MANIFEST.tsv")       # skips without the corpus, fails under CI=true
    formats = {fmt for _, fmt in CASES}
    assert formats == {"oai_dc", "iso19139", "dcat"}
    assert len(CASES) > 100
    assert set(FILE_ERRORS) | {c.split("#")[0] for c in MIN_MAPPED} <= {c.split("#")[0] for c, _ in CASES}


@pytest.mark.parametrize("case,fmt", CASES, ids=[c for c, _ in CASES])
def test_corpus_file_maps(case, fmt):
    data, where = _read(case)
    cw = crosswalks.get(fmt)
    ctx = MapContext(node="test", source="corpus")
    mapped = failed = deleted = 0
    reasons = []
    if case in FILE_ERRORS:
        kind, words = FILE_ERRORS[case]
        with pytest.raises(kind) as info:
            for _ in cw.split(data, where):
                pass
        message = str(info.value)
        SUMMARY[case] = (fmt, 0, 0, 0, f"refused: {type(info.value).__name__}: {message[:120]}")
        assert isinstance(info.value, ValueError)
        assert where in message and words in message
        return
    for raw in cw.split(data, where):
        if raw.deleted:          # a tombstone (Zenodo sends some with their last metadata): not mapped
            deleted += 1
            continue
        try:
            rec = map_record(fmt, raw, ctx)
        except MappingError as exc:
            failed += 1
            reasons.append(str(exc))
            continue
        mapped += 1
        assert rec["id"].startswith("test:corpus:") and rec["origin"]["format"] == fmt
        assert rec["title"] and all(text.strip() == text and text for text in rec["title"].values())
        for link in rec.get("links", []):
            assert re.match(r"^(https?|ftp)://\S+$", link["url"])
    SUMMARY[case] = (fmt, mapped, failed, deleted, None)
    print(f"{case}: {mapped} mapped, {failed} failed, {deleted} deleted")
    for reason in reasons:       # each failure says why, and only the known kinds of reason occur
        assert re.search(r"has no title|no \S+ metadata in this record|expected .* metadata", reason), reason
    minimum = MIN_MAPPED.get(case, 1 if case.startswith("iso19139/") else 0)
    assert mapped >= minimum, f"{case}: {mapped} mapped, expected at least {minimum}; failures: {reasons[:3]}"
