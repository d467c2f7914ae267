"""Harvest runs over local sources: static repositories and XML folders, incremental, safe deletion,
per-record diagnostics, locks and the CLI."""
import json
import shutil
import textwrap

import pytest
from click.testing import CliRunner

from cli import main

from harvester.store import Store

from .conftest import CORPUS, need
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
    (node / "repo.xml").write_text(static_repo(range(1, 10), deleted=[9]), encoding="utf-8")
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
