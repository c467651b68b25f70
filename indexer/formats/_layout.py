"""Helpers shared by the record-layout and data-dictionary format modules.

Column arithmetic, widths read from SAS/Stata format strings, line numbers for offsets,
comment text, and builders for raw dataset / field records.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

from indexer.formats.base import blank_dataset, file_identifier

# SAS informats / formats: ``$CHAR4.``, ``4.2``, ``$8.``, ``COMMA10.2``, ``N3PF.`` (no width).
_SAS_WIDTH = re.compile(r"^\$?[A-Za-z_]*?(\d+)\.(\d*)$")
# Stata display formats: ``%5f``, ``%10.4f``, ``%-12s``, ``%9.0g``, ``%12.0fc``.
_STATA_WIDTH = re.compile(r"^%-?0?(\d+)(?:\.(\d+))?[a-z]+$", re.IGNORECASE)


def sas_format_width(fmt: str | None) -> tuple[int | None, int | None]:
    """Width and decimals of a SAS informat such as ``$CHAR4.`` or ``6.2`` (None if not given)."""
    if not fmt:
        return None, None
    match = _SAS_WIDTH.match(fmt.strip())
    if not match:
        return None, None
    width = int(match.group(1))
    decimals = int(match.group(2)) if match.group(2) else None
    return (width or None), decimals


def stata_format_width(fmt: str | None) -> tuple[int | None, int | None]:
    """Width and decimals of a Stata format such as ``%5f``, ``%10.4f`` or ``%12s``."""
    if not fmt:
        return None, None
    match = _STATA_WIDTH.match(fmt.strip())
    if not match:
        return None, None
    decimals = int(match.group(2)) if match.group(2) else None
    return int(match.group(1)) or None, decimals


def read_text_mixed(path: Path) -> str:
    """Read text whose lines may mix UTF-8 and cp1252 (each line decoded on its own)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = []
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("cp1252", errors="replace"))
    return "\n".join(lines)


def complete_columns(
    start: int | None, end: int | None, width: int | None
) -> tuple[int | None, int | None, int | None]:
    """Derive the third of start/end/width when two are known (1-based, inclusive end)."""
    if start is not None and width is not None and end is None:
        end = start + width - 1
    elif start is not None and end is not None and width is None:
        width = end - start + 1
    elif end is not None and width is not None and start is None:
        start = end - width + 1
    if start is not None and start < 1:
        start = None
    if width is not None and width < 0:
        width = None
    return start, end, width


def record_length(fields: list[dict[str, Any]]) -> int | None:
    """The largest end column among fields, or None when no field has one."""
    ends = [f["end_col"] for f in fields if f.get("end_col")]
    return max(ends) if ends else None


class LineIndex:
    """Map character offsets of a text to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._starts = [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        """1-based line number of ``offset``."""
        return bisect.bisect_right(self._starts, offset) + 1


def clean_comment(text: str) -> str:
    """Strip comment decoration (``*``, ``/``, ``|``, ``-``) and collapse whitespace."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip().strip("*/|-=#").strip()
        if line:
            lines.append(line)
    return re.sub(r"\s+", " ", " ".join(lines)).strip()


def tidy(text: str | None) -> str | None:
    """Collapse runs of whitespace; None for empty text."""
    if text is None:
        return None
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text or None


def sentence_case(text: str) -> str:
    """Turn SHOUTED text into sentence case; leave mixed-case text alone."""
    if text.isupper():
        return text[:1].upper() + text[1:].lower()
    return text


def make_field(position: int, name: str, **values: Any) -> dict[str, Any]:
    """A raw field record with the contract's keys (absent values as None / [])."""
    field: dict[str, Any] = {
        "position": position,
        "name": name,
        "label": None,
        "description": None,
        "data_type": None,
        "source_type": None,
        "width": None,
        "start_col": None,
        "end_col": None,
        "format": None,
        "decimals": None,
        "value_labels": [],
    }
    field.update(values)
    return field


def make_dataset(
    path: Path,
    fields: list[dict[str, Any]],
    *,
    identifier: str | None = None,
    title: str | None = None,
    description: str | None = None,
    layout: bool = True,
    **values: Any,
) -> dict[str, Any]:
    """A raw dataset record; identifier defaults to the file name without extension."""
    dataset = blank_dataset(
        identifier or file_identifier(path), title, description=description, layout=layout,
        fields=fields, **values,
    )
    length = record_length(fields)
    if layout and length is not None:
        dataset["extra"].setdefault("record_length", length)
    return dataset


def value_label(code: Any, label: Any) -> dict[str, str]:
    """One value label with the code as a string, as the source spells it."""
    return {"code": str(code), "label": "" if label is None else str(label)}
