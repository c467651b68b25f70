"""Fusion and the reordering after it: what both engines share, on hand-made candidates."""

from __future__ import annotations

import pytest

from catalog.search import results
from catalog.search.fusion import (
    convex_fusion,
    label_match,
    label_score,
    normalise_lexical,
    phrase_match,
)
from catalog.search.query import SearchQuery
from catalog.search.results import exact_first, rank, with_field_evidence

ATTRS = {
    "d1": {"kind": "dataset", "dataset_id": 1},
    "d2": {"kind": "dataset", "dataset_id": 2},
    "f1": {"kind": "field", "dataset_id": 1},
    "f2": {"kind": "field", "dataset_id": 2},
}


def test_convex_fusion_weighs_normalised_scores() -> None:
    lexical = [("a", 10.0, 0), ("b", 5.0, 0)]
    semantic = [("b", 0.9), ("c", 0.6)]
    fused = dict(convex_fusion(lexical, semantic, floor=0.2, weight=0.5))
    assert fused["a"] == pytest.approx(0.5)  # lexical best, no vector match
    assert fused["b"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)
    assert fused["c"] == pytest.approx(0.5 * (0.4 / 0.7))
    # A side cut at its limit lends its last score to those it did not return.
    cut = dict(convex_fusion(lexical, semantic, floor=0.2, weight=0.5, semantic_cut=True))
    assert cut["a"] == pytest.approx(0.5 + 0.5 * (0.4 / 0.7))


def test_exact_labels_lead_the_lexical_side() -> None:
    terms = frozenset({"date", "birth"})
    assert label_match(terms, frozenset({"birth", "date"})) == 1.0
    assert label_match(terms, frozenset({"birth", "date", "child"})) == pytest.approx(2 / 3)
    scores = normalise_lexical([("long", 10.0, 0), ("exact", 8.0, 0)],
                               labels={"long": 0.2, "exact": 1.0})
    assert scores["exact"] > scores["long"]


def test_datasets_take_a_share_from_their_best_field() -> None:
    ranked = [("d1", 0.6), ("f2", 0.9), ("d2", 0.5), ("f1", 0.1)]
    out = with_field_evidence(ranked, ATTRS, share=0.5)
    scores = dict(out)
    assert scores["d2"] == pytest.approx(0.7) and scores["d1"] == pytest.approx(0.35)
    assert scores["f2"] == 0.9 and scores["f1"] == 0.1  # fields keep their scores
    assert [k for k, _ in out] == ["f2", "d2", "d1", "f1"]
    assert with_field_evidence(ranked, ATTRS, share=0) == ranked
    # A dataset none of whose fields is a candidate counts 0 from them; the set is kept.
    alone = with_field_evidence([("d1", 0.6), ("f2", 0.9)], ATTRS, share=0.5)
    assert dict(alone) == {"f2": 0.9, "d1": pytest.approx(0.3)}


def test_field_evidence_applies_to_hybrid_and_vector_ranking_only() -> None:
    assert results.FIELD_EVIDENCE == 0.5
    lexical = [("d1", 5.0, 0), ("f2", 5.0, 0), ("d2", 4.5, 0)]
    semantic = [("d1", 0.8), ("f2", 0.9), ("d2", 0.78)]
    hybrid = [k for k, _ in rank(SearchQuery(text="x"), lexical, semantic,
                                 lexical_cut=False, semantic_cut=False, attributes=ATTRS)]
    assert hybrid == ["f2", "d2", "d1"]  # d2's field lifts it over d1
    plain = [k for k, _ in rank(SearchQuery(text="x"), lexical, semantic,
                                lexical_cut=False, semantic_cut=False)]
    assert plain == ["f2", "d1", "d2"]
    lexical_only = [k for k, _ in rank(SearchQuery(text="x", mode="lexical"), lexical,
                                       semantic, lexical_cut=False, semantic_cut=False,
                                       attributes=ATTRS)]
    assert lexical_only == ["d1", "f2", "d2"]


def test_phrases_of_the_query_are_found_in_label_order() -> None:
    assert phrase_match(["date", "birth"], ["child", "date", "birth"]) == 1.0
    assert phrase_match(["date", "birth"], ["birth", "date"]) == 0.0
    assert phrase_match(["birth"], ["birth", "date"]) is None  # one term: no phrase
    words = frozenset({"birth", "date"})
    assert label_score(["date", "birth"], words, ["birth", "date"], phrase=0) == 1.0
    assert label_score(["date", "birth"], words, ["birth", "date"], phrase=0.5) == 0.5
    assert label_score(["birth"], frozenset({"birth"}), ["birth"], phrase=0.5) == 1.0


def test_exact_matches_lead_and_the_rest_keeps_its_order() -> None:
    ranked = [("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.1)]
    assert exact_first(ranked, frozenset({"d", "b"})) == [("b", 0.8), ("d", 0.1), ("a", 0.9),
                                                          ("c", 0.7)]
    assert exact_first(ranked, frozenset()) == ranked
