"""/metrics in the Prometheus text format: records by source, harvest runs and errors, searches and latency."""
from __future__ import annotations


def _line(name: str, value, **labels) -> str:
    if labels:
        body = ",".join(f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                        for k, v in labels.items())
        return f"{name}{{{body}}} {value}"
    return f"{name} {value}"


def render(state) -> str:
    store = state.store()
    out = ["# HELP pops_records Live records in the store, by source.", "# TYPE pops_records gauge"]
    for row in store.db.execute("SELECT source, SUM(deleted=0), SUM(deleted=1) FROM records GROUP BY source"):
        out.append(_line("pops_records", row[1], source=row[0]))
    out += ["# HELP pops_records_deleted Tombstones in the store, by source.", "# TYPE pops_records_deleted gauge"]
    for row in store.db.execute("SELECT source, SUM(deleted=1) FROM records GROUP BY source"):
        out.append(_line("pops_records_deleted", row[1], source=row[0]))
    out += ["# HELP pops_harvest_runs_total Harvest runs, by source and outcome.", "# TYPE pops_harvest_runs_total counter"]
    for row in store.db.execute("SELECT source, status, COUNT(*) FROM runs GROUP BY source, status"):
        out.append(_line("pops_harvest_runs_total", row[2], source=row[0], status=row[1]))
    out += ["# HELP pops_record_errors Records that failed to map, by source.", "# TYPE pops_record_errors gauge"]
    for row in store.db.execute("SELECT source, COUNT(*) FROM record_errors GROUP BY source"):
        out.append(_line("pops_record_errors", row[1], source=row[0]))
    with state.lock:
        counts = dict(state.metrics)
        latency = state.latency_sum
    out += ["# HELP pops_search_requests_total Search requests, by scope.", "# TYPE pops_search_requests_total counter"]
    for scope in ("local", "federation"):
        out.append(_line("pops_search_requests_total", counts.get(f"search_requests_{scope}", 0), scope=scope))
    out += ["# HELP pops_search_seconds_total Time spent answering searches.", "# TYPE pops_search_seconds_total counter",
            _line("pops_search_seconds_total", round(latency, 6))]
    return "\n".join(out) + "\n"
