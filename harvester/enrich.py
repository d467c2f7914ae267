"""Vocabulary work shared by every crosswalk: recognition, normalisation, completeness, dedup key.

Public API:
    enrich(record) -> dict                 a new record: chemicals, regions, languages, year, quality, dedup_key
    recognise_chemicals(text) -> [id]      by name, synonym, abbreviation or CAS number, in any of the six languages
    recognise_countries(text) -> [alpha-2] by name (six languages, ISO forms) or, for a bare list, by code
    recognise_languages(text) -> [code]    by name or, for a bare list, by code or tag
    lookup(text) -> {"chemicals", "countries", "languages"}
    normalise_language(tag) -> str | None  ISO 639-1 primary tag ("EN", "eng", "en-GB", "English" -> "en")
    normalise_country(value) -> str | None ISO 3166-1 alpha-2 ("ke", "KEN", "Kenya" -> "KE")
    regions_for(countries) -> [region id]  the UN regional groups of the countries
    completeness(record) -> (score, missing)
    dedup_key(record) -> str
    valid_cas(text) -> bool

How recognition works. Every name, synonym and abbreviation of a vocabulary is folded once (NFKC, case
folded, accents and Arabic hamza/short vowels removed, ة -> ه, ى -> ي) and split into word tokens. The
terms are kept in two token tries (an automaton over words): one with the tokens as they are, and one with
each token reduced to a light stem (Latin: a plural "s" dropped; Cyrillic: a case or plural ending dropped;
Arabic: the article and the plural "ات" / feminine ending dropped). Terms with an abbreviation in them
(two capitals, as in PCB, PFHxS, ПХБ) or a digit (BDE-209) go only in the first trie, so "PFOS" never
matches "PFO". A scan walks both tries from each token of the text and keeps the longest term found there,
so matching is on word boundaries ("DDT" does not match in "DDTX") and a longer name wins over a shorter
one it contains. Text with no spaces (Chinese, Japanese) is matched by substring with one regular
expression compiled from a character trie, whose greedy branches also prefer the longest term. CAS numbers
are found by one regular expression and kept only when their check digit is right and the vocabulary lists
them. Everything is compiled once, on first use.

Limits, by design:
- terms shorter than three characters (the abbreviation "DP" for Dechlorane Plus) are not used in free text;
- country and language codes are recognised only when the whole text is a list of them ("KE, TZ",
  "eng; fra"), because two-letter codes are ordinary words ("it", "is", "to", "in");
- when two different terms share a stem but not their ids ("Нигер" / "Нигерия"), only their exact forms
  match; a word ending in an accented letter + s ("francés") is not a plural and keeps its s;
- country names that are everyday words ("réunion", a meeting) count only in longer phrases ("Île de la
  Réunion"), and a few phrases that contain a country name without meaning it ("New Mexico", 南美 "South
  America") are consumed without a result; substring matching in Chinese can still find a name inside an
  unrelated word, and a country name used as a person's name ("Jordan") is taken as the country.

Completeness weights (the share of the score each field carries; a missing field is reported by name):
    title 0.15, description 0.12, chemicals 0.12, countries 0.10 (countries or regions), links 0.10,
    year 0.08 (year or dates), creators 0.07 (creators or publisher), keywords 0.06, languages 0.06,
    type 0.05, title_translations 0.05 (a title in more than one language), rights 0.04
    -- these add up to 1.0. Assistance sources and requests also carry 0.20 of assistance fields:
    source:  assistance.kind 0.05, assistance.provider 0.05, assistance.eligible_countries 0.04 (countries
             or regions), assistance.how_to_apply 0.03 (how to apply or a contact), assistance.status 0.03
    request: assistance.kind 0.05, assistance.provider 0.05, assistance.status 0.04,
             assistance.deadline 0.03, assistance.activities 0.03
The score is the weight present divided by the weight expected (1.0, or 1.2 for assistance records).
"""
from __future__ import annotations

import copy
import re
import unicodedata
from functools import lru_cache
from typing import Iterable

from . import vocab
from .record import canonical

# ----------------------------------------------------------------------------------------------- folding

_CJK_CLASS = ("\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
              "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f")
_CJK = re.compile(f"[{_CJK_CLASS}]")
_TOKEN = re.compile(r"[^\W_]+")
_CJK_IGNORED = re.compile(r"[\s\-\u2010-\u2015\u2212\u00b7\u30fb]+")
_ARABIC = str.maketrans({"\u0629": "\u0647", "\u0649": "\u064a", "\u0640": None, "\u0671": "\u0627"})
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")  # soft hyphen, zero-width and direction marks


@lru_cache(maxsize=1)
def _marks() -> re.Pattern:
    """A character class of every non-spacing mark of the Basic Multilingual Plane (accents, Arabic short
    vowels and hamza, ...). Marks of the other planes are left: a class with them is many times slower."""
    ranges, start, prev = [], None, None
    for cp in range(0x10000):
        if unicodedata.category(chr(cp)) == "Mn":
            if start is None:
                start = cp
            elif cp != prev + 1:
                ranges.append((start, prev))
                start = cp
            prev = cp
    if start is not None:
        ranges.append((start, prev))
    body = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{body}]+")


def _fold(text: str) -> str:
    """Compatibility forms, case, accents and Arabic letter variants folded away."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    text = _marks().sub("", unicodedata.normalize("NFKD", _INVISIBLE.sub("", text)))
    return text.translate(_ARABIC)


def _tokens(folded: str) -> list[str]:
    """Word tokens of folded text; ideographs are left to the substring matcher."""
    if not folded.isascii():
        folded = _CJK.sub(" ", folded)
    return _TOKEN.findall(folded)


def _cjk_fold(folded: str) -> str:
    return _CJK_IGNORED.sub("", folded)


_RU_ENDINGS = sorted({_fold(e) for e in (
    "ией", "иями", "иях", "ия", "ию",
    "ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ых", "их", "ые", "ие", "ая", "яя", "ой", "ей",
    "ом", "ем", "ов", "ев", "ам", "ям", "ах", "ях", "ую", "юю", "ою", "ею", "ый", "ий",
    "а", "я", "о", "е", "ы", "и", "у", "ю", "й", "ь")}, key=len, reverse=True)
_AR_PREFIXES = ("\u0648\u0627\u0644", "\u0628\u0627\u0644", "\u0643\u0627\u0644", "\u0641\u0627\u0644",
                "\u0644\u0644", "\u0627\u0644")  # وال بال كال فال لل ال


def _stem(token: str) -> str:
    """A light, script-aware stem: enough to match plurals and case endings, never a full stemmer."""
    first = token[0]
    if "\u0400" <= first <= "\u04ff":
        for ending in _RU_ENDINGS:
            if token.endswith(ending) and len(token) - len(ending) >= 4:
                return token[: -len(ending)]
        return token
    if "\u0600" <= first <= "\u06ff":
        for _ in range(2):
            for prefix in _AR_PREFIXES:
                if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                    token = token[len(prefix):]
                    break
            else:
                break
        if token.endswith("\u0627\u062a") and len(token) >= 5:  # ات
            token = token[:-2]
        if token.endswith("\u0647") and len(token) >= 4:  # ه (from ة)
            token = token[:-1]
        return token
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")) and not token.isdigit():
        return token[:-1]
    return token


def _is_exact_only(term: str) -> bool:
    """Abbreviations and codes (two capitals in a word, or a digit) are matched as written, never stemmed."""
    for tok in _TOKEN.findall(unicodedata.normalize("NFKC", term)):
        if sum(ch.isupper() for ch in tok) >= 2 or any(ch.isdigit() for ch in tok):
            return True
    return False


def _accented_s_words(term: str) -> set[str]:
    """Folded words of a term that end in an accented letter + s ('francés', 'finés'): that s is not a plural,
    so the word is not stemmed ('francés' must not become 'france')."""
    words = _TOKEN.findall(unicodedata.normalize("NFKC", term).casefold())
    return {_fold(w) for w in words if len(w) > 2 and w[-1] == "s" and not w[-2].isascii()}


# ----------------------------------------------------------------------------------------------- matcher

_END = ""  # trie key marking the end of a term (never a token)


def _trie_regex(words: Iterable[str]) -> re.Pattern | None:
    """One regular expression matching any of the words, preferring the longest at a position."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[_END] = True

    def build(node: dict) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != _END]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if _END in node else body

    pattern = build(trie)
    return re.compile(pattern) if pattern else None


class _Matcher:
    """Terms -> ids, found in free text (see the module docstring)."""

    def __init__(self, terms: Iterable[tuple[str, Iterable[str]]], blockers: Iterable[str] = ()):
        exact: dict[tuple, set] = {}
        stemmed: dict[tuple, dict[tuple, set]] = {}
        cjk: dict[str, set] = {}
        for term, ids in [(t, tuple(i)) for t, i in terms] + [(b, ()) for b in blockers]:
            folded = _fold(term)
            if _CJK.search(folded):
                key = _cjk_fold(folded)
                if len(key) >= 2:
                    cjk.setdefault(key, set()).update(ids)
                continue
            toks = tuple(_tokens(folded))
            if not toks or len("".join(toks)) < 3:
                continue
            exact.setdefault(toks, set()).update(ids)
            if not _is_exact_only(term):
                keep = _accented_s_words(term)
                stems = tuple(t if t in keep else _stem(t) for t in toks)
                stemmed.setdefault(stems, {}).setdefault(toks, set()).update(ids)
        self.exact: dict = {}
        self.stemmed: dict = {}
        for toks, ids in exact.items():
            self._add(self.exact, toks, ids)
        for stems, sources in stemmed.items():
            # Two different terms that share a stem ('Нигер' and 'Нигерия') but not their ids: the stem
            # would guess, so only their exact forms are matched.
            id_sets = {frozenset(exact[toks]) for toks in sources}
            if len(id_sets) == 1:
                self._add(self.stemmed, stems, id_sets.pop())
        self.cjk_ids = {k: frozenset(v) for k, v in cjk.items()}
        self.cjk_re = _trie_regex(self.cjk_ids)

    @staticmethod
    def _add(trie: dict, toks: Iterable[str], ids: Iterable[str]) -> None:
        node = trie
        for tok in toks:
            node = node.setdefault(tok, {})
        node[_END] = frozenset(ids)

    def find(self, text: str) -> set:
        """Ids of every term found in the text."""
        return self.find_folded(_fold(text)) if text else set()

    def find_folded(self, folded: str) -> set:
        """Ids of every term found in text already passed through _fold."""
        found: set = set()
        toks = _tokens(folded)
        if toks:
            stems = [_stem(t) for t in toks]
            n, i = len(toks), 0
            while i < n:
                best_end, best_ids = -1, None
                for trie, seq in ((self.exact, toks), (self.stemmed, stems)):
                    node, j = trie, i
                    while j < n:
                        node = node.get(seq[j])
                        if node is None:
                            break
                        j += 1
                        ids = node.get(_END)
                        if ids is not None and j > best_end:
                            best_end, best_ids = j, ids
                if best_ids is None:
                    i += 1
                else:
                    found.update(best_ids)
                    i = best_end
        if self.cjk_re is not None and not folded.isascii() and _CJK.search(folded):
            for m in self.cjk_re.finditer(_cjk_fold(folded)):
                if m.group(0):
                    found.update(self.cjk_ids.get(m.group(0), ()))
        return found


def _ordered(found: Iterable[str], order: dict) -> list[str]:
    return sorted(set(found), key=lambda x: (order.get(x, len(order)), x))


# ----------------------------------------------------------------------------------------------- CAS

_CAS = re.compile(r"(?<![\d-])(\d{2,7})-(\d{2})-(\d)(?![\d-])")
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")


def valid_cas(text: str) -> bool:
    """True for a well-formed CAS Registry Number whose check digit is right ('1336-36-3')."""
    m = _CAS.fullmatch(_DASHES.sub("-", (text or "").strip()))
    return bool(m) and _cas_check(m.group(1) + m.group(2), m.group(3))


def _cas_check(digits: str, check: str) -> bool:
    return sum(int(d) * w for w, d in enumerate(reversed(digits), start=1)) % 10 == int(check)


@lru_cache(maxsize=1)
def _cas_index() -> dict[str, tuple]:
    index: dict[str, list] = {}
    for cid, chem in vocab.chemicals().items():
        for cas in chem.get("cas", []):
            index.setdefault(cas, []).append(cid)
    return {k: tuple(v) for k, v in index.items()}


def _cas_ids(folded: str) -> set:
    """Ids of the chemicals whose CAS numbers (with a right check digit) are in text passed through _fold."""
    found: set = set()
    if not any(ch.isdigit() for ch in folded):
        return found
    index = _cas_index()
    for m in _CAS.finditer(_DASHES.sub("-", folded)):
        if _cas_check(m.group(1) + m.group(2), m.group(3)):
            found.update(index.get(m.group(0), ()))
    return found


# ----------------------------------------------------------------------------------------------- chemicals

@lru_cache(maxsize=1)
def _chemical_matcher() -> _Matcher:
    terms = []
    for cid, chem in vocab.chemicals().items():
        for name in chem.get("names", {}).values():
            terms.append((name, (cid,)))
        for names in chem.get("synonyms", {}).values():
            terms.extend((name, (cid,)) for name in names)
    return _Matcher(terms)


@lru_cache(maxsize=1)
def _chemical_order() -> dict:
    return {cid: i for i, cid in enumerate(vocab.chemicals())}


def _chemical_ids(text: str) -> set:
    if not text:
        return set()
    folded = _fold(text)
    found = _chemical_matcher().find_folded(folded) | _cas_ids(folded)
    if text.strip() in vocab.chemicals():
        found.add(text.strip())
    return found


def recognise_chemicals(text: str) -> list[str]:
    """Chemical ids named in the text (names, synonyms, abbreviations, CAS numbers), in vocabulary order."""
    return _ordered(_chemical_ids(text or ""), _chemical_order())


# ----------------------------------------------------------------------------------------------- countries

@lru_cache(maxsize=1)
def _country_matcher() -> _Matcher:
    terms = []
    for iso2, country in vocab.countries().items():
        for name in list(country.get("names", {}).values()) + country.get("aliases_en", []):
            if _name_key(name) not in _AMBIGUOUS_COUNTRY_NAMES:
                terms.append((name, (iso2,)))
    terms += [(name, (iso2,)) for iso2, names in _COUNTRY_PHRASES.items() for name in names]
    return _Matcher(terms, blockers=_COUNTRY_BLOCKERS)


# Country names that are also everyday words ("réunion" / "reunión": a meeting): in free text only the
# longer phrases below stand for the country; normalise_country still reads the bare name.
_AMBIGUOUS_COUNTRY_NAMES = {("reunion",), ("la", "reunion")}
_COUNTRY_PHRASES = {"RE": ["Reunion Island", "Île de la Réunion", "isla de la Reunión"]}
# Phrases that contain a country name without meaning the country (Chinese has no word boundaries:
# 南美国家 "South American countries" holds 美国, 印度洋 "Indian Ocean" holds 印度).
_COUNTRY_BLOCKERS = ("New Jersey", "New Mexico", "New South Wales", "南美", "北美", "拉美", "印度洋")


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    codes = {}
    for iso2, country in vocab.countries().items():
        codes[iso2.lower()] = iso2
        codes[country["alpha3"].lower()] = iso2
    return codes


@lru_cache(maxsize=1)
def _country_names() -> dict[tuple, str]:
    names: dict[tuple, str] = {}
    for iso2, country in vocab.countries().items():
        for name in list(country.get("names", {}).values()) + country.get("aliases_en", []):
            names.setdefault(_name_key(name), iso2)
    return names


@lru_cache(maxsize=1)
def _country_order() -> dict:
    return {c: i for i, c in enumerate(vocab.countries())}


def _name_key(text: str) -> tuple:
    folded = _fold(text)
    if _CJK.search(folded):
        return (_cjk_fold(folded),)
    return tuple(_tokens(folded))


def normalise_country(value) -> str | None:
    """An ISO 3166-1 alpha-2 code for a code (alpha-2 or alpha-3, any case) or a country name, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"[A-Za-z]{2,3}", text):
        return _country_codes().get(text.lower())
    hit = _country_names().get(_name_key(text))
    if hit:
        return hit
    found = _country_matcher().find(text)
    return next(iter(found)) if len(found) == 1 else None


_LIST_SEPARATORS = re.compile(r"\s*[,;/|]\s*")


def _as_list(text: str, normalise) -> list | None:
    """Each item of a bare list ('KE, TZ'), normalised; None unless every item is recognised."""
    pieces = [p for p in _LIST_SEPARATORS.split(text.strip()) if p]
    if not pieces:
        return None
    out = [normalise(p) for p in pieces]
    return None if any(o is None for o in out) else out


def recognise_countries(text: str) -> list[str]:
    """ISO alpha-2 codes of the countries named in the text (or listed by code), in code order."""
    if not text or not text.strip():
        return []
    listed = _as_list(text, normalise_country)
    found = set(listed) if listed is not None else _country_matcher().find(text)
    return _ordered(found, _country_order())


# ----------------------------------------------------------------------------------------------- languages

_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")
_CODE = re.compile(r"[a-z]{2,3}")


@lru_cache(maxsize=1)
def _language_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for code, lang in vocab.languages().items():
        for c in (code, lang.get("iso639_2"), lang.get("iso639_3")):
            if c:
                codes.setdefault(c.lower(), code)
        for alias in lang.get("aliases", []):
            if _CODE.fullmatch(alias):
                codes.setdefault(alias, code)
    return codes


def _language_terms() -> list[tuple[str, str]]:
    terms = []
    for code, lang in vocab.languages().items():
        names = list(lang.get("names", {}).values())
        names += [lang[k] for k in ("name_native",) if lang.get(k)]
        names += [part.strip() for part in lang.get("name_en", "").split(";") if part.strip()]
        names += [a for a in lang.get("aliases", []) if not _CODE.fullmatch(a)]
        terms.extend((name, code) for name in names)
    return terms


@lru_cache(maxsize=1)
def _language_names() -> dict[tuple, str]:
    names: dict[tuple, str] = {}
    for name, code in _language_terms():
        names.setdefault(_name_key(name), code)
    return names


@lru_cache(maxsize=1)
def _language_matcher() -> _Matcher:
    terms = [(name, (code,)) for name, code in _language_terms() if len(_fold(name).strip()) >= 4
             or _CJK.search(name)]
    language_keys = {_name_key(name) for name, _ in terms}
    blockers = ["Latin America", "Latin American", "Латинская Америка"]
    for entries, fields in ((vocab.countries(), ("names",)), (vocab.regions(), ("names",))):
        for entry in entries.values():
            for field in fields:
                blockers.extend(entry.get(field, {}).values())
    for country in vocab.countries().values():
        blockers.extend(country.get("aliases_en", []))
    blockers = [b for b in blockers if _name_key(b) not in language_keys]
    return _Matcher(terms, blockers=blockers)


@lru_cache(maxsize=1)
def _language_order() -> dict:
    return {c: i for i, c in enumerate(vocab.languages())}


def normalise_language(tag) -> str | None:
    """The ISO 639-1 code for a language tag, ISO 639-2/3 code or language name; None when unknown.

    'EN', 'en-GB', 'en_US', 'eng', 'English', 'anglais', 'английский' -> 'en'; region and script subtags
    are dropped (the record keeps primary languages). 'und', 'mul', 'zxx' and anything unknown -> None.
    """
    if not isinstance(tag, str) or not tag.strip():
        return None
    text = tag.strip()
    m = _TAG.fullmatch(text)
    if m:
        hit = _language_codes().get(m.group(1).lower())
        if hit:
            return hit
    names = _language_names()
    hit = names.get(_name_key(text))
    if hit is None and "(" in text:
        hit = names.get(_name_key(text.split("(")[0]))
    return hit


def recognise_languages(text: str) -> list[str]:
    """ISO 639-1 codes of the languages named in the text (or listed by code/tag), in vocabulary order."""
    if not text or not text.strip():
        return []
    listed = _as_list(text, normalise_language)
    found = set(listed) if listed is not None else _language_matcher().find(text)
    return _ordered(found, _language_order())


def lookup(text: str) -> dict:
    """Everything the vocabularies recognise in a text."""
    return {"chemicals": recognise_chemicals(text), "countries": recognise_countries(text),
            "languages": recognise_languages(text)}


# ----------------------------------------------------------------------------------------------- regions

@lru_cache(maxsize=1)
def _region_names() -> dict[tuple, str]:
    names: dict[tuple, str] = {}
    for rid, region in vocab.regions().items():
        for name in [rid] + list(region.get("names", {}).values()) + region.get("aliases_en", []):
            names.setdefault(_name_key(name), rid)
    return names


def normalise_region(value) -> str | None:
    """A region id for an id or a region's name (any language) or common alias ('GRULAC'), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    if value.strip() in vocab.regions():
        return value.strip()
    return _region_names().get(_name_key(value))


def regions_for(countries: Iterable[str]) -> list[str]:
    """The UN regional groups of the countries (ids in vocabulary order, each once)."""
    found = set()
    for code in countries or ():
        found.update(vocab.region_of(code))
    order = {rid: i for i, rid in enumerate(vocab.regions())}
    return _ordered(found, order)


# ----------------------------------------------------------------------------------------------- quality

WEIGHTS = (
    ("title", 0.15), ("description", 0.12), ("chemicals", 0.12), ("countries", 0.10), ("links", 0.10),
    ("year", 0.08), ("creators", 0.07), ("keywords", 0.06), ("languages", 0.06), ("type", 0.05),
    ("title_translations", 0.05), ("rights", 0.04),
)
ASSISTANCE_WEIGHTS = {
    "assistance_source": (("assistance.kind", 0.05), ("assistance.provider", 0.05),
                          ("assistance.eligible_countries", 0.04), ("assistance.how_to_apply", 0.03),
                          ("assistance.status", 0.03)),
    "assistance_request": (("assistance.kind", 0.05), ("assistance.provider", 0.05), ("assistance.status", 0.04),
                           ("assistance.deadline", 0.03), ("assistance.activities", 0.03)),
}


def _filled(value) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return any(_filled(v) for v in value.values())
    if isinstance(value, (list, tuple, set)):
        return any(_filled(v) for v in value)
    return True


def _present(record: dict, name: str) -> bool:
    assistance = record.get("assistance") or {}
    if name == "countries":
        return _filled(record.get("countries")) or _filled(record.get("regions"))
    if name == "year":
        return _filled(record.get("year")) or _filled(record.get("dates"))
    if name == "creators":
        return _filled(record.get("creators")) or _filled(record.get("publisher"))
    if name == "type":
        return record.get("type") in vocab.document_types()
    if name == "title_translations":
        title = record.get("title") or {}
        return isinstance(title, dict) and len([k for k, v in title.items() if k != "und" and _filled(v)]) > 1
    if name == "assistance.eligible_countries":
        return _filled(assistance.get("eligible_countries")) or _filled(assistance.get("eligible_regions"))
    if name == "assistance.how_to_apply":
        return _filled(assistance.get("how_to_apply")) or _filled(assistance.get("contact"))
    if name.startswith("assistance."):
        return _filled(assistance.get(name.split(".", 1)[1]))
    return _filled(record.get(name))


def completeness(record: dict) -> tuple[float, list[str]]:
    """(score in 0..1, names of the missing fields) by the weights in the module docstring."""
    weights = WEIGHTS + ASSISTANCE_WEIGHTS.get(record.get("type"), ())
    total = sum(w for _, w in weights)
    have, missing = 0.0, []
    for name, weight in weights:
        if _present(record, name):
            have += weight
        else:
            missing.append(name)
    return max(0.0, min(1.0, have / total)), missing


# ----------------------------------------------------------------------------------------------- dedup key

_TITLE_ORDER = ("en", "fr", "es", "ru", "zh", "ar")
_NON_WORD = re.compile(r"[\W_]+")


def _dedup_text(text: str) -> str:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", text).split())


def _main_title(title) -> str:
    if isinstance(title, str):
        return title
    if not isinstance(title, dict) or not title:
        return ""
    by_lang = _normalise_lang_map(title)
    for lang in _TITLE_ORDER:
        if by_lang.get(lang):
            return by_lang[lang]
    others = sorted(k for k in by_lang if k != "und")
    return by_lang[others[0]] if others else by_lang.get("und", "")


def _year(record: dict) -> int | None:
    year = record.get("year")
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if isinstance(year, int) and not isinstance(year, bool) and 1900 <= year <= 2200:
        return year
    dates = record.get("dates") if isinstance(record.get("dates"), dict) else {}
    for field in ("issued", "created", "modified"):
        m = re.match(r"\s*(\d{4})", str(dates.get(field) or ""))
        if m and 1900 <= int(m.group(1)) <= 2200:
            return int(m.group(1))
    return None


def dedup_key(record: dict) -> str:
    """Normalised main title | first country (in code order) | year | type: likely duplicates share it.

    The main title is the English one, else the French, Spanish, Russian, Chinese, Arabic, else any; it is
    case folded, its accents and punctuation removed and its spaces collapsed.
    """
    countries = sorted(c for c in (normalise_country(c) for c in record.get("countries") or []) if c)
    year = _year(record)
    parts = (_dedup_text(_main_title(record.get("title"))), countries[0] if countries else "",
             str(year) if year else "", str(record.get("type") or ""))
    return "|".join(parts)


# ----------------------------------------------------------------------------------------------- enrich

_LANG_PATTERN = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*|und")


def _lang_key(key) -> str:
    """A text map's language key as the record wants it: ISO 639-1 where known, a valid tag kept, else 'und'."""
    if not isinstance(key, str):
        return "und"
    code = normalise_language(key)
    if code:
        return code
    key = key.strip()
    if key.lower() == "und":
        return "und"
    return key.lower() if _LANG_PATTERN.fullmatch(key.lower()) else "und"


def _normalise_lang_map(value) -> dict:
    """A language -> text map with normalised keys; the first text wins when two keys meet."""
    if isinstance(value, str):
        value = {"und": value}
    if not isinstance(value, dict):
        return {}
    out: dict = {}
    for key, text in value.items():
        if isinstance(text, str) and text.strip():
            out.setdefault(_lang_key(key), text.strip())
    return out


def _normalise_lang_lists(value) -> dict:
    """A language -> [text] map with normalised keys; lists that meet are merged without repeats."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, dict[str, None]] = {}   # dicts as ordered sets: linear in many keywords
    for key, texts in value.items():
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, (list, tuple)):
            continue
        bucket = out.setdefault(_lang_key(key), {})
        for text in texts:
            if isinstance(text, str) and text.strip():
                bucket[text.strip()] = None
    return {k: list(v) for k, v in out.items() if v}


def _unique(values: Iterable) -> list:
    """The values other than None, each once, in order."""
    return [v for v in dict.fromkeys(values) if v is not None]


# The most values a record keeps in each list field. The real corpus's largest record has 30 keywords, 22
# links and 13 creators; past a cap a record is broken or hostile, and every step after it (recognition,
# validation, indexing) would pay for each value. What was cut is said in quality.warnings.
LIST_CAPS = {
    "keywords": 1000, "links": 1000, "creators": 1000, "chemicals": 1000, "countries": 1000, "regions": 1000,
    "languages": 1000, "assistance.activities": 1000, "assistance.eligible_countries": 1000,
    "assistance.eligible_regions": 1000,
}


def _cap_lists(rec: dict) -> list[str]:
    """Cut each list field of the record to its cap in LIST_CAPS, in place; a warning for each field cut.
    Keywords count across languages, the first languages' kept first."""
    warnings = []
    for name, cap in LIST_CAPS.items():
        holder, key = rec, name
        if "." in name:
            parent, key = name.split(".", 1)
            holder = rec.get(parent)
        if not isinstance(holder, dict):
            continue
        values = holder.get(key)
        if isinstance(values, dict):
            count = sum(len(v) for v in values.values() if isinstance(v, list))
            if count > cap:
                holder[key] = _first_texts(values, cap)
        elif isinstance(values, list):
            count = len(values)
            if count > cap:
                holder[key] = values[:cap]
        else:
            continue
        if count > cap:
            warnings.append(f"{name}: {count} values, kept the first {cap}")
    return warnings


def _first_texts(lists: dict, cap: int) -> dict:
    """The first `cap` texts of a language -> [text] map, languages in their order."""
    kept, room = {}, cap
    for lang, texts in lists.items():
        if room <= 0:
            break
        if isinstance(texts, list) and texts:
            kept[lang] = texts[:room]
            room -= len(kept[lang])
    return kept


def _texts(record: dict) -> list[str]:
    texts = []
    for field in ("title", "description"):
        texts.extend((record.get(field) or {}).values())
    for values in (record.get("keywords") or {}).values():
        texts.extend(values)
    return texts


def _resolve_chemicals(values) -> list[str]:
    """Given chemical values as ids: ids kept, names and CAS numbers resolved, the rest dropped."""
    known = vocab.chemicals()
    out = []
    for value in values or ():
        if not isinstance(value, str):
            continue
        out.extend([value.strip()] if value.strip() in known else recognise_chemicals(value))
    return out


def enrich(record: dict) -> dict:
    """A new, enriched record (the input is not changed); empty values are left out.

    - title, description, keywords, assistance.conditions and .how_to_apply: language keys normalised
      ('eng' -> 'en', unknown -> 'und'); links' languages normalised (unknown dropped);
    - languages: normalised to ISO 639-1, unknown dropped; when none is left, the title's languages;
    - chemicals: the given ones (ids, or names/CAS numbers resolved to ids; anything else dropped) plus
      those recognised in the title, description and keywords in every language, in vocabulary order;
    - countries and assistance.eligible_countries: normalised to alpha-2 (codes or names), unknown dropped;
    - regions and assistance.eligible_regions: the given ones (ids or names) plus the UN regional groups of
      the countries;
    - year: from dates (issued, else created, else modified) when absent;
    - list fields cut to LIST_CAPS, each cut named in quality.warnings ("keywords: 100000 values, kept the
      first 1000");
    - quality: {"completeness", "missing", "warnings"} (module docstring); dedup_key (see dedup_key).
    """
    rec = copy.deepcopy(record)
    rec.pop("quality", None)
    rec.pop("dedup_key", None)

    for field in ("title", "description"):
        if field in rec:
            rec[field] = _normalise_lang_map(rec[field])
    if "keywords" in rec:
        rec["keywords"] = _normalise_lang_lists(rec["keywords"])
    warnings = _cap_lists(rec)

    given_languages = rec.get("languages") or []
    if isinstance(given_languages, str):
        given_languages = _LIST_SEPARATORS.split(given_languages)
    languages = _unique(normalise_language(v) for v in given_languages)
    if not languages:
        languages = _unique(normalise_language(k) for k in (rec.get("title") or {}) if k != "und")
    rec["languages"] = languages

    found = set(_resolve_chemicals(rec.get("chemicals")))
    for text in _texts(rec):
        found |= _chemical_ids(text)
    rec["chemicals"] = _ordered(found, _chemical_order())

    given_countries = rec.get("countries") or []
    if isinstance(given_countries, str):
        given_countries = _LIST_SEPARATORS.split(given_countries)
    rec["countries"] = _unique(normalise_country(c) for c in given_countries)
    region_order = {rid: i for i, rid in enumerate(vocab.regions())}
    rec["regions"] = _ordered(set(_unique(normalise_region(r) for r in rec.get("regions") or []))
                              | set(regions_for(rec["countries"])), region_order)

    for link in rec.get("links") or []:
        if isinstance(link, dict) and "language" in link:
            link["language"] = normalise_language(link["language"])

    assistance = rec.get("assistance")
    if isinstance(assistance, dict):
        for field in ("conditions", "how_to_apply"):
            if field in assistance:
                assistance[field] = _normalise_lang_map(assistance[field])
        eligible = _unique(normalise_country(c) for c in assistance.get("eligible_countries") or [])
        assistance["eligible_countries"] = eligible
        assistance["eligible_regions"] = _ordered(
            set(_unique(normalise_region(r) for r in assistance.get("eligible_regions") or []))
            | set(regions_for(eligible)), region_order)

    year = _year(rec)
    rec.pop("year", None)
    if year:
        rec["year"] = year

    rec = canonical(rec)
    score, missing = completeness(rec)
    rec["quality"] = {"completeness": round(score, 2), "missing": missing, "warnings": warnings}
    rec["dedup_key"] = dedup_key(rec)
    return canonical(rec)
