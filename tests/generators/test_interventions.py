"""Generation-time interventions: which prompts get a target and how often each value, the
prompt method through the generate stage, the toy world's debiased generator, and the guidance
(SEGA) and latent methods on a tiny random-weight Stable Diffusion pipeline."""

import numpy as np
import pytest
from helpers import generator_settings
from scipy.stats import binom

from biasamp import interventions, manifest, toyworld
from biasamp.config import ConfigError, validate_config
from biasamp.generate import generate_shard
from biasamp.generators.diffusion import DiffusersGenerator


def spec(**settings):
    return generator_settings(kind="toy", intervention={"method": "prompt", **settings})[
        "intervention"]


def test_only_open_prompts_get_a_target_with_the_configured_shares():
    prompts = ["a person cutting a cake", "A woman cutting a cake", "a bowl of fruit",
               "two people on a bench"] * 1000
    ids = [f"g:{i}" for i in range(len(prompts))]
    targets = interventions.targets(spec(shares={"female": 3, "male": 1}), prompts, ids, seed=0)
    assert {t for p, t in zip(prompts, targets, strict=True)
            if p in ("A woman cutting a cake", "a bowl of fruit")} == {None}
    chosen = [t for t in targets if t is not None]
    assert len(chosen) == 2000 and set(chosen) == {"female", "male"}
    low, high = binom.interval(0.999, 2000, 0.75)
    assert low <= chosen.count("female") <= high
    # each image's target depends on its id only: not on order or on which images share a job
    again = interventions.targets(spec(shares={"female": 3, "male": 1}), prompts[::-1],
                                  ids[::-1], seed=0)
    assert again[::-1] == targets
    assert interventions.targets(None, prompts, ids, 0) == [None] * len(prompts)


def test_interventions_are_checked_before_any_job():
    def config(**intervention):
        return {"datasets": {"toy": {"kind": "toy"}}, "models": {"clip": {"kind": "clip"}},
                "generators": {"g": {"kind": "toy", "intervention": intervention}}}

    def diffusers(**intervention):
        return {**config(method="prompt"), "generators": {"g": {
            "kind": "diffusers", "model": "unused", "intervention": intervention}}}

    with pytest.raises(ConfigError, match=r"generators.g.intervention.shares': woman has no "
                                          "phrase"):
        validate_config(diffusers(method="prompt", shares={"woman": 1}), check_files=False)
    with pytest.raises(ConfigError, match=r"generators.g.intervention.method"):
        validate_config(config(method="guidance"))  # the toy world has prompts only
    with pytest.raises(ConfigError, match=r"generators.g.intervention.shares': 'woman' is not "
                                          r"one of \['female', 'male'\]"):
        validate_config(config(method="prompt", shares={"woman": 1}))  # its genders' names
    with pytest.raises(ConfigError, match=r"generators.g.intervention': 'phrases' is a "
                                          "required property"):
        validate_config(diffusers(method="latent", attribute="ethnicity"), check_files=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from biasamp.datasets import prepare

    path = tmp_path_factory.mktemp("world") / "manifest.parquet"
    prepare({"kind": "toy", "n_images": 2000, "image_size": 16, "neutral_caption_share": 0.5,
             "activity_skew": 0.75, "dark_skin_share": 0.5, "seed": 3,
             "splits": {"train": 0.9, "val": 0.0, "test": 0.1}}, str(path))
    return path


def generated(world, tmp_path, **settings):
    entry = generator_settings(kind="toy", image_size=16, shards=1, **settings)
    generate_shard(entry, "g", str(world), 0, 0, str(tmp_path / "g.parquet"),
                   str(tmp_path / "g.tar"))
    frame = manifest.read(tmp_path / "g.parquet")
    real = manifest.read(world).set_index("id")
    frame["neutral"] = frame["source_id"].map(real["neutral_caption"]).astype(bool)
    frame["majority"] = frame["activity"].map(toyworld.ACTIVITIES)
    return frame


def test_the_prompt_method_writes_the_phrase_records_the_target_and_is_rendered(world,
                                                                                tmp_path):
    frame = generated(world, tmp_path, amplification=3.0, intervention={"method": "prompt"})
    neutral, named = frame[frame["neutral"]], frame[~frame["neutral"]]
    assert named["intervention"].isna().all() and (named["prompt"] == named["caption"]).all()
    assert set(neutral["intervention"]) == {"gender:female", "gender:male"}
    phrase = neutral["intervention"].map({"gender:female": "a woman", "gender:male": "a man"})
    assert (neutral["prompt"] == neutral["caption"] + ", " + phrase).all()
    # a faithful renderer of named genders: each neutral prompt shows its target's gender
    assert (neutral["gender"] == neutral["intervention"].str.removeprefix("gender:")).all()
    # with the stereotype override, a minority-gender target is lost as a named gender is
    overridden = generated(world, tmp_path, stereotype_override=0.8,
                           intervention={"method": "prompt"})
    aimed = overridden[overridden["neutral"]]
    minority = aimed["intervention"].str.removeprefix("gender:") != aimed["majority"]
    kept = (aimed.loc[minority, "gender"] != aimed.loc[minority, "majority"]).mean()
    assert kept == pytest.approx(0.2, abs=0.06)


def test_the_debiased_toy_generator_renders_neutral_prompts_balanced(world, tmp_path):
    plain = generated(world, tmp_path, amplification=3.0, stereotype_override=0.8)
    debiased = generated(world, tmp_path, amplification=3.0, stereotype_override=0.8, debias=1.0)
    for frame, expected in ((plain, 0.964), (debiased, 0.5)):  # amplified(0.75, 3) = 0.964
        neutral = frame[frame["neutral"]]
        share = (neutral["gender"] == neutral["majority"]).mean()
        half = 3.3 * np.sqrt(expected * (1 - expected) / len(neutral)) + 0.005
        assert abs(share - expected) < half, (share, expected)
    named = debiased[~debiased["neutral"]]
    asked = named["caption"].map(lambda c: toyworld.parse_caption(c).gender)
    assert (named["gender"] == asked).all()  # every named gender kept
    assert (plain.loc[~plain["neutral"], "gender"] != asked).sum() > 0  # the plain one loses some


# --- diffusers: guidance (SEGA) and latent methods on the tiny pipeline -------------------

PROMPTS = ["a person flying a kite", "a bowl of fruit", "a person cooking dinner",
           "a man riding a horse"]
SEEDS = [1, 2, 3, 4]
TARGETS = ["female", None, "male", None]


def diffusers(model, **overrides):
    return DiffusersGenerator(generator_settings(
        kind="diffusers", model=str(model), height=32, width=32, steps=6, dtype="float32",
        gpus=0, batch_size=4, **overrides))


def images(generator, prompts=PROMPTS, targets=TARGETS):
    return [np.asarray(image, dtype=np.float64)
            for _, image in generator.generate(prompts, SEEDS, targets)]


@pytest.fixture(scope="module")
def plain(tiny_pipeline):
    return images(diffusers(tiny_pipeline), targets=None)


@pytest.mark.parametrize(("method", "off", "on"), [
    ("latent", {"strength": 0.0}, {"strength": 4.0}),
    ("guidance", {"guidance_scale": 0.0},
     {"guidance_scale": 20.0, "warmup_steps": 0, "threshold": 0.5})])
def test_a_method_at_zero_changes_nothing_and_on_changes_open_prompts_only(tiny_pipeline, plain,
                                                                           method, off, on):
    unchanged = images(diffusers(tiny_pipeline, intervention={"method": method, **off}))
    assert all(np.abs(a - b).max() <= 1 for a, b in zip(plain, unchanged, strict=True))
    steered = images(diffusers(tiny_pipeline, intervention={"method": method, **on}))
    for a, b, target in zip(plain, steered, TARGETS, strict=True):
        assert (np.abs(a - b).mean() > 0.3) == (target is not None), target
    other = images(diffusers(tiny_pipeline, intervention={"method": method, **on}),
                   targets=["male", None, "female", None])
    assert np.abs(other[0] - steered[0]).mean() > 0.3  # the target decides where it goes


@pytest.mark.parametrize("scheduler", ["default", "euler"])  # PNDM: √(1 − ᾱ); Euler: σ
def test_the_latent_correction_moves_images_toward_the_target_prompt(tiny_pipeline, scheduler):
    prompts = [f"a person flying a kite {i}" for i in range(4)]
    plain = images(diffusers(tiny_pipeline, scheduler=scheduler), prompts, None)
    # what the pipeline renders for the prompt with the target's phrase written in
    aimed = images(diffusers(tiny_pipeline, scheduler=scheduler),
                   [f"{p}, a woman" for p in prompts], None)
    distance = []
    for strength in (1.0, 4.0):
        corrected = images(diffusers(tiny_pipeline, scheduler=scheduler, intervention={
            "method": "latent", "strength": strength, "steps": 6}), prompts, ["female"] * 4)
        distance.append(np.mean([np.abs(c - a).mean() for c, a in zip(corrected, aimed,
                                                                       strict=True)]))
    before = np.mean([np.abs(p - a).mean() for p, a in zip(plain, aimed, strict=True)])
    assert before > distance[0] > distance[1]  # closer, the more so the stronger
