"""Stewards saving the same field at the same moment, on SQLite and on PostgreSQL: every save
read the same version, exactly one is written and every other is refused as stale — no save
is silently lost over another.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import transaction
from catalog.models import Change, Field
from catalog.schemas import DatasetInSchema
from catalog.stewardship import StaleVersion, save_edit, version_of
from catalog.store import find_or_create_agency, upsert_dataset

SAVERS = 6
RECORD = {"identifier": "claims", "title": "Claims", "fields": [
    {"position": 1, "name": "CLAIM_ID", "label": "Claim identifier", "data_type": "string"}]}


def test_simultaneous_saves_of_one_version_write_exactly_one(
    sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        agency = find_or_create_agency(session, "Department of Labor", "DOL")
        dataset = upsert_dataset(session, DatasetInSchema().load(RECORD), agency=agency,
                                 fmt="test", provenance={}, actor="tests").dataset
        session.flush()
        dataset_id = dataset.id
        field = session.scalar(select(Field).where(Field.dataset_id == dataset_id))
        assert field is not None
        field_id, version = field.id, version_of(field)
    barrier = threading.Barrier(SAVERS)
    outcomes: dict[int, str] = {}

    def save(n: int) -> None:
        barrier.wait()
        try:
            with transaction(sessions) as tx:
                save_edit(tx, dataset_id, {"label": f"Claim number {n}"}, version=version,
                          actor=f"steward-{n}", field_id=field_id)
            outcomes[n] = "saved"
        except StaleVersion:
            outcomes[n] = "stale"

    threads = [threading.Thread(target=save, args=(n,)) for n in range(SAVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [n for n, what in outcomes.items() if what == "saved"]
    print(f"\n{SAVERS} simultaneous saves of one version: {sorted(outcomes.values())}")
    assert len(outcomes) == SAVERS and len(winners) == 1
    with sessions() as session:
        field = session.get(Field, field_id)
        assert field is not None and field.label == f"Claim number {winners[0]}"
        edits = session.scalar(select(func.count(Change.id)).where(
            Change.dataset_id == dataset_id, Change.action == "steward-edit"))
        assert edits == 1
