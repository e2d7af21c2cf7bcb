"""The evaluate stage: quality and bias of one trained model on the real test split.

Suite (README, "Metrics"):
  recall@k          text→image retrieval over the test images, each caption querying its image,
                    overall and per subgroup (group ``attribute:value``: queries whose image has
                    that value);
  maxskew@k, ndkl@k gender distribution of the top k images retrieved for each distinct
                    gender-neutral test caption, against the uniform distribution, averaged.
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

log = logging.getLogger(__name__)

MIX_METRICS = ("mix_gender_bias", "mix_generated_share", "mix_flagged_excluded",
               "data_bad_images_skipped")


def metric_names(evaluation: dict) -> list[str]:
    """Every metric name the study's table will hold, in display order."""
    k = evaluation["bias_k"]
    return [f"recall@{r}" for r in evaluation["recall_k"]] + [f"maxskew@{k}", f"ndkl@{k}",
                                                              *MIX_METRICS]


def retrieval_measurements(
    image_emb: np.ndarray, text_emb: np.ndarray, test: pd.DataFrame, recall_k: list[int]
) -> list[tuple[str, str, float]]:
    """recall@k overall and per demographic subgroup; caption i is paired with image i."""
    ranks = target_ranks(text_emb @ image_emb.T, np.arange(len(test)))
    values = [(f"recall@{k}", "", recall_at_k(ranks, k)) for k in recall_k]
    for attribute in DEMOGRAPHICS:
        if attribute not in test:
            continue
        for value in sorted(test[attribute].dropna().unique()):
            members = test[attribute].eq(value).fillna(False).to_numpy(dtype=bool)
            values += [(f"recall@{k}", f"{attribute}:{value}", recall_at_k(ranks[members], k))
                       for k in recall_k]
    return values


def neutral_query_bias(
    image_emb: np.ndarray, text_emb: np.ndarray, test: pd.DataFrame, k: int,
    attribute: str = "gender",
) -> list[tuple[str, str, float]]:
    """Mean MaxSkew@k and NDKL@k of ``attribute`` over the distinct neutral test captions.

    Images whose attribute is unknown are left out of the ranking; the target is uniform over
    the values present in the test split.
    """
    if "neutral_caption" not in test or attribute not in test:
        return []
    known = test[attribute].notna().to_numpy(dtype=bool)
    labels = test.loc[known, attribute].to_numpy(dtype=object)
    groups = sorted(set(labels))
    queries = test.loc[test["neutral_caption"].astype(bool), "caption"]
    first = ~queries.duplicated()
    query_emb = text_emb[queries.index[first].map(test.index.get_loc)]
    if len(query_emb) == 0 or len(groups) < 2:
        return []
    order = np.argsort(-(query_emb @ image_emb[known].T), axis=1, kind="stable")
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
    image_emb = model.encode_images(test, evaluation["batch_size"])
    text_emb = model.encode_texts(test["caption"].tolist(), evaluation["batch_size"])
    values = retrieval_measurements(image_emb, text_emb, test, evaluation["recall_k"])
    values += neutral_query_bias(image_emb, text_emb, test, evaluation["bias_k"])
    frame = tables.measurements(keys, values)
    tables.write(frame, out_metrics)
    log.info("evaluated %s on %d test images:\n%s", model_path, len(test),
             frame.loc[frame["group"] == "", ["metric", "value"]].to_string(index=False))
    return frame
