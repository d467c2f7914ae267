"""A harvest run: stream a source through map -> store in batches, checkpointed, locked, diagnosed.

One run per source at a time (a lock in the store; a lock left by a dead process is cleared and its run
marked crashed). Each batch and the checkpoint from which it can be re-read go in one transaction, so a
run killed at any moment resumes without losing or duplicating records. Deletions are held until the run
has read the whole source and are applied only if they stay under the source's limit (a share of its
records), so an outage, an empty or a truncated answer never empties the store.
"""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Callable

from . import crosswalks
from .mapping import LoopDetected, MapContext, MappingError, map_record
from .raw import RawRecord
from .sources import SourceError, open_source
from .store import Failure, Item, Store

log = logging.getLogger(__name__)


# What became of every record a run read: seen == the sum of these (RunReport.accounted_for).
OUTCOMES = ("stored", "unchanged", "superseded", "duplicates", "marked_deleted", "failed", "skipped")
DUPLICATE = "duplicate identifier"


@dataclass
class RunReport:
    source: str
    status: str = "running"    # ok | partial | failed | guarded | busy | interrupted
    run_id: int | None = None
    seen: int = 0              # records read from the source; each ends in one of OUTCOMES:
    stored: int = 0            #   new or changed, written
    unchanged: int = 0         #   the store already holds this version
    superseded: int = 0        #   held in the lossless native format from another source: that copy is kept
    duplicates: int = 0        #   an identifier met again in the same listing: the first met is kept
    marked_deleted: int = 0    #   deletion notices (header status="deleted", OData removals)
    failed: int = 0            #   could not be read or mapped (see `pops-chm errors`)
    skipped: int = 0           #   already passed through this node (a loop between nodes)
    deleted: int = 0           # records tombstoned: marked deleted at the source, or vanished from its listing
    taken_over: int = 0        # of `stored`: in place of another source's copy of the same record
    error: str | None = None
    problems: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.seen / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def accounted_for(self) -> int:
        return sum(getattr(self, k) for k in OUTCOMES)

    @property
    def records_failed(self) -> bool:
        """A record failed, or the source holds one identifier twice: the operator has something to fix."""
        return bool(self.failed or self.duplicates)

    def counters(self) -> dict:
        return {k: getattr(self, k) for k in ("seen", *OUTCOMES, "deleted", "taken_over")}

    def summary(self) -> str:
        """One line: what became of every record seen, then the deletions."""
        took = f" ({self.taken_over} in place of another source's copy)" if self.taken_over else ""
        outcomes = ", ".join(f"{k.replace('_', ' ')} {getattr(self, k)}{took if k == 'stored' else ''}"
                             for k in OUTCOMES)
        return f"seen {self.seen}: {outcomes}; deleted {self.deleted}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["rate"] = round(self.rate, 1)
        return d


def format_of(spec: dict) -> str:
    """The crosswalk a source's records are mapped with: its `format`, else its OAI metadataPrefix, else the
    one its protocol implies (CSW: ISO 19139 or Dublin Core; OData: the InforMEA entities)."""
    if spec.get("format") or spec.get("metadata_prefix"):
        return spec.get("format") or spec["metadata_prefix"]
    if spec["type"] == "csw":
        return "oai_dc" if spec.get("output_schema") == "csw-record" else "iso19139"
    return "informea"


def crosswalk_for(spec: dict) -> crosswalks.Crosswalk:
    name = format_of(spec)
    if name == "xpath":
        from .crosswalks.xpath import make_xpath_crosswalk, source_mapping
        return make_xpath_crosswalk(source_mapping(spec))
    return crosswalks.get(name)


def map_context(cfg, spec: dict) -> MapContext:
    """What mapping a source's records needs to know: this node, the source, its defaults and location."""
    return MapContext(node=cfg.node["id"], source=spec["id"], defaults=spec.get("defaults") or {},
                      url=spec.get("url") or str(cfg.resolve(spec["path"])))


def harvest(cfg, store: Store, source_ids=None, *, full=False, force=False,
            on_batch: Callable | None = None, progress: Callable | None = None) -> list[RunReport]:
    """Harvest every enabled source (or those named); one failing source never stops the others."""
    specs = [cfg.source(s) for s in source_ids] if source_ids else [s for s in cfg.sources if s.get("enabled", True)]
    return [harvest_source(cfg, store, spec, full=full, force=force, on_batch=on_batch, progress=progress) for spec in specs]


def map_raw(cw, raw: RawRecord, ctx: MapContext, max_bytes: int):
    """(Item, None), (None, Failure) or (None, None) for a record skipped as a loop."""
    text = raw.raw_text()
    if raw.error:
        return None, Failure(ctx.source, raw.identifier, raw.error, raw.location, text[:100_000])
    if len(text) > max_bytes:
        return None, Failure(ctx.source, raw.identifier, f"record of {len(text)} characters exceeds the limit of {max_bytes}",
                             raw.location, text[:10_000])
    try:
        rec = map_record(cw, raw, ctx)
    except LoopDetected as exc:
        log.debug("%s", exc)
        return None, None
    except MappingError as exc:
        return None, Failure(ctx.source, raw.identifier, str(exc), raw.location, text[:100_000])
    return Item(ctx.source, raw.identifier, rec, text, cw.name, raw.datestamp), None


def duplicate(source: str, raw: RawRecord, first: str) -> Failure:
    """A second record of a source with an identifier already met in this run: not stored (it would overwrite
    the first on every run); kept as a per-record problem naming both places."""
    return Failure(source, raw.identifier,
                   f"{DUPLICATE} {raw.identifier!r}: also at {first}, which is kept (the first met: files are read "
                   "in path order); this one is not stored. Give each record its own identifier at the source",
                   raw.location or raw.url, raw.raw_text()[:100_000])


def harvest_source(cfg, store: Store, spec: dict, *, full=False, force=False,
                   on_batch: Callable | None = None, progress: Callable | None = None) -> RunReport:
    sid = spec["id"]
    report = RunReport(sid)
    run_id = store.acquire(sid, full)
    if run_id is None:
        holder = store.lock_holder(sid) or {}
        report.status = "busy"
        report.error = f"a run of {sid} is already in progress (process {holder.get('lock_pid')} since {holder.get('lock_since')})"
        return report
    report.run_id = run_id
    t0 = time.monotonic()
    try:
        _run(cfg, store, spec, report, full=full, force=force, on_batch=on_batch, progress=progress)
    except (SourceError, ValueError, KeyError, OSError) as exc:
        report.status, report.error = "failed", str(exc)
    except KeyboardInterrupt:
        report.status, report.error = "interrupted", "interrupted; the next run resumes from the last checkpoint"
        raise
    except Exception as exc:  # a bug or an unforeseen fault in one source must not stop the others
        report.status = "failed"
        report.error = f"{type(exc).__name__}: {exc}"
        log.error("source %s: %s", sid, traceback.format_exc())
    finally:
        report.seconds = time.monotonic() - t0
        error = report.error or ("; ".join(report.problems) if report.problems else None)
        store.finish(sid, run_id, report.status, error, **report.counters())
    return report


def _run(cfg, store: Store, spec: dict, report: RunReport, *, full, force, on_batch, progress):
    sid = spec["id"]
    cw = crosswalk_for(spec)
    ctx = map_context(cfg, spec)
    batch_size = cfg.source_setting(spec, "batch_size")
    max_bytes = cfg.harvest["max_record_bytes"]
    state = {**store.state(sid), "documents": store.known_documents(sid)}
    source = open_source(spec, cfg, state, full)
    if full or not state.get("checkpoint"):
        store.forget_seen(sid)   # a new listing; a resumed one adds to what it had seen before
    items, failures, pending = [], [], []
    seen: dict[str, tuple] = {}   # identifier -> (where, document) it was met, this batch (before: in the store)
    resume = None

    def flush():
        res = store.apply_batch(items, failures, pending=pending, checkpoint=resume, source=sid, run_id=report.run_id,
                                seen=((i, *where) for i, where in seen.items()))
        report.stored += res.stored
        report.unchanged += res.unchanged
        report.superseded += res.superseded
        report.taken_over += res.taken_over
        if on_batch and items:
            on_batch([it.record for it in items])
        items.clear(), failures.clear(), pending.clear(), seen.clear()
        store.update_run(report.run_id, **report.counters())
        if progress:
            progress(report)

    for raw, resume in source.records():
        report.seen += 1
        # only a source that lists every record each time can tell deletions by absence, and duplicates
        first = ((seen.get(raw.identifier) or (None,))[0] or store.first_met(sid, raw.identifier, report.run_id)
                 if source.enumerates_all else None)
        if first is not None:
            report.duplicates += 1
            failures.append(duplicate(sid, raw, first))
        elif raw.deleted:
            report.marked_deleted += 1
            pending.append(Item(sid, raw.identifier, datestamp=raw.datestamp))
        else:
            item, failure = map_raw(cw, raw, ctx, max_bytes)
            if item:
                items.append(item)
            elif failure:
                report.failed += 1
                failures.append(failure)
            else:
                report.skipped += 1
        if source.enumerates_all and first is None:
            seen[raw.identifier] = (raw.location or raw.url or "?", raw.url or None)
        if len(items) + len(failures) + len(pending) >= batch_size:
            flush()
    resume = None if source.complete else resume
    flush()
    unchanged_documents = getattr(source, "unchanged_documents", None)   # XML and RDF documents by HTTP
    if unchanged_documents:   # not read again (HTTP 304), but still there: their records are not deleted
        store.see_documents_again(sid, unchanged_documents, report.run_id)
    report.problems = list(source.problems)
    if source.not_modified:
        report.status = "ok"
        return
    if not source.complete:
        report.status = "partial"
        return
    if unchanged_documents is not None and source.listing_complete and not report.problems:
        store.remember_documents(sid)   # which document holds each record, for the next run's 304s
    _apply_deletions(store, spec, source, report, force, cfg.source_setting(spec, "max_delete_share"),
                     batch_size)
    if report.status == "running":
        report.status = "partial" if report.problems else "ok"
    if report.status == "ok":
        store.save_state(sid, checkpoint=None, **source.final_state())
    else:  # keep the previous datestamp: the next run reads this increment again
        store.save_state(sid, checkpoint=None, validators={})


def _apply_deletions(store: Store, spec: dict, source, report: RunReport, force: bool, limit: float,
                     batch_size: int):
    """Tombstone the records the source deleted (pending deletions) and, after a whole listing, those it no
    longer lists; unless that is more than `limit` of the source (the mass-deletion guard). Nothing here
    holds the source's identifiers in memory: the store compares them."""
    sid = spec["id"]
    vanished = source.listing_complete and not report.problems
    live = store.count(sid)
    if vanished and live and not store.seen_count(sid):
        report.problems.append(f"the source listed no records although {live} are held; nothing deleted")
        vanished = False
    doomed = store.doomed_count(sid, vanished)
    if not doomed:
        store.clear_pending_deletes(sid)   # tombstones of records never held here
        store.forget_seen(sid)
        return
    share = doomed / live
    if share > limit and not force:
        report.status = "guarded"
        report.error = (f"would delete {doomed} of {live} records ({share:.0%}), more than the limit of "
                        f"{limit:.0%}; nothing deleted. Check the source, then run `pops-chm harvest {sid} --force` "
                        "to accept the deletions")
        return
    for ids in store.doomed(sid, vanished, chunk=batch_size):
        report.deleted += store.apply_batch([Item(sid, i) for i in ids]).deleted
    store.clear_pending_deletes(sid)
    store.forget_seen(sid)