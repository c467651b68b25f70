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


@main.command()
def reindex() -> None:
    """Rebuild the search index from the database (the system of record)."""
    catalog = _catalog()
    started = time.perf_counter()
    count = catalog.reindex()
    click.echo(f"indexed {count} documents in {time.perf_counter() - started:.1f}s")


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
