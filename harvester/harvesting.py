"""Harvest and index together: each stored batch is indexed at once; a search backend that is down never
stops a harvest (the store keeps the records and the index catches up later)."""
from __future__ import annotations

from . import run


class Indexer:
    def __init__(self, cfg, store):
        from . import index
        self.store, self.error, self.backend = store, None, None
        try:
            self.backend = index.open_backend(cfg, store)
        except Exception as exc:  # unreachable or misconfigured index: harvest anyway, report it
            self.error = str(exc)

    def catch_up(self, records=None) -> None:
        from . import index
        if self.backend is None:
            return
        try:
            index.catch_up(self.backend, self.store)
            self.error = None
        except Exception as exc:
            self.error = str(exc)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()


def harvest_and_index(cfg, store, source_ids=None, *, full=False, force=False, progress=None):
    """Run the harvests; returns (reports, index_error or None)."""
    indexer = Indexer(cfg, store)
    try:
        reports = run.harvest(cfg, store, source_ids, full=full, force=force, progress=progress,
                              on_batch=indexer.catch_up)
        indexer.catch_up()   # deletions applied at the end of runs
    finally:
        indexer.close()
    return reports, indexer.error
