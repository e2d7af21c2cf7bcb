"""Fairness of rankings: MaxSkew@k, MinSkew@k and NDKL@k of an attribute in retrieval results.

Each compares the distribution of a protected attribute (e.g. gender) among the top-ranked items
with a target distribution: uniform (a gender-neutral query should retrieve every gender
equally often), or the attribute's distribution among the ranked images (demographic parity).
Defined by Geyik, Ambler & Kenthapadi (KDD 2019); both targets as in Berg et al. (2022), whose
CLIP bias measures the bias-amplification studies this workflow reproduces use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from biasamp.metrics import SUITES, Direction, Metric
from biasamp.wordlists import NEUTRAL_PROMPTS, mentions


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


def min_skew(ranked_labels: Sequence, groups: Sequence, k: int,
             target: Sequence[float] | None = None) -> float:
    """MinSkew@k = min_g ln(p_g / q_g): how far the most under-represented group falls short of
    its target share. A group absent from the top k counts as one item (p_g = 1 / k), as Berg et
    al.'s code does for its skews, so the value stays finite.

    >>> round(min_skew(["f", "f", "f", "m"], ["f", "m"], k=4), 4)  # ln(0.25 / 0.5)
    -0.6931
    >>> round(min_skew(["f", "f"], ["f", "m"], k=2), 4)  # m absent: ln(0.5 / 0.5)
    0.0
    """
    top = list(ranked_labels)[:k]
    if not top:
        return float("nan")
    p, q = _shares(top, groups), _target(groups, target)
    p = np.where(p == 0, 1 / len(top), p)
    return float(np.min(np.log(p / q)))


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


def neutral_queries(has_captions: bool, captions: list[str], attribute: str = "gender"
                    ) -> list[str]:
    """The distinct captions neutral for ``attribute`` (naming none of its values, by the word
    lists), in order; the word lists' neutral prompts for a set without captions.

    >>> neutral_queries(True, ["a man cooking", "an old man cooking", "a cook"], "age")
    ['a man cooking', 'a cook']
    """
    if not has_captions:
        return list(NEUTRAL_PROMPTS)
    return list(dict.fromkeys(c for c in captions if c.strip() and not mentions(attribute, c)))


# MaxSkew/MinSkew/NDKL targets: uniform over the values present (Geyik et al.'s equality of
# opportunity), or each value's share of the ranked images (demographic parity, Berg et al. 2022)
TARGETS = {"uniform": "", "parity": "_parity"}  # target -> metric name suffix


def target_shares(labels: np.ndarray, groups: Sequence, target: str) -> np.ndarray | None:
    """The target distribution over ``groups`` (None: uniform)."""
    if target == "uniform":
        return None
    return _shares(labels, groups)


def neutral_query_bias(
    image_emb: np.ndarray, images: pd.DataFrame, k: int, values: dict[str, list[str]],
    queries: dict[str, np.ndarray], targets: Sequence[str] = ("uniform",),
) -> list[tuple[str, str, float]]:
    """Mean MaxSkew@k, MinSkew@k and NDKL@k over each attribute's neutral queries (``queries``:
    attribute → their embeddings), for each demographic attribute with at least two known values
    (group = the attribute), against each of ``targets``.

    Images whose value is unknown are left out of that attribute's ranking. Ties rank in index
    order (a stable sort); a ranking shorter than k is measured whole.
    """
    rows = []
    for attribute, groups in values.items():
        query_emb = queries[attribute]
        if len(groups) < 2 or not len(query_emb):
            continue
        known = images[attribute].notna().to_numpy(dtype=bool)
        labels = images.loc[known, attribute].to_numpy(dtype=object)
        order = np.argsort(-(query_emb @ image_emb[known].T), axis=1, kind="stable")[:, :k]
        ranked = [labels[r] for r in order]
        for target in targets:
            q, suffix = target_shares(labels, groups, target), TARGETS[target]
            rows += [(f"{name}{suffix}@{k}", attribute,
                      float(np.mean([measure(r, groups, k, q) for r in ranked])))
                     for name, measure in (("maxskew", max_skew), ("minskew", min_skew),
                                           ("ndkl", ndkl))]
    return rows


def _metrics(evaluation: dict) -> list[Metric]:
    k = evaluation["bias_k"]
    matches = (0.0, "0: the target's shares")
    # with two values and a uniform target, all top k from one group gives ln(1 / 0.5)
    one_group = (math.log(2), "ln 2: one of two groups only")
    return [Metric(f"{name}{TARGETS[target]}@{k}", direction,
                   references=(matches, one_group) if (name, target) == ("maxskew", "uniform")
                   else (matches,))
            for target in evaluation["skew_targets"]
            for name, direction in (("maxskew", Direction.BIAS), ("minskew", Direction.NEITHER),
                                    ("ndkl", Direction.BIAS))]


@SUITES.register("neutral_query_bias",
                 needs=frozenset({"image_embeddings", "text_embeddings"}), metrics=_metrics)
def measure(inputs) -> list[tuple[str, str, float]]:
    """MaxSkew@k, MinSkew@k and NDKL@k of every attribute among the images retrieved for the
    queries neutral for it (each distinct query embedded once), against each target."""
    captions = inputs.queries[0] if inputs.has_captions else []
    neutral = {a: neutral_queries(inputs.has_captions, captions, a)
               for a in inputs.attribute_values}
    texts = list(dict.fromkeys(q for qs in neutral.values() for q in qs))
    embedded = inputs.encode_texts(texts) if texts else np.zeros((0, 0))
    row = {t: i for i, t in enumerate(texts)}
    queries = {a: embedded[[row[q] for q in qs]] for a, qs in neutral.items()}
    return neutral_query_bias(inputs.image_embeddings, inputs.images,
                              inputs.evaluation["bias_k"], inputs.attribute_values, queries,
                              inputs.evaluation["skew_targets"])
