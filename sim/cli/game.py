"""`privsim-game`: serve the workshop game (`sim.viz.pages.game_page`) on localhost, offline as
privsim-app. One server holds one workshop: created in `--folder` from
`configs/workshop/<--workshop>.yaml` and the overrides, or resumed when the folder holds one.

    privsim-game                          # results/workshops/default, http://127.0.0.1:8767
    privsim-game --folder results/workshops/friday --workshop default
    python -m sim.cli.game --folder /tmp/w months=3 brand.seed=4   # overrides: a new one only

Teams open the page's address; the facilitator opens `<address>/facilitator`. A bad workshop
name, a bad override, overrides given for a workshop that already exists, or a busy port exit 2
before serving.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import checks
from sim.cli.exits import checked, refuse
from sim.cli.serve import servable, serve
from sim.viz.pages.game import FOLDER_ENV

PAGE = "sim.viz.pages.game_page"
PROG = "privsim-game"


def open_or_create(folder: Path, name: str, overrides: list[str]):
    """The workshop in `folder`: resumed when the folder holds one (overrides then refused: they
    would not apply), else created from `configs/workshop/<name>.yaml` and `overrides`."""
    from sim.experiment.workshop import WORKSHOP_FILE, Workshop

    if (folder / WORKSHOP_FILE).exists():
        if overrides:
            refuse(PROG, f"--folder {folder} already holds a workshop; overrides apply only to a "
                   "new one (give a new folder)")  # fmt: skip
        return Workshop.open(folder)
    return Workshop.create(folder, name=name, overrides=tuple(overrides))


def main(argv: list[str] | None = None) -> int:
    ap = checks.ArgumentParser(
        prog=PROG,
        description="The workshop game: teams play a hidden brand month by month; the "
        "facilitator's view (/facilitator) shows every team and reveals the brand.",
    )
    ap.add_argument("--folder", type=Path, default=None,
                    help="the workshop's folder (default results/workshops/<--workshop>); "
                    "resumed if it holds one")  # fmt: skip
    ap.add_argument("--workshop", default="default", help="configs/workshop/<NAME>.yaml")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8767)
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    ap.add_argument("overrides", nargs="*", help="KEY=VALUE for a new workshop")
    args = ap.parse_args(argv)
    folder = args.folder or Path("results/workshops") / args.workshop
    checks.out_folder(PROG, "--folder", folder)
    if (refused := servable(PROG, args.host, args.port)) is not None:
        return refused  # before the workshop is written
    ws = checked(PROG, lambda: open_or_create(folder, args.workshop, args.overrides), "workshop")
    print(f"{PROG}: workshop {folder} ({len(ws.teams())} teams so far); facilitator: "
          f"http://{args.host}:{args.port}/facilitator", flush=True)  # fmt: skip
    env = {FOLDER_ENV: str(folder.resolve())}
    return serve(PROG, PAGE, args.host, args.port, args.open, env)


if __name__ == "__main__":
    sys.exit(main())
