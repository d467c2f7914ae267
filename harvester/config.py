"""node_config.yaml: load it, substitute ${ENV} values, validate it against schemas/node_config.schema.json.

Every problem is reported as 'file:line: where: message', all of them at once, so an operator fixes a
config in one pass. Unknown keys are errors: a misspelt key silently ignored is a source never harvested.
"""
from __future__ import annotations

import json
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
# dates stay text (`from: 2020-01-01`), so that a day that does not exist is a problem to report, not a crash
_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)

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
    warnings: list = field(default_factory=list)   # 'file:line: message' of problems that stop one source only
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
        return _resolve(self.base_dir, p)

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

    def jsonld_contexts(self, src: dict) -> dict:
        """A source's local copies of remote JSON-LD contexts, {url: context document}; ValueError naming the
        file that is missing or not JSON."""
        out = {}
        for url, file in (src.get("jsonld_contexts") or {}).items():
            local = self.resolve(file)
            try:
                out[url] = json.loads(local.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ValueError(f"source {src['id']}: jsonld_contexts: {local} (the local copy of {url}) does not exist") from None
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValueError(f"source {src['id']}: jsonld_contexts: {local} (the local copy of {url}) is not JSON: {exc}") from None
        return out

    def source_setting(self, src: dict, key: str):
        """A harvest setting for a source: its own value, else the config's `harvest` section, else the default."""
        return src.get(key, self.harvest[key])


def find_config(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load(path: str | Path) -> Config:
    """Load and validate a config; raise ConfigError listing every problem as 'file:line: message'.

    A problem that stops only one source (its local file or folder is missing) does not stop the node: it is
    kept in `Config.warnings`, that source's harvest fails naming it, and everything else works.
    """
    path = Path(path)
    data = _read(path)
    errors, warnings = _problems(path, data)
    if errors:
        raise ConfigError(_report(path, errors + warnings))
    return Config(path.resolve(), data, _report(path, warnings))


def check(path: str | Path) -> tuple[Config | None, list[str]]:
    """What `config check` prints: the config (None when it cannot be used) and every problem in it, errors
    and warnings alike, in file order."""
    try:
        cfg = load(path)
    except ConfigError as exc:
        return None, exc.problems
    return cfg, cfg.warnings


def _read(path: Path) -> dict:
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
    return _substitute(data)


def _report(path: Path, problems: list[tuple[int, str]]) -> list[str]:
    return [f"{path}:{line}: {msg}" for line, msg in sorted(set(problems))]


def _problems(path: Path, data: dict) -> tuple[list, list]:
    """(errors, warnings), each a list of (line, message): the schema's and the semantic rules' in one pass."""
    base = path.parent
    errors = _schema_problems(data) + _semantic_problems(data, base)
    warnings = [p for i, src in _sources(data) for p in _missing_files(data, i, src, base)]
    return errors, warnings


# ---------------------------------------------------------------- the schema, in words

_TYPE_WORDS = {"object": "a mapping (key: value)", "array": "a list", "string": "text", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "empty"}


def _schema_problems(data: dict) -> list[tuple[int, str]]:
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
            for key in err.validator_value:
                if isinstance(err.instance, dict) and key not in err.instance:
                    out.append((_line(data, epath), f"{_where(epath)}: `{key}` is required"))
            continue
        out.append((_line(data, epath), f"{_where(epath)}: {_in_words(err)}"))
    return out


def _in_words(err) -> str:
    """A schema error as an operator reads it: what the value must be, and what it was."""
    given = f" (not {err.instance!r})"
    words = err.schema.get("x-words")
    if words:
        return f"must be {words}{given}"
    v, value = err.validator, err.validator_value
    if v == "enum":
        return f"must be one of {', '.join(map(str, value))}{given}"
    if v == "type":
        kinds = value if isinstance(value, list) else [value]
        return f"must be {' or '.join(_TYPE_WORDS.get(k, k) for k in kinds)}{given}"
    if v == "minimum":
        return f"must be at least {value}{given}"
    if v == "maximum":
        return f"must be at most {value}{given}"
    if v == "exclusiveMinimum":
        return f"must be more than {value}{given}"
    if v == "minLength":
        return "must not be empty"
    return err.message


# ---------------------------------------------------------------- rules the schema cannot say

_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))


def _sources(data: dict):
    """(index, source) for each source that is a mapping (the schema reports the others)."""
    sources = data.get("sources")
    return [(i, s) for i, s in enumerate(sources) if isinstance(s, dict)] if isinstance(sources, list) else []


def _semantic_problems(data: dict, base: Path) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for i, src in _sources(data):
        sid = src.get("id")
        if isinstance(sid, str):
            if sid in seen:
                out.append((_line(data, ["sources", i, "id"]), f"sources[{i}].id: duplicate source id {sid!r} (also source {seen[sid]})"))
            seen.setdefault(sid, i)
        out += _source_problems(data, i, src)
        out += _defaults_problems(data, i, src)
        out += _xpath_problems(data, i, src)
    out += _index_problems(data)
    peer_ids: set = set()
    for i, peer in enumerate(data.get("peers") if isinstance(data.get("peers"), list) else []):
        pid = peer.get("id") if isinstance(peer, dict) else None
        if pid is not None and pid in peer_ids:
            out.append((_line(data, ["peers", i, "id"]), f"peers[{i}].id: duplicate peer id {pid!r}"))
        peer_ids.add(pid)
    return out


def _index_problems(data: dict) -> list[tuple[int, str]]:
    index = data.get("index") if isinstance(data.get("index"), dict) else {}
    solr = index.get("solr") if isinstance(index.get("solr"), dict) else {}
    out = []
    if index.get("backend") == "solr" and not (solr.get("url") or solr.get("zk_hosts")):
        out.append((_line(data, ["index"]), "index: backend solr needs solr.url (standalone) or solr.zk_hosts + solr.collection (SolrCloud)"))
    if solr.get("zk_hosts") and not solr.get("collection"):
        out.append((_line(data, ["index", "solr"]), "index.solr: zk_hosts needs a collection"))
    return out


def _source_problems(data: dict, i: int, src: dict) -> list[tuple[int, str]]:
    """A source's keys that only make sense together: url or path, the protocol's own keys, format, schedule."""
    where = ["sources", i]
    line, sid, stype = _line(data, where), src.get("id", f"#{i}"), src.get("type")
    out = []
    has_url, has_path = "url" in src, "path" in src
    if not (has_url or has_path):
        out.append((line, f"sources[{i}] ({sid}): a source needs a `url` or a `path`"))
    if has_url and has_path:
        out.append((_line(data, where + ["path"]), f"sources[{i}] ({sid}): give `url` or `path`, not both"))
    if stype == "oaipmh" and "metadata_prefix" not in src:
        out.append((line, f"sources[{i}] ({sid}): an oaipmh source needs `metadata_prefix`"))
    if stype in ("csw", "odata") and not has_url:
        out.append((line, f"sources[{i}] ({sid}): a {stype} source needs `url`"))
    if stype == "odata" and "entity" not in src:
        out.append((line, f"sources[{i}] ({sid}): an odata source needs `entity` (documents, decisions, meetings, contacts, national_reports)"))
    for key, types in (("output_schema", ("csw",)), ("constraint", ("csw",)), ("method", ("csw",)),
                       ("page_size", ("csw", "odata")), ("entity", ("odata",)), ("select", ("odata",)),
                       ("expand", ("odata",)), ("modified_field", ("odata",)), ("jsonld_contexts", ("rdf",))):
        if key in src and stype in _SOURCE_TYPES and stype not in types:
            out.append((_line(data, where + [key]), f"sources[{i}].{key}: only for {' and '.join(types)} sources"))
    if stype in ("xml", "rdf") and "format" not in src:
        out.append((line, f"sources[{i}] ({sid}): an {stype} source needs `format` (the crosswalk to map it with)"))
    fmt = src.get("format") or src.get("metadata_prefix")
    if isinstance(fmt, str):
        from . import crosswalks
        if fmt not in crosswalks.names():
            key = "format" if "format" in src else "metadata_prefix"
            out.append((_line(data, where + [key]),
                        f"sources[{i}].{key}: no crosswalk {fmt!r} (known: {', '.join(crosswalks.names())}; "
                        "for another OAI metadataPrefix set `format` to the crosswalk that maps it)"))
    if isinstance(src.get("schedule"), str):
        problem = _cron_problem(src["schedule"])
        if problem:
            out.append((_line(data, where + ["schedule"]), f"sources[{i}].schedule: bad cron expression {src['schedule']!r}: {problem}"))
    from .dates import normalise_datestamp
    days = {}
    for key in ("from", "until"):
        if isinstance(src.get(key), str) and re.match(r"\d{4}-\d{2}-\d{2}", src[key]):
            days[key] = normalise_datestamp(src[key][:10])
            if normalise_datestamp(src[key]) is None:
                out.append((_line(data, where + [key]), f"sources[{i}].{key}: {src[key]!r} is not a real date (YYYY-MM-DD)"))
    if days.get("from") and days.get("until") and days["from"] > days["until"]:
        out.append((_line(data, where + ["until"]), f"sources[{i}].until: {src['until']!r} is before from {src['from']!r}"))
    for url in (src.get("jsonld_contexts") or {}) if isinstance(src.get("jsonld_contexts"), dict) else ():
        if not re.match(r"https?://", str(url)):
            out.append((_line(data, where + ["jsonld_contexts", url]),
                        f"sources[{i}].jsonld_contexts: {url!r} is not a URL (map each remote context's http:// or https:// URL to a local file)"))
    return out


_SOURCE_TYPES = ("oaipmh", "xml", "rdf", "csw", "odata")


def _cron_problem(expr: str) -> str | None:
    """Why a cron expression cannot be used, naming the field; None when it can."""
    from .schedule import cron_trigger
    fields = expr.split()
    for (name, low, high), value in zip(_CRON_FIELDS, fields):
        for number in re.findall(r"\d+", value.split("/")[0]):
            if not low <= int(number) <= high:
                return f"the {name} field allows {low}-{high}, not {number}"
    try:
        cron_trigger(expr)
    except ValueError as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------- defaults against the vocabularies

def _defaults_problems(data: dict, i: int, src: dict) -> list[tuple[int, str]]:
    """Defaults the harvest could not use: an unknown document type fails every record, an unknown country,
    language or chemical would be dropped without a word."""
    defaults = src.get("defaults")
    if not isinstance(defaults, dict):
        return []
    out = []
    for key, value in defaults.items():
        values = value if isinstance(value, list) else [value]
        for n, item in enumerate(values):
            if not isinstance(item, str):
                continue
            problem = _default_problem(key, item)
            if problem:
                epath = ["sources", i, "defaults", key] + ([n] if isinstance(value, list) else [])
                out.append((_line(data, epath), f"{_where(epath)}: {problem}"))
    return out


def _default_problem(key: str, value: str) -> str | None:
    from . import enrich, vocab
    if key == "type":
        if value.replace("-", "_") in vocab.document_types():
            return None
        near = _near(value, list(vocab.document_types()))
        return (f"{value!r} is not a document type" + (f"; did you mean {near}?" if near else "")
                + " (the ids: `pops-chm vocab list types`)")
    if key in ("country", "countries"):
        if not re.fullmatch(r"[A-Za-z]{2}", value) or value.upper() in vocab.countries():
            return None             # a value that is not two letters is the schema's to report
        return f"{value!r} is not an ISO 3166 country code (the codes: `pops-chm vocab list countries`)"
    if key in ("language", "languages"):
        if enrich.normalise_language(value):
            return None
        return f"{value!r} is not a language the node knows (the codes: `pops-chm vocab list languages`)"
    if key == "chemicals":
        if value in vocab.chemicals() or enrich.recognise_chemicals(value):
            return None
        return f"{value!r} is not a POPs chemical of Annex A, B or C (the ids: `pops-chm vocab list chemicals`)"
    return None


def _near(value: str, ids: list[str]) -> str | None:
    """The ids a mistyped one most likely meant ('study' -> scientific_technical_study)."""
    import difflib
    word = value.lower().replace("-", "_")
    found = [x for x in ids if word in x] or difflib.get_close_matches(word, ids, n=2, cutoff=0.6)
    return " or ".join(found[:2]) or None


# ---------------------------------------------------------------- XPath

def _xpath_problems(data: dict, i: int, src: dict) -> list[tuple[int, str]]:
    """The record XPath and an xpath mapping, compiled as the harvest compiles them."""
    from .crosswalks import xpath
    where = ["sources", i]
    out = []
    mapping = src.get("xpath")
    namespaces = mapping.get("namespaces") if isinstance(mapping, dict) and isinstance(mapping.get("namespaces"), dict) else {}
    if isinstance(src.get("record_xpath"), str):
        try:
            xpath.compile_expression(src["record_xpath"], namespaces, "record_xpath")
        except ValueError as exc:
            out.append((_line(data, where + ["record_xpath"]), f"sources[{i}].{str(exc).removeprefix('xpath mapping: ')}"))
    if (src.get("format") or src.get("metadata_prefix")) != "xpath":
        return out
    if mapping is None:
        out.append((_line(data, where), f"sources[{i}] ({src.get('id')}): format xpath needs an `xpath` mapping"))
    elif isinstance(mapping, dict):
        try:
            xpath.compile_spec(xpath.source_mapping(src))
        except ValueError as exc:
            out.append((_line(data, where + ["xpath"]), f"sources[{i}].xpath: {str(exc).removeprefix('xpath mapping: ')}"))
    return out


# ---------------------------------------------------------------- files a source reads

def _missing_files(data: dict, i: int, src: dict, base: Path) -> list[tuple[int, str]]:
    """A source's local file, folder or JSON-LD context that is not there: that source fails, the node runs."""
    where = ["sources", i]
    out = []
    why = f"source {src.get('id', f'#{i}')} cannot be harvested until it is there; the other sources run"
    if isinstance(src.get("path"), str) and not _resolve(base, src["path"]).exists():
        out.append((_line(data, where + ["path"]), f"sources[{i}].path: {src['path']} does not exist "
                    f"(paths are relative to {base.resolve()}); {why}"))
    contexts = src.get("jsonld_contexts")
    for url, file in (contexts.items() if isinstance(contexts, dict) else ()):
        if isinstance(file, str) and not _resolve(base, file).is_file():
            out.append((_line(data, where + ["jsonld_contexts", url]),
                        f"sources[{i}].jsonld_contexts: {file} (the local copy of {url}) does not exist; {why}"))
    return out


def _resolve(base: Path, p: str) -> Path:
    q = Path(os.path.expanduser(p))
    return q if q.is_absolute() else base / q
