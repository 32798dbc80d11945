"""The package layering the architecture notes promise, read from the source itself.

Every import statement counts, at module level or inside a function: a deferred import is
still a dependency, and a cycle hidden in a function body is still a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "tools", "policies", "memory", "devnet")

# Which top-level packages each package must never import.
FORBIDDEN = {
    "tools": {"agent", "devnet", "policies", "memory"},
    "policies": {"agent", "devnet", "memory"},
    "memory": {"agent", "devnet", "policies"},
    "devnet": {"agent", "policies", "memory"},
}
# devnet may import these tools modules: leaves with no project imports of their own (and the
# package itself, whose __init__ is empty, since importing a submodule loads it).
DEVNET_MAY_IMPORT = {"tools", "tools.keypair", "tools.account_id", "tools.u128"}
# policies may use memory's generic SQLite and file helpers, never its stores.
POLICIES_MAY_IMPORT = {"memory", "memory.db", "memory.process_owner", "memory.user_files"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an imported name lives in (a package's ``__init__`` if that is all)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.add(target)
            # Importing a.b.c runs a/b/__init__.py first: a package's __init__ is a dependency
            # (except the module's own packages, which Python has loaded before the module).
            while target is not None:
                target = _resolve(target.rpartition(".")[0])
                if target is not None and not module.startswith(target + "."):
                    found.add(target)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _package(module: str) -> str:
    return module.split(".")[0]


def test_lower_layers_do_not_import_higher_ones() -> None:
    wrong = []
    for module, targets in sorted(GRAPH.items()):
        banned = FORBIDDEN.get(_package(module), set())
        for target in sorted(targets):
            if _package(target) not in banned:
                continue
            if _package(module) == "devnet" and target in DEVNET_MAY_IMPORT:
                continue
            if _package(module) == "policies" and target in POLICIES_MAY_IMPORT:
                continue
            wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_devnet_imports_only_leaf_modules_of_tools() -> None:
    for name in DEVNET_MAY_IMPORT:
        assert name in MODULES, name
        assert GRAPH[name] == set(), f"{name} is meant to be a leaf, imports {GRAPH[name]}"
    for module, targets in GRAPH.items():
        if _package(module) == "devnet":
            assert {t for t in targets if _package(t) == "tools"} <= DEVNET_MAY_IMPORT, module


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative, so deep graphs do not hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_no_import_cycle_between_modules() -> None:
    assert _strongly_connected(GRAPH) == []


def test_the_walker_sees_both_kinds_of_import() -> None:
    """The checks above are only as good as the walk: it must see deferred imports too."""
    assert "tools.errors" in GRAPH["tools.keys"]  # module level
    assert "agent.scheduler.market_maker" in GRAPH["agent.cli"]  # inside `near-agent devnet`
    # importing a submodule loads its package first, so the package counts as imported
    assert "agent.scheduler" in GRAPH["agent.cli"]


# tools/ may not import memory/, so the nonce ledger (a tools module) keeps its own block.
# the layers below memory (tools, devnet) cannot use its helpers; each of these rolls back itself
OWN_TRANSACTIONS = {"memory.db", "tools.nonce_ledger", "devnet.archive"}
# an SQL BEGIN statement (not prose that starts with the word, such as a docstring)
SQL_BEGIN = re.compile(
    r"\s*BEGIN(\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?(\s+TRANSACTION)?\s*;?\s*$", re.IGNORECASE
)


def test_sqlite_transactions_are_begun_in_one_place() -> None:
    """Every BEGIN goes through memory.db's helpers: one place rolls back on any error."""
    begins = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL_BEGIN.match(node.value)
                and module not in OWN_TRANSACTIONS
            ):
                begins.append(f"{module}:{node.lineno}")
    assert begins == []
