"""The strategy map (issue #24): which policy wins where, and by how much.

    python -m sim.cli.strategy_map <sweep_dir>     # reads <sweep_dir>/summary.parquet

A strategist asks "test first or launch big?"; the answer depends on how unsure the brand is
(`fit.spread`, DOMAIN §3.1: a fit is latent until tested), how long the yardstick is (NPV at 1,
2, 3 years: the multi-year yardsticks of issue #23, §4) and, where the sweep varied it, the
market (§3.2, §5: a finite audience burns). Each *cell* is one such condition at one NPV
horizon; in it every policy the sweep ran (presets and optimised ones alike: they are just
`strategy` values) was run on the same brands (seeds: common random numbers), so policies are
compared paired by brand.

In a cell:
- the *winner* is the policy with the highest mean NPV over brands (the policy search's
  objective, `sim.experiment.optimize`), the *runner-up* the next;
- its *margin* is the mean paired difference winner − runner-up with its standard error, and
  the middle 80 % of brands' differences (10th–90th percentile: what a brand could see);
- the winner is *clear* when the margin exceeds `CLEAR` standard errors; otherwise the cell says
  the two are within noise (selecting the larger of two noisy means is biased: a cell won by a
  hair is not a recommendation);
- *brands won*: in how many brands the winner beat the runner-up (and tied: the same NPV, e.g.
  a stop-loss that did not fire). Policies with the same NPV in every brand count as one.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from sim.experiment.comparison import npv_columns
from sim.experiment.reference import describe
from sim.viz import plots
from sim.viz.labels import level_label

SPREAD = "fit.spread"
POLICY = "strategy"
NOT_CONDITIONS = {POLICY, "seed", "experiment"}
CLEAR = 2.0  # standard errors of the paired margin that make a winner clear


def conditions(table: pd.DataFrame) -> list[str]:
    """The sweep's keys other than the policy and the brand that vary across finished runs
    (`fit.spread` first), as the sweep report reads them (`override_keys`)."""
    done = _finished(table)
    keys = table.attrs.get("override_keys") or [SPREAD]
    keys = [k for k in keys if k in done and k not in NOT_CONDITIONS and not k.startswith("hydra.")]
    keys = [k for k in keys if done[k].astype("string").nunique(dropna=False) > 1]
    return sorted(keys, key=lambda k: k != SPREAD)


def combined(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Several sweeps' tables as one: a key one sweep did not set is its default there (NA,
    read as one more condition value), the override keys are the union. A run (policy,
    conditions, seed) present in two sweeps is kept once, from the later sweep."""
    keys = list(dict.fromkeys(k for t in tables for k in t.attrs.get("override_keys", [SPREAD])))
    t = pd.concat([_typed_conditions(t) for t in tables], ignore_index=True)
    run = [k for k in keys if k in t and not k.startswith("hydra.") and k != "experiment"]
    t = t.drop_duplicates(subset=run, keep="last", ignore_index=True) if run else t
    t.attrs["override_keys"] = keys
    return t


def _typed_conditions(table: pd.DataFrame) -> pd.DataFrame:
    """A sweep's condition columns as the values they are: a sweep over `null,150000` has them
    as text ("null", "150000"), another sweep's 150000 is a number; "null" is the default (NA)."""
    t = table.copy()
    for k in set(table.attrs.get("override_keys", [])) - NOT_CONDITIONS:
        if k in t and not pd.api.types.is_numeric_dtype(t[k]):
            v = t[k].astype("object").where(~t[k].astype("string").isin(["null", "None"]))
            num = pd.to_numeric(v, errors="coerce")
            t[k] = num if num.notna().sum() == v.notna().sum() else v
    return t


def _default_first(groups) -> list:
    """`groupby` groups with a key's default (NA, which pandas sorts last) first."""
    as_tuple = lambda k: k if isinstance(k, tuple) else (k,)  # noqa: E731
    return sorted(groups, key=lambda g: [not pd.isna(v) for v in as_tuple(g[0])])


def _finished(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == "finished"] if "status" in table else table


def cells(table: pd.DataFrame) -> pd.DataFrame:
    """One row per condition × NPV horizon: the winner, runner-up, margin (mean, standard
    error, 10th/50th/90th percentile over brands), brands won and whether the win is clear,
    plus each policy's mean NPV (`mean:<policy>`)."""
    t = _finished(table)
    keys = conditions(table)
    rows = []
    groups = _default_first(t.groupby(keys, sort=True, dropna=False)) if keys else [((), t)]
    for cond, g in groups:
        cond = cond if isinstance(cond, tuple) else (cond,)
        for col in npv_columns(g):
            wide = g.pivot_table(index="seed", columns=POLICY, values=col, aggfunc="first")
            wide = wide.dropna()  # brands every policy finished: the pairs
            one = _same_as_one(wide)
            if one.shape[1] < 2 or len(one) < 2:
                continue
            means = one.mean().sort_values(ascending=False)
            win, run = means.index[0], means.index[1]
            d = (one[win] - one[run]).to_numpy(float)
            se = float(d.std(ddof=1) / math.sqrt(d.size))
            row = dict(zip(keys, cond, strict=True))
            row.update(
                horizon=int(col[len("npv_") : -1]),
                brands=len(one),
                winner=win,
                runner_up=run,
                margin=float(d.mean()),
                margin_se=se,
                p10=float(np.percentile(d, plots.BAND[0])),
                median=float(np.median(d)),
                p90=float(np.percentile(d, plots.BAND[1])),
                won=int((d > 0).sum()),
                tied=int((d == 0).sum()),
                clear=bool(d.mean() > CLEAR * se),
            )
            row.update({f"mean:{p}": float(v) for p, v in wide.mean().items()})
            rows.append(row)
    return pd.DataFrame(rows)


def _same_as_one(wide: pd.DataFrame) -> pd.DataFrame:
    """Policies with the same NPV in every brand as one column named `a = b` (e.g. a stop-loss
    that never fired is its launch): a tie by construction is not a margin of zero to report."""
    out: dict[str, pd.Series] = {}
    for p in wide:
        same = next((k for k, v in out.items() if np.array_equal(v, wide[p])), None)
        out[f"{same} = {p}" if same else p] = out.pop(same) if same else wide[p]
    return pd.DataFrame(out)


def _colour(col: dict, name: str) -> str:
    return col[name.split(" = ")[0]]


def value(v) -> str:
    """A condition's value as read: a key a sweep did not set is its config default."""
    if pd.isna(v):
        return "default"
    return f"{v:g}" if isinstance(v, float) else str(v)


def condition(key: str, v) -> str:
    """A panel's condition in words (`market size 150,000 users`); a key the sweep did not set
    is the config's default, read as the schema says its null reads (`an unlimited market`)."""
    if pd.isna(v):
        info = describe(key)
        m = re.search(r"null: ([^;.]+)", info.doc) if info else None
        return m[1].strip().lower() if m else f"{key} at its default"
    return level_label(key, value(v))


def _money(v: float) -> str:
    return f"{v / 1e6:+.2f} M"


def _won(r: dict) -> str:
    tied = f", {r['tied']} tied" if r["tied"] else ""
    return f"won {r['won']}/{r['brands']} brands{tied}"


def _label(r: dict) -> str:
    head = r["winner"] if r["clear"] else f"{r['winner']} ≈ {r['runner_up']}"
    head = head.replace(" ≈ ", " ≈\n") if len(head) > 32 else head  # fits the cell
    return f"{head}\n{_money(r['margin'])} ± {_money(r['margin_se']).lstrip('+')}\n{_won(r)}"


def figure(table: pd.DataFrame):
    """One panel per value of the conditions other than the spread (one panel if none): NPV
    horizon (rows) × fit spread (columns), each cell coloured by its winner (pale: within noise),
    and written with the winner, its margin over the runner-up ± standard error and the brands
    it won."""
    from matplotlib.patches import Patch

    c = cells(table)
    if c.empty:
        fig, axes = plots.figure(6, 3)
        plots.empty(axes[0], "no condition has two policies run on the same brands")
        return fig
    keys = conditions(table)
    x_key = SPREAD if SPREAD in keys else None
    rest = [k for k in keys if k != x_key]
    panels = _default_first(c.groupby(rest, sort=True, dropna=False)) if rest else [((), c)]
    # the palette's most distinct colours to the policies that win most cells (ties by name):
    # winners read apart, whichever sweep listed them first
    wins = c["winner"].map(lambda w: w.split(" = ")[0]).value_counts()
    policies = sorted(dict.fromkeys(_finished(table)[POLICY]), key=lambda p: (-wins.get(p, 0), p))
    col = plots.colours(policies)
    xs = sorted(c[x_key].unique()) if x_key else [None]
    hs = sorted(c["horizon"].unique())
    fig, axes = plots.figure(
        2.2 * len(xs) + 1.5, 1.25 * len(hs) * len(panels) + 1.6, len(panels), 1,
        layout="constrained",
    )  # fmt: skip
    for ax, (val, p) in zip(axes, panels, strict=True):
        for r in p.to_dict("records"):
            i, j = xs.index(r[x_key]) if x_key else 0, hs.index(r["horizon"])
            clear = r["clear"]
            colour = _colour(col, r["winner"])
            ax.add_patch(_cell(i, j, colour, 0.75 if clear else 0.25, None if clear else "//"))
            ax.text(i, j, _label(r), ha="center", va="center", fontsize=7.5)
        ax.grid(False)
        ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_ylim(len(hs) - 0.5, -0.5)
        ax.set_xticks(range(len(xs)), [value(x) for x in xs] if x_key else ["all runs"])
        ax.set_yticks(range(len(hs)), [f"NPV at {h:,} days" for h in hs])
        ax.set_xlabel(
            "fit.spread: sd of log fit of each candidate (how much is unknown)" if x_key else "",
            fontsize=9,
        )
        ax.set_ylabel("yardstick (horizon)", fontsize=9)
        val = val if isinstance(val, tuple) else (val,)
        where = ", ".join(condition(k, v) for k, v in zip(rest, val, strict=True))
        ax.set_title(
            "Which policy has the highest mean NPV" + (f" ({where})" if where else ""), fontsize=10
        )
    handles = [Patch(color=col[p], alpha=0.75, label=p) for p in policies]
    handles.append(Patch(facecolor="white", edgecolor="grey", hatch="//",
                         label=f"pale, hatched: winner within {CLEAR:g} SE of "
                               "the runner-up"))  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)), fontsize=8,
               title="winner (margin: mean paired difference over the runner-up ± SE)",
               title_fontsize=8)  # fmt: skip
    return fig


def _cell(i, j, colour, alpha, hatch):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (i - 0.5, j - 0.5), 1, 1, facecolor=colour, alpha=alpha, hatch=hatch, edgecolor="white"
    )


def markdown(table: pd.DataFrame) -> str:
    """The map's cells as tables, one per NPV horizon, with each policy's mean NPV."""
    c = cells(table)
    keys = conditions(table)
    lines = [
        "# strategy map: which policy wins where",
        "",
        "Per condition and NPV horizon, every policy was run on the same brands (seeds). "
        "*Winner*: the highest mean NPV over brands; *margin*: mean paired difference winner − "
        f"runner-up ± its standard error; *clear*: margin > {CLEAR:g} standard errors (else "
        "the two are within noise); *10th–90th pct*: the middle 80 % of brands' differences; "
        "*won*: brands where the winner beat the runner-up (*tied*: the same NPV in both). "
        "*NPV at H days*: daily profit of "
        "days 0 … H − 1 (margin − acquisition spend − team, KOC and systems cost) discounted "
        "to day 0 at `economics.discount_rate_annual`; yuan, M = million.",
        "",
    ]
    if c.empty:
        return "\n".join(lines + ["No condition has two policies run on the same brands.", ""])
    order = list(dict.fromkeys(_finished(table)[POLICY]))  # the sweep's order
    policies = [p for p in order if f"mean:{p}" in c]
    for h, g in c.groupby("horizon"):
        lines += [f"## NPV at {h:,} days", ""]
        head = [*keys, "winner", "runner-up", "margin ± SE", "10th–90th pct", "won", "clear"]
        head += [f"mean {p}" for p in policies]
        lines += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for r in g.to_dict("records"):
            cells_ = [value(r[k]) for k in keys]
            cells_ += [
                r["winner"],
                r["runner_up"],
                f"{_money(r['margin'])} ± {_money(r['margin_se']).lstrip('+')}",
                f"{_money(r['p10'])} … {_money(r['p90'])}",
                _won(r).removeprefix("won ").replace(" brands", ""),
                "yes" if r["clear"] else "no",
            ]
            cells_ += [
                "–" if pd.isna(v := r.get(f"mean:{p}")) else _money(v).lstrip("+") for p in policies
            ]
            lines.append("| " + " | ".join(cells_) + " |")
        lines.append("")
    return "\n".join(lines)
