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
                        ("biasamp", "gender"): 0.0, ("prediction_accuracy", "gender"): 1.0,
                        ("prediction_accuracy", "task"): 1.0}
    # a captioner that names each activity's majority gender: every minority image misgendered
    stereotyped = [c.replace("a man in a red shirt cutting", "a woman in a red shirt cutting")
                   .replace("a woman in a red shirt riding", "a man in a red shirt riding")
                   for c in truth]
    values = suite(stereotyped)
    # T->A: Δ = +1/4 on each (majority, task) cell and -1/4 on each minority cell, all y-signed
    assert values["biasamp_t2a", "gender"] == pytest.approx(0.25)
    assert values["biasamp", "gender"] == pytest.approx(0.25)  # 3/4 -> 1 on both tasks
    assert values["biasamp_a2t", "gender"] == 0.0  # the tasks it names are right
    assert values["prediction_accuracy", "gender"] == 0.75  # the two minority images wrong
    # the opposite captioner (counter-stereotypes everyone) is negative
    reversed_ = [c.replace("woman", "MAN").replace(" man ", " woman ").replace("MAN", "man")
                 for c in truth]
    assert suite(reversed_)["biasamp_t2a", "gender"] < 0
    # a captioner that names no gender: Δ = -P(a|t) on every cell, -3/4 on the two majority
    # cells (y = +1) and +1/4 on the two minority ones: a blind model looks "fair" (negative)
    neutral = [c.replace("woman", "person").replace(" man ", " person ") for c in truth]
    assert suite(neutral)["biasamp_t2a", "gender"] == pytest.approx(-0.25)
    assert suite(neutral)["prediction_accuracy", "gender"] == 0.0  # it is blind to gender


def test_no_rows_without_tasks():
    images = toy_frame(SKEWED).drop(columns="tasks")
    assert suite(["a man"] * len(images), images=images) == {}


def test_retrieval_amplification_hand_computed():
    from biasamp.metrics.amplification import retrieval_bias_amplification

    images = np.eye(6)
    genders = np.array(["f", "f", "m", "m", None, "f"], dtype=object)
    tasks = [["cook"], ["cook"], ["cook"], ["ski"], ["ski"], ["ski"]]
    majority = {"cook": "f", "ski": "m"}
    # query 0 (cook) ranks images 0, 2, 1, ...: top 2 = f, m -> 1/2; f among cooks 2/3
    # query 1 (ski) ranks 4 (unknown, left out), 3, 5: top 2 = m, f -> 1/2; m among skiers 1/2
    queries = np.array([[0.9, 0.5, 0.8, 0, 0, 0], [0, 0, 0, 0.8, 0.9, 0.7]])
    value = retrieval_bias_amplification(queries, ["cook", "ski"], images, genders, tasks,
                                         majority, k=2)
    assert value == pytest.approx(((0.5 - 2 / 3) + (0.5 - 0.5)) / 2)
    # a query about a task without a training majority is left out; none left: NaN
    assert math.isnan(retrieval_bias_amplification(queries[:1], ["surf"], images, genders,
                                                   tasks, majority, k=2))


def test_retrieval_amplification_suite_on_planted_retrieval():
    # neutral queries about cooking retrieve the women first: more skewed than the data
    images = toy_frame(SKEWED)
    neutral = images.assign(caption=images["caption"].str.replace("woman", "person")
                            .str.replace(" man ", " person "))

    def encode(texts):  # one neutral query per task, pointing at that task's majority
        return np.array([[1.0, 0.0] if "cake" in t else [0.0, 1.0] for t in texts])

    # image embeddings: the majority-gender images of each task lie along its query
    emb = np.array([[1.0, 0.0] if (g, t[0]) == ("female", "cutting a cake") else
                    [0.0, 1.0] if (g, t[0]) == ("male", "riding a skateboard") else [0.5, 0.5]
                    for g, t in zip(images["gender"], images["tasks"], strict=True)])
    inputs = ModelInputs(neutral, {"bias_k": 3}, lambda frame: emb, encode)
    inputs.training_mix = images
    rows = SUITES.get("retrieval_amplification").measure(inputs)
    # top 3 of each query: its three majority images (1.0) vs 3/4 in the data -> +1/4
    assert rows == [("retrieval_biasamp@3", "gender", pytest.approx(0.25))]
