"""Benchmark of the Solr search backend: indexing rate and search latency on generated records.

    .venv/bin/python bench/search_solr.py                       # 100,000 records, a local Solr started for it
    .venv/bin/python bench/search_solr.py --records 20000 --repeat 20
    .venv/bin/python bench/search_solr.py --solr http://127.0.0.1:8983/solr   # an already running Solr

The records are those of bench/search_embedded.py (same generator, same seed), so the figures compare with
that benchmark's. Each measure indexes into a new core of the same configset:

* SolrBackend.upsert in batches of ``--batch`` records (one update request each: the documents built from
  the records, JSON-encoded, posted), then commit(): records/s;
* next to it, in the same run, Solr's raw bulk-update rate for the very same documents, prebuilt and
  JSON-encoded before the clock starts, posted with requests to /update as one array per ``--batch``
  documents, and as ONE array of all of them (then a commit): documents/s;
* for scale, the same documents without the per-language ``*_txt_*`` fields (what suggestions and direct
  Solr queries use; the backend matches the ``*_fold`` fields);
* a naive loop: one upsert call, hence one update request, per record, on a sample;

The JVM is warmed first (10,000 other records indexed into a core that is then dropped).
* then the searches of bench/search_embedded.py (words, cross-language chemical queries, filters, facets,
  deep pages by offset and by cursor), ``--repeat`` times each: median and 95th percentile latency, hits.

Prints the machine, the figures and the command that reproduces them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_embedded import generate, latency_queries, timed  # noqa: E402

from harvester.index import FACET_FIELDS, Query, solr_runtime  # noqa: E402
from harvester.index.solr import SolrBackend, solr_document  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    except (OSError, IndexError):
        java = "java ?"
    return (f"{cpu or 'cpu ?'}, {os.cpu_count()} cpus{mem}; {platform.system()} {platform.release()}; "
            f"python {platform.python_version()}; {java}; Solr {solr_runtime.SOLR_VERSION}")


def core_size(base: str, core: str) -> int:
    body = requests.get(f"{base}/admin/cores", params={"action": "STATUS", "core": core, "wt": "json"},
                        timeout=60).json()
    return int(body["status"][core]["index"].get("sizeInBytes") or 0)


def post(url: str, body: bytes) -> None:
    r = requests.post(f"{url}/update", params={"wt": "json"}, data=body,
                      headers={"Content-Type": "application/json; charset=utf-8"}, timeout=3600)
    r.raise_for_status()


def commit(url: str) -> None:
    r = requests.post(f"{url}/update", params={"wt": "json", "commit": "true", "waitSearcher": "true"},
                      data=b"{}", headers={"Content-Type": "application/json"}, timeout=3600)
    r.raise_for_status()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--naive", type=int, default=2000, help="records of the naive one-request-per-record loop")
    ap.add_argument("--solr", help="base URL of a running standalone Solr with the pops configset "
                                   "(default: start one for the run)")
    ap.add_argument("--heap", default="2g", help="heap of the Solr started for the run")
    args = ap.parse_args()

    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on the machine "
          f"slows every figure)")
    home = None
    if args.solr:
        base = args.solr.rstrip("/")
    else:
        home = Path(tempfile.mkdtemp(prefix="bench-solr-"))
        t0 = time.perf_counter()
        handle = solr_runtime.start(home, port=0, heap=args.heap, stop_with_parent=True)
        base = handle.url
        print(f"Solr started at {base} in {time.perf_counter() - t0:.1f}s (heap {args.heap}, home {home})")
    made: list[str] = []

    def new_core(label: str) -> str:
        name = f"bench_{label}_{uuid.uuid4().hex[:6]}"
        made.append(name)
        return solr_runtime.create_core(base, name)

    try:
        t0 = time.perf_counter()
        records = generate(args.records)
        print(f"generated {len(records):,} records in {time.perf_counter() - t0:.1f}s")

        # -- warm the JVM (JIT) so that no measure pays for it
        warm_url = new_core("warm")
        t0 = time.perf_counter()
        with SolrBackend({"url": warm_url, "timeout": 600}) as warm:
            sample = generate(min(10_000, len(records)), seed=5)
            for i in range(0, len(sample), args.batch):
                warm.upsert(sample[i:i + args.batch])
            warm.commit()
        solr_runtime.unload_core(base, made.pop())
        print(f"JVM warm-up: {len(sample):,} other records indexed in {time.perf_counter() - t0:.1f}s (not counted)")

        # -- the backend
        url = new_core("backend")
        index = SolrBackend({"url": url, "timeout": 600})
        t0 = time.perf_counter()
        for i in range(0, len(records), args.batch):
            index.upsert(records[i:i + args.batch])
        t_sent = time.perf_counter() - t0
        index.commit()
        secs = time.perf_counter() - t0
        print(f"\nindexing through SolrBackend.upsert (batches of {args.batch}, then commit): {len(records):,} records "
              f"in {secs:.1f}s = {len(records) / secs:,.0f} records/s (commit {secs - t_sent:.1f}s); "
              f"index {core_size(base, made[-1]) / 1e6:.0f} MB")

        # -- the engine underneath: the same documents, prebuilt
        t0 = time.perf_counter()
        docs = [solr_document(r) for r in records]
        t_docs = time.perf_counter() - t0
        bodies = [json.dumps(docs[i:i + args.batch], ensure_ascii=False, separators=(",", ":")).encode()
                  for i in range(0, len(docs), args.batch)]
        one = json.dumps(docs, ensure_ascii=False, separators=(",", ":")).encode()
        print(f"  building the documents: {t_docs:.1f}s ({len(docs) / t_docs:,.0f} docs/s); JSON "
              f"{len(one) / 1e6:.0f} MB, {len(one) / len(docs):,.0f} bytes a document")
        raw_url = new_core("raw")
        t0 = time.perf_counter()
        for body in bodies:
            post(raw_url, body)
        commit(raw_url)
        secs = time.perf_counter() - t0
        print(f"  baseline, raw Solr /update, prebuilt JSON arrays of {args.batch} (requests.post), then commit: "
              f"{len(docs) / secs:,.0f} docs/s")
        one_url = new_core("one")
        t0 = time.perf_counter()
        post(one_url, one)
        commit(one_url)
        secs = time.perf_counter() - t0
        print(f"  baseline, raw Solr /update, ONE prebuilt JSON array of all {len(docs):,}, then commit: "
              f"{len(docs) / secs:,.0f} docs/s")
        del bodies, one
        bare = [json.dumps([{k: v for k, v in d.items() if "_txt_" not in k} for d in docs[i:i + args.batch]],
                           ensure_ascii=False, separators=(",", ":")).encode() for i in range(0, len(docs), args.batch)]
        bare_url = new_core("bare")
        t0 = time.perf_counter()
        for body in bare:
            post(bare_url, body)
        commit(bare_url)
        secs = time.perf_counter() - t0
        print(f"  for scale, raw Solr /update, arrays of {args.batch}, the same documents without the per-language "
              f"*_txt_* fields (stemmed text, text_all, suggest; the backend does not search them): "
              f"{len(docs) / secs:,.0f} docs/s")
        del bare, docs
        for name in made[1:]:
            solr_runtime.unload_core(base, name)
        del made[1:]

        sample = generate(args.naive, seed=99)
        naive_url = new_core("naive")
        with SolrBackend({"url": naive_url}) as naive:
            t0 = time.perf_counter()
            for r in sample:
                naive.upsert([r])
            naive.commit()
            naive_rate = len(sample) / (time.perf_counter() - t0)
        solr_runtime.unload_core(base, made.pop())
        print(f"  baseline, naive loop (one upsert, one update request, per record; {len(sample):,} records): "
              f"{naive_rate:,.0f} records/s")

        # -- searching
        deep_cursor = None
        for _ in range(101):  # walk to hit 10,000 and keep the cursor
            deep_cursor = index.search(Query("", sort="newest", limit=100, cursor=deep_cursor)).next_cursor
        queries = latency_queries(deep_cursor)
        print(f"\nsearch latency over {len(records):,} records ({args.repeat} runs each, 10 hits per page, "
              f"highlights on):")
        print(f"  {'query':34} {'median ms':>10} {'p95 ms':>8} {'hits':>8}")
        for label, q in queries:
            med, p95, res = timed(lambda q=q: index.search(q), args.repeat)
            print(f"  {label:34} {med:10.1f} {p95:8.1f} {res.total:8,}")
        select = f"{url}/select"
        session = requests.Session()

        def raw_count():
            return session.get(select, params={"q": "monitoring", "qf": "text_fold", "rows": 0, "wt": "json"},
                               timeout=60).json()["response"]["numFound"]

        def raw_top10():
            return session.get(select, params={"q": "monitoring", "qf": "text_fold", "rows": 10, "fl": "id",
                                               "wt": "json"}, timeout=60).json()

        med, p95, n = timed(raw_count, args.repeat)
        print(f"  {'baseline: raw Solr count, 1 word':34} {med:10.1f} {p95:8.1f} {n:8,}")
        med, p95, _ = timed(raw_top10, args.repeat)
        print(f"  {'baseline: raw Solr top 10 ids':34} {med:10.1f} {p95:8.1f} {'':>8}")
        index.close()
    finally:
        for name in made:
            try:
                solr_runtime.unload_core(base, name)
            except solr_runtime.SolrRuntimeError:
                pass
        if home is not None:
            solr_runtime.stop(home)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"facet fields: {', '.join(FACET_FIELDS)}")
    print("reproduce: cd /work/main && .venv/bin/python bench/search_solr.py "
          + " ".join(shlex.quote(a) for a in sys.argv[1:]))


if __name__ == "__main__":
    main()
