"""The published markedness estimators (Wolfe & Caliskan's code, reused by Chen et al.) against
their definitions: what one draw computes, and what they converge to."""

import numpy as np
import pandas as pd
import pytest
from helpers import evaluation_settings
from scipy.spatial.distance import pdist

from biasamp.evaluate import ModelInputs
from biasamp.metrics import SUITES
from biasamp.metrics.markedness import (
    balanced_preference,
    sampled_self_similarity,
    self_similarity,
)


def unit_rows(n, d, seed):
    rows = np.random.default_rng(seed).normal(size=(n, d)) + 1.0
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_one_draw_is_the_mean_cosine_over_the_pairs_of_22_images_drawn_with_replacement():
    emb = unit_rows(5, 8, 0)
    value = sampled_self_similarity(emb, 22, 1, np.random.default_rng(3))
    drawn = emb[np.random.default_rng(3).integers(5, size=(1, 22))[0]]
    # the published code: np.mean(1 - pdist(sample, metric="cosine")) over the 231 pairs i < j
    assert value == pytest.approx(np.mean(1 - pdist(drawn, metric="cosine")))


def test_the_published_self_similarity_is_biased_by_the_self_pairs():
    emb = unit_rows(6, 8, 1)
    exact = self_similarity(emb)
    # a pair of draws is the same image with probability 1/n: E = S + (1 - S) / n
    expected = exact + (1 - exact) / len(emb)
    value = sampled_self_similarity(emb, 22, 20_000, np.random.default_rng(0))
    assert value == pytest.approx(expected, abs=0.005)
    assert abs(value - exact) > 0.02  # the bias is there, not noise


def published_downsampling(preferred, members, draws, rng):
    """The published procedure, literally: every value downsampled without replacement to the
    smallest value's count, its share of preferred images recorded, averaged over draws."""
    smallest = min(m.sum() for m in members.values())
    shares = {v: [] for v in members}
    for _ in range(draws):
        for value, m in members.items():
            kept = rng.choice(np.flatnonzero(m), size=smallest, replace=False)
            shares[value].append(preferred[kept].mean())
    return {v: float(np.mean(s)) for v, s in shares.items()}


def test_balanced_person_preference_matches_the_published_downsampling():
    rng = np.random.default_rng(0)
    labels = np.array(["a"] * 40 + ["b"] * 12 + ["c"] * 5)
    preferred = (rng.random(len(labels)) < np.where(labels == "a", 0.7, 0.3)).astype(float)
    members = {v: labels == v for v in ("a", "b", "c")}
    ours = balanced_preference(preferred, members, 20_000, np.random.default_rng(1))
    literal = published_downsampling(preferred, members, 4_000, np.random.default_rng(2))
    for value, m in members.items():
        exact = preferred[m].mean()  # both converge to the exact share
        assert ours[value] == pytest.approx(exact, abs=0.01)
        assert literal[value] == pytest.approx(exact, abs=0.02)
    # one draw of the smallest value's size (5): shares are multiples of 1/5
    one = balanced_preference(preferred, members, 1, np.random.default_rng(4))
    assert all(round(v * 5, 9) == round(v * 5) for v in one.values())


def test_the_estimators_are_chosen_by_the_evaluation_settings():
    images = pd.DataFrame({"caption": "", "gender": ["female"] * 3 + ["male"] * 3})
    emb = unit_rows(6, 4, 2)
    prompts = unit_rows(3, 4, 3)

    def rows(**settings):
        inputs = ModelInputs(images, evaluation_settings(**settings), lambda frame: emb,
                             lambda texts: prompts[:len(texts)])
        return {(m, g): v for m, g, v in SUITES.get("markedness").measure(inputs)}

    exact = rows()
    published = rows(self_similarity="published", person_preference="balanced",
                     markedness_draws=2_000)
    assert exact["self_similarity", ""] == pytest.approx(self_similarity(emb))
    assert published["self_similarity", ""] > exact["self_similarity", ""]
    assert published == rows(self_similarity="published", person_preference="balanced",
                             markedness_draws=2_000)  # seeded: evaluation.seed
    for group in ("gender:female", "gender:male"):
        assert published["person_preference", group] == pytest.approx(
            exact["person_preference", group], abs=0.05)


def test_balanced_person_preference_is_used_when_chosen(monkeypatch):
    from biasamp.metrics import markedness

    images = pd.DataFrame({"caption": "", "gender": ["female"] * 2 + ["male"] * 4})
    emb, prompts = unit_rows(6, 4, 2), unit_rows(3, 4, 3)
    calls = []
    monkeypatch.setattr(markedness, "balanced_preference",
                        lambda preferred, members, draws, rng: calls.append(draws) or {
                            value: -1.0 for value in members})

    def rows(**settings):
        inputs = ModelInputs(images, evaluation_settings(**settings), lambda frame: emb,
                             lambda texts: prompts[:len(texts)])
        return {(m, g): v for m, g, v in SUITES.get("markedness").measure(inputs)}

    assert rows()["person_preference", "gender:male"] >= 0 and calls == []
    assert rows(person_preference="balanced", markedness_draws=7)[
        "person_preference", "gender:male"] == -1.0 and calls == [7]


def test_one_image_has_no_published_self_similarity_either():
    assert np.isnan(sampled_self_similarity(unit_rows(1, 4, 0), 22, 10,
                                            np.random.default_rng(0)))
