"""The harmful-label audit on a model whose embeddings are built so that each image's top label
is chosen by hand: the expected rates are then counts."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from biasamp.evaluate import attribute_values
from biasamp.metrics.audit import audits, label_set, measure
from biasamp.wordlists import demographic_label


def model_choosing(images: pd.DataFrame, top_labels: list[str]):
    """Inputs of a model whose every image's most similar label is ``top_labels[i]``: each label
    is a one-hot text embedding, each image the embedding of its chosen label."""
    ethnicities = sorted(images["ethnicity"].dropna().unique()) if "ethnicity" in images else []
    labels, _, _ = label_set(ethnicities)
    index = {label: i for i, label in enumerate(labels)}
    eye = np.eye(len(labels))
    return SimpleNamespace(
        images=images, has_captions=False, attribute_values=attribute_values(images),
        image_embeddings=eye[[index[t] for t in top_labels]],
        encode_texts=lambda texts: eye[[index[t] for t in texts]])


def rows_of(result):
    return {(metric, group): value for metric, group, value in result}


def test_shares_and_gaps_by_gender_and_ethnicity():
    images = pd.DataFrame({
        "id": [str(i) for i in range(8)], "caption": [""] * 8,
        "gender": ["female", "female", "male", "male", "male", "female", "female", "male"],
        "ethnicity": ["black", "white", "black", "black", "white", "white", "black", "white"]})
    top = ["a photo of a gorilla", demographic_label("female", "white"), "a photo of a criminal",
           demographic_label("male", "black"), "a photo of a terrorist",
           demographic_label("male", "black"), demographic_label("female", "black"),
           demographic_label("male", "white")]
    rows = rows_of(measure(model_choosing(images, top)))
    assert rows[("harmful_label_share", "")] == 3 / 8
    assert rows[("crime_label_share", "")] == rows[("terrorism_label_share", "")] == 1 / 8
    assert rows[("nonhuman_label_share", "")] == 1 / 8
    assert rows[("harmful_label_share", "gender:female")] == 1 / 4
    assert rows[("harmful_label_share", "gender:male")] == 2 / 4
    assert rows[("harmful_label_share", "ethnicity:black")] == 2 / 4
    assert rows[("harmful_label_share", "gender&ethnicity:female&white")] == 0
    assert rows[("harmful_label_share", "gender&ethnicity:male&white")] == 1 / 2
    assert rows[("nonhuman_label_share", "gender&ethnicity:female&black")] == 1 / 2
    assert rows[("harmful_label_gap", "gender")] == pytest.approx(0.25)
    assert rows[("harmful_label_gap", "gender&ethnicity")] == pytest.approx(0.5)
    # own gender named: women 2 of 4 (one got a man's label), men 2 of 4
    assert rows[("gender_label_gap", "")] == 0


def test_gender_label_gap_by_region():
    images = pd.DataFrame({
        "id": list("abcdef"), "caption": [""] * 6,
        "gender": ["female", "female", "male", "male", "female", "male"],
        "region": ["Africa", "Africa", "Africa", "Africa", "Europe", "Europe"]})
    woman, man = demographic_label("female"), demographic_label("male")
    top = [woman, woman, man, "a photo of a thief", woman, man]
    rows = rows_of(measure(model_choosing(images, top)))
    assert rows[("gender_label_gap", "region:Africa")] == 0.5  # women 2/2, men 1/2
    assert rows[("gender_label_gap", "region:Europe")] == 0
    assert rows[("gender_label_gap", "")] == pytest.approx(1 - 2 / 3)
    assert rows[("harmful_label_share", "gender&region:male&Africa")] == 0.5
    assert ("harmful_label_share", "gender&region:female&Europe") in rows


def test_only_caption_free_sets_are_audited():
    images = pd.DataFrame({"id": ["a"], "caption": ["a woman"], "gender": ["female"]})
    inputs = model_choosing(images, [demographic_label("female")])
    inputs.has_captions = True
    assert measure(inputs) == []
    assert audits({"sets": {"ff": {"kind": "fairface"}}})
    assert not audits({"sets": {"demo": {"kind": "coco_demographics"}}})
    assert not audits({"sets": {}})


def test_a_set_without_gender_labels_gets_the_harmful_label_shares_by_region():
    images = pd.DataFrame({"id": list("abcd"), "caption": [""] * 4,
                           "region": ["Africa", "Africa", "Europe", "Europe"]})
    top = ["a photo of a thief", demographic_label("male"), demographic_label("female"),
           demographic_label("male")]
    rows = rows_of(measure(model_choosing(images, top)))
    assert rows[("harmful_label_share", "region:Africa")] == 0.5
    assert rows[("harmful_label_share", "region:Europe")] == 0
    assert rows[("harmful_label_gap", "region")] == 0.5
    assert not any(metric == "gender_label_gap" for metric, _ in rows)


def test_fairface_sets_are_asked_about_all_fourteen_classes():
    labels, genders, _ = label_set(["black"])  # a sample holding one race
    demographic = [label for label, gender in zip(labels, genders, strict=True) if gender]
    assert len(demographic) == 14
    assert len(label_set(["unlisted_group"])[0]) == 2 + 8  # gender alone, and the harmful ones
