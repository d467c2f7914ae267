"""The node's harvest into Solr against the two reference points, in one run, on the same documents:

* the node: `harvest_and_index` from a local OAI-PMH provider (tests/oaiserver.py, its own process,
  realistic multilingual oai_dc records): fetch -> map -> enrich -> store -> index, batches of 500;
* the naive loop people write first: sickle's ListRecords over the same provider and one pysolr `add`
  (one update request) per record, sending the very documents the node indexed;
* Solr's own limit: the same documents, prebuilt and JSON-encoded before the clock starts, posted to
  /update as arrays of 1,000, then one commit.

Each goes into its own new core of one Solr started for the run; the JVM is warmed first.

    .venv/bin/python bench/solr_ingest.py --records 100000
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pysolr
from sickle import Sickle

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_solr import commit, machine, post  # noqa: E402

from harvester import config  # noqa: E402
from harvester.harvesting import harvest_and_index  # noqa: E402
from harvester.index import solr_runtime  # noqa: E402
from harvester.index.solr import solr_document  # noqa: E402
from harvester.store import Store  # noqa: E402


def serve(n: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.oaiserver", "--records", str(n), "--page-size", "500"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def numfound(core_url: str) -> int:
    return pysolr.Solr(core_url).search("*:*", rows=0).hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--heap", default="2g")
    a = ap.parse_args()
    n = a.records
    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("reproduce: cd /work/main && .venv/bin/python bench/solr_ingest.py " + " ".join(shlex.quote(x) for x in sys.argv[1:]))
    home = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    proc, oai_url = serve(n)
    try:
        base = solr_runtime.start(home, port=0, heap=a.heap, stop_with_parent=True).url
        warm, node_core, naive_core, bulk_core = (solr_runtime.create_core(base, f"{name}_{n}")
                                                  for name in ("warm", "node", "naive", "bulk"))
        with tempfile.TemporaryDirectory() as tmp:
            def node_config(core_url: str, limit: int | None = None) -> config.Config:
                path = Path(tmp) / "node_config.yaml"
                path.write_text(textwrap.dedent(f"""\
                    node: {{id: bench, name: Bench}}
                    store: {{path: {Path(tmp) / f'node-{core_url.rsplit("/", 1)[1]}.sqlite'}}}
                    index: {{backend: solr, solr: {{url: "{core_url}", timeout: 600}}}}
                    sources:
                      - {{id: oai, type: oaipmh, url: "{oai_url}", metadata_prefix: oai_dc}}
                    """))
                return config.load(path)

            cfg = node_config(warm)          # warm the JVM and the provider; not counted
            with Store(cfg.store_path) as store:
                harvest_and_index(cfg, store)
            solr_runtime.unload_core(base, warm)

            cfg = node_config(node_core)
            with Store(cfg.store_path) as store:
                t0 = time.perf_counter()
                reports, error = harvest_and_index(cfg, store)
                node_s = time.perf_counter() - t0
                assert not error and all(r.ok for r in reports), (error, [r.error for r in reports])
                docs = {row["identifier"]: solr_document(json.loads(row["record"]))
                        for row in store.db.execute("SELECT identifier, record FROM records WHERE deleted=0")}
            assert numfound(node_core) == n == len(docs)
            print(f"\nthe node, OAI-PMH -> map -> enrich -> store -> Solr: {n:,} records in {node_s:.1f}s "
                  f"= {n / node_s:,.0f} records/s")

        naive = pysolr.Solr(naive_core, timeout=600)
        t0 = time.perf_counter()
        for rec in Sickle(oai_url).ListRecords(metadataPrefix="oai_dc"):
            naive.add([docs[rec.header.identifier]], commit=False)
        naive.commit()
        naive_s = time.perf_counter() - t0
        assert numfound(naive_core) == n
        print(f"naive loop, sickle + one pysolr add per record: {n / naive_s:,.0f} records/s ({naive_s:.1f}s)")

        bodies = []
        batch = list(docs.values())
        for i in range(0, len(batch), 1000):
            bodies.append(json.dumps(batch[i:i + 1000], ensure_ascii=False, separators=(",", ":")).encode())
        del batch
        t0 = time.perf_counter()
        for body in bodies:
            post(bulk_core, body)
        commit(bulk_core)
        bulk_s = time.perf_counter() - t0
        assert numfound(bulk_core) == n
        print(f"Solr's raw bulk JSON update of the prebuilt documents, arrays of 1,000: {n / bulk_s:,.0f} docs/s "
              f"({bulk_s:.1f}s)")
        print(f"\nthe node is {naive_s / node_s:.1f}x the naive loop and reaches {bulk_s / node_s:.0%} of Solr's own "
              f"bulk rate while fetching, mapping, enriching and storing too")
    finally:
        proc.terminate()
        proc.wait()
        solr_runtime.stop(home)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
