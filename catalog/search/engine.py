"""The search interface that the embedded engine and Elasticsearch both implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

import numpy as np

from catalog.audience import AudienceLike
from catalog.search.documents import SearchDocument
from catalog.search.query import Hit, SearchQuery, SearchResult
from catalog.search.ranking import SEMANTIC_FLOOR


class SearchEngine(ABC):
    """Indexes search documents with their vectors and answers hybrid queries."""

    name: str = "abstract"
    # Cosine below which a document is no semantic candidate; the catalog sets its model's
    # (catalog.embedding_models: cosines of unrelated texts differ from model to model).
    semantic_floor: float = SEMANTIC_FLOOR

    @abstractmethod
    def index(self, docs: Sequence[SearchDocument], vectors: np.ndarray) -> None:
        """Add or replace documents (matched by ``doc_id``)."""

    @abstractmethod
    def delete_datasets(self, dataset_ids: Iterable[int]) -> None:
        """Remove every document (dataset and fields) of these datasets."""

    @abstractmethod
    def rebuild(
        self, batches: Iterable[tuple[Sequence[SearchDocument], np.ndarray]]
    ) -> int:
        """Replace the whole index by the given documents; the old one serves until done."""

    @abstractmethod
    def search(self, query: SearchQuery, vector: np.ndarray | None) -> SearchResult:
        """Run a lexical, semantic or hybrid query with filters, facets and a page."""

    @abstractmethod
    def field_vector(self, field_id: int) -> tuple[np.ndarray, int] | None:
        """A field's indexed vector and its dataset's id (None: the field is not indexed)."""

    @abstractmethod
    def nearest_fields(
        self, vector: np.ndarray, *, exclude_dataset: int, audience: AudienceLike,
        limit: int = 10,
    ) -> list[tuple[Hit, np.ndarray]]:
        """The fields nearest to ``vector`` (by cosine, the hits' score), outside the
        dataset ``exclude_dataset``, that the audience may see, each with its vector
        (similar fields: :meth:`catalog.service.Catalog.similar_fields`)."""

    @abstractmethod
    def count(self) -> int:
        """Number of documents in the index."""

    def index_model(self) -> str | None:
        """The embedding model the index's vectors come from, as last recorded (None: not
        recorded, as in an index written before models were recorded)."""
        return None

    def record_model(self, name: str) -> None:  # noqa: B027 - optional hook
        """Record which embedding model the index's vectors come from."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
