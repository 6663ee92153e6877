"""The notebooks of docs/notebooks/ (issue #25) run top to bottom in a fresh kernel of this
environment, write nothing into the repository, and are committed with their outputs stripped.

Stripped, because `make test` (CI) executes them every time: committed outputs would be a second,
unchecked copy of numbers and figures that drifts from the code whenever a default moves, and
each change would carry ~100 kB of base64 images in its diff. A reader runs a notebook (seconds)
or reads the docs site, which can execute them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from cli_harness import differences, snapshot

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "docs" / "notebooks").glob("*.ipynb"))
KERNEL = "python3"  # ipykernel's kernelspec, installed into the venv (share/jupyter/kernels)
CELL_TIMEOUT = 300  # seconds a cell may take: the slowest (a 12-run sweep) takes ~20 s
# where a notebook could write by mistake (results/ is what the bad-input corpus watches too)
WATCHED = [REPO / "results", REPO / "docs", REPO / "configs", REPO / "examples"]
# appended to each run: the kernel must be this environment's, importing this checkout's `sim`
WHERE = "import sys, sim\nprint(sys.prefix)\nprint(sim.__file__)"


def test_the_notebooks_are_there():
    names = [p.name for p in NOTEBOOKS]
    assert names == ["01_one_run.ipynb", "02_sweep_paired.ipynb", "03_strategy_map.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == KERNEL
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_and_writes_nothing(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WHERE))
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=nb.metadata["kernelspec"]["name"],
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    before = snapshot(*WATCHED)
    client.execute()  # a cell that raises fails the test with its traceback
    changed = differences(before, snapshot(*WATCHED))
    assert not changed, f"{path.name} wrote into the repository:\n" + "\n".join(changed[:20])
    out = "".join(o["text"] for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    prefix, module = out.split()
    assert Path(prefix) == Path(sys.prefix), "the kernel is another environment's"
    assert Path(module).is_relative_to(REPO), f"the kernel imported another sim: {module}"
