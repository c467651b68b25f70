"""Suggested corrections: a signed-in person proposes a field's text, its agency's stewards
decide (accepted: applied as the steward's own edit; rejected: with a reason), and the
suggester sees the outcome.

A suggestion names its field by name (a harvest gives fields new ids), one column at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from catalog.audience import AudienceLike
from catalog.models import Agency, Change, Dataset, Field, Suggestion, User, utcnow
from catalog.steward_schemas import FieldEditSchema
from catalog.stewardship import StewardshipError, apply_edit, lock_dataset
from catalog.store import field_by_name, visible
from catalog.vocabulary import Role, SuggestionStatus

SUGGESTABLE = ("label", "description", "data_type", "sensitivity", "value_labels")


def suggest(session: Session, field: Field, user: User, column: str, value: str,
            comment: str | None = None) -> Suggestion:
    """Record a suggestion for one column of a field (the value is checked like an edit)."""
    if column not in SUGGESTABLE:
        raise StewardshipError(f"{column!r} cannot be suggested; one of {', '.join(SUGGESTABLE)}")
    FieldEditSchema().load({column: value})  # ValidationError names the problem
    suggestion = Suggestion(dataset_id=field.dataset_id, field_name=field.name, column=column,
                            value=value, comment=comment or None, user_id=user.id,
                            status=SuggestionStatus.OPEN.value)
    session.add(suggestion)
    session.flush()
    return suggestion


def _decidable(role: str, agencies: tuple[str, ...]) -> Any:
    if role == Role.ADMIN:
        return None
    return Agency.slug.in_(agencies if role == Role.STEWARD else ())


def queue(session: Session, role: str, agencies: tuple[str, ...],
          audience: AudienceLike) -> list[Suggestion]:
    """Open suggestions a steward (of these agencies) or an administrator may decide."""
    query = (select(Suggestion).join(Suggestion.dataset).join(Dataset.agency)
             .where(Suggestion.status == SuggestionStatus.OPEN.value, visible(audience))
             .options(selectinload(Suggestion.dataset).selectinload(Dataset.agency),
                      selectinload(Suggestion.user))
             .order_by(Suggestion.created_at, Suggestion.id))
    condition = _decidable(role, agencies)
    if condition is not None:
        query = query.where(condition)
    return list(session.scalars(query))


def suggestions_of(session: Session, user_id: int, audience: AudienceLike) -> list[Suggestion]:
    """What a person suggested (on datasets they may still see), newest first."""
    return list(session.scalars(
        select(Suggestion).join(Suggestion.dataset)
        .where(Suggestion.user_id == user_id, visible(audience))
        .options(selectinload(Suggestion.dataset))
        .order_by(Suggestion.created_at.desc(), Suggestion.id.desc())))


def hidden_count(session: Session, user_id: int, audience: AudienceLike) -> int:
    """How many of a person's suggestions are on datasets they may no longer see."""
    return session.scalar(
        select(func.count(Suggestion.id)).join(Suggestion.dataset)
        .where(Suggestion.user_id == user_id, ~visible(audience))) or 0


def field_of(session: Session, suggestion: Suggestion) -> Field | None:
    """The field a suggestion is about, as the catalog holds it now."""
    if suggestion.field_name is None:
        return None
    return field_by_name(session, suggestion.dataset_id, suggestion.field_name)


def _open(suggestion: Suggestion) -> None:
    if suggestion.status != SuggestionStatus.OPEN:
        raise StewardshipError(f"suggestion #{suggestion.id} was already {suggestion.status} "
                               f"by {suggestion.decided_by}")


def accept(session: Session, suggestion: Suggestion, *, actor: str, decided_by: str
           ) -> Change | None:
    """Apply a suggestion as the deciding steward's edit and mark it accepted."""
    _open(suggestion)
    dataset = lock_dataset(session, suggestion.dataset_id)
    field = field_of(session, suggestion)
    if dataset is None or field is None:
        raise StewardshipError(f"suggestion #{suggestion.id}: field {suggestion.field_name!r} "
                               "is no longer in its dataset; reject it instead")
    values = FieldEditSchema().load({suggestion.column: suggestion.value})
    change = apply_edit(session, dataset, values, actor=actor, field=field,
                        note=f"accepted suggestion #{suggestion.id}")
    _decide(suggestion, SuggestionStatus.ACCEPTED, decided_by, None)
    return change


def reject(session: Session, suggestion: Suggestion, *, decided_by: str, reason: str | None
           ) -> None:
    """Turn a suggestion down; the reason is required and shown to the suggester."""
    _open(suggestion)
    if not reason or not reason.strip():
        raise StewardshipError(f"suggestion #{suggestion.id}: give a reason for rejecting it")
    _decide(suggestion, SuggestionStatus.REJECTED, decided_by, reason.strip())


def _decide(suggestion: Suggestion, status: str, by: str, reason: str | None) -> None:
    suggestion.status = status
    suggestion.decided_by = by
    suggestion.decided_at = utcnow()
    suggestion.reason = reason
