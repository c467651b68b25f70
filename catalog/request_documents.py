"""A data request as a document to send: JSON, Markdown, DOCX (python-docx) and PDF (fpdf2).

:func:`document` gathers what the document says — the form's parts, every requested field
with its dataset, agency, description and sensitivity, the justifications, and each
agency's data officer or stewards to contact — from what the *reader* may see: items they
may not see are counted, never named. The renderers only lay that out.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from catalog.data_requests import Line
from catalog.models import Agency, User
from catalog.request_form import FORM
from catalog.request_models import DataRequest

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
)
FORMATS = ("json", "md", "docx", "pdf")
MEDIA_TYPES = {
    "json": "application/json",
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def document(request: DataRequest, lines: list[Line], hidden: int,
             contacts: dict[int, list[tuple[User, bool]]]) -> dict[str, Any]:
    """The request as plain data, as its reader may see it."""
    agencies: list[dict[str, Any]] = []
    shown = {li.dataset.agency.id: li.dataset.agency for li in lines}  # never a hidden one
    for agency in sorted(shown.values(), key=lambda a: a.name):
        own = [li for li in lines if li.dataset.agency_id == agency.id]
        datasets: dict[int, dict[str, Any]] = {}
        for line in own:
            entry = datasets.setdefault(line.dataset.id, {
                "id": line.dataset.id, "title": line.dataset.title,
                "identifier": line.dataset.identifier, "access_level": line.dataset.access_level,
                "justification": (request.justifications or {}).get(str(line.dataset.id)),
                "fields": []})
            entry["fields"].append({
                "name": line.field.name if line.field else None,
                "whole_dataset": line.item.field_name is None,
                "label": line.field.label if line.field else None,
                "description": (line.field.description if line.field
                                else line.dataset.description),
                "data_type": line.field.data_type if line.field else None,
                "sensitivity": line.sensitivity,
                "sensitivity_suggested": line.sensitivity_suggested, "state": line.state,
                "justification": line.item.justification,
            })
        agencies.append({
            "slug": agency.slug, "name": agency.name,
            "contacts": _contacts(agency, contacts.get(agency.id, [])),
            "datasets": list(datasets.values()),
        })
    requester = request.requester
    return {
        "id": request.id, "status": request.status,
        "requester": {"name": requester.name if requester else None,
                      "email": requester.email if requester else None},
        "submitted_at": request.submitted_at.isoformat() if request.submitted_at else None,
        "form": [{"key": key, "label": label, "value": (request.form or {}).get(key)}
                 for key, label, _, _ in FORM],
        "agencies": agencies, "items_not_shown": hidden,
        # Only the agencies named above: one whose every item is hidden is never named.
        "signoffs": [{"agency": s.agency.name, "decision": s.decision, "by": s.by,
                      "at": s.at.isoformat(), "comment": s.comment}
                     for s in request.signoffs if s.agency_id in shown],
        "history": [{"at": e.at.isoformat(), "by": e.actor, "from": e.from_status,
                     "to": e.to_status, "comment": e.comment}
                    for e in request.events if e.kind == "transition"],
    }


def review_sections(doc: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The review as (heading, lines): the agencies' sign-offs and the status history, so
    that a decision changed later shows in every format."""
    sections = []
    if doc["signoffs"]:
        sections.append(("Agency sign-offs", [
            f"{s['agency']}: {s['decision']} by {s['by']} ({s['at'][:10]})"
            + (f" — {s['comment']}" if s["comment"] else "") for s in doc["signoffs"]]))
    moves = []
    for e in doc["history"]:
        what = (f"{(e['from'] or '').replace('_', ' ')} → {(e['to'] or '').replace('_', ' ')}"
                if e["from"] else "created")
        moves.append(f"{e['at'][:10]} {what} by {e['by']}"
                     + (f" — {e['comment']}" if e["comment"] else ""))
    if moves:
        sections.append(("Status history", moves))
    return sections


def _contacts(agency: Agency, stewards: list[tuple[User, bool]]) -> list[dict[str, str]]:
    out = [{"name": u.name or "", "email": u.email,
            "role": "Agency Data Officer" if officer else "Data steward"}
           for u, officer in stewards]
    if not out and (agency.data_officer or agency.contact):
        out.append({"name": agency.data_officer or agency.contact or "", "email": "",
                    "role": "Agency Data Officer" if agency.data_officer else "Contact"})
    return out


def contact_line(contact: dict[str, str]) -> str:
    """"Agency Data Officer: Name email", each part once (an account may have no name)."""
    return f"{contact['role']}: " + " ".join(p for p in (contact["name"], contact["email"]) if p)


def title_of(doc: dict[str, Any]) -> str:
    """The document's title."""
    title = next((p["value"] for p in doc["form"] if p["key"] == "title"), None)
    return f"Data request #{doc['id']}: {title or 'untitled'}"


# ------------------------------------------------------------------------- render


def as_json(doc: dict[str, Any]) -> bytes:
    """The document as indented JSON."""
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


def _sensitivity(f: dict[str, Any]) -> str:
    """A requested field's level as documents give it: a suggestion no steward has reviewed
    yet says so."""
    return f["sensitivity"] + (" (suggested, not yet reviewed)"
                               if f.get("sensitivity_suggested") else "")


def _field_line(f: dict[str, Any]) -> str:
    name = "the whole dataset" if f["whole_dataset"] else f["name"]
    bits = [name, f["label"], f["data_type"], f"sensitivity: {_sensitivity(f)}"]
    text = " — ".join(b for b in bits if b)
    if f["state"] != "current":
        text += f" [{f['state']} since the request was submitted]"
    return text


def _md(text: Any) -> str:
    """Text a requester or a source wrote, safe in Markdown: HTML is shown as text, never
    rendered (a title ``<img onerror=…>`` would run in a viewer that renders HTML), and a
    line break stays one (two spaces before it)."""
    value = "" if text is None else str(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "  \n".join(value.splitlines())


def as_markdown(doc: dict[str, Any]) -> bytes:
    """The document as Markdown (every text from a requester or a source escaped)."""
    requester = " ".join(p for p in (_md(doc["requester"]["name"]),
                                     f"<{doc['requester']['email']}>"
                                     if doc["requester"]["email"] else "") if p)
    out = [f"# {_md(title_of(doc))}", "",
           f"Status: {doc['status']}" + (f" · submitted {doc['submitted_at'][:10]}"
                                         if doc["submitted_at"] else ""),
           f"Requester: {requester}", ""]
    for part in doc["form"]:
        out += [f"## {part['label']}", "", _md(part["value"]) or "—", ""]
    out += ["## Data requested, by agency", ""]
    for agency in doc["agencies"]:
        out += [f"### {_md(agency['name'])}", ""]
        for contact in agency["contacts"]:
            out.append(f"- {_md(contact_line(contact))}")
        for dataset in agency["datasets"]:
            out += ["", f"#### {_md(dataset['title'])} (`{dataset['identifier']}`, "
                        f"{dataset['access_level']})", ""]
            if dataset["justification"]:
                out += [f"Justification: {_md(dataset['justification'])}", ""]
            for f in dataset["fields"]:
                out.append(f"- {_md(_field_line(f))}")
                if f["description"]:
                    out.append(f"  - {_md(f['description'])}")
                if f["justification"]:
                    out.append(f"  - Why needed: {_md(f['justification'])}")
        out.append("")
    if doc["items_not_shown"]:
        out += [f"{doc['items_not_shown']} requested item(s) are not shown to you.", ""]
    for heading, lines in review_sections(doc):
        out += [f"## {heading}", "", *[f"- {_md(line)}" for line in lines], ""]
    return ("\n".join(out).rstrip() + "\n").encode("utf-8")


def as_docx(doc: dict[str, Any]) -> bytes:
    """The document as a Word file."""
    from docx import Document

    word = Document()
    word.core_properties.title = title_of(doc)
    word.add_heading(title_of(doc), level=0)
    word.add_paragraph(f"Status: {doc['status']}. Requester: {doc['requester']['name'] or ''} "
                       f"<{doc['requester']['email'] or ''}>")
    for part in doc["form"]:
        word.add_heading(part["label"], level=2)
        word.add_paragraph(part["value"] or "—")
    word.add_heading("Data requested, by agency", level=1)
    for agency in doc["agencies"]:
        word.add_heading(agency["name"], level=2)
        for contact in agency["contacts"]:
            word.add_paragraph(contact_line(contact),
                               style="List Bullet")
        for dataset in agency["datasets"]:
            word.add_heading(f"{dataset['title']} ({dataset['access_level']})", level=3)
            if dataset["justification"]:
                word.add_paragraph(f"Justification: {dataset['justification']}")
            table = word.add_table(rows=1, cols=4)
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells,
                                  ("Field", "Description", "Sensitivity", "Why needed"),
                                  strict=True):
                cell.text = text
            for f in dataset["fields"]:
                row = table.add_row().cells
                row[0].text = "the whole dataset" if f["whole_dataset"] else (f["name"] or "")
                row[1].text = f["description"] or f["label"] or ""
                row[2].text = _sensitivity(f) + ("" if f["state"] == "current"
                                                  else f" ({f['state']})")
                row[3].text = f["justification"] or ""
    if doc["items_not_shown"]:
        word.add_paragraph(f"{doc['items_not_shown']} requested item(s) are not shown to you.")
    for heading, lines in review_sections(doc):
        word.add_heading(heading, level=1)
        for line in lines:
            word.add_paragraph(line, style="List Bullet")
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _font() -> Path | None:
    return next((p for p in FONT_PATHS if p.exists()), None)


def as_pdf(doc: dict[str, Any]) -> bytes:
    """The document as a PDF (DejaVu Sans for any script; Helvetica, Latin-1, without it)."""
    from fpdf import FPDF

    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(title_of(doc))
    font = _font()
    if font is not None:
        pdf.add_font("body", fname=str(font))
        family = "body"
    else:
        family = "Helvetica"

    def clean(text: str) -> str:
        return text if font is not None else text.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()

    def write(text: str, size: float = 10, gap: float = 1.5) -> None:
        pdf.set_font(family, size=size)
        pdf.multi_cell(0, size * 0.5, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    write(title_of(doc), 16, 3)
    write(f"Status: {doc['status']}. Requester: {doc['requester']['name'] or ''} "
          f"<{doc['requester']['email'] or ''}>")
    for part in doc["form"]:
        write(part["label"], 12, 0.5)
        write(part["value"] or "—")
    write("Data requested, by agency", 14, 2)
    for agency in doc["agencies"]:
        write(agency["name"], 12, 1)
        for contact in agency["contacts"]:
            write(contact_line(contact), 9)
        for dataset in agency["datasets"]:
            write(f"{dataset['title']} ({dataset['identifier']}, {dataset['access_level']})",
                  11, 0.5)
            if dataset["justification"]:
                write(f"Justification: {dataset['justification']}", 9)
            for f in dataset["fields"]:
                write("• " + _field_line(f), 9, 0.3)
                if f["description"]:
                    write("   " + f["description"], 8, 0.3)
                if f["justification"]:
                    write("   Why needed: " + f["justification"], 8, 0.3)
    if doc["items_not_shown"]:
        write(f"{doc['items_not_shown']} requested item(s) are not shown to you.", 9)
    for heading, lines in review_sections(doc):
        write(heading, 14, 2)
        for line in lines:
            write("• " + line, 9, 0.3)
    return bytes(pdf.output())


RENDERERS = {"json": as_json, "md": as_markdown, "docx": as_docx, "pdf": as_pdf}
