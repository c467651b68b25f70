"""The raw field records of the variables a DATA step's INPUT reads."""

from __future__ import annotations

from typing import Any

from indexer.formats.layout import RECORD
from indexer.formats.records import new_field
from indexer.formats.sas_program.declarations import Program, Step
from indexer.formats.sas_program.input_statement import fill_gaps
from indexer.formats.sas_program.lexing import format_key

_DATE_INFORMATS = ("DATE", "MMDDYY", "DDMMYY", "YYMMDD", "JULIAN", "ANYDTDTE", "YYQ", "MONYY")


def _data_type(item: dict[str, Any]) -> str:
    informat = (item["informat"] or "").upper().lstrip("$")
    if item["is_char"]:
        return "string"
    if informat.startswith("DATETIME"):
        return "datetime"
    if informat.startswith(_DATE_INFORMATS):
        return "date"
    if informat.startswith("TIME"):
        return "time"
    return "number"


def field_records(step: Step, program: Program) -> list[dict[str, Any]]:
    """Raw field records for the variables a DATA step's INPUT reads."""
    fill_gaps(step.inputs, step.lrecl)
    several_lines = len({item["record_line"] for item in step.inputs}) > 1
    fields = []
    for position, item in enumerate(step.inputs, start=1):
        key = item["name"].upper()
        is_char = item["is_char"] or key in step.char_vars
        informat = item["informat"] or step.informats.get(key)
        display = step.formats.get(key)
        codes = program.values.get(format_key(display)) if display else None
        fields.append(new_field(
            position,
            item["name"],
            label=step.labels.get(key) or None,
            data_type=_data_type({**item, "is_char": is_char, "informat": informat}),
            source_type=informat or ("$" if is_char else None),
            width=item["width"],
            start_col=item["start"],
            end_col=item["end"],
            format=informat or display,
            decimals=item["decimals"],
            value_labels=list(codes or []),
        ))
        if several_lines:  # ``#n`` or ``/``: columns count from 1 again on each line
            fields[-1][RECORD] = item["record_line"]
    return fields
