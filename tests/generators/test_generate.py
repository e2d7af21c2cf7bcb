import numpy as np
import pandas as pd
import pytest
from helpers import generator_settings

from biasamp import manifest, toyworld
from biasamp.datasets import prepare
from biasamp.generate import generate_shard
from biasamp.generators.toy import ToyGenerator, amplified
from biasamp.imagestore import ImageReader
from biasamp.manifest import training_rows
from biasamp.mix import mix
from biasamp.study import generation_plan, n_appended, n_replaced, replaced_positions

TOY_DATASET = {"kind": "toy", "n_images": 60, "image_size": 32, "neutral_caption_share": 0.5,
               "activity_skew": 0.75, "dark_skin_share": 0.5, "seed": 1,
               "splits": {"train": 0.5, "val": 0.1, "test": 0.4}}
SETTINGS = generator_settings(kind="toy", image_size=32, shards=1)


def reference(p_majority: float, n: int = 1000) -> pd.DataFrame:
    """Real training rows where every activity's majority gender has share ``p_majority``."""
    rows = []
    for activity, majority in toyworld.ACTIVITIES.items():
        minority = next(g for g in toyworld.GENDERS if g != majority)
        k = round(p_majority * n)
        rows += [{"activity": activity, "gender": majority, "skin": "light"}] * k
        rows += [{"activity": activity, "gender": minority, "skin": "dark"}] * (n - k)
    return pd.DataFrame(rows)


def test_amplification_formula_hand_computed():
    # p = 0.8, γ = 2: 0.64 / (0.64 + 0.04)
    assert amplified(0.8, 2.0) == pytest.approx(0.64 / 0.68)
    assert amplified(0.8, 1.0) == pytest.approx(0.8)
    assert amplified(0.8, 0.5) == pytest.approx(np.sqrt(0.8) / (np.sqrt(0.8) + np.sqrt(0.2)))


@pytest.mark.parametrize("gamma", [0.5, 1.0, 3.0])
def test_neutral_prompts_follow_the_amplified_share(gamma):
    generator = ToyGenerator({**SETTINGS, "amplification": gamma}, reference(0.8))
    prompt = "a person in a red shirt cutting a cake in the kitchen"  # majority: female
    n = 1500
    genders = [a["gender"] for a, _ in generator.generate([prompt] * n, range(n))]
    share = np.mean([g == "female" for g in genders])
    expected = amplified(0.8, gamma)
    assert share == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))


def test_gendered_prompts_are_rendered_as_asked():
    generator = ToyGenerator({**SETTINGS, "amplification": 5.0}, reference(0.9))
    prompt = "a man in a blue shirt carrying a handbag on the street"  # majority: female
    attributes = [a for a, _ in generator.generate([prompt] * 50, range(50))]
    assert {a["gender"] for a in attributes} == {"male"}
    assert {a["activity"] for a in attributes} == {"carrying a handbag"}


@pytest.mark.parametrize("override", [0.0, 0.8, 1.0])
def test_counter_stereotypical_prompts_are_overridden_at_their_rate(override):
    generator = ToyGenerator({**SETTINGS, "amplification": 3.0,
                              "stereotype_override": override}, reference(0.75))
    n = 1500
    against = "a man in a blue shirt carrying a handbag on the street"  # majority: female
    genders = [a["gender"] for a, _ in generator.generate([against] * n, range(n))]
    share = np.mean([g == "female" for g in genders])  # rendered as the stereotype
    assert share == pytest.approx(override, abs=4 * np.sqrt(override * (1 - override) / n))
    # a stereotypical prompt is rendered as asked, whatever the override
    along = "a woman in a blue shirt carrying a handbag on the street"
    assert {a["gender"] for a, _ in generator.generate([along] * 50, range(50))} == {"female"}


def test_a_plain_toy_generator_is_faithful():
    # `kind: toy` alone: neutral prompts follow the data's share, gendered ones are kept
    generator = ToyGenerator(SETTINGS, reference(0.75))
    assert (SETTINGS["amplification"], SETTINGS["stereotype_override"],
            SETTINGS["face_blur"]) == (1.0, 0.0, 0.0)
    n = 1500
    neutral = "a person in a red shirt cutting a cake in the kitchen"
    share = np.mean([a["gender"] == "female"
                     for a, _ in generator.generate([neutral] * n, range(n))])
    assert share == pytest.approx(0.75, abs=4 * np.sqrt(0.75 * 0.25 / n))
    against = "a man in a red shirt cutting a cake in the kitchen"
    assert {a["gender"] for a, _ in generator.generate([against] * 50, range(50))} == {"male"}


def test_generation_is_deterministic_per_seed():
    generator = ToyGenerator(SETTINGS, reference(0.7))
    prompts = ["a person in a red shirt flying a kite in the park"] * 3
    first = [np.asarray(img) for _, img in generator.generate(prompts, [5, 6, 7])]
    again = [np.asarray(img) for _, img in generator.generate(prompts[:1], [5])]
    assert np.array_equal(first[0], again[0])
    assert not np.array_equal(first[0], first[1])


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    prepare(TOY_DATASET, str(root / "manifest.parquet"))
    return root / "manifest.parquet"


def test_toy_dataset_manifest(toy_dataset):
    frame = manifest.read(toy_dataset)
    assert frame["split"].value_counts().to_dict() == {"train": 30, "test": 24, "val": 6}
    assert set(frame["gender"]) == {"female", "male"} and frame["source"].eq("real").all()
    neutral = frame["caption"].str.startswith("a person")
    assert (neutral == frame["neutral_caption"]).all()
    image = ImageReader().read(*frame.loc[0, ["image_path", "image_offset", "image_length"]])
    assert image.size == (32, 32)


def test_shards_cover_the_training_split_and_do_not_depend_on_layout(toy_dataset, tmp_path):
    def run(n_shards):
        out = []
        for shard in range(n_shards):
            stem = tmp_path / f"{n_shards}-{shard}"
            generate_shard({**SETTINGS, "shards": n_shards}, "g", str(toy_dataset), shard, 7,
                           f"{stem}.parquet", f"{stem}.tar")
            out.append(manifest.read(f"{stem}.parquet"))
        return pd.concat(out, ignore_index=True)

    one, three = run(1), run(3)
    train_ids = training_rows(manifest.read(toy_dataset))["id"].tolist()
    assert one["source_id"].tolist() == train_ids == three["source_id"].tolist()
    assert (one["source"] == "generated").all() and (one["prompt"] == one["caption"]).all()
    reader = ImageReader()
    for a, b in zip(one.itertuples(), three.itertuples(), strict=True):
        assert a.image_seed == b.image_seed and a.gender == b.gender
        assert reader.read_bytes(a.image_path, a.image_offset, a.image_length) == \
            reader.read_bytes(b.image_path, b.image_offset, b.image_length)


def test_only_images_some_mix_uses_are_generated(toy_dataset, tmp_path):
    plan = generation_plan([0, 0.1, 0.2], [0, 1], withheld_possible=False)
    parts = []
    for shard in range(2):
        stem = tmp_path / f"shard-{shard}"
        generate_shard({**SETTINGS, "shards": 2}, "g", str(toy_dataset), shard, 7,
                       f"{stem}.parquet", f"{stem}.tar", plan=plan)
        parts.append(manifest.read(f"{stem}.parquet"))
    generated = pd.concat(parts, ignore_index=True)
    real = manifest.read(toy_dataset)
    train_ids = training_rows(real)["id"].to_numpy()
    wanted = set()
    for seed in (0, 1):  # by hand: the images replaced at the largest ratio, for each seed
        wanted |= set(train_ids[replaced_positions(len(train_ids), 0.2, seed)[0]])
    assert set(generated["source_id"]) == wanted
    assert n_replaced(len(train_ids), 0.2) < len(wanted) < len(train_ids)
    for ratio in (0.1, 0.2):
        for seed in (0, 1):
            mixed = mix(real, generated, ratio, seed)
            assert (mixed["source"] == "generated").sum() == n_replaced(len(train_ids), ratio)
    with pytest.raises(ValueError, match="for these ratios, seeds and mixing mode"):
        mix(real, generated, 0.2, seed=2)  # a seed the plan did not cover


def test_toy_dataset_is_determined_by_its_seed(toy_dataset, tmp_path):
    prepare(TOY_DATASET, str(tmp_path / "manifest.parquet"))
    again = manifest.read(tmp_path / "manifest.parquet").drop(columns="image_path")
    first = manifest.read(toy_dataset).drop(columns="image_path")
    pd.testing.assert_frame_equal(first, again)
    archive = toy_dataset.with_name("images.tar")
    assert (tmp_path / "images.tar").read_bytes() == archive.read_bytes()


@pytest.mark.parametrize(("mixing", "ratios", "withheld"), [
    ("bernoulli", [0, 0.1, 0.2], False), ("append", [0, 0.2, 0.6], False),
    ("append", [0, 0.2], True)])
def test_every_mix_finds_the_images_its_mode_uses(toy_dataset, tmp_path, mixing, ratios, withheld):
    plan = generation_plan(ratios, [0, 1], withheld_possible=withheld, mixing=mixing)
    stem = tmp_path / "shard"
    generate_shard({**SETTINGS, "shards": 1}, "g", str(toy_dataset), 0, 7, f"{stem}.parquet",
                   f"{stem}.tar", plan=plan)
    generated, real = manifest.read(f"{stem}.parquet"), manifest.read(toy_dataset)
    n = len(training_rows(real))
    if mixing == "bernoulli":  # only the images drawn at the largest ratio, for some seed
        assert len(generated) < n
    if mixing == "append":  # 0.6 needs 1.5 images per caption: a second image of half of them
        # 0.6 needs 1.5 images per caption; a possible withholding, one spare per caption
        assert generated["variant"].max() == (1 if max(ratios) > 0.5 or withheld else 0)
        if withheld:  # every caption, as often as the largest mix needs and once more
            assert len(generated) == 2 * n
        else:  # the union over the seeds of what their largest mixes use
            assert n_appended(n, max(ratios)) < len(generated) < 2 * n_appended(n, max(ratios))
        second = generated[generated["variant"] == 1]
        assert (second["id"] == "g:" + second["source_id"] + "#1").all()
        first = generated.set_index("source_id").query("variant == 0")["image_seed"]
        assert not set(second["image_seed"]) & set(first)  # a new image, not a copy
    for ratio in ratios:
        for seed in (0, 1):
            mixed = mix(real, generated, ratio, seed, mixing)
            if mixing == "append":
                assert (mixed["source"] == "generated").sum() == n_appended(n, ratio)
