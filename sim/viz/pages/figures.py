"""The live page's figures: the arms' tidy frames (`frames`), the marks on the time plots
(phase starts; the conversion crossing on the conversion chart only, whose x is a joining
day) and one function per figure (`FIGURES`), each drawing
`sim.viz.plots` on a fixed-margin figure (no pyplot state, no layout engine: the page redraws
every few days), with its caption (`caption`, from `story`)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.ticker import FuncFormatter
from PIL import Image

from sim.core.metrics import CONVERSION_WINDOW
from sim.viz import plots
from sim.viz.pages.pair import ROLLING_DAYS, LivePair
from sim.viz.pages.story import (
    caption_churn,
    caption_conversion,
    caption_funnel,
    caption_ltv_cac,
    caption_operators,
    caption_profit,
    fell_below,
    yuan,
)


def frames(pair: LivePair) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The arms' `daily` (with each day's LTV/CAC so far) and closed weekly `cohorts` as tidy
    frames for `sim.viz.plots`: `group` is the arm's name, `job` its label (one seed each).
    Computed once per simulated day: the five figures of a redraw share them."""
    if pair._frames is not None and pair._frames[0] == pair.day:
        return pair._frames[1:]
    daily, cohorts = [], []
    for arm in pair.arms:
        tag = dict(group=arm.name, job=arm.label)
        d = arm.daily()
        daily.append(d.assign(ltv_cac=np.array(arm.ltv_cac[: len(d)], dtype=float), **tag))
        if arm.model.day:  # no cohort table before the first day
            c = arm.model.cohorts()
            cohorts.append(c[(c["size"] > 0) & c["conversion_30d"].notna()].assign(**tag))
    empty = pd.DataFrame(columns=["group", "job", "day", "week", "size", "conversion_30d"])
    out = (
        pd.concat(daily, ignore_index=True) if daily else empty,
        pd.concat(cohorts, ignore_index=True) if cohorts else empty,
    )
    pair._frames = (pair.day, *out)
    return out


def caption(key: str, pair: LivePair) -> str:
    """The plot's caption, its directions read from the plotted data."""
    daily, cohorts = frames(pair)
    if key == "profit":
        return caption_profit(daily)
    if key == "ltv_cac":
        return caption_ltv_cac(daily)
    if key == "conversion":
        return caption_conversion(cohorts)
    if key == "funnel":
        return caption_funnel(daily)
    if key == "operators":
        return caption_operators(daily)
    return caption_churn(daily)


# --- marks: phase starts on the time plots, the crossing on the conversion chart --------------


def phase_marks(pair: LivePair) -> list[plots.Mark]:
    """A mark where each arm's later phases start (from the daily `phase` index)."""
    out = []
    for arm in pair.arms:
        d = arm.daily()
        if not len(d):
            continue
        ph = d["phase"].to_numpy()
        for k in np.flatnonzero(ph[1:] != ph[:-1]) + 1:
            name = arm.model.params.strategy.phases[int(ph[k])].name
            out.append(plots.Mark(int(d["day"].iloc[k]), f"{arm.label}: {name}", arm.name))
    return out


def crossing_marks(pair: LivePair) -> list[plots.Mark]:
    """Where an arm's 30-day conversion fell below the other's and stayed there: at the first
    joining day of that run (`fell_below`; none when it was below throughout). On a joining-day
    axis only: the conversion chart's."""
    if len(pair.arms) < 2:
        return []
    series = [a.conversion() for a in pair.arms]
    out = []
    for i, arm in enumerate(pair.arms):
        other = pair.arms[1 - i]
        c = fell_below(series[i], series[1 - i])
        if c is not None and c.crossed:
            out.append(
                plots.Mark(
                    c.since_join_day,
                    f"{arm.label} below {other.label} from joiners of day {c.since_join_day}",
                    arm.name,
                    kind="event",
                )
            )
    return out


def marks_legend(pair: LivePair) -> str:
    """What the vertical lines on the time plots are, in a line."""
    ms = marks(pair)
    if not ms:
        return "Dashed vertical lines will mark where each arm's next phase starts."
    starts = ", ".join(f"{m.text} from day {m.day}" for m in ms)
    return f"Dashed lines: phase starts ({starts})."


def marks(pair: LivePair) -> list[plots.Mark]:
    """The phase starts, drawn on every time plot (computed once per simulated day)."""
    if pair._marks is None or pair._marks[0] != pair.day:
        pair._marks = (pair.day, phase_marks(pair))
    return pair._marks[1]


# --- figures (sim.viz.plots on fixed-margin figures: no pyplot state, no layout engine) --------

PLOTS = {
    "profit": "Cumulative profit: margin − acquisition − team, KOC and systems cost",
    "funnel": "Funnel: live users in each stage",
    "conversion": "30-day conversion: by joining day, and against pool size",
    "operators": "Users per operator",
    "ltv_cac": "LTV/CAC to date",
    "churn": "Churned to date: share of all users who joined",
}
DPI = 100
FONT = {False: 11, True: 14}  # base font size in points: the page, presentation mode
# figure sizes in inches at DPI, about the pixels they are shown at on a 1280-wide screen
WIDE = {False: (8.6, 2.75), True: (12.4, 3.6)}
HALF = {False: (6.0, 3.2), True: (12.4, 3.8)}


def page_figure(size, ncols=1, sharey=False, left=0.09, wspace=0.2, top=0.86, bottom=0.2):
    """A figure with fixed margins (a layout engine would double the cost of every redraw)."""
    fig, axes = plots.figure(*size, ncols=ncols, sharey=sharey, dpi=DPI)
    fig.subplots_adjust(left=left, right=0.98, bottom=bottom, top=top, wspace=wspace)
    return fig, axes


def legible(fig, big: bool) -> None:
    """Every label, tick and legend at the page's font size (the plots draw small)."""
    f = FONT[big]
    for ax in fig.axes:
        ax.tick_params(labelsize=f - 1)
        ax.xaxis.label.set_fontsize(f - 1)
        ax.yaxis.label.set_fontsize(f - 1)
        ax.title.set_fontsize(f)
        if leg := ax.get_legend():
            for t in leg.get_texts():
                t.set_fontsize(f - 2)
        for t in ax.texts:
            t.set_fontsize(f - 2)
    if fig._suptitle is not None:
        fig._suptitle.set_fontsize(f + 1)


def money_axis(axis) -> None:
    """Ticks in the page's one money format (`story.yuan`: ¥500k, −¥99k, ¥1.20M)."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: yuan(v)))


def _drop_legend(ax) -> None:
    if ax.get_legend():
        ax.get_legend().remove()


def _time_marks(pair, axes, label_axis=None) -> None:
    col = plots.colours([a.name for a in pair.arms])
    for ax in axes:
        plots.marks(ax, marks(pair), col, label=ax is (label_axis or axes[0]))


def _profit_axes(pair: LivePair, big: bool, daily: pd.DataFrame):
    """The profit figure without its marks: the preview's faint tracks, `daily`'s live lines,
    the axes over the whole horizon."""
    fig, (ax,) = page_figure(WIDE[big], left=0.115, bottom=0.17, top=0.9)
    if pair.preview is not None:
        preview_lines(ax, pair.preview.daily, [a.name for a in pair.arms])
    elif not len(daily):  # nothing to draw yet: one tick at zero, not 0-1 fractions
        ax.set_yticks([0])
        plots.empty(ax, "preview loading: the run ahead is being computed")
    plots.cumulative_profit(ax, daily)
    money_axis(ax.yaxis)
    ax.set_title(PLOTS["profit"], loc="left")
    ax.set_xlim(0, max(pair.horizon_days, 7))  # the whole year from the start: room to grow
    return fig, ax


def figure_profit(pair: LivePair, big: bool = False):
    """Cumulative profit of each arm so far over the whole horizon, over the preview of where
    it ends (`pair.preview`, drawn faintly: the live lines trace over it as the run plays)."""
    fig, ax = _profit_axes(pair, big, frames(pair)[0])
    _time_marks(pair, [ax])
    legible(fig, big)
    return fig


class ProfitLayers:
    """The profit figure drawn in two layers while the run plays: what stays the same all run
    (axes, ticks, title, the preview's tracks) rendered once per pair, preview and size; the
    live lines, the marks and the legend drawn over a copy of it each redraw. The picture
    `figure_profit` draws (but where a live line passes under the axis' spine), at a third of
    its cost: the axes span the whole horizon from the start and the live lines lie on the
    preview's (the same model and seed), so the limits never move."""

    def __init__(self, pair: LivePair, big: bool):
        self.big, self.preview = big, pair.preview
        self.fig, self.ax = _profit_axes(pair, big, frames(pair)[0].iloc[:0])
        if (leg := self.ax.get_legend()) is not None:  # redrawn with the live lines
            leg.remove()
        legible(self.fig, big)
        # drawn after the live lines in `figure_profit` (the zero line, the preview's end
        # values): left out of the background, drawn over the live lines each time
        self.over = [
            a for a in (*self.ax.lines, *self.ax.texts) if a.get_alpha() != PREVIEW_ALPHA
        ]
        for t in self.over:
            t.set_visible(False)
        self.canvas = FigureCanvasAgg(self.fig)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        for t in self.over:
            t.set_visible(True)
        self.ax.set_autoscale_on(False)
        self.static = set(self.ax.get_children())

    def png(self, pair: LivePair) -> bytes:
        ax = self.ax
        for a in ax.get_children():
            if a not in self.static:
                a.remove()
        daily = frames(pair)[0][["group", "job", "day", "profit"]]  # narrow: cheaper sorts
        plots.lines(ax, plots.cumulative(daily, "profit"), "day", "cumulative_profit")
        _time_marks(pair, [ax])
        plots.legend(ax, daily)
        legible(self.fig, self.big)
        self.canvas.restore_region(self.background)
        live = [a for a in ax.get_children() if a not in self.static]
        for a in sorted(live + self.over, key=lambda a: a.get_zorder()):
            ax.draw_artist(a)
        return encode(self.canvas)


def profit_layers(pair: LivePair, big: bool) -> ProfitLayers:
    """The pair's `ProfitLayers` for this size and preview (built again when either changes)."""
    layers = pair._layers.get(big)
    if layers is None or layers.preview is not pair.preview:
        layers = pair._layers[big] = ProfitLayers(pair, big)
    return layers


def encode(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as it was last drawn, as PNG (fast zlib level: encoding was a third of a
    redraw's cost)."""
    out = io.BytesIO()
    w, h = canvas.get_width_height(physical=True)
    Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        out, format="png", compress_level=1
    )
    return out.getvalue()


def png(pair: LivePair, key: str, big: bool = False) -> bytes:
    """Figure `key` of the pair today as PNG, as the page shows it: the profit figure over its
    preview in layers (`ProfitLayers`), the others drawn whole."""
    if key == "profit" and pair.preview is not None and not pair.preview.failed and pair.arms:
        return profit_layers(pair, big).png(pair)
    canvas = FigureCanvasAgg(FIGURES[key](pair, big))
    canvas.draw()
    return encode(canvas)


PREVIEW_ALPHA, PREVIEW_WIDTH = 0.22, 7  # the preview: a faint, wide track under each live line


def preview_lines(ax, daily: pd.DataFrame, groups: list[str]) -> None:
    """Each arm's cumulative profit over the whole run, from the preview (`lesson.preview`),
    as a faint wide track in the arm's colour, its end value written at its end."""
    col = plots.colours(groups)
    cum = plots.cumulative(daily, "profit")
    for i, g in enumerate(groups):
        d = cum[cum["group"] == g]
        if not len(d):
            continue
        ax.plot(
            d["day"],
            d["cumulative_profit"],
            color=col[g],
            lw=PREVIEW_WIDTH,
            alpha=PREVIEW_ALPHA,
            solid_capstyle="round",
            label="preview: where the run ends (faint)" if i == 0 else None,
        )
        end = d.iloc[-1]
        ax.annotate(
            f"{g.split(' ')[0]} {yuan(float(end['cumulative_profit']))}",
            (float(end["day"]), float(end["cumulative_profit"])),
            xytext=(-6, 6),
            textcoords="offset points",
            ha="right",
            va="bottom",
            color=col[g],
            fontweight="bold",
        )


def figure_funnel(pair: LivePair, big: bool = False):
    daily, _ = frames(pair)
    w, h = HALF[big]
    fig, axes = page_figure(
        (w, h + 0.4), len(pair.arms), sharey=True, left=0.13, wspace=0.06, top=0.84, bottom=0.3
    )
    for i, (ax, arm) in enumerate(zip(axes, pair.arms, strict=True)):
        plots.funnel(ax, daily[daily["job"] == arm.label])
        ax.set_title(arm.name)
        if i:  # one y label for the shared axis
            ax.set_ylabel("")
        if i == 0 and ax.get_legend():  # one legend, under the panels
            h_, l_ = ax.get_legend_handles_labels()
            fig.legend(h_, l_, loc="lower center", ncol=3, fontsize=FONT[big] - 2, frameon=False)
        _drop_legend(ax)
    fig.suptitle(PLOTS["funnel"])
    col = plots.colours([a.name for a in pair.arms])
    for ax, arm in zip(axes, pair.arms, strict=True):  # each panel its own arm's phases
        own = [m for m in marks(pair) if m.group == arm.name and m.kind == "phase"]
        plots.marks(ax, own, col, label=True)
    legible(fig, big)
    return fig


def figure_conversion(pair: LivePair, big: bool = False):
    fig, (ax1, ax2) = page_figure(HALF[big], ncols=2, left=0.1, wspace=0.22, top=0.84, bottom=0.22)
    daily, cohorts = frames(pair)
    col = plots.colours([a.name for a in pair.arms])
    for arm in pair.arms:
        s = arm.conversion()
        ax1.plot(s["join_day"], s["conversion_pct"], color=col[arm.name], lw=1.8, label=arm.name)
    if not any(len(a.conversion().dropna()) for a in pair.arms):
        plots.empty(ax1, f"measured from day {CONVERSION_WINDOW + ROLLING_DAYS}")
    ax1.set_xlim(0, max(pair.day, 7))
    ax1.set_ylim(bottom=0)
    ax1.set_xlabel(f"joining day ({ROLLING_DAYS}-day pooled)")
    ax1.set_ylabel("30-day conversion (%)")
    plots.marks(ax1, marks(pair), col, label=False)
    plots.marks(ax1, crossing_marks(pair), col, label=True)
    if ax1.get_lines():
        ax1.legend(loc="lower left", framealpha=0.8)
    plots.conversion_decay(ax2, cohorts, "pool_size")
    ax2.set_ylabel("")
    ax2.set_xlabel("pool size at joining (users)")
    _drop_legend(ax2)
    fig.suptitle(PLOTS["conversion"])
    legible(fig, big)
    return fig


def _dailypage_figure(pair: LivePair, big: bool, key: str, draw, left: float = 0.12):
    """A half-width figure of one `sim.viz.plots` function over the arms' daily tables, with
    the phase and crossing marks of every time plot."""
    fig, (ax,) = page_figure(HALF[big], left=left, top=0.88)
    draw(ax, frames(pair)[0])
    ax.set_title(PLOTS[key])
    _time_marks(pair, [ax])
    legible(fig, big)
    return fig


def figure_operators(pair: LivePair, big: bool = False):
    return _dailypage_figure(pair, big, "operators", plots.users_per_operator, left=0.14)


def figure_ltv_cac(pair: LivePair, big: bool = False):
    return _dailypage_figure(pair, big, "ltv_cac", plots.ltv_cac_over_time)


def figure_churn(pair: LivePair, big: bool = False):
    return _dailypage_figure(pair, big, "churn", plots.churn)


FIGURES = {
    "profit": figure_profit,
    "funnel": figure_funnel,
    "conversion": figure_conversion,
    "operators": figure_operators,
    "ltv_cac": figure_ltv_cac,
    "churn": figure_churn,
}
