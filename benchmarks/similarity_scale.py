"""Where each embedding model's field-to-field cosines lie: the scale behind "% similar".

The field page lists similar fields with a percentage, and request linkage proposals carry
a similarity. A raw cosine makes a poor percentage: e5-small-v2's cosines are crowded, two
unrelated fields score about 0.81, MiniLM's spread from 0. This benchmark measures, on a
loaded catalog (the search-quality benchmark's by default; it only reads it):

- random pairs: fields of two different datasets picked at random (seeded);
- same-concept pairs: two fields the dev queries judge exactly what was asked (grade 2) of
  the same query, from different datasets and with different labels (``LOS`` "Length of
  stay (cleaned)" and ``LENGTH_OF_STAY``, say), as a check that the scale separates them.
  The recall counts every such partner of a field, copies with the same label included.

For each model, for the vectors as indexed ("raw") and with the datasets' context taken
out as similar-field search compares them ("shifted", :mod:`catalog.search.similar`), it
prints the percentiles of both cosine distributions, what
:meth:`catalog.embedding_models.ModelSpec.likeness` makes of the medians, and the recall@10
of same-concept partners among a field's nearest fields of other datasets (an exact scan
over every field of the catalog). ``pair_baseline`` and ``similar_baseline`` in
``catalog/embedding_models.py`` are the random pairs' medians.

``--through-catalog`` measures the same recall through ``Catalog.similar_fields`` itself
(the engine's 200 candidates, shifted and resorted, fields below the baseline left out) on
the catalog in ``--data-dir``, with its model and embedded index.

    python benchmarks/similarity_scale.py [--models e5-small-v2,all-MiniLM-L6-v2]
                                          [--pairs 20000] [--shifts 0.5,0.7,0.9]
                                          [--through-catalog]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from search_quality import read_judgments, shared_dir  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session, selectinload  # noqa: E402

from catalog import embedding_models  # noqa: E402
from catalog.db import make_engine  # noqa: E402
from catalog.embeddings import Embedder, looked_up_embeddings  # noqa: E402
from catalog.models import Dataset  # noqa: E402
from catalog.search import similar  # noqa: E402
from catalog.search.documents import (  # noqa: E402
    abbreviations_of,
    context_text,
    field_embed_text,
)

PERCENTILES = (10, 50, 90, 99)
ALL_LEVELS = ("public", "restricted", "internal")


def load_fields(db_path: Path) -> list[tuple[str, str, str, str, str]]:
    """Every field of the catalog as (dataset identifier, field name, label, embed text,
    its dataset's context sentence)."""
    engine = make_engine(f"sqlite:///{db_path}")
    out = []
    with Session(engine) as session:
        datasets = session.scalars(select(Dataset).order_by(Dataset.id).options(
            selectinload(Dataset.fields), selectinload(Dataset.agency)))
        for dataset in datasets:
            context = context_text(dataset)
            local = abbreviations_of(dataset)  # once per dataset: it reads all its fields
            for f in dataset.fields:
                out.append((dataset.identifier.lower(), f.name.lower(),
                            (f.label or f.name).strip().lower(),
                            field_embed_text(f, dataset, local), context))
    engine.dispose()
    return out


def embed_all(db_path: Path, name: str, texts: list[str]) -> np.ndarray:
    """Vectors of texts: from the catalog's embedding cache where it has them (read only)."""
    engine = make_engine(f"sqlite:///{db_path}")
    with Session(engine) as session:
        vectors = looked_up_embeddings(session, Embedder(model=name), texts)
    engine.dispose()
    return vectors


def partner_recall(vectors: np.ndarray, datasets: np.ndarray,
                   same: list[tuple[int, int]], k: int = 10) -> float:
    """Mean share of a field's same-concept partners among its k nearest fields of other
    datasets (of at most k partners)."""
    partners: dict[int, set[int]] = {}
    for a, b in same:
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    shares = []
    for a, wanted in sorted(partners.items()):
        others = np.flatnonzero(datasets != datasets[a])
        scores = vectors[others] @ vectors[a]
        top = set(others[np.argsort(-scores, kind="stable")[:k]].tolist())
        shares.append(len(top & wanted) / min(k, len(wanted)))
    return float(np.mean(shares)) if shares else 0.0


def same_concept_pairs(fields: list[tuple[str, str, str, str, str]], judgments: list[dict],
                       *, distinct_labels: bool = True) -> list[tuple[int, int]]:
    """Pairs of grade-2 fields of one query from different datasets (labelled differently,
    unless ``distinct_labels`` is false: copies of a field in other files count too)."""
    position = {(row[0], row[1]): i for i, row in enumerate(fields)}
    pairs = set()
    for judgment in judgments:
        if judgment.get("kind", "field") != "field":
            continue
        found = [position.get((r["dataset"].lower(), (r.get("field") or "").lower()))
                 for r in judgment["relevant"] if r.get("grade") == 2]
        found = sorted({i for i in found if i is not None})
        for a in found:
            for b in found:
                if (a < b and fields[a][0] != fields[b][0]
                        and not (distinct_labels and fields[a][2] == fields[b][2])):
                    pairs.add((a, b))
    return sorted(pairs)


def random_pairs(fields: list[tuple[str, str, str, str, str]], sample: list[int], count: int,
                 seed: int) -> list[tuple[int, int]]:
    """``count`` pairs of fields of ``sample`` from two different datasets."""
    rng = random.Random(seed)
    out: list[tuple[int, int]] = []
    while len(out) < count:
        a, b = rng.choice(sample), rng.choice(sample)
        if fields[a][0] != fields[b][0]:
            out.append((a, b))
    return out


def main() -> None:
    """Embed every field with each model and print the distributions and recall."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench-quality" /
                        "catalog.sqlite", help="A loaded catalog (read only).")
    parser.add_argument("--queries", type=Path, default=shared_dir() / "eval" / "dev.jsonl")
    parser.add_argument("--models", default=",".join(embedding_models.MODELS))
    parser.add_argument("--pairs", type=int, default=20000,
                        help="Random pairs of fields of different datasets drawn.")
    parser.add_argument("--shifts", default="0.5,0.7,0.9",
                        help="Context shifts λ whose partner recall is measured too.")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--through-catalog", action="store_true",
                        help="Also measure the recall through Catalog.similar_fields.")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-quality")
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db}: no catalog; run benchmarks/search_quality.py first")

    fields = load_fields(args.db)
    judgments = read_judgments(args.queries)
    same = same_concept_pairs(fields, judgments)
    partners = same_concept_pairs(fields, judgments, distinct_labels=False)
    sample = list(range(len(fields)))
    pairs = random_pairs(fields, sample, args.pairs, args.seed)
    datasets = np.array([row[0] for row in fields])
    contexts = sorted({row[4] for row in fields})
    print(f"{len(fields)} fields; {len(pairs)} random pairs; {len(same)} same-concept pairs "
          f"labelled differently; recall over {len({i for p in partners for i in p})} fields "
          f"with partners; {len(contexts)} dataset contexts")
    header = "  ".join(f"p{p:<5}" for p in PERCENTILES)
    print(f"{'model':<18} {'vectors':<12} {'pairs':<13} {header}  likeness(p50)  recall@10")
    for name in args.models.split(","):
        spec = embedding_models.spec(name)
        raw = embed_all(args.db, name, [row[3] for row in fields])
        context_vectors = dict(zip(contexts, embed_all(args.db, name, contexts), strict=True))
        context_of = np.vstack([context_vectors[row[4]] for row in fields])
        variants = {"raw": (raw, spec.pair_baseline)}
        for shift in [float(x) for x in args.shifts.split(",") if x]:
            moved = np.vstack([similar.shifted(v, c, shift) for v, c in zip(raw, context_of,
                                                                          strict=True)])
            variants[f"shifted {shift:g}"] = (moved, spec.similar_baseline)
        for label, (vectors, baseline) in variants.items():
            recall = partner_recall(vectors, datasets, partners)
            for kind, chosen in (("random", pairs), ("same concept", same)):
                cosines = np.array([float(vectors[a] @ vectors[b]) for a, b in chosen])
                cuts = np.percentile(cosines, PERCENTILES)
                cells = "  ".join(f"{c:<6.3f}" for c in cuts)
                tail = f"  {recall:.3f}" if kind == "random" else ""
                print(f"{name:<18} {label:<12} {kind:<13} {cells}  "
                      f"{spec.likeness(float(cuts[1]), baseline):<13.2f}{tail}")
        print(f"{'':<18} baselines in use: pair {spec.pair_baseline}, "
              f"similar {spec.similar_baseline} (shift {similar.CONTEXT_SHIFT})")
    if args.through_catalog:
        recall = catalog_recall(args, fields, partners)
        print(f"through Catalog.similar_fields: recall@10 {recall:.3f}")


def catalog_recall(args: argparse.Namespace, fields: list[tuple[str, str, str, str, str]],
                   partners: list[tuple[int, int]], k: int = 10) -> float:
    """:func:`partner_recall`, with a field's nearest fields from the catalog itself."""
    from catalog.config import load_settings
    from catalog.models import Field
    from catalog.service import Catalog

    catalog = Catalog(load_settings(data_dir=args.data_dir, database_url=None))
    wanted: dict[int, set[tuple[str, str]]] = {}
    for a, b in partners:
        wanted.setdefault(a, set()).add(fields[b][:2])
        wanted.setdefault(b, set()).add(fields[a][:2])
    shares = []
    with catalog.session() as session:
        ids = {(d.lower(), n.lower()): i for i, n, d in session.execute(
            select(Field.id, Field.name, Dataset.identifier).join(Dataset))}
    for a, keys in sorted(wanted.items()):
        hits = catalog.similar_fields(ids[fields[a][:2]], audience=ALL_LEVELS, limit=k)
        found = {(h.payload["dataset"].lower(), h.payload["field"].lower()) for h in hits}
        shares.append(len(found & keys) / min(k, len(keys)))
    catalog.close()
    return float(np.mean(shares)) if shares else 0.0

if __name__ == "__main__":
    main()
