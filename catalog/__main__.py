"""``python -m catalog``: the ``catalog`` command (the same as the console script).

The command lives in the web layer (``web.cli``: it serves the app, among other things);
this entry point only hands over to it, by name, and nothing imports this module, so the
domain package itself still knows nothing of the web (tests/test_imports.py).
"""

from importlib import import_module

import_module("web.cli").main(prog_name="catalog")
