"""Harvest runs over local sources: static repositories and XML folders, incremental, safe deletion,
per-record diagnostics, locks and the CLI."""
import json
import re
import shutil
import textwrap

import pytest
from click.testing import CliRunner

from cli import main

from harvester.run import OUTCOMES
from harvester.store import Store

from .conftest import CORPUS, copy_sample_node, need
from .test_xmlsafe import XXE

DC = "http://purl.org/dc/elements/1.1/"


def oai_dc(i: int, title: str | None = None) -> str:
    title = title if title is not None else f"Inventory of PCB stockpiles, part {i}"
    return (f'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="{DC}">'
            f'<dc:title xml:lang="en">{title}</dc:title><dc:type>Text</dc:type><dc:language>en</dc:language>'
            f'<dc:date>2021-0{1 + i % 9}-01</dc:date></oai_dc:dc>')


def static_repo(ids, deleted=(), titles=None) -> str:
    titles = titles or {}
    recs = []
    for i in ids:
        meta = oai_dc(i, titles.get(i))
        recs.append(f"<oai:record><oai:header><oai:identifier>oai:test:{i}</oai:identifier>"
                    f"<oai:datestamp>2024-01-0{1 + i % 9}T00:00:00Z</oai:datestamp></oai:header>"
                    f"<oai:metadata>{meta}</oai:metadata></oai:record>")
    for i in deleted:
        recs.append(f'<oai:record><oai:header status="deleted"><oai:identifier>oai:test:{i}</oai:identifier>'
                    f"<oai:datestamp>2024-02-01T00:00:00Z</oai:datestamp></oai:header></oai:record>")
    return textwrap.dedent(f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <Repository xmlns="http://www.openarchives.org/OAI/2.0/static-repository"
                    xmlns:oai="http://www.openarchives.org/OAI/2.0/">
          <Identify><oai:repositoryName>Test</oai:repositoryName><oai:baseURL>http://127.0.0.1/x</oai:baseURL>
            <oai:protocolVersion>2.0</oai:protocolVersion><oai:adminEmail>a@example.org</oai:adminEmail>
            <oai:earliestDatestamp>2000-01-01</oai:earliestDatestamp><oai:deletedRecord>persistent</oai:deletedRecord>
            <oai:granularity>YYYY-MM-DD</oai:granularity></Identify>
          <ListMetadataFormats><oai:metadataFormat><oai:metadataPrefix>oai_dc</oai:metadataPrefix>
            <oai:schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</oai:schema>
            <oai:metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</oai:metadataNamespace></oai:metadataFormat>
          </ListMetadataFormats>
          <ListRecords metadataPrefix="oai_dc">{''.join(recs)}</ListRecords>
        </Repository>""")


@pytest.fixture
def node(tmp_path):
    """A node whose config harvests a static repository and an XML folder, both in tmp_path."""
    (tmp_path / "repo.xml").write_text(static_repo(range(10)), encoding="utf-8")
    (tmp_path / "iso").mkdir()
    cfg = tmp_path / "node_config.yaml"
    cfg.write_text(textwrap.dedent("""\
        node: {id: ke, name: Test node, country: KE}
        store: {path: node.sqlite}
        index: {backend: embedded}
        harvest: {batch_size: 3}
        sources:
          - {id: repo, type: oaipmh, path: repo.xml, metadata_prefix: oai_dc, defaults: {country: KE}}
        """), encoding="utf-8")
    return tmp_path


def harvest(node, *args):
    return CliRunner().invoke(main, ["--config", str(node / "node_config.yaml"), "harvest", "--json", *args])


def reports(result):
    return {r["source"]: r for r in json.loads(result.output)}


def test_harvest_fills_the_store_and_again_changes_nothing(node):
    r = harvest(node)
    assert r.exit_code == 0, r.output
    rep = reports(r)["repo"]
    assert (rep["status"], rep["seen"], rep["stored"], rep["failed"]) == ("ok", 10, 10, 0)
    with Store(node / "node.sqlite") as s:
        assert s.count("repo") == 10
        rec = s.get("ke:repo:oai:test:3")
        assert rec["countries"] == ["KE"] and rec["title"]["en"] == "Inventory of PCB stockpiles, part 3"
        seq = s.max_seq()
    rep = reports(harvest(node))["repo"]
    assert (rep["stored"], rep["unchanged"], rep["deleted"]) == (0, 10, 0)
    with Store(node / "node.sqlite") as s:
        assert s.max_seq() == seq


def test_deleted_and_vanished_records_become_tombstones(node):
    harvest(node)
    (node / "repo.xml").write_text(static_repo(range(1, 9), deleted=[9]), encoding="utf-8")
    rep = reports(harvest(node))["repo"]
    assert rep["status"] == "ok" and rep["deleted"] == 2   # 0 vanished, 9 deleted at the source
    with Store(node / "node.sqlite") as s:
        assert s.count("repo") == 8 and s.count("repo", deleted=True) == 2


@pytest.mark.parametrize("replacement", [
    static_repo([]),                                          # the source suddenly lists nothing
    static_repo(range(5)),                                    # half the records vanish
    "<Repository xmlns='http://www.openarchives.org/OAI/2.0/static-repository'><ListRecords",  # truncated
    "",                                                       # empty file
])
def test_mass_deletion_guard_keeps_every_record(node, replacement):
    harvest(node)
    (node / "repo.xml").write_text(replacement, encoding="utf-8")
    r = harvest(node)
    assert r.exit_code == 1
    rep = reports(r)["repo"]
    assert rep["status"] in ("guarded", "failed", "partial"), rep
    assert rep["deleted"] == 0
    with Store(node / "node.sqlite") as s:
        assert s.count("repo") == 10 and s.count("repo", deleted=True) == 0


def test_force_applies_guarded_deletions(node):
    harvest(node)
    (node / "repo.xml").write_text(static_repo(range(5)), encoding="utf-8")
    assert reports(harvest(node))["repo"]["status"] == "guarded"
    rep = reports(harvest(node, "--force"))["repo"]
    assert rep["status"] == "ok" and rep["deleted"] == 5


def test_a_bad_record_is_quarantined_and_listed(node):
    (node / "repo.xml").write_text(static_repo(range(4), titles={2: ""}), encoding="utf-8")
    r = harvest(node)
    rep = reports(r)["repo"]
    assert (rep["stored"], rep["failed"]) == (3, 1)
    out = CliRunner().invoke(main, ["--config", str(node / "node_config.yaml"), "errors", "--json"])
    groups = json.loads(out.output)
    assert groups[0]["source"] == "repo" and groups[0]["count"] == 1
    assert groups[0]["records"][0]["identifier"] == "oai:test:2"
    assert "no title" in groups[0]["cause"] and "repo.xml, line" in groups[0]["records"][0]["location"]
    # the source fixes the record; replaying it stores it
    (node / "repo.xml").write_text(static_repo(range(4)), encoding="utf-8")
    harvest(node)
    with Store(node / "node.sqlite") as s:
        assert s.failures("repo") == [] and s.count("repo") == 4


def test_one_failing_source_never_stops_the_others(node):
    cfg = node / "node_config.yaml"
    cfg.write_text(cfg.read_text() + "  - {id: dead, type: oaipmh, url: \"http://127.0.0.1:9/oai\", metadata_prefix: oai_dc, retries: 0, timeout: 2}\n")
    r = harvest(node)
    assert r.exit_code == 1
    reps = reports(r)
    assert reps["dead"]["status"] == "failed" and "127.0.0.1:9" in reps["dead"]["error"]
    assert reps["repo"]["status"] == "ok" and reps["repo"]["stored"] == 10


def test_xml_folder_keeps_good_documents_and_refuses_hostile_ones(node):
    iso = node / "iso"
    (iso / "xxe.xml").write_bytes(XXE)
    (iso / "good.xml").write_text(
        '<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco">'
        '<gmd:fileIdentifier><gco:CharacterString>iso-1</gco:CharacterString></gmd:fileIdentifier>'
        '<gmd:identificationInfo><gmd:MD_DataIdentification><gmd:citation><gmd:CI_Citation><gmd:title>'
        '<gco:CharacterString>Dioxin emission sources, Kenya</gco:CharacterString></gmd:title></gmd:CI_Citation>'
        '</gmd:citation></gmd:MD_DataIdentification></gmd:identificationInfo></gmd:MD_Metadata>', encoding="utf-8")
    cfg = node / "node_config.yaml"
    cfg.write_text(cfg.read_text() + "  - {id: geo, type: xml, path: iso, format: iso19139}\n")
    rep = reports(harvest(node, "geo"))["geo"]
    assert (rep["stored"], rep["failed"]) == (1, 1)
    with Store(node / "node.sqlite") as s:
        assert s.get("ke:geo:iso-1")["title"] == {"und": "Dioxin emission sources, Kenya"} or \
            list(s.get("ke:geo:iso-1")["title"].values()) == ["Dioxin emission sources, Kenya"]
        fail = s.failures("geo")[0]
        assert "entities" in fail["error"] and fail["identifier"].endswith("xxe.xml")


def test_a_running_harvest_blocks_a_second_one(node):
    with Store(node / "node.sqlite") as s:
        assert s.acquire("repo") is not None        # held by this (live) process
    r = harvest(node)
    assert r.exit_code == 3
    assert reports(r)["repo"]["status"] == "busy"


def test_status_reports_counts_and_last_run(node):
    harvest(node)
    out = CliRunner().invoke(main, ["--config", str(node / "node_config.yaml"), "status", "--json"])
    st = json.loads(out.output)
    src = st["sources"][0]
    assert src["id"] == "repo" and src["records"] == 10 and src["deleted"] == 0
    assert src["last_run"]["status"] == "ok" and src["last_run"]["stored"] == 10


def test_unknown_source_is_a_usage_error(node):
    r = harvest(node, "nope")
    assert r.exit_code == 2 and "no source 'nope'" in r.output


def test_records_from_local_files_do_not_show_the_node_s_paths(sample_node):
    """origin.url is where a reader can find the original; a path on this node's disk is not that."""
    from harvester.store import Store
    with Store(sample_node.cfg.store_path) as store:
        urls = {row["source"]: json.loads(row["record"])["origin"].get("url")
                for row in store.db.execute("SELECT source, record FROM records WHERE deleted=0")}
    assert set(urls) >= {"ke-moe", "ke-data", "ke-geo"}
    assert all(u is None or u.startswith(("http://", "https://")) for u in urls.values()), urls
    assert not any(str(sample_node.cfg.path.parent) in json.dumps(u) for u in urls.values())


# ---------------------------------------------------------------- counts that add up

TEXT_LINE = re.compile(r"^(\S+): \w+ — seen (\d+): (.*); deleted (\d+) in ", re.M)
TEXT_OUTCOME = re.compile(r"([a-z ]+?) (\d+)(?: \([^)]*\))?(?:, |$)")


def text_reports(output: str) -> list[dict]:
    """The harvest command's text lines as {"source", "seen", <outcome>..., "deleted"}."""
    return [{"source": sid, "seen": int(seen), "deleted": int(deleted),
             **{name.replace(" ", "_"): int(n) for name, n in TEXT_OUTCOME.findall(outcomes)}}
            for sid, seen, outcomes, deleted in TEXT_LINE.findall(output)]


def check_accounted(cfg_path, reps: list[dict]) -> dict:
    """seen = the sum of the outcomes, and the run log `status` shows says the same; {source: report}."""
    assert reps
    for r in reps:
        assert r["seen"] == sum(r[k] for k in OUTCOMES), r
    st = json.loads(CliRunner().invoke(main, ["--config", str(cfg_path), "status", "--json"]).output)
    runs = {s["id"]: s["last_run"] for s in st["sources"]}
    for r in reps:
        assert {k: runs[r["source"]][k] for k in ("seen", *OUTCOMES, "deleted")} == \
            {k: r[k] for k in ("seen", *OUTCOMES, "deleted")}
    return {r["source"]: r for r in reps}


def test_every_record_seen_is_accounted_for_on_the_bundled_node(tmp_path):
    """The README's first command: the 35 records ke-moe sees are 33 stored and 2 deletion notices; on the
    next run the 8 it also holds in the native format (from ke-moe-pops) are superseded, not 'unchanged'."""
    cfg = copy_sample_node(tmp_path)
    r = CliRunner().invoke(main, ["--config", str(cfg), "harvest"])
    assert r.exit_code == 0, r.output
    first = check_accounted(cfg, text_reports(r.output))
    assert set(first) == {"ke-moe", "ke-moe-pops", "ke-data", "ke-geo"}
    assert first["ke-moe"] == {"source": "ke-moe", "seen": 35, **dict.fromkeys(OUTCOMES, 0), "stored": 33,
                               "marked_deleted": 2, "deleted": 0}
    assert "stored 8 (8 in place of another source's copy)" in r.output
    r = CliRunner().invoke(main, ["--config", str(cfg), "harvest", "--json"])
    assert r.exit_code == 0, r.output
    again = check_accounted(cfg, json.loads(r.output))
    assert (again["ke-moe"]["stored"], again["ke-moe"]["unchanged"], again["ke-moe"]["superseded"]) == (0, 25, 8)
    st = json.loads(CliRunner().invoke(main, ["--config", str(cfg), "status", "--json"]).output)
    held = {s["id"]: s["records"] for s in st["sources"]}
    assert held["ke-moe"] == 33 - 8 and held["ke-moe-pops"] == 8


def test_a_run_with_failed_records_adds_up_and_exits_1(node):
    (node / "repo.xml").write_text(static_repo(range(6), deleted=[7], titles={2: "", 4: ""}), encoding="utf-8")
    r = harvest(node)
    assert r.exit_code == 1, r.output
    rep = check_accounted(node / "node_config.yaml", json.loads(r.output))["repo"]
    assert (rep["status"], rep["seen"], rep["stored"], rep["failed"], rep["marked_deleted"]) == ("ok", 7, 4, 2, 1)
    r = CliRunner().invoke(main, ["--config", str(node / "node_config.yaml"), "harvest"])
    assert r.exit_code == 1 and "`pops-chm errors` lists them" in r.output
    rep = check_accounted(node / "node_config.yaml", text_reports(r.output))["repo"]
    assert (rep["unchanged"], rep["failed"]) == (4, 2)


# ---------------------------------------------------------------- one identifier, two documents

def test_two_documents_with_one_identifier_keep_the_first_and_say_so(node):
    """OWSLib's iso_mi_19115-2.xml and ec_gc_allspecies_iso_latin1.xml share a fileIdentifier: the first in
    path order is kept, the other is a per-record problem naming both files, and nothing flips between runs."""
    shutil.copytree(need(CORPUS / "iso19139" / "owslib"), node / "owslib")
    cfg = node / "node_config.yaml"
    cfg.write_text(cfg.read_text() + "  - {id: geo, type: xml, path: owslib, format: iso19139}\n")
    shared = "3f342f64-9348-11df-ba6a-0014c2c00eab"
    first = reports(r := harvest(node, "geo"))["geo"]
    assert r.exit_code == 1
    assert (first["seen"], first["stored"], first["duplicates"], first["failed"]) == (11, 10, 1, 0)
    with Store(node / "node.sqlite") as s:
        assert s.count("geo") == 10
        kept = s.get(f"ke:geo:{shared}")
        seq = s.max_seq()
    assert "Allspecies" in json.dumps(kept["title"]) or "ALLSPECIES" in json.dumps(kept["title"]).upper()
    groups = json.loads(CliRunner().invoke(main, ["--config", str(cfg), "errors", "geo", "--json"]).output)
    (problem,) = [rec for g in groups for rec in g["records"]]
    assert problem["identifier"] == shared and "iso_mi_19115-2.xml" in problem["location"]
    assert "ec_gc_allspecies_iso_latin1.xml" in problem["error"] and "duplicate identifier" in problem["error"]
    again = reports(harvest(node, "geo"))["geo"]
    assert (again["stored"], again["unchanged"], again["duplicates"]) == (0, 10, 1)
    with Store(node / "node.sqlite") as s:
        assert s.max_seq() == seq and s.get(f"ke:geo:{shared}") == kept
    replay = CliRunner().invoke(main, ["--config", str(cfg), "harvest", "--replay", f"geo:{shared}"])
    assert replay.exit_code == 1 and "fix the source" in replay.output
    with Store(node / "node.sqlite") as s:
        assert s.get(f"ke:geo:{shared}") == kept, "replaying the duplicate does not overwrite the kept record"


# ---------------------------------------------------------------- a second harvest changes nothing

def test_a_second_harvest_of_an_unchanged_dcat_catalogue_writes_nothing(node, monkeypatch):
    """ckanext-dcat's catalog.rdf gives its datasets several blank-node distributions (their order followed
    the blank nodes' random ids) and dataset_deri.ttl a dataset without a date (dated by the harvest time):
    both used to be rewritten, with a new datestamp, on every run."""
    (node / "dcat").mkdir()
    for name in ("catalog.rdf", "dataset_deri.ttl"):
        shutil.copy(need(CORPUS / "dcat" / "ckanext-dcat" / name), node / "dcat" / name)
    cfg = node / "node_config.yaml"
    cfg.write_text(cfg.read_text() + "  - {id: cat, type: rdf, path: dcat, format: dcat}\n")
    monkeypatch.setattr("harvester.mapping.utcnow", lambda: "2025-03-01T00:00:00Z")
    first = reports(harvest(node, "cat"))["cat"]
    assert first["stored"] == first["seen"] >= 3 and first["failed"] == 0
    query = "SELECT id, datestamp, changed, seq, record FROM records WHERE source='cat' ORDER BY id"
    with Store(node / "node.sqlite") as s:
        before = [tuple(r) for r in s.db.execute(query)]
    assert any(len(json.loads(r[4]).get("links", [])) >= 3 for r in before)
    for day in range(2, 6):   # a new parse (new blank node ids) each day
        monkeypatch.setattr("harvester.mapping.utcnow", lambda: f"2025-03-0{day}T00:00:00Z")
        rep = reports(harvest(node, "cat"))["cat"]
        assert (rep["stored"], rep["unchanged"]) == (0, first["stored"]), rep
    with Store(node / "node.sqlite") as s:
        assert [tuple(r) for r in s.db.execute(query)] == before


# ---------------------------------------------------------------- native records are scored here too

def test_native_records_get_their_completeness_computed_here(tmp_path):
    """Records in the `pops` format are scored like crosswalked ones; a score another node sent is
    recomputed, never trusted."""
    from harvester import enrich, popsxml
    from harvester.mapping import MapContext, map_record
    from harvester.raw import RawRecord
    cfg = copy_sample_node(tmp_path)
    assert CliRunner().invoke(main, ["--config", str(cfg), "harvest", "ke-moe-pops"]).exit_code == 0
    with Store(tmp_path / "data" / "node.sqlite") as s:
        native = [json.loads(r[0]) for r in s.db.execute("SELECT record FROM records WHERE source='ke-moe-pops'")]
    assert len(native) == 8
    for rec in native:
        score, missing = enrich.completeness(rec)
        assert rec["quality"]["completeness"] == round(score, 2) and rec["quality"].get("missing", []) == missing
        assert rec["dedup_key"] == enrich.dedup_key(rec)
    forged = {"id": "tz:tz-moe:1", "origin": {"node": "tz", "source": "tz-moe", "identifier": "1"}, "path": ["tz"],
              "datestamp": "2024-01-02T03:04:05Z", "title": {"en": "PCB inventory"}, "type": "national_report",
              "quality": {"completeness": 1.0}}
    rec = map_record("pops", RawRecord("oai:tz:1", payload=popsxml.to_element(forged)),
                     MapContext(node="ke", source="from-tz", now="2025-01-01T00:00:00Z"))
    assert rec["quality"]["completeness"] < 0.5 and "description" in rec["quality"]["missing"]
    assert rec["path"] == ["tz", "ke"]
