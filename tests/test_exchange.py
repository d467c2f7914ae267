"""Exchange without a live connection: `pops-chm export` / `pops-chm import` between two real nodes (each its
own config and store), tampered and hostile bundles, and the OAI static repository harvested by another node."""
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lxml import etree

from cli import main
from harvester import __version__, exchange
from harvester.store import Item, Store

from .conftest import CORPUS, ROOT, copy_sample_node, need, valid_record

OAI = "http://www.openarchives.org/OAI/2.0/"
STATIC = "http://www.openarchives.org/OAI/2.0/static-repository"


# ---------------------------------------------------------------- helpers

def cli(cfg, *args):
    return CliRunner().invoke(main, ["--config", str(cfg), *map(str, args)])


KEYS: dict[str, Ed25519PrivateKey] = {}


def key_of(node_id: str) -> Ed25519PrivateKey:
    """The test signing key of a node (one per node id, made once per test session)."""
    return KEYS.setdefault(node_id, Ed25519PrivateKey.generate())


def public_of(node_id: str) -> str:
    return exchange.public_key_text(key_of(node_id))


def trust_of(*node_ids: str, unsigned: bool = False) -> exchange.Trust:
    return exchange.Trust({n: (public_of(n),) for n in node_ids}, unsigned)


TRUST = trust_of("zz", "ke")


def give_key(cfg: Path, node_id: str) -> None:
    """Put the node's test key where the node keeps its key (data/node.key), private as export makes it."""
    path = Path(cfg).parent / "data" / "node.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key_of(node_id).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    path.chmod(0o600)


def trusting(cfg: Path, *node_ids: str) -> Path:
    """The config with trusted_nodes entries for the test keys of the given nodes (trusted_nodes kept last)."""
    text = Path(cfg).read_text()
    if "\ntrusted_nodes:\n" not in text:
        text += "trusted_nodes:\n"
    text += "".join(f'  - {{id: {n}, public_key: "{public_of(n)}"}}\n' for n in node_ids)
    Path(cfg).write_text(text)
    return cfg


def empty_node(d: Path, node_id: str = "tz", sources: str = "[]", trusts=("ke",), extra: str = "") -> Path:
    """A node with its own config and store, holding nothing yet, taking the bundles of the nodes `trusts`."""
    d.mkdir(parents=True, exist_ok=True)
    cfg = d / "node_config.yaml"
    cfg.write_text(f'node: {{id: {node_id}, name: "Node {node_id}", url: "http://127.0.0.1:8099"}}\n'
                   "store: {path: data/node.sqlite}\nindex: {backend: embedded}\n"
                   f"sources: {sources}\n{extra}")
    return trusting(cfg, *trusts) if trusts else cfg


def harvested_sample(d: Path, trusts=()) -> Path:
    """The bundled sample node (ke), harvested, signing with the test key of ke."""
    d.mkdir(parents=True, exist_ok=True)
    cfg = copy_sample_node(d)
    give_key(cfg, "ke")
    r = cli(cfg, "harvest")
    assert r.exit_code == 0, r.output
    return trusting(cfg, *trusts) if trusts else cfg


def store_of(cfg) -> Store:
    return Store(Path(cfg).parent / "data" / "node.sqlite")


def rows(cfg) -> dict:
    """id -> (deleted, record) of every row of a node's store."""
    with store_of(cfg) as st:
        return {r["id"]: (r["deleted"], json.loads(r["record"]) if r["record"] else None)
                for r in st.db.execute("SELECT id, deleted, record FROM records")}


def max_seq(cfg) -> int:
    with store_of(cfg) as st:
        return st.max_seq()


def data_fingerprint(cfg) -> dict:
    """The bytes of every file of a node's data folder (the store and its WAL, if any)."""
    data = Path(cfg).parent / "data"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(data.iterdir())}


def search_ids(cfg, *args) -> list[str]:
    r = cli(cfg, "search", *args, "--limit", "100", "--json")
    assert r.exit_code == 0, r.output
    return [h["id"] for h in json.loads(r.stdout)["results"]]


def without_path(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k != "path"}


def rezip(src: Path, dst: Path, edit=None, extra: dict | None = None, drop=()) -> None:
    """Write a copy of a bundle, members possibly edited (edit(name, bytes) -> bytes), added or dropped."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info)
            zout.writestr(info.filename, edit(info.filename, data) if edit else data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def resealed(manifest: dict, signer: str | None = "node") -> bytes:
    """A manifest edited by someone who also recomputed its own checksum and signed it again with the key of
    `signer` (default: the node the manifest names, as a node whose own software went wrong would); with
    signer None the old signature is left as it was."""
    if signer == "node":
        node_id = str(manifest["node"].get("id"))
        signer = node_id if exchange._NODE_ID.fullmatch(node_id) else None   # '../etc' signs nothing
    if signer is not None:
        manifest["signature"] = exchange._signature(manifest, key_of(signer))
    manifest["manifest_sha256"] = exchange._manifest_digest(manifest)
    return json.dumps(manifest).encode()


def edit_manifest(change, signer: str | None = "node"):
    def edit(name, data):
        if name != "manifest.json":
            return data
        m = json.loads(data)
        change(m)
        return resealed(m, signer)
    return edit


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Node A (ke: the harvested samples) with a bundle of everything, and node B (tz) that imported it."""
    d = tmp_path_factory.mktemp("pair")
    a = harvested_sample(d / "a")
    bundle = d / "a.zip"
    r = cli(a, "export", bundle)
    assert r.exit_code == 0, r.output
    b = empty_node(d / "b")
    r = cli(b, "import", bundle)
    assert r.exit_code == 0, r.output
    return a, b, bundle


# ---------------------------------------------------------------- export -> import

@pytest.mark.parametrize("cmd", ["export", "import"])
def test_help(cmd):
    r = CliRunner().invoke(main, [cmd, "--help"])
    assert r.exit_code == 0 and "Usage:" in r.output and "FILE" in r.output


def test_export_to_a_folder_that_does_not_exist_fails_clearly(pair, tmp_path):
    a, _, _ = pair
    r = cli(a, "export", tmp_path / "missing" / "a.zip")
    assert r.exit_code == 1 and "cannot write: No such file or directory" in r.stderr

def test_export_prints_a_one_line_summary_and_writes_a_self_describing_zip(pair):
    a, _, bundle = pair
    live = {i for i, (deleted, _) in rows(a).items() if not deleted}
    with zipfile.ZipFile(bundle) as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "records.jsonl", "tombstones.jsonl"]
        m = json.loads(zf.read("manifest.json"))
        lines = zf.read("records.jsonl").splitlines()
    assert (m["format"], m["format_version"]) == ("pops-chm-bundle", "1.1")
    assert m["signature"]["algorithm"] == "ed25519" and m["signature"]["public_key"] == public_of("ke")
    assert m["node"]["id"] == "ke" and m["node"]["name"] and m["node"]["url"]
    assert m["software"] == {"name": "pops-chm", "version": __version__}
    assert m["selection"]["since"] is None and m["selection"]["sources"] is None
    assert m["counts"] == {"records": len(live), "tombstones": 0}
    assert {json.loads(x)["id"] for x in lines} == live
    assert m["members"]["records.jsonl"]["sha256"] == hashlib.sha256(b"".join(x + b"\n" for x in lines)).hexdigest()
    r = cli(a, "export", bundle.with_name("again.zip"))
    assert r.exit_code == 0 and len(r.stdout.strip().splitlines()) == 1
    sha = hashlib.sha256(bundle.with_name("again.zip").read_bytes()).hexdigest()
    assert re.search(rf"{len(live)} records, 0 tombstones, \d+ bytes, sha256 {sha}; next incremental export: "
                     r"--since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.stdout), r.stdout


def test_import_gives_the_same_records_with_provenance_and_path_extended(pair):
    a, b, _ = pair
    ra, rb = rows(a), rows(b)
    assert set(rb) == set(ra) and len(ra) >= 40
    for rid, (deleted, rec) in ra.items():
        assert rb[rid][0] == deleted == 0
        got = rb[rid][1]
        assert got["origin"] == rec["origin"]
        assert got["path"] == rec["path"] + ["tz"]
        assert without_path(got) == without_path(rec)
    with store_of(b) as st:
        assert {r[0] for r in st.db.execute("SELECT DISTINCT source FROM records")} == {"import-ke"}
        assert {r[0] for r in st.db.execute("SELECT DISTINCT format FROM records")} == {"pops"}
    assert sorted(search_ids(b, "PCB")) == sorted(search_ids(a, "PCB")) and search_ids(b, "PCB")


def test_status_shows_the_import_as_a_source_with_its_run(pair):
    _, b, _ = pair
    r = cli(b, "status", "--json")
    st = json.loads(r.stdout)
    src = {s["id"]: s for s in st["sources"]}["import-ke"]
    assert src["records"] == st["records"] and src["last_run"]["status"] == "ok"
    assert src["last_run"]["stored"] == st["records"]
    assert st["index"]["documents"] == st["records"] and st["index"]["behind"] == 0


def test_importing_twice_changes_nothing(pair):
    _, b, bundle = pair
    before_seq, before = max_seq(b), rows(b)
    r = cli(b, "import", bundle)
    assert r.exit_code == 0, r.output
    assert max_seq(b) == before_seq and rows(b) == before
    assert re.search(r"(\d+) records: 0 stored, \1 unchanged", r.stdout), r.stdout


def test_a_tombstone_travels_and_the_record_leaves_search(tmp_path):
    a = harvested_sample(tmp_path / "a")
    b = empty_node(tmp_path / "b")
    assert cli(a, "export", tmp_path / "full.zip").exit_code == 0
    assert cli(b, "import", tmp_path / "full.zip").exit_code == 0
    with store_of(a) as st:
        gone = st.db.execute("SELECT * FROM records WHERE source='ke-data' AND deleted=0 LIMIT 1").fetchone()
        title = json.loads(gone["record"])["title"]["en"]
        assert st.tombstone_ids(gone["source"], [gone["identifier"]]) == 1
    assert gone["id"] in search_ids(b, title)
    r = cli(a, "export", tmp_path / "after.zip")
    assert r.exit_code == 0 and ", 1 tombstones," in r.stdout
    with zipfile.ZipFile(tmp_path / "after.zip") as zf:
        tomb = json.loads(zf.read("tombstones.jsonl"))
    assert tomb["id"] == gone["id"] and tomb["source"] == "ke-data" and tomb["origin"]["node"] == "ke"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", tomb["deleted"])
    r = cli(b, "import", tmp_path / "after.zip")
    assert r.exit_code == 0 and "1 tombstones: 1 deleted" in r.stdout, r.output
    ra, rb = rows(a), rows(b)
    assert {i for i, v in rb.items() if v[0]} == {i for i, v in ra.items() if v[0]} == {gone["id"]}
    assert {i for i, v in rb.items() if not v[0]} == {i for i, v in ra.items() if not v[0]}
    assert gone["id"] not in search_ids(b, title)
    # the older bundle arriving late does not bring the deleted record back
    r = cli(b, "import", tmp_path / "full.zip")
    assert r.exit_code == 0 and "1 older than held here" in r.stdout, r.stdout
    assert rows(b)[gone["id"]][0] == 1 and gone["id"] not in search_ids(b, title)
    # a node that never held the record learns nothing from its tombstone: nothing to delete, nothing stored
    c = empty_node(tmp_path / "c", "ug")
    r = cli(c, "import", tmp_path / "after.zip")
    assert r.exit_code == 0 and "1 not held here" in r.stdout
    assert gone["id"] not in rows(c) and len(rows(c)) == len(ra) - 1


def test_a_node_importing_its_own_bundle_neither_duplicates_nor_downgrades(tmp_path):
    a = harvested_sample(tmp_path / "a")
    assert cli(a, "export", tmp_path / "old.zip").exit_code == 0
    with store_of(a) as st:
        row = st.db.execute("SELECT * FROM records WHERE source='ke-moe-pops' LIMIT 1").fetchone()
        rec = json.loads(row["record"])
        newer = dict(rec, title={"en": "Revised title"}, datestamp="2099-01-01T00:00:00Z")
        assert st.apply_batch([Item(row["source"], row["identifier"], newer, "", "pops")]).stored == 1
    before, seq = rows(a), max_seq(a)
    r = cli(a, "import", tmp_path / "old.zip")
    assert r.exit_code == 0, r.output
    assert f"{len(before)} already passed through this node" in r.stdout
    assert rows(a) == before and max_seq(a) == seq
    assert rows(a)[rec["id"]][1]["title"] == {"en": "Revised title"}
    with store_of(a) as st:   # the records stay under the sources that harvested them
        assert st.count("import-ke") == 0 and st.row(rec["id"])["source"] == "ke-moe-pops"

    # another node that holds the newer version keeps it when the older bundle arrives after it
    assert cli(a, "export", tmp_path / "new.zip").exit_code == 0
    b = empty_node(tmp_path / "b")
    assert cli(b, "import", tmp_path / "new.zip").exit_code == 0
    r = cli(b, "import", tmp_path / "old.zip")
    assert r.exit_code == 0 and "1 older than held" in r.stdout, r.stdout
    assert rows(b)[rec["id"]][1]["title"] == {"en": "Revised title"}


def test_a_tombstone_never_deletes_the_importing_nodes_own_records(tmp_path):
    """B's records travel to A by bundle; A deletes one of its copies; A's next bundle comes back to B."""
    b = tmp_path / "b"
    b.mkdir()
    cfg_b = copy_sample_node(b)
    cfg_b.write_text(cfg_b.read_text().replace("\n  id: ke ", "\n  id: tz ", 1))
    give_key(cfg_b, "tz")
    trusting(cfg_b, "ug")
    assert cli(cfg_b, "harvest").exit_code == 0
    a = empty_node(tmp_path / "a", "ug", trusts=("tz",))
    give_key(a, "ug")
    assert cli(cfg_b, "export", tmp_path / "b.zip").exit_code == 0
    assert cli(a, "import", tmp_path / "b.zip").exit_code == 0
    own = next(i for i, (deleted, rec) in rows(cfg_b).items() if rec["origin"]["node"] == "tz")
    with store_of(a) as st:
        assert st.tombstone_ids("import-tz", [own]) == 1
    assert cli(a, "export", tmp_path / "a.zip").exit_code == 0
    before, seq = rows(cfg_b), max_seq(cfg_b)
    r = cli(cfg_b, "import", tmp_path / "a.zip")
    assert r.exit_code == 0 and "1 tombstones: 0 deleted, 0 already deleted, 0 not held here, 1 kept" in r.stdout, r.stdout
    assert rows(cfg_b) == before and max_seq(cfg_b) == seq and before[own][0] == 0


def test_a_bundle_cannot_overwrite_the_importing_nodes_own_records(pair, tmp_path):
    a, _, bundle = pair
    with zipfile.ZipFile(bundle) as zf:
        rec = json.loads(zf.read("records.jsonl").splitlines()[0])
    forged = dict(rec, title={"en": "Forged"}, datestamp="2099-01-01T00:00:00Z", path=["evil"])
    _bundle(tmp_path / "forged.zip", json.dumps(forged).encode() + b"\n", node={"id": "evil"})
    before = rows(a)
    # even taken on trust, a bundle never brings this node's own records
    r = cli(a, "import", "--trust-unsigned", tmp_path / "forged.zip")
    assert r.exit_code == 1 and "1 refused" in r.stdout, r.output
    assert (f"refused record '{rec['id']}': its origin is this node (ke): this node's own records are never "
            "taken from another node") in r.stderr
    assert rows(a) == before


def test_since_and_source_select_what_is_exported(tmp_path):
    a = harvested_sample(tmp_path / "a")
    with store_of(a) as st:
        st.db.execute("UPDATE records SET changed = '2024-01-01T00:00:00Z'")   # everything harvested long ago
        gone = st.db.execute("SELECT * FROM records WHERE source='ke-geo' LIMIT 1").fetchone()
        st.tombstone_ids("ke-geo", [gone["identifier"]])
        row = st.db.execute("SELECT * FROM records WHERE source='ke-data' AND deleted=0 LIMIT 1").fetchone()
        changed = dict(json.loads(row["record"]), title={"en": "Changed this year"})
        st.apply_batch([Item("ke-data", row["identifier"], changed, "", "dcat")])
        per_source = {s: st.count(s) for s in ("ke-data", "ke-geo", "ke-moe")}
        live = st.count()

    def members(name):
        with zipfile.ZipFile(tmp_path / name) as zf:
            return ([json.loads(x)["id"] for x in zf.read("records.jsonl").splitlines()],
                    [json.loads(x)["id"] for x in zf.read("tombstones.jsonl").splitlines()],
                    json.loads(zf.read("manifest.json"))["selection"])

    assert cli(a, "export", "--since", "2025-01-01", tmp_path / "since.zip").exit_code == 0
    recs, tombs, sel = members("since.zip")
    assert recs == [row["id"]] and tombs == [gone["id"]]
    assert sel["since"] == "2025-01-01T00:00:00Z"
    assert cli(a, "export", "--since", "2023-12-31T23:00:00Z", tmp_path / "older.zip").exit_code == 0
    assert len(members("older.zip")[0]) == live

    assert cli(a, "export", "--source", "ke-data", "--source", "ke-geo", tmp_path / "two.zip").exit_code == 0
    recs, tombs, sel = members("two.zip")
    assert len(recs) == per_source["ke-data"] + per_source["ke-geo"] and tombs == [gone["id"]]
    assert sel["sources"] == ["ke-data", "ke-geo"]
    assert cli(a, "export", "--source", "ke-moe", "--since", "2025-01-01", tmp_path / "none.zip").exit_code == 0
    assert members("none.zip")[:2] == ([], [])

    r = cli(a, "export", "--since", "last tuesday", tmp_path / "x.zip")
    assert r.exit_code == 2 and "not a date" in r.output
    r = cli(a, "export", "--source", "nope", tmp_path / "x.zip")
    assert r.exit_code == 2 and "unknown source 'nope'" in r.output
    assert not (tmp_path / "x.zip").exists()


def test_an_import_of_the_same_node_running_is_busy(pair, tmp_path):
    _, b, bundle = pair
    with store_of(b) as st:
        run = st.acquire("import-ke")
        try:
            seq = st.max_seq()
            r = cli(b, "import", bundle)
            assert r.exit_code == 3 and "already in progress" in r.stderr
            assert st.max_seq() == seq
        finally:
            st.finish("import-ke", run, "ok")


def test_expected_sha256_is_checked_first(pair, tmp_path):
    a, b, bundle = pair
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert cli(b, "import", "--sha256", sha.upper(), bundle).exit_code == 0
    before = data_fingerprint(b)
    r = cli(b, "import", "--sha256", "0" * 64, bundle)
    assert r.exit_code == 1 and f"the file's SHA-256 is {sha}, not the expected" in r.stderr
    assert data_fingerprint(b) == before


# ---------------------------------------------------------------- damaged, edited and hostile bundles

def _flip_in_records(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("records.jsonl")
    at = info.header_offset   # the local header: 30 bytes, then the name and the extra field it declares
    start = at + 30 + int.from_bytes(data[at + 26: at + 28], "little") + int.from_bytes(data[at + 28: at + 30], "little")
    data[start + info.compress_size // 2] ^= 0x20
    dst.write_bytes(bytes(data))


def _edit_record(name, data):
    if name != "records.jsonl":
        return data
    lines = data.splitlines(keepends=True)
    rec = json.loads(lines[3])
    rec["title"] = {"en": "Quietly rewritten"}
    lines[3] = json.dumps(rec).encode() + b"\n"
    return b"".join(lines)


def _edit_record_same_size(name, data):
    return data.replace(b"Kenya", b"Kenia", 1) if name == "records.jsonl" else data


def _resealed_with(src: Path, dst: Path, line: bytes) -> None:
    """The bundle with its first record line replaced, the member's checksum and size recomputed."""
    with zipfile.ZipFile(src) as zf:
        records = zf.read("records.jsonl")
        m = json.loads(zf.read("manifest.json"))
    lines = records.splitlines(keepends=True)
    lines[0] = line + b"\n"
    records = b"".join(lines)
    m["members"]["records.jsonl"] = {"sha256": hashlib.sha256(records).hexdigest(), "bytes": len(records)}
    rezip(src, dst, edit=lambda n, d: records if n == "records.jsonl" else resealed(m) if n == "manifest.json" else d)


def _invalid_record_resealed(src: Path, dst: Path) -> None:
    """An invalid record whose member checksum and size were recomputed in the manifest too."""
    with zipfile.ZipFile(src) as zf:
        rec = json.loads(zf.read("records.jsonl").splitlines()[0])
    rec["type"] = "gossip"
    del rec["title"]
    _resealed_with(src, dst, json.dumps(rec).encode())


def _lone_surrogate_resealed(src: Path, dst: Path) -> None:
    """Valid JSON that is not Unicode text: a lone surrogate escaped in a title's language, where the
    sanitiser (which drops one from text) does not reach: storing it would fail."""
    with zipfile.ZipFile(src) as zf:
        rec = json.loads(zf.read("records.jsonl").splitlines()[0])
    rec["title"] = {"PLACEHOLDER": "broken text"}
    _resealed_with(src, dst, json.dumps(rec).encode().replace(b"PLACEHOLDER", b"en\\ud800"))


def _signed_by(signer: str):
    """The manifest signed again with another node's key (the records untouched)."""
    return lambda s, d: rezip(s, d, edit=edit_manifest(lambda m: None, signer=signer))


TAMPERING = {
    "flipped byte": (_flip_in_records, r"records\.jsonl (is damaged|does not match its SHA-256)"),
    "truncated": (lambda s, d: d.write_bytes(s.read_bytes()[: s.stat().st_size * 2 // 3]),
                  r"not a ZIP file, or a truncated one"),
    "truncated at the end record": (lambda s, d: d.write_bytes(s.read_bytes()[:-5]), r"truncated"),
    "member added": (lambda s, d: rezip(s, d, extra={"notes.txt": b"hello"}),
                     r"unexpected member 'notes\.txt' .*a member was added"),
    "member removed": (lambda s, d: rezip(s, d, drop=("tombstones.jsonl",)),
                       r"lacks the member tombstones\.jsonl: a member was removed"),
    "manifest edited": (lambda s, d: rezip(s, d, edit=lambda n, x: x.replace(b'"records": ', b'"records": 1') if n == "manifest.json" else x),
                        r"manifest\.json does not match its own checksum"),
    "manifest edited and resealed": (lambda s, d: rezip(s, d, edit=edit_manifest(lambda m: m["counts"].update(records=m["counts"]["records"] - 1))),
                                     r"records\.jsonl holds (\d+) records; the manifest counts (?!\1)\d+: it was edited"),
    "record edited": (lambda s, d: rezip(s, d, edit=_edit_record_same_size),
                      r"records\.jsonl does not match its SHA-256 in the manifest: it was damaged or edited"),
    "record edited, size changed": (lambda s, d: rezip(s, d, edit=_edit_record),
                                    r"records\.jsonl has \d+ bytes; the manifest says \d+: it was edited or damaged"),
    "invalid record resealed": (_invalid_record_resealed,
                                r"records\.jsonl has records that do not validate against the record schema \(1 of \d+\): line 1: "
                                r"record '[^']+': \(record\): 'title' is a required property"),
    "lone surrogate resealed": (_lone_surrogate_resealed,
                                r"line 1: record '[^']+': title/'en\\ud800': text holds a lone surrogate \(U\+D800\)"),
    "path traversal member": (lambda s, d: rezip(s, d, extra={"../../escaped.txt": b"x"}),
                              r"unexpected member '\.\./\.\./escaped\.txt'"),
    "duplicate member": (lambda s, d: rezip(s, d, extra={"records.jsonl": b"{}\n"}), r"appears twice"),
    "not a bundle": (lambda s, d: rezip(s, d, edit=edit_manifest(lambda m: m.update(format="something-else"))),
                     r"not a pops-chm bundle .*'something-else'"),
    "newer format": (lambda s, d: rezip(s, d, edit=edit_manifest(lambda m: (m.update(format_version="2.0"), m["software"].update(version="9.1.0")))),
                     r"made by a newer node version 9\.1\.0 \(bundle format 2\.0\); this node \(pops-chm "
                     + re.escape(__version__) + r"\) reads bundle format up to 1\.x; upgrade"),
    "manifest edited, checksum recomputed, not signed again": (
        lambda s, d: rezip(s, d, edit=edit_manifest(lambda m: m["node"].update(name="Someone else"), signer=None)),
        r"manifest\.json does not match its signature by node ke's key: the bundle was edited after node ke signed it"),
    "signature removed": (lambda s, d: rezip(s, d, edit=edit_manifest(lambda m: m.pop("signature"), signer=None)),
                          r"the bundle is not signed: this node imports bundles signed by the nodes listed under "
                          r"trusted_nodes in its config \(or, for one import, with --trust-unsigned\)"),
    "signed by another key": (_signed_by("evil"),
                              r"signed as node ke with the key ed25519:\S+, not the key trusted_nodes lists for it: "
                              r"check the key with node ke's operator"),
    "too big to decompress": (lambda s, d: rezip(s, d, edit=edit_manifest(lambda m: m["members"]["records.jsonl"].update(bytes=50 * 1024 ** 3))),
                              r"records\.jsonl would decompress to 53687091200 bytes, more than the limit"),
}


@pytest.mark.filterwarnings("ignore:Duplicate name")   # the duplicate member, written on purpose
@pytest.mark.parametrize("kind", list(TAMPERING))
def test_a_tampered_bundle_is_refused_whole_and_nothing_is_stored(pair, tmp_path, kind):
    _, b, bundle = pair
    make, message = TAMPERING[kind]
    bad = tmp_path / "bad.zip"
    make(bundle, bad)
    before, seq = data_fingerprint(b), max_seq(b)
    r = cli(b, "import", bad)
    assert r.exit_code == 1, r.output
    assert re.search(message, r.stderr), r.stderr
    assert r.stderr.startswith(f"{bad}: refused: ") and r.stderr.rstrip().endswith("nothing was imported")
    assert data_fingerprint(b) == before and max_seq(b) == seq
    assert not (tmp_path.parent / "escaped.txt").exists() and not (b.parent / "escaped.txt").exists()


def test_a_newer_minor_version_is_read(pair, tmp_path):
    _, _, bundle = pair
    rezip(bundle, tmp_path / "minor.zip", edit=edit_manifest(lambda m: m.update(format_version="1.7", extra={"x": 1})))
    c = empty_node(tmp_path / "c", "ug")
    r = cli(c, "import", tmp_path / "minor.zip")
    assert r.exit_code == 0, r.output
    assert len(rows(c)) == json.loads(zipfile.ZipFile(bundle).read("manifest.json"))["counts"]["records"]


def _bundle(path: Path, records: bytes, tombstones: bytes = b"", signed: bool = True, **manifest_over) -> None:
    """A bundle written by hand (honest checksums) around the given member bytes, signed with the test key
    of the node it names (zz unless `node` is given), or not at all."""
    members = {"records.jsonl": records, "tombstones.jsonl": tombstones}
    m = {"format": "pops-chm-bundle", "format_version": "1.1", "created": "2024-05-06T07:08:09Z",
         "node": {"id": "zz"}, "software": {"name": "pops-chm", "version": "0.1.0"},
         "selection": {"since": None, "until": "2024-05-06T07:08:09Z", "sources": None},
         "counts": {"records": records.count(b"\n"), "tombstones": tombstones.count(b"\n")},
         "members": {n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for n, d in members.items()}}
    m.update(manifest_over)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("manifest.json", resealed(m, "node" if signed else None))


def test_size_limits_hold_while_streaming(tmp_path):
    """A member of zeros that deflates a thousandfold: refused at its declared size, or at the first line
    longer than a record may be, without decompressing it into memory."""
    zeros = b"0" * (64 * 1024 * 1024) + b"\n"
    _bundle(tmp_path / "bomb.zip", zeros)
    assert (tmp_path / "bomb.zip").stat().st_size < 200_000
    with pytest.raises(exchange.BundleError, match=r"would decompress to 67108865 bytes, more than the limit of 1048576"):
        exchange.verify_bundle(tmp_path / "bomb.zip", exchange.Limits(max_member_bytes=1024 * 1024), trust=TRUST)
    with pytest.raises(exchange.BundleError, match=r"records\.jsonl line 1 is longer than the limit of 5242880 bytes"):
        exchange.verify_bundle(tmp_path / "bomb.zip", trust=TRUST)
    # a bundle whose ZIP directory and manifest both claim 1000 bytes for that member: reading stops there
    _bundle(tmp_path / "liar.zip", zeros, members={
        "records.jsonl": {"sha256": hashlib.sha256(zeros[:1000]).hexdigest(), "bytes": 1000},
        "tombstones.jsonl": {"sha256": hashlib.sha256(b"").hexdigest(), "bytes": 0}})
    data = bytearray((tmp_path / "liar.zip").read_bytes())
    cd = next(m.start() for m in re.finditer(rb"PK\x01\x02", data) if data[m.start() + 46: m.start() + 59] == b"records.jsonl")
    data[cd + 24: cd + 28] = (1000).to_bytes(4, "little")   # the directory's uncompressed size
    (tmp_path / "liar.zip").write_bytes(bytes(data))
    with pytest.raises(exchange.BundleError, match=r"records\.jsonl (is damaged \(Bad CRC-32|ends in the middle of line 1)"):
        exchange.verify_bundle(tmp_path / "liar.zip", trust=TRUST)


def test_a_zip_with_many_members_is_refused_before_its_directory_is_read(tmp_path):
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as zf:
        for i in range(2000):
            zf.writestr(f"m{i}", b"")
    with pytest.raises(exchange.BundleError, match=r"holds 2000 members .* not a bundle"):
        exchange.verify_bundle(tmp_path / "many.zip", trust=TRUST)


def test_hostile_lines_are_refused_with_their_line(tmp_path):
    rec = json.dumps(valid_record()).encode() + b"\n"
    cases = {
        b"[1, 2]\n": r"line 2: not a JSON object",
        b"{\"id\": \n": r"line 2: not JSON",
        b"\xff\xfe\n": r"line 2: not JSON",
        json.dumps(valid_record(path=[])).encode() + b"\n": r"line 2: record 'ke:ke-moe:oai:ke:1': path",
    }
    for n, (line, message) in enumerate(cases.items()):
        _bundle(tmp_path / f"h{n}.zip", rec + line)
        with pytest.raises(exchange.BundleError, match=message):
            exchange.verify_bundle(tmp_path / f"h{n}.zip", trust=TRUST)
    _bundle(tmp_path / "t.zip", rec, b'{"id": "a b", "deleted": "2024-01-01T00:00:00Z"}\n')
    with pytest.raises(exchange.BundleError, match=r"tombstones\.jsonl has malformed tombstones \(1 of 1\): line 1: id is missing or not a record id"):
        exchange.verify_bundle(tmp_path / "t.zip", trust=TRUST)
    _bundle(tmp_path / "n.zip", rec, node={"id": "../etc"})
    with pytest.raises(exchange.BundleError, match=r"node\.id is missing or not a node id"):
        exchange.verify_bundle(tmp_path / "n.zip", trust=TRUST)
    _bundle(tmp_path / "ok.zip", rec, b'{"id": "zz:s:1", "deleted": "2024-01-01T00:00:00Z"}\n')
    assert exchange.verify_bundle(tmp_path / "ok.zip", trust=TRUST).counts == {"records": 1, "tombstones": 1}


def test_a_file_changed_between_verification_and_loading_stores_only_verified_chunks(tmp_path):
    recs = [valid_record(id=f"zz:s:{i}", origin={"node": "zz", "source": "s", "identifier": str(i)}, path=["zz"])
            for i in range(exchange.CHUNK + 10)]
    records = b"".join(json.dumps(r).encode() + b"\n" for r in recs)
    _bundle(tmp_path / "b.zip", records)
    bundle = exchange.verify_bundle(tmp_path / "b.zip", trust=TRUST)
    edited = records.replace(b'"zz:s:%d"' % (exchange.CHUNK + 5), b'"zz:s:50X"')   # same length, other content
    _bundle(tmp_path / "b.zip", edited)   # replaced after pass one, before pass two
    cfg = empty_node(tmp_path / "n")
    from harvester import config
    c = config.load(cfg)
    with Store(c.store_path) as st:
        with pytest.raises(exchange.BundleError, match=r"records\.jsonl changed while it was being imported \(chunk 2 differs"):
            exchange.load_bundle(c, st, bundle)
        assert st.count() == exchange.CHUNK and st.get("zz:s:50X") is None
        assert st.last_run("import-zz")["status"] == "failed"


# ---------------------------------------------------------------- keys, trust and the origin rules

def test_keys_show_gives_the_trusted_nodes_entry_and_the_key_stays_private(tmp_path):
    a = empty_node(tmp_path / "a", "ml", trusts=())
    r = cli(a, "keys", "show")
    key_file = tmp_path / "a" / "data" / "node.key"
    assert r.exit_code == 0 and f"made this node's private key: {key_file}" in r.stderr, r.output
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    public = re.search(r"^node ml public key: (ed25519:\S{44})$", r.stdout, re.M).group(1)
    again = cli(a, "keys", "show")
    assert again.stdout == r.stdout and "made" not in again.stderr   # the same key, not a new one
    # the printed entry is what another node's config takes, as it is
    b = empty_node(tmp_path / "b", trusts=())
    b.write_text(b.read_text() + r.stdout.split("bundles:\n", 1)[1])
    assert cli(b, "config", "check").exit_code == 0
    assert cli(a, "export", tmp_path / "ml.zip").exit_code == 0
    with zipfile.ZipFile(tmp_path / "ml.zip") as zf:
        assert json.loads(zf.read("manifest.json"))["signature"]["public_key"] == public
    r = cli(b, "import", tmp_path / "ml.zip")
    assert r.exit_code == 0 and "bundle of node ml (" in r.stdout and ", signed by node ml) imported" in r.stdout, r.output
    # a key others can read is not used
    key_file.chmod(0o644)
    r = cli(a, "export", tmp_path / "again.zip")
    assert r.exit_code == 1 and f"{key_file}: this node's private key is readable by others (mode 644); " \
                                f"make it private with: chmod 600 {key_file}" in r.stderr, r.output
    assert not (tmp_path / "again.zip").exists()
    # a public key that is not one is named in config check
    b.write_text(b.read_text().replace(public, "ed25519:not-a-key"))
    r = cli(b, "config", "check")
    assert r.exit_code == 2 and "trusted_nodes[0].public_key" in r.stderr and "ed25519: followed by 44 base64" in r.stderr, r.stderr


def test_trust_unsigned_takes_an_unverifiable_bundle_for_that_import_only(tmp_path):
    rec = valid_record(id="zz:s:1", origin={"node": "zz", "source": "s", "identifier": "1"}, path=["zz"])
    _bundle(tmp_path / "unsigned.zip", json.dumps(rec).encode() + b"\n", signed=False)
    b = empty_node(tmp_path / "b", trusts=("zz",))
    r = cli(b, "import", tmp_path / "unsigned.zip")
    assert r.exit_code == 1 and "refused: the bundle is not signed" in r.stderr and rows(b) == {}
    r = cli(b, "import", "--trust-unsigned", tmp_path / "unsigned.zip")
    assert r.exit_code == 0 and "(2024-05-06T07:08:09Z, not signed, taken with --trust-unsigned)" in r.stdout, r.output
    assert set(rows(b)) == {"zz:s:1"}
    # an unknown node's signature is as good as none; a known key's broken signature is refused all the same
    rec2 = dict(rec, id="zz:s:2", origin={"node": "zz", "source": "s", "identifier": "2"})
    _bundle(tmp_path / "stranger.zip", json.dumps(rec2).encode() + b"\n", node={"id": "stranger"})
    assert cli(b, "import", tmp_path / "stranger.zip").exit_code == 1
    r = cli(b, "import", "--trust-unsigned", tmp_path / "stranger.zip")
    assert r.exit_code == 1 and "node stranger does not hold it" in r.stderr   # signature let in, origin rule holds
    _bundle(tmp_path / "zz.zip", json.dumps(rec2).encode() + b"\n")
    rezip(tmp_path / "zz.zip", tmp_path / "edited.zip",
          edit=edit_manifest(lambda m: m["node"].update(name="Not zz"), signer=None))
    r = cli(b, "import", "--trust-unsigned", tmp_path / "edited.zip")
    assert r.exit_code == 1 and "does not match its signature by node zz's key" in r.stderr
    assert set(rows(b)) == {"zz:s:1"}


def test_origin_rules_refuse_records_by_id_with_the_reason(tmp_path):
    """A bundle signed by zz, imported by tz: zz sends its own records and those it holds from others."""
    def rec(rid, origin, path):
        return json.dumps(valid_record(id=rid, origin={"node": origin, "source": "s", "identifier": rid},
                                       path=path)).encode() + b"\n"
    lines = [rec("zz:s:1", "zz", ["zz"]),            # zz's own
             rec("ug:s:2", "ug", ["ug", "zz"]),      # ug's, held by zz
             rec("ug:s:3", "ug", ["ug"]),            # not held by zz
             rec("tz:s:4", "tz", ["zz"]),            # claims this node as its origin
             rec("ug:s:5", "ug", ["zz"]),            # a path not from its origin
             rec("ml:s:6", "ml", ["ml", "tz", "zz"])]   # passed through this node already: known here
    _bundle(tmp_path / "zz.zip", b"".join(lines))
    b = empty_node(tmp_path / "b", trusts=("zz",))
    r = cli(b, "import", tmp_path / "zz.zip")
    assert r.exit_code == 1, r.output
    assert ("6 records: 2 stored, 0 unchanged, 1 already passed through this node, 0 older than held here, "
            "3 refused") in r.stdout, r.stdout
    reasons = {"ug:s:3": "node zz does not hold it: its path 'ug' ends at 'ug', not at zz",
               "tz:s:4": "its origin is this node (tz): this node's own records are never taken from another node",
               "ug:s:5": "its path 'zz' does not start at its origin node 'ug'"}
    for rid, reason in reasons.items():
        assert f"refused record '{rid}': {reason}\n" in r.stderr, r.stderr
    assert set(rows(b)) == {"zz:s:1", "ug:s:2"}
    with store_of(b) as st:   # kept as the source's failed records: `pops-chm errors import-zz` lists them
        assert {f["identifier"]: f["error"] for f in st.failures("import-zz")} == \
            {rid: f"refused: {reason}" for rid, reason in reasons.items()}
        assert st.last_run("import-zz")["failed"] == 3
    assert exchange.origin_refusal(json.loads(lines[1]), "zz", "tz") is None


# ---------------------------------------------------------------- bundles that cost time to refuse

EMPTY_OBJECTS = b"{}\n" * (2 * 1024 * 1024 // 3)    # 2 MiB of lines that parse but are no records


def _streamed_bundle(path: Path, line: bytes, n: int, **manifest_over) -> None:
    """A signed bundle (node zz) whose records.jsonl is `line` n times, written and hashed as a stream."""
    sha, block = hashlib.sha256(), line * (1024 * 1024 // len(line))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("records.jsonl", "w", force_zip64=True) as out:
            left = n
            while left:
                part = block[: min(left, len(block) // len(line)) * len(line)]
                out.write(part)
                sha.update(part)
                left -= len(part) // len(line)
        zf.writestr("tombstones.jsonl", b"")
        m = {"format": "pops-chm-bundle", "format_version": "1.1", "created": "2024-05-06T07:08:09Z",
             "node": {"id": "zz"}, "software": {"name": "pops-chm", "version": "0.1.0"},
             "selection": {"since": None, "until": "2024-05-06T07:08:09Z", "sources": None},
             "counts": {"records": n, "tombstones": 0},
             "members": {"records.jsonl": {"sha256": sha.hexdigest(), "bytes": n * len(line)},
                         "tombstones.jsonl": {"sha256": hashlib.sha256(b"").hexdigest(), "bytes": 0}}}
        m.update(manifest_over)
        zf.writestr("manifest.json", resealed(m))


def test_a_bundle_built_to_cost_time_is_refused_before_its_lines_are_parsed(tmp_path):
    """A 4 KB ZIP of an honestly declared 2 MiB of '{}' lines, and one of 200 MiB: refused on the signature,
    the caps, the raw bytes or at the fifth bad line, never after parsing every line; nothing stored."""
    b = empty_node(tmp_path / "b", trusts=("zz",))
    capped = empty_node(tmp_path / "capped", trusts=("zz",), extra="exchange: {max_records: 1000}\n")
    cases = []
    _bundle(tmp_path / "unsigned.zip", EMPTY_OBJECTS, signed=False)
    assert (tmp_path / "unsigned.zip").stat().st_size < 8 * 1024
    cases.append((b, "unsigned.zip", (), r"refused: the bundle is not signed"))
    _bundle(tmp_path / "signed.zip", EMPTY_OBJECTS)
    cases.append((capped, "signed.zip", (), r"refused: manifest\.json: counts 699050 records, more than the 1000 "
                                            r"this node takes from one bundle \(exchange\.max_records in its config\)"))
    cases.append((b, "signed.zip", (), r"refused: records\.jsonl has records that do not validate against the "
                                       r"record schema \(the first 5, by line 5, where checking stopped\): line 1: "
                                       r"record 'None': \(record\): 'id' is a required property.*; line 5: "))
    cases.append((b, "unsigned.zip", ("--trust-unsigned",), r"\(the first 5, by line 5, where checking stopped\)"))
    # every member's bytes are checked before any record is parsed: the tombstones' checksum fails first
    tomb = b'{"id": "zz:s:1", "deleted": "2024-01-01T00:00:00Z"}\n'
    _bundle(tmp_path / "bad-tombstones.zip", EMPTY_OBJECTS, tomb,
            members={"records.jsonl": {"sha256": hashlib.sha256(EMPTY_OBJECTS).hexdigest(), "bytes": len(EMPTY_OBJECTS)},
                     "tombstones.jsonl": {"sha256": "0" * 64, "bytes": len(tomb)}})
    cases.append((b, "bad-tombstones.zip", (), r"refused: tombstones\.jsonl does not match its SHA-256 in the manifest"))
    n = 200 * 1024 * 1024 // 3
    _streamed_bundle(tmp_path / "200mib.zip", b"{}\n", n, counts={"records": 10, "tombstones": 0})
    cases.append((b, "200mib.zip", (), rf"refused: records\.jsonl holds {n} records; the manifest counts 10: it was edited"))
    for node, name, flags, message in cases:
        seq = max_seq(node)             # opens (makes) the empty store first
        before = data_fingerprint(node)
        r = cli(node, "import", *flags, tmp_path / name)
        assert r.exit_code == 1 and re.search(message, r.stderr), (name, r.output)
        assert r.stderr.rstrip().endswith("nothing was imported")
        assert data_fingerprint(node) == before and max_seq(node) == seq


# ---------------------------------------------------------------- one sanitiser for every way in

DIRTY_TITLE = "PCB\u0000 inventory \u001b[31mKenya\ufffe 2024"
DIRTY_DESCRIPTION = "Transformers\u001b]0;owned\u0007 and capacitors\u0000."


def test_imported_text_loses_nul_esc_and_noncharacters_as_a_harvest_does(tmp_path):
    """The same text harvested (a DCAT catalogue in Turtle) and imported (a bundle signed by zz) is stored
    the same: without NUL, ESC, BEL and U+FFFE, everything else kept."""
    esc = lambda text: text.encode("unicode_escape").decode("ascii").replace("\\x", "\\u00")   # Turtle's \uXXXX
    (tmp_path / "cat.ttl").write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n"
        f'<https://data.example.org/dataset/1> a dcat:Dataset ; dct:identifier "1" ;\n'
        f'    dct:title "{esc(DIRTY_TITLE)}"@en ; dct:description "{esc(DIRTY_DESCRIPTION)}"@en .\n')
    zz = empty_node(tmp_path / "zz", "zz", trusts=(),
                    sources=f'[{{id: zz-data, type: rdf, format: dcat, path: "{tmp_path / "cat.ttl"}"}}]')
    assert cli(zz, "harvest").exit_code == 0
    (rid, (_, harvested)), = rows(zz).items()
    assert harvested["title"] == {"en": "PCB inventory [31mKenya 2024"}
    assert harvested["description"] == {"en": "Transformers]0;owned and capacitors."}

    sent = dict(harvested, title={"en": DIRTY_TITLE}, description={"en": DIRTY_DESCRIPTION},
                keywords={"en": ["PCB\u0000s"]})
    _bundle(tmp_path / "zz.zip", json.dumps(sent, ensure_ascii=False).encode() + b"\n")
    assert "\ufffe".encode() in zipfile.ZipFile(tmp_path / "zz.zip").read("records.jsonl")   # sent as it is
    b = empty_node(tmp_path / "b", trusts=("zz",))
    r = cli(b, "import", tmp_path / "zz.zip")
    assert r.exit_code == 0 and "1 stored" in r.stdout, r.output
    stored = rows(b)[rid][1]
    assert stored["title"] == harvested["title"] and stored["description"] == harvested["description"]
    assert stored["keywords"] == {"en": ["PCBs"]}
    with store_of(b) as st:
        raw = st.db.execute("SELECT raw FROM records WHERE id = ?", (rid,)).fetchone()[0]
    assert not re.search("[\u0000\u0007\u001b\ufffe]", raw) and "\\u0000" not in raw and "\\u001b" not in raw
    assert rid in search_ids(b, "inventory")


def test_native_harvest_and_import_drop_the_same_characters(tmp_path):
    """C1 controls (U+009B opens a terminal escape like ESC [) and U+FEFF are allowed in XML: a harvest in
    the native pops format drops them as a bundle import does."""
    from harvester import popsxml
    sent = valid_record(id="zz:s:1", origin={"node": "zz", "source": "s", "identifier": "1"}, path=["zz"],
                        title={"en": "PCB\u009b31m inventory\ufeff"}, description={"en": "Kenya\u0085 2024"})
    (tmp_path / "rec.xml").write_bytes(popsxml.to_xml(sent))
    h = empty_node(tmp_path / "h", trusts=(),
                   sources=f'[{{id: from-zz, type: xml, format: pops, path: "{tmp_path / "rec.xml"}"}}]')
    r = cli(h, "harvest")
    assert r.exit_code == 0, r.output
    _bundle(tmp_path / "zz.zip", json.dumps(sent).encode() + b"\n")
    b = empty_node(tmp_path / "b", trusts=("zz",))
    assert cli(b, "import", tmp_path / "zz.zip").exit_code == 0
    harvested, imported = rows(h)["zz:s:1"][1], rows(b)["zz:s:1"][1]
    assert harvested["title"] == imported["title"] == {"en": "PCB31m inventory"}
    assert harvested["description"] == imported["description"] == {"en": "Kenya 2024"}


# ---------------------------------------------------------------- OAI static repository

STATIC_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:sr="{static}" xmlns:oai="{oai}"
           targetNamespace="{static}" elementFormDefault="qualified">
  <!-- the static repository's wrapper: its parts are the OAI-PMH types -->
  <xs:import namespace="{oai}" schemaLocation="{oai_xsd}"/>
  <xs:element name="Repository">
    <xs:complexType><xs:sequence>
      <xs:element name="Identify" type="oai:IdentifyType"/>
      <xs:element name="ListMetadataFormats" type="oai:ListMetadataFormatsType"/>
      <xs:element name="ListRecords" minOccurs="0" maxOccurs="unbounded">
        <xs:complexType><xs:complexContent><xs:extension base="oai:ListRecordsType">
          <xs:attribute name="metadataPrefix" type="oai:metadataPrefixType" use="required"/>
        </xs:extension></xs:complexContent></xs:complexType>
      </xs:element>
    </xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>
"""


@pytest.fixture(scope="module")
def static_schema(tmp_path_factory):
    oai_xsd = need(CORPUS / "other" / "schemas" / "OAI-PMH.xsd")
    xsd = tmp_path_factory.mktemp("xsd") / "static-repository.xsd"
    xsd.write_text(STATIC_XSD.format(static=STATIC, oai=OAI, oai_xsd=oai_xsd.resolve().as_uri()))
    return etree.XMLSchema(etree.parse(str(xsd)))


def test_oai_static_repository_is_valid_and_strict(tmp_path, static_schema):
    a = harvested_sample(tmp_path / "a")
    with store_of(a) as st:
        gone = st.db.execute("SELECT * FROM records WHERE source='ke-geo' LIMIT 1").fetchone()
        st.tombstone_ids("ke-geo", [gone["identifier"]])
    live = {i for i, (deleted, _) in rows(a).items() if not deleted}
    out = tmp_path / "ke-static.xml"
    r = cli(a, "export", "--format", "oai-static", "--base-url", "http://gw.example.org/oai/www.example.go.ke/ke-static.xml", out)
    assert r.exit_code == 0, r.output
    assert f"{len(live)} records in oai_dc and pops" in r.stdout and "1 deleted records not carried" in r.stdout
    doc = etree.parse(str(out))
    static_schema.assertValid(doc)
    root = doc.getroot()
    assert [etree.QName(c).localname for c in root] == ["Identify", "ListMetadataFormats", "ListRecords", "ListRecords"]
    ident = root.find(f"{{{STATIC}}}Identify")
    assert ident.findtext(f"{{{OAI}}}granularity") == "YYYY-MM-DD"
    assert ident.findtext(f"{{{OAI}}}deletedRecord") == "no"
    assert ident.findtext(f"{{{OAI}}}baseURL") == "http://gw.example.org/oai/www.example.go.ke/ke-static.xml"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", ident.findtext(f"{{{OAI}}}earliestDatestamp"))
    prefixes = [f.findtext(f"{{{OAI}}}metadataPrefix") for f in root.iter(f"{{{OAI}}}metadataFormat")]
    assert prefixes == ["oai_dc", "pops"]
    pops_xsd = etree.XMLSchema(etree.parse(str(ROOT / "schemas" / "pops.xsd")))
    ids = {}
    for lr in root.iter(f"{{{STATIC}}}ListRecords"):
        prefix = lr.get("metadataPrefix")
        ids[prefix] = set()
        for rec in lr.iter(f"{{{OAI}}}record"):
            header = rec.find(f"{{{OAI}}}header")
            assert header.get("status") is None and header.find(f"{{{OAI}}}setSpec") is None   # the strict profile
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", header.findtext(f"{{{OAI}}}datestamp"))
            ids[prefix].add(header.findtext(f"{{{OAI}}}identifier"))
            payload = rec.find(f"{{{OAI}}}metadata")[0]
            if prefix == "pops":
                pops_xsd.assertValid(payload)
        assert lr.find(f".//{{{OAI}}}resumptionToken") is None
    assert ids["oai_dc"] == ids["pops"] == {f"oai:ke:{i}" for i in live}

    r = cli(a, "export", "--format", "oai-static", "--since", "2024-01-01", tmp_path / "x.xml")
    assert r.exit_code == 2 and "--since is for bundles" in r.output


def test_oai_static_round_trip_through_a_harvest(tmp_path):
    a = harvested_sample(tmp_path / "a")
    out = tmp_path / "ke-static.xml"
    assert cli(a, "export", "--format", "oai-static", out).exit_code == 0
    b = empty_node(tmp_path / "b", sources=f'[{{id: from-ke, type: oaipmh, path: "{out}", metadata_prefix: pops}}]')
    r = cli(b, "harvest", "--json")
    assert r.exit_code == 0, r.output
    ra, rb = rows(a), rows(b)
    assert set(rb) == {i for i, v in ra.items() if not v[0]}
    for rid, (_, rec) in rb.items():
        assert without_path(rec) == without_path(ra[rid][1])
        assert rec["path"] == ra[rid][1]["path"] + ["tz"]
    r = cli(b, "harvest", "--json")   # harvesting the same file again changes nothing
    assert sum(x["stored"] + x["deleted"] for x in json.loads(r.stdout)) == 0


# ---------------------------------------------------------------- memory stays flat

_MEASURE = """
import re, sys
from cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
with open("/proc/self/status") as fh:
    print("PEAK_KB", re.search(r"VmHWM:\\s*(\\d+)", fh.read()).group(1), file=sys.stderr)
sys.exit(code)
"""


def _peak_rss_mb(*args) -> float:
    """Run the command line in a fresh process; its peak resident memory in MB. Read from VmHWM, the high-water
    mark of the process's own memory: getrusage's ru_maxrss would also count the memory of the (large) test
    process it was forked from, which Linux carries across exec."""
    need(Path("/proc/self/status"))
    p = subprocess.run([sys.executable, "-c", _MEASURE, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr
    return int(re.search(r"PEAK_KB (\d+)", p.stderr).group(1)) / 1024


def _generated_node(d: Path, n: int) -> Path:
    cfg = empty_node(d, "big")
    give_key(cfg, "big")
    text = "Inventory of polychlorinated biphenyls in transformers and capacitors, with disposal plans. " * 8
    with store_of(cfg) as st:
        for start in range(0, n, 1000):
            st.apply_batch([Item("gen", str(i), valid_record(
                id=f"big:gen:{i}", origin={"node": "big", "source": "gen", "identifier": str(i)}, path=["big"],
                title={"en": f"PCB inventory {i}", "fr": f"Inventaire des PCB {i}"}, description={"en": text},
                countries=["KE"], year=2000 + i % 25), "", "pops") for i in range(start, min(n, start + 1000))])
    return cfg


def test_export_and_import_memory_stays_flat(tmp_path, capsys):
    """Peak memory of export, import and a second import of the same bundle, at 2,000 and 20,000 records. A
    first import also fills the embedded index's page cache (its PRAGMA cache_size, up to 64 MB), which
    grows with the index whatever fills it; the second import reads, verifies and compares every record
    again with nothing new to index, so it shows what the import itself holds."""
    peaks = {}
    for n in (2_000, 20_000):
        a = _generated_node(tmp_path / f"a{n}", n)
        b = empty_node(tmp_path / f"b{n}", trusts=("big",))
        out = tmp_path / f"big{n}.zip"
        peaks[("export", n)] = _peak_rss_mb("--config", a, "export", out)
        peaks[("import", n)] = _peak_rss_mb("--config", b, "import", out)
        peaks[("import again", n)] = _peak_rss_mb("--config", b, "import", out)
        with store_of(b) as st:
            assert st.count("import-big") == n
    with capsys.disabled():
        print("\npeak RSS (MB): " + ", ".join(f"{k} {n}: {v:.0f}" for (k, n), v in peaks.items()))
    # ten times the records: a flat stream grows by a few caches only, far below the ~20 MB of record text
    # (and several times that as parsed records) that holding them would take
    assert peaks[("export", 20_000)] - peaks[("export", 2_000)] < 15
    assert peaks[("import again", 20_000)] - peaks[("import again", 2_000)] < 15
