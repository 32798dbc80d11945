"""pyproject.toml declares what the code imports, nothing it does not, and installs no bench/;
every document the code cites is in the repository."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
FIRST_PARTY = {"agent", "tools", "policies", "memory", "devnet", "bench", "tests"}
INSTALLED = ("agent", "tools", "policies", "memory", "devnet")

# Declared without being imported, each for a reason of its own.
NOT_IMPORTED = {
    "openai": "pins the client langchain-openai drives (the LLM planner's wire format)",
    "pytest-timeout": "a pytest plugin (--timeout in addopts)",
    "pytest-xdist": "a pytest plugin (-n in addopts)",
    "ruff": "the linter CI runs",
    "mypy": "the type checker CI runs",
    "types-pyyaml": "PyYAML's type stubs, for mypy",
}


def _name(requirement: str) -> str:
    return _canonical(re.split(r"[\s=<>!~\[;]", requirement, maxsplit=1)[0])


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(*groups: str) -> set[str]:
    project = PYPROJECT["project"]
    names = {_name(r) for r in project["dependencies"]}
    for group in groups:
        names |= {_name(r) for r in project["optional-dependencies"][group]}
    return names


@functools.cache
def _imports_of(folder: str) -> frozenset[str]:
    """Top-level names of every absolute import, at any depth (lazy imports count too)."""
    found: set[str] = set()
    for path in (REPO / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return frozenset(found - FIRST_PARTY - set(sys.stdlib_module_names) - {"__future__"})


def _imported_modules(*folders: str) -> set[str]:
    return set().union(*(_imports_of(folder) for folder in folders))


@functools.cache
def _providers() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()  # reads every installed dist: once


def _distributions(modules: set[str]) -> set[str]:
    """The distributions that provide ``modules`` (a module not installed names itself)."""
    return {_canonical(d) for m in modules for d in _providers().get(m, [m])}


@pytest.mark.parametrize(
    ("folders", "groups"),
    [(INSTALLED, ()), (("tests",), ("test",)), (("bench",), ("bench",))],
    ids=["package", "tests", "bench"],
)
def test_every_import_is_declared(folders: tuple[str, ...], groups: tuple[str, ...]) -> None:
    missing = _distributions(_imported_modules(*folders)) - _declared(*groups)
    assert not missing, f"imported by {'/'.join(folders)} but not declared: {sorted(missing)}"


def test_every_declared_dependency_is_imported() -> None:
    used = _distributions(_imported_modules(*FIRST_PARTY))
    unused = _declared("test", "bench") - used - set(NOT_IMPORTED)
    assert not unused, f"declared but imported nowhere: {sorted(unused)}"


def test_the_package_installs_no_bench() -> None:
    pyprojecttoml = pytest.importorskip("setuptools.config.pyprojecttoml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # [tool.setuptools] is "beta" in older setuptools
        config = pyprojecttoml.read_configuration(REPO / "pyproject.toml")
    packages = set(config["tool"]["setuptools"]["packages"])
    assert set(INSTALLED) <= packages
    assert not {p for p in packages if p.split(".")[0] in {"bench", "tests"}}


def test_bench_runs_from_a_checkout() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "--full" in done.stdout


def test_every_document_the_code_cites_is_in_the_repository() -> None:
    cited = {
        (path.relative_to(REPO), name)
        for folder in FIRST_PARTY
        for path in (REPO / folder).rglob("*.py")
        for name in re.findall(r"[\w./-]+\.md\b", path.read_text())
    }
    missing = sorted(f"{path} cites {name}" for path, name in cited if not (REPO / name).is_file())
    assert not missing, missing
