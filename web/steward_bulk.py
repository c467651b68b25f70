"""Bulk documentation pages: upload a CSV or XLSX of field descriptions, preview, apply as one
change set (see :mod:`catalog.bulk_docs`; revert it from the history as one)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from catalog import bulk_docs
from catalog.models import DocumentationUpload
from catalog.stewardship import StewardshipError
from indexer.formats.base import FormatError
from indexer.formats.workbook import Workbook
from web.access import visible_dataset
from web.auth import current_account, web_actor
from web.current import catalog, db
from web.steward import reindex, require_edit

bp = Blueprint("steward_bulk", __name__)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"


class UploadError(ValueError):
    """The uploaded file cannot be read as a table; the message names the problem."""


def read_table(filename: str, data: bytes) -> list[tuple[int, list[Any]]]:
    """The rows of an uploaded CSV or XLSX (its first sheet), numbered as in the file."""
    limit = bulk_docs.MAX_ROWS + 1
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            with Workbook(io.BytesIO(data)) as book:  # type: ignore[arg-type]
                for sheet in book.sheets(max_rows=limit + 1):
                    return [(n, row) for n, row in enumerate(sheet.rows, start=1)]
        except FormatError as exc:
            raise UploadError(f"{filename}: {exc}") from None
        raise UploadError(f"{filename}: the workbook has no sheets")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    rows = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            rows.append((number, list(row)))
            if number > limit:
                break
    except csv.Error as exc:
        raise UploadError(f"{filename}: line {len(rows) + 1} is not valid CSV: {exc}") from None
    return rows


def _dataset_or_404(dataset_id: int) -> Any:
    dataset = visible_dataset(dataset_id)
    require_edit(dataset)
    return dataset


@bp.get("/datasets/<int:dataset_id>/documentation")
def upload(dataset_id: int) -> ResponseReturnValue:
    """The upload form: a CSV or XLSX with a name column and the columns to document."""
    dataset = _dataset_or_404(dataset_id)
    return render_template("steward_bulk.html", dataset=dataset, result=None, kept=None)


@bp.post("/datasets/<int:dataset_id>/documentation")
def preview(dataset_id: int) -> ResponseReturnValue:
    """Check the uploaded table and show what it would change (nothing is written yet)."""
    dataset = _dataset_or_404(dataset_id)
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash("Choose a CSV or XLSX file to upload.", "error")
        return render_template("steward_bulk.html", dataset=dataset, result=None,
                               kept=None), 400
    data = sent.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        flash(f"{sent.filename}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.", "error")
        return render_template("steward_bulk.html", dataset=dataset, result=None,
                               kept=None), 413
    try:
        rows = read_table(sent.filename, data)
    except UploadError as exc:
        flash(str(exc), "error")
        return render_template("steward_bulk.html", dataset=dataset, result=None,
                               kept=None), 400
    result = bulk_docs.preview(dataset, rows)
    kept = None
    if not result.errors and result.changes:
        account = current_account()
        with catalog().transaction() as tx:
            kept = bulk_docs.keep(tx, dataset, result, filename=sent.filename,
                                  user_id=account.user_id if account else None).id
    status = 400 if result.errors else 200
    return render_template("steward_bulk.html", dataset=dataset, result=result, kept=kept,
                           filename=sent.filename), status


@bp.post("/documentation/<upload_id>/apply")
def apply(upload_id: str) -> ResponseReturnValue:
    """Apply a previewed upload as one change set."""
    found = db().get(DocumentationUpload, upload_id[:36])
    if found is None:
        abort(404)
    dataset = _dataset_or_404(found.dataset_id)
    try:
        with catalog().transaction() as tx:
            kept = tx.get(DocumentationUpload, found.id)
            assert kept is not None
            change_set = bulk_docs.apply(tx, kept, actor=web_actor())
    except StewardshipError as exc:
        flash(str(exc), "error")
        return redirect(url_for("steward_bulk.upload", dataset_id=dataset.id)), 303
    reindex(dataset.id)
    flash(f"Applied as change set {change_set[:8]}: {len(found.plan)} fields documented. "
          "Revert it from the history as one.", "info")
    return redirect(url_for("steward.history", dataset_id=dataset.id)), 303
