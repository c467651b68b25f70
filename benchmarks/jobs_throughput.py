"""Background jobs measured: small-job throughput and a 100k-field reindex, queued vs inline.

1. **Small jobs.** ``--jobs`` sources (tiny DCAT catalogs served by a local HTTP server, one
   dataset each) are harvested once, then re-harvested as jobs (each an unchanged source:
   fetch, hash, compare, record the run). Jobs/s for: inline (one after the other in this
   process), then on rq with 1 and with 2 ``catalog worker`` processes (from the first
   submit to the last job finished).
2. **100k-field reindex.** A copy of the 100k-field catalog that
   ``benchmarks/search_speed.py`` builds (``var/bench-speed/catalog-100000``, embeddings
   cached) is rebuilt: inline (``catalog.reindex()`` in this process), then as a job run by
   a worker (submit to finished, plus the job's own time).

Needs a Redis server: ``--redis-url`` (default $CATALOG_REDIS_URL or
$CATALOG_TEST_REDIS_URL; ``scripts/services.sh start redis`` starts one).

    python benchmarks/jobs_throughput.py [--jobs 60] [--big var/bench-speed/catalog-100000]
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.config import load_settings  # noqa: E402
from catalog.service import Catalog  # noqa: E402
from catalog.sources import save_source, validate_source  # noqa: E402
from indexer import jobs  # noqa: E402
from tests.recorded_sources import RecordedPortals  # noqa: E402


def start_workers(settings: Any, count: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "CATALOG_DATA_DIR": str(settings.data_dir),
           "CATALOG_REDIS_URL": settings.redis_url, "CATALOG_QUEUE": settings.queue_name,
           "HF_HUB_OFFLINE": "1"}
    env.pop("CATALOG_DATABASE_URL", None)
    env.pop("CATALOG_ELASTICSEARCH_URL", None)
    out = []
    for i in range(count):
        log = (log_dir / f"worker-{settings.queue_name}-{i}.log").open("wb")
        out.append(subprocess.Popen([sys.executable, "-m", "web.cli", "worker",
                                     "--no-scheduler"], env=env, cwd=ROOT, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True))
    return out


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_all(catalog: Catalog, ids: list[str]) -> list[Any]:
    return [jobs.wait(catalog, job_id, poll=0.05) for job_id in ids]


def small_jobs(work: Path, redis_url: str, count: int) -> None:
    print(f"## Small jobs: {count} re-harvests of unchanged one-dataset sources\n")
    print("| how | workers | jobs | seconds | jobs/s |")
    print("|---|---|---|---|---|")
    with RecordedPortals() as portals:
        base = portals.dcat["/sonyma/data.json"]
        names = []
        for i in range(count):
            doc = copy.deepcopy(base)
            for entry in doc["dataset"]:
                entry["identifier"] = f"{entry['identifier']}-{i}"
            portals.serve_json(f"/tiny/{i}/data.json", doc)
            names.append(f"tiny-{i:03d}")
        data_dir = work / "small"
        inline = Catalog(load_settings(data_dir=data_dir, database_url=None,
                                       elasticsearch_url=None, redis_url=None))
        with inline.transaction() as session:
            for i, name in enumerate(names):
                save_source(session, validate_source({
                    "name": name, "type": "dcat", "url": f"{portals.url}/tiny/{i}/data.json"}))
        for name in names:  # first harvest: creates and embeds
            jobs.submit(inline, "harvest", {"source": name}, actor="bench")
        started = time.perf_counter()
        for name in names:
            done = jobs.submit(inline, "harvest", {"source": name}, actor="bench")
            assert done.status == "finished", done.error
        took = time.perf_counter() - started
        print(f"| inline | — | {count} | {took:.2f} | {count / took:.1f} |")
        for workers in (1, 2):
            queue = f"bench-{uuid.uuid4().hex[:8]}"
            queued = Catalog(load_settings(data_dir=data_dir, database_url=None,
                                           elasticsearch_url=None, redis_url=redis_url,
                                           queue_name=queue), embedder=inline.embedder)
            processes = start_workers(queued.settings, workers, work)
            try:
                warm = [jobs.submit(queued, "harvest", {"source": n}, actor="bench").id
                        for n in names[:workers * 2]]
                wait_all(queued, warm)  # the workers are up and have loaded the model
                started = time.perf_counter()
                ids = [jobs.submit(queued, "harvest", {"source": n}, actor="bench").id
                       for n in names]
                enqueued = time.perf_counter() - started
                finished = wait_all(queued, ids)
                took = time.perf_counter() - started
                bad = [j for j in finished if j.status != "finished"]
                assert not bad, bad[0].error
                print(f"| rq | {workers} | {count} | {took:.2f} | {count / took:.1f} |")
                print(f"|  (enqueue alone) | | | {enqueued:.2f} | {count / enqueued:.0f} |")
            finally:
                stop_workers(processes)
        inline.close()
    print()


def big_reindex(work: Path, redis_url: str, big: Path) -> None:
    print(f"## Reindex of {big.name} (embeddings cached)\n")
    if not (big / "catalog.sqlite").is_file():
        print(f"{big}/catalog.sqlite not found: run benchmarks/search_speed.py first\n")
        return
    data_dir = work / "big"
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(big / "catalog.sqlite", data_dir / "catalog.sqlite")
    inline = Catalog(load_settings(data_dir=data_dir, database_url=None, elasticsearch_url=None,
                                   redis_url=None))
    inline.embedder.embed(["load the model"])
    from sqlalchemy import func, select

    from catalog.models import Field

    with inline.session() as session:
        fields = session.scalar(select(func.count(Field.id)))
    started = time.perf_counter()
    documents = inline.reindex()
    took_inline = time.perf_counter() - started
    job = jobs.submit(inline, "reindex", {}, actor="bench")
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    queued = Catalog(load_settings(data_dir=data_dir, database_url=None, elasticsearch_url=None,
                                   redis_url=redis_url, queue_name=queue),
                     embedder=inline.embedder)
    processes = start_workers(queued.settings, 1, work)
    try:
        warm = jobs.submit(queued, "harvest", {"source": "none"}, actor="bench")
        jobs.wait(queued, warm.id, poll=0.1)  # fails (no such source) once the worker is up
        started = time.perf_counter()
        done = jobs.wait(queued, jobs.submit(queued, "reindex", {}, actor="bench").id,
                         poll=0.1)
        took_worker = time.perf_counter() - started
    finally:
        stop_workers(processes)
    print("| how | fields | documents | end to end (s) | the job itself (s) |")
    print("|---|---|---|---|---|")
    print(f"| `catalog.reindex()` in this process | {fields:,} | {documents:,} | "
          f"{took_inline:.1f} | — |")
    print(f"| inline job (`catalog reindex`) | {fields:,} | {job.result['documents']:,} | "
          f"{job.result['seconds']:.1f} | {job.result['seconds']:.1f} |")
    print(f"| rq job run by `catalog worker` | {fields:,} | {done.result['documents']:,} | "
          f"{took_worker:.1f} | {done.result['seconds']:.1f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--big", type=Path, default=ROOT / "var" / "bench-speed" /
                        "catalog-100000")
    parser.add_argument("--redis-url", default=os.environ.get("CATALOG_REDIS_URL")
                        or os.environ.get("CATALOG_TEST_REDIS_URL"))
    parser.add_argument("--work-dir", type=Path, default=ROOT / "var" / "bench-jobs")
    parser.add_argument("--only", choices=("small", "reindex"))
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("no Redis: give --redis-url (scripts/services.sh start redis)")
    if args.work_dir.exists():
        shutil.rmtree(args.work_dir)
    args.work_dir.mkdir(parents=True)
    if args.only in (None, "small"):
        small_jobs(args.work_dir, args.redis_url, args.jobs)
    if args.only in (None, "reindex"):
        big_reindex(args.work_dir, args.redis_url, args.big)


if __name__ == "__main__":
    main()
