"""The node's HTTP app (ASGI): the JSON search API, status, metrics and admin actions; the OAI-PMH provider
and the web pages are mounted from their own modules.

Reading is open; anything that changes the node (harvest now, reindex) needs the config's admin token as
`Authorization: Bearer <token>`. Errors are JSON: {"error": message} with the right status code.
"""
from __future__ import annotations

import hmac
import threading
import time
from collections import Counter

from fastapi import FastAPI, HTTPException, Query as Q, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from .. import __version__
from ..store import Store

API_DESCRIPTION = """Search the records of this POPs clearing-house node (and, with `scope=federation`, of its
peer nodes): documents, national plans and reports, laws, studies, experts, assistance offers and requests,
in the six UN languages. Queries are words, never query syntax."""


class NodeState:
    """What the app shares between requests: the config, and one store and index connection per thread."""

    def __init__(self, cfg):
        self.cfg = cfg
        self._local = threading.local()
        self.metrics = Counter()
        self.latency_sum = 0.0
        self.lock = threading.Lock()
        self.started = time.time()

    def store(self) -> Store:
        s = getattr(self._local, "store", None)
        if s is None:
            s = self._local.store = Store(self.cfg.store_path)
        return s

    def index(self):
        from ..index import open_backend
        b = getattr(self._local, "index", None)
        if b is None:
            b = self._local.index = open_backend(self.cfg, self.store())
        return b

    def observe_search(self, seconds: float, scope: str):
        with self.lock:
            self.metrics[f"search_requests_{scope}"] += 1
            self.latency_sum += seconds


def require_admin(state: NodeState, request: Request) -> None:
    token = state.cfg.admin_token
    if not token:
        raise HTTPException(403, "this node has no admin_token configured: changes over HTTP are disabled")
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), token.encode()):
        raise HTTPException(401, "a valid admin token is needed (Authorization: Bearer <token>)")


def create_app(cfg) -> FastAPI:
    state = NodeState(cfg)
    app = FastAPI(title=f"POPs clearing-house node {cfg.node['id']}", version=__version__, description=API_DESCRIPTION)
    app.state.node = state

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc: RequestValidationError):
        msgs = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": "; ".join(msgs) or "invalid request"}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request, exc: Exception):
        return JSONResponse({"error": f"internal error: {type(exc).__name__}"}, status_code=500)

    @app.get("/api/search", summary="Search records", tags=["search"])
    def api_search(q: str = Q("", max_length=1000, description="The user's words"),
                   filter: list[str] = Q([], description="FIELD:VALUE, repeatable"),
                   facets: bool = Q(False, description="Count results by each facet field"),
                   sort: str = Q("relevance", pattern="^(relevance|newest|oldest|title)$"),
                   limit: int = Q(10, ge=0, le=100), offset: int = Q(0, ge=0, le=1_000_000),
                   cursor: str | None = Q(None, max_length=2000), lang: str | None = Q(None, max_length=35),
                   scope: str = Q("local", pattern="^(local|federation)$"), request: Request = None):
        """Same result shape as `pops-chm search --json`:
        `{"total", "results", "facets", "next_cursor", "query_chemicals"}` (plus `"nodes"` with scope=federation)."""
        from ..index import Query, parse_filters
        t0 = time.perf_counter()
        try:
            query = Query(text=q, filters=parse_filters(filter), facets=facets, sort=sort, limit=limit, offset=offset,
                          cursor=cursor, lang=lang).checked()
        except ValueError as exc:
            raise HTTPException(400, str(exc))
        try:
            if scope == "federation":
                from .federation import federated_search
                out = federated_search(state, query)
            else:
                out = state.index().search(query).as_json()
        except ValueError as exc:
            raise HTTPException(400, str(exc))
        state.observe_search(time.perf_counter() - t0, scope)
        if offset == 0 and not cursor and (request is None or "suggest" not in request.query_params):
            from ..searchlog import log_search  # first pages only; title suggestions are not searches
            log_search(state.store(), query, out.get("total") if isinstance(out, dict) else 0, scope, "api")
        return out

    @app.get("/api/records/{record_id:path}", summary="One record", tags=["search"])
    def api_record(record_id: str):
        rec = state.store().get(record_id)
        if rec is None:
            row = state.store().row(record_id)
            raise HTTPException(410 if row is not None else 404,
                                f"record {record_id!r} was deleted" if row is not None else f"no record {record_id!r}")
        return rec

    @app.get("/api/vocab/{kind}", summary="A vocabulary (labels in six languages, for facets)", tags=["vocabularies"])
    def api_vocab(kind: str):
        from .. import vocab
        kinds = {"chemicals": vocab.chemicals, "document_types": vocab.document_types, "countries": vocab.countries,
                 "regions": vocab.regions, "languages": vocab.languages}
        if kind not in kinds:
            raise HTTPException(404, f"no vocabulary {kind!r}; vocabularies: {', '.join(kinds)}")
        return kinds[kind]()

    @app.get("/api/status", summary="Sources, runs, next scheduled runs and index lag", tags=["status"])
    def api_status():
        return _status()

    def _status() -> dict:
        from ..status import node_status
        st = node_status(state.cfg, state.store())
        scheduler = getattr(app.state, "scheduler", None)
        nxt = scheduler.next_runs() if scheduler else {}
        for src in st["sources"]:
            src["next_run"] = nxt.get(src["id"])
        st["scheduler"] = "running" if scheduler else "off"
        return st

    @app.get("/status", summary="Status as a page (or JSON when asked for)", tags=["status"], response_model=None)
    def status_page(request: Request):
        st = _status()
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse(st)
        from .status_page import render_status
        return HTMLResponse(render_status(st))

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics", tags=["status"])
    def metrics():
        from .metrics import render
        return render(state)

    @app.post("/api/admin/harvest", summary="Harvest now (admin)", tags=["admin"])
    def admin_harvest(request: Request, source: list[str] = Q([]), full: bool = False):
        require_admin(state, request)
        from ..harvesting import harvest_and_index
        unknown = [s for s in source if s not in {x["id"] for x in state.cfg.sources}]
        if unknown:
            raise HTTPException(404, f"no source {unknown[0]!r}")
        reports, index_error = harvest_and_index(state.cfg, state.store(), source or None, full=full)
        return {"runs": [r.as_dict() for r in reports], "index_error": index_error}

    @app.post("/api/admin/reindex", summary="Rebuild the index from the store (admin)", tags=["admin"])
    def admin_reindex(request: Request):
        require_admin(state, request)
        from ..index import index_status, rebuild
        n = rebuild(state.index(), state.store())
        return {"indexed": n, "index": index_status(state.index(), state.store())}

    for module in ("oai", "sru", "feeds", "sitemap", "dcat_ap", "web", "assistance", "reports"):
        try:
            mod = __import__(f"{__package__}.{module}", fromlist=["router"])
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{module}":
                raise
            continue
        app.include_router(mod.router)
    return app
