"""DDI Codebook 2.x XML (``codeBook``), e.g. IPUMS extract codebooks.

Elements are matched on local names, so files with or without the ``ddi:codebook:2_5``
namespace read the same. The parser never fetches DTDs or expands external entities.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree

from indexer.formats._layout import complete_columns, make_dataset, make_field, tidy, value_label
from indexer.formats.base import FormatError, ParsedFile, file_identifier

NAME = "ddi-codebook"

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
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def read_tree(path: Path) -> Any:
    """Parse the XML safely; malformed XML raises FormatError with line and problem."""
    try:
        tree = etree.parse(str(path), _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        message = re.sub(r",? line \d+, column \d+.*$", "", str(exc.msg or exc)).strip()
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
    codes = []
    for category in _children(var, "catgry"):
        code = _text(_child(category, "catValu"))
        if code is not None:
            codes.append(value_label(code, _text(_child(category, "labl")) or ""))
    decimals = _int(var.get("dcml"))
    return make_field(
        position, var.get("name") or var.get("ID") or f"var{position}",
        label=_text(_child(var, "labl")), description=_long_text(_child(var, "txt")),
        data_type=data_type, source_type=ftype, width=width, start_col=start, end_col=end,
        format=fmt.get("schema") if fmt is not None and fmt.get("schema") != "other" else None,
        decimals=decimals if data_type != "string" else None, value_labels=codes,
    )


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
    if file_txt is not None:
        extra["data_file"] = _text(_child(file_txt, "fileName"))
        structure = _child(file_txt, "fileStrc")
        if structure is not None:
            extra["file_structure"] = structure.get("type")
            groups = [g.get("rectype") for g in structure.iter() if _local(g) == "recGrp"]
            if groups:
                extra["record_types"] = groups
    return {k: v for k, v in extra.items() if v not in (None, [], "")}


def parse(path: Path) -> ParsedFile:
    """Read a DDI codebook into one dataset (identifier: the file name without extension)."""
    root = read_tree(path)
    warnings = drop_entities(root)
    study = _child(root, "stdyDscr")
    citation = _child(study, "citation")
    variables = [v for v in root.iter() if _local(v) == "var"]
    fields = [_field(var, position) for position, var in enumerate(variables, start=1)]
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
    dataset = make_dataset(
        path, fields, identifier=file_identifier(path),
        title=_text(_child(citation, "titlStmt", "titl")),
        description=_description(root, study), agency=agency,
        agency_abbreviation=abbreviation, keywords=list(dict.fromkeys(k for k in keywords if k)),
        last_modified=prod_date.get("date") if prod_date is not None else None,
        landing_page=contact.get("URI") if contact is not None else None, extra=extra,
    )
    return ParsedFile(
        path=path, format=NAME, datasets=[dataset], warnings=warnings
    )
