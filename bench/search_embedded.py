"""Benchmark of the embedded search backend: indexing rate and search latency on generated records.

    .venv/bin/python bench/search_embedded.py                 # 100,000 records (about two minutes)
    .venv/bin/python bench/search_embedded.py --records 20000 --repeat 20

Generates POPs records (seeded, so every run indexes the same ones) with titles, descriptions and keywords in
the six UN languages, chemicals, countries, regions, years and types, then:

* indexes them with EmbeddedBackend.upsert in batches, and reports records/s; next to it, in the same run,
  the raw rate of the engine underneath (the same prepared text inserted straight into a bare FTS5 table,
  nothing else) and a naive loop (one upsert call, hence one transaction, per record, on a sample);
* runs a set of searches (word, rare word, words, cross-language chemical queries, filters, facets over
  everything, deep pages by offset and by cursor) ``--repeat`` times each and reports median and 95th
  percentile latency and the hit count; next to them, the raw FTS5 count of the same word.

Prints the figures and the command that reproduces them. The index goes to a temporary folder unless
``--path`` is given.
"""
from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harvester import vocab  # noqa: E402
from harvester.index import FACET_FIELDS, Query  # noqa: E402
from harvester.index.embedded import EmbeddedBackend, _columns, prepare  # noqa: E402

WORDS = {
    "en": "national inventory report plan waste management monitoring air water soil sediment release "
          "emission source stockpile disposal transformer equipment assessment risk health exposure "
          "pesticide industrial chemical contaminated site remediation guidance training awareness survey "
          "laboratory sampling analysis trend data implementation strategy regulation phase out capacitor".split(),
    "fr": "inventaire national rapport plan gestion des déchets surveillance air eau sol sédiments rejets "
          "émissions source stocks élimination transformateurs équipements évaluation risque santé exposition "
          "pesticides industriels produits chimiques sites contaminés assainissement formation".split(),
    "es": "inventario nacional informe plan gestión de residuos vigilancia aire agua suelo sedimentos "
          "liberaciones emisiones fuente existencias eliminación transformadores equipos evaluación riesgo "
          "salud exposición plaguicidas industriales sustancias químicas sitios contaminados".split(),
    "ru": "национальный кадастр доклад план управление отходами мониторинг воздух вода почва донные "
          "отложения выбросы источник запасы уничтожение трансформаторы оборудование оценка риск здоровье "
          "пестициды промышленные химические вещества загрязненные участки".split(),
    "ar": "الجرد الوطني تقرير خطة إدارة النفايات رصد الهواء المياه التربة الرواسب الإطلاقات الانبعاثات "
          "المصدر المخزونات التخلص المحولات المعدات تقييم المخاطر الصحة التعرض مبيدات الصناعية".split(),
    "zh": "国家 清单 报告 计划 废物 管理 监测 空气 水 土壤 沉积物 释放 排放 来源 库存 处置 设备 评估 风险 健康 "
          "暴露 农药 工业 化学品 污染 场地 变压器".split(),
}
ZIPF = {lang: [1 / (rank + 1) ** 1.3 for rank in range(len(words))] for lang, words in WORDS.items()}
TYPES = ["national_report", "national_implementation_plan", "action_plan", "release_inventory", "legislation",
         "scientific_technical_study", "monitoring_report", "training_material", "best_practice"]


def text(rng: random.Random, lang: str, n: int, chem_name: str | None) -> str:
    # Zipf-like: the first words of each list are common, the last ones rare
    words = rng.choices(WORDS[lang], weights=ZIPF[lang], k=n)
    if chem_name and rng.random() < 0.5:
        words.insert(rng.randrange(len(words) + 1), chem_name)
    return ("" if lang == "zh" else " ").join(words)


def generate(n: int, seed: int = 7, start: int = 0) -> list[dict]:
    """n records numbered from ``start`` (chunks of a large set: give each chunk its own seed)."""
    rng = random.Random(seed)
    chems = list(vocab.chemicals().values())
    countries = [c for c, e in vocab.countries().items() if e.get("un_group")]
    out = []
    for i in range(start, start + n):
        langs = rng.sample(list(WORDS), k=rng.choice((1, 1, 1, 2, 3)))
        chem = rng.sample(chems, k=rng.choice((0, 1, 1, 2)))
        names = {lang: (chem[0]["names"].get(lang) if chem else None) for lang in langs}
        country = rng.choice(countries)
        node = country.lower()
        year = rng.randint(1995, 2025)
        rec = {
            "id": f"{node}:src{i % 7}:rec{i:07d}",
            "origin": {"node": node, "source": f"src{i % 7}", "identifier": f"rec{i:07d}"},
            "path": [node], "datestamp": f"{rng.randint(2015, 2025)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:00:00Z",
            "title": {lang: text(rng, lang, rng.randint(4, 9), names[lang]) for lang in langs},
            "description": {lang: text(rng, lang, rng.randint(20, 60), names[lang]) for lang in langs},
            "keywords": {langs[0]: [text(rng, langs[0], 1, None) for _ in range(3)]},
            "type": rng.choice(TYPES), "countries": [country], "regions": vocab.region_of(country),
            "languages": langs, "year": year,
        }
        if chem:
            rec["chemicals"] = [c["id"] for c in chem]
        out.append(rec)
    return out


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def timed(fn, repeat: int) -> tuple[float, float, object]:
    fn()  # warm the cache once
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), percentile(times, 0.95), result


def latency_queries(deep_cursor: str | None) -> list[tuple[str, Query]]:
    """The queries whose latency every search benchmark measures, so backends are compared on the same set."""
    return [
        ("common word", Query("monitoring")),
        ("common word + all facets", Query("monitoring", facets=True)),
        ("rare word", Query("capacitor")),
        ("middling word", Query("sediment")),
        ("two words", Query("waste management")),
        ("French words", Query("gestion déchets")),
        ("Russian word", Query("трансформаторы")),
        ("Chinese word", Query("变压器")),
        ("chemical, Chinese name", Query("多氯联苯")),
        ("chemical, abbreviation", Query("PCB")),
        ("chemical + word", Query("PCB transformer")),
        ("CAS number", Query("1336-36-3")),
        ("word + filters", Query("inventory", filters={"regions": ["africa"], "year": ["2019", "2020"]})),
        ("empty query, newest", Query("")),
        ("empty query + all facets", Query("", facets=True)),
        ("empty query + filter + facets", Query("", filters={"type": ["national_report"]}, facets=True)),
        ("sort by title", Query("report", sort="title")),
        ("offset 10,000", Query("", sort="newest", offset=10_000)),
        ("cursor past 10,000", Query("", sort="newest", cursor=deep_cursor)),
        ("hostile text", Query('title:x NEAR(a b) "* {!lucene}x')),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--path", help="SQLite file to index into (default: a temporary one)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-search-")
    path = Path(args.path or os.path.join(tmp, "node.sqlite"))
    if path.exists():
        sys.exit(f"{path} exists; give a new file")
    print(f"sqlite {sqlite3.sqlite_version}, python {sys.version.split()[0]}, {os.cpu_count()} cpus, file {path}")

    t0 = time.perf_counter()
    records = generate(args.records)
    print(f"generated {len(records):,} records in {time.perf_counter() - t0:.1f}s")

    # -- indexing
    index = EmbeddedBackend(path)
    t0 = time.perf_counter()
    for i in range(0, len(records), args.batch):
        index.upsert(records[i:i + args.batch])
    index.commit()
    secs = time.perf_counter() - t0
    rate = len(records) / secs
    size = path.stat().st_size + (Path(str(path) + "-wal").stat().st_size if Path(str(path) + "-wal").exists() else 0)
    print(f"\nindexing: {len(records):,} records in {secs:.1f}s = {rate:,.0f} records/s "
          f"(batches of {args.batch}); file {size / 1e6:.0f} MB")

    t0 = time.perf_counter()
    index.upsert(records[: args.batch])
    print(f"  re-upsert of {args.batch} unchanged records: {(time.perf_counter() - t0) * 1000:.0f} ms (skipped by content)")

    raw = sqlite3.connect(os.path.join(tmp, "raw.sqlite"), isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("CREATE VIRTUAL TABLE f USING fts5(title, description, keywords, other, "
                "tokenize='unicode61 remove_diacritics 2')")
    cols = [[prepare(t)[0] for t in _columns(r)[0]] for r in records]
    t0 = time.perf_counter()
    for i in range(0, len(cols), args.batch):
        raw.execute("BEGIN")
        raw.executemany("INSERT INTO f VALUES (?,?,?,?)", cols[i:i + args.batch])
        raw.execute("COMMIT")
    raw_secs = time.perf_counter() - t0
    print(f"  baseline, raw FTS5 engine (same prepared text, bare table, same batches): "
          f"{len(cols) / raw_secs:,.0f} records/s")

    sample = generate(2000, seed=99)
    naive = EmbeddedBackend(os.path.join(tmp, "naive.sqlite"))
    t0 = time.perf_counter()
    for r in sample:
        naive.upsert([r])
    naive_rate = len(sample) / (time.perf_counter() - t0)
    naive.close()
    print(f"  baseline, naive loop (one upsert, one transaction, per record; {len(sample):,} records): "
          f"{naive_rate:,.0f} records/s")

    # -- searching
    deep_cursor = None
    res = None
    for _ in range(101):  # walk to hit 10,000 and keep the cursor
        res = index.search(Query("", sort="newest", limit=100, cursor=deep_cursor))
        deep_cursor = res.next_cursor
    queries = latency_queries(deep_cursor)
    print(f"\nsearch latency over {len(records):,} records ({args.repeat} runs each, 10 hits per page, highlights on):")
    print(f"  {'query':34} {'median ms':>10} {'p95 ms':>8} {'hits':>8}")
    for label, q in queries:
        med, p95, res = timed(lambda q=q: index.search(q), args.repeat)
        print(f"  {label:34} {med:10.1f} {p95:8.1f} {res.total:8,}")
    def uncached():
        index._all_facets = None          # as after any change to the index
        return index.search(Query("", facets=True))
    med, p95, res = timed(uncached, args.repeat)
    print(f"  {'empty query + all facets, uncached':34} {med:10.1f} {p95:8.1f} {res.total:8,}")
    med, p95, n = timed(lambda: raw.execute("SELECT count(*) FROM f WHERE f MATCH 'monitoring'").fetchone()[0],
                        args.repeat)
    print(f"  {'baseline: raw FTS5 count, 1 word':34} {med:10.1f} {p95:8.1f} {n:8,}")
    med, p95, n = timed(lambda: raw.execute("SELECT rowid FROM f WHERE f MATCH 'monitoring' "
                                            "ORDER BY bm25(f) LIMIT 10").fetchall(), args.repeat)
    print(f"  {'baseline: raw FTS5 top 10 by bm25':34} {med:10.1f} {p95:8.1f} {'':>8}")
    raw.close()
    index.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nfacet fields: {', '.join(FACET_FIELDS)}")
    print("reproduce: cd /work/main && .venv/bin/python bench/search_embedded.py "
          + " ".join(shlex.quote(a) for a in sys.argv[1:]))


if __name__ == "__main__":
    main()
