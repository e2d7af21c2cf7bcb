"""Retrieval quality: the rank of the paired item and recall@k, both ways (suite
``retrieval``): text→image (``recall@k``: each caption queries the images) and image→text
(``i2t_recall@k``: each image queries the captions, a hit when any of its own captions is in the
top k), as the COCO 5k benchmark reports them."""

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


def image_to_text_ranks(similarity: np.ndarray, owners: np.ndarray,
                        chunk: int = 1024) -> np.ndarray:
    """0-based rank, for each image (row of ``similarity``, images × texts), of the best-ranked
    of its own texts (``owners[j]``: the image text j belongs to): the texts scoring higher than
    its best-scoring own text, plus the tied ones listed before it (as :func:`target_ranks`).
    Images are ranked ``chunk`` at a time, so memory stays bounded.

    >>> # image 0 owns texts 0 and 2 (.2, .5), text 1 (.9) ranks above them; image 1 owns text 1
    >>> image_to_text_ranks(np.array([[0.2, 0.9, 0.5], [0.7, 0.1, 0.7]]), np.array([0, 1, 0]))
    array([1, 2])
    """
    owners = np.asarray(owners)
    columns = np.arange(len(owners))[None, :]
    ranks = []
    for start in range(0, len(similarity), chunk):
        block = np.asarray(similarity[start:start + chunk], dtype=np.float64)
        own = owners[None, :] == np.arange(start, start + len(block))[:, None]
        best = np.where(own, block, -np.inf).max(axis=1, keepdims=True)
        first = np.argmax(own & (block == best), axis=1)[:, None]  # its best own text
        ranks.append((block > best).sum(axis=1)
                     + ((block == best) & (columns < first)).sum(axis=1))
    return np.concatenate(ranks) if ranks else np.zeros(0, dtype=int)


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
    """recall@k (text→image) and i2t_recall@k (image→text), overall and per subgroup of the
    images (``values``: the known values of each attribute); query i targets image
    ``targets[i]``, whose own captions the image queries."""
    similarity = text_emb @ image_emb.T
    ranks = {"recall": (target_ranks(similarity, targets), targets),
             "i2t_recall": (image_to_text_ranks(similarity.T, targets), np.arange(len(images)))}
    rows = []
    for name, (found, image_of) in ranks.items():
        rows += [(f"{name}@{k}", "", recall_at_k(found, k)) for k in recall_k]
        for attribute, known in values.items():
            for value in known:
                members = images[attribute].eq(value).fillna(False).to_numpy(dtype=bool)
                rows += [(f"{name}@{k}", f"{attribute}:{value}",
                          recall_at_k(found[members[image_of]], k)) for k in recall_k]
    return rows


@SUITES.register(
    "retrieval", needs=frozenset({"image_embeddings", "text_embeddings"}),
    metrics=lambda evaluation: [Metric(f"{name}@{k}", Direction.QUALITY)
                                for name in ("recall", "i2t_recall")
                                for k in evaluation["recall_k"]])
def measure(inputs) -> list[tuple[str, str, float]]:
    """Recall@k both ways, every caption of an image querying it and the image querying all
    captions (sets with captions)."""
    if not inputs.has_captions:
        return []
    captions, targets = inputs.queries
    return retrieval_measurements(inputs.ranking_embeddings, inputs.encode_texts(captions),
                                  inputs.images, inputs.evaluation["recall_k"], targets,
                                  inputs.attribute_values)
