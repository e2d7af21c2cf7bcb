"""Retrieval quality: the rank of the paired item and recall@k (suite ``retrieval``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasamp.metrics import SUITES, Direction, Metric


def target_ranks(similarity: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based rank of each query's target item.

    ``similarity`` has shape (n_queries, n_items); ``targets[q]`` is the index of query q's
    paired item. The rank counts the items scoring higher than the target, plus the tied ones
    listed before it, so ties never flatter a model and results are deterministic.

    >>> target_ranks(np.array([[0.9, 0.1, 0.5], [0.3, 0.3, 0.2]]), np.array([2, 1]))
    array([1, 1])
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    targets = np.asarray(targets)
    rows = np.arange(len(targets))
    target_score = similarity[rows, targets][:, None]
    higher = (similarity > target_score).sum(axis=1)
    columns = np.arange(similarity.shape[1])[None, :]
    tied_before = ((similarity == target_score) & (columns < targets[:, None])).sum(axis=1)
    return higher + tied_before


def recall_at_k(ranks: np.ndarray, k: int) -> float:
    """Share of queries whose paired item is among the top k: mean(rank < k).

    >>> recall_at_k(np.array([0, 3, 1, 10]), 2)
    0.5
    """
    ranks = np.asarray(ranks)
    if ranks.size == 0:
        return float("nan")
    return float((ranks < k).mean())


def retrieval_measurements(
    image_emb: np.ndarray, text_emb: np.ndarray, images: pd.DataFrame, recall_k: list[int],
    targets: np.ndarray, values: dict[str, list[str]],
) -> list[tuple[str, str, float]]:
    """recall@k overall and per subgroup (``values``: the known values of each attribute);
    query i targets image ``targets[i]``."""
    ranks = target_ranks(text_emb @ image_emb.T, targets)
    rows = [(f"recall@{k}", "", recall_at_k(ranks, k)) for k in recall_k]
    for attribute, known in values.items():
        for value in known:
            members = images[attribute].eq(value).fillna(False).to_numpy(dtype=bool)[targets]
            rows += [(f"recall@{k}", f"{attribute}:{value}", recall_at_k(ranks[members], k))
                     for k in recall_k]
    return rows


@SUITES.register(
    "retrieval", needs=frozenset({"image_embeddings", "text_embeddings"}),
    metrics=lambda evaluation: [Metric(f"recall@{k}", Direction.QUALITY)
                                for k in evaluation["recall_k"]])
def measure(inputs) -> list[tuple[str, str, float]]:
    """Text-to-image recall@k, every caption of an image querying it (sets with captions)."""
    if not inputs.has_captions:
        return []
    captions, targets = inputs.queries
    return retrieval_measurements(inputs.ranking_embeddings, inputs.encode_texts(captions),
                                  inputs.images, inputs.evaluation["recall_k"], targets,
                                  inputs.attribute_values)
