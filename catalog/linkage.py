"""Join fields for a linkage plan: the identifiers that the agencies in a request share.

For the datasets of a request, the fields that identify a person — social security number,
state student id, date of birth, names, other person identifiers — are found by their names
and labels, and matched across agencies with the catalog's similar-field search (the same
embeddings that rank search results). Each proposal names a field of one agency, a field of
another, what both identify, and how close their meanings are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from catalog.audience import Audience
from catalog.models import Field
from catalog.request_models import DataRequest

CONCEPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("social security number", re.compile(r"\bssn\b|social security", re.I)),
    ("state student id", re.compile(r"\b(sasid|stu(dent)?[ _]?id|state[- _]assigned student)",
                                    re.I)),
    ("date of birth", re.compile(r"\b(dob|bdate|birth[ _]?(date|dt)|date of birth|birthdate)",
                                 re.I)),
    ("last name", re.compile(r"\b(last|sur|family)[ _]?name\b|\blname\b", re.I)),
    ("first name", re.compile(r"\b(first|given)[ _]?name\b|\bfname\b", re.I)),
    ("person identifier", re.compile(
        r"\b(client|person|individual|participant|claimant|child|clmt|clnt)[ _]?"
        r"(id|identifier|no|num)", re.I)),
)


@dataclass
class Proposal:
    """Two fields of two agencies that could join their records."""

    concept: str
    left: Field
    right: Field
    similarity: float | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API and the documents."""
        def side(f: Field) -> dict[str, Any]:
            return {"agency": f.dataset.agency.slug, "agency_name": f.dataset.agency.name,
                    "dataset_id": f.dataset.id, "dataset": f.dataset.title, "field": f.name,
                    "label": f.label}
        return {"concept": self.concept, "left": side(self.left), "right": side(self.right),
                "similarity": None if self.similarity is None else round(self.similarity, 3)}


def concept_of(field: Field) -> str | None:
    """What person identifier a field holds, by its name and label, or None."""
    text = " ".join(x for x in (field.name.replace("_", " "), field.name, field.label or "") if x)
    return next((name for name, pattern in CONCEPTS if pattern.search(text)), None)


def propose(catalog: Any, request: DataRequest, audience: Audience,
            limit: int = 20) -> list[Proposal]:
    """Join fields shared by the request's agencies, best first (only fields the audience sees)."""
    by_agency: dict[int, list[tuple[Field, str]]] = {}
    for dataset in {i.dataset.id: i.dataset for i in request.items}.values():
        if not audience.allows(dataset.access_level, dataset.agency.slug):
            continue
        for field in dataset.fields:
            concept = concept_of(field)
            if concept:
                by_agency.setdefault(dataset.agency_id, []).append((field, concept))
    if len(by_agency) < 2:
        return []
    wanted = {f.id: (f, c) for fields in by_agency.values() for f, c in fields}
    proposals: dict[tuple[int, int], Proposal] = {}
    for field, concept in wanted.values():
        try:
            similar = catalog.similar_fields(field.id, audience=audience, limit=50)
        except Exception:  # no index to ask: proposals by name alone
            similar = []
        scores = {int(h.payload.get("field_id") or 0): h.score for h in similar}
        for other, other_concept in wanted.values():
            if other.dataset.agency_id == field.dataset.agency_id or other_concept != concept:
                continue
            key = tuple(sorted((field.id, other.id)))
            found = proposals.get(key)
            score = scores.get(other.id)
            if found is None or (score is not None and (found.similarity or -1) < score):
                left, right = (field, other) if field.id < other.id else (other, field)
                proposals[key] = Proposal(concept, left, right, score)
    order = [name for name, _ in CONCEPTS]
    ranked = sorted(proposals.values(), key=lambda p: (
        order.index(p.concept), -(p.similarity if p.similarity is not None else -1),
        p.left.name, p.right.name))
    return ranked[:limit]
