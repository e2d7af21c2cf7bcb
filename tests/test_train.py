"""Training through open_clip_train: resume after a kill, stop on a non-finite loss."""

import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from conftest import TINY_STUDY, generator_settings

from biasamp import manifest
from biasamp.datasets import prepare
from biasamp.generate import generate_shard
from biasamp.mix import mix
from biasamp.models.clip import Clip, NonFiniteLoss

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


def test_a_killed_training_job_resumes_from_its_last_checkpoint(mix_manifest, tmp_path):
    settings = clip_settings(epochs=6)
    model = tmp_path / "model" / "model.pt"
    checkpoints = tmp_path / "model" / "trainer" / "run" / "checkpoints"
    process = subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, repr(settings),
                                str(mix_manifest), str(model)], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list(checkpoints.glob("epoch_2.pt")):
        assert process.poll() is None and time.time() < deadline, "no checkpoint was written"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not model.exists()
    # a checkpoint torn by the kill (not a complete zip archive) is dropped on resume
    done = max(int(p.stem.split("_")[1]) for p in checkpoints.glob("epoch_*.pt")
               if zipfile.is_zipfile(p))
    assert 1 <= done < 6

    Clip.train(settings, str(mix_manifest), str(model), seed=0)
    log = (tmp_path / "model" / "trainer" / "run" / "out.log").read_text()
    assert f"resuming checkpoint '{checkpoints / f'epoch_{done}.pt'}' (epoch {done})" in log
    assert f"Start epoch {done - 1}" not in log.split("resuming checkpoint")[-1]
    assert model.exists() and not (model.parent / "model.pt.partial").exists()


def test_a_changed_setting_discards_the_old_run(mix_manifest, tmp_path):
    model = tmp_path / "model.pt"
    Clip.train(clip_settings(epochs=1), str(mix_manifest), str(model), seed=0)
    Clip.train(clip_settings(epochs=1, lr=5e-4), str(mix_manifest), str(model), seed=0)
    log = (tmp_path / "trainer" / "run" / "out.log").read_text()
    assert "resuming checkpoint" not in log  # a fresh run, not a resume of the old settings


def test_a_non_finite_loss_stops_training_without_a_final_model(mix_manifest, tmp_path):
    model = tmp_path / "model.pt"
    with pytest.raises(NonFiniteLoss, match="NaN or infinite.*Lower lr"):
        Clip.train(clip_settings(epochs=2, lr=1e9, warmup=0), str(mix_manifest), str(model),
                   seed=0)
    assert not model.exists()


def test_several_processes_train_under_torchrun(mix_manifest, tmp_path):
    # what a gpus: 2 job does with two GPUs, here on the CPU (gloo): two ranks, each on its
    # half of every batch through the trainer's DistributedSampler
    from biasamp.models.clip import launch_trainer

    settings = clip_settings(epochs=2)
    work = tmp_path / "trainer"
    work.mkdir()
    run = {"kind": "biasamp.models.clip:Clip", "settings": settings,
           "mix_manifest": str(mix_manifest), "work": str(work), "seed": 0, "device": "cpu",
           "threads": 1}
    assert launch_trainer(run, processes=2) == 0
    log = (work / "run" / "out.log").read_text()
    assert "Running in distributed mode with multiple processes" in log and "total 2." in log
    assert "world_size: 2" in log
    # a step takes 16 samples on each of the 2 ranks: the first step reports 32 samples seen
    assert f"Train Epoch: 0 [ 32/{len(manifest.read(mix_manifest))} " in log
    assert zipfile.is_zipfile(work / "run" / "checkpoints" / "epoch_2.pt")
