"""The plot stage: every metric against the contamination ratio, mean and CI over seeds."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)


def figure_stem(metric: str) -> str:
    """File name (without extension) of a metric's figure.

    >>> figure_stem("recall@10")
    'recall_at_10'
    """
    return metric.replace("@", "_at_")


def plot_metric(table: pd.DataFrame, metric: str, interval: float):
    """One figure: value vs ratio; hue = subgroup (per generator panel) or generator."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = table[table["metric"] == metric].copy()
    if data.empty:
        # e.g. MaxSkew when the test split has no gender-neutral caption: say so, don't fail
        figure, axes = plt.subplots(figsize=(4, 3))
        axes.text(0.5, 0.5, f"no measurements of {metric}", ha="center", va="center")
        axes.set_axis_off()
        return figure
    data["group"] = data["group"].replace("", "all")
    data["model"] = data["model"].replace("", "(training mix)")
    # one row of panels per dataset and evaluation set
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


def plot_all(metrics_csv: str, metrics: list[str], outputs: list[str], interval: float) -> None:
    """Write the figure of each metric to every output whose stem names that metric."""
    import matplotlib

    matplotlib.use("Agg")  # figures are files; no display on cluster nodes
    import matplotlib.pyplot as plt

    from biasamp import tables

    table = tables.read(metrics_csv)
    for metric in metrics:
        figure = plot_metric(table, metric, interval)
        for out in (o for o in outputs if Path(o).stem == figure_stem(metric)):
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(out, bbox_inches="tight", dpi=150, metadata=_metadata(out))
            log.info("wrote %s", out)
        plt.close(figure)


def _metadata(path: str) -> dict:
    # fixed metadata so that identical data give byte-identical PDF/PNG files
    suffix = Path(path).suffix
    if suffix == ".pdf":
        return {"CreationDate": None, "Producer": "biasamp"}
    if suffix == ".svg":
        return {"Date": None}
    return {"Software": "biasamp"}
