"""The command line: help everywhere, map, vocab lookup, and the bundled node end to end."""
import json
import shutil

import pytest
import requests
from click.testing import CliRunner

from cli import main

from .conftest import ROOT, copy_sample_node

SAMPLES = ROOT / "samples"


def invoke(*args, **kw):
    return CliRunner(**kw).invoke(main, list(args))


@pytest.mark.parametrize("cmd", [[], ["config"], ["config", "check"], ["map"], ["vocab"], ["vocab", "lookup"],
                                 ["harvest"], ["status"], ["errors"], ["formats"], ["search"], ["reindex"],
                                 ["match"], ["report"], ["serve"], ["schedule"], ["solr"], ["solr", "start"],
                                 ["solr", "init"], ["solr", "stop"], ["solr", "status"]])
def test_help_everywhere(cmd):
    r = invoke(*cmd, "--help")
    assert r.exit_code == 0 and "Usage:" in r.output


def test_map_pops_prints_json_lines():
    r = invoke("map", "--format", "pops", str(SAMPLES / "ke-moe-oai.xml"))
    assert r.exit_code == 0, r.output
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(recs) == 8
    assert all(rec["origin"]["format"] == "pops" for rec in recs)
    assert {rec["type"] for rec in recs} >= {"assistance_source", "assistance_request"}


def test_map_says_when_a_file_holds_no_record_of_the_format():
    r = invoke("map", "--format", "iso19139", str(SAMPLES / "ke-moe-oai.xml"))
    assert r.exit_code == 0
    assert "holds no iso19139 record" in r.stderr and r.stdout == ""


def test_map_reports_bad_records_and_exits_1(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
                   'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject>PCB</dc:subject></oai_dc:dc>')
    broken = tmp_path / "broken.xml"
    broken.write_text("<oai_dc:dc")
    r = invoke("map", "--format", "oai_dc", str(bad), str(broken))
    assert r.exit_code == 1
    assert f"{bad}, line 1: record" in r.stderr and "no title" in r.stderr
    assert f"{broken}: line 1" in r.stderr


def test_map_unknown_format_is_a_usage_error(tmp_path):
    r = invoke("map", "--format", "marc", str(SAMPLES / "ke-moe-oai.xml"))
    assert r.exit_code == 2 and "unknown format 'marc'" in r.output


def test_vocab_lookup_json():
    r = invoke("vocab", "lookup", "Inventaire des PCB et du 滴滴涕 au Kenya (CAS 87-86-5)", "--json")
    assert r.exit_code == 0, r.output
    found = json.loads(r.output)
    assert set(found["chemicals"]) == {"pcb", "ddt", "pcp"}
    assert found["countries"] == ["KE"]


def test_bundled_node_end_to_end(tmp_path):
    """The README's first command on a copy of the project: harvest the samples, then nothing changes."""
    for name in ("node_config.yaml",):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(SAMPLES, tmp_path / "samples")
    cfg = str(tmp_path / "node_config.yaml")
    r = invoke("--config", cfg, "harvest", "--json")
    assert r.exit_code == 0, r.output
    first = {x["source"]: x for x in json.loads(r.output)}
    assert all(x["status"] == "ok" and x["failed"] == 0 for x in first.values()), first
    assert sum(x["stored"] for x in first.values()) >= 45
    again = {x["source"]: x for x in json.loads(invoke("--config", cfg, "harvest", "--json").output)}
    assert sum(x["stored"] + x["deleted"] for x in again.values()) == 0
    st = json.loads(invoke("--config", cfg, "status", "--json").output)
    assert st["records"] == sum(s["records"] for s in st["sources"]) >= 45
    assert {s["id"] for s in st["sources"]} == {"ke-moe", "ke-moe-pops", "ke-data", "ke-geo"}


def test_harvest_indexes_and_search_finds_across_languages(tmp_path):
    cfg = str(copy_sample_node(tmp_path))
    assert invoke("--config", cfg, "harvest").exit_code == 0
    st = json.loads(invoke("--config", cfg, "status", "--json").output)
    assert st["index"]["behind"] == 0 and st["index"]["documents"] == st["records"]
    zh = json.loads(invoke("--config", cfg, "search", "多氯联苯", "--json", "--limit", "100").output)
    en = json.loads(invoke("--config", cfg, "search", "PCB", "--json", "--limit", "100").output)
    assert zh["total"] == en["total"] > 5
    assert zh["query_chemicals"] == ["pcb"]
    langs = {lang for r in zh["results"] for lang in r["title"]}
    assert "en" in langs and "zh" in langs, "a Chinese query finds records written in English too"
    filtered = json.loads(invoke("--config", cfg, "search", "PCB", "--json", "-f", "type:assistance_source", "--facets").output)
    assert filtered["total"] >= 1 and all(r["type"] == "assistance_source" for r in filtered["results"])
    assert filtered["facets"]["type"] == {"assistance_source": filtered["total"]}
    r = invoke("--config", cfg, "search", "x", "-f", "type")
    assert r.exit_code == 2 and "give FIELD:VALUE" in r.output
    r = invoke("--config", cfg, "search", "x", "-f", "colour:red")
    assert r.exit_code == 2 and "unknown filter field 'colour'" in r.output
    r = invoke("--config", cfg, "reindex")
    assert r.exit_code == 0 and f"the index holds {st['records']} documents" in r.output


def test_an_unreachable_index_never_stops_a_harvest(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "samples")
    text = (ROOT / "node_config.yaml").read_text().replace(
        "  backend: embedded ", '  backend: solr\n  solr: {url: "http://127.0.0.1:9/solr/pops", timeout: 2}\n  #')
    (tmp_path / "node_config.yaml").write_text(text)
    cfg = str(tmp_path / "node_config.yaml")
    r = invoke("--config", cfg, "harvest")
    assert r.exit_code == 0, r.output
    assert "the index is behind the store" in r.stderr
    st = json.loads(invoke("--config", cfg, "status", "--json").output)
    assert st["records"] >= 45 and "error" in st["index"]


def test_search_says_when_the_index_is_behind_the_store(tmp_path):
    """Harvested while the index (a Solr) was down, then switched to the embedded index before any reindex:
    a search says the index misses records, on the command line and in the API's answer."""
    from tests.nodeserver import NodeServer
    shutil.copytree(SAMPLES, tmp_path / "samples")
    embedded = (ROOT / "node_config.yaml").read_text()
    cfg_path = tmp_path / "node_config.yaml"
    cfg_path.write_text(embedded.replace(
        "  backend: embedded ", '  backend: solr\n  solr: {url: "http://127.0.0.1:9/solr/pops", timeout: 2}\n  #'))
    cfg = str(cfg_path)
    assert invoke("--config", cfg, "harvest").exit_code == 0
    cfg_path.write_text(embedded)
    records = json.loads(invoke("--config", cfg, "status", "--json").output)["records"]
    r = invoke("--config", cfg, "search", "PCB", "--json")
    assert r.exit_code == 0, r.output
    assert f"warning: the index holds 0 of {records} records" in r.stderr and "run pops-chm reindex" in r.stderr
    out = json.loads(r.stdout)
    assert out["total"] == 0 and out["index_lag"]["documents"] == 0 and out["index_lag"]["records"] == records
    assert out["index_lag"]["behind"] >= records                 # changes: the records and any tombstones
    with NodeServer(cfg_path) as srv:
        body = requests.get(f"{srv.url}/api/search", params={"q": "PCB"}, timeout=10).json()
    assert body["index_lag"] == out["index_lag"]
    assert invoke("--config", cfg, "reindex").exit_code == 0
    r = invoke("--config", cfg, "search", "PCB", "--json")
    assert r.stderr == "" and json.loads(r.stdout)["total"] > 5 and "index_lag" not in json.loads(r.stdout)


def test_federated_search_from_the_cli_with_a_dead_peer(tmp_path):
    cfg = str(copy_sample_node(tmp_path))                 # its peer, 127.0.0.1:8090, is not running
    assert invoke("--config", cfg, "harvest").exit_code == 0
    r = invoke("--config", cfg, "search", "PCB", "--federated", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    status = {n["id"]: n["status"] for n in out["nodes"]}
    assert status == {"ke": "answered", "secretariat": "failed"}
    assert out["total"] > 5 and out["partial"] is True and out["total_exact"] is False
    text = invoke("--config", cfg, "search", "PCB", "--federated").stdout
    assert f"{out['total']} records (a lower bound: secretariat (failed) did not answer" in text
    r = invoke("--config", cfg, "search", "PCB", "--federated", "--cursor", "abc")
    assert r.exit_code == 2 and "cursor paging is per node" in r.output


def test_match_command_ranks_sources_for_the_sample_pcb_request(tmp_path):
    cfg = str(copy_sample_node(tmp_path))
    assert invoke("--config", cfg, "harvest").exit_code == 0
    reqs = json.loads(invoke("--config", cfg, "search", "-f", "type:assistance_request", "PCB", "--json").output)["results"]
    assert reqs, "the samples hold a PCB assistance request"
    r = invoke("--config", cfg, "match", reqs[0]["id"], "--local", "--on", "2026-06-01", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["type"] == "assistance_request" and len(out["matches"]) >= 1
    assert all(m["status"] != "closed" for m in out["matches"])
    assert any(reason.startswith("eligible") for reason in out["matches"][0]["reasons"])
    r = invoke("--config", cfg, "match", "ke:nothing:here", "--local")
    assert r.exit_code == 1 and "no record" in r.stderr
    text = invoke("--config", cfg, "match", reqs[0]["id"], "--local", "--on", "2026-06-01").output
    first = out["matches"][0]
    assert f"{first['score']:5.1f}  {first['title']['en']}  [ke]" in text          # titles, not dicts
    assert "{'" not in text and text.startswith(f"{len(out['matches'])} matches for {reqs[0]['title']['en']} (")


def test_report_counts_records_and_logged_searches(tmp_path):
    cfg = str(copy_sample_node(tmp_path))
    assert invoke("--config", cfg, "harvest").exit_code == 0
    invoke("--config", cfg, "search", "PCB")
    invoke("--config", cfg, "search", "zzzz-nothing-here")
    rep = json.loads(invoke("--config", cfg, "report", "--format", "json").output)
    st = json.loads(invoke("--config", cfg, "status", "--json").output)
    assert rep["records"]["total"] == st["records"]
    assert rep["searches"]["total"] == 2 and rep["searches"]["no_hits"] == 1
    assert rep["gaps"][0]["query"] == "zzzz-nothing-here"
    md = invoke("--config", cfg, "report").output
    assert md.startswith("#") and "zzzz-nothing-here" in md
    csv = invoke("--config", cfg, "report", "--format", "csv").output
    assert csv.splitlines()[0] == "section,key,value"


def _commands(group, path=()):
    for name, cmd in group.commands.items():
        yield path + (name,), cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path + (name,))


def test_every_command_takes_config_after_its_name(tmp_path, monkeypatch):
    import click
    late = [" ".join(p) for p, cmd in _commands(main)
            if not any(isinstance(o, click.Option) and "--config" in o.opts for o in cmd.params)]
    assert late == []
    good = copy_sample_node(tmp_path)
    monkeypatch.setenv("POPS_CHM_CONFIG", str(tmp_path / "nowhere.yaml"))   # the option wins over the variable
    r = invoke("config", "check", "--config", str(good))
    assert r.exit_code == 0 and "node ke" in r.output, r.output
    r = invoke("status", "--json", "--config", str(good))
    assert r.exit_code == 0 and json.loads(r.stdout)["node"] == "ke", r.output
    r = invoke("--config", str(tmp_path / "nowhere.yaml"), "status", "--config", str(good))
    assert r.exit_code == 0, r.output
    assert invoke("status").exit_code == 2                                  # the variable, naming no file


def test_vocab_list_prints_the_ids_defaults_use():
    from harvester import vocab
    r = invoke("vocab", "list", "types")
    assert r.exit_code == 0
    ids = [line.split()[0] for line in r.output.splitlines()]
    assert ids == list(vocab.document_types()) and "scientific_technical_study" in ids
    label = vocab.label("document_types", "scientific_technical_study")
    assert any(line.split(None, 1) == ["scientific_technical_study", label] for line in r.output.splitlines())
    for kind, some in (("chemicals", "pcb"), ("countries", "SN"), ("regions", "africa"), ("languages", "zh")):
        rows = json.loads(invoke("vocab", "list", kind, "--json").output)
        assert some in [row["id"] for row in rows]
    fr = json.loads(invoke("vocab", "list", "countries", "--lang", "fr", "--json").output)
    assert {"id": "SN", "label": vocab.label("countries", "SN", "fr")} in fr
    assert invoke("vocab", "list", "studies").exit_code == 2


def test_map_help_names_the_formats_command():
    r = invoke("map", "--help")
    assert "pops-chm formats" in r.output and "--list-formats" not in r.output


def test_errors_status_and_report_refuse_or_mark_what_is_not_there(tmp_path):
    cfg = copy_sample_node(tmp_path)
    assert invoke("--config", str(cfg), "harvest").exit_code == 0
    r = invoke("--config", str(cfg), "errors", "nosuch")
    assert r.exit_code == 2 and "no source 'nosuch' in the config or the store" in r.output
    assert "ke-moe" in r.output                                      # the sources there are
    assert invoke("--config", str(cfg), "errors", "ke-moe").exit_code == 0
    cfg.write_text(cfg.read_text().replace("- id: ke-data\n", "- id: ke-dcat\n"))   # renamed: ke-data left behind
    r = invoke("--config", str(cfg), "status")
    lines = r.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("ke-data "))
    assert lines[at + 1].strip() == "not in the config: no longer harvested; its records stay in the store"
    assert not any(line.strip().startswith("not in the config") for line in lines[:at])
    assert invoke("--config", str(cfg), "errors", "ke-data").exit_code == 0       # still in the store
    for option, value in (("--from", "2026-13-01"), ("--from", "yesterday"), ("--until", "2026-02-30")):
        r = invoke("--config", str(cfg), "report", option, value)
        assert r.exit_code == 2, (option, value, r.output)
        assert f"{option}: '{value}' is not a real date; give YYYY-MM-DD" in r.output
    assert invoke("--config", str(cfg), "report", "--from", "2024-02-29", "--format", "json").exit_code == 0
