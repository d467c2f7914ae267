"""Harvesting real OAI-PMH servers on 127.0.0.1: our misbehaving test provider (every fault, exact counts
after each), a run killed with SIGKILL and resumed, and a third-party provider (oaipmh 4.0.0 from PyPI)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner

from cli import main
from harvester import config, run
from harvester.store import Store

from .conftest import ROOT
from .httpfiles import FileServer
from .oaiserver import (OAIServer, bad_resumption_token, drop_connection, duplicate_across_pages, http_500, http_503,
                        make_records, malformed_page, slow, truncated_page)
from .peers import oaipmh_peer

N = 95


def node_config(tmp_path, url, prefix="oai_dc", **source):
    extra = "".join(f", {k}: {json.dumps(v)}" for k, v in source.items())
    path = tmp_path / "node_config.yaml"
    path.write_text(textwrap.dedent(f"""\
        node: {{id: ke, name: Test node}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        harvest: {{batch_size: 7, retries: 3, timeout: 2, backoff: 0.05}}
        sources:
          - {{id: src, type: oaipmh, url: "{url}", metadata_prefix: {prefix}{extra}}}
        """), encoding="utf-8")
    return config.load(path)


def harvest(cfg, **kw):
    with Store(cfg.store_path) as store:
        return run.harvest_source(cfg, store, cfg.source("src"), **kw)


def first_list_request(srv):
    return next(r for r in srv.requests if r.get("verb") == "ListRecords")


def live_ids(records):
    return {r.identifier for r in records if not r.deleted}


@pytest.fixture
def records():
    return make_records(N, deleted_every=10)


def check_exact(cfg, records):
    with Store(cfg.store_path) as s:
        assert s.live_identifiers("src") == live_ids(records)
        assert s.count("src") == len(live_ids(records))
        assert s.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == len(live_ids(records))


def test_clean_harvest_then_incremental(tmp_path, records):
    with OAIServer(records, page_size=10) as srv:
        cfg = node_config(tmp_path, srv.url)
        rep = harvest(cfg)
        assert (rep.status, rep.seen, rep.stored, rep.failed) == ("ok", N, len(live_ids(records)), 0)
        check_exact(cfg, records)
        # the source deletes two records and changes one; the next run asks only for what changed
        victims = sorted(live_ids(records))[:2]
        for v in victims:
            srv.delete(v)
        changed = sorted(live_ids(records))[5]
        srv.update(changed)
        srv.reset_log()
        rep = harvest(cfg)
        assert rep.status == "ok" and rep.deleted == 2
        first = first_list_request(srv)
        assert "from" in first, "an incremental run sends from="
        assert rep.seen < N
        with Store(cfg.store_path) as s:
            assert s.count("src") == len(live_ids(records)) - 2
            assert s.count("src", deleted=True) == 2
            assert {r["identifier"] for r in s.db.execute("SELECT identifier FROM records WHERE deleted=1")} == set(victims)


def test_no_records_match_is_an_empty_success(tmp_path, records):
    with OAIServer(records, page_size=10) as srv:
        cfg = node_config(tmp_path, srv.url)
        harvest(cfg)
        rep = harvest(cfg)          # nothing changed since: the server answers noRecordsMatch
        assert rep.status == "ok" and rep.seen == 0 and rep.deleted == 0
        check_exact(cfg, records)


@pytest.mark.parametrize("fault", [
    http_503(retry_after=0, on_pages={2}, times=2),
    http_500(on_pages={3}, times=1),
    drop_connection(on_pages={4}, times=1),
    drop_connection(before_headers=True, on_pages={5}, times=1),
    malformed_page(mode="cut", on_pages={2}, times=1),
    bad_resumption_token(on_pages={6}, times=1),
    slow(3, on_pages={3}, times=1),          # past the 2 s timeout: retried
    duplicate_across_pages(),
], ids=lambda f: f.kind)
def test_every_transient_fault_ends_with_exact_counts(tmp_path, records, fault):
    with OAIServer(records, page_size=10, faults=[fault]) as srv:
        cfg = node_config(tmp_path, srv.url)
        rep = harvest(cfg)
        assert srv.stats.faults[fault.kind] >= 1, "the fault was injected"
        assert rep.status == "ok", rep.error
        assert rep.failed == 0
        check_exact(cfg, records)


def test_503_retry_after_is_honoured(tmp_path, records):
    with OAIServer(records, page_size=50, faults=[http_503(retry_after=1, on_pages={2}, times=1)]) as srv:
        cfg = node_config(tmp_path, srv.url)
        t0 = time.monotonic()
        rep = harvest(cfg)
        assert rep.status == "ok" and time.monotonic() - t0 >= 1.0
        check_exact(cfg, records)


@pytest.mark.parametrize("mode", ["control_char", "bad_byte", "noncharacter", "undefined_entity"])
def test_a_bad_character_quarantines_one_record_not_the_page(tmp_path, records, mode):
    with OAIServer(records, page_size=10, faults=[malformed_page(mode=mode, record=3, on_pages={2}, verbs={"ListRecords"})]) as srv:
        cfg = node_config(tmp_path, srv.url)
        rep = harvest(cfg)
        bad = [r for r in records][10 + 3]
        assert rep.failed == 1, rep
        with Store(cfg.store_path) as s:
            assert s.live_identifiers("src") == live_ids(records) - {bad.identifier}
            fail = s.failures("src")
            assert [f["identifier"] for f in fail] == [bad.identifier]
            assert "page 2" in fail[0]["location"]
        # the record is fine when asked for alone: replay stores it
        r = CliRunner().invoke(main, ["--config", str(cfg.path), "harvest", "--replay", f"src:{bad.identifier}"])
        assert r.exit_code == 0, r.output
        check_exact(cfg, records)


def test_until_bounds_the_harvest_and_is_sent_to_the_provider(tmp_path):
    """`until: 2020-01-31` asks for that whole day and nothing later (the provider declares seconds)."""
    recs = make_records(60, step=timedelta(days=1), deleted_every=7)     # one record a day from 2020-01-01
    with OAIServer(recs, page_size=10) as srv:
        cfg = node_config(tmp_path, srv.url, until="2020-01-31")
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        assert first_list_request(srv)["until"] == "2020-01-31T23:59:59Z"
        january = {r.identifier for r in recs[:31] if not r.deleted}
        with Store(cfg.store_path) as s:
            assert s.live_identifiers("src") == january
        srv.reset_log()
        rep = harvest(cfg)    # the next increment starts after `until`: nothing to ask for
        assert (rep.status, rep.seen, rep.stored, rep.deleted) == ("ok", 0, 0, 0), rep
        assert not any(r.get("verb") == "ListRecords" for r in srv.requests)
        with Store(cfg.store_path) as s:
            assert s.live_identifiers("src") == january


def test_until_before_from_is_a_config_error(tmp_path):
    with pytest.raises(config.ConfigError) as exc:
        node_config(tmp_path, "http://127.0.0.1:9/oai", **{"from": "2021-01-01", "until": "2020-12-31"})
    assert "node_config.yaml:6: sources[0].until: '2020-12-31' is before from '2021-01-01'" in str(exc.value)


def replay(cfg, identifier):
    return CliRunner().invoke(main, ["--config", str(cfg.path), "harvest", "--replay", f"src:{identifier}"])


def test_a_replayed_record_is_searchable_at_once(tmp_path, records):
    with OAIServer(records, page_size=10, faults=[malformed_page(mode="control_char", record=3, on_pages={2},
                                                                 verbs={"ListRecords"})]) as srv:
        cfg = node_config(tmp_path, srv.url)
        assert CliRunner().invoke(main, ["--config", str(cfg.path), "harvest"]).exit_code == 1   # one record failed
        bad = records[10 + 3]
        r = replay(cfg, bad.identifier)
        assert r.exit_code == 0 and "not yet searchable" not in r.output, r.output
    with Store(cfg.store_path) as s:
        title = next(iter(s.get(f"ke:src:{bad.identifier}")["title"].values()))
    found = CliRunner().invoke(main, ["--config", str(cfg.path), "search", title, "--json", "--limit", "100"])
    assert f"ke:src:{bad.identifier}" in {hit["id"] for hit in json.loads(found.stdout)["results"]}, found.output


NO_TITLE = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject>PCB</dc:subject></oai_dc:dc>')


def test_replay_fails_on_anything_but_the_record_asked_for(tmp_path, records):
    live = sorted(live_ids(records))
    with OAIServer(records, page_size=10) as srv:
        cfg = node_config(tmp_path, srv.url)
        harvest(cfg)
        srv.update(live[0], metadata={"oai_dc": NO_TITLE})
        r = replay(cfg, live[0])
        assert r.exit_code == 1 and "still fails:" in r.output and "has no title" in r.output, r.output
        srv.delete(live[1])
        r = replay(cfg, live[1])
        assert r.exit_code == 1 and "deleted at the source; nothing stored" in r.output, r.output
    # a provider whose GetRecord answers with another record than the one asked for
    www = tmp_path / "www"
    www.mkdir()
    (www / "oai").write_text(
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2025-01-01T00:00:00Z</responseDate>'
        '<request verb="GetRecord">http://127.0.0.1/oai</request><GetRecord><record><header>'
        '<identifier>oai:pops.test:another</identifier><datestamp>2025-01-01T00:00:00Z</datestamp></header>'
        f'<metadata>{NO_TITLE.replace("<dc:subject>", "<dc:title>PCB inventory</dc:title><dc:subject>")}</metadata>'
        '</record></GetRecord></OAI-PMH>')
    with FileServer(www) as fs:
        cfg = node_config(tmp_path, f"{fs.url}oai")
        r = replay(cfg, live[2])
        assert r.exit_code == 1 and "answered with record 'oai:pops.test:another', not the one asked for" in r.output
    with Store(cfg.store_path) as s:
        assert s.get("ke:src:oai:pops.test:another") is None


def test_a_truncated_page_is_detected_and_the_datestamp_kept(tmp_path, records):
    with OAIServer(records, page_size=10, faults=[truncated_page(keep=4, on_pages={3})]) as srv:
        cfg = node_config(tmp_path, srv.url)
        rep = harvest(cfg)
        assert rep.status == "partial"
        assert any("cursor moved by 10" in p for p in rep.problems), rep.problems
        with Store(cfg.store_path) as s:
            assert s.state("src")["last_datestamp"] is None, "a partial run must not move the incremental start"
        srv.clear_faults()
        rep = harvest(cfg)
        assert rep.status == "ok"
        check_exact(cfg, records)


def test_a_source_that_errors_leaves_every_record(tmp_path, records):
    with OAIServer(records, page_size=10) as srv:
        cfg = node_config(tmp_path, srv.url)
        harvest(cfg)
        srv.add_fault(http_500())
        rep = harvest(cfg, full=True)
        assert rep.status == "failed" and "HTTP 500" in rep.error
        check_exact(cfg, records)


def test_killed_mid_run_resumes_without_loss_or_duplicates(tmp_path):
    recs = make_records(300, deleted_every=0)
    with OAIServer(recs, page_size=20, faults=[slow(0.15, verbs={"ListRecords"})]) as srv:
        cfg = node_config(tmp_path, srv.url)
        proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(cfg.path), "harvest"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.1)
            with Store(cfg.store_path) as s:
                if s.count("src") >= 60:
                    break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with Store(cfg.store_path) as s:
            partial = s.count("src")
            assert 0 < partial < 300
            assert s.state("src")["checkpoint"] is not None
            assert s.last_run("src")["status"] == "running"
        srv.clear_faults()
        srv.reset_log()
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        assert "resumptionToken" in first_list_request(srv), "the run resumed from its checkpoint"
        with Store(cfg.store_path) as s:
            assert s.live_identifiers("src") == {r.identifier for r in recs}
            assert s.runs("src")[1]["status"] == "crashed"
            assert s.state("src")["checkpoint"] is None


def test_third_party_oai_pmh_provider(tmp_path):
    with oaipmh_peer() as peer:
        cfg = node_config(tmp_path, peer.url, prefix="iso19139")
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        with Store(cfg.store_path) as s:
            assert s.live_identifiers("src") == set(peer.live_identifiers)
            for ident in peer.live_identifiers:
                rec = s.get(f"ke:src:{ident}")
                assert peer.record(ident).title in rec["title"].values()


def test_a_format_or_set_the_repository_does_not_offer_is_a_clear_error(tmp_path, records):
    with OAIServer(records, page_size=10) as srv:
        rep = harvest(node_config(tmp_path, srv.url, prefix="pops"))
        assert rep.status == "failed" and "does not offer metadataPrefix 'pops' (it offers: oai_dc)" in rep.error
        rep = harvest(node_config(tmp_path, srv.url, set="chemical:nothing"))
        assert rep.status == "failed" and "no set 'chemical:nothing'" in rep.error
        rep = harvest(node_config(tmp_path, srv.url, set="chemical:pcb"))
        assert rep.status == "ok" and 0 < rep.stored < N
