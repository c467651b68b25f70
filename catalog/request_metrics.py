"""What the intake office measures: how long requests take, stage by stage, against the goal.

Computed from the requests' recorded transitions only, so anyone can recompute them:

* **by status**: how many requests are in each status now (drafts left out: they are the
  requesters' own, not yet the office's);
* **days per stage**: for each status a request passed through, the days it stayed (a stage
  it is still in is not counted: it has not ended), with the median and the 90th percentile;
* **submission to decision**: days from the first submission to approval or denial, against
  ResearchDataGov's promise of 12 weeks (84 days) for one agency and 24 weeks (168 days) for
  several;
* **open requests by age**: requests under review, by days since submission;
* **revision rounds**: how often requests came back after changes were requested;
* **closing reasons**: why closed requests were closed.

Percentiles: the median is the middle value (the mean of the two middle ones for an even
count); the 90th percentile is the nearest rank, the ⌈0.9·n⌉-th smallest value.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from catalog.models import as_utc, utcnow
from catalog.request_models import DataRequest
from catalog.vocabulary import RequestStatus

S = RequestStatus
DAY = 86_400.0
ONE_AGENCY_DAYS = 84
SEVERAL_AGENCIES_DAYS = 168
UNDER_REVIEW = (S.SUBMITTED, S.SCREENING, S.AGENCY_REVIEW, S.CHANGES_REQUESTED, S.APPROVED,
                S.AGREEMENT_SIGNED)
AGE_BUCKETS = ((30, "0–30 days"), (90, "31–90 days"), (180, "91–180 days"),
               (365, "181–365 days"), (math.inf, "over a year"))
STAGES = [s.value for s in S if s not in (S.DRAFT, S.CLOSED)]


def median(values: list[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(0.9 * len(ordered))) - 1]


@dataclass
class Metrics:
    """The intake office's figures (see the module docstring)."""

    by_status: dict[str, int] = field(default_factory=dict)
    stage_days: dict[str, list[float]] = field(default_factory=dict)
    decision_days: list[tuple[int, float, int]] = field(default_factory=list)
    open_by_age: dict[str, int] = field(default_factory=dict)
    revisions: dict[int, int] = field(default_factory=dict)
    closing_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain data (the API's answer)."""
        within = [days <= (ONE_AGENCY_DAYS if n == 1 else SEVERAL_AGENCIES_DAYS)
                  for _, days, n in self.decision_days]
        decided = [days for _, days, _ in self.decision_days]
        return {
            "by_status": self.by_status,
            "stages": {stage: {"count": len(days), "median_days": _round(median(days)),
                               "p90_days": _round(p90(days))}
                       for stage, days in self.stage_days.items()},
            "submission_to_decision": {
                "count": len(decided), "median_days": _round(median(decided)),
                "p90_days": _round(p90(decided)),
                "within_benchmark": sum(within),
                "benchmark_days": {"one_agency": ONE_AGENCY_DAYS,
                                   "several_agencies": SEVERAL_AGENCIES_DAYS},
                "requests": [{"id": i, "days": _round(d), "agencies": n}
                             for i, d, n in self.decision_days],
            },
            "open_by_age": self.open_by_age,
            "revision_rounds": {str(k): v for k, v in sorted(self.revisions.items())},
            "closing_reasons": self.closing_reasons,
        }

    def csv(self) -> str:
        """The figures as CSV rows: metric, part, value."""
        data = self.as_dict()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["metric", "part", "value"])
        for status, count in data["by_status"].items():
            writer.writerow(["requests by status", status, count])
        for stage, figures in data["stages"].items():
            for key in ("count", "median_days", "p90_days"):
                writer.writerow([f"stage {key.replace('_', ' ')}", stage, figures[key]])
        decision = data["submission_to_decision"]
        for key in ("count", "median_days", "p90_days", "within_benchmark"):
            writer.writerow(["submission to decision", key.replace("_", " "), decision[key]])
        for bucket, count in data["open_by_age"].items():
            writer.writerow(["open requests by age", bucket, count])
        for rounds, count in data["revision_rounds"].items():
            writer.writerow(["revision rounds", rounds, count])
        for reason, count in data["closing_reasons"].items():
            writer.writerow(["closing reasons", reason, count])
        return out.getvalue()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _days(start: datetime, end: datetime) -> float:
    return ((as_utc(end) or end) - (as_utc(start) or start)).total_seconds() / DAY


def compute(requests: list[DataRequest], now: datetime | None = None) -> Metrics:
    """The figures over these requests (each with its events and items loaded)."""
    now = as_utc(now) or utcnow()
    metrics = Metrics(stage_days={stage: [] for stage in STAGES},
                      open_by_age={label: 0 for _, label in AGE_BUCKETS})
    for request in requests:
        if request.status == S.DRAFT:
            continue
        metrics.by_status[request.status] = metrics.by_status.get(request.status, 0) + 1
        moves = sorted((e for e in request.events if e.kind == "transition" and e.to_status),
                       key=lambda e: (as_utc(e.at), e.id))
        for entered, left in pairwise(moves):
            if entered.to_status in metrics.stage_days:
                metrics.stage_days[entered.to_status].append(_days(entered.at, left.at))
        submitted = next((e.at for e in moves if e.to_status == S.SUBMITTED), None)
        decided = next((e.at for e in moves if e.to_status in (S.APPROVED, S.DENIED)), None)
        agencies = len({item.dataset.agency_id for item in request.items})
        if submitted is not None and decided is not None:
            metrics.decision_days.append((request.id, _days(submitted, decided), agencies))
        if request.status in UNDER_REVIEW and submitted is not None:
            age = _days(submitted, now)
            label = next(label for limit, label in AGE_BUCKETS if age <= limit)
            metrics.open_by_age[label] += 1
        metrics.revisions[request.revisions] = metrics.revisions.get(request.revisions, 0) + 1
        if request.status == S.CLOSED:
            reason = request.closing_reason or "closed"
            metrics.closing_reasons[reason] = metrics.closing_reasons.get(reason, 0) + 1
    metrics.stage_days = {k: v for k, v in metrics.stage_days.items() if v}
    return metrics
