"""Configuration from ``CATALOG_*`` environment variables, with defaults that need nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Where the catalog keeps its files and which services it uses."""

    data_dir: Path = field(default_factory=lambda: Path(_env("CATALOG_DATA_DIR", "var")))
    database_url: str | None = field(default_factory=lambda: _env("CATALOG_DATABASE_URL"))
    elasticsearch_url: str | None = field(
        default_factory=lambda: _env("CATALOG_ELASTICSEARCH_URL")
    )
    elasticsearch_index: str = field(
        default_factory=lambda: _env("CATALOG_ELASTICSEARCH_INDEX", "catalog") or "catalog"
    )
    elasticsearch_replicas: int = field(
        default_factory=lambda: int(_env("CATALOG_ELASTICSEARCH_REPLICAS", "0") or 0)
    )
    redis_url: str | None = field(default_factory=lambda: _env("CATALOG_REDIS_URL"))
    model_path: str | None = field(default_factory=lambda: _env("CATALOG_MODEL_PATH"))
    secret_key: str | None = field(default_factory=lambda: _env("CATALOG_SECRET_KEY"))
    # Admin actions in the web app (harvest now, rebuild index, retry a job) need this token;
    # without it they are off and only the CLI can start work.
    admin_token: str | None = field(default_factory=lambda: _env("CATALOG_ADMIN_TOKEN"))
    queue_name: str = field(default_factory=lambda: _env("CATALOG_QUEUE", "catalog") or "catalog")
    # Queued jobs that fail for a transient reason (a portal down) are retried this many
    # times, after job_backoff seconds, then 4x, 16x that.
    job_retries: int = field(default_factory=lambda: int(_env("CATALOG_JOB_RETRIES", "2") or 2))
    job_backoff: float = field(
        default_factory=lambda: float(_env("CATALOG_JOB_BACKOFF", "60") or 60)
    )

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of the system of record (a SQLite file under data_dir by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'catalog.sqlite').resolve()}"

    @property
    def search_index_path(self) -> Path:
        """File of the embedded search index."""
        return self.data_dir / "search.sqlite"

    def ensure_dirs(self) -> None:
        """Create the data directory if it does not exist."""
        self.data_dir.mkdir(parents=True, exist_ok=True)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides taking precedence."""
    base = Settings()
    if not overrides:
        return base
    values: dict[str, Any] = {f: getattr(base, f) for f in base.__dataclass_fields__}
    values.update(overrides)
    if isinstance(values.get("data_dir"), str):
        values["data_dir"] = Path(values["data_dir"])
    return Settings(**values)
