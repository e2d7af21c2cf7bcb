"""The evaluate stage: quality and bias of one trained model on the real test split.

Suite (README, "Metrics"):
  recall@k          text→image retrieval over the evaluation images, each caption querying its
                    image, overall and per subgroup (group ``attribute:value``: queries whose
                    image has that value);
  maxskew@k, ndkl@k gender distribution of the top k images retrieved for each distinct
                    gender-neutral caption (no word of biasamp.wordlists), against the uniform
                    distribution, averaged.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from biasamp import manifest, tables
from biasamp.manifest import DEMOGRAPHICS
from biasamp.metrics.fairness import max_skew, ndkl
from biasamp.metrics.retrieval import recall_at_k, target_ranks
from biasamp.models import MODELS
from biasamp.wordlists import mentions_gender

log = logging.getLogger(__name__)

MIX_METRICS = ("mix_gender_bias", "mix_generated_share", "mix_flagged_excluded",
               "data_bad_images_skipped")


def metric_names(evaluation: dict) -> list[str]:
    """Every metric name the study's table will hold, in display order."""
    k = evaluation["bias_k"]
    return [f"recall@{r}" for r in evaluation["recall_k"]] + [f"maxskew@{k}", f"ndkl@{k}",
                                                              *MIX_METRICS]


def queries(test: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Query captions and the index of each one's image: every caption of an image queries it
    (COCO's 5 per image, as in the 5k retrieval benchmark), or the ``caption`` column alone."""
    if "captions" not in test:
        return test["caption"].tolist(), np.arange(len(test))
    lists = [list(c) if c is not None and len(c) else [t]
             for c, t in zip(test["captions"], test["caption"], strict=True)]
    return [c for group in lists for c in group], np.repeat(np.arange(len(test)),
                                                               [len(g) for g in lists])


def retrieval_measurements(
    image_emb: np.ndarray, text_emb: np.ndarray, test: pd.DataFrame, recall_k: list[int],
    targets: np.ndarray | None = None,
) -> list[tuple[str, str, float]]:
    """recall@k overall and per demographic subgroup; query i targets image ``targets[i]``
    (by default caption i is paired with image i)."""
    targets = np.arange(len(test)) if targets is None else targets
    ranks = target_ranks(text_emb @ image_emb.T, targets)
    values = [(f"recall@{k}", "", recall_at_k(ranks, k)) for k in recall_k]
    for attribute in DEMOGRAPHICS:
        if attribute not in test:
            continue
        for value in sorted(test[attribute].dropna().unique()):
            images = test[attribute].eq(value).fillna(False).to_numpy(dtype=bool)
            members = images[targets]
            values += [(f"recall@{k}", f"{attribute}:{value}", recall_at_k(ranks[members], k))
                       for k in recall_k]
    return values


def neutral_query_bias(
    image_emb: np.ndarray, text_emb: np.ndarray, captions: list[str], test: pd.DataFrame,
    k: int, attribute: str = "gender",
) -> list[tuple[str, str, float]]:
    """Mean MaxSkew@k and NDKL@k of ``attribute`` over the distinct gender-neutral captions
    (no word of the gender word lists) among ``captions``, whose embeddings are ``text_emb``.

    Images whose attribute is unknown are left out of the ranking; the target is uniform over
    the values present in the evaluation images.
    """
    if attribute not in test:
        return []
    known = test[attribute].notna().to_numpy(dtype=bool)
    labels = test.loc[known, attribute].to_numpy(dtype=object)
    groups = sorted(set(labels))
    seen, rows = set(), []
    for i, caption in enumerate(captions):
        if caption not in seen and not mentions_gender(caption):
            seen.add(caption)
            rows.append(i)
    if not rows or len(groups) < 2:
        return []
    order = np.argsort(-(text_emb[rows] @ image_emb[known].T), axis=1, kind="stable")
    skews = [max_skew(labels[row], groups, k) for row in order]
    ndkls = [ndkl(labels[row], groups, k) for row in order]
    return [(f"maxskew@{k}", "", float(np.mean(skews))), (f"ndkl@{k}", "", float(np.mean(ndkls)))]


def evaluate_model(
    model_settings: dict, model_path: str, dataset_manifest: str, evaluation: dict,
    keys: dict, out_metrics: str, device: str = "cpu",
) -> pd.DataFrame:
    real = manifest.read(dataset_manifest)
    test = real[real["split"] == "test"].sort_values("id", kind="stable").reset_index(drop=True)
    model = MODELS.get(model_settings["kind"]).implementation.load(model_path, device)
    captions, targets = queries(test)
    image_emb = model.encode_images(test, evaluation["batch_size"])
    text_emb = model.encode_texts(captions, evaluation["batch_size"])
    values = retrieval_measurements(image_emb, text_emb, test, evaluation["recall_k"], targets)
    values += neutral_query_bias(image_emb, text_emb, captions, test, evaluation["bias_k"])
    frame = tables.measurements(keys, values)
    tables.write(frame, out_metrics)
    log.info("evaluated %s on %d images, %d queries:\n%s", model_path, len(test), len(captions),
             frame.loc[frame["group"] == "", ["metric", "value"]].to_string(index=False))
    return frame
