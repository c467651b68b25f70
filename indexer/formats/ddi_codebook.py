"""DDI Codebook 2.x XML (``codeBook``), e.g. IPUMS extract codebooks.

Elements are matched on local names, so files with or without the ``ddi:codebook:2_5``
namespace read the same. The parser never fetches DTDs and never expands entities: an
undefined entity is a FormatError naming its line; a declared one is dropped with a warning.

Each ``<var>`` becomes a field: ``location`` (``StartPos``/``EndPos``/``width``) gives its
columns, ``labl`` its label, ``txt`` and the question text (``qstn``) its description,
``catgry`` (``catValu`` + ``labl``) its value labels, ``varFormat`` its type and format,
``dcml`` its decimals. In hierarchical files (``rectype``, or ``RecSegNo`` for cases that
span several lines) the field is marked with its record types for the layout checks. The
totals the file states in ``fileDscr`` (``dimensns``: ``varQnty``, ``logRecL``) are kept in
``extra`` as ``stated_variables`` and ``stated_record_length``.

Access fails closed (:func:`access`): DDI has no access level for the codebook itself, but its
``dataAccs/useStmt`` states the terms on which the data are had. A restriction it states
makes the dataset restricted: ``restrctn`` with any text but a plain "none", a confidentiality
declaration (``confDec required="yes"``) or special permissions (``specPerm
required="yes"``). The place of access (``accsPlac``), citation requirements and general
conditions of use (which public-use files carry too) are not read as access.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree

from indexer.formats.base import (
    DOCUMENT_MAX_BYTES,
    FormatError,
    ParsedFile,
    file_identifier,
    whole_number,
)
from indexer.formats.layout import RECORD, complete_columns
from indexer.formats.records import new_dataset, new_field, value_label
from indexer.formats.text import tidy

NAME = "ddi-codebook"
#: File suffixes this format's files carry (a hint beside the content; see base.py).
SUFFIXES = (".xml",)
MAX_BYTES = DOCUMENT_MAX_BYTES
#: Media types its documents are served as, and the suffix each is read under.
MEDIA_TYPES = {"application/xml": ".xml", "text/xml": ".xml"}

_ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?codeBook[\s>]")


def detect(path: Path, head: str) -> bool:
    """True for XML whose root element is a DDI ``codeBook``."""
    return head.lstrip("\ufeff \t\r\n").startswith("<") and bool(_ROOT.search(head))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
        dtd_validation=False, remove_comments=True, remove_pis=True,
    )


def _local(element: Any) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if _local(child) == name]


def _child(element: Any | None, *path: str) -> Any | None:
    """The first descendant along a path of local names."""
    for name in path:
        if element is None:
            return None
        found = _children(element, name)
        element = found[0] if found else None
    return element


def _text(element: Any | None) -> str | None:
    """All text inside an element, whitespace collapsed."""
    if element is None:
        return None
    return tidy("".join(element.itertext()))


def _long_text(element: Any | None) -> str | None:
    """Text inside an element with paragraph breaks kept."""
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n\s*\n\s*", "\n\n", text) or None


def _int(value: str | None) -> int | None:
    text = str(value).strip() if value is not None else ""
    if text.isdigit():
        return whole_number(text)  # FormatError past MAX_DIGITS (the caller adds the line)
    try:
        return int(text) if value is not None else None
    except ValueError:
        return None


def read_tree(path: Path) -> Any:
    """Parse the XML safely; malformed XML raises FormatError with line and problem."""
    try:
        tree = etree.parse(str(path), _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        message = re.sub(r",? line \d+, column \d+.*$", "", str(exc.msg or exc)).strip()
        entity = re.search(r"Entity '([^']+)' not defined", message)
        if entity:
            message += (f" (undefined entity &{entity.group(1)};: entities are never expanded;"
                        " expected plain text or a character reference such as &#233;)")
        raise FormatError(f"line {line}: malformed XML: {message}", line=line) from None
    root = tree.getroot()
    if _local(root) != "codeBook":
        raise FormatError(f"root element is <{_local(root)}>, not a DDI <codeBook>", line=1)
    return root


def drop_entities(root: Any) -> list[str]:
    """Remove entity references left unexpanded (never resolved); one warning each."""
    nodes = [n for n in root.iter() if isinstance(n, etree._Entity)]
    warnings = [f"line {n.sourceline}: entity reference {n.text} not expanded" for n in nodes]
    for node in nodes:
        parent, tail = node.getparent(), node.tail or ""
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        elif parent is not None:
            parent.text = (parent.text or "") + tail
        if parent is not None:
            parent.remove(node)
    return warnings


_CATEGORY_TYPES = {"date": "date", "time": "time", "currency": "number"}


def _question(var: Any) -> str | None:
    """``<qstn>`` as text: pre-question text, the question itself, post-question text."""
    qstn = _child(var, "qstn")
    if qstn is None:
        return None
    parts = [_text(_child(qstn, name)) for name in ("preQTxt", "qstnLit", "postQTxt")]
    text = " ".join(p for p in parts if p) or _text(qstn)
    return f"Question: {text}" if text else None


def _format(fmt: Any | None) -> str | None:
    """The display format a ``<varFormat>`` names (``formatname``, else a named schema)."""
    if fmt is None:
        return None
    name = fmt.get("formatname") or _text(fmt)
    if name:
        return name
    schema = fmt.get("schema")
    return schema if schema and schema != "other" else None


def _field(var: Any, position: int) -> dict[str, Any]:
    """One raw field from a ``<var>``."""
    location = _child(var, "location")
    attrs = location.attrib if location is not None else {}
    start, end, width = complete_columns(
        _int(attrs.get("StartPos")), _int(attrs.get("EndPos")), _int(attrs.get("width"))
    )
    fmt = _child(var, "varFormat")
    ftype = fmt.get("type") if fmt is not None else None
    data_type = {"numeric": "number", "character": "string"}.get((ftype or "").lower())
    category = (fmt.get("category") or "").lower() if fmt is not None else ""
    data_type = _CATEGORY_TYPES.get(category, data_type)
    codes = []
    for category_element in _children(var, "catgry"):
        code = _text(_child(category_element, "catValu"))
        if code is not None:
            codes.append(value_label(code, _text(_child(category_element, "labl")) or ""))
    decimals = _int(var.get("dcml"))
    description = "\n\n".join(
        p for p in (_long_text(_child(var, "txt")), _question(var)) if p
    )
    field = new_field(
        position, var.get("name") or var.get("ID") or f"var{position}",
        label=_text(_child(var, "labl")), description=description or None,
        data_type=data_type, source_type=ftype, width=width, start_col=start, end_col=end,
        format=_format(fmt), decimals=decimals if data_type != "string" else None,
        value_labels=codes,
    )
    record = var.get("rectype") or attrs.get("RecSegNo")
    if record:
        field[RECORD] = record.split()
    return field


def _agency(citation: Any | None) -> tuple[str | None, str | None]:
    for path in (("prodStmt", "producer"), ("distStmt", "distrbtr"), ("rspStmt", "AuthEnty")):
        element = _child(citation, *path)
        if element is not None and _text(element):
            return _text(element), element.get("abbr")
    return None, None


def _description(root: Any, study: Any | None) -> str | None:
    """Abstract, else what the document and study notes say about the extract."""
    abstract = _long_text(_child(study, "stdyInfo", "abstract"))
    if abstract:
        return abstract
    parts = [
        _text(_child(root, "docDscr", "citation", "titlStmt", "titl")),
        _text(_child(root, "docDscr", "citation", "titlStmt", "subTitl")),
        _text(_child(study, "notes")),
        _text(_child(study, "stdyInfo", "notes")),
    ]
    text = ". ".join(p.rstrip(".") for p in parts if p)
    return text + "." if text else None


def _extra(root: Any, study: Any | None, citation: Any | None) -> dict[str, Any]:
    extra: dict[str, Any] = {"ddi_version": root.get("version")}
    series = _child(citation, "serStmt")
    if series is not None:
        extra["series"] = _text(_child(series, "serName"))
        extra["series_info"] = _text(_child(series, "serInfo"))
    summary = _child(study, "stdyInfo", "sumDscr")
    if summary is not None:
        extra["time_period"] = [_text(e) for e in _children(summary, "timePrd")]
        extra["nation"] = [_text(e) for e in _children(summary, "nation")]
    file_txt = _child(root, "fileDscr", "fileTxt")
    extra.update(_stated_totals(file_txt))
    if file_txt is not None:
        extra["data_file"] = _text(_child(file_txt, "fileName"))
        structure = _child(file_txt, "fileStrc")
        if structure is not None:
            extra["file_structure"] = structure.get("type")
            groups = [g.get("rectype") for g in structure.iter() if _local(g) == "recGrp"]
            if groups:
                extra["record_types"] = groups
    return {k: v for k, v in extra.items() if v not in (None, [], "")}


def _stated_totals(file_txt: Any | None) -> dict[str, int]:
    """What ``fileTxt`` states: variable count and logical record length (``dimensns``).

    The file-level ``dimensns`` counts first; otherwise the per-record-group ``recDimnsn``
    (record length: the longest group; variables: only when a single group is described).
    """
    out: dict[str, int] = {}
    if file_txt is None:
        return out
    dims = _child(file_txt, "dimensns")
    if dims is not None:
        for tag, key in (("varQnty", "stated_variables"), ("logRecL", "stated_record_length"),
                         ("caseQnty", "stated_cases"), ("recPrCas", "stated_records_per_case")):
            value = _int(_text(_child(dims, tag)))
            if value is not None:
                out[key] = value
    groups = [g for g in file_txt.iter() if _local(g) == "recDimnsn"]
    lengths = [_int(_text(_child(g, "logRecL"))) for g in groups]
    lengths = [n for n in lengths if n is not None]
    if lengths and "stated_record_length" not in out:
        out["stated_record_length"] = max(lengths)
    counts = [_int(_text(_child(g, "varQnty"))) for g in groups]
    if len(counts) == 1 and counts[0] is not None and "stated_variables" not in out:
        out["stated_variables"] = counts[0]
    return out


_NO_RESTRICTION = frozenset({"none", "no restrictions", "no restriction", "unrestricted"})


def data_access(root: Any) -> str | None:
    """The restrictions on the *data* that the codebook's ``dataAccs`` states, or None.

    DDI describes who may use the data (a confidentiality declaration, special permission,
    restrictions), not who may read the codebook, which its archive publishes: the
    codebook's metadata stays public, and these terms are kept for requesters to read.
    """
    notes = []
    for element in root.iter():
        name = _local(element)
        if name == "restrctn":
            words = " ".join((_text(element) or "").lower().rstrip(".").split())
            if words not in _NO_RESTRICTION:
                notes.append(f"restrctn {(_text(element) or '')[:80]!r} (line "
                             f"{element.sourceline})")
        elif name in ("confDec", "specPerm") and (element.get("required") or "").lower() in (
                "yes", "true", "1"):
            notes.append(f'{name} required="{element.get("required")}" (line '
                         f"{element.sourceline})")
    if not notes:
        return None
    return "the data access terms state a restriction: " + "; ".join(notes)


def parse(path: Path) -> ParsedFile:
    """Read a DDI codebook into one dataset (identifier: the file name without extension)."""
    root = read_tree(path)
    warnings = drop_entities(root)
    study = _child(root, "stdyDscr")
    citation = _child(study, "citation")
    variables = [v for v in root.iter() if _local(v) == "var"]
    fields = []
    for position, var in enumerate(variables, start=1):
        try:
            fields.append(_field(var, position))
        except FormatError as exc:
            raise FormatError(f"line {var.sourceline}: variable {var.get('name')!r}: {exc}",
                              line=var.sourceline) from None
    agency, abbreviation = _agency(citation)
    keywords = [_text(e) for e in (study.iter() if study is not None else [])
                if _local(e) in ("keyword", "topcClas")]
    prod_date = _child(citation, "prodStmt", "prodDate")
    contact = _child(citation, "distStmt", "contact")
    extra = _extra(root, study, citation)
    id_no = _text(_child(citation, "titlStmt", "IDNo")) or _text(
        _child(root, "docDscr", "citation", "titlStmt", "IDNo")
    )
    if id_no:
        extra["ddi_id"] = id_no
    rectypes = {v.get("name"): v.get("rectype") for v in variables if v.get("rectype")}
    if rectypes:
        extra["variable_record_types"] = rectypes
    terms = data_access(root)
    if terms:
        extra["data_access"] = terms
    dataset = new_dataset(
        file_identifier(path), _text(_child(citation, "titlStmt", "titl")), layout=True,
        fields=fields,
        description=_description(root, study), agency=agency,
        agency_abbreviation=abbreviation, keywords=list(dict.fromkeys(k for k in keywords if k)),
        last_modified=prod_date.get("date") if prod_date is not None else None,
        landing_page=contact.get("URI") if contact is not None else None, extra=extra,
        access_level="public",
    )
    return ParsedFile(
        path=path, format=NAME, datasets=[dataset], warnings=warnings
    )
