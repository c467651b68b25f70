"""Ranking rules both engines share, so that they answer the same query the same way."""

from __future__ import annotations

import re
from typing import Any

from catalog.search.highlight import highlight
from catalog.search.query import Hit

SEMANTIC_FLOOR = 0.2  # cosine similarity below which a document is no semantic candidate
MIN_MATCH_FROM = 3  # queries with this many terms first require two of them to match
MAX_PAIR_TERMS = 10  # pairs are formed from the first ten terms (45 pairs at most)
HAS_WORD = re.compile(r"\w")


def lexical_stages(terms: list[str]) -> list[tuple[list[str], int]]:
    """The BM25 passes, in order, as (terms, how many must match): two, then any.

    A query of three or more terms first asks for documents matching two of them
    (``minimum_should_match: 2`` in Elasticsearch's words), so that a long question does
    not rank fields that share one common word with it; documents matching one term
    follow when too few match two.
    """
    if len(terms) < MIN_MATCH_FROM:
        return [(terms, 1)]
    return [(terms[:MAX_PAIR_TERMS], 2), (terms, 1)]


def sorted_facets(facets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Facet values by count (descending), then by name."""
    return {
        name: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
        for name, values in facets.items()
    }


def sort_key(kind: str, payload: dict[str, Any]) -> str:
    """Browse order: datasets first, then by dataset title and field position."""
    head = "0" if kind == "dataset" else "1"
    return f"{head}|{payload.get('dataset_title', '')}|{payload.get('position') or 0:08d}".lower()


def make_hit(
    doc_id: str,
    kind: str,
    score: float,
    payload: dict[str, Any],
    terms: set[str],
    lexical_rank: int | None = None,
    semantic_rank: int | None = None,
) -> Hit:
    """A hit with its snippet highlighted from the query's stems."""
    snippet = highlight(payload.get("description"), terms) or highlight(
        payload.get("title"), terms
    )
    return Hit(doc_id, kind, score, payload, lexical_rank, semantic_rank, snippet)
