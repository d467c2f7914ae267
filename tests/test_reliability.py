"""Reliability: harvests under random faults, a node killed at random, searches during a harvest, fuzzed
inputs to the crosswalks, and hostile inputs through the whole path (harvest, store, index, HTTP).

The short version runs in CI (well under a minute). The long version (20 seeds x 5,000 records, 20 kills,
10,000 records under 8 searchers, the whole corpus fuzzed with 200 mutations per file) runs by hand:

    .venv/bin/python -m pytest -m slow tests/test_reliability.py

(the project's pytest options leave out tests marked `slow` unless `-m slow` is given).

Counts are exact. Under random faults (503, dropped connections, pages cut short, bad resumption tokens,
duplicates across pages, truncated pages, responses slower than the timeout) runs are repeated until one
ends ok - a run may end partial or failed, the next resumes - and then the store holds exactly the live
records served, once each. With bad characters in the mix, a record that stays unreadable is quarantined:
stored + quarantined covers every live record, nothing else is stored, and replaying the quarantined ones
makes the store exact. A final incremental run changes nothing.

Paths: the node reads the local files its operator configures (a source's `path`, `..` included); the
config is trusted, so that is allowed and only checked to fail cleanly on a file that is not a repository.
What must never read a file is the HTTP side: API and web routes given `..`, encoded or not, answer 404.
"""
from __future__ import annotations

import http.client
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from harvester import config, crosswalks, run
from harvester.harvesting import harvest_and_index
from harvester.index import Query, catch_up, open_backend
from harvester.mapping import MapContext, MappingError, map_record
from harvester.replay import replay_record
from harvester.store import Store
from harvester.xmlsafe import MalformedXML, UnsafeXML, parser as safe_parser

from .conftest import CORPUS, ROOT, need
from .oaiserver import (DC_NS, OAI_DC_NS, OAI_NS, Fault, GeneratedSource, OAIServer, ServedRecord,
                        bad_resumption_token, drop_connection, duplicate_across_pages, http_500, http_503, make_records,
                        malformed_page, slow, truncated_page)

slow_mark = pytest.mark.slow

SID = "src"


# --------------------------------------------------------------------------- helpers

def write_config(tmp_path, url=None, *, path=None, prefix="oai_dc", timeout=0.5, retries=3, batch_size=7,
                 max_record_bytes=None, name="node_config.yaml"):
    extra = f", max_record_bytes: {max_record_bytes}" if max_record_bytes else ""
    where = f'url: "{url}"' if url else f'path: "{path}"'
    cfg_path = tmp_path / name
    cfg_path.write_text(textwrap.dedent(f"""\
        node: {{id: ke, name: Test node}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        harvest: {{batch_size: {batch_size}, retries: {retries}, timeout: {timeout}, backoff: 0.02{extra}}}
        sources:
          - {{id: {SID}, type: oaipmh, {where}, metadata_prefix: {prefix}}}
        """), encoding="utf-8")
    return config.load(cfg_path)


def harvest(cfg, **kw):
    with Store(cfg.store_path) as store:
        return run.harvest_source(cfg, store, cfg.source(SID), **kw)


def served_live(source: GeneratedSource) -> set[str]:
    return {r.identifier for r in (source.record(i) for i in range(len(source))) if not r.deleted}


def integrity_ok(path) -> None:
    db = sqlite3.connect(str(path))
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()


def dc_record(identifier: str, title: str, i: int = 0, description: str = "PCB inventory",
              deleted: bool = False) -> ServedRecord:
    from .oaiserver import DEFAULT_START, esc
    md = (f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}">'
          f'<dc:title xml:lang="en">{esc(title)}</dc:title>'
          f'<dc:description xml:lang="en">{esc(description)}</dc:description>'
          f"<dc:subject>PCB</dc:subject><dc:language>en</dc:language></oai_dc:dc>")
    return ServedRecord(identifier, DEFAULT_START + timedelta(minutes=i), (), deleted, {} if deleted else {"oai_dc": md})


# --------------------------------------------------------------------------- 1. every fault at random

def random_faults(seed: int, timeout: float, with_bad_chars: bool, source: GeneratedSource,
                  page_size: int) -> list[Fault]:
    """Every fault class, each drawn at random from its own seeded generator. The faults that force a whole
    re-read (a truncated page makes the run partial; it must not move the incremental start) are capped in
    number so that the harvest can converge at all; the others fire as often as chance says."""
    s = seed * 100
    faults = [
        http_503(retry_after=0, probability=0.04, seed=s + 1),
        drop_connection(fraction=0.5, probability=0.03, seed=s + 2),
        drop_connection(before_headers=True, probability=0.02, seed=s + 3),
        malformed_page(mode="cut", probability=0.03, seed=s + 4),
        bad_resumption_token(times=None, probability=0.02, seed=s + 5, verbs={"ListRecords"}),
        duplicate_across_pages(probability=0.15, seed=s + 6),
        truncated_page(probability=0.05, seed=s + 7, times=2),
        slow(timeout + 0.3, probability=0.03, seed=s + 8),          # past the client's timeout: retried
    ]
    if with_bad_chars:   # one record of the page quarantined (store.failures), the rest of the page kept
        faults.append(malformed_page(mode="control_char", probability=0.02, seed=s + 9, verbs={"ListRecords"},
                                     times=3))
        # and one page whose bad character comes back on every fetch, so it must be salvaged
        rnd = random.Random(s)
        page = rnd.randint(2, len(source) // page_size - 1)
        # a record that is live whether or not the page also starts with a duplicate of the one before it
        k = next(k for k in range(1, page_size) if not source.record((page - 1) * page_size + k).deleted
                 and not source.record((page - 1) * page_size + k - 1).deleted)
        faults.append(malformed_page(mode=rnd.choice(["control_char", "bad_byte", "noncharacter", "undefined_entity"]),
                                     record=k, on_pages={page}, verbs={"ListRecords"}))
    return faults


BAD_TAIL = re.compile("(\x0b|\ufffe|\ufffd|&nbsp;)$")


def converge(cfg, max_attempts: int) -> list:
    reports = []
    for _ in range(max_attempts):
        rep = harvest(cfg)
        reports.append(rep)
        assert rep.status in ("ok", "partial", "failed"), (rep.status, rep.error)
        assert rep.status != "failed" or rep.error, "a failed run says why"
        if rep.status == "ok":
            return reports
    pytest.fail(f"no ok run after {max_attempts} attempts: {[(r.status, r.error, r.problems) for r in reports]}")


def check_random_fault_harvest(tmp_path, seed: int, n: int, page_size: int, with_bad_chars: bool):
    source = GeneratedSource(n, deleted_every=9)
    live = served_live(source)
    gone = {source.record(i).identifier for i in range(n)} - live
    timeout = 0.5
    with OAIServer(source, page_size=page_size, faults=random_faults(seed, timeout, with_bad_chars, source, page_size)) as srv:
        cfg = write_config(tmp_path, srv.url, timeout=timeout, batch_size=13)
        reports = converge(cfg, max_attempts=40)
        injected = dict(srv.stats.faults)
        with Store(cfg.store_path) as s:
            stored = s.live_identifiers(SID)
            failed_all = {f["identifier"] for f in s.failures(SID)}
            # a bad character in a tombstone lands in its identifier (it has no metadata): that failure
            # names the identifier as received, and is a deletion the node could not read
            failed = failed_all & live
            garbled = failed_all - live
            assert {BAD_TAIL.sub("", i) for i in garbled} <= gone, garbled
            # no loss, no duplicate: every live record is stored or quarantined, nothing else is stored. A record
            # may be both: held from an earlier fetch (kept) and failed on its latest one (a duplicate at the
            # start of a page shifts which record of the page the bad character lands in)
            assert stored | failed == live, (len(live - stored - failed), len((stored | failed) - live))
            assert stored <= live
            assert s.count(SID) == len(stored)
            assert s.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == len(stored)
            assert s.db.execute("SELECT COUNT(DISTINCT identifier) FROM records").fetchone()[0] == len(stored)
            if with_bad_chars:
                assert failed, "the page that stays malformed quarantines one of its live records"
                assert all(f["error"].startswith("unreadable XML") for f in s.failures(SID))
            else:
                assert not failed_all, f"no record may fail without a bad character: {sorted(failed)[:5]}"
            max_seq = s.max_seq()
            assert all(r["status"] != "running" for r in s.runs(SID, limit=100))
        integrity_ok(cfg.store_path)
        # a final incremental run (the faults off) changes nothing
        srv.clear_faults()
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        assert (rep.stored, rep.deleted, rep.failed) == (0, 0, 0), rep
        assert rep.seen < n, "the final run is incremental"
        with Store(cfg.store_path) as s:
            assert s.max_seq() == max_seq and s.live_identifiers(SID) == stored
            # the quarantined records are fine when asked for alone: replay stores them, then the store is exact
            for ident in sorted(failed):
                ok, message = replay_record(cfg, s, SID, ident)
                assert ok, message
            assert s.live_identifiers(SID) == live
            assert {f["identifier"] for f in s.failures(SID)} == garbled
    kinds = {k for k, v in injected.items() if v}
    print(f"\nseed {seed}: {n} records ({len(live)} live) in {len(reports)} runs "
          f"{[r.status for r in reports]}; faults injected {injected}; quarantined {len(failed)} live records "
          f"and {len(garbled)} tombstones")
    return kinds


SHORT_SEEDS = (1, 2, 3)
EVERY_KIND = {"http_503", "drop_connection", "malformed_page", "bad_resumption_token", "duplicate_across_pages",
              "truncated_page", "slow"}


def test_random_faults_exact_counts(tmp_path):
    """3 seeds x 300 records; over them every fault class fires (the random mix is not vacuous)."""
    kinds: set[str] = set()
    for seed in SHORT_SEEDS:
        (tmp_path / str(seed)).mkdir()
        kinds |= check_random_fault_harvest(tmp_path / str(seed), seed, n=300, page_size=10,
                                            with_bad_chars=(seed == 3))
    assert kinds >= EVERY_KIND, kinds


def test_a_short_page_followed_by_a_failed_run_is_not_forgotten(tmp_path):
    """Deterministic form of what the random mix finds: page 3 truncated, then page 5 fails for good; the
    run that resumes from the checkpoint must not end ok with the records of page 3 missing."""
    records = make_records(95)
    with OAIServer(records, page_size=10, faults=[truncated_page(keep=4, on_pages={3}, times=1),
                                                   http_500(on_pages={5})]) as srv:
        cfg = write_config(tmp_path, srv.url, retries=1)
        rep = harvest(cfg)
        assert rep.status == "failed" and "HTTP 500" in rep.error
        srv.clear_faults()
        converge(cfg, max_attempts=3)
        with Store(cfg.store_path) as s:
            missing = {r.identifier for r in records} - s.live_identifiers(SID)
        assert not missing, f"{len(missing)} records lost: {sorted(missing)}"


@slow_mark
@pytest.mark.parametrize("seed", range(100, 120))
def test_random_faults_exact_counts_long(tmp_path, seed):
    kinds = check_random_fault_harvest(tmp_path, seed, n=5000, page_size=50, with_bad_chars=(seed % 2 == 0))
    assert kinds >= EVERY_KIND - {"slow"}, kinds


# --------------------------------------------------------------------------- 2. SIGKILL at random points

def check_kills(tmp_path, seed: int, n: int, kills: int):
    rnd = random.Random(seed)
    source = GeneratedSource(n)
    live = served_live(source)
    with OAIServer(source, page_size=20, faults=[slow(0.06, verbs={"ListRecords"})]) as srv:
        cfg = write_config(tmp_path, srv.url, timeout=5, batch_size=11)
        killed = 0
        killed_pids = set()
        for _ in range(kills):
            proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(cfg.path), "harvest"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.4, 2.5))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                killed += 1
                killed_pids.add(proc.pid)
            proc.wait()
            integrity_ok(cfg.store_path)
            with Store(cfg.store_path) as s:    # whatever is stored is a subset of what is served, once each
                ids = s.live_identifiers(SID)
                assert ids <= live
                assert s.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == len(ids)
        srv.clear_faults()
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        with Store(cfg.store_path) as s:
            assert s.live_identifiers(SID) == live
            assert s.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == len(live)
            runs = s.runs(SID, limit=1000)
            assert not [r for r in runs if r["status"] == "running"], runs
            crashed = [r for r in runs if r["status"] == "crashed"]
            # exactly the runs of the killed processes (those killed before they started a run have none)
            assert {r["pid"] for r in crashed} == {r["pid"] for r in runs if r["pid"] in killed_pids}
            assert len(crashed) == len({r["pid"] for r in crashed}) <= killed
            assert all("died during the run" in (r["error"] or "") for r in crashed)
            assert all(r["status"] == "ok" for r in runs if r["pid"] not in killed_pids)
            assert s.state(SID)["checkpoint"] is None
            with open_backend(cfg, s) as index:   # the index (same file) catches up to exactly the store
                catch_up(index, s)
                assert index.count() == len(live)
        integrity_ok(cfg.store_path)
    print(f"\nseed {seed}: {killed} kills of {kills} runs, {len(crashed)} runs marked crashed")
    return killed


def test_sigkill_at_random_points(tmp_path):
    assert check_kills(tmp_path, seed=7, n=600, kills=3) >= 1


@slow_mark
def test_sigkill_at_random_points_long(tmp_path):
    assert check_kills(tmp_path, seed=8, n=4000, kills=20) >= 10


# --------------------------------------------------------------------------- 3. searches during a harvest

NASTY_QUERIES = ['*', '"', "')--", "\x00", 'AND', 'OR NOT', 'title:pcb', '{!lucene}*:*', '(pcb', 'pcb)',
                 'NEAR(a b)', '"unbalanced', '^', '-', '+pcb -ddt', 'a* OR b*', '[* TO *]', '\\', '💥',
                 'x' * 2000, '; DROP TABLE records; --', 'pcb\u202e', '多氯联苯', 'title_txt_en:"x"~2', 'col:val',
                 '"pcb" NEAR/2 "ddt"', '{a}', '&', '<script>', '%00', 'null', 'NaN']


def check_concurrent(tmp_path, n: int, searchers: int):
    source = GeneratedSource(n)
    with OAIServer(source, page_size=40, faults=[slow(0.01, verbs={"ListRecords"})]) as srv:
        cfg = write_config(tmp_path, srv.url, timeout=5, batch_size=50)
        with Store(cfg.store_path) as s, open_backend(cfg, s):
            pass                                  # the index tables exist before anyone searches
        done = threading.Event()
        errors: list[str] = []
        totals: dict[int, list[int]] = {}

        def searcher(k: int):
            rnd = random.Random(k)
            seen = totals.setdefault(k, [])
            try:
                with open_backend(cfg) as index:
                    while not done.is_set():
                        res = index.search(Query("", limit=1))
                        seen.append(res.total)
                        index.search(Query(rnd.choice(NASTY_QUERIES + ["PCB", "DDT Kenya", "dioxines"]),
                                           limit=5, facets=rnd.random() < 0.3))
                    seen.append(index.search(Query("", limit=1)).total)
            except Exception as exc:  # anything at all is a failure of the test, reported with its type
                errors.append(f"searcher {k}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=searcher, args=(k,)) for k in range(searchers)]
        for t in threads:
            t.start()
        try:
            with Store(cfg.store_path) as store:
                reports, index_error = harvest_and_index(cfg, store)
        finally:
            time.sleep(0.2)
            done.set()
            for t in threads:
                t.join(60)
        assert not errors, errors
        assert index_error is None, index_error
        assert [r.status for r in reports] == ["ok"], [r.error for r in reports]
        for k, seen in totals.items():
            assert len(seen) >= 2, f"searcher {k} never searched"
            assert all(a <= b for a, b in zip(seen, seen[1:])), f"searcher {k}: totals went down: {seen}"
        with Store(cfg.store_path) as s, open_backend(cfg, s) as index:
            assert s.count(SID) == n
            assert index.count() == n
            assert index.search(Query("", limit=1)).total == n
        searches = sum(len(v) for v in totals.values())
    print(f"\n{n} records harvested under {searchers} searchers, {searches} match-all searches; "
          f"final totals {[v[-1] for v in totals.values()]}")


def test_concurrent_searches_while_harvesting(tmp_path):
    check_concurrent(tmp_path, n=600, searchers=4)


@slow_mark
def test_concurrent_searches_while_harvesting_long(tmp_path):
    check_concurrent(tmp_path, n=10000, searchers=8)


# --------------------------------------------------------------------------- 4. fuzzed corpus through split + map

HANG_SECONDS = 5.0      # a bound on a hang, not a performance assertion
TAG = re.compile(rb"<[A-Za-z_][^<>]{0,200}>")
CLOSE = re.compile(rb"</[A-Za-z_][^<>]{0,100}>")


def _fuzz_cases() -> list[tuple[str, str]]:
    from .test_corpus import CASES
    return list(CASES)


def _insert(data: bytes, rnd: random.Random, what: bytes) -> bytes:
    i = rnd.randrange(len(data) + 1)
    return data[:i] + what + data[i:]


def _byte_flips(data, rnd):
    b = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        if b:
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
    return bytes(b)


def _truncate(data, rnd):
    return data[:rnd.randrange(len(data))] if data else data


def _dup_tag(data, rnd):
    tags = list(TAG.finditer(data))
    if not tags:
        return data
    m = rnd.choice(tags)
    return data[:m.end()] + m.group(0) + data[m.end():]


def _remove_tag(data, rnd):
    tags = list(TAG.finditer(data)) + list(CLOSE.finditer(data))
    if not tags:
        return data
    m = rnd.choice(tags)
    return data[:m.start()] + data[m.end():]


def _control(data, rnd):
    for _ in range(rnd.randint(1, 4)):
        data = _insert(data, rnd, rnd.choice([b"\x00", b"\x0b", b"\x1f", b"\x7f", b"\x0c", "\ufffe".encode()]))
    return data


def _bad_utf8(data, rnd):
    return _insert(data, rnd, rnd.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]))


def _huge_attr(data, rnd):
    tags = list(TAG.finditer(data))
    big = b' huge="' + b"x" * rnd.choice([100_000, 2_000_000]) + b'"'
    if not tags:
        return data + big
    m = rnd.choice(tags)
    name_end = m.start() + 1 + len(re.match(rb"[^\s/>]+", data[m.start() + 1:]).group(0))
    return data[:name_end] + big + data[name_end:]


def _entities(data, rnd):
    decl = rnd.choice([
        b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
        b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">',
        b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]>',
        b"<!doctype r [<!entity x 'y'>]>",
    ])
    m = re.match(rb"\s*<\?xml[^>]*\?>", data)
    at = m.end() if m else 0
    body = data[:at] + decl + data[at:]
    tags = list(TAG.finditer(body[at + len(decl):]))
    if tags:   # and use it in some text
        t = rnd.choice(tags)
        j = at + len(decl) + t.end()
        body = body[:j] + rnd.choice([b"&xxe;", b"&d;", b"&x;", b"&undefined;"]) + body[j:]
    return body


def _deep(data, rnd):
    depth = rnd.choice([300, 5000, 30_000])
    tags = list(TAG.finditer(data))
    j = rnd.choice(tags).end() if tags else 0
    return data[:j] + b"<d>" * depth + b"x" + b"</d>" * depth + data[j:]


def _tree(data, rnd):
    """Well-formed mutations, to reach the crosswalks' own logic: elements removed, duplicated or emptied,
    texts replaced by odd values, attributes dropped."""
    from lxml import etree
    try:
        root = etree.fromstring(data, safe_parser())
    except Exception:
        return _byte_flips(data, rnd)
    els = [e for e in root.iter() if isinstance(e.tag, str)]
    odd = ["", " ", "-1", "0", "NaN", "9999-99-99", "2024-02-30T25:61:00Z", "1e309", "\u202e", "x" * 50_000,
           "http://", "javascript:alert(1)", "<b>", "&amp;", "None", "[]", "{}",
           "ﾟ", "Ⅻ", "١٢٣", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "urn:x", "../../etc/passwd"]
    for _ in range(rnd.randint(1, 12)):
        if not els:
            break
        e = rnd.choice(els)
        op = rnd.randrange(5)
        parent = e.getparent()
        if op == 0 and parent is not None:
            parent.remove(e)
            els = [x for x in root.iter() if isinstance(x.tag, str)]
        elif op == 1 and parent is not None:
            from copy import deepcopy
            parent.insert(parent.index(e), deepcopy(e))
        elif op == 2:
            e.text = rnd.choice(odd)
        elif op == 3:
            for k in list(e.attrib):
                if rnd.random() < 0.5:
                    del e.attrib[k]
                else:
                    e.attrib[k] = rnd.choice(odd)
        else:
            for c in list(e):
                e.remove(c)
            els = [x for x in root.iter() if isinstance(x.tag, str)]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


MUTATIONS = {"byte_flips": _byte_flips, "truncate": _truncate, "dup_tag": _dup_tag, "remove_tag": _remove_tag,
             "control_chars": _control, "invalid_utf8": _bad_utf8, "huge_attribute": _huge_attr,
             "entities": _entities, "deep_nesting": _deep, "tree": _tree}
ALLOWED = (MalformedXML, UnsafeXML, ValueError)


def _split_and_map(fmt: str, data: bytes, where: str) -> dict:
    cw = crosswalks.get(fmt)
    ctx = MapContext(node="test", source="fuzz")
    out = {"mapped": 0, "failed": 0, "file_error": None}
    try:
        for raw in cw.split(data, where):
            if raw.deleted or raw.error:
                continue
            try:
                map_record(cw, raw, ctx)
                out["mapped"] += 1
            except MappingError as exc:
                assert str(exc), "a record error says why"
                out["failed"] += 1
    except ALLOWED as exc:
        out["file_error"] = exc
    return out


def _bounded(fn, *args):
    """fn(*args) in a daemon thread: (result, exception, seconds, finished)."""
    box: dict = {}

    def target():
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # recorded and judged by the caller
            box["exc"] = exc
    t0 = time.monotonic()
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(HANG_SECONDS * 4)
    return box.get("result"), box.get("exc"), time.monotonic() - t0, not t.is_alive()


def fuzz_case(case: str, fmt: str, seeds) -> list[str]:
    from .test_corpus import _read
    original, where = _read(case)
    problems = []
    for seed in seeds:
        rnd = random.Random(f"{case}:{seed}")
        name = rnd.choice(sorted(MUTATIONS))
        if fmt == "dcat" and name in ("tree", "entities", "deep_nesting", "huge_attribute") and not case.endswith(".rdf"):
            name = rnd.choice(["byte_flips", "truncate", "control_chars", "invalid_utf8", "dup_tag"])
        data = MUTATIONS[name](original, rnd)
        result, exc, seconds, finished = _bounded(_split_and_map, fmt, data, f"{where} ({name} {seed})")
        key = f"{case} [{name} seed {seed}]"
        if not finished or seconds > HANG_SECONDS:
            problems.append(f"{key}: took {seconds:.1f}s{'' if finished else ' and had not finished'}")
        elif exc is not None:
            problems.append(f"{key}: {type(exc).__name__}: {exc!s:.300}")
        elif result["file_error"] is not None and not str(result["file_error"]).strip():
            problems.append(f"{key}: {type(result['file_error']).__name__} without a message")
    return problems


def _fuzz_params(sample: bool):
    cases = _fuzz_cases()
    if sample:
        rnd = random.Random(2024)
        by_fmt: dict[str, list] = {}
        for c in cases:
            by_fmt.setdefault(c[1], []).append(c)
        cases = [c for fmt in sorted(by_fmt) for c in rnd.sample(by_fmt[fmt], min(6, len(by_fmt[fmt])))]
    return cases


@pytest.mark.corpus
@pytest.mark.parametrize("case,fmt", _fuzz_params(sample=True), ids=lambda v: v)
def test_fuzzed_corpus_never_crashes(case, fmt):
    need(CORPUS / "MANIFEST.tsv")
    problems = fuzz_case(case, fmt, range(10))
    assert not problems, "\n".join(problems)


@slow_mark
@pytest.mark.corpus
@pytest.mark.parametrize("case,fmt", _fuzz_params(sample=False), ids=lambda v: v)
def test_fuzzed_corpus_never_crashes_long(case, fmt):
    need(CORPUS / "MANIFEST.tsv")
    problems = fuzz_case(case, fmt, range(200))
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- 5. hostile inputs, whole path

IDENTIFY = (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}"><responseDate>2024-01-01T00:00:00Z'
            f'</responseDate><request>http://x/oai</request><Identify><repositoryName>hostile</repositoryName>'
            f"<baseURL>http://x/oai</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>a@b.c</adminEmail>"
            f"<earliestDatestamp>2020-01-01T00:00:00Z</earliestDatestamp><deletedRecord>persistent</deletedRecord>"
            f"<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify></OAI-PMH>").encode()
FORMATS = (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}"><responseDate>2024-01-01T00:00:00Z'
           f"</responseDate><request>http://x/oai</request><ListMetadataFormats><metadataFormat><metadataPrefix>"
           f"oai_dc</metadataPrefix><schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
           f"<metadataNamespace>{OAI_DC_NS}</metadataNamespace></metadataFormat></ListMetadataFormats>"
           f"</OAI-PMH>").encode()


def list_records_page(records: list[bytes], prolog: bytes = b"") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + prolog +
            f'<OAI-PMH xmlns="{OAI_NS}"><responseDate>2024-01-01T00:00:00Z</responseDate>'
            f"<request>http://x/oai</request><ListRecords>".encode() + b"".join(records) +
            b"</ListRecords></OAI-PMH>")


def raw_record(ident: str, title: bytes, i: int = 0) -> bytes:
    return (f"<record><header><identifier>{ident}</identifier><datestamp>2024-01-01T00:00:{i:02d}Z</datestamp>"
            f'</header><metadata><oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}"><dc:title>'.encode()
            + title + b"</dc:title></oai_dc:dc></metadata></record>")


class FixedOAI:
    """A tiny OAI-PMH endpoint answering Identify and ListMetadataFormats normally and ListRecords with one
    fixed body, for the hostile pages our provider cannot produce (a DOCTYPE in the prolog, raw bytes)."""

    def __init__(self, list_records: bytes):
        bodies = {"Identify": IDENTIFY, "ListMetadataFormats": FORMATS, "ListRecords": list_records}
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                verb = re.search(r"verb=(\w+)", self.path)
                body = bodies.get(verb.group(1) if verb else "", b"not found")
                self.send_response(200 if verb and verb.group(1) in bodies else 404)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def store_text(path) -> bytes:
    """Every byte of the store (and its WAL): to check that no secret ever got in."""
    out = b""
    for suffix in ("", "-wal"):
        p = f"{path}{suffix}"
        if os.path.exists(p):
            with open(p, "rb") as fh:
                out += fh.read()
    return out


SECRET_MARKERS = (b"root:x:0:0", b"root:*:0:0", b"/bin/bash", b"/usr/sbin/nologin")

XXE = b'<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (b'<!DOCTYPE OAI-PMH [<!ENTITY l0 "lol">' +
          b"".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">'.encode() for i in range(1, 10)) + b"]>")


@pytest.mark.parametrize("prolog,entity", [(XXE, b"&xxe;"), (LAUGHS, b"&l9;")], ids=["xxe", "billion_laughs"])
def test_entity_attacks_served_over_oai_are_refused(tmp_path, prolog, entity):
    good = [raw_record(f"oai:h:{i}", b"PCB inventory", i) for i in range(3)]
    body = list_records_page(good[:1] + [raw_record("oai:h:evil", entity, 9)] + good[1:], prolog)
    with FixedOAI(body) as srv:
        cfg = write_config(tmp_path, srv.url, retries=0)
        t0 = time.monotonic()
        rep = harvest(cfg)
        assert time.monotonic() - t0 < HANG_SECONDS
        assert rep.status == "failed" and "entit" in rep.error.lower(), (rep.status, rep.error)
        with Store(cfg.store_path) as s:
            assert s.count(SID) == 0 and not s.failures(SID)
            assert s.last_run(SID)["status"] == "failed"
    data = store_text(cfg.store_path)
    assert not any(m in data for m in SECRET_MARKERS)
    assert b"lollollol" not in data


def test_invalid_utf8_in_one_record_quarantines_it(tmp_path):
    recs = [raw_record(f"oai:h:{i}", b"PCB inventory " + str(i).encode(), i) for i in range(5)]
    recs[2] = raw_record("oai:h:2", b"PCB \xc3\x28 inventory \xff", 2)
    with FixedOAI(list_records_page(recs)) as srv:
        cfg = write_config(tmp_path, srv.url, retries=1)
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        assert (rep.stored, rep.failed) == (4, 1)
        with Store(cfg.store_path) as s:
            assert s.live_identifiers(SID) == {f"oai:h:{i}" for i in (0, 1, 3, 4)}
            assert [f["identifier"] for f in s.failures(SID)] == ["oai:h:2"]


def test_a_record_over_max_record_bytes_is_a_record_error_the_rest_kept(tmp_path):
    recs = make_records(30)
    huge = dc_record("oai:huge:1", "A huge PCB report", 5, description="PCB " * 20_000)
    with OAIServer(recs[:10] + [huge] + recs[10:], page_size=7) as srv:
        cfg = write_config(tmp_path, srv.url, max_record_bytes=16_384)
        rep = harvest(cfg)
        assert rep.status == "ok", rep.error
        assert (rep.stored, rep.failed) == (30, 1)
        with Store(cfg.store_path) as s:
            assert s.live_identifiers(SID) == {r.identifier for r in recs}
            fail = s.failures(SID)
            assert [f["identifier"] for f in fail] == ["oai:huge:1"]
            assert "exceeds the limit of 16384" in fail[0]["error"]
            assert len(fail[0]["raw"]) <= 10_000


SCRIPT = "<script>alert('x')</script> PCB inventory"


def node_with_hostile_records(tmp_path):
    recs = [dc_record("oai:x:script", SCRIPT, 1, description="<img src=x onerror=alert(1)> dioxins"),
            dc_record("oai:x:plain", "Plain PCB report", 2)]
    srv = OAIServer(recs, page_size=10)
    return srv


def test_script_in_a_title_stays_literal_and_comes_back_escaped(tmp_path):
    from .nodeserver import NodeServer
    with node_with_hostile_records(tmp_path) as srv:
        cfg = write_config(tmp_path, srv.url)
        with Store(cfg.store_path) as store:
            reports, index_error = harvest_and_index(cfg, store)
        assert reports[0].status == "ok" and index_error is None
        with Store(cfg.store_path) as s:
            rec = s.get("ke:src:oai:x:script")
            assert rec["title"]["en"] == SCRIPT                           # literal, as the source said it
            with open_backend(cfg, s) as index:
                res = index.search(Query("alert", limit=10))
                assert res.total == 1
                hit = res.hits[0]
                assert hit.title["en"] == SCRIPT                          # plain text; escaping is the viewer's job
                marked = " ".join(sum(hit.why["highlights"].values(), []))
                assert "<script>" not in marked and "&lt;script&gt;" in marked and "<mark>alert</mark>" in marked
                assert "<img" not in marked
        with NodeServer(cfg.path) as node:
            r = requests.get(f"{node.url}/api/search", params={"q": "alert"}, timeout=10)
            assert r.status_code == 200
            body = r.json()
            assert body["total"] == 1
            for snippets in body["results"][0]["why"]["highlights"].values():
                assert all("<script>" not in x and "<img" not in x for x in snippets)
            page = requests.get(f"{node.url}/", params={"q": "alert"}, timeout=10)
            assert page.status_code == 200
            assert "<script>alert(" not in page.text and "<img src=x" not in page.text
            rp = requests.get(f"{node.url}/record/ke:src:oai:x:script", timeout=10)
            assert rp.status_code == 200 and "<script>alert(" not in rp.text and "&lt;script&gt;" in rp.text


def test_query_syntax_never_raises(tmp_path):
    from .nodeserver import NodeServer
    with OAIServer(make_records(40), page_size=20) as srv:
        cfg = write_config(tmp_path, srv.url)
        with Store(cfg.store_path) as store:
            harvest_and_index(cfg, store)
        with Store(cfg.store_path) as s, open_backend(cfg, s) as index:
            for q in NASTY_QUERIES:
                for sort in ("relevance", "title"):
                    res = index.search(Query(q, sort=sort, facets=True))
                    assert res.total >= 0
            assert index.search(Query("*")).total == 0, "text without letters matches nothing"
            assert index.search(Query("xyzzyq OR pcb")).total == 0, "OR is a plain word that must occur"
            assert index.search(Query("xyzzyq NOT")).total == 0, "NOT is a plain word that must occur"
        with NodeServer(cfg.path) as node:
            for q in NASTY_QUERIES[:-3]:
                r = requests.get(f"{node.url}/api/search", params={"q": q[:1000]}, timeout=10)
                assert r.status_code == 200, (q, r.status_code, r.text[:200])
                r = requests.get(f"{node.url}/", params={"q": q[:1000]}, timeout=10)
                assert r.status_code == 200, (q, r.status_code)


TRAVERSALS = [
    "/api/records/..%2f..%2fetc%2fpasswd",
    "/api/records/../../etc/passwd",
    "/api/records/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/api/records/..%5c..%5ccli.py",
    "/static/../../cli.py",
    "/static/..%2f..%2fcli.py",
    "/static/%2e%2e%2f%2e%2e%2fcli.py",
    "/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/web.css%00.py",
    "/record/%2e%2e/%2e%2e/cli.py",
    "/record/..%2f..%2f..%2fetc%2fpasswd",
    "/record/../../../../etc/passwd",
    "/api/vocab/..%2f..%2fpyproject",
    "/api/vocab/../../../etc/passwd",
]


def test_path_traversal_in_http_routes_reads_nothing_outside(tmp_path):
    from .nodeserver import NodeServer
    cli_marker = b"def harvest_cmd"
    with OAIServer(make_records(5), page_size=10) as srv:
        cfg = write_config(tmp_path, srv.url)
        harvest(cfg)
        with NodeServer(cfg.path) as node:
            for path in TRAVERSALS:
                conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
                conn.request("GET", path)         # sent as written: no client-side normalisation of ".."
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                assert resp.status == 404, (path, resp.status, body[:200])
                assert cli_marker not in body and not any(m in body for m in SECRET_MARKERS), path
                assert b"[project]" not in body, path


def test_a_source_path_is_the_operator_s_to_choose(tmp_path):
    """The node reads local files its operator configured (a static repository's `path`, resolved from the
    config's folder, `..` included): that is allowed, as the config is trusted. A file that is not a
    repository fails the run cleanly, quotes none of its content and stores nothing."""
    target = os.path.relpath("/etc/passwd", tmp_path) if os.path.exists("/etc/passwd") else "../../nothing-here"
    cfg = write_config(tmp_path, path=target)
    rep = harvest(cfg)
    assert rep.status == "failed" and rep.error
    assert not any(m.decode() in rep.error for m in SECRET_MARKERS)
    with Store(cfg.store_path) as s:
        assert s.count(SID) == 0
    assert not any(m in store_text(cfg.store_path) for m in SECRET_MARKERS)
