"""Exchange records without a live connection: bundles (e-mail, a USB stick) and OAI static repositories.

Interface
---------
    export_bundle(cfg, store, path, since=None, sources=()) -> ExportReport   # signed with node_key(cfg)
    verify_bundle(path, limits=Limits(), expect_sha256=None, trust=Trust()) -> Bundle   # reads only; BundleError
    load_bundle(cfg, store, bundle) -> ImportReport                        # stores it, then catches the index up
    Trust.for_config(cfg, unsigned=False)                                  # whose signatures an import takes
    node_key(cfg, create=False), public_key_text(key)                      # this node's Ed25519 key
    origin_refusal(record, sender, this_node) -> reason | None             # the origin rule for delivered records
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
  size of each data member), ``signature`` (``algorithm`` ed25519, the signer's ``public_key``, ``value``:
  the Ed25519 signature of :data:`SIGNED_PREFIX` followed by the manifest's canonical JSON without
  ``signature`` and ``manifest_sha256``; as the manifest holds every member's SHA-256, it covers the whole
  bundle) and ``manifest_sha256``, the SHA-256 of the manifest's canonical JSON without that field.

A reader accepts any minor version of the major versions it knows (:data:`READS_MAJOR`) and refuses a newer
major version with a message asking to upgrade. The checksums find damage; the signature finds edits and
forgeries: a bundle is imported when it is signed by a key the config's ``trusted_nodes`` lists for the node
the manifest names (or this node's own key), and one unsigned or signed with a key not listed only when the
operator says ``--trust-unsigned`` for that import. A signature by a listed key that does not hold is refused
always. The private key is a PEM file (``node.key`` in the config, default beside the store), made with mode
0600 on the first export.

Import is two passes over the file. Pass one (:func:`verify_bundle`) stores nothing, and parses nothing
before the cheap checks passed: the ZIP's directory before reading it (member count and directory size), the
member names (never used as paths), the manifest (format, version, its own checksum, the caps on records
and tombstones per bundle, the signature), then every member's raw bytes in blocks (size, SHA-256, line
count), and only then every line against the record schema, stopping at the :data:`MAX_SHOWN`-th bad one,
decompressing as a stream under :class:`Limits`. Each record is validated as it will be stored: every
string through the one text sanitiser (:mod:`harvester.textsafe`, as harvests), which drops NUL, ESC and
other controls, U+FFFE and their kind. Pass two (:func:`load_bundle`) reads the file again in chunks of :data:`CHUNK` lines and stores each chunk with
``Store.apply_batch`` only after checking its digest against pass one, so nothing that was not verified is
ever stored. Memory stays flat: only one chunk, and one 32-byte digest per chunk, is held.

Records are stored under the source ``import-<node id>`` (seen in ``pops-chm status`` with the import's
counts as its last run), in the native format, their path extended with this node, as a harvest of the
exporting node's ``/oai`` in the ``pops`` format would store them. Importing twice changes nothing. A record
that already passed through this node (its path holds this node: this node's own records coming back, and
loops) is skipped, and so is a version older than the one held: a node importing its own bundle neither
duplicates nor downgrades anything. The origin rule (:func:`origin_refusal`) refuses, by id and with the
reason, a record claiming this node as its origin and one its sender does not hold (a node sends its own
records and those it holds from others: their path starts at their origin and ends at the sender); refused
records are kept as the source's failed records, the others are stored. A tombstone deletes the record where this node holds it from the
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

import base64
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

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import __version__
from . import record as record_mod
from .dates import normalise_datestamp, utcnow
from .store import NATIVE_FORMAT, Failure, Item, Store
from .textsafe import sanitise_strings

BUNDLE_FORMAT = "pops-chm-bundle"
FORMAT_VERSION = "1.1"                # 1.1: the manifest is signed
READS_MAJOR = 1                       # this node reads bundle format 1.x
MANIFEST, RECORDS, TOMBSTONES = "manifest.json", "records.jsonl", "tombstones.jsonl"
DATA_MEMBERS = (RECORDS, TOMBSTONES)
CHUNK = 500                           # lines per digest in pass one and per stored batch in pass two
BLOCK = 1 << 20                       # bytes read at a time when hashing a member
MAX_SHOWN = 5                         # invalid lines named in a refusal: checking stops at the fifth
MAX_REFUSED_SHOWN = 100               # records refused by the origin rules that a report names
KEY_PREFIX = "ed25519:"
SIGNED_PREFIX = b"pops-chm-bundle manifest\n"   # what is signed: this, then the manifest's canonical JSON
NEXT_SINCE_MARGIN = timedelta(minutes=5)   # a store batch begun before the snapshot may commit after it
IMPORT_SOURCE_PREFIX = "import-"
SOFTWARE = "pops-chm"

_NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PUBLIC_KEY = re.compile(r"ed25519:[A-Za-z0-9+/]{43}=")
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{86}==")
_ZIP_END, _ZIP64_LOCATOR, _ZIP64_END = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_MAX_ZIP_ENTRIES = 16                 # a bundle has 3; a few more are reported by name, many are refused unread
_MAX_ZIP_DIRECTORY = 64 * 1024


class BundleError(ValueError):
    """The file is not a bundle this node can import: damaged, edited, too big or too new. The message names
    what is wrong; nothing from the file has been stored."""


class ImportBusy(RuntimeError):
    """Another import of the same node's bundles (the same source) is running."""


class NodeKeyError(RuntimeError):
    """This node's private key file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile file from exhausting the disk, memory or time; sizes in bytes."""
    max_file_bytes: int = 4 * 1024 ** 3
    max_member_bytes: int = 4 * 1024 ** 3      # decompressed, per member, enforced while streaming
    max_record_bytes: int = 5 * 1024 * 1024    # one line of records.jsonl
    max_tombstone_bytes: int = 64 * 1024       # one line of tombstones.jsonl
    max_manifest_bytes: int = 64 * 1024
    max_records: int = 1_000_000               # lines of records.jsonl (config: exchange.max_records)
    max_tombstones: int = 1_000_000            # lines of tombstones.jsonl (config: exchange.max_tombstones)

    @classmethod
    def for_config(cls, cfg) -> "Limits":
        """The defaults, with the config's harvest.max_record_bytes as the cap of one record and its
        exchange section's caps on records and tombstones per bundle."""
        exchange = cfg.data.get("exchange") or {}
        return cls(max_record_bytes=int(cfg.harvest.get("max_record_bytes") or cls.max_record_bytes),
                   max_records=exchange.get("max_records", cls.max_records),
                   max_tombstones=exchange.get("max_tombstones", cls.max_tombstones))


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
    signer: str = ""                     # what the signature showed (Bundle.signer)
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
    refused: int = 0                     # records the origin rules refuse (origin_refusal)
    refusals: list = field(default_factory=list)   # (record id, reason) of the first MAX_REFUSED_SHOWN of them
    index_error: str | None = None

    def refuse(self, record_id: str, reason: str) -> None:
        self.refused += 1
        if len(self.refusals) < MAX_REFUSED_SHOWN:
            self.refusals.append((record_id, reason))

    def summary(self) -> str:
        return (f"bundle of node {self.node} ({self.created}, {self.signer}) imported as source {self.source}: "
                f"{self.records} records: {self.stored} stored, {self.unchanged} unchanged, "
                f"{self.passed_here} already passed through this node, {self.older} older than held here, "
                f"{self.refused} refused; "
                f"{self.tombstones} tombstones: {self.deleted} deleted, {self.already_deleted} already deleted, "
                f"{self.not_held} not held here, {self.kept} kept")

    def refusal_lines(self) -> list[str]:
        """One line per refused record (the first MAX_REFUSED_SHOWN), naming it and the reason."""
        lines = [f"refused record {_shown(rid, 200)}: {reason}" for rid, reason in self.refusals]
        if self.refused > len(self.refusals):
            lines.append(f"... and {self.refused - len(self.refusals)} more refused records (`pops-chm errors "
                         f"{self.source}` lists them all)")
        return lines

    def counters(self) -> dict:
        """As a harvest run counts: what `pops-chm status` shows as the source's last run."""
        return {"seen": self.records + self.tombstones, "stored": self.stored, "deleted": self.deleted,
                "unchanged": self.unchanged + self.already_deleted, "failed": self.refused,
                "skipped": self.passed_here + self.older + self.not_held + self.kept}


@dataclass
class Bundle:
    """A file that passed verification: its manifest, and the digest of each chunk of each data member,
    which pass two checks again before storing the chunk."""
    path: Path
    manifest: dict
    signer: str = ""                     # e.g. "signed by node ke", or how an unsigned bundle was let in
    digests: dict[str, list[bytes]] = field(default_factory=dict)

    @property
    def node_id(self) -> str:
        return self.manifest["node"]["id"]

    @property
    def counts(self) -> dict:
        return self.manifest["counts"]


# ---------------------------------------------------------------- keys: who made a bundle

def key_file(cfg) -> Path:
    """Where this node's private key is kept: node.key in the config, else node.key beside the store."""
    return cfg.resolve(cfg.node["key"]) if cfg.node.get("key") else cfg.store_path.parent / "node.key"


def node_key(cfg, *, create: bool = False) -> Ed25519PrivateKey | None:
    """This node's private signing key; made (file mode 0600) when there is none and `create` is set, else
    None. NodeKeyError when the file is readable by others or is not an Ed25519 key."""
    path = key_file(cfg)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return _new_key(path) if create else None
    if mode & 0o077:
        raise NodeKeyError(f"{path}: this node's private key is readable by others (mode {mode & 0o777:o}); "
                           f"make it private with: chmod 600 {path}")
    return _load_key(path)


def _load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise NodeKeyError(f"{path}: not a private key in PEM without a password ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise NodeKeyError(f"{path}: holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def _new_key(path: Path) -> Ed25519PrivateKey:
    """A new key, written private from the start; if another process wrote one meanwhile, that one."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            os.link(tmp, path)               # fails if the file appeared meanwhile: never overwrite a key
        finally:
            tmp.unlink(missing_ok=True)
    except FileExistsError:
        return _load_key(path)
    except OSError as exc:
        raise NodeKeyError(f"{path}: cannot write this node's new private key: {exc.strerror or exc}") from None
    return key


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A public key as the config's trusted_nodes and the manifest write it: ed25519:<base64 of 32 bytes>."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def _public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text[len(KEY_PREFIX):], validate=True))


@dataclass(frozen=True)
class Trust:
    """Whose bundles this node imports: node id -> the public keys it accepts for that node (the config's
    trusted_nodes, and this node's own key); `unsigned`: this import also takes bundles whose maker cannot be
    verified (--trust-unsigned)."""
    keys: dict = field(default_factory=dict)
    unsigned: bool = False

    @classmethod
    def for_config(cls, cfg, unsigned: bool = False) -> "Trust":
        keys: dict[str, list[str]] = {}
        for entry in cfg.data.get("trusted_nodes") or []:
            keys.setdefault(entry["id"], []).append(entry["public_key"])
        own = node_key(cfg)
        if own is not None:
            keys.setdefault(cfg.node["id"], []).append(public_key_text(own))
        return cls({node: tuple(k) for node, k in keys.items()}, unsigned)


def _signed_bytes(manifest: dict) -> bytes:
    return SIGNED_PREFIX + _canonical_json({k: v for k, v in manifest.items()
                                            if k not in ("manifest_sha256", "signature")})


def _signature(manifest: dict, key: Ed25519PrivateKey) -> dict:
    return {"algorithm": "ed25519", "public_key": public_key_text(key),
            "value": base64.b64encode(key.sign(_signed_bytes(manifest))).decode("ascii")}


def _check_signature(manifest: dict, trust: Trust) -> str:
    """Who made the bundle, as far as its signature shows; BundleError when it may not be imported. A bundle
    signed with a key trusted_nodes lists is taken only if the signature holds (even with --trust-unsigned:
    such a bundle was changed after it was signed); one unsigned or signed with a key this node does not
    know only with --trust-unsigned."""
    sender = manifest["node"]["id"]
    sig = manifest.get("signature")
    if sig is None:
        if trust.unsigned:
            return "not signed, taken with --trust-unsigned"
        raise BundleError("the bundle is not signed: this node imports bundles signed by the nodes listed under "
                          "trusted_nodes in its config (or, for one import, with --trust-unsigned)")
    if (not isinstance(sig, dict) or sig.get("algorithm") != "ed25519"
            or not isinstance(sig.get("public_key"), str) or not _PUBLIC_KEY.fullmatch(sig["public_key"])
            or not isinstance(sig.get("value"), str) or not _SIGNATURE.fullmatch(sig["value"])):
        raise BundleError(f"{MANIFEST}: signature is malformed (expected algorithm ed25519, a public_key "
                          "ed25519:<base64> and a base64 value): it was edited or damaged")
    key, known = sig["public_key"], trust.keys.get(sender, ())
    if key in known:
        try:
            _public_key(key).verify(base64.b64decode(sig["value"]), _signed_bytes(manifest))
        except (InvalidSignature, ValueError):
            raise BundleError(f"{MANIFEST} does not match its signature by node {sender}'s key: the bundle was "
                              f"edited after node {sender} signed it, or node {sender} did not make it") from None
        return f"signed by node {sender}"
    if trust.unsigned:
        return "signed with a key this node does not know, taken with --trust-unsigned"
    listed = (f"not the key{'s' * (len(known) > 1)} trusted_nodes lists for it" if known
              else "a key this node does not know")
    raise BundleError(f"signed as node {sender} with the key {key}, {listed}: check the key with node "
                      f"{sender}'s operator (`pops-chm keys show` there) and add {{id: {sender}, public_key: "
                      f"\"{key}\"}} under trusted_nodes in this node's config, or import with --trust-unsigned")


# ---------------------------------------------------------------- the origin rule

def origin_refusal(rec: dict, sender: str, this_node: str) -> str | None:
    """Why this node does not take a record that node `sender` delivered, or None when it may. A node
    delivers its own records (origin `sender`) and the records it holds from others: their path starts at
    their origin and ends at the sender. A record whose origin is this node never comes from outside."""
    origin = (rec.get("origin") or {}).get("node")
    path = rec.get("path") or []
    route = _shown(" > ".join(map(str, path)), 200)
    if origin == this_node:
        return f"its origin is this node ({this_node}): this node's own records are never taken from another node"
    if not path or path[0] != origin:
        return f"its path {route} does not start at its origin node {_shown(origin)}"
    if path[-1] != sender:
        return f"node {sender} does not hold it: its path {route} ends at {_shown(path[-1])}, not at {sender}"
    return None


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
    sources (all when empty), as a bundle at `path`, signed with this node's key (made on the first export).
    Streams: memory does not grow with the records."""
    path = Path(path)
    report = ExportReport(path, "bundle")
    sources = sorted(set(sources))
    signing_key = node_key(cfg, create=True)

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
            manifest["signature"] = _signature(manifest, signing_key)
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
    for what, cap in (("records", limits.max_records), ("tombstones", limits.max_tombstones)):
        if counts[what] > cap:
            return (f"counts {counts[what]} {what}, more than the {cap} this node takes from one bundle "
                    f"(exchange.max_{what} in its config)")
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
    found = record_mod.problems(sanitise_strings(rec))   # validated as it will be stored
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


def _check_member_bytes(zf, name: str, manifest: dict) -> None:
    """Pass one, first part: a data member's raw bytes against the manifest (size, SHA-256, lines), read in
    blocks and parsed not at all, so a padded, swapped or miscounted member costs only its reading."""
    spec = manifest["members"][name]
    what = "records" if name == RECORDS else "tombstones"
    count, declared = manifest["counts"][what], spec["bytes"]
    if zf.getinfo(name).file_size != declared:
        raise BundleError(f"{name} has {zf.getinfo(name).file_size} bytes; the manifest says {declared}: "
                          "it was edited or damaged after export")
    sha, size, lines, last = hashlib.sha256(), 0, 0, b"\n"
    try:
        with zf.open(name) as fh:
            while block := fh.read(BLOCK):
                size += len(block)
                if size > declared:
                    raise BundleError(f"{name} holds more than the {declared} bytes the manifest states")
                sha.update(block)
                lines += block.count(b"\n")
                last = block[-1:]
    except BundleError:
        raise
    except _DAMAGE as exc:
        raise BundleError(f"{name} is damaged ({exc})") from None
    if size != declared:
        raise BundleError(f"{name} holds {size} bytes; the manifest says {declared}")
    if sha.hexdigest() != spec["sha256"]:
        raise BundleError(f"{name} does not match its SHA-256 in the manifest: it was damaged or edited after export")
    if last != b"\n":
        raise BundleError(f"{name} ends in the middle of line {lines + 1}: truncated or damaged")
    if lines != count:
        raise BundleError(f"{name} holds {lines} {what}; the manifest counts {count}: it was edited or damaged")


def _verify_member(zf, name: str, manifest: dict, max_line: int, problem_of: Callable[[bytes], str | None],
                   fault: str) -> list[bytes]:
    """Pass one, second part, once every member's bytes passed: each line of a member checked with
    `problem_of` (checking stops at the MAX_SHOWN-th bad line); the chunk digests pass two checks against."""
    spec = manifest["members"][name]
    count = manifest["counts"]["records" if name == RECORDS else "tombstones"]
    sha, digests, n, shown = hashlib.sha256(), [], 0, []
    for chunk in _chunks(_member_lines(zf, name, spec["bytes"], max_line)):
        for line in chunk:
            n += 1
            sha.update(line)
            problem = problem_of(line)
            if problem:
                shown.append(f"line {n}: {problem}")
                if len(shown) == MAX_SHOWN:
                    raise BundleError(f"{name} has {fault} (the first {MAX_SHOWN}, by line {n}, where checking "
                                      f"stopped): {'; '.join(shown)}")
        digests.append(_chunk_digest(chunk))
    if sha.hexdigest() != spec["sha256"] or n != count:
        raise BundleError(f"{name} changed while it was being verified; import the file again once it is complete")
    if shown:
        raise BundleError(f"{name} has {fault} ({len(shown)} of {n}): {'; '.join(shown)}")
    return digests


def verify_bundle(path, limits: Limits | None = None, expect_sha256: str | None = None,
                  trust: Trust | None = None) -> Bundle:
    """Pass one: check everything about the file without storing anything. Raises BundleError naming the
    first thing wrong: not a ZIP or truncated, a member added or removed, a newer format, an edited manifest,
    a signature missing, unknown (unless `trust.unsigned`) or broken, a limit, a member damaged or edited,
    counts that do not match, a record that does not validate. Nothing is parsed before the manifest's
    signature and every member's size, SHA-256 and line count have passed. `trust` (default: nobody) says
    whose signatures are taken: Trust.for_config(cfg)."""
    path, limits, trust = Path(path), limits or Limits(), trust or Trust()
    if expect_sha256:
        try:
            actual = _file_sha256(path)
        except OSError as exc:
            raise BundleError(f"cannot read the file: {exc.strerror}") from None
        if actual != expect_sha256.strip().lower():
            raise BundleError(f"the file's SHA-256 is {actual}, not the expected {_shown(expect_sha256, 70)}")
    with _open_zip(path, limits) as zf:
        manifest = _read_manifest(zf, limits)
        bundle = Bundle(path, manifest, _check_signature(manifest, trust))
        for name in DATA_MEMBERS:
            _check_member_bytes(zf, name, manifest)
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


def _load_records(store: Store, node: str, bundle: Bundle, source: str, chunks, report: ImportReport,
                  run_id: int) -> None:
    for chunk in chunks:
        items, refused = [], []
        for line in chunk:
            text = line.decode("utf-8").rstrip("\n")
            sent = json.loads(text)
            rec = sanitise_strings(sent)     # as every way in: text without NUL, ESC, U+FFFE and their kind
            report.records += 1
            path = rec.get("path") or []
            if node in path:                 # this node's own record coming back, or a loop: known here already
                report.passed_here += 1
                continue
            reason = origin_refusal(rec, bundle.node_id, node)
            if reason:
                report.refuse(rec["id"], reason)
                refused.append(Failure(source, rec["id"], f"refused: {reason}", f"{RECORDS} line {report.records}"))
                continue
            if _outdated(store, rec):
                report.older += 1
                continue
            raw = text if rec == sent else json.dumps(rec, ensure_ascii=False)   # as sent, less what was dropped
            rec["path"] = [*path, node]
            items.append(Item(source, rec["id"], rec, raw, NATIVE_FORMAT, rec.get("datestamp")))
        if items or refused:
            res = store.apply_batch(items, refused, run_id=run_id)
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
    report = ImportReport(bundle.node_id, source, bundle.manifest["created"], bundle.signer)
    run_id = store.acquire(source)
    if run_id is None:
        holder = store.lock_holder(source) or {}
        raise ImportBusy(f"an import or run of {source} is already in progress (process {holder.get('lock_pid')} "
                         f"since {holder.get('lock_since')})")
    try:
        with _open_zip(bundle.path, limits) as zf:
            _load_records(store, node, bundle, source, _verified_chunks(zf, bundle, RECORDS, limits.max_record_bytes),
                          report, run_id)
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
