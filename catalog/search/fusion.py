"""Score fusion: one ranking out of the lexical and the semantic one, by their scores.

A convex combination of normalised scores (Bruch, Gai & Ingber, "An Analysis of Fusion
Functions for Hybrid Retrieval", ACM TOIS 2023): each side's score is scaled to [0, 1],
BM25 from its theoretical minimum 0 to the best score of this query, cosine min-max over
the query's candidates (from the last candidate's to the best: models differ in where
their cosines lie — e5's rarely fall below 0.7, MiniLM's spread from 0 — so no fixed
floor suits them all), then ``fused = w · semantic + (1 − w) · lexical``. The weight ``w``
was chosen by cross-validation on the development queries
(``benchmarks/search_quality.py --cv``); both engines call this same function.

A document one side did not return scores 0 there, unless that side's list was cut at
its limit: then it ranks below the last one returned, and gets that last score (a bound
that does not punish a document for being just past the cut).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import pairwise
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

SEMANTIC_WEIGHT = 0.9  # w: the vectors' share of the fused score (chosen by --cv)
LATER_STAGE = 0.5  # lexical score factor for a long query's documents matching one term
LABEL_MATCH = 0.5  # share of the lexical score given to how well the label matches (--cv)
RRF_K = 60


PHRASE_MATCH = 0.0  # label match share of phrases; 0.25 and 0.5 measured worse on dev


def label_match(terms: frozenset[str], words: frozenset[str]) -> float:
    """Jaccard similarity of the query's terms and a label's words: 1 for an exact label."""
    if not terms or not words:
        return 0.0
    return len(terms & words) / len(terms | words)


def phrase_match(terms: Sequence[str], label: Sequence[str]) -> float | None:
    """Share of the query's adjacent term pairs that are adjacent in the label, in order
    ("date of birth" in "Child's date of birth", not in "Birth date"); None for a query of
    one term, which has no phrase."""
    pairs = list(pairwise(terms))
    if not pairs:
        return None
    present = set(pairwise(label))
    return sum(pair in present for pair in pairs) / len(pairs)


def label_score(terms: Sequence[str], words: frozenset[str], label: Sequence[str],
                *, phrase: float | None = None) -> float:
    """How well a label matches: its Jaccard match, :data:`PHRASE_MATCH` of it replaced by
    the phrase match when the query has a phrase."""
    share = PHRASE_MATCH if phrase is None else phrase
    jaccard = label_match(frozenset(terms), words)
    phrased = phrase_match(terms, label) if share else None
    return jaccard if phrased is None else (1 - share) * jaccard + share * phrased


def normalise_lexical(
    lexical: Sequence[tuple[K, float, int]],
    *,
    later_stage: float | None = None,
    labels: dict[K, float] | None = None,
) -> dict[K, float]:
    """BM25 scores of ``(key, score, stage)`` scaled to [0, 1]; later stages scaled down.

    With ``labels`` (key → :func:`label_match`), :data:`LABEL_MATCH` of the score is how
    well the document's label matches the query: exact names and labels come first.
    """
    later = LATER_STAGE if later_stage is None else later_stage
    best = max((score for _, score, _ in lexical), default=0.0)
    share = LABEL_MATCH if labels else 0.0
    out = {}
    for key, score, stage in lexical:
        bm25 = max(score, 0.0) / best if best > 0 else 1.0
        bm25 *= later if stage else 1.0
        out[key] = (1 - share) * bm25 + share * (labels or {}).get(key, 0.0)
    return out


def normalise_semantic(
    semantic: Sequence[tuple[K, float]], floor: float | None = None
) -> dict[K, float]:
    """Cosine similarities of ``(key, cosine)`` scaled from ``floor`` (0) to the best (1);
    without a floor, from the lowest candidate's (min-max)."""
    if floor is None:
        floor = min((score for _, score in semantic), default=0.0)
    best = max((score for _, score in semantic), default=floor)
    span = best - floor
    if span <= 0:
        return {key: 1.0 for key, _ in semantic}
    return {key: max(score - floor, 0.0) / span for key, score in semantic}


def convex_fusion(
    lexical: Sequence[tuple[K, float, int]],
    semantic: Sequence[tuple[K, float]],
    *,
    floor: float | None = None,
    weight: float = SEMANTIC_WEIGHT,
    lexical_cut: bool = False,
    semantic_cut: bool = False,
    labels: dict[K, float] | None = None,
) -> list[tuple[K, float]]:
    """Fuse the two rankings: ``w · semantic + (1 − w) · lexical`` of normalised scores.

    Ties keep first-seen order (lexical list first), so the result is deterministic.
    """
    lex = normalise_lexical(lexical, labels=labels)
    sem = normalise_semantic(semantic, floor)
    lex_missing = min(lex.values()) if lexical_cut and lex else 0.0
    sem_missing = min(sem.values()) if semantic_cut and sem else 0.0
    order: dict[K, int] = {}
    for key, _, _ in lexical:
        order.setdefault(key, len(order))
    for key, _ in semantic:
        order.setdefault(key, len(order))
    fused = [
        (key, weight * sem.get(key, sem_missing) + (1 - weight) * lex.get(key, lex_missing))
        for key in order
    ]
    fused.sort(key=lambda item: (-item[1], order[item[0]]))
    return fused


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], *, k: int = RRF_K
) -> list[tuple[K, float]]:
    """Fuse ranked id lists by rank alone: score(d) = Σ 1 / (k + rank_i(d)) (for comparison)."""
    scores: dict[K, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    order = {doc_id: i for i, doc_id in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))
