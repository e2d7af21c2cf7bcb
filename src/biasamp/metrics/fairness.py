"""Fairness of rankings: MaxSkew@k and NDKL@k of an attribute in retrieval results.

Both compare the distribution of a protected attribute (e.g. gender) among the top-ranked items
with a target distribution (uniform by default: a gender-neutral query should retrieve every
gender equally often). Defined by Geyik, Ambler & Kenthapadi (KDD 2019) and used for CLIP by
Berg et al. (2022) and the bias-amplification studies this workflow reproduces.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
