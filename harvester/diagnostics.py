"""Failed records grouped by cause, so an operator fixes one cause rather than reading a thousand lines."""
from __future__ import annotations

import re

_VARIABLE = [
    (re.compile(r"'[^']*'|\"[^\"]*\""), "'…'"),
    (re.compile(r"\bline \d+(, column \d+)?"), "line …"),
    (re.compile(r"\b\d+\b"), "N"),
]


def cause(error: str) -> str:
    """The error with its record-specific values blanked out: records failing for one reason share it."""
    out = error
    for pattern, repl in _VARIABLE:
        out = pattern.sub(repl, out)
    return out


def group_failures(failures: list[dict]) -> list[dict]:
    groups: dict[tuple, dict] = {}
    for f in failures:
        key = (f["source"], cause(f["error"]))
        g = groups.setdefault(key, {"source": f["source"], "cause": key[1], "count": 0, "records": []})
        g["count"] += 1
        g["records"].append({"identifier": f["identifier"], "error": f["error"], "location": f["location"],
                             "last_seen": f["last_seen"]})
    return sorted(groups.values(), key=lambda g: (-g["count"], g["source"], g["cause"]))
