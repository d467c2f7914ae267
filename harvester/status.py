"""What a node holds and how its harvests went: the data behind `pops-chm status` and /status."""
from __future__ import annotations


def index_status(cfg, store) -> dict:
    """The index's size and lag behind the store, or the reason it cannot be reached."""
    from . import index
    try:
        with index.open_backend(cfg, store) as backend:
            return index.index_status(backend, store)
    except Exception as exc:  # a search backend that is down is a status to report, not a failure
        return {"backend": cfg.index["backend"], "error": str(exc), "store_seq": store.max_seq()}


def node_status(cfg, store) -> dict:
    configured = [s["id"] for s in cfg.sources]
    ids = configured + [s for s in store.sources() if s not in configured]
    sources = []
    for sid in ids:
        runs = store.runs(sid, 50)
        sources.append({
            "id": sid, "configured": sid in configured, "records": store.count(sid),
            "deleted": store.count(sid, deleted=True), "failed_records": len(store.failures(sid)),
            "last_run": runs[0] if runs else None,
            "last_error": next((r["error"] for r in runs if r["error"]), None),
            "running": store.lock_holder(sid) is not None,
        })
    return {"node": cfg.node["id"], "store": str(cfg.store_path), "records": store.count(),
            "deleted": store.count(deleted=True), "index": index_status(cfg, store), "sources": sources}
