"""The package's shape: imports point one way, no cycles, no oversized module, class or function.

Reads the source with ``ast`` (nothing is imported), so a violation is reported with the file and
line that causes it, whichever import order the tests run in.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wixhttp"

#: The platform's layers, lowest first; a module may import its own layer or a lower one, and the
#: core (``wixhttp.*`` outside ``platform``), which never imports the platform.
LAYERS: dict[str, int] = {
    # pure leaves: data shapes, errors, settings, the wire protocol with workers
    **dict.fromkeys(["config", "errors", "models", "calls", "queries", "capture"], 1),
    # infrastructure: persistence, processes, files, caches
    **dict.fromkeys(
        [
            "store",
            "writer",
            "workers",
            "worker_client",
            "archive",
            "targets",
            "auth",
            "bus",
            "processes",
            "entry",
            "runtime",
            "dynamic_keys",
            "sandbox",
            "spawn",
        ],
        2,
    ),
    # services: the rules, no HTTP
    **dict.fromkeys(
        [
            "functions",
            "deployments",
            "builds",
            "executions",
            "scheduler",
            "recovery",
            "runner",
            "nodes",
        ],
        3,
    ),
    # HTTP mapping
    **dict.fromkeys(["api", "proxy"], 4),
    # entry points and composition
    **dict.fromkeys(
        ["app", "service", "cli", "site_commands", "worker", "__main__", "__init__"], 5
    ),
}
LAYER_NAMES = {1: "leaf", 2: "infrastructure", 3: "services", 4: "HTTP", 5: "entry"}

MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300
MAX_FUNCTION_LINES = 60
#: Functions allowed past the limit, each with a comment beside it giving the measured reason.
HOT_PATH_EXCEPTIONS: set[str] = set()


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every ``wixhttp`` module ``module`` imports (top level, function bodies and
    ``TYPE_CHECKING`` blocks alike), with the line."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            # ``from wixhttp.platform import errors`` imports the submodule errors, not the
            # package; ``from wixhttp.app import create_app`` resolves to wixhttp.app.
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == "wixhttp" or name.startswith("wixhttp."):
                yield name, node.lineno


def _known(name: str, modules: set[str]) -> str | None:
    """The module ``name`` refers to (a name inside a module resolves to the module)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> dict[str, dict[str, int]]:
    modules = dict(_modules())
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for name, line in _imports(module, path):
            target = _known(name, set(modules))
            if target is not None and target != module and not module.startswith(target + "."):
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def _layer(module: str) -> int | None:
    """The platform layer of a ``wixhttp.platform.*`` module (0 for the core)."""
    parts = module.split(".")
    if parts[:2] != ["wixhttp", "platform"]:
        return 0
    return LAYERS.get(parts[2] if len(parts) > 2 else "__init__")


def test_every_platform_module_has_a_layer() -> None:
    unclassified = [m for m in _graph() if _layer(m) is None]
    assert not unclassified, f"add these modules to LAYERS in {__file__}: {unclassified}"


def test_the_core_never_imports_the_platform() -> None:
    upward = [
        f"{module} imports {target} (line {line})"
        for module, edges in _graph().items()
        for target, line in edges.items()
        if _layer(module) == 0 and target.startswith("wixhttp.platform")
    ]
    assert not upward, "\n".join(upward)


def test_platform_imports_point_down_the_layers() -> None:
    upward = []
    for module, edges in _graph().items():
        here = _layer(module)
        for target, line in edges.items():
            there = _layer(target)
            if here and there and there > here:
                upward.append(
                    f"{module} ({LAYER_NAMES[here]}) imports {target} ({LAYER_NAMES[there]}) "
                    f"at line {line}"
                )
    assert not upward, "\n".join(upward)


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in graph.get(module, {}):
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def _sizes() -> Iterator[tuple[str, str, int]]:
    for module, path in _modules():
        text = path.read_text()
        yield "module", str(path.relative_to(PACKAGE.parent)), len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                yield kind, f"{module}:{node.lineno} {node.name}", size


@pytest.mark.parametrize(
    ("kind", "limit"),
    [("module", MAX_MODULE_LINES), ("class", MAX_CLASS_LINES), ("function", MAX_FUNCTION_LINES)],
)
def test_no_oversized_code(kind: str, limit: int) -> None:
    over = [
        f"{where}: {size} lines"
        for found, where, size in _sizes()
        if found == kind and size > limit and where.split(" ")[-1] not in HOT_PATH_EXCEPTIONS
    ]
    assert not over, f"over {limit} lines:\n" + "\n".join(over)


def main() -> None:
    """``python -m tests.test_layout``: the largest modules, classes and functions, by kind."""
    sizes = sorted(_sizes(), key=lambda found: (found[0], -found[2]))
    limits = {"module": MAX_MODULE_LINES, "class": MAX_CLASS_LINES, "function": MAX_FUNCTION_LINES}
    for kind, limit in limits.items():
        ranked = [(where, size) for found, where, size in sizes if found == kind]
        over = sum(size > limit for _, size in ranked)
        print(f"{kind}: {len(ranked)} in all, {over} over {limit} lines; the largest:")
        for where, size in ranked[:5]:
            print(f"  {size:5d}  {where}")


if __name__ == "__main__":
    main()
