"""The library's layers (docs/architecture.md): a module imports only from its own layer or those below, never in a
circle. Function-level imports count: they run when the function does."""
from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from ganonlib.code_files import source_imports

ROOT = Path(__file__).resolve().parents[1]

# bottom to top; a module belongs to the first entry its dotted name starts with
LAYERS: list[tuple[str, ...]] = [
    ("ganonlib.errors", "ganonlib.methods", "ganonlib.config", "ganonlib.io", "ganonlib.native_logs",
     "ganonlib.progress", "ganonlib.weights", "ganonlib.published", "ganonlib.devices", "ganonlib.machine",
     "ganonlib.workers", "ganonlib.cluster", "ganonlib.viz", "ganonlib.provenance", "ganonlib"),
    ("ganonlib.faces",),
    ("ganonlib.data",),
    ("ganonlib.models",),
    ("ganonlib.anonymize", "ganonlib.train"),  # side by side: neither imports the other
    ("ganonlib.metrics",),
    ("ganonlib.report",),
    ("ganonlib.cli", "ganonlib.explore", "ganonlib.verify", "ganonlib.notebook_hooks", "ganonlib.pipeline_deps",
     "ganonlib.stage_run"),
]
SIBLINGS = {"ganonlib.anonymize", "ganonlib.train"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "ganonlib").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _owner(module: str) -> tuple[int, str]:
    """(layer, the entry of LAYERS that holds ``module``)."""
    for level, names in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + ".") and name != "ganonlib":
                return level, name
    if module.count(".") == 1:  # a top-level module no layer names: the base layer until one does
        return 0, module
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        current = f"{name}.__init__" if path.name == "__init__.py" else name
        # a package's own __init__ runs before any of its modules: no edge worth checking
        graph[name] = {m for m in source_imports(path.read_text(), ROOT, current)
                       if m in modules and m != name and not name.startswith(m + ".")}
    return graph


def test_the_import_graph_has_no_circle():
    try:
        tuple(TopologicalSorter(_graph()).static_order())
    except CycleError as err:
        pytest.fail(f"import circle: {' -> '.join(err.args[1])}")


def test_imports_point_down_the_layers():
    upward = []
    for module, imported in sorted(_graph().items()):
        level, owner = _owner(module)
        for target in sorted(imported):
            their_level, their_owner = _owner(target)
            across = their_owner != owner and {owner, their_owner} <= SIBLINGS
            if their_level > level or across:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_a_circle_and_an_upward_import_are_caught(monkeypatch):
    """The checks themselves, on a made-up graph: they must fail where the library would be wrong."""
    graph = {"ganonlib.faces.a": {"ganonlib.anonymize.b"}, "ganonlib.anonymize.b": {"ganonlib.faces.a"}}
    monkeypatch.setattr(__import__(__name__), "_graph", lambda: graph)
    with pytest.raises(pytest.fail.Exception, match="import circle"):
        test_the_import_graph_has_no_circle()
    with pytest.raises(AssertionError, match="ganonlib.faces.a -> ganonlib.anonymize.b"):
        test_imports_point_down_the_layers()
    graph.clear()
    graph.update({"ganonlib.anonymize.x": {"ganonlib.train.y"}, "ganonlib.train.y": set()})
    with pytest.raises(AssertionError, match="ganonlib.anonymize.x -> ganonlib.train.y"):
        test_imports_point_down_the_layers()
