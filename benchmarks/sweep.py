"""`make bench`: the size sweep, each size in fresh processes, medians of repeated runs.

Prints a table (users, days, wall seconds, ns per user-day, peak RSS, speed-up over the
one-Mesa-agent-per-user reference measured in the same sweep) and writes the JSON to
`results/bench/` (atomically: temp file, then `os.replace`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, fresh, median_of  # noqa: E402

SIZES = [(10_000, 365), (100_000, 365), (1_000_000, 365)]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--naive-users", type=int, default=100_000)
    ap.add_argument("--naive-days", type=int, default=20)
    ap.add_argument("--max-users", type=int, default=1_000_000)
    a = ap.parse_args(argv)

    def med(users, days, naive=False):
        r = median_of([fresh(users, days, naive, seed=0) for _ in range(a.repeat)])
        print(
            f"  measured {'naive' if naive else 'model'} {users:>9,} x {days} days: "
            f"{r['run_s']:.2f} s",
            file=sys.stderr,
            flush=True,
        )
        return r

    rows = [med(u, a.days) for u, _ in SIZES if u <= a.max_users]
    # side by side at the same size and days: the reference and the model
    naive = med(a.naive_users, a.naive_days, naive=True)
    same = med(a.naive_users, a.naive_days)
    rows += [same, naive]
    for r in rows:
        r["speedup_vs_naive"] = round(naive["ns_per_user_day"] / r["ns_per_user_day"], 1)

    head = (
        f"{'variant':<7} {'users':>10} {'days':>5} {'build_s':>8} {'run_s':>8} "
        f"{'ns/user-day':>12} {'ns/row-day':>11} {'peak_rss_mb':>12} {'vs naive':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{'naive' if r['naive'] else 'model':<7} {r['users']:>10,} {r['days']:>5} "
            f"{r['build_s']:>8.2f} {r['run_s']:>8.2f} {r['ns_per_user_day']:>12.1f} "
            f"{r['ns_per_row_day']:>11.1f} "
            f"{r['peak_rss_mb']:>12.0f} {r['speedup_vs_naive']:>8.1f}x"
        )
    print(
        "ns/user-day = run_s / (users x days); ns/row-day divides by the user rows actually "
        "stepped (imported + acquired during the run)"
    )
    print(
        f"(medians of {a.repeat} fresh runs; import + compose "
        f"{max(r['import_s'] for r in rows):.2f} s at most)"
    )

    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    payload = {
        "when": stamp,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "repeat": a.repeat,
        "rows": rows,
    }
    for name in (f"{stamp}.json", "latest.json"):
        fd, tmp = tempfile.mkstemp(dir=out, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1)
        os.replace(tmp, out / name)
    print(f"wrote {out / (stamp + '.json')}")


if __name__ == "__main__":
    main()
