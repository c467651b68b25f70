"""``catalog abbreviations``: mine the catalog's own field names, labels and definitions for
abbreviations."""

from __future__ import annotations

import json
from pathlib import Path

import click

from web.cli.context import CliState, pass_state
from web.cli.output import table


@click.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the table (TSV) here; point CATALOG_ABBREVIATIONS at it and run "
                   "`catalog reindex` to use it.")
@click.option("--min-support", type=click.IntRange(1), default=2, show_default=True,
              help="Distinct (name, label) pairs that must agree (one more for two letters).")
@click.option("--min-share", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of the token's labelled names that must agree (more than this).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@pass_state
def abbreviations(state: CliState, output: Path | None, min_support: int, min_share: float,
                  as_json: bool) -> None:
    """Mine abbreviations from public fields: name tokens aligned with label words.

    CLNT ↔ client, DOB ↔ date of birth. A field without a label is read off the first
    sentence of its description (contractions only: MntlHlthIndic, "Indicator showing
    whether Mental Health…"). Entries written by hand win; the table that search uses is
    the packaged one unless CATALOG_ABBREVIATIONS names another, and the search index is
    rebuilt when the table in use changes.
    """
    from catalog.abbreviations import catalog_fields, mine, write
    from catalog.audience import PUBLIC

    with state.catalog.session() as session:
        pairs = catalog_fields(session, PUBLIC)
    entries = mine(pairs, min_support=min_support, min_share=min_share)
    if output is not None:
        count = write(entries, output)
        click.echo(f"{count} abbreviations from {len(pairs)} fields written to {output}",
                   err=as_json)
    if as_json:
        click.echo(json.dumps([{"abbreviation": e.abbreviation, "expansion": e.expansion,
                                "support": e.support, "occurrences": e.occurrences}
                               for e in entries], indent=1))
    elif output is None:
        click.echo(table([[e.abbreviation, e.expansion, str(e.support), str(e.occurrences)]
                          for e in entries], ["abbreviation", "expansion", "support", "names"]))
