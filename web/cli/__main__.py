"""``python -m web.cli``: the ``catalog`` command."""

from web.cli import main

main()
