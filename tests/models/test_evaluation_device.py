"""Evaluation on the device the model's entry asks for: images decoded by DataLoader workers,
autocast to the training precision on a GPU, and the GPU slot of the evaluate and caption jobs."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import copy_workflow, snakemake, tiny_study
from PIL import Image

from biasamp.imagestore import WHOLE_FILE
from biasamp.models.clip import Clip


@pytest.fixture
def saved_clip(tmp_path):
    """A toy-ViT CLIP with random weights, saved as the train stage saves models."""
    import torch

    from biasamp.models.open_clip_trainer import register_model_configs
    from biasamp.openclip import import_open_clip

    open_clip = import_open_clip("toy-ViT")
    register_model_configs()
    torch.manual_seed(0)
    model = open_clip.create_model("toy-ViT")
    path = tmp_path / "model.pt"
    torch.save({"arch": "toy-ViT", "state_dict": model.state_dict(),
                "settings": {"precision": "amp"}}, path)
    return path


def image_frame(folder, n=7):
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(
            folder / f"{i}.png")
    return pd.DataFrame({"image_path": [str(folder / f"{i}.png") for i in range(n)],
                         "image_offset": WHOLE_FILE, "image_length": 0})


def test_decoding_workers_change_no_embedding(saved_clip, tmp_path):
    model = Clip.load(str(saved_clip), "cpu")
    frame = image_frame(tmp_path)
    alone = model.encode_images(frame, batch_size=3)
    with_workers = model.encode_images(frame, batch_size=3, workers=2)
    assert alone.shape[0] == 7
    np.testing.assert_array_equal(alone, with_workers)


def test_autocast_follows_the_training_precision_on_a_gpu_only(saved_clip):
    import torch

    model = Clip.load(str(saved_clip), "cpu")
    assert model.precision == "amp"  # read from the checkpoint's settings
    assert not isinstance(model.autocast(), torch.autocast)  # fp32 on a CPU
    model.device = "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no CUDA on this machine: torch warns, builds it
        context = model.autocast()
    assert isinstance(context, torch.autocast) and context.fast_dtype == torch.float16
    model.precision = "amp_bf16"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert model.autocast().fast_dtype == torch.bfloat16
    model.precision = "fp32"
    assert not isinstance(model.autocast(), torch.autocast)


@pytest.mark.workflow
def test_evaluate_and_caption_jobs_take_a_gpu_slot_when_the_model_has_gpus(tmp_path):
    config = tiny_study()
    config["ratios"] = [0]
    config["models"] = {"coca": {"kind": "coca", "gpus": 1, "epochs": 1, "batch_size": 32}}
    config["evaluation"].update(threads=1, workers=1)
    out = snakemake(copy_workflow(tmp_path, config), "-n")
    text = out.stdout + out.stderr
    for rule in ("evaluate", "caption"):
        blocks = re.findall(rf"rule {rule}:\n(.*?)\n\[", text, re.S)
        assert blocks, rule
        for block in blocks:
            assert re.search(r"resources: .*\bgpu=1\b", block), block
            # the job's cores: evaluation.threads (1) + evaluation.workers (1)
            assert re.search(r"threads: 2\b", block), block
