"""What a node holds and how its harvests went: the data behind `pops-chm status` and /status.

:func:`node_status` is the operator's view (the store's path, process ids, errors as they were raised);
:func:`public_status` is what anyone may see of it: source names, counts, last and next run, and errors
with file paths and process ids taken out."""
from __future__ import annotations

import re

PUBLIC_INDEX_ERROR = "the search index is unavailable"
"""What the public is told when the index cannot be reached (where it runs is for the operator)."""
PUBLIC_RUN_KEYS = ("id", "source", "started", "ended", "status", "full", "seen", "stored", "unchanged", "deleted",
                   "failed", "skipped", "superseded", "duplicates", "marked_deleted", "taken_over", "error")
"""The parts of a run the public sees (not the process that ran it)."""

# a file: URL, or an absolute path on its own (not the path part of a web address: no letter, digit, colon,
# dot or slash right before it); Windows paths too
_FILE_URL = re.compile(r"file:/+[^\s'\"<>]*", re.IGNORECASE)
_POSIX_PATH = re.compile(r"(?<![\w:./~…-])/(?:[^\s/'\"<>]+/)*[^\s/'\"<>,;)]+")
_WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\(?:[^\s\\'\"<>]+\\)*[^\s\\'\"<>,;)]*")
_PROCESS = re.compile(r"\b(process|pid)\s*[=:]?\s*\d+", re.IGNORECASE)


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
    names = {s["id"]: s.get("name") or s["id"] for s in cfg.sources}
    ids = configured + [s for s in store.sources() if s not in configured]
    sources = []
    for sid in ids:
        runs = store.runs(sid, 50)
        sources.append({
            "id": sid, "name": names.get(sid, sid), "configured": sid in configured, "records": store.count(sid),
            "deleted": store.count(sid, deleted=True), "failed_records": len(store.failures(sid)),
            "last_run": runs[0] if runs else None,
            "last_error": next((r["error"] for r in runs if r["error"]), None),
            "running": store.lock_holder(sid) is not None,
        })
    return {"node": cfg.node["id"], "store": str(cfg.store_path), "records": store.count(),
            "deleted": store.count(deleted=True), "index": index_status(cfg, store), "sources": sources}


def public_error(text: str | None) -> str | None:
    """An error message fit for anyone: absolute file paths cut to their last part, file: URLs and process
    ids left out; what went wrong and the web addresses involved are kept."""
    if not text:
        return text
    text = _FILE_URL.sub("file:…", text)
    text = _WINDOWS_PATH.sub(_last_part, text)
    text = _POSIX_PATH.sub(_last_part, text)
    return _PROCESS.sub(lambda m: "a process" if m.group(1).lower() == "process" else "pid …", text)


def _last_part(m: re.Match) -> str:
    name = re.split(r"[/\\]", m.group(0).rstrip("/\\"))[-1]
    return f"…/{name}" if name else "…"


def public_status(st: dict) -> dict:
    """:func:`node_status` (with the app's additions: next runs, scheduler) as the public sees it: no store
    path, no process ids, no index address, errors through :func:`public_error`."""
    out = {k: v for k, v in st.items() if k != "store"}
    index = dict(st.get("index") or {})
    if "error" in index:
        index["error"] = PUBLIC_INDEX_ERROR
    out["index"] = index
    out["sources"] = []
    for src in st.get("sources") or []:
        src = dict(src)
        src["last_error"] = public_error(src.get("last_error"))
        if src.get("last_run"):
            run = {k: v for k, v in src["last_run"].items() if k in PUBLIC_RUN_KEYS}
            run["error"] = public_error(run.get("error"))
            src["last_run"] = run
        out["sources"].append(src)
    return out
