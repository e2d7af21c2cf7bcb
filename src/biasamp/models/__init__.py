"""Model kinds: what is trained on every mix and how it is queried for evaluation.

A kind is one module of this package with a class that follows :class:`Model`, registered
under its name (``@MODELS.register("clip", schema=...)``); the registry finds the module
itself. Heavy libraries are imported inside the methods, so reading the registry stays cheap.
"""

from typing import ClassVar, Protocol

import numpy as np
import pandas as pd

from biasamp.registry import Registry

MODELS = Registry("model kind", __name__)

# Settings every model kind accepts; they shape the train job, not the model.
COMMON_SETTINGS = {
    "threads": {"type": "integer", "minimum": 1, "default": 1,
                "description": "CPU threads per training job."},
    "gpus": {"type": "integer", "minimum": 0, "default": 0,
             "description": "GPUs per training job (Snakemake resource `gpu`); 0 = CPU."},
    "workers": {"type": "integer", "minimum": 0, "default": 0,
                "description": "Data-loader worker processes per training process (per GPU); "
                               "the train job reserves a core for each."},
}


class Model(Protocol):
    # whether it writes captions (and so gets a caption job and the caption metric suites)
    writes_captions: ClassVar[bool]

    @classmethod
    def train(cls, settings: dict, mix_manifest: str, model_path: str, seed: int,
              threads: int = 1) -> None:
        """Train on a mix manifest; write the final weights to ``model_path``."""

    @classmethod
    def load(cls, model_path: str, device: str = "cpu") -> "Model": ...

    def encode_images(self, frame: pd.DataFrame, batch_size: int = 256,
                      normalize: bool = True) -> np.ndarray:
        """One embedding row per image of a manifest frame."""

    def encode_texts(self, captions: list[str], batch_size: int = 256) -> np.ndarray:
        """L2-normalised embeddings of texts."""

    def caption(self, frame: pd.DataFrame, batch_size: int, beams: int,
                max_tokens: int) -> list[str]:
        """One caption per image (``writes_captions`` kinds only)."""


def writes_captions(settings: dict) -> bool:
    """Whether a model entry's kind writes captions (and so gets a caption job)."""
    return MODELS.get(settings["kind"]).implementation.writes_captions
