"""A rebuild on Elasticsearch interrupted by stopping the node: what survives.

Uses the catalog loaded by ``benchmarks/search_quality.py`` (its database) and the test
node that ``scripts/services.sh`` manages. Steps, each printed:

1. build the index on Elasticsearch and record its document count, a query's answers
   and a digest of the database;
2. start a second rebuild and stop the node after two batches have been sent;
3. start the node again: the alias must still serve the old index (same count, same
   answers) and the database must be unchanged;
4. rebuild again: it must succeed.

    python benchmarks/rebuild_resilience.py [--data-dir var/bench-quality]

It stops and starts the node: never point it at a node that others use.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from catalog.config import load_settings  # noqa: E402
from catalog.search.elasticsearch import ElasticsearchEngine  # noqa: E402
from catalog.search.query import SearchQuery  # noqa: E402
from catalog.service import Catalog  # noqa: E402

SERVICES = ROOT / "scripts" / "services.sh"
QUERY = SearchQuery(text="how long the patient stayed in the hospital", per_page=10)


def node(action: str) -> None:
    """Start or stop the test node through the project's script."""
    subprocess.run([str(SERVICES), action, "elasticsearch"], check=True,
                   stdout=subprocess.DEVNULL)


def database_digest(catalog: Catalog) -> str:
    """SHA-256 over every dataset and field row, in a stable order."""
    digest = hashlib.sha256()
    with catalog.db.connect() as conn:
        for table, order in (("datasets", "id"), ("fields", "id"), ("changes", "id")):
            for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}")):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def main() -> None:
    """Run the four steps and print what each found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-quality")
    parser.add_argument("--url", default=os.environ.get("CATALOG_ELASTICSEARCH_URL",
                                                        "http://127.0.0.1:59200"))
    args = parser.parse_args()

    engine = ElasticsearchEngine(args.url, index="catalog-bench-resilience")
    catalog = Catalog(load_settings(data_dir=args.data_dir, database_url=None), engine=engine)
    count = catalog.reindex()
    answers = [h.doc_id for h in catalog.search(QUERY).hits]
    digest = database_digest(catalog)
    old_indices = engine._indices()
    print(f"1. built {old_indices} with {count} documents; database {digest[:16]}")

    def interrupted():  # type: ignore[no-untyped-def]
        for number, batch in enumerate(catalog._batches(), start=1):
            yield batch
            if number == 2:
                print("2. two batches sent; stopping the node", flush=True)
                node("stop")

    try:
        catalog.search_engine.rebuild(interrupted())
        print("   the rebuild did not fail: the node was not stopped in time")
    except Exception as exc:  # the failure is the point
        print(f"   the rebuild failed as expected: {type(exc).__name__}")

    node("start")
    same_count = engine.count()
    same_answers = [h.doc_id for h in catalog.search(QUERY).hits]
    print(f"3. after restart the alias serves {engine._indices()} with {same_count} documents "
          f"(same index: {engine._indices() == old_indices}, same count: {same_count == count},"
          f" same answers: {same_answers == answers}); database unchanged: "
          f"{database_digest(catalog) == digest}")
    again = catalog.reindex()
    print(f"4. second rebuild: {again} documents into {engine._indices()}; "
          f"answers unchanged: {[h.doc_id for h in catalog.search(QUERY).hits] == answers}")
    for index in engine._indices():
        engine.es.indices.delete(index=index, ignore_unavailable=True)


if __name__ == "__main__":
    main()
