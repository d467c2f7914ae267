"""The assistance matchmaking API: for an assistance request, the sources that fit it; for an assistance
source, the open requests it could answer; on this node and (by default) every federated peer. The rules
are those of :mod:`harvester.assistance`."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException, Query as Q, Request

from ..assistance import NotAssistance, RecordNotFound, find_matches

router = APIRouter(tags=["assistance"])


@router.get("/api/assistance/{record_id:path}/matches", summary="Assistance matchmaking")
def assistance_matches(request: Request, record_id: str,
                       federated: bool = Q(True, description="Also gather candidates from the peer nodes"),
                       on: str | None = Q(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                          description="Judge deadlines as of this day (YYYY-MM-DD; default today, UTC)")):
    """`{"record", "type", "title", "node", "today", "matches": [{"id", "title", "node", "score", "reasons",
    "kind", "deadline", "status"}], "nodes": [...]}`: best match first. 404 for an unknown record, 400 for a
    record that is not an assistance source or request."""
    state = request.app.state.node
    today = None
    if on:
        try:
            today = date.fromisoformat(on)
        except ValueError:
            raise HTTPException(400, f"on: {on!r} is not a valid date")
    try:
        return find_matches(state, record_id, federated=federated, today=today)
    except RecordNotFound:
        raise HTTPException(404, f"no record {record_id!r}")
    except NotAssistance as exc:
        raise HTTPException(400, str(exc))
