"""PLACEHOLDER until schemas/vocab/ exists: reads ../shared/vocab. To be replaced."""
import csv
from functools import lru_cache
from pathlib import Path

_SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "vocab"


def _rows(name):
    with open(_SHARED / name, encoding="utf-8") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


@lru_cache(maxsize=None)
def chemicals():
    return _rows("pops_chemicals.csv")


@lru_cache(maxsize=None)
def document_types():
    return _rows("document_types.csv")


@lru_cache(maxsize=None)
def regions():
    return _rows("regions.csv")
