"""The mix stage: replace a share of the real training images by generated ones.

For contamination ratio r and replicate seed s, exactly round(r × N) of the N real training
images (half-up rounding) are replaced by the generated image of the same caption. Which ones is
fixed by one seeded permutation per seed, taken as a prefix, so the images replaced at a
smaller ratio are a subset of those replaced at a larger one: ratios differ only in how much is
replaced, never in which images happen to be picked.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from biasamp import manifest
from biasamp.study import n_replaced, replaced_positions

log = logging.getLogger(__name__)


def with_prompt_attributes(generated: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """Generated rows with the demographics and tasks their generator did not report taken from
    their prompt's real image, and ``attributes_from`` saying where they come from:
    ``generator`` (the toy generator records what it rendered) or ``prompt image`` (a
    text-to-image model reports nothing, so its image is taken to show what its caption
    describes; measuring what it rendered would need an attribute classifier)."""
    if generated.empty:
        return generated
    source = train.set_index("id").reindex(generated["source_id"])
    out = generated.reset_index(drop=True)
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
    out["attributes_from"] = np.where(filled, "prompt image", "generator")
    return out


def mix(real: pd.DataFrame, generated: pd.DataFrame, ratio: float, seed: int) -> pd.DataFrame:
    """The training manifest of one mix: real training rows with a seeded subset replaced.
    Generated rows keep the attributes their generator reports, and take the others from the
    real image whose caption was the prompt (:func:`with_prompt_attributes`).

    ``attrs["flagged_excluded"]`` of the result counts generated images that were withheld
    (``flagged``) and so left their real image in place.
    """
    train = manifest.training_rows(real).assign(source_id=lambda f: f["id"])
    if "source_id" not in generated:  # no generated image at all (a study of ratio 0 only)
        generated = generated.assign(source_id=pd.Series(dtype="string"))
    by_source = generated.set_index("source_id", drop=False)
    flagged = by_source["flagged"].fillna(False).astype(bool) if "flagged" in by_source else None
    usable = None
    if flagged is not None and ratio > 0:
        usable = ~flagged.reindex(train["id"], fill_value=False).to_numpy()
    positions, excluded = replaced_positions(len(train), ratio, seed, usable)
    absent = train["id"].iloc[positions][lambda ids: ~ids.isin(by_source.index)]
    if len(absent):
        raise ValueError(
            f"{len(absent)} training images this mix replaces have no generated counterpart "
            f"(e.g. {absent.iloc[0]}); were the generation shards made from this dataset, for "
            "these ratios and seeds?"
        )
    if excluded:
        log.warning("%d generated images flagged by the safety checker were not mixed in",
                    excluded)
    if len(positions) < n_replaced(len(train), ratio):
        log.warning("only %d unflagged generated images: ratio %g replaces %d, not %d",
                    len(positions), ratio, len(positions), n_replaced(len(train), ratio))
    replacement = by_source.loc[train["id"].iloc[positions]].reset_index(drop=True)
    replacement = with_prompt_attributes(replacement, train)
    keep = train.drop(index=train.index[positions])
    out = pd.concat([keep, replacement], ignore_index=True)
    out = out.sort_values("source_id", kind="stable").reset_index(drop=True)
    out.attrs["flagged_excluded"] = excluded
    out.attrs["bad_images_skipped"] = real.attrs.get("bad_images_skipped", 0)
    return out


def write_mix(
    dataset_manifest: str, generated_manifest: str | None, ratio: float, seed: int,
    out_manifest: str,
) -> None:
    """Write the mix of ``ratio`` and ``seed``; ``generated_manifest`` (a generator's gathered
    shards) is None at ratio 0."""
    generated = manifest.read_many([generated_manifest] if generated_manifest else [])
    mixed = mix(manifest.read(dataset_manifest), generated, ratio, seed)
    manifest.write(mixed, out_manifest)
    log.info("mix ratio=%g seed=%d: %d images, %d generated", ratio, seed, len(mixed),
             int((mixed["source"] == "generated").sum()))
