"""`privsim-workshop`: a facilitator's commands for the workshop game, on a workshop folder,
without the page (the page: `privsim-game`; docs/pages.md "The workshop game").

- `new FOLDER [--name NAME] [key=value …]`: create a workshop from configs/workshop/NAME.yaml
  with Hydra overrides (checked, naming the key and range);
- `status FOLDER`: each team and the month it has reached;
- `play FOLDER TEAM key=value …`: play TEAM's next month (team_size=, budget=, test=, koc=);
- `replay FOLDER`: re-run every team from its saved decisions and check each matches its saved
  run, bit for bit; exit 1 if one does not;
- `reveal FOLDER`: the leaderboard (runs staged and the optimised policy once) and the brand.

Exit 0 done, 1 a replay differs, 2 bad input (one line, nothing written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from sim.cli import checks
from sim.cli.exits import DONE, FAILED, Refused, guard
from sim.experiment.workshop import WORKSHOP_FILE, Workshop
from sim.experiment.workshop_spec import names
from sim.experiment.workshop_tables import REVEAL_COLUMNS

PROG = "privsim-workshop"


def parser() -> checks.ArgumentParser:
    p = checks.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=checks.ArgumentParser)
    new = sub.add_parser("new", help="create a workshop folder")
    new.add_argument("folder", type=Path)
    new.add_argument("--name", default="default", help=f"configs/workshop/<name>: {names()}")
    new.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. months=6 brand.seed=3")
    for name, text in [
        ("status", "teams and the month each has reached"),
        ("replay", "re-run every team from its decisions; exit 1 unless each matches its run"),
        ("reveal", "the leaderboard and the brand in words"),
    ]:
        sub.add_parser(name, help=text).add_argument("folder", type=Path)
    play = sub.add_parser("play", help="play a team's next month")
    play.add_argument("folder", type=Path)
    play.add_argument("team")
    play.add_argument("values", nargs="*", help="team_size=3 budget=800 test=true koc=false")
    return p


def readable(table) -> str:
    """A table as printed: yuan to the yuan, shares in per cent (the page's are `story.yuan`)."""
    out = table.copy()
    for col in out.columns:
        if "yuan" in col or col == "rank":
            out[col] = out[col].round(0).astype("Int64")
        elif "conversion" in col:
            out[col] = (100 * out[col]).round(1).astype(str) + " %"
    return out.to_string(index=False)


def decision_values(values: list[str]) -> dict:
    """`key=value` words as a decision's mapping (values read as YAML: 3, 800.0, true; 1e4 as
    a number)."""
    out = {}
    for v in values:
        key, eq, text = v.partition("=")
        if not eq or not key:
            raise Refused(f"{v!r}: expected key=value, e.g. budget=800")
        value = yaml.safe_load(text)
        if isinstance(value, str):  # YAML reads 1e9 as text
            try:
                value = float(value)
            except ValueError:
                pass
        out[key] = value
    return out


def main(argv=None) -> None:
    args = parser().parse_args(argv)

    def work() -> int:
        if args.command == "new":
            if (args.folder / WORKSHOP_FILE).exists():
                raise Refused(f"{args.folder}: already a workshop; `status` or `play` resume it")
            ws = Workshop.create(args.folder, args.name, args.overrides)
            s = ws.settings
            print(f"{PROG}: workshop {args.name} in {args.folder}: {s.months} months of "
                  f"{s.month_days} days")  # fmt: skip
            return DONE
        ws = Workshop.open(args.folder, repair=args.command != "replay")
        if args.command == "status":
            print(ws.status().to_string(index=False) if ws.teams() else "no team has joined")
        elif args.command == "play":
            team = ws.join(args.team)
            monthly = team.play(decision_values(args.values))
            print(readable(monthly.tail(1)))
        elif args.command == "replay":
            return replay(ws)
        else:
            board = ws.reveal()
            print(readable(board))
            for col in board.columns:
                print(f"  {col}: {REVEAL_COLUMNS[col]}")
            print("\n".join(ws.brand_words()))
        return DONE

    guard(PROG, work)


def replay(ws: Workshop) -> int:
    bad = 0
    for name in ws.teams():
        team = ws.team(name)
        diffs = team.replay()
        if diffs:
            bad += 1
            print(f"{name}: NOT reproduced ({team.run_folder})", file=sys.stderr)
            for d in diffs:
                print(f"  {d}", file=sys.stderr)
        else:
            print(f"{name}: month {team.month} reproduced bit for bit ({team.run_folder})")
    return FAILED if bad else DONE


if __name__ == "__main__":
    main()
