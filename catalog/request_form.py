"""A data request's form: its parts, how a draft and a submission are checked, the labels.

The parts are what P20 WIN's request form, ResearchDataGov and the CT Data Sharing Playbook
ask (:data:`FORM`). A draft is saved as one goes (:class:`DraftSchema`: every part optional,
lengths bounded); a submission must say everything required (:class:`SubmissionSchema`),
its errors keyed by the parts' labels (:func:`labelled_errors`).
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

MAX_TEXT = 20_000

# The parts of a request, in the order the form and the documents show them:
# (key, label, required at submission, help).
FORM: tuple[tuple[str, str, bool, str], ...] = (
    ("title", "Title of the project", True, "A short name for the request."),
    ("organisation", "Organisation", True, "Who requests the data."),
    ("team", "Team members who will see the data", True,
     "One per line: name, e-mail, role."),
    ("purpose", "Purpose and research questions", True,
     "What the data is for, and the questions it will answer."),
    ("benefit", "Benefit to the state", True, "How the results help Connecticut."),
    ("population", "Population", True, "Whom the records are about."),
    ("time_period", "Time period", True, "The years or dates of the records wanted."),
    ("geography", "Geography", False, "Statewide, counties, towns, districts…"),
    ("level", "Record-level or aggregate", True, "record or aggregate"),
    ("linkage_plan", "Linkage plan", False,
     "How records of different agencies will be joined (the catalog proposes join fields)."),
    ("legal_basis", "Legal basis", True, "The statute, agreement or consent that allows it."),
    ("irb", "IRB approval", False, "The board, protocol number and date, if research."),
    ("security_plan", "Security and storage plan", True,
     "Where the data will be kept, who can reach it, how it is protected."),
    ("outputs", "Planned outputs and disclosure review", True,
     "What will be published, and how small cells are suppressed before release."),
    ("recurrence", "One-time or recurring", True, "one-time or recurring"),
    ("duration", "Duration", True, "How long the project runs."),
    ("retention", "Retention and destruction", True,
     "How long the data is kept, and how it is destroyed."),
    ("funding", "Funding", False, "Who pays for the project."),
)
FORM_KEYS = tuple(key for key, _, _, _ in FORM)
LEVELS = ("record", "aggregate")
RECURRENCES = ("one-time", "recurring")


def _text(required: bool = False) -> fields.String:
    kwargs: dict[str, Any] = {"validate": validate.Length(max=MAX_TEXT)}
    if required:
        kwargs["required"] = True
        kwargs["validate"] = validate.Length(min=1, max=MAX_TEXT,
                                             error="must be filled in")
    else:
        kwargs.update(load_default=None, allow_none=True)
    return fields.String(**kwargs)


_DraftFields = Schema.from_dict({key: _text() for key in FORM_KEYS}, name="DraftFields")
_SubmissionFields = Schema.from_dict(
    {key: _text(required) for key, _, required, _ in FORM}, name="SubmissionFields")


class DraftSchema(_DraftFields):
    """A draft's form as saved as one goes: every part optional, lengths bounded."""

    class Meta:
        unknown = EXCLUDE


class SubmissionSchema(_SubmissionFields):
    """What a request must say before it is submitted; errors name the missing parts."""

    class Meta:
        unknown = EXCLUDE

    @validates_schema(skip_on_field_errors=False)
    def _choices(self, data: dict[str, Any], **_: Any) -> None:
        problems: dict[str, list[str]] = {}
        if data.get("level") and data["level"].strip().lower() not in LEVELS:
            problems["level"] = [f"must be one of {', '.join(LEVELS)}"]
        if data.get("recurrence") and data["recurrence"].strip().lower() not in RECURRENCES:
            problems["recurrence"] = [f"must be one of {', '.join(RECURRENCES)}"]
        if problems:
            raise ValidationError(problems)


def labelled_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """Validation messages keyed by the form's labels ("Legal basis": ["must be filled in"])."""
    labels = {key: label for key, label, _, _ in FORM}
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        items = value if isinstance(value, list) else [str(value)]
        out[labels.get(key, key)] = [
            str(v).replace("Missing data for required field.", "must be filled in")
            .replace("Field may not be null.", "must be filled in") for v in items]
    return out


CHOICES = {"level": LEVELS, "recurrence": RECURRENCES}


def normalised_form(form: dict[str, Any]) -> dict[str, Any]:
    """A draft's parts as stored: a choice written in another case or with spaces
    ("Record ") stored as the option it names ("record"), so the form shows it chosen."""
    out = dict(form)
    for key, options in CHOICES.items():
        value = out.get(key)
        if isinstance(value, str) and value.strip().lower() in options:
            out[key] = value.strip().lower()
    return out
