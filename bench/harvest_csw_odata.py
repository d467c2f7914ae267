"""Harvest throughput of the CSW and OData sources, end to end (fetch, parse, map, enrich, store), each
compared in the same run with the raw rate of the engine underneath (the same pages fetched and parsed,
nothing mapped or stored).

    .venv/bin/python bench/harvest_csw_odata.py                          # 600 ISO records, 6,000 entities
    .venv/bin/python bench/harvest_csw_odata.py --csw 1000 --odata 20000 --page 200

CSW: a real pycsw 2.6.2 (the tests' cached venv, tests/cswpeer.py) loaded with --csw ISO 19139 records made
from the corpus (each corpus document copied with a new fileIdentifier), maxrecords = --page.
OData: the tests' OData service (tests/odataserver.py), --odata InforMEA-like Documents, in v4 JSON, v2 JSON
and Atom, pages of --page entities.
Prints records/s for each and the command that reproduces them.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvester import config, run  # noqa: E402
from harvester.sources.csw import search_results  # noqa: E402
from harvester.sources.odata import parse_page  # noqa: E402
from harvester.store import Store  # noqa: E402


def node_config(folder: Path, source: str) -> config.Config:
    path = folder / "node_config.yaml"
    path.write_text(textwrap.dedent(f"""\
        node: {{id: ke, name: Bench node}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        harvest: {{batch_size: 500}}
        sources:
          - {source}
        """), encoding="utf-8")
    return config.load(path)


def timed_harvest(cfg) -> tuple[run.RunReport, float]:
    with Store(cfg.store_path) as store:
        t0 = time.perf_counter()
        rep = run.harvest_source(cfg, store, cfg.sources[0], full=True)
        return rep, time.perf_counter() - t0


def bench_csw(n: int, page: int, tmp: Path) -> None:
    from tests.conftest import CORPUS
    from tests.cswpeer import pycsw_peer
    src = [p for d in ("iso19139/pycsw", "iso19139/owslib") for p in sorted((CORPUS / d).glob("*.xml"))]
    src = [p for p in src if b"gmd:fileIdentifier" in p.read_bytes() and b"MD_Metadata" in p.read_bytes()]
    made = tmp / "iso"
    made.mkdir()
    for i in range(n):
        body = src[i % len(src)].read_bytes()
        body = re.sub(rb"(<gmd:fileIdentifier>\s*<gco:CharacterString>)([^<]*)", rb"\g<1>bench-%d-\2" % i, body, count=1)
        (made / f"r{i:05d}.xml").write_bytes(body)
    (tmp / "csw").mkdir()
    t0 = time.perf_counter()
    with pycsw_peer(tmp / "csw", sorted(made.glob("*.xml")), maxrecords=page) as peer:
        held = len(peer.identifiers())
        print(f"CSW: pycsw 2.6.2 holds {held} records (loaded in {time.perf_counter() - t0:.1f} s), page {page}")
        # raw engine: the same GetRecords pages fetched and parsed, nothing mapped or stored
        t0, got, start = time.perf_counter(), 0, 1
        while True:
            r = requests.get(peer.url, params={"service": "CSW", "version": "2.0.2", "request": "GetRecords",
                                               "typeNames": "csw:Record", "resultType": "results", "elementSetName": "full",
                                               "outputSchema": "http://www.isotc211.org/2005/gmd",
                                               "startPosition": start, "maxRecords": page})
            _, results = search_results(r.content, "bench")
            k = len(results)
            got, start = got + k, start + k
            if not k or got >= held:
                break
        raw_s = time.perf_counter() - t0
        print(f"  raw fetch + parse:          {got:6d} records in {raw_s:6.2f} s = {got / raw_s:8.1f} records/s")
        for schema in ("iso19139", "csw-record"):
            folder = tmp / f"csw-{schema}"
            folder.mkdir()
            cfg = node_config(folder, f'{{id: src, type: csw, url: "{peer.url}", output_schema: {schema}, page_size: {page}}}')
            rep, secs = timed_harvest(cfg)
            print(f"  harvest ({schema:10s}):     {rep.seen:6d} records in {secs:6.2f} s = {rep.seen / secs:8.1f} records/s "
                  f"(stored {rep.stored}, failed {rep.failed}, status {rep.status})")


def bench_odata(n: int, page: int, tmp: Path) -> None:
    from tests.odataserver import ODataServer, make_entities
    ents = make_entities("documents", n)
    print(f"OData: {n} InforMEA-like Documents, pages of {page}")
    for form in ("v4", "v2", "atom"):
        with ODataServer(ents, form=form, page_size=page) as srv:
            t0, got, url, params = time.perf_counter(), 0, srv.url, {}
            while url:
                r = requests.get(url, params=params)
                rows, url, _ = parse_page(r.content, "bench")
                got, params = got + len(rows), None
            raw_s = time.perf_counter() - t0
            folder = tmp / f"odata-{form}"
            folder.mkdir()
            cfg = node_config(folder, f'{{id: src, type: odata, url: "{srv.url}", entity: documents}}')
            rep, secs = timed_harvest(cfg)
            print(f"  {form:4s} raw fetch + parse:     {got:6d} entities in {raw_s:6.2f} s = {got / raw_s:8.1f} /s;"
                  f"  harvest: {rep.seen:6d} in {secs:6.2f} s = {rep.seen / secs:8.1f} records/s "
                  f"(stored {rep.stored}, failed {rep.failed}, status {rep.status})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csw", type=int, default=600, help="ISO records loaded into pycsw (0: skip)")
    ap.add_argument("--odata", type=int, default=6000, help="OData entities served (0: skip)")
    ap.add_argument("--page", type=int, default=100, help="records per page")
    args = ap.parse_args()
    print(f"command: .venv/bin/python bench/harvest_csw_odata.py --csw {args.csw} --odata {args.odata} --page {args.page}")
    with tempfile.TemporaryDirectory() as d:
        if args.csw:
            bench_csw(args.csw, args.page, Path(d))
        if args.odata:
            bench_odata(args.odata, args.page, Path(d))


if __name__ == "__main__":
    main()
