"""Background jobs: inline and on rq with a real Redis and real `catalog worker` processes.

The recorded portals (tests/recorded_sources.py) are served over real HTTP; workers are
real subprocesses (`python -m web.cli worker`) on the Redis server that scripts/test.sh
starts (CATALOG_TEST_REDIS_URL), each test on its own queue name. The test process and the
workers share one SQLite catalog, as a web server and its workers would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from catalog.config import Settings, load_settings
from catalog.dump import dump_json
from catalog.embeddings import Embedder
from catalog.models import Job, JobLock, ScheduleClaim, Source, as_utc, utcnow
from catalog.search.query import SearchQuery
from catalog.service import Catalog
from catalog.sources import save_source, validate_source
from indexer import jobs
from indexer.jobs import runner
from tests.recorded_sources import RecordedPortals
from tests.webfixtures import add_account, csrf_of, sign_in
from web.app import create_app

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def portals() -> Iterator[RecordedPortals]:
    with RecordedPortals() as served:
        yield served


def make_catalog(data_dir: Path, embedder: Embedder, **settings: Any) -> Catalog:
    values: dict[str, Any] = {"data_dir": data_dir, "database_url": None,
                              "elasticsearch_url": None, "redis_url": None,
                              "job_backoff": 0.05}
    values.update(settings)
    return Catalog(load_settings(**values), embedder=embedder)


def add_source(catalog: Catalog, portals: RecordedPortals, name: str,
               **options: Any) -> None:
    spec = next(s for s in portals.sources() if s["name"] == name)
    spec = {**spec, "options": {**spec.get("options", {}), **options}}
    with catalog.transaction() as session:
        save_source(session, validate_source(spec))


def stable_dump(catalog: Catalog) -> str:
    with catalog.session() as session:
        return dump_json(session, times=False)


class Worker:
    """A real `catalog worker` subprocess in its own process group."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.env = {**os.environ, "CATALOG_DATA_DIR": str(settings.data_dir),
                    "CATALOG_REDIS_URL": settings.redis_url or "",
                    "CATALOG_QUEUE": settings.queue_name, "HF_HUB_OFFLINE": "1",
                    "CATALOG_JOB_BACKOFF": str(settings.job_backoff),
                    "CATALOG_JOB_RETRIES": str(settings.job_retries)}
        for name in ("CATALOG_DATABASE_URL", "CATALOG_ELASTICSEARCH_URL"):
            self.env.pop(name, None)
        self.log = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "web.cli", "worker", "--interval", "1"],
                env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and everything it started (rq's scheduler process)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace")[-3000:]


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Worker] = []

    def start(settings: Settings) -> Worker:
        worker = Worker(settings, tmp_path).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def wait_for(predicate: Any, timeout: float, what: str, worker: Worker | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    detail = f"\nworker log:\n{worker.output()}" if worker else ""
    raise AssertionError(f"timed out waiting for {what}{detail}")


def race(count: int, action: Any) -> list[Any]:
    """Run ``action`` in ``count`` threads released at the same instant; what each returned
    (or the JobBusy it raised)."""
    barrier = threading.Barrier(count)
    outcomes: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(action())
        except jobs.JobBusy as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def job(catalog: Catalog, job_id: str) -> Job:
    found = jobs.get_job(catalog, job_id)
    assert found is not None
    return found


# ------------------------------------------------------------------------------- inline


def test_inline_harvest_job_records_progress_result_and_releases_its_lock(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals
) -> None:
    catalog = make_catalog(tmp_path / "data", embedder)
    add_source(catalog, portals, "chicago")
    seen: list[tuple[str, int, int | None, str | None]] = []
    done = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test",
                       on_progress=lambda j: seen.append(
                           (j.status, j.progress_done, j.progress_total, j.stage)))
    assert done.status == "finished" and done.via == "inline"
    assert done.result["counts"]["created"] == 5
    assert (done.progress_done, done.progress_total) == (5, 5)
    assert [s for s in seen if s[3] == "fetching" and s[1] and s[1] < 5]  # seen midway
    assert {s[3] for s in seen} >= {"fetching", "applying", "indexing", "done"}
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(JobLock)) == 0
    again = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test")
    assert again.result["counts"]["unchanged"] == 5 and again.result["embedded"] == 0
    reindexed = jobs.submit(catalog, "reindex", {}, actor="test")
    assert reindexed.status == "finished" and reindexed.result["documents"] > 50
    assert reindexed.progress_done == reindexed.progress_total == 5


def test_transient_failures_are_retried_with_backoff_then_kept_with_their_error(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals
) -> None:
    catalog = make_catalog(tmp_path / "data", embedder, job_retries=2, job_backoff=0.2)
    add_source(catalog, portals, "chicago", retries=0, timeout=1)
    failures = {"left": 2}

    def flaky(request: Any) -> Any:
        if failures["left"] > 0:
            failures["left"] -= 1
            return 503, {}, "<h1>Service Unavailable</h1>"
        return portals._discovery(request)

    portals.faults["/socrata/api/catalog/v1"] = flaky
    started = time.monotonic()
    done = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test")
    assert done.status == "finished", done.error
    assert done.attempts == 3
    assert time.monotonic() - started >= 0.2 + 0.8  # backoff 0.2 s, then 4 × 0.2 s
    portals.faults["/socrata/api/catalog/v1"] = lambda r: (503, {}, "down")
    failed = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test")
    assert failed.status == "failed" and failed.attempts == 3
    assert "503" in failed.error and failed.result["status"] == "failed"
    # A refused run is not retried: retrying would not change the answer.
    portals.faults.clear()
    portals.socrata = dict(portals.socrata, results=[])
    refused = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test")
    assert refused.status == "failed" and refused.attempts == 1
    assert "listed no datasets" in refused.error
    # An unexpected error keeps its traceback; retry() runs the job again.
    from catalog.sources import remove_source

    with catalog.transaction() as session:
        remove_source(session, session.scalar(select(Source).where(Source.name == "chicago")),
                      actor="test")
    broken = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test")
    assert broken.status == "failed" and "no source named 'chicago'" in broken.error
    assert "Traceback" in broken.traceback
    add_source(catalog, portals, "chicago")
    portals.socrata = RecordedPortals().socrata
    rerun = jobs.retry(catalog, failed.id, actor="test")
    assert rerun.status == "finished" and rerun.retry_of == failed.id


# ------------------------------------------------------------------------------ on rq


def rq_settings(tmp_path: Path, redis_url: str, **extra: Any) -> dict[str, Any]:
    return {"redis_url": redis_url, "queue_name": f"test-{uuid.uuid4().hex[:10]}",
            **extra}


def test_two_simultaneous_harvest_requests_start_one_job(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals, redis_url: str
) -> None:
    catalog = make_catalog(tmp_path / "data", embedder, **rq_settings(tmp_path, redis_url))
    add_source(catalog, portals, "chicago")
    outcomes = race(2, lambda: jobs.submit(catalog, "harvest", {"source": "chicago"},
                                           actor="test"))
    started = [o for o in outcomes if isinstance(o, Job)]
    refused = [o for o in outcomes if isinstance(o, jobs.JobBusy)]
    assert len(started) == 1 and len(refused) == 1
    assert refused[0].job.id == started[0].id and started[0].status == "queued"
    assert jobs.queue_for(catalog).count == 1
    # Another source is not blocked by it.
    add_source(catalog, portals, "cftc")
    assert jobs.submit(catalog, "harvest", {"source": "cftc"}, actor="test").status == "queued"
    jobs.queue_for(catalog).empty()


def test_two_schedulers_start_a_slot_once(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals, redis_url: str
) -> None:
    catalog = make_catalog(tmp_path / "data", embedder, **rq_settings(tmp_path, redis_url))
    add_source(catalog, portals, "chicago")
    with catalog.transaction() as session:
        source = session.scalar(select(Source).where(Source.name == "chicago"))
        source.schedule = "*/5 * * * *"
        created = as_utc(source.created_at)
    now = created.replace(second=0, microsecond=0)
    now = now.replace(minute=(now.minute // 5) * 5)
    from datetime import timedelta

    later = now + timedelta(minutes=5, seconds=30)
    results = [item for batch in race(3, lambda: jobs.schedule_due(catalog, later))
               for item in batch]
    assert len([r for r in results if r.job is not None]) == 1
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1
        assert session.scalar(select(func.count()).select_from(ScheduleClaim)) == 1
    assert jobs.schedule_due(catalog, later) == []  # the slot is taken
    # The next slot starts a new run only once the running one is done: busy means skipped.
    skipped = jobs.schedule_due(catalog, later + timedelta(minutes=5))
    assert len(skipped) == 1 and skipped[0].job is None and "busy" in skipped[0].note
    jobs.queue_for(catalog).empty()


def test_a_worker_runs_harvest_and_reindex_with_progress_on_the_web_pages(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals, redis_url: str,
    worker_factory: Any
) -> None:
    catalog = make_catalog(tmp_path / "data", embedder,
                           **rq_settings(tmp_path, redis_url, job_backoff=0.5))
    add_source(catalog, portals, "chicago", limit=1)
    original = portals._discovery

    def slow(request: Any) -> Any:
        time.sleep(0.8)  # five pages: slow enough to watch the progress move
        return original(request)

    portals.faults["/socrata/api/catalog/v1"] = slow
    worker = worker_factory(catalog.settings)
    queued = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test")
    assert queued.status == "queued" and queued.via == "rq"
    midway = wait_for(lambda: (lambda j: j if j.status == "running" and j.progress_total
                               and 0 < j.progress_done < j.progress_total else None)(
        job(catalog, queued.id)), 120, "the job to be running midway", worker)
    assert midway.worker and midway.worker.split(":")[-1] != str(os.getpid())
    client = create_app(catalog).test_client()
    page = client.get("/jobs").get_data(as_text=True)
    assert "running" in page and "<progress" in page and 'http-equiv="refresh"' in page
    assert f"{midway.progress_done} / 5" in page or "/ 5" in page
    source_page = client.get("/sources/chicago").get_data(as_text=True)
    assert queued.id[:8] in source_page and "<progress" in source_page
    api = client.get(f"/api/v1/jobs/{queued.id}").get_json()
    assert api["status"] == "running" and api["progress_total"] == 5
    finished = jobs.wait(catalog, queued.id, timeout=120)
    assert finished.status == "finished", (finished.error, worker.output())
    assert finished.result["counts"]["created"] == 5
    # A transient failure is retried by the worker's scheduler after the backoff. The
    # source is down for the first attempt's request only: whether the retry runs before
    # or after this test sees "retrying", it is the second attempt and it succeeds.
    calls: list[Any] = []

    def down_once(request: Any) -> Any:
        calls.append(request)
        return (503, {}, "down") if len(calls) == 1 else original(request)

    portals.faults["/socrata/api/catalog/v1"] = down_once
    with catalog.transaction() as session:
        source = session.scalar(select(Source).where(Source.name == "chicago"))
        source.options = {**source.options, "retries": 0}
    flaky = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test")
    wait_for(lambda: job(catalog, flaky.id).status == "retrying", 60, "a retry", worker)
    portals.faults.clear()
    recovered = jobs.wait(catalog, flaky.id, timeout=120)
    assert recovered.status == "finished" and recovered.attempts == 2, worker.output()
    rebuilt = jobs.wait(catalog, jobs.submit(catalog, "reindex", {}, actor="test").id,
                        timeout=120)
    assert rebuilt.status == "finished" and rebuilt.result["documents"] > 50
    hits = catalog.search(SearchQuery(text="bus ridership", kind="dataset")).hits
    assert hits and "Ridership" in hits[0].payload["title"]


def test_a_worker_killed_mid_harvest_leaves_the_catalog_as_it_was_and_the_rerun_matches(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals, redis_url: str,
    worker_factory: Any
) -> None:
    # The reference: the same work, uninterrupted, inline.
    reference = make_catalog(tmp_path / "reference", embedder)
    add_source(reference, portals, "chicago", limit=2)
    jobs.submit(reference, "harvest", {"source": "chicago"}, actor="test")
    for result in portals.socrata["results"]:
        result["resource"]["description"] = "Changed since the first run."
    changed_results = [dict(r) for r in portals.socrata["results"]]
    jobs.submit(reference, "harvest", {"source": "chicago"}, actor="test")
    expected = stable_dump(reference)

    portals.socrata = RecordedPortals().socrata
    catalog = make_catalog(tmp_path / "data", embedder, **rq_settings(tmp_path, redis_url))
    add_source(catalog, portals, "chicago", limit=2)
    worker = worker_factory(catalog.settings)
    first = jobs.wait(catalog, jobs.submit(catalog, "harvest", {"source": "chicago"},
                                           actor="test").id, timeout=120)
    assert first.status == "finished", worker.output()
    portals.socrata = dict(portals.socrata, results=changed_results)
    before = stable_dump(catalog)
    reached = threading.Event()
    original = portals._discovery

    def stall(request: Any) -> Any:
        if int(request.query.get("offset", 0)) > 0:
            reached.set()
            time.sleep(30)
        return original(request)

    portals.faults["/socrata/api/catalog/v1"] = stall
    doomed = jobs.submit(catalog, "harvest", {"source": "chicago"}, actor="test")
    assert reached.wait(120), worker.output()
    assert job(catalog, doomed.id).status == "running"
    worker.kill()
    assert stable_dump(catalog) == before
    # Found abandoned (its process is gone), its lock released: it can be run again.
    assert jobs.reap(catalog) == [doomed.id]
    assert job(catalog, doomed.id).status == "abandoned"
    portals.faults.clear()
    worker = worker_factory(catalog.settings)
    rerun = jobs.retry(catalog, doomed.id, actor="test")
    rerun = jobs.wait(catalog, rerun.id, timeout=120)
    assert rerun.status == "finished", worker.output()
    assert rerun.result["counts"]["updated"] == 5
    assert stable_dump(catalog) == expected


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_scheduler_process_ends_with_a_worker_killed_outright(
    tmp_path: Path, embedder: Embedder, redis_url: str, worker_factory: Any
) -> None:
    """SIGKILL of the worker alone (not its process group, as a supervisor that kills one
    pid does): rq's scheduler process, forked by it, ends too instead of living on with
    the scheduler lock and the worker's database connection."""
    catalog = make_catalog(tmp_path / "data", embedder, **rq_settings(tmp_path, redis_url))
    worker = worker_factory(catalog.settings)
    assert worker.process is not None
    scheduler = wait_for(lambda: _children(worker.process.pid), 120,
                         "rq's scheduler process", worker)[0]
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=30)
    wait_for(lambda: not _alive(scheduler), 15, "the scheduler process to end", worker)


def test_redis_down_while_the_web_app_is_up(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals,
    redis_server_binary: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([redis_server_binary, "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        from redis import Redis

        wait_for(lambda: _pings(Redis, url), 20, "the private redis-server")
        inline = make_catalog(tmp_path / "data", embedder)
        add_source(inline, portals, "chicago")
        add_source(inline, portals, "cftc")
        assert jobs.submit(inline, "harvest", {"source": "chicago"},
                           actor="test").status == "finished"
        catalog = make_catalog(tmp_path / "data", embedder,
                               **rq_settings(tmp_path, url))
        add_account(catalog, "admin@example.org", "admin")
        app = create_app(catalog)
        client = app.test_client()
        assert jobs.submit(catalog, "harvest", {"source": "cftc"}, actor="test").via == "rq"
        server.terminate()
        server.wait(timeout=20)
        results = client.get("/search?q=cars+taken+away+by+the+city")
        assert results.status_code == 200 and "Towed Vehicles" in results.get_data(as_text=True)
        assert client.get("/api/v1/search?q=bus+riders").get_json()["total"] > 0
        page = client.get("/jobs").get_data(as_text=True)
        assert "Background jobs are unavailable" in page
        assert client.get("/sources/chicago").status_code == 200
        # An admin asks for a harvest: told at once, nothing started, nothing blocked.
        csrf = sign_in(client, "admin@example.org")
        started = time.monotonic()
        answer = client.post("/sources/chicago/harvest", data={"csrf": csrf},
                             follow_redirects=True)
        assert time.monotonic() - started < 10
        assert "Background jobs are unavailable right now" in answer.get_data(as_text=True)
        with catalog.session() as session:
            failed = session.scalar(select(Job).where(Job.status == "failed"))
            assert failed is not None and "could not be queued" in failed.error
            assert session.scalar(select(func.count()).select_from(JobLock)) == 1  # cftc's
        with pytest.raises(jobs.JobsUnavailable):
            jobs.submit(catalog, "reindex", {}, actor="test")
    finally:
        if server.poll() is None:
            server.kill()


def _pings(redis_class: Any, url: str) -> bool:
    try:
        return bool(redis_class.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


# ------------------------------------------------------------------------ web actions


def test_admin_actions_need_an_administrator_and_a_csrf_token(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals
) -> None:
    catalog = make_catalog(tmp_path / "data", embedder)
    add_source(catalog, portals, "chicago")
    add_account(catalog, "admin@example.org", "admin")
    add_account(catalog, "viewer@example.org", "viewer")
    client = create_app(catalog).test_client()
    csrf = csrf_of(client.get("/login").get_data(as_text=True))
    # Signed out: the CSRF check first, then "sign in" (302 to the form).
    assert client.post("/sources/chicago/harvest").status_code == 400
    assert client.post("/jobs/reindex", data={"csrf": csrf}).status_code == 302
    viewer = create_app(catalog).test_client()
    viewer_csrf = sign_in(viewer, "viewer@example.org")
    assert viewer.post("/jobs/reindex", data={"csrf": viewer_csrf}).status_code == 403
    csrf = sign_in(client, "admin@example.org")
    assert client.post("/sources/chicago/harvest").status_code == 400  # no CSRF token
    answer = client.post("/sources/chicago/harvest", data={"csrf": csrf})
    assert answer.status_code == 302 and "/jobs/" in answer.headers["Location"]
    job_id = answer.headers["Location"].rsplit("/", 1)[1]
    done = jobs.wait(catalog, job_id, timeout=120)  # inline mode: a thread of the app
    assert done.status == "finished" and done.actor == "web:admin@example.org"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "finished" in page


def test_jobs_of_hidden_sources_are_not_listed(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals
) -> None:
    catalog = make_catalog(tmp_path / "data", embedder)
    add_source(catalog, portals, "sonyma")
    for entry in portals.dcat["/sonyma/data.json"]["dataset"]:
        entry["accessLevel"] = "non-public"
    hidden = jobs.submit(catalog, "harvest", {"source": "sonyma"}, actor="test")
    assert hidden.status == "finished"
    client = create_app(catalog).test_client()
    assert "sonyma" not in client.get("/jobs").get_data(as_text=True)
    assert client.get(f"/jobs/{hidden.id}").status_code == 404
    assert client.get(f"/api/v1/jobs/{hidden.id}").status_code == 404
    assert client.get("/api/v1/jobs").get_json()["jobs"] == []


def test_a_worker_killed_mid_reindex_leaves_the_old_index_serving(
    tmp_path: Path, embedder: Embedder, redis_url: str, worker_factory: Any
) -> None:
    from catalog.models import EmbeddingCache
    from indexer.load import load_paths
    from tests.catalog_fixtures import FIXTURES

    catalog = make_catalog(tmp_path / "data", embedder, **rq_settings(tmp_path, redis_url))
    layouts = FIXTURES / "record_layouts"  # ~600 fields: a rebuild of some seconds
    assert load_paths(catalog, [layouts / "sas", layouts / "fixed_width_tables"]
                      ).index_error is None
    query = SearchQuery(text="how long the patient stayed in the hospital", kind="field",
                        per_page=10)
    answers = [h.doc_id for h in catalog.search(query).hits]
    assert len(answers) == 10
    count = catalog.search_engine.count()
    before = stable_dump(catalog)
    # Without cached vectors the rebuild must embed every text again: long enough to kill.
    with catalog.transaction() as session:
        session.query(EmbeddingCache).delete()
    worker = worker_factory(catalog.settings)
    doomed = jobs.submit(catalog, "reindex", {}, actor="test")
    wait_for(lambda: job(catalog, doomed.id).stage == "rebuilding", 120, "the rebuild", worker)
    index_file = catalog.settings.search_index_path
    wait_for(lambda: list(index_file.parent.glob(f"{index_file.name}.building-*")), 60,
             "the new index file to be written", worker)
    time.sleep(0.5)
    assert job(catalog, doomed.id).status == "running"
    worker.kill()
    # The old index still answers, the same way; the catalog is as it was.
    fresh = make_catalog(tmp_path / "data", embedder)
    assert fresh.search_engine.count() == count
    assert [h.doc_id for h in fresh.search(query).hits] == answers
    assert stable_dump(fresh) == before
    assert jobs.reap(fresh) == [doomed.id]
    worker = worker_factory(catalog.settings)
    rerun = jobs.wait(catalog, jobs.retry(catalog, doomed.id, actor="test").id, timeout=300)
    assert rerun.status == "finished", worker.output()
    assert rerun.result["documents"] == count
    assert not list(index_file.parent.glob(f"{index_file.name}.building-*"))
    again = make_catalog(tmp_path / "data", embedder)
    assert [h.doc_id for h in again.search(query).hits] == answers


def test_worker_without_redis_runs_due_harvests_inline(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from click.testing import CliRunner

    from web.cli import main

    catalog = make_catalog(tmp_path / "data", embedder)
    add_source(catalog, portals, "cftc")
    add_source(catalog, portals, "sonyma")
    with catalog.transaction() as session:
        for source in session.scalars(select(Source)):
            source.created_at = utcnow() - timedelta(minutes=10)
            source.schedule = "* * * * *" if source.name == "cftc" else None
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "data"))
    for name in ("CATALOG_REDIS_URL", "CATALOG_DATABASE_URL", "CATALOG_ELASTICSEARCH_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runner, "_WORKER_CATALOG", catalog)
    result = CliRunner().invoke(main, ["worker", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    done = jobs.recent_jobs(catalog)
    assert [(j.args["source"], j.status, j.actor) for j in done] == [
        ("cftc", "finished", "scheduler")]
    again = CliRunner().invoke(main, ["worker", "--once"], catch_exceptions=False)
    assert again.exit_code == 0 and len(jobs.recent_jobs(catalog)) in (1, 2)  # next minute
    assert CliRunner().invoke(main, ["worker", "--burst"]).exit_code != 0  # needs a queue


def test_jobs_locks_and_schedule_claims_on_postgresql(
    tmp_path: Path, embedder: Embedder, portals: RecordedPortals, redis_url: str,
    postgres_url: str
) -> None:
    from datetime import timedelta

    from sqlalchemy import create_engine, text

    from catalog.models import Base

    with create_engine(postgres_url).begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    inline = make_catalog(tmp_path / "pg", embedder, database_url=postgres_url)
    add_source(inline, portals, "chicago")
    done = jobs.submit(inline, "harvest", {"source": "chicago"}, actor="test")
    assert done.status == "finished" and done.result["counts"]["created"] == 5
    queued = make_catalog(tmp_path / "pg", embedder, database_url=postgres_url,
                          **rq_settings(tmp_path, redis_url))
    outcomes = race(2, lambda: jobs.submit(queued, "harvest", {"source": "chicago"},
                                           actor="test"))
    assert sorted(type(o).__name__ for o in outcomes) == ["Job", "JobBusy"]
    jobs.queue_for(queued).empty()
    with queued.transaction() as session:  # let the queued one go, as if it had run
        session.query(JobLock).delete()
        session.query(Job).filter(Job.status == "queued").update({"status": "failed"})
        source = session.scalar(select(Source).where(Source.name == "chicago"))
        source.schedule = "0 * * * *"
        source.created_at = utcnow() - timedelta(hours=3)
    results = [item for batch in race(3, lambda: jobs.schedule_due(queued)) for item in batch]
    assert len([r for r in results if r.job is not None]) == 1
    with queued.session() as session:
        assert session.scalar(select(func.count()).select_from(ScheduleClaim)) == 1
    jobs.queue_for(queued).empty()
    inline.close()
    queued.close()
