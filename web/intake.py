"""The intake office's pages: the queue of requests, and the figures of its turnaround."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from catalog import accounts, data_requests, request_metrics, request_review
from catalog.models import as_utc, utcnow
from catalog.vocabulary import RequestStatus, Role
from web.access import audience
from web.auth import current_account, role_required
from web.current import catalog
from web.data_requests import me

bp = Blueprint("intake", __name__)
intake_only = role_required(Role.INTAKE, Role.ADMIN)
OPEN = [s.value for s in request_metrics.UNDER_REVIEW]


def _all_requests() -> list:
    with catalog().session() as session:
        found = request_review.requests_for(session, me(session), everyone=True)
        for r in found:  # load what the metrics read before the session closes
            _ = [e.at for e in r.events], [i.dataset.agency_id for i in r.items]
        return found


@bp.get("/intake")
@intake_only
def queue() -> ResponseReturnValue:
    """Requests to work: by status, oldest first, with their age against the benchmark."""
    status = request.args.get("status", "open")
    mine = request.args.get("mine") == "1"
    account = current_account()
    now = utcnow()
    rows = []
    with catalog().session() as session:
        for r in request_review.requests_for(session, me(session), everyone=True):
            if status == "open" and r.status not in OPEN:
                continue
            if status not in ("open", "all") and r.status != status:
                continue
            if mine and (account is None or r.assigned_to != account.user_id):
                continue
            every = data_requests.agencies_of(r)
            agencies = data_requests.shown_agencies(r, audience())
            age = (now - as_utc(r.submitted_at)).days if r.submitted_at else None
            goal = request_metrics.ONE_AGENCY_DAYS if len(every) <= 1 \
                else request_metrics.SEVERAL_AGENCIES_DAYS
            rows.append({"req": r, "agencies": agencies, "not_shown": len(every) - len(agencies),
                         "age": age, "goal": goal,
                         "late": age is not None and age > goal,
                         "officer": r.officer.name or r.officer.email if r.officer else None})
        rows.sort(key=lambda row: -(row["age"] or -1))
        return render_template("intake.html", rows=rows, status=status, mine=mine,
                               statuses=[s.value for s in RequestStatus if s != "draft"],
                               when=accounts.when)


@bp.get("/intake/metrics")
@intake_only
def metrics() -> ResponseReturnValue:
    """The office's figures: stage times, submission to decision, open by age, reasons."""
    figures = request_metrics.compute(_all_requests()).as_dict()
    return render_template("intake_metrics.html", m=figures,
                           one=request_metrics.ONE_AGENCY_DAYS,
                           several=request_metrics.SEVERAL_AGENCIES_DAYS)


@bp.get("/intake/metrics.csv")
@intake_only
def metrics_csv() -> ResponseReturnValue:
    """The figures as CSV."""
    response = Response(request_metrics.compute(_all_requests()).csv(), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename="intake-metrics.csv")
    return response


@bp.get("/api/v1/intake/metrics")
@intake_only
def api_metrics() -> ResponseReturnValue:
    """The figures as JSON."""
    return jsonify(request_metrics.compute(_all_requests()).as_dict())
