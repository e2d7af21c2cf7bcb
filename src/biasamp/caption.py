"""The caption stage: the captions a captioning model writes for the evaluation images."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pandas as pd

from biasamp import manifest
from biasamp.atomic import atomic_path
from biasamp.models import MODELS

log = logging.getLogger(__name__)


def write_captions(model_settings: dict, model_path: str, dataset_manifest: str,
                   batch_size: int, out_csv: str, device: str = "cpu", threads: int = 1,
                   workers: int = 0) -> None:
    """Caption the test images of a manifest: a CSV of ``id`` and ``caption``."""
    import torch

    torch.set_num_threads(threads)
    images = manifest.read_evaluation_images(dataset_manifest)
    model = MODELS.get(model_settings["kind"]).implementation.load(model_path, device)
    captions = model.caption(images, batch_size, model_settings, workers)
    with atomic_path(out_csv) as tmp:
        pd.DataFrame({"id": images["id"], "caption": np.asarray(captions, dtype=object)}).to_csv(
            tmp, index=False, quoting=csv.QUOTE_ALL)
    log.info("captioned %d images with %s (%s, %d thread%s)", len(images), model_path, device,
             torch.get_num_threads(), "" if torch.get_num_threads() == 1 else "s")
