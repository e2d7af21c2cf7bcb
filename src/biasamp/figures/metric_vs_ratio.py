"""One figure per metric: its value against the contamination ratio, mean and CI over seeds."""

from __future__ import annotations

import pandas as pd

from biasamp.figures import FIGURES, figure_stem


@FIGURES.register("metric_vs_ratio",
                  outputs=lambda metrics: [(figure_stem(m.name), [m.name]) for m in metrics])
def draw(rows: pd.DataFrame, metrics: list[str], interval: float):
    """Value vs ratio; hue = subgroup (a panel per generator) or generator; a row of panels per
    dataset and evaluation set."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    (metric,) = metrics
    data = rows.dropna(subset=["value"]).copy()
    if data.empty:
        # e.g. MaxSkew when the test split has no gender-neutral caption, or a measure that
        # could not be computed anywhere (NaN): say so, don't fail
        figure, axes = plt.subplots(figsize=(4, 3))
        axes.text(0.5, 0.5, f"no measurements of {metric}", ha="center", va="center")
        axes.set_axis_off()
        return figure
    data["group"] = data["group"].replace("", "all")
    data["model"] = data["model"].replace("", "(training mix)")
    data["images"] = data["dataset"] + data["evalset"].map(lambda e: f" · {e}" if e else "")
    grouped = data["group"].nunique() > 1
    grid = sns.relplot(
        data=data, kind="line", x="ratio", y="value", marker="o",
        hue="group" if grouped else "generator",
        style="model" if data["model"].nunique() > 1 else None,
        col="generator" if grouped else None,
        row="images" if data["images"].nunique() > 1 else None,
        errorbar=("ci", interval), seed=0, height=3.2, aspect=1.25,
        facet_kws={"sharey": True},
    )
    grid.set_axis_labels("contamination ratio (share of generated images)", metric)
    grid.figure.suptitle(f"{metric}: mean and {interval:g}% CI over seeds", y=1.02)
    return grid.figure
