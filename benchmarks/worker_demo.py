"""A full harvest and reindex of the recorded sources, run by a real worker, watched on the web.

Serves the recorded sources (tests/recorded_sources.py, each Discovery/CKAN page delayed by
``--delay`` seconds so that progress can be seen), then in a fresh data directory:

1. ``catalog source sync`` of a generated ``sources.toml`` (the six recorded sources);
2. ``catalog worker`` and ``catalog serve`` as subprocesses, on the given Redis;
3. ``catalog harvest --no-wait`` (all six queued), then ``catalog jobs --json`` polled until
   none is active, with a screenshot of ``/jobs`` by headless Chromium while one runs;
4. ``catalog reindex`` (queued, followed to the end);
5. prints ``catalog jobs`` and each source's runs.

    python benchmarks/worker_demo.py [--redis-url URL] [--screenshot docs/screenshot-jobs.png]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.recorded_sources import RecordedPortals  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("CATALOG_REDIS_URL")
                        or os.environ.get("CATALOG_TEST_REDIS_URL"))
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "worker-demo")
    parser.add_argument("--delay", type=float, default=0.6)
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--chromium", default=os.environ.get("CATALOG_CHROMIUM",
                                                             "/usr/bin/chromium"))
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("no Redis: give --redis-url (scripts/services.sh start redis)")
    if args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    args.data_dir.mkdir(parents=True)
    env = {**os.environ, "CATALOG_DATA_DIR": str(args.data_dir),
           "CATALOG_REDIS_URL": args.redis_url, "CATALOG_QUEUE": f"demo-{uuid.uuid4().hex[:6]}",
           "HF_HUB_OFFLINE": "1"}
    for name in ("CATALOG_DATABASE_URL", "CATALOG_ELASTICSEARCH_URL"):
        env.pop(name, None)
    command = [sys.executable, "-m", "web.cli"]

    def cli(*argv: str) -> str:
        done = subprocess.run([*command, *argv], env=env, cwd=ROOT, capture_output=True,
                              text=True, check=False)
        if done.returncode not in (0, 1):
            raise SystemExit(f"catalog {' '.join(argv)} failed:\n{done.stderr}")
        return done.stdout + done.stderr

    with RecordedPortals() as portals:
        for path, handler in (("/socrata/api/catalog/v1", portals._discovery),
                              ("/ckan/api/action/package_search", portals._package_search)):
            def slow(request: Any, h: Any = handler) -> Any:
                time.sleep(args.delay)
                return h(request)
            portals.faults[path] = slow
        lines = []
        for spec in portals.sources():
            lines.append(f"[sources.{spec['name']}]")
            lines.append(f'type = "{spec["type"]}"')
            lines.append(f'url = "{spec["url"]}"')
            if spec.get("agency"):
                lines.append(f'agency = "{spec["agency"]}"')
            options = dict(spec.get("options") or {})
            if spec["name"] == "chicago":
                options["limit"] = 1
            if options:
                lines.append(f"[sources.{spec['name']}.options]")
                lines.extend(f"{k} = {json.dumps(v)}" for k, v in options.items())
            lines.append("")
        toml = args.data_dir / "sources.toml"
        toml.write_text("\n".join(lines), encoding="utf-8")
        print("$ catalog source sync sources.toml\n" + cli("source", "sync", str(toml)))
        port = free_port()
        processes = [
            subprocess.Popen([*command, "worker", "--no-scheduler"], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True),
            subprocess.Popen([*command, "serve", "--port", str(port)], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True),
        ]
        try:
            started = time.perf_counter()
            print("$ catalog harvest --no-wait\n" + cli("harvest", "--no-wait"))
            shot_taken = False
            while True:
                listing = json.loads(cli("jobs", "--json", "--limit", "20"))
                active = [j for j in listing if j["status"] in ("queued", "running",
                                                                   "retrying")]
                running = [j for j in active if j["status"] == "running"
                           and j["progress_total"] and j["progress_done"]]
                if running and not shot_taken and args.screenshot is not None:
                    shot_taken = screenshot(args.chromium, f"http://127.0.0.1:{port}/jobs",
                                            args.screenshot)
                    print(f"(screenshot of /jobs while {running[0]['args'].get('source')} "
                          f"was at {running[0]['progress_done']}/"
                          f"{running[0]['progress_total']}: {args.screenshot})\n")
                if not active:
                    break
                time.sleep(0.3)
            print(f"all harvests done in {time.perf_counter() - started:.1f} s\n")
            print("$ catalog reindex\n" + cli("reindex"))
            print("$ catalog jobs\n" + cli("jobs"))
            print("$ catalog source list\n" + cli("source", "list"))
        finally:
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                process.wait(timeout=30)


def screenshot(chromium: str, url: str, target: Path) -> bool:
    profile = Path("/tmp") / f"chromium-demo-{uuid.uuid4().hex[:6]}"
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,900",
         f"--screenshot={target.resolve()}", url],
        capture_output=True, timeout=60, check=False)
    shutil.rmtree(profile, ignore_errors=True)
    return done.returncode == 0 and target.exists()


if __name__ == "__main__":
    main()
