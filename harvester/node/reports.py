"""The node's indicators on the web: ``GET /report`` (a page of charts, drawn on the server as inline SVG,
with every figure also in a table) and ``GET /api/report?from=&until=&format=json|csv|md`` (the numbers to
export). Both read :func:`harvester.report.indicators`.

The page uses the site's look (base.html, web.css, the language switch) plus one small style sheet of its
own; no script, nothing from another site. Every label (vocabulary labels in the page's language where the
vocabularies have them, node and source ids, search words people typed) is escaped.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from fastapi import APIRouter, HTTPException, Query as Q, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup, escape

from .. import report as reportmod
from .web import HERE, facet_label, pick_lang, render, translator

router = APIRouter()

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$")
TOP = 12
"""Bars per category chart at most (the table below it has every value)."""
COLOURS = ("#0b4f8a", "#c0392b")

# The page's own words, in the six UN languages (vocabulary labels come from the vocabularies).
WORDS = {
    "en": {"title": "Indicators", "period": "Period", "from": "From", "until": "Until", "show": "Show",
           "everything": "all time", "records": "Records", "live": "Live records", "by_type": "Records by document type",
           "by_chemical": "Records by chemical", "by_country": "Records by country", "by_region": "Records by region",
           "by_language": "Records by language", "by_origin_node": "Records by source node",
           "growth": "Growth of the holdings (records, cumulative by month)", "providers": "Providers",
           "sources": "Sources", "origin_nodes": "Source nodes", "total": "Total", "active": "Active in the period",
           "failing": "Failing (last run failed)", "harvest": "Harvest success rate", "runs": "Runs",
           "completeness": "Completeness of records", "mean": "Mean completeness", "searches": "Searches per month",
           "search_count": "Searches", "no_hits": "Searches with no hits", "assistance": "Assistance",
           "assist_sources": "Assistance sources", "requests": "Assistance requests",
           "requests_by_region": "Assistance requests by region", "requests_by_kind": "Requests by kind",
           "requests_by_status": "Requests by status", "open_match": "Requests with at least one open match",
           "gaps": "Information gaps: searches with no or few hits", "query": "Search words",
           "filters": "Filters", "last_hits": "Hits (last time)", "last_seen": "Last seen", "value": "Value",
           "count": "Count", "month": "Month", "table": "Figures as a table", "export": "Export the figures:",
           "none": "Nothing yet.", "no_words": "(no words)"},
    "fr": {"title": "Indicateurs", "period": "Période", "from": "Du", "until": "Au", "show": "Afficher",
           "everything": "depuis le début", "records": "Fiches", "live": "Fiches en ligne",
           "by_type": "Fiches par type de document", "by_chemical": "Fiches par produit chimique",
           "by_country": "Fiches par pays", "by_region": "Fiches par région", "by_language": "Fiches par langue",
           "by_origin_node": "Fiches par nœud d'origine", "growth": "Croissance du fonds (fiches, cumul par mois)",
           "providers": "Fournisseurs", "sources": "Sources", "origin_nodes": "Nœuds d'origine", "total": "Total",
           "active": "Actifs sur la période", "failing": "En échec (dernière collecte échouée)",
           "harvest": "Taux de réussite des collectes", "runs": "Collectes", "completeness": "Complétude des fiches",
           "mean": "Complétude moyenne", "searches": "Recherches par mois", "search_count": "Recherches",
           "no_hits": "Recherches sans résultat", "assistance": "Assistance", "assist_sources": "Sources d'assistance",
           "requests": "Demandes d'assistance", "requests_by_region": "Demandes d'assistance par région",
           "requests_by_kind": "Demandes par nature", "requests_by_status": "Demandes par statut",
           "open_match": "Demandes avec au moins une offre ouverte correspondante",
           "gaps": "Lacunes d'information : recherches sans ou avec peu de résultats", "query": "Mots cherchés",
           "filters": "Filtres", "last_hits": "Résultats (dernière fois)", "last_seen": "Vu en dernier",
           "value": "Valeur", "count": "Nombre", "month": "Mois", "table": "Les chiffres en tableau",
           "export": "Exporter les chiffres :", "none": "Rien pour l'instant.", "no_words": "(aucun mot)"},
    "es": {"title": "Indicadores", "period": "Período", "from": "Desde", "until": "Hasta", "show": "Mostrar",
           "everything": "desde el inicio", "records": "Registros", "live": "Registros vigentes",
           "by_type": "Registros por tipo de documento", "by_chemical": "Registros por producto químico",
           "by_country": "Registros por país", "by_region": "Registros por región",
           "by_language": "Registros por idioma", "by_origin_node": "Registros por nodo de origen",
           "growth": "Crecimiento del acervo (registros, acumulado por mes)", "providers": "Proveedores",
           "sources": "Fuentes", "origin_nodes": "Nodos de origen", "total": "Total",
           "active": "Activos en el período", "failing": "Con fallos (última recolección fallida)",
           "harvest": "Tasa de éxito de las recolecciones", "runs": "Recolecciones",
           "completeness": "Completitud de los registros", "mean": "Completitud media",
           "searches": "Búsquedas por mes", "search_count": "Búsquedas", "no_hits": "Búsquedas sin resultados",
           "assistance": "Asistencia", "assist_sources": "Fuentes de asistencia",
           "requests": "Solicitudes de asistencia", "requests_by_region": "Solicitudes de asistencia por región",
           "requests_by_kind": "Solicitudes por tipo", "requests_by_status": "Solicitudes por estado",
           "open_match": "Solicitudes con al menos una oferta abierta que corresponde",
           "gaps": "Carencias de información: búsquedas sin resultados o con pocos", "query": "Palabras buscadas",
           "filters": "Filtros", "last_hits": "Resultados (última vez)", "last_seen": "Última vez",
           "value": "Valor", "count": "Cantidad", "month": "Mes", "table": "Las cifras en una tabla",
           "export": "Exportar las cifras:", "none": "Nada todavía.", "no_words": "(sin palabras)"},
    "ru": {"title": "Показатели", "period": "Период", "from": "С", "until": "По", "show": "Показать",
           "everything": "за всё время", "records": "Записи", "live": "Действующие записи",
           "by_type": "Записи по типу документа", "by_chemical": "Записи по химическому веществу",
           "by_country": "Записи по странам", "by_region": "Записи по регионам", "by_language": "Записи по языкам",
           "by_origin_node": "Записи по исходному узлу", "growth": "Рост фонда (записи, нарастающим итогом по месяцам)",
           "providers": "Поставщики", "sources": "Источники", "origin_nodes": "Исходные узлы", "total": "Всего",
           "active": "Активны в период", "failing": "С ошибками (последний сбор неудачен)",
           "harvest": "Доля успешных сборов", "runs": "Сборы", "completeness": "Полнота записей",
           "mean": "Средняя полнота", "searches": "Поиски по месяцам", "search_count": "Поиски",
           "no_hits": "Поиски без результатов", "assistance": "Помощь", "assist_sources": "Источники помощи",
           "requests": "Запросы о помощи", "requests_by_region": "Запросы о помощи по регионам",
           "requests_by_kind": "Запросы по виду", "requests_by_status": "Запросы по статусу",
           "open_match": "Запросы, для которых есть открытое предложение",
           "gaps": "Информационные пробелы: поиски без результатов или с немногими", "query": "Слова поиска",
           "filters": "Фильтры", "last_hits": "Результаты (в последний раз)", "last_seen": "Последний раз",
           "value": "Значение", "count": "Число", "month": "Месяц", "table": "Цифры в таблице",
           "export": "Выгрузить цифры:", "none": "Пока ничего.", "no_words": "(без слов)"},
    "ar": {"title": "المؤشرات", "period": "الفترة", "from": "من", "until": "إلى", "show": "عرض",
           "everything": "منذ البداية", "records": "السجلات", "live": "السجلات الحالية",
           "by_type": "السجلات حسب نوع الوثيقة", "by_chemical": "السجلات حسب المادة الكيميائية",
           "by_country": "السجلات حسب البلد", "by_region": "السجلات حسب المنطقة", "by_language": "السجلات حسب اللغة",
           "by_origin_node": "السجلات حسب العقدة المصدر", "growth": "نمو المجموعة (السجلات، تراكمياً حسب الشهر)",
           "providers": "المزوّدون", "sources": "المصادر", "origin_nodes": "العقد المصدر", "total": "المجموع",
           "active": "النشطة في الفترة", "failing": "المتعثرة (فشل آخر حصاد)", "harvest": "نسبة نجاح الحصاد",
           "runs": "عمليات الحصاد", "completeness": "اكتمال السجلات", "mean": "متوسط الاكتمال",
           "searches": "عمليات البحث شهرياً", "search_count": "عمليات البحث", "no_hits": "عمليات بحث بلا نتائج",
           "assistance": "المساعدة", "assist_sources": "مصادر المساعدة", "requests": "طلبات المساعدة",
           "requests_by_region": "طلبات المساعدة حسب المنطقة", "requests_by_kind": "الطلبات حسب النوع",
           "requests_by_status": "الطلبات حسب الحالة", "open_match": "طلبات لها عرض مفتوح مطابق واحد على الأقل",
           "gaps": "فجوات المعلومات: عمليات بحث بلا نتائج أو بنتائج قليلة", "query": "كلمات البحث",
           "filters": "عوامل التصفية", "last_hits": "النتائج (آخر مرة)", "last_seen": "آخر ظهور",
           "value": "القيمة", "count": "العدد", "month": "الشهر", "table": "الأرقام في جدول",
           "export": "تصدير الأرقام:", "none": "لا شيء بعد.", "no_words": "(بلا كلمات)"},
    "zh": {"title": "指标", "period": "期间", "from": "自", "until": "至", "show": "显示", "everything": "全部时间",
           "records": "记录", "live": "现有记录", "by_type": "按文件类型的记录", "by_chemical": "按化学品的记录",
           "by_country": "按国家的记录", "by_region": "按区域的记录", "by_language": "按语言的记录",
           "by_origin_node": "按来源节点的记录", "growth": "馆藏增长（记录，按月累计）", "providers": "提供方",
           "sources": "来源", "origin_nodes": "来源节点", "total": "总数", "active": "期间内活跃",
           "failing": "失败（最近一次采集失败）", "harvest": "采集成功率", "runs": "采集次数",
           "completeness": "记录完整性", "mean": "平均完整性", "searches": "每月检索", "search_count": "检索次数",
           "no_hits": "无结果的检索", "assistance": "援助", "assist_sources": "援助来源", "requests": "援助请求",
           "requests_by_region": "按区域的援助请求", "requests_by_kind": "按类别的请求",
           "requests_by_status": "按状态的请求", "open_match": "至少有一个开放匹配的请求",
           "gaps": "信息缺口：无结果或结果很少的检索", "query": "检索词", "filters": "筛选条件",
           "last_hits": "结果（最近一次）", "last_seen": "最近一次", "value": "值", "count": "数量", "month": "月份",
           "table": "数据表", "export": "导出数据：", "none": "暂无。", "no_words": "（无检索词）"},
}

CATEGORY_FIELD = {"by_type": "type", "by_chemical": "chemicals", "by_country": "countries",
                  "by_region": "regions", "by_language": "languages", "by_origin_node": "origin_node"}


def words(lang: str) -> dict[str, str]:
    return {**WORDS["en"], **WORDS.get(lang, {})}


def _day(value: str | None, name: str) -> str | None:
    if value in (None, ""):
        return None
    if not _DATE.match(value):
        raise HTTPException(400, f"{name}: give a date as YYYY-MM-DD (or YYYY-MM-DDThh:mm:ssZ)")
    return value


def _indicators(request: Request, since: str | None, until: str | None) -> dict:
    state = request.app.state.node
    ind = reportmod.indicators(state.store(), _day(since, "from"), _day(until, "until"))
    return {"node": state.cfg.node.get("id"), **ind}


@router.get("/api/report", summary="Indicators of this node (json, csv or md)", tags=["status"])
def api_report(request: Request, since: str | None = Q(None, alias="from", max_length=20),
               until: str | None = Q(None, max_length=20), format: str = Q("json", pattern="^(json|csv|md)$")):
    """Records by category and region and their growth, providers active and failing, harvest success, completeness,
    searches per month and the share with no hits, assistance requests and their matches, information gaps."""
    ind = _indicators(request, since, until)
    if format == "json":
        return JSONResponse(ind)
    body = reportmod.render(ind, format)
    media = "text/csv; charset=utf-8" if format == "csv" else "text/markdown; charset=utf-8"
    name = f"indicators-{ind['node'] or 'node'}.{format}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


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
