"""The system of record on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from catalog.db import migrate, transaction
from catalog.models import Agency, Change, Dataset, Field
from catalog.schemas import DatasetInSchema
from catalog.store import (
    agencies_with_counts,
    catalog_counts,
    find_or_create_agency,
    get_dataset,
    get_field,
    upsert_dataset,
)

RECORD = {
    "identifier": "tx_pudf_base", "title": "Texas inpatient public use file",
    "layout": True,
    "fields": [
        {"position": 1, "name": "DISCHARGE", "label": "Discharge quarter", "start_col": 1,
         "end_col": 6, "width": 6, "data_type": "string"},
        {"position": 2, "name": "LENGTH_OF_STAY", "start_col": 101, "end_col": 104, "width": 4,
         "data_type": "integer"},
    ],
}


def _store(sessions, record=RECORD, agency="Texas Department of State Health Services"):
    with transaction(sessions) as session:
        a = find_or_create_agency(session, agency, "TX DSHS")
        return upsert_dataset(session, DatasetInSchema().load(record), agency=a, fmt="test",
                              provenance={"path": "x"}, actor="tester")


def test_migrations_create_every_table(sessions) -> None:
    engine = sessions.kw["bind"]
    tables = set(inspect(engine).get_table_names())
    assert {"agencies", "sources", "datasets", "fields", "changes", "harvest_runs",
            "embedding_cache", "alembic_version"} <= tables
    migrate(engine)  # idempotent


def test_create_unchanged_update_with_history(sessions) -> None:
    assert _store(sessions).action == "created"
    assert _store(sessions).action == "unchanged"
    changed = dict(RECORD, description="Now with a description")
    outcome = _store(sessions, changed)
    assert outcome.action == "updated"
    with sessions() as session:
        changes = session.scalars(select(Change).order_by(Change.id)).all()
        assert [c.action for c in changes] == ["create", "update"]
        assert changes[1].before["description"] is None
        assert changes[1].after["description"] == "Now with a description"
        assert changes[1].actor == "tester"
        dataset = session.scalar(select(Dataset))
        assert [f.name for f in dataset.fields] == ["DISCHARGE", "LENGTH_OF_STAY"]
        assert dataset.fields[1].start_col == 101
        assert session.scalar(select(Field).where(Field.name == "LENGTH_OF_STAY")).width == 4


def test_same_identifier_in_two_agencies_are_two_datasets(sessions) -> None:
    _store(sessions)
    _store(sessions, agency="Another Agency")
    with sessions() as session:
        assert len(session.scalars(select(Dataset)).all()) == 2
        slugs = sorted(a.slug for a in session.scalars(select(Agency)))
        assert len(set(slugs)) == 2  # the abbreviation clash gets a distinct slug


def test_reads_respect_access_levels(sessions) -> None:
    public = _store(sessions).dataset
    hidden = _store(sessions, dict(RECORD, identifier="secret", access_level="internal")).dataset
    with sessions() as session:
        assert get_dataset(session, public.id) is not None
        assert get_dataset(session, hidden.id) is None
        assert get_dataset(session, hidden.id, ("public", "internal")) is not None
        hidden_field = session.scalar(select(Field.id).where(Field.dataset_id == hidden.id))
        assert get_field(session, hidden_field) is None
        assert catalog_counts(session) == {"agencies": 1, "datasets": 1, "fields": 2}
        [(_agency, datasets, fields)] = agencies_with_counts(session)
        assert (datasets, fields) == (1, 2)


def test_failed_transaction_leaves_nothing_half_written(sessions) -> None:
    _store(sessions)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        a = find_or_create_agency(session, "Texas Department of State Health Services")
        upsert_dataset(session, DatasetInSchema().load(dict(RECORD, title="Changed")),
                       agency=a, fmt="t", provenance={}, actor="x")
        raise RuntimeError("crash in the middle")
    with sessions() as session:
        assert session.scalar(select(Dataset.title)) == "Texas inpatient public use file"
        assert len(session.scalars(select(Change)).all()) == 1
