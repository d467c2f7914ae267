"""`informea`: entities of InforMEA-style OData services (the MEA secretariats' shared API): Documents,
Decisions, Meetings, Contacts, CountryReports / NationalReports, NationalPlans.

The payload is one entity as a dict (JSON of OData v4 or v2/v3, or Atom m:properties turned into a dict);
the source puts the configured entity kind in `raw.sets`, else it is guessed from the fields.

  titles / title / longTitles, descriptions / summaries / description   multilingual title and description:
        [{language, value}], {results: [...]} (v2 expanded), {lang: text}, or a plain string (+ `language`)
  keywords / tags / subjects        keywords         authors / author   creators
  country / countries               countries        languages / language     languages
  published / publishDate / submission / start     dates.issued      updated / modified   dates.modified
  url / link / files[].url          links (landing, file)
  Documents -> guessed from type (else scientific_technical_study); Decisions -> information_exchange
  (legislation for a "decision"/"resolution" of a COP); Meetings -> information_exchange; Contacts ->
  national_focal_point (the person's name as title, position and institution as description);
  CountryReports / NationalReports -> national_report; NationalPlans -> national_implementation_plan.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from ..raw import RawRecord
from . import Crosswalk, register
from .codes import lang_tag
from .common import UNTAGGED, Partial
from .text import clean

KINDS = ("documents", "decisions", "meetings", "contacts", "national_reports", "national_plans")
_V2_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class Entity(dict):
    """An OData entity; its text form (kept in the store for diagnostics and replay) is JSON."""

    def __str__(self) -> str:
        return json.dumps(self, ensure_ascii=False, sort_keys=True, default=str)


def odata_date(value) -> str | None:
    """ISO text for an OData date: ISO 8601 (v4, Atom) or /Date(ms)/ (v2 JSON)."""
    if value is None:
        return None
    text = str(value).strip()
    m = _V2_DATE.match(text)
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return text or None


def _get(entity: dict, *names):
    """The first present, non-empty value among the names (case-insensitive)."""
    lower = {k.lower(): v for k, v in entity.items()}
    for n in names:
        v = lower.get(n.lower())
        if v not in (None, "", [], {}):
            return v
    return None


def _items(value) -> list:
    if value is None:
        return []
    if isinstance(value, dict) and "results" in value:   # v2 expanded collection
        return list(value["results"] or [])
    return list(value) if isinstance(value, list) else [value]


def texts(entity: dict, *names) -> list[tuple[str | None, str]]:
    """(language, text) pairs from a multilingual property in any of its shapes."""
    value = _get(entity, *names)
    default = _get(entity, "language", "lang")
    default = lang_tag(default) if isinstance(default, str) else UNTAGGED
    out = []
    if isinstance(value, dict) and "results" not in value:
        if any(k in value for k in ("value", "text", "title")):
            value = [value]
        else:
            return [(lang_tag(k), clean(v)) for k, v in value.items() if isinstance(v, str) and clean(v)]
    for item in _items(value):
        if isinstance(item, dict):
            text = _get(item, "value", "text", "title", "name")
            lang = _get(item, "language", "lang", "locale")
            if isinstance(text, str) and clean(text):
                out.append((lang_tag(lang) if isinstance(lang, str) else default, clean(text)))
        elif isinstance(item, str) and clean(item):
            out.append((default, clean(item)))
    return out


def _strings(value) -> list[str]:
    out = []
    for item in _items(value):
        if isinstance(item, dict):
            item = _get(item, "value", "name", "term", "title", "code", "iso2", "iso")
        if isinstance(item, str) and clean(item):
            out.append(clean(item))
    return out


def guess_kind(entity: dict, hint: str | None = None) -> str:
    if hint in KINDS:
        return hint
    meta = str(_get(entity, "__metadata", "@odata.type", "odata.type", "@category") or "").lower()
    for word, kind in (("contact", "contacts"), ("decision", "decisions"), ("meeting", "meetings"),
                       ("countryreport", "national_reports"), ("nationalreport", "national_reports"),
                       ("nationalplan", "national_plans"), ("document", "documents")):
        if word in meta:
            return kind
    if _get(entity, "firstName", "lastName"):
        return "contacts"
    if _get(entity, "start") and _get(entity, "end"):
        return "meetings"
    if _get(entity, "number") and _get(entity, "meetingId", "meetingTitle"):
        return "decisions"
    return "documents"


_PLAN_TYPES = {"nip": "national_implementation_plan", "nap": "action_plan", "napa": "action_plan"}


def extract(raw: RawRecord) -> dict:
    e = raw.payload
    if not isinstance(e, dict):
        raise ValueError("not an OData entity")
    kind = guess_kind(e, raw.sets[0] if raw.sets else None)
    p = Partial(f"{kind[:-1]} {raw.identifier}")
    for lang in _strings(_get(e, "languages", "language")):
        p.language(lang)
    for c in _strings(_get(e, "countries", "country")):
        p.country(c)

    if kind == "contacts":
        name = " ".join(clean(str(_get(e, k) or "")) for k in ("prefix", "firstName", "lastName")).strip()
        p.title(name or _get(e, "institution", "email") or "")
        for k in ("position", "department", "institution"):
            v = _get(e, k)
            if isinstance(v, str):
                p.description(v)
        p.type = "national_focal_point"
        p.set_publisher(_get(e, "institution"))
        for t in _strings(_get(e, "treaties", "treaty")):
            p.keyword(t)
        if _get(e, "type"):
            p.keyword(str(_get(e, "type")))
    else:
        for lang, t in texts(e, "titles", "title", "longTitles", "longTitle", "officialTitles"):
            p.title(t, lang)
        for lang, t in texts(e, "descriptions", "description", "summaries", "summary", "abstracts"):
            p.description(t, lang)
        for lang, t in texts(e, "keywords", "tags", "subjects"):
            p.keyword(t, lang)
        for a in _strings(_get(e, "authors", "author")):
            p.creator(a)
        p.set_publisher(_get(e, "publisher"))
        if kind == "national_reports":
            p.type = "national_report"
        elif kind == "national_plans":
            p.type = _PLAN_TYPES.get(str(_get(e, "type") or "nip").lower(), "national_implementation_plan")
        elif kind in ("decisions", "meetings"):
            p.type = "information_exchange"
            p.type_hints.append(kind[:-1])
            if kind == "decisions" and _get(e, "number"):
                p.keyword(f"{str(_get(e, 'type') or 'decision').capitalize()} {_get(e, 'number')}")
        else:
            for t in _strings(_get(e, "types", "type")):
                p.type_hints.append(t)
        for t in _strings(_get(e, "treaties", "treaty")):
            p.keyword(t)

    issued = _get(e, "published", "publishDate", "publicationDate", "submission", "start", "date")
    if issued:
        p.date("issued", odata_date(issued))
    modified = _get(e, "updated", "modified", "dateOfModification")
    if modified:
        p.date("modified", odata_date(modified))
        p.set_datestamp(odata_date(modified))
    landing = _get(e, "url", "link", "meetingUrl")
    if isinstance(landing, str):
        p.link(landing, "landing")
    for f in _items(_get(e, "files", "documents")):
        if isinstance(f, dict) and isinstance(_get(f, "url"), str):
            p.link(_get(f, "url"), "file", _get(f, "mimeType", "contentType"), _get(f, "filename", "title"))
    return p.to_dict()


def split(data: bytes, where: str):
    """The entities of one OData response saved as a file (JSON v4 / v2, or Atom)."""
    from ..sources.odata import parse_page
    entities, _next, _ = parse_page(data, where)
    for n, (ident, entity, deleted, stamp) in enumerate(entities, 1):
        yield RawRecord(identifier=ident or f"{where}#{n}", payload=entity, datestamp=stamp, deleted=deleted,
                        location=f"{where}, entity {n}")


register(Crosswalk("informea", extract, split, "InforMEA-style OData entities (documents, decisions, meetings, contacts, reports)"))
