"""Search latency under load on Solr: a standalone core and a 2-node SolrCloud collection (2 shards), both
started for the run from the Maven jars, filled with the same generated records (bench/search_embedded.py's
generator, in chunks, sent with Solr's raw bulk JSON update), then searched through the node's Solr backend
(SolrBackend.search: the query, facets, highlighting and result building a user's request costs) by 1, 4
and 16 concurrent clients. Each client is its own process, running the mix of bench/search_embedded.py's
latency queries, every one asking for all facets, in a shuffled order; per level: requests, throughput,
median, p95 and p99 latency.

    .venv/bin/python bench/search_load.py --records 1000000
    .venv/bin/python bench/search_load.py --records 100000 --clients 1 --clients 4 --rounds 5

The clients run on the same machine as Solr (2 cores here): under 16 clients they compete with Solr for
the CPU, so the figures at 16 are those of a saturated machine, not of Solr alone.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_embedded import generate, latency_queries, percentile  # noqa: E402
from search_solr import commit, machine, post  # noqa: E402

from harvester.index import Query, solr_runtime  # noqa: E402
from harvester.index.solr import SolrBackend, solr_document  # noqa: E402

CHUNK = 10_000


def fill(urls: list[str], n: int, batch: int) -> float:
    """Index n generated records into every Solr update URL; returns the seconds spent posting."""
    posting = 0.0
    for start in range(0, n, CHUNK):
        docs = [solr_document(r) for r in generate(min(CHUNK, n - start), seed=1000 + start // CHUNK, start=start)]
        bodies = [json.dumps(docs[i:i + batch], ensure_ascii=False, separators=(",", ":")).encode()
                  for i in range(0, len(docs), batch)]
        t0 = time.perf_counter()
        for url in urls:
            for body in bodies:
                post(url, body)
        posting += time.perf_counter() - t0
        if (start // CHUNK) % 10 == 9:
            print(f"  {start + CHUNK:,} records sent", flush=True)
    for url in urls:
        commit(url)
    return posting


def client(settings: dict, queries: list[Query], rounds: int, seed: int, out) -> None:
    backend = SolrBackend(settings)
    rng = random.Random(seed)
    times = []
    for _ in range(rounds):
        order = list(queries)
        rng.shuffle(order)
        for q in order:
            t0 = time.perf_counter()
            backend.search(q)
            times.append((time.perf_counter() - t0) * 1000)
    backend.close()
    out.put(times)


def load(settings: dict, queries: list[Query], clients: int, rounds: int) -> dict:
    out = mp.Queue()
    procs = [mp.Process(target=client, args=(settings, queries, rounds, k, out)) for k in range(clients)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    times = [t for _ in procs for t in out.get()]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    return {"requests": len(times), "qps": len(times) / wall, "median": statistics.median(times),
            "p95": percentile(times, 0.95), "p99": percentile(times, 0.99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, action="append", help="concurrent clients (repeatable); default 1, 4, 16")
    ap.add_argument("--rounds", type=int, default=10, help="times each client runs the query mix")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--heap", default="3g", help="heap of each Solr JVM")
    a = ap.parse_args()
    levels = a.clients or [1, 4, 16]
    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("reproduce: cd /work/main && .venv/bin/python bench/search_load.py " + " ".join(shlex.quote(x) for x in sys.argv[1:]))
    homes = [Path(tempfile.mkdtemp(prefix="bench-load-")) for _ in range(2)]
    try:
        t0 = time.perf_counter()
        standalone = solr_runtime.start(homes[0], port=0, heap=a.heap, stop_with_parent=True)
        core_url = solr_runtime.init(standalone, "pops")
        cloud = solr_runtime.start(homes[1], port=0, cloud=2, heap=a.heap, stop_with_parent=True)
        collection_url = solr_runtime.init(cloud, "pops", shards=2, replicas=1)
        print(f"Solr {solr_runtime.SOLR_VERSION}: standalone core {core_url}; SolrCloud 2 nodes "
              f"{', '.join(cloud.urls)}, collection 'pops' 2 shards x 1 replica (ZooKeeper {cloud.zk_host}); "
              f"started in {time.perf_counter() - t0:.0f}s, heap {a.heap} each")
        t0 = time.perf_counter()
        posting = fill([core_url, collection_url], a.records, a.batch)
        print(f"indexed {a.records:,} records into both in {time.perf_counter() - t0:.0f}s "
              f"(posting {posting:.0f}s, i.e. {2 * a.records / posting:,.0f} docs/s over the two)")
        targets = {"standalone": {"url": core_url, "timeout": 120},
                   "SolrCloud 2 nodes": {"zk_hosts": cloud.zk_host, "collection": "pops", "timeout": 120}}
        for name, settings in targets.items():
            backend = SolrBackend(settings)
            total = backend.count()
            cursor = None
            for _ in range(101):   # a cursor past hit 10,000
                cursor = backend.search(Query("", sort="newest", limit=100, cursor=cursor)).next_cursor
            backend.close()
            queries = [replace(q, facets=True).checked() for _, q in latency_queries(cursor)]
            load(settings, queries, 1, 1)   # warm caches and JIT once, not counted
            print(f"\n{name}: {total:,} records; {len(queries)} queries, all facets, highlights, 10 hits a page")
            print(f"  {'clients':>7} {'requests':>9} {'req/s':>7} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8}")
            for c in levels:
                r = load(settings, queries, c, max(2, a.rounds // max(1, c // 4)))   # at least 2 rounds a client
                print(f"  {c:>7} {r['requests']:>9,} {r['qps']:>7.1f} {r['median']:>10.1f} {r['p95']:>8.1f} "
                      f"{r['p99']:>8.1f}", flush=True)
    finally:
        for home in homes:
            solr_runtime.stop(home)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
