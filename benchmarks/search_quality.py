"""Search quality on the development queries: nDCG@10, Recall@10 and MRR per ranking mode.

Loads the shared corpus into a catalog (kept in --data-dir between runs; embeddings are
cached by content), runs every query of the judgments file as BM25-only, vector-only and
hybrid, and prints one row per mode with a bootstrap 95% confidence interval of the mean,
then the paired per-query differences (hybrid − each half) with their own intervals, so
that a gain on 30 queries is told apart from noise. ``--failures FILE`` writes a per-query
table (Markdown) of what each mode found and what it missed. ``--cv`` chooses the fusion
weight by cross-validation on these queries and reports the out-of-fold nDCG.
``--cv-columns`` does the same for the BM25 column weights, ``--cv-evidence`` for the share of
a dataset's score taken from its best field.
``--engine elasticsearch`` rebuilds the index on the node at ``--elasticsearch-url`` from
the same database and measures that engine.

    python benchmarks/search_quality.py [--engine embedded|elasticsearch] [--fresh] [--cv]
                                        [--cv-columns] [--cv-evidence]
                                        [--failures var/failures.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.config import load_settings  # noqa: E402
from catalog.search import fusion  # noqa: E402
from catalog.search.documents import LEXICAL_WEIGHTS  # noqa: E402
from catalog.search.query import SearchQuery  # noqa: E402
from catalog.service import Catalog  # noqa: E402
from indexer.load import load_paths  # noqa: E402

MODES = ("lexical", "semantic", "hybrid")
LABELS = {"lexical": "BM25 only", "semantic": "vector only", "hybrid": "hybrid"}
METRICS = ("ndcg@10", "recall@10", "mrr")
BOOTSTRAP = 10_000
WEIGHTS = tuple(round(0.05 * i, 2) for i in range(21))


def shared_dir() -> Path:
    """The shared folder: $CATALOG_SHARED_DIR, else ``../shared`` beside the checkout."""
    return Path(os.environ.get("CATALOG_SHARED_DIR") or ROOT.parent / "shared")


def read_judgments(path: Path) -> list[dict]:
    """Queries with graded relevant items, from a JSON Lines file with # comments."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(json.loads(line))
    return out


def key_of(kind: str, dataset: str, field: str | None) -> tuple[str, str]:
    """Match key: dataset identifier, plus field name for field queries (case-insensitive,
    runs of white space as one space: the catalog stores ``"English Language Learner at
    Program Entry\\n(PIRL Element 803)"`` as the spreadsheet shows it, on one line)."""
    return (" ".join(dataset.lower().split()),
            " ".join((field or "").lower().split()) if kind == "field" else "")


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


def relevant_of(judgment: dict) -> dict[tuple[str, str], int]:
    """The judged items of a query as match keys with their grades."""
    kind = judgment.get("kind", "field")
    return {key_of(kind, r["dataset"], r.get("field")): r.get("grade", 1)
            for r in judgment["relevant"]}


COLLAPSE = {"collapse": True}  # --no-collapse turns it off for every query


def run(catalog: Catalog, judgments: list[dict], mode: str, k: int = 10,
        weight: float | None = None) -> list[dict]:
    """Per query: its metrics and the keys it ranked, for one mode (and fusion weight)."""
    extra = {} if weight is None else {"fusion_weight": weight}
    if not COLLAPSE["collapse"]:
        extra["collapse"] = False
    queries = [SearchQuery(text=j["query"], kind=j.get("kind"), mode=mode, per_page=k, **extra)
               for j in judgments]
    rows = []
    for judgment, result in zip(judgments, catalog.search_many(queries), strict=True):
        kind = judgment.get("kind", "field")
        # The dataset as its source names it, as judgments do (catalog search --json).
        ranked = [key_of(kind, h.payload.get("source_dataset") or h.payload["dataset"],
                         h.payload.get("field")) for h in result.hits]
        ndcg, recall, rr = scores(ranked, relevant_of(judgment), k)
        rows.append({"ndcg@10": ndcg, "recall@10": recall, "mrr": rr, "ranked": ranked})
    return rows


def mean(values: list[float]) -> float:
    """Arithmetic mean (0 for nothing)."""
    return sum(values) / len(values) if values else 0.0


def bootstrap_ci(values: list[float], *, seed: int = 15, rounds: int = BOOTSTRAP):
    """95% percentile bootstrap interval of the mean of ``values``."""
    rng = random.Random(seed)
    n = len(values)
    if n == 0:
        return (0.0, 0.0)
    means = sorted(mean([values[rng.randrange(n)] for _ in range(n)]) for _ in range(rounds))
    return means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]


def choose_by_cv(per_config: dict, *, folds: int = 5, repeats: int = 10,
                 seed: int = 15) -> dict:
    """Out-of-fold nDCG@10 of choosing among configurations on k−1 folds, repeatedly.

    ``per_config`` maps each configuration (first one: the default, which wins ties) to
    its per-query nDCG@10. Returns the out-of-fold mean, the configurations chosen per
    fold, the one best on all queries and every configuration's mean.
    """
    configs = list(per_config)
    rng = random.Random(seed)
    n = len(next(iter(per_config.values())))
    out_of_fold: list[float] = []
    chosen: list = []
    for _ in range(repeats):
        order = list(range(n))
        rng.shuffle(order)
        for f in range(folds):
            test = set(order[f::folds])
            train = [i for i in range(n) if i not in test]
            best = max(configs, key=lambda c: (mean([per_config[c][i] for i in train]),
                                               -configs.index(c)))
            chosen.append(best)
            out_of_fold.append(mean([per_config[best][i] for i in test]))
    overall = max(configs, key=lambda c: (mean(per_config[c]), -configs.index(c)))
    return {"out_of_fold_ndcg@10": mean(out_of_fold), "chosen": chosen, "best_on_all": overall,
            "by_weight": {c: mean(v) for c, v in per_config.items()}}


def cross_validate(catalog: Catalog, judgments: list[dict]) -> dict:
    """Choose the fusion weight on k−1 folds, score it on the held-out fold, repeatedly."""
    default = fusion.SEMANTIC_WEIGHT
    weights = [default, *(w for w in WEIGHTS if w != default)]
    return choose_by_cv({w: [r["ndcg@10"] for r in run(catalog, judgments, "hybrid", weight=w)]
                         for w in weights})


COLUMN_FACTORS = (0.25, 0.5, 2.0, 4.0)
EVIDENCE_SHARES = (0.0, 0.15, 0.25, 0.35, 0.5, 0.6, 0.75)


def cross_validate_evidence(catalog: Catalog, judgments: list[dict]) -> dict:
    """Choose the share of a dataset's score taken from its best field
    (``results.FIELD_EVIDENCE``) the same way: the current share first."""
    from catalog.search import results

    current = results.FIELD_EVIDENCE
    per_config = {}
    try:
        for share in [current, *(s for s in EVIDENCE_SHARES if s != current)]:
            results.FIELD_EVIDENCE = share
            per_config[share] = [r["ndcg@10"] for r in run(catalog, judgments, "hybrid")]
    finally:
        results.FIELD_EVIDENCE = current
    return choose_by_cv(per_config)


def cross_validate_columns(catalog: Catalog, judgments: list[dict]) -> dict:
    """Choose the BM25 column weights the same way: the current ones, or one column's
    weight scaled by each of :data:`COLUMN_FACTORS` (Elasticsearch's combined_fields takes
    no weight below 1, so there those are left out). Both engines read the weights at
    query time, so no reindex is needed."""
    base = dict(LEXICAL_WEIGHTS)
    configs = {"current": dict(base)}
    for column in base:
        for factor in COLUMN_FACTORS:
            value = base[column] * factor
            if catalog.search_engine.name == "elasticsearch" and value < 1:
                continue
            configs[f"{column}×{factor:g}"] = {**base, column: value}
    per_config = {}
    try:
        for label, weights in configs.items():
            LEXICAL_WEIGHTS.update(weights)
            per_config[label] = [r["ndcg@10"] for r in run(catalog, judgments, "hybrid")]
    finally:
        LEXICAL_WEIGHTS.update(base)
    return choose_by_cv(per_config)


def write_failures(path: Path, judgments: list[dict], table: dict[str, list[dict]]) -> None:
    """A Markdown table per query: nDCG per mode, hybrid's top 5, relevant items it missed."""
    lines = ["| id | query | BM25 | vectors | hybrid | hybrid top 5 | missed (grade) |",
             "|---|---|---|---|---|---|---|"]
    order = sorted(range(len(judgments)), key=lambda i: table["hybrid"][i]["ndcg@10"])
    for i in order:
        judgment = judgments[i]
        relevant = relevant_of(judgment)
        hybrid = table["hybrid"][i]
        top = ", ".join(("**" if relevant.get(key, 0) else "") + "/".join(filter(None, key))
                        + ("**" if relevant.get(key, 0) else "") for key in hybrid["ranked"][:5])
        missed = [key for key in relevant if key not in hybrid["ranked"]]
        missed_text = ", ".join(f"{'/'.join(filter(None, key))} ({relevant[key]})"
                                for key in missed[:6]) + (" …" if len(missed) > 6 else "")
        lines.append(f"| {judgment['id']} | {judgment['query']} | "
                     f"{table['lexical'][i]['ndcg@10']:.3f} | "
                     f"{table['semantic'][i]['ndcg@10']:.3f} | {hybrid['ndcg@10']:.3f} | "
                     f"{top} | {missed_text} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def open_catalog(args: argparse.Namespace) -> Catalog:
    """The benchmark's catalog with the corpus loaded (and reindexed for Elasticsearch)."""
    engine = None
    if args.engine == "elasticsearch":
        from catalog.search.elasticsearch import ElasticsearchEngine

        engine = ElasticsearchEngine(args.elasticsearch_url, index=args.index)
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
    if engine is not None or args.reindex:  # the database may have been loaded elsewhere
        started = time.perf_counter()
        count = catalog.reindex()
        print(f"{catalog.search_engine.name}: {count} documents indexed in "
              f"{time.perf_counter() - started:.1f}s", file=sys.stderr)
    return catalog


def main() -> None:
    """Load the corpus if needed, evaluate and print the tables."""
    shared = shared_dir()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=shared / "corpus")
    parser.add_argument("--queries", type=Path, default=shared / "eval" / "dev.jsonl")
    parser.add_argument("--agencies", type=Path, default=ROOT / "benchmarks" /
                        "corpus_agencies.csv")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-quality")
    parser.add_argument("--fresh", action="store_true", help="Reload the corpus from scratch.")
    parser.add_argument("--reindex", action="store_true",
                        help="Rebuild the search index from the database first.")
    parser.add_argument("--engine", choices=("embedded", "elasticsearch"), default="embedded")
    parser.add_argument("--elasticsearch-url", default=os.environ.get(
        "CATALOG_ELASTICSEARCH_URL", "http://127.0.0.1:59200"))
    parser.add_argument("--index", default="catalog-bench-quality",
                        help="Elasticsearch index (alias) the benchmark builds.")
    parser.add_argument("--cv", action="store_true",
                        help="Choose the fusion weight by 5-fold cross-validation (×10).")
    parser.add_argument("--cv-columns", action="store_true",
                        help="Choose the BM25 column weights by cross-validation too.")
    parser.add_argument("--cv-evidence", action="store_true",
                        help="Choose the share of a dataset's score from its best field too.")
    parser.add_argument("--failures", type=Path,
                        help="Write the per-query table (Markdown) to this file.")
    parser.add_argument("--no-collapse", action="store_true",
                        help="List near-identical fields of a dataset one by one.")
    parser.add_argument("--json", action="store_true", help="Print the table as JSON.")
    args = parser.parse_args()
    COLLAPSE["collapse"] = not args.no_collapse

    catalog = open_catalog(args)
    judgments = read_judgments(args.queries)
    table = {mode: run(catalog, judgments, mode) for mode in MODES}
    summary = {
        mode: {m: mean([r[m] for r in rows]) for m in METRICS} for mode, rows in table.items()
    }
    hybrid = [r["ndcg@10"] for r in table["hybrid"]]
    paired = {
        mode: [h - r["ndcg@10"] for h, r in zip(hybrid, table[mode], strict=True)]
        for mode in ("lexical", "semantic")
    }
    cv = cross_validate(catalog, judgments) if args.cv else None
    cv_columns = cross_validate_columns(catalog, judgments) if args.cv_columns else None
    cv_evidence = cross_validate_evidence(catalog, judgments) if args.cv_evidence else None
    if args.failures:
        write_failures(args.failures, judgments, table)
    if args.json:
        print(json.dumps({"summary": summary, "cv": cv, "cv_columns": cv_columns,
                          "cv_evidence": cv_evidence}, indent=2, default=str))
        return
    print(f"{len(judgments)} queries from {args.queries.name}, engine "
          f"{catalog.search_engine.name}, fusion "
          f"{getattr(fusion, 'SEMANTIC_WEIGHT', 'reciprocal rank (RRF)')}")
    print(f"{'mode':<12} {'nDCG@10':>8} {'95% CI':>15} {'Recall@10':>10} {'MRR':>7}")
    for mode in MODES:
        row = summary[mode]
        low, high = bootstrap_ci([r["ndcg@10"] for r in table[mode]])
        print(f"{LABELS[mode]:<12} {row['ndcg@10']:>8.3f} {f'[{low:.3f}, {high:.3f}]':>15} "
              f"{row['recall@10']:>10.3f} {row['mrr']:>7.3f}")
    print("paired nDCG@10 differences, per query:")
    for mode, diffs in paired.items():
        low, high = bootstrap_ci(diffs)
        better = sum(d > 1e-9 for d in diffs)
        worse = sum(d < -1e-9 for d in diffs)
        print(f"  hybrid − {LABELS[mode]:<12} {mean(diffs):+.3f} [{low:+.3f}, {high:+.3f}]"
              f"  better on {better}, worse on {worse}, equal on {len(diffs) - better - worse}")
    if cv is not None:
        chosen = sorted(set(cv["chosen"]))
        print(f"cross-validation (5 folds × 10): out-of-fold hybrid nDCG@10 "
              f"{cv['out_of_fold_ndcg@10']:.3f}; weights chosen {chosen}; best on all "
              f"{cv['best_on_all']}")
        print("  " + "  ".join(f"{w:.2f}:{v:.3f}" for w, v in sorted(cv["by_weight"].items())))
    if cv_columns is not None:
        counts = {c: cv_columns["chosen"].count(c) for c in dict.fromkeys(cv_columns["chosen"])}
        print(f"column weights by cross-validation (5 folds × 10): out-of-fold hybrid nDCG@10 "
              f"{cv_columns['out_of_fold_ndcg@10']:.3f}; chosen "
              + ", ".join(f"{c} ({n}×)" for c, n in counts.items())
              + f"; best on all {cv_columns['best_on_all']}")
        print("  " + "  ".join(f"{c}:{v:.3f}" for c, v in cv_columns["by_weight"].items()))
    if cv_evidence is not None:
        chosen = sorted(set(cv_evidence["chosen"]))
        print(f"field evidence by cross-validation (5 folds × 10): out-of-fold hybrid nDCG@10 "
              f"{cv_evidence['out_of_fold_ndcg@10']:.3f}; shares chosen {chosen}; best on all "
              f"{cv_evidence['best_on_all']}")
        print("  " + "  ".join(f"{w:.2f}:{v:.3f}"
                               for w, v in sorted(cv_evidence["by_weight"].items())))
    if args.failures:
        print(f"per-query table: {args.failures}")


if __name__ == "__main__":
    main()
