"""The crosswalk registry: one module per metadata format, each registered under the name configs use.

A crosswalk is a pure function from a RawRecord to a partial POPs record (the fields the format
carries); `map_record` adds identity and provenance, applies the source's defaults, runs the shared
enrichment and validates. Adding a format means adding a module here and listing it in _MODULES.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Iterator

from ..raw import RawRecord


@dataclass(frozen=True)
class Crosswalk:
    name: str
    extract: Callable[[RawRecord], dict]                 # raw record -> partial POPs record
    split: Callable[[bytes, str], Iterator[RawRecord]]   # a whole file as a source sends it -> raw records
    description: str = ""
    native: bool = False                                 # records carry their own identity and path (pops)


_REGISTRY: dict[str, Crosswalk] = {}
_MODULES = ("pops", "oai_dc", "iso19139", "dcat", "xpath", "informea")


def register(cw: Crosswalk) -> Crosswalk:
    _REGISTRY[cw.name] = cw
    return cw


def _load() -> None:
    for mod in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise


def names() -> list[str]:
    _load()
    return sorted(_REGISTRY)


def get(name: str) -> Crosswalk:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; known formats: {', '.join(sorted(_REGISTRY))}") from None
