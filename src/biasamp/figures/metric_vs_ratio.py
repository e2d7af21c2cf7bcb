"""One figure per metric: its value against the contamination ratio, with the trends table's
verdicts under each panel."""

from __future__ import annotations

import pandas as pd

from biasamp.figures import FIGURES, Style, figure_stem, message_figure

MODEL_STYLES = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-.")]


@FIGURES.register("metric_vs_ratio", outputs=lambda metrics: [
    (figure_stem(m.name), [m.name]) for m in metrics if not m.counter])
def draw(rows: pd.DataFrame, trends: pd.DataFrame, metrics: list[str], interval: float,
         style: Style):
    """A metric against the contamination ratio (the share of training images replaced by
    generated ones). Lines: the mean over seeds, one colour per subgroup (fixed across the
    study's figures) or per generator, one marker and dash per model; band: the Student
    t-interval over seeds at the stated level (seeds are the replicates, so with n seeds it has
    n − 1 degrees of freedom; one seed gives no band); dots: each seed's value. Dashed grey
    lines mark values with a meaning. Under each panel, the lines whose slope over the ratio has
    a verdict (results/trends.csv)."""
    import matplotlib.pyplot as plt

    (metric,) = metrics
    data = rows.dropna(subset=["value"]).copy()
    if data.empty:
        # e.g. MaxSkew when the test split has no gender-neutral caption, or a measure that
        # could not be computed anywhere (NaN): say so, don't fail
        return message_figure(f"no measurements of {metric}")
    data["group"] = data["group"].replace("", "all")
    data["model"] = data["model"].replace("", "(training mix)")
    data["images"] = images_label(data)
    grouped = data["group"].nunique() > 1
    hue = "group" if grouped else "generator"
    if grouped:  # a panel per generator, as each line is a subgroup
        data["images"] = data["images"] + " · " + data["generator"]
    # subgroups ("gender:female") get a panel per attribute, each with the overall line
    attributes = sorted({g.split(":")[0] for g in data["group"] if ":" in g}) or [None]
    panel_rows = sorted(data["images"].unique())
    models = sorted(data["model"].unique())
    n_seeds = data.groupby(["images", "generator", "model", "group", "ratio"])["seed"].nunique()

    figure, grid = plt.subplots(len(panel_rows), len(attributes), squeeze=False, sharey=True,
                                figsize=(3.6 * len(attributes) + 1.6, 3.6 * len(panel_rows)),
                                layout="constrained")
    trends = trends.assign(images=images_label(trends), group=trends["group"].replace("", "all"))
    if grouped:
        trends["images"] = trends["images"] + " · " + trends["generator"]
    handles = {}
    for i, images in enumerate(panel_rows):
        for j, attribute in enumerate(attributes):
            axes = grid[i][j]
            panel = data[data["images"] == images]
            shown = trends[trends["images"] == images]
            if attribute is not None:
                keep = panel["group"].str.startswith(f"{attribute}:") | (panel["group"] == "all")
                panel = panel[keep]
                shown = shown[shown["group"].str.startswith(f"{attribute}:")
                              | (shown["group"] == "all")]
            for (label, model), line in panel.groupby([hue, "model"]):
                marker, dash = MODEL_STYLES[models.index(model) % len(MODEL_STYLES)]
                colour = style.colours.get(label, "C0")
                summary = seed_summary(line, interval / 100)
                axes.plot(summary["ratio"], summary["mean"], marker=marker, linestyle=dash,
                          color=colour, markersize=4)
                band = summary.dropna(subset=["half"])
                axes.fill_between(band["ratio"], band["mean"] - band["half"],
                                  band["mean"] + band["half"], color=colour, alpha=0.15,
                                  linewidth=0)
                axes.scatter(line["ratio"], line["value"], color=colour, s=9, alpha=0.45,
                             marker=marker, linewidths=0)
                handles.setdefault(("colour", label), colour)
                handles.setdefault(("model", model), (marker, dash))
            for value, meaning in style.metrics.get(metric, {}).get("references", []):
                axes.axhline(value, color="0.5", linestyle=(0, (4, 3)), linewidth=0.8)
                axes.annotate(meaning, xy=(1, value), xycoords=("axes fraction", "data"),
                              xytext=(-2, 2), textcoords="offset points", ha="right",
                              va="bottom", fontsize=6.5, color="0.35")
            title = images if attribute is None else f"{images}\nby {attribute}"
            axes.set_title(title, fontsize=9)
            # the verdicts go under the axis label, where the layout makes room for them
            axes.set_xlabel("contamination ratio (share of generated images)\n\n"
                            + verdicts(shown, interval), fontsize=7, loc="left")
            if j == 0:
                axes.set_ylabel(style.axis_label(metric), fontsize=9)
    n = sorted(set(n_seeds))
    seeds = f"n = {n[0]} seeds" if len(n) == 1 else f"n = {n[0]}–{n[-1]} seeds"
    band = f"{interval:g}% t-interval" if n[-1] > 1 else "one seed: no interval"
    figure.suptitle(f"{metric}\nmean over seeds, {band} ({seeds}); dots: each seed",
                    fontsize=10)
    figure.legend(*_legend(handles), loc="outside right upper", fontsize=8, frameon=False)
    return figure


def seed_summary(line: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per ratio of one line: the mean over seeds and the half-width of its t-interval.

    >>> line = pd.DataFrame({"ratio": [0, 0, 0, 1], "seed": [0, 1, 2, 0],
    ...                      "value": [1.0, 2.0, 3.0, 5.0]})
    >>> seed_summary(line, 0.95).round(3).to_dict("list")  # t(.975, 2) = 4.303, sd 1
    {'ratio': [0, 1], 'mean': [2.0, 5.0], 'half': [2.484, nan], 'n': [3, 1]}
    """
    from biasamp.trends import mean_interval

    out = [(ratio, *mean_interval(group["value"], level))
           for ratio, group in line.groupby("ratio", sort=True)]
    return pd.DataFrame(out, columns=["ratio", "mean", "half", "n"])


def _legend(handles: dict):
    from matplotlib.lines import Line2D

    artists, labels = [], []
    for (kind, label), value in handles.items():
        if kind == "colour":
            artists.append(Line2D([], [], color=value, linewidth=2))
        else:
            marker, dash = value
            artists.append(Line2D([], [], color="0.3", marker=marker, linestyle=dash))
        labels.append(label)
    return artists, labels


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
