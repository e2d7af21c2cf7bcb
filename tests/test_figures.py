"""What the figures draw: t-intervals over seeds worked by hand, each seed's point, colours
fixed per subgroup across figures, reference lines, the summary's verdict colours and the
counters table."""

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from biasamp.figures import FIGURES, Style, figure_plan, study_colours
from biasamp.figures.summary import VERDICT_COLOURS
from biasamp.metrics import Direction, Metric
from biasamp.trends import trends as trend_table

matplotlib.use("Agg")

T_975_2 = 4.302652729911275  # Student t, 97.5th percentile, 2 degrees of freedom


def table(metric="maxskew@10", groups=("gender:female", "gender:male")):
    """3 ratios × 3 seeds × two groups; value = ratio + seed / 10 for the first and 1 - ratio
    for the second (no seed spread)."""
    rows = []
    for ratio in (0.0, 0.5, 1.0):
        for seed in (0, 1, 2):
            for group, value in ((groups[0], ratio + seed / 10), (groups[1], 1 - ratio)):
                rows.append({"dataset": "toy", "generator": "g", "round": 1, "ratio": ratio,
                             "seed": seed, "model": "clip", "evalset": "test", "metric": metric,
                             "group": group, "value": value})
    return pd.DataFrame(rows)


def style(metric="maxskew@10"):
    return Style(study_colours(["gender:female", "gender:male", "g", "all"]),
                 {metric: {"direction": "bias", "references": [[math.log(2), "ln 2"]]}})


def draw(rows, name="metric_vs_ratio", metric="maxskew@10"):
    trends = trend_table(rows, {metric: Direction.BIAS})
    return FIGURES.get(name).draw(rows, trends, [metric], 95, style(metric))


def test_the_band_is_the_t_interval_over_seeds_and_every_seed_is_a_dot():
    figure = draw(table())
    axes = figure.axes[0]
    female = style().colours["gender:female"]
    bands = [c for c in axes.collections if isinstance(c, matplotlib.collections.PolyCollection)]
    band = next(b for b in bands if np.allclose(b.get_facecolor()[0][:3], female))
    ys = band.get_paths()[0].vertices
    # at each ratio, values ratio + 0, 0.1, 0.2: mean ratio + 0.1, sd 0.1, n = 3
    half = T_975_2 * 0.1 / math.sqrt(3)
    at_zero = ys[np.isclose(ys[:, 0], 0.0), 1]
    assert sorted(at_zero)[0] == pytest.approx(0.1 - half)
    assert sorted(at_zero)[-1] == pytest.approx(0.1 + half)
    dots = [c for c in axes.collections
            if isinstance(c, matplotlib.collections.PathCollection)]
    assert sum(len(d.get_offsets()) for d in dots) == 18  # 9 per subgroup
    # no spread for gender:male: a zero-width band, not a bootstrap artefact
    male = style().colours["gender:male"]
    flat = next(b for b in bands if np.allclose(b.get_facecolor()[0][:3], male))
    assert np.ptp(flat.get_paths()[0].vertices[np.isclose(flat.get_paths()[0].vertices[:, 0],
                                                          0.5), 1]) == pytest.approx(0)
    assert "t-interval (n = 3 seeds)" in figure._suptitle.get_text()
    assert "higher = more biased" in axes.get_ylabel()
    assert any(np.allclose(line.get_ydata(), math.log(2)) for line in axes.get_lines())


def test_one_seed_draws_no_band_and_says_so():
    rows = table()
    rows = rows[rows["seed"] == 0]
    figure = draw(rows)
    bands = [c for c in figure.axes[0].collections
             if isinstance(c, matplotlib.collections.PolyCollection)]
    assert all(len(b.get_paths()) == 0 or len(b.get_paths()[0].vertices) == 0 for b in bands)
    assert "one seed: no interval" in figure._suptitle.get_text()


def test_a_subgroup_has_one_colour_in_every_figure():
    colours = study_colours(["gender:male", "skin:dark", "all", "gender:female", "g"])
    again = study_colours(["gender:female", "g", "skin:dark", "all", "gender:male"])
    assert colours == again and len(set(map(str, colours.values()))) == len(colours)


def test_the_summary_colours_each_measure_by_its_verdict():
    rows = table(groups=("gender", "skin"))
    # seeds that differ in slope (seeds with one slope judge nothing: biasamp.trends)
    steeper = rows["ratio"] * rows["seed"] / 10
    rows["value"] += np.where(rows["group"] == "gender", steeper, -steeper)
    trends = trend_table(rows, {"maxskew@10": Direction.BIAS})
    verdicts = dict(zip(trends["group"], trends["verdict"], strict=True))
    # gender's rises with the ratio (amplified), skin's falls (mitigated)
    assert verdicts == {"gender": "amplified", "skin": "mitigated"}
    figure = FIGURES.get("summary").draw(rows, trends, ["maxskew@10"], 95, style())
    dots = figure.axes[0].collections[-1]
    colours = {tuple(np.round(c[:3], 3)) for c in dots.get_facecolor()}
    expected = {tuple(np.round(matplotlib.colors.to_rgb(VERDICT_COLOURS[v]), 3))
                for v in ("amplified", "mitigated")}
    assert colours == expected


def test_counters_are_a_table_not_figures():
    metrics = [Metric("recall@1", Direction.QUALITY),
               Metric("data_bad_images_skipped", Direction.NEITHER, counter=True)]
    plan = {stem: (name, names) for name, stem, names in figure_plan(metrics)}
    assert "data_bad_images_skipped" not in plan
    assert plan["counters"] == ("counters", ["data_bad_images_skipped"])
    assert plan["recall_at_1"] == ("metric_vs_ratio", ["recall@1"])
    rows = table("data_bad_images_skipped")
    rows["value"] = 0.0
    rows.loc[3, "value"] = 2.0
    figure = FIGURES.get("counters").draw(rows, rows.iloc[:0], ["data_bad_images_skipped"], 95,
                                          style())
    cells = [c.get_text().get_text() for c in figure.axes[0].tables[0].get_celld().values()]
    assert "2" in cells and "g ratio 0 seed 1" in cells  # row 3: ratio 0, seed 1


def test_the_contact_sheet_pairs_captions_half_of_them_neutral():
    from biasamp.contact_sheet import pick

    ids = [f"toy-{i:03d}" for i in range(40)]
    real = pd.DataFrame({"id": ids, "caption": ids, "neutral_caption": [i % 4 == 0
                                                                        for i in range(40)]})
    generated = pd.DataFrame({"id": [f"g:{i}" for i in ids], "source_id": ids,
                              "flagged": [i == 4 for i in range(40)]})
    pairs = pick(real, generated, 8, seed=0)
    assert len(pairs) == 8 and pairs["neutral_caption"].sum() == 4
    assert (pairs["id_generated"] == "g:" + pairs["id"]).all()
    assert "toy-004" not in set(pairs["id"])  # withheld by the safety checker
    assert pairs.equals(pick(real, generated, 8, seed=0))
    assert not pairs.equals(pick(real, generated, 8, seed=1))


def image_factor_tables():
    from biasamp.factor_tables import summarise
    from biasamp.image_factors import FACTORS

    rng = np.random.default_rng(0)
    n = 40
    images = pd.DataFrame({
        "id": [f"i{k}" for k in range(2 * n)], "source": ["real"] * n + ["generated"] * n,
        "gender": ["female", "male"] * n, "dataset": "toy", "generator": "g",
        **{factor: rng.uniform(1, 100, 2 * n) for factor in FACTORS}})
    images["face_found"] = 1.0
    images.loc[n:, "sharpness"] -= 50  # generated images blurrier by 50
    return images, summarise(images.drop(columns=["dataset", "generator"]), "toy", "g")


def test_the_image_factor_figures_are_planned_only_where_images_are_generated():
    metrics = [Metric("recall@1", Direction.QUALITY)]
    stems = {stem for _, stem, _ in figure_plan(metrics, image_factors=True)}
    assert {"image_factors", "image_factor_gaps"} <= stems
    assert not {"image_factors", "image_factor_gaps"} & {
        stem for _, stem, _ in figure_plan(metrics)}


def test_the_image_factor_gaps_are_drawn_with_their_welch_intervals():
    images, summary = image_factor_tables()
    figure = FIGURES.get("image_factor_gaps").draw(images, summary, [], 95, style())
    sharpness = next(a for a in figure.axes if a.get_title() == "sharpness")
    (points, *_) = [line for line in sharpness.get_lines() if line.get_marker() == "o"]
    gaps = summary[(summary["source"] == "generated - real") & (summary["factor"] == "sharpness")]
    expected = gaps.set_index("group").reindex(["", "gender:female", "gender:male"])["mean"]
    assert points.get_xdata() == pytest.approx(expected.to_numpy())
    assert [t.get_text() for t in sharpness.get_yticklabels()] == [
        "all", "gender:female", "gender:male"]
    violins = FIGURES.get("image_factors").draw(images, summary, [], 95, style())
    assert len(violins.axes) >= 4  # a row per factor (one attribute: gender)
    assert "faces 100% → 100%" in violins.axes[0].get_xticklabels()[0].get_text()


def round_table():
    """Rounds 1–3 of ratios 0 and 0.5, 3 seeds: at ratio 0.5, value = round / 10 + seed / 100
    (rising with the round); ratio 0 (no generated image) stays at 0."""
    rows = []
    for number in (1, 2, 3):
        for ratio in (0.0, 0.5):
            for seed in (0, 1, 2):
                value = 0.0 if ratio == 0 else number / 10 + seed / 100
                rows.append({"dataset": "toy", "generator": "g", "round": number,
                             "ratio": ratio, "seed": seed, "model": "clip", "evalset": "test",
                             "metric": "maxskew@10", "group": "gender", "value": value})
    return pd.DataFrame(rows)


def test_the_rounds_figure_exists_with_rounds_and_draws_each_ratio_over_the_rounds():
    metrics = [Metric("maxskew@10", Direction.BIAS)]
    assert "rounds" not in {stem for _, stem, _ in figure_plan(metrics)}
    assert "rounds" in {stem for _, stem, _ in figure_plan(metrics, rounds=True)}
    rows = round_table()
    figure = FIGURES.get("metric_vs_round").draw(rows, trend_table(rows, {}), ["maxskew@10"],
                                                  95, style())
    (axes,) = [a for a in figure.axes if a.get_visible() and a.get_title()]
    assert axes.get_title() == "maxskew@10 · gender\ng"
    (line,) = axes.get_lines()  # ratio 0 is the same in every round: not drawn
    np.testing.assert_allclose(line.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(line.get_ydata(), [0.11, 0.21, 0.31])  # mean over seeds
    (band,) = axes.collections
    at_two = band.get_paths()[0].vertices
    at_two = at_two[np.isclose(at_two[:, 0], 2), 1]
    half = T_975_2 * 0.01 / math.sqrt(3)  # seeds' sd 0.01
    assert sorted(at_two)[0] == pytest.approx(0.21 - half)
    assert sorted(at_two)[-1] == pytest.approx(0.21 + half)


def test_other_figures_draw_each_later_round_as_a_line_of_its_own():
    from biasamp.plot import with_rounds

    rows = with_rounds(round_table())
    assert set(rows["generator"]) == {"g", "g · round 2", "g · round 3"}
    assert set(with_rounds(table())["generator"]) == {"g"}  # one round: as it is
