"""Figures of one run, for people who did not write the model: titled, labelled, with legends."""

from __future__ import annotations

import pandas as pd

from sim.core.stage import Stage


def _pyplot():
    """pyplot on the file-only Agg backend, imported on first use (it costs ~0.8 s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def funnel(daily: pd.DataFrame, path, title: str = "") -> None:
    """Users in each stage over time (stacked), churned users as a line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 5))
    live = [s.name.lower() for s in Stage if s is not Stage.CHURNED]
    ax.stackplot(daily["day"], *[daily[s] for s in live], labels=live, alpha=0.85)
    ax.plot(
        daily["day"], daily["churned"], color="black", linestyle="--", label="churned (cumulative)"
    )
    ax.set(xlabel="day", ylabel="users", title=f"Funnel: users by stage over time{title}")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def conversion(cohorts: pd.DataFrame, path, title: str = "") -> None:
    """30-day conversion of each weekly joining cohort against the pool size it joined."""
    c = cohorts.dropna(subset=["conversion_30d"])
    c = c[c["size"] > 0]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 5))
    sc = ax.scatter(
        c["pool_size"],
        100 * c["conversion_30d"],
        c=c["week"],
        cmap="viridis",
        s=12 + 60 * c["size"] / max(1, c["size"].max()),
        label="weekly cohort",
    )
    ax.plot(c["pool_size"], 100 * c["conversion_30d"], color="grey", alpha=0.4, linewidth=1)
    fig.colorbar(sc, ax=ax, label="joining week")
    ax.set(
        xlabel="pool size when the cohort joined (live users)",
        ylabel="30-day conversion (% of cohort first-buying)",
        title=f"Conversion decay: 30-day cohort conversion vs pool size{title}",
    )
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
