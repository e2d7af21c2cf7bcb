"""The evaluate stage: quality and bias of one trained model on real images (its dataset's test
split or an evaluation set), by every registered metric suite (:mod:`biasamp.metrics`).

:class:`ModelInputs` provides what suites need, computed once and only when asked: embeddings
of the evaluation images, text embeddings, the captions a model wrote. Groups are
``attribute:value`` subgroups, or the attribute itself for measures over a whole attribute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from biasamp import manifest, tables
from biasamp.inputs import REBUILD, read_csv, reading
from biasamp.manifest import DEMOGRAPHICS
from biasamp.metrics import SUITES
from biasamp.models import MODELS

log = logging.getLogger(__name__)


def attribute_values(images: pd.DataFrame) -> dict[str, list[str]]:
    """The known values of each demographic attribute of the evaluation images."""
    return {a: sorted(images[a].dropna().unique()) for a in DEMOGRAPHICS
            if a in images and images[a].notna().any()}


def queries(images: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Query captions and the index of each one's image: every caption of an image queries it
    (COCO's 5 per image, as in the 5k retrieval benchmark), or the ``caption`` column alone."""
    if "captions" not in images:
        return images["caption"].tolist(), np.arange(len(images))
    lists = [list(c) if c is not None and len(c) else [t]
             for c, t in zip(images["captions"], images["caption"], strict=True)]
    return [c for group in lists for c in group], np.repeat(np.arange(len(images)),
                                                               [len(g) for g in lists])


def ranking_embeddings(raw: np.ndarray, published_normalisation: bool = False) -> np.ndarray:
    """Image embeddings as retrieval ranks them: each row L2-normalised, or, reproducing the
    published evaluation code, every row divided by the norm of the row at index 1 (the second
    row; the only row with one image). One common divisor leaves each image's own norm in its
    scores, so that rankings favour images with long embeddings.

    >>> ranking_embeddings(np.array([[3.0, 4.0], [0.0, 10.0]])).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    >>> ranking_embeddings(np.array([[3.0, 4.0], [0.0, 10.0]]), True).tolist()
    [[0.3, 0.4], [0.0, 1.0]]
    """
    if published_normalisation:
        return raw / np.linalg.norm(raw[min(1, len(raw) - 1)])
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


class ModelInputs:
    """What the suites measure one model on (see :class:`biasamp.metrics.Inputs`).

    ``encode_images(frame)`` gives the model's raw image embeddings, ``encode_texts(texts)``
    L2-normalised text embeddings; both are called only when a suite asks.
    """

    def __init__(self, images: pd.DataFrame, evaluation: dict, encode_images, encode_texts,
                 written_captions: list[str] | None = None, training_mix: str | None = None,
                 probe: str | None = None):
        self.images, self.evaluation = images, evaluation
        self._training_mix, self._probe = training_mix, probe
        self.shared: dict = {}
        self._encode_images, self.encode_texts = encode_images, encode_texts
        self.written_captions = written_captions
        self.has_captions = bool(images["caption"].fillna("").str.strip().ne("").any())
        self.queries = queries(images) if self.has_captions else ([], np.arange(0))
        self.attribute_values = attribute_values(images)

    @cached_property
    def raw_image_embeddings(self) -> np.ndarray:
        return self._encode_images(self.images)

    @cached_property
    def training_mix(self) -> pd.DataFrame:
        """The model's training mix (empty when not given: no measure against it)."""
        return manifest.read(self._training_mix) if self._training_mix else pd.DataFrame()

    @cached_property
    def generated_images(self) -> pd.DataFrame | None:
        """The probe's generated images of evaluation captions (None without a probe; those a
        safety checker withheld left out), with the demographics their generator did not report
        taken from their prompt images."""
        if not self._probe:
            return None
        from biasamp.mix import with_prompt_attributes

        generated = manifest.not_withheld(manifest.read(self._probe))
        return with_prompt_attributes(generated, self.images) if len(generated) else generated

    @cached_property
    def generated_embeddings(self) -> np.ndarray:
        """L2-normalised embeddings of :attr:`generated_images`."""
        return ranking_embeddings(self._encode_images(self.generated_images))

    @cached_property
    def image_embeddings(self) -> np.ndarray:
        return ranking_embeddings(self.raw_image_embeddings)

    @cached_property
    def ranking_embeddings(self) -> np.ndarray:
        return ranking_embeddings(self.raw_image_embeddings,
                                  self.evaluation["published_normalisation"])


def measure_model(inputs: ModelInputs, writes_captions: bool) -> list[tuple[str, str, float]]:
    """The rows of every suite that applies to the model."""
    return [row for suite in SUITES if suite.applies_to(writes_captions)
            for row in suite.measure(inputs)]


@dataclass
class MixInputs:
    """What the suites that measure training mixes read (:class:`biasamp.metrics.Inputs`)."""

    mix: pd.DataFrame
    evaluation: dict = field(default_factory=dict)


def mix_measurements(mixed: pd.DataFrame) -> list[tuple[str, str, float]]:
    """The rows of every suite that measures a training mix."""
    inputs = MixInputs(mixed)
    return [row for suite in SUITES if suite.measures_mixes for row in suite.measure(inputs)]


def measure_mix(mix_manifest: str, keys: dict, out_metrics: str) -> None:
    """Write a mix's own measurements as a tidy table (``model`` and ``evalset`` empty)."""
    values = mix_measurements(manifest.read(mix_manifest))
    tables.write(tables.measurements({**keys, "model": "", "evalset": ""}, values), out_metrics)
    log.info("%s: %s", mix_manifest, values)


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
    threads: int = 1, mix_manifest: str | None = None, workers: int = 0,
    probe_manifest: str | None = None,
) -> pd.DataFrame:
    """Measure the model at ``model_path`` (trained on ``mix_manifest``) on the test images of
    ``dataset_manifest`` with every suite that applies to it; write the tidy rows to
    ``out_metrics``. ``workers`` DataLoader processes decode the images; ``probe_manifest``:
    generated images of test captions, for the detectability probe."""
    import torch

    torch.set_num_threads(threads)
    images = manifest.read_evaluation_images(dataset_manifest)
    kind = MODELS.get(model_settings["kind"]).implementation
    written = read_written_captions(captions_csv, images["id"]) if captions_csv else None
    model, batch = kind.load(model_path, device), evaluation["batch_size"]
    inputs = ModelInputs(images, evaluation,
                         lambda frame: model.encode_images(frame, batch, normalize=False,
                                                           workers=workers),
                         lambda texts: model.encode_texts(texts, batch), written, mix_manifest,
                         probe_manifest)
    frame = tables.measurements(keys, measure_model(inputs, kind.writes_captions))
    tables.write(frame, out_metrics)
    log.info("evaluated %s on %d images, %d captions (%s, %d thread%s):\n%s",
             model_path, len(images), len(inputs.queries[0]), device, torch.get_num_threads(),
             "" if torch.get_num_threads() == 1 else "s",
             frame.loc[frame["group"] == "", ["metric", "value"]].to_string(index=False))
    return frame
