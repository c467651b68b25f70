"""The ``catalog`` command: loading, search, the web app, sources, harvests and other jobs.

One module per group of commands, as in CKAN's ``ckan/cli``:

==============  ===============================================================
``load``        ``catalog load``: metadata files and folders
``search``      ``catalog search``
``serve``       ``catalog serve`` and ``catalog demo``
``sources``     ``catalog source add|list|show|remove|sync``
``jobs``        ``catalog harvest``, ``reindex``, ``reembed``, ``jobs [show|retry]``,
                ``worker``
``edit``        ``catalog edit``: a steward's edit
``users``       ``catalog users add|list|remove|set-role|password|token|revoke``
``dump``        ``catalog dump``
``scorecard``   ``catalog scorecard``: each agency's metadata measures
``context``     the state of one invocation: the catalog, opened once when needed
``output``      printing shared by the commands
==============  ===============================================================

Commands import the catalog, the model and Flask only when they run, so that
``catalog --help`` answers at once.
"""

from __future__ import annotations

import logging
import os

import click

from catalog.embedding_models import ModelMissing
from catalog.redact import install_log_redaction
from web.cli import abbreviations, dump, edit, jobs, load, scorecard, search, serve, sources, users
from web.cli.context import CliState

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _kinds(exc: BaseException) -> set[str]:
    """``module.Class`` of the exception and its bases (no library imported to test it)."""
    return {f"{k.__module__}.{k.__qualname__}" for k in type(exc).__mro__}


def service_error(exc: BaseException) -> str | None:
    """What an operator should read for a failure of the set-up rather than of the
    command: a service that does not answer, a setting that does not parse, a data
    directory that cannot be used. Each message names the setting to look at. None: not
    one of those (the traceback is shown, it is a bug)."""
    kinds = _kinds(exc)
    if kinds & {"elastic_transport.ConnectionError", "elastic_transport.ConnectionTimeout",
                "elasticsearch.exceptions.ConnectionError"}:
        return ("the search engine does not answer (CATALOG_ELASTICSEARCH_URL): "
                f"{_first_line(exc)}. The database keeps everything; once the node is back, "
                "`catalog reindex` brings the index up to date.")
    if "redis.exceptions.ConnectionError" in kinds or "redis.exceptions.TimeoutError" in kinds:
        return f"Redis does not answer (CATALOG_REDIS_URL): {_first_line(exc)}"
    if "sqlalchemy.exc.NoSuchModuleError" in kinds or "sqlalchemy.exc.ArgumentError" in kinds:
        return (f"CATALOG_DATABASE_URL is not a database URL this catalog reads: "
                f"{_first_line(exc)} (e.g. postgresql+psycopg://user:password@host/catalog)")
    if "sqlalchemy.exc.OperationalError" in kinds:
        return f"the database does not answer (CATALOG_DATABASE_URL): {_first_line(exc)}"
    if "alembic.util.exc.CommandError" in kinds and "Can't locate revision" in str(exc):
        return ("the database's schema is newer than this version of the catalog knows "
                f"({_first_line(exc)}): run the version that last migrated it, or a newer one")
    if isinstance(exc, OSError) and exc.filename and exc.errno is not None:
        data_dir = os.environ.get("CATALOG_DATA_DIR") or "var"
        if str(exc.filename).startswith(os.path.abspath(data_dir)) or \
                str(exc.filename).startswith(data_dir):
            return (f"the data directory (CATALOG_DATA_DIR={data_dir}) cannot be used: "
                    f"{exc.strerror}: {exc.filename}")
    return None


class CatalogGroup(click.Group):
    """The command group: a missing embedding model, a service that does not answer or a
    setting that does not parse is an error message naming what to fix, not a traceback
    (``-v`` shows the traceback too)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ModelMissing as exc:
            raise click.ClickException(str(exc)) from exc
        except click.exceptions.Exit:
            raise
        except Exception as exc:
            message = service_error(exc)
            if message is None:
                raise
            if ctx.params.get("verbose"):
                logging.getLogger("catalog").exception("the command failed")
            raise click.ClickException(message) from exc


@click.group(cls=CatalogGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more detail.")
@click.version_option(package_name="metadata-catalog")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """A metadata catalog with semantic search for state government data.

    Data lives in CATALOG_DATA_DIR (default ./var) or CATALOG_DATABASE_URL.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # its retries log tracebacks; what failed is said once, by the command
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    install_log_redaction()
    ctx.call_on_close(ctx.ensure_object(CliState).close)


for command in (load.load, search.search, serve.serve, serve.demo, sources.source,
                jobs.harvest, jobs.reindex, jobs.reembed, jobs.jobs_group, jobs.worker,
                edit.edit, dump.dump, users.users, scorecard.scorecard,
                abbreviations.abbreviations):
    main.add_command(command)
