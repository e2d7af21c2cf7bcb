"""The CLIP model kind: image and text towers from open_clip, trained by open_clip's own
trainer on a mix manifest (:mod:`biasamp.models.open_clip_trainer`). Small architectures for
the toy world ship in ``biasamp/model_configs``.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from biasamp.atomic import atomic_path
from biasamp.imagestore import ImageReader
from biasamp.inputs import REBUILD, reading
from biasamp.models import COMMON_SETTINGS, MODELS
from biasamp.models.open_clip_trainer import (
    MODEL_CONFIGS,
    drop_torn_checkpoints,
    launch_trainer,
    register_model_configs,
    run_key,
)
from biasamp.openclip import import_open_clip

log = logging.getLogger(__name__)


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **COMMON_SETTINGS,
        "arch": {"type": "string", "default": "toy-ViT",
                 "description": "open_clip model config name (e.g. RN50, ViT-B-32, toy-ViT)."},
        "epochs": {"type": "integer", "minimum": 1, "default": 10},
        "batch_size": {"type": "integer", "minimum": 2, "default": 64,
                       "description": "Batch size per GPU (per process)."},
        "lr": {"type": "number", "exclusiveMinimum": 0, "default": 1e-3},
        "weight_decay": {"type": "number", "minimum": 0, "default": 0.1},
        "warmup": {"type": "integer", "minimum": 0, "default": 20,
                   "description": "Linear warm-up steps of the cosine schedule."},
        "precision": {"enum": ["fp32", "amp", "amp_bf16", "bf16", "fp16"], "default": "fp32"},
        "grad_checkpointing": {"type": "boolean", "default": False},
    },
}


def known_architectures() -> set[str]:
    """Model config names open_clip can build: its own and this package's (read from the
    config files, without importing open_clip and torch)."""
    import importlib.util

    spec = importlib.util.find_spec("open_clip")
    folders = [Path(p) / "model_configs" for p in (spec.submodule_search_locations or [])]
    return {f.stem for folder in [*folders, MODEL_CONFIGS] for f in folder.glob("*.json")}


def check(settings: dict) -> list[tuple[str, str]]:
    """``arch`` must name a model config open_clip knows."""
    import difflib

    known = known_architectures()
    if settings["arch"] not in known:
        close = difflib.get_close_matches(settings["arch"], sorted(known), n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        return [("arch", f"{settings['arch']!r} is not an open_clip model config; {hint}"
                         f"known: {len(known)} configs of open_clip/model_configs and "
                         f"biasamp/model_configs")]
    return []


# training precision -> the dtype evaluation autocasts to on a GPU (fp32: none)
AUTOCAST = {"amp": "float16", "fp16": "float16", "amp_bf16": "bfloat16", "bf16": "bfloat16"}


class EvaluationImages:
    """A map-style dataset of a frame's images, preprocessed (a DataLoader's source; each
    worker opens its own archive handles)."""

    def __init__(self, frame: pd.DataFrame, preprocess):
        self.locations = list(zip(frame["image_path"], frame["image_offset"],
                                  frame["image_length"], strict=True))
        self.preprocess, self.reader = preprocess, ImageReader()

    def __len__(self) -> int:
        return len(self.locations)

    def __getitem__(self, index: int):
        return self.preprocess(self.reader.read(*self.locations[index]))


@MODELS.register("clip", schema=SCHEMA, check=check)
class Clip:
    """A CLIP model (image and text towers) from open_clip."""

    writes_captions = False

    def __init__(self, model, preprocess, tokenizer, device):
        self.model, self.preprocess, self.tokenizer, self.device = (
            model, preprocess, tokenizer, device)
        self.precision = "fp32"  # as trained: autocast on a GPU follows it

    def autocast(self):
        """Autocast to the precision the model was trained in, on a GPU; fp32 on a CPU."""
        import contextlib

        import torch

        dtype = AUTOCAST.get(self.precision)
        if dtype is None or not str(self.device).startswith("cuda"):
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=getattr(torch, dtype))

    def image_batches(self, frame: pd.DataFrame, batch_size: int, workers: int = 0,
                      what: str = "images embedded"):
        """Preprocessed image tensors of ``frame``'s rows, in order, ``batch_size`` at a time,
        decoded by ``workers`` DataLoader processes (0: this one); progress (``what``: images
        done, images/s, ETA) goes to the job's log."""
        from torch.utils.data import DataLoader

        from biasamp.progress import Progress

        images = EvaluationImages(frame, self.preprocess)
        loader = DataLoader(images, batch_size=batch_size, num_workers=workers, shuffle=False,
                            pin_memory=str(self.device).startswith("cuda"),
                            persistent_workers=False)
        progress = Progress(len(frame), what, log)
        for batch in loader:
            yield batch
            progress.update(len(batch))

    @staticmethod
    def trainer_options(settings: dict) -> list[str]:
        """Command-line options of open_clip_train particular to this kind."""
        return []

    @staticmethod
    def initialise(model) -> None:
        """Complete the initialisation of a freshly created model (before any checkpoint)."""

    @classmethod
    def train(cls, settings: dict, mix_manifest: str, model_path: str, seed: int,
              threads: int = 1) -> None:
        """Train on ``mix_manifest`` and write the final weights to ``model_path``.

        The trainer's state (its latest epoch checkpoint) lives in ``<model dir>/trainer``
        while the job runs; a rerun after a crash resumes from it, unless the settings, seed,
        mix, training code or library versions changed (:func:`run_key`), in which case it
        starts afresh. Once ``model.pt`` is written the state is removed, so a rerun of a
        finished job (changed code, ``--forcerun``) always trains from scratch. ``threads`` are
        the job's cores: its data-loader workers take theirs, torch computes with the rest.
        """
        import torch

        work = Path(model_path).parent / "trainer"
        key = run_key(cls, settings, seed, mix_manifest)
        key_file = work / "run.json"
        if work.exists() and (
            not key_file.exists() or json.loads(key_file.read_text()) != key
        ):
            log.info("removing stale trainer state in %s (the settings, seed, mix, code or "
                     "libraries changed since it was written)", work)
            shutil.rmtree(work)
        work.mkdir(parents=True, exist_ok=True)
        key_file.write_text(json.dumps(key, sort_keys=True))
        drop_torn_checkpoints(work / "run" / "checkpoints")

        device = "cuda" if settings["gpus"] > 0 and torch.cuda.is_available() else "cpu"
        # one process per GPU of the job (the allocator made only those visible), under torchrun
        processes = min(settings["gpus"], torch.cuda.device_count()) if device == "cuda" else 1
        compute_threads = max(1, threads - settings["workers"] * processes)
        log.info("training %s on %s (%s, %d process%s, %d thread%s each)", settings["arch"],
                 mix_manifest, device, processes, "" if processes == 1 else "es",
                 compute_threads, "" if compute_threads == 1 else "s")
        run = {"kind": f"{cls.__module__}:{cls.__qualname__}", "settings": settings,
               "mix_manifest": str(mix_manifest), "work": str(work), "seed": seed,
               "device": device, "threads": compute_threads}
        status = launch_trainer(run, processes)
        if status not in (None, 0):
            raise RuntimeError(f"open_clip_train stopped with status {status}; see {work}")

        checkpoint = work / "run" / "checkpoints" / f"epoch_{settings['epochs']}.pt"
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        weights = {k.removeprefix("module."): v for k, v in state["state_dict"].items()}
        with atomic_path(model_path) as tmp:
            torch.save({"arch": settings["arch"], "state_dict": weights, "settings": settings,
                        "seed": seed, "epochs": state["epoch"]}, tmp)
        shutil.rmtree(work)  # resume state only: the trainer's log is in the job's log

    @classmethod
    def load(cls, model_path: str, device: str = "cpu") -> Clip:
        import torch

        with reading(model_path, "model file", REBUILD):
            checkpoint = torch.load(model_path, map_location="cpu", weights_only=True)
        open_clip = import_open_clip(checkpoint["arch"])
        register_model_configs()
        model, _, preprocess = open_clip.create_model_and_transforms(checkpoint["arch"])
        model.load_state_dict(checkpoint["state_dict"])
        model.to(device).eval()
        loaded = cls(model, preprocess, open_clip.get_tokenizer(checkpoint["arch"]), device)
        loaded.precision = checkpoint.get("settings", {}).get("precision", "fp32")
        return loaded

    def encode_images(self, frame: pd.DataFrame, batch_size: int = 256,
                      normalize: bool = True, workers: int = 0) -> np.ndarray:
        import torch

        chunks = []
        with torch.inference_mode(), self.autocast():
            for batch in self.image_batches(frame, batch_size, workers):
                chunks.append(self.model.encode_image(batch.to(self.device, non_blocking=True),
                                                      normalize=normalize).float())
        return torch.cat(chunks).cpu().numpy() if chunks else np.zeros((0, 0), np.float32)

    def encode_texts(self, captions: list[str], batch_size: int = 256) -> np.ndarray:
        import torch

        chunks = []
        with torch.inference_mode(), self.autocast():
            for start in range(0, len(captions), batch_size):
                tokens = self.tokenizer(captions[start:start + batch_size]).to(self.device)
                chunks.append(self.model.encode_text(tokens, normalize=True).float())
        return torch.cat(chunks).cpu().numpy()
