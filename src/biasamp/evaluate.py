"""The evaluate stage: quality and bias of one trained model on real images (its dataset's test
split or an evaluation set).

Suite (README, "Metrics"); groups are ``attribute:value`` subgroups, or the attribute itself for
measures over a whole attribute:
  recall@k          text→image retrieval, each caption querying its image, overall and per
                    subgroup (sets with captions only);
  maxskew@k, ndkl@k distribution of each demographic attribute among the top k images retrieved
                    for each neutral query, against the uniform distribution, averaged; the
                    queries are the set's distinct gender-neutral captions (no word of
                    biasamp.wordlists), or the word lists' neutral prompts for sets without
                    captions (FairFace, region-labelled images);
  person_preference share of a subgroup's images more similar to "a photo of a person" than to
                    every value prompt of the attribute ("a photo of a man", ...);
  self_similarity   mean cosine similarity between the image embeddings of a subgroup;
and for captioning models, on the captions they wrote for the evaluation images:
  bleu4             corpus BLEU-4 against the images' captions, overall and per subgroup;
  caption_gender_error, caption_gender_neutral
                    share of images of annotated gender whose caption names the other gender,
                    or none, overall and per subgroup.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from biasamp import manifest, tables
from biasamp.inputs import REBUILD, read_csv, reading
from biasamp.manifest import DEMOGRAPHICS
from biasamp.metrics.captioning import corpus_bleu, gender_outcomes
from biasamp.metrics.fairness import max_skew, ndkl
from biasamp.metrics.markedness import person_preference, self_similarity
from biasamp.metrics.retrieval import recall_at_k, target_ranks
from biasamp.models import MODELS
from biasamp.wordlists import NEUTRAL_PROMPTS, PERSON_PROMPT, attribute_prompt, mentions_gender

log = logging.getLogger(__name__)

MIX_METRICS = ("mix_gender_bias", "mix_generated_share", "mix_flagged_excluded",
               "data_bad_images_skipped")


CAPTION_METRICS = ("bleu4", "caption_gender_error", "caption_gender_neutral")


def metric_names(evaluation: dict, captioning: bool = False) -> list[str]:
    """Every metric name the study's table will hold, in display order (``captioning``: some
    model writes captions)."""
    k = evaluation["bias_k"]
    return [*(f"recall@{r}" for r in evaluation["recall_k"]), f"maxskew@{k}", f"ndkl@{k}",
            "person_preference", "self_similarity",
            *(CAPTION_METRICS if captioning else ()), *MIX_METRICS]


def attribute_values(test: pd.DataFrame) -> dict[str, list[str]]:
    """The known values of each demographic attribute of the evaluation images."""
    return {a: sorted(test[a].dropna().unique()) for a in DEMOGRAPHICS
            if a in test and test[a].notna().any()}


def has_captions(test: pd.DataFrame) -> bool:
    return bool(test["caption"].fillna("").str.strip().ne("").any())


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


def ranking_embeddings(raw: np.ndarray, published_normalisation: bool = False) -> np.ndarray:
    """Image embeddings as retrieval ranks them: each row L2-normalised, or, reproducing the
    published evaluation code, every row divided by the norm of the first row.

    >>> ranking_embeddings(np.array([[3.0, 4.0], [0.0, 10.0]])).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    >>> ranking_embeddings(np.array([[3.0, 4.0], [0.0, 10.0]]), True).tolist()
    [[0.6, 0.8], [0.0, 2.0]]
    """
    if published_normalisation:
        return raw / np.linalg.norm(raw[0])
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def neutral_queries(test: pd.DataFrame, captions: list[str]) -> list[str]:
    """The distinct gender-neutral captions, in order; the word lists' neutral prompts for a
    set without captions."""
    if not has_captions(test):
        return list(NEUTRAL_PROMPTS)
    return list(dict.fromkeys(c for c in captions if c.strip() and not mentions_gender(c)))


def neutral_query_bias(
    image_emb: np.ndarray, query_emb: np.ndarray, test: pd.DataFrame, k: int,
) -> list[tuple[str, str, float]]:
    """Mean MaxSkew@k and NDKL@k over the neutral queries (embeddings ``query_emb``), for each
    demographic attribute with at least two known values (group = the attribute).

    Images whose value is unknown are left out of that attribute's ranking; the target is
    uniform over the values present in the evaluation images.
    """
    values = []
    for attribute, groups in attribute_values(test).items():
        if len(groups) < 2 or not len(query_emb):
            continue
        known = test[attribute].notna().to_numpy(dtype=bool)
        labels = test.loc[known, attribute].to_numpy(dtype=object)
        order = np.argsort(-(query_emb @ image_emb[known].T), axis=1, kind="stable")
        values += [
            (f"maxskew@{k}", attribute, float(np.mean([max_skew(labels[r], groups, k)
                                                       for r in order]))),
            (f"ndkl@{k}", attribute, float(np.mean([ndkl(labels[r], groups, k)
                                                    for r in order]))),
        ]
    return values


def markedness(
    image_emb: np.ndarray, test: pd.DataFrame, encode_texts,
) -> list[tuple[str, str, float]]:
    """self_similarity overall and per subgroup; person_preference per subgroup of every
    attribute whose values all have a prompt (biasamp.wordlists). ``encode_texts`` maps prompts
    to L2-normalised embeddings."""
    values = [("self_similarity", "", self_similarity(image_emb))]
    for attribute, groups in attribute_values(test).items():
        members = {g: test[attribute].eq(g).fillna(False).to_numpy(dtype=bool) for g in groups}
        values += [("self_similarity", f"{attribute}:{g}", self_similarity(image_emb[m]))
                   for g, m in members.items()]
        prompts = [attribute_prompt(attribute, g) for g in groups]
        if len(groups) < 2 or None in prompts:
            continue
        embedded = encode_texts([PERSON_PROMPT, *prompts])
        preferred = person_preference(image_emb, embedded[0], embedded[1:])
        values += [("person_preference", f"{attribute}:{g}", float(preferred[m].mean()))
                   for g, m in members.items()]
    return values


def caption_measurements(test: pd.DataFrame, generated: list[str]) -> list[tuple[str, str, float]]:
    """bleu4 (sets with captions) and the gender outcomes of the generated captions, overall
    and per subgroup."""
    groups = [("", np.ones(len(test), dtype=bool))] + [
        (f"{a}:{v}", test[a].eq(v).fillna(False).to_numpy(dtype=bool))
        for a, values in attribute_values(test).items() for v in values]
    values = []
    if has_captions(test):
        references = queries_per_image(test)
        values += [("bleu4", name, corpus_bleu([generated[i] for i in np.flatnonzero(members)],
                                               [references[i] for i in np.flatnonzero(members)]))
                   for name, members in groups if members.any()]
    genders = test["gender"].astype(object).where(test["gender"].notna(), None) \
        if "gender" in test else [None] * len(test)
    outcomes = np.array(gender_outcomes(generated, list(genders)), dtype=object)
    for name, members in groups:
        judged = outcomes[members & (outcomes != None)]  # noqa: E711  (elementwise)
        if len(judged):
            values += [("caption_gender_error", name, float((judged == "error").mean())),
                       ("caption_gender_neutral", name, float((judged == "neutral").mean()))]
    return values


def queries_per_image(test: pd.DataFrame) -> list[list[str]]:
    """Every caption of each image (the ``captions`` lists, or the ``caption`` column)."""
    captions, targets = queries(test)
    out: list[list[str]] = [[] for _ in range(len(test))]
    for caption, target in zip(captions, targets, strict=True):
        out[target].append(caption)
    return out


def read_written_captions(path: str, ids: pd.Series) -> list[str]:
    """The caption a model wrote for each of ``ids``, from its captions file."""
    written = read_csv(path, "captions file", REBUILD, dtype=str, keep_default_na=False)
    with reading(path, "captions file", REBUILD):
        written = written.set_index("id")["caption"]
        missing = ids[~ids.isin(written.index)]
        if len(missing):
            raise ValueError(f"no caption for {len(missing)} evaluation images, e.g. "
                             f"{missing.iloc[0]}")
    return written.reindex(ids).tolist()


def evaluate_model(
    model_settings: dict, model_path: str, dataset_manifest: str, evaluation: dict,
    keys: dict, out_metrics: str, device: str = "cpu", captions_csv: str | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    import torch

    torch.set_num_threads(threads)
    test = manifest.read_evaluation_images(dataset_manifest)
    written = read_written_captions(captions_csv, test["id"]) if captions_csv else None
    model = MODELS.get(model_settings["kind"]).implementation.load(model_path, device)
    raw = model.encode_images(test, evaluation["batch_size"], normalize=False)
    image_emb = ranking_embeddings(raw)

    def encode_texts(texts: list[str]) -> np.ndarray:
        return model.encode_texts(texts, evaluation["batch_size"])

    values, captions = [], []
    if has_captions(test):
        captions, targets = queries(test)
        ranked = ranking_embeddings(raw, evaluation["published_normalisation"])
        values += retrieval_measurements(ranked, encode_texts(captions), test,
                                         evaluation["recall_k"], targets)
    neutral = neutral_queries(test, captions)
    values += neutral_query_bias(image_emb, encode_texts(neutral), test, evaluation["bias_k"])
    values += markedness(image_emb, test, encode_texts)
    if captions_csv:
        values += caption_measurements(test, written)
    frame = tables.measurements(keys, values)
    tables.write(frame, out_metrics)
    log.info("evaluated %s on %d images, %d captions, %d neutral queries (%s, %d thread%s):\n%s",
             model_path, len(test), len(captions), len(neutral), device, torch.get_num_threads(),
             "" if torch.get_num_threads() == 1 else "s",
             frame.loc[frame["group"] == "", ["metric", "value"]].to_string(index=False))
    return frame
