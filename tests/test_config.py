"""node_config.yaml: every problem reported as file:line, unknown keys refused, the bundled config valid."""
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
    assert probs == [f"{p}:7: sources[0].type: 'ftp' is not one of ['oaipmh', 'xml', 'rdf', 'csw', 'odata']"]


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
