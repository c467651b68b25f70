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
    # The embedding model (catalog.embedding_models): e5-small-v2 unless set.
    embedding_model: str | None = field(
        default_factory=lambda: _env("CATALOG_EMBEDDING_MODEL"))
    secret_key: str | None = field(default_factory=lambda: _env("CATALOG_SECRET_KEY"))
    # The public address of the web app (https://catalog.example.gov): absolute URLs in the
    # API and pages are built from it, never from the request's Host header, and cookies
    # are marked Secure when it is https.
    base_url: str | None = field(default_factory=lambda: _env("CATALOG_BASE_URL"))
    # Who answers for the catalog (an e-mail address): the contact point of data.json and
    # DCAT entries whose agency names no address of its own.
    contact_email: str | None = field(default_factory=lambda: _env("CATALOG_CONTACT_EMAIL"))
    # Origins (comma-separated, or *) whose pages may call the JSON APIs from a browser;
    # none by default (no CORS headers at all).
    cors_origins: tuple[str, ...] = field(default_factory=lambda: tuple(
        o.strip() for o in (_env("CATALOG_CORS_ORIGINS", "") or "").split(",") if o.strip()))
    # Single sign-on with OpenID Connect (optional): the issuer (its
    # /.well-known/openid-configuration is read), the client registered there, and whether
    # someone without an account may sign in as a new viewer.
    oidc_issuer: str | None = field(default_factory=lambda: _env("CATALOG_OIDC_ISSUER"))
    oidc_client_id: str | None = field(default_factory=lambda: _env("CATALOG_OIDC_CLIENT_ID"))
    oidc_client_secret: str | None = field(
        default_factory=lambda: _env("CATALOG_OIDC_CLIENT_SECRET"))
    oidc_label: str = field(
        default_factory=lambda: _env("CATALOG_OIDC_LABEL", "single sign-on") or "single sign-on")
    oidc_create_viewers: bool = field(
        default_factory=lambda: (_env("CATALOG_OIDC_CREATE_VIEWERS", "0") or "0") == "1")
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
