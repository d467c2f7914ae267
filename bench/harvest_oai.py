"""End-to-end harvest throughput: a local OAI-PMH provider (tests/oaiserver.py, in its own process,
generating realistic multilingual POPs oai_dc records) -> fetch -> map -> enrich -> store, then a
second, incremental run. Prints records/s and the harvesting process's peak memory.

    .venv/bin/python bench/harvest_oai.py --records 10000 --records 100000
"""
from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvester import config, run  # noqa: E402
from harvester.store import Store  # noqa: E402


def serve(n: int, page_size: int):
    proc = subprocess.Popen([sys.executable, "-m", "tests.oaiserver", "--records", str(n), "--page-size", str(page_size)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(n: int, page_size: int, batch: int) -> dict:
    proc, url = serve(n, page_size)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg_path = Path(tmp) / "node_config.yaml"
            cfg_path.write_text(textwrap.dedent(f"""\
                node: {{id: bench, name: Bench}}
                store: {{path: node.sqlite}}
                index: {{backend: embedded}}
                harvest: {{batch_size: {batch}}}
                sources:
                  - {{id: oai, type: oaipmh, url: "{url}", metadata_prefix: oai_dc}}
                """))
            cfg = config.load(cfg_path)
            with Store(cfg.store_path) as store:
                t0 = time.perf_counter()
                first = run.harvest_source(cfg, store, cfg.source("oai"))
                t1 = time.perf_counter()
                again = run.harvest_source(cfg, store, cfg.source("oai"))
                t2 = time.perf_counter()
                assert first.status == "ok" and store.count("oai") == n, (first.status, first.error, store.count("oai"))
            return {"records": n, "full_s": t1 - t0, "full_rate": n / (t1 - t0), "incr_s": t2 - t1,
                    "incr_seen": again.seen, "peak_rss_mb": peak_rss_mb()}
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, action="append", help="source sizes (repeatable); default 10000")
    ap.add_argument("--page-size", type=int, default=500)
    ap.add_argument("--batch-size", type=int, default=500)
    a = ap.parse_args()
    sizes = a.records or [10000]
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}")
    print(f"command: .venv/bin/python bench/harvest_oai.py {' '.join(f'--records {n}' for n in sizes)} "
          f"--page-size {a.page_size} --batch-size {a.batch_size}")
    print(f"{'records':>9} {'full run':>10} {'records/s':>10} {'incremental':>12} {'peak RSS':>10}")
    for n in sizes:
        r = bench(n, a.page_size, a.batch_size)
        print(f"{r['records']:>9} {r['full_s']:>9.1f}s {r['full_rate']:>10.0f} {r['incr_s']:>11.2f}s {r['peak_rss_mb']:>8.0f}MB",
              flush=True)


if __name__ == "__main__":
    main()
