"""Reading what sources write for countries and languages into ISO codes.

The codes and names come from the node's vocabularies (schemas/vocab/countries.json and languages.json, through
harvester.vocab); this module only builds the lookups a crosswalk needs: alpha-3 -> alpha-2, names in any of the
vocabulary's languages -> code, ISO 639-2/639-3 -> 639-1. A name shared by two entries is ambiguous and matches
neither.
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from .. import vocab
from .text import clean, fold

# Codes sources use that are not ISO 3166-1 alpha-2/alpha-3 but say one country clearly.
_COUNTRY_ALIASES = {
    "UK": "GB", "EL": "GR", "FXX": "FR",
    # ISO 3166-2:GB parts, as UK GEMINI records give them under an ISO 3166 authority
    "ENG": "GB", "SCT": "GB", "WLS": "GB", "NIR": "GB",
}
_COUNTRY_NAME_ALIASES = {"england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
                         "u s a": "US", "u s": "US", "u k": "GB"}
# Language values that are not a language of the resource.
_NOT_LANGUAGES = {"und", "mul", "zxx", "mis", "other", "others", "n a", "na", "none", "unknown", "xx"}
_SUBDIVISION = re.compile(r"^([A-Z]{2})-[A-Z0-9]{1,3}$")
_LANG_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
_CODE = re.compile(r"^[a-z]{2,3}$")


def _add(names: dict, ambiguous: set, name, code: str) -> None:
    key = fold(name or "")
    if not key:
        return
    if key in names and names[key] != code:
        ambiguous.add(key)
    names[key] = code


@lru_cache(maxsize=1)
def _countries() -> tuple[dict, dict, dict]:
    alpha2, alpha3, names, ambiguous = {}, {}, {}, set()
    for code, entry in vocab.countries().items():
        alpha2[code] = code
        if entry.get("alpha3"):
            alpha3[entry["alpha3"]] = code
        for name in list(entry.get("names", {}).values()) + list(entry.get("aliases_en", [])):
            _add(names, ambiguous, name, code)
    for key in ambiguous:
        names.pop(key, None)
    for key, code in _COUNTRY_NAME_ALIASES.items():
        names.setdefault(key, code)
    return alpha2, alpha3, names


@lru_cache(maxsize=1)
def _languages() -> tuple[set, dict, dict]:
    two, three, names, ambiguous = set(), {}, {}, set()
    for code, entry in vocab.languages().items():
        two.add(code)
        for key in ("iso639_2", "iso639_3"):
            if entry.get(key):
                three[entry[key].lower()] = code
        for name in [entry.get("name_en"), entry.get("name_native")] + list(entry.get("names", {}).values()):
            _add(names, ambiguous, name, code)
        for alias in entry.get("aliases", []):
            if _CODE.match(alias):
                three[alias] = code
            else:
                _add(names, ambiguous, alias, code)
    for key in ambiguous:
        names.pop(key, None)
    return two, three, names


def country_code(value) -> str | None:
    """ISO alpha-2 for a country code (alpha-2, alpha-3, ISO 3166-2 subdivision) written in capitals."""
    t = clean(value)
    alpha2, alpha3, _ = _countries()
    if t in alpha2:
        return t
    if t in alpha3:
        return alpha3[t]
    if t in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[t]
    m = _SUBDIVISION.match(t)
    if m and m.group(1) in alpha2:
        return m.group(1)
    return None


def country_name(value) -> str | None:
    """ISO alpha-2 for a country's name in one of the vocabulary's languages (the whole value only)."""
    key = fold(value or "")
    if key.startswith("the "):
        key = key[4:]
    return _countries()[2].get(key) if key else None


def country(value) -> str | None:
    """ISO alpha-2 for a country code or name, or for a URI whose last part is one; None when unclear."""
    t = clean(value)
    if not t:
        return None
    if "://" in t:
        return country_in_uri(t)
    return country_code(t) or country_name(t)


def country_in_uri(uri: str) -> str | None:
    """.../authority/country/KEN, .../countries/KE, .../Pais/España: the country a URI's last part names.

    Only URIs whose path says it is about countries are read (a bare code at the end of any URI is not).
    """
    try:
        path = unquote(urlsplit(clean(uri)).path)
    except ValueError:
        return None
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2:
        return None
    parent = fold(parts[-2])
    if not any(w in parent for w in ("country", "countries", "pais", "paises", "pays", "land", "laender", "nation")):
        return None
    last = parts[-1]
    return country_code(last.upper()) or country_name(last.replace("_", " "))


def language(value) -> str | None:
    """ISO 639-1 code for a language code, tag, name or URI.

    'eng', 'en_US', 'en-GB', 'English', 'Deutsch', 'eng; CAN', '.../language/ENG' -> 'en', 'de', ...
    None for 'und', 'mul', 'zxx', 'other' and what it cannot read.
    """
    t = clean(value)
    if not t:
        return None
    if "://" in t:
        t = unquote(urlsplit(t).path).rstrip("/").rsplit("/", 1)[-1]
    t = re.split(r"[;,]", t, maxsplit=1)[0].strip()
    if not t or fold(t) in _NOT_LANGUAGES:
        return None
    two, three, names = _languages()
    m = _LANG_TAG.match(t)
    if m:
        primary = m.group(1).lower()
        if primary in _NOT_LANGUAGES:
            return None
        if len(primary) == 2 and primary in two:
            return primary
        if primary in three:
            return three[primary]
    return names.get(fold(t))


def lang_tag(value) -> str:
    """A language tag for a text map: the language's code, or 'und' when unknown."""
    return language(value) or "und"
