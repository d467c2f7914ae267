"""node_config.yaml: load it, substitute ${ENV} values, validate it against schemas/node_config.schema.json.

Every problem is reported as 'file:line: where: message', all of them at once, so an operator fixes a
config in one pass. Unknown keys are errors: a misspelt key silently ignored is a source never harvested.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from .schemas import load_json

DEFAULT_CONFIG = "node_config.yaml"
ENV_CONFIG = "POPS_CHM_CONFIG"

HARVEST_DEFAULTS = {
    "batch_size": 500,
    "max_delete_share": 0.2,
    "timeout": 60,
    "retries": 5,
    "backoff": 1.0,
    "max_response_bytes": 200 * 1024 * 1024,
    "max_record_bytes": 5 * 1024 * 1024,
}


class ConfigError(Exception):
    """The config cannot be used; `problems` holds every 'file:line: message'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Map(dict):
    lines: dict


class _List(list):
    lines: list


class _Loader(yaml.SafeLoader):
    """A safe loader that remembers the line of every key and item, and refuses duplicate keys."""

    def construct_mapping(self, node, deep=False):
        out = _Map()
        out.lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {out.lines[key]})", key_node.start_mark)
            out[key] = self.construct_object(value_node, deep=True)
            out.lines[key] = key_node.start_mark.line + 1
        return out

    def construct_sequence(self, node, deep=False):
        out = _List(self.construct_object(child, deep=True) for child in node.value)
        out.lines = [child.start_mark.line + 1 for child in node.value]
        return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_sequence)

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _substitute(value):
    """${VAR} and ${VAR:-default} in strings; an unset variable without default becomes empty."""
    if isinstance(value, dict):
        for k in value:
            value[k] = _substitute(value[k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            value[i] = _substitute(v)
    elif isinstance(value, str) and "${" in value:
        whole = _ENV.fullmatch(value)
        value = _ENV.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
        if whole and value == "":
            return None
    return value


def _line(data, path) -> int:
    """The line of the deepest element of `path` that the YAML holds."""
    line, node = 1, data
    for part in path:
        lines = getattr(node, "lines", None)
        try:
            line = lines[part]
            node = node[part]
        except (TypeError, KeyError, IndexError):
            break
    return line


def _where(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top)"


@dataclass
class Config:
    path: Path
    data: dict
    node: dict = field(init=False)
    sources: list = field(init=False)
    peers: list = field(init=False)
    harvest: dict = field(init=False)

    def __post_init__(self):
        self.node = self.data["node"]
        self.sources = list(self.data.get("sources") or [])
        self.peers = list(self.data.get("peers") or [])
        self.harvest = {**HARVEST_DEFAULTS, **(self.data.get("harvest") or {})}

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, p: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        q = Path(os.path.expanduser(p))
        return q if q.is_absolute() else (self.base_dir / q)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.data["store"]["path"])

    @property
    def index(self) -> dict:
        return self.data["index"]

    @property
    def admin_token(self) -> str | None:
        return self.data.get("admin_token") or None

    def source(self, source_id: str) -> dict:
        for s in self.sources:
            if s["id"] == source_id:
                return s
        raise KeyError(f"no source {source_id!r} in {self.path}; sources: {', '.join(s['id'] for s in self.sources) or '(none)'}")

    def source_setting(self, src: dict, key: str):
        """A harvest setting for a source: its own value, else the config's `harvest` section, else the default."""
        return src.get(key, self.harvest[key])


def find_config(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load(path: str | Path) -> Config:
    """Load and validate a config; raise ConfigError listing every problem as 'file:line: message'."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such config file (give --config PATH or set {ENV_CONFIG})"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        raise ConfigError([f"{path}:{line}: invalid YAML: {problem}" + (f" ({context})" if context else "")]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: the config must be a mapping with keys node, store, index, sources ..."])
    data = _substitute(data)
    problems = _schema_problems(path, data) or _semantic_problems(path, data)
    if problems:
        raise ConfigError(problems)
    return Config(path.resolve(), data)


def _schema_problems(path: Path, data: dict) -> list[tuple[int, str]]:
    schema = load_json("node_config.schema.json")
    out = []
    for err in Draft202012Validator(schema).iter_errors(data):
        epath = list(err.absolute_path)
        if err.validator == "additionalProperties":
            allowed = sorted(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in allowed:
                    out.append((_line(data, epath + [key]),
                                f"{_where(epath + [key])}: unknown key {key!r} (allowed here: {', '.join(allowed)})"))
            continue
        if err.validator == "required":
            out.append((_line(data, epath), f"{_where(epath)}: {err.message}"))
            continue
        out.append((_line(data, epath), f"{_where(epath)}: {err.message}"))
    return [f"{path}:{line}: {msg}" for line, msg in sorted(set(out))]


def _semantic_problems(path: Path, data: dict) -> list[str]:
    """Rules that span several keys, which the schema cannot say clearly."""
    out: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for i, src in enumerate(data.get("sources") or []):
        where = ["sources", i]
        line = _line(data, where)
        sid = src["id"]
        if sid in seen:
            out.append((_line(data, where + ["id"]), f"sources[{i}].id: duplicate source id {sid!r} (also source {seen[sid]})"))
        seen.setdefault(sid, i)
        has_url, has_path = "url" in src, "path" in src
        if not (has_url or has_path):
            out.append((line, f"sources[{i}] ({sid}): a source needs a `url` or a `path`"))
        if has_url and has_path:
            out.append((_line(data, where + ["path"]), f"sources[{i}] ({sid}): give `url` or `path`, not both"))
        if src["type"] == "oaipmh" and "metadata_prefix" not in src:
            out.append((line, f"sources[{i}] ({sid}): an oaipmh source needs `metadata_prefix`"))
        if src["type"] in ("csw", "odata") and not has_url:
            out.append((line, f"sources[{i}] ({sid}): a {src['type']} source needs `url`"))
        if src["type"] == "odata" and "entity" not in src:
            out.append((line, f"sources[{i}] ({sid}): an odata source needs `entity` (documents, decisions, meetings, contacts, national_reports)"))
        for key, types in (("output_schema", ("csw",)), ("constraint", ("csw",)), ("method", ("csw",)),
                           ("page_size", ("csw", "odata")), ("entity", ("odata",)), ("select", ("odata",)),
                           ("expand", ("odata",)), ("modified_field", ("odata",))):
            if key in src and src["type"] not in types:
                out.append((_line(data, where + [key]), f"sources[{i}].{key}: only for {' and '.join(types)} sources"))
        if src["type"] in ("xml", "rdf") and "format" not in src:
            out.append((line, f"sources[{i}] ({sid}): an {src['type']} source needs `format` (the crosswalk to map it with)"))
        fmt = src.get("format") or src.get("metadata_prefix")
        if fmt:
            from . import crosswalks
            if fmt not in crosswalks.names():
                key = "format" if "format" in src else "metadata_prefix"
                out.append((_line(data, where + [key]),
                            f"sources[{i}].{key}: no crosswalk {fmt!r} (known: {', '.join(crosswalks.names())}; "
                            "for another OAI metadataPrefix set `format` to the crosswalk that maps it)"))
        if fmt == "xpath" and "xpath" not in src:
            out.append((line, f"sources[{i}] ({sid}): format xpath needs an `xpath` mapping"))
        if "schedule" in src:
            from .schedule import cron_trigger
            try:
                cron_trigger(src["schedule"])
            except ValueError as exc:
                out.append((_line(data, where + ["schedule"]), f"sources[{i}].schedule: bad cron expression {src['schedule']!r}: {exc}"))
        if has_path and not (path.parent / os.path.expanduser(src["path"])).exists():
            out.append((_line(data, where + ["path"]), f"sources[{i}].path: {src['path']} does not exist "
                        f"(paths are relative to {path.parent or '.'})"))
    solr = data["index"].get("solr") or {}
    if data["index"]["backend"] == "solr" and not (solr.get("url") or solr.get("zk_hosts")):
        out.append((_line(data, ["index"]), "index: backend solr needs solr.url (standalone) or solr.zk_hosts + solr.collection (SolrCloud)"))
    if solr.get("zk_hosts") and not solr.get("collection"):
        out.append((_line(data, ["index", "solr"]), "index.solr: zk_hosts needs a collection"))
    peer_ids: set[str] = set()
    for i, peer in enumerate(data.get("peers") or []):
        if peer["id"] in peer_ids:
            out.append((_line(data, ["peers", i, "id"]), f"peers[{i}].id: duplicate peer id {peer['id']!r}"))
        peer_ids.add(peer["id"])
    return [f"{path}:{line}: {msg}" for line, msg in sorted(out)]
