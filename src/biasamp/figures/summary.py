"""Study-level figures: the study's answer at a glance, and the counters that should be zero."""

from __future__ import annotations

import pandas as pd

from biasamp.figures import FIGURES, Style, message_figure

VERDICT_COLOURS = {"amplified": "#c0392b", "degraded": "#e67e22", "mitigated": "#1f618d",
                   "improved": "#1e8449", "increases": "#7d3c98", "decreases": "#7d3c98",
                   "no evidence": "#a6acaf"}
SIGHT_COLOUR = "#17a589"  # "blind to gender", "gender accuracy falls"
DIRECTION_TITLES = {"bias": "bias measures (right of 0: more biased as the ratio grows)",
                    "quality": "quality measures (right of 0: better as the ratio grows)",
                    "neither": "descriptions (neither better nor worse)"}


def verdict_colour(verdict: str) -> str:
    """The colour of a verdict in the summary.

    >>> verdict_colour("amplified"), verdict_colour("blind to gender")
    ('#c0392b', '#17a589')
    """
    return VERDICT_COLOURS.get(verdict, SIGHT_COLOUR)


def row_labels(trends: pd.DataFrame) -> pd.Series:
    """A trends row as the summary names it: what was measured, on what, for whom; parts that
    are the same on every row (one dataset, one generator) are left out.

    >>> rows = pd.DataFrame({"dataset": ["toy"] * 2, "generator": ["g"] * 2,
    ...     "evalset": ["test"] * 2, "model": ["clip", ""], "metric": ["lic", "mix_gender_bias"],
    ...     "group": ["", "gender:female"]})
    >>> row_labels(rows).tolist()
    ['lic · clip', 'mix_gender_bias · gender:female · training mix']
    """
    parts = [trends["metric"], trends["group"],
             trends["model"].replace("", "training mix")]
    for column in ("evalset", "generator", "dataset"):
        if trends.loc[trends[column] != "", column].nunique() > 1:  # "": a mix's own rows
            parts.append(trends[column])
    frame = pd.concat(parts, axis=1).astype(str)
    return frame.apply(lambda row: " · ".join(v for v in row if v), axis=1)


def linear_range(part: pd.DataFrame) -> float:
    """Where a summary panel's axis turns logarithmic: the 75th percentile of the sizes of its
    slopes and interval ends (at least 1e-3), so most of them lie on the linear part.

    >>> linear_range(pd.DataFrame({"slope": [0.1, -0.2, 7.0], "ci_low": [0.0, -0.3, -3.0],
    ...                            "ci_high": [0.2, -0.1, 17.0]}))
    3.0
    """
    import numpy as np

    values = np.abs(part[["slope", "ci_low", "ci_high"]].to_numpy(float)).ravel()
    values = values[np.isfinite(values)]
    return max(float(np.quantile(values, 0.75)), 1e-3) if len(values) else 1.0


def panel_limit(part: pd.DataFrame) -> float:
    """Half-width of a summary panel's x axis: every slope, and the interval ends up to 1.2 × their
    90th percentile (one wide interval must not flatten the others).

    >>> rows = pd.DataFrame({"slope": [0.1] * 9 + [2.0], "ci_low": [0.0] * 9 + [-1.0],
    ...                      "ci_high": [0.2] * 9 + [50.0]})
    >>> panel_limit(rows)  # 2.2: the largest slope, not the interval up to 50
    2.2
    """
    import numpy as np

    ends = np.abs(part[["ci_low", "ci_high"]].to_numpy(float)).ravel()
    ends = ends[np.isfinite(ends)]
    slopes = np.abs(part["slope"].to_numpy(float))
    limit = max(float(np.quantile(ends, 0.9)) * 1.2 if len(ends) else 0.0,
                float(slopes.max()) * 1.1 if len(slopes) else 0.0)
    return round(limit, 12) or 1.0


@FIGURES.register("summary", category="Summary", outputs=lambda metrics: [
    ("summary", [m.name for m in metrics if not m.counter])])
def draw_summary(rows: pd.DataFrame, trends: pd.DataFrame, metrics: list[str], interval: float,
                 style: Style):
    """The study's answer at a glance: for every measure (metric × subgroup × model), the
    slope of its value over the contamination ratio, i.e. its change from ratio 0 to 1, with
    the confidence interval over seeds (t-interval of the seeds' own slopes), coloured by the
    trends table's verdict (results/trends.csv): red amplified, blue mitigated, green improved,
    orange degraded, grey no evidence (the interval holds 0, or every seed gave the same slope,
    which leaves nothing to judge by), olive where the model does not see the attribute the
    measure rests on. Bias and quality measures are separate panels, each with its own
    scale."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    # overall and per-attribute rows; the subgroups ("gender:female") are in the metric figures
    shown = trends.dropna(subset=["slope"])
    shown = shown[~shown["group"].str.contains(":")].copy()
    if shown.empty:
        return message_figure("no trends: the study needs at least two ratios", (5, 2))
    shown["label"] = row_labels(shown)
    directions = [d for d in DIRECTION_TITLES if (shown["direction"] == d).any()]
    heights = [max(2, int((shown["direction"] == d).sum())) for d in directions]
    figure, panels = plt.subplots(len(directions), 1, squeeze=False, layout="constrained",
                                  figsize=(8, 1.4 + 0.17 * sum(heights) + 0.5 * len(heights)),
                                  gridspec_kw={"height_ratios": heights})
    for axes, direction in zip(panels[:, 0], directions, strict=True):
        part = shown[shown["direction"] == direction].sort_values("label", ascending=False)
        y = range(len(part))
        colours = [verdict_colour(v) for v in part["verdict"]]
        limit = panel_limit(part)
        low, high = part["ci_low"].clip(-limit, limit), part["ci_high"].clip(-limit, limit)
        axes.hlines(y, low, high, colors=colours, linewidth=1.6)
        for end, beyond, marker in ((low, part["ci_low"] < -limit, "<"),
                                    (high, part["ci_high"] > limit, ">")):
            if beyond.any():
                axes.scatter(end[beyond], [v for v, b in zip(y, beyond, strict=True) if b],
                             c=[c for c, b in zip(colours, beyond, strict=True) if b],
                             marker=marker, s=18)
        axes.scatter(part["slope"], y, c=colours, s=14, zorder=3)
        axes.set_xlim(-limit * 1.05, limit * 1.05)
        # linear near 0, logarithmic beyond: measures on different scales (LIC in points,
        # shares in [0, 1]) stay readable in one panel
        axes.set_xscale("symlog", linthresh=linear_range(part))
        axes.axvline(0, color="0.4", linewidth=0.8)
        axes.set_yticks(list(y), part["label"], fontsize=6.5)
        axes.set_title(DIRECTION_TITLES[direction], fontsize=9, loc="left")
        axes.tick_params(axis="x", labelsize=7)
        axes.grid(axis="x", color="0.9")
    panels[-1, 0].set_xlabel(f"slope over the contamination ratio (change from ratio 0 to 1), "
                             f"{interval:g}% CI over seeds", fontsize=8)
    verdicts = sorted(set(shown["verdict"]), key=lambda v: (v not in VERDICT_COLOURS, v))

    figure.legend([Line2D([], [], color=verdict_colour(v), marker="o", linewidth=1.6)
                   for v in verdicts], verdicts, loc="outside lower center", fontsize=7,
                  frameon=False, ncols=min(4, len(verdicts)))
    n = sorted(set(shown["n_seeds"].dropna().astype(int)))
    seeds = f"{', '.join(map(str, n))} seed{'' if n == [1] else 's'}"
    figure.suptitle(f"How each measure moves as generated images replace real ones ({seeds})",
                    fontsize=10, x=0.01, ha="left")
    return figure


@FIGURES.register("counters", category="Data", outputs=lambda metrics: [
    ("counters", names)] if (names := [m.name for m in metrics if m.counter]) else [])
def draw_counters(rows: pd.DataFrame, trends: pd.DataFrame, metrics: list[str],
                  interval: float, style: Style):
    """Counts of events that should not happen, as a table rather than figures of flat lines:
    images skipped as unreadable when the dataset was prepared (data_bad_images_skipped) and
    generated images a safety checker withheld that a mix would have used
    (mix_flagged_excluded), with their total over the study, the largest single value and
    where they are not zero."""
    import matplotlib.pyplot as plt

    cells = []
    for metric in metrics:
        values = rows[rows["metric"] == metric].dropna(subset=["value"])
        nonzero = values[values["value"] != 0]
        where = "nowhere" if nonzero.empty else "; ".join(
            f"{r.generator} ratio {r.ratio:g} seed {r.seed}" for r in nonzero.head(3).itertuples()
        ) + (f" and {len(nonzero) - 3} more" if len(nonzero) > 3 else "")
        cells.append([metric, f"{values['value'].sum():g}" if len(values) else "not measured",
                      f"{values['value'].max():g}" if len(values) else "", where])
    figure, axes = plt.subplots(figsize=(8, 0.6 + 0.35 * len(cells)))
    axes.set_axis_off()
    table = axes.table(cellText=cells, colLabels=["counter", "total", "largest", "not zero in"],
                       loc="center", cellLoc="left", colWidths=[0.3, 0.12, 0.12, 0.46])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    axes.set_title("counters (0 everywhere is what a clean study shows)", fontsize=9)
    return figure
