"""The common POPs record: validation against schemas/pops_record.schema.json and its canonical form.

The schema is the only declaration of the record's fields; this module and the XML codec read it.
"""
from __future__ import annotations

import json

from functools import lru_cache
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from .schemas import load_json

SCHEMA_FILE = "pops_record.schema.json"


class InvalidRecord(ValueError):
    """A record that does not satisfy the schema; `problems` lists each as 'path: message'."""

    def __init__(self, problems: list[str], record_id: str | None = None):
        self.problems = problems
        self.record_id = record_id
        where = f"record {record_id}: " if record_id else ""
        super().__init__(where + "; ".join(problems))


def schema() -> dict:
    return load_json(SCHEMA_FILE)


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


@lru_cache(maxsize=1)
def _fast_check():
    """The schema compiled to Python: tells valid from invalid some 20 times faster than jsonschema."""
    return fastjsonschema.compile(schema())


def problems(record: dict) -> list[str]:
    """Every way the record breaks the schema or the vocabularies, as 'path: message' (empty when valid)."""
    unencodable = _unencodable_text(record)
    if unencodable:
        return unencodable
    try:
        _fast_check()(record)
    except fastjsonschema.JsonSchemaException:
        pass  # invalid: jsonschema below names every problem precisely
    else:
        return _vocabulary_problems(record)
    out = []
    for err in sorted(_validator().iter_errors(record), key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join(str(p) for p in err.absolute_path) or "(record)"
        out.append(f"{path}: {err.message}")
    if not out:
        out.extend(_vocabulary_problems(record))
    return out


def _unencodable_text(record) -> list[str]:
    """Text that is not Unicode (lone surrogates, as JSON input can carry: "\\ud800"): it could be neither
    stored nor sent, so it is named here rather than failing later."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
        return []
    except UnicodeEncodeError:
        pass
    except (TypeError, ValueError):
        return []   # not JSON at all: the schema check names it
    out = []

    def walk(value, path):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                out.append(f"{path or '(record)'}: text holds a lone surrogate (U+{ord(value[exc.start]):04X}) "
                           f"at character {exc.start}")
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k, f"{path}/{k!r}" if path else repr(k))
                walk(v, f"{path}/{k}" if path else str(k))
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{path}/{i}" if path else str(i))

    walk(record, "")
    return out


def _vocabulary_problems(record: dict) -> list[str]:
    from . import vocab  # late import: vocab loads data files

    out = []
    if record["type"] not in vocab.document_types():
        out.append(f"type: unknown document type {record['type']!r}")
    for cid in record.get("chemicals", []):
        if cid not in vocab.chemicals():
            out.append(f"chemicals: unknown chemical id {cid!r}")
    known_regions = vocab.regions()
    for field, values in (("regions", record.get("regions", [])),
                          ("assistance/eligible_regions", record.get("assistance", {}).get("eligible_regions", []))):
        for rid in values:
            if rid not in known_regions:
                out.append(f"{field}: unknown region id {rid!r}")
    return out


def validate(record: dict) -> dict:
    """Return the record if valid, else raise InvalidRecord naming every problem."""
    found = problems(record)
    if found:
        raise InvalidRecord(found, record.get("id") if isinstance(record, dict) else None)
    return record


def canonical(value: Any) -> Any:
    """Drop empty strings, lists, maps and None recursively; strip text. Records are stored in this form."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = canonical(v)
            if v not in (None, "", [], {}):
                out[k] = v
        return out
    if isinstance(value, (list, tuple)):
        items = [canonical(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    if isinstance(value, str):
        return value.strip()
    return value


def make_id(node: str, source: str, identifier: str) -> str:
    """The stable record id: origin node, source and the source's own identifier (whitespace removed)."""
    return f"{node}:{source}:{''.join(identifier.split())}"
