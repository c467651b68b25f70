"""The ONNX path embeds queries exactly as sentence-transformers does, without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from catalog import embedding_onnx
from catalog.db import head_revision
from catalog.embeddings import Embedder, model_path

QUERIES = ["how long the patient stayed in the hospital", "EITC (earned income tax credit)",
           "date of birth", "x " * 400, "é"]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    target = tmp_path_factory.mktemp("onnx")
    embedding_onnx.export(model_path(), target / embedding_onnx.ONNX_FILE)
    return target


def test_onnx_vectors_equal_the_models(onnx_dir, monkeypatch, embedder: Embedder) -> None:
    monkeypatch.setenv("CATALOG_ONNX_DIR", str(onnx_dir))
    fresh = Embedder()
    through_onnx = fresh.embed_queries(QUERIES)
    assert fresh._onnx is not None and fresh._model is None  # torch was never needed
    expected = embedder.embed(QUERIES)
    assert np.allclose((through_onnx * expected).sum(axis=1), 1.0, atol=1e-4)
    assert np.allclose(np.linalg.norm(through_onnx, axis=1), 1.0, atol=1e-5)


def test_without_the_export_queries_use_the_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CATALOG_ONNX_DIR", str(tmp_path / "none"))
    assert not embedding_onnx.available(model_path())


def test_a_query_through_onnx_imports_no_torch(onnx_dir) -> None:
    code = ("import sys; from catalog.embeddings import Embedder; "
            "v = Embedder().embed_query('date of birth'); "
            "print(v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "CATALOG_ONNX_DIR": str(onnx_dir)},
                         check=True).stdout
    assert out.split() == ["(384,)", "False", "False"]


def test_the_head_revision_read_from_the_files_is_alembics() -> None:
    # migrate() skips importing alembic when the database is at this revision already.
    from alembic.script import ScriptDirectory

    from catalog.db import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
