"""Background work from the command line: ``harvest``, ``reindex``, ``reembed``, ``jobs`` and
``worker``.

Without CATALOG_REDIS_URL a job runs here, with a progress bar; with it, the job is queued
for ``catalog worker`` and followed here until it ends (unless ``--no-wait``).
"""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import Any

import click

from web.cli.context import CliState, actor, pass_state
from web.cli.output import echo_json, echo_some, json_option, progress_bar, table, when

NO_WAIT_HELP = "With a job queue (CATALOG_REDIS_URL): enqueue and return at once."


def job_module() -> ModuleType:
    """The catalog's jobs module, imported when a command needs it (it loads the models)."""
    from indexer import jobs

    return jobs


def show_progress(bar: Any) -> Any:
    """A callback that moves the progress bar with a job's progress and stage."""
    def update(job: Any) -> None:
        if job.progress_total is not None and bar.total != job.progress_total:
            bar.total = job.progress_total
        if job.progress_done is not None and job.progress_done >= bar.n:
            bar.update(job.progress_done - bar.n)
        if job.stage:
            bar.set_postfix_str(job.stage, refresh=False)
        bar.refresh()
    return update


def submit(state: CliState, kind: str, args: dict[str, Any], *, wait: bool, desc: str,
           unit: str, max_attempts: int | None = None) -> Any:
    """Submit a job (inline, or on rq and then wait for it) with a progress bar."""
    jobs = job_module()
    catalog = state.catalog
    with progress_bar(unit, desc=desc, leave=False) as bar:
        update = show_progress(bar)
        try:
            job = jobs.submit(catalog, kind, args, actor=actor(), max_attempts=max_attempts,
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


# ------------------------------------------------------------------------ harvest


@click.command()
@click.argument("names", nargs=-1)
@click.option("--no-index", is_flag=True, help="Store only; do not update the search index.")
@click.option("--no-wait", is_flag=True, help=NO_WAIT_HELP)
@click.option("--retries", type=click.IntRange(0, 10), default=None,
              help="Retries of a run that fails for a transient reason (default: none when "
                   "run here, CATALOG_JOB_RETRIES on the queue).")
@click.option("--verbose", "show_all", is_flag=True, help="List every error and warning.")
@json_option
@pass_state
def harvest(state: CliState, names: tuple[str, ...], no_index: bool, no_wait: bool,
            retries: int | None, show_all: bool, as_json: bool) -> None:
    """Harvest sources (default: every enabled source), then show a summary table.

    With CATALOG_REDIS_URL set the runs are queued for `catalog worker` (and followed here
    with a progress bar, unless --no-wait); without it they run here. A run reads the whole
    source before it changes anything: a source that fails or is interrupted leaves the
    catalog as it was. Unchanged datasets are not rewritten or re-embedded; datasets the
    source no longer lists are marked withdrawn, not deleted.
    """
    import signal

    from catalog.sources import get_source, list_sources

    jobs = job_module()
    catalog = state.catalog
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
    finished, queued, problems = [], [], 0
    for name in todo:
        try:
            job = submit(state, "harvest", {"source": name, "index": not no_index},
                         wait=not no_wait, desc=name, unit="dataset", max_attempts=attempts)
        except jobs.JobBusy as exc:
            click.echo(f"{name}: not started, already being harvested: job {exc.job.id} "
                       f"({exc.job.status}, {exc.job.progress_done}"
                       f"/{exc.job.progress_total or '?'})", err=True)
            problems += 1
            continue
        if job.status in ("queued", "retrying"):
            queued.append(job)
            if not as_json:
                click.echo(f"{name}: queued as job {job.id} (follow it with `catalog jobs "
                           f"show {job.id[:8]}`)")
            continue
        finished.append(job)
    if as_json:
        echo_json([{"source": j.args.get("source"), **job_json(j)} for j in finished + queued])
    else:
        print_harvest_summary(finished, verbose=show_all)
    if problems or any(j.status != "finished" for j in finished):
        sys.exit(1)


def print_harvest_summary(finished: list[Any], *, verbose: bool) -> None:
    """A table of what each finished harvest did, then its failure, errors and warnings."""
    rows = []
    for job in finished:
        r = job.result or {}
        c = r.get("counts") or {}
        rows.append([job.args.get("source"), r.get("status") or job.status,
                     c.get("created", 0), c.get("updated", 0), c.get("unchanged", 0),
                     c.get("withdrawn", 0), c.get("fields", 0), c.get("errors", 0),
                     r.get("embedded", 0), f"{r.get('seconds', 0):.1f}s"])
    if rows:
        click.echo(table(rows, ["source", "status", "added", "changed", "unchanged",
                                "withdrawn", "fields", "errors", "embedded", "took"]))
    for job in finished:
        r = job.result or {}
        name = job.args.get("source")
        if job.status != "finished":
            click.echo(f"\n{name}: FAILED, nothing in the catalog was changed: "
                       f"{r.get('failure') or job.error}", err=True)
        errors = r.get("errors") or []
        count = r.get("error_count", len(errors))
        if errors:
            click.echo(f"\n{name}: {count} record error(s); the last good copy of each is "
                       "kept:", err=True)
            echo_some(errors, None if verbose else 10, total=count, err=True,
                      hint=f"--verbose, or `catalog source show {name}`")
        warnings = r.get("warnings") or []
        for warning in warnings if verbose else warnings[:5]:
            click.echo(f"{name}: warning: {warning}", err=True)
        if r.get("index_error"):
            click.echo(f"{name}: warning: the search index could not be updated "
                       f"({r['index_error']}); the data is stored — run `catalog reindex`",
                       err=True)


# ------------------------------------------------------------------ index rebuilds


@click.command()
@click.option("--no-wait", is_flag=True, help=NO_WAIT_HELP)
@json_option
@pass_state
def reindex(state: CliState, no_wait: bool, as_json: bool) -> None:
    """Rebuild the search index from the database (the system of record).

    The old index keeps serving until the new one is complete. Queued for `catalog worker`
    when CATALOG_REDIS_URL is set.
    """
    index_job(state, "reindex", no_wait, as_json)


@click.command()
@click.option("--no-wait", is_flag=True, help=NO_WAIT_HELP)
@json_option
@pass_state
def reembed(state: CliState, no_wait: bool, as_json: bool) -> None:
    """After a model change: embed everything with the current model, rebuild the index,
    and drop the cached vectors of other models."""
    index_job(state, "reembed", no_wait, as_json)


def index_job(state: CliState, kind: str, no_wait: bool, as_json: bool = False) -> None:
    """Run (or queue) a reindex or reembed job and say what it did."""
    jobs = job_module()
    try:
        job = submit(state, kind, {}, wait=not no_wait, desc=kind, unit="dataset")
    except jobs.JobBusy as exc:
        raise click.ClickException(
            f"the index is busy: job {exc.job.id} ({exc.job.kind}, {exc.job.status})") from None
    if as_json:
        echo_json(job_json(job))
        if job.status not in ("finished", "queued", "retrying"):
            sys.exit(1)
        return
    if job.status in ("queued", "retrying"):
        click.echo(f"queued as job {job.id}")
        return
    if job.status != "finished":
        error = job.error or ""
        hint = ""
        if error.startswith(("ConnectionError", "ConnectionTimeout")):
            hint = (" — the search engine does not answer (CATALOG_ELASTICSEARCH_URL); the "
                    "old index and the database are untouched")
        raise click.ClickException(f"{kind} failed: {error}{hint}")
    r = job.result or {}
    click.echo(f"indexed {r.get('documents', 0)} documents in {r.get('seconds', 0):.1f}s "
               f"({r.get('embedded', 0)} texts embedded)")


# --------------------------------------------------------------------------- jobs


def progress_text(job: Any) -> str:
    """A job's progress as ``done/total``."""
    if job.progress_total:
        return f"{job.progress_done}/{job.progress_total}"
    return str(job.progress_done or "")


def took(job: Any) -> str:
    """How long a finished job ran, or ``—``."""
    if job.started_at and job.finished_at:
        return f"{(job.finished_at - job.started_at).total_seconds():.1f}s"
    return "—"


def job_json(job: Any) -> dict[str, Any]:
    """A job as one JSON record of ``catalog jobs --json``."""
    out = {c: getattr(job, c) for c in ("id", "kind", "args", "target", "status", "via",
                                        "actor", "attempts", "max_attempts", "progress_done",
                                        "progress_total", "stage", "worker", "error",
                                        "result", "retry_of")}
    for c in ("enqueued_at", "started_at", "finished_at"):
        value = getattr(job, c)
        out[c] = value.isoformat() if value else None
    return out


@click.group("jobs", invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def jobs_group(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List recent jobs (harvests, reindexes): status, progress, duration, error."""
    if ctx.invoked_subcommand is not None:
        return
    jobs = job_module()
    catalog = ctx.ensure_object(CliState).catalog
    jobs.reap(catalog)
    found = jobs.recent_jobs(catalog, limit=limit)
    if as_json:
        click.echo(json.dumps([job_json(j) for j in found], indent=2))
        return
    if not found:
        click.echo("no jobs yet")
        return
    rows = [[j.id[:8], j.kind, j.args.get("source", ""), j.status, progress_text(j),
             when(j.enqueued_at), took(j), (j.error or "")[:60]] for j in found]
    click.echo(table(rows, ["job", "kind", "source", "status", "progress", "queued",
                            "took", "error"]))


@jobs_group.command("show")
@click.argument("job_id")
@json_option
@pass_state
def jobs_show(state: CliState, job_id: str, as_json: bool) -> None:
    """Show one job (an id or its first 8 characters), with its traceback if it failed."""
    jobs = job_module()
    catalog = state.catalog
    jobs.reap(catalog)
    job = jobs.get_job(catalog, job_id)
    if job is None:
        raise click.ClickException(f"no job {job_id!r} (see `catalog jobs`)")
    data = job_json(job)
    if as_json:
        echo_json({**data, "traceback": job.traceback})
        return
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


@jobs_group.command("retry")
@click.argument("job_id")
@click.option("--no-wait", is_flag=True, help="Enqueue and return at once.")
@json_option
@pass_state
def jobs_retry(state: CliState, job_id: str, no_wait: bool, as_json: bool) -> None:
    """Run a failed or abandoned job again (as a new job)."""
    jobs = job_module()
    catalog = state.catalog
    jobs.reap(catalog)
    try:
        job = jobs.retry(catalog, job_id, actor=actor())
    except (LookupError, jobs.JobBusy, jobs.JobsUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    if job.via == "rq" and not no_wait:
        job = jobs.wait(catalog, job.id)
    if as_json:
        echo_json(job_json(job))
    else:
        click.echo(f"job {job.id}: {job.status}" + (f" ({job.error})" if job.error else ""))
    if job.status not in ("finished", "queued"):
        sys.exit(1)


# ------------------------------------------------------------------------- worker


@click.command()
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
