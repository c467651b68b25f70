"""``catalog load``: metadata files and folders into the catalog."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import click

from web.cli.context import CliState, pass_state
from web.cli.output import echo_json, json_option, print_load_report, progress_bar


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--agencies", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV of path_prefix,agency,abbreviation for files that name no publisher "
                   "(default: the nearest AGENCIES.csv above each file).")
@click.option("--no-index", is_flag=True, help="Store only; do not update the search index.")
@click.option("--verbose", "show_all", is_flag=True, help="List every error and skipped file.")
@json_option
@pass_state
def load(state: CliState, paths: tuple[Path, ...], agencies: Path | None, no_index: bool,
         show_all: bool, as_json: bool) -> None:
    """Load metadata files or whole folders into the catalog.

    Formats are detected by content: Socrata, CKAN, DCAT data.json, Frictionless data
    packages, CSV/XLSX dictionaries and layout tables, SAS, Stata and DDI. Files in
    other formats are reported and skipped.

    Exit status: 0 when everything was stored and indexed; 1 when a file could not be
    loaded (the others are stored); 3 when everything was stored but the search index
    could not be updated (run `catalog reindex` once the search engine answers).
    """
    from indexer.load import iter_files, load_paths

    for path in paths:
        if not path.exists():
            raise click.BadParameter(f"{path}: no such file or folder", param_hint="PATHS")
    catalog = state.catalog
    total = sum(1 for _ in iter_files(paths))
    started = time.perf_counter()
    with progress_bar("file", total=total) as bar:
        report = load_paths(catalog, paths, agencies_file=agencies, index=not no_index,
                            on_file=lambda _: bar.update(1))
    if as_json:
        echo_json({"totals": report.totals(), "seconds": round(time.perf_counter() - started, 3),
                   "indexed_documents": report.indexed_documents,
                   "index_error": report.index_error,
                   "files": [dataclasses.asdict(f) for f in report.files]})
    else:
        print_load_report(report, verbose=show_all)
        click.echo(f"took {time.perf_counter() - started:.1f}s")
    failed = report.totals()["failed"]
    if failed:
        click.echo(f"FAILED: {failed} of {total} file(s) could not be loaded (listed above); "
                   "the others are stored", err=True)
        sys.exit(1)
    if report.totals()["loaded"] == 0 and total:
        sys.exit(1)
    if report.index_error:
        sys.exit(3)
