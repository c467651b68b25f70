"""Metadata file formats: one module each, detected by content.

``FORMAT_MODULES`` is the detection order: specific formats first, generic tables last.
Each module declares the file suffixes (``SUFFIXES``) and media types (``MEDIA_TYPES``) of its
documents; :func:`suffixes` and :func:`media_types` gather them for whoever names files, such
as the web harvester.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from indexer.formats.base import FormatError, ParsedFile, read_head

FORMAT_MODULES = [
    "socrata_discovery",
    "socrata_view",
    "ckan_package",
    "dcat_json",
    "datapackage",
    "ddi_codebook",
    "sas_program",
    "stata_dictionary",
    "stata_labels",
    "cobol_copybook",
    "spss_syntax",
    "socrata_markdown",
    "html_tables",
    "dictionary_table",
]


def formats() -> list[ModuleType]:
    """Return the format modules in detection order."""
    return [importlib.import_module(f"indexer.formats.{name}") for name in FORMAT_MODULES]


def detect(path: Path) -> ModuleType | None:
    """Return the format module that recognises ``path``, or None."""
    head = read_head(path)
    for module in formats():
        if module.detect(path, head):
            return module
    return None


def suffixes() -> frozenset[str]:
    """Every file suffix a format module declares (``.csv``, ``.cpy``, ...)."""
    return frozenset(suffix for module in formats() for suffix in module.SUFFIXES)


def media_types() -> dict[str, str]:
    """Media type -> the file suffix a document of that type is read under, from every module."""
    found: dict[str, str] = {}
    for module in formats():
        for kind, suffix in getattr(module, "MEDIA_TYPES", {}).items():
            if found.setdefault(kind, suffix) != suffix:
                raise ValueError(f"{module.__name__}: {kind} is read as {suffix} here and as "
                                 f"{found[kind]} by another format")
    return found


def check_size(module: ModuleType, path: Path, what: str | None = None) -> None:
    """FormatError when ``path`` is larger than the format reads (its ``MAX_BYTES``)."""
    limit = getattr(module, "MAX_BYTES", None)
    size = path.stat().st_size
    if limit is not None and size > limit:
        raise FormatError(f"the file is {size:,} bytes; {what or f'a {module.NAME} file'} is "
                          f"read up to {limit:,} bytes ({limit // (1024 * 1024)} MB)")


def read(module: ModuleType, path: Path) -> ParsedFile:
    """Parse ``path`` with ``module`` after checking its size against the format's limit."""
    check_size(module, path)
    return module.parse(path)


def explain_unrecognised(path: Path) -> FormatError | None:
    """Why a file that looks like metadata (JSON, XML, a table) was not recognised.

    Returns the error of the format it resembles (invalid JSON at line 3, no header row,
    malformed XML), or None for files that are simply of another kind.
    """
    from indexer.formats import dcat_json, ddi_codebook, dictionary_table, portal

    head = read_head(path, 4096).lstrip()
    suffix = path.suffix.lower()
    try:
        if suffix in portal.JSON_SUFFIXES or head[:1] in ("{", "["):
            check_size(dcat_json, path, "a JSON document")  # the portal formats' limit
            portal.load_json(path)
            return FormatError("valid JSON, but not a metadata format this catalog reads "
                               "(Socrata, CKAN, DCAT data.json, data package)")
        if suffix in (*dictionary_table.TABLE_SUFFIXES, *dictionary_table.WORKBOOK_SUFFIXES):
            read(dictionary_table, path)
            return None
        if suffix in ddi_codebook.SUFFIXES or head.startswith("<?xml"):
            from lxml import etree

            check_size(ddi_codebook, path, "an XML document")
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            etree.parse(str(path), parser)
            return FormatError("well-formed XML, but not a DDI codebook")
    except FormatError as exc:
        return exc
    except Exception as exc:
        return FormatError(f"{type(exc).__name__}: {exc}")
    return None


def parse(path: Path) -> ParsedFile:
    """Detect the format of ``path`` and parse it; FormatError when no format fits."""
    module = detect(path)
    if module is None:
        raise FormatError("not a recognised metadata format")
    return read(module, path)


__all__ = [
    "FORMAT_MODULES", "FormatError", "ParsedFile", "check_size", "detect",
    "explain_unrecognised", "formats", "media_types", "parse", "read", "suffixes",
]
