"""The raw field records of a DATA LIST's variables, and its overlapping columns."""

from __future__ import annotations

from typing import Any

from indexer.formats.records import new_field
from indexer.formats.spss_syntax.data_list import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    STRING_FORMATS,
    TIME_FORMATS,
    DataList,
    Variable,
)


def _data_type(variable: Variable) -> str:
    kind = variable.fmt_type
    if kind in STRING_FORMATS:
        return "string"
    if kind in DATE_FORMATS:
        return "date"
    if kind in DATETIME_FORMATS:
        return "datetime"
    if kind in TIME_FORMATS:
        return "time"
    if kind == "N" and not variable.decimals:
        return "integer"
    return "number"


def _print_format(variable: Variable) -> str:
    width = variable.width
    if width is None:
        return variable.source or "F8.2"
    if variable.fmt_type in STRING_FORMATS:
        return f"{variable.fmt_type}{width}"
    if variable.decimals:
        return f"{variable.fmt_type}{width}.{variable.decimals}"
    return f"{variable.fmt_type}{width}" + (".0" if variable.fmt_type in ("F", "N") else "")


def overlaps(variables: list[Variable]) -> list[str]:
    """Warnings for variables whose columns overlap on the same record."""
    found: list[str] = []
    placed = sorted(
        (v for v in variables if v.start is not None and v.end is not None),
        key=lambda v: (v.record, v.start or 0),
    )
    widest: Variable | None = None
    for variable in placed:
        if (
            widest is not None and widest.record == variable.record
            and (variable.start or 0) <= (widest.end or 0)
        ):
            where = f" on record {variable.record}" if variable.record > 1 else ""
            found.append(
                f"line {variable.line}: columns of {widest.name} ({widest.start}-{widest.end}) "
                f"and {variable.name} ({variable.start}-{variable.end}) overlap{where}"
            )
        if widest is None or widest.record != variable.record or (
            (variable.end or 0) > (widest.end or 0)
        ):
            widest = variable
    return found


def field_records(data: DataList) -> list[dict[str, Any]]:
    """The raw field records of a DATA LIST's variables, in order."""
    records = max((v.record for v in data.variables), default=1)
    records = max(records, data.records or 1)
    fields = []
    for position, variable in enumerate(data.variables, start=1):
        notes = []
        if records > 1:
            notes.append(f"record {variable.record} of {records}")
        if variable.missing:
            notes.append(f"missing values: {variable.missing}")
        fields.append(new_field(
            position,
            variable.name,
            label=variable.label,
            description="; ".join(notes) or None,
            data_type=_data_type(variable),
            source_type=variable.source,
            width=variable.width,
            start_col=variable.start,
            end_col=variable.end,
            format=_print_format(variable),
            decimals=variable.decimals,
            value_labels=variable.value_labels,
        ))
    return fields
