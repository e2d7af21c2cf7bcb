"""The image-factor tables of a study (:mod:`biasamp.image_factors` measures the images):
per (dataset, generator, source, factor, group) the mean over images with its Student
t-interval, for the real images and the generated ones, and per group the generated − real
difference of means with its Welch interval. Images are the replicates here: the factors
describe the images, not models, and involve no ratio or seed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from biasamp.atomic import atomic_path
from biasamp.image_factors import FACTORS

# the generated − real difference of a group's means
GAP = "generated - real"
SUMMARY_COLUMNS = ("dataset", "generator", "source", "factor", "group", "n", "mean", "ci_low",
                   "ci_high")


def _groups(frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    from biasamp.evaluate import attribute_values
    from biasamp.metrics import subgroups

    return subgroups(frame, attribute_values(frame))


def mean_row(values: np.ndarray, level: float) -> dict:
    """n, mean and its Student t-interval over ``values`` (NaN interval for fewer than 2)."""
    from biasamp.trends import mean_interval

    mean, half, n = mean_interval(values, level)
    return {"n": n, "mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def difference_row(generated: np.ndarray, real: np.ndarray, level: float) -> dict:
    """Difference of means, generated − real, with its Welch t-interval:
    d ± t(1 − α/2, ν) · √(s_g²/n_g + s_r²/n_r), ν the Welch–Satterthwaite degrees of freedom;
    ``n`` is n_g + n_r. NaN interval where a side has fewer than 2 values; a zero-width
    interval where both sides are constant.

    >>> row = difference_row(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 3.0]), 0.95)
    >>> row["mean"], row["n"], round(row["ci_high"] - row["mean"], 3)  # ν = 3.2, t = 3.07
    (1.0, 6, 3.548)
    """
    from scipy import stats

    g, r = (np.asarray(v, float) for v in (generated, real))
    g, r = g[~np.isnan(g)], r[~np.isnan(r)]
    n = len(g) + len(r)
    if len(g) == 0 or len(r) == 0:
        return {"n": n, "mean": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
    diff = float(g.mean() - r.mean())
    if len(g) < 2 or len(r) < 2:
        return {"n": n, "mean": diff, "ci_low": float("nan"), "ci_high": float("nan")}
    vg, vr = g.var(ddof=1) / len(g), r.var(ddof=1) / len(r)
    se = math.sqrt(vg + vr)
    if se == 0:
        return {"n": n, "mean": diff, "ci_low": diff, "ci_high": diff}
    dof = (vg + vr) ** 2 / (vg**2 / (len(g) - 1) + vr**2 / (len(r) - 1))
    half = float(stats.t.ppf((1 + level) / 2, dof)) * se
    return {"n": n, "mean": diff, "ci_low": diff - half, "ci_high": diff + half}


def summarise(per_image: pd.DataFrame, dataset: str, generator: str,
              level: float = 0.95) -> pd.DataFrame:
    """Rows of ``image_factors.csv`` for one (dataset, generator): per factor and group
    (``""`` all images, else ``attribute:value``), the mean of the real images, of the
    generated ones, and their difference (source :data:`GAP`)."""
    rows = []
    real = per_image["source"].eq("real").to_numpy()
    for group, members in _groups(per_image):
        for factor in FACTORS:
            values = per_image[factor].to_numpy(dtype=float)
            g, r = values[members & ~real], values[members & real]
            for source, row in (("real", mean_row(r, level)), ("generated", mean_row(g, level)),
                                (GAP, difference_row(g, r, level))):
                rows.append({"dataset": dataset, "generator": generator, "source": source,
                             "factor": factor, "group": group, **row})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def summarise_study(blocks: dict[tuple[str, str], list[str]], level: float, out_summary: str,
                    out_images: str) -> pd.DataFrame:
    """The study's image-factor tables from every generator's factor blocks
    (``{(dataset, generator): [paths]}``): the summary (:func:`summarise`) and all images'
    factors in one Parquet file (with dataset and generator columns), for the figures."""
    per_image, summaries = [], []
    for (dataset, generator), paths in sorted(blocks.items()):
        frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
        summaries.append(summarise(frame, dataset, generator, level))
        per_image.append(frame.assign(dataset=dataset, generator=generator))
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame(
        columns=SUMMARY_COLUMNS)
    with atomic_path(out_summary) as tmp:
        summary.to_csv(tmp, index=False)
    images = pd.concat(per_image, ignore_index=True) if per_image else pd.DataFrame()
    with atomic_path(out_images) as tmp:
        images.to_parquet(tmp, index=False)
    return summary


def read_summary(path: str) -> pd.DataFrame:
    """``image_factors.csv``; a missing or corrupt file is an error that names it."""
    from biasamp.inputs import REBUILD, read_csv

    return read_csv(path, "image-factor table", REBUILD,
                    dtype={c: str for c in SUMMARY_COLUMNS[:5]}, keep_default_na=False,
                    na_values={c: ["", "nan", "NaN"] for c in SUMMARY_COLUMNS[5:]})
