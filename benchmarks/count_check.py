"""Tab and facet counts against the totals of the views they lead to, for one query.

Prints, for the query, the All view's kind (tab) counts and every facet count next to the
total that the search narrowed to that value reports. Uses the catalog of the
``CATALOG_*`` settings (or --data-dir), the embedded engine unless configured otherwise.

    python benchmarks/count_check.py income [--data-dir var/bench-quality]
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.config import load_settings  # noqa: E402
from catalog.search.query import SearchQuery  # noqa: E402
from catalog.service import Catalog  # noqa: E402

ARGUMENT = {"kind": "kind", "agency": "agencies", "data_type": "data_types",
            "sensitivity": "sensitivities", "access_level": "access_levels"}


def main() -> None:
    """Print every count with the total of its view; exit 1 if any differ."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("query")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-quality")
    args = parser.parse_args()
    catalog = Catalog(load_settings(data_dir=args.data_dir, database_url=None))
    base = SearchQuery(text=args.query, per_page=1)
    result = catalog.search(base)
    print(f"{args.query!r}: All view total {result.total}")
    print(f"{'facet':<12} {'value':<40} {'count':>6} {'view total':>10}")
    differ = 0
    for facet, counts in result.facets.items():
        for value, count in counts.items():
            narrowed = value if facet == "kind" else (value,)
            total = catalog.search(replace(base, **{ARGUMENT[facet]: narrowed})).total
            differ += total != count
            print(f"{facet:<12} {value[:40]:<40} {count:>6} {total:>10}"
                  f"{'' if total == count else '  DIFFERENT'}")
    print("all counts agree" if not differ else f"{differ} counts differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
