import numpy as np
import pandas as pd
import pytest

from biasamp import manifest
from biasamp.evaluate import mix_measurements
from biasamp.mix import mix
from biasamp.study import bernoulli_positions, n_appended, n_replaced, replaced_positions


def frames(n=40):
    real = pd.DataFrame({
        "id": [f"r{i:03d}" for i in range(n)], "split": ["train"] * n, "source": "real",
        "caption": [f"caption {i}" for i in range(n)], "image_path": "real.tar",
        "image_offset": range(n), "image_length": 1,
        "gender": ["female" if i % 2 == 0 else "male" for i in range(n)], "activity": ["cook"] * n,
    })
    test_row = real.iloc[:1].assign(id="t0", split="test")
    generated = real.assign(
        id=lambda f: "g:" + f["id"], source="generated", source_id=real["id"],
        image_path="gen.tar", gender="female",
    )
    return pd.concat([real, test_row], ignore_index=True), generated


@pytest.mark.parametrize(("n", "ratio", "expected"),
                         [(40, 0.25, 10), (10, 0.25, 3), (4, 0.5, 2), (7, 1.0, 7), (7, 0.0, 0)])
def test_exact_counts(n, ratio, expected):
    assert n_replaced(n, ratio) == expected
    real, generated = frames(n)
    mixed = mix(real, generated, ratio, seed=0)
    assert len(mixed) == n
    assert (mixed["source"] == "generated").sum() == expected


def test_replaced_sets_are_nested_across_ratios_and_seeded():
    ratios = (0, 0.1, 0.25, 0.5, 0.9, 1.0)
    sets = [set(replaced_positions(100, r, seed=3)[0]) for r in ratios]
    assert all(a <= b for a, b in zip(sets[:-1], sets[1:], strict=True))
    assert set(replaced_positions(100, 0.5, 3)[0]) == sets[3]  # deterministic
    assert set(replaced_positions(100, 0.5, 4)[0]) != sets[3]  # the seed matters


def test_replacement_keeps_the_caption_and_the_training_order():
    real, generated = frames()
    mixed = mix(real, generated, 0.5, seed=1)
    assert mixed["source_id"].tolist() == sorted(real.loc[real.split == "train", "id"])
    swapped = mixed[mixed["source"] == "generated"]
    assert (swapped["id"] == "g:" + swapped["source_id"]).all()
    assert (swapped["caption"] == swapped["source_id"].map(real.set_index("id")["caption"])).all()
    assert "t0" not in set(mixed["source_id"])  # test images never enter a mix


def test_missing_generated_images_are_an_error():
    real, generated = frames()
    with pytest.raises(ValueError, match="no generated counterpart"):
        mix(real, generated.iloc[:5], 1.0, seed=0)


def test_mix_measurements_hand_computed():
    real, generated = frames()
    # all generated images are female, real ones alternate: at ratio 1 the bias is 1.0
    values = dict((m, v) for m, _, v in mix_measurements(mix(real, generated, 1.0, seed=0)))
    assert values == {"mix_generated_share": 1.0, "mix_gender_bias": 1.0,
                      "mix_flagged_excluded": 0.0, "data_bad_images_skipped": 0.0}
    values = dict((m, v) for m, _, v in mix_measurements(mix(real, generated, 0.0, seed=0)))
    assert values == {"mix_generated_share": 0.0, "mix_gender_bias": 0.5,
                      "mix_flagged_excluded": 0.0, "data_bad_images_skipped": 0.0}


def test_flagged_images_are_never_mixed_in_and_are_counted(tmp_path):
    real, generated = frames(40)
    flagged_ids = {f"r{i:03d}" for i in range(0, 40, 4)}  # 10 of 40 withheld
    generated["flagged"] = generated["source_id"].isin(flagged_ids)
    usable = ~generated["flagged"].to_numpy()
    previous = set()
    for ratio in (0.25, 0.5, 0.75):
        mixed = mix(real, generated, ratio, seed=2)
        swapped = set(mixed.loc[mixed["source"] == "generated", "source_id"])
        assert len(swapped) == n_replaced(40, ratio) and not swapped & flagged_ids
        assert previous <= swapped  # still nested
        previous = swapped
        _, excluded = replaced_positions(40, ratio, 2, usable)
        assert mixed.attrs["flagged_excluded"] == excluded > 0
    # the count survives the manifest file, where the mix's measurements read it
    manifest.write(mixed, tmp_path / "mix.parquet")
    values = dict((m, v) for m, _, v in mix_measurements(manifest.read(tmp_path / "mix.parquet")))
    assert values["mix_flagged_excluded"] == excluded
    # with 30 usable images, ratio 1 replaces those 30 and says 10 were withheld
    full = mix(real, generated, 1.0, seed=2)
    assert (full["source"] == "generated").sum() == 30 and full.attrs["flagged_excluded"] == 10


def test_manifest_write_refuses_duplicate_ids(tmp_path):
    real, _ = frames()
    with pytest.raises(manifest.ManifestError, match="duplicate ids"):
        manifest.write(pd.concat([real, real]), tmp_path / "m.parquet")


def test_generated_images_without_tasks_take_their_prompts_images_tasks():
    real, generated = frames(10)
    real["tasks"] = [[f"task {i % 3}"] for i in range(len(real))]
    mixed = mix(real, generated, 1.0, seed=0)  # the generator reported no tasks
    assert (mixed["source"] == "generated").all()
    expected = real.set_index("id")["tasks"]
    assert [list(t) for t in mixed["tasks"]] == [list(expected[s]) for s in mixed["source_id"]]
    reported = generated.assign(tasks=[["own"]] * len(generated))
    assert {t[0] for t in mix(real, reported, 1.0, seed=0)["tasks"]} == {"own"}


def test_attributes_a_generator_does_not_report_come_from_the_prompts_image():
    real, generated = frames(10)
    unreported = generated.assign(gender=pd.array([None] * len(generated), dtype="string"))
    mixed = mix(real, unreported, 1.0, seed=0)
    source_gender = real.set_index("id")["gender"]
    assert mixed["gender"].tolist() == [source_gender[s] for s in mixed["source_id"]]
    assert set(mixed["attributes_from"]) == {"prompt image"}
    reported = mix(real, generated, 1.0, seed=0)  # this generator rendered every image female
    assert set(reported["gender"]) == {"female"} and set(reported["attributes_from"]) == {
        "generator"}


# --- mixing modes: bernoulli and append --------------------------------------------------


def with_variants(generated, variants):
    """``generated`` (variant 0 of every caption) plus further images of each caption."""
    extra = [generated.assign(id=generated["id"] + f"#{v}", variant=v) for v in range(1, variants)]
    return pd.concat([generated.assign(variant=0), *extra], ignore_index=True)


def test_bernoulli_share_is_within_its_binomial_interval_and_nested():
    from scipy.stats import binom

    n, ratios = 2000, (0.1, 0.3, 0.6)
    for seed in range(5):
        sets = [set(bernoulli_positions(n, r, seed)[0]) for r in ratios]
        assert all(a <= b for a, b in zip(sets[:-1], sets[1:], strict=True))
        for ratio, chosen in zip(ratios, sets, strict=True):
            low, high = binom.interval(0.999, n, ratio)
            assert low <= len(chosen) <= high
    # independent draws per seed: counts differ, the expected share holds over seeds
    counts = [len(bernoulli_positions(n, 0.3, seed)[0]) for seed in range(20)]
    assert len(set(counts)) > 1
    assert abs(np.mean(counts) / n - 0.3) < 3 * np.sqrt(0.3 * 0.7 / (20 * n))
    assert np.array_equal(bernoulli_positions(n, 0.3, 4)[0], bernoulli_positions(n, 0.3, 4)[0])


def test_bernoulli_mix_keeps_the_size_and_leaves_withheld_images_real():
    real, generated = frames(400)
    generated["flagged"] = generated["source_id"].isin({f"r{i:03d}" for i in range(0, 400, 5)})
    mixed = mix(real, generated, 0.5, seed=3, mixing="bernoulli")
    assert len(mixed) == 400 and mixed["source_id"].is_unique
    swapped = mixed.loc[mixed["source"] == "generated", "source_id"]
    drawn, _ = bernoulli_positions(400, 0.5, 3)
    drawn_ids = {f"r{i:03d}" for i in drawn}
    flagged = set(generated.loc[generated["flagged"], "source_id"])
    assert set(swapped) == drawn_ids - flagged  # withheld: the real image stays
    assert mixed.attrs["flagged_excluded"] == len(drawn_ids & flagged) > 0
    assert mix(real, generated, 0.5, seed=3, mixing="bernoulli").equals(mixed)  # determinism


@pytest.mark.parametrize(("n", "ratio", "added"), [(40, 0.2, 10), (40, 0.5, 40), (40, 0.75, 120),
                                                   (7, 0.3, 3), (40, 0.0, 0)])
def test_append_counts_are_exact(n, ratio, added):
    assert n_appended(n, ratio) == added  # round(r n / (1 - r)), by hand
    real, generated = frames(n)
    mixed = mix(real, with_variants(generated, 3), ratio, seed=0, mixing="append")
    assert len(mixed) == n + added
    assert (mixed["source"] == "real").sum() == n  # every real image stays
    assert (mixed["source"] == "generated").sum() == added
    assert mixed["id"].is_unique


def test_append_uses_variant_zero_first_then_further_images_and_is_nested():
    real, generated = frames(40)
    pool = with_variants(generated, 3)
    previous = set()
    for ratio in (0.1, 0.3, 0.5, 0.6, 0.75):
        mixed = mix(real, pool, ratio, seed=5, mixing="append")
        added = mixed[mixed["source"] == "generated"]
        assert previous <= set(added["id"])
        previous = set(added["id"])
        # no caption gets a second image before every caption has its first
        per_caption = added["source_id"].value_counts()
        assert per_caption.max() - (per_caption.reindex(real["id"][:40], fill_value=0)).min() <= 1
    # variant 0 follows replace's order: the captions appended are those replace would swap
    appended = mix(real, pool, 0.2, seed=5, mixing="append")
    replaced = mix(real, pool, 10 / 40, seed=5)
    assert set(appended.loc[appended.source == "generated", "source_id"]) == set(
        replaced.loc[replaced.source == "generated", "source_id"])


def test_append_without_enough_images_per_caption_is_an_error():
    real, generated = frames(40)
    with pytest.raises(ValueError, match="no generated counterpart"):
        mix(real, generated, 0.6, seed=0, mixing="append")  # needs a second image of some


def test_append_walks_past_withheld_images():
    real, generated = frames(40)
    pool = with_variants(generated, 2)
    pool["flagged"] = pool["id"].isin({"g:r000", "g:r001", "g:r002"})
    mixed = mix(real, pool, 0.5, seed=0, mixing="append")
    added = mixed[mixed["source"] == "generated"]
    assert len(added) == 40 and not set(added["id"]) & {"g:r000", "g:r001", "g:r002"}
    assert mixed.attrs["flagged_excluded"] == 3
    assert (added["variant"] == 1).sum() == 3  # three captions' second images stand in


def test_an_image_steered_by_an_intervention_is_taken_to_show_its_target():
    real, generated = frames(10)
    plain = generated.assign(gender=pd.array([None] * 10, dtype="string"))  # diffusers: none
    steered = plain.assign(intervention=["gender:male"] * 5 + [None] * 5)
    mixed = mix(real, steered, 1.0, seed=0).set_index("source_id")
    source_gender = real.set_index("id")["gender"]
    for source_id, row in mixed.iterrows():
        k = int(source_id[1:])
        expected = ("male", "intervention target") if k < 5 else (source_gender[source_id],
                                                                   "prompt image")
        assert (row["gender"], row["attributes_from"]) == expected, source_id
    # a generator that reports what it rendered keeps it (the toy generator)
    reported = generated.assign(intervention=["gender:male"] * 10)
    assert set(mix(real, reported, 1.0, seed=0)["gender"]) == {"female"}
