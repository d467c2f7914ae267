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


# ke-geo runs "0 4 * * 1" (Mondays 04:00) and ke-moe "* * * * *" in this fixture; the clock is pinned, so
# what counts as missed follows from these dates alone, on whatever day the tests run.
MONDAY_SLOT = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)


def _last_run_started(store_path, source, started):
    with Store(store_path) as s:
        run = s.acquire(source)
        s.finish(source, run, "ok")
        s.db.execute("UPDATE runs SET started=? WHERE id=?", (started.strftime("%Y-%m-%dT%H:%M:%SZ"), run))


def _wait_runs(store_path, source, n, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with Store(store_path) as s:
            if len(s.runs(source)) >= n and s.last_run(source)["status"] == "ok":
                return
        time.sleep(0.1)


def test_a_slot_missed_while_down_runs_once_at_start(node):
    _last_run_started(node.store_path, "ke-geo", MONDAY_SLOT - timedelta(days=2))    # the Saturday before
    sched = Scheduler(node, clock=lambda: MONDAY_SLOT + timedelta(hours=30)).start()  # down over the slot
    try:
        _wait_runs(node.store_path, "ke-geo", 2)
        with Store(node.store_path) as s:
            assert len(s.runs("ke-geo")) == 2, "exactly one catch-up run"
            assert s.count("ke-geo") == 5
            assert s.runs("ke-moe") == [], "a source that never ran waits for its next slot"
    finally:
        sched.shutdown()


@pytest.mark.parametrize("last_started", [MONDAY_SLOT, MONDAY_SLOT + timedelta(seconds=3)],
                         ids=["at the slot", "just after the slot"])
def test_a_restart_after_the_slot_ran_runs_nothing(node, last_started):
    _last_run_started(node.store_path, "ke-geo", last_started)
    sched = Scheduler(node, clock=lambda: MONDAY_SLOT + timedelta(hours=5)).start()
    try:
        assert sched.scheduler.get_job("ke-geo-missed") is None
        time.sleep(0.5)
        with Store(node.store_path) as s:
            assert len(s.runs("ke-geo")) == 1, "the slot already ran: no catch-up"
    finally:
        sched.shutdown()


@pytest.mark.parametrize("expr, last, now, missed", [
    ("0 2 * * *", "2026-11-24T02:00:00", "2026-11-24T09:00:00", None),       # the 02:00 run itself
    ("0 2 * * *", "2026-11-24T02:00:00", "2026-11-25T02:00:00", "2026-11-25T02:00:00"),
    ("0 2 * * *", "2026-11-24T01:59:59", "2026-11-24T09:00:00", "2026-11-24T02:00:00"),
    ("0 2 * * *", "2026-11-24T02:00:00.5", "2026-11-24T09:00:00", None),
    ("0 4 * * 1", "2026-11-21T10:00:00", "2026-11-23T03:59:59", None),        # Saturday; Monday not yet due
    ("0 4 * * 1", "2026-11-21T10:00:00", "2026-11-24T10:00:00", "2026-11-23T04:00:00"),
])
def test_missed_slot_counts_only_slots_after_the_last_start(expr, last, now, missed):
    from harvester.schedule import cron_trigger, missed_slot
    utc = lambda t: datetime.fromisoformat(t).replace(tzinfo=timezone.utc)
    got = missed_slot(cron_trigger(expr), utc(last), utc(now))
    assert got == (utc(missed) if missed else None)


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
