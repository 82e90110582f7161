"""The library's rooms: imports flow one way, and only efficiency/ui/ imports Streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "efficiency"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in LIBRARY.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """The library modules `path` imports anywhere (lazily inside functions too), except for type checking."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("efficiency"):
            found.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                         for a in node.names)  # fmt: skip
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("efficiency"))
    return found & MODULES.keys()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                cycles.append(sorted([v, *component]))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_library_has_no_import_cycle():
    from efficiency.techniques import MODULES as TECHNIQUE_MODULES

    graph = {name: _imports(path) for name, path in MODULES.items()}
    # The techniques package imports its modules by name (importlib): those edges count too.
    graph["efficiency.techniques"] |= {f"efficiency.techniques.{m}" for m in TECHNIQUE_MODULES}
    assert graph["efficiency.runs.runner"], "the import reader found nothing: it is broken"
    assert _cycles(graph) == []


def test_only_the_ui_package_imports_streamlit():
    offenders = [
        name
        for name, path in MODULES.items()
        if not name.startswith("efficiency.ui")
        and any(
            (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "streamlit" for a in n.names))
            or (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "streamlit")
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert offenders == []
    assert any(name.startswith("efficiency.ui.") for name in MODULES), "the UI package is where Streamlit lives"
    assert not (ROOT / "ui.py").exists(), "the UI lives in efficiency/ui/, not at the repository's root"
