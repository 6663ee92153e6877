"""The floors import one way: cli → viz → experiment → core. Checked on the source (every
import statement, including those inside functions) and in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"
FORBIDDEN = {  # floor -> modules it must never import, not even lazily
    "core": ("sim.experiment", "sim.viz", "sim.cli", "hydra", "matplotlib"),
    "experiment": ("sim.viz", "sim.cli", "matplotlib"),
    "viz": ("sim.cli",),
}


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize("floor", sorted(FORBIDDEN))
def test_no_import_points_up(floor):
    bad = [
        f"{path.relative_to(SIM.parent)} imports {name}"
        for path in sorted((SIM / floor).glob("*.py"))
        for name in sorted(imports(path))
        if any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN[floor])
    ]
    assert not bad, bad


def test_fresh_interpreter_loads_no_view():
    code = (
        "import sys, sim.core.model, sim.experiment.run, sim.experiment.sweep, "
        "sim.experiment.reproduce; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'matplotlib' "
        "or m.startswith('sim.viz')]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_floors_are_the_only_subpackages():
    """New modules go into a floor, not beside them: the tree shows the architecture."""
    top = sorted(p.name for p in SIM.iterdir() if p.name != "__pycache__")
    assert top == ["__init__.py", "__main__.py", "cli", "core", "experiment", "viz"]


def test_no_import_circle():
    """No module of sim/ reaches itself through its imports, lazy ones included."""
    modules = {
        ".".join(p.relative_to(SIM.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in SIM.rglob("*.py")
    }
    graph = {m: {i for i in imports(p) if i in modules and i != m} for m, p in modules.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            assert state.get(n) != 1, " -> ".join([*path[path.index(n) :], n])
            if n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m, [m])
