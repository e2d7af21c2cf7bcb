"""Markedness measures on image embeddings (Wolfe & Caliskan, "Markedness in Visual Semantic AI",
FAccT 2022): how a model sets a demographic group apart from the default "person".

Embeddings are L2-normalised rows, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import numpy as np

from biasamp.metrics import SUITES, Direction, Metric
from biasamp.wordlists import PERSON_PROMPT, attribute_prompt


def self_similarity(embeddings: np.ndarray) -> float:
    """Mean cosine similarity over the distinct pairs of rows (NaN for fewer than two).

    A group whose images the model embeds close together is represented by fewer features,
    i.e. more stereotyped. Computed from the sum of the rows: Σ_{i≠j} x_i·x_j = |Σ x_i|² - Σ |x_i|².

    >>> self_similarity(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))  # pairs: 0, 1, 0
    0.3333333333333333
    """
    n = len(embeddings)
    if n < 2:
        return float("nan")
    total = embeddings.sum(axis=0, dtype=np.float64)
    pairs = float(total @ total) - float(np.einsum("ij,ij->", embeddings, embeddings,
                                                    dtype=np.float64))
    return pairs / (n * (n - 1))


def person_preference(image_emb: np.ndarray, person_emb: np.ndarray,
                      label_emb: np.ndarray) -> np.ndarray:
    """Per image: 1.0 when the person prompt is more similar to it than every label prompt.

    ``person_emb`` is one text embedding ("a photo of a person"), ``label_emb`` one row per
    value of the attribute ("a photo of a man", "a photo of a woman"). A group the model prefers
    to label by its attribute rather than as a person gets a lower mean: it is marked.

    >>> person_preference(np.eye(2), np.array([0.8, 0.6]), np.array([[0.6, 0.8]])).tolist()
    [1.0, 0.0]
    """
    person = image_emb @ person_emb
    labels = image_emb @ label_emb.T
    return (person > labels.max(axis=1)).astype(float)


@SUITES.register(
    "markedness", needs=frozenset({"image_embeddings", "text_embeddings"}),
    metrics=lambda evaluation: [Metric("person_preference", Direction.NEITHER),
                                Metric("self_similarity", Direction.NEITHER)])
def measure(inputs) -> list[tuple[str, str, float]]:
    """self_similarity overall and per subgroup; person_preference per subgroup of every
    attribute whose values all have a prompt (biasamp.wordlists)."""
    images, image_emb = inputs.images, inputs.image_embeddings
    rows = [("self_similarity", "", self_similarity(image_emb))]
    for attribute, groups in inputs.attribute_values.items():
        members = {g: images[attribute].eq(g).fillna(False).to_numpy(dtype=bool) for g in groups}
        rows += [("self_similarity", f"{attribute}:{g}", self_similarity(image_emb[m]))
                 for g, m in members.items()]
        prompts = [attribute_prompt(attribute, g) for g in groups]
        if len(groups) < 2 or None in prompts:
            continue
        embedded = inputs.encode_texts([PERSON_PROMPT, *prompts])
        preferred = person_preference(image_emb, embedded[0], embedded[1:])
        rows += [("person_preference", f"{attribute}:{g}", float(preferred[m].mean()))
                 for g, m in members.items()]
    return rows
