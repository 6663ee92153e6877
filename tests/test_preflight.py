"""`privsim` checks the whole command before Hydra writes anything (issue #21, slice R1).

In-process where the check itself is tested (`sim.experiment.preflight.check`,
`sim.experiment.folders`, `sim.experiment.hydra_records`); one subprocess per end-to-end
guarantee (nothing written, a folder in use, a full disk), each against a real sweep."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_sweep import SWEEP, TINY, privsim_m

from sim.experiment import folders, hydra_records, jobs
from sim.experiment.config import compose
from sim.experiment.preflight import Refusal, check
from sim.experiment.sweep import run_job


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under `folder` (hidden ones included): content hash and mtime."""
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- refusals, before any work


@pytest.mark.parametrize(
    "args, message",
    [
        # every job of a sweep is checked before the first runs
        (
            ["-m", "seed=0,-1"],
            r"^seed = -1 is out of range; allowed: an integer >= 0 \(job 1: seed=-1\)$",
        ),
        (["-m", "purchase.first_buy_rate=0.2,7"], r"purchase\.first_buy_rate = 7\.0 .*\(job 1: "),
        (
            ["-m", "strategy=staged,premture", "seed=0"],
            r"strategy=premture: unknown strategy; did you mean premature\?",
        ),
        (["-m", "seed=range(0,0)"], r"^seed=range\(0,0\): the sweep has no jobs"),
        (["-m", "strategy=glob(zz*)"], r"^strategy=glob\(zz\*\): the sweep has no jobs"),
        (
            ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0"],
            r"^hydra\.launcher\.n_jobs = 0 is out of range; allowed: an integer >= 1",
        ),
        # values the model would have crashed on, or accepted wrongly
        (
            ["fit.brand_seed=-3"],
            r"^fit\.brand_seed = -3 is out of range; allowed: an integer >= 0$",
        ),
        (["fit.brand_seed=-3", "fit.spread=0.5"], r"^fit\.brand_seed = -3"),
        (
            ["economics.ltv_horizons_days=[100000]"],
            r"economics\.ltv_horizons_days = \[100000\] .*\[1, 3,650\]",
        ),
        # messages that name the thing, and the close known value
        (["seed=("], r"^cannot parse the override 'seed=\(': "),
        (
            ["strategy=ten_to_N"],
            r"^strategy=ten_to_N: unknown strategy; did you mean ten_to_n\?; known: .*staged",
        ),
        (
            ["channels.paid_ads.budget=3"],
            r"^channels\.paid_ads\.budget: unknown key; "
            r"did you mean channels\.paid_ads\.budget_per_day\?",
        ),
        (["operators.capcity=3"], r"did you mean operators\.capacity\?"),
        (
            ["referral.arrival_stage=buy"],
            r"^referral\.arrival_stage = 'buy': no trust on arrival .*\['aware', 'familiar'\]",
        ),
        # interpolations would copy the environment into the outputs
        (["seed=${oc.env:HOME}"], r"^seed=\$\{oc\.env:HOME\}: interpolations .* not allowed"),
        (["-m", "strategy.name=${oc.env:USER},x"], r"interpolations .* not allowed"),
    ],
)
def test_a_bad_command_is_refused_in_one_line_before_anything_is_written(args, message, tmp_path):
    key = "sweep" if "-m" in args else "run"
    out = tmp_path / "out"
    with pytest.raises(Refusal) as refused:
        check([*args, f"hydra.{key}.dir={out}"])
    line = str(refused.value)
    assert "\n" not in line and re.search(message, line), line
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_that_cannot_be_written_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    for key, flag in (("run", []), ("sweep", ["-m"])):
        with pytest.raises(Refusal, match=rf"^hydra\.{key}\.dir = .*file is a file, not a folder"):
            check([*flag, f"hydra.{key}.dir={tmp_path / 'file' / 'x'}"])
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "ro").mkdir(mode=0o500)
        with pytest.raises(Refusal, match=r"ro is not writable"):
            check([f"hydra.run.dir={tmp_path / 'ro' / 'x'}"])


def test_a_good_sweep_passes_with_every_job_composed_as_hydra_composes_it(tmp_path):
    """The check composes each distinct group choice once and applies the values: the
    result must be Hydra's own composition of each job."""
    argv = [
        "-m",
        "strategy=staged,premature",
        "seed=0,1",
        *TINY,
        "economics.ltv_horizons_days=[30,90]",
    ]
    argv += ["pool=pyramid", "pool.layers.camps.enabled=true", f"hydra.sweep.dir={tmp_path / 's'}"]
    checked = check(argv)
    assert checked.multirun and checked.out_dir == tmp_path / "s" and checked.out_dir_given
    assert len(checked.jobs) == 4
    for job, cfg in zip(checked.jobs, checked.configs, strict=True):
        assert cfg == compose(job), job
    assert list(tmp_path.iterdir()) == []
    experiment = check(["-m", "experiment=comparison"])
    assert len(experiment.jobs) == 18 and not experiment.out_dir_given
    assert experiment.configs[7] == compose(experiment.jobs[7])


# ---------------------------------------------------------------- folders with finished work


def fake_sweep(folder: Path, command: list[str], job_list: list[list[str]], finished: int):
    """A sweep folder as privsim leaves it: plan.json and `finished` job folders."""
    jobs.write_json(
        folder / "plan.json",
        {"command": command, "jobs": job_list, "total": len(job_list), "version": "x"},
    )
    for i, job in enumerate(job_list[:finished]):
        jobs.write_text(
            folder / str(i) / ".hydra" / "overrides.yaml", "".join(f"- {o}\n" for o in job)
        )
        jobs.write_json(folder / str(i) / "summary.json", {})


def test_a_folder_holding_another_commands_finished_sweep_is_refused(tmp_path):
    fake_sweep(tmp_path, ["seed=0,1"], [["seed=0"], ["seed=1"]], finished=2)
    before = snapshot(tmp_path)
    with pytest.raises(folders.FolderRefused) as refused:
        folders.guard_sweep(tmp_path, ["seed=5"], [["seed=5"]], replace=False)
    assert str(refused.value).startswith(
        f"{tmp_path} holds a sweep of another command (seed=0,1) with 2 finished runs"
    )
    assert "--replace" in str(refused.value)
    folders.guard_sweep(tmp_path, ["seed=5"], [["seed=5"]], replace=True)  # said explicitly
    folders.guard_sweep(
        tmp_path, ["seed=range(0,2)"], [["seed=0"], ["seed=1"]], replace=False
    )  # a resume
    assert snapshot(tmp_path) == before


def test_another_command_into_a_sweep_with_nothing_finished_runs(tmp_path):
    fake_sweep(tmp_path, ["seed=0,1"], [["seed=0"], ["seed=1"]], finished=0)
    folders.guard_sweep(tmp_path, ["seed=5"], [["seed=5"]], replace=False)


def test_a_single_run_into_a_finished_run_of_another_config_is_refused(tmp_path):
    cfg = compose(["seed=1"])
    jobs.write_json(tmp_path / "config.json", cfg)
    jobs.write_json(tmp_path / "summary.json", {})
    folders.guard_run(tmp_path, cfg, replace=False)  # the same config: a resume
    with pytest.raises(folders.FolderRefused, match="holds a finished run of another config"):
        folders.guard_run(tmp_path, compose(["seed=2"]), replace=False)
    folders.guard_run(tmp_path, compose(["seed=2"]), replace=True)


def test_a_sweep_folder_takes_one_command_at_a_time(tmp_path):
    try:
        folders.lock_sweep(tmp_path / "s")
        with pytest.raises(folders.FolderRefused, match=r"s is in use by another privsim command"):
            folders.lock_sweep(tmp_path / "s")
    finally:
        folders.release()
    folders.lock_sweep(tmp_path / "s")  # released: free again
    folders.release()


def test_a_second_sweep_into_a_folder_in_use_is_refused(tmp_path):
    """Two processes: this one holds the folder's lock as a running sweep does; `privsim -m`
    into it exits 2 naming the folder and changes nothing."""
    out = tmp_path / "s"
    out.mkdir()
    fd = os.open(out / folders.LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        before = snapshot(out)
        r = privsim_m(SWEEP, out)
    finally:
        os.close(fd)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.strip() == (
        f"privsim: {out} is in use by another privsim command (it holds {out / '.lock'}); "
        "wait for it to finish, or use another hydra.sweep.dir"
    )
    assert snapshot(out) == before


# ---------------------------------------------------------------- a full disk


def test_a_record_hydra_cannot_write_fails_that_job_only(tmp_path, monkeypatch, capsys):
    job = tmp_path / "job"

    def full(path, write):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(hydra_records, "atomic_write", full)
    hydra_records.save_record({"a": 1}, "config.yaml", job / ".hydra")
    assert not (job / ".hydra" / "config.yaml").exists()
    assert "could not write .hydra/config.yaml: [Errno 28]" in hydra_records.unsaved(job)
    assert run_job({"seed": 0}, job, lambda c, o: "ran") == "failed"
    assert "No space left on device" in (job / "error.txt").read_text()


FULL_DISK = """
import builtins, errno, os, sys
real_open = builtins.open

class Full:
    def __init__(self, f):
        self.f = f
    def write(self, s):
        self.f.write(s[: len(s) // 2])
        self.f.flush()
        raise OSError(errno.ENOSPC, "No space left on device")
    def __enter__(self):
        return self
    def __exit__(self, *a):
        self.f.close()
    def __getattr__(self, name):
        return getattr(self.f, name)

def full_open(file, mode="r", *a, **k):
    f = real_open(file, mode, *a, **k)
    path = str(file)
    if "w" in mode and f"{os.sep}1{os.sep}.hydra{os.sep}" in path and "config.yaml" in path:
        return Full(f)
    return f

builtins.open = full_open
from sim.cli.run import main
sys.argv = ["privsim", *sys.argv[1:]]
main()
"""


def test_a_full_disk_while_hydra_writes_a_jobs_config_fails_that_job_only(tmp_path):
    out = tmp_path / "s"
    r = subprocess.run(
        [sys.executable, "-c", FULL_DISK, "-m", *SWEEP, f"hydra.sweep.dir={out}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert re.search(
        r"job 1 \(failed: OSError: could not write \.hydra/config\.yaml: .*No space left", r.stderr
    )
    assert [jobs.status(out / j) for j in "0123"] == ["finished", "failed", "finished", "finished"]
    assert not (out / "1" / ".hydra" / "config.yaml").exists()  # no truncated file
    assert list((out / "1" / ".hydra").glob("*.partial")) == []
    assert (out / "summary.parquet").exists()  # the sweep finished: its report was written
