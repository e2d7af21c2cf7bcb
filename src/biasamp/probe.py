"""The generated side of the detectability probe (:mod:`biasamp.metrics.detectability`): an
image from the caption of each of a seeded sample of test images, rendered by the study's
generator as the generate stage renders training captions (:func:`biasamp.generate.render_rows`).
Its own module, so that editing it reruns the probe's images, not the generation shards.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from biasamp import manifest
from biasamp.generate import render_rows
from biasamp.seeding import derive_seed

log = logging.getLogger(__name__)


def probe_rows(test: pd.DataFrame, n_images: int, seed: int) -> pd.DataFrame:
    """The test images whose captions the detectability probe's generated images render: all of
    them, or a seeded sample of ``n_images`` (in id order)."""
    test = test.sort_values("id", kind="stable").reset_index(drop=True)
    if len(test) <= n_images:
        return test
    chosen = np.random.default_rng(derive_seed(seed, "probe")).choice(len(test), n_images,
                                                                       replace=False)
    return test.iloc[np.sort(chosen)].reset_index(drop=True)


def generate_probe(
    settings: dict, generator_name: str, dataset_manifest: str, n_images: int, seed: int,
    out_manifest: str, out_archive: str,
) -> None:
    """Generate an image from the caption of each of ``n_images`` test images (a seeded
    sample; all when there are fewer): the generated side of the detectability probe
    (:mod:`biasamp.metrics.detectability`). No mix uses them; the generator still mimics the
    training data."""
    real = manifest.read(dataset_manifest)
    train = manifest.training_rows(real)
    rows = probe_rows(real[real["split"] == "test"], n_images, seed)
    log.info("generator %s (%s): %d test captions for the detectability probe",
             generator_name, settings["kind"], len(rows))
    render_rows(settings, generator_name, rows, train, seed, "test", out_manifest, out_archive)
