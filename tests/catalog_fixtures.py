"""Shared catalog fixtures: the real embedding model and small real catalogs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.service import Catalog

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
CORPUS = Path(os.environ.get("CATALOG_CORPUS_DIR", REPO.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real embedding model the catalog uses by default (e5-small-v2), loaded once."""
    model = Embedder()
    model.embed(["warm up"])
    return model


@pytest.fixture
def new_catalog(tmp_path: Path, embedder: Embedder) -> Iterator[Catalog]:
    """An empty embedded catalog in a temporary folder (SQLite + embedded engine)."""
    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=None),
                      embedder=embedder)
    yield catalog
    catalog.close()


@pytest.fixture(scope="session")
def fixtures_catalog(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder):
    """The bundled fixtures loaded into one catalog, shared by read-only tests."""
    from indexer.load import load_paths

    data_dir = tmp_path_factory.mktemp("fixtures-catalog")
    catalog = Catalog(load_settings(data_dir=data_dir, database_url=None), embedder=embedder)
    report = load_paths(catalog, [FIXTURES])
    assert report.index_error is None, report.index_error
    yield catalog, report
    catalog.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A session factory over a freshly migrated database: SQLite, then PostgreSQL."""
    from sqlalchemy import create_engine, text

    from catalog.db import make_engine, migrate, session_factory
    from catalog.models import Base

    if request.param == "sqlite":
        url = load_settings(data_dir=tmp_path, database_url=None).db_url
    else:
        url = request.getfixturevalue("postgres_url")
        with create_engine(url).begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine = make_engine(url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()
