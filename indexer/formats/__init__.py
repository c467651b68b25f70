"""Metadata file formats: one module each, detected by content.

``FORMAT_MODULES`` is the detection order: specific formats first, generic tables last.
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


def parse(path: Path) -> ParsedFile:
    """Detect the format of ``path`` and parse it; FormatError when no format fits."""
    module = detect(path)
    if module is None:
        raise FormatError("not a recognised metadata format")
    return module.parse(path)


__all__ = ["FORMAT_MODULES", "FormatError", "ParsedFile", "detect", "formats", "parse"]
