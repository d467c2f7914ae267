"""The node on a real Solr from the command line: solr start/init/status/stop, then harvest, search,
status and reindex with `index.backend: solr`."""
import json
import shutil

from click.testing import CliRunner

from cli import main
from harvester.index import solr_runtime

from .conftest import ROOT
from .solr_fixture import require_solr_tools


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def node_on(tmp_path, solr_core_url):
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    text = (ROOT / "node_config.yaml").read_text().replace(
        "  backend: embedded ", f'  backend: solr\n  solr: {{url: "{solr_core_url}"}}\n  #')
    (tmp_path / "node_config.yaml").write_text(text)
    return str(tmp_path / "node_config.yaml")


def test_harvest_search_status_reindex_on_solr(tmp_path, solr_url):
    core = "cli_e2e"
    solr_runtime.create_core(solr_url, core)
    try:
        cfg = node_on(tmp_path, f"{solr_url}/{core}")
        r = invoke("--config", cfg, "harvest")
        assert r.exit_code == 0, r.output
        st = json.loads(invoke("--config", cfg, "status", "--json").output)
        assert st["index"]["backend"] == "solr" and st["index"]["behind"] == 0
        assert st["index"]["documents"] == st["records"] >= 45
        found = json.loads(invoke("--config", cfg, "search", "多氯联苯", "--json", "--limit", "100").output)
        assert found["total"] > 5 and found["query_chemicals"] == ["pcb"]
        assert {"en", "zh"} <= {lang for hit in found["results"] for lang in hit["title"]}
        r = invoke("--config", cfg, "reindex")
        assert r.exit_code == 0 and f"the index holds {st['records']} documents" in r.output
        again = json.loads(invoke("--config", cfg, "search", "PCB", "--json").output)
        assert again["total"] == found["total"]
    finally:
        solr_runtime.unload_core(solr_url, core)


def test_solr_commands_start_init_status_stop(tmp_path):
    require_solr_tools()
    home = str(tmp_path / "solr-home")
    r = invoke("solr", "--home", home, "start", "--port", "0")
    assert r.exit_code == 0, r.output
    try:
        assert "Solr running" in r.output
        st = invoke("solr", "--home", home, "status")
        assert st.exit_code == 0 and "running" in st.output
        init = invoke("solr", "--home", home, "init")
        assert init.exit_code == 0, init.output
        assert "index ready: http://127.0.0.1:" in init.output and "backend: solr" in init.output
    finally:
        stop = invoke("solr", "--home", home, "stop")
    assert stop.exit_code == 0 and "stopped" in stop.output
    assert invoke("solr", "--home", home, "status").exit_code == 1


def test_search_on_a_new_solr_core_says_to_reindex(tmp_path, solr_url):
    """A node harvested on the embedded index, then switched to a new Solr core: before `reindex` a search
    says the index misses records instead of answering only "0 records"."""
    core = "cli_lag"
    solr_runtime.create_core(solr_url, core)
    try:
        embedded = (ROOT / "node_config.yaml").read_text()
        cfg = node_on(tmp_path, f"{solr_url}/{core}")
        solr_config = (tmp_path / "node_config.yaml").read_text()
        (tmp_path / "node_config.yaml").write_text(embedded)
        assert invoke("--config", cfg, "harvest").exit_code == 0
        records = json.loads(invoke("--config", cfg, "status", "--json").output)["records"]
        (tmp_path / "node_config.yaml").write_text(solr_config)
        r = invoke("--config", cfg, "search", "PCB")
        assert r.exit_code == 0, r.output
        assert f"warning: the index holds 0 of {records} records" in r.stderr and "pops-chm reindex" in r.stderr
        assert invoke("--config", cfg, "reindex").exit_code == 0
        r = invoke("--config", cfg, "search", "PCB", "--json")
        assert r.stderr == "" and "index_lag" not in json.loads(r.stdout)
        # the core emptied under the same address (a SolrCloud started anew is one): an empty answer says so
        solr_runtime.unload_core(solr_url, core)
        solr_runtime.create_core(solr_url, core)
        r = invoke("--config", cfg, "search", "PCB", "--json")
        lag = json.loads(r.stdout)["index_lag"]
        assert (lag["documents"], lag["records"]) == (0, records) and lag["behind"] >= records
        assert f"the index holds 0 of {records} records" in r.stderr
    finally:
        solr_runtime.unload_core(solr_url, core)
