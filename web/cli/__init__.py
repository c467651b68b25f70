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


class CatalogGroup(click.Group):
    """The command group; a missing embedding model is an error message, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ModelMissing as exc:
            raise click.ClickException(str(exc)) from exc


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
    install_log_redaction()
    ctx.call_on_close(ctx.ensure_object(CliState).close)


for command in (load.load, search.search, serve.serve, serve.demo, sources.source,
                jobs.harvest, jobs.reindex, jobs.reembed, jobs.jobs_group, jobs.worker,
                edit.edit, dump.dump, users.users, scorecard.scorecard,
                abbreviations.abbreviations):
    main.add_command(command)
