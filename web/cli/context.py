"""What one run of the ``catalog`` command shares: the catalog, opened when a command needs it.

The group puts a :class:`CliState` on the click context (``ctx.obj``); commands take it with
:data:`pass_state`. ``catalog --help`` and commands that need no catalog never open one; the
others open it once, and it is closed when the command ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from catalog.service import Catalog


class CliState:
    """The object on the click context of one invocation."""

    def __init__(self) -> None:
        self._catalog: Catalog | None = None
        self._data_dir: str | None = None

    def open(self, data_dir: str | None = None) -> Catalog:
        """The invocation's catalog, opened on first use (from the settings, or at data_dir)."""
        if self._catalog is None:
            from catalog.config import load_settings
            from catalog.service import Catalog

            settings = load_settings(data_dir=data_dir) if data_dir else load_settings()
            self._catalog, self._data_dir = Catalog(settings), data_dir
        elif data_dir != self._data_dir:
            raise RuntimeError(f"the catalog is open already (not at {data_dir})")
        return self._catalog

    @property
    def catalog(self) -> Catalog:
        """The catalog of the ``CATALOG_*`` settings, opened on first use."""
        return self.open()

    def close(self) -> None:
        """Release the catalog's database and search connections, if it was opened."""
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None


pass_state = click.make_pass_decorator(CliState, ensure=True)


def actor() -> str:
    """Who runs the command, for the change history: ``cli:<user>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"
