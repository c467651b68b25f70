"""The catalog as one object: database, search engine and embedder wired together.

Web, CLI and indexer talk to :class:`Catalog`; it keeps the search index in step with
the system of record and can always rebuild the index from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager

import numpy as np
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from catalog.audience import AudienceLike
from catalog.config import Settings, load_settings
from catalog.db import make_engine, migrate, session_factory, transaction
from catalog.embedding_models import ModelMissing
from catalog.embeddings import Embedder, cached_embeddings, looked_up_embeddings
from catalog.models import Dataset, Field, utcnow
from catalog.search import similar
from catalog.search.documents import (
    SearchDocument,
    context_text,
    dataset_twin,
    documents_for,
    field_twin,
)
from catalog.search.embedded import EmbeddedEngine
from catalog.search.engine import SearchEngine
from catalog.search.query import Hit, SearchQuery, SearchResult
from catalog.search.ranking import HAS_WORD
from catalog.search.results import TWINS_SHOWN, copy_ref
from catalog.text import query_for_embedding

log = logging.getLogger(__name__)
REINDEX_BATCH = 200


def make_search_engine(settings: Settings) -> SearchEngine:
    """The configured engine: Elasticsearch when a URL is set, else the embedded one."""
    if settings.elasticsearch_url:
        from catalog.search.elasticsearch import ElasticsearchEngine

        return ElasticsearchEngine(
            settings.elasticsearch_url,
            index=settings.elasticsearch_index,
            replicas=settings.elasticsearch_replicas,
        )
    return EmbeddedEngine(settings.search_index_path)


class Catalog:
    """The system of record, its search index and the embedding model."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        engine: SearchEngine | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.settings.ensure_dirs()
        self.db = make_engine(self.settings.db_url)
        migrate(self.db)
        self.sessions = session_factory(self.db)
        self.embedder = embedder or Embedder(self.settings.model_path,
                                             model=self.settings.embedding_model)
        self.search_engine = engine or make_search_engine(self.settings)
        self.search_engine.semantic_floor = self.embedder.spec.semantic_floor
        if getattr(self.search_engine, "stale", False):
            log.warning("the search index was written by another version; rebuilding it")
            self.reindex()
        else:
            self._check_index_model()

    def _check_index_model(self) -> None:
        """Rebuild an index whose vectors come from another embedding model than ours.

        Query vectors of one model are meaningless against document vectors of another,
        so such an index is never searched as it is. An index that records no model was
        written by a version that recorded none; it is rebuilt too unless it is empty.
        """
        model = self.embedder.name
        try:
            built = self.search_engine.index_model()
            if built == model:
                return
            if built is None and self.search_engine.count() == 0:
                self.search_engine.record_model(model)
                return
        except Exception as exc:  # a search server that is down: searching will say so
            log.warning("could not check the search index's embedding model: %s", exc)
            return
        log.warning("the search index holds vectors of %s, the catalog embeds with %s; "
                    "rebuilding it", built or "an unrecorded model", model)
        self.reindex()

    def session(self) -> Session:
        """A new database session (the caller closes it)."""
        return self.sessions()

    def transaction(self) -> AbstractContextManager[Session]:
        """A session committed on success, rolled back on error."""
        return transaction(self.sessions)

    # ------------------------------------------------------------------ indexing

    def _documents(self, session: Session, dataset_ids: Sequence[int]) -> list[SearchDocument]:
        datasets = session.scalars(
            select(Dataset)
            .where(Dataset.id.in_(dataset_ids))
            .options(selectinload(Dataset.fields), selectinload(Dataset.agency))
        )
        docs: list[SearchDocument] = []
        for dataset in datasets:
            docs.extend(documents_for(dataset))
        return docs

    def _vectors(self, session: Session, docs: Sequence[SearchDocument]) -> np.ndarray:
        # The datasets' context sentences are embedded (and cached) with their documents,
        # for similar-field search (catalog.search.similar); only the documents' are indexed.
        contexts = [d.context_text for d in docs if d.context_text]
        vectors = cached_embeddings(session, self.embedder,
                                    [d.embed_text for d in docs] + contexts)
        return vectors[: len(docs)]

    def index_datasets(self, dataset_ids: Iterable[int]) -> int:
        """Bring these datasets' documents in the index up to date with the database."""
        ids = list(dict.fromkeys(dataset_ids))
        total = 0
        for start in range(0, len(ids), REINDEX_BATCH):
            chunk = ids[start : start + REINDEX_BATCH]
            with self.transaction() as session:
                docs = self._documents(session, chunk)
                vectors = self._vectors(session, docs)
            self.search_engine.delete_datasets(chunk)
            self.search_engine.index(docs, vectors)
            self._mark_indexed(chunk)
            total += len(docs)
        return total

    def _mark_indexed(self, dataset_ids: Sequence[int]) -> None:
        with self.transaction() as session:
            session.execute(
                update(Dataset).where(Dataset.id.in_(dataset_ids)).values(indexed_at=utcnow())
            )

    def pending_index(self) -> list[int]:
        """Datasets changed since the index last received them (say, while it was down)."""
        with self.session() as session:
            return list(
                session.scalars(
                    select(Dataset.id).where(
                        or_(Dataset.indexed_at.is_(None),
                            Dataset.indexed_at < Dataset.updated_at)
                    )
                )
            )

    def _batches(
        self, on_progress: Callable[[int, int], None] | None = None
    ) -> Iterator[tuple[list[SearchDocument], np.ndarray]]:
        with self.session() as session:
            ids = list(session.scalars(select(Dataset.id).order_by(Dataset.id)))
        for start in range(0, len(ids), REINDEX_BATCH):
            chunk = ids[start : start + REINDEX_BATCH]
            with self.transaction() as session:
                docs = self._documents(session, chunk)
                vectors = self._vectors(session, docs)
            yield docs, vectors
            if on_progress is not None:
                on_progress(start + len(chunk), len(ids))

    def reindex(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Rebuild the whole search index from the database; returns documents indexed.

        ``on_progress(datasets done, datasets in all)`` is called after every batch.
        """
        started = utcnow()
        count = self.search_engine.rebuild(self._batches(on_progress))
        self.search_engine.record_model(self.embedder.name)
        with self.transaction() as session:  # what changed during the rebuild stays pending
            session.execute(
                update(Dataset).where(Dataset.updated_at <= started).values(indexed_at=started)
            )
        return count

    # ------------------------------------------------------------------ searching

    def query_vector(self, query: SearchQuery) -> np.ndarray | None:
        """The query's embedding when the mode needs one and the text has words."""
        if not query.uses_vectors or not HAS_WORD.search(query.text):
            return None
        try:
            return self.embedder.embed_query(query_for_embedding(query.text[:2000]))
        except ModelMissing as exc:  # answer by words alone rather than not at all
            log.error("searching without meaning: %s", exc)
            return None

    def search(self, query: SearchQuery) -> SearchResult:
        """Search the index; the asker's access levels are enforced by the engine."""
        return self.search_engine.search(query, self.query_vector(query))

    def search_many(self, queries: Sequence[SearchQuery]) -> list[SearchResult]:
        """Run several queries, embedding their texts in one batch."""
        texts = [query_for_embedding(q.text[:2000]) for q in queries]
        try:
            vectors = self.embedder.embed_queries(texts) if texts else np.zeros((0, 0))
        except ModelMissing as exc:
            log.error("searching without meaning: %s", exc)
            vectors = [None] * len(queries)
        out = []
        for query, vector in zip(queries, vectors, strict=True):
            use = vector if query.uses_vectors and HAS_WORD.search(query.text) else None
            out.append(self.search_engine.search(query, use))
        return out

    def similar_fields(
        self, field_id: int, *, audience: AudienceLike, limit: int = 10
    ) -> list[Hit]:
        """Fields in other datasets nearest in meaning to this one, that the audience may see.

        Compared with their datasets' context taken out (:mod:`catalog.search.similar`).
        A hit's score is its :meth:`~catalog.embedding_models.ModelSpec.likeness` (0-1), not
        the raw cosine: e5's cosines are crowded, so a cosine read as a percentage said
        "81% similar" of two unrelated fields. Fields no more alike than two picked at
        random are left out. An exact copy of the field in another dataset (the same dataset
        published twice, :func:`~catalog.search.documents.twin_key`) is marked ``copy``; the
        other fields of such a copy are left out, being this field's own dataset's. A
        similar field published twice is listed once, "also in" the other dataset, as in
        search results.
        """
        found = self.search_engine.field_vector(field_id)
        if found is None or limit <= 0:
            return []
        vector, dataset_id = found
        contexts = self._context_vectors({dataset_id})
        source = similar.shifted(vector, contexts.get(dataset_id))
        candidates = self.search_engine.nearest_fields(
            source, exclude_dataset=dataset_id, audience=audience,
            limit=max(limit, similar.CANDIDATES))
        contexts.update(self._context_vectors(
            {int(hit.payload.get("dataset_id") or 0) for hit, _ in candidates}))
        spec = self.embedder.spec
        baseline = spec.similar_baseline if contexts else spec.pair_baseline
        twin, dataset_key = self._twins_of(field_id)
        out: list[Hit] = []
        listed: dict[str, Hit] = {}  # similar fields by twin key
        for hit, cosine in similar.rescore(source, candidates, contexts):
            if cosine <= baseline:
                break
            hit.copy = twin is not None and hit.payload.get("twin") == twin
            if not hit.copy and dataset_key and hit.payload.get("dataset_twin") == dataset_key:
                continue  # another field of this field's own dataset, published again
            first = listed.get(hit.payload.get("twin") or "") if not hit.copy else None
            if first is not None:  # the same similar field in another copy of its dataset
                first.also_in_count += 1
                if len(first.also_in) < TWINS_SHOWN:
                    first.also_in.append(copy_ref(hit.payload))
                continue
            if len(out) >= limit:
                break
            hit.score = spec.likeness(cosine, baseline)
            if hit.payload.get("twin") and not hit.copy:
                listed[hit.payload["twin"]] = hit
            out.append(hit)
        return out

    def _twins_of(self, field_id: int) -> tuple[str | None, str | None]:
        """The twin keys of a field and of its dataset (None, None if it is gone)."""
        with self.session() as session:
            found = session.scalars(
                select(Field).where(Field.id == field_id)
                .options(selectinload(Field.dataset).selectinload(Dataset.agency),
                         selectinload(Field.dataset).selectinload(Dataset.fields))).first()
            if found is None:
                return None, None
            return field_twin(found, found.dataset), dataset_twin(found.dataset)

    def _context_vectors(self, dataset_ids: set[int]) -> dict[int, np.ndarray]:
        """The context sentence's vector of each dataset (from the embedding cache; one
        that is missing there is embedded, not stored: this runs on page views)."""
        if not dataset_ids:
            return {}
        with self.session() as session:
            datasets = list(session.scalars(
                select(Dataset).where(Dataset.id.in_(dataset_ids))
                .options(selectinload(Dataset.agency))))
            try:
                vectors = looked_up_embeddings(session, self.embedder,
                                               [context_text(d) for d in datasets])
            except ModelMissing as exc:  # the fields' own vectors, unshifted, still answer
                log.error("similar fields without dataset contexts: %s", exc)
                return {}
        return {d.id: v for d, v in zip(datasets, vectors, strict=True)}

    def close(self) -> None:
        """Release the database and search connections."""
        self.search_engine.close()
        self.db.dispose()

