"""CLIP trained with open_clip's own trainer (``open_clip_train``) on a mix manifest.

The trainer is driven exactly as from its command line (model factory, tokenizer, loss,
scheduler, checkpointing and ``--resume latest``); the only thing supplied from here is its
data source, which reads the mix manifest's images by reference from the archives instead of
a copied dataset. Small architectures for the toy world ship in ``biasamp/model_configs``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from biasamp import manifest
from biasamp.atomic import atomic_path
from biasamp.fingerprint import code_fingerprint
from biasamp.imagestore import ImageReader
from biasamp.inputs import REBUILD, reading
from biasamp.models import COMMON_SETTINGS, MODELS
from biasamp.seeding import derive_seed

log = logging.getLogger(__name__)

MODEL_CONFIGS = Path(__file__).resolve().parents[1] / "model_configs"

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
        "workers": {"type": "integer", "minimum": 0, "default": 0,
                    "description": "Data-loader worker processes per GPU."},
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


TOY_VOCABULARY = "toy-world"  # stands for the toy world's tokenizer in a model config


def toy_merges() -> list[tuple[str, str]]:
    """BPE merges learned on the toy world's words, until every word is one token.

    Learned as BPE is (repeatedly merge the most frequent adjacent pair; ties broken by the
    pair itself, so the result is fixed), hence applying them in order spells each toy word as
    one token. With the 512 byte tokens of open_clip's tokenizer they make a vocabulary of about
    620 tokens instead of 49,408, so a toy captioner's output layer is small enough to train on
    a CPU in seconds. Any other text still tokenizes (into shorter pieces, down to bytes).
    """
    from collections import Counter

    from biasamp import toyworld

    phrases = [*toyworld.GENDER_WORDS.values(), toyworld.NEUTRAL_WORD, "a an in shirt",
               *toyworld.SHIRTS, *toyworld.ACTIVITIES, *toyworld.PLACES]
    words = [(*w[:-1], w[-1] + "</w>") for w in sorted({w for p in phrases for w in p.split()})]
    merges = []
    while any(len(w) > 1 for w in words):
        pairs = Counter(pair for w in words for pair in zip(w, w[1:], strict=False))
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        merged = []
        for w in words:
            out, i = [], 0
            while i < len(w):
                if w[i:i + 2] == best:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged.append(tuple(out))
        words = merged
    return merges


def private_cache() -> Path:
    """This user's cache folder for files derived from the package (``$XDG_CACHE_HOME/biasamp``
    or ``~/.cache/biasamp``), readable by the user alone."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "biasamp"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _toy_vocabulary_file() -> tuple[Path, int]:
    """The toy BPE merges as open_clip's tokenizer reads them (gzip, a header line), and the
    vocabulary size they give.

    The file lives in this user's private cache under a name holding the digest of its content,
    and its content is checked on every use: a file that is not exactly what the merges give
    (torn, edited, planted) is written anew, never trusted.
    """
    import gzip

    merges = toy_merges()
    # no newline at the end: the tokenizer would read an empty last line as a merge
    text = "\n".join(["#version: 0.2", *(f"{a} {b}" for a, b in merges)]).encode()
    digest = hashlib.sha256(text).hexdigest()[:16]
    path = private_cache() / f"toy-bpe-{digest}.txt.gz"
    try:
        current = gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        current = None
    if current != text:
        with atomic_path(path, unique=True) as partial, open(partial, "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            out.write(text)
    from open_clip.tokenizer import SimpleTokenizer

    return path, max(SimpleTokenizer(bpe_path=str(path)).encoder.values()) + 1


def _register_model_configs() -> None:
    """Make the configs in biasamp/model_configs known to open_clip; a config that names the
    toy vocabulary gets its tokenizer file and vocabulary size filled in."""
    import tempfile

    import open_clip

    folder = Path(tempfile.mkdtemp(prefix="biasamp-model-configs-"))
    for source in MODEL_CONFIGS.glob("*.json"):
        config = json.loads(source.read_text())
        text = config.get("text_cfg", {})
        if text.get("tokenizer_kwargs", {}).get("bpe_path") == TOY_VOCABULARY:
            path, size = _toy_vocabulary_file()
            text["tokenizer_kwargs"]["bpe_path"] = str(path)
            for section in ("text_cfg", "multimodal_cfg"):
                if section in config:
                    config[section]["vocab_size"] = size
        (folder / source.name).write_text(json.dumps(config))
    open_clip.add_model_config(folder)
    shutil.rmtree(folder)


def _manifest_dataset(frame: pd.DataFrame, transform, tokens):
    import torch

    class ManifestDataset(torch.utils.data.Dataset):
        """(image, tokens) pairs read by reference from a manifest's image archives."""

        def __init__(self):
            self.locations = list(zip(frame["image_path"], frame["image_offset"],
                                      frame["image_length"], strict=True))
            self.reader = ImageReader()

        def __len__(self):
            return len(self.locations)

        def __getitem__(self, index):
            return transform(self.reader.read(*self.locations[index])), tokens[index]

    return ManifestDataset()


def _epoch_sampler(dataset, world_size: int, rank: int, seed: int):
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

        def set_epoch(self, epoch: int) -> None:
            super().set_epoch(epoch)
            torch.manual_seed(derive_seed(self.seed, "epoch", epoch, self.rank))

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
        sampler = _epoch_sampler(dataset, args.world_size, args.rank, args.seed)
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


def _drop_torn_checkpoints(folder: Path) -> None:
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

    import open_clip as trainer_losses
    import open_clip_train.main as trainer
    import torch

    module, _, name = kind.partition(":")
    cls = getattr(importlib.import_module(module), name)
    torch.set_num_threads(threads)
    if device == "cpu":
        _allow_cpu_ranks(torch)
    _register_model_configs()
    # open_clip_train has no registry of data sources; its get_data is the one seam.
    trainer.get_data = manifest_data_source(mix_manifest)
    trainer.create_loss = _finite_loss(trainer_losses.create_loss)
    trainer.create_model_and_transforms = _initialised(
        trainer_losses.create_model_and_transforms, cls.initialise)
    # The trainer installs its own log handlers (job log and trainer/run/out.log) and sets
    # every logger to INFO (torch's compiler loggers then flood the log at exit): undo both.
    handlers, logging.root.handlers = logging.root.handlers, []
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    try:
        return trainer.main(_trainer_argv(settings, mix_manifest, Path(work), seed, device,
                                          cls.trainer_options(settings)))
    finally:
        for handler in logging.root.handlers:
            handler.close()
        logging.root.handlers = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


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


@MODELS.register("clip", schema=SCHEMA, check=check)
class Clip:
    """A CLIP model (image and text towers) from open_clip."""

    writes_captions = False

    def __init__(self, model, preprocess, tokenizer, device):
        self.model, self.preprocess, self.tokenizer, self.device = (
            model, preprocess, tokenizer, device)

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
        _drop_torn_checkpoints(work / "run" / "checkpoints")

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
        import open_clip
        import torch

        _register_model_configs()
        with reading(model_path, "model file", REBUILD):
            checkpoint = torch.load(model_path, map_location="cpu", weights_only=True)
        model, _, preprocess = open_clip.create_model_and_transforms(checkpoint["arch"])
        model.load_state_dict(checkpoint["state_dict"])
        model.to(device).eval()
        return cls(model, preprocess, open_clip.get_tokenizer(checkpoint["arch"]), device)

    def encode_images(self, frame: pd.DataFrame, batch_size: int = 256,
                      normalize: bool = True) -> np.ndarray:
        import torch

        reader, chunks = ImageReader(), []
        locations = list(zip(frame["image_path"], frame["image_offset"],
                             frame["image_length"], strict=True))
        with torch.inference_mode():
            for start in range(0, len(locations), batch_size):
                batch = torch.stack([self.preprocess(reader.read(*loc))
                                     for loc in locations[start:start + batch_size]])
                chunks.append(self.model.encode_image(batch.to(self.device), normalize=normalize))
        reader.close()
        return torch.cat(chunks).float().cpu().numpy()

    def encode_texts(self, captions: list[str], batch_size: int = 256) -> np.ndarray:
        import torch

        chunks = []
        with torch.inference_mode():
            for start in range(0, len(captions), batch_size):
                tokens = self.tokenizer(captions[start:start + batch_size]).to(self.device)
                chunks.append(self.model.encode_text(tokens, normalize=True))
        return torch.cat(chunks).float().cpu().numpy()
