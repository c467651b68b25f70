"""``catalog search``: the catalog by meaning, down to the single field."""

from __future__ import annotations

import json
from typing import Any

import click

from catalog.vocabulary import AccessLevel, ResultKind, SearchMode, values
from web.cli.context import CliState, pass_state

ACCESS_CHOICES = values(AccessLevel)


def _source_dataset(payload: dict[str, Any]) -> Any:
    """The dataset's identifier as its source gives it (an index built before there was
    one in the payload holds the catalog's identifier only)."""
    return payload.get("source_dataset") or payload.get("dataset")


def hit_json(hit: Any) -> dict[str, Any]:
    """A search hit as one JSON record of ``catalog search --json``.

    ``dataset`` is the dataset's identifier as its source gives it, as judgments name it
    (../shared/eval/README.md): a Socrata id, a CKAN name, a file's name for a file
    without identifiers of its own, also when the catalog splits that file into one
    dataset per program. ``dataset_identifier`` is the catalog's own, unique within the
    agency (``DOL_Data_Dictionary-dol-apprenticeship``); for most datasets the two agree.
    """
    payload = hit.payload
    return {
        "kind": hit.kind,
        "agency": payload.get("agency_name"),
        "agency_slug": payload.get("agency"),
        "dataset": _source_dataset(payload),
        "dataset_identifier": payload.get("dataset"),
        "dataset_title": payload.get("dataset_title"),
        "field": payload.get("field"),
        "title": payload.get("title"),
        "score": round(hit.score, 6),
        "more_in_dataset": hit.more_in_dataset,
        "more_fields": [f["field"] for f in hit.more_fields],
        "matched_fields": [f["field"] for f in hit.matched_fields],
        "also_in": [_source_dataset(c) for c in hit.also_in],
        "also_in_count": hit.also_in_count,
    }


@click.command()
@click.argument("query", required=False)
@click.option("--queries", "queries_file", type=click.File("r"),
              help="Run one query per line of this file ('-' for stdin), in one process; "
                   "with --json, one JSON object per line.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--kind", type=click.Choice(values(ResultKind)), help="Only datasets or fields.")
@click.option("--agency", multiple=True, help="Only this agency (slug); repeatable.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Hits per query.")
@click.option("--mode", type=click.Choice(values(SearchMode)), default=SearchMode.HYBRID.value,
              show_default=True, help="Ranking: fused, BM25 only, or embeddings only.")
@click.option("--access", multiple=True, type=click.Choice(ACCESS_CHOICES),
              help="Access levels to include (default public only); repeatable.")
@click.option("--no-collapse", is_flag=True,
              help="List near-identical fields of one dataset one by one instead of as one "
                   "hit with 'and N more in this dataset'.")
@pass_state
def search(state: CliState, query: str | None, queries_file: Any, as_json: bool,
           kind: str | None, agency: tuple[str, ...], limit: int, mode: str,
           access: tuple[str, ...], no_collapse: bool) -> None:
    """Search the catalog by meaning, down to the single field."""
    from catalog.search.query import SearchQuery

    if (query is None) == (queries_file is None):
        raise click.UsageError("give either QUERY or --queries FILE")
    texts = [query] if query is not None else [
        line.strip() for line in queries_file if line.strip() and not line.startswith("#")
    ]
    allowed = access or ("public",)
    catalog = state.catalog
    queries = [
        SearchQuery(text=t, kind=kind, agencies=agency, mode=mode, per_page=limit,
                    allowed_access=allowed, collapse=not no_collapse)
        for t in texts
    ]
    results = catalog.search_many(queries)
    for text, result in zip(texts, results, strict=True):
        if as_json:
            record = {"query": text, "total": result.total,
                      "hits": [hit_json(h) for h in result.hits]}
            click.echo(json.dumps(record, ensure_ascii=False) if queries_file
                       else json.dumps(record, indent=2, ensure_ascii=False))
            continue
        click.echo(f"{result.total} results for {text!r} ({result.took_ms:.0f} ms)")
        for i, hit in enumerate(result.hits, start=1):
            p = hit.payload
            # A field without a label is titled by its name: the name once, not twice.
            name = (f"{p['field']} — " if p.get("field") and p["field"] != p.get("title")
                    else "")
            click.echo(f"{i:3}. [{hit.kind}] {name}{p.get('title')}")
            click.echo(f"     {p.get('dataset_title')} · {p.get('agency_name')}")
            if hit.more_in_dataset:
                names = ", ".join(f["field"] for f in hit.more_fields)
                rest = hit.more_in_dataset - len(hit.more_fields)
                click.echo(f"     and {hit.more_in_dataset} more in this dataset: {names}"
                           + (f" and {rest} others" if rest > 0 else ""))
            if hit.matched_fields:
                names = ", ".join(f["field"] for f in hit.matched_fields)
                click.echo(f"     matching fields: {names}")
            if hit.also_in_count:
                names = ", ".join(f"{c.get('dataset_title') or c['dataset']} ({c['dataset']})"
                                  for c in hit.also_in)
                more = hit.also_in_count - len(hit.also_in)
                click.echo(f"     also in {names}" + (f" and {more} more" if more > 0 else ""))
