"""What every crosswalk does the same way: collect fields into a partial POPs record, guess a document type,
classify links.

A crosswalk feeds a `Partial` as it reads its format and calls `to_dict()` at the end. Texts whose language
the source does not give are held until then and get the record's language if it has exactly one, else 'und'.
"""
from __future__ import annotations

import re
from typing import Iterable

from ..dates import normalise_date, normalise_datestamp
from . import codes
from .text import clean, clean_paragraphs, fold, has_letters, unescape_twice_escaped, url

UNTAGGED = None  # the language of a text the source did not tag

_REL_RANK = {"landing": 0, "file": 1, "service": 2, "related": 3}
_KEYWORD_SPLIT = re.compile(r"\s*;\s*")
_KEYWORD_LEAD = " ,;:>/|·•"      # left over from packed keywords: '> tag4', ',TAG6'
_KEYWORD_TAIL = " ,;:/|·•"


class Partial:
    """A partial POPs record under construction."""

    def __init__(self, what: str = "record"):
        self.what = what
        self._title: list[tuple[str | None, str]] = []
        self._description: list[tuple[str | None, str]] = []
        self._keywords: list[tuple[str | None, str]] = []
        self.languages: list[str] = []
        self.countries: list[str] = []
        self.dates: dict[str, str] = {}
        self.creators: list[str] = []
        self.publisher: str | None = None
        self.links: list[dict] = []
        self.rights: list[str] = []
        self.type: str | None = None
        self.datestamp: str | None = None
        self.type_hints: list[str] = []        # dc:type, hierarchyLevel, dct:type values, for guess_type
        # What each list already holds, so adding stays linear in a record with 100,000 values.
        self._seen: dict[str, set] = {"languages": set(), "countries": set(), "creators": set(), "rights": set()}
        self._link_by_url: dict[str, dict] = {}

    # ---- multilingual text
    def title(self, text, lang: str | None = UNTAGGED) -> None:
        t = clean(text)
        if t:
            self._title.append((lang, t))

    def description(self, text, lang: str | None = UNTAGGED) -> None:
        t = clean_paragraphs(text)
        if t:
            self._description.append((lang, t))

    def keyword(self, text, lang: str | None = UNTAGGED) -> None:
        """One keyword element; several packed into one with ';' are split apart."""
        t = unescape_twice_escaped(clean(text))
        for part in _KEYWORD_SPLIT.split(t):
            part = part.lstrip(_KEYWORD_LEAD).rstrip(_KEYWORD_TAIL)
            if has_letters(part) and (len(part) > 1 or not part.isascii()):   # 'M' no, '水' yes
                self._keywords.append((lang, part))

    def keyword_texts(self) -> list[str]:
        return [t for _, t in self._keywords]

    def has_title(self) -> bool:
        return bool(self._title)

    # ---- the rest
    def language(self, value) -> None:
        code = codes.language(value)
        if code:
            self._add_once("languages", code)

    def country(self, value, *, names: bool = True) -> str | None:
        """Add the country a value states clearly (code, or name when `names`); return it."""
        code = codes.country(value) if names else codes.country_code(value)
        if code:
            self._add_once("countries", code)
        return code

    def date(self, kind: str, value, *, keep_first: bool = True) -> None:
        d = normalise_date(clean(value))
        if d and (kind not in self.dates or not keep_first):
            self.dates[kind] = d

    def set_datestamp(self, value) -> None:
        if not self.datestamp:
            self.datestamp = normalise_datestamp(clean(value))

    def creator(self, name) -> None:
        n = clean(name)
        if n:
            self._add_once("creators", n)

    def set_publisher(self, name) -> None:
        n = clean(name)
        if n and not self.publisher:
            self.publisher = n

    def right(self, text) -> None:
        t = clean(text)
        if t:
            self._add_once("rights", t)

    def _add_once(self, name: str, value: str) -> None:
        """Append a value to the list `name` unless it is already there."""
        if value not in self._seen[name]:
            self._seen[name].add(value)
            getattr(self, name).append(value)

    def link(self, href, rel: str = "related", fmt=None, title=None) -> bool:
        """Add a link when `href` is an http, https or ftp URL; the same URL twice is one link, best rel kept."""
        u = url(href)
        if not u:
            return False
        fmt, title = clean(fmt), clean(title)
        existing = self._link_by_url.get(u)
        if existing is not None:
            if _REL_RANK[rel] < _REL_RANK[existing["rel"]]:
                existing["rel"] = rel
            if fmt and "format" not in existing and existing["rel"] != "landing":
                existing["format"] = fmt   # a landing page that is also an access URL is still a page
            if title and "title" not in existing:
                existing["title"] = title
            return True
        entry = {"url": u, "rel": rel}
        if fmt:
            entry["format"] = fmt
        if title:
            entry["title"] = title
        self.links.append(entry)
        self._link_by_url[u] = entry
        return True

    # ---- result
    def default_lang(self) -> str:
        return self.languages[0] if len(self.languages) == 1 else "und"

    def to_dict(self) -> dict:
        """The partial record; ValueError when there is no title (the record is unusable)."""
        if not self._title:
            raise ValueError(f"{self.what} has no title")
        default = self.default_lang()
        title: dict[str, str] = {}
        for lang, text in self._title:
            title.setdefault(lang or default, text)
        description: dict[str, dict[str, None]] = {}   # dicts as ordered sets: linear in many texts
        for lang, text in self._description:
            description.setdefault(lang or default, {})[text] = None
        keywords: dict[str, list[str]] = {}
        seen: dict[str, set] = {}
        for lang, text in self._keywords:
            key = lang or default
            if text.casefold() not in seen.setdefault(key, set()):
                seen[key].add(text.casefold())
                keywords.setdefault(key, []).append(text)
        rec: dict = {"title": title}
        if description:
            rec["description"] = {k: "\n\n".join(v) for k, v in description.items()}
        if keywords:
            rec["keywords"] = keywords
        kind = self.type or guess_type(self.type_hints, self.keyword_texts())
        if kind:
            rec["type"] = kind
        for key in ("countries", "languages", "creators", "links"):
            value = getattr(self, key)
            if value:
                rec[key] = list(value)
        if self.dates:
            rec["dates"] = dict(self.dates)
        if self.publisher:
            rec["publisher"] = self.publisher
        if self.rights:
            rec["rights"] = "; ".join(self.rights)
        if self.datestamp:
            rec["datestamp"] = self.datestamp
        return rec


# ---------------------------------------------------------------- document types

def _rx(*phrases: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


# (type id, pattern on a type value, pattern on a keyword); values are compared folded (lower case, no accents).
# Specific convention document types first, generic scholarly ones last; a keyword only counts where the
# phrase can hardly mean anything else.
_TYPE_RULES: list[tuple[str, re.Pattern | None, re.Pattern | None]] = [
    ("national_implementation_plan",
     _rx(r"national implementation plans?", r"nip", r"plan national de mise en (?:oe|o)uvre",
         r"plan nacional de aplicacion", r"национальныи план выполнения", r"国家实施计划"),
     _rx(r"national implementation plans?", r"plan national de mise en (?:oe|o)uvre",
         r"plan nacional de aplicacion", r"национальныи план выполнения", r"国家实施计划")),
    ("national_report",
     _rx(r"national reports?", r"article 15 reports?", r"rapport national", r"informe nacional",
         r"национальныи (?:доклад|отчет)", r"国家报告"),
     _rx(r"national reports? (?:under|pursuant to) (?:article 15|the stockholm convention)", r"article 15 reports?")),
    ("action_plan", _rx(r"action plans? on unintentional", r"unintentional releases? action plan"),
     _rx(r"action plans? on unintentional", r"unintentional releases? action plan")),
    ("release_inventory",
     _rx(r"(?:release|emission|source|pops?|pcbs?|dioxin|dioxins and furans) inventor(?:y|ies)",
         r"inventaire (?:des )?(?:rejets|pops?|pcb)", r"inventario (?:de )?(?:liberaciones|cops?|pcb)"),
     _rx(r"(?:release|pops?|pcbs?|dioxin|dioxins and furans) inventor(?:y|ies)",
         r"inventaire (?:des )?(?:rejets|pops?|pcb)", r"inventario (?:de )?(?:liberaciones|cops?|pcb)")),
    ("bat_bep_guidance",
     _rx(r"best available techniques?", r"bat ?/ ?bep", r"best environmental practices?",
         r"meilleures techniques disponibles", r"mejores tecnicas disponibles"),
     _rx(r"best available techniques?", r"bat ?/ ?bep", r"best environmental practices?",
         r"meilleures techniques disponibles", r"mejores tecnicas disponibles")),
    ("exemption_register_entry", _rx(r"specific exemptions?", r"acceptable purposes?"),
     _rx(r"register of specific exemptions", r"acceptable purposes? notification")),
    ("risk_management_evaluation", _rx(r"risk management evaluations?"), _rx(r"risk management evaluations?")),
    ("risk_profile", _rx(r"risk profiles?", r"profil de risques?", r"perfil de riesgos?"),
     _rx(r"risk profiles?", r"profil de risques?", r"perfil de riesgos?")),
    ("listing_proposal", _rx(r"listing proposals?", r"proposals? (?:for|to) list(?:ing)?"),
     _rx(r"proposals? (?:for|to) list(?:ing)? (?:a )?chemicals?")),
    ("monitoring_report", _rx(r"monitoring reports?", r"global monitoring plan", r"effectiveness evaluation"),
     _rx(r"global monitoring plan", r"effectiveness evaluation")),
    ("national_focal_point", _rx(r"focal points?", r"official contact points?"),
     _rx(r"national focal points?", r"official contact points?")),
    ("expert", _rx(r"roster of experts", r"experts? roster"), _rx(r"roster of experts")),
    ("technical_assistance", _rx(r"technical assistance", r"capacity building", r"assistance technique",
                                 r"asistencia tecnica"),
     _rx(r"technical assistance", r"assistance technique", r"asistencia tecnica")),
    ("legislation",
     _rx(r"legislation", r"laws?", r"acts?", r"decrees?", r"regulations?", r"directives?", r"ordinances?",
         r"statutes?", r"legal texts?", r"loi", r"decret", r"ley", r"decreto", r"reglamento", r"gesetz",
         r"verordnung", r"законодательство", r"закон", r"法律", r"法规"),
     _rx(r"legislation", r"legislacion", r"законодательство")),
    ("training_material",
     _rx(r"training(?: materials?| courses?| modules?| manuals?)?", r"learning (?:objects?|resources?|materials?)",
         r"courses?", r"lectures?", r"tutorials?", r"e ?learning", r"teaching materials?", r"lehrmaterial"),
     _rx(r"training (?:materials?|courses?|modules?|manuals?)", r"e ?learning")),
    ("public_awareness_material",
     _rx(r"brochures?", r"leaflets?", r"posters?", r"fact ?sheets?", r"awareness", r"flyers?", r"infographics?"),
     _rx(r"public awareness", r"awareness raising", r"sensibilisation du public", r"sensibilizacion del publico")),
    ("best_practice", _rx(r"case stud(?:y|ies)", r"best practices?", r"good practices?", r"etude de cas",
                          r"estudio de caso", r"buenas practicas"),
     _rx(r"case stud(?:y|ies)", r"best practices?", r"good practices?", r"etudes? de cas", r"estudios? de caso",
         r"buenas practicas")),
    ("scientific_technical_study",
     _rx(r"(?:journal |scientific |research )?articles?", r"(?:doctoral |master s? |bachelor s? |phd )?thes[ie]s",
         r"dissertations?", r"preprints?", r"working papers?", r"(?:technical |research |scientific )reports?",
         r"conference (?:papers?|objects?|proceedings|contributions?)", r"book (?:chapters?|parts?)",
         r"book", r"monographs?", r"research data", r"studies", r"study", r"report"),
     None),
]
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _type_words(value: str) -> str:
    """'info:eu-repo/semantics/doctoralThesis' -> 'doctoral thesis'; 'doc-type:ResearchData' -> 'research data'."""
    t = clean(value)
    if "/" in t or ":" in t:
        tail = re.split(r"[/:#]", t.rstrip("/"))[-1]
        t = tail or t
    return fold(_CAMEL.sub(" ", t).replace("_", " "))


def guess_type(type_values: Iterable[str], keywords: Iterable[str] = ()) -> str | None:
    """A document type id from the source's type values (dc:type, hierarchyLevel, dct:type), else keywords."""
    from .. import vocab
    known = vocab.document_types()
    words = [_type_words(v) for v in type_values if clean(v)]
    for w in words:                       # a value that is already one of our ids
        tid = w.replace(" ", "_")
        if tid in known:
            return tid
    for tid, on_type, _ in _TYPE_RULES:
        if on_type is not None and any(on_type.search(w) for w in words):
            return tid
    folded = [fold(k) for k in keywords]
    for tid, _, on_keyword in _TYPE_RULES:
        if on_keyword is not None and any(on_keyword.search(k) for k in folded):
            return tid
    return None
