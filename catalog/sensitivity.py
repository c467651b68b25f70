"""Sensitivity suggested for every field, with its reason, for the agency's stewards to review.

Levels are the State Data Plan's: ``private`` (may not be released by law: social security,
driver's licence, passport and account numbers), ``personal`` (identifies a person: names,
dates of birth, state-assigned person ids, street addresses, phones, e-mail), ``protected``
(released under the agency's conditions: demographics, residence, local person ids,
health, justice involvement, and fields the source itself files as identifying).

The name proposes; the label and description decide. A name that looks like a person's name
is overruled by a description about a school or a statute (``Full_Name``: "Full name of most
serious charge statute"); a field *about* an identifier (``No SSN Reason Code``,
``email_verified``, "Indicates if client address is unknown") is not the identifier; a code
list is not read as the description (a value "1 = Invalid SSN" does not make an SSN); words
match whole (``ACADEMIC_YEAR_CODE`` is no card code, a timestamp no date of birth). Every
suggestion says why. Nothing is applied until a steward accepts or changes it, and a
decision, kept by field name, outlives re-harvests and re-computation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Change, Dataset, Field, utcnow
from catalog.quality_models import SensitivitySuggestion
from catalog.vocabulary import Sensitivity, values

LEVELS = values(Sensitivity)
RANK = {level: rank for rank, level in enumerate(LEVELS)}
PENDING, ACCEPTED, REJECTED, CHANGED = "pending", "accepted", "rejected", "changed"
DECISIONS = (ACCEPTED, REJECTED, CHANGED)


@dataclass(frozen=True)
class Concept:
    """Something a field can hold, the level it calls for, and the words that show it."""

    key: str
    level: str
    what: str
    name: str  # regex over the field name's words, space-separated
    text: str  # regex over the label and description


CONCEPTS: tuple[Concept, ...] = (
    Concept("ssn", "private", "a social security number",
            r"\bssn\b|\bsocial security\b|\bss (?:no|num|number)\b",
            r"\bsocial security (?:number|no)\b|\bssn\b"),
    Concept("government-id", "private",
            "a driver's licence, passport, birth certificate or taxpayer number",
            r"\b(?:drivers? licen[cs]e|passport|itin|tax ?payer id|alien number"
            r"|birth certificate (?:id|number|no))\b",
            r"\b(?:driver'?s licen[cs]e|passport) number\b|\btaxpayer identification\b"),
    Concept("account", "private", "a bank or card account number",
            r"\b(?:bank account|credit card|card number|routing number|cvv|cvc)\b",
            r"\b(?:bank account|credit card) number\b"),
    Concept("person-name", "personal", "a person's name",
            r"\b(?:first|last|middle|maiden|given|family|full|legal|preferred|sur)\s?name\b"
            r"|\bname (?:first|last|middle|full)\b|\bsurname\b|\b[flm] ?name\b|\bm ?init\b"
            r"|\bmiddle initial\b",
            r"\b(?:first|last|middle|maiden|given|family|legal) name\b|\bmiddle initial\b"
            r"|\bsurname\b"),
    Concept("birth-date", "personal", "a date of birth",
            r"\bdob\b|\bbirth ?date\b|\bdate of birth\b|\bbirth date\b|\bbirthday\b",
            r"\bdate of birth\b|\bbirth ?date\b|\bdob\b"),
    Concept("state-id", "personal", "a state-assigned person identifier",
            r"\bsasid\b|\bstate (?:assigned )?(?:student )?id\b|\bstate student\b",
            r"\bstate[- ]assigned student identifi|\bstate student identifi"
            r"|\bconnecticut state identifying number\b"),
    Concept("contact", "personal", "a street address, phone number or e-mail address",
            r"\bstreet\b|\baddress ?(?:1|2|line)?\b|\bphone\b|\be ?mail\b|\btelephone\b",
            r"\bstreet address\b|\bphone number\b|\be-?mail address\b"),
    Concept("person-id", "protected", "an agency's identifier of a person",
            r"\b(?:client|participant|person|student|apprentice|offender|inmate|patient"
            r"|claimant|child|youth|defendant|employee|member|individual) ?(?:id|number|no)\b"
            r"|\blocal identifier\b",
            r"\b(?:unique|local) (?:student|person|client|participant|individual) identif"
            r"|\bidentif\w* (?:of|for) (?:the |a |an |each )?(?:student|client|person"
            r"|participant|individual)\b"),
    Concept("demographic", "protected", "a demographic characteristic",
            r"\b(?:race|ethnicity|ethnic|hispanic|latino|gender|sex|age|year of birth"
            r"|birth year|birthplace|disability|disabled|language|ell|lep|veteran"
            r"|citizenship|immigrant)\b(?! offen)",
            r"\b(?:race|ethnicity|gender|sex assigned|disability|primary language"
            r"|home language|english learner)\b"),
    Concept("residence", "protected", "where a person lives",
            r"\b(?:zip|zip code|postal code|city|town|county)\b",
            r"\b(?:zip ?code|city|town) of (?:the )?(?:student|client|participant)"
            r"|\b(?:student|client|participant|claimant)'?s? (?:current |permanent )?address"),
    Concept("health", "protected", "health, diagnosis or treatment",
            r"\b(?:diagnosis|icd|dsm|hiv|substance|medication|disorder|mental health)\b",
            r"\b(?:diagnos[ie]s|substance use|mental health|psychiatric)\b"),
)
#: The source's own category saying a field identifies people.
_IDENTIFYING_CATEGORY = re.compile(
    r"\bpii\b|personally identifiable|\blinking\b|\bmatching\b|\bidentifier\b|\bconfidential\b",
    re.I)
#: A field about an identifier rather than the identifier itself.
_ABOUT_WORDS = re.compile(r"\b(?:reason|verified|verification|flag|indicator|is|has|valid"
                          r"|missing|type|source|quality|unknown)\b")
_ABOUT_TEXT = re.compile(r"^\s*(?:the )?(?:reason|flag indicating|indicates? (?:if|whether)"
                         r"|whether|true/false)", re.I)
#: Things whose names are not people's names.
_THING = re.compile(r"\b(?:school|institution|college|university|course|program|project|"
                    r"company|facility|provider|test|office|agency|organi[sz]ation|employer|"
                    r"business|statute|charge|offen[cs]e|trade|file|table|scale|term|town|"
                    r"city|county|district|wib)\b", re.I)
_PERSON = re.compile(r"\b(?:client|student|participant|person|offender|individual|employee|"
                     r"child|parent|guardian|mother|father|claimant|apprentice|victim|"
                     r"perpetrator|clinician|defendant|applicant|recipient|youth|inmate|"
                     r"worker|teacher|staff|his|her|their)\b", re.I)
_CODE_LINE = re.compile(r"^\s*[\w.]{1,4}\s*(?:=|-|:|\))\s")


def name_words(name: str) -> str:
    """A field name as lower-case words: ``Apprentice_FName`` -> ``apprentice f name``."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    text = re.sub(r"\([^)]*\)", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def statement(description: str | None) -> str:
    """What a description says of the field, its code list left out."""
    lines = [line for line in (description or "").splitlines()
             if line.strip() and not _CODE_LINE.match(line)]
    return " ".join(" ".join(lines).split())


def suggest(name: str, label: str | None = None, description: str | None = None,
            category: str | None = None,
            value_labels: list[dict[str, str]] | None = None) -> tuple[str, str] | None:
    """The level a field's metadata suggests and why, or None when nothing suggests one."""
    words = name_words(name)
    text = " ".join(p for p in (label, statement(description)) if p)
    lowered = text.lower()
    found: list[tuple[Concept, str]] = []
    for concept in CONCEPTS:
        by_name = re.search(concept.name, words)
        by_text = re.search(concept.text, lowered)
        if not by_name and not by_text:
            continue
        if _about(concept, words, text) or (by_name and not by_text
                                             and _overruled(concept, words, text)):
            continue
        if by_text and not by_name and concept.key == "birth-date" and re.search(
                r"\b(?:year|age)\b", words):
            continue  # only the year of birth, or an age
        if by_name and by_text:
            why = f"the name has {by_name.group(0)!r} and the description {by_text.group(0)!r}"
        elif by_name:
            why = f"the name has {by_name.group(0)!r}"
        else:
            why = f"the label or description says {by_text.group(0)!r}"
        found.append((concept, why))
    if words == "name" and _PERSON.search(text) and not _THING.search(text):
        found.append((CONCEPTS[3], "the name is 'Name' and the description is about a person"))
    codes = " ".join(v.get("label", "") for v in (value_labels or [])).lower()
    if not found and re.search(r"\b(?:white|black|asian|hispanic)\b", codes):
        found.append((CONCEPTS[8], "its value labels list races or ethnicities"))
    if category and _IDENTIFYING_CATEGORY.search(category):
        if not found:
            return "protected", f"the source files it under {category!r}"
        concept, why = max(found, key=lambda c: RANK[c[0].level])
        return concept.level, f"{concept.what}: {why}; the source files it under {category!r}"
    if not found:
        return None
    concept, why = max(found, key=lambda c: RANK[c[0].level])
    return concept.level, f"{concept.what}: {why}"


def _about(concept: Concept, words: str, text: str) -> bool:
    """Whether the field is about an identifier (a reason, a flag) rather than holding it."""
    if concept.key in ("demographic", "health"):
        return False
    return bool(_ABOUT_WORDS.search(words) or _ABOUT_TEXT.search(text))


def _overruled(concept: Concept, words: str, text: str) -> bool:
    """Whether the label or description says the field is not what its name suggests."""
    if concept.key == "person-name" or (concept.key == "person-id" and "name" in words):
        return bool(_THING.search(text)) and not _PERSON.search(text)
    if concept.key == "residence":
        return bool(text) and not _PERSON.search(text) and not re.search(
            r"\b(?:residen|live|home|address)", text, re.I)
    return False


# ----------------------------------------------------------------------------- storage


def suggestion_map(session: Session, dataset_id: int) -> dict[str, SensitivitySuggestion]:
    """A dataset's suggestions by field name."""
    rows = session.scalars(select(SensitivitySuggestion)
                           .where(SensitivitySuggestion.dataset_id == dataset_id))
    return {row.field_name: row for row in rows}


def as_json(row: SensitivitySuggestion | None) -> dict[str, Any] | None:
    """A suggestion as the API and ``catalog dump`` show it (None: none suggested)."""
    if row is None or row.level is None:
        return None
    return {"level": row.level, "reason": row.reason, "status": row.status,
            "decided_level": row.decided_level, "decided_by": row.decided_by}


def pending_levels(session: Session, dataset_id: int) -> dict[str, str]:
    """The levels suggested for a dataset's fields and not yet reviewed, by field name."""
    rows = session.execute(select(SensitivitySuggestion.field_name,
                                  SensitivitySuggestion.level).where(
        SensitivitySuggestion.dataset_id == dataset_id,
        SensitivitySuggestion.status == PENDING,
        SensitivitySuggestion.level.is_not(None)))
    return {name: level for name, level in rows}


def working_level(stored: str | None, suggested: str | None) -> str:
    """The level to act on: the field's own, or a suggestion awaiting review that ranks
    above it. Every field starts public (no source states a level), so until a steward
    has decided, the catalog's own reading ("a social security number") is what requests
    and documents go by: an unreviewed SSN asks for its minimum-necessary reason."""
    level = stored if stored in RANK else Sensitivity.PUBLIC.value
    if suggested in RANK and RANK[suggested] > RANK[level]:
        return suggested
    return level


def refresh(session: Session, dataset: Dataset) -> int:
    """Compute a dataset's suggestions again and re-apply its stewards' decisions.

    Pending suggestions follow the metadata (new, changed, or gone); reviewed ones stay as
    decided, and an accepted or changed level is set on the field again (a re-harvest wrote
    the source's level). Returns how many fields have a pending suggestion.
    """
    session.flush()
    by_name: dict[str, list[Field]] = {}
    for field in session.scalars(select(Field).where(Field.dataset_id == dataset.id)):
        by_name.setdefault(field.name, []).append(field)  # a name may repeat (categories)
    existing = suggestion_map(session, dataset.id)
    now = utcnow()
    pending = 0
    for name, fields in by_name.items():
        row = existing.pop(name, None)
        if row is not None and row.status != PENDING:
            if row.status in (ACCEPTED, CHANGED) and row.decided_level:
                for field in fields:
                    field.sensitivity = row.decided_level
            continue
        found = max((s for f in fields if (s := suggest(
            f.name, f.label, f.description, f.category, f.value_labels)) is not None),
            key=lambda s: RANK[s[0]], default=None)
        if found is None or all(found[0] == f.sensitivity for f in fields):
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = SensitivitySuggestion(dataset_id=dataset.id, field_name=name)
            session.add(row)
        row.level, row.reason, row.status, row.computed_at = found[0], found[1], PENDING, now
        pending += 1
    for gone in existing.values():  # fields no longer in the source
        if gone.status == PENDING:
            session.delete(gone)
    return pending


def review(session: Session, dataset: Dataset, decision: str, *, actor: str,
           field_names: list[str] | None = None, level: str | None = None) -> int:
    """A steward's decision on suggestions: one field's, several, or (None) all pending.

    ``accepted`` sets each field to its suggested level, ``changed`` to ``level``,
    ``rejected`` leaves the field as it is. Every decision is in the change history.
    Returns how many suggestions were decided.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of: {', '.join(DECISIONS)}")
    if decision == CHANGED and level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of: {', '.join(LEVELS)}")
    rows = suggestion_map(session, dataset.id)
    if field_names is None:
        chosen = [r for r in rows.values() if r.status == PENDING and r.level]
    else:
        missing = [n for n in field_names if n not in rows]
        if missing:
            raise LookupError(f"no sensitivity suggestion for field {missing[0]!r} of dataset "
                              f"{dataset.identifier!r}")
        chosen = [rows[n] for n in field_names]
    fields: dict[str, list[Field]] = {}
    for f in session.scalars(select(Field).where(Field.dataset_id == dataset.id)):
        fields.setdefault(f.name, []).append(f)
    stamp: datetime = utcnow()
    for row in chosen:
        same = fields.get(row.field_name, [])
        before = same[0].sensitivity if same else None
        new = row.level if decision == ACCEPTED else level if decision == CHANGED else before
        row.status, row.decided_by, row.decided_at = decision, actor, stamp
        row.decided_level = new if decision != REJECTED else None
        for field in same if new else []:
            field.sensitivity = new
        session.add(Change(
            entity_type="field", entity_id=same[0].id if same else 0,
            dataset_id=dataset.id, action="sensitivity-review", actor=actor,
            before={"field": row.field_name, "sensitivity": before},
            after={"field": row.field_name, "sensitivity": new, "decision": decision,
                   "suggested": row.level, "reason": row.reason}))
    dataset.updated_at = stamp
    return len(chosen)


def _suggestion_of(session: Session, dataset_id: int, field_name: str
                   ) -> SensitivitySuggestion | None:
    return session.scalar(select(SensitivitySuggestion).where(
        SensitivitySuggestion.dataset_id == dataset_id,
        SensitivitySuggestion.field_name == field_name,
        SensitivitySuggestion.level.is_not(None)))


def _state(row: SensitivitySuggestion) -> dict[str, Any]:
    return {"status": row.status, "decided_level": row.decided_level,
            "decided_by": row.decided_by,
            "decided_at": row.decided_at.isoformat() if row.decided_at else None}


def decided_by_edit(session: Session, dataset_id: int, field_name: str, level: str | None,
                    *, actor: str) -> dict[str, Any] | None:
    """A steward set a field's sensitivity by editing it: that decides its suggestion.

    The level the suggestion named is ``accepted``; any other is ``changed`` to it. The
    decision is kept like one made on the suggestion itself, so the scorecard counts the
    field as reviewed and a re-harvest keeps the steward's level. Returns the suggestion's
    state before (for the change's record, so that a revert restores it); None when the
    field has no suggestion.
    """
    row = _suggestion_of(session, dataset_id, field_name)
    if row is None or level is None:
        return None
    before = _state(row)
    row.status = ACCEPTED if level == row.level else CHANGED
    row.decided_level, row.decided_by, row.decided_at = level, actor, utcnow()
    return before


def restore_decision(session: Session, dataset_id: int, field_name: str,
                     state: dict[str, Any]) -> dict[str, Any] | None:
    """Put a suggestion back as it was before an edit decided it (a revert of that edit): a
    suggestion that was awaiting review awaits it again. Returns the state it replaced."""
    row = _suggestion_of(session, dataset_id, field_name)
    if row is None:
        return None
    before = _state(row)
    row.status = state.get("status") or PENDING
    row.decided_level, row.decided_by = state.get("decided_level"), state.get("decided_by")
    at = state.get("decided_at")
    row.decided_at = datetime.fromisoformat(at) if at else None
    return before
