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
        for path in sorted((SIM / floor).rglob("*.py"))
        for name in sorted(imports(path))
        if any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN[floor])
    ]
    assert not bad, bad


@pytest.mark.parametrize("floor", sorted(FORBIDDEN))
def test_floor_checks_see_subfolders(floor):
    """The checks above walk every folder of a floor (the pages live in sim/viz/pages/)."""
    found = {p.parent for p in (SIM / floor).rglob("*.py")}
    folders = {p for p in (SIM / floor).rglob("*") if p.is_dir() and p.name != "__pycache__"}
    assert found == folders | {SIM / floor}


def test_no_view_reads_the_population():
    """Views ask the model for the series they need (`sim.core.series`), as Agents.jl's
    adata/mdata: no module of the view floor, pages included, reads `model.population`."""
    bad = [
        f"{path.relative_to(SIM.parent)}:{i}"
        for path in sorted((SIM / "viz").rglob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if ".population" in line
    ]
    assert not bad, bad


def test_page_controls_are_declared_once():
    """Both pages' controls come from one table: no page module spells a control's label,
    range or option list of its own (the table's labels appear in no other module)."""
    from sim.viz.pages.controls import CONTROLS

    table = SIM / "viz" / "pages" / "controls.py"
    labels = [c.label for c in CONTROLS.values()]
    bad = [
        f"{path.relative_to(SIM.parent)} spells {label!r}"
        for path in sorted((SIM / "viz").rglob("*.py"))
        if path != table
        for label in labels
        if f'"{label}"' in path.read_text()
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


def test_no_private_hydra_api():
    """Hydra's `_internal` may change in any release: the package uses its public API only."""
    bad = [
        f"{path.relative_to(SIM.parent)} imports {name}"
        for path in sorted(SIM.rglob("*.py"))
        for name in sorted(imports(path))
        if name.startswith("hydra._internal")
    ]
    assert not bad, bad


def test_commands_live_on_the_commands_floor():
    """Every console script is a `main` in `sim.cli` (the pages' two may still be moving: the
    what-if and trainer apps), and no floor below decides an exit code of 2 itself."""
    import tomllib

    scripts = tomllib.loads((SIM.parent / "pyproject.toml").read_text())["project"]["scripts"]
    pages = {"privsim-app", "privsim-whatif"}
    bad = [
        f"{k} = {v}" for k, v in scripts.items() if k not in pages and not v.startswith("sim.cli.")
    ]
    assert not bad, bad
    exits = [
        f"{path.relative_to(SIM.parent)}: {line.strip()}"
        for floor in ("core", "experiment")
        for path in sorted((SIM / floor).glob("*.py"))
        for line in path.read_text().splitlines()
        if "sys.exit(2)" in line or "return 2" in line or "exit(BAD_INPUT)" in line
    ]
    assert not exits, exits


def test_run_engine_pieces_are_defined_once():
    """Sweeps and studies share one progress line, one clock, one flatten rule, one dotted-key
    spelling, and one set of statistics: each is defined in exactly one module."""
    once = {
        "Progress": "experiment/progress.py",
        "clock": "experiment/progress.py",
        "_fmt": None,
        "flatten": "experiment/keys.py",
        "_walk": None,
        "_dotted": None,
        "mean_ci": "experiment/comparison.py",
        "ranking": "experiment/comparison.py",
        "paired": "experiment/comparison.py",
    }
    found: dict[str, list[str]] = {name: [] for name in once}
    for path in sorted(SIM.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in once:
                found[node.name].append(path.relative_to(SIM).as_posix())
    wrong = {n: where for n, where in found.items() if where != ([once[n]] if once[n] else [])}
    assert not wrong, wrong


def import_graph() -> dict[str, set[str]]:
    """Every module under `sim/` (packages by their `__init__`) and the `sim` modules it imports
    anywhere in its file (lazy and TYPE_CHECKING imports included), each imported name resolved
    to the longest dotted prefix that is a module (`from sim.core.params import Scenario` is an
    edge to `sim.core.params`)."""
    modules = {}
    for path in sorted(SIM.rglob("*.py")):
        parts = path.relative_to(SIM.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        edges = set()
        for imported in imports(path):
            parts = imported.split(".")
            for k in range(len(parts), 0, -1):
                target = ".".join(parts[:k])
                if target in modules:
                    if target != name:
                        edges.add(target)
                    break
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle():
    """No module reaches itself through its imports, lazy ones included (issue #20: the core
    had one, params ↔ fit, pyramid, closed by imports inside functions)."""
    graph = import_graph()
    assert "sim.core.model" in graph and "sim.core.params" in graph["sim.core.model"]
    found = cycles(graph)
    assert not found, "import circles: " + "; ".join(" ↔ ".join(c) for c in found)


def test_the_model_class_has_no_feature_branches():
    """Optional mechanisms are modules with hooks (`sim.core.mechanism`), chosen once when the
    model is built (`sim.core.model.mechanisms`): the model's own phases never ask whether a
    run has layers, camps, washes or a friend cap."""
    import inspect
    import re

    from sim.core.model import PrivateDomainModel

    code = [
        line.split("#")[0]
        for line in inspect.getsource(PrivateDomainModel).splitlines()
        if not line.strip().startswith(('"', "`"))
    ]
    words = re.compile(r"pyramid|layers|camps?\b|wash|friend_cap|_stacked|\.mixed")
    bad = [line.strip() for line in code if words.search(line) and '"""' not in line]
    assert not bad, bad


def test_each_population_column_has_one_owner():
    """A mechanism declares the population columns it owns (`Mechanism.state`); in a run no
    column is owned twice, and every owned column exists."""
    from sim.core.model import mechanisms
    from sim.core.population import FIELDS
    from sim.experiment.config import compose, model_kwargs

    for overrides in ([], ["pool=pyramid", "operators.friend_cap=100"]):
        sc = model_kwargs(compose(overrides))["scenario"]
        built = mechanisms(sc, [*sc.channels, "referral", "imported"], 0).ordered
        owned = [col for m in built for col in m.state]
        assert len(owned) == len(set(owned)), owned
        assert set(owned) <= set(FIELDS), set(owned) - set(FIELDS)
        assert {"pool", "koc", "operator"} <= set(owned)
        assert ("pyramid_layer" in owned) == bool(overrides)
