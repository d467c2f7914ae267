"""Benchmark of federated search: ten real nodes on 127.0.0.1, one slow peer and one dead peer.

    .venv/bin/python bench/federated_search.py                      # 10 nodes x 2,000 records, 200 queries
    .venv/bin/python bench/federated_search.py --nodes 10 --records 5000 --queries 500

What it does:

* generates POPs records for each node (seeded; the record generator of bench/search_embedded.py), a share
  of them (``--shared``) the same records on every node (same id: one hit once merged), writes them with
  Store.apply_batch and indexes them with harvester.index.catch_up, one SQLite store per node;
* serves nodes 1..N-1 as separate processes (uvicorn, the node app, each on its own port); node 0 is the
  node that federates: this process runs ``federated_search`` on it directly, and also serves it as a
  process to measure the HTTP API (``/api/search?scope=federation``) end to end;
* adds a slow peer (answers a valid page after ``--slow-delay`` s; its timeout ``--slow-timeout`` s) and a
  dead one (a port with nothing listening);
* runs ``--queries`` federated searches (a mix of words, chemical names, filters, facets and sorts) in
  these settings, and prints median / p95 / p99 latency, and how the nodes were reported:

  1. the whole federation, cool-down on (the default: the slow peer is skipped after 3 time-outs);
  2. the whole federation, cool-down off (every query waits for the slow peer up to its timeout);
  3. the live nodes only (no slow or dead peer): the cost of fanning out and merging;
  4. the HTTP API of node 0, cool-down on (what a user sees);

  and, for comparison in the same run: node 0's own search alone (the floor) and a naive loop that asks
  the live peers one after the other (sequential, no merge) for the same queries.

Prints the figures and the command that reproduces them.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requests  # noqa: E402

from harvester import config  # noqa: E402
from harvester.index import Query, catch_up, open_backend  # noqa: E402
from harvester.node.app import NodeState  # noqa: E402
from harvester.node.federation import PeerHealth, federated_search  # noqa: E402
from harvester.store import Item, Store  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, node_id: str, url: str, store: Path, peers: list[dict]) -> Path:
    data = {"node": {"id": node_id, "name": f"bench node {node_id}", "url": url}, "store": {"path": str(store)},
            "index": {"backend": "embedded"}, "peers": peers}
    path.write_text(json.dumps(data))
    return path


def build_store(path: Path, node_id: str, n: int, shared: list[dict], seed: int) -> None:
    from search_embedded import generate
    records = []
    for i, r in enumerate(generate(n, seed=seed)):
        r["id"] = f"{node_id}:src{i % 7}:rec{i:07d}"
        r["origin"] = {"node": node_id, "source": f"src{i % 7}", "identifier": f"rec{i:07d}"}
        r["path"] = [node_id]
        records.append(r)
    records.extend(shared)
    cfg = config.load(write_config(path.with_suffix(".yaml"), node_id, "http://127.0.0.1:1", path, []))
    with Store(path) as store:
        for i in range(0, len(records), 500):
            store.apply_batch([Item(r["origin"]["source"], r["origin"]["identifier"], r, format="pops")
                               for r in records[i:i + 500]])
        with open_backend(cfg, store) as index:
            catch_up(index, store)


def serve(config_path: str, port: int) -> None:
    """Run one node (the --serve mode of this script, in its own process)."""
    import uvicorn
    from harvester.node.app import create_app
    app = create_app(config.load(config_path))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/search", params={"limit": 0}, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"node {url} did not start")


class SlowPeer:
    """Answers /api/search with a valid one-hit page after `delay` seconds."""

    def __init__(self, delay: float):
        stop = self.stop = threading.Event()
        body = json.dumps({"total": 1, "facets": {}, "next_cursor": None, "query_chemicals": [],
                           "results": [{"id": "slow:src:1", "title": {"en": "late"}}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stop.wait(delay)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def queries(n: int, seed: int = 11) -> list[Query]:
    rng = random.Random(seed)
    words = ["monitoring", "inventory", "waste management", "sediment", "capacitor", "PCB", "多氯联苯",
             "DDT", "gestion déchets", "трансформаторы", "report", "plan", "PCB transformer", "1336-36-3", ""]
    out = []
    for i in range(n):
        q = Query(rng.choice(words), sort=rng.choice(["relevance", "relevance", "newest", "title"]),
                  facets=rng.random() < 0.3, limit=10, offset=rng.choice([0, 0, 0, 10]))
        if rng.random() < 0.2:
            q.filters = {"type": ["national_report"]}
        out.append(q)
    return out


def params_of(q: Query, scope: str) -> list[tuple[str, str]]:
    p = [("q", q.text), ("sort", q.sort), ("limit", str(q.limit)), ("offset", str(q.offset)), ("scope", scope)]
    p += [("filter", f"{k}:{v}") for k, vs in q.filters.items() for v in vs]
    if q.facets:
        p.append(("facets", "true"))
    return p


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def report(label: str, times: list[float], statuses: dict | None = None) -> None:
    line = (f"  {label:52} {statistics.median(times):8.1f} {pct(times, 0.95):8.1f} {pct(times, 0.99):8.1f} "
            f"{max(times):8.1f}")
    if statuses:
        line += "   " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    print(line)


def run_federated(state: NodeState, qs: list[Query]) -> tuple[list[float], dict]:
    times, statuses = [], {}
    for q in qs:
        t0 = time.perf_counter()
        out = federated_search(state, q)
        times.append((time.perf_counter() - t0) * 1000)
        for n in out["nodes"]:
            statuses[n["status"]] = statuses.get(n["status"], 0) + 1
    return times, statuses


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=10, help="nodes started, this one included")
    ap.add_argument("--records", type=int, default=2000, help="records per node")
    ap.add_argument("--shared", type=int, default=50, help="records held by every node (same ids)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--slow-delay", type=float, default=2.0)
    ap.add_argument("--slow-timeout", type=float, default=0.5)
    ap.add_argument("--timeout", type=float, default=3.0, help="timeout of every other peer")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-federation-"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {args.nodes} nodes x {args.records:,} records "
          f"(+{args.shared} on every node), folder {tmp}")
    from search_embedded import generate
    shared = generate(args.shared, seed=1234)
    for i, r in enumerate(shared):
        r["id"] = f"hq:shared:{i}"
        r["origin"] = {"node": "hq", "source": "shared", "identifier": str(i)}
        r["path"] = ["hq"]
    ids = [f"n{k}" for k in range(args.nodes)]
    t0 = time.perf_counter()
    for k, node_id in enumerate(ids):
        build_store(tmp / f"{node_id}.sqlite", node_id, args.records, shared, seed=100 + k)
    print(f"stores written and indexed in {time.perf_counter() - t0:.1f}s")

    ports = {node_id: free_port() for node_id in ids}
    urls = {node_id: f"http://127.0.0.1:{ports[node_id]}" for node_id in ids}
    slow = SlowPeer(args.slow_delay)
    dead = f"http://127.0.0.1:{free_port()}"
    live_peers = [{"id": i, "url": urls[i], "timeout": args.timeout} for i in ids[1:]]
    all_peers = live_peers + [{"id": "slow", "url": slow.url, "timeout": args.slow_timeout},
                              {"id": "dead", "url": dead, "timeout": args.timeout}]
    procs = []
    try:
        for node_id in ids:
            cfg_path = write_config(tmp / f"{node_id}.yaml", node_id, urls[node_id], tmp / f"{node_id}.sqlite",
                                    all_peers if node_id == ids[0] else [])
            procs.append(subprocess.Popen([sys.executable, __file__, "--serve", str(cfg_path), str(ports[node_id])],
                                          cwd=str(ROOT)))
        for node_id in ids:
            wait_up(urls[node_id])
        print(f"{len(ids)} nodes up (processes), slow peer {slow.url} (answers after {args.slow_delay:g}s, "
              f"timeout {args.slow_timeout:g}s), dead peer {dead}")

        qs = queries(args.queries)
        whole = config.load(tmp / f"{ids[0]}.yaml")
        live_cfg = config.load(write_config(tmp / "live.yaml", ids[0], urls[ids[0]], tmp / f"{ids[0]}.sqlite",
                                            live_peers))
        warm = NodeState(live_cfg)
        for q in qs[:20]:
            federated_search(warm, q)

        print(f"\n{len(qs)} queries each (10 hits a page; 30% with all facets; some filtered, sorted, offset 10):")
        print(f"  {'setting':52} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8}   (ms)  node reports")
        state = NodeState(whole)
        times, st = run_federated(state, qs)
        report(f"1. federation, {len(ids)} nodes + slow + dead, cool-down on", times, st)

        state = NodeState(whole)
        state.federation_health = PeerHealth(failures_before_cooldown=10 ** 9)
        times, st = run_federated(state, qs)
        report("2. same, cool-down off", times, st)

        times, st = run_federated(NodeState(live_cfg), qs)
        report(f"3. live nodes only ({len(ids)})", times, st)

        session = requests.Session()
        times, st = [], {}
        for q in qs:
            t0 = time.perf_counter()
            body = session.get(f"{urls[ids[0]]}/api/search", params=params_of(q, "federation"), timeout=30).json()
            times.append((time.perf_counter() - t0) * 1000)
            for n in body["nodes"]:
                st[n["status"]] = st.get(n["status"], 0) + 1
        report("4. HTTP API of node 0, scope=federation", times, st)

        print("  baselines, same queries:")
        local = NodeState(live_cfg)
        times = []
        for q in qs:
            t0 = time.perf_counter()
            local.index().search(q)
            times.append((time.perf_counter() - t0) * 1000)
        report("   node 0's own search alone (in process)", times)
        times = []
        for q in qs:
            t0 = time.perf_counter()
            session.get(f"{urls[ids[0]]}/api/search", params=params_of(q, "local"), timeout=30).json()
            times.append((time.perf_counter() - t0) * 1000)
        report("   node 0's HTTP API, scope=local", times)
        times = []
        for q in qs:
            t0 = time.perf_counter()
            for peer in live_peers:
                session.get(f"{peer['url']}/api/search", params=params_of(q, "local"), timeout=30).json()
            times.append((time.perf_counter() - t0) * 1000)
        report(f"   naive loop: {len(live_peers)} live peers one by one", times)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        slow.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nreproduce: cd /work/main && .venv/bin/python bench/federated_search.py "
          + " ".join(shlex.quote(a) for a in sys.argv[1:]))


if __name__ == "__main__":
    main()
