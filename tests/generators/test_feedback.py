"""Feedback rounds in the package: the toy generator adapted to the previous round's mix
drifts as its closed form says (biasamp.generators.toy.feedback_majority)."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from biasamp import manifest
from biasamp.config import validate_entry
from biasamp.datasets import prepare
from biasamp.generate import adapt, generate_shard
from biasamp.generators.toy import feedback_majority
from biasamp.metrics.dataset_bias import dataset_bias_score
from biasamp.mix import write_mix
from biasamp.study import generation_plan

RATIO, SEED, ROUNDS = 0.75, 0, 4


def closed_form(p, neutral, ratio, rounds, override):
    """q_R = q* + B^R (p − q*) for γ = 1 (hand-derived, see feedback_majority's docstring)."""
    a = (1 - ratio) * p + ratio * (1 - neutral) * (p + (1 - p) * override)
    b = ratio * neutral
    fixed = a / (1 - b)
    return fixed + b**rounds * (p - fixed)


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    """Mixes of rounds 1..ROUNDS of one chain (ratio 0.75, replace), with a toy generator that
    loses 80 % of counter-stereotypical prompts (γ = 1), and the real data's statistics."""
    root = tmp_path_factory.mktemp("feedback")
    data = root / "data.parquet"
    prepare(validate_entry("datasets", "toy", {
        "kind": "toy", "n_images": 6000, "image_size": 16, "neutral_caption_share": 0.6,
        "splits": {"train": 0.9, "val": 0.05, "test": 0.05}}), str(data))
    settings = validate_entry("generators", "g", {
        "kind": "toy", "stereotype_override": 0.8, "image_size": 16, "shards": 1})
    plan = generation_plan([RATIO], [SEED], False)
    mixes, adapter = [], None
    for number in range(1, ROUNDS + 1):
        if number > 1:
            adapter = str(root / f"adapter-{number}")
            adapt(settings, str(mixes[-1]), adapter, 0)
        shard = root / f"generated-{number}"
        generate_shard(settings, "g", str(data), 0, 0, f"{shard}.parquet", f"{shard}.tar",
                       plan, adapter)
        mixes.append(root / f"mix-{number}.parquet")
        write_mix(str(data), f"{shard}.parquet", RATIO, SEED, str(mixes[-1]))
    train = manifest.training_rows(manifest.read(data))
    return settings, train, [manifest.read(m) for m in mixes]


def expected_bias(train, settings, rounds):
    """mix_gender_bias after ``rounds`` rounds: the mean over activities of the majority's
    expected share, from each activity's real majority share and neutral-caption share."""
    shares = []
    for _, part in train.groupby("activity"):
        p = float(part["gender"].value_counts(normalize=True).max())
        neutral = float(part["neutral_caption"].mean())
        q = feedback_majority(p, neutral, RATIO, rounds, settings)
        assert q == pytest.approx(closed_form(p, neutral, RATIO, rounds, 0.8))
        shares.append(q)
    return float(np.mean(shares))


def test_each_round_follows_the_closed_form(rounds):
    settings, train, mixes = rounds
    measured = [dataset_bias_score(m["activity"].to_numpy(), m["gender"].to_numpy())
                for m in mixes]
    expected = [expected_bias(train, settings, r) for r in range(1, ROUNDS + 1)]
    # ~4000 generated images a round over 8 activities: the mean share's sd is about 0.006
    np.testing.assert_allclose(measured, expected, atol=0.01)
    # the planted drift: the bias compounds toward the fixed point, most in the first rounds
    assert expected[-1] - expected[0] > 0.03
    assert measured[-1] - measured[0] > 0.02
    steps = np.diff(expected)
    assert np.all(steps > 0) and np.all(np.diff(steps) < 0)


def test_a_round_replaces_the_same_captions_and_records_what_it_rendered(rounds):
    _, _, mixes = rounds
    generated = [m.loc[m["source"] == "generated"].set_index("source_id") for m in mixes]
    first = generated[0]
    for later in generated[1:]:
        assert set(later.index) == set(first.index)
        assert (later["attributes_from"] == "generator").all()
    # a faithful adaptation changes neutral prompts only through what it learnt
    assert (generated[-1]["gender"] != first["gender"]).any()



@pytest.fixture(scope="module")
def lora(tiny_pipeline, tmp_path_factory):
    """A tiny diffusers generator adapted with LoRA (twice, alike) to the training images of a
    small toy dataset."""
    import torch
    from diffusers import AutoencoderKL

    root = tmp_path_factory.mktemp("lora")
    # the tiny pipeline with its random VAE made to encode as a trained one does: a sharp
    # posterior (a random one's spread drowns the image) and latents of unit scale
    model = root / "sd"
    shutil.copytree(tiny_pipeline, model)
    vae = AutoencoderKL.from_pretrained(model / "vae")
    channels = vae.config.latent_channels
    with torch.no_grad():
        vae.quant_conv.weight[channels:] = 0
        vae.quant_conv.bias[channels:] = -20.0  # log-variance: σ = e^-10
    vae.register_to_config(scaling_factor=4.0)
    vae.save_pretrained(model / "vae")
    prepare(validate_entry("datasets", "toy", {"kind": "toy", "n_images": 40, "image_size": 32}),
            str(root / "data.parquet"))
    mix = manifest.training_rows(manifest.read(root / "data.parquet"))
    manifest.write(mix, root / "mix.parquet")
    settings = validate_entry("generators", "sd", {
        "kind": "diffusers", "model": str(model), "height": 32, "width": 32,
        "steps": 4, "dtype": "float32", "gpus": 0,
        "adaptation": {"steps": 100, "batch_size": 4, "learning_rate": 1e-2}})
    adapters = [str(root / f"adapter-{k}") for k in range(2)]
    for adapter in adapters:
        adapt(settings, str(root / "mix.parquet"), adapter, 7)
    return settings, mix, adapters


def mean_loss(pipeline, settings, mix):
    """The denoising loss on ``mix``, on the same draws of images, noise and timesteps each
    call (none of them the training draws)."""
    import torch
    from diffusers import DDPMScheduler

    from biasamp.generators.lora import MixBatches, denoising_loss

    batches = MixBatches(settings, mix, 123, "cpu")
    schedule = DDPMScheduler.from_config(pipeline.scheduler.config)
    with torch.no_grad():
        return float(np.mean([float(denoising_loss(pipeline, schedule, *batches.next(8)))
                              for _ in range(6)]))


def test_lora_adaptation_fits_the_mix_and_changes_the_images(lora):
    from biasamp.generators.diffusion import LORA_FILE, DiffusersGenerator

    settings, mix, (adapter, _) = lora
    assert {p.name for p in Path(adapter).iterdir()} == {LORA_FILE, "adaptation.json"}
    base, adapted = DiffusersGenerator(settings), DiffusersGenerator(settings, adapter=adapter)
    # the LoRA, loaded and fused by the generator, fits the mix better than the base weights
    # (measured: 1.09 -> 0.97; the tiny random UNet learns slowly)
    before, after = (mean_loss(g.pipeline, settings, mix) for g in (base, adapted))
    assert after < 0.95 * before, (before, after)
    prompts, seeds = ["a person riding a skateboard on the street"] * 2, [1, 2]
    plain = [np.asarray(image) for _, image in base.generate(prompts, seeds)]
    changed = [np.asarray(image) for _, image in adapted.generate(prompts, seeds)]
    assert all(np.abs(a.astype(int) - b).mean() > 1 for a, b in zip(plain, changed, strict=True))


def test_lora_adaptation_is_deterministic(lora):
    from safetensors.torch import load_file

    from biasamp.generators.diffusion import LORA_FILE

    _, _, adapters = lora
    first, second = (load_file(Path(a) / LORA_FILE) for a in adapters)
    assert first.keys() == second.keys() and len(first) > 0
    assert all((first[k] == second[k]).all() for k in first)


def test_rounds_need_generators_that_adapt():
    """A generator kind without ``adapt`` (a user's own, written before rounds) is named."""
    import copy

    from helpers import TINY_STUDY

    from biasamp.config import ConfigError, validate_config
    from biasamp.generators import GENERATORS
    from biasamp.generators.toy import SCHEMA

    class Fixed:  # renders, but cannot learn from a mix (no adapt)
        def __init__(self, settings, reference):
            self.settings = settings

    GENERATORS.register("fixed-toy", schema=SCHEMA, datasets=("toy",))(Fixed)
    try:
        config = copy.deepcopy(TINY_STUDY)
        config.update(rounds=2)
        config["generators"]["toy-amplify"]["kind"] = "fixed-toy"
        with pytest.raises(ConfigError, match="generator 'toy-amplify' .kind fixed-toy. cannot "
                                              "be adapted"):
            validate_config(config)
    finally:
        GENERATORS._entries.pop("fixed-toy")


def test_rounds_refuse_a_pipeline_lora_adaptation_does_not_fit(tiny_pipeline, tmp_path):
    """Only Stable Diffusion 1.x/2.x pipelines are adapted: another class is named before
    round 1 runs, not when round 2 fails."""
    import copy
    import json

    from helpers import TINY_STUDY

    from biasamp.config import ConfigError, validate_config

    model = tmp_path / "sdxl"
    shutil.copytree(tiny_pipeline, model)
    index = json.loads((model / "model_index.json").read_text())
    (model / "model_index.json").write_text(json.dumps(
        {**index, "_class_name": "StableDiffusionXLPipeline"}))
    config = copy.deepcopy(TINY_STUDY)
    config["generators"] = {"sd": {"kind": "diffusers", "model": str(model), "gpus": 0}}
    validate_config(copy.deepcopy(config))  # one round: fine
    config["rounds"] = 2
    with pytest.raises(ConfigError, match="'generators.sd.model': feedback rounds fine-tune a "
                                          "StableDiffusionPipeline .* is a "
                                          "StableDiffusionXLPipeline"):
        validate_config(config)
