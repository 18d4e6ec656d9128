"""The library's import graph: no circles (imports inside functions included), no Streamlit.

Issue 14 asks for the pipeline's packages to import only down the pipeline. This test reads
every module of ``planning/`` as source (nothing is imported), resolves each ``import`` and
``from ... import`` to the most specific module of the package that exists, and fails with the
circle spelled out when any strongly connected group of modules has more than one member.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "planning"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "_vendor" not in p.parts}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The most specific module of the package that ``name`` refers to (or None)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                prefix = ".".join(base)
                stem = f"{prefix}.{node.module}" if node.module else prefix
            else:
                stem = node.module or ""
            targets = [f"{stem}.{alias.name}" for alias in node.names]
        for target in targets:
            resolved = _resolve(target, known)
            if resolved is not None and resolved != module:
                found.add(resolved)
    return found


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative), groups of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            if children:
                child = children.pop()
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_the_reader_finds_the_pipeline() -> None:
    graph = _graph()
    # The reader resolves package-relative and absolute imports to modules of the package.
    assert "planning.pipeline" in graph
    assert "planning.scenario" in graph["planning.pipeline"]
    assert any(target.startswith("planning.models") for target in graph["planning.pipeline"])


def test_a_circle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _strongly_connected(graph) == [["a", "b", "c"]]


def test_no_import_circles_in_planning() -> None:
    circles = _strongly_connected(_graph())
    assert circles == [], "import circles in planning/: " + "; ".join(
        " <-> ".join(group) for group in circles
    )


@pytest.mark.parametrize("banned", ["streamlit", "ui"])
def test_library_never_imports_the_app(banned: str) -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n == banned or n.startswith(banned + ".") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


MAX_MODULE_LINES = 850
"""Issue 14: no module over ~800 lines (a little slack so one added function is not a failure)."""


def test_no_module_is_a_warehouse() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
        if "_vendor" not in path.parts
    }
    assert sizes, "no modules read"
    too_long = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert too_long == {}, f"split these modules (over {MAX_MODULE_LINES} lines): {too_long}"
