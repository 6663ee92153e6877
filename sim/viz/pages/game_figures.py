"""The workshop game's figures (matplotlib, the trainer page's sizes and fonts: `figures`): a
team's brand month by month, and every plan's profit to date by month (the facilitator's live
view; at the reveal with staged and the optimised policy on the same brand)."""

from __future__ import annotations

import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.viz import plots
from sim.viz.pages.figures import legible, money_axis, page_figure

TEAM_SIZE = (8.4, 2.6)  # inches at figures.DPI: the team view's right two thirds at 1280 wide
WIDE_SIZE = (12.4, 3.4)  # the facilitator's full width
REFERENCE_STYLE = "--"  # staged and the optimised policy, drawn dashed under the teams


def _month_axis(ax, months: int) -> None:
    ax.set_xlim(0, max(months, 1))  # the whole game from the start: room to grow
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("month")


def team_figure(monthly: pd.DataFrame, months: int, big: bool = False):
    """A team's brand by month: profit to date (yuan), users joined to date, and the 30-day
    conversion of each month's joiners (%); empty axes with a note before month 1."""
    fig, axes = page_figure(TEAM_SIZE, ncols=3, left=0.075, wspace=0.38, bottom=0.22, top=0.86)
    panels = (
        ("Profit to date", "profit to date (yuan)", monthly["profit_to_date"]),
        ("Users joined to date", "users", monthly["users_joined"].cumsum()),
        ("30-day conversion", "month's joiners who bought (%)", monthly["conversion_30d"]),
    )
    for ax, (title, ylabel, y) in zip(axes, panels, strict=True):
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        _month_axis(ax, months)
        if monthly.empty:
            ax.set_yticks([0])
            plots.empty(ax, "after month 1")
            continue
        ax.plot(monthly["month"], y, marker="o", color=plots.PALETTE[0])
    money_axis(axes[0].yaxis)
    plots.thousands(axes[1].yaxis)
    legible(fig, big)
    return fig


def profit_figure(curves: pd.DataFrame, months: int, references: tuple[str, ...] = ()):
    """Every plan's profit to date by month (`curves`: plan, month, profit_to_date); the
    `references` (staged, the optimised policy) dashed, the teams solid."""
    fig, (ax,) = page_figure(WIDE_SIZE, left=0.075, bottom=0.17, top=0.88)
    plans = list(dict.fromkeys(curves["plan"]))
    teams = [p for p in plans if p not in references]
    colour = plots.colours(teams + [p for p in plans if p in references])
    for plan in plans:
        c = curves[curves["plan"] == plan].sort_values("month")
        ref = plan in references
        ax.plot(
            [0, *c["month"]], [0.0, *c["profit_to_date"]], marker=None if ref else "o",
            linestyle=REFERENCE_STYLE if ref else "-", color=colour[plan], label=plan,
        )  # fmt: skip
    if not plans:
        plots.empty(ax, "no month played yet")
    ax.axhline(0, color=plots.GREY, linewidth=0.8)
    ax.set_title("Profit to date by month: each plan on the same brand", loc="left")
    ax.set_ylabel("profit to date (yuan)")
    _month_axis(ax, months)
    money_axis(ax.yaxis)
    if plans:
        ax.legend(loc="upper left", ncols=min(len(plans), 4), framealpha=0.85)
    legible(fig, True)
    return fig
