"""raw record -> POPs record: the crosswalk's fields, plus identity, provenance, defaults and enrichment."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import crosswalks, enrich
from .dates import utcnow
from .raw import RawRecord
from .record import canonical, make_id, validate
from .textsafe import sanitise_strings


class MappingError(ValueError):
    """A record that could not be mapped; the message says why."""


class LoopDetected(MappingError):
    """A record that already passed through this node (A harvests B harvests A): skipped, never stored twice."""


@dataclass
class MapContext:
    node: str                                   # this node's id
    source: str                                 # the source's id
    defaults: dict = field(default_factory=dict)
    url: str = ""
    now: str = field(default_factory=lambda: utcnow())   # looked up when made, so a test can pin the clock


def _apply_defaults(rec: dict, defaults: dict) -> None:
    """Config defaults fill what the record lacks; they never overwrite what the source said."""
    for key, value in defaults.items():
        if key == "country":
            rec.setdefault("countries", [value.upper()])
        elif key == "countries":
            rec.setdefault("countries", [v.upper() for v in value])
        elif key == "type":
            rec.setdefault("type", str(value).replace("-", "_"))
        elif key == "language":
            rec.setdefault("languages", [value])
        elif key == "languages":
            rec.setdefault("languages", list(value))
        else:
            rec.setdefault(key, value)


def map_record(fmt: str | crosswalks.Crosswalk, raw: RawRecord, ctx: MapContext) -> dict:
    """The POPs record for a raw record; raises MappingError (with the reason) when it cannot be made."""
    cw = crosswalks.get(fmt) if isinstance(fmt, str) else fmt
    try:
        partial = cw.extract(raw)
    except MappingError:
        raise
    except Exception as exc:  # a crosswalk's failure on one record is that record's error, not the run's
        raise MappingError(f"{cw.name}: {type(exc).__name__}: {exc}") from exc
    partial = sanitise_strings(partial)   # the one text sanitiser of every way in, bundles included (textsafe)
    if cw.native:
        rec = canonical(partial)
        path = rec.get("path", [])
        own = path == [ctx.node] and rec.get("origin", {}).get("node") == ctx.node
        if ctx.node in path and not own:  # own: this node's records, published by a local system in native form
            raise LoopDetected(f"record {rec.get('id')} already passed through node {ctx.node} (path {' > '.join(path)})")
        if not own:
            rec["path"] = path + [ctx.node]
        rec["quality"] = _native_quality(rec)
        rec["dedup_key"] = enrich.dedup_key(rec)
    else:
        rec = canonical(partial)
        _apply_defaults(rec, ctx.defaults)
        if "title" not in rec:
            raise MappingError("record has no title")
        rec.setdefault("type", "information_exchange")
        rec["id"] = make_id(ctx.node, ctx.source, raw.identifier)
        rec["origin"] = canonical({"node": ctx.node, "source": ctx.source, "identifier": raw.identifier,
                                   "format": cw.name, "url": _public(ctx.url) or _public(raw.url)})
        rec["path"] = [ctx.node]
        rec["datestamp"] = raw.datestamp or rec.get("datestamp") or ctx.now
        rec["harvested"] = ctx.now
        rec = enrich.enrich(rec)
    try:
        return validate(canonical(rec))
    except ValueError as exc:
        raise MappingError(str(exc)) from exc


def _native_quality(rec: dict) -> dict:
    """A native record's completeness, scored here as every crosswalked record's is: a score sent by another
    node is never taken on trust (an older or an edited copy would score differently). What the origin's
    enrichment cut (`warnings`) is still true of the record, and kept."""
    score, missing = enrich.completeness(rec)
    warnings = (rec.get("quality") or {}).get("warnings")
    return {"completeness": round(score, 2), "missing": missing, **({"warnings": warnings} if warnings else {})}


def _public(url: str | None) -> str | None:
    """Only a web address is shown as a record's origin: a local file's path says nothing to a reader
    elsewhere and would expose how the node's disk is laid out."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://", "ftp://")) else None
