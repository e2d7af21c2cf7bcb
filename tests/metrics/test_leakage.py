"""LIC (Hirota et al., CVPR 2022): the score by hand, and planted leakage recovered."""

import numpy as np
import pandas as pd
import pytest

from biasamp.evaluate import ModelInputs
from biasamp.metrics import SUITES
from biasamp.metrics.leakage import leakage_score, lic, mask_gender


def test_score_and_mask_by_hand():
    # (0.9 right) + (0.7 right) + (0.6 wrong) -> (0.9 + 0.7 + 0) / 3 * 100
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    assert leakage_score(probabilities, np.array([0, 1, 1])) == pytest.approx(160 / 3)
    assert mask_gender("Her brother and a WOMAN") == "genderword genderword and a genderword"


def captions(n=40, seed=0):
    rng = np.random.default_rng(seed)
    genders = ["female", "male"] * (n // 2)
    human = [f"a {'woman' if g == 'female' else 'man'} {rng.choice(['walking', 'sitting'])} "
             f"in the {rng.choice(['park', 'street'])}" for g in genders]
    return human, genders


def test_captions_like_the_human_ones_leak_nothing_more():
    human, genders = captions()
    value, model, data = lic(human, list(human), genders)
    assert value == 0.0 and model == data


def test_captions_that_name_a_gendered_context_leak_more():
    human, genders = captions(200)
    # the model adds a context word that goes with the gender: leakage the masking keeps
    written = [f"{h} with a {'handbag' if g == 'female' else 'skateboard'}"
               for h, g in zip(human, genders, strict=True)]
    value, model, data = lic(human, written, genders)
    # human captions carry no gender once masked (about chance: right half the time at ~0.5
    # confidence); the model's carry it in every caption
    assert model > 75 and data < 40 and value > 40


def test_too_few_images_of_a_gender_give_no_row():
    human, genders = captions(n=12)
    inputs = ModelInputs(pd.DataFrame({"caption": human, "gender": genders}), {}, None, None,
                         written_captions=human)
    assert SUITES.get("leakage").measure(inputs) == []  # 6 per gender < 10
