"""The import graph of the h5press package, read from the source with `ast`: no import circle runs
anywhere in it, and the collaboration server is in layers (errors, foundations, storage, domain, web).

Every import statement counts, wherever it is (module level, inside a function, under
`TYPE_CHECKING`): a circle a function-level import hides still ties the modules together.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository root is the `h5press` package
PACKAGE = "h5press"
FOLDERS = ("generator", "api", "check", "compliance", "deploy", "report")
API = f"{PACKAGE}.api"

# The api modules by layer, lowest first: a module imports its own layer and the ones below, never one
# above; the routes (api/routes/) sit on top and only the app imports them.
LAYERS = {
    "errors": ["errors"],
    "foundations (no database, no web)": ["settings", "identity", "ratelimit", "rules", "shares", "project", "text"],
    "storage": ["driver", "db", "migrations", "changes", "limits", "writer"],
    "domain": ["members", "scores", "friends", "totals", "stock", "teams", "ledger", "boards", "rewards", "lottery", "export", "stream",
               "wechat", "analytics"],
    "web": ["schemas", "state", "app", "processes"],
}


def source_files() -> Iterator[Path]:
    yield from sorted(ROOT.glob("*.py"))
    for folder in FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The package modules one import statement loads: `from .x import y` is `x.y` when y is a module, else `x`."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            anchor = parts[: len(parts) - node.level + is_package]  # a package's `.` is the package itself
            base = ".".join([*anchor, *([base] if base else [])])
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    for name in names:
        while name and name not in known:  # `import h5press.api.db.x` loads h5press.api.db
            name = name.rpartition(".")[0]
        if name:
            yield name


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in source_files()}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        graph[module] = {target for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                         for target in imported(node, module, path.name == "__init__.py", known) if target != module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[str]:
    """Every strongly connected group of more than one module (Tarjan): its modules and one circle through them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [f"{', '.join(group)}: {' -> '.join(circle_through(graph, set(group)))}" for group in groups]


def circle_through(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest path from the group's first module back to it, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{sorted(group)} is not strongly connected")


def test_no_import_circle_in_the_package():
    found = circles(import_graph())
    assert not found, "import circles:\n" + "\n".join(found)


def test_api_modules_import_only_their_own_layer_and_the_ones_below():
    graph = import_graph()
    layer_of = {f"{API}.{name}": depth for depth, names in enumerate(LAYERS.values()) for name in names}
    names = list(LAYERS)
    modules = {m for m in graph if m.startswith(API + ".") and not m.startswith(f"{API}.routes")}
    assert modules == set(layer_of), "api modules missing from LAYERS (or gone): " + ", ".join(sorted(modules ^ set(layer_of)))
    upward = [f"{m} ({names[layer_of[m]]}) imports {t} ({names[layer_of[t]]})" for m in sorted(modules)
              for t in sorted(graph[m]) if t in layer_of and layer_of[t] > layer_of[m]]
    assert not upward, "\n".join(upward)


def test_errors_module_imports_nothing_of_the_package():
    assert not import_graph()[f"{API}.errors"]


def test_routes_are_the_top_layer():
    graph = import_graph()
    below = [f"{m} imports {t}" for m in sorted(graph) if m.startswith(API) and not m.startswith(f"{API}.routes")
             and m != f"{API}.app" for t in sorted(graph[m]) if t.startswith(f"{API}.routes")]
    assert not below, "\n".join(below)


def test_the_graph_sees_relative_imports_inside_functions():
    """The reader itself: `app` imports its routes inside the factory; `cli` imports the api inside a command."""
    graph = import_graph()
    assert f"{API}.routes.admin" in graph[f"{API}.app"] and f"{API}.app" in graph[f"{PACKAGE}.cli"]
