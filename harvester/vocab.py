"""The controlled vocabularies of schemas/vocab/, loaded once.

Each file is a JSON object keyed by id (chemical id, document type id, ISO 3166-1 alpha-2 code, region id,
ISO 639-1 code); keys starting with "_" (such as "_note", which says where values come from) are not
entries. Every accessor returns a dict id -> entry, in file order, shared between callers: do not modify it.
"""
from __future__ import annotations

from functools import lru_cache

from .schemas import load_json

VOCAB_DIR = "vocab"
UN_LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")  # the UN order

_FILES = {
    "chemicals": "chemicals.json",
    "document_types": "document_types.json",
    "countries": "countries.json",
    "regions": "regions.json",
    "languages": "languages.json",
}
_KIND_ALIASES = {"chemical": "chemicals", "document_type": "document_types", "type": "document_types",
                 "country": "countries", "region": "regions", "language": "languages"}
# Where the display names of an entry are, per vocabulary.
_LABEL_FIELD = {"chemicals": "names", "document_types": "labels", "countries": "names",
                "regions": "names", "languages": "names"}


@lru_cache(maxsize=None)
def _raw(kind: str) -> dict:
    return load_json(f"{VOCAB_DIR}/{_FILES[kind]}")


@lru_cache(maxsize=None)
def _entries(kind: str) -> dict:
    return {k: v for k, v in _raw(kind).items() if not k.startswith("_")}


def _kind(kind: str) -> str:
    kind = _KIND_ALIASES.get(kind, kind)
    if kind not in _FILES:
        raise KeyError(f"unknown vocabulary {kind!r}; known: {', '.join(_FILES)}")
    return kind


def chemicals() -> dict:
    """POPs chemicals of Annexes A, B and C: id -> {id, annexes, year_listed, cop_decisions, cas, group, names, synonyms}."""
    return _entries("chemicals")


def document_types() -> dict:
    """Document types: id -> {id, labels, articles, description_en}."""
    return _entries("document_types")


def countries() -> dict:
    """ISO 3166-1 countries: alpha-2 -> {alpha2, alpha3, numeric, names, aliases_en?, un_group?}."""
    return _entries("countries")


def regions() -> dict:
    """UN regional groups and Stockholm Convention regional centres: id -> {id, type, names, ...}."""
    return _entries("regions")


def languages() -> dict:
    """ISO 639-1 languages, the six UN languages first: code -> {code, iso639_2, iso639_3, names, un_language, ...}."""
    return _entries("languages")


def note(kind: str) -> str:
    """The file's "_note": where its values come from and what was added beyond the shared reference."""
    return _raw(_kind(kind)).get("_note", "")


def region_of(country_code: str) -> list[str]:
    """Region ids a country belongs to: its UN regional group ([] for codes outside the 193 UN Member States)."""
    entry = countries().get((country_code or "").strip().upper())
    if entry and entry.get("un_group"):
        return [entry["un_group"]]
    return []


def label(kind: str, id: str, lang: str = "en") -> str | None:
    """The display name of an entry in a language (a BCP 47 tag: its primary subtag is used), falling back to
    English, then to any name the entry has; None for an unknown id."""
    entries = _entries(_kind(kind))
    entry = entries.get(id)
    if entry is None and _kind(kind) == "countries" and isinstance(id, str):
        entry = entries.get(id.upper())
    if entry is None:
        return None
    names = entry.get(_LABEL_FIELD[_kind(kind)], {})
    primary = (lang or "en").replace("_", "-").split("-")[0].lower()
    for candidate in (primary, "en"):
        if names.get(candidate):
            return names[candidate]
    for value in names.values():
        if value:
            return value
    return None
