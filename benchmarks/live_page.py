"""Play the trainer's page's default pair for a year without a browser and print one JSON line:
wall and CPU seconds of the model's days and of the page's drawing, per simulated day.

    python benchmarks/live_page.py                   # the page's days per redraw (7)
    python benchmarks/live_page.py --days-per-redraw 1
    PYTHONPATH=/tmp/base python benchmarks/live_page.py   # another checkout, side by side

Each redraw does what the page computes when it redraws while playing (`sim.viz.pages`): the pair's
days (`LivePair.step`), the headline cards (`headline.headline`), the profit figure as PNG with its
caption and marks line (`figures.png`, `figures.caption`, `figures.marks_legend`), "What happened"
(`story.what_happened`), and the plots under the first screen on the days the page redraws them
(`live_page.below_day`). The preview (the pair run ahead, drawn faintly) is computed first, as the
page does before ▶, and not counted. What this leaves out: Solara's own work (the component tree,
the widgets sent to the browser) and the browser's; `benchmarks/live_page_browser.py` measures the
whole page in Chromium.

Keys: `days`, `redraws`, `model_s` / `model_cpu_s` (the days simulated), `draw_s` /
`draw_cpu_s` (everything drawn), their sum `total_s` / `total_cpu_s`, `ms_per_day` and
`cpu_ms_per_day` (total over days), `draw_cpu_ms_per_redraw`, `parts_cpu_s` (drawing by part),
`load` (1-minute load average before and after).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time


def png(pair, key: str) -> bytes:
    """The figure as the page sends it (a checkout before `figures.png`: savefig as it did)."""
    from sim.viz.pages import figures

    if hasattr(figures, "png"):
        return figures.png(pair, key, False)
    out = io.BytesIO()
    figures.FIGURES[key](pair, False).savefig(out, format="png", pil_kwargs={"compress_level": 1})
    return out.getvalue()


def play(days_per_redraw: int | None = None) -> dict:
    from sim.viz.pages import figures, headline, lesson, live_page, story
    from sim.viz.pages.pair import LivePair

    lower = ("funnel", "conversion", "operators", "ltv_cac", "churn")
    every = live_page.BELOW_FOLD_EVERY

    def below_day(day, k, playing):  # the plot's day as the page draws it
        if hasattr(live_page, "below_day"):
            return live_page.below_day(day, k, playing)
        return day - day % every if playing else day  # before: all five at once

    days_per_redraw = days_per_redraw or live_page.RENDER_INTERVAL_DAYS

    pair = LivePair()
    pair.preview = lesson.preview(pair.controls)
    wall = {"model": 0.0}
    cpu = {"model": 0.0}

    def timed(part, f):
        w, c = time.perf_counter(), time.process_time()
        f()
        wall[part] = wall.get(part, 0.0) + time.perf_counter() - w
        cpu[part] = cpu.get(part, 0.0) + time.process_time() - c

    def days():
        for _ in range(days_per_redraw):
            pair.step()

    def plot(key):
        png(pair, key)
        figures.caption(key, pair)

    redraws, shown = 0, dict.fromkeys(lower, 0)  # drawn at day 0 before ▶
    load = [os.getloadavg()[0]]
    while pair.running:
        timed("model", days)
        redraws += 1
        with pair.lock:
            timed("headline", lambda: headline.headline(pair))
            timed("profit", lambda: (plot("profit"), figures.marks_legend(pair)))
            timed("what_happened", lambda: story.what_happened(pair))
            for k, key in enumerate(lower):
                if (day := below_day(pair.day, k, pair.running)) != shown[key]:
                    shown[key] = day
                    timed("below_fold", lambda key=key: plot(key))
    load.append(os.getloadavg()[0])
    draw_s = sum(v for k, v in wall.items() if k != "model")
    draw_cpu = sum(v for k, v in cpu.items() if k != "model")
    n = pair.day
    return {
        "days": n,
        "days_per_redraw": days_per_redraw,
        "redraws": redraws,
        "model_s": round(wall["model"], 2),
        "model_cpu_s": round(cpu["model"], 2),
        "draw_s": round(draw_s, 2),
        "draw_cpu_s": round(draw_cpu, 2),
        "total_s": round(wall["model"] + draw_s, 2),
        "total_cpu_s": round(cpu["model"] + draw_cpu, 2),
        "ms_per_day": round(1000 * (wall["model"] + draw_s) / n, 1),
        "cpu_ms_per_day": round(1000 * (cpu["model"] + draw_cpu) / n, 1),
        "draw_cpu_ms_per_redraw": round(1000 * draw_cpu / redraws, 1),
        "parts_cpu_s": {k: round(v, 2) for k, v in cpu.items()},
        "load": [round(x, 2) for x in load],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days-per-redraw", type=int, default=None, help="default: the page's")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    for _ in range(args.repeat):
        print(json.dumps(play(args.days_per_redraw)), flush=True)


if __name__ == "__main__":
    main()
