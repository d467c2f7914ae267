"""A real OAI-PMH 2.0 data provider on 127.0.0.1 for tests and benchmarks, that can be told to misbehave.

    from tests.oaiserver import OAIServer, make_records, Fault, http_503

    with OAIServer(make_records(95), page_size=10, faults=[http_503(on_pages={2}, times=1)]) as srv:
        Sickle(srv.url, max_retries=2).ListRecords(metadataPrefix="oai_dc")   # 95 records, one retry
        srv.requests      # every query received, as dicts (a repeated key maps to a list of values)
        srv.stats         # requests, verbs, OAI errors answered, faults actually injected

The server is a stdlib `ThreadingHTTPServer` in a daemon thread, bound to 127.0.0.1 on an ephemeral port,
speaking HTTP/1.1 (keep-alive) with GET and POST (application/x-www-form-urlencoded) on `srv.url`
(".../oai"). `GET /_stats` answers the stats as JSON (useful when the server runs in another process:
`python -m tests.oaiserver --records 1000000`).

Records
-------
A `ServedRecord(identifier, datestamp, sets, deleted, metadata)` carries its metadata as ready XML strings,
one per metadata prefix (the element that goes inside <metadata>). Records come from a `RecordSource`:
  - `ListSource(records)`: a list, mutable between requests (`add`, `put`, `update`, `delete` leaves a
    tombstone, `remove` drops the record without one). `OAIServer(list_of_records)` wraps a list in one,
    and the server delegates `add/put/update/delete/remove` to it.
  - `GeneratedSource(n, ...)`: n realistic POPs documents computed on demand from their index, so a
    benchmark serves 1,000,000 records without holding them; `from/until` and `set` are answered by
    arithmetic. `extend(k)` appends k newer records.
`make_records(n, ...)` returns the same records as `GeneratedSource(n, ...)`, as a list.
Generated oai_dc records cycle through 6 languages (en, fr, es, ru, zh, ar), 11 chemicals (PCB, DDT,
dioxins, furans, HCB, lindane, PFOS, endosulfan, chlordane, mirex, heptachlor), 7 document types and
13 countries; they belong to the sets "chemical:<code>" and "type:<code>" (parents "chemical", "type").
Other metadata formats can be generated after `register_format(prefix, schema, namespace, writer)`.

Protocol
--------
Identify (granularity "seconds" or "day", deletedRecord, earliestDatestamp), ListMetadataFormats, ListSets,
ListIdentifiers, ListRecords, GetRecord. `from`/`until` are inclusive at the declared granularity; a value
finer than it, unparsable, of mixed granularities or with from > until is a badArgument. Resumption tokens
are opaque (base64 of the verb, the original arguments and the offset); every page of a split list carries
`completeListSize` and `cursor` (offset of its first record); the last page has an empty token. Errors:
badVerb, badArgument, cannotDisseminateFormat, idDoesNotExist, noRecordsMatch, badResumptionToken,
noSetHierarchy, noMetadataFormats. Lists page by offset, so changing the records between pages shifts
them, as it does on many real providers.

Faults
------
`Fault(kind, *, on_requests=None, on_pages=None, probability=None, seed=None, times=None, verbs=None, **params)`
Triggers (all given conditions must hold; with none given, the fault fires on every eligible request):
  on_requests  set of request numbers (1-based, counting every request to the OAI path, retries included)
  on_pages     set of page numbers of a list (1 = the first request, k = cursor // page_size + 1);
               a retried page is the same page again, so combine with `times` to fail it only once
  probability  fire with this probability on each eligible request, drawn from random.Random(seed)
  times        fire at most this many times in all
  verbs        only for these verbs
Kinds, their parameters and when they are eligible:
  http_503(retry_after=1)        any request: HTTP 503 with "Retry-After: <retry_after>" (None: no header)
  http_500()                     any request: HTTP 500
  slow(seconds)                  any request: sleep before answering, then answer normally
  drop_connection(fraction=0.5, before_headers=False)
                                 any request: send the headers (with the full Content-Length) and that
                                 fraction of the body, then close the socket; or close before any byte
  malformed_page(mode="cut", record=None)
                                 pages with records (ListRecords, ListIdentifiers, GetRecord); `record` is
                                 the index of the damaged record in the page (default: the middle one):
                                 "cut" ends the body in the middle of that record; "control_char" puts
                                 U+000B in its text; "bad_byte" puts byte 0xFF (not UTF-8) there;
                                 "noncharacter" puts U+FFFE there; "undefined_entity" puts &nbsp; there
  bad_resumption_token(times=1)  requests carrying a valid token: answer badResumptionToken
  duplicate_across_pages()       list pages after the first: the record before the page's first one (the
                                 last of the previous page) is repeated at its start
  truncated_page(keep=None)      list pages that are not the last: a well-formed page holding only `keep`
                                 records (default half of them), with the token to the next page as usual,
                                 so the records in between are never served
  wrong_granularity_datestamps(style="swap")
                                 responses with headers: "swap" writes day datestamps when the repository
                                 declares seconds and seconds when it declares days; "fractional" writes
                                 "...T12:00:00.000Z"; "offset" writes "...T14:00:00+02:00"
`srv.stats.faults` counts injections per kind and `srv.stats.injected` lists (request number, kind).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import json
import random
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable, Iterator, Mapping, Protocol, Sequence, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

UTC = timezone.utc
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

DEFAULT_START = datetime(2020, 1, 1, tzinfo=UTC)
LANGUAGES = ("en", "fr", "es", "ru", "zh", "ar")


# --------------------------------------------------------------------------- records

def _utc(dt: datetime) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"datestamp must be a datetime, not {type(dt).__name__}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class ServedRecord:
    """One item of the repository. `metadata` maps a prefix to the XML of the element inside <metadata>;
    a deleted record needs none. A naive datestamp is taken as UTC."""
    identifier: str
    datestamp: datetime
    sets: tuple[str, ...] = ()
    deleted: bool = False
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.datestamp = _utc(self.datestamp)
        self.sets = tuple(self.sets)
        self.metadata = dict(self.metadata)

    def has_format(self, prefix: str) -> bool:
        return self.deleted or prefix in self.metadata


@dataclass(frozen=True)
class Query:
    """The selection of a list request: metadata prefix, set spec, [from_, until) in UTC."""
    prefix: str | None = None
    set: str | None = None
    from_: datetime | None = None    # inclusive
    until: datetime | None = None    # exclusive

    def matches(self, rec: ServedRecord) -> bool:
        if self.prefix is not None and not rec.has_format(self.prefix):
            return False
        if self.from_ is not None and rec.datestamp < self.from_:
            return False
        if self.until is not None and rec.datestamp >= self.until:
            return False
        if self.set is not None and not any(in_set(s, self.set) for s in rec.sets):
            return False
        return True


def in_set(record_spec: str, wanted: str) -> bool:
    """A record in "a:b:c" is also in its parent sets "a:b" and "a"."""
    return record_spec == wanted or record_spec.startswith(wanted + ":")


@runtime_checkable
class RecordSource(Protocol):
    """Where the server's records come from; lists are read page by page, never all at once."""

    def count(self, query: Query) -> int: ...

    def page(self, query: Query, offset: int, limit: int) -> list[ServedRecord]: ...

    def get(self, identifier: str) -> ServedRecord | None: ...

    def prefixes(self) -> list[str]: ...

    def set_names(self) -> dict[str, str]: ...

    def earliest(self) -> datetime | None: ...


class ListSource:
    """Records held in a list, in insertion order; safe to change while the server runs."""

    def __init__(self, records: Iterable[ServedRecord] = ()):
        self._lock = threading.RLock()
        self._records: list[ServedRecord] = []
        self._pos: dict[str, int] = {}
        self._prefixes: dict[str, None] = {}
        self._version = 0
        self._cache: dict[Query, list[int]] = {}
        self._cache_version = -1
        for rec in records:
            self.add(rec)

    def __len__(self) -> int:
        return len(self._records)

    @property
    def records(self) -> list[ServedRecord]:
        with self._lock:
            return list(self._records)

    def _changed(self):
        self._version += 1

    def add(self, record: ServedRecord) -> ServedRecord:
        with self._lock:
            if record.identifier in self._pos:
                raise ValueError(f"duplicate identifier {record.identifier!r}")
            self._pos[record.identifier] = len(self._records)
            self._records.append(record)
            self._prefixes.update(dict.fromkeys(record.metadata))
            self._changed()
            return record

    def put(self, record: ServedRecord) -> ServedRecord:
        """Add the record, or replace the one with its identifier in place."""
        with self._lock:
            i = self._pos.get(record.identifier)
            if i is None:
                return self.add(record)
            self._records[i] = record
            self._prefixes.update(dict.fromkeys(record.metadata))
            self._changed()
            return record

    def update(self, identifier: str, *, datestamp: datetime | None = None, **changes) -> ServedRecord:
        """Change fields of a record (metadata=, sets=, deleted=); its datestamp becomes `datestamp` or now."""
        with self._lock:
            old = self._get(identifier)
            return self.put(replace(old, datestamp=_utc(datestamp) if datestamp else _now(), **changes))

    def delete(self, identifier: str, datestamp: datetime | None = None) -> ServedRecord:
        """Turn the record into a tombstone (status="deleted") with a new datestamp."""
        return self.update(identifier, datestamp=datestamp, deleted=True, metadata={})

    def remove(self, identifier: str) -> ServedRecord:
        """Drop the record without a trace (a repository with deletedRecord "no" or "transient")."""
        with self._lock:
            old = self._get(identifier)
            del self._records[self._pos.pop(identifier)]
            self._pos = {r.identifier: i for i, r in enumerate(self._records)}
            self._changed()
            return old

    def _get(self, identifier: str) -> ServedRecord:
        i = self._pos.get(identifier)
        if i is None:
            raise KeyError(identifier)
        return self._records[i]

    def _matching(self, query: Query) -> list[int]:
        if self._cache_version != self._version or len(self._cache) > 64:
            self._cache = {}
            self._cache_version = self._version
        hit = self._cache.get(query)
        if hit is None and query.prefix is not None and query.prefix not in self._prefixes:
            hit = self._cache[query] = []           # tombstones are listed only under a format served
        if hit is None:
            hit = self._cache[query] = [i for i, r in enumerate(self._records) if query.matches(r)]
        return hit

    def count(self, query: Query) -> int:
        with self._lock:
            return len(self._matching(query))

    def page(self, query: Query, offset: int, limit: int) -> list[ServedRecord]:
        with self._lock:
            return [self._records[i] for i in self._matching(query)[offset:offset + limit]]

    def get(self, identifier: str) -> ServedRecord | None:
        with self._lock:
            i = self._pos.get(identifier)
            return None if i is None else self._records[i]

    def prefixes(self) -> list[str]:
        with self._lock:
            return list(self._prefixes)

    def set_names(self) -> dict[str, str]:
        with self._lock:
            specs: dict[str, str] = {}
            for rec in self._records:
                for spec in rec.sets:
                    parts = spec.split(":")
                    for k in range(1, len(parts) + 1):
                        specs.setdefault(":".join(parts[:k]), ":".join(parts[:k]))
            return dict(sorted(specs.items()))

    def earliest(self) -> datetime | None:
        with self._lock:
            return min((r.datestamp for r in self._records), default=None)


# --------------------------------------------------------------------------- generated POPs documents

@dataclass(frozen=True)
class Term:
    code: str
    names: dict[str, str]          # language -> label
    cas: str | None = None

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


def _term(code, en, fr, es, ru, zh, ar, cas=None) -> Term:
    return Term(code, dict(en=en, fr=fr, es=es, ru=ru, zh=zh, ar=ar), cas)


CHEMICALS = (
    _term("pcb", "polychlorinated biphenyls (PCB)", "polychlorobiphényles (PCB)", "bifenilos policlorados (PCB)",
          "полихлорированные бифенилы (ПХБ)", "多氯联苯 (PCB)", "ثنائيات الفينيل متعددة الكلور", "1336-36-3"),
    _term("ddt", "DDT", "DDT", "DDT", "ДДТ", "滴滴涕 (DDT)", "مبيد دي.دي.تي", "50-29-3"),
    _term("dioxins", "polychlorinated dibenzo-p-dioxins (dioxins)", "dioxines", "dioxinas", "диоксины",
          "二噁英", "الديوكسينات"),
    _term("furans", "polychlorinated dibenzofurans (furans)", "furannes", "furanos", "фураны", "呋喃",
          "الفيورانات"),
    _term("hcb", "hexachlorobenzene (HCB)", "hexachlorobenzène (HCB)", "hexaclorobenceno (HCB)",
          "гексахлорбензол (ГХБ)", "六氯苯", "سداسي كلور البنزين", "118-74-1"),
    _term("lindane", "lindane", "lindane", "lindano", "линдан", "林丹", "الليندين", "58-89-9"),
    _term("pfos", "perfluorooctane sulfonic acid (PFOS)", "acide perfluorooctane sulfonique (PFOS)",
          "ácido perfluorooctano sulfónico (PFOS)", "перфтороктановый сульфонат (ПФОС)", "全氟辛烷磺酸 (PFOS)",
          "حمض السلفونيك البيرفلوروكتاني", "1763-23-1"),
    _term("endosulfan", "technical endosulfan", "endosulfan technique", "endosulfán de grado técnico",
          "технический эндосульфан", "工业硫丹", "الإندوسلفان التقني", "115-29-7"),
    _term("chlordane", "chlordane", "chlordane", "clordano", "хлордан", "氯丹", "الكلوردان", "57-74-9"),
    _term("mirex", "mirex", "mirex", "mirex", "мирекс", "灭蚁灵", "الميركس", "2385-85-5"),
    _term("heptachlor", "heptachlor", "heptachlore", "heptacloro", "гептахлор", "七氯", "الهيبتاكلور", "76-44-8"),
)

DOC_TYPES = (
    _term("nip", "National implementation plan", "Plan national de mise en œuvre", "Plan nacional de aplicación",
          "Национальный план выполнения", "国家实施计划", "خطة التنفيذ الوطنية"),
    _term("national-report", "National report", "Rapport national", "Informe nacional", "Национальный доклад",
          "国家报告", "التقرير الوطني"),
    _term("legislation", "Legislation", "Législation", "Legislación", "Законодательство", "立法", "التشريعات"),
    _term("study", "Scientific and technical study", "Étude scientifique et technique",
          "Estudio científico y técnico", "Научно-техническое исследование", "科学技术研究",
          "دراسة علمية وتقنية"),
    _term("best-practice", "Best practice", "Meilleures pratiques", "Mejores prácticas", "Передовая практика",
          "最佳做法", "أفضل الممارسات"),
    _term("training", "Training material", "Matériel de formation", "Material de capacitación",
          "Учебные материалы", "培训材料", "مواد تدريبية"),
    _term("guidelines", "Technical guidelines", "Directives techniques", "Directrices técnicas",
          "Технические руководящие принципы", "技术准则", "المبادئ التوجيهية التقنية"),
)

COUNTRIES = (
    _term("KEN", "Kenya", "Kenya", "Kenia", "Кения", "肯尼亚", "كينيا"),
    _term("BRA", "Brazil", "Brésil", "Brasil", "Бразилия", "巴西", "البرازيل"),
    _term("CHN", "China", "Chine", "China", "Китай", "中国", "الصين"),
    _term("FRA", "France", "France", "Francia", "Франция", "法国", "فرنسا"),
    _term("EGY", "Egypt", "Égypte", "Egipto", "Египет", "埃及", "مصر"),
    _term("RUS", "Russian Federation", "Fédération de Russie", "Federación de Rusia", "Российская Федерация",
          "俄罗斯联邦", "الاتحاد الروسي"),
    _term("MEX", "Mexico", "Mexique", "México", "Мексика", "墨西哥", "المكسيك"),
    _term("IND", "India", "Inde", "India", "Индия", "印度", "الهند"),
    _term("SEN", "Senegal", "Sénégal", "Senegal", "Сенегал", "塞内加尔", "السنغال"),
    _term("VNM", "Viet Nam", "Viet Nam", "Viet Nam", "Вьетнам", "越南", "فييت نام"),
    _term("MAR", "Morocco", "Maroc", "Marruecos", "Марокко", "摩洛哥", "المغرب"),
    _term("ARG", "Argentina", "Argentine", "Argentina", "Аргентина", "阿根廷", "الأرجنتين"),
    _term("GHA", "Ghana", "Ghana", "Ghana", "Гана", "加纳", "غانا"),
)

_TITLE = dict(
    en="{type}: {chem} in {country} ({year})",
    fr="{type} : {chem} – {country} ({year})",
    es="{type}: {chem} en {country} ({year})",
    ru="{type}: {chem} — {country} ({year})",
    zh="{country}{type}：{chem}（{year}年）",
    ar="{type}: {chem} – {country} ({year})",
)
_DESCRIPTION = dict(
    en="Inventory of {chem} stockpiles, releases and disposal options. Country: {country}. "
       "Prepared under the Stockholm Convention on Persistent Organic Pollutants.",
    fr="Inventaire des stocks, rejets et options d'élimination : {chem}. Pays : {country}. "
       "Établi au titre de la Convention de Stockholm sur les polluants organiques persistants.",
    es="Inventario de existencias, liberaciones y opciones de eliminación: {chem}. País: {country}. "
       "Elaborado en el marco del Convenio de Estocolmo sobre contaminantes orgánicos persistentes.",
    ru="Инвентаризация запасов, выбросов и вариантов удаления: {chem}. Страна: {country}. "
       "Подготовлено в рамках Стокгольмской конвенции о стойких органических загрязнителях.",
    zh="库存、排放和处置方案清单：{chem}。国家：{country}。根据《关于持久性有机污染物的斯德哥尔摩公约》编写。",
    ar="جرد المخزونات والإطلاقات وخيارات التخلص: {chem}. البلد: {country}. "
       "أُعدّ في إطار اتفاقية استكهولم بشأن الملوثات العضوية الثابتة.",
)
_POPS = dict(en="persistent organic pollutants", fr="polluants organiques persistants",
             es="contaminantes orgánicos persistentes", ru="стойкие органические загрязнители",
             zh="持久性有机污染物", ar="الملوثات العضوية الثابتة")
_CREATOR = dict(en="Ministry of Environment ({country})", fr="Ministère de l'environnement ({country})",
                es="Ministerio de Medio Ambiente ({country})", ru="Министерство окружающей среды ({country})",
                zh="{country}环境部", ar="وزارة البيئة ({country})")
PUBLISHER = "Secretariat of the Stockholm Convention"


@dataclass(frozen=True)
class Document:
    """The content of generated record number `index`, from which each format's writer builds its XML."""
    index: int
    identifier: str
    datestamp: datetime
    deleted: bool
    lang: str
    chemical: Term
    doc_type: Term
    country: Term
    published: date
    url: str
    revised: bool = False

    @property
    def sets(self) -> tuple[str, ...]:
        return (f"chemical:{self.chemical.code}", f"type:{self.doc_type.code}")

    def text(self, lang: str | None = None) -> dict[str, str]:
        lang = lang or self.lang
        names = dict(type=self.doc_type.name(lang), chem=self.chemical.name(lang),
                     country=self.country.name(lang), year=self.published.year)
        title = _TITLE[lang].format(**names) if lang in _TITLE else _TITLE["en"].format(**names)
        return dict(title=title + (" (rev. 2)" if self.revised else ""),
                    description=_DESCRIPTION.get(lang, _DESCRIPTION["en"]).format(**names),
                    pops=_POPS.get(lang, _POPS["en"]),
                    creator=_CREATOR.get(lang, _CREATOR["en"]).format(**names))


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(text: str) -> str:
    return esc(text).replace('"', "&quot;")


def oai_dc_writer(doc: Document) -> str:
    t = doc.text()
    lang = doc.lang
    parts = [f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" xmlns:xsi="{XSI_NS}" '
             f'xsi:schemaLocation="{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd">',
             f'<dc:title xml:lang="{lang}">{esc(t["title"])}</dc:title>']
    if lang != "en" and doc.index % 5 == 0:       # some records also carry an English title
        parts.append(f'<dc:title xml:lang="en">{esc(doc.text("en")["title"])}</dc:title>')
    parts.append(f'<dc:creator>{esc(t["creator"])}</dc:creator>')
    parts.append(f'<dc:subject xml:lang="{lang}">{esc(doc.chemical.name(lang))}</dc:subject>')
    if doc.chemical.cas:
        parts.append(f"<dc:subject>CAS {doc.chemical.cas}</dc:subject>")
    parts.append(f'<dc:subject xml:lang="{lang}">{esc(t["pops"])}</dc:subject>')
    parts.append(f'<dc:description xml:lang="{lang}">{esc(t["description"])}</dc:description>')
    parts.append(f"<dc:publisher>{PUBLISHER}</dc:publisher>")
    parts.append(f"<dc:date>{doc.published.isoformat()}</dc:date>")
    parts.append(f"<dc:type>{esc(doc.doc_type.names['en'].lower())}</dc:type><dc:type>Text</dc:type>")
    parts.append("<dc:format>application/pdf</dc:format>")
    parts.append(f"<dc:identifier>{esc(doc.url)}</dc:identifier>")
    parts.append(f"<dc:language>{lang}</dc:language>")
    parts.append(f'<dc:coverage xml:lang="{lang}">{esc(doc.country.name(lang))}</dc:coverage>')
    parts.append("<dc:rights>CC BY 4.0</dc:rights></oai_dc:dc>")
    return "".join(parts)


_POPS_NS = "urn:pops-chm:record:1"
_POPS_TYPES = {"nip": "national_implementation_plan", "national-report": "national_report",
               "legislation": "legislation", "study": "scientific_technical_study", "best-practice": "best_practice",
               "training": "training_material", "guidelines": "bat_bep_guidance"}
_ALPHA2 = {"KEN": "KE", "BRA": "BR", "CHN": "CN", "FRA": "FR", "EGY": "EG", "RUS": "RU", "MEX": "MX", "IND": "IN",
           "SEN": "SN", "VNM": "VN", "MAR": "MA", "ARG": "AR", "GHA": "GH"}
_POPS_CHEMICALS = {"dioxins": "pcdd", "furans": "pcdf"}
POPS_NODE, POPS_SOURCE = "peer", "peer-docs"   # the node and source the generated native records come from


def pops_writer(doc: Document) -> str:
    """The document as a native pops record, as a peer node serves it (origin = that node)."""
    t = doc.text()
    lang = doc.lang
    ident = esc(doc.identifier)
    parts = [f'<pops:record xmlns:pops="{_POPS_NS}">',
             f"<pops:id>{POPS_NODE}:{POPS_SOURCE}:{ident}</pops:id>",
             f"<pops:origin><pops:node>{POPS_NODE}</pops:node><pops:source>{POPS_SOURCE}</pops:source>"
             f"<pops:identifier>{ident}</pops:identifier><pops:format>pops</pops:format></pops:origin>",
             f"<pops:path>{POPS_NODE}</pops:path>",
             f"<pops:datestamp>{doc.datestamp.strftime('%Y-%m-%dT%H:%M:%SZ')}</pops:datestamp>",
             f'<pops:title xml:lang="{lang}">{esc(t["title"])}</pops:title>']
    if lang != "en" and doc.index % 5 == 0:
        parts.append(f'<pops:title xml:lang="en">{esc(doc.text("en")["title"])}</pops:title>')
    parts.append(f'<pops:description xml:lang="{lang}">{esc(t["description"])}</pops:description>')
    parts.append(f'<pops:keywords xml:lang="{lang}">{esc(t["pops"])}</pops:keywords>')
    parts.append(f"<pops:type>{_POPS_TYPES[doc.doc_type.code]}</pops:type>")
    parts.append(f"<pops:chemicals>{_POPS_CHEMICALS.get(doc.chemical.code, doc.chemical.code)}</pops:chemicals>")
    parts.append(f"<pops:countries>{_ALPHA2[doc.country.code]}</pops:countries>")
    parts.append(f"<pops:languages>{lang}</pops:languages>")
    parts.append(f"<pops:dates><pops:issued>{doc.published.isoformat()}</pops:issued></pops:dates>")
    parts.append(f"<pops:year>{doc.published.year}</pops:year>")
    parts.append(f"<pops:creators>{esc(t['creator'])}</pops:creators>")
    parts.append(f"<pops:publisher>{PUBLISHER}</pops:publisher>")
    parts.append(f"<pops:links><pops:url>{esc(doc.url)}</pops:url><pops:format>application/pdf</pops:format>"
                 f"</pops:links>")
    parts.append("<pops:rights>CC BY 4.0</pops:rights></pops:record>")
    return "".join(parts)


@dataclass(frozen=True)
class FormatSpec:
    schema: str
    namespace: str
    writer: Callable[[Document], str] | None = None    # None: the format cannot be generated


FORMATS: dict[str, FormatSpec] = {
    "oai_dc": FormatSpec("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS, oai_dc_writer),
    "iso19139": FormatSpec("http://www.isotc211.org/2005/gmd/gmd.xsd", "http://www.isotc211.org/2005/gmd"),
    "pops": FormatSpec("pops.xsd", _POPS_NS, pops_writer),
}


def register_format(prefix: str, schema: str, namespace: str,
                    writer: Callable[[Document], str] | None = None) -> None:
    """Declare a metadata format (its schema and namespace for ListMetadataFormats) and, to generate
    records in it, a writer Document -> XML string of the element inside <metadata>."""
    FORMATS[prefix] = FormatSpec(schema, namespace, writer)


def format_spec(prefix: str) -> FormatSpec:
    return FORMATS.get(prefix) or FormatSpec(f"http://example.org/schemas/{prefix}.xsd", f"urn:example:{prefix}")


@dataclass(frozen=True)
class _GenConfig:
    prefixes: tuple[str, ...] = ("oai_dc",)
    start: datetime = DEFAULT_START
    step: timedelta = timedelta(minutes=1)
    deleted_every: int = 0
    languages: tuple[str, ...] = LANGUAGES
    id_prefix: str = "oai:pops.test:doc-"
    url_base: str = "https://chm.pops.example.org/documents/"
    revised_every: int = 0               # every k-th record (index % k == 0) was revised at revised_at
    revised_at: datetime | None = None

    def __post_init__(self):
        if self.step <= timedelta(0):
            raise ValueError("step must be positive")
        if not self.languages:
            raise ValueError("languages must not be empty")
        for p in self.prefixes:
            if format_spec(p).writer is None:
                raise ValueError(f"no writer for metadata prefix {p!r}: register_format() one")
        object.__setattr__(self, "start", _utc(self.start))


def document(i: int, cfg: _GenConfig = _GenConfig()) -> Document:
    """The content of generated record number i (0-based)."""
    revised = bool(cfg.revised_every) and i % cfg.revised_every == 0
    return Document(
        index=i,
        identifier=f"{cfg.id_prefix}{i:07d}",
        datestamp=cfg.revised_at if revised else cfg.start + i * cfg.step,
        revised=revised,
        deleted=bool(cfg.deleted_every) and i % cfg.deleted_every == cfg.deleted_every - 1,
        lang=cfg.languages[i % len(cfg.languages)],
        chemical=CHEMICALS[i % len(CHEMICALS)],
        doc_type=DOC_TYPES[i % len(DOC_TYPES)],
        country=COUNTRIES[i % len(COUNTRIES)],
        published=date(2001 + (i * 7) % 24, 1 + i % 12, 1 + i % 28),
        url=f"{cfg.url_base}{i:07d}",
    )


def generate_record(i: int, cfg: _GenConfig = _GenConfig()) -> ServedRecord:
    doc = document(i, cfg)
    metadata = {} if doc.deleted else {p: FORMATS[p].writer(doc) for p in cfg.prefixes}
    return ServedRecord(doc.identifier, doc.datestamp, doc.sets, doc.deleted, metadata)


def _gen_config(prefixes, start, step, deleted_every, languages, id_prefix, revised_every=0, revised_at=None
                ) -> _GenConfig:
    return _GenConfig(tuple(prefixes), start, step, deleted_every, tuple(languages), id_prefix,
                      revised_every=revised_every, revised_at=_utc(revised_at) if revised_at else None)


def make_records(n: int, prefixes: Sequence[str] = ("oai_dc",), start: datetime = DEFAULT_START,
                 deleted_every: int = 0, languages: Sequence[str] = LANGUAGES, *,
                 step: timedelta = timedelta(minutes=1), id_prefix: str = "oai:pops.test:doc-"
                 ) -> list[ServedRecord]:
    """n generated POPs records as a list: record i has datestamp start + i*step, language
    languages[i % len], and is a tombstone when deleted_every and i % deleted_every == deleted_every-1."""
    cfg = _gen_config(prefixes, start, step, deleted_every, languages, id_prefix)
    return [generate_record(i, cfg) for i in range(n)]


def iter_records(n: int, **kw) -> Iterator[ServedRecord]:
    """The records of make_records(n, **kw), one at a time."""
    src = GeneratedSource(n, **kw)
    for i in range(n):
        yield src.record(i)


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


class GeneratedSource:
    """n generated records, computed on demand: nothing is held in memory, filters are arithmetic."""

    def __init__(self, n: int, prefixes: Sequence[str] = ("oai_dc",), start: datetime = DEFAULT_START,
                 deleted_every: int = 0, languages: Sequence[str] = LANGUAGES, *,
                 step: timedelta = timedelta(minutes=1), id_prefix: str = "oai:pops.test:doc-",
                 revised_every: int = 0, revised_at: datetime | None = None):
        """With revised_every=k, records k*j were changed at revised_at (default: now) and carry it as
        their datestamp: an incremental harvest from after the original datestamps lists just those."""
        self.n = n
        if revised_every and revised_at is None:
            revised_at = _now()
        self.cfg = _gen_config(prefixes, start, step, deleted_every, languages, id_prefix, revised_every, revised_at)
        self._step_us = self.cfg.step // timedelta(microseconds=1)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.n

    def extend(self, k: int) -> None:
        """Append k records, newer than all others."""
        with self._lock:
            self.n += k

    def record(self, i: int) -> ServedRecord:
        return generate_record(i, self.cfg)

    def _set_filter(self, spec: str | None) -> tuple[int, int] | None:
        """(stride, residue) of the indices in the set, or None if no record is in it."""
        if spec is None or spec in ("chemical", "type"):
            return 1, 0
        for prefix, terms in (("chemical:", CHEMICALS), ("type:", DOC_TYPES)):
            if spec.startswith(prefix):
                codes = [t.code for t in terms]
                code = spec[len(prefix):]
                return (len(terms), codes.index(code)) if code in codes else None
        return None

    def _span(self, q: Query) -> tuple[int, int, int]:
        """(first index, stride, count) of the records matching q."""
        sf = self._set_filter(q.set)
        if sf is None or (q.prefix is not None and q.prefix not in self.cfg.prefixes):
            return 0, 1, 0
        stride, residue = sf
        every, at = self.cfg.revised_every, self.cfg.revised_at
        if every and q.from_ is not None and q.from_ > self.cfg.start + (self.n - 1) * self.cfg.step:
            # past the original datestamps only the revised records can match (sets are not narrowed here)
            if q.from_ <= at and (q.until is None or at <= q.until):
                return 0, every, _ceil_div(self.n, every)
            return 0, 1, 0
        lo, hi = 0, self.n
        if q.from_ is not None:
            lo = max(lo, _ceil_div((q.from_ - self.cfg.start) // timedelta(microseconds=1), self._step_us))
        if q.until is not None:
            hi = min(hi, _ceil_div((q.until - self.cfg.start) // timedelta(microseconds=1), self._step_us))
        if lo >= hi:
            return 0, 1, 0
        first = lo + (residue - lo) % stride
        return first, stride, max(0, _ceil_div(hi - first, stride))

    def count(self, query: Query) -> int:
        return self._span(query)[2]

    def page(self, query: Query, offset: int, limit: int) -> list[ServedRecord]:
        first, stride, count = self._span(query)
        return [self.record(first + k * stride) for k in range(offset, min(count, offset + limit))]

    def get(self, identifier: str) -> ServedRecord | None:
        rest = identifier[len(self.cfg.id_prefix):] if identifier.startswith(self.cfg.id_prefix) else ""
        if not (rest.isascii() and rest.isdigit()) or int(rest) >= self.n:
            return None
        rec = self.record(int(rest))
        return rec if rec.identifier == identifier else None

    def prefixes(self) -> list[str]:
        return list(self.cfg.prefixes)

    def set_names(self) -> dict[str, str]:
        names = {"chemical": "Chemicals listed under the Stockholm Convention"}
        names.update({f"chemical:{t.code}": t.names["en"] for t in CHEMICALS})
        names["type"] = "Document types"
        names.update({f"type:{t.code}": t.names["en"] for t in DOC_TYPES})
        return names

    def earliest(self) -> datetime | None:
        return self.cfg.start if self.n else None


# --------------------------------------------------------------------------- faults

FAULT_KINDS = frozenset({
    "http_503", "http_500", "slow", "drop_connection", "malformed_page", "bad_resumption_token",
    "duplicate_across_pages", "truncated_page", "wrong_granularity_datestamps",
})
MALFORMED_MODES = ("cut", "control_char", "bad_byte", "noncharacter", "undefined_entity")


class Fault:
    """A misbehaviour of the server; see the module docstring for kinds, triggers and parameters."""

    def __init__(self, kind: str, *, on_requests: Iterable[int] | None = None,
                 on_pages: Iterable[int] | None = None, probability: float | None = None,
                 seed: int | None = None, times: int | None = None, verbs: Iterable[str] | None = None,
                 **params):
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if kind == "malformed_page" and params.get("mode", "cut") not in MALFORMED_MODES:
            raise ValueError(f"malformed_page mode must be one of {MALFORMED_MODES}")
        if kind == "slow" and "seconds" not in params:
            raise ValueError("slow needs seconds=")
        self.kind = kind
        self.on_requests = None if on_requests is None else frozenset(on_requests)
        self.on_pages = None if on_pages is None else frozenset(on_pages)
        self.probability = probability
        self.seed = seed
        self.times = times
        self.verbs = None if verbs is None else frozenset(verbs)
        self.params = params
        self.injected = 0
        self._rng = random.Random(seed)

    def __repr__(self) -> str:
        trig = {k: v for k, v in (("on_requests", self.on_requests), ("on_pages", self.on_pages),
                                  ("probability", self.probability), ("seed", self.seed),
                                  ("times", self.times), ("verbs", self.verbs)) if v is not None}
        args = ", ".join(f"{k}={v!r}" for k, v in {**trig, **self.params}.items())
        return f"Fault({self.kind!r}{', ' if args else ''}{args})"


def http_503(retry_after: int | None = 1, **trigger) -> Fault:
    return Fault("http_503", retry_after=retry_after, **trigger)


def http_500(**trigger) -> Fault:
    return Fault("http_500", **trigger)


def slow(seconds: float, **trigger) -> Fault:
    return Fault("slow", seconds=seconds, **trigger)


def drop_connection(fraction: float = 0.5, before_headers: bool = False, **trigger) -> Fault:
    return Fault("drop_connection", fraction=fraction, before_headers=before_headers, **trigger)


def malformed_page(mode: str = "cut", record: int | None = None, **trigger) -> Fault:
    return Fault("malformed_page", mode=mode, record=record, **trigger)


def bad_resumption_token(times: int | None = 1, **trigger) -> Fault:
    return Fault("bad_resumption_token", times=times, **trigger)


def duplicate_across_pages(**trigger) -> Fault:
    return Fault("duplicate_across_pages", **trigger)


def truncated_page(keep: int | None = None, **trigger) -> Fault:
    return Fault("truncated_page", keep=keep, **trigger)


def wrong_granularity_datestamps(style: str = "swap", **trigger) -> Fault:
    if style not in ("swap", "fractional", "offset"):
        raise ValueError("style must be swap, fractional or offset")
    return Fault("wrong_granularity_datestamps", style=style, **trigger)


@dataclass
class Stats:
    requests: int = 0
    verbs: Counter = field(default_factory=Counter)       # verb (as sent) -> requests
    errors: Counter = field(default_factory=Counter)      # OAI error code -> responses
    faults: Counter = field(default_factory=Counter)      # fault kind -> injections
    injected: list = field(default_factory=list)          # (request number, kind)
    records_served: int = 0                               # records or headers sent

    def as_dict(self) -> dict:
        return dict(requests=self.requests, verbs=dict(self.verbs), errors=dict(self.errors),
                    faults=dict(self.faults), injected=[list(x) for x in self.injected],
                    records_served=self.records_served)


# --------------------------------------------------------------------------- protocol

class OAIError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_VERBS = {  # verb -> (required, optional) arguments
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set", "resumptionToken"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set", "resumptionToken"})),
}
_LIST_VERBS = ("ListIdentifiers", "ListRecords")
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECONDS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_GRANULARITY = {"seconds": "seconds", "YYYY-MM-DDThh:mm:ssZ": "seconds", "day": "day", "YYYY-MM-DD": "day"}


@dataclass
class _Request:
    verb: str
    args: dict[str, str]                 # the OAI arguments (decoded from the token when there is one)
    token: str | None = None
    offset: int = 0
    query: Query | None = None


@dataclass
class _Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "text/xml; charset=utf-8"
    drop_fraction: float | None = None   # send only this share of the body, then close
    drop_before_headers: bool = False


def encode_token(verb: str, args: Mapping[str, str], offset: int) -> str:
    payload = [verb, args.get("metadataPrefix"), args.get("set"), args.get("from"), args.get("until"), offset]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, dict[str, str], int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        verb, prefix, set_, from_, until, offset = json.loads(raw)
        if not isinstance(offset, int) or offset < 0 or not isinstance(verb, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise OAIError("badResumptionToken", f"the resumptionToken {token!r} is invalid") from None
    args = {k: v for k, v in (("metadataPrefix", prefix), ("set", set_), ("from", from_), ("until", until))
            if v is not None}
    return verb, args, offset


def format_datestamp(dt: datetime, granularity: str) -> str:
    return dt.strftime("%Y-%m-%d") if granularity == "day" else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class OAIServer:
    """An OAI-PMH 2.0 data provider on 127.0.0.1 (see the module docstring)."""

    def __init__(self, records: Iterable[ServedRecord] | RecordSource = (), *, page_size: int = 100,
                 granularity: str = "seconds", faults: Iterable[Fault] = (), deleted_record: str = "persistent",
                 sets: Mapping[str, str] | None = None, formats: Mapping[str, tuple[str, str]] | None = None,
                 earliest_datestamp: datetime | None = None, repository_name: str = "POPs test provider",
                 admin_email: str = "admin@pops.example.org", host: str = "127.0.0.1", port: int = 0,
                 path: str = "/oai"):
        if granularity not in _GRANULARITY:
            raise ValueError("granularity must be 'seconds' or 'day'")
        if deleted_record not in ("no", "transient", "persistent"):
            raise ValueError("deleted_record must be no, transient or persistent")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.source: RecordSource = records if isinstance(records, RecordSource) else ListSource(records)
        self.page_size = page_size
        self.granularity = _GRANULARITY[granularity]
        self.faults: list[Fault] = list(faults)
        self.deleted_record = deleted_record
        self._sets = dict(sets) if sets is not None else None
        self._formats = dict(formats) if formats is not None else None
        self.earliest_datestamp = _utc(earliest_datestamp) if earliest_datestamp else None
        self.repository_name = repository_name
        self.admin_email = admin_email
        self.host, self.port, self.path = host, port, path
        self.requests: list[dict] = []
        self.stats = Stats()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle
    def start(self) -> "OAIServer":
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.oai = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs=dict(poll_interval=0.05),
                                        name=f"oai-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
        self._httpd = self._thread = None

    def __enter__(self) -> "OAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    @property
    def base_url(self) -> str:
        return self.url

    # -- changing the records and faults while running
    def _list_source(self) -> ListSource:
        if not isinstance(self.source, ListSource):
            raise TypeError("only a list-backed source can be changed record by record")
        return self.source

    def add(self, record: ServedRecord) -> ServedRecord:
        return self._list_source().add(record)

    def put(self, record: ServedRecord) -> ServedRecord:
        return self._list_source().put(record)

    def update(self, identifier: str, **changes) -> ServedRecord:
        return self._list_source().update(identifier, **changes)

    def delete(self, identifier: str, datestamp: datetime | None = None) -> ServedRecord:
        return self._list_source().delete(identifier, datestamp)

    def remove(self, identifier: str) -> ServedRecord:
        return self._list_source().remove(identifier)

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults = []

    def reset_log(self) -> None:
        """Forget received requests and stats (not the faults' own counters)."""
        with self._lock:
            self.requests.clear()
            self.stats = Stats()

    # -- what is served
    def formats(self) -> dict[str, tuple[str, str]]:
        if self._formats is not None:
            return dict(self._formats)
        out = {}
        for p in self.source.prefixes():
            spec = format_spec(p)
            out[p] = (spec.schema, spec.namespace)
        return out

    def set_names(self) -> dict[str, str]:
        return dict(self._sets) if self._sets is not None else self.source.set_names()

    # -- fault decisions
    def _fires(self, kind: str, req_no: int, verb: str | None, page: int | None) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.kind != kind:
                    continue
                if f.verbs is not None and verb not in f.verbs:
                    continue
                if f.on_requests is not None and req_no not in f.on_requests:
                    continue
                if f.on_pages is not None and (page is None or page not in f.on_pages):
                    continue
                if f.times is not None and f.injected >= f.times:
                    continue
                if f.probability is not None and f._rng.random() >= f.probability:
                    continue
                f.injected += 1
                self.stats.faults[kind] += 1
                self.stats.injected.append((req_no, kind))
                return f
        return None

    # -- the request handler, independent of HTTP
    def handle(self, method: str, pairs: list[tuple[str, str]]) -> _Response:
        params: dict = {}
        for k, v in pairs:
            if k in params:
                params[k] = (params[k] if isinstance(params[k], list) else [params[k]]) + [v]
            else:
                params[k] = v
        with self._lock:
            self.stats.requests += 1
            req_no = self.stats.requests
            self.requests.append(params)
            verb_sent = params.get("verb")
            self.stats.verbs[verb_sent if isinstance(verb_sent, str) else str(verb_sent)] += 1

        req: _Request | None = None
        error: OAIError | None = None
        try:
            req = self._parse(pairs)
        except OAIError as e:
            error = e
        verb = req.verb if req else (verb_sent if isinstance(verb_sent, str) else None)
        page = (req.offset // self.page_size + 1) if req and req.verb in _LIST_VERBS else (
            1 if req and req.verb == "ListSets" else None)

        f = self._fires("slow", req_no, verb, page)
        if f:
            time.sleep(float(f.params["seconds"]))
        f = self._fires("http_503", req_no, verb, page)
        if f:
            retry_after = f.params.get("retry_after", 1)
            headers = [] if retry_after is None else [("Retry-After", str(retry_after))]
            return _Response(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", headers,
                             "text/html; charset=utf-8")
        if self._fires("http_500", req_no, verb, page):
            return _Response(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", [],
                             "text/html; charset=utf-8")

        if error is None and req.token is not None and self._fires("bad_resumption_token", req_no, verb, page):
            error = OAIError("badResumptionToken", "the resumptionToken has expired")
        if error is None:
            try:
                body = self._answer(req, req_no, page)
            except OAIError as e:
                error = e
        if error is not None:
            with self._lock:
                self.stats.errors[error.code] += 1
            body = self._error_body(error, req)
        resp = _Response(200, body)
        f = self._fires("drop_connection", req_no, verb, page)
        if f:
            resp.drop_before_headers = bool(f.params.get("before_headers"))
            resp.drop_fraction = float(f.params.get("fraction", 0.5))
        return resp

    def _parse(self, pairs: list[tuple[str, str]]) -> _Request:
        verbs = [v for k, v in pairs if k == "verb"]
        if not verbs:
            raise OAIError("badVerb", "the verb argument is missing")
        if len(verbs) > 1:
            raise OAIError("badVerb", "the verb argument is repeated")
        verb = verbs[0]
        if verb not in _VERBS:
            raise OAIError("badVerb", f"{verb!r} is not an OAI-PMH verb")
        args: dict[str, str] = {}
        for k, v in pairs:
            if k == "verb":
                continue
            if k in args:
                raise OAIError("badArgument", f"the argument {k!r} is repeated")
            args[k] = v
        required, optional = _VERBS[verb]
        illegal = sorted(set(args) - required - optional)
        if illegal:
            raise OAIError("badArgument", f"illegal arguments for {verb}: {', '.join(illegal)}")
        empty = sorted(k for k, v in args.items() if v == "")
        if empty:
            raise OAIError("badArgument", f"empty arguments: {', '.join(empty)}")
        req = _Request(verb, args)
        if "resumptionToken" in args:
            if len(args) > 1:
                raise OAIError("badArgument", "resumptionToken is an exclusive argument")
            req.token = args["resumptionToken"]
            if verb == "ListSets":
                raise OAIError("badResumptionToken", "this repository issues no ListSets resumptionToken")
            tverb, targs, req.offset = decode_token(req.token)
            if tverb != verb:
                raise OAIError("badResumptionToken", f"the resumptionToken belongs to {tverb}, not {verb}")
            req.args = targs
        else:
            missing = sorted(required - set(args))
            if missing:
                raise OAIError("badArgument", f"missing arguments for {verb}: {', '.join(missing)}")
        if verb in _LIST_VERBS:
            req.query = self._query(req.args, bad="badResumptionToken" if req.token else "badArgument")
        return req

    def _parse_datestamp(self, value: str, name: str, bad: str) -> tuple[datetime, str]:
        if _DAY_RE.fullmatch(value):
            fmt, gran = "%Y-%m-%d", "day"
        elif _SECONDS_RE.fullmatch(value):
            if self.granularity == "day":
                raise OAIError(bad, f"{name}={value} is finer than the repository's day granularity")
            fmt, gran = "%Y-%m-%dT%H:%M:%SZ", "seconds"
        else:
            raise OAIError(bad, f"{name}={value!r} is not a valid datestamp")
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC), gran
        except ValueError:
            raise OAIError(bad, f"{name}={value!r} is not a valid date") from None

    def _query(self, args: Mapping[str, str], bad: str) -> Query:
        from_ = until = None
        grans = set()
        if "from" in args:
            from_, g = self._parse_datestamp(args["from"], "from", bad)
            grans.add(g)
        if "until" in args:
            until, g = self._parse_datestamp(args["until"], "until", bad)
            grans.add(g)
            until += timedelta(days=1) if g == "day" else timedelta(seconds=1)
        if len(grans) > 1:
            raise OAIError(bad, "from and until have different granularities")
        if from_ is not None and until is not None and from_ >= until:
            raise OAIError(bad, "from is later than until")
        return Query(args.get("metadataPrefix"), args.get("set"), from_, until)

    # -- answers
    def _envelope(self, req: _Request | None) -> str:
        attrs = ""
        if req is not None:
            shown = {"verb": req.verb, **({"resumptionToken": req.token} if req.token else req.args)}
            attrs = "".join(f' {k}="{esc_attr(v)}"' for k, v in shown.items())
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="{XSI_NS}" '
                f'xsi:schemaLocation="{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
                f"<responseDate>{format_datestamp(_now(), 'seconds')}</responseDate>\n"
                f"<request{attrs}>{esc(self.url)}</request>\n")

    def _error_body(self, error: OAIError, req: _Request | None) -> bytes:
        # for badVerb and badArgument the request element carries the base URL only
        plain = error.code in ("badVerb", "badArgument")
        return (self._envelope(None if plain else req)
                + f'<error code="{error.code}">{esc(error.message)}</error>\n</OAI-PMH>\n').encode()

    def _answer(self, req: _Request, req_no: int, page: int | None) -> bytes:
        if req.verb == "Identify":
            return self._identify(req)
        if req.verb == "ListMetadataFormats":
            return self._list_formats(req)
        if req.verb == "ListSets":
            return self._list_sets(req)
        if req.verb == "GetRecord":
            return self._get_record(req, req_no)
        return self._list(req, req_no, page)

    def _identify(self, req: _Request) -> bytes:
        earliest = self.earliest_datestamp or self.source.earliest() or DEFAULT_START
        gran = "YYYY-MM-DD" if self.granularity == "day" else "YYYY-MM-DDThh:mm:ssZ"
        return (self._envelope(req) + "<Identify>"
                f"<repositoryName>{esc(self.repository_name)}</repositoryName>"
                f"<baseURL>{esc(self.url)}</baseURL><protocolVersion>2.0</protocolVersion>"
                f"<adminEmail>{esc(self.admin_email)}</adminEmail>"
                f"<earliestDatestamp>{format_datestamp(earliest, self.granularity)}</earliestDatestamp>"
                f"<deletedRecord>{self.deleted_record}</deletedRecord><granularity>{gran}</granularity>"
                "</Identify>\n</OAI-PMH>\n").encode()

    def _list_formats(self, req: _Request) -> bytes:
        formats = self.formats()
        ident = req.args.get("identifier")
        if ident is not None:
            rec = self.source.get(ident)
            if rec is None:
                raise OAIError("idDoesNotExist", f"no item {ident!r} in this repository")
            if not rec.deleted:
                formats = {p: formats.get(p) or (format_spec(p).schema, format_spec(p).namespace)
                           for p in rec.metadata}
        if not formats:
            raise OAIError("noMetadataFormats", "no metadata formats are available")
        items = "".join(f"<metadataFormat><metadataPrefix>{esc(p)}</metadataPrefix><schema>{esc(s)}</schema>"
                        f"<metadataNamespace>{esc(ns)}</metadataNamespace></metadataFormat>"
                        for p, (s, ns) in formats.items())
        return (self._envelope(req) + f"<ListMetadataFormats>{items}</ListMetadataFormats>\n</OAI-PMH>\n").encode()

    def _list_sets(self, req: _Request) -> bytes:
        sets = self.set_names()
        if not sets:
            raise OAIError("noSetHierarchy", "this repository does not support sets")
        items = "".join(f"<set><setSpec>{esc(s)}</setSpec><setName>{esc(n)}</setName></set>"
                        for s, n in sets.items())
        return (self._envelope(req) + f"<ListSets>{items}</ListSets>\n</OAI-PMH>\n").encode()

    def _check_prefix(self, prefix: str) -> None:
        if prefix not in self.formats():
            raise OAIError("cannotDisseminateFormat", f"the metadata format {prefix!r} is not supported")

    def _datestamp_writer(self, req_no: int, verb: str, page: int | None) -> Callable[[datetime], str]:
        f = self._fires("wrong_granularity_datestamps", req_no, verb, page)
        style = f.params.get("style", "swap") if f else None
        if style == "swap":
            other = "seconds" if self.granularity == "day" else "day"
            return lambda dt: format_datestamp(dt, other)
        if style == "fractional":
            return lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if style == "offset":
            return lambda dt: (dt + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
        return lambda dt: format_datestamp(dt, self.granularity)

    @staticmethod
    def _record_xml(rec: ServedRecord, prefix: str | None, datestamp: Callable[[datetime], str]) -> str:
        head = ('<header status="deleted">' if rec.deleted else "<header>") + \
            f"<identifier>{esc(rec.identifier)}</identifier><datestamp>{datestamp(rec.datestamp)}</datestamp>" + \
            "".join(f"<setSpec>{esc(s)}</setSpec>" for s in rec.sets) + "</header>"
        if prefix is None:
            return head
        if rec.deleted:
            return f"<record>{head}</record>"
        md = rec.metadata[prefix]
        if md.startswith("<?xml"):
            md = md[md.index("?>") + 2:].lstrip()
        return f"<record>{head}<metadata>{md}</metadata></record>"

    def _get_record(self, req: _Request, req_no: int) -> bytes:
        prefix, ident = req.args["metadataPrefix"], req.args["identifier"]
        self._check_prefix(prefix)
        rec = self.source.get(ident)
        if rec is None:
            raise OAIError("idDoesNotExist", f"no item {ident!r} in this repository")
        if not rec.has_format(prefix):
            raise OAIError("cannotDisseminateFormat", f"{ident!r} is not available as {prefix!r}")
        ds = self._datestamp_writer(req_no, "GetRecord", None)
        return self._page_body(req, req_no, None, "GetRecord", [self._record_xml(rec, prefix, ds)], "")

    def _list(self, req: _Request, req_no: int, page: int | None) -> bytes:
        q = req.query
        self._check_prefix(q.prefix)
        if q.set is not None and not self.set_names():
            raise OAIError("noSetHierarchy", "this repository does not support sets")
        total = self.source.count(q)
        if req.token is None and total == 0:
            raise OAIError("noRecordsMatch", "no records match the request")
        if req.token is not None and req.offset >= total:
            raise OAIError("badResumptionToken", "the resumptionToken points past the end of the list")
        offset = req.offset
        recs = self.source.page(q, offset, self.page_size)
        next_offset = offset + self.page_size
        has_next = next_offset < total
        if has_next and recs:
            f = self._fires("truncated_page", req_no, req.verb, page)
            if f:
                keep = f.params.get("keep")
                recs = recs[:len(recs) // 2 if keep is None else keep]
        if offset > 0 and recs and self._fires("duplicate_across_pages", req_no, req.verb, page):
            recs = self.source.page(q, offset - 1, 1) + recs
        ds = self._datestamp_writer(req_no, req.verb, page)
        prefix = q.prefix if req.verb == "ListRecords" else None
        items = [self._record_xml(r, prefix, ds) for r in recs]
        if has_next:
            token = (f'<resumptionToken completeListSize="{total}" cursor="{offset}">'
                     f"{encode_token(req.verb, req.args, next_offset)}</resumptionToken>")
        elif offset > 0:
            token = f'<resumptionToken completeListSize="{total}" cursor="{offset}"/>'
        else:
            token = ""
        return self._page_body(req, req_no, page, req.verb, items, token)

    def _page_body(self, req: _Request, req_no: int, page: int | None, verb: str, items: list[str],
                   tail: str) -> bytes:
        with self._lock:
            self.stats.records_served += len(items)
        head = (self._envelope(req) + f"<{verb}>").encode()
        parts = [it.encode() for it in items]
        end = f"{tail}</{verb}>\n</OAI-PMH>\n".encode()
        f = self._fires("malformed_page", req_no, verb, page) if parts else None
        if f:
            k = f.params.get("record")
            k = len(parts) // 2 if k is None else min(max(k, 0), len(parts) - 1)
            start = len(head) + sum(len(p) for p in parts[:k])
            body = b"".join([head, *parts, end])
            mode = f.params.get("mode", "cut")
            if mode == "cut":
                return body[:start + len(parts[k]) // 2]
            rec = parts[k]
            md = rec.find(b"<metadata>")
            anchor = rec.find(b"</", md if md >= 0 else rec.find(b"<identifier>"))
            bad = {"control_char": b"\x0b", "bad_byte": b"\xff", "noncharacter": "\ufffe".encode(),
                   "undefined_entity": b"&nbsp;"}[mode]
            return body[:start + anchor] + bad + body[start + anchor:]
        return b"".join([head, *parts, end])


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # a client that gave up (timeout, closed socket) is normal here; anything else is reported
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "POPsTestOAI/1.0"

    def log_message(self, format, *args):    # keep test output quiet
        pass

    def do_GET(self):
        self._serve(urlsplit(self.path).query)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length).decode("utf-8", "replace"))

    def _plain(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, query: str):
        oai: OAIServer = self.server.oai
        path = urlsplit(self.path).path
        if path == "/_stats" and self.command == "GET":
            with oai._lock:
                body = json.dumps(oai.stats.as_dict()).encode()
            return self._plain(200, body, "application/json")
        if path != oai.path:
            return self._plain(404, b"not found")
        resp = oai.handle(self.command, parse_qsl(query, keep_blank_values=True))
        if resp.drop_before_headers:
            return self._drop()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers:
            self.send_header(k, v)
        self.end_headers()
        if resp.drop_fraction is not None:
            self.wfile.write(resp.body[:int(len(resp.body) * resp.drop_fraction)])
            return self._drop()
        self.wfile.write(resp.body)

    def _drop(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# --------------------------------------------------------------------------- pytest and command line

def server_fixture(records: Callable[[], Iterable[ServedRecord] | RecordSource] | Iterable[ServedRecord] = (),
                   *, scope: str = "function", **kw):
    """A pytest fixture yielding a running OAIServer, e.g. in a test module or conftest.py:
        oai = server_fixture(lambda: make_records(50), page_size=10)
    `records` may be a callable, called once per fixture instance."""
    import pytest

    @pytest.fixture(scope=scope)
    def _fixture():
        with OAIServer(records() if callable(records) else records, **kw) as srv:
            yield srv
    return _fixture


def parse_fault(text: str) -> Fault:
    """'kind[:name=value,...]' -> Fault; sets of numbers are written 2+5+9, e.g.
    'http_503:on_pages=2+5,times=2,retry_after=1' or 'malformed_page:probability=0.01,seed=7,mode=cut'."""
    kind, _, rest = text.partition(":")
    kw: dict = {}
    for item in filter(None, rest.split(",")):
        name, _, value = item.partition("=")
        if name in ("on_requests", "on_pages", "verbs"):
            kw[name] = {int(x) if name != "verbs" else x for x in value.split("+")}
        elif name in ("probability", "seconds", "fraction"):
            kw[name] = float(value)
        elif name in ("seed", "times", "keep", "record", "retry_after"):
            kw[name] = None if value == "None" else int(value)
        elif name == "before_headers":
            kw[name] = value.lower() in ("1", "true", "yes")
        else:
            kw[name] = value
    if kind == "http_503":
        kw.setdefault("retry_after", 1)
    if kind == "bad_resumption_token" and "times" not in kw and "probability" not in kw:
        kw["times"] = 1
    return Fault(kind, **kw)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Serve generated POPs records over OAI-PMH on 127.0.0.1 until killed.")
    ap.add_argument("--records", type=int, default=1000, help="number of generated records")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--granularity", choices=("seconds", "day"), default="seconds")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--deleted-every", type=int, default=0)
    ap.add_argument("--prefix", action="append", help="metadata prefix to generate (repeatable; default oai_dc)")
    ap.add_argument("--step-seconds", type=float, default=60.0, help="seconds between consecutive datestamps")
    ap.add_argument("--fault", action="append", default=[], help="e.g. http_503:probability=0.05,seed=1")
    ap.add_argument("--id-prefix", default="oai:pops.test:doc-", help="identifiers are this plus a number")
    ap.add_argument("--revised-every", type=int, default=0,
                    help="every k-th record was revised now (new datestamp and title)")
    a = ap.parse_args(argv)
    source = GeneratedSource(a.records, prefixes=tuple(a.prefix or ("oai_dc",)), deleted_every=a.deleted_every,
                             step=timedelta(seconds=a.step_seconds), revised_every=a.revised_every,
                             id_prefix=a.id_prefix)
    srv = OAIServer(source, page_size=a.page_size, granularity=a.granularity, port=a.port,
                    faults=[parse_fault(f) for f in a.fault]).start()
    print(srv.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main())
