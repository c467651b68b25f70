"""The ``catalog`` command: load metadata, search it, serve the web app, rebuild the index."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import click

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ACCESS_CHOICES = ("public", "restricted", "internal")
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


def _catalog(data_dir: str | None = None):  # type: ignore[no-untyped-def]
    from catalog.config import load_settings
    from catalog.service import Catalog

    settings = load_settings(data_dir=data_dir) if data_dir else load_settings()
    return Catalog(settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more detail.")
@click.version_option(package_name="metadata-catalog")
def main(verbose: bool) -> None:
    """A metadata catalog with semantic search for state government data.

    Data lives in CATALOG_DATA_DIR (default ./var) or CATALOG_DATABASE_URL.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _print_load_report(report: Any, *, verbose: bool) -> None:
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
    skipped = [f for f in report.files if f.status == "skipped"]
    if skipped:
        click.echo(f"skipped (not a recognised metadata format): {len(skipped)}")
        for f in skipped if verbose else skipped[:10]:
            click.echo(f"  {f.path}")
        if not verbose and len(skipped) > 10:
            click.echo(f"  … and {len(skipped) - 10} more (use --verbose)")
    warnings = [f"{f.path}: {w}" for f in report.files if f.status != "skipped"
                for w in f.warnings]
    if warnings:
        click.echo(f"warnings: {len(warnings)}", err=True)
        for message in warnings if verbose else warnings[:25]:
            click.echo(f"  {message[:500]}", err=True)
        if not verbose and len(warnings) > 25:
            click.echo(f"  … and {len(warnings) - 25} more (use --verbose)", err=True)
    errors = list(report.errors())
    if errors:
        click.echo(f"errors: {len(errors)}", err=True)
        for message in errors if verbose else errors[:25]:
            click.echo(f"  {message[:500]}", err=True)
        if not verbose and len(errors) > 25:
            click.echo(f"  … and {len(errors) - 25} more (use --verbose)", err=True)
    if report.index_error:
        click.echo(
            f"warning: the search index could not be updated ({report.index_error}); "
            "the data is stored — run `catalog reindex`",
            err=True,
        )


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--agencies", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV of path_prefix,agency,abbreviation for files that name no publisher "
                   "(default: the nearest AGENCIES.csv above each file).")
@click.option("--no-index", is_flag=True, help="Store only; do not update the search index.")
@click.option("--verbose", "show_all", is_flag=True, help="List every error and skipped file.")
def load(paths: tuple[Path, ...], agencies: Path | None, no_index: bool, show_all: bool) -> None:
    """Load metadata files or whole folders into the catalog.

    Formats are detected by content: Socrata, CKAN, DCAT data.json, Frictionless data
    packages, CSV/XLSX dictionaries and layout tables, SAS, Stata and DDI. Files in
    other formats are reported and skipped.
    """
    from tqdm import tqdm

    from indexer.load import iter_files, load_paths

    for path in paths:
        if not path.exists():
            raise click.BadParameter(f"{path}: no such file or folder", param_hint="PATHS")
    catalog = _catalog()
    total = sum(1 for _ in iter_files(paths))
    started = time.perf_counter()
    with tqdm(total=total, unit="file", disable=not sys.stderr.isatty()) as bar:
        report = load_paths(catalog, paths, agencies_file=agencies, index=not no_index,
                            on_file=lambda _: bar.update(1))
    _print_load_report(report, verbose=show_all)
    click.echo(f"took {time.perf_counter() - started:.1f}s")
    if report.totals()["loaded"] == 0 and total:
        sys.exit(1)


def _hit_json(hit: Any) -> dict[str, Any]:
    payload = hit.payload
    return {
        "kind": hit.kind,
        "agency": payload.get("agency_name"),
        "agency_slug": payload.get("agency"),
        "dataset": payload.get("dataset"),
        "field": payload.get("field"),
        "title": payload.get("title"),
        "score": round(hit.score, 6),
    }


@main.command()
@click.argument("query", required=False)
@click.option("--queries", "queries_file", type=click.File("r"),
              help="Run one query per line of this file ('-' for stdin), in one process; "
                   "with --json, one JSON object per line.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--kind", type=click.Choice(["dataset", "field"]), help="Only datasets or fields.")
@click.option("--agency", multiple=True, help="Only this agency (slug); repeatable.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Hits per query.")
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "semantic"]), default="hybrid",
              show_default=True, help="Ranking: fused, BM25 only, or embeddings only.")
@click.option("--access", multiple=True, type=click.Choice(ACCESS_CHOICES),
              help="Access levels to include (default public only); repeatable.")
def search(query: str | None, queries_file: Any, as_json: bool, kind: str | None,
           agency: tuple[str, ...], limit: int, mode: str, access: tuple[str, ...]) -> None:
    """Search the catalog by meaning, down to the single field."""
    from catalog.search.query import SearchQuery

    if (query is None) == (queries_file is None):
        raise click.UsageError("give either QUERY or --queries FILE")
    texts = [query] if query is not None else [
        line.strip() for line in queries_file if line.strip() and not line.startswith("#")
    ]
    allowed = access or ("public",)
    catalog = _catalog()
    queries = [
        SearchQuery(text=t, kind=kind, agencies=agency, mode=mode, per_page=limit,
                    allowed_access=allowed)
        for t in texts
    ]
    results = catalog.search_many(queries)
    for text, result in zip(texts, results, strict=True):
        if as_json:
            record = {"query": text, "total": result.total,
                      "hits": [_hit_json(h) for h in result.hits]}
            click.echo(json.dumps(record, ensure_ascii=False) if queries_file
                       else json.dumps(record, indent=2, ensure_ascii=False))
            continue
        click.echo(f"{result.total} results for {text!r} ({result.took_ms:.0f} ms)")
        for i, hit in enumerate(result.hits, start=1):
            p = hit.payload
            name = f"{p['field']} — " if p.get("field") else ""
            click.echo(f"{i:3}. [{hit.kind}] {name}{p.get('title')}")
            click.echo(f"     {p.get('dataset_title')} · {p.get('agency_name')}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask debug mode (never in production).")
def serve(host: str, port: int, debug: bool) -> None:
    """Serve the web app and the JSON API."""
    from web.app import create_app

    app = create_app(_catalog())
    click.echo(f"Serving the catalog on http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=debug, use_reloader=False, threaded=True)


# ---------------------------------------------------------------------------- sources


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "—"


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
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


@main.group()
def source() -> None:
    """Manage the sources the catalog harvests (portals, data.json files, folders)."""


@source.command("add")
@click.argument("name")
@click.option("--type", "kind", required=True,
              type=click.Choice(["ckan", "socrata", "dcat", "frictionless", "web"]),
              help="The kind of source (which harvester reads it).")
@click.option("--url", required=True, help="Portal root, data.json URL, page or folder.")
@click.option("--agency", help="Agency of datasets that name no publisher.")
@click.option("--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Harvester option, repeatable (e.g. organization=health, "
                   "app_token='${SOCRATA_APP_TOKEN}').")
@click.option("--schedule", help="Cron expression for scheduled runs, e.g. '0 3 * * *'.")
@click.option("--disabled", is_flag=True, help="Add it switched off.")
def source_add(name: str, kind: str, url: str, agency: str | None,
               option_pairs: tuple[str, ...], schedule: str | None, disabled: bool) -> None:
    """Add a source named NAME."""
    from catalog.sources import SourceError, save_source, validate_source

    catalog = _catalog()
    try:
        data = validate_source({"name": name, "type": kind, "url": url, "agency": agency,
                                "options": _parse_options(option_pairs), "schedule": schedule,
                                "enabled": not disabled})
        with catalog.transaction() as session:
            save_source(session, data)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added source {name!r} ({kind}, {url}); harvest it with `catalog harvest {name}`")


@source.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def source_list(as_json: bool) -> None:
    """List the sources with their last run."""
    from sqlalchemy import func, select

    from catalog.models import Dataset
    from catalog.sources import list_sources, source_as_dict

    catalog = _catalog()
    with catalog.session() as session:
        counts = dict(session.execute(
            select(Dataset.source_id, func.count(Dataset.id)).where(Dataset.status == "active")
            .group_by(Dataset.source_id)).all())
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
                 s.schedule or "—", _when(s.last_run_at), s.status or "never run",
                 counts.get(s.id, 0)] for s in sources]
    click.echo(_table(rows, ["name", "type", "url", "enabled", "schedule", "last run",
                             "status", "datasets"]))


@source.command("show")
@click.argument("name")
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="How many recent runs to list.")
@click.option("--errors", "error_limit", default=20, show_default=True,
              type=click.IntRange(0, 100000), help="Errors of the last run to print.")
def source_show(name: str, runs: int, error_limit: int) -> None:
    """Show a source, its recent harvest runs and the errors of the last one."""
    from catalog.schemas import ACCESS_LEVELS
    from catalog.sources import get_source, recent_runs, source_as_dict, source_dataset_counts

    catalog = _catalog()
    with catalog.session() as session:
        found = get_source(session, name)
        if found is None:
            raise click.ClickException(f"no source named {name!r} (see `catalog source list`)")
        info = source_as_dict(found)
        for key in ("name", "type", "url", "agency", "schedule", "enabled"):
            click.echo(f"{key + ':':10} {info[key] if info[key] is not None else '—'}")
        click.echo(f"{'options:':10} {json.dumps(info['options']) if info['options'] else '—'}")
        held = source_dataset_counts(session, found, ACCESS_LEVELS)
        click.echo(f"{'datasets:':10} {held.get('active', 0)} active, "
                   f"{held.get('withdrawn', 0)} withdrawn")
        history = recent_runs(session, found, runs)
        if not history:
            click.echo("\nnever harvested; run `catalog harvest " + name + "`")
            return
        rows = []
        for run in history:
            c = run.counts or {}
            took = (run.finished_at - run.started_at).total_seconds() \
                if run.finished_at and run.started_at else None
            rows.append([run.id, _when(run.started_at),
                         f"{took:.1f}s" if took is not None else "—", run.status,
                         c.get("created", 0), c.get("updated", 0), c.get("unchanged", 0),
                         c.get("withdrawn", 0), c.get("fields", 0), c.get("errors", 0)])
        click.echo("\n" + _table(rows, ["run", "started", "took", "status", "added", "changed",
                                        "unchanged", "withdrawn", "fields", "errors"]))
        last = history[0]
        if last.errors and error_limit:
            click.echo(f"\nerrors of run {last.id}:")
            for entry in last.errors[:error_limit]:
                click.echo(f"  {entry.get('message', '')[:500]}")
            if len(last.errors) > error_limit:
                click.echo(f"  … and {len(last.errors) - error_limit} more (--errors N)")


@source.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def source_remove(name: str, yes: bool) -> None:
    """Remove a source; its datasets stay in the catalog, marked withdrawn."""
    from catalog.sources import get_source, remove_source

    catalog = _catalog()
    with catalog.transaction() as session:
        found = get_source(session, name)
        if found is None:
            raise click.ClickException(f"no source named {name!r} (see `catalog source list`)")
        if not yes:
            click.confirm(f"Remove source {name!r}? Its datasets are kept, marked withdrawn.",
                          abort=True)
        count = remove_source(session, found, actor=_actor())
    catalog.index_datasets(catalog.pending_index())
    click.echo(f"removed source {name!r}; {count} dataset(s) kept, marked withdrawn")


@source.command("sync")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True,
              help="Also remove sources that the file does not name (their datasets are kept, "
                   "marked withdrawn).")
def source_sync(path: Path, prune: bool) -> None:
    """Make the catalog's sources match a sources.toml file."""
    from catalog.sources import SourceError, read_sources_file, sync_sources

    catalog = _catalog()
    try:
        entries = read_sources_file(path)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    with catalog.transaction() as session:
        result = sync_sources(session, entries, prune=prune, actor=_actor())
    for label, names in (("added", result.added), ("updated", result.updated),
                         ("unchanged", result.unchanged), ("removed", result.removed)):
        if names:
            click.echo(f"{label}: {', '.join(names)}")
    if result.not_in_file:
        click.echo(f"not in {path.name} (kept; --prune removes them): "
                   f"{', '.join(result.not_in_file)}")
    if prune and result.removed:
        catalog.index_datasets(catalog.pending_index())


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


@main.command()
@click.option("--no-wait", is_flag=True,
              help="With a job queue (CATALOG_REDIS_URL): enqueue and return at once.")
def reindex(no_wait: bool) -> None:
    """Rebuild the search index from the database (the system of record).

    The old index keeps serving until the new one is complete. Queued for `catalog worker`
    when CATALOG_REDIS_URL is set.
    """
    _index_job("reindex", no_wait)


@main.command()
@click.option("--no-wait", is_flag=True,
              help="With a job queue (CATALOG_REDIS_URL): enqueue and return at once.")
def reembed(no_wait: bool) -> None:
    """After a model change: embed everything with the current model, rebuild the index,
    and drop the cached vectors of other models."""
    _index_job("reembed", no_wait)


def _index_job(kind: str, no_wait: bool) -> None:
    from indexer import jobs

    try:
        job = _submit(kind, {}, wait=not no_wait, desc=kind, unit="dataset")
    except jobs.JobBusy as exc:
        raise click.ClickException(
            f"the index is busy: job {exc.job.id} ({exc.job.kind}, {exc.job.status})") from None
    if job.status in ("queued", "retrying"):
        click.echo(f"queued as job {job.id}")
        return
    if job.status != "finished":
        raise click.ClickException(f"{kind} failed: {job.error}")
    r = job.result or {}
    click.echo(f"indexed {r.get('documents', 0)} documents in {r.get('seconds', 0):.1f}s "
               f"({r.get('embedded', 0)} texts embedded)")


@main.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def jobs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List recent jobs (harvests, reindexes): status, progress, duration, error."""
    if ctx.invoked_subcommand is not None:
        return
    from indexer import jobs as job_module

    catalog = _catalog()
    job_module.reap(catalog)
    found = job_module.recent_jobs(catalog, limit=limit)
    if as_json:
        click.echo(json.dumps([_job_json(j) for j in found], indent=2))
        return
    if not found:
        click.echo("no jobs yet")
        return
    rows = [[j.id[:8], j.kind, j.args.get("source", ""), j.status, _progress_text(j),
             _when(j.enqueued_at), _took(j), (j.error or "")[:60]] for j in found]
    click.echo(_table(rows, ["job", "kind", "source", "status", "progress", "queued",
                             "took", "error"]))


def _progress_text(job: Any) -> str:
    if job.progress_total:
        return f"{job.progress_done}/{job.progress_total}"
    return str(job.progress_done or "")


def _took(job: Any) -> str:
    if job.started_at and job.finished_at:
        return f"{(job.finished_at - job.started_at).total_seconds():.1f}s"
    return "—"


def _job_json(job: Any) -> dict[str, Any]:
    out = {c: getattr(job, c) for c in ("id", "kind", "args", "target", "status", "via",
                                        "actor", "attempts", "max_attempts", "progress_done",
                                        "progress_total", "stage", "worker", "error",
                                        "result", "retry_of")}
    for c in ("enqueued_at", "started_at", "finished_at"):
        value = getattr(job, c)
        out[c] = value.isoformat() if value else None
    return out


@jobs.command("show")
@click.argument("job_id")
def jobs_show(job_id: str) -> None:
    """Show one job (an id or its first 8 characters), with its traceback if it failed."""
    from indexer import jobs as job_module

    catalog = _catalog()
    job_module.reap(catalog)
    job = job_module.get_job(catalog, job_id)
    if job is None:
        raise click.ClickException(f"no job {job_id!r} (see `catalog jobs`)")
    data = _job_json(job)
    for key in ("id", "kind", "args", "status", "via", "actor", "attempts", "progress_done",
                "progress_total", "stage", "worker", "enqueued_at", "started_at",
                "finished_at", "retry_of", "error"):
        value = data[key]
        if value not in (None, "", {}):
            click.echo(f"{key + ':':16} {json.dumps(value) if isinstance(value, dict) else value}")
    if job.result:
        click.echo("result:\n" + json.dumps(job.result, indent=2)[:5000])
    if job.traceback:
        click.echo("traceback:\n" + job.traceback)


@jobs.command("retry")
@click.argument("job_id")
@click.option("--no-wait", is_flag=True, help="Enqueue and return at once.")
def jobs_retry(job_id: str, no_wait: bool) -> None:
    """Run a failed or abandoned job again (as a new job)."""
    from indexer import jobs as job_module

    catalog = _catalog()
    job_module.reap(catalog)
    try:
        job = job_module.retry(catalog, job_id, actor=_actor())
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    except job_module.JobBusy as exc:
        raise click.ClickException(str(exc)) from None
    except job_module.JobsUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if job.via == "rq" and not no_wait:
        job = job_module.wait(catalog, job.id)
    click.echo(f"job {job.id}: {job.status}" + (f" ({job.error})" if job.error else ""))
    if job.status not in ("finished", "queued"):
        sys.exit(1)


@main.command()
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
@click.option("--no-scheduler", is_flag=True, help="Do not start scheduled harvests.")
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds between scheduler passes.")
@click.option("--once", is_flag=True, help="Without Redis: one scheduler pass, then exit.")
@click.option("--name", help="rq worker name (default: generated).")
def worker(burst: bool, no_scheduler: bool, interval: float, once: bool,
           name: str | None) -> None:
    """Run background jobs: an rq worker plus the scheduler of source harvests.

    With CATALOG_REDIS_URL it takes jobs from the queue (several workers may run). Without
    it, it only schedules: each due harvest runs here, one after the other.
    """
    from catalog.config import load_settings
    from indexer.jobs.worker import run_inline_scheduler, run_worker

    settings = load_settings()
    if settings.redis_url:
        click.echo(f"worker on {settings.redis_url} (queue {settings.queue_name!r}); "
                   "Ctrl+C to stop")
        run_worker(burst=burst, scheduler=not no_scheduler, interval=interval, name=name)
    else:
        if burst:
            raise click.UsageError("--burst needs a job queue (CATALOG_REDIS_URL)")
        click.echo("no CATALOG_REDIS_URL: scheduling harvests and running them here")
        run_inline_scheduler(interval=interval, once=once)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@click.option("--without-times", is_flag=True,
              help="Leave out when things happened, to compare two catalogs that did the "
                   "same work at different moments.")
def dump(output: Path | None, without_times: bool) -> None:
    """Write the catalog's content (agencies, sources, datasets, fields, history) as JSON.

    Sorted and canonical: two catalogs hold the same metadata when their dumps are identical.
    Run bookkeeping (harvest runs, last-run status, index timestamps) is left out.
    """
    from catalog.dump import dump_json

    catalog = _catalog()
    with catalog.session() as session:
        text = dump_json(session, times=not without_times)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}")


def _job_bar(desc: str, unit: str) -> Any:
    from tqdm import tqdm

    return tqdm(desc=desc, unit=unit, disable=not sys.stderr.isatty(), leave=False)


def _show_progress(bar: Any) -> Any:
    def update(job: Any) -> None:
        if job.progress_total is not None and bar.total != job.progress_total:
            bar.total = job.progress_total
        if job.progress_done is not None and job.progress_done >= bar.n:
            bar.update(job.progress_done - bar.n)
        if job.stage:
            bar.set_postfix_str(job.stage, refresh=False)
        bar.refresh()
    return update


def _submit(kind: str, args: dict[str, Any], *, wait: bool, desc: str, unit: str,
            max_attempts: int | None = None) -> Any:
    """Submit a job (inline, or on rq and then wait for it) with a progress bar."""
    from indexer import jobs

    catalog = _catalog()
    with _job_bar(desc, unit) as bar:
        update = _show_progress(bar)
        try:
            job = jobs.submit(catalog, kind, args, actor=_actor(), max_attempts=max_attempts,
                              on_progress=update)
        except jobs.JobsUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        if job.via == "rq":
            if not wait:
                return job
            if not jobs.workers_listening(catalog):
                click.echo(f"note: no worker is listening on queue "
                           f"{catalog.settings.queue_name!r}; start `catalog worker` (or "
                           "Ctrl+C: the job stays queued)", err=True)
            job = jobs.wait(catalog, job.id, on_progress=update)
    return job


@main.command()
@click.argument("names", nargs=-1)
@click.option("--no-index", is_flag=True, help="Store only; do not update the search index.")
@click.option("--no-wait", is_flag=True,
              help="With a job queue (CATALOG_REDIS_URL): enqueue and return at once.")
@click.option("--retries", type=click.IntRange(0, 10), default=None,
              help="Retries of a run that fails for a transient reason (default: none when "
                   "run here, CATALOG_JOB_RETRIES on the queue).")
@click.option("--verbose", "show_all", is_flag=True, help="List every error and warning.")
def harvest(names: tuple[str, ...], no_index: bool, no_wait: bool, retries: int | None,
            show_all: bool) -> None:
    """Harvest sources (default: every enabled source), then show a summary table.

    With CATALOG_REDIS_URL set the runs are queued for `catalog worker` (and followed here
    with a progress bar, unless --no-wait); without it they run here. A run reads the whole
    source before it changes anything: a source that fails or is interrupted leaves the
    catalog as it was. Unchanged datasets are not rewritten or re-embedded; datasets the
    source no longer lists are marked withdrawn, not deleted.
    """
    import signal

    from catalog.sources import get_source, list_sources
    from indexer import jobs

    catalog = _catalog()
    with catalog.session() as session:
        if names:
            for name in names:
                if get_source(session, name) is None:
                    raise click.ClickException(
                        f"no source named {name!r} (see `catalog source list`)")
            todo = list(names)
        else:
            todo = [s.name for s in list_sources(session) if s.enabled]
    if not todo:
        raise click.ClickException("no enabled sources; add one with `catalog source add`")

    def _terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)  # stop cleanly: the run is marked failed
    inline = not catalog.settings.redis_url
    attempts = None if retries is None and not inline else 1 + (retries or 0)
    finished, problems = [], 0
    for name in todo:
        try:
            job = _submit("harvest", {"source": name, "index": not no_index},
                          wait=not no_wait, desc=name, unit="dataset", max_attempts=attempts)
        except jobs.JobBusy as exc:
            click.echo(f"{name}: not started, already being harvested: job {exc.job.id} "
                       f"({exc.job.status}, {exc.job.progress_done}"
                       f"/{exc.job.progress_total or '?'})", err=True)
            problems += 1
            continue
        if job.status in ("queued", "retrying"):
            click.echo(f"{name}: queued as job {job.id} (follow it with `catalog jobs show "
                       f"{job.id[:8]}`)")
            continue
        finished.append(job)
    _print_harvest_summary(finished, verbose=show_all)
    if problems or any(j.status != "finished" for j in finished):
        sys.exit(1)


def _print_harvest_summary(finished: list[Any], *, verbose: bool) -> None:
    rows = []
    for job in finished:
        r = job.result or {}
        c = r.get("counts") or {}
        rows.append([job.args.get("source"), r.get("status") or job.status,
                     c.get("created", 0), c.get("updated", 0), c.get("unchanged", 0),
                     c.get("withdrawn", 0), c.get("fields", 0), c.get("errors", 0),
                     r.get("embedded", 0), f"{r.get('seconds', 0):.1f}s"])
    if rows:
        click.echo(_table(rows, ["source", "status", "added", "changed", "unchanged",
                                 "withdrawn", "fields", "errors", "embedded", "took"]))
    for job in finished:
        r = job.result or {}
        name = job.args.get("source")
        if job.status != "finished":
            click.echo(f"\n{name}: FAILED, nothing in the catalog was changed: "
                       f"{r.get('failure') or job.error}", err=True)
        errors = r.get("errors") or []
        shown = errors if verbose else errors[:10]
        if shown:
            click.echo(f"\n{name}: {r.get('error_count', len(errors))} record error(s); the "
                       "last good copy of each is kept:", err=True)
            for message in shown:
                click.echo(f"  {message[:500]}", err=True)
            if r.get("error_count", len(errors)) > len(shown):
                click.echo(f"  … and {r.get('error_count', len(errors)) - len(shown)} more "
                           f"(--verbose, or `catalog source show {name}`)", err=True)
        warnings = r.get("warnings") or []
        for warning in warnings if verbose else warnings[:5]:
            click.echo(f"{name}: warning: {warning}", err=True)
        if r.get("index_error"):
            click.echo(f"{name}: warning: the search index could not be updated "
                       f"({r['index_error']}); the data is stored — run `catalog reindex`",
                       err=True)


@main.command()
@click.argument("dataset_id", type=int)
@click.argument("field_name", required=False)
@click.option("--title", help="New dataset title.")
@click.option("--label", help="New field label.")
@click.option("--description", help="New description.")
@click.option("--revert", "reverts", multiple=True,
              type=click.Choice(["title", "label", "description"]),
              help="Drop the steward's edit of this column and restore the source's text.")
@click.option("--by", "by", help="Who edits (default: cli:<user>).")
def edit(dataset_id: int, field_name: str | None, title: str | None, label: str | None,
         description: str | None, reverts: tuple[str, ...], by: str | None) -> None:
    """A steward's edit of a dataset's (or one field's) title, label or description.

    The edit is kept through later harvests; the source's own text is recorded beside it and
    shown on the page when the source changes it.
    """
    from sqlalchemy import select

    from catalog.models import Dataset, Field
    from catalog.store import steward_edit

    changes: dict[str, str | None] = {}
    for column, value in (("title", title), ("label", label), ("description", description)):
        if value is not None:
            changes[column] = value
    for column in reverts:
        changes[column] = None
    if not changes:
        raise click.UsageError("nothing to edit: give --title, --label, --description or "
                               "--revert")
    catalog = _catalog()
    with catalog.transaction() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            raise click.ClickException(f"no dataset with id {dataset_id}")
        target = None
        if field_name is not None:
            target = session.scalar(select(Field).where(Field.dataset_id == dataset_id,
                                                        Field.name == field_name))
            if target is None:
                raise click.ClickException(
                    f"dataset {dataset_id} has no field named {field_name!r}")
        try:
            steward_edit(session, dataset, changes, actor=by or _actor(), field=target)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    catalog.index_datasets([dataset_id])
    what = f"field {field_name!r} of dataset {dataset_id}" if field_name else \
        f"dataset {dataset_id}"
    click.echo(f"edited {what}: {', '.join(sorted(changes))}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo catalog, then exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Load the bundled fixtures into a fresh catalog under CATALOG_DATA_DIR/demo and serve it."""
    from catalog.config import load_settings
    from indexer.load import load_paths
    from web.app import create_app

    if not FIXTURES_DIR.is_dir():
        raise click.ClickException(f"fixtures not found at {FIXTURES_DIR}")
    data_dir = load_settings().data_dir / "demo"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    os.environ.pop("CATALOG_DATABASE_URL", None)
    catalog = _catalog(str(data_dir))
    click.echo(f"Loading the demo catalog from {FIXTURES_DIR} into {data_dir} …")
    started = time.perf_counter()
    report = load_paths(catalog, [FIXTURES_DIR])
    _print_load_report(report, verbose=False)
    click.echo(f"took {time.perf_counter() - started:.1f}s")
    if no_serve:
        return
    app = create_app(catalog)
    click.echo(f"Serving the demo catalog on http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
