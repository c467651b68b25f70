"""The Elasticsearch engine: the same hybrid search on a cluster, for catalogs that outgrow one
machine.

It needs nothing beyond the server's core: text fields hold the tokens that
:mod:`catalog.text` already analysed (split, expanded, stemmed), indexed with the
``whitespace`` analyzer, so the minimal distribution (no ``analysis-common``) ranks with the
very same terms as the embedded engine. One ``_msearch`` runs the BM25 stages and the kNN
query per result kind, with what the audience may see inside each; the fusion, collapsing,
filters, facets, snippets and pagination are the shared ones of
:mod:`catalog.search.results`.

The index is reached through an alias. ``rebuild`` fills a new index with fast settings
(no refresh, no replicas), restores them, swaps the alias in one atomic call and only then
deletes the old index: if anything fails on the way, the alias still serves the old one.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import orjson
from elasticsearch import Elasticsearch, NotFoundError, helpers
from elasticsearch.serializer import OrjsonSerializer

from catalog.audience import ALL_LEVELS, Audience, AudienceLike
from catalog.search.documents import (
    DOCUMENTS_FORMAT,
    LEXICAL_COLUMNS,
    LEXICAL_WEIGHTS,
    SearchDocument,
)
from catalog.search.engine import SearchEngine
from catalog.search.es_index import document_source, mappings
from catalog.search.query import FACETS, Hit, SearchQuery, SearchResult
from catalog.search.ranking import HAS_WORD, lexical_stages, sorted_facets
from catalog.search.results import LEXICAL_POOL_FACTOR, assemble
from catalog.text import query_terms
from catalog.vocabulary import AccessLevel, ResultKind, values

log = logging.getLogger(__name__)
BULK_CHUNK = 500
# Candidates carry only doc values: no stored fields, no _id, no _source to decompress.
CANDIDATE_FIELDS: dict[str, Any] = {
    "stored_fields": "_none_", "docvalue_fields": ["doc_id", "dataset_id", "words", *FACETS],
}
# Responses carry only what the fusion reads (no _index, sort values, shards or totals):
# a hybrid query's candidates come to about 0.7 MB of JSON at 100k, and parsing it is a
# good part of a search. The status keeps every response in its place when it has no hits.
MSEARCH_FILTER = ["responses.status", "responses.error", "responses.hits.hits._score",
                  "responses.hits.hits.fields"]
MGET_FILTER = ["docs._id", "docs.found", "docs._source"]
STAGE_LIFT = 1e6  # far above any BM25 score: an earlier lexical stage always ranks first
RESCORE_OVERSAMPLE = 2.0  # int8 kNN candidates gathered per hit, then scored with the float vectors
# HNSW candidates per hit wanted: e5's cosines are crowded (most lie within 0.75-0.88), and
# with 2 per hit the graph walk missed a best match ("processing_time" for "how many days it
# takes the city to issue a building permit") that 4 per hit finds.
KNN_CANDIDATES = 4
MAX_DELETE_PAGE = 5000
MERGE_TIMEOUT = 900  # seconds a rebuilt index may take to merge into one segment
EVERYONE = Audience(levels=ALL_LEVELS)  # for clauses that are the asker's filters alone
KINDS = values(ResultKind)  # each kind has its own candidate pool


def _filters(filters: dict[str, tuple[str, ...]], audience: Audience) -> list[dict[str, Any]]:
    """Filter clauses: what the audience may see, and the asker's own attribute filters."""
    out = [{"terms": {attr: list(allowed)}} for attr, allowed in filters.items()]
    if not audience.sees_everything:
        visible: list[dict[str, Any]] = [{"terms": {"access_level": list(audience.levels)}}]
        if audience.restricted_agencies:
            visible.append({"bool": {"filter": [
                {"term": {"access_level": AccessLevel.RESTRICTED.value}},
                {"terms": {"agency": list(audience.restricted_agencies)}}]}})
        out.insert(0, {"bool": {"should": visible, "minimum_should_match": 1}})
    return out


def _vector(hit: dict[str, Any]) -> np.ndarray:
    """The float vector of a hit or document fetched with ``stored_fields=["vector_b64"]``."""
    return np.frombuffer(base64.b64decode(hit["fields"]["vector_b64"][0]), dtype=np.float32)


def _sees_nothing(query: SearchQuery) -> bool:
    """True when no document can pass: an empty filter, or an audience that sees nothing."""
    return any(not v for v in query.filters().values()) or query.audience.sees_nothing


class ElasticsearchEngine(SearchEngine):
    """Hybrid search on Elasticsearch: BM25 and kNN in one ``_msearch``, fused by score."""

    name = "elasticsearch"

    def __init__(
        self,
        url: str,
        *,
        index: str = "catalog",
        replicas: int = 0,
        client: Elasticsearch | None = None,
    ) -> None:
        self.url = url
        self.alias = index
        self.replicas = replicas
        self.es = client or Elasticsearch(
            url, request_timeout=30, max_retries=2, retry_on_timeout=True,
            # orjson parses a hybrid search's 0.3-0.5 MB of candidates several times
            # faster than the standard library's json.
            serializer=OrjsonSerializer(),
        )
        self._ready = False

    @property
    def stale(self) -> bool:
        """Whether the index was built with older mappings or documents (a rebuild brings
        it up to date)."""
        try:
            found = self.es.indices.get_mapping(index=self.alias)
        except Exception:  # no index yet, or no server: nothing to rebuild from here
            return False
        wanted = mappings()
        columns = {"words", "ref", *LEXICAL_COLUMNS}

        def current(mapping: dict[str, Any]) -> bool:
            properties = mapping.get("properties", {})
            return (columns <= set(properties)
                    and (mapping.get("_meta") or {}).get("documents") == DOCUMENTS_FORMAT
                    # and where the vectors are kept (vector_b64 apart from _source)
                    and mapping.get("_source") == wanted["_source"]
                    and properties.get("vector_b64") == wanted["properties"]["vector_b64"])

        return not all(current(m["mappings"]) for m in found.values())

    def index_model(self) -> str | None:
        """The embedding model recorded in the index mapping's ``_meta``."""
        try:
            found = self.es.indices.get_mapping(index=self.alias)
        except NotFoundError:
            return None
        models = {(m["mappings"].get("_meta") or {}).get("model") for m in found.values()}
        return models.pop() if len(models) == 1 else None

    def record_model(self, name: str) -> None:
        """Record the embedding model in the index mapping's ``_meta``."""
        self._ensure()
        self.es.indices.put_mapping(index=self.alias,
                                    meta={"model": name, "documents": DOCUMENTS_FORMAT})

    # ------------------------------------------------------------------ the index

    def _new_index(self, *, building: bool) -> str:
        name = f"{self.alias}__{time.time_ns()}"
        settings: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": self.replicas}
        if building:
            settings.update(number_of_replicas=0, refresh_interval="-1")
        self.es.indices.create(index=name, mappings=mappings(), settings=settings)
        return name

    def _indices(self) -> list[str]:
        try:
            return sorted(self.es.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def _ensure(self) -> None:
        if self._ready:
            return
        if not self._indices():
            name = self._new_index(building=False)
            self.es.indices.update_aliases(
                actions=[{"add": {"index": name, "alias": self.alias}}]
            )
        self._ready = True

    def _bulk(self, index: str, actions: Iterable[dict[str, Any]]) -> int:
        done = 0
        for ok, item in helpers.streaming_bulk(
            self.es, actions, index=index, chunk_size=BULK_CHUNK, max_retries=3,
            raise_on_error=False,
        ):
            if not ok:
                raise RuntimeError(f"Elasticsearch refused a document: {item}")
            done += 1
        return done

    @staticmethod
    def _index_actions(
        docs: Sequence[SearchDocument], vectors: np.ndarray
    ) -> Iterator[dict[str, Any]]:
        if len(docs) != len(vectors):
            raise ValueError(f"{len(docs)} documents but {len(vectors)} vectors")
        for doc, vector in zip(docs, vectors, strict=True):
            yield {"_id": doc.doc_id, "_source": document_source(doc, vector)}

    def index(self, docs: Sequence[SearchDocument], vectors: np.ndarray) -> None:
        """Add or replace documents (matched by ``doc_id``); visible to the next search."""
        if not docs:
            return
        self._ensure()
        self._bulk(self.alias, self._index_actions(docs, vectors))
        self.es.indices.refresh(index=self.alias)

    def delete_datasets(self, dataset_ids: Iterable[int]) -> None:
        """Remove every document of these datasets (found by search, deleted in bulk)."""
        ids = list(dataset_ids)
        if not ids:
            return
        self._ensure()
        doomed: list[str] = []
        after: list[Any] | None = None
        while True:
            page = self.es.search(
                index=self.alias,
                query={"terms": {"dataset_id": ids}},
                sort=[{"doc_id": "asc"}],
                size=MAX_DELETE_PAGE,
                source=False,
                search_after=after,
            )["hits"]["hits"]
            doomed.extend(hit["_id"] for hit in page)
            if len(page) < MAX_DELETE_PAGE:
                break
            after = page[-1]["sort"]
        if doomed:
            self._bulk(self.alias, ({"_op_type": "delete", "_id": d} for d in doomed))
            self.es.indices.refresh(index=self.alias)

    def rebuild(self, batches: Iterable[tuple[Sequence[SearchDocument], np.ndarray]]) -> int:
        """Fill a new index, swap the alias to it atomically, then drop the old one."""
        new = self._new_index(building=True)
        total = 0
        try:
            for docs, vectors in batches:
                total += self._bulk(new, self._index_actions(docs, vectors))
            self.es.indices.put_settings(
                index=new,
                settings={"refresh_interval": "1s", "number_of_replicas": self.replicas},
            )
            self.es.indices.refresh(index=new)
            self._merge(new)
            old = self._indices()
            actions: list[dict[str, Any]] = [
                {"remove": {"index": name, "alias": self.alias}} for name in old
            ]
            actions.append({"add": {"index": new, "alias": self.alias}})
            self.es.indices.update_aliases(actions=actions)
        except BaseException:
            try:  # the alias never moved: the old index still serves
                self.es.indices.delete(index=new, ignore_unavailable=True)
            except Exception:  # the node may be the thing that failed
                log.warning("could not delete the half-built index %s", new)
            raise
        # The old index, and any half-built one an earlier failed rebuild left behind.
        leftovers = set(old) | set(self.es.indices.get(index=f"{self.alias}__*"))
        for name in sorted(leftovers - {new}):
            try:
                self.es.indices.delete(index=name, ignore_unavailable=True)
            except Exception:  # an orphan index is harmless: log it and go on
                log.warning("could not delete the old index %s", name)
        self._ready = True
        return total

    def _merge(self, index: str) -> None:
        """Merge a freshly built index into one segment before it serves.

        kNN searches every segment's graph: one segment answers faster (hybrid p95 at 100k
        65 → 59 ms) and the same way every time. Only an optimisation: if it fails or
        times out, the index serves unmerged.
        """
        try:
            self.es.options(request_timeout=MERGE_TIMEOUT).indices.forcemerge(
                index=index, max_num_segments=1)
        except Exception as exc:
            log.warning("could not merge %s into one segment: %s", index, exc)

    def count(self) -> int:
        """Number of documents in the index."""
        self._ensure()
        return int(self.es.count(index=self.alias)["count"])

    def close(self) -> None:
        """Close the client's connections."""
        self.es.close()

    # ------------------------------------------------------------------ searching

    def _lexical_body(
        self, terms: list[str], filters: list[dict[str, Any]], size: int
    ) -> dict[str, Any]:
        # combined_fields is BM25F: one IDF and one length norm over the weighted columns,
        # as FTS5's bm25() computes them. The stages of ranking.lexical_stages become one
        # query: documents of an earlier stage (say, matching two terms) get a constant
        # lift above every later one, and BM25 orders them within their stage.
        fields = [f"{c}^{LEXICAL_WEIGHTS[c]}" for c in LEXICAL_COLUMNS]
        stages = lexical_stages(terms)
        should: list[dict[str, Any]] = []
        for number, (stage_terms, must) in enumerate(stages):
            match = {"combined_fields": {"query": " ".join(stage_terms), "fields": fields,
                                         "operator": "or", "minimum_should_match": must}}
            lift = STAGE_LIFT * (len(stages) - 1 - number)
            should.append(match if lift == 0 else
                          {"constant_score": {"filter": match, "boost": lift}})
        return {
            "query": {"bool": {"should": should, "minimum_should_match": 1, "filter": filters}},
            "sort": ["_score", {"doc_id": "asc"}],
            "track_scores": True,
            "size": size,
            **CANDIDATE_FIELDS,
        }

    def _knn_body(
        self, vector: np.ndarray, filters: list[dict[str, Any]], size: int
    ) -> dict[str, Any]:
        return {
            "knn": {
                "field": "vector",
                "query_vector": np.asarray(vector, dtype=np.float32).tolist(),
                "k": size,
                "num_candidates": min(10_000, max(size * KNN_CANDIDATES, 100)),
                "filter": filters,
                "similarity": self.semantic_floor,
                # The index holds int8-quantised vectors; the nearest of them are scored
                # again with the float vectors, as the embedded engine's exact scan scores.
                "rescore_vector": {"oversample": RESCORE_OVERSAMPLE},
            },
            "size": size,
            **CANDIDATE_FIELDS,
        }

    def search(self, query: SearchQuery, vector: np.ndarray | None) -> SearchResult:
        """Hybrid (or lexical-only / semantic-only) search with filters, facets and a page."""
        started = time.perf_counter()
        self._ensure()
        text = query.text.strip()
        if not text:
            result = self._browse(query)
        elif not HAS_WORD.search(text) or _sees_nothing(query):
            result = SearchResult([], 0, query.page, query.per_page, {})
        else:
            result = self._hybrid(query, vector, query_terms(text))
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _hybrid(
        self, query: SearchQuery, vector: np.ndarray | None, terms: list[str]
    ) -> SearchResult:
        # Both rankings see what the audience may see; the asker's filters narrow the
        # fused results afterwards (search.results), so that counts agree with views.
        audience = _filters({}, query.audience)
        pool = query.candidates * LEXICAL_POOL_FACTOR
        searches: list[dict[str, Any]] = []
        use_lexical = query.uses_lexical and bool(terms)
        use_vector = query.uses_vectors and vector is not None
        for kind in KINDS:  # a pool per kind, so that a tab never lacks candidates
            filters = [*audience, {"term": {"kind": kind}}]
            if use_lexical:
                searches += [{}, self._lexical_body(terms, filters, pool)]
            if use_vector:
                searches += [{}, self._knn_body(vector, filters, query.candidates)]
        if not searches:
            return SearchResult([], 0, query.page, query.per_page, {})
        responses = self.es.msearch(index=self.alias, searches=searches,
                                    filter_path=MSEARCH_FILTER)["responses"]
        for response in responses:
            if "error" in response:
                raise RuntimeError(f"Elasticsearch search failed: {response['error']}")
        hits = [r.get("hits", {}).get("hits", []) for r in responses]
        per_kind = len(hits) // len(KINDS)
        lexical_hits = [h for i, g in enumerate(hits) if use_lexical and i % per_kind == 0
                        for h in g]
        vector_hits = [h for i, g in enumerate(hits) if use_vector and i % per_kind
                       == per_kind - 1 for h in g]
        attributes: dict[str, dict[str, Any]] = {}
        for group in hits:
            for h in group:
                fields = h["fields"]
                doc_id = fields["doc_id"][0]
                if doc_id in attributes:  # found by both rankings: the same doc values
                    continue
                attrs = {f: values[0] for f, values in fields.items()}
                attrs.setdefault("words", "")
                attributes[doc_id] = attrs
        lexical: list[tuple[str, float, int]] = []
        if use_lexical:
            two_stages = len(lexical_stages(terms)) == 2
            for h in lexical_hits:
                score, stage = float(h["_score"]), 0
                if two_stages:  # the pair stage's documents carry its lift above BM25
                    stage = 0 if score >= STAGE_LIFT else 1
                    score -= STAGE_LIFT * (1 - stage)
                lexical.append((h["fields"]["doc_id"][0], score, stage))
            lexical.sort(key=lambda item: (item[2], -item[1], item[0]))
        # kNN scores for dot_product are (1 + cosine) / 2: rank by the cosine itself.
        semantic = sorted(((h["fields"]["doc_id"][0], 2 * float(h["_score"]) - 1)
                           for h in vector_hits), key=lambda item: (-item[1], item[0]))
        return assemble(
            query, terms, lexical, semantic, attributes, self._fetch, fetch_refs=self._refs,
            lexical_cut=len(lexical) >= pool, semantic_cut=len(semantic) >= query.candidates,
        )

    def _fetch(self, doc_ids: list[str]) -> dict[str, tuple[str, str, dict[str, Any]]]:
        docs = self.es.mget(index=self.alias, ids=doc_ids, source=["payload", "kind"],
                            filter_path=MGET_FILTER)["docs"] if doc_ids else []
        return {d["_id"]: (d["_id"], d["_source"]["kind"], d["_source"]["payload"])
                for d in docs if d.get("found")}

    def _refs(self, doc_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The :data:`~catalog.search.results.REF_KEYS` of documents, from doc values."""
        response = self.es.search(
            index=self.alias, query={"ids": {"values": doc_ids}}, size=len(doc_ids),
            stored_fields="_none_", docvalue_fields=["doc_id", "ref"],
            filter_path=["hits.hits.fields"])
        return {h["fields"]["doc_id"][0]: orjson.loads(h["fields"]["ref"][0])
                for h in response.get("hits", {}).get("hits", []) if "ref" in h["fields"]}

    def _browse(self, query: SearchQuery) -> SearchResult:
        if _sees_nothing(query):
            return SearchResult([], 0, query.page, query.per_page, {})
        own = query.filters()
        # Each facet is counted with every filter but its own, as on the embedded engine.
        aggs = {
            f: {"filter": {"bool": {"filter": _filters(
                {k: v for k, v in own.items() if k != f}, EVERYONE)}},
                "aggs": {"values": {"terms": {"field": f, "size": 1000}}}}
            for f in FACETS
        }
        response = self.es.search(
            index=self.alias,
            query={"bool": {"filter": _filters({}, query.audience)}},
            post_filter={"bool": {"filter": _filters(own, EVERYONE)}},
            sort=[{"sort_key": "asc"}, {"doc_id": "asc"}],
            from_=(query.page - 1) * query.per_page,
            size=query.per_page,
            track_total_hits=True,
            source=["payload", "kind"],
            aggs=aggs,
        )
        facets = {
            f: {b["key"]: b["doc_count"]
                for b in response["aggregations"][f]["values"]["buckets"] if b["key"]}
            for f in FACETS
        }
        hits = [
            Hit(h["_id"], h["_source"]["kind"], 0.0, h["_source"]["payload"])
            for h in response["hits"]["hits"]
        ]
        total = int(response["hits"]["total"]["value"])
        return SearchResult(hits, total, query.page, query.per_page, sorted_facets(facets))

    def field_vector(self, field_id: int) -> tuple[np.ndarray, int] | None:
        """A field's vector (from ``vector_b64``) and dataset id."""
        self._ensure()
        try:
            doc = self.es.get(index=self.alias, id=f"field:{field_id}",
                              source=["dataset_id"], stored_fields=["vector_b64"])
        except NotFoundError:
            return None
        return (_vector(doc), int(doc["_source"]["dataset_id"]))

    def nearest_fields(
        self, vector: np.ndarray, *, exclude_dataset: int, audience: AudienceLike,
        limit: int = 10,
    ) -> list[tuple[Hit, np.ndarray]]:
        """Nearest fields by kNN, filtered to the audience inside the search."""
        audience = Audience.of(audience)
        if not (audience.levels or audience.restricted_agencies) or limit <= 0:
            return []
        self._ensure()
        response = self.es.search(
            index=self.alias,
            knn={
                "field": "vector",
                "query_vector": np.asarray(vector, dtype=np.float32).tolist(),
                "k": limit,
                "num_candidates": min(10_000, max(limit * 10, 100)),
                "filter": {
                    "bool": {
                        "filter": _filters({"kind": ("field",)}, audience),
                        "must_not": [{"term": {"dataset_id": exclude_dataset}}],
                    }
                },
            },
            size=limit,
            source=["payload", "kind"],
            stored_fields=["vector_b64"],
        )
        return [
            # kNN scores for dot_product are (1 + cosine) / 2: report the cosine itself.
            (Hit(h["_id"], h["_source"]["kind"], 2 * float(h["_score"]) - 1,
                 h["_source"]["payload"]),
             _vector(h))
            for h in response["hits"]["hits"]
        ]
