"""The node's OAI-PMH 2.0 data provider at /oai (GET and POST), over the record store.

`respond(params, store, cfg, base_url)` is the whole protocol as a pure function of the request's arguments
and the store; the FastAPI `router` only reads the request and writes the answer.

What it serves
--------------
- Identifiers: `oai:<node id>:<record id>`, the record id percent-encoded where it holds characters that
  cannot stand in a URI (`?`, `#`, `%`, `[`, `]`, non-ASCII, ...). A record harvested from another node keeps
  its origin id, so on node `ke` the record `tz:tz-moe:42` is `oai:ke:tz:tz-moe:42`. GetRecord and
  ListMetadataFormats take these identifiers.
- Datestamps: when THIS node last changed the record (the store's `changed` column), UTC, seconds
  granularity; `from`/`until` select on them (inclusive; day granularity accepted too). Lists run in the
  store's change order (`seq`).
- Formats: `pops` (the stored record as native XML, lossless: what nodes exchange) and `oai_dc` (derived:
  titles, descriptions and keywords per language, type label, chemicals as subjects, countries and regions
  as coverage, dates, links, languages, rights, publisher, creators).
- Sets: `type:<document type id>`, `country:<ISO 3166-1 alpha-2>`, `chemical:<chemical id>`,
  `source:<source id on this node>`, and their parents `type`, `country`, `chemical`, `source`. Names
  (English) come from the vocabularies and the config.
- Deletions: tombstones are listed with `status="deleted"` forever (deletedRecord = persistent).

Resumption tokens
-----------------
Stateless, so they survive a restart and need no session store: `<payload>.<signature>`, where payload is
base64url (no padding) of compact JSON and signature is base64url of the first 16 bytes of
HMAC-SHA256(key, "oai-token:1:" + payload). The key is random, made once and kept in the store's meta
table (`oai_token_key`): a forged or damaged token is a badResumptionToken, and a token stays valid as long
as the store. Payload of a record list:
    {"v": verb, "p": metadataPrefix, "s": set|null, "f": from|null, "u": until, "a": after_seq,
     "m": max_seq, "c": cursor, "n": completeListSize, "k": id of the next record}
`u` is the harvest's `until`, fixed at the first request's time when none was given, and `m` the highest
change sequence at that moment: records changed while a harvest pages through the list take a new sequence
number above `m`, so they are not listed twice nor make the list endless; their new datestamp is at or after
the first response's responseDate, so the next incremental harvest picks them up. `n` is counted at the
first request; records that leave the list meanwhile make it an upper bound, and the last page states the
exact total. ListSets tokens are {"v": "ListSets", "o": offset, "n": total}.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from lxml import etree
from starlette.concurrency import run_in_threadpool

from .. import popsxml, vocab
from ..dates import utcnow

PAGE_SIZE = 100                 # records (or sets) per list page; the router reads it at each request

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
TOKEN_KEY = "oai_token_key"     # meta table key of the resumption token HMAC key
_TOKEN_CONTEXT = b"oai-token:1:"
MAX_POST_BYTES = 64 * 1024

# verb -> (required arguments, optional arguments); resumptionToken is handled apart (exclusive)
VERBS = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
}
RESUMABLE = frozenset({"ListSets", "ListIdentifiers", "ListRecords"})
FORMATS = ("oai_dc", "pops")
PARENT_SETS = {"type": "Document types", "country": "Countries", "chemical": "POPs chemicals",
               "source": "Sources harvested by this node"}

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_SETSPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]*")
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ID_SAFE = "!$&'()*+,;=:@/-._~"  # RFC 3986 pchar and "/", except "%": everything else is percent-encoded


class OAIError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# ---------------------------------------------------------------- identifiers and small helpers

def oai_identifier(node_id: str, record_id: str) -> str:
    return f"oai:{node_id}:{quote(record_id, safe=_ID_SAFE)}"


def record_id_of(node_id: str, identifier: str) -> str | None:
    """The record id an OAI identifier of this node names, None when it is not one of this node's."""
    prefix = f"oai:{node_id}:"
    if not identifier.startswith(prefix) or len(identifier) == len(prefix):
        return None
    return unquote(identifier[len(prefix):], errors="strict") if "%" in identifier else identifier[len(prefix):]


def _xml_text(s: str) -> str:
    """Text as XML can carry it: characters XML 1.0 forbids (control characters, lone surrogates) dropped."""
    return _NOT_XML.sub("", s)


def _shown(value: str, limit: int = 80) -> str:
    value = _xml_text(value)
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _xml_safe_record(value):
    if isinstance(value, dict):
        return {k: _xml_safe_record(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_xml_safe_record(v) for v in value]
    return _xml_text(value) if isinstance(value, str) else value


def _sub(parent, tag: str, text=None, attrib: dict | None = None):
    el = etree.SubElement(parent, tag, attrib or {})
    if text is not None:
        el.text = _xml_text(str(text))
    return el


def _o(tag: str) -> str:
    return f"{{{OAI_NS}}}{tag}"


# ---------------------------------------------------------------- resumption tokens

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_key(store) -> bytes:
    """The store's HMAC key for resumption tokens, made on first use (the first writer wins a race)."""
    key = store.meta(TOKEN_KEY)
    if key is None:
        store.db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (TOKEN_KEY, secrets.token_hex(32)))
        key = store.meta(TOKEN_KEY)
    return bytes.fromhex(key)


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, _TOKEN_CONTEXT + payload.encode("ascii"), hashlib.sha256).digest()[:16])


def encode_token(key: bytes, state: dict) -> str:
    payload = _b64(json.dumps(state, separators=(",", ":"), ensure_ascii=True).encode("ascii"))
    return f"{payload}.{_sign(key, payload)}"


def decode_token(key: bytes, token: str, verb: str) -> dict:
    """The state a token carries; OAIError badResumptionToken when it is not one this store signed for the verb."""
    bad = OAIError("badResumptionToken", "the resumptionToken is invalid (not issued by this repository, or damaged)")
    payload, dot, sig = token.partition(".")
    if not dot or not payload or not sig or len(token) > 8192 or not token.isascii():
        raise bad
    if not hmac.compare_digest(sig.encode("ascii"), _sign(key, payload).encode("ascii")):
        raise bad
    try:
        state = json.loads(_unb64(payload))
    except (ValueError, binascii.Error):
        raise bad from None
    if not isinstance(state, dict) or state.get("v") != verb:
        raise OAIError("badResumptionToken", f"the resumptionToken does not belong to a {verb} request")
    return state


# ---------------------------------------------------------------- arguments

def _parse_args(params: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
    verbs = params.get("verb") or []
    if not verbs:
        raise OAIError("badVerb", "the verb argument is missing")
    if len(verbs) > 1:
        raise OAIError("badVerb", "the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise OAIError("badVerb", f"{_shown(verb)} is not an OAI-PMH verb")
    required, optional = VERBS[verb]
    allowed = required | optional | ({"resumptionToken"} if verb in RESUMABLE else set())
    args: dict[str, str] = {}
    for name, values in params.items():
        if name == "verb":
            continue
        if name not in allowed:
            raise OAIError("badArgument", f"{_shown(name)} is not an argument of {verb}")
        if len(values) != 1:
            raise OAIError("badArgument", f"the argument {name} is repeated")
        if values[0] == "":
            raise OAIError("badArgument", f"the argument {name} is empty")
        args[name] = values[0]
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OAIError("badArgument", "resumptionToken is an exclusive argument: give it alone with the verb")
        return verb, args
    missing = sorted(required - set(args))
    if missing:
        raise OAIError("badArgument", f"{verb} needs the argument{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if "metadataPrefix" in args and not _PREFIX.fullmatch(args["metadataPrefix"]):
        raise OAIError("badArgument", f"metadataPrefix {_shown(args['metadataPrefix'])} is not a legal metadata prefix")
    if "set" in args and not _SETSPEC.fullmatch(args["set"]):
        raise OAIError("badArgument", f"set {_shown(args['set'])} is not a legal setSpec")
    return verb, args


def _parse_date(value: str, name: str) -> tuple[str, str]:
    """(UTC seconds datestamp, granularity) of a from/until argument; a day's until is its last second."""
    try:
        if _DAY.fullmatch(value):
            datetime.strptime(value, "%Y-%m-%d")
            return value + ("T00:00:00Z" if name == "from" else "T23:59:59Z"), "day"
        if _SECONDS.fullmatch(value):
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            return value, "seconds"
    except ValueError:
        pass
    raise OAIError("badArgument", f"{name}={_shown(value)} is not a UTC datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)")


def _dates(args: dict) -> tuple[str | None, str | None]:
    start = end = None
    grains = set()
    if "from" in args:
        start, g = _parse_date(args["from"], "from")
        grains.add(g)
    if "until" in args:
        end, g = _parse_date(args["until"], "until")
        grains.add(g)
    if len(grains) > 1:
        raise OAIError("badArgument", "from and until must have the same granularity")
    if start and end and start > end:
        raise OAIError("badArgument", "from is later than until")
    return start, end


# ---------------------------------------------------------------- sets

def _set_clause(spec: str | None) -> tuple[str, list] | None:
    """SQL condition (and its arguments) selecting a set's records; None for a set that does not exist."""
    if spec is None or spec in ("type", "source"):
        return "", []
    if spec == "country":
        return " AND json_array_length(records.record, '$.countries') > 0", []
    if spec == "chemical":
        return " AND json_array_length(records.record, '$.chemicals') > 0", []
    family, _, value = spec.partition(":")
    if not value or ":" in value:
        return None
    if family == "type":
        return " AND json_extract(records.record, '$.type') = ?", [value]
    if family == "source":
        return " AND records.source = ?", [value]
    if family in ("country", "chemical"):
        field = "countries" if family == "country" else "chemicals"
        return f" AND EXISTS (SELECT 1 FROM json_each(records.record, '$.{field}') WHERE json_each.value = ?)", [value]
    return None


def record_sets(source: str, record: dict | None) -> list[str]:
    """The leaf sets a record belongs to (its membership of the parent sets follows)."""
    out = []
    if record and record.get("type"):
        out.append(f"type:{record['type']}")
    out += [f"country:{c}" for c in (record or {}).get("countries", [])]
    out += [f"chemical:{c}" for c in (record or {}).get("chemicals", [])]
    out.append(f"source:{source}")
    return [s for s in out if _SETSPEC.fullmatch(s)]


def all_sets(store, cfg) -> list[tuple[str, str, dict]]:
    """(setSpec, English setName, names by language) of every set, parents first in each family."""
    out: list[tuple[str, str, dict]] = [("type", PARENT_SETS["type"], {})]
    for tid, entry in vocab.document_types().items():
        out.append((f"type:{tid}", entry["labels"].get("en") or tid, entry["labels"]))
    out.append(("country", PARENT_SETS["country"], {}))
    for cc, entry in vocab.countries().items():
        out.append((f"country:{cc}", entry["names"].get("en") or cc, entry["names"]))
    out.append(("chemical", PARENT_SETS["chemical"], {}))
    for cid, entry in vocab.chemicals().items():
        out.append((f"chemical:{cid}", entry["names"].get("en") or cid, entry["names"]))
    out.append(("source", PARENT_SETS["source"], {}))
    names = {s["id"]: s.get("name") or s["id"] for s in cfg.sources}
    for sid in sorted(set(names) | set(store.sources())):
        out.append((f"source:{sid}", names.get(sid) or f"Source {sid}", {}))
    return [s for s in out if _SETSPEC.fullmatch(s[0])]


# ---------------------------------------------------------------- oai_dc

def _languages_of(record: dict) -> list[str]:
    """The languages labels are given in: English, then the record's own languages (primary subtags)."""
    langs = ["en", *record.get("languages", []), *record.get("title", {}), *record.get("description", {})]
    return [lang for lang in dict.fromkeys(lang.split("-")[0] for lang in langs) if lang != "und"]


def oai_dc_element(record: dict) -> etree._Element:
    """Simple Dublin Core for generic harvesters, derived from the POPs record (lossy by nature)."""
    dc = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    dc.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")

    def add(name: str, text, lang: str | None = None):
        if text is None or not str(text).strip():
            return
        _sub(dc, f"{{{DC_NS}}}{name}", text, {XML_LANG: lang} if lang else None)

    def labelled(kind: str, ids, name: str, langs):
        for i in ids:
            seen = set()
            for lang in langs:
                text = vocab.label(kind, i, lang)
                if text and text not in seen:
                    seen.add(text)
                    add(name, text, lang)

    langs = _languages_of(record)
    for lang, text in record.get("title", {}).items():
        add("title", text, lang)
    for creator in record.get("creators", []):
        add("creator", creator)
    for lang, texts in record.get("keywords", {}).items():
        for text in texts:
            add("subject", text, lang)
    labelled("chemicals", record.get("chemicals", []), "subject", langs)
    for lang, text in record.get("description", {}).items():
        add("description", text, lang)
    add("publisher", record.get("publisher"))
    provider = record.get("assistance", {}).get("provider")
    if provider and provider != record.get("publisher"):
        add("contributor", provider)
    dates = record.get("dates", {})
    stated = [dates[k] for k in ("issued", "created", "modified") if k in dates]
    for d in dict.fromkeys(stated or ([str(record["year"])] if "year" in record else [])):
        add("date", d)
    labelled("document_types", [record["type"]] if "type" in record else [], "type", langs)
    for fmt in dict.fromkeys(link["format"] for link in record.get("links", []) if link.get("format")):
        add("format", fmt)
    for link in sorted(record.get("links", []), key=lambda lk: lk.get("rel") != "landing"):
        add("relation" if link.get("rel") in ("service", "related") else "identifier", link["url"])
    for lang in record.get("languages", []):
        add("language", lang)
    labelled("countries", record.get("countries", []), "coverage", ["en"])
    labelled("regions", record.get("regions", []), "coverage", ["en"])
    add("rights", record.get("rights"))
    return dc


def pops_element(record: dict) -> etree._Element:
    try:
        return popsxml.to_element(record)
    except ValueError:   # a character XML cannot carry: dropped, the rest goes as it is
        return popsxml.to_element(_xml_safe_record(record))


# ---------------------------------------------------------------- the provider

class Provider:
    """One request's context: the store, the config, the base URL and the page size."""

    def __init__(self, store, cfg, base_url: str, page_size: int):
        self.store, self.cfg, self.base_url, self.page_size = store, cfg, base_url, max(1, int(page_size))
        self.node_id = cfg.node["id"]
        self.now = utcnow()

    # ------------------------------------------------------------ verbs

    def identify(self, root, args):
        ident = _sub(root, _o("Identify"))
        _sub(ident, _o("repositoryName"), self.cfg.node.get("name") or f"POPs clearing-house node {self.node_id}")
        _sub(ident, _o("baseURL"), self.base_url)
        _sub(ident, _o("protocolVersion"), "2.0")
        _sub(ident, _o("adminEmail"), self._admin_email())
        earliest = self.store.db.execute("SELECT MIN(changed) FROM records").fetchone()[0]
        _sub(ident, _o("earliestDatestamp"), earliest or self.now)
        _sub(ident, _o("deletedRecord"), "persistent")
        _sub(ident, _o("granularity"), GRANULARITY)
        desc = oai_dc_element({})
        for name, text in (("title", self.cfg.node.get("name")),
                           ("description", f"Stockholm Convention POPs clearing-house node {self.node_id!r}"
                                           f" ({self.cfg.node.get('role', 'country')} node). OAI identifiers are "
                                           f"oai:{self.node_id}:<record id>, the record id percent-encoded where "
                                           "it holds characters a URI cannot; a record keeps its origin id on "
                                           "every node. Formats: pops (native, lossless) and oai_dc. Sets: "
                                           "type:<id>, country:<ISO 3166-1 alpha-2>, chemical:<id>, source:<id>."),
                           ("identifier", self.node_id),
                           ("coverage", vocab.label("countries", self.cfg.node.get("country") or "")),
                           ("type", "Collection")):
            if text:
                _sub(desc, f"{{{DC_NS}}}{name}", text)
        _sub(ident, _o("description")).append(desc)

    def list_metadata_formats(self, root, args):
        if "identifier" in args:
            row = self._row(args["identifier"])
            if row["record"] is None and not row["deleted"]:
                raise OAIError("noMetadataFormats", "the item has no metadata to disseminate")
        lmf = _sub(root, _o("ListMetadataFormats"))
        for prefix in FORMATS:
            schema, ns = self._format(prefix)
            fmt = _sub(lmf, _o("metadataFormat"))
            _sub(fmt, _o("metadataPrefix"), prefix)
            _sub(fmt, _o("schema"), schema)
            _sub(fmt, _o("metadataNamespace"), ns)

    def list_sets(self, root, args):
        sets = all_sets(self.store, self.cfg)
        offset = 0
        if "resumptionToken" in args:
            state = decode_token(token_key(self.store), args["resumptionToken"], "ListSets")
            offset = state.get("o")
            if not isinstance(offset, int) or not 0 < offset < len(sets):
                raise OAIError("badResumptionToken", "the resumptionToken is invalid (the list of sets changed)")
        page = sets[offset: offset + self.page_size]
        ls = _sub(root, _o("ListSets"))
        for spec, name, names in page:
            s = _sub(ls, _o("set"))
            _sub(s, _o("setSpec"), spec)
            _sub(s, _o("setName"), name)
            if names:
                dc = oai_dc_element({})
                for lang, text in names.items():
                    if text:
                        _sub(dc, f"{{{DC_NS}}}title", text, {XML_LANG: lang})
                _sub(s, _o("setDescription")).append(dc)
        nxt = offset + len(page)
        if nxt < len(sets):
            self._token(ls, encode_token(token_key(self.store), {"v": "ListSets", "o": nxt, "n": len(sets)}),
                        len(sets), offset)
        elif offset:
            self._token(ls, "", len(sets), offset)

    def get_record(self, root, args):
        row = self._row(args["identifier"])
        self._check_prefix(args["metadataPrefix"])
        self._record(_sub(root, _o("GetRecord")), row, args["metadataPrefix"], with_metadata=True)

    def list_records(self, root, args, verb: str):
        key = token_key(self.store)
        if "resumptionToken" in args:
            q = decode_token(key, args["resumptionToken"], verb)
            q = self._checked_state(q)
        else:
            self._check_prefix(args["metadataPrefix"])
            start, end = _dates(args)
            q = {"v": verb, "p": args["metadataPrefix"], "s": args.get("set"), "f": start,
                 "u": end or self.now, "a": 0, "m": self.store.max_seq(), "c": 0, "n": None, "k": None}
        clause = _set_clause(q["s"])
        if clause is None:
            raise OAIError("noRecordsMatch", f"there is no set {q['s']!r}")
        first = "resumptionToken" not in args
        if first:
            where, wargs = self._where(q, clause, use_index=True)
            q["n"] = self.store.db.execute(f"SELECT COUNT(*) FROM records WHERE seq > ?{where}",
                                           [q["a"], *wargs]).fetchone()[0]
            if not q["n"]:
                raise OAIError("noRecordsMatch", "no records match the arguments")
        # the page walks the change sequence: "+changed" keeps SQLite from choosing the datestamp index instead
        where, wargs = self._where(q, clause, use_index=False)
        rows = self.store.db.execute(
            f"SELECT id, source, changed, seq, deleted, record FROM records WHERE seq > ?{where} "
            "ORDER BY seq LIMIT ?", [q["a"], *wargs, self.page_size + 1]).fetchall()
        if not rows and q.get("k"):
            # every record left in the list changed after the harvest began; the next one (named in the
            # token) was not listed yet, so it closes the list rather than an empty page
            row = self.store.db.execute("SELECT id, source, changed, seq, deleted, record FROM records WHERE id=?",
                                        (q["k"],)).fetchone()
            rows = [row] if row is not None else []
        if not rows:
            raise OAIError("noRecordsMatch", "no records are left in this list: they all changed since it began")
        page, more = rows[: self.page_size], len(rows) > self.page_size
        out = _sub(root, _o(verb))
        for row in page:
            self._record(out, row, q["p"], with_metadata=verb == "ListRecords")
        cursor = q["c"]
        if more:
            nxt = dict(q, a=page[-1]["seq"], c=cursor + len(page), n=max(q["n"], cursor + len(page) + 1),
                       k=rows[self.page_size]["id"])
            self._token(out, encode_token(key, nxt), nxt["n"], cursor)
        elif not first:
            self._token(out, "", cursor + len(page), cursor)

    # ------------------------------------------------------------ helpers

    def _checked_state(self, q: dict) -> dict:
        types = {"p": str, "u": str, "a": int, "m": int, "c": int, "n": int}
        if any(not isinstance(q.get(k), t) for k, t in types.items()) or q["p"] not in FORMATS:
            raise OAIError("badResumptionToken", "the resumptionToken is invalid")
        for k in ("s", "f", "k"):
            if q.get(k) is not None and not isinstance(q[k], str):
                raise OAIError("badResumptionToken", "the resumptionToken is invalid")
        return q

    @staticmethod
    def _where(q: dict, clause: tuple[str, list], use_index: bool) -> tuple[str, list]:
        col = "changed" if use_index else "+changed"
        where, args = " AND seq <= ?", [q["m"]]
        if q.get("f"):
            where += f" AND {col} >= ?"
            args.append(q["f"])
        where += f" AND {col} <= ?"
        args.append(q["u"])
        return where + clause[0], args + clause[1]

    def _record(self, parent, row, prefix: str, with_metadata: bool):
        record = json.loads(row["record"]) if row["record"] else None
        target = _sub(parent, _o("record")) if with_metadata else parent
        header = _sub(target, _o("header"), attrib={"status": "deleted"} if row["deleted"] else None)
        _sub(header, _o("identifier"), oai_identifier(self.node_id, row["id"]))
        _sub(header, _o("datestamp"), row["changed"])
        for spec in record_sets(row["source"], record):
            _sub(header, _o("setSpec"), spec)
        if with_metadata and not row["deleted"]:
            if record is None:   # no metadata to give: GetRecord says so, a list gives the header alone
                if parent.tag == _o("GetRecord"):
                    raise OAIError("cannotDisseminateFormat", f"record {row['id']!r} has no metadata")
                return
            el = pops_element(record) if prefix == "pops" else oai_dc_element(record)
            _sub(target, _o("metadata")).append(el)

    def _row(self, identifier: str):
        rid = None
        try:
            rid = record_id_of(self.node_id, identifier)
        except UnicodeDecodeError:
            pass
        row = self.store.db.execute("SELECT id, source, changed, seq, deleted, record FROM records WHERE id=?",
                                    (rid,)).fetchone() if rid else None
        if row is None:
            raise OAIError("idDoesNotExist", f"no item {_shown(identifier, 200)} in this repository "
                                             f"(identifiers are oai:{self.node_id}:<record id>)")
        return row

    def _check_prefix(self, prefix: str):
        if prefix not in FORMATS:
            raise OAIError("cannotDisseminateFormat", f"metadataPrefix {_shown(prefix)} is not supported "
                                                      f"(supported: {', '.join(FORMATS)})")

    def _format(self, prefix: str) -> tuple[str, str]:
        if prefix == "pops":
            return f"{self.base_url.rstrip('/')}/schemas/pops.xsd", popsxml.NS
        return OAI_DC_SCHEMA, OAI_DC_NS

    def _token(self, parent, token: str, size: int, cursor: int):
        _sub(parent, _o("resumptionToken"), token or None,
             {"completeListSize": str(size), "cursor": str(cursor)})

    def _admin_email(self) -> str:
        email = self.cfg.node.get("admin_email") or self.cfg.node.get("email") or self.cfg.data.get("admin_email")
        if email:
            return email
        host = urlsplit(self.cfg.node.get("url") or self.base_url).hostname or "localhost"
        return f"oai-admin@{host if '.' in host else host + '.invalid'}"


def _valid_echo(name: str, value: str) -> bool:
    if _NOT_XML.search(value):
        return False
    if name == "identifier":
        return bool(_URI.fullmatch(value))
    if name in ("from", "until"):
        return bool(_DAY.fullmatch(value) or _SECONDS.fullmatch(value))
    if name == "set":
        return bool(_SETSPEC.fullmatch(value))
    if name == "metadataPrefix":
        return bool(_PREFIX.fullmatch(value))
    return True


def respond(params: dict[str, list[str]], store, cfg, base_url: str, *, page_size: int | None = None) -> tuple[int, bytes]:
    """The OAI-PMH response (HTTP status, XML bytes) to a request's arguments (name -> every value given).

    Protocol errors are OAI-PMH error responses with HTTP 200, as the protocol asks."""
    provider = Provider(store, cfg, base_url, page_size or PAGE_SIZE)
    root = etree.Element(_o("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    _sub(root, _o("responseDate"), provider.now)
    request = _sub(root, _o("request"), base_url)
    verb, args = None, {}
    try:
        verb, args = _parse_args(params)
        handler = {"Identify": provider.identify, "ListMetadataFormats": provider.list_metadata_formats,
                   "ListSets": provider.list_sets, "GetRecord": provider.get_record}.get(verb)
        body = etree.Element("body")
        if handler:
            handler(body, args)
        else:
            provider.list_records(body, args, verb)
    except OAIError as err:
        if err.code not in ("badVerb", "badArgument"):
            _echo(request, verb, args)
        _sub(root, _o("error"), err.message, {"code": err.code})
    else:
        _echo(request, verb, args)
        root.extend(list(body))
    return 200, etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _echo(request, verb: str | None, args: dict):
    if verb:
        request.set("verb", verb)
    for name, value in args.items():
        if _valid_echo(name, value):
            request.set(name, value)


def params_of(pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


# ---------------------------------------------------------------- HTTP

router = APIRouter(tags=["oai-pmh"])
_SCHEMA_FILES = {"pops.xsd", "xml.xsd"}


_DOC = """OAI-PMH 2.0: verbs Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord;
formats `pops` (native, lossless) and `oai_dc`; identifiers `oai:<node id>:<record id>`; sets `type:<id>`,
`country:<code>`, `chemical:<id>`, `source:<id>`. Protocol errors are OAI-PMH error responses (HTTP 200)."""
_XML = {200: {"content": {"text/xml": {}}, "description": "An OAI-PMH response"}}


@router.get("/oai", summary="OAI-PMH 2.0 data provider", description=_DOC, operation_id="oai_get",
            response_class=Response, responses=_XML)
async def oai_get(request: Request):
    return await _oai(request)


@router.post("/oai", summary="OAI-PMH 2.0 data provider (form-encoded arguments)", description=_DOC,
             operation_id="oai_post", response_class=Response, responses=_XML)
async def oai_post(request: Request):
    return await _oai(request)


async def bounded_body(request: Request, limit: int, what: str) -> bytes:
    """A POST body read up to `limit` bytes; a longer one is refused (413) before it is all received."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"{what} request body is at most {limit} bytes")
    return body


async def _oai(request: Request) -> Response:
    """Arguments from the query string (GET) or the form-encoded body (POST), answered in a worker thread."""
    if request.method == "POST":
        body = await bounded_body(request, MAX_POST_BYTES, "an OAI-PMH")
        try:
            text = body.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True) if text else list(request.query_params.multi_items())
        except UnicodeDecodeError:
            pairs = [("verb", "\ufffd")]  # answered as badVerb/badArgument like any unreadable request
    else:
        pairs = list(request.query_params.multi_items())
    state = request.app.state.node
    base_url = str(request.url.replace(query="", fragment=""))
    status, xml = await run_in_threadpool(
        lambda: respond(params_of(pairs), state.store(), state.cfg, base_url))
    return Response(xml, status_code=status, media_type="text/xml; charset=utf-8")


@router.get("/oai/schemas/{name}", summary="XML Schema of the native pops format", include_in_schema=False)
def oai_schema(name: str):
    from ..schemas import SCHEMAS_DIR
    if name not in _SCHEMA_FILES:
        raise HTTPException(404, f"no schema {name!r}")
    return Response((SCHEMAS_DIR / name).read_bytes(), media_type="application/xml")
