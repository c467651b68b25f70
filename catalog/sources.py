"""Sources: where the catalog harvests from, as records in the database or a ``sources.toml``.

A source has a unique ``name``, a ``type`` (the harvester: ckan, socrata, dcat, frictionless,
web), a ``url``, the agency its datasets belong to when they name none, harvester
``options``, a cron ``schedule`` and an ``enabled`` flag. They are validated by
:class:`SourceSchema` whether they come from ``catalog source add`` or from a file.

``sources.toml`` (for deployments kept under version control) has one table per source::

    [sources.chicago]
    type = "socrata"
    url = "https://data.cityofchicago.org"
    agency = "City of Chicago"
    schedule = "0 3 * * *"        # optional, cron (minute hour day month weekday)
    enabled = true                # optional
    [sources.chicago.options]
    app_token = "${SOCRATA_APP_TOKEN}"   # ${VAR} is read from the environment at harvest time

Secrets belong in the environment: option values are stored as written, ``${VAR}`` is
expanded only when a harvest runs, and options whose name looks secret are masked on screen.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from catalog.audience import AudienceLike
from catalog.models import Change, Dataset, Field, HarvestRun, Source, utcnow
from catalog.redact import ENV_REFERENCE, mask_options, mask_url
from catalog.schemas import describe_errors
from catalog.store import find_or_create_agency, visible
from catalog.vocabulary import SourceType, values

SOURCE_TYPES = values(SourceType)
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,99}$"


class _OrReference(fields.Field):
    """An option's value, or a ``${VAR}`` reference read from the environment when a run
    starts (checked then)."""

    def __init__(self, inner: fields.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and ENV_REFERENCE.fullmatch(value.strip()):
            return value
        return self.inner.deserialize(value, attr, data, **kwargs)


def _positive_int(**kwargs: Any) -> _OrReference:
    return _OrReference(fields.Integer(strict=False, validate=validate.Range(min=1, **kwargs)))


def _positive_seconds() -> _OrReference:
    return _OrReference(fields.Float(validate=validate.Range(min=0, min_inclusive=False)))


def _pattern(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(f"not a regular expression: {exc}") from None


class CommonOptions(Schema):
    """Options every harvester takes (docs/harvesting.md); an unknown one is refused."""

    timeout = _positive_seconds()
    retries = _OrReference(fields.Integer(strict=False, validate=validate.Range(min=0, max=20)))
    max_bytes = _positive_int()
    max_pages = _positive_int()
    request_seconds = _positive_seconds()
    max_seconds = _positive_seconds()
    force_agency = _OrReference(fields.Boolean())
    allow_empty = _OrReference(fields.Boolean())


class CkanOptions(CommonOptions):
    organization = _OrReference(fields.String(validate=validate.Length(min=1, max=500)))
    rows = _positive_int(max=1000)
    api_key = _OrReference(fields.String())
    datastore = _OrReference(fields.Boolean())


class SocrataOptions(CommonOptions):
    domain = _OrReference(fields.String(validate=validate.Length(min=1, max=500)))
    limit = _positive_int(max=10_000)
    app_token = _OrReference(fields.String())


class DcatOptions(CommonOptions):
    described_by = _OrReference(fields.Boolean())


class FrictionlessOptions(CommonOptions):
    packages = fields.List(_OrReference(fields.String(validate=validate.Length(min=1))))


class WebOptions(CommonOptions):
    urls = fields.List(_OrReference(fields.String(validate=validate.Length(min=1))))
    index = _OrReference(fields.Boolean())
    link_pattern = fields.String(validate=_pattern)


OPTION_SCHEMAS: dict[str, type[Schema]] = {
    "ckan": CkanOptions, "socrata": SocrataOptions, "dcat": DcatOptions,
    "frictionless": FrictionlessOptions, "web": WebOptions,
}


def check_options(kind: str, options: dict[str, Any] | None, *,
                  unknown: str = RAISE) -> dict[str, Any]:
    """The options of a source of this type, each known to its harvester and of its kind
    (``rows = "lots"`` or a misspelt ``organisation`` is an error naming it, not a run
    that fails at 3 a.m. or reads the whole portal); values as typed ("5" → 5)."""
    schema = OPTION_SCHEMAS.get(kind)
    if schema is None:
        return dict(options or {})
    try:
        return schema(unknown=unknown).load(dict(options or {}))
    except ValidationError as exc:
        known = sorted(schema().fields)
        messages = dict(exc.messages)  # a schema's errors: by option name
        for key, problem in list(messages.items()):
            if problem == ["Unknown field."]:
                close = difflib.get_close_matches(str(key), known, n=1)
                messages[key] = [f"not an option of {kind} sources"
                                 + (f" (did you mean {close[0]!r}?)" if close else
                                    f" (they are: {', '.join(known)})")]
        raise ValidationError(messages) from None


def checked_options(kind: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """:func:`check_options` at harvest time, a problem raised as :class:`SourceError`: a
    source stored before options were checked fails its run naming the option, not with
    ``int('lots')``; options no harvester reads are left out (they were refused when the
    source was added or synced)."""
    try:
        return check_options(kind, options, unknown=EXCLUDE)
    except ValidationError as exc:
        raise SourceError(describe_errors({"options": exc.messages})) from None


class SourceSchema(Schema):
    """A source as given by a user or a ``sources.toml`` entry."""

    name = fields.String(required=True, validate=validate.Regexp(
        NAME_PATTERN, error="must be lower-case letters, digits, '.', '_' or '-' "
                            "(at most 100, starting with a letter or digit)"))
    type = fields.String(required=True, validate=validate.OneOf(
        SOURCE_TYPES, error="must be one of {choices}, not {input!r}"))
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    agency = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=500))
    options = fields.Dict(keys=fields.String(), load_default=dict)
    schedule = fields.String(load_default=None, allow_none=True)
    enabled = fields.Boolean(load_default=True)

    @validates_schema
    def _options(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("type") in OPTION_SCHEMAS:
            try:
                data["options"] = check_options(data["type"], data.get("options"))
            except ValidationError as exc:
                raise ValidationError({"options": exc.messages}) from None

    @validates("url")
    def _url(self, value: str, **_: Any) -> None:
        if not re.match(r"^(https?|file)://", value) and not value.startswith("/"):
            raise ValidationError("must be an http(s):// or file:// URL or an absolute path")

    @validates("schedule")
    def _schedule(self, value: str | None, **_: Any) -> None:
        if value is None:
            return
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValidationError(
                f"{value!r} is not a cron expression (minute hour day month weekday, "
                "e.g. '0 3 * * *' for 03:00 every day)")


class SourceError(ValueError):
    """A source that cannot be added, found or read; the message says which and why."""


def validate_source(data: dict[str, Any], where: str = "source") -> dict[str, Any]:
    """A validated source dict, or SourceError naming the source and the problem."""
    try:
        return SourceSchema().load(data)
    except ValidationError as exc:
        name = data.get("name") if isinstance(data, dict) else None
        label = f"{where} {name!r}" if name else where
        raise SourceError(f"{label}: {describe_errors(exc.messages)}") from None


def get_source(session: Session, name: str) -> Source | None:
    """The source with this name, or None."""
    return session.scalar(select(Source).where(Source.name == name))


def list_sources(session: Session) -> list[Source]:
    """Every source, by name."""
    return list(session.scalars(select(Source).order_by(Source.name)))


def save_source(session: Session, data: dict[str, Any], *, replace: bool = False) -> Source:
    """Create a source from validated data (or update it when ``replace``)."""
    source = get_source(session, data["name"])
    if source is not None and not replace:
        raise SourceError(f"source {data['name']!r} exists already")
    if source is None:
        source = Source(name=data["name"], created_at=utcnow())
        session.add(source)
    source.type = data["type"]
    source.location = data["url"]
    source.options = dict(data.get("options") or {})
    source.schedule = data.get("schedule")
    source.enabled = bool(data.get("enabled", True))
    agency = data.get("agency")
    source.agency_id = find_or_create_agency(session, agency).id if agency else None
    session.flush()
    return source


def source_as_dict(source: Source, *, mask: bool = True) -> dict[str, Any]:
    """A source as plain data (the shape of a ``sources.toml`` entry), secrets masked."""
    return {
        "name": source.name,
        "type": source.type,
        "url": mask_url(source.location) if mask else source.location,
        "agency": source.agency.name if source.agency is not None else None,
        "options": masked_options(source.options) if mask else dict(source.options or {}),
        "schedule": source.schedule,
        "enabled": source.enabled,
    }


def masked_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """Options with credential-like values hidden at any depth (``${VAR}`` references shown)."""
    return mask_options(dict(options or {}))


def expand_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """Options with ``${VAR}`` replaced from the environment; a missing variable is an error
    naming the option and the variable (a variable's name is no secret)."""
    def expand(value: Any, key: str) -> Any:
        if isinstance(value, str):
            def lookup(match: re.Match[str]) -> str:
                name = match.group(1)
                if name not in os.environ:
                    raise SourceError(f"option {key} refers to ${{{name}}}, which is not set "
                                      "in the environment of the process that harvests")
                return os.environ[name]
            return ENV_REFERENCE.sub(lookup, value)
        if isinstance(value, list):
            return [expand(v, key) for v in value]
        if isinstance(value, dict):
            return {k: expand(v, f"{key}.{k}") for k, v in value.items()}
        return value

    return {key: expand(value, key) for key, value in (options or {}).items()}


def remove_source(session: Session, source: Source, *, actor: str) -> int:
    """Delete a source; its datasets are kept, detached and marked withdrawn (returns count).

    Nothing harvested is lost: the datasets stay in the catalog with their history, shown
    as withdrawn, and a file load or another source may take them up again.
    """
    datasets = list(session.scalars(select(Dataset).where(Dataset.source_id == source.id)))
    for dataset in datasets:
        if dataset.status != "withdrawn":
            session.add(Change(
                entity_type="dataset", entity_id=dataset.id, dataset_id=dataset.id,
                action="withdraw", actor=actor, before={"status": dataset.status},
                after={"status": "withdrawn", "reason": f"source {source.name!r} removed"},
            ))
            dataset.status = "withdrawn"
            dataset.updated_at = utcnow()
        dataset.source_id = None
    session.execute(update(HarvestRun).where(HarvestRun.source_id == source.id)
                    .values(source_id=None))
    session.delete(source)
    session.flush()
    return len(datasets)


def source_dataset_counts(
    session: Session, source: Source, audience: AudienceLike
) -> dict[str, int]:
    """How many of the source's datasets the asker may see, by status."""
    rows = session.execute(
        select(Dataset.status, func.count(Dataset.id))
        .where(Dataset.source_id == source.id, visible(audience))
        .group_by(Dataset.status)
    ).all()
    return {status: int(n) for status, n in rows}


def recent_runs(session: Session, source: Source, limit: int = 20) -> list[HarvestRun]:
    """The source's newest harvest runs."""
    return list(session.scalars(
        select(HarvestRun).where(HarvestRun.source_id == source.id)
        .order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc()).limit(limit)
    ))


# ------------------------------------------------------------------------- sources.toml


@dataclass
class SyncReport:
    """What syncing a ``sources.toml`` did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)


def read_sources_file(path: Path) -> list[dict[str, Any]]:
    """Validated sources from a ``sources.toml``; SourceError names the entry at fault."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeError) as exc:
        raise SourceError(f"{path}: cannot be read: {exc}") from None
    table = data.get("sources")
    if not isinstance(table, dict):
        raise SourceError(f"{path}: expected [sources.<name>] tables")
    out = []
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise SourceError(f"{path}: [sources.{name}] must be a table")
        out.append(validate_source({"name": name, **entry}, where=f"{path}: source"))
    return out


def sync_sources(session: Session, entries: list[dict[str, Any]], *, prune: bool,
                 actor: str) -> SyncReport:
    """Make the catalog's sources match the file's (removing others only when ``prune``)."""
    report = SyncReport()
    named = set()
    for entry in entries:
        named.add(entry["name"])
        existing = get_source(session, entry["name"])
        if existing is None:
            save_source(session, entry)
            report.added.append(entry["name"])
        elif source_as_dict(existing, mask=False) == entry:
            report.unchanged.append(entry["name"])
        else:
            save_source(session, entry, replace=True)
            report.updated.append(entry["name"])
    for source in list_sources(session):
        if source.name in named:
            continue
        if prune:
            remove_source(session, source, actor=actor)
            report.removed.append(source.name)
        else:
            report.not_in_file.append(source.name)
    return report


def dataset_counts_by_source(
    session: Session, audience: AudienceLike | None = None, *, status: str | None = None
) -> dict[int | None, int]:
    """How many datasets each source id gave (only those visible to the audience, of a status)."""
    query = select(Dataset.source_id, func.count(Dataset.id)).group_by(Dataset.source_id)
    if audience is not None:
        query = query.where(visible(audience))
    if status is not None:
        query = query.where(Dataset.status == status)
    return {source_id: int(n) for source_id, n in session.execute(query).all()}


def source_dataset_total(
    session: Session, source: Source, audience: AudienceLike | None = None
) -> int:
    """How many datasets the source gave (only those visible to the audience, when given)."""
    query = select(func.count(Dataset.id)).where(Dataset.source_id == source.id)
    if audience is not None:
        query = query.where(visible(audience))
    return int(session.scalar(query) or 0)


def source_datasets(
    session: Session, source: Source, audience: AudienceLike
) -> list[tuple[Dataset, int]]:
    """The source's datasets visible to the audience, with field counts, by status and title."""
    rows = session.execute(
        select(Dataset, func.count(Field.id))
        .outerjoin(Field, Field.dataset_id == Dataset.id)
        .where(Dataset.source_id == source.id, visible(audience))
        .group_by(Dataset.id)
        .order_by(Dataset.status, func.lower(Dataset.title))
    ).all()
    return [(dataset, int(n)) for dataset, n in rows]
