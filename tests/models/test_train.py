"""Training through open_clip_train: resume after a kill, stop on a non-finite loss."""

import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from helpers import TINY_STUDY, generator_settings

from biasamp import manifest
from biasamp.datasets import prepare
from biasamp.generate import generate_shard
from biasamp.mix import mix
from biasamp.models.clip import Clip
from biasamp.models.open_clip_trainer import NonFiniteLoss

TRAIN_SCRIPT = """
import sys
from biasamp.models.clip import Clip
Clip.train(eval(sys.argv[1]), sys.argv[2], sys.argv[3], seed=0)
"""


@pytest.fixture(scope="module")
def mix_manifest(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    prepare({**TINY_STUDY["datasets"]["toy"], "image_size": 64, "neutral_caption_share": 0.3,
             "activity_skew": 0.75, "dark_skin_share": 0.5}, str(root / "data.parquet"))
    generate_shard(generator_settings(kind="toy", shards=1), "g", str(root / "data.parquet"), 0,
                   0, str(root / "g.parquet"), str(root / "g.tar"))
    mixed = mix(manifest.read(root / "data.parquet"), manifest.read(root / "g.parquet"), 0.5, 0)
    manifest.write(mixed, root / "mix.parquet")
    return root / "mix.parquet"


def clip_settings(**overrides):
    from biasamp.config import validate_config

    entry = {"kind": "clip", "batch_size": 16, "warmup": 2, **overrides}
    config = {"datasets": {"t": {"kind": "toy"}}, "generators": {"g": {"kind": "toy"}},
              "models": {"c": entry}}
    return validate_config(config)["models"]["c"]


def start_and_kill(settings, mix_manifest, model, after_epoch: int) -> int:
    """Train in a subprocess, kill -9 it once epoch ``after_epoch`` (> 1) is being checkpointed;
    returns the last epoch whose checkpoint is complete (the previous one is deleted only once
    the next is complete)."""
    checkpoints = model.parent / "trainer" / "run" / "checkpoints"
    process = subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, repr(settings),
                                str(mix_manifest), str(model)], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list(checkpoints.glob(f"epoch_{after_epoch}.pt")):
        assert process.poll() is None and time.time() < deadline, "no checkpoint was written"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not model.exists()
    # a checkpoint torn by the kill (not a complete zip archive) is dropped on resume
    return max(int(p.stem.split("_")[1]) for p in checkpoints.glob("epoch_*.pt")
               if zipfile.is_zipfile(p))


def weights(model):
    import torch

    return torch.load(model, map_location="cpu", weights_only=True)["state_dict"]


def same_weights(a, b) -> bool:
    import torch

    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_killed_training_job_resumes_and_ends_as_an_uninterrupted_one(mix_manifest, tmp_path,
                                                                       capfd):
    settings = clip_settings(epochs=4)
    model = tmp_path / "killed" / "model.pt"
    done = start_and_kill(settings, mix_manifest, model, after_epoch=2)
    assert 1 <= done < 4
    capfd.readouterr()
    Clip.train(settings, str(mix_manifest), str(model), seed=0)
    log = capfd.readouterr()
    log = log.out + log.err
    checkpoint = model.parent / "trainer" / "run" / "checkpoints" / f"epoch_{done}.pt"
    assert f"resuming checkpoint '{checkpoint}' (epoch {done})" in log
    assert f"Start epoch {done - 1}" not in log.split("resuming checkpoint")[-1]
    assert model.exists() and not (model.parent / "model.pt.partial").exists()
    # the data order, augmentations and initialisation derive from the seed and the epoch only
    uninterrupted = tmp_path / "uninterrupted" / "model.pt"
    Clip.train(settings, str(mix_manifest), str(uninterrupted), seed=0)
    assert same_weights(model, uninterrupted)
    # a finished job keeps its model only, not the trainer's state (3x the model's size)
    assert sorted(p.name for p in model.parent.iterdir()) == ["model.pt"]


def test_decoded_images_are_kept_within_their_budget_and_change_no_weights(mix_manifest,
                                                                          tmp_path, monkeypatch):
    import numpy as np

    import biasamp.models.open_clip_trainer as trainer

    frame = manifest.read(mix_manifest).head(3)
    dataset = trainer._manifest_dataset(frame, np.asarray, tokens=[0, 1, 2])
    size = np.asarray(dataset.image(0)).nbytes
    monkeypatch.setattr(trainer, "DECODED_CACHE_BYTES", 2 * size)
    dataset = trainer._manifest_dataset(frame, np.asarray, tokens=[0, 1, 2])
    first = [dataset[i][0] for i in range(2)]
    assert sorted(dataset.decoded) == [0, 1] and dataset.decoded_bytes == 2 * size
    fresh = trainer._manifest_dataset(frame, np.asarray, tokens=[0, 1, 2])
    assert all((dataset[i][0] == np.asarray(fresh.reader.read(*fresh.locations[i]))).all()
               for i in range(2))  # what the cache gives is what a read gives
    dataset[2]  # past the budget: the cache empties for good
    assert dataset.decoded is None
    assert all((dataset[i][0] == first[i]).all() for i in range(2))

    settings = clip_settings(epochs=2)
    Clip.train(settings, str(mix_manifest), str(tmp_path / "kept" / "model.pt"), seed=0)
    monkeypatch.setattr(trainer, "DECODED_CACHE_BYTES", 0)
    Clip.train(settings, str(mix_manifest), str(tmp_path / "decoded" / "model.pt"), seed=0)
    assert same_weights(tmp_path / "kept" / "model.pt", tmp_path / "decoded" / "model.pt")


def test_a_partial_run_of_other_settings_or_code_is_not_resumed(mix_manifest, tmp_path, capfd,
                                                                 caplog, monkeypatch):
    import biasamp.models.open_clip_trainer as trainer

    model = tmp_path / "model.pt"
    for change in ("settings", "code"):
        start_and_kill(clip_settings(epochs=4), mix_manifest, model, after_epoch=2)
        capfd.readouterr()
        if change == "settings":
            Clip.train(clip_settings(epochs=4, lr=5e-4), str(mix_manifest), str(model), seed=0)
        else:  # the training code changed since the partial run
            monkeypatch.setattr(trainer, "code_fingerprint", lambda *a, **k: "edited")
            Clip.train(clip_settings(epochs=4), str(mix_manifest), str(model), seed=0)
        log = capfd.readouterr()
        log = log.out + log.err
        assert "removing stale trainer state" in caplog.text, change
        caplog.clear()
        assert "resuming checkpoint" not in log, change
        model.unlink()


def test_rerunning_a_finished_job_with_changed_code_trains_anew(mix_manifest, tmp_path,
                                                                monkeypatch):
    # what happens on --forcerun, or when Snakemake reruns train because its code changed: the
    # new code trains from scratch rather than resuming from the old run's final checkpoint
    import biasamp.models.open_clip_trainer as trainer

    settings = clip_settings(epochs=1)
    model = tmp_path / "model.pt"
    Clip.train(settings, str(mix_manifest), str(model), seed=0)
    first = weights(model)
    Clip.train(settings, str(mix_manifest), str(model), seed=0)
    assert same_weights(model, model) and all(
        (first[k] == v).all() for k, v in weights(model).items())  # deterministic
    argv = trainer._trainer_argv
    monkeypatch.setattr(trainer, "_trainer_argv", lambda settings, *rest: argv(
        {**settings, "lr": settings["lr"] * 3}, *rest))  # a fix to the learning-rate handling
    Clip.train(settings, str(mix_manifest), str(model), seed=0)
    assert any(not (first[k] == v).all() for k, v in weights(model).items())


def test_data_order_derives_from_the_replicate_seed_and_epoch():
    from biasamp.models.open_clip_trainer import _epoch_sampler

    def order(seed, epoch=0, world=1, rank=0):
        sampler = _epoch_sampler(list(range(40)), world, rank, seed, epochs=2)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0) == order(0) and sorted(order(0)) == list(range(40))
    assert order(0) != order(1)  # replicates see different orders, with one process or many
    assert order(0, world=2, rank=0) != order(1, world=2, rank=0)
    assert order(0, epoch=1) != order(0, epoch=0)
    ranks = order(3, world=2, rank=0) + order(3, world=2, rank=1)
    assert sorted(ranks) == list(range(40))  # the ranks split one permutation


def test_the_toy_tokenizer_file_is_private_and_checked(tmp_path, monkeypatch):
    from biasamp.toy_vocabulary import vocabulary_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path, size = vocabulary_file()
    assert path.parent == tmp_path / "biasamp" and (path.parent.stat().st_mode & 0o077) == 0
    good = path.read_bytes()
    path.write_bytes(b"\x1f\x8b planted")  # a file at the expected name is never trusted
    assert vocabulary_file() == (path, size) and path.read_bytes() == good


def test_a_non_finite_loss_stops_training_without_a_final_model(mix_manifest, tmp_path):
    model = tmp_path / "model.pt"
    with pytest.raises(NonFiniteLoss, match="NaN or infinite.*Lower lr"):
        Clip.train(clip_settings(epochs=2, lr=1e9, warmup=0), str(mix_manifest), str(model),
                   seed=0)
    assert not model.exists()


def test_several_processes_train_under_torchrun(mix_manifest, tmp_path):
    # what a gpus: 2 job does with two GPUs, here on the CPU (gloo): two ranks, each on its
    # half of every batch through the trainer's DistributedSampler
    from biasamp.models.open_clip_trainer import launch_trainer

    settings = clip_settings(epochs=2)
    work = tmp_path / "trainer"
    work.mkdir()
    run = {"kind": "biasamp.models.clip:Clip", "settings": settings,
           "mix_manifest": str(mix_manifest), "work": str(work), "seed": 0, "device": "cpu",
           "threads": 1}
    assert launch_trainer(run, processes=2) == 0
    log = (work / "run" / "out.log").read_text()
    assert "Running in distributed mode with multiple processes" in log and "total 2." in log
    # the trainer's parameter dump has a file of its own (beside the job log in a job)
    assert "world_size: 2" in (work / "architecture.txt").read_text()
    assert "epoch 1 of 2" in log and "epoch 2 of 2, ETA" in log
    assert "Created AdamW (adamw) optimizer:" in log and "fused: True" in log  # ranks on CPUs
    # a step takes 16 samples on each of the 2 ranks: the first step reports 32 samples seen
    assert f"Train Epoch: 0 [ 32/{len(manifest.read(mix_manifest))} " in log
    assert zipfile.is_zipfile(work / "run" / "checkpoints" / "epoch_2.pt")


def test_the_trainer_updates_on_cpus_with_torchs_fused_adamw():
    import torch

    from biasamp.models.open_clip_trainer import optimisers

    assert optimisers("cuda:0") is torch.optim  # GPUs keep the trainer's choice
    parameters = [torch.nn.Parameter(torch.ones(3, 2))]
    fused = optimisers("cpu").AdamW(parameters, lr=0.1, weight_decay=0.5)
    assert fused.defaults["fused"] is True
    assert optimisers("cpu").SGD is torch.optim.SGD  # the rest of torch.optim as it is
    reference = torch.optim.AdamW([torch.nn.Parameter(torch.ones(3, 2))], lr=0.1,
                                  weight_decay=0.5)
    for optimiser in (fused, reference):
        optimiser.param_groups[0]["params"][0].grad = torch.tensor([[1., -2], [0, 3], [4, 0]])
        optimiser.step()
    # AdamW's first step by hand: p(1 - lr wd) - lr sign(g) where g != 0 (bias-corrected
    # m / sqrt(v) = g / |g|, up to eps)
    expected = torch.tensor([[0.85, 1.05], [0.95, 0.85], [0.85, 0.95]])
    for optimiser in (fused, reference):
        torch.testing.assert_close(optimiser.param_groups[0]["params"][0].detach(), expected)


def test_the_names_of_open_clip_train_a_run_replaces_exist():
    # an open_clip upgrade that renames one of them must fail here, not mid-study
    import importlib

    from biasamp.models.open_clip_trainer import SEAMS, check_seams

    check_seams()
    assert SEAMS["open_clip_train.main"] == ("main", "get_data", "create_loss",
                                              "create_model_and_transforms", "optim")
    for module, names in SEAMS.items():
        assert all(hasattr(importlib.import_module(module), n) for n in names), module
    # the trainer calls our sampler's set_epoch through DataInfo at every epoch
    import inspect

    from open_clip_train.data import DataInfo

    assert "sampler.set_epoch" in inspect.getsource(DataInfo.set_epoch)
