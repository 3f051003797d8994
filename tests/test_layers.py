"""The layers point one way: no module of the package imports, directly or
through others, a module that imports it back (type-only and function-level
imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import bereikbaarheid

PACKAGE = Path(bereikbaarheid.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports, wherever the import stands."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            found.add(source)
            # ``from . import x`` names a module x when there is one.
            found |= {f"{source}.{alias.name}" for alias in node.names}
    return {m for m in found if m in modules and m != name}


def import_graph() -> nx.DiGraph:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for path in paths:
        for target in _imports(path, modules):
            # A package's own __init__ is not a layer: importing a module of a
            # subpackage runs it, but it only gathers the package's names.
            if not _module_name(path).startswith(target + "."):
                graph.add_edge(_module_name(path), target)
    return graph


def test_the_import_graph_has_no_cycle():
    cycles = list(nx.simple_cycles(import_graph()))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c + c[:1]) for c in cycles)


def test_the_graph_sees_the_imports_it_must():
    """The reader of imports is itself checked on known edges."""
    graph = import_graph()
    assert graph.has_edge("bereikbaarheid.pipeline", "bereikbaarheid.run_config")
    assert graph.has_edge("bereikbaarheid.regional", "bereikbaarheid.run_config")
    assert graph.has_edge("bereikbaarheid.report._html", "bereikbaarheid.report._raster")
    assert graph.has_edge("bereikbaarheid.sources.gtfs", "bereikbaarheid.sources._gtfs_text")
    assert not graph.has_edge("bereikbaarheid.regional", "bereikbaarheid.pipeline")


def _layer(module: str) -> str:
    """``bereikbaarheid.sources.osm`` -> ``sources``; the package itself -> ``""``."""
    return (module.split(".") + [""])[1]


def test_lower_layers_never_import_higher_ones():
    """sources -> networks -> kernels -> measures -> profile/export/report:
    kernels import no pandas-level layer, and nothing below the run imports it."""
    graph = import_graph()
    below_the_run = [m for m in graph if _layer(m) in
                     ("sources", "networks", "kernels", "measures")]
    for module in below_the_run:
        reached = nx.descendants(graph, module)
        higher = {m for m in reached if _layer(m) in
                  ("pipeline", "scenario", "regional", "cli", "report", "catalog", "export")}
        assert not higher, f"{module} reaches {sorted(higher)}"
    for module in (m for m in graph if m.startswith("bereikbaarheid.kernels.")):
        reached = {_layer(m) for m in nx.descendants(graph, module)}
        assert reached <= {"kernels", "_progress"}, f"{module} reaches {sorted(reached)}"


def test_dask_stays_in_the_batch_layer():
    """Batches sit above the run: only ``batch`` imports Dask, nothing but
    the command line (and the batch itself) imports ``batch``, and the run
    (pipeline, scenario, closures) never reaches it."""
    graph = import_graph()
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and not node.level}
        if _layer(name) != "batch":
            assert not imported & {"dask", "distributed"}, f"{name} imports Dask"
    users = {m for m in graph if any(t.startswith("bereikbaarheid.batch")
                                     for t in graph.successors(m))}
    assert {m for m in users if _layer(m) != "batch"} == {"bereikbaarheid.cli"}
    for module in ("bereikbaarheid.pipeline", "bereikbaarheid.scenario"):
        assert not {m for m in nx.descendants(graph, module) if _layer(m) in ("batch", "cli")}
