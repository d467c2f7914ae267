"""The record store: transactional, idempotent batches, tombstones, change feed, locks and crash safety."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from harvester.store import Failure, Item, Store

from .conftest import ROOT, valid_record


def rec(n, **over):
    fields = {"title": {"en": f"Record {n}"}, **over}
    return valid_record(id=f"ke:s:{n}", origin={"node": "ke", "source": "s", "identifier": str(n)}, **fields)


def item(n, **over):
    return Item("s", str(n), rec(n, **over), raw=f"<raw>{n}</raw>", format="oai_dc")


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "node.sqlite") as s:
        yield s


def test_batch_is_stored_and_idempotent(store):
    r1 = store.apply_batch([item(i) for i in range(5)])
    assert (r1.stored, r1.unchanged) == (5, 0)
    seq = store.max_seq()
    r2 = store.apply_batch([item(i) for i in range(5)])
    assert (r2.stored, r2.unchanged) == (0, 5)
    assert store.max_seq() == seq, "an unchanged record must not look changed"
    assert store.count("s") == 5
    assert store.get("ke:s:3")["title"] == {"en": "Record 3"}


def test_harvest_time_alone_is_not_a_change(store):
    store.apply_batch([item(1, harvested="2024-01-01T00:00:00Z")])
    assert store.apply_batch([item(1, harvested="2025-01-01T00:00:00Z")]).unchanged == 1


def test_changed_record_gets_a_new_sequence(store):
    store.apply_batch([item(1), item(2)])
    before = store.max_seq()
    store.apply_batch([item(1, title={"en": "Changed"})])
    assert store.row("ke:s:1")["seq"] > before
    assert [r["id"] for r in store.changes(after_seq=before)] == ["ke:s:1"]


def test_delete_leaves_a_tombstone(store):
    store.apply_batch([item(1), item(2)])
    assert store.tombstone_ids("s", ["1", "missing"]) == 1
    assert store.get("ke:s:1") is None
    assert store.get("ke:s:1", include_deleted=True)["title"] == {"en": "Record 1"}
    assert store.row("ke:s:1")["deleted"] == 1
    assert (store.count("s"), store.count("s", deleted=True)) == (1, 1)
    assert store.tombstone_ids("s", ["1"]) == 0, "deleting twice changes nothing"
    store.apply_batch([item(1)])
    assert store.get("ke:s:1") is not None, "a record that comes back is live again"


def test_interrupted_batch_leaves_store_as_before(store):
    store.apply_batch([item(1)], checkpoint={"page": 1}, source="s")
    bad = item(3)
    bad.record["title"] = {"en": {1, 2}}  # not serialisable: fails half way through the batch
    with pytest.raises(TypeError):
        store.apply_batch([item(2), bad, item(4)], [Failure("s", "9", "boom")], checkpoint={"page": 2}, source="s")
    assert store.count("s") == 1
    assert store.get("ke:s:2") is None
    assert store.failures("s") == []
    assert store.state("s")["checkpoint"] == {"page": 1}


def test_failures_are_kept_and_cleared_when_the_record_maps(store):
    store.apply_batch([], [Failure("s", "7", "record has no title", "page 1, line 40", "<x/>")])
    assert store.failure("s", "7")["location"] == "page 1, line 40"
    store.apply_batch([item(7)])
    assert store.failure("s", "7") is None


def test_changed_since_streams_in_change_order(store):
    store.apply_batch([item(i) for i in range(2500)])
    rows = list(store.changed_since("2000-01-01T00:00:00Z"))
    assert len(rows) == 2500
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert list(store.changed_since("2999-01-01T00:00:00Z")) == []


def test_lock_allows_one_run_and_clears_a_dead_one(store, tmp_path):
    run = store.acquire("s")
    assert run and store.acquire("s") is None
    store.finish("s", run, "ok", seen=3)
    assert store.last_run("s")["status"] == "ok" and store.last_run("s")["seen"] == 3
    # a run whose process died: its lock is cleared and the run marked crashed
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    run2 = store.acquire("s")
    store.db.execute("UPDATE sources SET lock_pid=? WHERE id='s'", (pid,))
    run3 = store.acquire("s")
    assert run3 is not None
    assert store.runs("s")[1]["id"] == run2 and store.runs("s")[1]["status"] == "crashed"


def test_sigkill_in_the_middle_of_a_batch_loses_nothing_committed(tmp_path):
    db = tmp_path / "node.sqlite"
    with Store(db) as s:
        s.apply_batch([item(i) for i in range(100)], checkpoint={"page": 1}, source="s")
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from harvester.store import Store, Item
        from tests.test_store import item
        s = Store({str(db)!r})
        def forever():
            i = 1000
            while True:
                if i == 1500:
                    print("in-batch", flush=True)
                yield item(i)
                i += 1
        s.apply_batch(forever(), checkpoint={{"page": 2}}, source="s")
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "in-batch"
    time.sleep(0.2)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    with Store(db) as s:
        assert s.count("s") == 100
        assert s.state("s")["checkpoint"] == {"page": 1}
        assert s.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_native_version_is_not_overwritten_by_a_crosswalked_one(store):
    native = Item("s-pops", "1", rec(1, title={"en": "Native"}), raw="<pops/>", format="pops")
    store.apply_batch([native])
    assert store.apply_batch([item(1, title={"en": "From oai_dc"})]).superseded == 1
    assert store.get("ke:s:1")["title"] == {"en": "Native"}
    store.apply_batch([Item("s-pops", "1", rec(1, title={"en": "Native v2"}), raw="<pops/>", format="pops")])
    assert store.get("ke:s:1")["title"] == {"en": "Native v2"}


def test_same_record_by_two_paths_is_one_record_and_prefers_the_shorter_path(store):
    direct = Item("from-ke", "oai:ke:1", rec(1, path=["ke", "global"]), format="pops")
    via_tz = Item("from-tz", "oai:tz:1", rec(1, path=["ke", "tz", "global"]), format="pops")
    store.apply_batch([via_tz])
    assert store.apply_batch([direct]).stored == 1, "the shorter path replaces the longer one"
    assert store.row("ke:s:1")["source"] == "from-ke"
    assert store.apply_batch([via_tz]).unchanged == 1, "the longer path changes nothing"
    assert store.get("ke:s:1")["path"] == ["ke", "global"]


def test_a_deleted_version_is_not_revived_by_a_stale_copy_from_another_path(store):
    store.apply_batch([Item("from-ke", "oai:ke:1", rec(1, path=["ke", "global"]), format="pops")])
    store.tombstone_ids("from-ke", ["oai:ke:1"])
    assert store.apply_batch([Item("from-tz", "oai:tz:1", rec(1, path=["ke", "tz", "global"]), format="pops")]).unchanged == 1
    assert store.get("ke:s:1") is None
    newer = rec(1, path=["ke", "tz", "global"], datestamp="2025-01-01T00:00:00Z")
    assert store.apply_batch([Item("from-tz", "oai:tz:1", newer, format="pops")]).stored == 1, "a new version does"


def test_doomed_records_are_found_by_the_store_in_chunks(store):
    """What a run deletes: pending deletions of live records, and after a whole listing the live records it
    did not show; read in chunks by key while earlier chunks are being deleted."""
    store.apply_batch([item(n) for n in range(50)])
    store.forget_seen("s")
    store.apply_batch([], source="s", seen=[str(n) for n in range(0, 50, 2)])       # the listing shows evens
    store.apply_batch([], pending=[Item("s", "3"), Item("s", "4"), Item("s", "gone-before")])
    assert store.seen_count("s") == 25
    assert store.doomed_count("s", vanished=False) == 2                         # 3 and 4: live and pending
    expected = sorted({str(n) for n in range(1, 50, 2)} | {"4"})
    assert store.doomed_count("s", vanished=True) == len(expected) == 26
    got = []
    for ids in store.doomed("s", vanished=True, chunk=7):
        assert len(ids) <= 7
        got += ids
        store.apply_batch([Item("s", i) for i in ids])                          # deleting does not move the rest
    assert got == expected and store.count("s") == 24
    store.forget_seen("s")
    assert store.seen_count("s") == 0


def test_finding_what_a_run_deletes_takes_no_memory_per_record(tmp_path):
    """The end of a run over a big source must not hold the source's identifiers: memory stays flat as the
    source grows (a million-record source would otherwise hold a million strings)."""
    import tracemalloc

    def peak(n: int) -> int:
        with Store(tmp_path / f"n{n}.sqlite") as s:
            s.db.executemany("INSERT INTO records(id, source, identifier, deleted, changed, seq) VALUES (?,?,?,0,'t',?)",
                             ((f"ke:s:{i:08d}", "s", f"oai:example.org:{i:08d}", i) for i in range(n)))
            s.apply_batch([], source="s", seen=(f"oai:example.org:{i:08d}" for i in range(n - 10)))
            tracemalloc.start()
            live, doomed = s.count("s"), s.doomed_count("s", vanished=True)
            chunks = sum(len(ids) for ids in s.doomed("s", vanished=True, chunk=500))
            size = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert (live, doomed, chunks) == (n, 10, 10)
            return size

    small, big = peak(2_000), peak(100_000)
    assert big < small + 200_000, (small, big)
