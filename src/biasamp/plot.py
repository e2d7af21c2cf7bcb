"""The plot stage: the files of every registered figure (:mod:`biasamp.figures`)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def plot_all(metrics_csv: str, trends_csv: str, plan: list, outputs: list[str],
             interval: float, metric_info: dict | None = None) -> None:
    """Draw each ``(figure, stem, metrics)`` of ``plan`` from the rows of those metrics in the
    metrics and trends tables, and write it to every output with that stem (one per format).
    ``metric_info``: each metric's direction and reference values (:class:`Style`)."""
    import matplotlib

    matplotlib.use("Agg")  # figures are files; no display on cluster nodes
    import matplotlib.pyplot as plt

    from biasamp import tables
    from biasamp.figures import FIGURES, Style, study_colours
    from biasamp.trends import read_trends

    table, trends = tables.read(metrics_csv), read_trends(trends_csv)
    labels = [*table["group"].replace("", "all"), *table["generator"]]
    style = Style(study_colours(labels), metric_info or {})
    for name, stem, metrics in plan:
        figure = FIGURES.get(name).draw(table[table["metric"].isin(metrics)],
                                        trends[trends["metric"].isin(metrics)],
                                        list(metrics), interval, style)
        for out in (o for o in outputs if Path(o).stem == stem):
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(out, bbox_inches="tight", dpi=150, metadata=figure_metadata(out))
            log.info("wrote %s", out)
        plt.close(figure)


def figure_metadata(path: str) -> dict:
    # fixed metadata so that identical data give byte-identical PDF/PNG files
    suffix = Path(path).suffix
    if suffix == ".pdf":
        return {"CreationDate": None, "Producer": "biasamp"}
    if suffix == ".svg":
        return {"Date": None}
    return {"Software": "biasamp"}
