"""Exchange records without a live connection: bundles (e-mail, a USB stick) and OAI static repositories.

Interface
---------
    export_bundle(cfg, store, path, since=None, sources=()) -> ExportReport
    verify_bundle(path, limits=Limits(), expect_sha256=None) -> Bundle    # reads the file only; BundleError if bad
    load_bundle(cfg, store, bundle) -> ImportReport                        # stores it, then catches the index up
    export_static(cfg, store, path, sources=(), base_url=None) -> ExportReport
    parse_since(text) -> 'YYYY-MM-DDThh:mm:ssZ' | None                     # ValueError naming the expected forms

The bundle
----------
A ZIP file (any unzip tool lists and reads it) holding exactly three members:

- ``records.jsonl``: one live record per line, the stored record JSON as it is (the shape ``pops-chm map``
  prints). JSON Lines rather than ``pops`` XML: it is the store's own form, so nothing is converted either
  way; it is read line by line with a size cap per line; and no XML parser touches the untrusted input.
  Provenance travels inside each record (``origin``, ``path``).
- ``tombstones.jsonl``: one deleted record per line: ``{"id", "source", "origin", "deleted", "datestamp"}``
  (``deleted``: when the exporting node recorded the deletion; the record's content does not travel).
- ``manifest.json``: ``format`` ("pops-chm-bundle"), ``format_version`` ("MAJOR.MINOR"), ``created``, the
  exporting ``node`` (id, name, url, country), ``software`` (name, version), the ``selection`` (since,
  until: the moment of the snapshot, sources), ``counts`` (records, tombstones), ``members`` (SHA-256 and
  size of each data member) and ``manifest_sha256``, the SHA-256 of the manifest's canonical JSON without
  that field.

A reader accepts any minor version of the major versions it knows (:data:`READS_MAJOR`) and refuses a newer
major version with a message asking to upgrade. The checksums find damage and careless edits; someone who
edits on purpose can recompute them, so compare the SHA-256 of the whole file that the export prints
(``import --sha256``) when the channel is not trusted.

Import is two passes over the file. Pass one (:func:`verify_bundle`) stores nothing: it checks the ZIP's
directory before reading it (member count and directory size), the member names (never used as paths), the
manifest (format, version, its own checksum), every member's size, SHA-256 and line count against the
manifest, and every record against the record schema, decompressing as a stream under :class:`Limits`. Pass
two (:func:`load_bundle`) reads the file again in chunks of :data:`CHUNK` lines and stores each chunk with
``Store.apply_batch`` only after checking its digest against pass one, so nothing that was not verified is
ever stored. Memory stays flat: only one chunk, and one 32-byte digest per chunk, is held.

Records are stored under the source ``import-<node id>`` (seen in ``pops-chm status`` with the import's
counts as its last run), in the native format, their path extended with this node, as a harvest of the
exporting node's ``/oai`` in the ``pops`` format would store them. Importing twice changes nothing. A record
that already passed through this node (its path holds this node: this node's own records coming back,
loops, and any record claiming this node as its origin) is skipped, and so is a version older than the one held: a node importing its own bundle neither
duplicates nor downgrades anything. A tombstone deletes the record where this node holds it from the
bundle's node (under ``import-<node id>``, or any record whose origin is that node), unless this node holds
a version newer than the deletion; it never deletes this node's own records, and a tombstone of a record
never held here changes nothing.

The OAI static repository
-------------------------
``export_static`` writes the OAI "Specification for an OAI Static Repository" file: ``Identify``,
``ListMetadataFormats`` (oai_dc, pops) and one ``ListRecords`` per format, in the strict profile the
specification's schema asks for (day granularity, no sets, ``deletedRecord`` no, no deleted records): a
harvester of a static repository takes a record missing from the file as deleted. It is streamed with
``lxml.etree.xmlfile``. Its ``baseURL`` is by the specification the gateway's URL followed by the file's URL
without ``http://``; give it as ``base_url`` (default: this node's own ``/oai``).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

from . import __version__
from . import record as record_mod
from .dates import normalise_datestamp, utcnow
from .store import NATIVE_FORMAT, Item, Store

BUNDLE_FORMAT = "pops-chm-bundle"
FORMAT_VERSION = "1.0"
READS_MAJOR = 1                       # this node reads bundle format 1.x
MANIFEST, RECORDS, TOMBSTONES = "manifest.json", "records.jsonl", "tombstones.jsonl"
DATA_MEMBERS = (RECORDS, TOMBSTONES)
CHUNK = 500                           # lines per digest in pass one and per stored batch in pass two
NEXT_SINCE_MARGIN = timedelta(minutes=5)   # a store batch begun before the snapshot may commit after it
IMPORT_SOURCE_PREFIX = "import-"
SOFTWARE = "pops-chm"

_NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ZIP_END, _ZIP64_LOCATOR, _ZIP64_END = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_MAX_ZIP_ENTRIES = 16                 # a bundle has 3; a few more are reported by name, many are refused unread
_MAX_ZIP_DIRECTORY = 64 * 1024


class BundleError(ValueError):
    """The file is not a bundle this node can import: damaged, edited, too big or too new. The message names
    what is wrong; nothing from the file has been stored."""


class ImportBusy(RuntimeError):
    """Another import of the same node's bundles (the same source) is running."""


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile file from exhausting the disk, memory or time; sizes in bytes."""
    max_file_bytes: int = 4 * 1024 ** 3
    max_member_bytes: int = 4 * 1024 ** 3      # decompressed, per member, enforced while streaming
    max_record_bytes: int = 5 * 1024 * 1024    # one line of records.jsonl
    max_tombstone_bytes: int = 64 * 1024       # one line of tombstones.jsonl
    max_manifest_bytes: int = 64 * 1024

    @classmethod
    def for_config(cls, cfg) -> "Limits":
        """The defaults, with the config's harvest.max_record_bytes as the cap of one record."""
        return cls(max_record_bytes=int(cfg.harvest.get("max_record_bytes") or cls.max_record_bytes))


@dataclass
class ExportReport:
    path: Path
    format: str
    records: int = 0
    tombstones: int = 0                 # carried (bundle) or left out (oai-static: the format has none)
    bytes: int = 0
    sha256: str = ""
    until: str = ""                     # the snapshot's time: changes after it are in the next export

    @property
    def next_since(self) -> str:
        """The --since of the next incremental export: a little before this one's snapshot (imports of
        overlapping bundles are idempotent, a gap would lose changes)."""
        t = datetime.strptime(self.until, "%Y-%m-%dT%H:%M:%SZ") - NEXT_SINCE_MARGIN
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def summary(self) -> str:
        if self.format == "bundle":
            return (f"{self.path}: {self.records} records, {self.tombstones} tombstones, {self.bytes} bytes, "
                    f"sha256 {self.sha256}; next incremental export: --since {self.next_since}")
        left = f"; {self.tombstones} deleted records not carried (a static repository has none)" if self.tombstones else ""
        return f"{self.path}: OAI static repository, {self.records} records in oai_dc and pops, {self.bytes} bytes{left}"


@dataclass
class ImportReport:
    node: str                            # the exporting node
    source: str                          # the source the records are stored under here
    created: str = ""
    records: int = 0
    stored: int = 0
    unchanged: int = 0
    passed_here: int = 0                 # already passed through this node: skipped
    older: int = 0                       # not newer than the version held (or deleted) here: skipped
    tombstones: int = 0
    deleted: int = 0
    already_deleted: int = 0             # tombstones of records deleted here already
    not_held: int = 0                    # tombstones of records this node does not hold
    kept: int = 0                        # tombstones not applied: own record, another path's, or newer held
    index_error: str | None = None

    def summary(self) -> str:
        return (f"bundle of node {self.node} ({self.created}) imported as source {self.source}: "
                f"{self.records} records: {self.stored} stored, {self.unchanged} unchanged, "
                f"{self.passed_here} already passed through this node, {self.older} older than held here; "
                f"{self.tombstones} tombstones: {self.deleted} deleted, {self.already_deleted} already deleted, "
                f"{self.not_held} not held here, {self.kept} kept")

    def counters(self) -> dict:
        """As a harvest run counts: what `pops-chm status` shows as the source's last run."""
        return {"seen": self.records + self.tombstones, "stored": self.stored, "deleted": self.deleted,
                "unchanged": self.unchanged + self.already_deleted,
                "skipped": self.passed_here + self.older + self.not_held + self.kept}


@dataclass
class Bundle:
    """A file that passed verification: its manifest, and the digest of each chunk of each data member,
    which pass two checks again before storing the chunk."""
    path: Path
    manifest: dict
    digests: dict[str, list[bytes]] = field(default_factory=dict)

    @property
    def node_id(self) -> str:
        return self.manifest["node"]["id"]

    @property
    def counts(self) -> dict:
        return self.manifest["counts"]


# ---------------------------------------------------------------- small helpers

def parse_since(text: str | None) -> str | None:
    """A --since value as the store's UTC datestamp; ValueError naming the accepted forms."""
    if text is None or not text.strip():
        return None
    stamp = normalise_datestamp(text)
    if stamp is None:
        raise ValueError(f"{text!r} is not a date: give YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)")
    return stamp


def import_source(node_id: str) -> str:
    """The source id records from a node's bundles are stored under (a valid source id and OAI setSpec)."""
    return f"{IMPORT_SOURCE_PREFIX}{node_id}"


def _shown(value, limit: int = 60) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _manifest_digest(manifest: dict) -> str:
    return hashlib.sha256(_canonical_json({k: v for k, v in manifest.items() if k != "manifest_sha256"})).hexdigest()


def _file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


@contextmanager
def _snapshot(store: Store):
    """One read transaction: every query inside sees the store as it was at its start (WAL snapshot), so a
    harvest running meanwhile cannot put a record both in the records and the tombstones. Yields its time."""
    until = utcnow()   # taken before the snapshot: whatever commits after it has `changed` >= until
    store.db.execute("BEGIN")
    try:
        store.db.execute("SELECT COUNT(*) FROM records WHERE seq = 0").fetchone()   # the snapshot starts here
        yield until
    finally:
        store.db.execute("ROLLBACK")


def _rows(store: Store, columns: str, *, deleted: bool, since: str | None, sources) -> Iterator:
    """Rows of the records table in change order, a page at a time (memory stays flat)."""
    where, args = " AND deleted = ?", [int(deleted)]
    if since:
        where += " AND changed >= ?"
        args.append(since)
    if sources:
        where += f" AND source IN ({','.join('?' * len(sources))})"
        args.extend(sources)
    after = 0
    while True:
        rows = store.db.execute(f"SELECT seq, {columns} FROM records WHERE seq > ?{where} ORDER BY seq LIMIT 500",
                                [after, *args]).fetchall()
        if not rows:
            return
        yield from rows
        after = rows[-1]["seq"]


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write beside the target and rename: an interrupted export never leaves a half file under its name."""
    tmp = path.with_name(path.name + ".part")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- bundle: export

def _record_lines(store: Store, since, sources) -> Iterator[bytes]:
    for row in _rows(store, "record", deleted=False, since=since, sources=sources):
        text = row["record"]
        if not text:
            continue
        if "\n" in text:   # the store writes one line per record; anything else is re-encoded, never split
            text = json.dumps(json.loads(text), ensure_ascii=False)
        yield text.encode("utf-8") + b"\n"


def _tombstone_lines(store: Store, since, sources) -> Iterator[bytes]:
    cols = "id, source, datestamp, changed, json_extract(record, '$.origin') AS origin"
    for row in _rows(store, cols, deleted=True, since=since, sources=sources):
        tomb = {"id": row["id"], "source": row["source"], "deleted": row["changed"], "datestamp": row["datestamp"]}
        if row["origin"]:
            tomb["origin"] = json.loads(row["origin"])
        yield json.dumps(tomb, ensure_ascii=False).encode("utf-8") + b"\n"


def _zip_info(name: str, created: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=tuple(int(x) for x in re.findall(r"\d+", created)[:6]))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def export_bundle(cfg, store: Store, path, *, since: str | None = None, sources=()) -> ExportReport:
    """Write the records and tombstones this node changed at or after `since` (all when None), of the given
    sources (all when empty), as a bundle at `path`. Streams: memory does not grow with the records."""
    path = Path(path)
    report = ExportReport(path, "bundle")
    sources = sorted(set(sources))

    def write(tmp: Path) -> None:
        with _snapshot(store) as until, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            report.until = until
            members, counts = {}, {}
            for name, key, lines in ((RECORDS, "records", _record_lines(store, since, sources)),
                                     (TOMBSTONES, "tombstones", _tombstone_lines(store, since, sources))):
                sha, size, n = hashlib.sha256(), 0, 0
                with zf.open(_zip_info(name, until), "w", force_zip64=True) as out:
                    for line in lines:
                        out.write(line)
                        sha.update(line)
                        size += len(line)
                        n += 1
                members[name] = {"sha256": sha.hexdigest(), "bytes": size}
                counts[key] = n
            node = {k: cfg.node[k] for k in ("id", "name", "url", "country") if cfg.node.get(k)}
            manifest = {"format": BUNDLE_FORMAT, "format_version": FORMAT_VERSION, "created": until, "node": node,
                        "software": {"name": SOFTWARE, "version": __version__},
                        "selection": {"since": since, "until": until, "sources": sources or None},
                        "counts": counts, "members": members}
            manifest["manifest_sha256"] = _manifest_digest(manifest)
            zf.writestr(_zip_info(MANIFEST, until), json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
            report.records, report.tombstones = counts["records"], counts["tombstones"]

    _write_atomically(path, write)
    report.bytes = path.stat().st_size
    report.sha256 = _file_sha256(path)
    return report


# ---------------------------------------------------------------- bundle: reading safely

def _check_zip_directory(fh, size: int) -> None:
    """Refuse, before zipfile reads it into memory, a ZIP directory with many members or of a large size.
    Finds the end record (and the ZIP64 one) where zipfile looks for them."""
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    if tail[-22:-18] == _ZIP_END and tail[-2:] == b"\0\0":
        at = len(tail) - 22
    else:
        at = tail.rfind(_ZIP_END)
        if at < 0 or len(tail) - at < 22:
            raise BundleError("not a ZIP file, or a truncated one: its end record is missing")
    entries, directory = struct.unpack("<HI", tail[at + 10: at + 16])
    locator = tail[at - 20: at] if at >= 20 else b""
    if locator[:4] == _ZIP64_LOCATOR:
        end64_at = size - tail_len + at - 20 - 56
        if end64_at < 0:
            raise BundleError("damaged ZIP file: its ZIP64 end record is missing")
        fh.seek(end64_at)
        end64 = fh.read(56)
        if end64[:4] != _ZIP64_END:
            raise BundleError("damaged ZIP file: its ZIP64 end record is missing")
        entries, directory = struct.unpack("<QQ", end64[32:48])
    if entries > _MAX_ZIP_ENTRIES or directory > _MAX_ZIP_DIRECTORY:
        raise BundleError(f"the ZIP file holds {entries} members in a directory of {directory} bytes; a bundle "
                          f"holds {len(DATA_MEMBERS) + 1}: not a bundle")


@contextmanager
def _open_zip(path: Path, limits: Limits):
    """The bundle's ZipFile, after checking its size, directory and member names (never used as paths)."""
    try:
        size = path.stat().st_size
        fh = open(path, "rb")
    except OSError as exc:
        raise BundleError(f"cannot read the file: {exc.strerror}") from None
    with fh:
        if size > limits.max_file_bytes:
            raise BundleError(f"the file has {size} bytes, more than the limit of {limits.max_file_bytes}")
        _check_zip_directory(fh, size)
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, ValueError, EOFError, OSError, struct.error) as exc:
            raise BundleError(f"damaged ZIP file ({exc})") from None
        with zf:
            names = [i.filename for i in zf.infolist()]
            expected = (MANIFEST, *DATA_MEMBERS)
            for name in names:
                if names.count(name) > 1:
                    raise BundleError(f"the member {_shown(name)} appears twice")
                if name not in expected:
                    raise BundleError(f"holds an unexpected member {_shown(name)} (a bundle holds exactly "
                                      f"{', '.join(expected)}): a member was added")
            missing = [n for n in expected if n not in names]
            if missing:
                raise BundleError(f"lacks the member{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                                  "a member was removed, or this is not a bundle")
            for info in zf.infolist():
                if info.flag_bits & 0x1:
                    raise BundleError(f"{info.filename} is encrypted; bundles are not")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise BundleError(f"{info.filename} uses ZIP compression method {info.compress_type}; "
                                      "bundles use deflate")
            yield zf


_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error)


def _member_lines(zf: zipfile.ZipFile, name: str, declared: int, max_line: int) -> Iterator[bytes]:
    """The lines of a data member, decompressed as a stream; never more than `declared` bytes are read, nor
    a line longer than `max_line`."""
    read = n = 0
    try:
        with zf.open(name) as fh:
            while True:
                line = fh.readline(max_line + 1)
                if not line:
                    break
                n += 1
                read += len(line)
                if read > declared:
                    raise BundleError(f"{name} holds more than the {declared} bytes the manifest states")
                if not line.endswith(b"\n"):
                    if len(line) > max_line:
                        raise BundleError(f"{name} line {n} is longer than the limit of {max_line} bytes")
                    raise BundleError(f"{name} ends in the middle of line {n}: truncated or damaged")
                yield line
    except BundleError:
        raise
    except _DAMAGE as exc:
        raise BundleError(f"{name} is damaged ({exc})") from None
    if read != declared:
        raise BundleError(f"{name} holds {read} bytes; the manifest says {declared}")


def _read_manifest(zf: zipfile.ZipFile, limits: Limits) -> dict:
    info = zf.getinfo(MANIFEST)
    if info.file_size > limits.max_manifest_bytes:
        raise BundleError(f"{MANIFEST} has {info.file_size} bytes, more than the limit of {limits.max_manifest_bytes}")
    try:
        with zf.open(info) as fh:
            data = fh.read(limits.max_manifest_bytes + 1)
    except _DAMAGE as exc:
        raise BundleError(f"{MANIFEST} is damaged ({exc})") from None
    try:
        manifest = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise BundleError(f"{MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BundleError(f"not a pops-chm bundle (its manifest names the format {_shown(found)}, not {BUNDLE_FORMAT!r})")
    _check_version(manifest)
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        raise BundleError(f"{MANIFEST} does not match its own checksum (manifest_sha256): it was edited or damaged")
    problem = _manifest_problem(manifest, limits)
    if problem:
        raise BundleError(f"{MANIFEST}: {problem}")
    return manifest


def _check_version(manifest: dict) -> None:
    version = manifest.get("format_version")
    m = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if not m:
        raise BundleError(f"{MANIFEST}: unreadable format_version {_shown(version)} (expected MAJOR.MINOR)")
    if int(m.group(1)) > READS_MAJOR:
        software = manifest.get("software") if isinstance(manifest.get("software"), dict) else {}
        made_by = re.sub(r"[^\w.+-]", "?", str(software.get("version", "unknown")))[:20]   # shown, never trusted
        raise BundleError(f"made by a newer node version {made_by} (bundle format {version}); this node "
                          f"(pops-chm {__version__}) reads bundle format up to {READS_MAJOR}.x; upgrade "
                          "pops-chm on this node to import it")


def _manifest_problem(m: dict, limits: Limits) -> str | None:
    node = m.get("node")
    if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not _NODE_ID.fullmatch(node["id"]):
        return "node.id is missing or not a node id"
    if not isinstance(m.get("created"), str) or not _DATETIME.fullmatch(m["created"]):
        return "created is missing or not a UTC datestamp"
    counts, members = m.get("counts"), m.get("members")
    if not isinstance(counts, dict) or not all(isinstance(counts.get(k), int) and counts[k] >= 0
                                               for k in ("records", "tombstones")):
        return "counts must give records and tombstones as numbers"
    if not isinstance(members, dict):
        return "members is missing"
    for name in DATA_MEMBERS:
        spec = members.get(name)
        if not isinstance(spec, dict) or not isinstance(spec.get("sha256"), str) or not _SHA256.fullmatch(spec["sha256"]):
            return f"members.{name}.sha256 is missing or not a SHA-256"
        if not isinstance(spec.get("bytes"), int) or spec["bytes"] < 0:
            return f"members.{name}.bytes is missing"
        if spec["bytes"] > limits.max_member_bytes:
            return (f"{name} would decompress to {spec['bytes']} bytes, more than the limit of "
                    f"{limits.max_member_bytes}")
    return None


def _json_object(line: bytes) -> tuple[dict | None, str | None]:
    """A bundle line as a JSON object, or what is wrong with it."""
    try:
        obj = json.loads(line.decode("utf-8"))
    except ValueError as exc:
        return None, f"not JSON ({exc})"
    return (obj, None) if isinstance(obj, dict) else (None, "not a JSON object")


def _record_problem(line: bytes) -> str | None:
    rec, problem = _json_object(line)
    if problem:
        return problem
    found = record_mod.problems(rec)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        return f"record {_shown(rec.get('id'))}: {'; '.join(found[:3])}{more}"
    return None


def _tombstone_problem(line: bytes) -> str | None:
    tomb, problem = _json_object(line)
    if problem:
        return problem
    rid = tomb.get("id")
    if not isinstance(rid, str) or not rid or any(c.isspace() for c in rid):
        return "id is missing or not a record id"
    if not isinstance(tomb.get("deleted"), str) or not _DATETIME.fullmatch(tomb["deleted"]):
        return f"tombstone {_shown(rid)}: deleted is missing or not a UTC datestamp"
    if tomb.get("datestamp") is not None and not (isinstance(tomb["datestamp"], str) and _DATETIME.fullmatch(tomb["datestamp"])):
        return f"tombstone {_shown(rid)}: datestamp is not a UTC datestamp"
    if "origin" in tomb and not isinstance(tomb["origin"], dict):
        return f"tombstone {_shown(rid)}: origin is not an object"
    return None


def _chunks(lines: Iterator[bytes]) -> Iterator[list[bytes]]:
    chunk = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _chunk_digest(chunk: list[bytes]) -> bytes:
    sha = hashlib.sha256()
    for line in chunk:
        sha.update(line)
    return sha.digest()


def _verify_member(zf, name: str, manifest: dict, max_line: int, problem_of: Callable[[bytes], str | None],
                   fault: str) -> list[bytes]:
    """Check one data member against the manifest and each line with `problem_of`; the chunk digests."""
    spec = manifest["members"][name]
    what = "records" if name == RECORDS else "tombstones"
    count = manifest["counts"][what]
    if zf.getinfo(name).file_size != spec["bytes"]:
        raise BundleError(f"{name} has {zf.getinfo(name).file_size} bytes; the manifest says {spec['bytes']}: "
                          "it was edited or damaged after export")
    sha, digests, n, bad, shown = hashlib.sha256(), [], 0, 0, []
    for chunk in _chunks(_member_lines(zf, name, spec["bytes"], max_line)):
        for line in chunk:
            n += 1
            sha.update(line)
            problem = problem_of(line)
            if problem:
                bad += 1
                if len(shown) < 5:
                    shown.append(f"line {n}: {problem}")
        digests.append(_chunk_digest(chunk))
    if sha.hexdigest() != spec["sha256"]:
        raise BundleError(f"{name} does not match its SHA-256 in the manifest: it was damaged or edited after export")
    if n != count:
        raise BundleError(f"{name} holds {n} {what}; the manifest counts {count}: it was edited or damaged")
    if bad:
        raise BundleError(f"{name} has {fault} ({bad} of {n}): {'; '.join(shown)}{' ...' if bad > len(shown) else ''}")
    return digests


def verify_bundle(path, limits: Limits | None = None, expect_sha256: str | None = None) -> Bundle:
    """Pass one: check everything about the file without storing anything. Raises BundleError naming the
    first thing wrong: not a ZIP or truncated, a member added or removed, a newer format, an edited manifest,
    a member damaged or edited, counts that do not match, a record that does not validate, a size limit."""
    path, limits = Path(path), limits or Limits()
    if expect_sha256:
        try:
            actual = _file_sha256(path)
        except OSError as exc:
            raise BundleError(f"cannot read the file: {exc.strerror}") from None
        if actual != expect_sha256.strip().lower():
            raise BundleError(f"the file's SHA-256 is {actual}, not the expected {_shown(expect_sha256, 70)}")
    with _open_zip(path, limits) as zf:
        manifest = _read_manifest(zf, limits)
        bundle = Bundle(path, manifest)
        bundle.digests[RECORDS] = _verify_member(zf, RECORDS, manifest, limits.max_record_bytes, _record_problem,
                                                 "records that do not validate against the record schema")
        bundle.digests[TOMBSTONES] = _verify_member(zf, TOMBSTONES, manifest, limits.max_tombstone_bytes,
                                                    _tombstone_problem, "malformed tombstones")
    return bundle


# ---------------------------------------------------------------- bundle: import

def _verified_chunks(zf, bundle: Bundle, name: str, max_line: int) -> Iterator[list[bytes]]:
    """Pass two: the member's chunks again, each only if it is the very chunk pass one verified."""
    expected = bundle.digests[name]
    chunks = _chunks(_member_lines(zf, name, bundle.manifest["members"][name]["bytes"], max_line))
    n = 0
    while True:
        try:
            chunk = next(chunks, None)
        except BundleError as exc:
            raise _changed(name, str(exc)) from None
        if chunk is None:
            break
        if n >= len(expected) or _chunk_digest(chunk) != expected[n]:
            raise _changed(name, f"chunk {n + 1} differs from the one verified")
        yield chunk
        n += 1
    if n != len(expected):
        raise _changed(name, "it became shorter")


def _changed(name: str, detail: str) -> BundleError:
    return BundleError(f"{name} changed while it was being imported ({detail}); what was stored before was "
                       "verified content; import the file again once it is complete")


def _older(incoming: str | None, held: str | None) -> bool:
    return bool(incoming and held and incoming < held)


def _outdated(store: Store, rec: dict) -> bool:
    """Whether an incoming version must not replace what this node has: older than the version held, or not
    newer than the version deleted here (a deleted record comes back only when published again)."""
    row = store.db.execute("SELECT deleted, json_extract(record, '$.datestamp') FROM records WHERE id = ?",
                           (rec["id"],)).fetchone()
    if row is None or row[1] is None:
        return False
    incoming, held = rec.get("datestamp") or "", row[1]
    return incoming <= held if row[0] else incoming < held


def _load_records(store: Store, node: str, source: str, chunks, report: ImportReport) -> None:
    for chunk in chunks:
        items = []
        for line in chunk:
            rec = json.loads(line.decode("utf-8"))
            report.records += 1
            path = rec.get("path") or []
            # this node's own record coming back (or claiming to), or a loop: this node knows better
            if node in path or rec["origin"].get("node") == node:
                report.passed_here += 1
                continue
            if _outdated(store, rec):
                report.older += 1
                continue
            rec["path"] = [*path, node]
            items.append(Item(source, rec["id"], rec, line.decode("utf-8").rstrip("\n"), NATIVE_FORMAT,
                              rec.get("datestamp")))
        if items:
            res = store.apply_batch(items)
            report.stored += res.stored
            report.unchanged += res.unchanged


def _load_tombstones(store: Store, node: str, bundle: Bundle, source: str, chunks, report: ImportReport) -> None:
    for chunk in chunks:
        items = []
        for line in chunk:
            tomb = json.loads(line.decode("utf-8"))
            report.tombstones += 1
            row = store.row(tomb["id"])
            if row is None:
                report.not_held += 1
                continue
            if row["deleted"]:
                report.already_deleted += 1
                continue
            held = json.loads(row["record"]) if row["record"] else {}
            origin = (held.get("origin") or {}).get("node")
            from_bundle_node = row["source"] == source or origin == bundle.node_id
            if origin == node or not from_bundle_node or _older(tomb["deleted"], held.get("datestamp")):
                report.kept += 1    # own record, delivered by another path, or a version newer than the deletion
                continue
            items.append(Item(row["source"], row["identifier"], datestamp=tomb.get("datestamp")))
        if items:
            report.deleted += store.apply_batch(items).deleted


def load_bundle(cfg, store: Store, bundle: Bundle, limits: Limits | None = None) -> ImportReport:
    """Pass two: store a verified bundle (see the module docstring for what is stored, skipped and deleted),
    record it as a run of its source, then bring the index up to date. Raises ImportBusy when an import of
    the same node's bundles is running, BundleError when the file changed since it was verified."""
    limits = limits or Limits.for_config(cfg)
    node = cfg.node["id"]
    source = import_source(bundle.node_id)
    if any(s["id"] == source for s in cfg.sources):
        raise BundleError(f"the config has a source named {source!r}, the source that records from node "
                          f"{bundle.node_id} are imported under; rename that source")
    report = ImportReport(bundle.node_id, source, bundle.manifest["created"])
    run_id = store.acquire(source)
    if run_id is None:
        holder = store.lock_holder(source) or {}
        raise ImportBusy(f"an import or run of {source} is already in progress (process {holder.get('lock_pid')} "
                         f"since {holder.get('lock_since')})")
    try:
        with _open_zip(bundle.path, limits) as zf:
            _load_records(store, node, source, _verified_chunks(zf, bundle, RECORDS, limits.max_record_bytes), report)
            _load_tombstones(store, node, bundle, source,
                             _verified_chunks(zf, bundle, TOMBSTONES, limits.max_tombstone_bytes), report)
    except BaseException as exc:
        store.finish(source, run_id, "failed", str(exc) or type(exc).__name__, **report.counters())
        raise
    store.finish(source, run_id, "ok", None, **report.counters())
    from .harvesting import Indexer
    indexer = Indexer(cfg, store)
    try:
        indexer.catch_up()
    finally:
        indexer.close()
    report.index_error = indexer.error
    return report


# ---------------------------------------------------------------- OAI static repository

STATIC_NS = "http://www.openarchives.org/OAI/2.0/static-repository"
STATIC_SCHEMA = "http://www.openarchives.org/OAI/2.0/static-repository.xsd"
STATIC_GRANULARITY = "YYYY-MM-DD"


def _admin_email(cfg) -> str:
    """As the live provider's Identify: the configured address, else one at the node's host."""
    from urllib.parse import urlsplit
    if cfg.node.get("admin_email"):
        return cfg.node["admin_email"]
    host = urlsplit(cfg.node.get("url") or "http://localhost").hostname or "localhost"
    return f"oai-admin@{host if '.' in host else host + '.invalid'}"


def export_static(cfg, store: Store, path, *, sources=(), base_url: str | None = None) -> ExportReport:
    """Write the live records of the given sources (all when empty) as an OAI static repository at `path`,
    streamed (memory does not grow with the records). Deleted records are counted, not written."""
    from lxml import etree

    from .node.oai import (DC_NS, OAI_DC_NS, OAI_DC_SCHEMA, OAI_NS, OAI_SCHEMA, XSI_NS, oai_dc_element,
                           oai_identifier, pops_element)
    from .popsxml import NS as POPS_NS

    path = Path(path)
    report = ExportReport(path, "oai-static")
    sources = sorted(set(sources))
    node_id = cfg.node["id"]
    node_url = (cfg.node.get("url") or "http://localhost").rstrip("/")
    base_url = base_url or f"{node_url}/oai"
    formats = {"oai_dc": (OAI_DC_SCHEMA, OAI_DC_NS, oai_dc_element),
               "pops": (f"{node_url}/oai/schemas/pops.xsd", POPS_NS, pops_element)}   # the live provider serves it
    o, s = (lambda tag: f"{{{OAI_NS}}}{tag}"), (lambda tag: f"{{{STATIC_NS}}}{tag}")

    def sub(parent, tag, text):
        el = etree.SubElement(parent, tag)
        el.text = text
        return el

    def identify(earliest: str):
        ident = etree.Element(s("Identify"), nsmap={None: STATIC_NS, "oai": OAI_NS})
        for tag, text in (("repositoryName", cfg.node.get("name") or f"POPs clearing-house node {node_id}"),
                          ("baseURL", base_url), ("protocolVersion", "2.0"), ("adminEmail", _admin_email(cfg)),
                          ("earliestDatestamp", earliest), ("deletedRecord", "no"),
                          ("granularity", STATIC_GRANULARITY)):
            sub(ident, o(tag), text)
        return ident

    def list_metadata_formats():
        lmf = etree.Element(s("ListMetadataFormats"), nsmap={None: STATIC_NS, "oai": OAI_NS})
        for prefix, (schema, ns, _) in formats.items():
            fmt = etree.SubElement(lmf, o("metadataFormat"))
            sub(fmt, o("metadataPrefix"), prefix)
            sub(fmt, o("schema"), schema)
            sub(fmt, o("metadataNamespace"), ns)
        return lmf

    def oai_record(row, rec: dict, make) -> etree._Element:
        el = etree.Element(o("record"), nsmap={"oai": OAI_NS})
        header = etree.SubElement(el, o("header"))
        sub(header, o("identifier"), oai_identifier(node_id, row["id"]))
        sub(header, o("datestamp"), row["changed"][:10])
        etree.SubElement(el, o("metadata")).append(make(rec))
        return el

    def write(tmp: Path) -> None:
        with _snapshot(store) as until:
            report.until = until
            of_sources = f" AND source IN ({','.join('?' * len(sources))})" if sources else ""
            earliest, live, report.tombstones = store.db.execute(
                f"SELECT MIN(CASE WHEN deleted = 0 THEN changed END), COUNT(*) - COALESCE(SUM(deleted), 0), "
                f"COALESCE(SUM(deleted), 0) FROM records WHERE 1{of_sources}", sources).fetchone()
            with etree.xmlfile(str(tmp), encoding="UTF-8") as xf:
                xf.write_declaration()
                root_attrs = {f"{{{XSI_NS}}}schemaLocation": f"{STATIC_NS} {STATIC_SCHEMA} {OAI_NS} {OAI_SCHEMA}"}
                with xf.element(s("Repository"), root_attrs,
                                nsmap={None: STATIC_NS, "oai": OAI_NS, "xsi": XSI_NS, "oai_dc": OAI_DC_NS,
                                       "dc": DC_NS, "pops": POPS_NS}):
                    xf.write("\n")
                    xf.write(identify((earliest or until)[:10]), pretty_print=True)
                    xf.write(list_metadata_formats(), pretty_print=True)
                    # the schema wants a ListRecords to hold at least one record
                    for prefix, (_, _, make) in (formats.items() if live else ()):
                        n = 0
                        with xf.element(s("ListRecords"), {"metadataPrefix": prefix}):
                            xf.write("\n")
                            for row in _rows(store, "id, changed, record", deleted=False, since=None, sources=sources):
                                if row["record"]:
                                    xf.write(oai_record(row, json.loads(row["record"]), make), pretty_print=True)
                                    n += 1
                        xf.write("\n")
                        report.records = n

    _write_atomically(path, write)
    report.bytes = path.stat().st_size
    report.sha256 = _file_sha256(path)
    return report
