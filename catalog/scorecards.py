"""Scorecards: the State Data Plan's metadata measures, per dataset, per agency and statewide.

Each component is counted on its own and shown beside the others; there is no blended score
(Magda's users found one "quality" number misleading). Components:

* ``fields_described``: a definition is present and is not merely the name (or label)
  repeated, nor a placeholder ("Not Available", "N/A");
* ``fields_typed``: the source states a data type (not a placeholder);
* ``fields_labelled``: a human label beside the name;
* ``fields_reviewed``: a steward decided the field's sensitivity suggestion;
  ``fields_pending``: a suggestion awaits review;
* ``datasets_attributed``: published by a named agency (not the unknown publisher);
  ``datasets_with_frequency``, ``datasets_modified_12m`` (last modified within 365 days),
  ``datasets_with_coverage`` (temporal coverage known);
* equity (State Data Plan goal 2, disaggregation): ``equity_datasets``, the datasets holding
  race/ethnicity, gender, age, disability or language fields, each listed with those fields
  so that a person can check it.

Everything is counted over what the asker may see (:class:`catalog.audience.Audience`):
a visitor's scorecard never counts a dataset hidden from them. Snapshots taken at each load
or harvest (:func:`take_snapshots`) give a trend, kept for the public view and for the whole.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.audience import EVERYONE, PUBLIC, Audience, AudienceLike
from catalog.models import Agency, Dataset, Field, utcnow
from catalog.quality_models import ScorecardSnapshot, SensitivitySuggestion
from catalog.sensitivity import PENDING, name_words
from catalog.store import visible
from catalog.text import PLACEHOLDERS

UNKNOWN_PUBLISHER = "Unknown publisher"
FIELD_COMPONENTS = ("fields_described", "fields_typed", "fields_labelled", "fields_reviewed",
                    "fields_pending")
DATASET_COMPONENTS = ("datasets_attributed", "datasets_with_frequency",
                      "datasets_modified_12m", "datasets_with_coverage", "equity_datasets")
EQUITY: dict[str, str] = {
    "race/ethnicity": r"\b(?:race|races|racial|ethnicity|ethnic|hispanic|latino|latinx)\b",
    "gender": r"\b(?:gender|sex)\b(?! offen)",  # a sex offense is no gender
    "age": r"\b(?:age|dob|birth ?date|date of birth|year of birth|birth year|yob)\b",
    "disability": r"\b(?:disability|disabilities|disabled|special education|sped|iep|504)\b",
    "language": r"\b(?:language|english learner|ell|lep|limited english)\b",
}


def _words(text: str | None) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", (text or "").lower()).split())


def described(name: str, label: str | None, description: str | None) -> bool:
    """Whether a field has a definition that is more than its name repeated or a placeholder."""
    words = _words(description)
    if words in PLACEHOLDERS:
        return False
    return words not in {_words(name), name_words(name), _words(label)}


def typed(source_type: str | None, data_type: str | None) -> bool:
    """Whether the source states a data type (a placeholder is none)."""
    if source_type is not None:
        return _words(source_type) not in PLACEHOLDERS
    return data_type is not None


def equity_dimensions(name: str, label: str | None) -> list[str]:
    """The disaggregation factors (race/ethnicity, gender, ...) a field's name or label shows."""
    text = f"{name_words(name)} {_words(label)}"
    return [dimension for dimension, pattern in EQUITY.items() if re.search(pattern, text)]


def _recent(last_modified: str | None, now: datetime) -> bool:
    if not last_modified:
        return False
    try:
        moment = datetime.fromisoformat(last_modified.replace("Z", "+00:00"))
    except ValueError:
        return False
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return now - moment <= timedelta(days=365)


def dataset_scorecards(session: Session, audience: AudienceLike = PUBLIC,
                       agency_slug: str | None = None) -> list[dict[str, Any]]:
    """One scorecard per active dataset the audience may see (of one agency, if given)."""
    query = (select(Dataset, Agency).join(Agency, Dataset.agency_id == Agency.id)
             .where(visible(audience), Dataset.status == "active")
             .order_by(Agency.name, Dataset.title, Dataset.id))
    if agency_slug is not None:
        query = query.where(Agency.slug == agency_slug)
    rows = session.execute(query).all()
    ids = [d.id for d, _ in rows]
    per: dict[int, dict[str, Any]] = {}
    now = utcnow()
    for dataset, agency in rows:
        per[dataset.id] = {
            "dataset_id": dataset.id, "identifier": dataset.identifier, "title": dataset.title,
            "agency": agency.slug, "agency_name": agency.name,
            "access_level": dataset.access_level, "fields": 0,
            **dict.fromkeys(FIELD_COMPONENTS, 0),
            "attributed": agency.name != UNKNOWN_PUBLISHER,
            "update_frequency": dataset.update_frequency,
            "modified_12m": _recent(dataset.last_modified, now),
            "coverage_start": dataset.coverage_start, "coverage_end": dataset.coverage_end,
            "has_coverage": dataset.coverage_start is not None,
            "equity": {},
        }
    for chunk in _chunks(ids):
        decided = {(s.dataset_id, s.field_name): s.status for s in session.execute(
            select(SensitivitySuggestion.dataset_id, SensitivitySuggestion.field_name,
                   SensitivitySuggestion.status)
            .where(SensitivitySuggestion.dataset_id.in_(chunk),
                   SensitivitySuggestion.level.is_not(None)))}
        for f in session.execute(
            select(Field.dataset_id, Field.name, Field.label, Field.description,
                   Field.source_type, Field.data_type).where(Field.dataset_id.in_(chunk))
        ):
            card = per[f.dataset_id]
            card["fields"] += 1
            card["fields_described"] += described(f.name, f.label, f.description)
            card["fields_typed"] += typed(f.source_type, f.data_type)
            card["fields_labelled"] += bool((f.label or "").strip())
            status = decided.get((f.dataset_id, f.name))
            if status is not None:
                card["fields_pending" if status == PENDING else "fields_reviewed"] += 1
            for dimension in equity_dimensions(f.name, f.label):
                card["equity"].setdefault(dimension, []).append(f.name)
    return [per[i] for i in ids]


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _summary(cards: list[dict[str, Any]]) -> dict[str, Any]:
    """The sums of dataset scorecards: the components side by side, and the equity list."""
    out: dict[str, Any] = {"datasets": len(cards), "fields": sum(c["fields"] for c in cards)}
    for key in FIELD_COMPONENTS:
        out[key] = sum(c[key] for c in cards)
    out["datasets_attributed"] = sum(c["attributed"] for c in cards)
    out["datasets_with_frequency"] = sum(bool(c["update_frequency"]) for c in cards)
    out["datasets_modified_12m"] = sum(c["modified_12m"] for c in cards)
    out["datasets_with_coverage"] = sum(c["has_coverage"] for c in cards)
    equity = [{"dataset_id": c["dataset_id"], "title": c["title"], "agency": c["agency"],
               "dimensions": c["equity"]} for c in cards if c["equity"]]
    out["equity_datasets"] = len(equity)
    out["equity_by_dimension"] = {d: sum(d in e["dimensions"] for e in equity) for d in EQUITY}
    out["equity"] = equity
    return out


def agency_scorecards(session: Session, audience: AudienceLike = PUBLIC,
                      agency_slug: str | None = None) -> list[dict[str, Any]]:
    """One scorecard per agency with datasets the audience may see, by agency name."""
    return _by_agency(dataset_scorecards(session, audience, agency_slug))


def _by_agency(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    names: dict[str, str] = {}
    for card in cards:
        by_agency[card["agency"]].append(card)
        names[card["agency"]] = card["agency_name"]
    return [{"agency": slug, "agency_name": names[slug], **_summary(group)}
            for slug, group in sorted(by_agency.items(), key=lambda kv: names[kv[0]].lower())]


def statewide(session: Session, audience: AudienceLike = PUBLIC) -> dict[str, Any]:
    """The whole catalog's scorecard as the audience may see it, with each agency's."""
    cards = dataset_scorecards(session, audience)
    agencies = _by_agency(cards)
    out = {"agencies": len(agencies), **_summary(cards)}
    out["datasets_without_agency"] = out["datasets"] - out["datasets_attributed"]
    out["by_agency"] = [{k: v for k, v in a.items() if k != "equity"} for a in agencies]
    return out


# ----------------------------------------------------------------------------- trend

SCOPES = {"public": PUBLIC, "all": EVERYONE}


def take_snapshots(session: Session, trigger: str) -> int:
    """Record every agency's and the state's figures (public view and whole); how many."""
    now = utcnow()
    slugs = {a.slug: a.id for a in session.scalars(select(Agency))}
    count = 0
    for scope, audience in SCOPES.items():
        whole = statewide(session, audience)
        session.add(ScorecardSnapshot(taken_at=now, trigger=trigger, agency_id=None,
                                      scope=scope, figures=_figures(whole)))
        for card in whole["by_agency"]:
            session.add(ScorecardSnapshot(taken_at=now, trigger=trigger,
                                          agency_id=slugs[card["agency"]], scope=scope,
                                          figures=_figures(card)))
        count += 1 + len(whole["by_agency"])
    return count


def _figures(card: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in card.items()
            if isinstance(v, int) and k not in ("agency", "agency_name")}


def scope_for(audience: Audience) -> str:
    """Which snapshots an audience may see: the whole only when it sees everything."""
    return "all" if audience.sees_everything else "public"


def trend(session: Session, audience: Audience, agency_id: int | None = None,
          limit: int = 20) -> list[dict[str, Any]]:
    """The newest snapshots (oldest first) of an agency, or of the state, for this audience."""
    rows = list(session.scalars(
        select(ScorecardSnapshot)
        .where(ScorecardSnapshot.scope == scope_for(audience),
               ScorecardSnapshot.agency_id.is_(None) if agency_id is None
               else ScorecardSnapshot.agency_id == agency_id)
        .order_by(ScorecardSnapshot.taken_at.desc(), ScorecardSnapshot.id.desc())
        .limit(limit)))
    return [{"taken_at": r.taken_at, "trigger": r.trigger, **r.figures} for r in reversed(rows)]
