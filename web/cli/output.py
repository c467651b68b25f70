"""Printing shared by the commands: tables, times, progress bars, lists cut short, load reports."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """Rows as a plain-text table (cells printed as given, numbers not reformatted)."""
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def when(moment: Any) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS``, or ``—`` for none."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "—"


def progress_bar(unit: str, *, total: int | None = None, desc: str | None = None,
                 leave: bool = True) -> Any:
    """A tqdm progress bar on standard error, shown only when that is a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not sys.stderr.isatty(), leave=leave)


def json_option(command: Any) -> Any:
    """The ``--json`` flag of a command that reports something."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print the report as JSON on standard output.")(command)


def echo_json(data: Any) -> None:
    """Print a report as indented JSON (dates and other values as text)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def echo_some(lines: Sequence[str], limit: int | None, *, hint: str = "use --verbose",
              total: int | None = None, width: int | None = 500, err: bool = False) -> None:
    """Print lines indented, at most ``limit`` (None: all), then "… and N more (hint)".

    ``total`` is how many there were, when more than ``lines`` holds; each line is cut to
    ``width`` characters.
    """
    shown = lines if limit is None else lines[:limit]
    for line in shown:
        click.echo(f"  {line if width is None else line[:width]}", err=err)
    more = (len(lines) if total is None else total) - len(shown)
    if more > 0:
        click.echo(f"  … and {more} more ({hint})", err=err)


def print_load_report(report: Any, *, verbose: bool) -> None:
    """What a load did: counts, then skipped files, warnings and errors (all with verbose)."""
    totals = report.totals()
    click.echo(
        f"files: {totals['files']} ({totals['loaded']} loaded, {totals['skipped']} skipped, "
        f"{totals['failed']} failed)"
    )
    click.echo(
        f"datasets: {totals['created']} created, {totals['updated']} updated, "
        f"{totals['unchanged']} unchanged, {totals['rejected']} rejected; "
        f"fields: {totals['fields']}"
    )
    skipped = [str(f.path) for f in report.files if f.status == "skipped"]
    if skipped:
        click.echo(f"skipped (not a recognised metadata format): {len(skipped)}")
        echo_some(skipped, None if verbose else 10, width=None)
    warnings = [f"{f.path}: {w}" for f in report.files if f.status != "skipped"
                for w in f.warnings]
    if warnings:
        click.echo(f"warnings: {len(warnings)}", err=True)
        echo_some(warnings, None if verbose else 25, err=True)
    errors = list(report.errors())
    if errors:
        click.echo(f"errors: {len(errors)}", err=True)
        echo_some(errors, None if verbose else 25, err=True)
    if report.index_error:
        click.echo(
            f"warning: the search index could not be updated ({report.index_error}); "
            "the data is stored — run `catalog reindex`",
            err=True,
        )
