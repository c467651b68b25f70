"""The embedded engine's vectors and filter attributes, held in memory for the exact scan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from catalog.audience import Audience
from catalog.embeddings import DIMENSIONS
from catalog.search.query import FACETS
from catalog.vocabulary import AccessLevel

# What a row of ``docs`` must give, in this order, to build the matrix.
COLUMNS = ("rowid", "dataset_id", "vector", "words", *FACETS)


@dataclass
class VectorMatrix:
    """Every document's vector, its facet values (as codes) and label words, by position."""

    generation: str
    rowids: np.ndarray
    matrix: np.ndarray
    dataset_ids: np.ndarray
    codes: dict[str, np.ndarray]
    vocab: dict[str, dict[str, int]]
    position: dict[int, int]
    words: list[str]

    @classmethod
    def from_rows(cls, generation: str, rows: list[tuple[Any, ...]]) -> VectorMatrix:
        """Build the matrix from ``docs`` rows selected as :data:`COLUMNS`."""
        count = len(rows)
        matrix = np.empty((count, DIMENSIONS), dtype=np.float32)
        rowids = np.empty(count, dtype=np.int64)
        dataset_ids = np.empty(count, dtype=np.int64)
        vocab: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        codes = {f: np.empty(count, dtype=np.int32) for f in FACETS}
        words: list[str] = []
        for i, row in enumerate(rows):
            rowids[i] = row[0]
            dataset_ids[i] = row[1]
            matrix[i] = np.frombuffer(row[2], dtype=np.float32)
            words.append(row[3])
            for j, facet in enumerate(FACETS):
                codes[facet][i] = vocab[facet].setdefault(row[4 + j], len(vocab[facet]))
        return cls(generation=generation, rowids=rowids, matrix=matrix,
                   dataset_ids=dataset_ids, codes=codes, vocab=vocab,
                   position={int(r): i for i, r in enumerate(rowids)}, words=words)

    def _isin(self, attr: str, allowed: Iterable[str]) -> np.ndarray:
        ids = [self.vocab[attr][v] for v in allowed if v in self.vocab[attr]]
        return np.isin(self.codes[attr], np.asarray(ids, dtype=np.int32))

    def mask(self, filters: dict[str, tuple[str, ...]], audience: Audience) -> np.ndarray:
        """Boolean mask of rows the audience may see whose attributes pass every filter."""
        keep = np.ones(len(self.rowids), dtype=bool)
        if not audience.sees_everything:
            visible = self._isin("access_level", audience.levels)
            if audience.restricted_agencies:
                visible |= (self._isin("access_level", (AccessLevel.RESTRICTED,))
                            & self._isin("agency", audience.restricted_agencies))
            keep &= visible
        for attr, allowed in filters.items():
            keep &= self._isin(attr, allowed)
        return keep

    def attributes(self, rowids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Facet values, dataset and label words of these rows (for filters and collapsing)."""
        names = {f: list(self.vocab[f]) for f in FACETS}
        out: dict[int, dict[str, Any]] = {}
        for rowid in rowids:
            i = self.position.get(rowid)
            if i is None:
                continue
            attrs: dict[str, Any] = {f: names[f][self.codes[f][i]] for f in FACETS}
            attrs["dataset_id"] = int(self.dataset_ids[i])
            attrs["words"] = self.words[i]
            out[rowid] = attrs
        return out
