"""Scheduled harvests with APScheduler: cron slots, one run at a time, failures logged and retried,
missed slots run once after a restart, next runs in /status."""
import shutil
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from harvester import config
from harvester.schedule import Scheduler
from harvester.store import Store

from .conftest import ROOT
from .nodeserver import NodeServer


@pytest.fixture
def node(tmp_path):
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    text = (ROOT / "node_config.yaml").read_text()
    text = text.replace('schedule: "0 2 * * *"', 'schedule: "* * * * *"')           # ke-moe: every minute
    (tmp_path / "node_config.yaml").write_text(text)
    return config.load(tmp_path / "node_config.yaml")


def test_jobs_follow_the_config_and_report_next_runs(node):
    sched = Scheduler(node).start()
    try:
        nxt = sched.next_runs()
        assert set(nxt) == {s["id"] for s in node.sources if s.get("schedule")}
        when = datetime.fromisoformat(nxt["ke-moe"].replace("Z", "+00:00"))
        assert timedelta(0) < when - datetime.now(timezone.utc) <= timedelta(minutes=1)
        job = sched.scheduler.get_job("ke-moe")
        assert job.max_instances == 1 and job.coalesce
    finally:
        sched.shutdown()


def test_a_run_stores_records_and_a_failure_is_logged_not_fatal(node):
    sched = Scheduler(node)
    sched.run_source("ke-moe")
    with Store(node.store_path) as s:
        assert s.count("ke-moe") == 33 and s.last_run("ke-moe")["status"] == "ok"
    (node.resolve("samples/ke-moe-oai.xml")).write_text("<broken")
    sched.run_source("ke-moe")                 # must not raise
    with Store(node.store_path) as s:
        assert s.last_run("ke-moe")["status"] == "failed" and s.count("ke-moe") == 33


def test_a_slot_missed_while_down_runs_once_at_start(node):
    with Store(node.store_path) as s:        # the last run started two days ago; daily slots were missed since
        run = s.acquire("ke-geo")
        s.finish("ke-geo", run, "ok")
        s.db.execute("UPDATE runs SET started=? WHERE id=?",
                     ((datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), run))
    sched = Scheduler(node).start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with Store(node.store_path) as s:
                if len(s.runs("ke-geo")) == 2 and s.last_run("ke-geo")["status"] == "ok":
                    break
            time.sleep(0.1)
        with Store(node.store_path) as s:
            assert len(s.runs("ke-geo")) == 2, "exactly one catch-up run"
            assert s.count("ke-geo") == 5
            assert s.runs("ke-moe") == [], "a source with no missed slot waits for its next slot"
    finally:
        sched.shutdown()


def test_status_page_shows_next_runs(node):
    with NodeServer(node.path) as srv:
        srv.app.state.scheduler = Scheduler(srv.cfg).start()
        try:
            st = requests.get(f"{srv.url}/status").json()
            src = {s["id"]: s for s in st["sources"]}
            assert st["scheduler"] == "running" and src["ke-moe"]["next_run"]
            page = requests.get(f"{srv.url}/status", headers={"Accept": "text/html"})
            assert page.headers["content-type"].startswith("text/html") and "ke-moe" in page.text
        finally:
            srv.app.state.scheduler.shutdown()


@pytest.mark.parametrize("expr, weekday", [("0 4 * * 1", 0), ("0 4 * * 0", 6), ("0 4 * * 7", 6), ("0 4 * * 5", 4),
                                            ("0 4 * * mon", 0)])
def test_cron_weekdays_mean_what_cron_means(expr, weekday):
    from harvester.schedule import cron_trigger
    start = datetime(2026, 11, 23, 5, 0, tzinfo=timezone.utc)     # a Monday, after 04:00
    nxt = cron_trigger(expr).get_next_fire_time(None, start)
    assert nxt.weekday() == weekday and (nxt.hour, nxt.minute) == (4, 0)
