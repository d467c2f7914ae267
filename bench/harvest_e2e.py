"""End-to-end harvest: two local OAI-PMH providers (tests/oaiserver.py, each in its own process) generate
realistic multilingual POPs records, half in oai_dc (a national document repository) and half in the native
pops format (a peer node); the node harvests both sources: fetch -> map -> enrich -> store -> index, with the
embedded backend or with Solr (a core made for each size on one Solr started for the run).

Every size runs in a fresh process, so its peak memory (VmHWM) is its own; resident memory is also sampled
every second of the run and shown at each quarter of it, to show whether it grows with the source. With
--incremental, the largest size is harvested twice more: with nothing changed, then with 1% of the records
revised at the providers (new datestamp and title), and the index is checked to hold the revised titles.

    .venv/bin/python bench/harvest_e2e.py --backend embedded --records 10000 --records 100000 --records 1000000 --incremental
    .venv/bin/python bench/harvest_e2e.py --backend solr --records 10000 --records 100000 --records 1000000 --incremental
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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PAGE_SIZE = 500


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory now (VmRSS) or at its peak (VmHWM). ru_maxrss would not do: Linux carries the
    parent's peak into a child across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()

    def run(self):
        t0 = time.perf_counter()
        while not self.stopped.wait(1.0):
            self.samples.append((time.perf_counter() - t0, rss_mb()))

    def quarters(self) -> list[float]:
        if not self.samples:
            return []
        end = self.samples[-1][0]
        return [next(mb for t, mb in self.samples if t >= end * q / 4) for q in (1, 2, 3, 4)]


def serve(n: int, prefix: str, id_prefix: str, port: int = 0, revised_every: int = 0) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "tests.oaiserver", "--records", str(n), "--page-size", str(PAGE_SIZE),
           "--prefix", prefix, "--id-prefix", id_prefix, "--port", str(port)]
    if revised_every:
        cmd += ["--revised-every", str(revised_every)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def child(n: int, backend: str, solr_url: str | None, incremental: bool) -> dict:
    """One size, in this (fresh) process: full harvest, then optionally the incremental runs."""
    from harvester import config
    from harvester.harvesting import harvest_and_index
    from harvester.index import Query, open_backend
    from harvester.store import Store

    halves = {"national": ("oai_dc", "oai:national.test:doc-", n - n // 2), "peer": ("pops", "oai:peer.test:doc-", n // 2)}
    servers = {name: serve(k, prefix, idp) for name, (prefix, idp, k) in halves.items()}
    ports = {name: int(url.rsplit(":", 1)[1].split("/")[0]) for name, (_, url) in servers.items()}
    out: dict = {"records": n, "backend": backend}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            index = "{backend: embedded}" if backend == "embedded" else f'{{backend: solr, solr: {{url: "{solr_url}", timeout: 600}}}}'
            cfg_path = Path(tmp) / "node_config.yaml"
            cfg_path.write_text(textwrap.dedent(f"""\
                node: {{id: bench, name: Bench}}
                store: {{path: node.sqlite}}
                index: {index}
                harvest: {{batch_size: 500}}
                sources:
                  - {{id: national, type: oaipmh, url: "{servers['national'][1]}", metadata_prefix: oai_dc}}
                  - {{id: peer, type: oaipmh, url: "{servers['peer'][1]}", metadata_prefix: pops}}
                """))
            cfg = config.load(cfg_path)
            with Store(cfg.store_path) as store:
                sampler = RssSampler()
                sampler.start()
                t0 = time.perf_counter()
                reports, index_error = harvest_and_index(cfg, store)
                secs = time.perf_counter() - t0
                sampler.stopped.set()
                sampler.join()
                assert not index_error, index_error
                assert all(r.ok for r in reports), [(r.source, r.status, r.error) for r in reports]
                with open_backend(cfg, store) as idx:
                    indexed = idx.count()
                assert store.count() == n and indexed == n, (store.count(), indexed)
                out.update(full_s=secs, rate=n / secs, peak_rss_mb=rss_mb("VmHWM"),
                           rss_quarters_mb=sampler.quarters(), store_mb=os.path.getsize(cfg.store_path) / 1e6)
                if not incremental:
                    return out
                t0 = time.perf_counter()
                reports, _ = harvest_and_index(cfg, store)
                out["incr0_s"] = time.perf_counter() - t0
                out["incr0_seen"] = sum(r.seen for r in reports)
                for name, (proc, _) in servers.items():   # the providers revise 1% of their records
                    proc.terminate()
                    proc.wait()
                    prefix, idp, k = halves[name]
                    servers[name] = serve(k, prefix, idp, port=ports[name], revised_every=100)
                t0 = time.perf_counter()
                reports, index_error = harvest_and_index(cfg, store)
                out["incr1_s"] = time.perf_counter() - t0
                out["incr1_seen"] = sum(r.seen for r in reports)
                out["incr1_stored"] = sum(r.stored for r in reports)
                assert not index_error, index_error
                with open_backend(cfg, store) as idx:
                    out["incr1_revised_found"] = idx.search(Query("rev. 2", limit=0)).total
                return out
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=("embedded", "solr"), default="embedded")
    ap.add_argument("--records", type=int, action="append", help="records per run (repeatable); default 10000")
    ap.add_argument("--incremental", action="store_true", help="re-harvest the largest size: 0%% then 1%% changed")
    ap.add_argument("--heap", default="4g", help="heap of the Solr started for the run")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--solr-url", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.backend, a.solr_url, a.incremental)), flush=True)
        return

    from search_solr import machine
    from harvester.index import solr_runtime

    sizes = a.records or [10000]
    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"reproduce: cd {ROOT} && .venv/bin/python bench/harvest_e2e.py " + " ".join(shlex.quote(x) for x in sys.argv[1:]))
    home = None
    base = None
    if a.backend == "solr":
        home = Path(tempfile.mkdtemp(prefix="bench-e2e-solr-"))
        base = solr_runtime.start(home, port=0, heap=a.heap, stop_with_parent=True).url
        print(f"Solr {solr_runtime.SOLR_VERSION} at {base}, heap {a.heap}")
    print(f"{'backend':>8} {'records':>9} {'full run':>9} {'records/s':>10} {'peak RSS':>9}  RSS at 1/4, 1/2, 3/4, end of the run")
    try:
        for n in sizes:
            cmd = [sys.executable, __file__, "--backend", a.backend, "--child", str(n)]
            core = None
            if base:
                core = f"e2e_{n}"
                cmd += ["--solr-url", solr_runtime.create_core(base, core)]
            if a.incremental and n == max(sizes):
                cmd.append("--incremental")
            res = json.loads(subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()[-1])
            quarters = ", ".join(f"{mb:.0f}" for mb in res["rss_quarters_mb"])
            print(f"{a.backend:>8} {n:>9,} {res['full_s']:>8.1f}s {res['rate']:>10,.0f} {res['peak_rss_mb']:>7.0f}MB  "
                  f"{quarters} MB (store {res['store_mb']:,.0f} MB)", flush=True)
            if "incr0_s" in res:
                print(f"  incremental re-harvest of {n:,} records, nothing changed: {res['incr0_s']:.2f}s "
                      f"({res['incr0_seen']} records listed)")
                print(f"  incremental re-harvest, 1% revised: {res['incr1_s']:.1f}s, {res['incr1_seen']:,} records listed, "
                      f"{res['incr1_stored']:,} stored and indexed ({res['incr1_seen'] / res['incr1_s']:,.0f} records/s); "
                      f"search 'rev. 2' finds {res['incr1_revised_found']:,}")
            if core:
                solr_runtime.unload_core(base, core)
    finally:
        if home is not None:
            solr_runtime.stop(home)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
