"""The package's import graph, read from the source (AST): no module imports itself through others,
and every `rl2lib` import sits at the top of its module, so a module's header says what it needs."""

import ast
from pathlib import Path

import rl2lib

PACKAGE = Path(rl2lib.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rl2lib_imports(node: ast.AST) -> list[str]:
    """The rl2lib modules an import statement names (`from rl2lib import x` names rl2lib.x when x is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "rl2lib"]
    if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rl2lib":
        names = []
        for alias in node.names:
            candidate = f"{node.module}.{alias.name}"
            is_module = (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                PACKAGE.parent / Path(*candidate.split("."))
            ).is_dir()
            names.append(candidate if is_module else node.module)
        return names
    return []


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """module -> the rl2lib modules it imports at its top level; and every import found inside a function."""
    graph, nested = {}, []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        name = module_name(path)
        graph[name] = {imported for node in tree.body for imported in rl2lib_imports(node)} - {name}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    nested += [f"{name}.{node.name} imports {imported}" for imported in rl2lib_imports(inner)]
    return graph, nested


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search)."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                return stack[stack.index(imported) :] + [imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        state[module] = "done"
        stack.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph, _ = import_graph()
    assert len(graph) > 30 and graph["rl2lib.train"] >= {"rl2lib.runs", "rl2lib.evaluate"}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_no_rl2lib_module_is_imported_inside_a_function():
    _, nested = import_graph()
    assert nested == []


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
