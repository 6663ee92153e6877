"""`privsim-app`: serve the trainer's live page (`sim.viz.pages.live_page`) on localhost.

    privsim-app [--host 127.0.0.1] [--port 8765] [--open]
    python -m sim.cli.app --port 8765

Exits by the one scheme (`sim.cli.exits`): 2 on a busy port, before serving.
"""

from __future__ import annotations

import sys

from sim.cli import checks
from sim.cli.serve import serve

PAGE = "sim.viz.pages.live_page"


def main(argv: list[str] | None = None) -> int:
    ap = checks.ArgumentParser(
        prog="privsim-app",
        description="The trainer's live view: two private-domain models side by side.",
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    args = ap.parse_args(argv)
    return serve("privsim-app", PAGE, args.host, args.port, args.open)


if __name__ == "__main__":
    sys.exit(main())
