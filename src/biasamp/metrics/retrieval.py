"""Retrieval quality: the rank of the paired item and recall@k."""

from __future__ import annotations

import numpy as np


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
