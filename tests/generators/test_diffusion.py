"""The diffusers generator on a tiny random-weight Stable Diffusion pipeline, offline.

The pipeline is built here, saved with save_pretrained and loaded by the real code through
DiffusionPipeline.from_pretrained; its tokenizer comes from the BPE vocabulary open_clip ships.
"""

import copy
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import TINY_STUDY, copy_workflow, generator_settings, planned_jobs, snakemake

from biasamp import manifest, tables
from biasamp.config import ConfigError
from biasamp.generators.diffusion import DiffusersGenerator
from biasamp.generators.random_pipeline import build_pipeline


def settings(model, **overrides):
    entry = {"kind": "diffusers", "model": str(model), "height": 32, "width": 32, "steps": 3,
             "dtype": "float32", "gpus": 0, "batch_size": 4, **overrides}
    return generator_settings(**entry)


PROMPTS = [f"a person in a red shirt flying a kite in the park {i}" for i in range(6)]
SEEDS = [11, 12, 13, 14, 15, 16]


def images(generator, prompts=PROMPTS, seeds=SEEDS):
    return [np.asarray(image, dtype=np.int16) for _, image in generator.generate(prompts, seeds)]


def test_images_do_not_depend_on_batch_size(tiny_pipeline):
    one = images(DiffusersGenerator(settings(tiny_pipeline, batch_size=1)))
    four = images(DiffusersGenerator(settings(tiny_pipeline, batch_size=4)))
    assert len(one) == len(four) == 6 and one[0].shape == (32, 32, 3)
    for a, b in zip(one, four, strict=True):
        assert np.abs(a - b).max() <= 2  # floating-point noise only
    assert np.abs(one[0] - one[1]).mean() > 1  # different seeds, different images


def test_prompt_rule_and_scheduler(tiny_pipeline):
    generator = DiffusersGenerator(settings(tiny_pipeline, scheduler="dpm++",
                                            prompt_template="a photo of {caption}"))
    assert type(generator.pipeline.scheduler).__name__ == "DPMSolverMultistepScheduler"
    assert generator.prompt("a man cooking") == "a photo of a man cooking"
    with pytest.raises(ConfigError, match=r"generators\.g\.prompt_template"):
        settings(tiny_pipeline, prompt_template="no caption here")


def test_missing_model_stops_before_any_job(tmp_path):
    with pytest.raises(ConfigError, match=r"generators\.g\.model.*hf download org/absent-model"):
        settings("org/absent-model")
    with pytest.raises(ConfigError, match="not a diffusers pipeline folder"):
        settings(tmp_path)


def test_safety_checker_flags_are_recorded(tmp_path):
    folder = tmp_path / "checked"
    pipeline = build_pipeline("tiny", folder, safety_checker=True)
    with torch.no_grad():  # make every image a hit of the checker's concepts
        pipeline.safety_checker.concept_embeds_weights.fill_(-1e4)
    pipeline.save_pretrained(folder)
    generator = DiffusersGenerator(settings(folder, safety_checker=True))
    out = list(generator.generate(PROMPTS[:2], SEEDS[:2]))
    assert [a["flagged"] for a, _ in out] == [True, True]
    assert all(np.asarray(image).max() == 0 for _, image in out)  # returned black
    unchecked = DiffusersGenerator(settings(folder, safety_checker=False))
    assert [a["flagged"] for a, _ in unchecked.generate(PROMPTS[:2], SEEDS[:2])] == [False] * 2


def diffusion_study(model):
    config = copy.deepcopy(TINY_STUDY)
    config["generators"] = {"sd": {"kind": "diffusers", "model": str(model), "height": 32,
                                   "width": 32, "steps": 4, "dtype": "float32", "gpus": 0,
                                   "batch_size": 8, "shards": 3}}
    return config


@pytest.mark.workflow
def test_workflow_generates_from_a_pretrained_folder_and_resumes_after_a_kill(
    tiny_pipeline, tmp_path
):
    workdir = copy_workflow(tmp_path, diffusion_study(tiny_pipeline))
    shards = workdir / "results" / "toy" / "generated" / "sd"
    # one job at a time; stop everything while a shard is being written after another finished
    process = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1"], cwd=workdir,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while not (list(shards.glob("shard-*.parquet")) and list(shards.glob("shard-*.tar.partial"))):
        assert process.poll() is None and time.time() < deadline, "no shard in flight seen"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    finished = {k: manifest.read(shards / f"shard-{k}.parquet")
                for k in range(3) if (shards / f"shard-{k}.parquet").exists()}
    for k in range(3):  # nothing unfinished looks finished
        assert (shards / f"shard-{k}.tar").exists() == (k in finished)
    assert 0 < len(finished) < 3
    assert jobs_left(workdir)["generate"] == 3 - len(finished)  # finished shards are kept

    snakemake(workdir, "--unlock")  # a hard kill leaves Snakemake's lock behind
    snakemake(workdir)
    for k, frame in finished.items():
        assert manifest.read(shards / f"shard-{k}.parquet").equals(frame)
    generated = pd.concat([manifest.read(shards / f"shard-{k}.parquet") for k in range(3)])
    assert generated["prompt"].eq(generated["caption"]).all()
    assert generated["gender"].isna().all()  # what a real generator drew is unknown
    table = tables.read(workdir / "results" / "metrics.csv")
    share = table[table["metric"] == "mix_generated_share"].set_index("ratio")["value"]
    assert share.to_dict() == {0.0: 0.0, 0.5: 0.5, 1.0: 1.0}
    # generated genders are unknown: the mix's dataset bias is measured on real data only
    assert table.loc[table["metric"] == "mix_gender_bias", "ratio"].tolist() == [0.0]


def jobs_left(workdir):
    return planned_jobs(snakemake(workdir, "-n"))
