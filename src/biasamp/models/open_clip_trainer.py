"""Driving open_clip's own trainer (``open_clip_train.main``) on a mix manifest.

The trainer runs exactly as from its command line (model factory, tokenizer, loss, cosine
schedule, checkpointing, ``--resume latest``). It has no plug-in points, so five of its names
are replaced for the run (:data:`SEAMS`, checked before each run so that an open_clip upgrade
that renames one fails loudly): ``get_data`` (our data source: the mix's images read by
reference from their archives, in an order from the replicate seed), ``create_loss`` (stop on a
non-finite loss), ``create_model_and_transforms`` (the kind's initialisation), ``optim`` (on
CPUs, torch's fused AdamW) and, for ranks on CPUs, ``torch.nn.parallel.DistributedDataParallel``.
Multi-GPU runs go through torchrun.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import zipfile
from pathlib import Path

import pandas as pd

from biasamp import joblog, manifest
from biasamp.fingerprint import code_fingerprint
from biasamp.imagestore import ImageReader
from biasamp.openclip import import_open_clip
from biasamp.seeding import derive_seed
from biasamp.toy_vocabulary import TOY_VOCABULARY, vocabulary_file

log = logging.getLogger(__name__)

MODEL_CONFIGS = Path(__file__).resolve().parents[1] / "model_configs"

# The names of open_clip that a run replaces or relies on: module -> attributes.
SEAMS = {
    "open_clip_train.main": ("main", "get_data", "create_loss", "create_model_and_transforms",
                             "optim"),
    "open_clip_train.data": ("DataInfo",),
    "open_clip": ("create_loss", "create_model_and_transforms", "add_model_config"),
    "torch.nn.parallel": ("DistributedDataParallel",),
}


def check_seams() -> None:
    """Stop with a clear message when an open_clip release lacks a name :data:`SEAMS` lists."""
    import importlib
    from importlib.metadata import version

    for module, names in SEAMS.items():
        missing = [n for n in names if not hasattr(importlib.import_module(module), n)]
        if missing:
            raise RuntimeError(
                f"{module} has no {', '.join(missing)} in open_clip_torch "
                f"{version('open_clip_torch')}: the trainer's seams moved; install an "
                "open_clip_torch release this biasamp supports (see pyproject.toml)")


def register_model_configs() -> None:
    """Make the configs in biasamp/model_configs known to open_clip; a config that names the
    toy vocabulary gets its tokenizer file and vocabulary size filled in."""
    import tempfile

    open_clip = import_open_clip()

    folder = Path(tempfile.mkdtemp(prefix="biasamp-model-configs-"))
    for source in MODEL_CONFIGS.glob("*.json"):
        config = json.loads(source.read_text())
        text = config.get("text_cfg", {})
        if text.get("tokenizer_kwargs", {}).get("bpe_path") == TOY_VOCABULARY:
            path, size = vocabulary_file()
            text["tokenizer_kwargs"]["bpe_path"] = str(path)
            for section in ("text_cfg", "multimodal_cfg"):
                if section in config:
                    config[section]["vocab_size"] = size
        (folder / source.name).write_text(json.dumps(config))
    open_clip.add_model_config(folder)
    shutil.rmtree(folder)


# Decoded images a training process keeps for the next epochs, at most (bytes): every image of
# a small mix (the toy world's 1,120: 14 MB), nothing of a large one (the cache empties itself).
DECODED_CACHE_BYTES = 256 * 2**20


def _manifest_dataset(frame: pd.DataFrame, transform, tokens):
    import torch

    class ManifestDataset(torch.utils.data.Dataset):
        """(image, tokens) pairs read by reference from a manifest's image archives.

        Each process keeps the decoded images it reads while they all fit in
        :data:`DECODED_CACHE_BYTES`, so that later epochs of a small mix skip reading and
        decoding (about a tenth of a toy training step); the first image past the limit empties
        the cache for good (with data-loader workers, each worker keeps its own). The
        transform (random augmentations) runs on every read, cached or not, so a model trains
        exactly as without the cache.
        """

        def __init__(self):
            self.locations = list(zip(frame["image_path"], frame["image_offset"],
                                      frame["image_length"], strict=True))
            self.reader = ImageReader()
            self.decoded, self.decoded_bytes = {}, 0

        def __len__(self):
            return len(self.locations)

        def image(self, index):
            if self.decoded is None:  # the mix is too large to keep
                return self.reader.read(*self.locations[index])
            image = self.decoded.get(index)
            if image is None:
                image = self.reader.read(*self.locations[index])
                self.decoded_bytes += image.width * image.height * len(image.getbands())
                if self.decoded_bytes <= DECODED_CACHE_BYTES:
                    self.decoded[index] = image
                else:
                    self.decoded = None
            return image

        def __getitem__(self, index):
            return transform(self.image(index)), tokens[index]

    return ManifestDataset()


def _epoch_sampler(dataset, world_size: int, rank: int, seed: int, epochs: int):
    import time

    import torch
    from torch.utils.data.distributed import DistributedSampler

    class EpochSeededSampler(DistributedSampler):
        """Each rank's share of one seeded permutation per epoch (``DistributedSampler`` with
        the replicate's seed), also with one process.

        At the start of every epoch it also reseeds torch's global generator from the seed,
        the epoch and the rank: random augmentations, dropout and the data-loader workers'
        seeds of epoch e then do not depend on what ran before, so a run resumed from a
        checkpoint trains exactly as an uninterrupted one.
        """

        started: tuple[int, float] | None = None  # first epoch of this process, its start

        def set_epoch(self, epoch: int) -> None:
            super().set_epoch(epoch)
            torch.manual_seed(derive_seed(self.seed, "epoch", epoch, self.rank))
            now = time.perf_counter()
            if self.started is None:
                self.started = (epoch, now)
            first, start = self.started
            eta = ""
            if epoch > first:  # seconds per epoch so far (resumed epochs excluded)
                eta = f", ETA {(now - start) / (epoch - first) * (epochs - epoch):.0f} s"
            if self.rank == 0:
                log.info("epoch %d of %d%s", epoch + 1, epochs, eta)

    return EpochSeededSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True,
                              seed=derive_seed(seed, "data order"), drop_last=True)


def manifest_data_source(manifest_path: str):
    """A ``get_data`` for ``open_clip_train.main`` that trains on a mix manifest, in an order
    that derives from the replicate seed (``--seed``) alone."""

    def get_data(args, preprocess_fns, epoch=0, tokenizer=None):
        import torch
        from open_clip_train.data import DataInfo
        from torch.utils.data import DataLoader

        frame = manifest.read(manifest_path)
        tokens = tokenizer(frame["caption"].tolist())
        dataset = _manifest_dataset(frame, preprocess_fns[0], tokens)
        sampler = _epoch_sampler(dataset, args.world_size, args.rank, args.seed, args.epochs)
        loader = DataLoader(
            dataset, batch_size=args.batch_size, sampler=sampler, num_workers=args.workers,
            pin_memory=torch.cuda.is_available(), drop_last=True,
            persistent_workers=args.workers > 0,
        )
        loader.num_samples = len(dataset)
        loader.num_batches = len(loader)
        if loader.num_batches == 0:
            raise ValueError(f"{manifest_path}: {len(dataset)} images is less than one batch "
                             f"of {args.batch_size} per process ({args.world_size} "
                             "process(es)); lower the model's batch_size")
        return {"train": DataInfo(loader, sampler)}

    return get_data


class _DumpsToFile(logging.Filter):
    """Moves the trainer's model architecture and parameter dump (some 150 lines at the start
    of training) from the job's log to ``path``, leaving one line saying where it went."""

    def __init__(self, path: Path):
        super().__init__()
        self.path, self.section = path, None

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in ("Model:", "Params:"):
            self.section = message
            mode = "w" if message == "Model:" else "a"
            with open(self.path, mode) as out:
                out.write(message + "\n")
            if message == "Model:":
                record.msg = f"model architecture and trainer parameters: {self.path}"
                record.args = ()
                return True
            return False
        if self.section == "Model:" or (self.section == "Params:" and message.startswith("  ")):
            with open(self.path, "a") as out:
                out.write(message + "\n")
            self.section = None if self.section == "Model:" else self.section
            return False
        self.section = None
        return True


class NonFiniteLoss(FloatingPointError):
    """Training diverged: the loss became NaN or infinite."""


def _finite_loss(create_loss):
    """Wrap open_clip's loss factory so that a NaN or infinite loss stops training at once."""

    def create(args):
        loss = create_loss(args)

        def checked(*inputs, **kwargs):
            import torch

            out = loss(*inputs, **kwargs)
            values = out.values() if isinstance(out, dict) else [out]
            if not all(torch.isfinite(v).all() for v in values):
                raise NonFiniteLoss(
                    f"the training loss became {[float(v.detach()) for v in values]} (NaN or "
                    f"infinite); "
                    f"no final model was written. Lower lr, raise warmup or use fp32 precision, "
                    f"then rerun (it resumes from the last finite epoch checkpoint)")
            return out

        return checked

    return create


def _initialised(create_model_and_transforms, initialise):
    """Wrap open_clip's model factory so that every model it makes is passed to
    ``initialise`` (under the trainer's seed, before it resumes from a checkpoint)."""

    def create(*args, **kwargs):
        model, *rest = create_model_and_transforms(*args, **kwargs)
        initialise(model)
        return (model, *rest)

    return create


def drop_torn_checkpoints(folder: Path) -> None:
    """Remove checkpoints a kill interrupted while being written.

    The trainer writes ``epoch_N.pt`` in place; a job killed mid-write leaves a truncated file
    that ``--resume latest`` would pick. torch.save writes a zip archive whose directory comes
    last, so a truncated one is not a valid zip file. The previous epoch's checkpoint is only
    deleted after the next one is complete, so resuming falls back to it.
    """
    for checkpoint in sorted(folder.glob("*.pt")):
        if not zipfile.is_zipfile(checkpoint):
            log.warning("removing %s: it was not completely written", checkpoint)
            checkpoint.unlink()


def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_key(cls, settings: dict, seed: int, mix_manifest: str) -> dict:
    """What a training run's result depends on: a checkpoint is resumed only under the same key.

    The settings, the replicate seed, the mix (by content), the code of the model kind (its
    modules and the package's model configs) and the versions of the libraries that train.
    """
    from importlib.metadata import version

    return {"settings": settings, "seed": seed, "mix": _file_digest(mix_manifest),
            "code": code_fingerprint(cls.__module__, data=("model_configs/*.json",)),
            "libraries": {name: version(name) for name in ("torch", "open_clip_torch")}}


def _trainer_argv(settings: dict, mix_manifest: str, work: Path, seed: int, device: str,
                  options: list[str]):
    argv = [
        "--train-data", str(mix_manifest), "--dataset-type", "csv",
        "--model", settings["arch"], "--epochs", str(settings["epochs"]),
        "--batch-size", str(settings["batch_size"]), "--lr", str(settings["lr"]),
        "--wd", str(settings["weight_decay"]), "--warmup", str(settings["warmup"]),
        "--precision", settings["precision"], "--workers", str(settings["workers"]),
        "--seed", str(seed), "--device", device,
        "--logs", str(work), "--name", "run", "--resume", "latest",
        "--save-frequency", "1", "--delete-previous-checkpoint", "--log-every-n-steps", "10",
    ]
    return argv + options + (["--grad-checkpointing"] if settings["grad_checkpointing"] else [])


def run_trainer(kind: str, settings: dict, mix_manifest: str, work: str, seed: int,
                device: str, threads: int) -> int | None:
    """One ``open_clip_train`` run in this process: a whole training, or one torchrun rank.

    ``kind`` names the model class (``module:Class``), whose ``trainer_options`` and
    ``initialise`` apply.
    """
    import importlib

    import torch

    trainer_losses = import_open_clip(settings["arch"])
    import open_clip_train.main as trainer

    check_seams()
    module, _, name = kind.partition(":")
    cls = getattr(importlib.import_module(module), name)
    torch.set_num_threads(threads)
    if device == "cpu":
        _allow_cpu_ranks(torch)
    register_model_configs()
    # open_clip_train has no registry of data sources; its get_data is the one seam.
    trainer.get_data = manifest_data_source(mix_manifest)
    trainer.create_loss = _finite_loss(trainer_losses.create_loss)
    trainer.create_model_and_transforms = _initialised(
        trainer_losses.create_model_and_transforms, cls.initialise)
    trainer.optim = optimisers(device)
    # The trainer installs its own log handlers (job log and trainer/run/out.log) and sets
    # every logger to INFO (torch's compiler loggers then flood the log at exit): undo both.
    handlers, logging.root.handlers = logging.root.handlers, []
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    dumps = _DumpsToFile(joblog.side_file("architecture.txt", Path(work) / "architecture.txt"))
    logging.root.addFilter(dumps)
    try:
        return trainer.main(_trainer_argv(settings, mix_manifest, Path(work), seed, device,
                                          cls.trainer_options(settings)))
    finally:
        logging.root.removeFilter(dumps)
        for handler in logging.root.handlers:
            handler.close()
        logging.root.handlers = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def optimisers(device: str):
    """The ``torch.optim`` from which open_clip_train builds its AdamW, for ``device``.

    On a CPU, torch's fused AdamW: one kernel per tensor instead of torch's default there, a
    Python loop of a dozen element-wise passes per tensor. The same update up to rounding (an
    ulp here and there); it halves a toy CLIP step, whose 49,408-row token embedding is updated
    whole at every step (weight decay), and saves a tenth of a toy CoCa step. On GPUs torch's
    default (``foreach``) is already batched, and the trainer's choice stands. (A run resumed
    from a checkpoint keeps the setting of the optimiser that wrote it.)
    """
    import functools
    import types

    import torch

    if torch.device(device).type != "cpu":
        return torch.optim
    return types.SimpleNamespace(**{**vars(torch.optim),
                                    "AdamW": functools.partial(torch.optim.AdamW, fused=True)})


def _allow_cpu_ranks(torch) -> None:
    """open_clip_train wraps the model as ``DistributedDataParallel(model, device_ids=[device])``
    whatever the device, which DDP refuses for a CPU module; drop ``device_ids`` there so that
    ranks on CPUs (gloo) train too (CPU-only clusters, and the tests of the torchrun path)."""
    ddp = torch.nn.parallel.DistributedDataParallel
    if getattr(ddp, "biasamp_cpu_ranks", False):
        return

    class CpuRankDDP(ddp):
        biasamp_cpu_ranks = True

        def __init__(self, module, device_ids=None, *args, **kwargs):
            if device_ids and all(torch.device(d).type == "cpu" for d in device_ids):
                device_ids = None
            super().__init__(module, device_ids, *args, **kwargs)

    torch.nn.parallel.DistributedDataParallel = CpuRankDDP


def launch_trainer(run: dict, processes: int) -> int | None:
    """Run :func:`run_trainer` with ``run`` here (one process), or under torchrun with
    ``processes`` ranks (``python -m torch.distributed.run --standalone``); each rank trains
    on its share of every batch through the trainer's DistributedSampler."""
    if processes == 1:
        return run_trainer(**run)
    import subprocess
    import sys
    from collections import deque

    spec = Path(run["work"]) / "launch.json"
    spec.write_text(json.dumps(run))
    source_root = str(Path(__file__).resolve().parents[2])  # the folder holding biasamp
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [source_root,
                                                       os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={processes}", "-m", "biasamp.models.trainer_rank", str(spec)]
    log.info("launching: %s", " ".join(command))
    tail: deque[str] = deque(maxlen=20)
    # the ranks' output goes to this job's log as it comes (progress), its end into the error
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as ranks:
        for line in ranks.stdout:
            sys.stdout.write(line)
            tail.append(line)
    if ranks.returncode:
        raise RuntimeError(f"torchrun with {processes} processes failed "
                           f"(exit {ranks.returncode}):\n{''.join(tail)}")
    return 0
