"""The assistance matchmaking API: for an assistance request, the sources that fit it; for an assistance
source, the open requests it could answer; on this node and (by default) every federated peer. The rules
are those of :mod:`harvester.assistance`.

``GET /api/assistance/{record_id}/matches?federated=true|false&on=YYYY-MM-DD``: ``on`` is a real day of the
years 0001 to 9999 (OpenAPI ``format: date`` and :data:`DAY_PATTERN`, what is accepted exactly); each
parameter is given at most once. A bad parameter is a 400 naming it."""
from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, HTTPException, Query as Q, Request

from ..assistance import NotAssistance, RecordNotFound, find_matches
from .app import given_once

router = APIRouter(tags=["assistance"])

# YYYY-MM-DD in ASCII digits, year 0001 to 9999 (JSON Schema's `date` also takes year 0000, which no Python
# date can be); that the day exists is the format's part, checked by date.fromisoformat.
DAY_PATTERN = r"^(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"
_DAY = re.compile(DAY_PATTERN)
_SINGLE = ("federated", "on")


def _day(on: str) -> date:
    if _DAY.fullmatch(on):
        try:
            return date.fromisoformat(on)
        except ValueError:
            pass
    raise HTTPException(400, f"on: {on[:40]!r} is not a real day as YYYY-MM-DD (years 0001 to 9999)")


@router.get("/api/assistance/{record_id:path}/matches", summary="Assistance matchmaking")
def assistance_matches(request: Request, record_id: str,
                       federated: bool = Q(True, description="Also gather candidates from the peer nodes"),
                       on: str | None = Q(None, description="Judge deadlines as of this day (YYYY-MM-DD; "
                                          "default today, UTC)",
                                          json_schema_extra={"format": "date", "pattern": DAY_PATTERN})):
    """`{"record", "type", "title", "node", "today", "matches": [{"id", "title", "node", "score", "reasons",
    "kind", "deadline", "status"}], "nodes": [...]}`: best match first. 404 for an unknown record, 400 for a
    record that is not an assistance source or request."""
    given_once(request, *_SINGLE)
    today = _day(on) if on is not None else None
    state = request.app.state.node
    try:
        return find_matches(state, record_id, federated=federated, today=today)
    except RecordNotFound:
        raise HTTPException(404, f"no record {record_id!r}")
    except NotAssistance as exc:
        raise HTTPException(400, str(exc))
