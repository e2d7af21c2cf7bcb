"""Metrics against cases computed by hand (the arithmetic is in the comments)."""

import math

import numpy as np
import pandas as pd
import pytest
from helpers import evaluation_settings

from biasamp.evaluate import ModelInputs, queries, ranking_embeddings
from biasamp.metrics import SUITES
from biasamp.metrics.dataset_bias import dataset_bias_score
from biasamp.metrics.fairness import kl_divergence, max_skew, min_skew, ndkl, neutral_queries
from biasamp.metrics.markedness import self_similarity
from biasamp.metrics.retrieval import recall_at_k, target_ranks
from biasamp.wordlists import NEUTRAL_PROMPTS, PERSON_PROMPT

EVALUATION = evaluation_settings(recall_k=[1, 2], bias_k=2, caption_scorers=[])


def suite_rows(suite, images, image_emb=None, encode=None, written=None, **evaluation):
    """{(metric, group): value} of one registered suite, on given embeddings."""
    inputs = ModelInputs(images, {**EVALUATION, **evaluation}, lambda frame: image_emb, encode,
                         written)
    return {(m, g): v for m, g, v in SUITES.get(suite).measure(inputs)}


SIMILARITY = np.array([
    [0.9, 0.1, 0.5],   # query 0: its image scores highest          -> rank 0
    [0.2, 0.3, 0.8],   # query 1: one image scores higher            -> rank 1
    [0.4, 0.4, 0.4],   # query 2: three-way tie, two listed before it -> rank 2
])


def test_target_ranks_and_recall():
    ranks = target_ranks(SIMILARITY, np.arange(3))
    assert ranks.tolist() == [0, 1, 2]
    assert recall_at_k(ranks, 1) == pytest.approx(1 / 3)
    assert recall_at_k(ranks, 2) == pytest.approx(2 / 3)
    assert recall_at_k(ranks, 3) == 1.0
    assert math.isnan(recall_at_k(np.array([]), 1))


def test_recall_per_subgroup():
    test = pd.DataFrame({"caption": ["q0", "q1", "q2"], "gender": ["female", "male", "female"],
                         "skin": pd.array([None, None, None], dtype="string")})
    # SIMILARITY = text @ image.T with identity image embeddings
    values = suite_rows("retrieval", test, np.eye(3), lambda texts: SIMILARITY)
    assert values[("recall@1", "")] == pytest.approx(1 / 3)
    assert values[("recall@1", "gender:female")] == pytest.approx(1 / 2)  # ranks 0, 2
    assert values[("recall@2", "gender:male")] == 1.0                      # rank 1
    # image -> text, by the columns of SIMILARITY: image 0 rank 0, image 1 rank 1 (0.4 > 0.3),
    # image 2 rank 2 (0.5 and 0.8 above its 0.4)
    assert values[("i2t_recall@1", "")] == pytest.approx(1 / 3)
    assert values[("i2t_recall@2", "")] == pytest.approx(2 / 3)
    assert values[("i2t_recall@2", "gender:female")] == pytest.approx(1 / 2)  # images 0, 2
    assert not any(g.startswith("skin") for _, g in values)              # unknown: no subgroup


def test_max_skew_hand_computed():
    labels = ["m", "m", "m", "f"]
    # p = (f .25, m .75), uniform q = .5: max(ln .5, ln 1.5) = ln 1.5
    assert max_skew(labels, ["f", "m"], k=4) == pytest.approx(math.log(1.5))
    assert max_skew(labels, ["f", "m"], k=2) == pytest.approx(math.log(2))  # top 2 all "m"
    assert max_skew(labels, ["f", "m"], k=4, target=[0.25, 0.75]) == pytest.approx(0.0)
    assert max_skew(["f", "m"], ["f", "m"], k=2) == pytest.approx(0.0)


def test_min_skew_hand_computed():
    # Geyik et al. 2019: MinSkew@k = min_g ln(p_g / q_g)
    assert min_skew(["f", "f", "f", "m"], ["f", "m"], k=4) == pytest.approx(math.log(0.5))
    # against a target of (0.25, 0.75): f ln(.75/.25), m ln(.25/.75)
    assert min_skew(["f", "f", "f", "m"], ["f", "m"], k=4, target=[0.25, 0.75]) == pytest.approx(
        math.log(1 / 3))
    # a group absent from the top k counts as one item of k (Berg et al.'s convention)
    assert min_skew(["f", "f", "f", "m"], ["f", "m", "x"], k=3) == pytest.approx(
        math.log((1 / 3) / (1 / 3)))
    # k beyond the ranking: the whole ranking
    assert min_skew(["f", "m"], ["f", "m"], k=10) == pytest.approx(0.0)
    assert max_skew(["f", "f", "m"], ["f", "m"], k=10) == pytest.approx(math.log(4 / 3))


def test_ndkl_hand_computed():
    labels = ["m", "m", "f", "f"]
    # prefixes: (0,1) KL ln2 | (0,1) KL ln2 | (1/3,2/3) KL 1/3 ln(2/3) + 2/3 ln(4/3) | (.5,.5) 0
    kl3 = 1 / 3 * math.log(2 / 3) + 2 / 3 * math.log(4 / 3)
    weights = [1, 1 / math.log2(3), 1 / math.log2(4), 1 / math.log2(5)]
    expected = (math.log(2) * (weights[0] + weights[1]) + kl3 * weights[2]) / sum(weights)
    assert expected == pytest.approx(0.452369, abs=1e-6)
    assert ndkl(labels, ["f", "m"], k=4) == pytest.approx(expected)
    assert ndkl(["f", "m", "f", "m"], ["f", "m"], k=1) == pytest.approx(math.log(2))
    assert kl_divergence(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0


def test_target_must_be_a_distribution():
    with pytest.raises(ValueError, match="target"):
        max_skew(["f"], ["f", "m"], k=1, target=[1.0, 0.0])


def test_dataset_bias_score_hand_computed():
    activities = ["cook"] * 3 + ["ski"] * 2 + ["surf"] * 4
    genders = ["f", "f", "m", "m", "m", "f", "m", "f", "m"]
    # cook 2/3, ski 2/2, surf 2/4 -> mean (2/3 + 1 + 1/2) / 3
    assert dataset_bias_score(np.array(activities), np.array(genders)) == pytest.approx(
        (2 / 3 + 1 + 0.5) / 3)
    assert math.isnan(dataset_bias_score(np.array([]), np.array([])))


def test_neutral_query_bias_on_planted_embeddings():
    test = pd.DataFrame({
        "caption": ["a person cooking", "a woman cooking", "a man cooking", "a person cooking",
                    "a man skiing"],
        "gender": ["female", "female", "male", "male", None],
        "skin": ["dark", "light", "dark", "light", "dark"],
    })
    images = np.eye(5)
    # gender: both neutral captions are the same query (counted once)
    assert neutral_queries(True, test["caption"].tolist()) == ["a person cooking"]
    # skin: no caption names a skin tone, so all four distinct captions query
    assert neutral_queries(True, test["caption"].tolist(), "skin") == [
        "a person cooking", "a woman cooking", "a man cooking", "a man skiing"]
    vectors = {"a person cooking": [0.9, 0.8, 0.1, 0.0, 0.95],  # prefers 4, 0, 1, 2, 3
               "a woman cooking": [0.0, 0.9, 0.0, 0.8, 0.0],  # 1, 3 (light, light)
               "a man cooking": [0.0, 0.8, 0.9, 0.0, 0.0],  # 2, 1 (dark, light)
               "a man skiing": [0.5, 0.0, 0.0, 0.0, 0.9]}  # 4, 0 (dark, dark)
    encoded = []
    values = suite_rows("neutral_query_bias", test, images,
                        lambda texts: encoded.append(texts) or np.array([vectors[t]
                                                                         for t in texts]))
    assert encoded == [list(vectors)]  # each distinct query embedded once
    # gender: image 4 is unknown and left out, top 2 = (female, female): ln(1 / .5)
    assert values["maxskew@2", "gender"] == pytest.approx(math.log(2))
    assert values["ndkl@2", "gender"] == pytest.approx(math.log(2))
    # skin: three queries retrieve one tone only (MaxSkew ln 2, NDKL prefixes (1,0) and (1,0):
    # ln 2); "a man cooking" a balanced top 2: MaxSkew 0, NDKL (ln 2 / 1 + 0) / (1 + 1/log2 3)
    balanced_ndkl = math.log(2) / (1 + 1 / math.log2(3))
    assert values["maxskew@2", "skin"] == pytest.approx(3 / 4 * math.log(2))
    assert values["ndkl@2", "skin"] == pytest.approx((3 * math.log(2) + balanced_ndkl) / 4)
    # MinSkew, uniform: the other tone absent from a top 2 counts as 1 of 2 -> ln(.5/.5) = 0
    assert values["minskew@2", "skin"] == pytest.approx(0.0)
    # demographic parity: skin is dark, light, dark, light, dark -> q = (3/5, 2/5); the tops are
    # (dark, dark) twice, (light, light), (dark, light)
    ln = math.log
    assert values["maxskew_parity@2", "skin"] == pytest.approx(
        (2 * ln(5 / 3) + ln(5 / 2) + ln(5 / 4)) / 4)
    # (dark, dark): min(ln(1/.6), ln(.5/.4)); (light, light) and (dark, light): ln(.5/.6)
    assert values["minskew_parity@2", "skin"] == pytest.approx((2 * ln(5 / 4) + 2 * ln(5 / 6)) / 4)
    mixed = (ln(5 / 3) + 0.5 * ln(25 / 24) / math.log2(3)) / (1 + 1 / math.log2(3))
    assert values["ndkl_parity@2", "skin"] == pytest.approx(
        (2 * ln(5 / 3) + ln(5 / 2) + mixed) / 4)
    # gender is balanced among the ranked images: parity = uniform
    assert values["maxskew_parity@2", "gender"] == pytest.approx(values["maxskew@2", "gender"])


def test_a_query_naming_a_value_of_an_attribute_is_not_neutral_for_it():
    captions = ["an old man cooking", "a young woman skiing", "an Asian man at a market",
                "a black dog on a couch", "a dark-skinned person surfing", "a person cooking",
                "Chinese food on a plate", "an old building"]
    assert neutral_queries(True, captions, "age") == [
        "an Asian man at a market", "a black dog on a couch", "a dark-skinned person surfing",
        "a person cooking", "Chinese food on a plate", "an old building"]
    assert neutral_queries(True, captions, "ethnicity") == [
        c for c in captions if c != "an Asian man at a market"]
    assert neutral_queries(True, captions, "skin") == [
        c for c in captions if c != "a dark-skinned person surfing"]
    assert neutral_queries(True, captions, "gender") == [
        "a black dog on a couch", "a dark-skinned person surfing", "a person cooking",
        "Chinese food on a plate", "an old building"]


def test_sets_without_captions_use_the_neutral_prompts():
    test = pd.DataFrame({"caption": ["", ""], "gender": ["female", "male"]})
    assert neutral_queries(False, []) == list(NEUTRAL_PROMPTS)
    seen = []
    suite_rows("neutral_query_bias", test, np.eye(2),
               lambda texts: seen.extend(texts) or np.ones((len(texts), 2)))
    assert seen == list(NEUTRAL_PROMPTS)


def test_self_similarity_hand_computed():
    a, b = np.array([1.0, 0.0]), np.array([0.6, 0.8])
    # pairs (a,a)=1, (a,b)=.6, (a,b)=.6 -> mean 2.2 / 3
    assert self_similarity(np.stack([a, a, b])) == pytest.approx(2.2 / 3)
    assert math.isnan(self_similarity(a[None]))


def test_markedness_per_subgroup():
    test = pd.DataFrame({"caption": "",  # unknown gender as manifests hold it: <NA>
                         "gender": pd.array(["female", "female", "male", None], dtype="string"),
                         "region": ["Africa", "Europe", "Africa", "Europe"]})
    images = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    prompts = {PERSON_PROMPT: [0.6, 0.6, 0.5], "a photo of a male person": [0.0, 0.0, 1.0],
               "a photo of a female person": [0.5, 0.7, 0.0],
               "a photo of a person from Africa": [0.0, 0.9, 0.0],
               "a photo of a person from Europe": [0.0, 0.0, 0.4]}
    seen = []

    def encode(texts):
        seen.extend(texts)
        return np.array([prompts[t] for t in texts])

    values = suite_rows("markedness", test, images, encode)
    # gender: image 0 person .6 > (woman .5, man 0); image 1 person .6 < woman .7;
    # image 2 person .5 < man 1
    assert values["person_preference", "gender:female"] == 0.5
    assert values["person_preference", "gender:male"] == 0.0
    # region: image 0 .6 > (0, 0) yes, image 2 .5 > .4 yes; images 1, 3: .6 < .9 no
    assert values["person_preference", "region:Africa"] == 1.0
    assert values["person_preference", "region:Europe"] == 0.0
    # self-similarity: the two Europe images are identical; overall pairs: only (1,3) = 1 of 6
    assert values["self_similarity", "region:Europe"] == 1.0
    assert values["self_similarity", "region:Africa"] == 0.0
    assert values["self_similarity", ""] == pytest.approx(1 / 6)
    assert math.isnan(values["self_similarity", "gender:male"])  # one image: no pair
    assert "a photo of a person from Africa" in seen


def test_every_caption_of_an_image_queries_it():
    test = pd.DataFrame({"caption": ["a", "c"], "captions": [["a", "b"], ["c"]],
                         "gender": ["female", "male"]})
    captions, targets = queries(test)
    assert captions == ["a", "b", "c"] and targets.tolist() == [0, 0, 1]
    # three queries over two images: query "b" ranks its image second
    similarity = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])
    values = suite_rows("retrieval", test, np.eye(2), lambda texts: similarity, recall_k=[1])
    assert values[("recall@1", "")] == pytest.approx(2 / 3)
    assert values[("recall@1", "gender:female")] == pytest.approx(1 / 2)
    assert values[("recall@1", "gender:male")] == 1.0
    # image -> text: image 0 (texts a, b) finds "a" first (0.9); image 1's own "c" (0.7) ranks
    # below "b" (0.8): a hit when any of the image's own captions is in the top k
    assert values[("i2t_recall@1", "")] == pytest.approx(1 / 2)
    assert values[("i2t_recall@1", "gender:female")] == 1.0
    assert values[("i2t_recall@1", "gender:male")] == 0.0


def test_published_normalisation_changes_the_ranking_as_published():
    raw = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 2.0]])  # |rows| = 1, 3, 2.83
    query = np.array([[0.8, 0.6]])
    # per row: image 2 (0.99), image 0 (0.8), image 1 (0.6) -> image 0 has rank 1
    assert target_ranks(query @ ranking_embeddings(raw).T, np.array([0])).tolist() == [1]
    # all divided by |row 1| = 3: image 2 (2.8/3), image 1 (1.8/3), image 0 (0.8/3) -> rank 2
    assert target_ranks(query @ ranking_embeddings(raw, True).T, np.array([0])).tolist() == [2]
