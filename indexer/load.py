"""Loading metadata files into the catalog: detect → parse → validate → store → index.

Each file is stored in its own transaction. An invalid dataset is rejected with an error
naming the file, the dataset and the field at fault; an invalid field is dropped from its
dataset with such an error; every valid record beside them loads. Nothing already in the
catalog is lost when a file fails, and a search index that cannot be updated is reported,
not fatal: ``catalog reindex`` rebuilds it from the database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from catalog.schemas import MAX_FIELDS, DatasetInSchema, FieldInSchema, describe_errors
from catalog.scorecards import take_snapshots
from catalog.service import Catalog
from catalog.store import find_or_create_agency, upsert_dataset
from indexer import formats
from indexer.agencies import AGENCIES_FILE, UNKNOWN_AGENCY, agency_for
from indexer.formats.base import FormatError, ParsedFile
from indexer.formats.layout import check_layout

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 200 * 1024 * 1024
SKIP_NAMES = {AGENCIES_FILE, "SOURCES.md", "README.md", "LICENSE", ".DS_Store"}
# A file whose transaction collides with another process storing the same records (two
# loads of one folder at once) is stored again, this many times in all.
STORE_ATTEMPTS = 3


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    format: str | None = None
    status: str = "loaded"  # loaded | skipped | failed
    datasets: dict[str, int] = field(default_factory=dict)
    fields: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    """What a load did, file by file, with totals."""

    files: list[FileReport] = field(default_factory=list)
    index_error: str | None = None
    indexed_documents: int = 0

    def totals(self) -> dict[str, int]:
        """Counts over all files."""
        out = {"files": len(self.files), "loaded": 0, "skipped": 0, "failed": 0,
               "created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "fields": 0,
               "errors": 0}
        for report in self.files:
            out[report.status] += 1
            for action, count in report.datasets.items():
                out[action] = out.get(action, 0) + count
            out["fields"] += report.fields
            out["errors"] += len(report.errors)
        return out

    def errors(self) -> Iterator[str]:
        """Every error message, prefixed with its file."""
        for report in self.files:
            for message in report.errors:
                yield f"{report.path}: {message}"


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths, sorted, hidden files and catalog notes skipped."""
    for _root, path in iter_rooted(paths):
        yield path


def iter_rooted(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Each file under the given paths, with the folder it is named relative to."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and name not in SKIP_NAMES:
                        yield path.parent, Path(root) / name
        elif path.exists():
            yield path.parent, path
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")


def source_name(root: Path, path: Path) -> str:
    """How provenance names a file: relative to the folder it was loaded from."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _record_name(raw: dict[str, Any], index: int) -> str:
    ident = raw.get("identifier") if isinstance(raw, dict) else None
    return f"dataset {ident!r}" if ident else f"dataset #{index + 1}"


def validate_dataset(raw: Any, index: int) -> tuple[dict[str, Any] | None, list[str]]:
    """Validate one raw dataset; bad fields are dropped with an error each."""
    name = _record_name(raw, index)
    if not isinstance(raw, dict):
        return None, [f"{name}: expected an object, got {type(raw).__name__}"]
    errors: list[str] = []
    good_fields: list[dict[str, Any]] = []
    raw_fields = raw.get("fields") or []
    if isinstance(raw_fields, list) and len(raw_fields) > MAX_FIELDS:
        return None, [f"{name} rejected: {len(raw_fields):,} fields; the limit is "
                      f"{MAX_FIELDS:,} per dataset"]
    for i, raw_field in enumerate(raw_fields):
        try:
            good_fields.append(FieldInSchema().load(raw_field))
        except ValidationError as exc:
            fname = raw_field.get("name") if isinstance(raw_field, dict) else None
            label = f"field #{i + 1}" + (f" ({fname!r})" if fname else "")
            errors.append(f"{name}: {label} rejected: {describe_errors(exc.messages)}")
    shell = {k: v for k, v in raw.items() if k != "fields"}
    try:
        record = DatasetInSchema().load(shell)
    except ValidationError as exc:
        errors.insert(0, f"{name} rejected: {describe_errors(exc.messages, raw)}")
        return None, errors
    record["fields"] = good_fields
    return record, errors


def parse_file(path: Path) -> ParsedFile:
    """Detect the format of a file and parse it."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FormatError(f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
    module = formats.detect(path)
    if module is None:
        problem = formats.explain_unrecognised(path)
        if problem is not None:
            raise problem
        raise LookupError("not a recognised metadata format")
    return formats.read(module, path)


def load_file(
    catalog: Catalog,
    path: Path,
    *,
    agencies_file: Path | None = None,
    actor: str = "loader",
    name: str | None = None,
) -> tuple[FileReport, list[int]]:
    """Load one file in one transaction; returns its report and the ids it changed."""
    report = FileReport(path=str(path))
    try:
        parsed = parse_file(path)
    except LookupError as exc:
        report.status = "skipped"
        report.warnings.append(str(exc))
        return report, []
    except FormatError as exc:
        report.status = "failed"
        where = f" (line {exc.line})" if exc.line else ""
        report.errors.append(f"cannot read file{where}: {exc}")
        return report, []
    except (OSError, UnicodeError, ValueError, RecursionError, MemoryError) as exc:
        report.status = "failed"
        report.errors.append(f"cannot read file: {type(exc).__name__}: {exc}")
        return report, []
    report.format = parsed.format
    report.errors.extend(parsed.errors)
    report.warnings.extend(parsed.warnings)
    for raw in parsed.datasets:  # record length into extra; gaps and overlaps as warnings
        report.warnings.extend(check_layout(raw))
    rule = agency_for(path, agencies_file)
    for attempt in range(1, STORE_ATTEMPTS + 1):
        stored = FileReport(path=report.path, format=report.format,
                            errors=list(report.errors), warnings=list(report.warnings))
        try:
            changed = _store(catalog, parsed, stored, rule, provenance={
                "file": name or path.name, "format": parsed.format}, actor=actor)
        except (IntegrityError, OperationalError) as exc:
            # Another process stored the same agency or dataset at the same moment (or, on
            # SQLite, wrote since this transaction's snapshot): this transaction rolled back;
            # the next attempt sees its rows and updates them.
            if attempt == STORE_ATTEMPTS or not _collision(exc):
                raise
            continue
        if not parsed.datasets:
            stored.warnings.append("no datasets found in this file")
        return stored, changed
    raise AssertionError("unreachable")


def _collision(exc: Exception) -> bool:
    """Whether a failed transaction collided with another writer (worth trying again)."""
    if isinstance(exc, IntegrityError):
        return True
    text = str(exc).lower()
    return "database is locked" in text or "busy" in text or "deadlock" in text


def _store(catalog: Catalog, parsed: ParsedFile, report: FileReport, rule: Any,
           provenance: dict[str, Any], actor: str) -> list[int]:
    """Validate and store a parsed file's datasets in one transaction; the ids it changed."""
    changed: list[int] = []
    seen: set[str] = set()
    with catalog.transaction() as session:
        for index, raw in enumerate(parsed.datasets):
            record, errors = validate_dataset(raw, index)
            report.errors.extend(errors)
            if record is None:
                report.datasets["rejected"] = report.datasets.get("rejected", 0) + 1
                continue
            if record["identifier"] in seen:
                report.errors.append(
                    f"dataset {record['identifier']!r}: appears twice in this file; "
                    "the later copy was skipped"
                )
                continue
            seen.add(record["identifier"])
            publisher = record.get("agency") or (rule.name if rule else UNKNOWN_AGENCY)
            abbreviation = record.get("agency_abbreviation") or (
                rule.abbreviation if rule and publisher == rule.name else None
            )
            agency = find_or_create_agency(session, publisher, abbreviation)
            outcome = upsert_dataset(
                session, record, agency=agency, fmt=parsed.format,
                provenance=dict(provenance), actor=actor,
            )
            report.datasets[outcome.action] = report.datasets.get(outcome.action, 0) + 1
            report.fields += len(record["fields"])
            if outcome.action != "unchanged":
                changed.append(outcome.dataset.id)
    return changed


def load_paths(
    catalog: Catalog,
    paths: Iterable[Path],
    *,
    agencies_file: Path | None = None,
    actor: str = "loader",
    index: bool = True,
    on_file: Callable[[FileReport], None] | None = None,
) -> LoadReport:
    """Load every file under ``paths``, then bring the search index up to date."""
    report = LoadReport()
    changed: list[int] = []
    for root, path in iter_rooted(paths):
        try:
            file_report, ids = load_file(catalog, path, agencies_file=agencies_file, actor=actor,
                                         name=source_name(root, path))
        except Exception as exc:  # a store failure: this file is rolled back, the rest go on
            log.exception("loading %s failed", path)
            file_report, ids = FileReport(str(path), status="failed"), []
            file_report.errors.append(f"could not be stored: {type(exc).__name__}: {exc}")
        report.files.append(file_report)
        changed.extend(ids)
        if on_file is not None:
            on_file(file_report)
    if any(f.status == "loaded" for f in report.files):
        with catalog.transaction() as session:
            take_snapshots(session, "load")  # the scorecards' trend
    if index:
        # Also what an earlier load stored while the index could not take it.
        changed = list(dict.fromkeys([*changed, *catalog.pending_index()]))
    if index and changed:
        try:
            report.indexed_documents = catalog.index_datasets(changed)
        except Exception as exc:  # the database holds the data; `catalog reindex` repairs
            # The traceback when logging says more than warnings (a worker, `catalog -v`):
            # the report names the failure either way.
            log.error("updating the search index failed: %s", exc,
                      exc_info=log.isEnabledFor(logging.INFO))
            report.index_error = f"{type(exc).__name__}: {exc}"
    return report
