"""``catalog scorecard``: each agency's metadata measures, side by side."""

from __future__ import annotations

import json

import click

from web.cli.context import CliState, pass_state
from web.cli.output import table

COLUMNS = (("datasets", "datasets"), ("fields", "fields"), ("fields_described", "described"),
           ("fields_typed", "typed"), ("fields_labelled", "labelled"),
           ("fields_reviewed", "reviewed"), ("fields_pending", "pending"),
           ("datasets_attributed", "attributed"), ("datasets_with_frequency", "frequency"),
           ("datasets_modified_12m", "modified 12m"), ("datasets_with_coverage", "coverage"),
           ("equity_datasets", "equity"))


@click.command()
@click.option("--agency", "slug", help="Only this agency (its slug).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per agency.")
@click.option("--all", "everything", is_flag=True,
              help="Count restricted and internal datasets too (default: public ones only).")
@pass_state
def scorecard(state: CliState, slug: str | None, as_json: bool, everything: bool) -> None:
    """Print each agency's scorecard: fields described, typed, labelled, reviewed; datasets
    attributed, with update frequency, modified in the last 12 months, with temporal
    coverage, and holding race/ethnicity, gender, age, disability or language fields.

    Components are counted side by side; there is no blended score.
    """
    from catalog.audience import EVERYONE, PUBLIC
    from catalog.scorecards import agency_scorecards

    with state.catalog.session() as session:
        cards = agency_scorecards(session, EVERYONE if everything else PUBLIC, slug)
    if slug is not None and not cards:
        raise click.ClickException(f"no agency {slug!r} with datasets to score")
    if as_json:
        click.echo(json.dumps(cards, indent=1, ensure_ascii=False))
        return
    rows = [[c["agency"], *(str(c[key]) for key, _ in COLUMNS)] for c in cards]
    click.echo(table(rows, ["agency", *(label for _, label in COLUMNS)]))
    for card in cards:
        for item in card["equity"]:
            shown = "; ".join(f"{d}: {', '.join(n[:3])}" for d, n in item["dimensions"].items())
            click.echo(f"  equity {card['agency']} #{item['dataset_id']} {item['title']}: {shown}")
