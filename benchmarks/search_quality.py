"""Search quality on the development queries: nDCG@10, Recall@10 and MRR per ranking mode.

Loads the shared corpus into a catalog (kept in --data-dir between runs; embeddings are
cached by content), runs every query of the judgments file as BM25-only, vector-only and
hybrid, and prints one row per mode. ``--engine elasticsearch`` rebuilds the index on the
node at ``--elasticsearch-url`` from the same database and measures that engine.

    python benchmarks/search_quality.py [--engine embedded|elasticsearch] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.config import load_settings  # noqa: E402
from catalog.search.query import SearchQuery  # noqa: E402
from catalog.service import Catalog  # noqa: E402
from indexer.load import load_paths  # noqa: E402

MODES = ("lexical", "semantic", "hybrid")
LABELS = {"lexical": "BM25 only", "semantic": "vector only", "hybrid": "hybrid (RRF)"}


def read_judgments(path: Path) -> list[dict]:
    """Queries with graded relevant items, from a JSON Lines file with # comments."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(json.loads(line))
    return out


def key_of(kind: str, dataset: str, field: str | None) -> tuple[str, str]:
    """Match key: dataset identifier, plus field name for field queries (case-insensitive)."""
    return (dataset.lower(), (field or "").lower() if kind == "field" else "")


def scores(ranked: list[tuple[str, str]], relevant: dict[tuple[str, str], int], k: int):
    """nDCG@k (gain 2^g − 1), Recall@k and reciprocal rank of one ranking.

    A relevant item retrieved twice (the same dataset loaded under two agencies, say)
    gains only once.
    """
    seen: set[tuple[str, str]] = set()
    dcg = 0.0
    for i, key in enumerate(ranked[:k]):
        if key not in seen:
            dcg += (2 ** relevant.get(key, 0) - 1) / math.log2(i + 2)
            seen.add(key)
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    found = len({key for key in ranked[:k] if relevant.get(key, 0) > 0})
    recall = found / max(1, sum(1 for g in relevant.values() if g > 0))
    rr = next((1 / (i + 1) for i, key in enumerate(ranked) if relevant.get(key, 0) > 0), 0.0)
    return (dcg / idcg if idcg else 0.0), recall, rr


def evaluate(catalog: Catalog, judgments: list[dict], k: int = 10, verbose: bool = False):
    """Mean nDCG@k, Recall@k and MRR for each mode."""
    table = {}
    for mode in MODES:
        queries = [SearchQuery(text=j["query"], kind=j.get("kind"), mode=mode, per_page=k)
                   for j in judgments]
        started = time.perf_counter()
        results = catalog.search_many(queries)
        elapsed = time.perf_counter() - started
        sums = [0.0, 0.0, 0.0]
        for judgment, result in zip(judgments, results, strict=True):
            kind = judgment.get("kind", "field")
            relevant = {key_of(kind, r["dataset"], r.get("field")): r.get("grade", 1)
                        for r in judgment["relevant"]}
            ranked = [key_of(kind, h.payload["dataset"], h.payload.get("field"))
                      for h in result.hits]
            row = scores(ranked, relevant, k)
            if verbose and mode == "hybrid":
                print(f"  {judgment['id']} nDCG={row[0]:.3f} R={row[1]:.2f} {judgment['query']}")
            sums = [a + b for a, b in zip(sums, row, strict=True)]
        n = max(1, len(judgments))
        table[mode] = {"ndcg@10": sums[0] / n, "recall@10": sums[1] / n, "mrr": sums[2] / n,
                       "seconds": elapsed}
    return table


def main() -> None:
    """Load the corpus if needed, evaluate and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--queries", type=Path,
                        default=ROOT.parent / "shared" / "eval" / "dev.jsonl")
    parser.add_argument("--agencies", type=Path, default=ROOT / "benchmarks" /
                        "corpus_agencies.csv")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-quality")
    parser.add_argument("--fresh", action="store_true", help="Reload the corpus from scratch.")
    parser.add_argument("--engine", choices=("embedded", "elasticsearch"), default="embedded")
    parser.add_argument("--elasticsearch-url", default=os.environ.get(
        "CATALOG_ELASTICSEARCH_URL", "http://127.0.0.1:59200"))
    parser.add_argument("--json", action="store_true", help="Print the table as JSON.")
    parser.add_argument("--verbose", action="store_true", help="Per-query hybrid scores.")
    args = parser.parse_args()

    engine = None
    if args.engine == "elasticsearch":
        from catalog.search.elasticsearch import ElasticsearchEngine

        engine = ElasticsearchEngine(args.elasticsearch_url, index="catalog-bench-quality")
    catalog = Catalog(load_settings(data_dir=args.data_dir, database_url=None), engine=engine)
    if args.fresh:  # start over, but keep the embedding cache: unchanged text is not re-embedded
        with catalog.db.begin() as conn:
            for table in ("changes", "fields", "datasets", "harvest_runs", "sources", "agencies"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
        catalog.reindex()
    started = time.perf_counter()
    report = load_paths(catalog, [args.corpus], agencies_file=args.agencies)
    totals = report.totals()
    print(f"corpus: {totals['files']} files, {totals['loaded']} loaded, "
          f"{totals['skipped']} skipped, {totals['failed']} failed; datasets "
          f"{totals['created']} new, {totals['updated']} updated, {totals['unchanged']} "
          f"unchanged; {totals['fields']} fields; {time.perf_counter() - started:.1f}s",
          file=sys.stderr)
    if engine is not None:  # the database may have been loaded for the other engine
        started = time.perf_counter()
        count = catalog.reindex()
        print(f"elasticsearch: {count} documents indexed in "
              f"{time.perf_counter() - started:.1f}s", file=sys.stderr)
    judgments = read_judgments(args.queries)
    table = evaluate(catalog, judgments, verbose=args.verbose)
    if args.json:
        print(json.dumps(table, indent=2))
        return
    print(f"{len(judgments)} queries from {args.queries.name}, engine "
          f"{catalog.search_engine.name}")
    print(f"{'mode':<14} {'nDCG@10':>8} {'Recall@10':>10} {'MRR':>7}")
    for mode in MODES:
        row = table[mode]
        print(f"{LABELS[mode]:<14} {row['ndcg@10']:>8.3f} {row['recall@10']:>10.3f} "
              f"{row['mrr']:>7.3f}")


if __name__ == "__main__":
    main()
