"""The Solr backend beyond the shared contract (tests/test_search_contract.py runs that on Solr too): rebuilding
without an empty index, SolrCloud, Solr being down, cursors, filters and the store's sequence number."""
from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest
import requests

from harvester import config
from harvester.index import (MAX_LIMIT, Query, SearchUnavailable, catch_up, index_status, open_backend, rebuild,
                             solr_runtime)
from harvester.index.solr import SORTS, SolrBackend, _cursor_key, cursor_mark, filter_query
from harvester.store import Item, Store
from tests.search_backends import load
from tests.solr_fixture import require_solr_tools
from tests.test_search_contract import (ALL, CORPUS, FACETS_ALL, HOSTILE, NOT_PCB, PCB_TAGGED, SYMBOLS_ONLY, A, B, D,
                                        K, generated, rec)

pytestmark = pytest.mark.solr


@pytest.fixture
def core(solr_url):
    """(base URL, core name, its URL): a new core of the session's Solr, unloaded afterwards."""
    name = f"backend_{uuid.uuid4().hex[:10]}"
    url = solr_runtime.create_core(solr_url, name)
    yield solr_url, name, url
    solr_runtime.unload_core(solr_url, name)


def cores(base: str) -> set[str]:
    body = requests.get(f"{base}/admin/cores", params={"action": "STATUS", "indexInfo": "false", "wt": "json"},
                        timeout=30).json()
    return set(body["status"])


def fill_store(store: Store, records: list[dict]) -> None:
    store.apply_batch([Item(r["origin"]["source"], r["origin"]["identifier"], r) for r in records])


def ids(res) -> list[str]:
    return [h.id for h in res.hits]


# ----------------------------------------------------------------------------------------------- rebuild


def test_rebuild_swap_keeps_search_answering_from_the_old_index(core, tmp_path):
    base, name, url = core
    old = generated(3000)
    with Store(tmp_path / "store.sqlite") as store, SolrBackend({"url": url}, store=store) as index:
        fill_store(store, old)
        catch_up(index, store, batch_size=1000)
        assert index.count() == 3000
        # the store moves on: 600 new records, 100 deleted at their source
        fill_store(store, [rec(f"new:n0:{i:05d}", {"en": f"Fresh report {i}"}, year=2024) for i in range(600)])
        store.tombstone_ids("g1", [r["origin"]["identifier"] for r in old if r["origin"]["source"] == "g1"][:100])
        live = store.count()
        assert live == 3500

        seen: list[int] = []
        errors: list[BaseException] = []
        stop = threading.Event()
        searched = threading.Event()

        def searcher():
            with SolrBackend({"url": url}) as other:        # another process's view: its own connection
                while not stop.is_set():
                    try:
                        seen.append(other.search(Query("", facets=["countries"], limit=5)).total)
                        seen.append(other.search(Query("generated", limit=5)).total)
                    except BaseException as err:   # noqa: BLE001  (reported below)
                        errors.append(err)
                        return
                    searched.set()

        def progress(applied, seq):
            # each batch waits for a search to finish, so searches certainly run while the new core fills
            searched.clear()
            assert searched.wait(30), "the searching thread stopped"

        thread = threading.Thread(target=searcher)
        thread.start()
        try:
            assert searched.wait(30)
            applied = rebuild(index, store, progress=progress)      # uses rebuild_swap
        finally:
            stop.set()
            thread.join(60)
        assert not errors, errors
        print(f"\n{len(seen)} searches during the rebuild, totals seen: {sorted(set(seen))}")
        during = len(seen)
        assert during >= 8
        assert min(seen) > 0                                           # never an empty index
        # the old index (3000 records) until the switch, then the new one (3500, of which 2900 "generated")
        assert set(seen) <= {3000, 3500, 2900}, sorted(set(seen))
        assert applied == 3600                                         # every record and tombstone of the store
        assert index.count() == live == 3500
        assert index.indexed_seq() == store.max_seq()
        assert index_status(index, store)["behind"] == 0
        assert index.search(Query("fresh report")).total == 600
        assert not [c for c in cores(base) if c.startswith(f"{name}_rebuild_")]   # the old index is gone
        assert name in cores(base)


def test_a_failed_rebuild_leaves_the_live_core_untouched(core, tmp_path):
    base, name, url = core
    with Store(tmp_path / "store.sqlite") as store, SolrBackend({"url": url}, store=store) as index:
        fill_store(store, CORPUS)
        catch_up(index, store)
        seq = index.indexed_seq()
        fill_store(store, generated(1200))

        def progress(applied, seq):
            if applied >= 500:
                raise RuntimeError("disk full")

        with pytest.raises(RuntimeError, match="disk full"):
            index.rebuild_swap(store, progress=progress)
        assert index.count() == len(CORPUS)
        assert index.indexed_seq() == seq
        assert set(ids(index.search(Query("", limit=MAX_LIMIT)))) == ALL
        assert not [c for c in cores(base) if c.startswith(f"{name}_rebuild_")]


# ----------------------------------------------------------------------------------------------- unavailable


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_solr_that_is_down_gives_search_unavailable_at_once():
    port = closed_port()
    with SolrBackend({"url": f"http://127.0.0.1:{port}/solr/pops", "timeout": 30}) as index:
        for call in (lambda: index.search(Query("PCB")), lambda: index.upsert([A]), index.commit, index.count,
                     lambda: index.get(A["id"]), lambda: index.delete([A["id"]]), index.clear):
            t0 = time.monotonic()
            with pytest.raises(SearchUnavailable, match=f"Solr at http://127.0.0.1:{port}/solr/pops"):
                call()
            assert time.monotonic() - t0 < 3


def test_a_zookeeper_that_is_down_gives_search_unavailable():
    t0 = time.monotonic()
    with SolrBackend({"zk_hosts": f"127.0.0.1:{closed_port()}/solr", "collection": "pops", "timeout": 2}) as index:
        with pytest.raises(SearchUnavailable, match="ZooKeeper"):
            index.search(Query("PCB"))
    assert time.monotonic() - t0 < 10


def test_settings_are_checked():
    for bad in ({}, {"url": "http://h/solr/c", "zk_hosts": "h:2181"}, {"zk_hosts": "h:2181"},
                {"url": "ftp://h/solr/c"}, {"url": "http://h/solr/c", "timeout": "soon"}):
        with pytest.raises(ValueError):
            SolrBackend(bad)


def test_open_backend_gives_solr_the_store(core, tmp_path):
    base, name, url = core
    (tmp_path / "node_config.yaml").write_text(
        f"node: {{id: ke, name: Kenya}}\nstore: {{path: data/node.sqlite}}\n"
        f"index: {{backend: solr, solr: {{url: \"{url}\", timeout: 20}}}}\n")
    cfg = config.load(tmp_path / "node_config.yaml")
    with Store(cfg.store_path) as store, open_backend(cfg, store) as index:
        assert isinstance(index, SolrBackend) and index.store is store and index.timeout == 20
        fill_store(store, CORPUS)
        assert catch_up(index, store) == len(CORPUS)
        assert store.meta(f"index.solr.seq:{url}") == str(store.max_seq())
    with Store(cfg.store_path) as store, open_backend(cfg, store) as index:
        assert index.indexed_seq() == store.max_seq() and index.count() == len(CORPUS)


# ----------------------------------------------------------------------------------------------- store sequence


def test_indexed_seq_is_kept_per_core_and_a_lost_index_starts_again(solr_url, tmp_path):
    one = solr_runtime.create_core(solr_url, f"seq_{uuid.uuid4().hex[:8]}")
    two = solr_runtime.create_core(solr_url, f"seq_{uuid.uuid4().hex[:8]}")
    try:
        with Store(tmp_path / "store.sqlite") as store:
            fill_store(store, CORPUS)
            with SolrBackend({"url": one}, store=store) as a, SolrBackend({"url": two}, store=store) as b:
                catch_up(a, store)
                assert a.indexed_seq() == store.max_seq() and b.indexed_seq() == 0
                # the core is wiped behind the node's back (recreated, restored from nothing...): the sequence
                # says "up to date" but the index is empty, so it starts again from 0
                requests.post(f"{one}/update", params={"commit": "true"}, json={"delete": {"query": "*:*"}},
                              timeout=30).raise_for_status()
                assert a.indexed_seq() == 0
                assert catch_up(a, store) == len(CORPUS) and a.count() == len(CORPUS)
    finally:
        for url in (one, two):
            solr_runtime.unload_core(solr_url, url.rsplit("/", 1)[1])


# ----------------------------------------------------------------------------------------------- queries


def test_cursor_marks_are_the_ones_solr_makes(core):
    base, name, url = core
    with SolrBackend({"url": url}) as index:
        load(index, CORPUS + [rec("x:y:old", {"en": "Old"}, datestamp="1901-02-03T04:05:06Z"),
                              rec("x:y:older", {"en": "Older"}, datestamp="0001-01-01T00:00:00Z")])
        for sort, text in (("newest", ""), ("oldest", ""), ("title", ""), ("relevance", "PCB")):
            for rows in (1, 2, 3, 5, 8, 16):
                r = requests.get(f"{url}/select", params={
                    "q": text, "qf": "title_fold description_fold", "sort": SORTS[sort], "rows": rows,
                    "cursorMark": "*", "fl": "id,score,sort_dt,title_sort", "wt": "json"}, timeout=30).json()
                docs = r["response"]["docs"]
                assert cursor_mark(sort, _cursor_key(sort, docs[-1])) == r["nextCursorMark"], (sort, rows)


def test_forged_cursors_are_refused_as_bad_queries(core):
    from harvester.index import encode_cursor
    base, name, url = core
    with SolrBackend({"url": url}) as index:
        load(index, CORPUS)
        for sort, key in (("newest", ["not a date", "x"]), ("relevance", ["1.5", "x"]), ("title", [1, "x"]),
                          ("relevance", [1e300, "x"]), ("newest", ["2020-01-01T00:00:00Z", 5])):
            with pytest.raises(ValueError):
                index.search(Query("PCB" if sort == "relevance" else "", sort=sort, cursor=encode_cursor(sort, key)))
        # a well-formed key continues after it, even for a record that does not exist
        res = index.search(Query("", sort="newest", cursor=encode_cursor("newest", ["2020-06-01T00:00:00Z", "~"])))
        assert res.hits and all(h.year <= 2020 for h in res.hits)


def test_filter_values_are_never_query_syntax(core):
    base, name, url = core
    odd = ["a,b|c;d~e^f\x01\x02\x03", "x,y", "{!lucene}*:*", "KE OR SN", 'q"uote\\', "}"]
    with SolrBackend({"url": url}) as index:
        load(index, CORPUS + [rec("x:o:1", {"en": "Odd countries"}, countries=odd[:2]),
                              rec("x:o:2", {"en": "Odder countries"}, countries=odd[2:])])
        assert ids(index.search(Query("", filters={"countries": odd[:2]}))) == ["x:o:1"]
        assert filter_query("countries", odd[:2])[0].startswith("{!bool ")
        assert set(ids(index.search(Query("", filters={"countries": ["x,y", "KE"]}, limit=MAX_LIMIT)))) \
            == {"ke:moe:pcb-inventory", "ke:moe:persistent", "ke:moe:dioxin", "x:o:1"}
        for value in odd[2:]:
            assert ids(index.search(Query("", filters={"countries": [value]}))) == ["x:o:2"], value
        assert index.search(Query("", filters={"countries": ["*"]})).total == 0
        assert index.search(Query("", filters={"year": ["2019", "abc"]})).total == 1
        res = index.search(Query("", filters={"year": ["abc"]}, facets=["countries"]))
        assert res.total == 0 and res.facets == {"countries": {}}


def test_records_with_values_solr_would_refuse_are_indexed_anyway(core):
    """A value that does not fit its Solr field (a date that does not exist, articles as text, a list where one
    value goes) must not make Solr refuse the whole batch: the index could never catch up."""
    odd = rec("x:odd:1", {"en": "Malformed but indexed"}, datestamp="2024-02-30T00:00:00Z", type=["report", "x"],
              articles=["7", 3], quality={"completeness": "high"}, dates={"issued": "2019-13"},
              assistance={"deadline": "2024-02-31", "status": ["open"]}, countries=["KE", None, 5])
    nodate = {k: v for k, v in rec("x:odd:2", {"en": "Malformed without a date"}).items() if k != "datestamp"}
    base, name, url = core
    with SolrBackend({"url": url}) as index:
        load(index, [A, odd, nodate, B])
        assert index.count() == 4
        assert index.get(odd["id"]) == odd and index.get(nodate["id"]) == nodate
        assert ids(index.search(Query("malformed", sort="newest"))) == [odd["id"], nodate["id"]]
        assert ids(index.search(Query("", filters={"countries": ["5"]}))) == [odd["id"]]
        assert ids(index.search(Query("", filters={"type": ["report"]}))) == [odd["id"]]


def test_offsets_beyond_any_index_give_an_empty_page(core):
    base, name, url = core
    with SolrBackend({"url": url}) as index:
        load(index, CORPUS)
        res = index.search(Query("", offset=10**15))
        assert res.total == len(CORPUS) and res.hits == [] and res.next_cursor is None


# ----------------------------------------------------------------------------------------------- SolrCloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """A 2-node SolrCloud with a 2-shard collection ``pops`` (a real collection, not an alias)."""
    require_solr_tools()
    home = tmp_path_factory.mktemp("solr-cloud")
    handle = solr_runtime.start(home, port=0, cloud=2, heap="512m", jvm_opts=solr_runtime.TEST_JVM_OPTS,
                                stop_with_parent=True)
    try:
        solr_runtime.init(handle, "pops", shards=2)
        yield handle
    finally:
        solr_runtime.stop(home)


def test_solrcloud_backend_follows_the_contract(cloud):
    with SolrBackend({"zk_hosts": cloud.zk_host, "collection": "pops"}) as index:
        index.clear()
        load(index, CORPUS)
        assert index.count() == len(CORPUS) and index.get(B["id"]) == B
        # both shards hold records
        state = solr_runtime.collection_status(cloud.url, "pops")
        per_shard = {s: 0 for s in state["shards"]}
        for shard, body in state["shards"].items():
            replica = next(iter(body["replicas"].values()))
            per_shard[shard] = requests.get(f"{replica['base_url']}/{replica['core']}/select", params={
                "q": "*:*", "rows": 0, "distrib": "false", "wt": "json"}, timeout=30).json()["response"]["numFound"]
        assert sum(per_shard.values()) == len(CORPUS) and all(per_shard.values())
        # facets and filters
        assert index.search(Query("", facets=True, limit=0)).facets == FACETS_ALL
        res = index.search(Query("多氯联苯", filters={"regions": ["africa"]}, facets=["countries", "languages"]))
        assert res.total == 4
        assert res.facets == {"countries": {"GH": 1, "KE": 1, "SN": 1, "TZ": 1}, "languages": {"en": 3, "fr": 1}}
        # cross-language
        res = index.search(Query("多氯联苯", limit=MAX_LIMIT))
        got = {h.id: h for h in res.hits}
        assert PCB_TAGGED <= set(got) and not set(got) & NOT_PCB and res.query_chemicals == ["pcb"]
        assert got[D["id"]].why["highlights"]["title"] == ["中国<mark>多氯联苯</mark>清单报告"]
        assert {h.id for h in index.search(Query("PCB Kenya")).hits} == {A["id"]}
        # cursor paging in every sort, across shards
        for sort, text in (("newest", ""), ("oldest", ""), ("title", ""), ("relevance", "PCB")):
            expected = ids(index.search(Query(text, sort=sort, limit=MAX_LIMIT)))
            seen, cursor = [], None
            while True:
                page = index.search(Query(text, sort=sort, limit=3, cursor=cursor))
                seen += ids(page)
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert seen == expected, sort
        # hostile text
        for text in HOSTILE:
            out = index.search(Query(text, facets=True))
            assert out.total < len(CORPUS)
            if text in SYMBOLS_ONLY:
                assert out.total == 0
        assert {h.id for h in index.search(Query("title:PCB")).hits} == set()
        # delete
        index.delete([K["id"]])
        index.commit()
        assert index.count() == len(CORPUS) - 1 and index.get(K["id"]) is None


def test_solrcloud_deep_paging(cloud):
    with SolrBackend({"zk_hosts": cloud.zk_host, "collection": "pops"}) as index:
        index.clear()
        load(index, generated(2500), batch=1000)
        seen, cursor = [], None
        while True:
            res = index.search(Query("generated", sort="relevance", limit=MAX_LIMIT, cursor=cursor))
            assert res.total == 2500
            seen += ids(res)
            cursor = res.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 2500


def test_solrcloud_rebuild_moves_an_alias(cloud, tmp_path):
    admin = f"{cloud.url}/admin/collections"

    def aliases():
        return requests.get(admin, params={"action": "LISTALIASES", "wt": "json"}, timeout=30).json()["aliases"]

    def collections():
        return set(requests.get(admin, params={"action": "LIST", "wt": "json"}, timeout=30).json()["collections"])

    assert "pops" in collections() and "pops" not in aliases()       # a real collection, made by init
    with Store(tmp_path / "store.sqlite") as store, \
            SolrBackend({"zk_hosts": cloud.zk_host, "collection": "pops"}, store=store) as index:
        fill_store(store, CORPUS)
        index.clear()
        catch_up(index, store)
        fill_store(store, generated(300))
        seen: list[int] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def searcher():
            with SolrBackend({"zk_hosts": cloud.zk_host, "collection": "pops"}) as other:
                while not stop.is_set():
                    try:
                        seen.append(other.search(Query("", limit=1)).total)
                    except BaseException as err:  # noqa: BLE001
                        errors.append(err)
                        return

        thread = threading.Thread(target=searcher)
        thread.start()
        try:
            # the first time: the real collection "pops" becomes an alias of a new collection
            assert rebuild(index, store) == len(CORPUS) + 300
        finally:
            stop.set()
            thread.join(60)
        assert not errors, errors
        print(f"\n{len(seen)} searches during the rebuild, totals seen: {sorted(set(seen))}")
        assert seen and min(seen) > 0 and set(seen) <= {len(CORPUS), len(CORPUS) + 300}
        first = aliases()["pops"]
        assert first.startswith("pops_") and "pops" not in collections() and first in collections()
        assert index.count() == len(CORPUS) + 300 and index.indexed_seq() == store.max_seq()
        assert len(solr_runtime.collection_status(cloud.url, first)["shards"]) == 2
        # the next time: a new collection, the alias moved, the previous collection deleted
        assert index.rebuild_swap(store) == len(CORPUS) + 300
        second = aliases()["pops"]
        assert second != first and first not in collections() and second in collections()
        assert index.count() == len(CORPUS) + 300
        assert {h.id for h in index.search(Query("PCB Kenya")).hits} == {A["id"]}
