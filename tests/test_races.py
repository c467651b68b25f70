"""Several processes at once: opening a new data directory, loading the same files.

Real processes (not threads), started together, on a real SQLite file and a real PostgreSQL
database: each must succeed, and each record must exist exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from catalog.models import Agency, Base, Dataset

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
# Each process imports what it needs, then waits for the same moment (argv[1], a Unix time)
# before it touches the database, so that they really collide.
OPEN_CATALOG = (
    "import sys, time; from catalog.db import make_engine, migrate; "
    "engine = make_engine(sys.argv[2]); time.sleep(max(0, float(sys.argv[1]) - time.time())); "
    "migrate(engine); print('ok')"
)
LOAD_FOLDER = (
    "import sys, time; from pathlib import Path; from catalog.service import Catalog; "
    "from indexer.load import load_paths; catalog = Catalog(); "
    "time.sleep(max(0, float(sys.argv[1]) - time.time())); "
    "report = load_paths(catalog, [Path(sys.argv[2])], index=False); "
    "print('\\n'.join(report.errors())); print(report.totals())"
)


def at(seconds: float) -> str:
    """The Unix time ``seconds`` from now, as an argument."""
    return repr(time.time() + seconds)


def run_together(commands: list[list[str]], env: dict[str, str]
                 ) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once, then wait for all of them."""
    started = [subprocess.Popen(c, env=env, cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for c in commands]
    done = []
    for process, command in zip(started, commands, strict=True):
        out, err = process.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return done


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "CATALOG_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    for name in ("CATALOG_DATABASE_URL", "CATALOG_ELASTICSEARCH_URL", "CATALOG_REDIS_URL"):
        env.pop(name, None)
    return env


def test_processes_opening_a_new_sqlite_catalog_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'catalog.sqlite'}"
    done = run_together([[sys.executable, "-c", OPEN_CATALOG, at(3), url]] * 6,
                        clean_env(tmp_path))
    assert [(p.returncode, p.stdout.strip()) for p in done] == [(0, "ok")] * 6, \
        [p.stderr[-2000:] for p in done if p.returncode]
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from alembic_version")).scalar() == 1
    engine.dispose()


def test_processes_opening_a_new_postgresql_catalog_at_once_all_succeed(
    tmp_path: Path, postgres_url: str
) -> None:
    with create_engine(postgres_url).begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    done = run_together([[sys.executable, "-c", OPEN_CATALOG, at(3), postgres_url]] * 4,
                        clean_env(tmp_path))
    assert [p.returncode for p in done] == [0] * 4, [p.stderr[-2000:] for p in done]


def test_two_loads_of_the_same_folder_at_once_store_each_record_once(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    subprocess.run([sys.executable, "-c", OPEN_CATALOG, "0",
                    f"sqlite:///{tmp_path / 'data' / 'catalog.sqlite'}"], env=env, check=True)
    start = at(20)  # the model loads first
    load = [sys.executable, "-c", LOAD_FOLDER, start, str(FIXTURES / "record_layouts")]
    done = run_together([load, load, load], env)
    for process in done:
        assert process.returncode == 0, process.stderr[-3000:]
        assert "could not be stored" not in process.stdout, process.stdout[-3000:]
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'catalog.sqlite'}")
    with engine.connect() as conn:
        identities = conn.execute(select(Dataset.agency_id, Dataset.identifier)).all()
        agencies = conn.execute(select(Agency.name)).scalars().all()
        total = conn.execute(select(func.count(Dataset.id))).scalar()
    engine.dispose()
    assert total and len(identities) == len(set(identities)) == total
    assert len(agencies) == len(set(agencies))
