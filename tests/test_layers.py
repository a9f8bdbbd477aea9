"""The architecture holds: runners -> search_spaces -> nasbench, never back, and no import cycle between modules
(function-local imports included, so none can hide a cycle)."""
import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nasbench", "search_spaces", "runners")
LAYER = {"nasbench": 0, "search_spaces": 1, "runners": 2}  # a module may import only its own layer and lower ones


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports anywhere in its body; `from package import name` counts as importing
    the submodule `package.name` where there is one, else the package."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def test_the_walk_sees_the_whole_project():
    graph = import_graph()
    assert len(graph) >= 75 and "nasbench.search.runner" in graph and "runners.search" in graph
    assert "nasbench.space" in graph["search_spaces.resnet_family"]
    assert "nasbench.scaling.rules" in graph["nasbench.genome"]


@pytest.mark.parametrize("package", PACKAGES)
def test_layers_point_one_way(package):
    wrong = sorted((module, target) for module, targets in import_graph().items() if module.split(".")[0] == package
                   for target in targets if LAYER[target.split(".")[0]] > LAYER[package])
    assert not wrong, f"{package} imports a layer above it: {wrong}"


def test_no_import_cycle():
    try:
        tuple(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_a_cycle_would_be_found(tmp_path):
    """The check itself: a planted pair of modules that import each other inside functions is a cycle."""
    (tmp_path / "a.py").write_text("def f():\n    from b import g\n")
    (tmp_path / "b.py").write_text("def g():\n    import a\n")
    modules = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    graph = {name: imports_of(path, modules) for name, path in modules.items()}
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter(graph).static_order())


def private_uses(path: Path) -> list[str]:
    """`x._name` on anything but self/cls, and imports of private modules (`timm.models._blocks`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            if owner not in ("self", "cls"):
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                   else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for module in modules:
            if any(part.startswith("_") and not part.startswith("__") for part in module.split(".")):
                found.append(f"{path.name}:{node.lineno} import {module}")
    return found


def test_public_apis_only():
    """Ray, Optuna, timm and torch are used through their public APIs (a private one breaks silently on upgrade)."""
    used = [use for path in project_modules().values() for use in private_uses(path)]
    assert not used, used


def test_a_private_use_would_be_found(tmp_path):
    (tmp_path / "m.py").write_text("import optuna\nfrom timm.models._efficientnet_blocks import SqueezeExcite\n"
                                   "def f(study):\n    return study._storage, self._fine\n")
    assert private_uses(tmp_path / "m.py") == ["m.py:2 import timm.models._efficientnet_blocks", "m.py:4 ._storage"]
