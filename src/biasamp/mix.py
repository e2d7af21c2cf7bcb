"""The mix stage: replace a share of the real training images by generated ones.

For contamination ratio r and replicate seed s, exactly round(r × N) of the N real training
images (half-up rounding) are replaced by the generated image of the same caption. Which ones is
fixed by one seeded permutation per seed, taken as a prefix, so the images replaced at a
smaller ratio are a subset of those replaced at a larger one: ratios differ only in how much is
replaced, never in which images happen to be picked.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from biasamp import manifest, tables
from biasamp.generate import training_rows
from biasamp.metrics.dataset_bias import dataset_bias_score
from biasamp.seeding import derive_seed

log = logging.getLogger(__name__)


def n_replaced(n: int, ratio: float) -> int:
    """round(ratio × n), halves rounded up.

    >>> n_replaced(10, 0.25), n_replaced(4, 0.5), n_replaced(7, 1.0)
    (3, 2, 7)
    """
    return int(math.floor(ratio * n + 0.5))


def replaced_positions(n: int, ratio: float, seed: int) -> np.ndarray:
    """Positions (into the id-ordered training rows) replaced at ``ratio`` for ``seed``."""
    permutation = np.random.default_rng(derive_seed(seed, "mix")).permutation(n)
    return np.sort(permutation[: n_replaced(n, ratio)])


def mix(real: pd.DataFrame, generated: pd.DataFrame, ratio: float, seed: int) -> pd.DataFrame:
    """The training manifest of one mix: real training rows with a seeded subset replaced."""
    train = training_rows(real).assign(source_id=lambda f: f["id"])
    positions = replaced_positions(len(train), ratio, seed)
    wanted = train["id"].iloc[positions]
    by_source = generated.set_index("source_id", drop=False)
    absent = wanted[~wanted.isin(by_source.index)]
    if len(absent):
        raise ValueError(
            f"{len(absent)} images to replace have no generated counterpart "
            f"(e.g. {absent.iloc[0]}); were all generation shards produced from this dataset?"
        )
    replacement = by_source.loc[wanted].reset_index(drop=True)
    keep = train.drop(index=train.index[positions])
    out = pd.concat([keep, replacement], ignore_index=True)
    return out.sort_values("source_id", kind="stable").reset_index(drop=True)


def mix_measurements(mixed: pd.DataFrame) -> list[tuple[str, str, float]]:
    """mix_gender_bias (rendered genders) and mix_generated_share of one training mix."""
    known = mixed.dropna(subset=["gender"])
    values = [("mix_generated_share", "", float((mixed["source"] == "generated").mean()))]
    if "activity" in known:
        bias = dataset_bias_score(known["activity"].to_numpy(), known["gender"].to_numpy())
        values.append(("mix_gender_bias", "", bias))
    return values


def write_mix(
    dataset_manifest: str, generated_manifests: list[str], ratio: float, seed: int,
    out_manifest: str,
) -> None:
    mixed = mix(manifest.read(dataset_manifest), manifest.read_many(generated_manifests),
                ratio, seed)
    manifest.write(mixed, out_manifest)
    log.info("mix ratio=%g seed=%d: %d images, %d generated", ratio, seed, len(mixed),
             int((mixed["source"] == "generated").sum()))


def measure_mix(mix_manifest: str, keys: dict, out_metrics: str) -> None:
    """Write the mix's own measurements as a tidy table (``model`` empty)."""
    values = mix_measurements(manifest.read(mix_manifest))
    tables.write(tables.measurements({**keys, "model": ""}, values), out_metrics)
    log.info("%s: %s", mix_manifest, values)
