"""The workshop game (issue #26): a management flight simulator of scaling a private domain.

Teams play one hidden brand (a brand of the `testing_value` experiment: candidate pools, products
and channels whose fit is unknown until tested, DOMAIN §3.1) month by month. Each month a team
sets its hiring, ad budget and whether it tests or scales (`workshop_spec.Decision`); the model
advances one month. At the end the brand is revealed and every team's plan is compared with
`staged` and the optimised policy on the same brand, seed and horizon: a leaderboard of NPV (§4).

Why re-simulate: the team's plan so far is a plain strategy (one phase per month,
`workshop_spec.phase`), and after each decision the team's run is simulated afresh from day 0
for the months played, so the game's tables *are* a fresh `PrivateDomainModel` run of the saved
plan, bit for bit (same config + seed => the same run), and `privsim-reproduce <run folder>`
reproduces them. A run of a month costs a fraction of a second on the reduced brand of the tests
and about a second or two for a full year (docs/pages.md gives what was measured); a stepping
scheme that kept the model between months would save that, but the identity would then rest on
the model never reading the future, which nothing checks.

What is saved (`Workshop.create` / `open`; docs/pages.md):

    <folder>/workshop.yaml                     the workshop's name, overrides, settings, teams
    <folder>/teams/<team>/decisions.yaml       the team's decisions, month by month (written last)
    <folder>/teams/<team>/strategy/game_<team>.yaml   its plan as a strategy (configs/strategy form)
    <folder>/teams/<team>/run/                 its run folder, as `privsim` writes one
    <folder>/teams/<team>/monthly.csv          `Team.monthly()`
    <folder>/reveal/<strategy>/                the yardsticks' run folders (staged, optimised)
    <folder>/reveal/leaderboard.csv            `Workshop.reveal()`

Every file is written atomically (`sim.experiment.jobs`); a team's decisions last, so a crash
mid-month leaves the team at its previous month (its run is re-simulated on the next play or by
`privsim-workshop replay`). Several page sessions call one Workshop at once: a lock per team
serialises its plays, a lock per workshop its joins and the reveal.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.core.metrics import daily_discount, npv_at
from sim.core.params import ConfigError
from sim.experiment import workshop_spec as spec
from sim.experiment.config import config_hash, override
from sim.experiment.jobs import (
    DAILY,
    atomic_write,
    invalidate,
    read_summary,
    write_text,
)
from sim.experiment.run import record, run
from sim.experiment.workshop_spec import Decision, Settings

__all__ = ["Decision", "Team", "Workshop"]

WORKSHOP_FILE = "workshop.yaml"
TEAMS, REVEAL = "teams", "reveal"
DECISIONS, MONTHLY, RUN, STRATEGY_DIR = "decisions.yaml", "monthly.csv", "run", "strategy"
LEADERBOARD = "leaderboard.csv"
TEAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,31}")
TEAM_NAME_TEXT = (
    "1-32 characters: letters, digits, spaces, '-' and '_', starting with a letter or digit "
    "(its folder is the name in lower case, spaces as '_')"
)
YARDSTICKS = {"staged": "staged", "optimized_staged_policy": "optimised policy"}

# Team.monthly()'s columns and what each means (DOMAIN §4; sim/core/results.py for the daily
# columns they sum)
MONTHLY_COLUMNS = {
    "month": "month played, from 1",
    "test": "whether the month tested people, goods and place (else scaled)",
    "users joined": "users who joined in the month, bought and referred (sum of new_users)",
    "team hired": "operators hired at the month's end, arrived or not (operators_hired)",
    "operators at work": "operators arrived at the month's end (operators; hires take lead time)",
    "ad spend (yuan)": "what the month's bought users cost (sum of the spend_<channel> columns: "
    "users x that day's unit cost, which rises with time and volume, DOMAIN §2.5)",
    "buyers": "users whose first order came in the month (sum of first_purchases)",
    "30-day conversion": "share of the month's acquired joiners whose first order came within "
    "30 days of joining (sim/core/metrics.py); NaN until its last joiner is 30 days old",
    "margin (yuan)": "gross margin of the month's orders (sum of margin)",
    "profit to date (yuan)": "margin - acquisition spend - team cost from day 0 to the month's "
    "end, not discounted (cumulative sum of profit)",
}

# Workshop.reveal()'s columns and what each means
REVEAL_COLUMNS = {
    "who": "a team, or a yardstick strategy run on the same brand, seed and horizon",
    "kind": "team or yardstick",
    "months played": "months simulated (the yardsticks: the whole horizon)",
    "NPV (yuan)": "daily profit of days 0 ... H-1 discounted to day 0 at "
    "economics.discount_rate_annual (sim/core/metrics.py), H = the game's horizon; NaN for a "
    "team that has not played every month",
    "rank": "by NPV, 1 = highest (teams that have not finished: none)",
    "profit to date (yuan)": "undiscounted profit of the days simulated",
    "users joined": "users who joined over the days simulated",
    "30-day conversion": "share of acquired users 30 days old whose first order came within 30 "
    "days (summary conversion_30d)",
    "place run": "the pool run at the end (what a test committed, else the guess)",
    "goods run": "the lead/star products run at the end",
}


def team_folder_name(name: str) -> str:
    """The folder of team `name` (checked): lower case, spaces as '_'."""
    if not isinstance(name, str) or not TEAM_NAME.fullmatch(name):
        raise ConfigError(f"team name = {name!r} is out of range; allowed: {TEAM_NAME_TEXT}")
    return name.lower().replace(" ", "_")


def write_yaml(path: Path, data) -> None:
    write_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def npv(daily: pd.DataFrame, cfg: dict, horizon: int) -> float:
    """NPV at `horizon` days of a run's daily table (`metrics.npv_at`; NaN if shorter)."""
    rate = cfg["economics"]["discount_rate_annual"]
    return npv_at(daily["profit"].to_numpy(), [horizon], daily_discount(rate))[f"npv_{horizon}d"]


class Team:
    """One team's game: its decisions, its plan and its run (module docstring)."""

    def __init__(self, ws: Workshop, name: str):
        self.workshop, self.name = ws, name
        self.folder = ws.folder / TEAMS / team_folder_name(name)
        self._lock = threading.RLock()
        self._daily: pd.DataFrame | None = None
        self._monthly: pd.DataFrame | None = None
        path = self.folder / DECISIONS
        saved = yaml.safe_load(path.read_text()) if path.exists() else None
        self._decisions = [Decision(**d) for d in (saved or {}).get("decisions", [])]

    # --- state -------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.workshop.settings

    @property
    def month(self) -> int:
        """Months played."""
        return len(self._decisions)

    @property
    def months(self) -> int:
        """Months in the game."""
        return self.settings.months

    @property
    def done(self) -> bool:
        return self.month >= self.months

    @property
    def decisions(self) -> list[Decision]:
        return list(self._decisions)

    @property
    def run_folder(self) -> Path:
        return self.folder / RUN

    @property
    def strategy_file(self) -> Path:
        return self.folder / STRATEGY_DIR / f"{self.strategy_name}.yaml"

    @property
    def strategy_name(self) -> str:
        return f"game_{self.folder.name}"

    # --- play --------------------------------------------------------------------------------

    def play(self, d: Decision | dict) -> pd.DataFrame:
        """Advance one month with decision `d` (checked first: `ConfigError` naming the field
        and range, nothing run); re-simulates the plan from day 0 and saves it. Returns
        `monthly()`."""
        with self._lock:
            if self.done:
                raise ConfigError(
                    f"team {self.name!r}: all {self.months} months are played; allowed: none more"
                )
            checked = spec.decision(self.settings, d)
            self._simulate([*self._decisions, checked])
            return self.monthly()

    def config(self, plan: list[Decision] | None = None) -> dict:
        """The run config of `plan` (default: the decisions so far)."""
        plan = self._decisions if plan is None else plan
        st = spec.strategy(self.settings, self.folder.name, plan)
        return spec.run_config(self.settings, spec.strategy_dict(st), len(plan))

    def _simulate(self, plan: list[Decision]) -> None:
        cfg = self.config(plan)
        invalidate(self.run_folder)
        model, _ = record(cfg, self.run_folder)
        monthly = monthly_table(model, self.settings, plan)
        write_yaml(self.strategy_file, cfg["strategy"])
        atomic_write(self.folder / MONTHLY, lambda t: monthly.to_csv(t, index=False))
        write_yaml(
            self.folder / DECISIONS,
            {"team": self.name, "decisions": [vars(x).copy() for x in plan]},
        )
        self._decisions, self._daily, self._monthly = plan, None, monthly

    def resimulate(self) -> None:
        """Simulate the saved decisions again into the run folder (after an interrupted play)."""
        with self._lock:
            if self._decisions:
                self._simulate(list(self._decisions))

    # --- tables ------------------------------------------------------------------------------

    def daily(self) -> pd.DataFrame:
        """The run's daily table so far (its `daily.parquet`; empty before the first month)."""
        with self._lock:
            if not self._decisions:
                return pd.DataFrame()
            if self._daily is None:
                self._daily = pd.read_parquet(self.run_folder / DAILY)
            return self._daily.copy()

    def monthly(self) -> pd.DataFrame:
        """One row per month played (columns and definitions: `MONTHLY_COLUMNS`)."""
        with self._lock:
            if not self._decisions:
                return pd.DataFrame(columns=list(MONTHLY_COLUMNS))
            if self._monthly is None:
                self._monthly = pd.read_csv(self.folder / MONTHLY)
            return self._monthly.copy()

    def summary(self) -> dict:
        """The run's summary (its `summary.json`)."""
        return read_summary(self.run_folder)

    def command(self) -> str:
        """The commands reproducing the team's run: `privsim-reproduce` of its run folder, and
        `privsim` running its saved strategy on the brand for the months played."""
        lines = [f"privsim-reproduce {self.run_folder}"]
        if self._decisions:
            ov = spec.brand_overrides(self.settings, self.month * self.settings.month_days)
            ov.append(override("strategy", self.strategy_name))
            lines.append(
                f"privsim --config-dir {self.folder} {' '.join(ov)} "
                f"hydra.run.dir={self.folder / 'rerun'}"
            )
        return "\n".join(lines)

    def replay(self) -> list[str]:
        """Re-run the team from its saved decisions and compare with its saved run: what
        differs (empty: identical)."""
        from sim.experiment.reproduce import reproduce

        with self._lock:
            if not self._decisions:
                return []
            want = config_hash(self.config())
            have = read_summary(self.run_folder).get("config_hash")
            if want != have:
                return [f"{self.run_folder}: config hash {have} but the decisions give {want}"]
            return reproduce(self.run_folder)


def monthly_table(model, s: Settings, plan: list[Decision]) -> pd.DataFrame:
    """`Team.monthly()` from the run's model (definitions: `MONTHLY_COLUMNS`)."""
    daily = model.daily()
    md, last = s.month_days, int(daily["day"].iloc[-1])
    spend_cols = [c for c in daily.columns if c.startswith("spend_")] or ["acquisition_spend"]
    profit = daily["profit"].cumsum()
    rows = []
    for m, d in enumerate(plan):
        first, end = m * md, (m + 1) * md - 1
        month = daily.iloc[first : end + 1]
        matured = end + 29 <= last  # the month's last joiner is 30 days old
        rows.append(
            {
                "month": m + 1,
                "test": bool(d.test),
                "users joined": int(month["new_users"].sum()),
                "team hired": int(month["operators_hired"].iloc[-1]),
                "operators at work": int(month["operators"].iloc[-1]),
                "ad spend (yuan)": float(month[spend_cols].to_numpy().sum()),
                "buyers": int(month["first_purchases"].sum()),
                "30-day conversion": model.window_conversion(first, end) if matured else np.nan,
                "margin (yuan)": float(month["margin"].sum()),
                "profit to date (yuan)": float(profit.iloc[end]),
            }
        )
    return pd.DataFrame(rows, columns=list(MONTHLY_COLUMNS))


class Workshop:
    """A workshop: its settings, its teams (each its own game), the reveal (module docstring)."""

    def __init__(self, folder, name: str, overrides: list[str], settings: Settings, teams):
        self.folder, self.name = Path(folder), name
        self.overrides, self.settings = list(overrides), settings
        self._lock = threading.RLock()
        self._teams: dict[str, Team] = {}
        for t in teams:
            self._teams[t] = Team(self, t)

    @classmethod
    def create(cls, folder, name: str = "default", overrides=()) -> Workshop:
        """A new workshop in `folder` from `configs/workshop/<name>.yaml` with Hydra
        `overrides` (checked: `ConfigError` naming the key and range). Refused if `folder`
        already holds one (`open` resumes it)."""
        folder = Path(folder)
        if (folder / WORKSHOP_FILE).exists():
            raise FileExistsError(f"{folder}: already a workshop (open it to resume)")
        settings = spec.load(name, list(overrides))
        ws = cls(folder, name, list(overrides), settings, [])
        ws._save()
        return ws

    @classmethod
    def open(cls, folder) -> Workshop:
        """The workshop saved in `folder`, teams where they were."""
        folder = Path(folder)
        path = folder / WORKSHOP_FILE
        if not path.exists():
            raise FileNotFoundError(f"{folder}: no {WORKSHOP_FILE} (not a workshop folder)")
        d = yaml.safe_load(path.read_text())
        settings = spec.from_dict(d["name"], d["settings"])
        return cls(folder, d["name"], d.get("overrides", []), settings, d.get("teams", []))

    def _save(self) -> None:
        write_yaml(
            self.folder / WORKSHOP_FILE,
            {
                "name": self.name,
                "overrides": self.overrides,
                "settings": spec.as_dict(self.settings),
                "teams": list(self._teams),
            },
        )

    # --- teams -------------------------------------------------------------------------------

    def decision_controls(self) -> list[dict]:
        """The decision's widgets (`workshop_spec.controls`)."""
        return spec.controls(self.settings)

    def join(self, name: str) -> Team:
        """Team `name` (joined now if new; the same team if it has joined). A name whose folder
        another team has (the same letters in another case) is refused."""
        folder = team_folder_name(name)
        with self._lock:
            if name in self._teams:
                return self._teams[name]
            for other, t in self._teams.items():
                if t.folder.name == folder:
                    raise ConfigError(
                        f"team name = {name!r} is taken (as {other!r}); allowed: another name"
                    )
            self._teams[name] = Team(self, name)
            self._save()
            return self._teams[name]

    def team(self, name: str) -> Team:
        with self._lock:
            if name not in self._teams:
                raise KeyError(f"no team {name!r}; teams: {', '.join(self._teams) or 'none'}")
            return self._teams[name]

    def teams(self) -> list[str]:
        """Team names in join order."""
        with self._lock:
            return list(self._teams)

    def status(self) -> pd.DataFrame:
        """Each team and the month it has reached."""
        rows = [
            {"team": t.name, "month": t.month, "months": t.months, "done": t.done}
            for t in map(self.team, self.teams())
        ]
        return pd.DataFrame(rows, columns=["team", "month", "months", "done"])

    # --- the reveal --------------------------------------------------------------------------

    def yardstick(self, strategy: str) -> tuple[dict, pd.DataFrame]:
        """A yardstick strategy's run on the brand over the game's horizon (run once, then
        read from its folder): its summary and daily table."""
        cfg = spec.compose([*spec.brand_overrides(self.settings), override("strategy", strategy)])
        out = self.folder / REVEAL / strategy
        with self._lock:
            summary = run(cfg, out, resume=True)
        return summary, pd.read_parquet(out / DAILY)

    def reveal(self) -> pd.DataFrame:
        """The leaderboard (columns and definitions: `REVEAL_COLUMNS`): every team, staged and
        the optimised policy on the same brand, seed and horizon; saved as leaderboard.csv."""
        h = self.settings.horizon_days
        cfg = spec.base_config(self.settings)
        rows = []
        for name in self.teams():
            t = self.team(name)
            if t.month == 0:
                rows.append({"who": name, "kind": "team", "months played": 0})
                continue
            rows.append(_row(name, "team", t.month, t.summary(), t.daily(), cfg, h))
        for strategy, label in YARDSTICKS.items():
            summary, daily = self.yardstick(strategy)
            rows.append(_row(label, "yardstick", self.settings.months, summary, daily, cfg, h))
        board = pd.DataFrame(rows, columns=list(REVEAL_COLUMNS))
        board["rank"] = board["NPV (yuan)"].rank(ascending=False, method="min")
        board = board.sort_values(["rank", "who"], na_position="last").reset_index(drop=True)
        atomic_write(self.folder / REVEAL / LEADERBOARD, lambda t: board.to_csv(t, index=False))
        return board

    def brand_words(self) -> list[str]:
        """The hidden brand in words: per dimension with several candidates (DOMAIN §3.1), the
        guess and its true fit against the best fit's."""
        return brand_words(self.settings)


def _row(who, kind, months, summary: dict, daily: pd.DataFrame, cfg: dict, h: int) -> dict:
    brand = summary.get("brand", {})
    return {
        "who": who,
        "kind": kind,
        "months played": months,
        "NPV (yuan)": npv(daily, cfg, h),
        "profit to date (yuan)": float(daily["profit"].sum()),
        "users joined": int(daily["new_users"].sum()),
        "30-day conversion": summary.get("conversion_30d"),
        "place run": brand.get("place_run"),
        "goods run": brand.get("goods_run"),
    }


DIMENSION_WORDS = {"place": "place (场): pool", "goods": "goods (货): lead/star products",
                   "people": "people (人): channel"}  # fmt: skip


def brand_words(s: Settings) -> list[str]:
    """`Workshop.brand_words`: read from the brand's latent fits (`sim.core.fit.Brand`, drawn
    from the brand's seed at construction; nothing is simulated)."""
    from sim.core.fit import Brand
    from sim.core.params import IMPORTED, REFERRAL
    from sim.experiment.config import build

    sc = build(spec.base_config(s))
    brand = Brand(sc, [*sorted(sc.channels), REFERRAL, IMPORTED], sc.seed)
    out = [
        f"The brand: {s.brand.experiment} at fit spread {s.brand.fit_spread:g} (a candidate's "
        f"true fit is exp({s.brand.fit_spread:g} z), z ~ N(0, 1): 1 fits as configured), "
        f"seed {s.brand.seed}."
    ]
    for dim, words in DIMENSION_WORDS.items():
        names, fit = brand.names[dim], brand.fit[dim]
        if len(names) < 2:
            continue
        g, b = brand.guess[dim], int(np.argmax(fit))
        others = ", ".join(f"{n} {f:.2f}" for n, f in zip(names, fit, strict=True))
        if fit[g] == fit[b]:
            verdict = f"the guess, {names[g]}, was the best fit"
        else:
            verdict = (
                f"the guess, {names[g]} (true fit {fit[g]:.2f}), was not the best fit: "
                f"{names[b]} was ({fit[b]:.2f})"
            )
        out.append(f"{words}: {verdict}. True fits: {others}.")
    return out
