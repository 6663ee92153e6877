"""What produced a run is recorded (summary.json `provenance`), and the version rule of resume."""

import json
import subprocess
import sys

import pytest

from sim import __version__
from sim.experiment import provenance as prov

PRIVSIM = [sys.executable, "-m", "sim"]


def test_a_privsim_run_records_its_provenance(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run(
        [*PRIVSIM, "horizon_days=20", f"hydra.run.dir={out}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    p = summary["provenance"]
    # the installed version (a reinstall between this process's import and the run's would
    # move the dev part, never the release)
    assert summary["version"] == p["version"] and prov.same_release(p["version"], __version__)
    assert set(p) >= {"version", "git_commit", "git_dirty", "git_source", "python"}
    assert set(p["dependencies"]) == {
        "mesa",
        "numpy",
        "pandas",
        "pyarrow",
        "hydra-core",
        "omegaconf",
    }
    assert all(p["dependencies"].values())
    assert p["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    if p["git_source"] == "git":  # a checkout: the commit is HEAD's
        head = subprocess.run(
            ["git", "-C", str(prov.SOURCE_DIR), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        assert p["git_commit"] == head and isinstance(p["git_dirty"], bool)


@pytest.mark.parametrize(
    "a, b, same",
    [
        ("0.1.0", "0.1", True),
        ("0.1.dev5+g1234abc", "0.1.0", True),
        ("0.1.1.dev71+g2a7250f50.d20261124", "0.1.1.dev72+gabcdef0", True),
        ("0.1.1.dev3", "0.1.0", False),  # after 0.1.0 comes the 0.1.1 series
        ("0.2.0", "0.1.0", False),
        ("0.0.0-old", "0.1.0", False),
        (None, "0.1.0", False),
        ("unknown", "unknown", False),
    ],
)
def test_runs_of_one_release_count_as_the_same_version(a, b, same):
    assert prov.same_release(a, b) is same


def test_commit_and_dirtiness_from_the_installed_version_when_git_is_absent():
    assert prov.from_version("0.1.1.dev71+g2a7250f50.d20261124") == ("2a7250f50", True)
    assert prov.from_version("0.1.1.dev71+g2a7250f50") == ("2a7250f50", False)
    assert prov.from_version("0.1.0") == (None, None)


def test_no_git_falls_back_to_metadata(monkeypatch, tmp_path):
    monkeypatch.setattr(prov, "SOURCE_DIR", tmp_path)  # no .git here
    prov.source_tree.cache_clear()
    try:
        tree = prov.source_tree()
    finally:
        prov.source_tree.cache_clear()
    assert tree["git_commit"] == prov.from_version(__version__)[0]
    assert tree["git_source"] in ("package metadata", None)


def test_the_figure_label_names_the_checkout_commit_not_the_install_time_version(monkeypatch):
    """An editable install's version keeps the commit it was installed at; a figure made from a
    later checkout must name the checkout's commit."""
    import subprocess

    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=prov.SOURCE_DIR, capture_output=True, text=True
    ).stdout.strip()
    if not head:
        pytest.skip("not a git checkout")
    assert prov.label().startswith(f"privsim git {head[:9]}")
    monkeypatch.setattr(
        prov, "source_tree", lambda: {"git_commit": None, "git_dirty": None, "git_source": None}
    )
    assert prov.label() == f"privsim {__version__}"
