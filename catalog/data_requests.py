"""Data requests: a cart of fields across agencies, the drafted request, and its review.

A signed-in person collects fields (or whole datasets) into a *cart*, which is their newest
draft request; the draft's form asks what P20 WIN's request form, ResearchDataGov and the
CT Data Sharing Playbook ask (:data:`catalog.request_form.FORM`), and is validated on
submission (:class:`catalog.request_form.SubmissionSchema`). The intake office then moves it
through its statuses (:data:`TRANSITIONS`; the moves, sign-offs and comments are in
:mod:`catalog.request_review`). Each agency whose data is requested signs off; ``approved``
needs an approving sign-off from every one of them.

Fields are kept by dataset and name (a re-harvest gives fields new ids). At submission each
item records what its field was (:func:`snapshot_of`); a field that changed or disappeared
since is flagged (:func:`item_state`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from catalog.audience import Audience
from catalog.models import (
    Agency,
    Dataset,
    Field,
    User,
    utcnow,
)
from catalog.request_form import (
    FORM_KEYS,
    MAX_TEXT,
    DraftSchema,
    SubmissionSchema,
    labelled_errors,
    normalised_form,
)
from catalog.request_models import (
    DataRequest,
    RequestEvent,
    RequestItem,
)
from catalog.sensitivity import RANK, pending_levels, working_level
from catalog.vocabulary import DatasetStatus, RequestStatus, Role, Sensitivity

S = RequestStatus
REQUESTER, INTAKE = "requester", "intake"
INTAKE_ROLES = (Role.INTAKE.value, Role.ADMIN.value)
# Where each status may go, and who may move it there.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.DRAFT, S.SUBMITTED): REQUESTER,
    (S.SUBMITTED, S.SCREENING): INTAKE,
    (S.SCREENING, S.AGENCY_REVIEW): INTAKE,
    (S.SCREENING, S.CHANGES_REQUESTED): INTAKE,
    (S.SCREENING, S.DENIED): INTAKE,
    (S.AGENCY_REVIEW, S.CHANGES_REQUESTED): INTAKE,
    (S.AGENCY_REVIEW, S.APPROVED): INTAKE,
    (S.AGENCY_REVIEW, S.DENIED): INTAKE,
    (S.CHANGES_REQUESTED, S.SUBMITTED): REQUESTER,
    (S.APPROVED, S.AGREEMENT_SIGNED): INTAKE,
    (S.AGREEMENT_SIGNED, S.FULFILLED): INTAKE,
    (S.FULFILLED, S.CLOSED): INTAKE,
    (S.DENIED, S.CLOSED): INTAKE,
    (S.WITHDRAWN, S.CLOSED): INTAKE,
    **{(status, S.WITHDRAWN): REQUESTER for status in (
        S.DRAFT, S.SUBMITTED, S.SCREENING, S.AGENCY_REVIEW, S.CHANGES_REQUESTED, S.APPROVED)},
}
EDITABLE = (S.DRAFT.value, S.CHANGES_REQUESTED.value)
# When the stewards of the agencies a request asks may read it: from agency review until it
# is closed (the agreement and the delivery need them too), unless it is denied.
STEWARD_READS = (S.AGENCY_REVIEW.value, S.APPROVED.value, S.AGREEMENT_SIGNED.value,
                 S.FULFILLED.value)
FINAL = (S.CLOSED.value,)
DECIDED = (S.APPROVED.value, S.DENIED.value)
SENSITIVE = (Sensitivity.PERSONAL.value, Sensitivity.PRIVATE.value)
MAX_ITEMS = 2_000
NO_SUCH_ITEM = "no such field or dataset"

class RequestError(ValueError):
    """A request cannot be changed so; the message says why (409 on the API)."""


class WrongKeys(RequestError):
    """Justifications keyed by a dataset or item the request does not hold, as its requester
    sees it (400 on the API): ``messages`` names each key, by part."""

    def __init__(self, messages: dict[str, dict[str, list[str]]]) -> None:
        self.messages = messages
        super().__init__("; ".join(f"{part}: {', '.join(keys)}"
                                   for part, keys in messages.items()))


class NotAllowed(PermissionError):
    """This person may not do that to this request (403 on the API)."""


# ---------------------------------------------------------------------------- cart


def may_work_the_queue(user: User) -> bool:
    """Whether a user is an intake officer (or an administrator)."""
    return user.role in INTAKE_ROLES


def get_request(session: Session, request_id: int) -> DataRequest | None:
    """A request with its items, events and sign-offs, or None."""
    return session.scalar(
        select(DataRequest).where(DataRequest.id == request_id).options(
            selectinload(DataRequest.items).selectinload(RequestItem.dataset)
            .selectinload(Dataset.agency),
            selectinload(DataRequest.events), selectinload(DataRequest.signoffs)))


def may_read(user: User, request: DataRequest) -> bool:
    """The requester reads their requests; intake officers every request past its draft;
    the asked agencies' stewards from agency review until it is closed (:data:`STEWARD_READS`)."""
    if request.requester_id == user.id:
        return True
    if may_work_the_queue(user) and request.status != S.DRAFT:
        return True
    return user.role == Role.STEWARD and request.status in STEWARD_READS and bool(
        {s.agency.slug for s in user.stewardships} & set(agency_slugs(request)))


def cart_of(session: Session, user: User, *, create: bool = True) -> DataRequest | None:
    """The user's cart: their newest draft (a new one when they have none and ``create``)."""
    draft = session.scalar(
        select(DataRequest).where(DataRequest.requester_id == user.id,
                                  DataRequest.status == S.DRAFT)
        .order_by(DataRequest.created_at.desc(), DataRequest.id.desc()).limit(1))
    if draft is None and create:
        draft = new_request(session, user)
    return draft


def new_request(session: Session, user: User, form: dict[str, Any] | None = None
                ) -> DataRequest:
    """A new draft request of a user."""
    now = utcnow()
    request = DataRequest(requester_id=user.id, status=S.DRAFT.value,
                          form=normalised_form(DraftSchema().load(form or {})),
                          justifications={},
                          revisions=0, created_at=now, updated_at=now)
    session.add(request)
    session.flush()
    record_event(session, request, user, "transition", None, S.DRAFT, None)
    return request


def _editable(request: DataRequest, user: User) -> None:
    if request.requester_id != user.id:
        raise NotAllowed("only the requester changes a request's contents")
    if request.status not in EDITABLE:
        raise RequestError(f"a request that is {request.status} cannot be changed; "
                           "it can be while a draft or when changes are requested")


def add_item(session: Session, request: DataRequest, user: User, audience: Audience,
             dataset_id: int | None, field_id: int | None = None) -> RequestItem:
    """Add a field (by ``field_id``) or a whole dataset (by ``dataset_id``) the user may see.

    The user's right to change the request is checked first, and a field or dataset the
    user may not see is refused exactly as one that does not exist (LookupError, one
    message), so that the answer tells nothing about what is hidden.
    """
    _editable(request, user)
    field = session.get(Field, field_id) if field_id is not None else None
    if field_id is not None:
        dataset = field.dataset if field is not None else None
        if dataset is not None and dataset_id is not None and dataset.id != dataset_id:
            dataset = None
    else:
        dataset = session.get(Dataset, dataset_id) if dataset_id is not None else None
    if dataset is None or not audience.allows(dataset.access_level, dataset.agency.slug):
        raise LookupError(NO_SUCH_ITEM)
    name = field.name if field is not None else None
    for item in request.items:  # already held, or held as part of the whole dataset
        if item.dataset_id == dataset.id and item.field_name in (name, None):
            return item
    if len(request.items) >= MAX_ITEMS:
        raise RequestError(f"a request holds at most {MAX_ITEMS} items")
    item = RequestItem(request=request, dataset_id=dataset.id, field_name=name,
                       added_at=utcnow())
    session.add(item)
    request.updated_at = utcnow()
    session.flush()
    return item


def remove_item(session: Session, request: DataRequest, user: User, item_id: int, *,
                audience: Audience) -> None:
    """Take an item out of a request the user may still change. An item they can no longer
    see is not there for them (LookupError, as for an id the request never held): such
    items go together (:func:`remove_hidden`)."""
    _editable(request, user)
    for item in list(request.items):
        if item.id == item_id and _visible(item, audience):
            request.items.remove(item)
            session.delete(item)
            _forget_unheld(request)
            request.updated_at = utcnow()
            return
    raise LookupError(f"no item {item_id} in request {request.id}")


def _forget_unheld(request: DataRequest) -> None:
    """Drop the justifications of datasets the request no longer holds."""
    held = {str(i.dataset_id) for i in request.items}
    request.justifications = {k: v for k, v in (request.justifications or {}).items()
                              if k in held}


def remove_hidden(session: Session, request: DataRequest, user: User,
                  audience: Audience) -> int:
    """Take out the items the requester can no longer see (a dataset restricted since it was
    added), with their datasets' justifications; how many were removed."""
    _editable(request, user)
    gone = [i for i in request.items if not _visible(i, audience)]
    for item in gone:
        request.items.remove(item)
        session.delete(item)
    _forget_unheld(request)
    if gone:
        request.updated_at = utcnow()
    return len(gone)


def _visible(item: RequestItem, audience: Audience) -> bool:
    return audience.allows(item.dataset.access_level, item.dataset.agency.slug)


def save_draft(session: Session, request: DataRequest, user: User, form: dict[str, Any],
               justifications: dict[str, str] | None = None,
               item_justifications: dict[int, str] | None = None, *,
               audience: Audience, strict: bool = False) -> None:
    """Save what the requester wrote so far (nothing is required yet).

    Only the form's parts given change. Justifications are merged into those saved, keyed by
    dataset id (``justifications``) and item id (``item_justifications``); an empty text
    clears one. Keys naming a dataset or item the requester cannot see in the request are
    ignored, or with ``strict`` refused (:class:`WrongKeys`, nothing saved) — checked only
    after the requester's right to change it, so the answer tells nothing to anyone else.
    """
    _editable(request, user)
    shown = [i for i in request.items if _visible(i, audience)]
    datasets = {str(i.dataset_id) for i in shown}
    items = {i.id: i for i in shown}
    given = dict(justifications or {})
    given_items = dict(item_justifications or {})
    if strict:
        wrong: dict[str, dict[str, list[str]]] = {}
        for part, keys, held, what in (
                ("justifications", given, datasets, "dataset"),
                ("item_justifications", [str(k) for k in given_items],
                 {str(k) for k in items}, "item")):
            for key in keys:
                if key not in held:
                    wrong.setdefault(part, {})[key] = [f"this request holds no such {what}"]
        if wrong:
            raise WrongKeys(wrong)
    cleaned = normalised_form(DraftSchema().load({k: v for k, v in form.items()
                                                  if k in FORM_KEYS}))
    request.form = {**(request.form or {}), **{k: v for k, v in cleaned.items()
                                                if k in form}}
    merged = dict(request.justifications or {})
    for key, text in given.items():
        if key not in datasets:
            continue
        text = (text or "").strip()
        if text:
            merged[key] = text[:MAX_TEXT]
        else:
            merged.pop(key, None)
    request.justifications = merged
    for item_id, text in given_items.items():
        if item_id in items:
            items[item_id].justification = (text or "").strip()[:MAX_TEXT] or None
    request.updated_at = utcnow()


# ------------------------------------------------------------------ what it holds


@dataclass
class Line:
    """One requested item as shown: its dataset, agency, field (None: the whole dataset)."""

    item: RequestItem
    dataset: Dataset
    field: Field | None
    state: str  # current | changed | withdrawn | gone
    # Levels suggested for the dataset's fields and not yet reviewed, by field name.
    suggested: Mapping[str, str] = dataclass_field(default_factory=dict)

    def _levels(self) -> list[tuple[str, bool]]:
        fields = [self.field] if self.field is not None else list(self.dataset.fields)
        out = []
        for f in fields:
            level = working_level(f.sensitivity, self.suggested.get(f.name))
            out.append((level, level != working_level(f.sensitivity, None)))
        return out or [(Sensitivity.PUBLIC.value, False)]

    @property
    def sensitivity(self) -> str:
        """The item's sensitivity (the most sensitive field of a whole dataset), a level
        suggested and awaiting review counting when it ranks above the field's own."""
        return max(self._levels(), key=lambda pair: RANK[pair[0]])[0]

    @property
    def sensitivity_suggested(self) -> bool:
        """Whether :attr:`sensitivity` is a suggestion no steward has reviewed yet."""
        level = self.sensitivity
        return all(suggested for lv, suggested in self._levels() if lv == level)

    @property
    def needs_justification(self) -> bool:
        """Personal or private data needs its own justification (minimum necessary)."""
        return self.sensitivity in SENSITIVE


def field_of(dataset: Dataset, name: str | None) -> Field | None:
    """A dataset's field by name."""
    if name is None:
        return None
    return next((f for f in dataset.fields if f.name == name), None)


def snapshot_of(dataset: Dataset, field: Field | None) -> dict[str, Any]:
    """What an item was at submission: the parts a requester relied on, and their hash."""
    if field is None:
        parts = {"title": dataset.title, "description": dataset.description,
                 "fields": sorted(f.name for f in dataset.fields)}
    else:
        parts = {"name": field.name, "label": field.label, "description": field.description,
                 "data_type": field.data_type, "sensitivity": field.sensitivity,
                 "value_labels": field.value_labels or []}
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return {**parts, "hash": hashlib.sha256(blob.encode("utf-8")).hexdigest()}


def item_state(item: RequestItem, dataset: Dataset, field: Field | None) -> str:
    """current, or changed / withdrawn / gone since the request was submitted."""
    if dataset.status == DatasetStatus.WITHDRAWN:
        return "withdrawn"
    if item.field_name is not None and field is None:
        return "gone"
    if item.snapshot and snapshot_of(dataset, field)["hash"] != item.snapshot.get("hash"):
        return "changed"
    return "current"


def _pending_memo(request: DataRequest) -> Callable[[int], dict[str, str]]:
    """:func:`catalog.sensitivity.pending_levels` of a request's datasets, each read once."""
    session = object_session(request)
    memo: dict[int, dict[str, str]] = {}

    def pending(dataset_id: int) -> dict[str, str]:
        if dataset_id not in memo:
            memo[dataset_id] = pending_levels(session, dataset_id) if session else {}
        return memo[dataset_id]

    return pending


def lines_of(request: DataRequest, audience: Audience) -> tuple[list[Line], int]:
    """The request's items the audience may see, and how many others it holds."""
    lines, hidden = [], 0
    suggested = _pending_memo(request)
    for item in request.items:
        dataset = item.dataset
        if not _visible(item, audience):
            hidden += 1
            continue
        field = field_of(dataset, item.field_name)
        lines.append(Line(item, dataset, field, item_state(item, dataset, field),
                          suggested(dataset.id)))
    lines.sort(key=lambda li: (li.dataset.agency.name, li.dataset.title,
                               li.field.position if li.field else 0))
    return lines, hidden


def _agencies(items: Iterable[RequestItem]) -> list[Agency]:
    found = {i.dataset.agency.id: i.dataset.agency for i in items}
    return sorted(found.values(), key=lambda a: a.name)


def agencies_of(request: DataRequest) -> list[Agency]:
    """The agencies whose data the request asks for, by name."""
    return _agencies(request.items)


def shown_agencies(request: DataRequest, audience: Audience) -> list[Agency]:
    """The agencies a reader may be told the request asks data of: those of the items they
    may see. An agency whose every requested item is hidden from them is not named (it may
    hold nothing else they see); such items are only counted."""
    return _agencies(i for i in request.items if _visible(i, audience))


def agency_slugs(request: DataRequest) -> list[str]:
    """The slugs of :func:`agencies_of`."""
    return [a.slug for a in agencies_of(request)]


def submission_problems(request: DataRequest, audience: Audience
                        ) -> dict[str, list[str]]:
    """Everything that keeps a request from being submitted, by the form's labels.

    ``audience`` is the requester's: an item they can no longer see (its dataset restricted
    since they added it) is counted and must be removed, never named.
    """
    problems: dict[str, list[str]] = {}
    try:
        SubmissionSchema().load(request.form or {})
    except ValidationError as exc:
        problems.update(labelled_errors(exc.messages))
    if not request.items:
        problems["Requested data"] = ["add at least one field or dataset"]
    hidden = sum(1 for item in request.items if not _visible(item, audience))
    if hidden:
        problems["Requested data"] = [
            f"{hidden} item{'s' if hidden != 1 else ''} you can no longer see (restricted "
            "since you added them): remove them to submit"]
    suggested = _pending_memo(request)
    for item in request.items:
        dataset = item.dataset
        if not _visible(item, audience):
            continue
        if not (request.justifications or {}).get(str(dataset.id)):
            problems.setdefault("Justification per dataset", []).append(
                f"why {dataset.title!r} is needed")
        line = Line(item, dataset, field_of(dataset, item.field_name), "current",
                    suggested(dataset.id))
        if line.needs_justification and not item.justification:
            what = item.field_name or f"all of {dataset.title}"
            problems.setdefault("Justification of personal or private data", []).append(
                f"why {what} ({line.sensitivity}) is the minimum necessary")
    for key in problems:
        problems[key] = list(dict.fromkeys(problems[key]))
    return problems


def record_event(session: Session, request: DataRequest, user: User | None, kind: str,
                 before: str | None, after: str | None, comment: str | None,
                 *, agency_id: int | None = None) -> RequestEvent:
    """Add an event to a request's history: who did what (and said what), when (and, for
    a sign-off, of which agency)."""
    event = RequestEvent(request=request, kind=kind, from_status=before, to_status=after,
                         agency_id=agency_id,
                         actor_id=user.id if user is not None else None,
                         actor=user.email if user is not None else "system",
                         comment=(comment or "").strip()[:MAX_TEXT] or None, at=utcnow())
    session.add(event)
    session.flush()
    return event
