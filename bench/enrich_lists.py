"""Benchmark of one record with very long lists: N dc:subject (or dc:identifier) values mapped from oai_dc.

    .venv/bin/python bench/enrich_lists.py                          # 1,000, 10,000 and 100,000 subjects
    .venv/bin/python bench/enrich_lists.py --field identifier --values 1000 --values 60000

What it does: writes one oai_dc record with N values of the field (100,000 subjects are 4.5 MB, under the
5 MB record limit), then maps it as `pops-chm map --format oai_dc` does (split, crosswalk, enrichment,
validation), best of --repeat runs, twice:

  1. "uncapped": harvester.enrich.LIST_CAPS lifted, so every value goes through normalisation and
     recognition: the cost of the list handling itself (linear: it was quadratic, 73 s for 100,000);
  2. "capped": the caps as shipped (the first 1,000 values kept, the cut named in quality.warnings).

Prints the figures and the command that reproduces them.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harvester import crosswalks, enrich  # noqa: E402
from harvester.mapping import MapContext, map_record  # noqa: E402

VALUE = {"subject": "keyword number {i}", "identifier": "https://example.org/doc/{i}"}


def document(field: str, n: int) -> bytes:
    values = "".join(f"<dc:{field}>{VALUE[field].format(i=i)}</dc:{field}>" for i in range(n))
    return ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>One huge record</dc:title>'
            '<dc:identifier>urn:bench:1</dc:identifier>' + values + "</oai_dc:dc>").encode()


def map_seconds(data: bytes, repeat: int) -> tuple[float, dict]:
    """The best time of `repeat` mappings of the document, and the record."""
    cw = crosswalks.get("oai_dc")
    best, rec = float("inf"), {}
    for _ in range(repeat):
        start = time.perf_counter()
        (raw,) = cw.split(data, "bench.xml")
        rec = map_record(cw, raw, MapContext(node="bench", source="bench", now="2026-01-01T00:00:00Z"))
        best = min(best, time.perf_counter() - start)
    return best, rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--field", choices=sorted(VALUE), default="subject")
    ap.add_argument("--values", type=int, action="append", help="values in the record (repeatable)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = args.values or [1_000, 10_000, 100_000]
    shipped = dict(enrich.LIST_CAPS)
    print(f"{'values':>8} {'MB':>6} {'uncapped s':>11} {'capped s':>9}  warnings (capped)")
    for n in sizes:
        data = document(args.field, n)
        enrich.LIST_CAPS.update({name: sys.maxsize for name in shipped})
        uncapped, _ = map_seconds(data, args.repeat)
        enrich.LIST_CAPS.update(shipped)
        capped, rec = map_seconds(data, args.repeat)
        warnings = "; ".join(rec.get("quality", {}).get("warnings", [])) or "-"
        print(f"{n:>8} {len(data) / 1e6:>6.1f} {uncapped:>11.3f} {capped:>9.3f}  {warnings}")
    print(f"command: .venv/bin/python bench/enrich_lists.py --field {args.field} "
          f"{' '.join(f'--values {n}' for n in sizes)} --repeat {args.repeat}")


if __name__ == "__main__":
    main()
