"""The workshop game's figures (matplotlib; the trainer page's fonts and money format,
`figures`): a team's brand month by month, and every plan's profit to date by month (the
facilitator's live view; at the reveal with staged and the optimised policy on the same brand,
dashed)."""

from __future__ import annotations

import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.viz import plots
from sim.viz.pages.figures import legible, money_axis, page_figure
from sim.viz.pages.game import CONVERSION, PROFIT, USERS

TEAM_SIZE = (8.4, 2.5)  # inches at figures.DPI: about the team view's right two thirds at 1280
WIDE_SIZE = (12.4, 3.3)  # the facilitator's full width
REVEAL_SIZE = (7.4, 3.4)  # the reveal's left three fifths, beside the brand in words
LEGEND_RIGHT = 0.82  # the plot's right edge (figure fraction): the legend of plans beside it
REFERENCE_STYLE = "--"  # staged and the optimised policy, dashed beside the teams


def _month_axis(ax, months: int) -> None:
    ax.set_xlim(0, max(months, 1))  # the whole game from the start: room to grow
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("month")


def team_figure(monthly: pd.DataFrame, months: int):
    """A team's brand by month: profit to date (yuan), users joined to date, and the 30-day
    conversion of each month's joiners (%, once they are 30 days old); empty axes with a note
    before month 1."""
    fig, axes = page_figure(TEAM_SIZE, ncols=3, left=0.1, wspace=0.52, bottom=0.2, top=0.87)
    panels = (
        ("Profit to date", "yuan", monthly[PROFIT]),
        ("Users joined to date", "users", monthly[USERS].cumsum()),
        ("30-day conversion", "% of the month's joiners", 100 * monthly[CONVERSION]),
    )
    for ax, (title, ylabel, y) in zip(axes, panels, strict=True):
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        _month_axis(ax, months)
        if y.dropna().empty:
            ax.set_yticks([0])
            plots.empty(ax, "after month 1" if monthly.empty else "once 30 days old")
            continue
        ax.plot(monthly["month"], y, marker="o", color=plots.PALETTE[0])
    money_axis(axes[0].yaxis)
    plots.thousands(axes[1].yaxis)
    legible(fig, False)
    return fig


def profit_figure(curves: pd.DataFrame, months: int, references: tuple[str, ...] = (),
                  size=WIDE_SIZE):  # fmt: skip
    """Every plan's profit to date by month (`curves`: plan, month, profit), from ¥0 at month 0;
    the `references` (staged, the optimised policy) dashed, the teams solid with a dot a month;
    the legend beside the plot."""
    fig, (ax,) = page_figure(size, left=0.085 * WIDE_SIZE[0] / size[0], bottom=0.17, top=0.88)
    plans = list(dict.fromkeys(curves["plan"]))
    colour = plots.colours(plans)
    for plan in plans:
        c = curves[curves["plan"] == plan].sort_values("month")
        ref = plan in references
        ax.plot([0, *c["month"]], [0.0, *c[PROFIT]], color=colour[plan], label=plan,
                linestyle=REFERENCE_STYLE if ref else "-", marker=None if ref else "o")  # fmt: skip
    if not plans:
        plots.empty(ax, "no month played yet")
    ax.axhline(0, color=plots.GREY, linewidth=0.8)
    ax.set_title("Profit to date at each month's end (not discounted)", loc="left")
    ax.set_ylabel("yuan")
    _month_axis(ax, months)
    money_axis(ax.yaxis)
    if plans:  # beside the plot: never over a line
        fig.subplots_adjust(right=1 - (1 - LEGEND_RIGHT) * WIDE_SIZE[0] / size[0])
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    legible(fig, True)
    return fig
