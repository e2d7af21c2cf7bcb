"""Metric suites: each module of this package is one suite and registers itself.

A module holds its metric functions (arrays in, a number out, no file I/O; formulas in the
README) and declares its suite with ``@SUITES.register(name, metrics=..., needs=...)`` on a
function ``measure(inputs) -> [(metric, group, value), ...]``:

- ``metrics(evaluation) -> [Metric]``: the names it measures, from the evaluation settings
  (e.g. ``recall@{k}`` for every k), each with its :class:`Direction`;
- ``needs``: what ``inputs`` must provide (:data:`NEEDS`). A suite that needs ``mix`` measures
  each training mix (the ``evaluate_mix`` jobs); the others measure each trained model on each
  evaluation set (the ``evaluate`` jobs), and one that needs ``written_captions`` only models
  that write captions; ``training_mix`` is the manifest of the mix the model was trained on
  (to judge a model's bias against its own data's); ``generated_images`` generated images of
  the evaluation images' captions, with their embeddings (the detectability probe).

The workflow derives the metric list, the figures and the code fingerprints from this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import pandas as pd

from biasamp.registry import Registry

NO_AMPLIFICATION = ((0.0, "0: as biased as its training data"),)


class Direction(StrEnum):
    """Which way a metric points, for reading trends over the contamination ratio."""

    QUALITY = "quality"  # higher = better quality
    BIAS = "bias"  # higher = more bias
    NEITHER = "neither"  # a description (a share, a count), neither better nor worse


@dataclass(frozen=True)
class Metric:
    name: str
    direction: Direction
    # the attribute whose predictions the measure rests on (amplification measures): the trends
    # table reports the model's prediction_accuracy on it next to the row
    rests_on: str | None = None
    # the value of a model blind to that attribute, where it does not depend on the data
    # (retrieval_biasamp: 0); None where a blind model's value lies below a seeing one's (a
    # blind predictor's BiasAmp is negative). A model losing sight drifts toward it.
    blind_value: float | None = None
    # values with a meaning, drawn as reference lines in its figures: (value, what it means)
    references: tuple[tuple[float, str], ...] = ()
    # a count of events expected to be 0 (images skipped, withheld): tabulated, not plotted
    counter: bool = False


# What a suite may ask of its inputs (see :class:`Inputs`).
NEEDS = frozenset({"image_embeddings", "text_embeddings", "written_captions", "training_mix",
                   "mix", "generated_images"})


class Inputs(Protocol):
    """What a suite's ``measure`` reads; only what its ``needs`` name is guaranteed."""

    evaluation: dict  # the evaluation settings (recall_k, bias_k, ...)
    images: pd.DataFrame  # the evaluation images (the test split or an evaluation set)
    has_captions: bool  # whether the evaluation images have captions
    queries: tuple[list[str], np.ndarray]  # every caption, and the index of its image
    attribute_values: dict[str, list[str]]  # known values of each demographic attribute
    image_embeddings: np.ndarray  # L2-normalised, one row per image
    ranking_embeddings: np.ndarray  # as retrieval ranks them (published normalisation)
    written_captions: list[str] | None  # the caption the model wrote for each image (None
    # for a model that writes none)
    training_mix: pd.DataFrame  # the mix the model was trained on (its manifest)
    shared: dict  # derived values suites share within one evaluation (zero-shot predictions)
    mix: pd.DataFrame  # the training mix a "mix" suite measures
    generated_images: pd.DataFrame | None  # generated images of evaluation captions (the
    # detectability probe's; None where there are none)
    generated_embeddings: np.ndarray  # their L2-normalised embeddings

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """L2-normalised text embeddings."""


@dataclass(frozen=True)
class Suite:
    name: str
    implementation: Callable[[Any], list[tuple[str, str, float]]]  # measure(inputs)
    metrics: Callable[[dict], list[Metric]]
    needs: frozenset[str]

    def __post_init__(self):
        unknown = set(self.needs) - NEEDS
        if unknown:
            raise ValueError(f"suite {self.name!r} needs {sorted(unknown)}; known: "
                             f"{sorted(NEEDS)}")

    @property
    def module(self) -> str:
        return self.implementation.__module__

    @property
    def measures_mixes(self) -> bool:
        return "mix" in self.needs

    def applies_to(self, writes_captions: bool) -> bool:
        """Whether it measures a model (one that writes captions or not)."""
        return not self.measures_mixes and (writes_captions or
                                            "written_captions" not in self.needs)

    def measure(self, inputs) -> list[tuple[str, str, float]]:
        return self.implementation(inputs)


SUITES = Registry("metric suite", __name__, entry=Suite)


def study_metrics(evaluation: dict, captioning: bool, generates: bool = True) -> list[Metric]:
    """Every metric a study's table can hold, suite by suite (``captioning``: some model writes
    captions; ``generates``: the study generates images, which suites that need
    ``generated_images`` measure)."""
    return [metric for suite in SUITES
            if suite.measures_mixes or suite.applies_to(captioning)
            if generates or "generated_images" not in suite.needs
            for metric in suite.metrics(evaluation)]


def subgroups(images: pd.DataFrame, values: dict[str, list[str]]) -> list[tuple[str, np.ndarray]]:
    """``("", all images)`` and ``("attribute:value", members)`` for each known value."""
    return [("", np.ones(len(images), dtype=bool))] + [
        (f"{a}:{v}", images[a].eq(v).fillna(False).to_numpy(dtype=bool))
        for a, vs in values.items() for v in vs]
