"""Leakage in captions, LIC (Hirota, Nakashima & Garcia, CVPR 2022) (suite ``leakage``).

How much a caption reveals the gender of the person in the image once every gender word is
masked: a classifier is trained to predict gender from masked captions, and

    LIC = (1 / |D|) Σ_i max_g P(g | caption_i) · 1[predicted g = true g_i] · 100

over held-out captions D. ``LIC_D`` is computed on the human captions of the evaluation images
and ``LIC_M`` on the captions the model wrote for the same images; ``lic = LIC_M − LIC_D``:
positive, the model's captions leak gender more than human captions of the same images do,
i.e. the captioner amplifies the association of context words with gender.

As published: images of known gender, balanced (as many of each gender, drawn with the seed);
each classifier seed splits them in half (stratified), trains on one half and scores the other;
``lic`` is the mean over the seeds. The classifier here is TF-IDF (words and word pairs) with a
logistic regression (scikit-learn), standing in for the paper's LSTM and BERT classifiers, so
values are not those of the paper (e.g. NIC 43.2 / 39.5 → 3.7; Transformer 48.4 / 39.7 → 8.7).
"""

from __future__ import annotations

import re

import numpy as np

from biasamp.metrics import SUITES, Direction, Metric
from biasamp.metrics.amplification import GENDERS
from biasamp.wordlists import FEMALE, MALE, NOT_GENDER

SEEDS = (0, 1, 2, 3, 4)
MIN_PER_GENDER = 10  # fewer images of either gender: no value
_GENDER_WORD = re.compile(r"\b(" + "|".join(sorted(MALE | FEMALE)) + r")\b", re.IGNORECASE)
_NOT_GENDER = re.compile("|".join(NOT_GENDER), re.IGNORECASE)  # phrases left as they are
MASK = "genderword"


def mask_gender(caption: str) -> str:
    """``caption`` with every word of the gender word lists replaced by one mask token.

    Phrases in which a gender word names no gender (:data:`biasamp.wordlists.NOT_GENDER`: a
    king size bed, spider-man) are left as they are.

    >>> mask_gender("A man and his dog")
    'A genderword and genderword dog'
    >>> mask_gender("A woman on a King size bed")
    'A genderword on a King size bed'
    """
    out, last = [], 0
    for kept in _NOT_GENDER.finditer(caption):
        out += [_GENDER_WORD.sub(MASK, caption[last:kept.start()]), kept.group()]
        last = kept.end()
    return "".join(out) + _GENDER_WORD.sub(MASK, caption[last:])


def leakage_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """LIC of held-out captions: mean of max-probability × 1[argmax = label], × 100.
    ``probabilities``: [n × classes]; ``labels``: the true class index of each caption.

    >>> leakage_score(np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]), np.array([0, 1, 1]))
    53.333333333333336
    """
    probabilities = np.asarray(probabilities, float)
    right = probabilities.argmax(axis=1) == np.asarray(labels)
    return float((probabilities.max(axis=1) * right).mean() * 100)


def lic(human: list[str], written: list[str], genders: list[str],
        seeds=SEEDS) -> tuple[float, float, float]:
    """(LIC_M − LIC_D, LIC_M, LIC_D), each a mean over ``seeds``, for the captions of the same
    images (``genders``: female / male each)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    genders = np.asarray(genders, dtype=object)
    rng = np.random.default_rng(0)
    per = min((genders == g).sum() for g in GENDERS)
    if per < MIN_PER_GENDER:
        return float("nan"), float("nan"), float("nan")
    chosen = np.sort(np.concatenate([rng.choice(np.flatnonzero(genders == g), per,
                                                replace=False) for g in GENDERS]))
    labels = np.array([GENDERS.index(g) for g in genders[chosen]])
    texts = {"human": [mask_gender(human[i]) for i in chosen],
             "model": [mask_gender(written[i]) for i in chosen]}
    scores = {"human": [], "model": []}
    for seed in seeds:
        train, test = train_test_split(np.arange(len(chosen)), test_size=0.5,
                                       stratify=labels, random_state=seed)
        for source, captions in texts.items():
            vectorizer = TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"[a-z0-9]+")
            features = vectorizer.fit_transform([captions[i] for i in train])
            classifier = LogisticRegression(random_state=seed, max_iter=1000)
            classifier.fit(features, labels[train])
            probabilities = classifier.predict_proba(
                vectorizer.transform([captions[i] for i in test]))
            scores[source].append(leakage_score(probabilities, labels[test]))
    model, data = float(np.mean(scores["model"])), float(np.mean(scores["human"]))
    return model - data, model, data


@SUITES.register(
    "leakage", needs=frozenset({"written_captions"}),
    metrics=lambda evaluation: [Metric("lic", Direction.BIAS, references=(
        (0.0, "0: leaks as much as human captions"),))])
def measure(inputs) -> list[tuple[str, str, float]]:
    """lic (group ``gender``) on the evaluation images of known gender (sets with captions)."""
    images = inputs.images
    if not inputs.has_captions or "gender" not in images:
        return []
    known = images["gender"].isin(GENDERS).to_numpy(dtype=bool)
    human = images["caption"].fillna("").tolist()
    value, _, _ = lic([h for h, k in zip(human, known, strict=True) if k],
                      [w for w, k in zip(inputs.written_captions, known, strict=True) if k],
                      images.loc[known, "gender"].tolist())
    return [] if np.isnan(value) else [("lic", "gender", value)]
