"""The system of record on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

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


def test_a_reharvest_keeps_the_ids_of_fields_whose_name_stays(sessions) -> None:
    """A changed source updates its fields in place: a field keeps its id (its page's
    address, the API's id) while the source keeps its name; repeated names match in
    order; fields gone from the source go, new ones get new ids."""
    record = dict(RECORD, fields=[
        *RECORD["fields"],
        {"position": 3, "name": "FILLER", "label": "Blank", "width": 2},
        {"position": 4, "name": "PAT_AGE", "label": "Age group", "width": 2},
        {"position": 5, "name": "FILLER", "label": "Blank too", "width": 3},
    ])
    _store(sessions, record)
    with sessions() as session:
        before = {(f.name, f.position): f.id for f in session.scalar(select(Dataset)).fields}
    changed = dict(record, fields=[
        {"position": 1, "name": "LENGTH_OF_STAY", "label": "Length of stay in days",
         "width": 4, "data_type": "integer"},
        {"position": 2, "name": "FILLER", "label": "Blank", "width": 2},
        {"position": 3, "name": "DISCHARGE", "label": "Discharge quarter", "width": 6},
        {"position": 4, "name": "FILLER", "label": "Blank too", "width": 3},
        {"position": 5, "name": "FILLER", "label": "A third blank", "width": 1},
        {"position": 6, "name": "PAT_ZIP", "label": "Patient ZIP code", "width": 5},
    ])
    assert _store(sessions, changed).action == "updated"
    with sessions() as session:
        dataset = session.scalar(select(Dataset))
        after = [(f.name, f.position, f.label, f.id) for f in dataset.fields]
        assert [(n, p, label) for n, p, label, _ in after] == [
            (f["name"], f["position"], f["label"]) for f in changed["fields"]]
        ids = {(n, p): i for n, p, _, i in after}
        assert ids[("LENGTH_OF_STAY", 1)] == before[("LENGTH_OF_STAY", 2)]
        assert ids[("DISCHARGE", 3)] == before[("DISCHARGE", 1)]
        assert ids[("FILLER", 2)] == before[("FILLER", 3)]  # the first FILLER, the first
        assert ids[("FILLER", 4)] == before[("FILLER", 5)]
        assert ids[("FILLER", 5)] not in before.values()  # a third one is new
        assert ids[("PAT_ZIP", 6)] not in before.values()
        assert session.get(Field, before[("PAT_AGE", 4)]) is None  # gone from the source
        assert session.scalar(select(func.count()).select_from(Field)) == 6
        assert get_field(session, before[("LENGTH_OF_STAY", 2)]).label == (
            "Length of stay in days")


def test_steward_edits_stay_with_the_field_that_keeps_their_id(sessions) -> None:
    """Of two fields of one name, the steward edited the second: after a re-harvest the
    edit is on the field that kept the second's id, not on the first of that name; an
    edited field gone from the source is named in a warning."""
    from catalog.stewardship import apply_edit

    record = dict(RECORD, fields=[
        {"position": 1, "name": "FILLER", "label": "Blank", "width": 2},
        {"position": 2, "name": "FILLER", "label": "Blank too", "width": 3},
        {"position": 3, "name": "PAT_AGE", "label": "Age group", "width": 2},
    ])
    _store(sessions, record)
    with transaction(sessions) as session:
        dataset = session.scalar(select(Dataset))
        second = dataset.fields[1]
        second_id = second.id
        apply_edit(session, dataset, {"label": "Reserved for the ZIP code"}, actor="steward",
                   field=second)
        apply_edit(session, dataset, {"label": "Age in five-year groups"}, actor="steward",
                   field=dataset.fields[2])
    changed = dict(record, fields=[
        {"position": 1, "name": "FILLER", "label": "Blank", "width": 2},
        {"position": 2, "name": "FILLER", "label": "Blank, renamed at the source", "width": 3},
    ])
    outcome = _store(sessions, changed)
    assert outcome.action == "updated"
    assert len(outcome.warnings) == 1 and "'PAT_AGE'" in outcome.warnings[0]
    with sessions() as session:
        first, kept = session.scalar(select(Dataset)).fields
        assert kept.id == second_id
        assert kept.label == "Reserved for the ZIP code"  # the steward's text stays
        assert kept.steward_edits["label"]["source"] == "Blank, renamed at the source"
        assert first.label == "Blank" and first.steward_edits is None


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
