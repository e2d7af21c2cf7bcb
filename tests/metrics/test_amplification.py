"""Bias amplification against the training mix: hand-worked cases of the published
definitions (Wang & Russakovsky 2021; Zhao et al. 2017), their conventions, planted effects."""

import math

import numpy as np
import pandas as pd
import pytest

from biasamp.evaluate import ModelInputs
from biasamp.metrics import SUITES
from biasamp.metrics.amplification import (
    directional_bias_amplification,
    tasks_named,
    zhao_bias_amplification,
)

# four images: attribute one-hot (a0, a1), task one-hot (t0, t1)
A = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
T = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])


def test_directional_hand_computed():
    # y (train = A, T): P(a0,t0) = .5 > .5 * .75 -> +1; (a0,t1) 0 < .125 -> -1;
    # (a1,t0) .25 < .375 -> -1; (a1,t1) .25 > .125 -> +1
    # A->T with predicted tasks: image 2 (a1) predicted t1 instead of t0
    predicted = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    # Δ(a0,t0) = 1 - 1 = 0; Δ(a0,t1) = 0; Δ(a1,t0) = 0 - 1/2; Δ(a1,t1) = 1 - 1/2
    # cells: 0, 0, (-1)(-1/2) = 1/2, (+1)(1/2) = 1/2 -> mean 1/4
    assert directional_bias_amplification(A, T, A, T, predicted, "a2t") == pytest.approx(0.25)
    # T->A: the task-0 image of a1 predicted a0: Δ(a0,t0) = 1/3, Δ(a1,t0) = -1/3, t1 exact
    # cells 1/3, 1/3, 0, 0 -> 1/6
    predicted_a = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    assert directional_bias_amplification(A, T, A, T, predicted_a, "t2a") == pytest.approx(1 / 6)
    # predictions equal to the truth amplify nothing, whatever the training bias
    assert directional_bias_amplification(A, T, A, T, A, "t2a") == 0.0
    with pytest.raises(ValueError, match="direction"):
        directional_bias_amplification(A, T, A, T, A, "sideways")


def test_directional_conventions():
    # a task no evaluation image shows: its cells are NaN and left out of the mean
    tasks = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]])
    train_t = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1]])
    predicted_a = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    value = directional_bias_amplification(A, train_t, A, tasks, predicted_a, "t2a")
    # t0: cells 1/3 and 1/3 as above; t1: y from train (t1 never in train: P = 0 = P(a)P(t),
    # sign 0) -> 0 twice; t2: no evaluation image -> NaN, left out: mean over 4 cells
    assert value == pytest.approx((1 / 3 + 1 / 3 + 0 + 0) / 4)
    # a pair exactly at independence counts 0 (sign), not -Δ
    balanced_a = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    balanced_t = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    assert directional_bias_amplification(balanced_a, balanced_t, A, T, 1 - A, "t2a") == 0.0
    assert math.isnan(directional_bias_amplification(A[:0], T[:0], A, T, A, "t2a"))


def test_zhao_hand_computed_and_conventions():
    train_g = np.array(["m", "m", "m", "f", "f", "f", "f", "m", "f", "f"])
    train_t = np.array(["ski"] * 4 + ["cook"] * 4 + ["shop"] * 2)  # shop: only women
    # predicted: ski m 2/3, cook f 1/1 (one cooking image said no gender), shop never predicted
    pred_g = np.array(["m", "m", "f", "f", None, None, None, None, None, None], dtype=object)
    pred_t = np.array(["ski", "ski", "ski", "cook", "cook", None, None, None, None, None],
                      dtype=object)
    # ski: 2/3 - 3/4; cook: 1 - 3/4; shop (b = 1) has no prediction: left out
    expected = ((2 / 3 - 0.75) + (1 - 0.75)) / 2
    assert zhao_bias_amplification(train_g, train_t, pred_g, pred_t, ("f", "m")) == \
        pytest.approx(expected)
    assert math.isnan(zhao_bias_amplification(train_g, train_t, pred_g[:0], pred_t[:0],
                                              ("f", "m")))


def test_task_names_in_captions():
    assert tasks_named("a person in a red shirt cutting a cake in the kitchen",
                       ["cutting a cake", "using a laptop"]) == ["cutting a cake"]
    assert tasks_named("skateboarding", ["riding a skateboard"]) == []


def toy_frame(rows):
    return pd.DataFrame([{"caption": f"a {'woman' if g == 'female' else 'man'} in a red shirt "
                                     f"{t} in the park", "gender": g, "tasks": [t]}
                         for g, t in rows])


# a training mix where cooking is 3/4 female and skating 3/4 male, and an evaluation set alike
SKEWED = ([("female", "cutting a cake")] * 3 + [("male", "cutting a cake")]
          + [("male", "riding a skateboard")] * 3 + [("female", "riding a skateboard")])


def suite(captions, images=None, train=None):
    images = toy_frame(SKEWED) if images is None else images
    train = toy_frame(SKEWED) if train is None else train
    inputs = ModelInputs(images, {}, None, None, written_captions=captions)
    inputs.training_mix = train  # what the evaluate job reads from the mix manifest
    return {(m, g): v for m, g, v in SUITES.get("amplification").measure(inputs)}


def test_a_planted_stereotype_is_recovered():
    truth = toy_frame(SKEWED)["caption"].tolist()
    faithful = suite(truth)
    assert faithful == {("biasamp_t2a", "gender"): 0.0, ("biasamp_a2t", "gender"): 0.0,
                        ("biasamp", "gender"): 0.0}
    # a captioner that names each activity's majority gender: every minority image misgendered
    stereotyped = [c.replace("a man in a red shirt cutting", "a woman in a red shirt cutting")
                   .replace("a woman in a red shirt riding", "a man in a red shirt riding")
                   for c in truth]
    values = suite(stereotyped)
    # T->A: Δ = +1/4 on each (majority, task) cell and -1/4 on each minority cell, all y-signed
    assert values["biasamp_t2a", "gender"] == pytest.approx(0.25)
    assert values["biasamp", "gender"] == pytest.approx(0.25)  # 3/4 -> 1 on both tasks
    assert values["biasamp_a2t", "gender"] == 0.0  # the tasks it names are right
    # the opposite captioner (counter-stereotypes everyone) is negative
    reversed_ = [c.replace("woman", "MAN").replace(" man ", " woman ").replace("MAN", "man")
                 for c in truth]
    assert suite(reversed_)["biasamp_t2a", "gender"] < 0
    # a captioner that names no gender: Δ = -P(a|t) on every cell, -3/4 on the two majority
    # cells (y = +1) and +1/4 on the two minority ones: a blind model looks "fair" (negative)
    neutral = [c.replace("woman", "person").replace(" man ", " person ") for c in truth]
    assert suite(neutral)["biasamp_t2a", "gender"] == pytest.approx(-0.25)


def test_no_rows_without_tasks():
    images = toy_frame(SKEWED).drop(columns="tasks")
    assert suite(["a man"] * len(images), images=images) == {}
