"""Scheduled harvests: APScheduler runs each source on the cron schedule in its config.

One run per source at a time (max_instances=1, and the store's lock across processes); missed runs are
coalesced into one; a failed run is logged in the store and simply tried again at the next slot. The
schedule lives in the config and the last runs in the store, so after a restart a slot missed while the
node was down is run once, at start.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from .harvesting import harvest_and_index
from .store import Store

log = logging.getLogger(__name__)


_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(expr: str) -> CronTrigger:
    """A trigger for a standard cron expression (minute hour day month weekday).

    In standard cron, weekday 0 and 7 are Sunday and 1 is Monday; APScheduler 3 numbers Monday 0. Numbers
    in the weekday field are written as names so that "0 4 * * 1" runs on Mondays, as operators expect.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), got {len(fields)}")
    dow = re.sub(r"\d+", lambda m: _DOW_NAMES[int(m.group())] if int(m.group()) <= 7 else m.group(), fields[4])
    return CronTrigger.from_crontab(" ".join(fields[:4] + [dow]), timezone=timezone.utc)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def missed_slot(trigger: CronTrigger, last_started: datetime, now: datetime) -> datetime | None:
    """The first slot after the last run's start that has passed by `now`, or None.

    A slot at the very instant the last run started is the one that run served, so only slots strictly
    after it count (cron triggers fire on whole seconds, hence the microsecond).
    """
    nxt = trigger.get_next_fire_time(None, last_started + timedelta(microseconds=1))
    return nxt if nxt is not None and nxt <= now else None


class Scheduler:
    def __init__(self, cfg, clock: Callable[[], datetime] = _utcnow):
        self.cfg = cfg
        self.clock = clock
        self.scheduler = BackgroundScheduler(timezone=timezone.utc, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})

    def scheduled_sources(self) -> list[dict]:
        return [s for s in self.cfg.sources if s.get("schedule") and s.get("enabled", True)]

    def start(self) -> "Scheduler":
        now = self.clock()
        with Store(self.cfg.store_path) as store:
            for src in self.scheduled_sources():
                trigger = cron_trigger(src["schedule"])
                self.scheduler.add_job(self.run_source, trigger, id=src["id"], args=[src["id"]], name=f"harvest {src['id']}")
                last = store.last_run(src["id"])
                slot = last and missed_slot(trigger, _parse(last["started"]), now)
                if slot:
                    log.info("source %s: the slot of %s was missed while the node was down; running it now",
                             src["id"], slot.strftime("%Y-%m-%dT%H:%M:%SZ"))
                    self.scheduler.add_job(self.run_source, id=f"{src['id']}-missed", args=[src["id"]])
        self.scheduler.start()
        return self

    def run_source(self, source_id: str) -> None:
        try:
            with Store(self.cfg.store_path) as store:
                reports, index_error = harvest_and_index(self.cfg, store, [source_id])
            for r in reports:
                log.info("scheduled harvest of %s: %s (seen %d, stored %d, deleted %d, failed %d)%s", r.source, r.status,
                         r.seen, r.stored, r.deleted, r.failed, f": {r.error}" if r.error else "")
            if index_error:
                log.warning("index behind the store: %s", index_error)
        except Exception:  # never let one run kill the scheduler; the next slot tries again
            log.exception("scheduled harvest of %s failed", source_id)

    def next_runs(self) -> dict[str, str | None]:
        out = {}
        for job in self.scheduler.get_jobs():
            if job.id.endswith("-missed"):
                continue
            nxt = job.next_run_time
            out[job.id] = nxt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if nxt else None
        return out

    def shutdown(self, wait: bool = False) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
