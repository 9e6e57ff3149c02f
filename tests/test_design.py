"""The package's shape: no import cycle among the htkeras modules, read from their import statements (every
one, at module level or inside a function), and the project's files that users and CI rely on."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "htkeras"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict:
    """``{module: {htkeras modules it imports}}``. ``from X import name`` is an edge to ``X.name`` when that is
    a module, else to ``X`` (the name comes from X's ``__init__``)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for alias in node.names:
                    edges.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        graph[name] = {edge for edge in edges if edge in modules and edge != name}
    return graph


def find_cycle(graph: dict) -> list | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_among_htkeras_modules():
    graph = import_graph()
    assert len(graph) > 40 and "htkeras.zoo.artifact" in graph["htkeras.zoo.resolver"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_project_files():
    assert (ROOT / "LICENSE").read_text().startswith("                                 Apache License")
    assert "ruff check" in (ROOT / ".ci" / "run").read_text() and "[tool.ruff" in (ROOT / "pyproject.toml").read_text()
    from htkeras import __version__

    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()
    assert "version=VERSION" in (ROOT / "setup.py").read_text()  # the version is written once, in htkeras/version.py
