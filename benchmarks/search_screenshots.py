"""Screenshots of the search page over the benchmark's corpus catalog, in real Chromium.

Serves the web app over the catalog that ``search_quality.py`` loaded (``--data-dir``) on
a local port and saves full-page screenshots of a few searches into ``--out``.

    python benchmarks/search_screenshots.py [--data-dir var/bench-quality] [--out docs]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from urllib.parse import quote_plus

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from catalog.config import load_settings  # noqa: E402
from catalog.service import Catalog  # noqa: E402
from tests.conftest import CHROMIUM_ARGS  # noqa: E402
from web.app import create_app  # noqa: E402

SHOTS = {
    "screenshot-search-collapsed.png": "/search?q=" + quote_plus(
        "students who received financial aid"),
    "screenshot-search-income-datasets.png": "/search?q=income&kind=dataset",
}


def main() -> None:
    """Serve, visit, save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-quality")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    app = create_app(Catalog(load_settings(data_dir=args.data_dir, database_url=None)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CATALOG_CHROMIUM", "/usr/bin/chromium"),
                headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for name, path in SHOTS.items():
                page.goto(base + path)
                page.screenshot(path=str(args.out / name), full_page=True)
                print(args.out / name)
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
