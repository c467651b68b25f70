"""``catalog serve`` and ``catalog demo``: the web app and the JSON API."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from web.cli.context import CliState, pass_state
from web.cli.output import print_load_report

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"


def address_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--host`` and ``--port`` options of a command that serves the app."""
    command = click.option("--port", default=5000, show_default=True, type=int)(command)
    return click.option("--host", default="127.0.0.1", show_default=True)(command)


def run_app(catalog: Any, what: str, host: str, port: int, debug: bool | None = None) -> None:
    """Serve the web app around this catalog until Ctrl+C."""
    from web.app import create_app

    app = create_app(catalog)
    click.echo(f"Serving {what} on http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=debug, use_reloader=False, threaded=True)


@click.command()
@address_options
@click.option("--debug", is_flag=True, help="Flask debug mode (never in production).")
@pass_state
def serve(state: CliState, host: str, port: int, debug: bool) -> None:
    """Serve the web app and the JSON API."""
    run_app(state.catalog, "the catalog", host, port, debug)


@click.command()
@address_options
@click.option("--no-serve", is_flag=True, help="Load the demo catalog, then exit.")
@click.option("--accounts/--no-accounts", "with_accounts", default=True, show_default=True,
              help="Create one account per role (viewer, steward, intake, admin) with a "
                   "random password printed here.")
@pass_state
def demo(state: CliState, host: str, port: int, no_serve: bool, with_accounts: bool) -> None:
    """Load the bundled fixtures into a fresh catalog under CATALOG_DATA_DIR/demo and serve it."""
    from catalog.config import load_settings
    from indexer.load import load_paths

    if not FIXTURES_DIR.is_dir():
        raise click.ClickException(f"fixtures not found at {FIXTURES_DIR}")
    data_dir = load_settings().data_dir / "demo"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    os.environ.pop("CATALOG_DATABASE_URL", None)
    catalog = state.open(str(data_dir))
    click.echo(f"Loading the demo catalog from {FIXTURES_DIR} into {data_dir} …")
    started = time.perf_counter()
    report = load_paths(catalog, [FIXTURES_DIR])
    print_load_report(report, verbose=False)
    click.echo(f"took {time.perf_counter() - started:.1f}s")
    if with_accounts:
        from web.cli.demo_accounts import create_demo_accounts

        made = create_demo_accounts(catalog)
        click.echo("Demo accounts (sign in at /login; the password is new for each demo):")
        for role, email in made.emails.items():
            steward_of = f"  (steward of {made.agency})" if role == "steward" else ""
            click.echo(f"  {role:<8} {email}{steward_of}")
        click.echo(f"  password {made.password}")
    if no_serve:
        return
    run_app(catalog, "the demo catalog", host, port)
