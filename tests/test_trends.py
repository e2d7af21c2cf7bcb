"""The trends table: slopes over the ratio, t-intervals over seeds, verdicts by direction."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from biasamp.metrics import Direction
from biasamp.trends import least_squares_slope, slope_interval, trends

RATIOS = [0, 0.5, 1]


def test_seeds_are_the_replicates_hand_computed():
    # seed 0: 0, .1, .2 (slope .2); seed 1: 0, .2, .4 (slope .4); seed 2: .1, .2, .3 (.2)
    values = [0, 0.1, 0.2, 0, 0.2, 0.4, 0.1, 0.2, 0.3]
    row = slope_interval(RATIOS * 3, values, [0] * 3 + [1] * 3 + [2] * 3)
    assert row["slope"] == pytest.approx(0.8 / 3)  # pooled = mean of the seed slopes
    # sd(.2, .4, .2) = .11547, / sqrt 3 = .066667; t(.975, 2) = 4.302653
    half = 4.302653 * (0.2 / math.sqrt(3)) / math.sqrt(3)
    assert row["ci_low"] == pytest.approx(0.8 / 3 - half, abs=1e-6)
    assert row["ci_high"] == pytest.approx(0.8 / 3 + half, abs=1e-6)
    assert (row["n_points"], row["n_seeds"], row["interval"]) == (9, 3, "seeds")


def test_one_seed_falls_back_to_the_least_squares_interval():
    x, y = np.array([0, 0.25, 0.5, 0.75, 1]), np.array([0.1, 0.3, 0.2, 0.5, 0.6])
    row = slope_interval(x, y, [0] * 5, level=0.9)
    fit = stats.linregress(x, y)  # the reference implementation
    assert row["slope"] == pytest.approx(fit.slope) == pytest.approx(least_squares_slope(x, y))
    half = stats.t.ppf(0.95, 3) * fit.stderr
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((fit.slope - half, fit.slope + half))
    assert row["interval"] == "points"


def test_seeds_with_one_slope_judge_no_bias_or_quality_measure():
    # a measure of the mixes over ratios 0, 0.5 and 1: the mixes at 0 and 1 are the same for
    # every seed, the midpoint has no weight in a slope, so every seed's slope is y(1) - y(0)
    values = [0.7, 0.81, 0.95, 0.7, 0.86, 0.95, 0.7, 0.79, 0.95]
    seeds = [0] * 3 + [1] * 3 + [2] * 3
    row = slope_interval(RATIOS * 3, values, seeds)
    assert row["slope"] == pytest.approx(0.25) and row["interval"] == "identical seeds"
    assert row["ci_low"] == pytest.approx(0.25) == row["ci_high"]  # zero width
    # rounding apart, too: y(1) - y(0) through another summation order
    assert slope_interval([0, 1] * 2, [0.1, 0.3, 0.1, 0.1 + 0.2], [0, 0, 1, 1])[
        "interval"] == "identical seeds"
    # a seed's own slope off the others: the t-interval as before
    varied = slope_interval(RATIOS * 3, values[:-1] + [0.96], seeds)
    assert varied["interval"] == "seeds" and varied["ci_low"] < varied["ci_high"]

    frame = pd.DataFrame({"dataset": "toy", "generator": "g", "round": 1, "ratio": RATIOS * 3,
                          "seed": seeds, "model": "", "evalset": "", "metric": "mix_gender_bias",
                          "group": "", "value": values})
    constant = frame.assign(metric="data_bad_images_skipped", value=0.0)
    share = frame.assign(metric="mix_generated_share", value=RATIOS * 3)  # the design itself
    out = trends(pd.concat([frame, constant, share]),
                 {"mix_gender_bias": Direction.BIAS, "mix_generated_share": Direction.NEITHER})
    verdicts = dict(zip(out["metric"], out["verdict"], strict=True))
    assert verdicts == {"mix_gender_bias": "no evidence",  # not "amplified" on no spread
                        "data_bad_images_skipped": "no evidence",
                        "mix_generated_share": "increases"}  # a description stands
    assert out["interval"].tolist() == ["identical seeds"] * 3


def test_the_trends_job_warns_where_identical_seeds_withhold_a_verdict(tmp_path, caplog):
    from biasamp import tables
    from biasamp.trends import write_trends

    rows = [{"dataset": "toy", "generator": "g", "round": 1, "ratio": r, "seed": s, "model": "",
             "evalset": "", "metric": metric, "group": "", "value": value}
            for s in range(3) for r in RATIOS
            for metric, value in (("mix_gender_bias", 0.7 + 0.25 * r + 0.01 * s * (r == 0.5)),
                                  ("data_bad_images_skipped", 0.0), ("mix_generated_share", r))]
    tables.write(pd.DataFrame(rows), tmp_path / "metrics.csv")
    with caplog.at_level("WARNING", logger="biasamp.trends"):
        write_trends(str(tmp_path / "metrics.csv"), {"mix_gender_bias": "bias"}, 95,
                     str(tmp_path / "trends.csv"))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].startswith("1 trends get no verdict")
    assert "mix_gender_bias" in warnings[0]
    assert "data_bad_images_skipped" not in warnings[0] and "share" not in warnings[0]
    assert "other than 0.5" in warnings[0]


def test_a_flat_measure_has_slope_zero_on_any_grid():
    # 0.9735 at 0, 0.4 and 1 leaves a rounding slope of about 1e-31 in floating point
    assert least_squares_slope(np.array([0, 0.4, 1]), np.full(3, 0.9735)) == 0.0
    row = slope_interval([0, 0.4, 1] * 2, [0.9735] * 6, [0] * 3 + [1] * 3)
    assert (row["slope"], row["ci_low"], row["ci_high"]) == (0.0, 0.0, 0.0)


def test_too_few_points_give_no_interval():
    row = slope_interval([0.5, 0.5], [1.0, 2.0], [0, 1])  # one ratio: no slope
    assert math.isnan(row["slope"]) and math.isnan(row["ci_low"])


def table(effect, seeds=5, noise=0.02, metric="maxskew@10", seed=0):
    rng = np.random.default_rng(seed)
    rows = [{"dataset": "toy", "generator": "g", "round": 1, "ratio": r, "seed": s, "model": "clip",
             "evalset": "test", "metric": metric, "group": "gender",
             "value": 0.3 + effect * r + rng.normal(0, noise)}
            for s in range(seeds) for r in RATIOS]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("effect, direction, expected", [
    (0.2, Direction.BIAS, "amplified"), (-0.2, Direction.BIAS, "mitigated"),
    (0.0, Direction.BIAS, "no evidence"), (0.2, Direction.QUALITY, "improved"),
    (-0.2, Direction.QUALITY, "degraded"), (0.2, Direction.NEITHER, "increases"),
])
def test_a_planted_slope_gets_its_verdict(effect, direction, expected):
    out = trends(table(effect), {"maxskew@10": direction})
    assert out["verdict"].tolist() == [expected]
    assert out["ci_low"][0] <= out["slope"][0] <= out["ci_high"][0]
    if effect:
        assert out["slope"][0] == pytest.approx(effect, abs=0.05)


def test_a_flat_metric_is_rarely_called_a_trend():
    # false positives of a 95 % interval on a flat metric: about 5 in 100
    calls = sum(trends(table(0.0, seed=s), {"maxskew@10": Direction.BIAS})["verdict"][0]
                != "no evidence" for s in range(200))
    assert calls <= 20


def test_one_row_per_measurement_and_unknown_metrics_are_neither():
    both = pd.concat([table(0.2), table(0.2, metric="new_metric")])
    out = trends(both, {"maxskew@10": Direction.BIAS})
    assert out[["metric", "direction", "verdict"]].values.tolist() == [
        ["maxskew@10", "bias", "amplified"], ["new_metric", "neither", "increases"]]


def test_a_model_blind_to_the_attribute_is_called_so():
    falling = table(-0.2, metric="biasamp_t2a")
    accuracy = falling.assign(metric="prediction_accuracy", value=0.52)
    both = pd.concat([falling, accuracy])
    out = trends(both, {"biasamp_t2a": Direction.BIAS}, rests_on={"biasamp_t2a": "gender"})
    row = out[out["metric"] == "biasamp_t2a"].iloc[0]
    assert row["verdict"] == "blind to gender"
    assert row["prediction_accuracy"] == pytest.approx(0.52)
    seeing = pd.concat([falling, accuracy.assign(value=0.97)])
    row = trends(seeing, {"biasamp_t2a": Direction.BIAS},
                 rests_on={"biasamp_t2a": "gender"}).iloc[0]
    assert row["verdict"] == "mitigated" and row["prediction_accuracy"] == pytest.approx(0.97)
    assert math.isnan(trends(falling, {}).iloc[0]["prediction_accuracy"])
    rising = table(0.2, metric="biasamp_t2a")
    out = trends(pd.concat([rising, accuracy]), {"biasamp_t2a": Direction.BIAS},
                 rests_on={"biasamp_t2a": "gender"})
    assert out.iloc[0]["verdict"] == "blind to gender"  # not "amplified" either


def test_a_model_that_goes_blind_is_judged_by_the_direction_of_its_drift():
    # sees gender at ratio 0 (0.98), not at all at ratio 1 (0.5): a falling BiasAmp is its
    # drift toward a blind model's value, a rising one moved against it
    accuracy = table(0.0, metric="prediction_accuracy")
    accuracy["value"] = accuracy["ratio"].map({0: 0.98, 0.5: 0.74, 1: 0.5})
    rests_on = {"biasamp_t2a": "gender"}
    falling = trends(pd.concat([table(-0.2, metric="biasamp_t2a"), accuracy]),
                     {"biasamp_t2a": Direction.BIAS}, rests_on=rests_on)
    row = falling[falling["metric"] == "biasamp_t2a"].iloc[0]
    assert row["verdict"] == "gender accuracy falls"
    assert row["prediction_accuracy"] == pytest.approx(0.5)  # where it sees least
    rising = trends(pd.concat([table(0.2, metric="biasamp_t2a"), accuracy]),
                    {"biasamp_t2a": Direction.BIAS}, rests_on=rests_on)
    assert rising[rising["metric"] == "biasamp_t2a"].iloc[0]["verdict"] == "amplified"


def test_a_measure_with_a_blind_value_is_judged_by_whether_it_passed_it():
    # retrieval_biasamp: a blind model gets 0. A seeing model starts below (-0.3 here); as it
    # loses sight, rising toward 0 is drift, rising past 0 is not
    accuracy = table(0.0, metric="prediction_accuracy")
    accuracy["value"] = 0.98 - 0.3 * accuracy["ratio"]
    keys = {"rests_on": {"r@10": "gender"}, "blind_values": {"r@10": 0.0}}
    toward = table(0.2, metric="r@10")  # 0.3 + 0.2 r, shifted below 0: -0.3 .. -0.1
    toward["value"] -= 0.6
    out = trends(pd.concat([toward, accuracy]), {"r@10": Direction.BIAS}, **keys)
    assert out[out["metric"] == "r@10"].iloc[0]["verdict"] == "gender accuracy falls"
    past = table(0.5, metric="r@10")  # -0.3 .. +0.2
    past["value"] -= 0.6
    out = trends(pd.concat([past, accuracy]), {"r@10": Direction.BIAS}, **keys)
    assert out[out["metric"] == "r@10"].iloc[0]["verdict"] == "amplified"
    steady = accuracy.assign(value=0.98)  # a model that keeps seeing: the verdict stands
    out = trends(pd.concat([toward, steady]), {"r@10": Direction.BIAS}, **keys)
    assert out[out["metric"] == "r@10"].iloc[0]["verdict"] == "amplified"


def test_a_falling_measure_of_a_model_losing_sight_is_not_mitigation():
    falling = table(-0.2, metric="biasamp_t2a")
    fading = falling.assign(metric="prediction_accuracy", value=0.98 - 0.3 * falling["ratio"])
    out = trends(pd.concat([falling, fading]), {"biasamp_t2a": Direction.BIAS},
                 rests_on={"biasamp_t2a": "gender"})
    row = out[out["metric"] == "biasamp_t2a"].iloc[0]
    assert row["verdict"] == "gender accuracy falls"
    assert row["prediction_accuracy"] == pytest.approx(0.68)
    # against the same drift, a rising measure is still amplification
    rising = table(0.2, metric="biasamp_t2a")
    out = trends(pd.concat([rising, fading]), {"biasamp_t2a": Direction.BIAS},
                 rests_on={"biasamp_t2a": "gender"})
    assert out[out["metric"] == "biasamp_t2a"].iloc[0]["verdict"] == "amplified"
