"""``catalog dump``: the catalog's content as canonical JSON."""

from __future__ import annotations

from pathlib import Path

import click

from web.cli.context import CliState, pass_state


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@click.option("--without-times", is_flag=True,
              help="Leave out when things happened, to compare two catalogs that did the "
                   "same work at different moments.")
@pass_state
def dump(state: CliState, output: Path | None, without_times: bool) -> None:
    """Write the catalog's content (agencies, sources, datasets, fields, history) as JSON.

    Sorted and canonical: two catalogs hold the same metadata when their dumps are identical.
    Run bookkeeping (harvest runs, last-run status, index timestamps) is left out.
    """
    from catalog.dump import dump_json

    with state.catalog.session() as session:
        text = dump_json(session, times=not without_times)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}")
