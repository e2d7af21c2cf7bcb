"""One figure per metric: its value against the contamination ratio, mean and CI over seeds,
with the trends table's verdicts under each panel."""

from __future__ import annotations

import pandas as pd

from biasamp.figures import FIGURES, figure_stem


@FIGURES.register("metric_vs_ratio",
                  outputs=lambda metrics: [(figure_stem(m.name), [m.name]) for m in metrics])
def draw(rows: pd.DataFrame, trends: pd.DataFrame, metrics: list[str], interval: float):
    """Value vs ratio; hue = subgroup (a panel per generator) or generator; a row of panels per
    dataset and evaluation set. Under each panel, the verdicts of its lines (:func:`verdicts`).
    """
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
    data["images"] = images_label(data)
    grouped = data["group"].nunique() > 1
    facets = {"row": "images" if data["images"].nunique() > 1 else None,
              "col": "generator" if grouped else None}
    grid = sns.relplot(
        data=data, kind="line", x="ratio", y="value", marker="o",
        hue="group" if grouped else "generator",
        style="model" if data["model"].nunique() > 1 else None,
        **facets, errorbar=("ci", interval), seed=0, height=3.2, aspect=1.25,
        facet_kws={"sharey": True},
    )
    grid.set_axis_labels("contamination ratio (share of generated images)", metric)
    grid.figure.suptitle(f"{metric}: mean and {interval:g}% CI over seeds", y=1.02)
    trends = trends.assign(images=images_label(trends),
                           group=trends["group"].replace("", "all"))
    faceted = [f for f in (facets["row"], facets["col"]) if f]
    lines = 0
    for facet, axes in (grid.axes_dict.items() if faceted else [((), grid.ax)]):
        shown = trends
        values = facet if len(faceted) != 1 else (facet,)  # a tuple with two facets
        for name, value in zip(faceted, values, strict=True):
            shown = shown[shown[name] == value]
        text = verdicts(shown, interval)
        lines = max(lines, text.count("\n") + 1)
        axes.annotate(text, xy=(0, -0.3), xycoords="axes fraction", va="top", fontsize=7,
                      family="monospace")
    if facets["row"]:  # room for each panel's verdicts above the next row
        grid.figure.subplots_adjust(hspace=0.5 + 0.04 * lines)
    return grid.figure


def images_label(frame: pd.DataFrame) -> pd.Series:
    """What a row's model was evaluated on, as panels name it: "dataset · evalset"."""
    return frame["dataset"] + frame["evalset"].map(lambda e: f" · {e}" if e else "")


def verdicts(trends: pd.DataFrame, interval: float = 95, most: int = 8) -> str:
    """The lines of a panel that have a verdict other than ``no evidence``, one per line with its
    slope and interval (:func:`biasamp.trends.describe`), and how many have none.

    >>> rows = pd.DataFrame({"generator": ["g", "g"], "model": ["clip", "coca"],
    ...     "group": ["all", "gender"], "verdict": ["no evidence", "amplified"],
    ...     "slope": [0.01, 0.2], "ci_low": [-0.1, 0.1], "ci_high": [0.12, 0.3], "n_seeds": 3})
    >>> print(verdicts(rows))
    trend over the ratio (slope, 95% CI):
    g · coca · gender: amplified: slope +0.2 [+0.1, +0.3], 3 seeds
    1 line: no evidence
    """
    from biasamp.trends import describe

    if trends.empty:
        return "trend over the ratio: not computed"
    decided = trends[trends["verdict"] != "no evidence"]
    lines = [f"trend over the ratio (slope, {interval:g}% CI):"]
    for _, row in decided.head(most).iterrows():
        who = " · ".join(v for v in (row["generator"], row["model"] or "training mix",
                                      row["group"]) if v)
        lines.append(f"{who}: {describe(row)}")
    if len(decided) > most:
        lines.append(f"... and {len(decided) - most} more (results/trends.csv)")
    undecided = len(trends) - len(decided)
    if undecided:
        lines.append(f"{undecided} line{'' if undecided == 1 else 's'}: no evidence")
    return "\n".join(lines)
