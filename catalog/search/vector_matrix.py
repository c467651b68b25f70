"""The embedded engine's vectors and filter attributes, held in memory for the exact scan."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalog.audience import Audience
from catalog.embeddings import DIMENSIONS
from catalog.search.query import FACETS
from catalog.vocabulary import AccessLevel

# What a row of ``docs`` must give, in this order, to build the matrix.
COLUMNS = ("rowid", "dataset_id", "vector", "words", *FACETS)
_ATTRIBUTE_KEYS = (*FACETS, "dataset_id", "words")


def tag(attribute: str, value: str) -> str:
    """The token that marks a document's attribute value in the FTS5 ``tags`` column."""
    return f"{attribute}_{re.sub(r'[^0-9a-z]', '_', value.lower())}"


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
    # Masks by audience and filter, built on first use and read-only: the matrix is
    # immutable, rebuilt when the index changes.
    _tag_masks: dict[Any, np.ndarray] = field(default_factory=dict, repr=False)
    _rows: list[tuple[Any, ...]] | None = field(default=None, repr=False)
    _ascending: bool | None = field(default=None, repr=False)

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
            keep &= self._visible(audience, self._isin)
        for attr, allowed in filters.items():
            keep &= self._isin(attr, allowed)
        return keep

    @staticmethod
    def _visible(audience: Audience,
                 rows: Callable[[str, Iterable[str]], np.ndarray]) -> np.ndarray:
        """Rows the audience may see (:meth:`Audience.allows`), ``rows(attr, values)``
        matching an attribute by value (:meth:`_isin`) or by tag token (:meth:`_tagged`)."""
        visible = rows("access_level", audience.levels)
        if audience.restricted_agencies:
            visible |= (rows("access_level", (AccessLevel.RESTRICTED,))
                        & rows("agency", audience.restricted_agencies))
        return visible

    def positions(self, rowids: np.ndarray) -> np.ndarray:
        """Row positions of these rowids, -1 for a rowid the matrix does not hold."""
        rowids = np.asarray(rowids, dtype=np.int64)
        if self._ascending is None:
            self._ascending = bool(np.all(self.rowids[1:] > self.rowids[:-1]))
        if self.rowids.size and self._ascending:
            at = np.searchsorted(self.rowids, rowids)
            at[at >= self.rowids.size] = 0
            return np.where(self.rowids[at] == rowids, at, -1)
        return np.fromiter((self.position.get(int(r), -1) for r in rowids), dtype=np.int64,
                           count=rowids.size)

    def _tagged(self, attr: str, values: Iterable[str]) -> np.ndarray:
        """Rows whose ``attr`` has one of these values as an FTS5 tag token matches them."""
        wanted = {tag(attr, v) for v in values}
        ids = [code for value, code in self.vocab[attr].items()
               if value and tag(attr, value) in wanted]
        return np.isin(self.codes[attr], np.asarray(ids, dtype=np.int32))

    def tag_mask(self, audience: Audience, kind: str) -> np.ndarray:
        """Rows of this kind the audience may see, exactly as a condition on the FTS5
        ``tags`` tokens the embedded engine writes would select them (its access level,
        or restricted and of an agency the audience stewards)."""
        key = ("tags", audience.sees_everything, audience.levels, audience.restricted_agencies,
               kind)
        found = self._tag_masks.get(key)
        if found is None:
            found = self._tagged("kind", (kind,))
            if not audience.sees_everything:
                found &= self._visible(audience, self._tagged)
            found.setflags(write=False)
            self._remember(key, found)
        return found

    def shared_mask(self, filters: dict[str, tuple[str, ...]], audience: Audience) -> np.ndarray:
        """:meth:`mask`, remembered: the caller must not change the array it gets."""
        key = ("mask", tuple(sorted(filters.items())), audience.sees_everything,
               audience.levels, audience.restricted_agencies)
        found = self._tag_masks.get(key)
        if found is None:
            found = self.mask(filters, audience)
            found.setflags(write=False)
            self._remember(key, found)
        return found

    def _remember(self, key: Any, mask: np.ndarray) -> None:
        if len(self._tag_masks) > 64:
            self._tag_masks.clear()
        self._tag_masks[key] = mask

    def attributes(self, rowids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Facet values, dataset and label words of these rows (for filters and collapsing)."""
        if self._rows is None:
            names = {f: list(self.vocab[f]) for f in FACETS}
            columns = [[names[f][c] for c in self.codes[f].tolist()] for f in FACETS]
            self._rows = list(zip(*columns, self.dataset_ids.tolist(), self.words,
                                  strict=True))
        rows, position, keys = self._rows, self.position, _ATTRIBUTE_KEYS
        out: dict[int, dict[str, Any]] = {}
        for rowid in rowids:
            i = position.get(rowid)
            if i is not None:
                out[rowid] = dict(zip(keys, rows[i], strict=True))
        return out
