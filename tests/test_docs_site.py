"""The documentation site builds with warnings as errors (mkdocs.yml sets `strict: true`; the
flag is given too): a broken link or anchor, a page missing from the nav or a nav entry without
its page fails here, so `make test` (and CI) catches it. Needs the `docs` extra, which `make`
installs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("material", reason="the docs extra: pip install -e '.[docs]' (make has it)")


def test_site_builds_strictly_with_the_study_pages(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # the theme's end-of-life banner
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert "WARNING" not in done.stderr, done.stderr[-4000:]
    # the study pages join from experiments/ (scripts/mkdocs_hooks.py), with their figures
    studies = sorted(p.stem for p in (ROOT / "experiments").glob("*.md") if p.stem != "README")
    for name in studies:
        assert (site / "studies" / name / "index.html").is_file(), name
    html = (site / "studies" / "strategy_map" / "index.html").read_text()
    assert 'src="../../figures/strategy_map.png"' in html
    assert (site / "figures" / "strategy_map.png").is_file()
