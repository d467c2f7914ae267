"""Dates as sources write them -> the record's forms (UTC 'YYYY-MM-DDThh:mm:ssZ', or 'YYYY[-MM[-DD]]')."""
from __future__ import annotations

import re
from datetime import datetime, timezone

_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_datestamp(text: str | None) -> str | None:
    """A datestamp in UTC seconds granularity, or None when absent or unreadable."""
    if not text or not text.strip():
        return None
    t = text.strip()
    try:
        if len(t) == 10:
            return datetime.strptime(t, "%Y-%m-%d").strftime("%Y-%m-%dT00:00:00Z")
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_date(text: str | None) -> str | None:
    """'YYYY', 'YYYY-MM' or 'YYYY-MM-DD' from the start of a date or datetime, None if there is none."""
    if not text:
        return None
    m = _DATE.match(str(text))
    if not m:
        return None
    year, month, day = m.groups()
    if not 1000 <= int(year) <= 2999 or (month and not 1 <= int(month) <= 12) or (day and not 1 <= int(day) <= 31):
        return None
    return "-".join(p for p in (year, month, day) if p)
