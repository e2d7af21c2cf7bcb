"""Zero-shot predictions with caption-style prompts, on planted embeddings."""

import numpy as np
import pandas as pd
import pytest

from biasamp.evaluate import ModelInputs
from biasamp.metrics import SUITES

CAKE, KITE = "cutting a cake", "flying a kite"
IMAGES = pd.DataFrame({
    "caption": [f"a {w} in a red shirt {t} in the park" for w, t in
                [("woman", CAKE), ("person", KITE), ("man", CAKE), ("man", KITE)]],
    "gender": ["female", "female", "male", "male"],
    "tasks": [[CAKE], [KITE], [CAKE], [KITE]],
})


def encode(seen):
    def encode_texts(texts):
        seen.extend(texts)
        rows = np.array([[" woman " in f" {t} ", " man " in f" {t} ", CAKE in t, KITE in t]
                         for t in texts], dtype=float)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return encode_texts


def measure(suite, image_emb):
    seen = []
    inputs = ModelInputs(IMAGES, {}, lambda frame: image_emb, encode(seen))
    inputs.training_mix = IMAGES  # trained on images like these
    rows = {(m, g): v for m, g, v in SUITES.get(suite).measure(inputs)}
    return rows, seen


def test_a_model_that_sees_gender_and_task_is_right_and_amplifies_nothing():
    sees = np.array([[1, 0, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0], [0, 1, 0, 1]], dtype=float)
    rows, seen = measure("zeroshot", sees)
    assert rows == {("zeroshot_accuracy", "gender"): 1.0, ("zeroshot_accuracy", "task"): 1.0}
    # prompts in the captions' own style: the caption with each gender, or a neutral subject
    # and each task; each distinct prompt encoded once
    assert "a man in a red shirt flying a kite in the park" in seen
    assert "a person in a red shirt cutting a cake in the park" in seen
    assert not any(t.startswith("a photo of") for t in seen)
    assert len(seen) == len(set(seen))
    amplification, _ = measure("amplification", sees)
    assert amplification[("biasamp_t2a", "gender")] == 0.0
    assert amplification[("biasamp_a2t", "gender")] == 0.0


def test_a_model_blind_to_gender_is_at_chance():
    blind = np.array([[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    rows, _ = measure("zeroshot", blind + 1e-9)
    assert rows[("zeroshot_accuracy", "gender")] == pytest.approx(0.5)
    assert rows[("zeroshot_accuracy", "task")] == 1.0


def test_a_model_that_reads_gender_from_the_task_amplifies():
    # images show the task only; the text tower ties cakes to women and kites to men: a prompt
    # of a stereotyped pair lies closer to the task's images
    def stereotyped(texts):
        rows = []
        for t in texts:
            woman, man = " woman " in f" {t} ", " man " in f" {t} "
            weight = 1.0 if (woman and CAKE in t) or (man and KITE in t) or not (woman or man) \
                else 0.5
            rows.append([woman, man, weight * (CAKE in t), weight * (KITE in t)])
        rows = np.array(rows, dtype=float)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    images = np.array([[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    inputs = ModelInputs(IMAGES, {}, lambda frame: images, stereotyped)
    inputs.training_mix = pd.concat([IMAGES, IMAGES.iloc[[0, 3]]])  # cake: women, kite: men
    rows = {(m, g): v for m, g, v in SUITES.get("amplification").measure(inputs)}
    # every cake image is called a woman, every kite image a man: each cell is +1/2
    assert rows[("biasamp_t2a", "gender")] == pytest.approx(0.5)
    assert rows[("biasamp_a2t", "gender")] == 0.0  # the tasks are seen right


def test_images_of_unknown_gender_are_not_judged():
    images = IMAGES.assign(gender=pd.array(["female", None, "male", "male"], dtype="string"))
    sees = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 1, 1, 0], [0, 1, 0, 1]], dtype=float)
    inputs = ModelInputs(images, {}, lambda frame: sees, encode([]))
    inputs.training_mix = IMAGES
    rows = dict(((m, g), v) for m, g, v in SUITES.get("zeroshot").measure(inputs))
    assert rows[("zeroshot_accuracy", "gender")] == 1.0  # image 1 (unknown) left out
