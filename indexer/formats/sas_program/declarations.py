"""The statements that describe variables: LABEL, FORMAT, ATTRIB, LENGTH, INFILE, VALUE."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from indexer.formats.base import whole_number
from indexer.formats.records import value_label
from indexer.formats.sas_program.lexing import TOKEN, Token, skip_group, tokens
from indexer.formats.statements import NAME_OR_STRING, Statement, stated_lrecl, unquote
from indexer.formats.text import tidy

_ATTRIB_OPTIONS = {"LENGTH", "FORMAT", "INFORMAT", "LABEL", "TRANSCODE"}
_INVALUE_WIDTH = re.compile(r"(?i)\bOTHER\s*=\s*\(\|\s*\$?[A-Za-z_]*?(\d+)\.(\d*)\s*\|\)")


@dataclass
class Step:
    """What one DATA step says about its variables."""

    line: int
    members: list[str] = field(default_factory=list)
    infile: str | None = None
    lrecl: int | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    input_line: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    informats: dict[str, str] = field(default_factory=dict)
    char_vars: set[str] = field(default_factory=set)


@dataclass
class Program:
    """Everything read from one SAS program."""

    steps: list[Step] = field(default_factory=list)
    values: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    invalue_widths: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_value(stmt: Statement, program: Program) -> None:
    """``VALUE name range = "label" ...``: a code list for a display format."""
    toks = tokens(stmt)
    if not toks:
        return
    name_parts = []
    index = 0
    while index < len(toks) and toks[index].kind in ("op", "name") and toks[index].text != "(":
        if toks[index].text == "$" or toks[index].kind == "name":
            name_parts.append(toks[index].text)
            index += 1
            if name_parts[-1] != "$":
                break
        else:
            break
    fmt_name = "".join(name_parts).upper()
    if not fmt_name or fmt_name == "$":
        program.warnings.append(f"line {stmt.line}: VALUE statement without a format name")
        return
    if index < len(toks) and toks[index].text == "(":
        index = skip_group(toks, index)
    labels: list[dict[str, str]] = []
    lhs_start: int | None = None
    while index < len(toks):
        tok = toks[index]
        if tok.text == "=" and lhs_start is not None and index + 1 < len(toks):
            code = stmt.text[lhs_start : tok.start].strip()
            rhs = toks[index + 1]
            if rhs.text == "[":
                close = stmt.text.find("]", rhs.end)
                text = stmt.text[rhs.start : close + 1 if close >= 0 else len(stmt.text)]
                index = next((i for i, t in enumerate(toks) if t.start >= rhs.start + len(text)),
                             len(toks)) - 1
            else:
                text = unquote(rhs.text)
                index += 1
            code = unquote(code) if TOKEN.fullmatch(code) else tidy(code) or code
            labels.append(value_label(code, tidy(text) or ""))
            lhs_start = None
        elif lhs_start is None:
            lhs_start = tok.start
        index += 1
    program.values[fmt_name] = labels


def parse_invalue(stmt: Statement, program: Program) -> None:
    """``INVALUE name ... OTHER = (|w.d|)``: remember the width the informat reads."""
    match = re.match(r"\s*\w+\s+(\$?\s*[A-Za-z_]\w*)", stmt.text)
    width = _INVALUE_WIDTH.search(stmt.text)
    if match and width:
        decimals = whole_number(width.group(2), stmt.line) if width.group(2) else None
        program.invalue_widths[match.group(1).replace(" ", "").upper()] = (
            whole_number(width.group(1), stmt.line, "width"),
            decimals,
        )


def parse_labels(stmt: Statement, step: Step, program: Program) -> None:
    """``LABEL name = "label" ...``."""
    toks = tokens(stmt)
    index = 0
    while index < len(toks):
        tok = toks[index]
        if tok.kind == "name" and index + 1 < len(toks) and toks[index + 1].text == "=":
            if index + 2 < len(toks) and toks[index + 2].kind == "str":
                step.labels[tok.text.upper()] = tidy(unquote(toks[index + 2].text)) or ""
                index += 3
                continue
            program.warnings.append(
                f"line {stmt.line}: label of {tok.text} is not a quoted string; skipped"
            )
        index += 1


def parse_formats(stmt: Statement, step: Step) -> None:
    """``FORMAT var1 var2 fmt. var3 fmt.``: which display format each variable uses."""
    pending: list[str] = []
    for tok in tokens(stmt):
        if tok.kind == "name":
            pending.append(tok.text.upper())
        elif tok.kind == "fmt" and not tok.text.startswith("."):
            for name in pending:
                step.formats[name] = tok.text
            pending = []
        elif tok.text == "$":
            continue
        else:
            pending = []


def parse_attrib(stmt: Statement, step: Step) -> None:
    """``ATTRIB var LENGTH=$n FORMAT=f. INFORMAT=f. LABEL="..."`` (several variables)."""
    toks = tokens(stmt)
    current: list[str] = []
    options_seen = False
    index = 0
    while index < len(toks):
        tok = toks[index]
        is_option = (
            tok.kind == "name"
            and tok.text.upper() in _ATTRIB_OPTIONS
            and index + 1 < len(toks)
            and toks[index + 1].text == "="
        )
        if is_option:
            index = _attrib_option(toks, index, current, step)
            options_seen = True
            continue
        if tok.kind == "name":
            if options_seen:
                current, options_seen = [], False
            current.append(tok.text.upper())
        index += 1


def _attrib_option(toks: list[Token], index: int, names: list[str], step: Step) -> int:
    """Apply one ATTRIB option to ``names``; return the index after its value."""
    option = toks[index].text.upper()
    index += 2
    if index >= len(toks):
        return index
    value = toks[index]
    if option == "LENGTH":
        if value.text == "$":
            step.char_vars.update(names)
            index += 1
        return index + 1
    if option == "LABEL" and value.kind == "str":
        for name in names:
            step.labels[name] = tidy(unquote(value.text)) or ""
    elif option in ("FORMAT", "INFORMAT") and value.kind in ("fmt", "name"):
        target = step.formats if option == "FORMAT" else step.informats
        for name in names:
            target[name] = value.text
    return index + 1


def parse_length(stmt: Statement, step: Step) -> None:
    """``LENGTH var $ n var n``: note character variables."""
    toks = tokens(stmt)
    for index, tok in enumerate(toks[:-1]):
        if tok.kind == "name" and toks[index + 1].text == "$":
            step.char_vars.add(tok.text.upper())


def parse_infile(stmt: Statement, step: Step) -> None:
    """``INFILE ref|'path' ... LRECL=n``."""
    match = re.match(rf"\s*\w+\s+({NAME_OR_STRING})", stmt.text)
    if match:
        step.infile = unquote(match.group(1))
    lrecl = stated_lrecl(stmt.text, stmt.line)
    if lrecl:
        step.lrecl = lrecl
