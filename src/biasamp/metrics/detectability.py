"""Detectability of generated images in a model's representation, by group (suite
``detectability``).

The probe: each generator renders the captions of a seeded sample of the dataset's test images
(``evaluation.detectability_images``; rule ``generate_probe``). For each trained model, a linear
classifier (scikit-learn's L2-regularised logistic regression, C = 1, on standardised
features) learns to tell the generated images from the real images of the same captions from
the model's L2-normalised image embeddings. Its scores are out-of-fold: the pairs (a caption's
real and generated image, never split) are dealt into ``evaluation.detectability_folds`` folds
by a seeded permutation (``evaluation.seed``), and each fold is scored by the probe fitted on
the others. Measures:

- ``detectability_auc``: the area under the ROC curve of those scores (generated = positive):
  0.5 when the model's representation cannot tell generated from real images, 1 when it always
  can. Group ``""`` is over all pairs; ``attribute:value`` over the real and generated images
  of that group (a generated image's group is what its generator reports, else its prompt
  image's), by the one probe fitted on all images;
- ``detectability_auc_gap``: per attribute (group = its name), the largest minus the smallest
  of its values' AUCs: how much more recognisable one group's generated images are than
  another's. 0 when they are alike.

As the ratio grows, the model is trained on more generated images; whether that makes them
more (or unevenly) recognisable is what the measures follow. A group needs images of both kinds;
one without is left out (AUC undefined).
"""

from __future__ import annotations

import numpy as np

from biasamp.metrics import SUITES, Direction, Metric, subgroups

CHANCE = ((0.5, "0.5: generated and real alike to the model"),)


def fold_of_pairs(pair_ids, folds: int, seed: int) -> np.ndarray:
    """A fold per item, such that items with the same pair id share one: pairs are dealt into
    ``folds`` folds in a seeded random order.

    >>> fold_of_pairs(["a", "b", "a", "c", "b", "c"], 3, 0).tolist()
    [0, 1, 0, 2, 1, 2]
    """
    from biasamp.seeding import derive_seed

    unique, index = np.unique(np.asarray(pair_ids, dtype=object).astype(str), return_inverse=True)
    order = np.random.default_rng(derive_seed(seed, "detectability")).permutation(len(unique))
    fold_of_unique = np.empty(len(unique), dtype=int)
    fold_of_unique[order] = np.arange(len(unique)) % folds
    return fold_of_unique[index]


def probe_scores(embeddings: np.ndarray, generated: np.ndarray, pair_ids, folds: int,
                 seed: int) -> np.ndarray:
    """Out-of-fold scores (log-odds of "generated") of a logistic-regression probe; a fold's
    pairs are scored by the probe fitted on the other folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    fold = fold_of_pairs(pair_ids, folds, seed)
    scores = np.full(len(embeddings), np.nan)
    y = np.asarray(generated, dtype=int)
    for k in np.unique(fold):
        test = fold == k
        if len(np.unique(y[~test])) < 2:
            continue
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        probe.fit(embeddings[~test], y[~test])
        scores[test] = probe.decision_function(embeddings[test])
    return scores


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of ``scores`` for ``positive`` (NaN without both classes).

    >>> auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    0.75
    """
    from sklearn.metrics import roc_auc_score

    keep = ~np.isnan(scores)
    positive = np.asarray(positive, dtype=bool)[keep]
    if positive.all() or not positive.any():
        return float("nan")
    return float(roc_auc_score(positive, scores[keep]))


def detectability(real, real_embeddings, generated, generated_embeddings, folds: int,
                  seed: int) -> list[tuple[str, str, float]]:
    """The suite's rows for ``real`` images paired with ``generated`` ones (``source_id``: the
    real image whose caption was the prompt); only pairs with both images count."""
    import pandas as pd

    from biasamp.evaluate import attribute_values

    paired = generated["source_id"].isin(real["id"]).to_numpy()
    generated, generated_embeddings = generated[paired], generated_embeddings[paired]
    keep = real["id"].isin(generated["source_id"]).to_numpy()
    real, real_embeddings = real[keep], real_embeddings[keep]
    if len(real) < folds:
        return []
    both = pd.concat([real.assign(pair=real["id"]), generated.assign(pair=generated["source_id"])],
                     ignore_index=True)
    is_generated = np.r_[np.zeros(len(real), bool), np.ones(len(generated), bool)]
    scores = probe_scores(np.vstack([real_embeddings, generated_embeddings]), is_generated,
                          both["pair"], folds, seed)
    rows, by_attribute = [], {}
    for group, members in subgroups(both, attribute_values(both)):
        value = auc(scores[members], is_generated[members])
        if np.isnan(value) and group:
            continue
        rows.append(("detectability_auc", group, value))
        if group:
            by_attribute.setdefault(group.split(":")[0], []).append(value)
    rows += [("detectability_auc_gap", attribute, float(max(values) - min(values)))
             for attribute, values in by_attribute.items() if len(values) > 1]
    return rows


@SUITES.register(
    "detectability", needs=frozenset({"image_embeddings", "generated_images"}),
    metrics=lambda evaluation: [
        Metric("detectability_auc", Direction.NEITHER, references=CHANCE),
        Metric("detectability_auc_gap", Direction.BIAS,
               references=((0.0, "0: every group's generated images equally recognisable"),)),
    ] if evaluation["detectability_images"] else [])
def measure(inputs) -> list[tuple[str, str, float]]:
    """Probe AUC overall and per group, and its spread across each attribute's groups."""
    generated = inputs.generated_images
    if generated is None or generated.empty:
        return []
    return detectability(inputs.images, inputs.image_embeddings, generated,
                         inputs.generated_embeddings, inputs.evaluation["detectability_folds"],
                         inputs.evaluation["seed"])
