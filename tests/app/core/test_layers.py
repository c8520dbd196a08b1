"""The house's layers point one way.

Walks every import in app/ (those inside functions too) and in the pure engines, and fails on:
- a cycle between domain packages of app/ (a domain may use another only one way round);
- a module reached by a computed name (importlib.import_module / __import__ with anything but
  create_app's own list of domains), which hides a dependency from this very check;
- an import of Flask or of app/ from the engines speech/, grading/ and content_schema/.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "app"
ENGINES = ("speech", "grading", "content_schema")
# Modules of app/ itself that every domain may use: they sit below all domains.
BOTTOM = {"extensions", "config"}
# The application factory loads the domains by name from its DOMAINS tuple: that is the top.
FACTORY = APP / "__init__.py"


def _module_parts(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path):
    """(imported module as parts, line) for every import statement in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_parts(path) if path.name == "__init__.py" else _module_parts(path)[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split("."), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                if node.module:
                    yield target, node.lineno
                else:
                    for alias in node.names:
                        yield target + [alias.name], node.lineno
            else:
                yield node.module.split("."), node.lineno


def _domain_of(parts: list[str]) -> str | None:
    if len(parts) < 2 or parts[0] != "app":
        return None
    if (APP / parts[1]).is_dir():
        return parts[1]
    return None  # app/extensions.py, app/config.py, app itself


def _domain_graph():
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in APP.rglob("*.py"):
        source = _domain_of(_module_parts(path))
        if source is None:
            continue
        for target, line in _imports(path):
            domain = _domain_of(target)
            if domain is not None and domain != source:
                edges[source][domain].append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def _cycles(edges) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
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

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def test_domain_packages_import_each_other_one_way_only():
    edges = _domain_graph()
    problems = []
    for component in _cycles(edges):
        ties = [f"  {a} -> {b}: {', '.join(edges[a][b][:3])}"
                for a in component for b in component if b in edges.get(a, {})]
        problems.append(f"cycle {' ⇄ '.join(component)}:\n" + "\n".join(ties))
    assert not problems, "\n".join(problems)


def test_the_walk_sees_imports_inside_functions(tmp_path):
    # The checks are only as good as the walk: a deferred, relative import must count as an arrow.
    module = tmp_path / "app" / "alpha" / "views.py"
    module.parent.mkdir(parents=True)
    module.write_text("def view():\n    from ..beta.services import thing\n    return thing\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = list(_imports(module))
    finally:
        ROOT = saved
    assert found == [(["app", "beta", "services"], 2)]


def _computed_imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in {"import_module", "__import__"}:
            yield node.lineno


def test_no_domain_is_reached_by_a_computed_name():
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path in APP.rglob("*.py") if path != FACTORY
                 for line in _computed_imports(path)]
    assert not offenders, "modules loaded by name (use a registry instead): " + ", ".join(offenders)


def test_the_factory_loads_exactly_its_domain_list():
    lines = list(_computed_imports(FACTORY))
    assert len(lines) <= 1, "create_app may load its DOMAINS by name, and nothing else"
    from app import DOMAINS
    assert sorted(DOMAINS) == sorted(p.name for p in APP.iterdir()
                                     if p.is_dir() and (p / "__init__.py").exists() and p.name != "templates"
                                     and p.name != "translations")


def test_engines_import_neither_flask_nor_the_app():
    offenders = []
    for engine in ENGINES:
        for path in (ROOT / engine).rglob("*.py"):
            for target, line in _imports(path):
                if target[0] in {"flask", "flask_sqlalchemy", "flask_login", "flask_babel", "app", "werkzeug"}:
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {'.'.join(target)}")
    assert not offenders, "\n".join(offenders)
