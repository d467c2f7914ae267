"""Assistance matchmaking: which assistance sources fit an assistance request, and which open requests an
assistance source could answer, on this node and across its federated peers.

    from harvester.assistance import match_request, match_source, find_matches
    match_request(request_record, source_records)     # -> [Match], best first
    match_source(source_record, request_records)      # -> [Match], best first
    find_matches(state_or_cfg, "ke:ke-moe:oai:...:chm/request-pcb-disposal")
    # -> {"record", "type", "title", "matches": [{"id", "title", "node", "score", "reasons", "kind",
    #                                             "deadline", "status"}], "nodes": [...]}

The rules (the same in both directions: a source fits a request exactly when the request fits the source)
--------------------------------------------------------------------------------------------------------
The requesting party
    A request names the party asking for help in its record ``countries`` (ISO 3166-1 alpha-2). A request
    without ``countries`` is read for a country name in ``assistance.provider`` (the vocabulary's names in
    the six languages and English aliases: "Government of Kenya, Ministry of ..." -> KE). A request naming
    no country at all is judged by its record ``regions``, if any.

(a) Eligibility
    The source's ``assistance.eligible_countries`` lists one of the requesting countries ("eligible: KE is
    listed"), or ``assistance.eligible_regions`` holds the UN regional group of one of them
    (:func:`harvester.vocab.region_of`; "eligible: KE is in region africa"), or, for a request naming no
    country, one of the request's own regions. A source that sets neither eligible countries nor eligible
    regions is open to every Party and fits every request ("eligible: open to every Party"). The record
    ``countries`` of a source (the places it mentions) is not an eligibility rule. A request naming no
    party at all fits only sources open to every Party.
(b) Kind
    Both name a kind (technical, financial) and the kinds overlap ("kind: technical"); a source or a request
    that names no kind fits any ("kind: any").
(c) Still open
    Sources: status ``open`` or absent, or ``planned`` (announced, not open yet: it fits, says so, and
    ranks one point lower); ``closed`` and any request-side status (met, withdrawn, ...) do not fit.
    Requests: status ``submitted``, ``in_progress``, ``open``, ``planned`` or absent; ``met`` and
    ``withdrawn`` do not fit. For both: a deadline (YYYY, YYYY-MM or YYYY-MM-DD: the last day of that
    period) before ``today`` (UTC, unless given) does not fit ("open until 2026-09-30" otherwise). The
    record being matched is not itself filtered: a met request still shows what would have fitted it.
(d) Score
    Only records that pass (a)-(c) are matches. Their score adds: eligibility by country 3, by region 2,
    open to everyone 1; 1 per shared kind; 2 per shared chemical ("chemicals: pcb"); 0.5 per shared
    activity word, at most 3 ("activities: disposal, transformer"), words of four letters or more compared
    case-insensitively, a plural "s" ignored, common words left out; minus 1 for a planned source. Matches
    are ordered by score (highest first), then deadline (soonest first, none last), then id.
"""
from __future__ import annotations

import calendar
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from urllib.parse import quote

from . import vocab

SOURCE, REQUEST = "assistance_source", "assistance_request"
ASSISTANCE_TYPES = (SOURCE, REQUEST)
OPPOSITE = {SOURCE: REQUEST, REQUEST: SOURCE}

OPEN_SOURCE_STATUSES = ("open", "planned")
"""Source statuses that can still be applied to (besides no status at all)."""
OPEN_REQUEST_STATUSES = ("submitted", "in_progress", "open", "planned")
"""Request statuses that still need help (besides no status at all)."""

PAGE = 100
"""Hits asked per page when gathering candidates."""
MAX_CANDIDATES = 5000
"""Candidates gathered per node at most."""
MAX_RECORD_BYTES = 2 * 1024 * 1024
"""A record from a peer larger than this is not read."""
FETCH_THREADS = 8

_STOPWORDS = frozenset("""
    about after also among and any are based been between both each effective environmentally from
    have including into more national other over plan plans project projects provision should such
    than that their them then there these they this those through under using well were what when
    where which while will with within without support programme program assistance
""".split())
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


# ----------------------------------------------------------------------------------------------- matches


@dataclass
class Match:
    """One record that fits, with why: human-readable ``reasons`` and a ``score`` (higher fits better)."""

    id: str
    score: float
    reasons: list[str]
    title: dict = field(default_factory=dict)
    type: str | None = None
    kind: list[str] = field(default_factory=list)
    deadline: str | None = None
    status: str | None = None
    node: str | None = None
    record: dict = field(default_factory=dict, repr=False)

    def as_json(self) -> dict:
        return {"id": self.id, "title": self.title, "node": self.node, "score": self.score,
                "reasons": list(self.reasons), "kind": list(self.kind), "deadline": self.deadline,
                "status": self.status}


def _assistance(record: dict) -> dict:
    a = record.get("assistance") if isinstance(record, dict) else None
    return a if isinstance(a, dict) else {}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(v.strip() for v in value if isinstance(v, str) and v.strip()))


def _status(record: dict) -> str | None:
    s = _assistance(record).get("status")
    return s.strip().lower() if isinstance(s, str) and s.strip() else None


def _kinds(record: dict) -> list[str]:
    return [k.lower() for k in _strings(_assistance(record).get("kind"))]


def _deadline(record: dict) -> str | None:
    d = _assistance(record).get("deadline")
    return d.strip() if isinstance(d, str) and d.strip() else None


def deadline_end(value: str | None) -> date | None:
    """The last day a deadline allows: YYYY -> 31 December, YYYY-MM -> the month's last day; None when
    there is none or it cannot be read (an unreadable deadline does not close anything)."""
    if not value:
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value.strip()[:10])
    if not m:
        return None
    try:
        year = int(m.group(1))
        if m.group(3):
            return date(year, int(m.group(2)), int(m.group(3)))
        if m.group(2):
            month = int(m.group(2))
            return date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 12, 31)
    except ValueError:
        return None


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


@lru_cache(maxsize=1)
def _country_names() -> tuple[tuple[re.Pattern, str], ...]:
    """(whole-word pattern, alpha-2) for every country name and English alias, longest names first (so
    "Equatorial Guinea" wins over "Guinea")."""
    names: dict[str, str] = {}
    for code, entry in vocab.countries().items():
        for name in list((entry.get("names") or {}).values()) + list(entry.get("aliases_en") or []):
            if isinstance(name, str) and len(name) >= 3:
                names.setdefault(name.casefold(), code)
    ordered = sorted(names.items(), key=lambda kv: -len(kv[0]))
    return tuple((re.compile(r"(?<!\w)" + re.escape(n) + r"(?!\w)"), code) for n, code in ordered)


def countries_in_text(text: str) -> list[str]:
    """Alpha-2 codes of the countries a text names (by name in the six languages or an English alias)."""
    if not isinstance(text, str) or not text.strip():
        return []
    folded = text.casefold().replace("'", "\u2019")
    found: list[str] = []
    taken: list[tuple[int, int]] = []
    for pattern, code in _country_names():
        for variant in (folded, text.casefold()):
            m = pattern.search(variant)
            if m and not any(m.start() < e and s < m.end() for s, e in taken):
                taken.append((m.start(), m.end()))
                if code not in found:
                    found.append(code)
                break
    return found


def requesting_party(request: dict) -> tuple[list[str], list[str]]:
    """(countries, regions) of the party asking: the record's ``countries``, else countries named in
    ``assistance.provider``; their UN regional groups, else (no country) the record's ``regions``."""
    countries = [c.upper() for c in _strings(request.get("countries"))]
    if not countries:
        countries = countries_in_text(_assistance(request).get("provider") or "")
    regions: list[str] = []
    for c in countries:
        for r in vocab.region_of(c):
            if r not in regions:
                regions.append(r)
    if not countries:
        regions = _strings(request.get("regions"))
    return countries, regions


def _activity_words(record: dict) -> set[str]:
    words = set()
    for text in _strings(_assistance(record).get("activities")):
        for w in _WORD.findall(text.casefold()):
            if len(w) < 4 or w in _STOPWORDS:
                continue
            words.add(w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 4 else w)
    return words


def fit(source: dict, request: dict, today: date | None = None) -> tuple[float, list[str]] | None:
    """Whether ``source`` fits ``request`` (rules (a)-(c) of the module docstring): None when it does
    not, else (score, reasons)."""
    today = today or today_utc()
    reasons: list[str] = []
    score = 0.0

    # (c) both still open
    s_status, r_status = _status(source), _status(request)
    if s_status is not None and s_status not in OPEN_SOURCE_STATUSES:
        return None
    if r_status is not None and r_status not in OPEN_REQUEST_STATUSES:
        return None
    for rec in (source, request):
        end = deadline_end(_deadline(rec))
        if end is not None and end < today:
            return None

    # (a) eligibility
    a = _assistance(source)
    eligible_countries = [c.upper() for c in _strings(a.get("eligible_countries"))]
    eligible_regions = _strings(a.get("eligible_regions"))
    countries, regions = requesting_party(request)
    if not eligible_countries and not eligible_regions:
        reasons.append("eligible: open to every Party (no eligibility set)")
        score += 1
    else:
        listed = [c for c in countries if c in eligible_countries]
        if listed:
            reasons.append(f"eligible: {', '.join(listed)} {'is' if len(listed) == 1 else 'are'} listed")
            score += 3
        else:
            by_region = None
            for c in countries:
                shared = [r for r in vocab.region_of(c) if r in eligible_regions]
                if shared:
                    by_region = f"eligible: {c} is in region {shared[0]}"
                    break
            if by_region is None and not countries:
                shared = [r for r in regions if r in eligible_regions]
                if shared:
                    by_region = f"eligible: request is for region {shared[0]}"
            if by_region is None:
                return None
            reasons.append(by_region)
            score += 2

    # (b) kind
    s_kinds, r_kinds = _kinds(source), _kinds(request)
    if s_kinds and r_kinds:
        shared = [k for k in r_kinds if k in s_kinds]
        if not shared:
            return None
        reasons.append(f"kind: {', '.join(shared)}")
        score += len(shared)
    else:
        reasons.append("kind: any (" + ("source" if not s_kinds else "request") + " names no kind)")

    # (d) what they share
    s_chem = _strings(source.get("chemicals"))
    shared_chem = [c for c in _strings(request.get("chemicals")) if c in s_chem]
    if shared_chem:
        reasons.append(f"chemicals: {', '.join(shared_chem)}")
        score += 2 * len(shared_chem)
    shared_words = sorted(_activity_words(source) & _activity_words(request))
    if shared_words:
        reasons.append(f"activities: {', '.join(shared_words)}")
        score += min(3.0, 0.5 * len(shared_words))

    # how long it stays open
    for label, rec in (("source", source), ("request", request)):
        status, deadline = _status(rec), _deadline(rec)
        if label == "source" and status == "planned":
            reasons.append("status: planned (not open yet)")
            score -= 1
        if deadline:
            reasons.append(f"{label} open until {deadline}" if label == "request" else f"open until {deadline}")
    if not _deadline(source):
        reasons.append("open: no deadline")
    return round(score, 2), reasons


def _title(record: dict) -> dict:
    t = record.get("title")
    return {k: v for k, v in t.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(t, dict) else {}


def _rank(subject: dict, candidates, want_type: str, as_source: bool, today: date | None) -> list[Match]:
    today = today or today_utc()
    out: dict[str, Match] = {}
    for cand in candidates:
        node = None
        if isinstance(cand, tuple):
            cand, node = cand
        if not isinstance(cand, dict) or cand.get("type") != want_type or not isinstance(cand.get("id"), str):
            continue
        if cand["id"] == subject.get("id") or cand["id"] in out:
            continue
        result = fit(subject, cand, today) if as_source else fit(cand, subject, today)
        if result is None:
            continue
        score, reasons = result
        out[cand["id"]] = Match(id=cand["id"], score=score, reasons=reasons, title=_title(cand), type=want_type,
                                kind=_kinds(cand), deadline=_deadline(cand), status=_status(cand), node=node,
                                record=cand)

    def key(m: Match):
        end = deadline_end(m.deadline)
        return (-m.score, end is None, end or date.max, m.id)

    return sorted(out.values(), key=key)


def match_request(request_record: dict, candidates, today: date | None = None) -> list[Match]:
    """The assistance sources among ``candidates`` (records, or (record, node id) pairs) that fit the
    request, best first. Records of another type are ignored."""
    return _rank(request_record, candidates, SOURCE, as_source=False, today=today)


def match_source(source_record: dict, candidates, today: date | None = None) -> list[Match]:
    """The open assistance requests among ``candidates`` that the source could answer, best first."""
    return _rank(source_record, candidates, REQUEST, as_source=True, today=today)


# ----------------------------------------------------------------------------------------------- on a node


class NotAssistance(ValueError):
    """The record is neither an assistance source nor an assistance request."""


class RecordNotFound(KeyError):
    """No such record on this node (nor, when asked, on a peer)."""


def _fetch_record(session, base_url: str, record_id: str, timeout: float) -> dict | None:
    """A record from a peer's /api/records/{id}: a JSON object with that id, or None (not found, refused,
    too large, not JSON). Redirects are not followed."""
    url = base_url.rstrip("/") + "/api/records/" + quote(record_id, safe=":/@!$&'()*+,;=-._~")
    try:
        resp = session.get(url, timeout=(timeout, timeout), stream=True, allow_redirects=False)
        with resp:
            if resp.status_code != 200:
                return None
            body = b""
            for chunk in resp.iter_content(65536):
                body += chunk
                if len(body) > MAX_RECORD_BYTES:
                    return None
        data = json.loads(body)
    except Exception:       # a peer must never break matchmaking
        return None
    return data if isinstance(data, dict) and data.get("id") == record_id else None


def _peer_session():
    import requests

    from .node.federation import USER_AGENT
    s = requests.Session()
    s.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    return s


def _local_candidates(state, want_type: str) -> list[dict]:
    """Every record of ``want_type`` in this node's index, read from the store (the index's copy when the
    store has none)."""
    from .index import Query
    index, store = state.index(), state.store()
    out, cursor = [], None
    while len(out) < MAX_CANDIDATES:
        res = index.search(Query(filters={"type": [want_type]}, sort="title", limit=PAGE, cursor=cursor,
                                 highlight=False))
        for hit in res.hits:
            rec = store.get(hit.id) or index.get(hit.id)
            if isinstance(rec, dict):
                out.append(rec)
        cursor = res.next_cursor
        if not cursor or not res.hits:
            break
    return out


def _peer_ids(session, peer: dict, want_type: str, seen: set[str]) -> list[str]:
    """Every id of ``want_type`` a peer holds, paging its search API (scope=local) by cursor."""
    url = str(peer["url"]).rstrip("/") + "/api/search"
    timeout = float(peer.get("timeout") or 3.0)
    ids: list[str] = []
    cursor = None
    while len(ids) < MAX_CANDIDATES:
        params = {"filter": f"type:{want_type}", "scope": "local", "limit": PAGE, "sort": "title"}
        if cursor:
            params["cursor"] = cursor
        try:
            resp = session.get(url, params=params, timeout=(timeout, timeout), allow_redirects=False)
            data = resp.json() if resp.status_code == 200 else None
        except Exception:
            break
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            break
        for hit in data["results"]:
            rid = hit.get("id") if isinstance(hit, dict) else None
            if isinstance(rid, str) and rid not in seen:
                seen.add(rid)
                ids.append(rid)
        cursor = data.get("next_cursor")
        if not isinstance(cursor, str) or not cursor or not data["results"]:
            break
    return ids


def _remote_candidates(state, want_type: str, local_ids: set[str]) -> tuple[list[tuple[dict, str]], list[dict]]:
    """Records of ``want_type`` that live on peers (not on this node): [(record, node id)], and the node
    reports of the federated search (this node first), each with ``candidates``: records read from it."""
    from .index import MAX_LIMIT, Query
    from .node.federation import ANSWERED, federated_search

    cfg = state.cfg
    fed = federated_search(state, Query(filters={"type": [want_type]}, sort="title", limit=MAX_LIMIT,
                                        highlight=False))
    reports = [dict(r) for r in fed["nodes"]]
    own = str(cfg.node.get("id"))
    peers = {str(p.get("id")): p for p in cfg.peers or []}
    wanted: dict[str, list[str]] = {}      # peer id -> ids to read from it
    seen = set(local_ids)
    for hit in fed["results"]:
        if hit["id"] in seen:
            continue
        node = next((n for n in hit.get("nodes") or [] if n != own and n in peers), None)
        if node:
            seen.add(hit["id"])
            wanted.setdefault(node, []).append(hit["id"])
    session = _peer_session()
    try:
        for report in reports[1:]:
            # a peer holding more than one page: page it through by cursor
            got = sum(1 for h in fed["results"] if report["id"] in (h.get("nodes") or []))
            if report["status"] == ANSWERED and (report.get("total") or 0) > got and report["id"] in peers:
                wanted.setdefault(report["id"], []).extend(_peer_ids(session, peers[report["id"]], want_type, seen))
        jobs = [(node, rid) for node, ids in wanted.items() for rid in ids]
        out: list[tuple[dict, str]] = []
        with ThreadPoolExecutor(max_workers=FETCH_THREADS) as pool:
            fetched = list(pool.map(lambda job: _fetch_record(
                session, str(peers[job[0]]["url"]), job[1], float(peers[job[0]].get("timeout") or 3.0)), jobs))
        counts: dict[str, int] = {}
        for (node, _rid), rec in zip(jobs, fetched):
            if rec is not None:
                out.append((rec, node))
                counts[node] = counts.get(node, 0) + 1
        for report in reports:
            report["candidates"] = counts.get(report["id"], 0) if report is not reports[0] else len(local_ids)
    finally:
        session.close()
    return out, reports


def _load_subject(state, record_id: str, federated: bool) -> tuple[dict, str]:
    rec = state.store().get(record_id)
    if rec is not None:
        return rec, str(state.cfg.node.get("id"))
    if federated and state.cfg.peers:
        session = _peer_session()
        try:
            for peer in state.cfg.peers:
                rec = _fetch_record(session, str(peer["url"]), record_id, float(peer.get("timeout") or 3.0))
                if rec is not None:
                    return rec, str(peer.get("id"))
        finally:
            session.close()
    raise RecordNotFound(record_id)


def find_matches(state_or_cfg, record_id: str, federated: bool = True, today: date | None = None) -> dict:
    """Match one assistance record (a request: the sources that fit it; a source: the open requests it could
    answer) against this node's records and, with ``federated``, every peer's (see the module docstring).

    ``state_or_cfg`` is a node app's NodeState or a loaded config. The record is read from this node's
    store, else (``federated``) from the first peer that has it. Returns ``{"record", "type", "title",
    "node", "today", "matches": [Match.as_json()], "nodes": [{"id", "url", "status", "total", "ms", "error",
    "candidates"}]}``; ``nodes`` is this node alone without ``federated``. Raises RecordNotFound (a
    KeyError) for an unknown id and NotAssistance (a ValueError) for a record of another type."""
    from .node.app import NodeState

    own_state = not hasattr(state_or_cfg, "cfg")
    state = NodeState(state_or_cfg) if own_state else state_or_cfg
    today = today or today_utc()
    try:
        subject, subject_node = _load_subject(state, record_id, federated)
        rtype = subject.get("type")
        if rtype not in ASSISTANCE_TYPES:
            raise NotAssistance(f"record {record_id!r} is a {rtype or 'record without a type'}, "
                                "not an assistance source or request")
        want = OPPOSITE[rtype]
        own = str(state.cfg.node.get("id"))
        local = _local_candidates(state, want)
        candidates: list[tuple[dict, str]] = [(r, own) for r in local]
        if federated and state.cfg.peers:
            remote, reports = _remote_candidates(state, want, {r["id"] for r in local})
            candidates.extend(remote)
        else:
            reports = [{"id": own, "url": state.cfg.node.get("url"), "status": "answered", "total": len(local),
                        "ms": None, "error": None, "candidates": len(local)}]
        matcher = match_request if rtype == REQUEST else match_source
        matches = matcher(subject, candidates, today=today)
        return {"record": subject["id"], "type": rtype, "title": _title(subject), "node": subject_node,
                "today": today.isoformat(), "matches": [m.as_json() for m in matches], "nodes": reports}
    finally:
        if own_state:
            for attr in ("index", "store"):
                obj = getattr(state._local, attr, None)
                if obj is not None:
                    obj.close()
