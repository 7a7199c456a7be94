"""Which ganonlib files a module may run: its imports, followed through every module they import, function-level
imports included (they run when the function does). What DVC's stages depend on (:mod:`ganonlib.pipeline_deps`) and
what the preprocessing's reuse key hashes (:func:`ganonlib.data.preprocess.code_fingerprint`)."""
from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["PACKAGE", "module_file", "modules_run_by", "runs_code", "source_imports"]

PACKAGE = "ganonlib"


def module_file(name: str, root: Path) -> Path | None:
    """``ganonlib.a.b`` -> ``ganonlib/a/b.py`` or ``ganonlib/a/b/__init__.py`` under ``root``; None if neither."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def source_imports(source: str, root: Path, current: str = "") -> set[str]:
    """The ganonlib modules that ``source`` imports anywhere (``from ganonlib.x import y`` counts ``y`` when it is
    a module; relative imports are resolved against ``current``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = current.split(".")[: -node.level]
                base = ".".join([*parts, base] if base else parts)
            if base.split(".")[0] != PACKAGE:
                continue
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names if module_file(f"{base}.{a.name}", root))
    return found


def runs_code(path: Path) -> bool:
    """False for a file that holds only its docstring (a package's ``__init__.py`` that names it): importing it
    changes no result, so it is no dependency; once it holds code, it becomes one."""
    body = ast.parse(path.read_text()).body
    return not (len(body) <= 1 and all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body))


def modules_run_by(modules: set[str], root: str | Path = ".") -> list[str]:
    """Every ganonlib file that importing ``modules`` may run, as sorted paths relative to ``root``; each imported
    module's parent packages (their ``__init__.py``) included, since Python runs them first, unless they hold only a
    docstring."""
    root = Path(root)
    todo, seen = list(modules), set()
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for k in range(1, len(parts) + 1):
            prefix = ".".join(parts[:k])
            if prefix in seen:
                continue
            path = module_file(prefix, root)
            if path is None:
                continue  # a name imported from a module (not itself a module)
            seen.add(prefix)
            current = f"{prefix}.__init__" if path.name == "__init__.py" else prefix
            todo.extend(source_imports(path.read_text(), root, current))
    files = (module_file(name, root) for name in seen)
    return sorted(str(path.relative_to(root)) for path in files if path is not None and runs_code(path))
