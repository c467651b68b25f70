"""Migrations carry what a database holds: an older schema with data, upgraded to head.

On SQLite and on the real PostgreSQL server: a database migrated to an older revision is
given rows the way that revision's code wrote them, then upgraded; what the new revision
adds is filled from them, and a downgrade takes it away again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from catalog.db import alembic_config, head_revision


def _upgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def _downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    from catalog.models import Base

    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    else:
        engine = create_engine(request.getfixturevalue("postgres_url"))
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    yield engine
    with engine.begin() as conn:  # the shared test database is left empty for the next
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def test_signoff_events_get_their_agency_from_their_text(empty_engine: Engine) -> None:
    """0011: a sign-off event written by 0010's code names its agency only in its text;
    upgraded, it carries the agency's id — the longest name that begins the text, so
    "Department of Labor Statistics: …" is not taken for "Department of Labor"."""
    _upgrade(empty_engine, "0010")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO agencies (id, slug, name) VALUES "
                          "(1, 'dol', 'Department of Labor'), "
                          "(2, 'dls', 'Department of Labor Statistics'), (3, 'dcf', 'DCF')"))
        conn.execute(text(
            "INSERT INTO data_requests (id, status, form, justifications, revisions, "
            "created_at, updated_at) VALUES (1, 'agency_review', '{}', '{}', 0, :t, :t)"),
            {"t": now})
        events = [(1, "signoff", "Department of Labor: approved — fine"),
                  (2, "signoff", "Department of Labor Statistics: denied"),
                  (3, "comment", "Department of Labor: a message, not a sign-off"),
                  (4, "signoff", "Nobody we know: approved")]
        for event_id, kind, comment in events:
            conn.execute(text(
                "INSERT INTO request_events (id, request_id, kind, actor, comment, at) "
                "VALUES (:id, 1, :kind, 'intake@example.org', :comment, :t)"),
                {"id": event_id, "kind": kind, "comment": comment, "t": now})
    _upgrade(empty_engine, "head")
    with empty_engine.connect() as conn:
        found = dict(conn.execute(text(
            "SELECT id, agency_id FROM request_events ORDER BY id")).all())
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head_revision()
    assert found == {1: 1, 2: 2, 3: None, 4: None}
    _downgrade(empty_engine, "0010")
    with empty_engine.connect() as conn:
        columns = conn.execute(text("SELECT * FROM request_events")).keys()
        assert "agency_id" not in columns
        assert conn.scalar(text("SELECT count(*) FROM request_events")) == 4
