"""Markedness measures on image embeddings (Wolfe & Caliskan, "Markedness in Visual Semantic AI",
FAccT 2022): how a model sets a demographic group apart from the default "person".

Embeddings are L2-normalised rows, so a dot product is a cosine similarity. Each measure has
two estimators (``evaluation.person_preference``, ``evaluation.self_similarity``):

- ``exact`` (default): the quantity itself, over all of a group's images;
- the published code's (Wolfe & Caliskan's, reused by Chen et al., CVPR 2024), to reproduce its
  numbers: person preference averaged over ``markedness_draws`` draws in which every value of
  the attribute is downsampled, without replacement, to the count of its smallest value
  (``balanced``; its expectation is the exact share, the draws only add noise); self-similarity
  averaged over ``markedness_draws`` draws of ``self_similarity_sample`` images taken with
  replacement (``published``; an image drawn twice pairs with itself, so its expectation is
  S + (1 − S) / n for a group of n images whose exact value is S).
"""

from __future__ import annotations

import numpy as np

from biasamp.metrics import SUITES, Direction, Metric
from biasamp.wordlists import PERSON_PROMPT, attribute_prompt

CHUNK = 500  # draws of the published self-similarity embedded at once


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


def sampled_self_similarity(embeddings: np.ndarray, sample: int, draws: int,
                            rng: np.random.Generator) -> float:
    """The published estimator: mean over ``draws`` of the mean cosine similarity over the
    pairs i < j of ``sample`` rows drawn with replacement (NaN for fewer than two rows, as
    the exact mean)."""
    if len(embeddings) < 2 or sample < 2:
        return float("nan")
    pairs, total = sample * (sample - 1) / 2, 0.0
    for start in range(0, draws, CHUNK):
        drawn = embeddings[rng.integers(len(embeddings), size=(min(CHUNK, draws - start),
                                                               sample))].astype(np.float64)
        gram = drawn @ drawn.transpose(0, 2, 1)
        total += float((gram.sum(axis=(1, 2)) - np.trace(gram, axis1=1, axis2=2)).sum()) / 2
    return total / pairs / draws


def person_preference(image_emb: np.ndarray, person_emb: np.ndarray,
                      label_emb: np.ndarray) -> np.ndarray:
    """Per image: 1.0 when the person prompt is more similar to it than every label prompt.

    ``person_emb`` is one text embedding ("a photo of a person"), ``label_emb`` one row per
    value of the attribute ("a photo of a male person", ...). A group the model prefers to
    label by its attribute rather than as a person gets a lower mean: it is marked.

    >>> person_preference(np.eye(2), np.array([0.8, 0.6]), np.array([[0.6, 0.8]])).tolist()
    [1.0, 0.0]
    """
    person = image_emb @ person_emb
    labels = image_emb @ label_emb.T
    return (person > labels.max(axis=1)).astype(float)


def balanced_preference(preferred: np.ndarray, members: dict[str, np.ndarray], draws: int,
                        rng: np.random.Generator) -> dict[str, float]:
    """The published estimator: per value, the mean over ``draws`` of its share of preferred
    images after every value is downsampled without replacement to the smallest value's count.
    The count of preferred images in such a sample is hypergeometric, and is drawn as one."""
    smallest = min(int(m.sum()) for m in members.values())
    out = {}
    for value, m in members.items():
        n, good = int(m.sum()), int(preferred[m].sum())
        if smallest == 0:
            out[value] = float("nan")
            continue
        counts = rng.hypergeometric(good, n - good, smallest, size=draws)
        out[value] = float(counts.mean() / smallest)
    return out


@SUITES.register(
    "markedness", needs=frozenset({"image_embeddings", "text_embeddings"}),
    metrics=lambda evaluation: [Metric("person_preference", Direction.NEITHER),
                                Metric("self_similarity", Direction.NEITHER)])
def measure(inputs) -> list[tuple[str, str, float]]:
    """self_similarity overall and per subgroup; person_preference per subgroup of every
    attribute whose values all have a prompt (biasamp.wordlists)."""
    images, image_emb, settings = inputs.images, inputs.image_embeddings, inputs.evaluation
    rng = np.random.default_rng(settings["seed"])
    draws = settings["markedness_draws"]

    def similarity(embeddings):
        if settings["self_similarity"] == "exact":
            return self_similarity(embeddings)
        return sampled_self_similarity(embeddings, settings["self_similarity_sample"], draws,
                                       rng)

    rows = [("self_similarity", "", similarity(image_emb))]
    for attribute, groups in inputs.attribute_values.items():
        members = {g: images[attribute].eq(g).fillna(False).to_numpy(dtype=bool) for g in groups}
        rows += [("self_similarity", f"{attribute}:{g}", similarity(image_emb[m]))
                 for g, m in members.items()]
        prompts = [attribute_prompt(attribute, g) for g in groups]
        if len(groups) < 2 or None in prompts:
            continue
        embedded = inputs.encode_texts([PERSON_PROMPT, *prompts])
        preferred = person_preference(image_emb, embedded[0], embedded[1:])
        if settings["person_preference"] == "balanced":
            shares = balanced_preference(preferred, members, draws, rng)
        else:
            shares = {g: float(preferred[m].mean()) for g, m in members.items()}
        rows += [("person_preference", f"{attribute}:{g}", shares[g]) for g in groups]
    return rows
