"""The plot stage: the files of every registered figure (:mod:`biasamp.figures`)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def plot_all(metrics_csv: str, trends_csv: str, plan: list, outputs: list[str],
             interval: float, metric_info: dict | None = None,
             factors: tuple[str, str] | None = None, processes: int = 1) -> None:
    """Draw each ``(figure, stem, metrics)`` of ``plan`` from the rows of those metrics in the
    metrics and trends tables, and write it to every output with that stem (one per format).
    ``metric_info``: each metric's direction and reference values (:class:`Style`);
    ``factors``: the image-factor tables (per image, summary), for the figures that read them;
    ``processes``: worker processes that draw the figures between them (each figure is drawn
    from the whole tables, so the files do not depend on it).
    """
    processes = max(1, min(processes, len(plan)))
    if processes == 1:
        _draw(metrics_csv, trends_csv, plan, outputs, interval, metric_info, factors)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from biasamp import joblog

    # "spawn": forking a process that may hold threads (Snakemake's) is unsafe; the workers
    # write to the job's log, and the libraries they load count as the job's
    log_path = str(joblog.LOG_PATH) if joblog.LOG_PATH else None
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                             initializer=joblog.join, initargs=(log_path,)) as pool:
        shares = [pool.submit(_draw, metrics_csv, trends_csv, plan[i::processes], outputs,
                              interval, metric_info, factors) for i in range(processes)]
        for share in shares:
            joblog.WORKERS_LOADED.update(share.result())


def _draw(metrics_csv: str, trends_csv: str, plan: list, outputs: list[str], interval: float,
          metric_info: dict | None, factors: tuple[str, str] | None) -> set[str]:
    """:func:`plot_all` in this process; the heavy libraries it loaded."""
    import matplotlib

    matplotlib.use("Agg")  # figures are files; no display on cluster nodes
    import matplotlib.pyplot as plt
    import pandas as pd

    from biasamp import tables
    from biasamp.factor_tables import read_summary
    from biasamp.figures import FIGURES, Style, figure_metadata, study_colours
    from biasamp.trends import read_trends

    table, trends = tables.read(metrics_csv), read_trends(trends_csv)
    drawn = {False: (with_rounds(table), with_rounds(trends)), True: (table, trends)}
    images, summary = (None, None) if factors is None else (
        pd.read_parquet(factors[0]), read_summary(factors[1]))
    labels = [*table["group"].replace("", "all"), *drawn[False][0]["generator"]]
    style = Style(study_colours(labels), metric_info or {})
    for name, stem, metrics in plan:
        entry = FIGURES.get(name)
        if entry.table == "image_factors":
            if images is None:
                raise ValueError(f"figure {name} draws the image factors; give plot_all them")
            figure = entry.draw(images, summary, list(metrics), interval, style)
        else:
            rows, lines = drawn[entry.rounds]
            figure = entry.draw(rows[rows["metric"].isin(metrics)],
                                lines[lines["metric"].isin(metrics)],
                                list(metrics), interval, style)
        for out in (o for o in outputs if Path(o).stem == stem):
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(out, bbox_inches="tight", dpi=150, metadata=figure_metadata(out))
            log.info("wrote %s", out)
        plt.close(figure)
    from biasamp.joblog import heavy_loaded

    return heavy_loaded()


def with_rounds(frame):
    """A table whose feedback rounds the figures tell apart: with more than one round, each
    later round's rows are drawn as a generator of their own, ``generator · round r`` (a line
    per round in the figures over the ratio); a study without rounds is drawn as it is.

    >>> import pandas as pd
    >>> with_rounds(pd.DataFrame({"generator": ["g", "g", ""], "round": [1, 2, 2]}))[
    ...     "generator"].tolist()
    ['g', 'g · round 2', '']
    """
    if frame["round"].nunique() < 2:
        return frame
    later = (frame["round"] > 1) & (frame["generator"] != "")
    generator = frame["generator"].where(~later, frame["generator"] + " · round "
                                         + frame["round"].astype(str))
    return frame.assign(generator=generator)
