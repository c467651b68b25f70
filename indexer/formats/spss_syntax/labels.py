"""The labelling commands: VARIABLE LABELS, [ADD] VALUE LABELS, MISSING VALUES."""

from __future__ import annotations

from indexer.formats.spss_syntax.commands import Command
from indexer.formats.spss_syntax.data_list import DataList, Variable
from indexer.formats.spss_syntax.tokens import Token, command_error, read_string, tokens
from indexer.formats.statements import unquote


def _dictionary_names(toks: list[Token], index: int, data: DataList, command: Command,
                      warnings: list[str]) -> tuple[list[Variable], int]:
    """Variable names in a labelling command; ``a TO b`` means a through b in file order."""
    found: list[Variable] = []
    while index < len(toks) and toks[index].kind == "name":
        token = toks[index]
        if token.upper == "TO" and found and index + 1 < len(toks):
            last = data.find(toks[index + 1].text)
            if last is None:
                warnings.append(f"line {token.line}: {toks[index + 1].text} is not defined by "
                                "the DATA LIST")
            else:
                first, end = data.variables.index(found[-1]), data.variables.index(last)
                found.extend(data.variables[first + 1 : end + 1])
            index += 2
            continue
        variable = data.find(token.text)
        if variable is None:
            warnings.append(f"line {token.line}: {command.name} names {token.text}, which the "
                            "DATA LIST does not define")
        else:
            found.append(variable)
        index += 1
    return found, index


def _next_names(toks: list[Token], index: int, command: Command, expected: str) -> int | None:
    """Where the next variable names start, past any ``/``; None at the end of the command.

    FormatError when anything but a name stands there (``expected`` says what should).
    """
    while index < len(toks) and toks[index].text == "/":
        index += 1
    if index >= len(toks):
        return None
    if toks[index].kind != "name":
        raise command_error(toks[index], command,
                            f"expected {expected}; found {toks[index].text!r}")
    return index


def read_variable_labels(command: Command, data: DataList, warnings: list[str]) -> None:
    """``VARIABLE LABELS name 'label' / name "label" ...``."""
    toks = tokens(command, skip=2)
    index = 0
    while (start := _next_names(toks, index, command,
                                "a variable name in VARIABLE LABELS")) is not None:
        token = toks[start]
        if start + 1 >= len(toks) or toks[start + 1].kind != "str":
            raise command_error(token, command, f"expected a quoted label after {token.text} in "
                                "VARIABLE LABELS")
        label, index = read_string(toks, start + 1)
        variable = data.find(token.text)
        if variable is None:
            warnings.append(f"line {token.line}: VARIABLE LABELS names {token.text}, which the "
                            "DATA LIST does not define")
        else:
            variable.label = label


def read_value_labels(command: Command, data: DataList, warnings: list[str]) -> None:
    """``[ADD] VALUE LABELS vars value 'label' ... / vars ...`` (several variables share)."""
    adding = command.name == "ADD VALUE LABELS"
    toks = tokens(command, skip=3 if adding else 2)
    index = 0
    while (start := _next_names(toks, index, command,
                                "variable names in VALUE LABELS")) is not None:
        token = toks[start]
        variables, index = _dictionary_names(toks, start, data, command, warnings)
        listed = token.text
        pairs: list[dict[str, str]] = []
        while index < len(toks) and toks[index].kind in ("num", "str"):
            value = toks[index]
            if index + 1 >= len(toks) or toks[index + 1].kind != "str":
                raise command_error(value, command,
                                    f"value {value.text} of {listed} has no quoted label after it")
            label, index = read_string(toks, index + 1)
            code = unquote(value.text) if value.kind == "str" else value.text
            pairs.append({"code": code, "label": label})
        if not pairs:
            found = toks[index].text if index < len(toks) else "the end of the command"
            raise command_error(toks[index] if index < len(toks) else None, command,
                                f"expected values and quoted labels after {listed} in VALUE "
                                f"LABELS; found {found!r}")
        for variable in variables:
            if adding:
                codes = {p["code"] for p in pairs}
                kept = [v for v in variable.value_labels if v["code"] not in codes]
                variable.value_labels = kept + [dict(p) for p in pairs]
            else:
                variable.value_labels = [dict(p) for p in pairs]


def read_missing_values(command: Command, data: DataList, warnings: list[str]) -> None:
    """``MISSING VALUES vars (values) / ...``: noted on each variable."""
    toks = tokens(command, skip=2)
    index = 0
    while index < len(toks):
        if toks[index].text == "/":
            index += 1
            continue
        variables, index = _dictionary_names(toks, index, data, command, warnings)
        if index >= len(toks) or toks[index].kind != "paren" or not variables:
            where = toks[index] if index < len(toks) else None
            warnings.append(f"line {(where or toks[-1]).line}: MISSING VALUES not read past "
                            "this point")
            return
        values = toks[index].text[1:-1].strip()
        for variable in variables:
            variable.missing = values
        index += 1
