"""``catalog edit``: a steward's edit of a dataset's or a field's text."""

from __future__ import annotations

import click

from web.cli.context import CliState, actor, pass_state
from web.cli.output import echo_json, json_option


@click.command()
@click.argument("dataset_id", type=int)
@click.argument("field_name", required=False)
@click.option("--title", help="New dataset title.")
@click.option("--label", help="New field label.")
@click.option("--description", help="New description.")
@click.option("--revert", "reverts", multiple=True,
              type=click.Choice(["title", "label", "description"]),
              help="Drop the steward's edit of this column and restore the source's text.")
@click.option("--by", "by", help="Who edits (default: cli:<user>).")
@json_option
@pass_state
def edit(state: CliState, dataset_id: int, field_name: str | None, title: str | None,
         label: str | None, description: str | None, reverts: tuple[str, ...],
         by: str | None, as_json: bool) -> None:
    """A steward's edit of a dataset's (or one field's) title, label or description.

    The edit is kept through later harvests; the source's own text is recorded beside it and
    shown on the page when the source changes it.
    """
    from catalog.models import Dataset
    from catalog.stewardship import apply_edit, source_values
    from catalog.store import field_by_name

    changes: dict[str, str | None] = {}
    for column, value in (("title", title), ("label", label), ("description", description)):
        if value is not None:
            changes[column] = value
    if not changes and not reverts:
        raise click.UsageError("nothing to edit: give --title, --label, --description or "
                               "--revert")
    catalog = state.catalog
    with catalog.transaction() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            raise click.ClickException(f"no dataset with id {dataset_id}")
        target = None
        if field_name is not None:
            target = field_by_name(session, dataset_id, field_name)
            if target is None:
                raise click.ClickException(
                    f"dataset {dataset_id} has no field named {field_name!r}")
        try:
            apply_edit(session, dataset, {**changes, **source_values(target or dataset, reverts)},
                       actor=by or actor(), field=target)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    catalog.index_datasets([dataset_id])
    if as_json:
        echo_json({"dataset": dataset_id, "field": field_name,
                   "edited": sorted({*changes, *reverts}), "reverted": sorted(reverts)})
        return
    what = f"field {field_name!r} of dataset {dataset_id}" if field_name else \
        f"dataset {dataset_id}"
    click.echo(f"edited {what}: {', '.join(sorted({*changes, *reverts}))}")
