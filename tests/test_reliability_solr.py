"""Reliability with a real Solr: the search engine killed with SIGKILL, and started again on the same home
and port, in the middle of a harvest, of a catch-up (`pops-chm reindex --catch-up`) and of a full rebuild
(`pops-chm reindex`, a new core swapped in). Nothing is lost:

- a harvest goes on while Solr is down and ends with every record in the store; once Solr is back, the
  harvest itself (when still running) or `reindex --catch-up` brings the index to exactly the store's live
  records (the ids Solr holds are the ids of the live records, tombstones deleted), with no lag;
- a catch-up or a rebuild killed between batches fails with a one-line message (no traceback) and leaves
  the store untouched; the core a rebuild was filling is never swapped in: the live core serves its complete
  old contents after the restart, and the next rebuild removes the half-built core and completes exactly;
- a running node answers searches with 503 {"error"} while Solr is down, keeps serving what does not need
  the index, and searches again once Solr is back, without a restart;
- a hung Solr (SIGSTOP: every request waits for its timeout) costs a harvest a few timeouts, not one per
  batch.

These tests start a standalone Solr of their own (not the session's, since they kill it). The short version
runs in CI (under two minutes); the long one, more records and several kills per harvest, by hand:

    .venv/bin/python -m pytest -m slow tests/test_reliability_solr.py
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from harvester import config
from harvester.index import Query, catch_up, index_status, open_backend, solr_runtime
from harvester.store import Store

from .conftest import ROOT
from .nodeserver import NodeServer
from .oaiserver import OAIServer, drop_connection, duplicate_across_pages, http_503, make_records, slow
from .solr_fixture import TEST_HEAP, require_solr_tools

pytestmark = pytest.mark.solr

SID = "src"
REBUILD_BATCH = 1000        # SolrBackend.rebuild_swap's batch size
CATCH_UP_BATCH = 500        # harvester.index.catch_up's batch size


# --------------------------------------------------------------------------- a Solr the tests may kill

class KillableSolr:
    """A standalone Solr in a home of its own that a test may SIGKILL and start again on the same port (the
    node's config names the core's URL, so the port must not change)."""

    def __init__(self, home: Path):
        self.home = home
        self.port = 0
        self.handle: solr_runtime.SolrHandle | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/solr"

    def start(self) -> float:
        t0 = time.monotonic()
        self.handle = solr_runtime.start(self.home, port=self.port, heap=TEST_HEAP,
                                         jvm_opts=solr_runtime.TEST_JVM_OPTS, stop_with_parent=True)
        self.port = urlsplit(self.handle.url).port
        return time.monotonic() - t0

    def kill(self) -> None:
        """SIGKILL the JVM (no shutdown hook, no commit, no clean close of the index) and wait until it is gone."""
        os.kill(self.handle.pid, signal.SIGKILL)
        wait_until(lambda: solr_runtime.status(self.home) is None, 20, "the killed Solr to be gone")
        self.handle = None

    def freeze(self) -> None:
        """SIGSTOP: Solr accepts connections (the kernel does) and answers nothing, as a hung server does."""
        os.kill(self.handle.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.handle.pid, signal.SIGCONT)

    def ensure_running(self) -> None:
        if solr_runtime.status(self.home) is None:
            self.start()

    def cores(self, prefix: str = "") -> set[str]:
        """Names of the cores Solr has, those that failed to load included."""
        r = requests.get(f"{self.url}/admin/cores", params={"action": "STATUS", "indexInfo": "false", "wt": "json"},
                         timeout=30)
        r.raise_for_status()
        body = r.json()
        names = set(body.get("status") or {}) | set(body.get("initFailures") or {})
        return {n for n in names if n.startswith(prefix)}

    def orphan_dirs(self) -> set[str]:
        """Core directories in the Solr home that no core uses (after a SWAP a core's directory may carry
        the other core's name: what counts is that every directory belongs to a core)."""
        r = requests.get(f"{self.url}/admin/cores", params={"action": "STATUS", "indexInfo": "false", "wt": "json"},
                         timeout=30)
        r.raise_for_status()
        used = {Path(c["instanceDir"]).resolve() for c in r.json()["status"].values()}
        return {p.parent.name for p in self.home.glob("*/core.properties") if p.parent.resolve() not in used}

    def stop(self) -> None:
        solr_runtime.stop(self.home)


@pytest.fixture(scope="module")
def solr(tmp_path_factory):
    require_solr_tools()
    s = KillableSolr(tmp_path_factory.mktemp("killable-solr"))
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def running_solr(solr):
    solr.ensure_running()      # a test that failed half-way may have left it dead
    return solr


# --------------------------------------------------------------------------- helpers

def wait_until(condition, timeout: float, what: str, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


ADMIN_TOKEN = "t0ken-for-solr-tests"


def write_config(d: Path, oai_url: str, core_url: str, batch_size: int = 100, solr_timeout: float = 10
                 ) -> config.Config:
    d.mkdir(parents=True, exist_ok=True)
    path = d / "node_config.yaml"
    path.write_text(textwrap.dedent(f"""\
        node: {{id: ke, name: Test node}}
        admin_token: {ADMIN_TOKEN}
        store: {{path: node.sqlite}}
        index: {{backend: solr, solr: {{url: "{core_url}", timeout: {solr_timeout}}}}}
        harvest: {{batch_size: {batch_size}, retries: 5, timeout: 5, backoff: 0.02}}
        sources:
          - {{id: {SID}, type: oaipmh, url: "{oai_url}", metadata_prefix: oai_dc}}
        """), encoding="utf-8")
    return config.load(path)


def new_core(solr: KillableSolr, name: str) -> str:
    return solr_runtime.create_core(solr.url, name)


def cli(cfg, *args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(cfg.path), *args],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def cli_background(cfg, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(cfg.path), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def stored_live(path) -> int:
    """Live records in the store, read without writing (the harvest runs in another process)."""
    if not os.path.exists(path):
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT COUNT(*) FROM records WHERE deleted=0").fetchone()[0]
    except sqlite3.OperationalError:     # the tables do not exist yet
        return 0
    finally:
        db.close()


def store_live_ids(cfg) -> set[str]:
    with Store(cfg.store_path) as s:
        return {row[0] for row in s.db.execute("SELECT id FROM records WHERE deleted=0")}


def solr_ids(core_url: str) -> tuple[int, set[str]]:
    """(numFound, ids) of everything the core holds, asked of Solr directly (committed documents)."""
    r = requests.get(f"{core_url}/select", params={"q": "*:*", "fl": "id", "rows": 1_000_000, "wt": "json"},
                     timeout=60)
    r.raise_for_status()
    resp = r.json()["response"]
    return int(resp["numFound"]), {d["id"] for d in resp["docs"]}


def realtime_has(core_url: str, record_id: str) -> bool:
    """Whether the core has received the document (real-time get: committed or not)."""
    try:
        r = requests.get(f"{core_url}/get", params={"id": record_id, "fl": "id", "wt": "json"}, timeout=5)
    except requests.RequestException:
        return False
    return r.status_code == 200 and bool(r.json().get("doc"))


def status_of(cfg) -> dict:
    with Store(cfg.store_path) as s, open_backend(cfg, s) as index:
        return index_status(index, s)


def assert_index_exact(cfg) -> None:
    """The index holds exactly the store's live records, and knows it (no lag)."""
    live = store_live_ids(cfg)
    found, ids = solr_ids(cfg.index["solr"]["url"])
    assert found == len(live), (found, len(live))
    assert ids == live, (len(ids - live), len(live - ids))
    st = status_of(cfg)
    assert st["behind"] == 0 and st["indexed_seq"] == st["store_seq"] and st["documents"] == len(live), st
    with Store(cfg.store_path) as s, open_backend(cfg, s) as index:
        assert index.search(Query("", limit=1)).total == len(live)


def assert_clean_failure(proc_or_result, what: str) -> str:
    rc = proc_or_result.returncode
    err = proc_or_result.stderr if isinstance(proc_or_result.stderr, str) else proc_or_result.stderr.read()
    assert rc == 1, (rc, err)
    assert "Traceback" not in err, err
    assert err.startswith(f"{what} failed:") and "unavailable" in err and "the store is untouched" in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err


def set_faults(srv: OAIServer, faults: list) -> None:
    srv.clear_faults()
    for fault in faults:
        srv.add_fault(fault)


def oai_faults(seed: int) -> list:
    """Faults the harvest recovers from within one run (retried), so that the run itself ends ok."""
    return [http_503(retry_after=0, probability=0.03, seed=seed), drop_connection(probability=0.02, seed=seed + 1),
            duplicate_across_pages(probability=0.1, seed=seed + 2)]


# --------------------------------------------------------------------------- 1. Solr killed during a harvest

def check_harvest_with_solr_killed(tmp_path, solr: KillableSolr, *, first: int, added: int, deleted: int,
                                   page_delay: float, kill_at: list[float], restart_during: bool, core: str):
    """A node indexed in Solr harvests again (records added, some deleted at the source) while Solr is killed
    at each fraction of ``kill_at`` of the new records. With ``restart_during`` Solr is started again at once
    and the harvest itself catches up; otherwise Solr stays down until the harvest ends and
    `reindex --catch-up` catches up."""
    records = make_records(first + added, deleted_every=9)
    faults = oai_faults(seed=len(kill_at))
    with OAIServer(records[:first], page_size=100, faults=faults) as srv:
        cfg = write_config(tmp_path, srv.url, new_core(solr, core))
        done = cli(cfg, "harvest")                                    # Solr up: everything indexed
        assert done.returncode == 0, done.stderr
        assert_index_exact(cfg)
        before = store_live_ids(cfg)
        for rec in records[first:]:
            srv.add(rec)
        gone = [r.identifier for r in records[:first] if not r.deleted][:deleted]
        for ident in gone:
            srv.delete(ident)
        live = {r.identifier for r in srv.source.records if not r.deleted}
        faults.append(srv.add_fault(slow(page_delay, verbs={"ListRecords"})))

        base = stored_live(cfg.store_path)
        proc = cli_background(cfg, "harvest", "--full")
        restarts = []
        try:
            for frac in kill_at:
                wait_until(lambda: stored_live(cfg.store_path) >= base + frac * added or proc.poll() is not None,
                           120, f"{frac:.0%} of the new records in the store")
                assert proc.poll() is None, "the harvest ended before Solr could be killed: slow the pages down"
                solr.kill()
                assert not realtime_has(f"{solr.url}/{core}", next(iter(before)))
                if restart_during:     # the harvest crawls on while Solr restarts, then goes on at its pace
                    set_faults(srv, [slow(1.0, verbs={"ListRecords"}), *faults])  # the first slow fault counts
                    restarts.append(solr.start())
                    assert proc.poll() is None, "the harvest ended while Solr restarted"
                    set_faults(srv, faults)
            out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, (out, err)
        assert "Traceback" not in err, err

        with Store(cfg.store_path) as s:                              # the store is complete whatever Solr did
            assert s.live_identifiers(SID) == live
            assert s.count(SID) == len(live)
            assert {r["status"] for r in s.runs(SID, limit=10)} == {"ok"}
        solr_lines = [line for line in err.splitlines() if "Solr" in line]
        if restart_during:
            assert not solr_lines, err                                # the harvest caught up by itself
        else:       # said once, at the end, not once per batch
            assert len(solr_lines) == 1 and solr_lines[0].startswith("warning: the index is behind the store"), err
            assert "nothing is lost" in err
            restarts.append(solr.start())
            st = status_of(cfg)
            assert st["behind"] > 0 and st["documents"] < len(live), st
            found, ids = solr_ids(cfg.index["solr"]["url"])
            with Store(cfg.store_path) as s:     # deletions applied at the end of the run, Solr down then
                tombstoned = {s.db.execute("SELECT id FROM records WHERE source=? AND identifier=?",
                                           (SID, i)).fetchone()[0] for i in gone}
            assert ids - store_live_ids(cfg) == tombstoned, "before catching up, the deleted records are indexed"
            fixed = cli(cfg, "reindex", "--catch-up")
            assert fixed.returncode == 0, fixed.stderr
            assert f"the index holds {len(live)} documents (solr), 0 changes behind the store" in fixed.stdout
        assert_index_exact(cfg)
    print(f"\n{first} records indexed, then {added} added and {deleted} deleted while Solr was killed "
          f"{len(kill_at)} time(s); restarts took {', '.join(f'{t:.1f} s' for t in restarts)}")


def test_solr_killed_during_a_harvest_then_catch_up(tmp_path, running_solr):
    """Solr dies a third of the way through a harvest and stays down until the harvest ends: the store gets
    everything, the harvest warns that the index is behind, and `reindex --catch-up` makes it exact (new
    records added, records deleted at the source removed from Solr)."""
    check_harvest_with_solr_killed(tmp_path, running_solr, first=600, added=2400, deleted=60, page_delay=0.05,
                                   kill_at=[1 / 3], restart_during=False, core="harvest_down")


def test_solr_killed_and_restarted_during_a_harvest(tmp_path, running_solr):
    """Solr dies early in a harvest and comes back while it still runs: the harvest's own catch-up (tried
    again at most every harvesting.RETRY_SECONDS, and at the end) brings the index to exactly the store, with
    no command run afterwards."""
    check_harvest_with_solr_killed(tmp_path, running_solr, first=300, added=2700, deleted=30, page_delay=0.1,
                                   kill_at=[0.15], restart_during=True, core="harvest_restart")


@pytest.mark.slow
def test_solr_killed_during_a_harvest_then_catch_up_long(tmp_path, running_solr):
    check_harvest_with_solr_killed(tmp_path, running_solr, first=2000, added=10000, deleted=400, page_delay=0.05,
                                   kill_at=[0.5], restart_during=False, core="harvest_down_long")


@pytest.mark.slow
def test_solr_killed_and_restarted_three_times_during_a_harvest_long(tmp_path, running_solr):
    check_harvest_with_solr_killed(tmp_path, running_solr, first=1000, added=8000, deleted=200, page_delay=0.1,
                                   kill_at=[0.1, 0.4, 0.7], restart_during=True, core="harvest_restart_long")


# --------------------------------------------------------------------------- 2. Solr killed during catch-up and rebuild

@pytest.fixture(scope="module")
def harvested_store(tmp_path_factory, solr):
    """A store of 4,000 records (a ninth of them tombstones), harvested once; tests index copies of it."""
    d = tmp_path_factory.mktemp("harvested")
    solr.ensure_running()
    with OAIServer(make_records(4000, deleted_every=9), page_size=200) as srv:
        cfg = write_config(d, srv.url, new_core(solr, "harvested"), batch_size=500)
        done = cli(cfg, "harvest")
        assert done.returncode == 0, done.stderr
    return Path(cfg.store_path)


def node_with_copy(tmp_path, store_file: Path, solr: KillableSolr, core: str) -> config.Config:
    """A node holding a copy of the store, indexed in a new, empty core."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9/oai", new_core(solr, core))
    src, dst = sqlite3.connect(str(store_file)), sqlite3.connect(str(cfg.store_path))
    try:
        src.backup(dst)
    finally:
        src.close(), dst.close()
    return cfg


def live_id_after(cfg, position: int) -> str:
    """The first live record at or after ``position`` in the store's change order (what catch-up follows)."""
    with Store(cfg.store_path) as s:
        rows = s.changes(after_seq=0, limit=1_000_000)
    return next(r["id"] for r in rows[position:] if not r["deleted"])


def kill_when_received(solr: KillableSolr, proc: subprocess.Popen, core_url, record_id: str) -> None:
    """SIGKILL Solr as soon as the core has received record_id (the running command is then between two
    batches or sending one); fails if the command ended first."""
    url = core_url if isinstance(core_url, str) else None
    while True:
        if url is None:
            url = core_url()
        if url and realtime_has(url, record_id):
            break
        assert proc.poll() is None, f"the command ended before Solr could be killed: {proc.communicate()}"
        time.sleep(0.005)
    solr.kill()


def test_solr_killed_between_batches_of_a_catch_up(tmp_path, running_solr, harvested_store):
    solr = running_solr
    cfg = node_with_copy(tmp_path, harvested_store, solr, "catchup")
    core_url = cfg.index["solr"]["url"]
    live = store_live_ids(cfg)
    assert status_of(cfg)["indexed_seq"] == 0
    proc = cli_background(cfg, "reindex", "--catch-up")
    try:
        kill_when_received(solr, proc, core_url, live_id_after(cfg, 2 * CATCH_UP_BATCH))
        proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_clean_failure(proc, "reindex")
    assert store_live_ids(cfg) == live
    solr.start()
    st = status_of(cfg)
    assert st["indexed_seq"] == 0 and st["behind"] == st["store_seq"] > 0, st   # nothing claimed as indexed
    fixed = cli(cfg, "reindex", "--catch-up")
    assert fixed.returncode == 0, fixed.stderr
    assert f"the index holds {len(live)} documents (solr), 0 changes behind the store" in fixed.stdout
    assert_index_exact(cfg)


def check_rebuild_killed(tmp_path, solr: KillableSolr, store_file: Path, core: str, kill_after_batches: int):
    cfg = node_with_copy(tmp_path, store_file, solr, core)
    core_url = cfg.index["solr"]["url"]
    with Store(cfg.store_path) as s, open_backend(cfg, s) as index:
        catch_up(index, s)
    assert_index_exact(cfg)
    old_found, old_ids = solr_ids(core_url)
    assert solr.cores(f"{core}_rebuild_") == set()

    def rebuilding_core():
        names = solr.cores(f"{core}_rebuild_")
        return f"{solr.url}/{next(iter(names))}" if names else None

    proc = cli_background(cfg, "reindex")
    try:
        kill_when_received(solr, proc, rebuilding_core, live_id_after(cfg, kill_after_batches * REBUILD_BATCH))
        proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
    message = assert_clean_failure(proc, "reindex")
    solr.start()
    # the live core still serves its complete old contents: the half-built one was never swapped in
    assert solr_ids(core_url) == (old_found, old_ids)
    assert_index_exact(cfg)
    leftover = solr.cores(f"{core}_rebuild_")
    assert len(leftover) == 1, leftover       # CoreAdmin CREATE persisted it: Solr loads it again
    again = cli(cfg, "reindex")
    assert again.returncode == 0, again.stderr
    assert f"the index holds {len(old_ids)} documents (solr), 0 changes behind the store" in again.stdout
    assert_index_exact(cfg)
    assert solr.cores(f"{core}_rebuild_") == set(), "the core of the killed rebuild is left behind"
    assert solr.orphan_dirs() == set(), "a core's directory is left in the Solr home"
    return leftover, message


def test_solr_killed_in_the_middle_of_a_rebuild(tmp_path, running_solr, harvested_store):
    leftover, message = check_rebuild_killed(tmp_path, running_solr, harvested_store, "rebuild",
                                             kill_after_batches=1)
    print(f"\n{message.strip()}\nhalf-built core after the restart: {sorted(leftover)} (removed by the next rebuild)")


@pytest.mark.slow
def test_solr_killed_in_every_batch_of_a_rebuild_long(tmp_path, running_solr, harvested_store):
    for k in range(3):
        check_rebuild_killed(tmp_path / str(k), running_solr, harvested_store, f"rebuild{k}", kill_after_batches=k)


# --------------------------------------------------------------------------- 3. the node serving while Solr is down

def test_the_node_keeps_serving_while_solr_is_down(tmp_path, running_solr, harvested_store):
    """Solr killed under a running node: searches answer 503 with an {"error"} (the web page too), what does
    not need the index (records, OAI-PMH, status) keeps answering, the status says the index is unreachable;
    once Solr is back the same node searches again, without a restart."""
    solr = running_solr
    cfg = node_with_copy(tmp_path, harvested_store, solr, "serving")
    with Store(cfg.store_path) as s, open_backend(cfg, s) as index:
        catch_up(index, s)
    live = store_live_ids(cfg)
    some_id = sorted(live)[0]
    with NodeServer(cfg.path) as node, requests.Session() as http:
        def get(path, **kw):
            return http.get(f"{node.url}{path}", timeout=30, **kw)
        assert get("/api/search", params={"q": "", "limit": 1}).json()["total"] == len(live)
        solr.kill()
        r = get("/api/search", params={"q": "PCB"})
        assert r.status_code == 503 and r.json() == {"error": "the search index is unavailable; try again later"}
        assert solr.url not in r.text                    # where the engine runs is for the operator only
        page = get("/", params={"q": "PCB"}, headers={"Accept": "text/html"})
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert "Traceback" not in page.text
        assert get(f"/api/records/{some_id}").json()["id"] == some_id
        assert get("/oai", params={"verb": "Identify"}).status_code == 200
        st = get("/api/status").json()
        assert st["records"] == len(live) and "unavailable" in st["index"]["error"], st["index"]
        r = http.post(f"{node.url}/api/admin/reindex", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60)
        assert r.status_code == 503 and set(r.json()) == {"error"}, r.text
        solr.start()
        r = get("/api/search", params={"q": "", "limit": 1})
        assert r.status_code == 200 and r.json()["total"] == len(live)
        assert get("/api/status").json()["index"]["behind"] == 0


# --------------------------------------------------------------------------- 4. a hung Solr

FROZEN_TIMEOUT = 2.0


def test_a_hung_solr_costs_a_harvest_a_few_timeouts_not_one_per_batch(tmp_path, running_solr):
    """Solr frozen (SIGSTOP: connections accepted, nothing answered) during a harvest of 30 batches: each
    request to it waits the whole timeout, so the harvest must not try the index after every batch. It
    ends in a few timeouts with every record stored and one warning; once Solr answers again,
    `reindex --catch-up` makes the index exact."""
    solr = running_solr
    records = make_records(3000, deleted_every=9)
    with OAIServer(records, page_size=100, faults=[slow(0.05, verbs={"ListRecords"})]) as srv:
        cfg = write_config(tmp_path, srv.url, new_core(solr, "frozen"), solr_timeout=FROZEN_TIMEOUT)
        solr.freeze()
        try:
            t0 = time.monotonic()
            done = cli(cfg, "harvest")
            took = time.monotonic() - t0
        finally:
            solr.thaw()
        assert done.returncode == 0, done.stderr
        solr_lines = [line for line in done.stderr.splitlines() if "Solr" in line]
        assert len(solr_lines) == 1 and solr_lines[0].startswith("warning: the index is behind the store"), done.stderr
        assert store_live_ids(cfg) == {f"ke:{SID}:{r.identifier}" for r in records if not r.deleted}
        batches = len(records) // 100
        print(f"\nharvest of {batches} batches with Solr frozen took {took:.1f} s")
        assert took < batches * FROZEN_TIMEOUT / 2, f"{took:.1f} s: the index was tried after every batch"
        fixed = cli(cfg, "reindex", "--catch-up")
        assert fixed.returncode == 0, fixed.stderr
        assert_index_exact(cfg)
