"""A request's review: its moves through the statuses, agencies' sign-offs, the thread.

Each move is allowed only from the right status and for the right party (the requester, or
an intake officer), and is recorded as an event: who, when, and the comment given.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.accounts import audience_of
from catalog.audience import Audience
from catalog.data_requests import (
    FINAL,
    INTAKE,
    REQUESTER,
    STEWARD_READS,
    TRANSITIONS,
    NotAllowed,
    RequestError,
    S,
    agencies_of,
    field_of,
    may_work_the_queue,
    record_event,
    shown_agencies,
    snapshot_of,
    submission_problems,
)
from catalog.models import (
    Agency,
    Dataset,
    User,
    utcnow,
)
from catalog.request_form import MAX_TEXT
from catalog.request_models import (
    DataRequest,
    RequestEvent,
    RequestItem,
    RequestSignoff,
)
from catalog.vocabulary import Role, SignoffDecision


def allowed_moves(request: DataRequest, user: User) -> list[str]:
    """The statuses this user may move the request to now."""
    out = []
    for (before, after), party in TRANSITIONS.items():
        if before != request.status:
            continue
        if (party == REQUESTER and request.requester_id == user.id) or \
                (party == INTAKE and may_work_the_queue(user)):
            out.append(after.value)
    return out


def transition(session: Session, request: DataRequest, user: User, to: str,
               comment: str | None = None) -> RequestEvent:
    """Move a request; RequestError for a move its status does not allow, NotAllowed for
    the wrong party."""
    key = (request.status, to)
    if key not in TRANSITIONS:
        raise RequestError(f"a request that is {request.status} cannot become {to}")
    if to not in allowed_moves(request, user):
        who = "the requester" if TRANSITIONS[key] == REQUESTER else "an intake officer"
        raise NotAllowed(f"only {who} may move a request from {request.status} to {to}")
    if to == S.SUBMITTED:
        problems = submission_problems(request, audience_of(user))
        if problems:
            raise RequestError("the request is not complete: " + "; ".join(
                f"{k}: {', '.join(v)}" for k, v in problems.items()))
        for item in request.items:
            item.snapshot = snapshot_of(item.dataset, field_of(item.dataset, item.field_name))
        if request.status == S.CHANGES_REQUESTED:
            request.revisions += 1
        request.submitted_at = request.submitted_at or utcnow()
    if to == S.APPROVED:
        missing = [a for a in agencies_of(request) if _decision(request, a) != "approved"]
        if missing:
            told = {a.id for a in shown_agencies(request, audience_of(user))}
            named = [a.name for a in missing if a.id in told]
            others = len(missing) - len(named)
            if others:
                named.append(f"{others} agenc{'y' if others == 1 else 'ies'} whose "
                             "restricted metadata you do not see")
            raise RequestError("approval needs an approving sign-off from every agency; "
                               f"missing: {', '.join(named)}")
    if to == S.AGENCY_REVIEW:
        for signoff in list(request.signoffs):  # a new round of review starts clean
            session.delete(signoff)
    if to == S.CLOSED:
        request.closing_reason = request.status  # closed after: fulfilled, denied, withdrawn
    before = request.status
    request.status = to
    request.updated_at = utcnow()
    return record_event(session, request, user, "transition", before, to, comment)


def _decision(request: DataRequest, agency: Agency) -> str | None:
    return next((s.decision for s in request.signoffs if s.agency_id == agency.id), None)


def signoff(session: Session, request: DataRequest, user: User, agency_slug: str,
            decision: str, comment: str | None = None) -> RequestSignoff:
    """An agency's decision: by one of its stewards, or an intake officer recording it."""
    if request.status != S.AGENCY_REVIEW:
        raise RequestError(f"sign-offs are given during agency review, not when {request.status}")
    if decision not in {d.value for d in SignoffDecision}:
        raise RequestError(f"a decision is approved or denied, not {decision!r}")
    stewards = user.role == Role.STEWARD and agency_slug in {
        s.agency.slug for s in user.stewardships}
    # An agency whose every item is hidden from this user is not named to them: asked of
    # it, the answer is the one for an agency the request does not ask.
    told = agencies_of(request) if stewards else shown_agencies(request, audience_of(user))
    agency = next((a for a in told if a.slug == agency_slug), None)
    if agency is None:
        raise RequestError(f"the request asks no data of agency {agency_slug!r}")
    if not (stewards or may_work_the_queue(user)):
        raise NotAllowed(f"only a steward of {agency.name} or an intake officer signs off")
    text = (comment or "").strip()[:MAX_TEXT] or None
    found = next((s for s in request.signoffs if s.agency_id == agency.id), None)
    was = ""
    if found is not None and found.decision == decision and not text:
        return found  # the same decision again, with nothing to add: nothing to record
    if found is not None and found.decision != decision:
        # Another decision for the agency was recorded in this round: changing it is said
        # out loud, with the reason, never done silently.
        if not text:
            raise RequestError(
                f"{agency.name}'s sign-off is already recorded as {found.decision} by "
                f"{found.by}; changing it to {decision} needs a comment saying why")
        was = f" (was {found.decision}, by {found.by})"
    if found is None:
        found = RequestSignoff(request=request, agency_id=agency.id)
        session.add(found)
    found.decision, found.by, found.at = decision, user.email, utcnow()
    found.comment = text
    record_event(session, request, user, "signoff", None, None,
                 f"{agency.name}: {decision}{was}"
                 + (f" — {found.comment}" if found.comment else ""), agency_id=agency.id)
    request.updated_at = utcnow()
    return found


def comment(session: Session, request: DataRequest, user: User, text: str) -> RequestEvent:
    """A message in the request's thread, read by everyone who may read the request (the
    requester, intake officers, and the asked agencies' stewards from agency review on)."""
    if not text or not text.strip():
        raise RequestError("a comment needs some text")
    if request.status in FINAL:
        raise RequestError("a closed request takes no more messages")
    if request.status == S.DRAFT:
        raise RequestError("a draft has no thread yet: it starts when the request is "
                           "submitted")
    return record_event(session, request, user, "comment", None, None, text)


def assign(session: Session, request: DataRequest, user: User, officer: User | None
           ) -> RequestEvent:
    """Assign the request to an intake officer (or to no one)."""
    if not may_work_the_queue(user):
        raise NotAllowed("only intake officers assign requests")
    if officer is not None and not may_work_the_queue(officer):
        raise RequestError(f"{officer.email} is not an intake officer")
    request.assigned_to = officer.id if officer is not None else None
    return record_event(session, request, user, "assign", None, None,
                  f"assigned to {officer.email}" if officer else "unassigned")


def requests_for(session: Session, user: User, *, everyone: bool = False
                 ) -> list[DataRequest]:
    """A user's own requests; with ``everyone`` (intake), every request past its draft."""
    query = select(DataRequest).options(
        selectinload(DataRequest.items).selectinload(RequestItem.dataset)
        .selectinload(Dataset.agency), selectinload(DataRequest.signoffs))
    if everyone and may_work_the_queue(user):
        query = query.where(DataRequest.status != S.DRAFT)
    else:
        query = query.where(DataRequest.requester_id == user.id)
    return list(session.scalars(query.order_by(DataRequest.updated_at.desc(),
                                               DataRequest.id.desc())))


@dataclass
class Awaiting:
    """A request in agency review or past it (until it is closed: the agreement and the
    delivery need the agency) that asks data of agencies a steward signs off for."""

    request: DataRequest
    agencies: list[Agency]  # the steward's own agencies among the request's, by name
    decided: dict[str, str]  # their decisions so far, by agency slug

    @property
    def pending(self) -> list[Agency]:
        """The steward's agencies that have not decided yet (while in agency review)."""
        if self.request.status != S.AGENCY_REVIEW:
            return []
        return [a for a in self.agencies if a.slug not in self.decided]


def awaiting_signoff(session: Session, user: User) -> list[Awaiting]:
    """The requests in agency review, or approved and not yet closed, asking data of an
    agency this steward stewards: those still waiting for one of its decisions first, then
    the newest."""
    own = {s.agency_id for s in user.stewardships} if user.role == Role.STEWARD else set()
    if not own:
        return []
    query = select(DataRequest).where(
        DataRequest.status.in_(STEWARD_READS),
        DataRequest.items.any(RequestItem.dataset.has(Dataset.agency_id.in_(own)))
    ).options(selectinload(DataRequest.items).selectinload(RequestItem.dataset)
              .selectinload(Dataset.agency), selectinload(DataRequest.signoffs)
              .selectinload(RequestSignoff.agency))
    found = []
    for request in session.scalars(query.order_by(DataRequest.updated_at.desc(),
                                                  DataRequest.id.desc())):
        mine = [a for a in agencies_of(request) if a.id in own]
        decided = {s.agency.slug: s.decision for s in request.signoffs if s.agency_id in own}
        found.append(Awaiting(request, mine, decided))
    return sorted(found, key=lambda a: not a.pending)  # stable: newest first within each


def signable_agencies(request: DataRequest, user: User) -> list[Agency]:
    """The agencies this user may sign off for now (during agency review)."""
    if request.status != S.AGENCY_REVIEW:
        return []
    if may_work_the_queue(user):
        return shown_agencies(request, audience_of(user))
    if user.role != Role.STEWARD:
        return []
    own = {s.agency.slug for s in user.stewardships}
    return [a for a in agencies_of(request) if a.slug in own]


def visible_events(request: DataRequest, audience: Audience) -> list[RequestEvent]:
    """The request's history as a reader may see it: a sign-off is shown only to those told
    of its agency (an agency whose every requested item is hidden from the reader is not
    named to them, nor its steward), so one of an agency the request no longer asks (its
    datasets withdrawn since) or one whose agency is unknown is left out too."""
    told = {a.id for a in shown_agencies(request, audience)}
    return [e for e in request.events if e.kind != "signoff" or e.agency_id in told]


def visible_signoffs(request: DataRequest, audience: Audience) -> list[RequestSignoff]:
    """The agencies' sign-offs a reader may see: those of the agencies named to them."""
    told = {a.id for a in shown_agencies(request, audience)}
    return [s for s in request.signoffs if s.agency_id in told]

