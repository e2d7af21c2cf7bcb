"""Generator kinds: text-to-image models that render one image per prompt.

A kind is one module of this package with a class that follows :class:`Generator`, registered
under its name (``@GENERATORS.register("toy", schema=...)``); the registry finds the module
itself. Image seeds come from the generate stage (global seed + image id), so an image never
depends on batch size, shard layout or device count.
"""

from collections.abc import Iterable, Iterator
from typing import Protocol

import pandas as pd

from biasamp.registry import Registry

GENERATORS = Registry("generator kind", __name__)

# Settings every generator kind accepts; they shape the generate stage, not the images.
COMMON_SETTINGS = {
    "shards": {"type": "integer", "minimum": 1, "default": 4,
               "description": "Generation jobs per dataset; each writes one archive + index."},
    "gpus": {"type": "integer", "minimum": 0, "default": 0,
             "description": "GPUs per generation job (Snakemake resource `gpu`)."},
    "image_format": {"enum": ["PNG", "JPEG", "WEBP"], "default": "PNG",
                     "description": "Encoding of the images in the shard archives."},
}


class Generator(Protocol):
    def __init__(self, settings: dict, reference: pd.DataFrame):
        """``reference``: the real training manifest, for generators that mimic its
        statistics. A kind that takes part in feedback rounds (``rounds``) names a module in
        its registry entry, ``adapter=``, whose ``adapt(settings, mix, out, seed)`` writes
        what the generator learns from a training mix into the folder ``out``; its
        constructor then also takes ``adapter=out`` (passed only in later rounds)."""

    @staticmethod
    def may_withhold(settings: dict) -> bool:
        """Whether, with these settings, it may withhold images (a safety checker): then the
        generate stage renders every image, since which ones a mix uses is known only after."""

    def prompt(self, caption: str) -> str:
        """The documented rule that turns a training caption into a prompt."""

    def generate(self, prompts: Iterable[str], seeds: Iterable[int],
                 targets: Iterable[str | None] | None = None) -> Iterator[tuple]:
        """``(attributes, PIL image)`` per prompt, in order; ``attributes["flagged"]`` marks
        an image that was withheld. ``targets``: each prompt's target value of the entry's
        ``intervention`` (:mod:`biasamp.interventions`; None for prompts it leaves alone),
        passed only to kinds whose schema offers ``intervention``."""
