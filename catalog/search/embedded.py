"""The embedded search engine: SQLite FTS5 for BM25 and an exact numpy vector scan.

It needs no server. The whole index lives in one SQLite file beside the catalog; a full
rebuild writes a new file and swaps it in atomically, so searches go on meanwhile.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from catalog.audience import ALL_LEVELS, Audience, AudienceLike
from catalog.db import exclusive_file_lock
from catalog.search.documents import LEXICAL_COLUMNS, LEXICAL_WEIGHTS, SearchDocument
from catalog.search.engine import SearchEngine
from catalog.search.query import FACETS, Hit, SearchQuery, SearchResult
from catalog.search.ranking import HAS_WORD, lexical_stages, sort_key, sorted_facets
from catalog.search.results import LEXICAL_POOL_FACTOR, assemble
from catalog.search.vector_matrix import COLUMNS as MATRIX_COLUMNS
from catalog.search.vector_matrix import VectorMatrix, tag
from catalog.text import ABBREVIATIONS_DIGEST, query_terms
from catalog.vocabulary import AccessLevel, ResultKind, values

KINDS = values(ResultKind)
EVERYONE = Audience(levels=ALL_LEVELS)

SCAN_THREADS = 2  # vector scans running beside the BM25 queries of concurrent searches
RARE_KIND = 0.1  # share of the documents below which a kind's tag goes into the MATCH
INDEX_FORMAT = f"11.{ABBREVIATIONS_DIGEST}"  # bump on layout/documents; a mismatch rebuilds

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    dataset_id INTEGER NOT NULL,
    field_id INTEGER,
    agency TEXT NOT NULL,
    data_type TEXT NOT NULL,
    access_level TEXT NOT NULL,
    sensitivity TEXT NOT NULL,
    sort_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    words TEXT NOT NULL DEFAULT '',
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_docs_dataset ON docs (dataset_id);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    {", ".join(LEXICAL_COLUMNS)}, tags,
    tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0');
INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '{INDEX_FORMAT}');
"""


class EmbeddedEngine(SearchEngine):
    """Hybrid search over a SQLite file: FTS5 BM25 + exact cosine scan, fused by score."""

    name = "embedded"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._vectors: VectorMatrix | None = None
        # Its threads start with the first scan (see _scan).
        self._scanner = ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="vector-scan")
        # numpy's OpenBLAS threads spin after each product and then fight the embedding
        # model's threads for the two cores: one BLAS thread keeps query latency steady.
        threadpool_limits(1, user_api="blas")
        self.stale = False
        # One process at a time: another opening the same new file at once would find it
        # without its format yet, take it for an old one and move it away under the first
        # (which then failed with "disk I/O error").
        with exclusive_file_lock(str(self.path.with_name(f"{self.path.name}.open.lock"))):
            if self.path.exists() and self._format() != INDEX_FORMAT:
                # An index written by another version: set it aside; the catalog rebuilds it.
                os.replace(self.path, self.path.with_name(f"{self.path.name}.old-format"))
                self.stale = True
            with self._connect() as conn:
                conn.executescript(_SCHEMA)

    def _format(self) -> str | None:
        try:
            with closing(sqlite3.connect(self.path)) as conn:
                row = conn.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        except sqlite3.DatabaseError:
            return None
        return row[0] if row else None

    # ------------------------------------------------------------------ connections

    def _connect(self, path: Path | None = None) -> sqlite3.Connection:
        target = path or self.path
        fresh = not target.exists()
        conn = sqlite3.connect(target, timeout=30, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        if fresh and path is None:  # the index file went missing: start an empty one
            conn.executescript(_SCHEMA)
        return conn

    @staticmethod
    def _generation(conn: sqlite3.Connection) -> str:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        except sqlite3.DatabaseError:
            return "0"
        return row[0] if row else "0"

    @staticmethod
    def _bump(conn: sqlite3.Connection) -> None:
        conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'"
        )

    # ------------------------------------------------------------------ writing

    @staticmethod
    def _insert(
        conn: sqlite3.Connection, docs: Sequence[SearchDocument], vectors: np.ndarray
    ) -> None:
        if len(docs) != len(vectors):
            raise ValueError(f"{len(docs)} documents but {len(vectors)} vectors")
        for doc, vector in zip(docs, vectors, strict=True):
            cur = conn.execute(
                "INSERT INTO docs (doc_id, kind, dataset_id, field_id, agency, data_type,"
                " access_level, sensitivity, sort_key, payload, words, vector)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc.doc_id, doc.kind, doc.dataset_id, doc.field_id, doc.agency,
                    doc.data_type, doc.access_level, doc.sensitivity,
                    sort_key(doc.kind, doc.payload),
                    json.dumps(doc.payload, default=str),
                    doc.words,
                    np.asarray(vector, dtype=np.float32).tobytes(),
                ),
            )
            conn.execute(
                f"INSERT INTO docs_fts (rowid, {', '.join(LEXICAL_COLUMNS)}, tags)"
                f" VALUES (?{', ?' * len(LEXICAL_COLUMNS)}, ?)",
                (
                    cur.lastrowid,
                    *(doc.lexical.get(c, "") for c in LEXICAL_COLUMNS),
                    " ".join(tag(k, v) for k, v in doc.attributes().items() if v),
                ),
            )

    @staticmethod
    def _delete_where(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> None:
        conn.execute(
            f"DELETE FROM docs_fts WHERE rowid IN (SELECT rowid FROM docs WHERE {where})",
            params,
        )
        conn.execute(f"DELETE FROM docs WHERE {where}", params)

    def index(self, docs: Sequence[SearchDocument], vectors: np.ndarray) -> None:
        """Add or replace documents (matched by ``doc_id``) in one transaction."""
        if not docs:
            return
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [d.doc_id for d in docs]
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    self._delete_where(conn, f"doc_id IN ({marks})", chunk)
                self._insert(conn, docs, vectors)
                self._bump(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def delete_datasets(self, dataset_ids: Iterable[int]) -> None:
        """Remove every document of these datasets."""
        ids = list(dataset_ids)
        if not ids:
            return
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    self._delete_where(conn, f"dataset_id IN ({marks})", chunk)
                self._bump(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def rebuild(self, batches: Iterable[tuple[Sequence[SearchDocument], np.ndarray]]) -> int:
        """Build a new index file from scratch and swap it in; the old file serves until then."""
        tmp = self.path.with_name(f"{self.path.name}.building-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        # A rebuild killed before its swap (SIGKILL) leaves its file behind; the old index
        # kept serving, so the leftover is only garbage.
        for leftover in self.path.parent.glob(f"{self.path.name}.building-*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        total = 0
        try:
            with self._connect(tmp) as conn:
                conn.execute("PRAGMA journal_mode=OFF")
                conn.executescript(_SCHEMA)
                generation = 0
                if self.path.is_file():
                    with self._connect() as old:
                        generation = int(self._generation(old))
                conn.execute("BEGIN")
                for docs, vectors in batches:
                    self._insert(conn, docs, vectors)
                    total += len(docs)
                conn.execute(
                    "UPDATE meta SET value=? WHERE key='generation'", (str(generation + 1),)
                )
                conn.execute("COMMIT")
                conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")
            conn.close()
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._vectors = None
        self.stale = False  # the file is now of this version
        return total

    def index_model(self) -> str | None:
        """The embedding model recorded in the index file's meta table."""
        with self._connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='model'").fetchone()
        return row[0] if row else None

    def record_model(self, name: str) -> None:
        """Record the embedding model in the index file's meta table."""
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('model', ?)", (name,))

    def count(self) -> int:
        """Number of documents in the index."""
        with self._connect() as conn:
            return int(conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    # ------------------------------------------------------------------ vectors in memory

    def _load_vectors(self, conn: sqlite3.Connection) -> VectorMatrix:
        generation = f"{os.stat(self.path).st_ino}:{self._generation(conn)}"
        with self._lock:
            if self._vectors is not None and self._vectors.generation == generation:
                return self._vectors
            rows = conn.execute(f"SELECT {', '.join(MATRIX_COLUMNS)} FROM docs").fetchall()
            self._vectors = VectorMatrix.from_rows(generation, rows)
            return self._vectors

    # ------------------------------------------------------------------ searching

    @staticmethod
    def _where(filters: dict[str, tuple[str, ...]], audience: Audience,
               alias: str = "d") -> tuple[str, list[str]]:
        clauses: list[str] = []
        params: list[str] = []
        if not audience.sees_everything:
            levels, agencies = audience.levels, audience.restricted_agencies
            visible = [f"{alias}.access_level IN ({','.join('?' * len(levels))})"] \
                if levels else []
            params.extend(levels)
            if agencies:
                visible.append(f"({alias}.access_level = ? AND {alias}.agency IN "
                               f"({','.join('?' * len(agencies))}))")
                params.extend([AccessLevel.RESTRICTED.value, *agencies])
            clauses.append("(" + " OR ".join(visible) + ")" if visible else "0")
        for attr, allowed in filters.items():
            if not allowed:
                clauses.append("0")
                continue
            clauses.append(f"{alias}.{attr} IN ({','.join('?' * len(allowed))})")
            params.extend(allowed)
        return (" AND ".join(clauses) or "1"), params

    def _lexical(
        self, conn: sqlite3.Connection, terms: list[str], query: SearchQuery,
        vectors: VectorMatrix,
    ) -> list[tuple[int, float, int]]:
        """BM25 candidates ``(rowid, score, stage)`` over what the audience may see.

        One FTS5 query per stage, over every document: the audience and the kind are not in
        the MATCH expression but applied here, from the attributes held in memory, with the
        very semantics of the ``tags`` tokens (:meth:`VectorMatrix.tag_mask`). In the MATCH
        they cost more than the BM25 itself (every tag's position list is read for every
        match), while they add 0 to the score (the ``tags`` column weighs 0.0), so each
        kind's pool, ordered by score then rowid, is the one a MATCH with the tags would
        give. The pair stage repeats each term once per pair it is in, which multiplies
        FTS5's ``bm25()`` by that count: dividing it out gives every stage the score of the
        plain any-term query, as Elasticsearch computes it.
        """
        if query.audience.sees_nothing:
            return []
        weights = ", ".join(str(LEXICAL_WEIGHTS[c]) for c in LEXICAL_COLUMNS)
        sql = f"SELECT rowid, bm25(docs_fts, {weights}, 0.0) FROM docs_fts WHERE docs_fts MATCH ?"
        pool = query.candidates * LEXICAL_POOL_FACTOR
        found: dict[str, list[tuple[int, float, int]]] = {kind: [] for kind in KINDS}
        seen: dict[str, set[int]] = {kind: set() for kind in KINDS}
        masks = {kind: vectors.tag_mask(query.audience, kind) for kind in KINDS}
        stages = lexical_stages(terms)
        for stage, expression in enumerate(lexical_expressions(terms)):
            short = [kind for kind in KINDS if len(found[kind]) < pool]
            if not short:  # a pool per kind, so that a tab never lacks candidates
                break
            match = f"({expression})"
            if len(short) == 1 and vectors.tag_mask(EVERYONE, short[0]).mean() < RARE_KIND:
                # Only a rare kind (datasets) still wants candidates: FTS5 intersects with
                # its tag cheaply, and the tag adds nothing to the score.
                match += f' AND tags:"{tag("kind", short[0])}"'
            rows = conn.execute(sql, [match]).fetchall()
            if not rows:
                continue
            stage_terms, must = stages[stage]
            repeats = max(1, len(stage_terms) - 1) if must == 2 else 1
            flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64,
                               count=2 * len(rows)).reshape(-1, 2)
            rowids = flat[:, 0].astype(np.int64)
            scores = flat[:, 1]
            at = vectors.positions(rowids)
            known = at >= 0
            for kind in short:
                keep = np.flatnonzero(known)
                keep = keep[masks[kind][at[keep]]]
                # ORDER BY bm25, rowid: bm25 first, the rowid breaks ties.
                order = keep[np.lexsort((rowids[keep], scores[keep]))]
                room = pool - len(found[kind])
                for rowid, score in zip(rowids[order].tolist(), scores[order].tolist(),
                                        strict=True):
                    if rowid not in seen[kind]:
                        seen[kind].add(rowid)
                        found[kind].append((rowid, -score / repeats, stage))
                        room -= 1
                        if room == 0:
                            break
        ranked = [item for kind in KINDS for item in found[kind]]
        ranked.sort(key=lambda item: (item[2], -item[1], item[0]))
        return ranked

    def _semantic(
        self, vectors: VectorMatrix, vector: np.ndarray, query: SearchQuery
    ) -> list[tuple[int, float]]:
        """Nearest ``(rowid, cosine)`` over what the audience may see, above the floor."""
        # One product over the whole matrix is cheaper than copying the visible rows out.
        all_scores = vectors.matrix @ np.asarray(vector, dtype=np.float32)
        visible = vectors.shared_mask({}, query.audience) & (all_scores >= self.semantic_floor)
        ranked: list[tuple[int, float]] = []
        for kind in KINDS:  # a pool per kind, as for BM25
            index = np.flatnonzero(visible & vectors.shared_mask({"kind": (kind,)}, EVERYONE))
            scores = all_scores[index]
            top = min(query.candidates, index.size)
            if top == 0:
                continue
            part = np.argpartition(-scores, top - 1)[:top]
            ranked += [(int(vectors.rowids[index[i]]), float(scores[i])) for i in part]
        ranked.sort(key=lambda item: (-item[1], item[0]))
        return ranked

    def _scan(self, vectors: VectorMatrix, vector: np.ndarray,
              query: SearchQuery) -> Future[list[tuple[int, float]]]:
        """:meth:`_semantic` on a worker thread, so that the vector scan (memory-bound:
        150 MB of vectors read at 100k fields) runs while FTS5 computes BM25 on the calling
        thread; both release the GIL while they work."""
        return self._scanner.submit(self._semantic, vectors, vector, query)

    def _payloads(self, conn: sqlite3.Connection, rowids: list[int]) -> dict[int, tuple]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = conn.execute(
            f"SELECT rowid, doc_id, kind, payload FROM docs WHERE rowid IN ({marks})", rowids
        )
        return {r[0]: (r[1], r[2], json.loads(r[3])) for r in rows}

    def _browse(self, conn: sqlite3.Connection, query: SearchQuery) -> SearchResult:
        where, params = self._where(query.filters(), query.audience)
        total = conn.execute(f"SELECT count(*) FROM docs d WHERE {where}", params).fetchone()[0]
        facets: dict[str, dict[str, int]] = {}
        for facet in FACETS:  # each facet counted with every filter but its own
            others = {k: v for k, v in query.filters().items() if k != facet}
            facet_where, facet_params = self._where(others, query.audience)
            rows = conn.execute(
                f"SELECT d.{facet}, count(*) FROM docs d WHERE {facet_where}"
                f" GROUP BY d.{facet}",
                facet_params,
            )
            facets[facet] = {k: v for k, v in rows if k}
        offset = (query.page - 1) * query.per_page
        rows = conn.execute(
            f"SELECT d.rowid FROM docs d WHERE {where} ORDER BY d.sort_key, d.rowid"
            f" LIMIT ? OFFSET ?",
            [*params, query.per_page, offset],
        ).fetchall()
        payloads = self._payloads(conn, [r[0] for r in rows])
        hits = [
            Hit(doc_id=payloads[r[0]][0], kind=payloads[r[0]][1], score=0.0,
                payload=payloads[r[0]][2])
            for r in rows
        ]
        return SearchResult(hits, total, query.page, query.per_page, sorted_facets(facets))

    def search(self, query: SearchQuery, vector: np.ndarray | None) -> SearchResult:
        """Hybrid (or lexical-only / semantic-only) search with filters, facets and a page."""
        started = time.perf_counter()
        with self._connect() as conn:
            text = query.text.strip()
            if not text:
                result = self._browse(conn, query)
                result.took_ms = (time.perf_counter() - started) * 1000
                return result
            if not HAS_WORD.search(text):
                return SearchResult([], 0, query.page, query.per_page, {})
            terms = query_terms(text)
            lexical: list[tuple[int, float, int]] = []
            semantic: list[tuple[int, float]] = []
            vectors = self._load_vectors(conn)
            scan = None
            if query.uses_vectors and vector is not None:
                scan = self._scan(vectors, vector, query)
            if query.uses_lexical and terms:
                lexical = self._lexical(conn, terms, query, vectors)
            if scan is not None:
                semantic = scan.result()
            keys = {r for r, _, _ in lexical} | {r for r, _ in semantic}
            result = assemble(
                query, terms, lexical, semantic, vectors.attributes(keys),
                lambda rowids: self._payloads(conn, rowids),
                lexical_cut=len(lexical) >= query.candidates * LEXICAL_POOL_FACTOR,
                semantic_cut=len(semantic) >= query.candidates,
            )
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def field_vector(self, field_id: int) -> tuple[np.ndarray, int] | None:
        """A field's vector and dataset id, from the vector matrix."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT rowid, dataset_id FROM docs WHERE doc_id = ?", (f"field:{field_id}",)
            ).fetchone()
            if row is None:
                return None
            vectors = self._load_vectors(conn)
            i = vectors.position.get(row[0])
            if i is None:
                return None
            return vectors.matrix[i].copy(), int(row[1])

    def nearest_fields(
        self, vector: np.ndarray, *, exclude_dataset: int, audience: AudienceLike,
        limit: int = 10,
    ) -> list[tuple[Hit, np.ndarray]]:
        """Nearest fields by an exact scan of the vector matrix, visible to the audience."""
        with self._connect() as conn:
            vectors = self._load_vectors(conn)
            mask = vectors.mask({"kind": ("field",)}, Audience.of(audience))
            mask &= vectors.dataset_ids != exclude_dataset
            index = np.flatnonzero(mask)
            if index.size == 0 or limit <= 0:
                return []
            scores = (vectors.matrix @ np.asarray(vector, dtype=np.float32))[index]
            top = min(limit, index.size)
            part = np.argpartition(-scores, top - 1)[:top]
            order = part[np.argsort(-scores[part], kind="stable")]
            rowids = [int(vectors.rowids[index[j]]) for j in order]
            payloads = self._payloads(conn, rowids)
            return [
                (Hit(payloads[r][0], payloads[r][1], float(scores[j]), payloads[r][2]),
                 vectors.matrix[index[j]])
                for r, j in zip(rowids, order, strict=True)
                if r in payloads
            ]


def lexical_expressions(terms: list[str]) -> list[str]:
    """FTS5 expressions for the BM25 stages (see :func:`ranking.lexical_stages`)."""
    out = []
    for stage_terms, must in lexical_stages(terms):
        quoted = [f'"{t}"' for t in stage_terms]
        if must == 1:
            out.append(" OR ".join(quoted))
        else:
            out.append(" OR ".join(
                f"({a} AND {b})" for i, a in enumerate(quoted) for b in quoted[i + 1 :]
            ))
    return out

