"""The clearing-house's performance indicators, computed from the node's store: what it holds (records by
document type, chemical, country, region, language and origin node, and how the holdings grew month by
month), who provides it (sources and origin nodes active in the period, and failing), how well harvesting
goes, how complete the records are, how much the node is used (searches per month, the share that found
nothing), assistance offered and asked for, and the information gaps the search log shows.

    ind = indicators(store, since="2026-01-01", until="2026-06-30")
    print(render(ind, "md"))        # or "json", or "csv" (one row per figure: section, key, value)

Periods are UTC dates or datestamps, both ends included (a date alone as `until` means the end of that day).
Holdings (records by category) are the live records now; the period bounds the month series, the runs, the
searches and the gaps.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter, defaultdict
from datetime import date

from . import searchlog, vocab
from .dates import utcnow

SUCCESS = ("ok", "partial")
"""Run statuses that count as a successful harvest (partial: finished, with some records failed)."""
NOT_FINISHED = ("running", "busy")
"""Runs that are not counted in the success rate: still running, or not started because one was running."""
TOP_GAPS = 20
FEW_HITS = 3
CATEGORIES = (("by_type", "$.type", False), ("by_chemical", "$.chemicals", True),
              ("by_country", "$.countries", True), ("by_region", "$.regions", True),
              ("by_language", "$.languages", True), ("by_origin_node", "$.origin.node", False))
"""(figure, JSON path in the record, whether the path holds a list)."""
VOCAB_OF = {"by_type": "document_types", "by_chemical": "chemicals", "by_country": "countries",
            "by_region": "regions", "by_language": "languages"}


DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
"""A period's end: a day, or a UTC time to the second."""


def check_period_end(value: str | None, name: str) -> None:
    """ValueError unless `value` is empty, a real day YYYY-MM-DD or a UTC time YYYY-MM-DDThh:mm:ssZ."""
    if not value:
        return
    if re.fullmatch(DAY_PATTERN, value) or re.fullmatch(TIME_PATTERN, value):
        try:
            date(int(value[:4]) or 2000, int(value[5:7]), int(value[8:10]))   # year 0000 is a leap year too
            return
        except ValueError:
            pass
    raise ValueError(f"{name}: {value!r} is not a real date; give YYYY-MM-DD (or a UTC time as YYYY-MM-DDThh:mm:ssZ)")


def _bounds(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    check_period_end(since, "from")
    check_period_end(until, "until")
    if since and len(since) == 10:
        since += "T00:00:00Z"
    if until and len(until) == 10:
        until += "T23:59:59Z"
    return since or None, until or None


def _where(col: str, since: str | None, until: str | None) -> tuple[str, list]:
    parts, args = [], []
    if since:
        parts.append(f"{col} >= ?")
        args.append(since)
    if until:
        parts.append(f"{col} <= ?")
        args.append(until)
    return "".join(f" AND {p}" for p in parts), args


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _counts(rows) -> dict[str, int]:
    """{value: count}, most frequent first, then by value."""
    pairs = [(str(v), n) for v, n in rows if v is not None and v != ""]
    return dict(sorted(pairs, key=lambda p: (-p[1], p[0])))


# ----------------------------------------------------------------------------------------------- records


def record_figures(store, since=None, until=None) -> dict:
    db = store.db
    out = {"total": store.count(), "deleted": store.count(deleted=True)}
    extra, args = _where("changed", since, until)
    out["changed_in_period"] = db.execute(f"SELECT COUNT(*) FROM records WHERE deleted=0{extra}", args).fetchone()[0]
    for name, path, is_list in CATEGORIES:
        if is_list:
            q = (f"SELECT j.value, COUNT(DISTINCT r.id) FROM records r, json_each(r.record, '{path}') j "
                 f"WHERE r.deleted=0 AND r.record IS NOT NULL AND json_type(r.record, '{path}') = 'array' "
                 f"GROUP BY j.value")
        else:
            q = (f"SELECT json_extract(record, '{path}') AS v, COUNT(*) FROM records "
                 f"WHERE deleted=0 AND record IS NOT NULL GROUP BY v")
        out[name] = _counts(db.execute(q).fetchall())
    monthly = dict(db.execute("SELECT substr(changed, 1, 7) AS m, COUNT(*) FROM records WHERE deleted=0 "
                              "GROUP BY m ORDER BY m").fetchall())
    running, cumulative = 0, {}
    for month, n in monthly.items():
        running += n
        cumulative[month] = running
    lo, hi = (since or "")[:7], (until or "9999-99")[:7]
    out["by_month"] = {m: n for m, n in monthly.items() if lo <= m <= hi}
    out["cumulative_by_month"] = {m: n for m, n in cumulative.items() if lo <= m <= hi}
    return out


def completeness(store) -> dict:
    scores = [r[0] for r in store.db.execute(
        "SELECT json_extract(record, '$.quality.completeness') FROM records WHERE deleted=0 AND record IS NOT NULL")
        if isinstance(r[0], (int, float))]
    hist = {f"{i / 10:.1f}-{(i + 1) / 10:.1f}": 0 for i in range(10)}
    for s in scores:
        i = min(9, max(0, int(s * 10 + 1e-9)))
        hist[f"{i / 10:.1f}-{(i + 1) / 10:.1f}"] += 1
    return {"scored": len(scores), "mean": round(sum(scores) / len(scores), 4) if scores else None,
            "histogram": hist}


# ----------------------------------------------------------------------------------------------- providers


def provider_figures(store, since=None, until=None) -> tuple[dict, dict]:
    db = store.db
    extra, args = _where("started", since, until)
    runs = db.execute(f"SELECT source, status FROM runs WHERE 1=1{extra}", args).fetchall()
    by_status = Counter(r["status"] for r in runs)
    finished = [r for r in runs if r["status"] not in NOT_FINISHED]
    ok = sum(1 for r in finished if r["status"] == "ok")
    harvest = {"runs": len(finished), "ok": ok, "success_rate": _share(ok, len(finished)),
               "by_status": _counts(by_status.items())}
    active = sorted({r["source"] for r in runs if r["status"] in SUCCESS})
    failing = []
    for source in store.sources():
        last = db.execute("SELECT status FROM runs WHERE source=? AND status NOT IN ('running', 'busy') "
                          "ORDER BY id DESC LIMIT 1", (source,)).fetchone()
        if last and last["status"] not in SUCCESS:
            failing.append(source)
    sources = store.sources()
    node_sources = defaultdict(set)
    for node, source in db.execute("SELECT DISTINCT json_extract(record, '$.origin.node'), source FROM records "
                                   "WHERE deleted=0 AND record IS NOT NULL"):
        if node:
            node_sources[node].add(source)
    nodes = sorted(node_sources)
    nodes_active = [n for n in nodes if node_sources[n] & set(active)]
    nodes_failing = [n for n in nodes if node_sources[n] and node_sources[n] <= set(failing)]
    providers = {
        "sources": {"total": len(sources), "active": len(active), "failing": len(failing),
                    "active_ids": active, "failing_ids": sorted(failing)},
        "origin_nodes": {"total": len(nodes), "active": len(nodes_active), "failing": len(nodes_failing),
                         "active_ids": nodes_active, "failing_ids": nodes_failing},
    }
    return providers, harvest


# ----------------------------------------------------------------------------------------------- assistance


def _list(value) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _regions_of(rec: dict) -> set[str]:
    regions = set(_list(rec.get("regions")))
    for c in _list(rec.get("countries")):
        regions.update(vocab.region_of(c))
    return regions


def open_match(request: dict, source: dict, today: str | None = None) -> bool:
    """Whether an assistance source is an open match for a request, by the rules of harvester.assistance
    (used when that module is absent): open or no status given, its deadline not passed, a kind the request
    asks for (when both name one), and the request's country or region eligible (a source that names no
    eligible country or region is open to all). Shared chemicals rank matches there; they do not decide."""
    a, b = request.get("assistance") or {}, source.get("assistance") or {}
    today = today or date.today().isoformat()
    if b.get("status") not in ("open", None):
        return False
    if isinstance(b.get("deadline"), str) and b["deadline"][:10] < today[:len(b["deadline"][:10])]:
        return False
    kinds, offered = set(_list(a.get("kind"))), set(_list(b.get("kind")))
    if kinds and offered and not kinds & offered:
        return False
    countries, regions = set(_list(b.get("eligible_countries"))), set(_list(b.get("eligible_regions")))
    if countries or regions:
        return bool(countries & set(_list(request.get("countries"))) or regions & _regions_of(request))
    return True


def _matcher():
    """harvester.assistance.match_request when that module is there, else None."""
    try:
        from .assistance import match_request  # type: ignore[attr-defined]
    except ImportError:
        return None
    return match_request


def _open_matches_via(match_request, request: dict, sources: list[dict]) -> int:
    """Open sources among harvester.assistance.match_request's matches (status open, or none given)."""
    n = 0
    for m in match_request(request, sources) or []:
        status = m.get("status") if isinstance(m, dict) else getattr(m, "status", None)
        n += status in ("open", None)
    return n


def assistance_figures(store) -> dict:
    recs = [json.loads(r[0]) for r in store.db.execute(
        "SELECT record FROM records WHERE deleted=0 AND record IS NOT NULL "
        "AND json_extract(record, '$.type') IN ('assistance_source', 'assistance_request')")]
    sources = [r for r in recs if r.get("type") == "assistance_source"]
    requests_ = [r for r in recs if r.get("type") == "assistance_request"]

    def by(items, key):
        c = Counter()
        for r in items:
            values = key(r)
            c.update(values or ["unknown"])
        return _counts(c.items())

    def kind(r):
        return _list((r.get("assistance") or {}).get("kind"))

    def status(r):
        s = (r.get("assistance") or {}).get("status")
        return [s] if isinstance(s, str) else []

    match_request, method = _matcher(), "built-in"
    matched = 0
    for req in requests_:
        n = None
        if match_request is not None:
            try:
                n = _open_matches_via(match_request, req, sources)
                method = "harvester.assistance.match_request"
            except Exception:
                n = None
        if n is None:
            n = sum(1 for s in sources if open_match(req, s))
        matched += n > 0
    return {
        "sources": len(sources), "sources_by_kind": by(sources, kind), "sources_by_status": by(sources, status),
        "requests": len(requests_), "requests_by_kind": by(requests_, kind),
        "requests_by_region": by(requests_, lambda r: sorted(_regions_of(r))),
        "requests_by_status": by(requests_, status),
        "requests_with_open_match": matched, "open_match_share": _share(matched, len(requests_)),
        "matching": method,
    }


# ----------------------------------------------------------------------------------------------- all


def search_figures(store, since=None, until=None) -> dict:
    months = searchlog.monthly(store, since, until)
    total = sum(m["searches"] for m in months.values())
    zero = sum(m["no_hits"] for m in months.values())
    channels = _counts(store.db.execute(
        "SELECT channel, COUNT(*) FROM search_log WHERE 1=1" + _where("at", since, until)[0] + " GROUP BY channel",
        _where("at", since, until)[1]).fetchall())
    return {"total": total, "no_hits": zero, "no_hit_share": _share(zero, total), "by_month": months,
            "by_channel": channels}


def indicators(store, since: str | None = None, until: str | None = None, *, top: int = TOP_GAPS,
               few: int = FEW_HITS) -> dict:
    """Every indicator of the node for a period (see the module docstring); a plain dict, JSON-ready."""
    since, until = _bounds(since, until)
    searchlog.ensure_table(store)
    providers, harvest = provider_figures(store, since, until)
    return {
        "period": {"from": since, "until": until},
        "generated": utcnow(),
        "records": record_figures(store, since, until),
        "providers": providers,
        "harvest": harvest,
        "completeness": completeness(store),
        "searches": search_figures(store, since, until),
        "assistance": assistance_figures(store),
        "gaps": searchlog.information_gaps(store, since, until, few=few, limit=top),
    }


# ----------------------------------------------------------------------------------------------- output


def _gap_label(g: dict) -> str:
    text = g["query"] or "(no words)"
    if g["filters"]:
        text += " [" + "; ".join(f"{k}: {', '.join(v)}" for k, v in g["filters"].items()) + "]"
    return text


def figures(ind: dict) -> list[tuple[str, str, object]]:
    """Every figure as (section, key, value): nested keys joined with '.', lists of ids joined by spaces."""
    rows: list[tuple[str, str, object]] = []

    def walk(section, prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(section, f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            rows.append((section, prefix, " ".join(str(v) for v in value)))
        else:
            rows.append((section, prefix, value))

    for section, value in ind.items():
        if section == "gaps":
            for g in value:
                rows.append(("gaps", _gap_label(g), g["searches"]))
        elif isinstance(value, dict):
            walk(section, "", value)
        else:
            rows.append((section, "", value))
    return rows


def _label(figure: str, key: str, lang: str) -> str:
    kind = VOCAB_OF.get(figure)
    name = vocab.label(kind, key, lang) if kind else None
    return f"{name} ({key})" if name and name != key else key


def render(ind: dict, fmt: str = "md", lang: str = "en") -> str:
    """The indicators as Markdown ("md"), JSON ("json") or CSV ("csv": section,key,value rows)."""
    if fmt == "json":
        return json.dumps(ind, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["section", "key", "value"])
        for row in figures(ind):
            w.writerow(["" if v is None else csv_cell(v) for v in row])
        return buf.getvalue()
    if fmt != "md":
        raise ValueError(f"unknown format {fmt!r}; formats: md, json, csv")
    return _markdown(ind, lang)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP, CSV injection)."""


def csv_cell(value):
    """A CSV cell that a spreadsheet shows as text: search words such as '=HYPERLINK(...)' or '+cmd|...'
    get a leading single quote. Numbers are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def markdown_text(text: str) -> str:
    """Text from a search or a harvested record as plain Markdown text inside a line (a table cell): the
    inline syntax (emphasis, code, links and images, table pipes, strike-through) backslash-escaped, HTML
    special characters as entities (no tag, no raw HTML), lines joined. Block syntax (#, -, 1.) only counts
    at the start of a line, where such text never is."""
    text = " ".join(str(text).splitlines())
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", text), quote=True)


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value <= 1:
        return f"{value:.1%}"
    return markdown_text(value) if isinstance(value, str) else str(value)


def _table(head: tuple[str, str], pairs) -> list[str]:
    out = [f"| {head[0]} | {head[1]} |", "|---|---:|"]
    out += [f"| {_cell(k)} | {_cell(v)} |" for k, v in pairs]
    return out + [""]


def _markdown(ind: dict, lang: str) -> str:
    p, r = ind["period"], ind["records"]
    lines = ["# Clearing-house indicators", "",
             f"Period: {p['from'] or 'start'} to {p['until'] or 'now'} (generated {ind['generated']})", "",
             "## Records", "",
             f"Live records: {r['total']}; deleted (tombstones): {r['deleted']}; "
             f"added or changed in the period: {r['changed_in_period']}", ""]
    for name, _, _ in CATEGORIES:
        lines += [f"### Records {name.replace('_', ' ')}", ""]
        lines += _table(("value", "records"), [(_label(name, k, lang), v) for k, v in r[name].items()])
    lines += ["### Growth by month", "", "| month | added or changed | cumulative |", "|---|---:|---:|"]
    lines += [f"| {m} | {n} | {r['cumulative_by_month'].get(m, '')} |" for m, n in r["by_month"].items()] + [""]
    pv, h = ind["providers"], ind["harvest"]
    lines += ["## Providers", "", "| providers | total | active | failing |", "|---|---:|---:|---:|"]
    for kind in ("sources", "origin_nodes"):
        x = pv[kind]
        lines.append(f"| {kind.replace('_', ' ')} | {x['total']} | {x['active']} | {x['failing']} |")
    lines += ["", f"Failing sources: {', '.join(map(markdown_text, pv['sources']['failing_ids'])) or 'none'}", "",
              "## Harvesting", "",
              f"Runs: {h['runs']}; ok: {h['ok']}; success rate: {_cell(h['success_rate'])}", ""]
    c = ind["completeness"]
    lines += ["## Completeness", "", f"Mean: {_cell(c['mean'])} over {c['scored']} records", ""]
    lines += _table(("score", "records"), c["histogram"].items())
    s = ind["searches"]
    lines += ["## Searches", "", f"Searches: {s['total']}; with no hits: {s['no_hits']} "
              f"({_cell(s['no_hit_share'])})", "", "| month | searches | no hits |", "|---|---:|---:|"]
    lines += [f"| {m} | {x['searches']} | {x['no_hits']} |" for m, x in s["by_month"].items()] + [""]
    a = ind["assistance"]
    lines += ["## Assistance", "", f"Assistance sources: {a['sources']}; requests: {a['requests']}; "
              f"requests with at least one open match: {a['requests_with_open_match']} "
              f"({_cell(a['open_match_share'])})", ""]
    for key in ("sources_by_kind", "sources_by_status", "requests_by_kind", "requests_by_region",
                "requests_by_status"):
        lines += [f"### {key.replace('_', ' ').capitalize()}", ""]
        lines += _table(("value", "count"), [(_label("by_region", k, lang) if "region" in key else k, v)
                                             for k, v in a[key].items()])
    lines += ["## Information gaps", "", "Searches with no or few hits, most pressing first.", "",
              "| query | searches | no-hit searches | last hits | last seen |", "|---|---:|---:|---:|---|"]
    lines += [f"| {_cell(_gap_label(g))} | {g['searches']} | {g['no_hit_searches']} | {g['last_hits']} | "
              f"{g['last_seen']} |" for g in ind["gaps"]]
    return "\n".join(lines) + "\n"
