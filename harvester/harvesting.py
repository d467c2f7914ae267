"""Harvest and index together: each stored batch is indexed at once; a search backend that is down never
stops a harvest (the store keeps the records and the index catches up later).

    reports, index_error = harvest_and_index(cfg, store)      # index_error: None, or why the index is behind

Once the index has failed, it is tried again only every :data:`RETRY_SECONDS` while the harvest goes on, and
once more at the end: a search engine that hangs (each request waits for its whole timeout) costs a harvest a
few timeouts, not one per batch.
"""
from __future__ import annotations

import time

from . import run

RETRY_SECONDS = 30.0


class Indexer:
    def __init__(self, cfg, store, retry_seconds: float = RETRY_SECONDS):
        from . import index
        self.store, self.error, self.backend = store, None, None
        self.retry_seconds = retry_seconds
        self._failed_at: float | None = None
        try:
            self.backend = index.open_backend(cfg, store)
        except Exception as exc:  # unreachable or misconfigured index: harvest anyway, report it
            self.error = str(exc)

    def catch_up(self, records=None, *, now: bool = False) -> None:
        """Index what the store changed since the index last caught up; after a failure, only once
        ``retry_seconds`` have passed (or ``now``)."""
        from . import index
        if self.backend is None:
            return
        if self._failed_at is not None and not now and time.monotonic() - self._failed_at < self.retry_seconds:
            return
        try:
            index.catch_up(self.backend, self.store)
            self.error, self._failed_at = None, None
        except Exception as exc:
            self.error, self._failed_at = str(exc), time.monotonic()

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()


def harvest_and_index(cfg, store, source_ids=None, *, full=False, force=False, progress=None):
    """Run the harvests; returns (reports, index_error or None)."""
    indexer = Indexer(cfg, store)
    try:
        reports = run.harvest(cfg, store, source_ids, full=full, force=force, progress=progress,
                              on_batch=indexer.catch_up)
        indexer.catch_up(now=True)   # deletions applied at the end of runs; and a last try after a failure
    finally:
        indexer.close()
    return reports, indexer.error
