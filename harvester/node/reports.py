"""The node's indicators on the web: ``GET /report`` (a page of charts, drawn on the server as inline SVG,
with every figure also in a table) and ``GET /api/report?from=&until=&format=json|csv|md`` (the numbers to
export). Both read :func:`harvester.report.indicators`.

``from`` and ``until`` are each a real day, ``YYYY-MM-DD``, or a UTC time, ``YYYY-MM-DDThh:mm:ssZ`` (or empty:
no bound), given at most once; the OpenAPI description says exactly that (:data:`PERIOD_END_SCHEMA`). The
answer is application/json, text/csv or text/markdown as ``format`` asks.

The page uses the site's look (base.html, web.css, the language switch) plus one small style sheet of its
own; no script, nothing from another site. Every label (vocabulary labels in the page's language where the
vocabularies have them, node and source ids, search words people typed) is escaped; in the CSV and Markdown
exports too (:func:`harvester.report.csv_cell`, :func:`harvester.report.markdown_text`).
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Literal

from fastapi import APIRouter, HTTPException, Query as Q, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup, escape

from .. import report as reportmod
from .app import given_once
from .web import HERE, facet_label, pick_lang, render, translator

router = APIRouter()

# A period's end: a day, or a UTC time to the second; that the day exists is the `format`'s part.
DAY_PATTERN, TIME_PATTERN = reportmod.DAY_PATTERN, reportmod.TIME_PATTERN
PERIOD_END_SCHEMA = {"anyOf": [{"type": "string", "maxLength": 0},
                               {"type": "string", "format": "date", "pattern": DAY_PATTERN},
                               {"type": "string", "format": "date-time", "pattern": TIME_PATTERN}]}
TOP = 12
"""Bars per category chart at most (the table below it has every value)."""
COLOURS = ("#0b4f8a", "#c0392b")

# The page's own words, in the six UN languages (vocabulary labels come from the vocabularies).
WORDS = json.loads((HERE / "i18n_report.json").read_text(encoding="utf-8"))

CATEGORY_FIELD = {"by_type": "type", "by_chemical": "chemicals", "by_country": "countries",
                  "by_region": "regions", "by_language": "languages", "by_origin_node": "origin_node"}


def words(lang: str) -> dict[str, str]:
    return {**WORDS["en"], **WORDS.get(lang, {})}


def _day(value: str | None, name: str) -> str | None:
    try:
        reportmod.check_period_end(value, name)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return value or None


def _indicators(request: Request, since: str | None, until: str | None) -> dict:
    state = request.app.state.node
    ind = reportmod.indicators(state.store(), _day(since, "from"), _day(until, "until"))
    return {"node": state.cfg.node.get("id"), **ind}


_EXPORTS = {200: {"description": "The indicators: JSON, or CSV or Markdown as a file to save", "content": {
    "text/csv": {"schema": {"type": "string"}}, "text/markdown": {"schema": {"type": "string"}}}}}


@router.get("/api/report", summary="Indicators of this node (json, csv or md)", tags=["status"], responses=_EXPORTS)
def api_report(request: Request,
               since: str | None = Q(None, alias="from", description="Start of the period (included): YYYY-MM-DD "
                                     "or YYYY-MM-DDThh:mm:ssZ", json_schema_extra=PERIOD_END_SCHEMA),
               until: str | None = Q(None, description="End of the period (included; a day means its end): "
                                     "YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ", json_schema_extra=PERIOD_END_SCHEMA),
               format: Literal["json", "csv", "md"] = Q("json", description="json, csv or md (Markdown)")):
    """Records by category and region and their growth, providers active and failing, harvest success, completeness,
    searches per month and the share with no hits, assistance requests and their matches, information gaps."""
    given_once(request, "from", "until", "format")
    ind = _indicators(request, since, until)
    if format == "json":
        return JSONResponse(ind)
    body = reportmod.render(ind, format)
    media = "text/csv; charset=utf-8" if format == "csv" else "text/markdown; charset=utf-8"
    name = f"indicators-{ind['node'] or 'node'}.{format}"
    # nosniff: a browser must never take the exported text (search words in it) for a page of its own
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                     "X-Content-Type-Options": "nosniff"})


# ----------------------------------------------------------------------------------------------- charts


def _num(n) -> str:
    return f"{n:g}" if isinstance(n, float) else str(n)


def bar_chart(pairs: list[tuple[str, int | float]], figure: str, unit_label: str = "") -> Markup:
    """Horizontal bars, one per (label, value), drawn as SVG; labels escaped."""
    pairs = pairs[:TOP]
    if not pairs:
        return Markup("")
    width, label_w, row, top = 440, 172, 24, 6
    height = top * 2 + row * len(pairs)
    biggest = max(v for _, v in pairs) or 1
    span = width - label_w - 44
    parts = [f'<svg class="chart bars" data-figure="{escape(figure)}" role="img" direction="ltr" viewBox="0 0 {width} {height}" '
             f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(pairs):
        y = top + i * row
        w = max(1.0, span * value / biggest) if value else 0
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<g class="bar-row"><text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="12" '
            f'fill="#1b1b1b">{escape(short)}</text>'
            f'<rect class="bar" data-label="{escape(label)}" data-value="{_num(value)}" x="{label_w}" y="{y + 3}" '
            f'width="{w:.1f}" height="{row - 6}" fill="{COLOURS[0]}"><title>{escape(label)}: {_num(value)}'
            f'{escape(unit_label)}</title></rect>'
            f'<text x="{label_w + w + 5:.1f}" y="{y + 16}" font-size="13" fill="#333">{_num(value)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(pairs: list[tuple[str, int]], figure: str) -> Markup:
    """Vertical bars (a histogram), labels under the bars."""
    if not pairs:
        return Markup("")
    width, height, left, bottom, top = 440, 200, 10, 30, 16
    n = len(pairs)
    slot = (width - left - 6) / n
    biggest = max(v for _, v in pairs) or 1
    plot = height - top - bottom
    parts = [f'<svg class="chart columns" data-figure="{escape(figure)}" role="img" direction="ltr" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" stroke="#888"/>']
    for i, (label, value) in enumerate(pairs):
        h = plot * value / biggest
        x = left + i * slot + slot * 0.12
        parts.append(
            f'<rect class="bar" data-label="{escape(label)}" data-value="{_num(value)}" x="{x:.1f}" '
            f'y="{height - bottom - h:.1f}" width="{slot * 0.76:.1f}" height="{h:.1f}" fill="{COLOURS[0]}">'
            f'<title>{escape(label)}: {_num(value)}</title></rect>'
            f'<text x="{x + slot * 0.38:.1f}" y="{height - bottom + 14}" font-size="10" text-anchor="middle" '
            f'fill="#333">{escape(label)}</text>'
            f'<text x="{x + slot * 0.38:.1f}" y="{height - bottom - h - 3:.1f}" font-size="12" '
            f'text-anchor="middle" fill="#333">{_num(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(months: list[str], series: list[tuple[str, list[int]]], figure: str) -> Markup:
    """One line per series over months (a single month is drawn as points), with a legend."""
    if not months:
        return Markup("")
    width, height, left, bottom, top = 900, 260, 48, 34, 30
    plot_w, plot_h = width - left - 48, height - top - bottom
    biggest = max((max(vals) for _, vals in series if vals), default=0) or 1
    step = plot_w / max(1, len(months) - 1)

    def xy(i, v):
        x = left + (i * step if len(months) > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * v / biggest

    parts = [f'<svg class="chart line" data-figure="{escape(figure)}" role="img" direction="ltr" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top + 4}" font-size="12" text-anchor="end" fill="#333">{biggest}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" font-size="12" text-anchor="end" fill="#333">0</text>']
    every = max(1, len(months) // 8)
    for i, m in enumerate(months):
        if i % every == 0 or i == len(months) - 1:
            x, _ = xy(i, 0)
            parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="12" text-anchor="middle" '
                         f'fill="#333">{escape(m)}</text>')
    for k, (name, vals) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        points = [xy(i, v) for i, v in enumerate(vals)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline class="series" data-series="{escape(name)}" points="{path}" fill="none" '
                         f'stroke="{colour}" stroke-width="2"/>')
        for (x, y), m, v in zip(points, months, vals):
            parts.append(f'<circle class="point" data-month="{escape(m)}" data-value="{v}" cx="{x:.1f}" '
                         f'cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(name)} {escape(m)}: {v}</title></circle>')
        parts.append(f'<rect x="{left + 8 + k * 220}" y="6" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{left + 26 + k * 220}" y="16" font-size="13" fill="#1b1b1b">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# ----------------------------------------------------------------------------------------------- page


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _rows(figure: str, counts: dict, lang: str) -> list[tuple[str, int]]:
    field = CATEGORY_FIELD.get(figure)
    return [(facet_label(field, k, lang) if field else k, v) for k, v in counts.items()]


@lru_cache(maxsize=1)
def _css() -> tuple[bytes, str]:
    body = (HERE / "static" / "report.css").read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


@router.get("/report.css", include_in_schema=False)
def report_css():
    body, digest = _css()
    return Response(body, media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=86400", "ETag": f'"{digest}"',
                             "X-Content-Type-Options": "nosniff"})


@router.get("/report", include_in_schema=False)
def report_page(request: Request, since: str | None = Q(None, alias="from", max_length=20),
                until: str | None = Q(None, max_length=20)):
    lang = pick_lang(request)
    w = words(lang)
    try:
        ind = _indicators(request, since, until)
    except HTTPException as exc:
        return render(request, "error.html", lang, exc.status_code, title=w["title"], text=str(exc.detail))
    r = ind["records"]
    categories = []
    for figure in ("by_type", "by_chemical", "by_country", "by_region", "by_language", "by_origin_node"):
        rows = _rows(figure, r[figure], lang)
        categories.append({"id": figure, "title": w[figure], "chart": bar_chart(rows, figure), "rows": rows})
    months = list(r["cumulative_by_month"])
    growth = line_chart(months, [(w["records"], [r["cumulative_by_month"][m] for m in months])], "growth")
    s = ind["searches"]
    smonths = list(s["by_month"])
    searches = line_chart(smonths, [(w["search_count"], [s["by_month"][m]["searches"] for m in smonths]),
                                    (w["no_hits"], [s["by_month"][m]["no_hits"] for m in smonths])], "searches")
    c = ind["completeness"]
    hist = list(c["histogram"].items())
    a = ind["assistance"]
    req_regions = _rows("by_region", a["requests_by_region"], lang)
    t = translator(lang)

    def value_label(v):
        key = f"value_{v}"
        return t(key) if t(key) != key else v

    gaps = [{"query": g["query"] or w["no_words"],
             "filters": "; ".join(f"{facet_label(k, x, lang)}" for k, vs in g["filters"].items() for x in vs),
             **{k: g[k] for k in ("searches", "no_hit_searches", "last_hits", "last_seen")}} for g in ind["gaps"]]
    root = request.scope.get("root_path", "") or ""
    qs = "&".join(f"{k}={v}" for k, v in (("from", since), ("until", until)) if v)
    kpis = [
        ("records", w["live"], r["total"]),
        ("sources_active", f"{w['sources']}: {w['active'].lower()}", f"{ind['providers']['sources']['active']} / "
                                                                      f"{ind['providers']['sources']['total']}"),
        ("sources_failing", f"{w['sources']}: {w['failing'].lower()}", ind["providers"]["sources"]["failing"]),
        ("success_rate", w["harvest"], _pct(ind["harvest"]["success_rate"])),
        ("mean_completeness", w["mean"], _pct(c["mean"])),
        ("searches", w["search_count"], s["total"]),
        ("no_hit_share", w["no_hits"], _pct(s["no_hit_share"])),
        ("requests", w["requests"], a["requests"]),
        ("open_match_share", w["open_match"], _pct(a["open_match_share"])),
    ]
    return render(request, "report.html", lang, w=w, ind=ind, kpis=kpis, categories=categories, growth=growth,
                  growth_rows=[(m, r["by_month"].get(m, 0), r["cumulative_by_month"][m]) for m in months],
                  searches_chart=searches, search_rows=[(m, x["searches"], x["no_hits"]) for m, x in s["by_month"].items()],
                  completeness_chart=column_chart(hist, "completeness"), hist=hist,
                  regions_chart=bar_chart(req_regions, "requests_by_region"), req_regions=req_regions,
                  req_kind=[(value_label(k), v) for k, v in a["requests_by_kind"].items()],
                  req_status=[(value_label(k), v) for k, v in a["requests_by_status"].items()],
                  gaps=gaps, since=since or "", until=until or "",
                  export={f: f"{root}/api/report?" + "&".join(x for x in (qs, f"format={f}") if x)
                          for f in ("json", "csv", "md")},
                  css_url=f"{root}/report.css?v={_css()[1]}")
