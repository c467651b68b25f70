"""Search speed at scale: load time, embedding throughput and hybrid query latency.

Builds catalogs of 10k and 100k fields out of the real fields of the shared corpus, varied
deterministically (each copy of a dataset gets its own identifier and keeps a seeded
random 90 % of its fields), then prints:

- embedding throughput (fields/s) with a cold cache, on the distinct field texts;
- load time of each catalog (store + search documents + cached embeddings + index) with a
  warm embedding cache;
- hybrid query latency p50/p95 over a fixed set of researcher queries (query embedding
  included).

    python benchmarks/search_speed.py [--sizes 10000,100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.config import load_settings  # noqa: E402
from catalog.embeddings import Embedder  # noqa: E402
from catalog.search.query import SearchQuery  # noqa: E402
from catalog.service import Catalog  # noqa: E402
from catalog.store import find_or_create_agency, upsert_dataset  # noqa: E402
from indexer import formats  # noqa: E402
from indexer.agencies import UNKNOWN_AGENCY, agency_for  # noqa: E402
from indexer.load import iter_files, validate_dataset  # noqa: E402

QUERIES = [
    "date of birth", "how long the patient stayed in the hospital", "household income",
    "food stamp benefits", "hourly pay rate", "school district enrollment", "race ethnicity",
    "unemployment insurance claims", "county of residence", "diagnosis code",
    "children in foster care placement", "graduation rate", "zip code of patient",
    "total charges", "number of cigarettes smoked per day", "time of 911 call",
    "building permit processing time", "welfare applications denied", "sex of the person",
    "admission source",
]


def corpus_records(corpus: Path, agencies: Path | None) -> list[tuple[str, str | None, dict]]:
    """Every valid dataset record of the corpus with its agency name and abbreviation."""
    out = []
    for path in iter_files([corpus]):
        module = formats.detect(path)
        if module is None:
            continue
        try:
            parsed = module.parse(path)
        except Exception:
            continue
        rule = agency_for(path, agencies)
        for i, raw in enumerate(parsed.datasets):
            record, _ = validate_dataset(raw, i)
            if record and record["fields"]:
                name = record.get("agency") or (rule.name if rule else UNKNOWN_AGENCY)
                abbr = rule.abbreviation if rule and rule.name == name else None
                record["fmt"] = parsed.format
                out.append((name, abbr, record))
    return out


def variants(base: list[tuple[str, str | None, dict]], target: int):
    """Deterministic copies of the corpus datasets until ``target`` fields are reached."""
    rng = random.Random(20261123)
    total, copy = 0, 0
    while total < target:
        for name, abbr, record in base:
            fields = [f for f in record["fields"] if rng.random() < 0.9] or record["fields"][:1]
            fields = fields[: target - total]
            new = dict(record, identifier=f"{record['identifier']}~{copy}", fields=fields)
            yield name, abbr, new
            total += len(fields)
            if total >= target:
                return
        copy += 1


def build(catalog: Catalog, records) -> tuple[int, float]:
    """Store and index records; returns fields stored and seconds taken."""
    started = time.perf_counter()
    ids: list[int] = []
    fields = 0
    batch: list = []

    def flush() -> None:
        with catalog.transaction() as session:
            for name, abbr, record in batch:
                agency = find_or_create_agency(session, name, abbr)
                outcome = upsert_dataset(session, record, agency=agency, fmt=record.get("fmt"),
                                         provenance={"benchmark": True}, actor="benchmark")
                ids.append(outcome.dataset.id)
        batch.clear()

    for item in records:
        batch.append(item)
        fields += len(item[2]["fields"])
        if len(batch) >= 100:
            flush()
    if batch:
        flush()
    catalog.index_datasets(ids)
    return fields, time.perf_counter() - started


def latency(catalog: Catalog, n: int) -> tuple[float, float]:
    """p50 and p95 of hybrid search latency in ms, query embedding included."""
    times = []
    for i in range(n):
        query = SearchQuery(text=QUERIES[i % len(QUERIES)], per_page=20)
        started = time.perf_counter()
        catalog.search(query)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def main() -> None:
    """Build each catalog size and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--agencies", type=Path,
                        default=ROOT / "benchmarks" / "corpus_agencies.csv")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work-dir", type=Path, default=ROOT / "var" / "bench-speed")
    args = parser.parse_args()

    base = corpus_records(args.corpus, args.agencies)
    print(f"corpus: {len(base)} datasets with fields, "
          f"{sum(len(r['fields']) for _, _, r in base)} fields", flush=True)
    if args.work_dir.exists():
        shutil.rmtree(args.work_dir)
    embedder = Embedder()
    warm = args.work_dir / "warm"
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        data_dir = args.work_dir / f"catalog-{size}"
        if warm.exists():
            data_dir.mkdir(parents=True)
            shutil.copy(warm / "catalog.sqlite", data_dir / "catalog.sqlite")
        catalog = Catalog(load_settings(data_dir=data_dir, database_url=None), embedder=embedder)
        if warm.exists():
            with catalog.db.begin() as conn:
                for table in ("changes", "fields", "datasets", "agencies"):
                    conn.exec_driver_sql(f"DELETE FROM {table}")
        before = embedder.texts_embedded
        fields, seconds = build(catalog, variants(base, size))
        embedded = embedder.texts_embedded - before
        p50, p95 = latency(catalog, args.queries)
        rows.append((size, fields, seconds, embedded, p50, p95, catalog.search_engine.count()))
        print(f"{fields} fields: load {seconds:.1f}s ({embedded} texts embedded), "
              f"hybrid p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)
        if not warm.exists():
            rate = embedded / seconds if seconds else 0
            print(f"  embedding throughput (cold cache, whole load incl. store): "
                  f"{rate:.0f} fields/s", flush=True)
            catalog.close()
            warm.mkdir(parents=True)
            shutil.copy(data_dir / "catalog.sqlite", warm / "catalog.sqlite")
        else:
            catalog.close()

    texts = [f"{i} {q}" for i, q in enumerate(QUERIES * 25)]
    started = time.perf_counter()
    embedder.embed(texts)
    raw_rate = len(texts) / (time.perf_counter() - started)
    print()
    print(f"{'fields':>8} {'docs':>8} {'load s':>8} {'embedded':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for _size, fields, seconds, embedded, p50, p95, docs in rows:
        print(f"{fields:>8} {docs:>8} {seconds:>8.1f} {embedded:>9} {p50:>8.1f} {p95:>8.1f}")
    print(f"raw model throughput on short texts: {raw_rate:.0f} texts/s")


if __name__ == "__main__":
    main()
