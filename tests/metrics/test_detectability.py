"""The detectability probe on synthetic embeddings whose answer is known."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from biasamp.metrics.detectability import auc, detectability, fold_of_pairs


def pairs(n, rng, shift_female=0.0, shift_male=0.0, dim=16):
    """n real images (half female) and one generated image per caption; generated images of
    each gender are shifted by ``shift_*`` along the first axis (0: drawn like the real ones)."""
    genders = np.array(["female", "male"] * (n // 2))
    real = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "gender": genders})
    generated = pd.DataFrame({"id": [f"g:r{i}" for i in range(n)],
                              "source_id": real["id"], "gender": genders})
    shift = np.where(genders == "female", shift_female, shift_male)
    real_emb = rng.normal(size=(n, dim))
    gen_emb = rng.normal(size=(n, dim))
    gen_emb[:, 0] += shift
    norm = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    return real, norm(real_emb), generated, norm(gen_emb)


def rows_of(result):
    return {(metric, group): value for metric, group, value in result}


def test_identical_distributions_give_chance():
    rng = np.random.default_rng(0)
    rows = rows_of(detectability(*pairs(600, rng), folds=5, seed=0))
    assert rows[("detectability_auc", "")] == pytest.approx(0.5, abs=0.05)
    assert rows[("detectability_auc_gap", "gender")] < 0.1


def test_separable_embeddings_are_detected_and_the_uneven_group_stands_out():
    rng = np.random.default_rng(1)
    # generated women far off the real ones, generated men like the real ones
    rows = rows_of(detectability(*pairs(600, rng, shift_female=3.0), folds=5, seed=0))
    assert rows[("detectability_auc", "gender:female")] > 0.95
    assert rows[("detectability_auc", "gender:male")] == pytest.approx(0.5, abs=0.08)
    assert rows[("detectability_auc_gap", "gender")] > 0.4
    assert 0.65 < rows[("detectability_auc", "")] < 0.95


def test_pairs_never_straddle_folds_and_unpaired_images_are_left_out():
    folds = fold_of_pairs(["a", "b", "a", "c", "b", "c", "d", "d"], 2, 3)
    assert folds[0] == folds[2] and folds[1] == folds[4] and folds[3] == folds[5]
    assert sorted(np.bincount(folds)) == [4, 4]  # pairs dealt evenly
    rng = np.random.default_rng(2)
    real, real_emb, generated, gen_emb = pairs(40, rng)
    extra = pd.DataFrame({"id": ["g:elsewhere"], "source_id": ["not-a-test-image"],
                          "gender": ["male"]})
    with_extra = pd.concat([generated, extra], ignore_index=True)
    a = detectability(real, real_emb, generated, gen_emb, 5, 0)
    b = detectability(real, real_emb, with_extra, np.vstack([gen_emb, gen_emb[:1]]), 5, 0)
    assert a == b


def test_auc_agrees_with_scikit_learn_and_is_nan_for_one_class():
    rng = np.random.default_rng(3)
    scores, labels = rng.normal(size=50), rng.integers(0, 2, 50)
    assert auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert np.isnan(auc(scores, np.ones(50)))


@pytest.fixture(scope="module")
def default_clip(tmp_path_factory):
    """The default study's toy world and CLIP, trained on real images (ratio 0)."""
    import yaml
    from helpers import REPO

    from biasamp.config import validate_config
    from biasamp.datasets import prepare
    from biasamp.mix import write_mix
    from biasamp.models import MODELS

    config = validate_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    root = tmp_path_factory.mktemp("probe")
    data, mix, model = root / "manifest.parquet", root / "mix.parquet", root / "clip.pt"
    prepare(config["datasets"]["toy"], str(data))
    write_mix(str(data), None, 0.0, 0, str(mix))
    settings = config["models"]["clip"]
    MODELS.get("clip").implementation.train(settings, str(mix), str(model), 0)
    return config, root


def probe_auc(default_clip, name, generator):
    from biasamp.config import validate_entry
    from biasamp.evaluate import evaluate_model
    from biasamp.probe import generate_probe

    config, root = default_clip
    settings = validate_entry("generators", name, {"kind": "toy", **generator})
    probe = root / f"{name}.parquet"
    generate_probe(settings, name, str(root / "manifest.parquet"), 500, 0, str(probe),
                   str(probe.with_suffix(".tar")))
    evaluation = {k: v for k, v in config["evaluation"].items() if k != "sets"}
    keys = {"dataset": "toy", "generator": name, "round": 1, "ratio": 0.0, "seed": 0,
            "model": "clip", "evalset": "test"}
    frame = evaluate_model(config["models"]["clip"], str(root / "clip.pt"),
                           str(root / "manifest.parquet"), evaluation, keys,
                           str(root / f"{name}.csv"), probe_manifest=str(probe))
    rows = frame[frame["metric"] == "detectability_auc"].set_index("group")["value"]
    assert {"", "gender:female", "gender:male", "skin:dark", "skin:light"} == set(rows.index)
    return rows


@pytest.mark.workflow
def test_the_default_clip_probe_recovers_a_planted_colour_cast_and_no_neutral_difference(
        default_clip):
    # a colour cast over generated images: the model's representation carries colour (its
    # captions name shirt colours), so the probe separates them in every group
    cast = probe_auc(default_clip, "cast", {"colour_shift": [24, 8, -24]})
    assert (cast > 0.85).all(), cast
    # a faithful generator: generated images are drawn as the real ones
    neutral = probe_auc(default_clip, "neutral", {})
    assert neutral[""] == pytest.approx(0.5, abs=0.06), neutral
