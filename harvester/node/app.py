"""The node's HTTP app (ASGI): the JSON search API, status, metrics and admin actions; the OAI-PMH provider
and the web pages are mounted from their own modules.

Reading is open; anything that changes the node (harvest now, reindex) needs the config's admin token as
`Authorization: Bearer <token>`, checked before anything else of the request. Errors are JSON:
{"error": message} with the right status code: 400 for a bad parameter (never FastAPI's 422), 401/403 for a
missing or wrong token, 404, 410 for a deleted record, 503 while the search index cannot be reached.

The OpenAPI description (/openapi.json) says so for every operation, those of the mounted modules included
(:func:`document_errors`): a 400 wherever there are parameters, a 404 wherever the path names something;
routes declare the other error statuses they answer themselves (``responses=errors(410)``).
"""
from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import Counter

from fastapi import Depends, FastAPI, HTTPException, Query as Q, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..index import FACET_FIELDS, MAX_MATCH_IDS, SearchUnavailable
from ..store import Store

log = logging.getLogger(__name__)

API_DESCRIPTION = """Search the records of this POPs clearing-house node (and, with `scope=federation`, of its
peer nodes): documents, national plans and reports, laws, studies, experts, assistance offers and requests,
in the six UN languages. Queries are words, never query syntax."""


# A filter the search answers: a facet field, a colon, a value (not only white space).
FILTER_PATTERN = f"^({'|'.join(FACET_FIELDS)}):[\\s\\S]*\\S[\\s\\S]*$"


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


class ErrorBody(BaseModel):
    """What every error answers: ``{"error": "what went wrong"}``."""

    error: str


class SearchHit(BaseModel):
    """One hit, as :class:`harvester.index.Hit` (with ``nodes``, the nodes that hold it, in a federated search)."""

    id: str
    identifier: str = ""
    title: dict[str, str] = {}
    description: str = ""
    links: list[dict] = []
    chemicals: list[str] = []
    countries: list[str] = []
    regions: list[str] = []
    languages: list[str] = []
    type: str | None = None
    year: int | None = None
    origin_node: str | None = None
    source: str | None = None
    origin_source: str | None = None
    path: list[str] = []
    score: float = 0.0
    why: dict = {}
    nodes: list[str] | None = None


class ListedId(BaseModel):
    """One match listed with ``ids=N``: its id and its values of the facet fields asked for."""

    id: str
    facets: dict[str, list[str]] = {}


class SearchAnswer(BaseModel):
    """What /api/search answers (and `pops-chm search --json` prints); ``ids`` when asked for; a federated
    search adds ``nodes`` (each node's outcome), ``partial``, ``total_exact`` and ``total_reason`` (why the
    total and facet counts are a lower bound or an estimate), ``total_is_estimate``, ``duplicates``,
    ``page_exact``, ``next_offset``."""

    total: int
    results: list[SearchHit]
    facets: dict[str, dict[str, int]]
    next_cursor: str | None
    query_chemicals: list[str]
    ids: list[ListedId] | None = None
    nodes: list[dict] | None = None
    partial: bool | None = None
    total_exact: bool | None = None
    total_reason: str | None = None


ERROR_DESCRIPTIONS = {400: "A bad parameter (the message names it)", 401: "No admin token, or a wrong one",
                      403: "Changes over HTTP are disabled on this node (no admin_token configured)",
                      404: "Not found", 410: "The record was deleted (a tombstone is kept)",
                      503: "The search index cannot be reached; try again later"}


def errors(*codes: int) -> dict:
    """The ``responses=`` of a route for the error statuses it answers, each with the ``{"error"}`` body."""
    return {code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


def document_errors(spec: dict) -> dict:
    """Make an OpenAPI description say what the app answers: FastAPI's 422 never comes (a bad parameter is a
    400 here, see the RequestValidationError handler), an operation with parameters may answer 400, one whose
    path names something may answer 404. Statuses a route declared itself are kept."""
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    spec.setdefault("components", {}).setdefault("schemas", {}).setdefault("ErrorBody", ErrorBody.model_json_schema())
    spec["components"]["schemas"].pop("HTTPValidationError", None)
    spec["components"]["schemas"].pop("ValidationError", None)
    for path, item in (spec.get("paths") or {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            responses.pop("422", None)
            wanted = []
            if op.get("parameters") or op.get("requestBody"):
                wanted.append(400)
            if "{" in path:
                wanted.append(404)
            for code in wanted:
                responses.setdefault(str(code), {"description": ERROR_DESCRIPTIONS[code],
                                                 "content": {"application/json": {"schema": ref}}})
    return spec


def add_record_schema(spec: dict) -> dict:
    """Put the POPs record's JSON Schema (schemas/pops_record.schema.json) into the description's components
    as ``PopsRecord``, its ``$defs`` beside it as ``PopsRecord_<name>`` (OpenAPI 3.1 schemas are JSON Schema
    2020-12, but a reference is resolved against the whole description)."""
    import json
    from ..schemas import load_json
    record = dict(load_json("pops_record.schema.json"))
    defs = record.pop("$defs", {})
    for key in ("$schema", "$id"):
        record.pop(key, None)
    text = json.dumps({"PopsRecord": record, **{f"PopsRecord_{k}": v for k, v in defs.items()}})
    text = text.replace('"#/$defs/', '"#/components/schemas/PopsRecord_')
    spec.setdefault("components", {}).setdefault("schemas", {}).update(json.loads(text))
    return spec


RECORD_RESPONSE = {200: {"description": "The record (schemas/pops_record.schema.json)",
                         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PopsRecord"}}}}}


_bearer = HTTPBearer(auto_error=False, scheme_name="adminToken",
                     description="The node's admin_token (config), as Authorization: Bearer <token>")


OPTIONAL_ADMIN = {"security": [{}, {"adminToken": []}]}
"""The ``openapi_extra`` of a route that anyone may read and the admin token shows more of."""


def given_once(request: Request, *names: str) -> None:
    """Refuse a parameter given more than once (which of its values would count?) with a 400 naming it."""
    for name in names:
        if len(request.query_params.getlist(name)) > 1:
            raise HTTPException(400, f"{name}: give it once")


def require_admin(state: NodeState, request: Request) -> None:
    token = state.cfg.admin_token
    if not token:
        raise HTTPException(403, "this node has no admin_token configured: changes over HTTP are disabled")
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), token.encode()):
        raise HTTPException(401, "a valid admin token is needed (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})


def create_app(cfg) -> FastAPI:
    state = NodeState(cfg)
    # /docs is served below from the node's own copy of Swagger UI (FastAPI's loads it from a CDN)
    app = FastAPI(title=f"POPs clearing-house node {cfg.node['id']}", version=__version__, description=API_DESCRIPTION,
                  docs_url=None, redoc_url=None)
    app.state.node = state

    def admin_only(request: Request, _token=Depends(_bearer)) -> None:
        # a dependency runs before the route's parameters are validated: without the token, a request learns
        # nothing about them (401/403, never a 400)
        require_admin(state, request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc: StarletteHTTPException):
        # Starlette's own (no route: 404, wrong method: 405 with Allow) as well as the app's; headers kept
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc: RequestValidationError):
        msgs = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": "; ".join(msgs) or "invalid request"}, status_code=400)

    @app.exception_handler(SearchUnavailable)
    async def search_unavailable(request, exc: SearchUnavailable):
        # the detail (the engine's address) is for the operator's log and /api/status, not for the public
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"error": "the search index is unavailable; try again later"}, status_code=503)

    @app.exception_handler(Exception)
    async def unexpected(request, exc: Exception):
        return JSONResponse({"error": f"internal error: {type(exc).__name__}"}, status_code=500)

    @app.get("/api/search", summary="Search records", tags=["search"],
             responses={200: {"model": SearchAnswer, "description": "The hits, facet counts and next cursor"},
                        **errors(503)})
    def api_search(q: str = Q("", max_length=1000, description="The user's words"),
                   filter: list[str] = Q([], description=f"FIELD:VALUE, repeatable; fields: {', '.join(FACET_FIELDS)}",
                                         json_schema_extra={"items": {"type": "string", "pattern": FILTER_PATTERN}}),
                   facets: bool = Q(False, description="Count results by each facet field"),
                   sort: str = Q("relevance", pattern="^(relevance|newest|oldest|title|recent)$"),
                   limit: int = Q(10, ge=0, le=100), offset: int = Q(0, ge=0, le=1_000_000),
                   cursor: str | None = Q(None, max_length=2000), lang: str | None = Q(None, max_length=35),
                   scope: str = Q("local", pattern="^(local|federation)$"),
                   ids: int = Q(0, ge=0, le=MAX_MATCH_IDS, description=(
                       "Also list the first N matching records in id order (whatever the page), each with its "
                       "values of the facet fields asked for: how federated search counts distinct records")),
                   request: Request = None):
        """Same result shape as `pops-chm search --json`:
        `{"total", "results", "facets", "next_cursor", "query_chemicals"}` (plus `"nodes"` with scope=federation)."""
        from ..index import Query, parse_filters
        if request is not None:
            given_once(request, "q", "facets", "sort", "limit", "offset", "cursor", "lang", "scope", "ids")
        t0 = time.perf_counter()
        try:
            query = Query(text=q, filters=parse_filters(filter), facets=facets, sort=sort, limit=limit, offset=offset,
                          cursor=cursor, lang=lang, ids=ids).checked()
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

    @app.get("/api/records/{record_id:path}", summary="One record", tags=["search"],
             responses={**RECORD_RESPONSE, **errors(404, 410)})
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

    @app.get("/api/status", summary="Sources, runs, next scheduled runs and index lag", tags=["status"],
             responses=errors(401, 403), openapi_extra=OPTIONAL_ADMIN)
    def api_status(request: Request):
        """Everyone sees each source's counts, last and next run and its last error without file paths or
        process ids; with the admin token, the operator also sees the store's path, process ids and errors
        as they were raised."""
        return _status(request)

    def _status(request: Request) -> dict:
        from ..status import node_status, public_status
        st = node_status(state.cfg, state.store())
        scheduler = getattr(app.state, "scheduler", None)
        nxt = scheduler.next_runs() if scheduler else {}
        for src in st["sources"]:
            src["next_run"] = nxt.get(src["id"])
        st["scheduler"] = "running" if scheduler else "off"
        return st if _is_admin(request) else public_status(st)

    def _is_admin(request: Request) -> bool:
        """True with the right admin token; no token is the public's view; a wrong one is refused (401)."""
        if "authorization" not in request.headers:
            return False
        require_admin(state, request)
        return True

    @app.get("/status", summary="Status as a page (or JSON when asked for)", tags=["status"], response_model=None,
             responses=errors(401, 403), openapi_extra=OPTIONAL_ADMIN)
    def status_page(request: Request):
        st = _status(request)
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse(st)
        from .status_page import render_status
        return HTMLResponse(render_status(st))

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics", tags=["status"])
    def metrics():
        from .metrics import render
        return render(state)

    @app.post("/api/admin/harvest", summary="Harvest now (admin)", tags=["admin"], dependencies=[Depends(admin_only)],
              responses=errors(401, 403, 404))
    def admin_harvest(source: list[str] = Q([], description="Source ids (default: every enabled source)"),
                      full: bool = Q(False, description="Read everything again, not only what changed")):
        from ..harvesting import harvest_and_index
        unknown = [s for s in source if s not in {x["id"] for x in state.cfg.sources}]
        if unknown:
            raise HTTPException(404, f"no source {unknown[0]!r}")
        reports, index_error = harvest_and_index(state.cfg, state.store(), source or None, full=full)
        return {"runs": [r.as_dict() for r in reports], "index_error": index_error}

    @app.post("/api/admin/reindex", summary="Rebuild the index from the store (admin)", tags=["admin"],
              dependencies=[Depends(admin_only)], responses=errors(401, 403, 503))
    def admin_reindex():
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

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request):
        from fastapi.openapi.docs import get_swagger_ui_html

        from .web import static_url
        root = request.scope.get("root_path", "") or ""
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - API",
            swagger_js_url=static_url("swagger-ui/swagger-ui-bundle.js", root),
            swagger_css_url=static_url("swagger-ui/swagger-ui.css", root),
            swagger_favicon_url=static_url("swagger-ui/favicon-32x32.png", root),
            swagger_ui_parameters={"validatorUrl": None})     # no badge fetched from swagger.io

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = add_record_schema(document_errors(FastAPI.openapi(app)))
        return app.openapi_schema
    app.openapi = openapi
    return app
