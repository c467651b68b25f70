"""Harvest runs measured: incremental re-runs, whole-run faults, and a run killed halfway.

Serves recorded sources on a local HTTP server (tests/recorded_sources.py) and harvests them
into a fresh embedded catalog under ``--data-dir``, printing Markdown tables:

1. **Incremental.** Every source harvested twice. For each run: wall time, datasets
   added/changed/unchanged, texts embedded, documents indexed, and the SQL statements that
   wrote catalog tables (agencies, datasets, fields, changes, embedding cache), counted on
   the database connection; run bookkeeping (harvest_runs, sources) is counted apart. With
   ``--corpus`` (the default when ../shared/corpus exists) the sources are the larger real
   files of the corpus: all six Socrata Discovery responses as one domain, every DCAT
   ``data.json``, all 41 CTData data packages and the DOL/BLS/CDSS dictionaries.
2. **Faults.** Each fault case against the CKAN source after a good run, with the source's
   content changed so that a good run WOULD write: what the run reported and whether the
   catalog dump (``catalog dump``) is byte-identical before and after.
3. **Killed.** ``catalog harvest`` in a subprocess, SIGKILLed while it waits for page 2;
   dumps compared, then the next run.

    python benchmarks/harvest_runs.py [--data-dir var/bench-harvest] [--no-corpus]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from catalog.config import load_settings  # noqa: E402
from catalog.dump import dump_json  # noqa: E402
from catalog.service import Catalog  # noqa: E402
from catalog.sources import save_source, validate_source  # noqa: E402
from indexer.harvest import harvest_source  # noqa: E402
from indexer.http import Fetcher  # noqa: E402
from tests.recorded_sources import (  # noqa: E402
    RecordedPortals,
    garbage_after_first_page,
    html_page,
    huge_body,
    stalled,
    truncated_json,
)

CORPUS = ROOT.parent / "shared" / "corpus"
CATALOG_TABLES = ("agencies", "datasets", "fields", "changes", "embedding_cache")
BOOKKEEPING = ("harvest_runs", "sources")


class WriteCounter:
    """Counts INSERT/UPDATE/DELETE statements per table on an engine."""

    def __init__(self, engine: Any) -> None:
        self.counts: dict[str, int] = {}
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any,
              executemany: bool) -> None:
        words = statement.lstrip().split(None, 3)
        if not words or words[0].upper() not in ("INSERT", "UPDATE", "DELETE"):
            return
        verb = words[0].upper()
        rest = statement.upper()
        table = None
        for name in (*CATALOG_TABLES, *BOOKKEEPING):
            if f" {name.upper()}" in rest.split("(")[0] or f"INTO {name.upper()}" in rest:
                table = name
                break
        key = table or f"other:{verb}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def take(self) -> dict[str, int]:
        out, self.counts = self.counts, {}
        return out


def corpus_portals(portals: RecordedPortals) -> None:
    """Replace the small recorded sources with the corpus's larger real files."""
    results, seen = [], set()
    for path in sorted((CORPUS / "socrata" / "discovery_api").glob("*.json")):
        for result in json.loads(path.read_text("utf-8"))["results"]:
            key = result["resource"]["id"]
            if key not in seen:
                seen.add(key)
                results.append(result)
    portals.socrata = {"results": results, "resultSetSize": len(results)}
    for path in sorted((CORPUS / "dcat_us").glob("*.json")):
        portals.serve_json(f"/dcat/{path.name}", json.loads(path.read_text("utf-8")))
    for path in sorted((CORPUS / "datapackage" / "ctdata").glob("*.json")):
        portals.serve_file(f"/ctdata/{path.name}", "application/json", path.read_bytes())
    for folder, kind in (("dol_developer_portal", "text/markdown; charset=utf-8"),
                         ("bls_qcew_nonprofit", "text/csv; charset=utf-8"),
                         ("ca_cdss_calworks", "text/csv; charset=utf-8")):
        for path in sorted((CORPUS / "data_dictionaries" / folder).iterdir()):
            portals.serve_file(f"/dict/{path.name}", kind, path.read_bytes())


def corpus_sources(portals: RecordedPortals) -> list[dict[str, Any]]:
    base = portals.url
    sources = [s for s in portals.sources() if s["name"] in ("barcelona-ckan", "chicago")]
    sources[1]["options"] = {"domain": "data.cityofchicago.org", "limit": 20}
    for path in sorted(p for p in portals.dcat if p.startswith("/dcat/")):
        name = "dcat-" + path.rsplit("/", 1)[1].split(".")[0].replace("_", "-")
        sources.append({"name": name, "type": "dcat", "url": base + path})
    sources.append({"name": "ctdata", "type": "frictionless", "url": base + "/ctdata/",
                    "agency": "CTData Collaborative", "options": {"packages": [
                        base + p for p in sorted(portals.files) if p.startswith("/ctdata/")
                        and "/ctdata/" in p and (CORPUS / "datapackage" / "ctdata" /
                                                 p.rsplit("/", 1)[1]).exists()]}})
    sources.append({"name": "dictionaries", "type": "web", "url": base + "/dict/",
                    "agency": "U.S. Department of Labor", "options": {"urls": [
                        base + p for p in sorted(portals.files) if p.startswith("/dict/")]}})
    return sources


def fast_fetcher() -> Fetcher:
    return Fetcher(connect_timeout=1.0, read_timeout=1.0, retries=1, backoff_factor=0.01,
                   max_backoff=0.05, max_retry_after=0.5, max_bytes=20 * 1024 * 1024)


def incremental(data_dir: Path, use_corpus: bool) -> None:
    print("## Incremental: every source harvested twice\n")
    with RecordedPortals() as portals:
        if use_corpus:
            corpus_portals(portals)
            sources = corpus_sources(portals)
        else:
            sources = portals.sources()
        catalog = Catalog(load_settings(data_dir=data_dir / "incremental", database_url=None))
        counter = WriteCounter(catalog.db)
        with catalog.transaction() as session:
            for spec in sources:
                save_source(session, validate_source(spec))
        catalog.embedder.embed(["load the model before timing"])
        counter.take()
        totals: dict[int, dict[str, float]] = {}
        dumps = []
        for attempt in (1, 2):
            dumps.append(_dump(catalog))
            counter.take()
            started = time.perf_counter()
            rows = []
            for spec in sources:
                with fast_fetcher() as fetcher:
                    report = harvest_source(catalog, spec["name"], fetcher=fetcher)
                c = report.counts
                rows.append((spec["name"], report.status, c["created"], c["updated"],
                             c["unchanged"], c["fields"], c["errors"], report.embedded,
                             report.indexed, report.seconds))
            took = time.perf_counter() - started
            writes = counter.take()
            catalog_writes = sum(n for t, n in writes.items() if t not in BOOKKEEPING)
            bookkeeping = sum(n for t, n in writes.items() if t in BOOKKEEPING)
            totals[attempt] = {"seconds": took, "writes": catalog_writes,
                               "embedded": sum(r[7] for r in rows),
                               "datasets": sum(r[2] + r[3] + r[4] for r in rows),
                               "fields": sum(r[5] for r in rows)}
            print(f"### Run {attempt}\n")
            print("| source | status | added | changed | unchanged | fields | errors | "
                  "embedded | indexed | seconds |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for row in rows:
                print("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v)
                                        for v in row) + " |")
            print(f"\nrun {attempt}: {took:.2f} s; SQL writes to catalog tables: "
                  f"{catalog_writes} ({', '.join(f'{k} {v}' for k, v in sorted(writes.items()) if k not in BOOKKEEPING) or 'none'}); "  # noqa: E501
                  f"to run bookkeeping (harvest_runs, sources): {bookkeeping}\n")
        dumps.append(_dump(catalog))
        one, two = totals[1], totals[2]
        print(f"**Second run: {two['seconds']:.2f} s vs {one['seconds']:.2f} s "
              f"({two['seconds'] / one['seconds']:.3f} of the first), "
              f"{int(two['embedded'])} texts embedded, {int(two['writes'])} catalog writes; "
              f"dump after run 2 identical to dump after run 1: {dumps[1] == dumps[2]}; "
              f"{int(one['datasets'])} datasets, {int(one['fields'])} fields.**\n")
        catalog.close()


def _dump(catalog: Catalog) -> str:
    with catalog.session() as session:
        return dump_json(session)


FAULTS: list[tuple[str, str, Any]] = [
    ("HTTP 500 then success", "search", lambda r: (500, {}, "<h1>Error</h1>")
     if r.hits == 0 else None),
    ("HTTP 500 every time", "search", lambda r: (500, {}, "<h1>Internal Server Error</h1>")),
    ("timeout (no answer for 3 s, limit 1 s)", "search", stalled(3.0)),
    ("truncated JSON", "search", truncated_json),
    ("HTML where JSON was expected", "search", html_page),
    ("200 MB response (limit 20 MB)", "search", huge_body),
    ("paging loop (same page forever)", "search", "loop"),
    ("garbage from page 2 on", "search", garbage_after_first_page),
    ("source suddenly lists nothing", "search", "empty"),
    ("data dictionary of one package fails (per record)", "datastore",
     lambda r: (500, {}, "<h1>Error</h1>")),
    ("a dataset disappears", "content", "drop"),
    ("a field is renamed", "content", "rename"),
]


def faults(data_dir: Path) -> None:
    print("## Faults: each case after a good run, with the source changed since\n")
    print("| fault | run status | what the run reported | catalog before = after | "
          "last good copy kept |")
    print("|---|---|---|---|---|")
    for number, (label, where, behaviour) in enumerate(FAULTS):
        with RecordedPortals() as portals:
            folder = data_dir / f"fault-{number}"
            catalog = Catalog(load_settings(data_dir=folder, database_url=None))
            with catalog.transaction() as session:
                save_source(session, validate_source(portals.sources()[0]))
            with fast_fetcher() as fetcher:
                harvest_source(catalog, "barcelona-ckan", fetcher=fetcher)
            for package in portals.ckan_packages:
                package["notes"] = "Changed since the good run."
            if where == "content":
                if behaviour == "drop":
                    portals.ckan_packages = portals.ckan_packages[1:]
                else:
                    for dictionary in portals.ckan_dictionaries.values():
                        dictionary["result"]["fields"][1]["id"] = "renamed_field"
            before = _dump(catalog)
            path = {"search": "/ckan/api/action/package_search",
                    "datastore": "/ckan/api/action/datastore_search"}.get(where)
            if behaviour == "loop":
                portals.faults[path] = lambda r, p=portals: (200, {}, {"success": True, "result": {
                    "count": 10**6, "results": p.ckan_packages[:1]}})
            elif behaviour == "empty":
                portals.ckan_packages = []
            elif callable(behaviour):
                default = portals._package_search if where == "search" else portals._datastore

                def serve(request: Any, b: Any = behaviour, d: Any = default) -> Any:
                    answer = b(request)
                    return answer if answer is not None else d(request)
                portals.faults[path] = serve
            with fast_fetcher() as fetcher:
                report = harvest_source(catalog, "barcelona-ckan", fetcher=fetcher)
            after = _dump(catalog)
            c = report.counts
            if report.status == "failed":
                said = f"failed: {report.failure}"
            else:
                said = (f"complete: {c['created']} added, {c['updated']} changed, "
                        f"{c['unchanged']} unchanged, {c['withdrawn']} withdrawn, "
                        f"{c['errors']} record error(s)")
                if report.errors:
                    said += f" — {report.errors[0]['message']}"
            said = said.replace("|", "\\|").replace("\n", " ")
            if len(said) > 260:
                said = said[:257] + "…"
            identical = "identical" if before == after else "changed (as the source did)"
            kept = _kept(catalog)
            print(f"| {label} | {report.status} | {said} | {identical} | {kept} |")
            catalog.close()
    print()


def _kept(catalog: Catalog) -> str:
    from sqlalchemy import func, select

    from catalog.models import Dataset, Field

    with catalog.session() as session:
        datasets = session.scalar(select(func.count(Dataset.id)))
        withdrawn = session.scalar(select(func.count(Dataset.id))
                                   .where(Dataset.status == "withdrawn"))
        fields = session.scalar(select(func.count(Field.id)))
    return f"{datasets} datasets ({withdrawn} withdrawn), {fields} fields"


def killed(data_dir: Path) -> None:
    print("## Killed: `catalog harvest` SIGKILLed halfway\n")
    folder = data_dir / "killed"
    env = {**os.environ, "CATALOG_DATA_DIR": str(folder), "HF_HUB_OFFLINE": "1"}
    env.pop("CATALOG_DATABASE_URL", None)
    env.pop("CATALOG_ELASTICSEARCH_URL", None)
    command = [sys.executable, "-m", "web.cli"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *args], env=env, cwd=ROOT, capture_output=True,
                              text=True, check=False)

    with RecordedPortals() as portals:
        url = f"{portals.url}/socrata"
        cli("source", "add", "chicago", "--type", "socrata", "--url", url,
            "--option", "domain=data.cityofchicago.org", "--option", "limit=2")
        cli("harvest", "chicago")
        for result in portals.socrata["results"]:
            result["resource"]["description"] = "Changed since the first run."
        before = cli("dump").stdout
        reached: list[float] = []

        def stall(request: Any) -> Any:
            if int(request.query.get("offset", 0)) > 0:
                reached.append(time.monotonic())
                time.sleep(60)
            return portals._discovery(request)

        portals.faults["/socrata/api/catalog/v1"] = stall
        process = subprocess.Popen([*command, "harvest", "chicago"], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not reached and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = cli("dump").stdout
        print(f"- killed while page 2 was pending (page 1 read): dump identical to before: "
              f"{before == after} ({len(before):,} bytes)")
        del portals.faults["/socrata/api/catalog/v1"]
        done = cli("harvest", "chicago")
        print(f"- next run: exit {done.returncode}")
        print("\n```\n" + done.stdout.strip() + "\n```\n")
        shown = cli("source", "show", "chicago", "--errors", "0").stdout
        print("```\n" + shown.strip() + "\n```\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-harvest")
    parser.add_argument("--no-corpus", action="store_true",
                        help="Use only the small recorded sources of tests/recorded.")
    parser.add_argument("--only", choices=("incremental", "faults", "killed"))
    args = parser.parse_args()
    if args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    use_corpus = not args.no_corpus and CORPUS.is_dir()
    if args.only in (None, "incremental"):
        incremental(args.data_dir, use_corpus)
    if args.only in (None, "faults"):
        faults(args.data_dir)
    if args.only in (None, "killed"):
        killed(args.data_dir)


if __name__ == "__main__":
    main()
