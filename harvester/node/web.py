"""The node's web pages: the search page and the record pages, in the six UN languages.

Rendered on the server (every page works without JavaScript; one small script only adds title suggestions
as the user types), with Jinja2 autoescaping on for every template: harvested text is data and is escaped
in element text, attributes, URLs and the JSON embedded in pages. The only markup taken from a search answer
is the ``<mark>`` of highlights, and only after :func:`safe_highlight` has checked that nothing else is in it
(answers of peer nodes are not trusted any more than harvested text).

Language: ``?lang=xx`` (kept in every link), else the browser's Accept-Language, else English. Pages carry a
strict Content-Security-Policy (scripts and styles from this node only), and the static files are served with
long-lived cache headers under a content-hashed URL.
"""
from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from .. import vocab
from ..index import FACET_FIELDS, SORTS, Query

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LANGS = vocab.UN_LANGUAGES                   # ar zh en fr ru es, the UN order
RTL = {"ar"}
DEFAULT_LANG = "en"

WEB_FACETS = ("type", "chemicals", "countries", "regions", "languages", "year", "origin_node")
"""The facets the search page shows, in this order."""
FACET_SHOWN = 8
"""Values of a facet shown at first; the others are behind a "More" disclosure."""
PAGE_SIZES = (10, 20, 50)
DEEP_OFFSET = 200
"""Pages starting beyond this many hits are reached with the index's cursor, not an offset."""
MAX_OFFSET = 10_000
"""The largest offset a page link or a hand-made URL may ask for (deeper: follow the cursor)."""
MAX_QUERY_CHARS = 1000
NODE_STATUSES = ("answered", "timed_out", "failed", "skipped")
SAFE_SCHEMES = {"http", "https", "ftp"}
PATH_SAFE = "/:@!$&()*+,;=-._~"     # what a record id keeps unquoted in a URL path (RFC 3986 pchar and '/')

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


# ----------------------------------------------------------------------------------------------- strings


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """The interface strings: {lang: {key: text}} for the six UN languages."""
    data = json.loads((HERE / "i18n.json").read_text(encoding="utf-8"))
    return {lang: data[lang] for lang in LANGS}


def translator(lang: str):
    table, fallback = strings()[lang], strings()[DEFAULT_LANG]

    def t(key: str, **values) -> str:
        text = table.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text
    return t


def pick_lang(request: Request) -> str:
    """?lang=xx, else the first of the six the browser's Accept-Language accepts, else English."""
    asked = (request.query_params.get("lang") or "").replace("_", "-").split("-")[0].strip().lower()
    if asked in LANGS:
        return asked
    prefs = []
    for i, part in enumerate((request.headers.get("accept-language") or "")[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q\s*=\s*([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        primary = tag.strip().split("-")[0].lower()
        if q > 0 and primary in LANGS:
            prefs.append((-q, i, primary))
    return min(prefs)[2] if prefs else DEFAULT_LANG


# ----------------------------------------------------------------------------------------------- escaping


_MARK = re.compile(r"</?mark>")


def safe_highlight(snippet) -> Markup | None:
    """A highlight snippet as markup, when it is escaped text with nothing but balanced <mark>..</mark> in it;
    None otherwise (then the caller shows plain, escaped text instead)."""
    if not isinstance(snippet, str) or not snippet:
        return None
    if "<" in _MARK.sub("", snippet) or ">" in _MARK.sub("", snippet):
        return None
    depth = 0
    for tag in _MARK.findall(snippet):
        depth += 1 if tag == "<mark>" else -1
        if depth not in (0, 1):
            return None
    if depth:
        return None
    return Markup(snippet)


def highlight_text(snippet: str) -> str:
    """The plain text a (checked) snippet shows."""
    return html.unescape(_MARK.sub("", snippet))


def json_for_script(value) -> Markup:
    """JSON to put inside a <script> element: '<', '>', '&' and the JS line separators escaped, so no text
    in it can close the element or open a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)


def safe_href(url) -> str | None:
    """The URL when it is an absolute http, https or ftp address with a host; None for anything else
    (javascript:, data:, relative or malformed addresses are shown as text, never as links)."""
    if not isinstance(url, str) or not url or len(url) > 4000:
        return None
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return url


# ----------------------------------------------------------------------------------------------- templates


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


STATIC_FILES = {"web.css": "text/css; charset=utf-8", "web.js": "text/javascript; charset=utf-8",
                # Swagger UI for /docs, vendored (static/swagger-ui/README.md): no CDN, an offline node too
                "swagger-ui/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
                "swagger-ui/swagger-ui.css": "text/css; charset=utf-8",
                "swagger-ui/favicon-32x32.png": "image/png"}


@lru_cache(maxsize=None)
def _static(name: str) -> tuple[bytes, str]:
    body = (HERE / "static" / name).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


def static_url(name: str, root: str = "") -> str:
    """The file's URL, versioned by its content (so it can be cached for good)."""
    return f"{root}/static/{name}?v={_static(name)[1]}"


@router.get("/static/{name:path}")
def static_file(name: str, request: Request):
    if name not in STATIC_FILES:
        return Response("not found", status_code=404, media_type="text/plain")
    body, digest = _static(name)
    etag = f'"{digest}"'
    versioned = request.query_params.get("v") == digest
    headers = {"ETag": etag, "X-Content-Type-Options": "nosniff",
               "Cache-Control": "public, max-age=31536000, immutable" if versioned else "public, max-age=3600"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=STATIC_FILES[name], headers=headers)


def render(request: Request, template: str, lang: str, status: int = 200, **context) -> HTMLResponse:
    t = translator(lang)
    root = request.scope.get("root_path", "") or ""
    state = request.app.state.node
    page_params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    switch = []
    for code in LANGS:
        href = f"{quote(request.url.path, safe=PATH_SAFE)}?" + urlencode(page_params + [("lang", code)])
        switch.append({"code": code, "name": vocab.languages()[code].get("name_native") or code,
                       "href": href, "current": code == lang})
    body = environment().get_template(template).render(
        lang=lang, dir="rtl" if lang in RTL else "ltr", t=t, languages=switch, root=root,
        static=lambda name: static_url(name, root),
        home_url=f"{root}/?{urlencode({'lang': lang})}", node=state.cfg.node, **context)
    return HTMLResponse(body, status_code=status, headers={
        "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
        "Vary": "Accept-Language", "Cache-Control": "no-cache", "Content-Language": lang})


# ----------------------------------------------------------------------------------------------- helpers


def pick_text(value, lang: str) -> tuple[str | None, str]:
    """(language tag, text) of a language -> text map in ``lang``, else English, else the first one."""
    if isinstance(value, str):
        return None, value
    if not isinstance(value, dict):
        return None, ""
    items = [(str(k), v) for k, v in value.items() if isinstance(v, str) and v.strip()]
    for want in (lang, "en"):
        for tag, text in items:
            if tag.split("-")[0].lower() == want:
                return tag, text
    return items[0] if items else (None, "")


def ordered_texts(value, lang: str) -> list[dict]:
    """Every text of a language -> text map: the interface language first, then the UN order, then others."""
    if isinstance(value, str):
        value = {"und": value}
    if not isinstance(value, dict):
        return []
    items = [(str(k), v) for k, v in value.items() if isinstance(v, str) and v.strip()]

    def rank(item):
        primary = item[0].split("-")[0].lower()
        if primary == lang:
            return (0, 0)
        return (1, LANGS.index(primary)) if primary in LANGS else (2, 0)
    return [{"lang": tag, "text": text, "lang_name": lang_name(tag, lang)} for tag, text in sorted(items, key=rank)]


def lang_name(tag: str | None, lang: str) -> str:
    if not tag or tag == "und":
        return ""
    return vocab.label("languages", tag.split("-")[0].lower(), lang) or tag


def html_lang(tag: str | None) -> str:
    """A value for a lang="" attribute ('' where the language is unknown)."""
    if not tag or tag == "und" or not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", tag):
        return ""
    return tag


FACET_VOCAB = {"type": "document_types", "chemicals": "chemicals", "countries": "countries",
               "regions": "regions", "languages": "languages"}


def facet_label(field: str, value: str, lang: str) -> str:
    kind = FACET_VOCAB.get(field)
    if kind:
        return vocab.label(kind, value, lang) or value
    if field in ("assistance_kind", "assistance_status"):
        return translator(lang)(f"value_{value}") if f"value_{value}" in strings()[DEFAULT_LANG] else value
    return value


def record_href(root: str, record_id: str, lang: str) -> str:
    return f"{root}/record/{quote(record_id, safe=PATH_SAFE)}?{urlencode({'lang': lang})}"


class SearchParams:
    """The search page's state, read from its URL, and the links that change one part of it."""

    def __init__(self, request: Request, lang: str, federation: bool):
        p = request.query_params
        self.root = request.scope.get("root_path", "") or ""
        self.lang = lang
        self.q = (p.get("q") or "")[:MAX_QUERY_CHARS]
        self.filters: dict[str, list[str]] = {}
        for raw in p.getlist("filter")[:50]:
            field, sep, value = raw.partition(":")
            field, value = field.strip(), value.strip()
            if sep and value and field in FACET_FIELDS and value not in self.filters.get(field, []):
                self.filters.setdefault(field, []).append(value[:200])
        self.sort = p.get("sort") if p.get("sort") in SORTS else "relevance"
        self.limit = _int(p.get("limit"), PAGE_SIZES[0])
        if self.limit not in PAGE_SIZES:
            self.limit = PAGE_SIZES[0]
        self.scope_asked = p.get("scope") == "federation"
        self.scope = "federation" if self.scope_asked and federation else "local"
        # cursors are per node: across nodes, pages go by offset
        self.cursor = None if self.scope == "federation" else (p.get("cursor") or "")[:2000] or None
        self.offset = 0 if self.cursor else max(0, min(_int(p.get("offset"), 0), MAX_OFFSET))
        self.start = max(0, _int(p.get("start"), 0)) if self.cursor else self.offset

    def params(self, **change) -> list[tuple[str, str]]:
        """The URL parameters of this page with some parts changed (None removes a part). A change of query,
        filters, sort, scope or size goes back to the first page."""
        cur = {"q": self.q, "filters": self.filters, "sort": self.sort, "scope": self.scope, "limit": self.limit,
               "offset": self.offset, "cursor": self.cursor, "start": self.start}
        if set(change) & {"q", "filters", "sort", "scope", "limit"}:
            cur.update(offset=0, cursor=None, start=0)
        cur.update(change)
        out: list[tuple[str, str]] = []
        if cur["q"]:
            out.append(("q", cur["q"]))
        for field, values in cur["filters"].items():
            out.extend(("filter", f"{field}:{v}") for v in values)
        if cur["sort"] != "relevance":
            out.append(("sort", cur["sort"]))
        if cur["scope"] == "federation":
            out.append(("scope", "federation"))
        if cur["limit"] != PAGE_SIZES[0]:
            out.append(("limit", str(cur["limit"])))
        if cur["cursor"]:
            out += [("cursor", cur["cursor"]), ("start", str(cur["start"]))]
        elif cur["offset"]:
            out.append(("offset", str(cur["offset"])))
        out.append(("lang", self.lang))
        return out

    def url(self, **change) -> str:
        return f"{self.root}/?{urlencode(self.params(**change))}"

    def toggled(self, field: str, value: str) -> str:
        filters = {k: list(v) for k, v in self.filters.items()}
        values = filters.setdefault(field, [])
        if value in values:
            values.remove(value)
        else:
            values.append(value)
        return self.url(filters={k: v for k, v in filters.items() if v})


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def federation_search():
    """harvester.node.federation.federated_search, or None while this node has no federation module."""
    try:
        from .federation import federated_search
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.federation":
            raise
        return None
    return federated_search


# ----------------------------------------------------------------------------------------------- search page


def view_hit(hit: dict, sp: SearchParams, state, t, node_urls: dict[str, str]) -> dict | None:
    """What a result shows, from one hit of the result shape (local or from a peer: checked either way)."""
    if not isinstance(hit, dict) or not isinstance(hit.get("id"), str) or not hit["id"]:
        return None
    lang = sp.lang
    tag, title = pick_text(hit.get("title"), lang)
    why = hit.get("why") if isinstance(hit.get("why"), dict) else {}
    hls = why.get("highlights") if isinstance(why.get("highlights"), dict) else {}
    checked = {f: [m for m in (safe_highlight(s) for s in (v if isinstance(v, list) else [])) if m is not None]
               for f, v in hls.items() if f in ("title", "description", "keywords", "other")}
    title_html = next((m for m in checked.get("title", []) if highlight_text(m) == title), None)
    # what else matched: the title in another language, keywords (each once), other text (authors, ...)
    matched = [m for m in checked.get("title", []) if m is not title_html][:1]
    keywords, seen = [], set()
    for m in checked.get("keywords", []):
        if highlight_text(m).casefold() not in seen:
            seen.add(highlight_text(m).casefold())
            keywords.append(m)
    matched += checked.get("other", [])[:1]
    snippet = (checked.get("description") or [None])[0]
    description = hit.get("description") if isinstance(hit.get("description"), str) else ""
    chems = [c for c in (why.get("chemicals") or []) if isinstance(c, str)]
    origin = hit.get("origin_node") if isinstance(hit.get("origin_node"), str) else ""
    local = sp.scope == "local" or state.store().row(hit["id"]) is not None
    held_by = [n for n in hit.get("nodes") or [] if isinstance(n, str)] if sp.scope == "federation" else []
    if held_by == [state.cfg.node.get("id")]:
        held_by = []            # only this node has it: nothing to add
    href = record_href(sp.root, hit["id"], lang) if local else None
    for node_id in ([] if local else held_by):  # (never empty for a record this node does not hold)   # a peer's record: its page on the first node that has it
        if node_id in node_urls:
            href = node_urls[node_id].rstrip("/") + record_href("", hit["id"], lang)
            break
    if href is None:   # else the record's original page, if it has a safe one
        for link in hit.get("links") or []:
            if isinstance(link, dict) and safe_href(link.get("url")):
                href = link["url"]
                break
    countries = [c for c in hit.get("countries") or [] if isinstance(c, str)]
    return {
        "id": hit["id"], "href": href, "local": local,
        "title": title or t("untitled"), "title_lang": html_lang(tag), "title_html": title_html,
        "snippet": snippet, "description": description, "matched": matched,
        "keywords": keywords[:6],
        "chemicals": [facet_label("chemicals", c, lang) for c in chems],
        "type": facet_label("type", hit["type"], lang) if isinstance(hit.get("type"), str) else "",
        "year": hit.get("year") if isinstance(hit.get("year"), int) else None,
        "countries": [facet_label("countries", c, lang) for c in countries[:5]],
        "more_countries": max(0, len(countries) - 5),
        "origin": origin, "held_by": held_by,
    }


def view_facets(facets: dict, sp: SearchParams) -> list[dict]:
    out = []
    for field in WEB_FACETS:
        counts = facets.get(field) if isinstance(facets, dict) else None
        counts = counts if isinstance(counts, dict) else {}
        pairs = [(str(v), c) for v, c in counts.items() if isinstance(c, int)]
        if field == "year":
            pairs.sort(key=lambda vc: vc[0], reverse=True)
        chosen = sp.filters.get(field, [])
        pairs += [(v, 0) for v in chosen if v not in {p[0] for p in pairs}]
        values = [{"value": v, "count": c, "label": facet_label(field, v, sp.lang), "selected": v in chosen,
                   "href": sp.toggled(field, v)} for v, c in pairs]
        if values:
            # the selected values stay in the first, visible part
            shown = [v for v in values[:FACET_SHOWN]] + [v for v in values[FACET_SHOWN:] if v["selected"]]
            more = [v for v in values[FACET_SHOWN:] if not v["selected"]]
            out.append({"field": field, "shown": shown, "more": more, "active": bool(chosen)})
    return out


def own_field_facets(state, query: Query) -> dict[str, dict[str, int]]:
    """For each facet field the query filters on, its counts with every filter but its own (the other
    values of a field add to the results: values OR within a field), so a second country or type can be
    chosen. One count-only search per such field."""
    out = {}
    for field in query.filters:
        if field in WEB_FACETS:
            others = {k: v for k, v in query.filters.items() if k != field}
            res = state.index().search(replace(query, filters=others, facets=[field], limit=0, offset=0,
                                               cursor=None, highlight=False))
            out[field] = res.facets.get(field, {})
    return out


def paging(sp: SearchParams, total: int, shown: int, next_cursor: str | None) -> dict:
    first = sp.start + 1 if shown else 0
    last = sp.start + shown
    nav = {"first": first, "last": last, "prev": None, "next": None, "first_page": None}
    if sp.start > 0:
        back = max(0, sp.start - sp.limit)
        if back <= MAX_OFFSET:
            nav["prev"] = sp.url(offset=back, cursor=None, start=back)
        if back > 0:
            nav["first_page"] = sp.url(offset=0, cursor=None, start=0)
    if shown and (last < total or next_cursor):
        if last <= DEEP_OFFSET or (sp.scope == "federation" and last <= MAX_OFFSET):
            nav["next"] = sp.url(offset=last, cursor=None, start=last)
        elif next_cursor:
            nav["next"] = sp.url(cursor=next_cursor, start=last, offset=0)
    return nav


def feed_href(sp: SearchParams) -> str:
    """The Atom feed of the page's search: its words, filters and language (harvester/node/feeds.py)."""
    return f"{sp.root}/feed.atom?" + urlencode([(k, v) for k, v in sp.params() if k in ("q", "filter", "lang")])


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request):
    state = request.app.state.node
    lang = pick_lang(request)
    t = translator(lang)
    federated = federation_search()
    sp = SearchParams(request, lang, federated is not None)
    query = Query(text=sp.q, filters=sp.filters, facets=list(WEB_FACETS), sort=sp.sort, limit=sp.limit,
                  offset=sp.offset, cursor=sp.cursor, lang=lang)
    error, status, out = None, 200, {"total": 0, "results": [], "facets": {}, "next_cursor": None}
    t0 = time.perf_counter()
    try:
        query = query.checked()
        out = federated(state, query) if sp.scope == "federation" else state.index().search(query).as_json()
    except ValueError as exc:
        error, status = t("search_error", error=str(exc)), 400
    except Exception:  # the search backend is down or broken: say so on the page, not as a raw error
        log.exception("search page: the search failed")
        error, status = t("unavailable"), 503
    else:
        observe = getattr(state, "observe_search", None)
        if observe:
            observe(time.perf_counter() - t0, sp.scope)
        if not sp.start:
            from ..searchlog import log_search  # first pages only: paging on is the same search
            log_search(state.store(), query, out.get("total") if isinstance(out, dict) else 0, sp.scope, "web")
        if sp.scope == "local" and isinstance(out, dict):
            out["facets"] = dict(out.get("facets") or {}, **own_field_facets(state, query))
    out = out if isinstance(out, dict) else {}
    nodes, node_urls = [], {}
    for n in out.get("nodes") or []:
        if isinstance(n, dict) and isinstance(n.get("id"), str):
            st = n.get("status") if n.get("status") in NODE_STATUSES else "failed"
            nodes.append({"id": n["id"], "status": st,
                          "total": n.get("total") if isinstance(n.get("total"), int) else None,
                          "ms": round(n["ms"]) if isinstance(n.get("ms"), (int, float)) else None})
            if safe_href(n.get("url")) and n["id"] != state.cfg.node.get("id"):
                node_urls[n["id"]] = n["url"]
    hits = [h for h in (view_hit(h, sp, state, t, node_urls) for h in (out.get("results") or [])[:sp.limit]) if h]
    total = out.get("total") if isinstance(out.get("total"), int) else 0
    active = [{"field": f, "label": facet_label(f, v, lang), "href": sp.toggled(f, v)}
              for f, vs in sp.filters.items() for v in vs]
    sorts = [{"id": s, "href": sp.url(sort=s), "current": s == sp.sort} for s in SORTS]
    scopes = [{"id": s, "href": sp.url(scope=s), "current": s == sp.scope} for s in ("local", "federation")]
    chems = [facet_label("chemicals", c, lang) for c in out.get("query_chemicals") or [] if isinstance(c, str)]
    page_data = {"lang": lang, "api": f"{sp.root}/api/search", "record": f"{sp.root}/record/",
                 "scope": sp.scope}
    return render(request, "search.html", lang, status, sp=sp, hits=hits, total=total, error=error,
                  facets=view_facets(out.get("facets") or {}, sp), active=active, sorts=sorts, scopes=scopes,
                  federation_available=federated is not None, nodes=nodes,
                  partial=any(n["status"] != "answered" for n in nodes), query_chemicals=chems,
                  nav=paging(sp, total, len(hits), out.get("next_cursor")),
                  clear_url=sp.url(filters={}), page_data=json_for_script(page_data), feed_url=feed_href(sp))


# ----------------------------------------------------------------------------------------------- record page

FIELD_LABELS = {
    "title": "field_title", "description": "field_description", "keywords": "field_keywords",
    "type": "facet_type", "chemicals": "field_chemicals", "countries": "field_countries",
    "regions": "field_regions", "languages": "field_languages", "links": "field_links", "year": "facet_year",
    "creators": "field_creators", "publisher": "field_publisher", "rights": "field_rights",
    "title_translations": "field_title_translations", "dates": "field_dates", "articles": "field_articles",
}


def field_label(name: str, t) -> str:
    if name.startswith("assistance."):
        key = f"assistance_{name.split('.', 1)[1]}"
        return t(key) if key in strings()[DEFAULT_LANG] else name
    return t(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def _texts(values) -> list[str]:
    return [v for v in values if isinstance(v, str) and v.strip()] if isinstance(values, list) else []


def record_view(rec: dict, lang: str, root: str, t) -> dict:
    def filter_link(field, value):
        return f"{root}/?" + urlencode([("filter", f"{field}:{value}"), ("lang", lang)])

    def labelled(field, values):
        return [{"label": facet_label(field, v, lang), "href": filter_link(field, v)} for v in _texts(values)]

    keywords = []
    if isinstance(rec.get("keywords"), dict):
        for item in ordered_texts({k: "\x00".join(_texts(v)) for k, v in rec["keywords"].items()}, lang):
            keywords.append({**item, "words": item["text"].split("\x00")})
    links = []
    for link in rec.get("links") or []:
        if not isinstance(link, dict) or not isinstance(link.get("url"), str):
            continue
        rel = link.get("rel") if link.get("rel") in ("landing", "file", "service", "related") else "related"
        links.append({"url": link["url"], "href": safe_href(link["url"]), "rel": t(f"rel_{rel}"),
                      "title": link.get("title") if isinstance(link.get("title"), str) else "",
                      "format": link.get("format") if isinstance(link.get("format"), str) else "",
                      "language": lang_name(link.get("language"), lang) if isinstance(link.get("language"), str) else ""})
    dates = rec.get("dates") if isinstance(rec.get("dates"), dict) else {}
    origin = rec.get("origin") if isinstance(rec.get("origin"), dict) else {}
    quality = rec.get("quality") if isinstance(rec.get("quality"), dict) else {}
    score = quality.get("completeness")
    assistance = rec.get("assistance") if isinstance(rec.get("assistance"), dict) else None
    a = None
    if assistance is not None:
        a = {
            "kind": [t(f"value_{k}") for k in _texts(assistance.get("kind")) if k in ("technical", "financial")],
            "provider": assistance.get("provider") if isinstance(assistance.get("provider"), str) else "",
            "provider_label": t("assistance_requester" if rec.get("type") == "assistance_request"
                                else "assistance_provider"),
            "eligible_countries": labelled("countries", assistance.get("eligible_countries")),
            "eligible_regions": labelled("regions", assistance.get("eligible_regions")),
            "activities": _texts(assistance.get("activities")),
            "conditions": ordered_texts(assistance.get("conditions"), lang),
            "how_to_apply": ordered_texts(assistance.get("how_to_apply"), lang),
            "contact": assistance.get("contact") if isinstance(assistance.get("contact"), str) else "",
            "deadline": assistance.get("deadline") if isinstance(assistance.get("deadline"), str) else "",
            "status": (t(f"value_{assistance['status']}") if f"value_{assistance.get('status')}" in strings()[DEFAULT_LANG]
                       else str(assistance.get("status") or "")),
        }
    tag, title = pick_text(rec.get("title"), lang)
    return {
        "id": rec.get("id", ""), "title": title or t("untitled"), "title_lang": html_lang(tag),
        "titles": [dict(x, lang=html_lang(x["lang"])) for x in ordered_texts(rec.get("title"), lang)],
        "descriptions": [dict(x, lang=html_lang(x["lang"])) for x in ordered_texts(rec.get("description"), lang)],
        "keywords": [dict(x, lang=html_lang(x["lang"])) for x in keywords],
        "type": facet_label("type", rec["type"], lang) if isinstance(rec.get("type"), str) else "",
        "type_href": filter_link("type", rec["type"]) if isinstance(rec.get("type"), str) else "",
        "chemicals": labelled("chemicals", rec.get("chemicals")),
        "countries": labelled("countries", rec.get("countries")),
        "regions": labelled("regions", rec.get("regions")),
        "languages": labelled("languages", rec.get("languages")),
        "articles": [a_ for a_ in rec.get("articles") or [] if isinstance(a_, int)],
        "dates": [(t(f"date_{k}"), dates[k]) for k in ("created", "issued", "modified", "valid_until")
                  if isinstance(dates.get(k), str)],
        "year": rec.get("year") if isinstance(rec.get("year"), int) else None,
        "creators": _texts(rec.get("creators")),
        "publisher": rec.get("publisher") if isinstance(rec.get("publisher"), str) else "",
        "rights": rec.get("rights") if isinstance(rec.get("rights"), str) else "",
        "links": links,
        "origin": {k: origin.get(k) if isinstance(origin.get(k), str) else ""
                   for k in ("node", "source", "identifier", "format")},
        "path": _texts(rec.get("path")),
        "datestamp": rec.get("datestamp") if isinstance(rec.get("datestamp"), str) else "",
        "harvested": rec.get("harvested") if isinstance(rec.get("harvested"), str) else "",
        "completeness": round(score * 100) if isinstance(score, (int, float)) else None,
        "missing": [field_label(m, t) for m in _texts(quality.get("missing"))],
        "assistance": a,
    }


def json_ld(rec: dict, view: dict, url: str) -> Markup:
    """schema.org metadata of the record for crawlers (harvested text in it, escaped for a <script>)."""
    data = {"@context": "https://schema.org", "@type": "CreativeWork", "identifier": view["id"],
            "name": view["title"], "url": url}
    if view["descriptions"]:
        data["description"] = view["descriptions"][0]["text"]
    if view["year"]:
        data["datePublished"] = str(view["year"])
    langs = _texts(rec.get("languages"))
    if langs:
        data["inLanguage"] = langs
    if view["publisher"]:
        data["publisher"] = {"@type": "Organization", "name": view["publisher"]}
    return json_for_script(data)


def error_page(request: Request, lang: str, status: int, title_key: str, text_key: str, **values) -> HTMLResponse:
    t = translator(lang)
    return render(request, "error.html", lang, status, title=t(title_key), text=t(text_key, **values))


@router.get("/record/{record_id:path}", response_class=HTMLResponse)
def record_page(record_id: str, request: Request):
    state = request.app.state.node
    lang = pick_lang(request)
    t = translator(lang)
    root = request.scope.get("root_path", "") or ""
    try:
        store = state.store()
        rec = store.get(record_id)
        gone = rec is None and store.row(record_id) is not None
    except Exception:
        log.exception("record page: the store could not be read")
        return error_page(request, lang, 503, "unavailable_title", "unavailable")
    if rec is None:
        if gone:
            return error_page(request, lang, 410, "gone", "gone_text", id=record_id)
        return error_page(request, lang, 404, "not_found", "not_found_text", id=record_id)
    view = record_view(rec, lang, root, t)
    url = str(request.url.replace(query=urlencode({"lang": lang})))
    return render(request, "record.html", lang, rec=view, json_ld=json_ld(rec, view, url),
                  back_url=f"{root}/?{urlencode({'lang': lang})}")
