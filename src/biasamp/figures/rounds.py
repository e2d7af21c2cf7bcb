"""Feedback rounds: how each measure moves from round to round, per contamination ratio."""

from __future__ import annotations

import pandas as pd

from biasamp.figures import FIGURES, Style, message_figure
from biasamp.figures.metric_vs_ratio import MODEL_STYLES


@FIGURES.register("metric_vs_round", category="Feedback rounds", rounds=True, outputs=lambda
                  metrics: [("rounds", [m.name for m in metrics if not m.counter])])
def draw_rounds(rows: pd.DataFrame, trends: pd.DataFrame, metrics: list[str], interval: float,
                style: Style):
    """Every bias and quality measure against the feedback round (round r's generator
    adapted to round r−1's training mix of the same ratio and seed), on the dataset's own test
    split (models) and on the training mixes: one panel per measure (overall, or over an
    attribute), dataset and generator, one line per contamination ratio (darker: larger) and model
    (marker and dash), the mean over seeds with its Student t-interval at the stated level as a
    band. Ratio 0 holds no generated image and is the same in every round. A line that climbs
    with the round at a fixed ratio is bias (or quality) compounding through the loop; the
    trends table gives each round's slope over the ratio."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from biasamp.figures.metric_vs_ratio import seed_summary

    # overall and attribute-wide values (a bias measure over gender), not each subgroup's
    data = rows[~rows["group"].str.contains(":") & rows["evalset"].isin(["test", ""])
                & (rows["ratio"] > 0)].dropna(subset=["value"])
    if data.empty:
        return message_figure("no measurements of generated-data mixes over rounds")
    data = data.assign(model=data["model"].replace("", "(training mix)"))
    measures = [m for m in metrics if m in set(data["metric"])
                and style.metrics.get(m, {}).get("direction") in ("bias", "quality")]
    if not measures:
        return message_figure("no bias or quality measure over rounds")
    panels = [(metric, group, dataset, generator) for metric in measures
              for group in sorted(data.loc[data["metric"] == metric, "group"].unique())
              for dataset, generator in sorted(set(zip(data["dataset"], data["generator"],
                                                       strict=True)))]
    ratios = sorted(data["ratio"].unique())
    shades = dict(zip(ratios, sns.color_palette("rocket_r", len(ratios) + 1)[1:], strict=True))
    models = sorted(data["model"].unique())
    columns = min(4, len(panels))
    grid_rows = -(-len(panels) // columns)
    figure, grid = plt.subplots(grid_rows, columns, squeeze=False,
                                figsize=(3.4 * columns + 1.6, 2.9 * grid_rows),
                                layout="constrained")
    for axes in grid.flat[len(panels):]:
        axes.set_visible(False)
    several = data["dataset"].nunique() > 1
    for axes, (metric, group, dataset, generator) in zip(grid.flat, panels, strict=False):
        part = data[(data["metric"] == metric) & (data["group"] == group)
                    & (data["dataset"] == dataset) & (data["generator"] == generator)]
        for (model, ratio), line in part.groupby(["model", "ratio"], sort=True):
            marker, dash = MODEL_STYLES[models.index(model) % len(MODEL_STYLES)]
            summary = seed_summary(line.rename(columns={"ratio": "x", "round": "ratio"}),
                                   interval / 100)
            axes.plot(summary["ratio"], summary["mean"], marker=marker, linestyle=dash,
                      color=shades[ratio], markersize=4, label=f"{model} · ratio {ratio:g}")
            band = summary.dropna(subset=["half"])
            axes.fill_between(band["ratio"], band["mean"] - band["half"],
                              band["mean"] + band["half"], color=shades[ratio], alpha=0.15,
                              linewidth=0)
        where = f"{dataset} · {generator}" if several else generator
        axes.set_title(" · ".join(filter(None, (metric, group))) + f"\n{where}", fontsize=8)
        axes.set_xlabel("feedback round", fontsize=8)
        axes.set_xticks(sorted(part["round"].unique()))
        axes.tick_params(labelsize=7)
    legend = {}
    for axes in grid.flat[:len(panels)]:
        for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    figure.legend(list(legend.values()), list(legend), loc="outside right upper", fontsize=7,
                  frameon=False)
    figure.suptitle(f"measures over feedback rounds: mean over seeds, {interval:g}% t-interval",
                    fontsize=10)
    return figure
