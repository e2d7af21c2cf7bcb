"""The study's answer table: how each measurement moves with the contamination ratio.

For every (dataset, generator, round, model, evalset, metric, group) of the metrics table (a
study with feedback rounds has a trend over the ratio per round):

- ``slope``: the least-squares slope of value against ratio over all (ratio, seed) points;
- ``ci_low``, ``ci_high``: its confidence interval. Seeds are the replicates: the mixes of one
  seed share its permutation, so the points of one seed are not independent. Each seed's own
  least-squares slope is one replicate, and the interval is the Student t-interval of their mean,
  slope ± t(1 − α/2, k − 1) · sd(seed slopes) / √k over k seeds (``interval = seeds``); with a
  balanced design the pooled slope is that mean. A study of one seed has no replicate: the
  interval is then the ordinary least-squares one over its points, t(1 − α/2, n − 2) · SE
  (``interval = points``), which assumes independent points and is narrower than it should be.
  Where every seed has the same slope, the interval has zero width and says only that the
  seeds do not vary the measure (``interval = identical seeds``): a design quantity
  (``mix_generated_share`` under ``replace`` mixing), or a measure of the mixes over ratios 0
  and 1 alone, or 0, 0.5 and 1, whose mixes at 0 and 1 are the same for every seed and whose
  midpoint has no weight in a slope. The seeds are then no replicates of it, so a bias or
  quality measure gets no verdict from it (``no evidence``; :func:`write_trends` warns where
  that withholds one);
- ``verdict``, from the metric's direction (:class:`biasamp.metrics.Direction`) and the sign of
  the interval: a bias metric is ``amplified`` (interval above 0) or ``mitigated`` (below), a
  quality metric ``improved`` or ``degraded``, any other ``increases`` or ``decreases``; an
  interval that holds 0 (or cannot be computed, or comes from identical seeds for a bias or
  quality measure) is ``no evidence``;
- ``prediction_accuracy``: for a measure that rests on a model's predictions of an attribute
  (``Metric.rests_on``: the amplification measures), the model's ``prediction_accuracy`` on it
  at the ratio where it is lowest (mean over seeds at each ratio). A model below
  :data:`BLIND_BELOW` (0.5 is chance for two genders) at the lowest ratio never sees the
  attribute, and its measure says nothing about its bias: the verdict is ``blind to gender``.
  A model that sees it at first but less and less well as the ratio grows (its accuracy's own
  interval below 0, or below :data:`BLIND_BELOW` at some ratio) drifts toward the value of a
  blind model (``Metric.blind_value``; where it is None, below any seeing model's: a blind
  predictor's BiasAmp is negative). A verdict in that direction is then no evidence of a
  change in bias and reads ``gender accuracy falls``, unless the measure ended beyond the
  blind value (a blind model cannot get there); a verdict the other way stands, as the measure
  moved against the drift.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from biasamp.atomic import atomic_path
from biasamp.metrics import Direction

log = logging.getLogger(__name__)

KEYS = ("dataset", "generator", "round", "model", "evalset", "metric", "group")
COLUMNS = (*KEYS, "direction", "slope", "ci_low", "ci_high", "n_points", "n_seeds", "interval",
           "prediction_accuracy", "verdict")
# seed slopes this close (relative to the largest) are the same slope: rounding apart, the
# seeds did not vary the measure
IDENTICAL = 1e-9
IDENTICAL_SEEDS = "identical seeds"
BLIND_BELOW = 0.6  # prediction accuracy of an attribute under which a model is blind to it
VERDICTS = {Direction.BIAS: ("amplified", "mitigated"),
            Direction.QUALITY: ("improved", "degraded"),
            Direction.NEITHER: ("increases", "decreases")}


def least_squares_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The slope of the least-squares line through ``(x, y)``; NaN without two distinct x.

    >>> least_squares_slope(np.array([0, 0.5, 1]), np.array([1.0, 2.0, 3.0]))
    2.0
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2:
        return float("nan")
    sxx = float(((x - x.mean()) ** 2).sum())
    if sxx == 0:
        return float("nan")
    if np.ptp(y) == 0:
        return 0.0  # a flat measure, exactly (uneven grids would leave a rounding slope)
    return float(((x - x.mean()) * (y - y.mean())).sum() / sxx)


def mean_interval(values, level: float = 0.95) -> tuple[float, float, int]:
    """Mean of ``values`` (one per seed: the replicates), the half-width of its Student
    t-interval, t(1 − α/2, n − 1) · sd / √n, and n (NaNs left out). With one value the
    half-width is NaN: one seed gives no interval.

    >>> mean, half, n = mean_interval([1.0, 2.0, 3.0])  # sd 1, t(.975, 2) = 4.303
    >>> mean, round(half, 3), n
    (2.0, 2.484, 3)
    """
    from scipy import stats

    x = np.asarray(values, float)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return (float(x.mean()) if len(x) else float("nan")), float("nan"), len(x)
    half = stats.t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(half), len(x)


def slope_interval(ratio, value, seed, level: float = 0.95) -> dict:
    """Slope of ``value`` on ``ratio`` with its ``level`` confidence interval (see the module).

    >>> row = slope_interval([0, 1, 0, 1], [0.0, 1.0, 0.0, 3.0], [0, 0, 1, 1])
    >>> row["slope"], row["interval"], round(row["ci_high"] - row["slope"], 3)  # t(.975,1)=12.706
    (2.0, 'seeds', 12.706)
    """
    from scipy import stats

    frame = pd.DataFrame({"ratio": ratio, "value": value, "seed": seed}).dropna()
    slope = least_squares_slope(frame["ratio"], frame["value"])
    per_seed = [least_squares_slope(g["ratio"], g["value"]) for _, g in frame.groupby("seed")]
    per_seed = [s for s in per_seed if not math.isnan(s)]
    half, interval = float("nan"), "seeds"
    if len(per_seed) >= 2:
        if np.ptp(per_seed) <= IDENTICAL * max(np.abs(per_seed)):
            interval = IDENTICAL_SEEDS
        spread = float(np.std(per_seed, ddof=1)) / math.sqrt(len(per_seed))
        half = float(stats.t.ppf(1 - (1 - level) / 2, len(per_seed) - 1)) * spread
    elif len(frame) > 2 and not math.isnan(slope):
        interval = "points"
        fit = stats.linregress(frame["ratio"], frame["value"])
        half = float(stats.t.ppf(1 - (1 - level) / 2, len(frame) - 2)) * float(fit.stderr)
    return {"slope": slope, "ci_low": slope - half, "ci_high": slope + half,
            "n_points": len(frame), "n_seeds": int(frame["seed"].nunique()),
            "interval": interval}


def verdict(direction: Direction, low: float, high: float) -> str:
    """``amplified``/``mitigated`` (bias), ``improved``/``degraded`` (quality),
    ``increases``/``decreases`` (other), or ``no evidence`` when the interval holds 0.

    >>> verdict(Direction.BIAS, 0.1, 0.3), verdict(Direction.QUALITY, -0.2, -0.1)
    ('amplified', 'degraded')
    >>> verdict(Direction.BIAS, -0.1, 0.3), verdict(Direction.BIAS, float("nan"), float("nan"))
    ('no evidence', 'no evidence')
    """
    up, down = VERDICTS[Direction(direction)]
    if low > 0:
        return up
    if high < 0:
        return down
    return "no evidence"


def trends(table: pd.DataFrame, directions: dict[str, Direction], level: float = 0.95,
           rests_on: dict[str, str] | None = None,
           blind_values: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per (dataset, generator, round, model, evalset, metric, group) of a metrics table;
    ``rests_on``: metric -> the attribute whose predictions it rests on; ``blind_values``:
    metric -> its value for a model blind to that attribute (module docstring)."""
    rests_on, blind_values = rests_on or {}, blind_values or {}
    accuracy = table[table["metric"] == "prediction_accuracy"]
    facets = ["dataset", "generator", "round", "model", "evalset", "group"]
    rows = []
    for key, points in table.groupby(list(KEYS), sort=True, dropna=False):
        record = dict(zip(KEYS, key, strict=True))
        direction = Direction(directions.get(record["metric"], Direction.NEITHER))
        fit = slope_interval(points["ratio"], points["value"], points["seed"], level)
        call = verdict(direction, fit["ci_low"], fit["ci_high"])
        if fit["interval"] == IDENTICAL_SEEDS and direction is not Direction.NEITHER:
            call = "no evidence"  # seeds that do not vary a measure cannot judge it
        attribute = rests_on.get(record["metric"])
        seen = float("nan")
        if attribute:
            sight = accuracy[(accuracy[facets] == [*(record[f] for f in facets[:-1]),
                                                   attribute]).all(axis=1)]
            curve = sight.groupby("ratio")["value"].mean()  # mean over seeds per ratio
            seen = float(curve.min()) if len(curve) else float("nan")
            call = judged_against_sight(call, attribute, curve, sight, points, fit,
                                        blind_values.get(record["metric"]), level)
        rows.append({**record, "direction": direction.value, **fit,
                     "prediction_accuracy": seen, "verdict": call})
    return pd.DataFrame(rows, columns=COLUMNS)


def judged_against_sight(call: str, attribute: str, curve: pd.Series, sight: pd.DataFrame,
                         points: pd.DataFrame, fit: dict, blind: float | None,
                         level: float) -> str:
    """A verdict on a measure resting on predictions of ``attribute``, given the model's
    accuracy on it (``curve``: mean per ratio; ``sight``: its points) and the measure's value
    for a blind model (``blind``; None: below any seeing model's). See the module docstring."""
    if not len(curve) or curve.isna().all():
        return call
    if curve.sort_index().iloc[0] < BLIND_BELOW:
        return f"blind to {attribute}"
    # an accuracy that every seed sees fall alike (zero-width interval) is read as falling:
    # reading it so withholds a verdict on the bias, never makes one
    drift = slope_interval(sight["ratio"], sight["value"], sight["seed"], level)
    if not (drift["ci_high"] < 0 or curve.min() < BLIND_BELOW) or call == "no evidence":
        return call
    means = points.groupby("ratio")["value"].mean().sort_index()
    if blind is None:  # the blind value lies below: only a falling measure is drift
        toward = fit["slope"] < 0
    else:
        start, end = means.iloc[0] - blind, means.iloc[-1] - blind
        toward = fit["slope"] * start < 0 and start * end > 0  # moving to it, not past it
    return f"{attribute} accuracy falls" if toward else call


def write_trends(metrics_csv: str, directions: dict[str, str], level_percent: float,
                 out_csv: str, rests_on: dict[str, str] | None = None,
                 blind_values: dict[str, float] | None = None) -> pd.DataFrame:
    """``results/trends.csv`` from ``results/metrics.csv``."""
    from biasamp import tables

    frame = trends(tables.read(metrics_csv), directions, level_percent / 100, rests_on,
                   blind_values)
    with atomic_path(out_csv) as tmp:
        frame.to_csv(tmp, index=False)
    withheld = frame[(frame["interval"] == IDENTICAL_SEEDS) & (frame["slope"] != 0)
                     & (frame["direction"] != Direction.NEITHER.value)
                     & (frame["verdict"] == "no evidence")]
    if len(withheld):
        log.warning(
            "%d trends get no verdict: every seed gave them the same slope, so the seeds are no "
            "replicates of them (with ratios 0 and 1 alone, or 0, 0.5 and 1, "
            "a measure of the mixes does not depend on the seed); give the study ratios "
            "strictly between 0 and 1 other than 0.5 (the default study has 0.25 and 0.75):\n%s",
            len(withheld), withheld[["generator", "model", "evalset", "metric", "group",
                                     "slope"]].to_string(index=False))
    decided = frame[frame["verdict"] != "no evidence"]
    log.info("%d trends, %d with a verdict other than 'no evidence':\n%s", len(frame),
             len(decided), decided.loc[decided["group"] == "", ["model", "evalset", "metric",
                                                                 "slope", "verdict"]]
             .to_string(index=False))
    return frame


def read_trends(path) -> pd.DataFrame:
    """A trends table as :func:`write_trends` wrote it (empty groups stay empty strings)."""
    from biasamp.inputs import REBUILD, InputFileError, read_csv

    numbers = ("slope", "ci_low", "ci_high", "prediction_accuracy")
    frame = read_csv(path, "trends table", REBUILD, keep_default_na=False,
                     na_values={c: ["", "nan", "NaN"] for c in numbers},
                     dtype={**{k: str for k in KEYS}, "round": int,
                            **{c: float for c in numbers}})
    if tuple(frame.columns) != COLUMNS:
        raise InputFileError(f"{path}: a trends table has the columns {list(COLUMNS)}, this "
                             f"one {list(frame.columns)}; {REBUILD}")
    return frame


def describe(row) -> str:
    """One trend in words, as figures print it.

    >>> describe({"verdict": "amplified", "slope": 0.1234, "ci_low": 0.05, "ci_high": 0.2,
    ...           "n_seeds": 3})
    'amplified: slope +0.123 [+0.05, +0.2], 3 seeds'
    """
    return (f"{row['verdict']}: slope {row['slope']:+.3g} [{row['ci_low']:+.3g}, "
            f"{row['ci_high']:+.3g}], {int(row['n_seeds'])} seed"
            f"{'' if int(row['n_seeds']) == 1 else 's'}")

