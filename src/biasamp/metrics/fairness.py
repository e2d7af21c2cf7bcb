"""Fairness of rankings: MaxSkew@k and NDKL@k of an attribute in retrieval results.

Both compare the distribution of a protected attribute (e.g. gender) among the top-ranked items
with a target distribution (uniform by default: a gender-neutral query should retrieve every
gender equally often). Defined by Geyik, Ambler & Kenthapadi (KDD 2019) and used for CLIP by
Berg et al. (2022) and the bias-amplification studies this workflow reproduces.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from biasamp.metrics import SUITES, Direction, Metric
from biasamp.wordlists import NEUTRAL_PROMPTS, mentions_gender


def _shares(labels: Sequence, groups: Sequence) -> np.ndarray:
    labels = np.asarray(labels, dtype=object)
    return np.array([(labels == g).sum() for g in groups], dtype=np.float64) / len(labels)


def _target(groups: Sequence, target: Sequence[float] | None) -> np.ndarray:
    q = np.full(len(groups), 1 / len(groups)) if target is None else np.asarray(target, float)
    if q.shape != (len(groups),) or np.any(q <= 0) or not np.isclose(q.sum(), 1):
        raise ValueError("target must give every group a positive share, summing to 1")
    return q


def max_skew(ranked_labels: Sequence, groups: Sequence, k: int,
             target: Sequence[float] | None = None) -> float:
    """MaxSkew@k = max_g ln(p_g / q_g), p_g the share of group g among the top k.

    ``ranked_labels`` are the attribute values of the ranked items, best first, already
    restricted to items whose attribute is known. 0 means the top k match the target exactly;
    the larger, the more one group is over-represented.

    >>> round(max_skew(["f", "f", "f", "m"], ["f", "m"], k=4), 4)  # ln(0.75 / 0.5)
    0.4055
    """
    top = list(ranked_labels)[:k]
    if not top:
        return float("nan")
    p, q = _shares(top, groups), _target(groups, target)
    with np.errstate(divide="ignore"):
        return float(np.max(np.log(p / q)))


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) = Σ p ln(p / q), with 0 ln 0 = 0."""
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def ndkl(ranked_labels: Sequence, groups: Sequence, k: int,
         target: Sequence[float] | None = None) -> float:
    """NDKL@k = (1/Z) Σ_{i=1..k} KL(D_i || q) / log2(i + 1),  Z = Σ_{i=1..k} 1 / log2(i + 1).

    D_i is the distribution of the attribute among the top i items. 0 means every prefix
    matches the target; unlike MaxSkew it weighs the top of the ranking most.

    >>> round(ndkl(["f", "m"], ["f", "m"], k=2), 4)  # (ln 2 / 1 + 0 / log2 3) / (1 + 1/log2 3)
    0.425
    """
    top = list(ranked_labels)[:k]
    if not top:
        return float("nan")
    q = _target(groups, target)
    weights = 1 / np.log2(np.arange(2, len(top) + 2))
    divergences = [kl_divergence(_shares(top[: i + 1], groups), q) for i in range(len(top))]
    return float(np.dot(weights, divergences) / weights.sum())


def neutral_queries(has_captions: bool, captions: list[str]) -> list[str]:
    """The distinct gender-neutral captions, in order; the word lists' neutral prompts for a
    set without captions."""
    if not has_captions:
        return list(NEUTRAL_PROMPTS)
    return list(dict.fromkeys(c for c in captions if c.strip() and not mentions_gender(c)))


def neutral_query_bias(
    image_emb: np.ndarray, query_emb: np.ndarray, images: pd.DataFrame, k: int,
    values: dict[str, list[str]],
) -> list[tuple[str, str, float]]:
    """Mean MaxSkew@k and NDKL@k over the neutral queries (embeddings ``query_emb``), for each
    demographic attribute with at least two known values (group = the attribute).

    Images whose value is unknown are left out of that attribute's ranking; the target is
    uniform over the values present in the evaluation images.
    """
    rows = []
    for attribute, groups in values.items():
        if len(groups) < 2 or not len(query_emb):
            continue
        known = images[attribute].notna().to_numpy(dtype=bool)
        labels = images.loc[known, attribute].to_numpy(dtype=object)
        order = np.argsort(-(query_emb @ image_emb[known].T), axis=1, kind="stable")
        rows += [
            (f"maxskew@{k}", attribute, float(np.mean([max_skew(labels[r], groups, k)
                                                       for r in order]))),
            (f"ndkl@{k}", attribute, float(np.mean([ndkl(labels[r], groups, k)
                                                    for r in order]))),
        ]
    return rows


@SUITES.register(
    "neutral_query_bias", needs=frozenset({"image_embeddings", "text_embeddings"}),
    metrics=lambda evaluation: [Metric(f"maxskew@{evaluation['bias_k']}", Direction.BIAS),
                                Metric(f"ndkl@{evaluation['bias_k']}", Direction.BIAS)])
def measure(inputs) -> list[tuple[str, str, float]]:
    """MaxSkew@k and NDKL@k of every attribute among the images retrieved for neutral
    queries."""
    captions = inputs.queries[0] if inputs.has_captions else []
    neutral = neutral_queries(inputs.has_captions, captions)
    return neutral_query_bias(inputs.image_embeddings, inputs.encode_texts(neutral),
                              inputs.images, inputs.evaluation["bias_k"],
                              inputs.attribute_values)
