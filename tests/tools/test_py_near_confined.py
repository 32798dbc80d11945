"""py-near is reached only through tools/signing.py: the rest of the code signs through it and
talks to nodes through tools/transport.py, so py-near's behaviour is confined to one module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "tools", "policies", "memory")


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def sources() -> dict[str, set[str]]:
    return {
        str(path.relative_to(ROOT)): imports(path)
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_only_tools_signing_imports_py_near() -> None:
    importers = {
        name
        for name, modules in sources().items()
        if any(m.split(".")[0] in ("py_near", "py_near_primitives") for m in modules)
    }
    assert importers == {"tools/signing.py"}
