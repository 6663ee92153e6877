"""`privsim-report` never damages what it reads (issue #21): bad input is refused before
anything is touched, a report that fails keeps the previous one, a single run is not a sweep,
an unreadable plan.json is named."""

import hashlib
import shutil

import pytest
from test_sweep import SWEEP, privsim_m

from sim.cli import report as cli
from sim.viz import export
from sim.viz import report as rep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("ssweep")
    r = privsim_m(SWEEP, d)
    assert r.returncode == 0, r.stderr
    return d


def copy(sweep, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(sweep, out)
    return out


def snapshot(folder):
    """Every file under `folder` (hidden ones too) with its bytes' hash."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([str(a) for a in args])
    return e.value.code, capsys.readouterr()


def test_a_mistyped_rank_by_is_refused_and_touches_nothing(sweep, tmp_path, capsys):
    out = copy(sweep, tmp_path)
    before = snapshot(out)
    code, io = run_cli([out, "--rank-by", "profitt"], capsys)
    assert code == 2
    lines = io.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in io.err
    assert "--rank-by profitt" in lines[0] and "did you mean profit?" in lines[0]
    assert snapshot(out) == before


def test_a_rank_by_on_a_text_column_is_refused(sweep, tmp_path, capsys):
    out = copy(sweep, tmp_path)
    before = snapshot(out)
    code, io = run_cli([out, "--rank-by", "strategy"], capsys)
    assert code == 2 and "not a numeric column" in io.err
    assert snapshot(out) == before


def test_a_valid_rank_by_is_used(sweep, tmp_path, capsys):
    out = copy(sweep, tmp_path)
    code, _ = run_cli([out, "--rank-by", "ltv_cac_90d"], capsys)
    assert code == 0
    assert "## Ranking on LTV/CAC at 90 days" in (out / "report.md").read_text()


def test_a_report_that_fails_keeps_the_previous_one(sweep, tmp_path, monkeypatch, capsys):
    out = copy(sweep, tmp_path)
    before = snapshot(out)

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rep, "write_report", boom)
    code, io = run_cli([out], capsys)
    assert code == 1 and "previous report is kept" in io.err
    after = snapshot(out)
    mark = after.pop(rep.FAILED_MARK)
    assert after == before  # report.md, summary.parquet/.csv, paired.*, figures: all as they were
    assert mark and "disk on fire" in (out / rep.FAILED_MARK).read_text()
    assert not list(out.glob(".report-*"))  # no staging folder left

    monkeypatch.undo()
    assert rep.report(out) == []
    assert not (out / rep.FAILED_MARK).exists()
    assert "4 finished" in (out / "report.md").read_text()


@pytest.mark.parametrize("module, name", [(rep, "publish"), (export, "workbook")])
def test_a_report_that_fails_late_leaves_no_half_set(sweep, tmp_path, monkeypatch, module, name):
    """The new figures, report.html and workbook.xlsx are written into the staging folder: a
    failure after the first of them (while publishing; the workbook, after report.html) leaves
    the sweep's files those of one report, not a mix, and no partial file."""
    out = copy(sweep, tmp_path)
    before = snapshot(out)

    def boom(*a, **k):
        raise OSError("no space left on device")

    monkeypatch.setattr(module, name, boom)
    with pytest.raises(OSError):
        rep.report(out)
    after = snapshot(out)
    after.pop(rep.FAILED_MARK)
    assert after == before
    assert not list(out.glob(".report-*")) and not list(out.glob("*.partial"))


def test_a_single_run_is_not_a_sweep(sweep, tmp_path, capsys):
    run = copy(sweep, tmp_path) / "0"
    before = snapshot(run)
    code, io = run_cli([run], capsys)
    assert code == 2 and len(io.err.strip().splitlines()) == 1
    assert f"{run} is a single run, not a sweep" in io.err
    assert snapshot(run) == before


def test_a_folder_without_jobs_is_refused(tmp_path, capsys):
    code, io = run_cli([tmp_path], capsys)
    assert code == 2 and "no job directories" in io.err
    assert not list(tmp_path.iterdir())


def test_an_unreadable_plan_is_named(sweep, tmp_path, capsys):
    out = copy(sweep, tmp_path)
    (out / "plan.json").write_text("{ not json")
    code, io = run_cli([out], capsys)
    assert code == 0
    assert f"{out / 'plan.json'} is not a plan privsim wrote" in io.err
    assert "plan.json is not a plan privsim wrote" in (out / "report.md").read_text()
