"""The layers' one-way rule, read from the source: web → indexer → catalog, and no cycles.

Every module of ``catalog/``, ``indexer/`` and ``web/`` is parsed with :mod:`ast`; every
import counts, including those inside functions (a lazy import is still a dependency).
``catalog`` imports neither ``indexer`` nor ``web``; ``indexer`` does not import ``web``; and
the graph of imports between the project's modules has no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("catalog", "indexer", "web")
# A package may import the packages to its right, never those to its left.
LAYERS = {"web": 2, "indexer": 1, "catalog": 0}


def module_name(path: Path) -> str:
    """``indexer/jobs/queue.py`` → ``indexer.jobs.queue``; a package is its ``__init__``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts and path.parent.name == "versions":
                continue  # Alembic scripts import only alembic and sqlalchemy
            found[module_name(path)] = path
    return found


def imported_names(path: Path, name: str) -> Iterator[str]:
    """Every module name that ``path`` imports, anywhere in it (relative ones resolved)."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            yield base
            for alias in node.names:  # ``from indexer import jobs`` imports indexer.jobs
                yield f"{base}.{alias.name}"


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (names that are not modules are dropped)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_names(path, name):
            if imported in modules and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports from a lower layer into a higher one, as ``a → b`` lines."""
    out = []
    for name, targets in sorted(graph.items()):
        layer = LAYERS[name.split(".")[0]]
        for target in sorted(targets):
            if LAYERS[target.split(".")[0]] > layer:
                out.append(f"{name} → {target}")
    return out


def test_the_graph_covers_every_module() -> None:
    graph = import_graph()
    assert {"catalog.service", "indexer.harvest", "web.app"} <= set(graph)
    assert sum(len(t) for t in graph.values()) > 100  # a real graph, not an empty parse


def test_no_import_points_upward() -> None:
    assert upward_imports(import_graph()) == []


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("source, expected", [
    ("import catalog.models\n", ["catalog.models"]),
    ("def f():\n    from web import app\n", ["web", "web.app"]),
    ("from . import base\n", ["indexer.formats", "indexer.formats.base"]),
    ("from .base import X\n", ["indexer.formats.base", "indexer.formats.base.X"]),
])
def test_imports_are_read_inside_functions_and_relative_ones_resolved(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    folder = tmp_path / "indexer" / "formats"
    folder.mkdir(parents=True)
    path = folder / "probe.py"
    path.write_text(source, "utf-8")
    assert list(imported_names(path, "indexer.formats.probe")) == expected


def test_the_checks_catch_an_upward_import_and_a_cycle() -> None:
    graph = {"catalog.a": {"indexer.b"}, "indexer.b": {"catalog.a"}, "web.c": set()}
    assert upward_imports(graph) == ["catalog.a → indexer.b"]
    assert cycles(graph) == [["catalog.a", "indexer.b"]]
