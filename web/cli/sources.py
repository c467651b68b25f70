"""``catalog source add|list|show|remove|sync``: the sources the catalog harvests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from catalog.vocabulary import SourceType, values
from web.cli.context import CliState, actor, pass_state
from web.cli.output import echo_json, echo_some, json_option, table, when

SOURCE_TYPES = values(SourceType)


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as harvester options (numbers, booleans and lists read as JSON)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r}: expected KEY=VALUE", param_hint="--option")
        try:  # numbers, booleans and lists as JSON; anything else is text
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def _no_such_source(name: str) -> click.ClickException:
    return click.ClickException(f"no source named {name!r} (see `catalog source list`)")


@click.group()
def source() -> None:
    """Manage the sources the catalog harvests (portals, data.json files, folders)."""


@source.command("add")
@click.argument("name")
@click.option("--type", "kind", required=True, type=click.Choice(SOURCE_TYPES),
              help="The kind of source (which harvester reads it).")
@click.option("--url", required=True, help="Portal root, data.json URL, page or folder.")
@click.option("--agency", help="Agency of datasets that name no publisher.")
@click.option("--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Harvester option, repeatable (e.g. organization=health, "
                   "app_token='${SOCRATA_APP_TOKEN}').")
@click.option("--schedule", help="Cron expression for scheduled runs, e.g. '0 3 * * *'.")
@click.option("--disabled", is_flag=True, help="Add it switched off.")
@pass_state
def source_add(state: CliState, name: str, kind: str, url: str, agency: str | None,
               option_pairs: tuple[str, ...], schedule: str | None, disabled: bool) -> None:
    """Add a source named NAME."""
    from catalog.sources import SourceError, save_source, validate_source

    catalog = state.catalog
    try:
        data = validate_source({"name": name, "type": kind, "url": url, "agency": agency,
                                "options": parse_options(option_pairs), "schedule": schedule,
                                "enabled": not disabled})
        with catalog.transaction() as session:
            save_source(session, data)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added source {name!r} ({kind}, {url}); harvest it with `catalog harvest {name}`")


@source.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def source_list(state: CliState, as_json: bool) -> None:
    """List the sources with their last run."""
    from catalog.sources import dataset_counts_by_source, list_sources, source_as_dict

    with state.catalog.session() as session:
        counts = dataset_counts_by_source(session, status="active")
        sources = list_sources(session)
        if as_json:
            click.echo(json.dumps([
                {**source_as_dict(s), "status": s.status,
                 "last_run_at": s.last_run_at.isoformat() if s.last_run_at else None,
                 "datasets": counts.get(s.id, 0)} for s in sources], indent=2))
            return
        if not sources:
            click.echo("no sources yet; add one with `catalog source add` or "
                       "`catalog source sync sources.toml`")
            return
        rows = [[s.name, s.type, s.location[:60], "yes" if s.enabled else "no",
                 s.schedule or "—", when(s.last_run_at), s.status or "never run",
                 counts.get(s.id, 0)] for s in sources]
    click.echo(table(rows, ["name", "type", "url", "enabled", "schedule", "last run",
                            "status", "datasets"]))


@source.command("show")
@click.argument("name")
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="How many recent runs to list.")
@click.option("--errors", "error_limit", default=20, show_default=True,
              type=click.IntRange(0, 100000), help="Errors of the last run to print.")
@json_option
@pass_state
def source_show(state: CliState, name: str, runs: int, error_limit: int, as_json: bool) -> None:
    """Show a source, its recent harvest runs and the errors of the last one."""
    from catalog.schemas import ACCESS_LEVELS
    from catalog.sources import get_source, recent_runs, source_as_dict, source_dataset_counts
    from indexer.liveness import shown_status

    with state.catalog.session() as session:
        found = get_source(session, name)
        if found is None:
            raise _no_such_source(name)
        info = source_as_dict(found)
        held = source_dataset_counts(session, found, ACCESS_LEVELS)
        history = recent_runs(session, found, runs)
        if as_json:
            echo_json({"source": info, "datasets": held, "runs": [{
                "id": r.id, "started_at": r.started_at, "finished_at": r.finished_at,
                "status": shown_status(r.status, r.worker, r.heartbeat_at),
                "counts": r.counts or {},
                "errors": [e.get("message", "") for e in (r.errors or [])][:error_limit],
                "error_count": len(r.errors or [])} for r in history]})
            return
        for key in ("name", "type", "url", "agency", "schedule", "enabled"):
            click.echo(f"{key + ':':10} {info[key] if info[key] is not None else '—'}")
        options = json.dumps(info["options"], ensure_ascii=False) if info["options"] else "—"
        click.echo(f"{'options:':10} {options}")
        click.echo(f"{'datasets:':10} {held.get('active', 0)} active, "
                   f"{held.get('withdrawn', 0)} withdrawn")
        if not history:
            click.echo("\nnever harvested; run `catalog harvest " + name + "`")
            return
        rows = []
        for run in history:
            c = run.counts or {}
            took = (run.finished_at - run.started_at).total_seconds() \
                if run.finished_at and run.started_at else None
            rows.append([run.id, when(run.started_at),
                         f"{took:.1f}s" if took is not None else "—",
                         shown_status(run.status, run.worker, run.heartbeat_at),
                         c.get("created", 0), c.get("updated", 0), c.get("unchanged", 0),
                         c.get("withdrawn", 0), c.get("fields", 0), c.get("errors", 0)])
        click.echo("\n" + table(rows, ["run", "started", "took", "status", "added", "changed",
                                       "unchanged", "withdrawn", "fields", "errors"]))
        last = history[0]
        if last.errors and error_limit:
            click.echo(f"\nerrors of run {last.id}:")
            echo_some([entry.get("message", "") for entry in last.errors], error_limit,
                      hint="--errors N")


@source.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def source_remove(state: CliState, name: str, yes: bool) -> None:
    """Remove a source; its datasets stay in the catalog, marked withdrawn."""
    from catalog.sources import get_source, remove_source

    catalog = state.catalog
    with catalog.transaction() as session:
        found = get_source(session, name)
        if found is None:
            raise _no_such_source(name)
        if not yes:
            click.confirm(f"Remove source {name!r}? Its datasets are kept, marked withdrawn.",
                          abort=True)
        count = remove_source(session, found, actor=actor())
    catalog.index_datasets(catalog.pending_index())
    click.echo(f"removed source {name!r}; {count} dataset(s) kept, marked withdrawn")


@source.command("sync")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True,
              help="Also remove sources that the file does not name (their datasets are kept, "
                   "marked withdrawn).")
@json_option
@pass_state
def source_sync(state: CliState, path: Path, prune: bool, as_json: bool) -> None:
    """Make the catalog's sources match a sources.toml file."""
    from catalog.sources import SourceError, read_sources_file, sync_sources

    catalog = state.catalog
    try:
        entries = read_sources_file(path)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    with catalog.transaction() as session:
        result = sync_sources(session, entries, prune=prune, actor=actor())
    if prune and result.removed:
        catalog.index_datasets(catalog.pending_index())
    if as_json:
        echo_json({"added": result.added, "updated": result.updated,
                   "unchanged": result.unchanged, "removed": result.removed,
                   "not_in_file": result.not_in_file})
        return
    for label, names in (("added", result.added), ("updated", result.updated),
                         ("unchanged", result.unchanged), ("removed", result.removed)):
        if names:
            click.echo(f"{label}: {', '.join(names)}")
    if result.not_in_file:
        click.echo(f"not in {path.name} (kept; --prune removes them): "
                   f"{', '.join(result.not_in_file)}")
