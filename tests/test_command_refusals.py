"""Issue #21 for the commands other than `privsim`: each bad argument or spec is refused with
exit 2 and one line naming it, before any work and with nothing written; dotted spec entries
can be overridden; no file content or environment value leaks into an error or an output; a
killed calibration's trials are not counted. In-process: each case costs a compose at most."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import app, calibrate, checks, figure, goal, optimize, reproduce, sensitivity, whatif
from sim.core.params import ConfigError
from sim.experiment import calibration as cal
from sim.experiment import config, observed, study_spec
from sim.experiment import sensitivity as sens
from sim.experiment.config import compose


def refused(main, args, capsys) -> str:
    """The one stderr line of `main(args)`, which must exit 2."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---------------------------------------------------------------- command-line arguments


@pytest.mark.parametrize(
    "main, name, bad",
    [(calibrate.main, "synthetic_brand", "seeds"), (sensitivity.main, "premature_scaling", "seeds"),
     (optimize.main, "staged_policy", "trials"), (goal.main, "team_for_conversion", "grid")],
    ids=["calib", "sens", "optimize", "goal"],
)  # fmt: skip
def test_study_jobs_and_out_are_checked_first(main, name, bad, tmp_path, capsys):
    out = tmp_path / "o"
    assert "--jobs 0: must be at least 1" in refused(main, [name, "--jobs", "0", "--out", out],
                                                     capsys)  # fmt: skip
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    line = refused(main, [name, "--out", afile], capsys)
    assert f"--out {afile}: is a file" in line and afile.read_text() == "keep me"
    # options and overrides in any order (argparse's default refused `name --jobs 1 samples=1`)
    line = refused(main, [name, "--jobs", "1", f"{bad}=0", "--out", out], capsys)
    assert f"{bad} = 0" in line
    assert not out.exists()


@pytest.mark.parametrize("port", ["99999", "-1", "0"])
def test_a_port_out_of_range_is_refused(port, capsys):
    assert f"--port {port}: out of range; allowed: 1-65535" in refused(app.main, ["--port", port],
                                                                       capsys)  # fmt: skip
    assert "--port" in refused(whatif.main, ["--port", port], capsys)


@pytest.mark.parametrize("args", [["--seeds", "-1"], ["--horizon", "10000000"]])
def test_whatif_defaults_out_of_range_are_refused(args, capsys):
    assert "allowed:" in refused(whatif.main, args, capsys)


def test_serving_beyond_loopback_warns(capsys):
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert checks.loopback(host)
        checks.warn_if_exposed("privsim-app", host)
        assert capsys.readouterr().err == ""
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        checks.warn_if_exposed("privsim-app", host)
        err = capsys.readouterr().err
        assert f"serving on {host}" in err and "no authentication" in err


def test_figure_refuses_before_running(tmp_path, capsys):
    out = tmp_path / "fig"
    line = refused(figure.main, ["premature_scaling", "--days", "-1", "--out", out], capsys)
    assert "horizon_days = -1 is out of range" in line
    line = refused(figure.main, ["--scenario", "experiment=premature_scalin", "--out", out],
                   capsys)  # fmt: skip
    assert "unknown experiment" in line and "premature_scaling" in line
    assert "--jobs 0" in refused(figure.main, ["premature_scaling", "--jobs", "0"], capsys)
    assert "--seeds 0" in refused(figure.main, ["premature_scaling", "--seeds", "0"], capsys)
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "is a file" in refused(figure.main, ["premature_scaling", "--out", afile], capsys)
    assert not out.exists()


@pytest.fixture(scope="module")
def a_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "r"
    r = subprocess.run(
        [sys.executable, "-m", "sim", "horizon_days=10", "strategy.phases.0.daily_users=5",
         f"hydra.run.dir={run}"], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return run


def test_reproduce_names_a_config_that_is_not_json(a_run, tmp_path, capsys):
    run = tmp_path / "r"
    import shutil

    shutil.copytree(a_run, run)
    (run / "config.json").write_text("{ not json")
    line = refused(reproduce.main, [run], capsys)
    assert f"{run / 'config.json'}: not valid JSON" in line


def test_reproduce_keep_must_be_new_or_empty(a_run, tmp_path, capsys):
    before = {p.name: p.read_bytes() for p in a_run.iterdir() if p.is_file()}
    line = refused(reproduce.main, [a_run, "--keep", a_run], capsys)  # would overwrite the run
    assert "the folder is not empty" in line
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "is a file" in refused(reproduce.main, [a_run, "--keep", afile], capsys)
    assert {p.name: p.read_bytes() for p in a_run.iterdir() if p.is_file()} == before


# ---------------------------------------------------------------- study specs


def test_dotted_spec_entries_can_be_overridden():
    spec = sens.load_spec(
        "premature_scaling",
        [
            "parameters.operators.capacity.low=300",
            "~parameters.koc.strength",
            "+parameters.trust.decay={low: 0.01, high: 0.1}",
            "arms.staged.strategy=steady",
        ],
    )
    by_key = {p.key: p for p in spec.parameters}
    assert by_key["operators.capacity"].low == 300 and by_key["operators.capacity"].high == 800
    assert "koc.strength" not in by_key and by_key["trust.decay"].high == 0.1
    assert spec.arms["staged"] == {"strategy": "steady"}
    c = cal.load_spec("synthetic_brand", ["scenario.strategy.phases.0.daily_users=40"])
    assert c.scenario["strategy.phases.0.daily_users"] == 40


@pytest.mark.parametrize(
    "override, message",
    [
        ("parameters.operators.capcity.low=3", "did you mean parameters.operators.capacity"),
        ("parameters.operators.capacity.lw=3", "did you mean parameters.operators.capacity.low"),
        ("parameters.operators.capacity.low=1,2", "one value per key, not a sweep"),
        ("scenario.operators.count=3", "a new entry needs +scenario.operators.count"),
    ],
)
def test_a_mistyped_dotted_override_is_named(override, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("+", r"\+")):
        sens.load_spec("premature_scaling", [override])


def test_the_seed_is_not_a_study_parameter():
    spec = sens.load_spec("premature_scaling", ["+parameters.seed={low: 0, high: 9}"])
    with pytest.raises(ConfigError, match="parameters.seed: the seed is not an assumption"):
        sens.check_spec(spec, sens.compose_arms(spec))


def test_calibration_refuses_a_parameter_that_is_not_a_model_rate(tmp_path, capsys):
    line = refused(calibrate.main, ["synthetic_brand", "+parameters.horizon_days={low: 60, "
                                    "high: 90}", "--out", tmp_path / "o"], capsys)  # fmt: skip
    assert "parameters.horizon_days: the horizon is the observed period" in line
    spec = cal.load_spec("synthetic_brand", ["+parameters.strategy.name={low: 0, high: 1}"])
    with pytest.raises(ConfigError, match="strategy.name: not a number in the config"):
        cal.check_spec(spec, compose(spec.overrides()))
    assert not (tmp_path / "o").exists()


def test_a_malformed_spec_file_is_named_with_its_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "sensitivity").mkdir()
    bad = tmp_path / "sensitivity" / "broken.yaml"
    bad.write_text("name: broken\nparameters:\n  a: {low: 1, high: 2\n")
    monkeypatch.setattr(config, "CONFIG_DIR", str(tmp_path))
    monkeypatch.setattr(study_spec, "CONFIG_DIR", str(tmp_path))
    line = refused(sensitivity.main, ["broken", "--out", tmp_path / "o"], capsys)
    assert f"{bad}: not valid YAML, line 4" in line


@pytest.mark.parametrize(
    "override",
    ["scenario.horizon_days=${oc.env:HOME}", "name=${oc.env:HOME}", "question=${oc.env:HOME}"],
)
def test_an_interpolation_in_a_study_spec_is_refused(override, tmp_path, capsys):
    line = refused(sensitivity.main, ["premature_scaling", override, "--out", tmp_path], capsys)
    assert "interpolations are not allowed here" in line and os.environ["HOME"] not in line


def test_the_data_path_may_be_interpolated(monkeypatch, tmp_path):
    monkeypatch.setenv("BRAND_DATA", str(tmp_path / "brand.csv"))
    spec = cal.load_spec("synthetic_brand", ["data=${oc.env:BRAND_DATA}"])
    assert spec.data == str(tmp_path / "brand.csv")


@pytest.mark.parametrize(
    "text",
    [
        "root:x:0:0:SECRET_TOKEN_abc123:/root:/bin/bash\nuser:x:1:1::/home:/bin/sh\n",
        "SECRET_TOKEN_abc123,day\n1,2\n",
        "day,SECRET_TOKEN_abc123\n1,2\n",
        'day,orders\n"SECRET_TOKEN_abc123",2\n',
        "day,orders\n0,SECRET_TOKEN_abc123\n",
        'a,b\n1,2,3,"SECRET_TOKEN_abc123\n',
    ],
)
def test_a_data_error_never_quotes_the_file(text, tmp_path):
    path = tmp_path / "secrets.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        observed.load_observed(path)
    assert "SECRET" not in str(e.value) and "secrets.csv" in str(e.value)


# ---------------------------------------------------------------- a killed calibration


def test_trials_a_killed_calibration_left_running_are_failed_on_resume(tmp_path):
    import optuna

    base = compose(["strategy=steady", "strategy.phases.0.daily_users=10", "horizon_days=10"])
    data = tmp_path / "d.csv"
    truth = {"purchase.first_buy_rate": 0.3}
    observed.synthetic_observed(
        base, truth, seed=1, series=["orders"], dispersion=30.0, sigma=0.1, noise_seed=1
    ).to_csv(data, index=False)
    scenario = {"strategy": "steady", "strategy.phases.0.daily_users": 10, "horizon_days": 10}
    d = {
        "name": "t",
        "data": str(data),
        "series": {"orders": {}},
        "seeds": 1,
        "trials": 2,
        "scenario": scenario,
        "parameters": {"purchase.first_buy_rate": {"low": 0.05, "high": 0.6, "scale": "log"}},
    }
    spec = cal.spec_from_dict(d)
    params = cal.check_spec(spec, base)
    obs = observed.load_observed(data)
    out = tmp_path / "out"
    cal.point_fit(spec, params, base, obs, out, n_jobs=1, progress=False)
    # a run killed mid-batch: its trials stay RUNNING (one of a dead process, one unrecorded);
    # a live worker's trial (this process) is left to it
    storage = f"sqlite:///{out / 'study.db'}"
    study = optuna.load_study(study_name="t", storage=storage)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    killed, legacy, live = study.ask(), study.ask(), study.ask()
    import socket

    for t, pid in ((killed, int(dead)), (live, os.getpid())):
        t.set_user_attr("host", socket.gethostname())
        t.set_user_attr("pid", pid)
    resumed = cal.point_fit(
        cal.spec_from_dict({**d, "trials": 3}), params, base, obs, out, n_jobs=1, progress=False
    )
    states = {t.number: t.state.name for t in resumed.trials}
    assert states[killed.number] == states[legacy.number] == "FAIL"
    assert states[live.number] == "RUNNING"
    assert list(states.values()).count("COMPLETE") == 3  # 2 before + 1 more: RUNNING not counted
    assert json.dumps(resumed.trials[killed.number].user_attrs).count("interrupted") == 1
    assert Path(out / "study.db").exists()


def test_no_command_reads_an_abbreviated_option():
    """Every command's parser is `checks.ArgumentParser` (no prefix matching): argparse's own,
    made anywhere in sim/cli/, would read `--seed 3` as `--seeds 3` without a word."""
    cli = Path(checks.__file__).parent
    own = [p.name for p in sorted(cli.glob("*.py")) if "argparse.ArgumentParser(" in p.read_text()]
    assert own == [], own
    p = checks.ArgumentParser(prog="x")
    p.add_argument("--seeds", type=int)
    assert p.parse_args(["--seeds", "3"]).seeds == 3
    with pytest.raises(SystemExit):
        p.parse_args(["--seed", "3"])
