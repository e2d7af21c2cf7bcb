"""The mix stage: bring generated images into the real training set, by the study's ``mixing``
mode, for contamination ratio r and replicate seed s (:mod:`biasamp.study` draws which):

- ``replace`` (the default): exactly round(r × N) of the N real training images (half-up
  rounding) are replaced by the generated image of the same caption;
- ``bernoulli``: each real training image is replaced independently with probability r (as
  Chen et al., CVPR 2024, mixed), so the count is Binomial(N, r);
- ``append``: round(r N / (1 − r)) generated images of the training captions are added to all N
  real ones, so that they are the share r of the mix (more than one image per caption once
  r > 1/2).

Every mode draws once per seed and takes what a ratio needs from that draw, so the generated
images of a smaller ratio's mix are a subset of a larger ratio's: ratios differ in how much is
generated, never in which images happen to be picked.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from biasamp import manifest
from biasamp.study import mixed_items, n_appended, n_replaced

log = logging.getLogger(__name__)


def with_prompt_attributes(generated: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """Generated rows with the demographics and tasks their generator did not report taken from
    their prompt's real image, and ``attributes_from`` saying where they come from:
    ``generator`` (the toy generator records what it rendered), ``prompt image`` (a
    text-to-image model reports nothing, so its image is taken to show what its caption
    describes; measuring what it rendered would need an attribute classifier) or
    ``intervention target`` (an image a generation-time intervention steered toward a value,
    ``intervention``, is taken to show that value of the steered attribute, as an image is
    taken to show what its prompt says; its other attributes come from the prompt image)."""
    if generated.empty:
        return generated
    source = train.set_index("id").reindex(generated["source_id"])
    out = generated.reset_index(drop=True)
    steered = np.zeros(len(out), dtype=bool)
    if "intervention" in out:
        target = out["intervention"].astype("string").str.split(":", n=1)
        for attribute in sorted({t[0] for t in target.dropna()}):
            if attribute not in out:
                out[attribute] = pd.Series([None] * len(out), dtype=object)
            rows = (target.str[0] == attribute).fillna(False).to_numpy(dtype=bool) & \
                out[attribute].isna().to_numpy()
            out[attribute] = np.where(rows, target.str[1].to_numpy(dtype=object),
                                      out[attribute].to_numpy(dtype=object))
            steered |= rows
    filled = np.zeros(len(out), dtype=bool)
    for column in (c for c in (*manifest.DEMOGRAPHICS, "tasks") if c in train):
        known = source[column].notna().to_numpy() if column != "tasks" else np.array(
            [t is not None for t in source[column]], dtype=bool)
        if column not in out:
            out[column] = source[column].to_numpy(dtype=object)
            filled |= known
        elif column != "tasks":
            missing = out[column].isna().to_numpy() & known
            out[column] = np.where(missing, source[column].to_numpy(dtype=object),
                                   out[column].to_numpy(dtype=object))
            filled |= missing
    out["attributes_from"] = np.where(steered, "intervention target",
                                      np.where(filled, "prompt image", "generator"))
    return out


def mix(real: pd.DataFrame, generated: pd.DataFrame, ratio: float, seed: int,
        mixing: str = "replace") -> pd.DataFrame:
    """The training manifest of one mix (module docstring: the ``mixing`` modes). Generated
    rows keep the attributes their generator reports, and take the others from the real image
    whose caption was the prompt (:func:`with_prompt_attributes`).

    ``attrs["flagged_excluded"]`` of the result counts generated images that were withheld
    (``flagged``) and so were passed over (``replace``, ``append``: for the next in the seed's
    order) or left their real image in place (``bernoulli``).
    """
    train = manifest.training_rows(real).assign(source_id=lambda f: f["id"])
    if "source_id" not in generated:  # no generated image at all (a study of ratio 0 only)
        generated = generated.assign(source_id=pd.Series(dtype="string"))
    variant = generated["variant"].fillna(0).astype(int) if "variant" in generated \
        else pd.Series(0, index=generated.index)
    by_key = generated.set_index([generated["source_id"], variant.rename("_variant")],
                                 drop=False)
    usable = None
    if "flagged" in generated and ratio > 0:
        flagged = generated["flagged"].fillna(False).astype(bool).to_numpy()
        position = pd.Index(train["id"]).get_indexer(generated["source_id"])
        known = position >= 0
        usable = np.ones((int(variant.max()) + 1 if len(variant) else 1, len(train)), dtype=bool)
        usable[variant.to_numpy()[known], position[known]] = ~flagged[known]
    positions, variants, excluded = mixed_items(mixing, len(train), ratio, seed, usable)
    keys = pd.MultiIndex.from_arrays([train["id"].iloc[positions].to_numpy(), variants])
    absent = keys[~keys.isin(by_key.index)]
    if len(absent):
        example = absent[0][0] + (f" (its image number {absent[0][1]})" if absent[0][1] else "")
        raise ValueError(
            f"{len(absent)} training images this mix uses have no generated counterpart "
            f"(e.g. training image {example}); were the generation shards made from this "
            f"dataset, for these ratios, seeds and mixing mode?"
        )
    if excluded:
        log.warning("%d generated images flagged by the safety checker were not mixed in",
                    excluded)
    wanted = {"replace": n_replaced, "append": n_appended}.get(mixing)
    if wanted and len(positions) < wanted(len(train), ratio):
        log.warning("only %d unflagged generated images: ratio %g uses %d, not %d",
                    len(positions), ratio, len(positions), wanted(len(train), ratio))
    added = with_prompt_attributes(
        (by_key.loc[keys] if len(keys) else by_key.iloc[:0]).reset_index(drop=True), train)
    keep = train if mixing == "append" else train.drop(index=train.index[positions])
    out = pd.concat([keep, added], ignore_index=True)
    out = out.sort_values(["source_id", "id"], kind="stable").reset_index(drop=True)
    out.attrs["flagged_excluded"] = excluded
    out.attrs["bad_images_skipped"] = real.attrs.get("bad_images_skipped", 0)
    return out


def write_mix(
    dataset_manifest: str, generated_manifest: str | None, ratio: float, seed: int,
    out_manifest: str, mixing: str = "replace",
) -> None:
    """Write the mix of ``ratio`` and ``seed``; ``generated_manifest`` (a generator's gathered
    shards) is None at ratio 0."""
    generated = manifest.read_many([generated_manifest] if generated_manifest else [])
    real = manifest.read(dataset_manifest)
    if not (real["split"] == "train").any():
        raise ValueError(f"{dataset_manifest}: the dataset has no training image (split train), "
                         "so there is nothing to train on; check its split column (or, for a "
                         "manifest table, split_names)")
    mixed = mix(real, generated, ratio, seed, mixing)
    manifest.write(mixed, out_manifest)
    log.info("%s mix ratio=%g seed=%d: %d images, %d generated", mixing, ratio, seed,
             len(mixed), int((mixed["source"] == "generated").sum()))
