"""node_config.yaml: every problem reported as file:line, unknown keys refused, the bundled config valid."""
import json
import re
import shutil
import textwrap

import pytest
from click.testing import CliRunner

from cli import main
from harvester import config
from .conftest import ROOT

GOOD = """\
node: {id: ke, name: "Kenya node", country: KE, url: "http://127.0.0.1:8080"}
store: {path: data/node.sqlite}
index: {backend: embedded}
admin_token: ${TEST_POPS_TOKEN}
sources:
  - id: ke-moe
    type: oaipmh
    url: "https://repo.example.org/oai"
    metadata_prefix: oai_dc
    set: pops
    schedule: "0 2 * * *"
    defaults: {country: KE, type: national-report}
peers:
  - {id: secretariat, url: "https://chm.example.org", timeout: 3}
"""


def write(tmp_path, text):
    p = tmp_path / "node_config.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def problems_of(tmp_path, text):
    p = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as exc:
        config.load(p)
    return p, exc.value.problems


def test_good_config_loads_with_env_and_relative_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_POPS_TOKEN", "s3cret")
    cfg = config.load(write(tmp_path, GOOD))
    assert cfg.node["id"] == "ke"
    assert cfg.admin_token == "s3cret"
    assert cfg.store_path == tmp_path / "data" / "node.sqlite"
    assert cfg.source("ke-moe")["set"] == "pops"
    assert cfg.source_setting(cfg.source("ke-moe"), "max_delete_share") == 0.2


def test_unset_env_gives_no_token(tmp_path, monkeypatch):
    monkeypatch.delenv("TEST_POPS_TOKEN", raising=False)
    assert config.load(write(tmp_path, GOOD)).admin_token is None


def test_bad_type_is_reported_at_its_line(tmp_path):
    p, probs = problems_of(tmp_path, GOOD.replace("type: oaipmh", "type: ftp"))
    assert probs == [f"{p}:7: sources[0].type: must be one of oaipmh, xml, rdf, csw, odata (not 'ftp')"]


def test_unknown_key_is_an_error_at_its_own_line(tmp_path):
    p, probs = problems_of(tmp_path, GOOD.replace("    set: pops\n", "    set: pops\n    shedule: daily\n"))
    assert len(probs) == 1
    assert probs[0].startswith(f"{p}:11: sources[0].shedule: unknown key 'shedule'")


def test_missing_source_url_is_reported(tmp_path):
    p, probs = problems_of(tmp_path, GOOD.replace('    url: "https://repo.example.org/oai"\n', ""))
    assert probs == [f"{p}:6: sources[0] (ke-moe): a source needs a `url` or a `path`"]


def test_bad_yaml_gives_the_line(tmp_path):
    p, probs = problems_of(tmp_path, GOOD.replace("    set: pops\n", "    set: [pops\n"))
    assert len(probs) == 1 and probs[0].startswith(f"{p}:11: invalid YAML") or probs[0].startswith(f"{p}:12: invalid YAML"), probs


def test_duplicate_key_is_refused(tmp_path):
    p, probs = problems_of(tmp_path, GOOD.replace("    set: pops\n", "    set: pops\n    set: other\n"))
    assert probs[0].startswith(f"{p}:11: invalid YAML: duplicate key 'set' (first on line 10)")


def test_several_problems_reported_together(tmp_path):
    text = GOOD.replace("type: oaipmh", "type: ftp").replace("backend: embedded", "backend: lucene")
    p, probs = problems_of(tmp_path, text)
    assert len(probs) == 2
    assert probs[0].startswith(f"{p}:3: index.backend") and probs[1].startswith(f"{p}:7: sources[0].type")


def test_bad_cron_and_unknown_format(tmp_path):
    text = GOOD.replace('"0 2 * * *"', '"every day"').replace("metadata_prefix: oai_dc", "metadata_prefix: marc21")
    p, probs = problems_of(tmp_path, text)
    assert any(x.startswith(f"{p}:9: sources[0].metadata_prefix: no crosswalk 'marc21'") for x in probs), probs
    assert any(x.startswith(f"{p}:11: sources[0].schedule: bad cron expression") for x in probs), probs


def test_missing_local_path_and_duplicate_ids(tmp_path):
    text = GOOD + """  - id: ke-moe
    type: xml
    path: nowhere/
    format: iso19139
"""
    text = text.replace("peers:\n  - {id: secretariat, url: \"https://chm.example.org\", timeout: 3}\n", "")
    text += "peers:\n  - {id: secretariat, url: \"https://chm.example.org\", timeout: 3}\n"
    p, probs = problems_of(tmp_path, text)
    assert f"{p}:13: sources[1].id: duplicate source id 'ke-moe' (also source 0)" in probs
    assert any(x.startswith(f"{p}:15: sources[1].path: nowhere/ does not exist") for x in probs), probs


def test_config_check_command_exit_status(tmp_path):
    bad = write(tmp_path, GOOD.replace("type: oaipmh", "type: ftp"))
    r = CliRunner().invoke(main, ["--config", str(bad), "config", "check"])
    assert r.exit_code == 2
    assert f"{bad}:7: sources[0].type" in r.output


def test_bundled_config_is_valid():
    r = CliRunner().invoke(main, ["--config", str(ROOT / "node_config.yaml"), "config", "check"])
    assert r.exit_code == 0, r.output
    assert "node ke" in r.output


# ---------------------------------------------------------------- every problem in one pass, in words

MANY_MISTAKES = """\
node: {id: ke, name: "Kenya node", country: Senegal}
store: {path: data/node.sqlite}
index: {backend: embedded}
sources:
  - id: ke-moe
    type: oaipmh
    url: "https://repo.example.org/oai"
    metadata_prefix: oai_dc
    shedule: "0 2 * * *"
  - id: ke-laws
    type: xml
    url: "https://laws.example.org/export/"
    format: xpath
    schedule: "0 25 * * *"
    xpath:
      fields: {title: "title"}
    defaults:
      type: study
      country: ZZ
      chemicals: [PCB, plastics]
"""


def test_config_check_gives_every_problem_in_one_pass_in_plain_words(tmp_path):
    p = write(tmp_path, MANY_MISTAKES)
    r = CliRunner().invoke(main, ["--config", str(p), "config", "check"])
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert lines.pop(1).startswith(f"{p}:9: sources[0].shedule: unknown key 'shedule' (allowed here: backoff, batch_size")
    assert lines == [
        f"{p}:1: node.country: must be a two-letter ISO 3166 country code in capitals, e.g. KE (not 'Senegal')",
        f"{p}:14: sources[1].schedule: bad cron expression '0 25 * * *': the hour field allows 0-23, not 25",
        f"{p}:15: sources[1].xpath: 'record' (the XPath of the record elements) is required; "
        "give it in the mapping or as the source's `record_xpath`",
        f"{p}:18: sources[1].defaults.type: 'study' is not a document type; did you mean scientific_technical_study? "
        "(the ids: `pops-chm vocab list types`)",
        f"{p}:19: sources[1].defaults.country: 'ZZ' is not an ISO 3166 country code "
        "(the codes: `pops-chm vocab list countries`)",
        f"{p}:20: sources[1].defaults.chemicals[1]: 'plastics' is not a POPs chemical of Annex A, B or C "
        "(the ids: `pops-chm vocab list chemicals`)",
        f"7 problems in {p}",
    ]
    assert "does not match" not in r.stderr and "^[" not in r.stderr


def test_defaults_the_harvest_accepts_pass_the_check(tmp_path):
    text = GOOD.replace("defaults: {country: KE, type: national-report}",
                        "defaults: {country: ke, type: national_report, language: English, chemicals: [PCB, ddt]}")
    assert config.load(write(tmp_path, text)).source("ke-moe")["defaults"]["language"] == "English"


def test_schema_problems_do_not_hide_semantic_ones(tmp_path):
    text = GOOD.replace("type: oaipmh", "type: ftp").replace('"0 2 * * *"', '"61 * * * *"')
    p, probs = problems_of(tmp_path, text)
    assert probs == [f"{p}:7: sources[0].type: must be one of oaipmh, xml, rdf, csw, odata (not 'ftp')",
                     f"{p}:11: sources[0].schedule: bad cron expression '61 * * * *': the minute field allows 0-59, not 61"]


# ---------------------------------------------------------------- the README's xpath source, end to end

def _readme_block(first_line: str) -> str:
    """The YAML block of the README that starts with `first_line`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(first_line)
    return readme[start:readme.index("```", start)]


LAWS = """<?xml version="1.0" encoding="UTF-8"?>
<laws>
  <law id="act-2019-7" lang="en"><title>Environmental Management (Persistent Organic Pollutants) Regulations</title>
    <summary>Controls PCB equipment and DDT stocks.</summary><enacted>2019-05-01</enacted>
    <url>https://laws.example.go.ke/act-2019-7</url></law>
  <law id="act-2021-2" lang="sw"><title>Kanuni za Usimamizi wa Kemikali</title><enacted>2021-02-11</enacted></law>
</laws>
"""


def test_the_readme_xpath_example_passes_the_check_and_harvests(tmp_path):
    from tests.httpfiles import FileServer
    example = _readme_block("  - id: ke-laws\n")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "laws.xml").write_text(LAWS, encoding="utf-8")
    with FileServer(tmp_path / "www") as server:
        url = re.search(r'url: "([^"]+)"', example).group(1)
        head = GOOD.split("sources:")[0] + "sources:\n"
        p = write(tmp_path, head + example.replace(url, server.url))
        check = CliRunner().invoke(main, ["--config", str(p), "config", "check"])
        assert check.exit_code == 0, check.output
        r = CliRunner().invoke(main, ["--config", str(p), "harvest", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)[0]["stored"] == 2
    from harvester.store import Store
    with Store(config.load(p).store_path) as store:
        rec = store.get("ke:ke-laws:act-2019-7")
        assert rec["title"] == {"en": "Environmental Management (Persistent Organic Pollutants) Regulations"}
        assert rec["dates"]["issued"] == "2019-05-01" and rec["links"][0]["url"] == "https://laws.example.go.ke/act-2019-7"
        assert {"pcb", "ddt"} <= set(rec["chemicals"])
        assert store.get("ke:ke-laws:act-2021-2")["languages"] == ["sw"]


# ---------------------------------------------------------------- a missing file stops its source only

def test_a_missing_path_fails_its_source_only(tmp_path):
    from .conftest import copy_sample_node
    p = copy_sample_node(tmp_path)
    p.write_text(p.read_text().replace("path: samples/iso", "path: samples/gone"))
    warning = (f"{p}:56: sources[3].path: samples/gone does not exist (paths are relative to {tmp_path}); "
               "source ke-geo cannot be harvested until it is there; the other sources run")
    assert config.load(p).warnings == [warning]
    check = CliRunner().invoke(main, ["config", "check", "--config", str(p)])
    assert check.exit_code == 2 and warning in check.stderr.splitlines()
    r = CliRunner().invoke(main, ["harvest", "--json", "--config", str(p)])
    assert r.exit_code == 1
    runs = {run["source"]: run for run in json.loads(r.stdout)}
    assert [s for s, run in runs.items() if run["status"] == "ok"] == ["ke-moe", "ke-moe-pops", "ke-data"]
    assert runs["ke-geo"]["status"] == "failed" and str(tmp_path / "samples" / "gone") in runs["ke-geo"]["error"]
    st = CliRunner().invoke(main, ["status", "--json", "--config", str(p)])
    assert st.exit_code == 0 and f"warning: {warning}" in st.stderr
    geo = next(s for s in json.loads(st.stdout)["sources"] if s["id"] == "ke-geo")
    assert geo["last_run"]["status"] == "failed" and "samples/gone" in geo["last_error"]


# ---------------------------------------------------------------- JSON-LD with a remote @context, offline

def test_jsonld_contexts_lets_a_remote_context_be_harvested_offline(tmp_path):
    from .conftest import CORPUS, need
    series = need(CORPUS / "dcat/dcat-ap/dcatap3_dataset_series_combined.jsonld")
    (tmp_path / "cat").mkdir()
    shutil.copy(series, tmp_path / "cat" / "series.jsonld")
    shutil.copy(CORPUS / "dcat/dcat-ap/dcatap3_examples_context.jsonld", tmp_path / "context.jsonld")
    remote = json.loads(series.read_text(encoding="utf-8"))["@context"]
    source = "  - {id: eu, type: rdf, path: cat, format: dcat, defaults: {type: scientific_technical_study}}\n"
    head = GOOD.split("sources:")[0] + "sources:\n"
    p = write(tmp_path, head + source)
    r = CliRunner().invoke(main, ["--config", str(p), "harvest", "--json"])
    run = json.loads(r.stdout)[0]
    assert r.exit_code == 1 and run["stored"] == 0
    assert any(f'jsonld_contexts: {{"{remote}": FILE}}' in x for x in run["problems"])   # names the key to set
    p = write(tmp_path, head + source.replace("}}\n", f'}}, jsonld_contexts: {{"{remote}": context.jsonld}}}}\n'))
    assert config.load(p).warnings == []
    r = CliRunner().invoke(main, ["--config", str(p), "harvest", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["stored"] >= 3
    from harvester.store import Store
    with Store(config.load(p).store_path) as store:
        ids = store.live_identifiers("eu")
        titles = [store.get(f"ke:eu:{i}")["title"] for i in ids]
    assert {"en": "Bee population 2000 in Greece"} in titles
    (tmp_path / "context.jsonld").unlink()
    assert "jsonld_contexts: context.jsonld (the local copy of" in config.load(p).warnings[0]


def test_an_unquoted_date_is_text_and_a_day_that_does_not_exist_is_reported(tmp_path):
    cfg = config.load(write(tmp_path, GOOD.replace("    set: pops\n", "    set: pops\n    from: 2020-01-31\n")))
    assert cfg.source("ke-moe")["from"] == "2020-01-31"
    p, probs = problems_of(tmp_path, GOOD.replace("    set: pops\n", "    set: pops\n    from: 2020-13-01\n"))
    assert probs == [f"{p}:11: sources[0].from: '2020-13-01' is not a real date (YYYY-MM-DD)"]
