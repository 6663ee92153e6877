"""One run, end to end: `run(cfg, out_dir)` builds, simulates and writes a run's data outputs
(`sim.experiment.jobs`), and `hydra_main` is the Hydra app around it (the `privsim` command,
`sim.cli.run`, calls it and decides the exit code).

`hydra_main` is thin by design: compose the config, hand a plain dict to `run`. In a multirun (`-m`)
each job goes through `sim.experiment.sweep.run_job`, which records a failure in the job's
`error.txt` instead of raising, so the other jobs still run and the callbacks registered in
configs/config.yaml (`hydra.callbacks`: progress lines, then the figures and sweep report of
`sim.viz.report`) still happen; the command then exits non-zero naming the failed jobs.
Figures are views attached through those callbacks: nothing here draws.
"""

from __future__ import annotations

import logging
import secrets
import sys
from pathlib import Path

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.core.metrics import horizons_in
from sim.core.model import PrivateDomainModel
from sim.experiment import hydra_records
from sim.experiment.config import (
    CONFIG_DIR,
    config_hash,
    model_kwargs,
)
from sim.experiment.jobs import OutputError, check_daily, finished, write_outputs
from sim.experiment.provenance import provenance
from sim.experiment.sweep import read_plan, run_job, varying

hydra_records.install()  # Hydra's job records: atomic, and a failure to write them is the job's


def run(cfg: dict, out_dir, resume: bool = True) -> dict:
    """Simulate `cfg` and write its outputs into `out_dir`; returns the summary.

    With `resume`, a directory already holding the finished outputs of the same config is
    left as it is (an interrupted sweep re-run skips its finished runs).
    """
    if resume and (done := finished(out_dir, cfg)):
        return done
    if cfg.get("seed") is None:  # a fresh seed, recorded (config.json, summary): reproducible
        cfg = {**cfg, "seed": draw_seed()}
        print(f"privsim: seed=null: drew seed {cfg['seed']} (recorded)", file=sys.stderr)
    return record(cfg, out_dir)[1]


def record(cfg: dict, out_dir) -> tuple[PrivateDomainModel, dict]:
    """Simulate `cfg` (its seed set) and write its outputs into `out_dir` afresh: the model and
    its summary (the workshop game reads the model's cohorts further, `sim.experiment.workshop`)."""
    model, summary = simulate(cfg)
    summary["provenance"] = provenance()  # version, commit, dirty tree, Python, dependencies
    log = model.transaction_log is not None  # outputs.transactions
    write_outputs(
        Path(out_dir),
        cfg,
        model.daily(),
        model.cohorts(),
        summary,
        model.transactions() if log else None,
        model.customers() if log else None,
    )
    return model, summary


def simulate(cfg: dict) -> tuple[PrivateDomainModel, dict]:
    """Build and run `cfg`: the model and its summary, the run's results (what `run` writes as
    `summary.json` less the provenance; the batch engine returns the same). Fails loudly if the
    daily table holds NaN or inf where none is allowed."""
    model = PrivateDomainModel(**model_kwargs(cfg))
    model.run()
    check_daily(model.daily(), model.channels)
    summary = model.summary()
    summary.update(
        seed=cfg.get("seed"),
        config_hash=config_hash(cfg),
        strategy=model.params.strategy.name,
        pool=model.brand.pool.name,
        business=model.params.business.name,
    )
    return model, summary


def draw_seed() -> int:
    """A seed for `seed=null`: 32 random bits from the OS."""
    return secrets.randbits(32)


def result_line(s: dict, out_dir, overrides: list[str] = ()) -> str:
    """What a finished run prints: its arm, the sweep's `overrides` that vary (`[…]`, so two
    levels of one knob print apart), headline numbers (LTV/CAC at the shortest horizon, over
    cohorts old enough) and where its outputs are."""
    h = horizons_in(s)[0]
    conv, ltv_cac = s["conversion_30d"], s[f"ltv_cac_{h}d"]
    conv = "no cohort 30 days old yet" if _missing(conv) else f"{conv:.1%}"
    ltv_cac = f"no user {h} days old yet" if _missing(ltv_cac) else f"{ltv_cac:.2f}"
    varies = f" [{', '.join(overrides)}]" if overrides else ""
    return (
        f"{s['strategy']} / {s['pool']} / seed {s['seed']}{varies}: "
        f"acquired {s['users_acquired']:,}, "
        f"30-day conversion {conv}, LTV/CAC at {h} days {ltv_cac}, "
        f"churn {s['churn_rate']:.1%} -> {out_dir}"
    )


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _run_afresh(cfg: dict, out_dir, overrides: list[str] = ()) -> str:
    return result_line(run(cfg, out_dir, resume=False), out_dir, overrides)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def hydra_main(cfg: DictConfig) -> str | None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    plain = OmegaConf.to_container(cfg, resolve=True)
    if hc.mode == RunMode.MULTIRUN:
        plan = read_plan(hc.sweep.dir)
        mine = varying(list(hc.overrides.task), plan["jobs"] if plan else None)
        return run_job(plain, out_dir, lambda c, o: _run_afresh(c, o, mine))
    if (why := hydra_records.unsaved(out_dir)) is not None:
        raise OutputError(why)
    s = run(plain, out_dir)  # a ConfigError or OutputError goes to the command (sim.cli.run)
    print(result_line(s, out_dir))
    return None


HINT = "set HYDRA_FULL_ERROR=1 for the full stack trace"


def config_error_line(e: BaseException) -> str:
    """One line for a Hydra/OmegaConf/YAML error met while composing the config."""
    line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    cause = e.__cause__ or e.__context__
    if cause is not None and str(cause).strip():
        first = str(cause).strip().splitlines()[0]
        if first not in line:
            line += f": {first}"
    if isinstance(e, yaml.YAMLError) and getattr(e, "problem_mark", None) is not None:
        m = e.problem_mark
        line = f"YAML syntax error in {m.name}, line {m.line + 1}: {getattr(e, 'problem', e)}"
    return line
