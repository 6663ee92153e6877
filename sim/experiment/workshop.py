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
    <folder>/brand.json                        the brand's composed config (`Workshop.base`)
    <folder>/teams/<team>/decisions.yaml       the team's decisions, month by month (written last)
    <folder>/teams/<team>/strategy/game_<team>.yaml   its plan as a strategy (configs/strategy form)
    <folder>/teams/<team>/run/                 its run folder, as `privsim` writes one
    <folder>/teams/<team>/monthly.csv          `Team.monthly()`
    <folder>/reveal/<strategy>/                the yardsticks' run folders (staged, optimised)
    <folder>/reveal/leaderboard.csv            `Workshop.reveal()`

Every file is written atomically (`sim.experiment.jobs`); a team's decisions last, so a crash
mid-month leaves the team at its previous month (`Workshop.open` re-simulates a run that does
not match the decisions). Several page sessions call one Workshop at once: a lock per team
serialises its plays, a lock per workshop its joins and the reveal.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import threading
from pathlib import Path

import pandas as pd
import yaml

from sim.core.params import ConfigError
from sim.experiment import workshop_spec as spec
from sim.experiment.config import compose, config_hash, override
from sim.experiment.jobs import (
    DAILY,
    atomic_write,
    finished,
    invalidate,
    read_summary,
    write_json,
    write_text,
)
from sim.experiment.reproduce import read_json, reproduce
from sim.experiment.run import record, run
from sim.experiment.workshop_spec import Decision, Settings
from sim.experiment.workshop_tables import (
    MONTHLY_COLUMNS,
    REVEAL_COLUMNS,
    brand_words,
    monthly_table,
    row,
    tested_table,
)

__all__ = ["Decision", "Team", "Workshop"]

WORKSHOP_FILE = "workshop.yaml"
BRAND_FILE = "brand.json"  # the brand's composed config (Workshop.base)
TEAMS, REVEAL = "teams", "reveal"
DECISIONS, MONTHLY, RUN, STRATEGY_DIR = "decisions.yaml", "monthly.csv", "run", "strategy"
LEADERBOARD = "leaderboard.csv"
TEAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,31}")
TEAM_NAME_TEXT = (
    "1-32 characters: letters, digits, spaces, '-' and '_', starting with a letter or digit "
    "(its folder is the name in lower case, spaces as '_')"
)
YARDSTICKS = {"staged": "staged", "optimized_staged_policy": "optimised policy"}
RESERVED_NAMES = {n.lower() for pair in YARDSTICKS.items() for n in pair}  # the leaderboard's rows


def team_folder_name(name: str) -> str:
    """The folder of team `name` (checked): lower case, spaces as '_'."""
    if not isinstance(name, str) or not TEAM_NAME.fullmatch(name):
        raise ConfigError(f"team name = {name!r} is out of range; allowed: {TEAM_NAME_TEXT}")
    return name.lower().replace(" ", "_")


def write_yaml(path: Path, data) -> None:
    write_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


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
        st = spec.strategy_dict(spec.strategy(self.settings, self.folder.name, plan))
        return spec.run_config(self.workshop.base(), st, len(plan) * self.settings.month_days)

    def _simulate(self, plan: list[Decision]) -> None:
        cfg = self.config(plan)
        invalidate(self.run_folder)
        model, _ = record(cfg, self.run_folder)
        monthly = monthly_table(model, self.settings, plan)
        write_yaml(self.strategy_file, cfg["strategy"])
        atomic_write(self.folder / MONTHLY, lambda t: monthly.to_csv(t, index=False))
        write_yaml(
            self.folder / DECISIONS,
            {"team": self.name, "decisions": [dataclasses.asdict(x) for x in plan]},
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
            out = self._monthly.copy()
            out.attrs["definitions"] = dict(MONTHLY_COLUMNS)
            return out

    def summary(self) -> dict:
        """The run's summary (its `summary.json`). Its `brand` holds the brand's latent fits
        (`*_fit_*`, `*_best_fit`): what the reveal reveals; `tested()` shows a team only what
        its test measured."""
        with self._lock:
            return read_summary(self.run_folder)

    def tested(self) -> pd.DataFrame:
        """What the team's tests measured so far, without the brand's true fits
        (`workshop_tables.tested_table`; empty before a test)."""
        with self._lock:
            return tested_table(self.summary() if self._decisions else {})

    def command(self) -> str:
        """The commands reproducing the team's run: `privsim-reproduce` of its run folder, and
        `privsim` running its saved strategy on the brand for the months played."""
        lines = [f"privsim-reproduce {shlex.quote(str(self.run_folder))}"]
        if self._decisions:
            rerun = self.folder / f"rerun_month_{self.month:02d}"
            ov = [*self.overrides(), f"hydra.run.dir={rerun}"]
            lines.append("privsim " + " ".join(map(shlex.quote, ov)))
        return "\n".join(lines)

    def overrides(self) -> list[str]:
        """The privsim overrides that compose the team's run config from configs/: the brand's,
        the months played, and its saved strategy file found on Hydra's search path."""
        ov = spec.brand_overrides(self.settings, self.month * self.settings.month_days)
        return [
            *ov,
            f"hydra.searchpath=['file://{self.folder.resolve()}']",
            override("strategy", self.strategy_name),
        ]

    def replay(self) -> list[str]:
        """Re-run the team from its saved decisions and compare with its saved run: what
        differs (empty: identical)."""
        with self._lock:
            if not self._decisions:
                return []
            want = config_hash(self.config())
            have = read_summary(self.run_folder).get("config_hash")
            if want != have:
                return [f"{self.run_folder}: config hash {have} but the decisions give {want}"]
            return reproduce(self.run_folder)


class Workshop:
    """A workshop: its settings, its teams (each its own game), the reveal (module docstring)."""

    def __init__(self, folder, name: str, overrides, settings: Settings, base: dict, teams):
        self.folder, self.name = Path(folder), name
        self.overrides, self.settings = list(overrides), settings
        self._lock = threading.RLock()
        self._base = base
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
        ws = cls(folder, name, overrides, settings, spec.base_config(settings), [])
        write_json(folder / BRAND_FILE, ws._base)
        ws._save()
        return ws

    @classmethod
    def open(cls, folder, repair: bool = True) -> Workshop:
        """The workshop saved in `folder`, teams where they were. With `repair`, a team whose
        run does not match its decisions (a play interrupted after its run was written) is
        simulated again; `privsim-workshop replay` opens without, to report it instead."""
        folder = Path(folder)
        path = folder / WORKSHOP_FILE
        if not path.exists():
            raise FileNotFoundError(f"{folder}: no {WORKSHOP_FILE} (not a workshop folder)")
        try:
            d = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            d = e
        if not isinstance(d, dict) or not {"name", "settings"} <= set(d):
            raise ConfigError(
                f"{path}: not a workshop file (a mapping with name, settings and teams, as "
                "privsim-workshop new writes it); start a new workshop in another folder"
            )
        base = read_json(folder / BRAND_FILE)
        settings = spec.from_dict(d["name"], d["settings"], base)
        ws = cls(folder, d["name"], d.get("overrides", []), settings, base, d.get("teams", []))
        for name in ws.teams() if repair else ():
            team = ws.team(name)
            if team.month and finished(team.run_folder, team.config()) is None:
                team.resimulate()
        return ws

    def base(self) -> dict:
        """The brand's config over the game's horizon (`workshop_spec.base_config`), composed
        when the workshop was created and saved with it (brand.json): a later change to
        configs/ does not change a workshop under way."""
        return self._base

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
        if name.strip().lower() in RESERVED_NAMES:
            raise ConfigError(
                f"team name = {name!r} is the leaderboard's name of a yardstick plan; allowed: "
                f"another name than {', '.join(sorted(RESERVED_NAMES))}"
            )
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
        st = compose([*spec.brand_overrides(self.settings), override("strategy", strategy)])
        cfg = spec.run_config(self.base(), st["strategy"], self.settings.horizon_days)
        out = self.folder / REVEAL / strategy
        with self._lock:
            summary = run(cfg, out, resume=True)
        return summary, pd.read_parquet(out / DAILY)

    def reveal(self) -> pd.DataFrame:
        """The leaderboard (columns and definitions: `REVEAL_COLUMNS`): every team, staged and
        the optimised policy on the same brand, seed and horizon; saved as leaderboard.csv."""
        h, cfg = self.settings.horizon_days, self.base()
        rows = []
        for name in self.teams():
            t = self.team(name)
            with t._lock:  # one month's run, not a play's half-written one
                if t.month == 0:
                    rows.append({"who": name, "kind": "team", "months played": 0})
                    continue
                rows.append(row(name, "team", t.month, t.summary(), t.daily(), cfg, h))
        for strategy, label in YARDSTICKS.items():
            summary, daily = self.yardstick(strategy)
            rows.append(row(label, "yardstick", self.settings.months, summary, daily, cfg, h))
        board = pd.DataFrame(rows, columns=list(REVEAL_COLUMNS))
        board["rank"] = board["NPV (yuan)"].rank(ascending=False, method="min")
        board = board.sort_values(["rank", "who"], na_position="last").reset_index(drop=True)
        atomic_write(self.folder / REVEAL / LEADERBOARD, lambda t: board.to_csv(t, index=False))
        board.attrs.update(horizon_days=h, definitions=dict(REVEAL_COLUMNS))
        return board

    def brand_words(self) -> list[str]:
        """The hidden brand in words: per dimension with several candidates (DOMAIN §3.1), the
        guess and its true fit against the best fit's."""
        return brand_words(self.settings, self.base())
