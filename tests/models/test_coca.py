"""The CoCa captioner: toy vocabulary, decoder initialisation, caption measures, and a real
workflow run whose captions reach the metrics table and the figures."""

import copy

import numpy as np
import pandas as pd
import pytest
from helpers import TINY_STUDY, copy_workflow, evaluation_settings, loaded_libraries, snakemake

from biasamp import tables, toyworld
from biasamp.evaluate import ModelInputs
from biasamp.metrics import SUITES


@pytest.fixture(scope="module")
def open_clip_toy():
    import open_clip

    from biasamp.models.open_clip_trainer import register_model_configs

    register_model_configs()
    return open_clip


def test_the_toy_vocabulary_spells_every_toy_caption(open_clip_toy):
    tokenizer = open_clip_toy.get_tokenizer("toy-CoCa")
    assert 600 < tokenizer.eot_token_id + 1 < 1000  # vs 49,408 for open_clip's own
    scene = toyworld.Scene("female", "dark", "holding an umbrella", "at the beach", "yellow")
    for caption in (toyworld.caption_for(scene, True), toyworld.caption_for(scene, False),
                    "a photo of a doctor"):  # text outside the toy world still tokenizes
        ids = [t for t in tokenizer([caption])[0].tolist()
               if t not in (0, tokenizer.sot_token_id, tokenizer.eot_token_id)]
        assert tokenizer.decode(ids).strip() == caption
    # every toy word is one token: a 12-word caption is 14 tokens with start and end
    words = toyworld.caption_for(scene, False).split()
    assert int((tokenizer([" ".join(words)])[0] != 0).sum()) == len(words) + 2


def test_the_text_decoder_starts_from_defined_weights(open_clip_toy):
    import torch

    from biasamp.models.coca import CoCa

    def build():
        torch.manual_seed(0)
        model = open_clip_toy.create_model("toy-CoCa")
        CoCa.initialise(model)
        return model.text_decoder.text_projection.detach().clone()

    first, second = build(), build()
    assert torch.isfinite(first).all() and torch.equal(first, second)
    assert first.std().item() == pytest.approx(64 ** -0.5, rel=0.2)


def test_caption_measurements_hand_computed():
    test = pd.DataFrame({
        "caption": ["a man riding a horse", "a woman cooking", "a woman skiing", "a man surfing"],
        "captions": [["a man riding a horse", "a man on a horse"], ["a woman cooking"],
                     ["a woman skiing"], ["a man surfing"]],
        "gender": pd.array(["male", "female", "female", None], dtype="string"),
        "skin": pd.array(["dark", "dark", "light", "light"], dtype="string"),
    })
    generated = ["a man riding a horse", "a man cooking", "a person skiing", "a woman surfing"]
    inputs = ModelInputs(test, evaluation_settings(caption_scorers=["bleu"]), None, None,
                         written_captions=generated)
    values = {(m, g): v for m, g, v in SUITES.get("captions").measure(inputs)}
    # gender known for images 0-2: correct, error (says man), neutral; image 3 unknown
    assert values["caption_gender_error", ""] == pytest.approx(1 / 3)
    assert values["caption_gender_neutral", ""] == pytest.approx(1 / 3)
    assert values["caption_gender_error", "gender:female"] == 0.5
    assert values["caption_gender_error", "skin:dark"] == 0.5  # images 0 (correct), 1 (error)
    assert values["caption_gender_neutral", "skin:light"] == 1.0  # image 2 only
    assert ("caption_gender_error", "gender:male") in values and values[
        "caption_gender_error", "gender:male"] == 0.0
    # Hendricks et al.'s ratio: captions naming a woman : a man = 0 : 2 (image 2 names none);
    # the images are 2 women : 1 man -> Ratio Δ = 2 - 0
    assert values["caption_gender_ratio", ""] == 0.0
    assert values["caption_gender_ratio_delta", ""] == 2.0
    assert values["caption_gender_ratio_delta", "skin:dark"] == 1.0  # 1 : 1 images, 0 : 2 said
    assert np.isnan(values["caption_gender_ratio", "skin:light"])  # no caption names a man
    assert ("caption_gender_ratio", "gender:male") not in values
    # image 0 matches a reference exactly; BLEU-4 of it alone is 1
    assert values["bleu4", "gender:male"] == pytest.approx(1.0)
    assert 0 < values["bleu4", ""] < 1


@pytest.mark.workflow
def test_a_captioner_in_the_study(tmp_path):
    config = copy.deepcopy(TINY_STUDY)
    config["ratios"] = [0, 1]
    config["models"] = {"coca": {"kind": "coca", "epochs": 1, "batch_size": 32, "beams": 2,
                                 "caption_tokens": 14}}
    config["evaluation"]["threads"] = 2
    workdir = copy_workflow(tmp_path, config)
    snakemake(workdir)
    table = tables.read(workdir / "results" / "metrics.csv")
    coca = table[table["model"] == "coca"]
    assert {"bleu4", "caption_gender_error", "caption_gender_neutral", "recall@1",
            "person_preference", "biasamp_t2a", "biasamp_a2t", "biasamp", "lic"} <= set(
                coca["metric"])
    assert coca.loc[coca["metric"] == "lic", "value"].between(-100, 100).all()
    amplification = coca[coca["metric"].str.startswith("biasamp")]
    assert set(amplification["group"]) == {"gender"}
    # biasamp is NaN where no caption names a task with a gender (a barely trained captioner)
    assert amplification["value"].dropna().between(-1, 1).all()
    assert amplification.loc[amplification["metric"] == "biasamp_t2a", "value"].notna().all()
    assert coca.loc[coca["metric"] == "bleu4", "value"].between(0, 1).all()
    captions = pd.read_csv(workdir / "results/toy/evaluation/toy-amplify/ratio~1/seed~0/coca/"
                           "test.captions.csv", keep_default_na=False)
    manifest_rows = pd.read_parquet(workdir / "results/toy/data/manifest.parquet")
    assert len(captions) == int((manifest_rows["split"] == "test").sum())
    assert captions["caption"].str.len().gt(0).all()
    log = (workdir / "results/logs/caption/toy/evaluation/toy-amplify/ratio~1/seed~0/coca/"
           "test.log").read_text()
    assert "(cpu, 2 threads)" in log  # evaluation.threads
    loaded = loaded_libraries(workdir)  # decoding is ours: open_clip without transformers
    assert not {"transformers", "timm", "open_clip_train"} & (
        loaded["caption"] | loaded["evaluate"])
    for name in ("bleu4", "caption_gender_error"):
        assert (workdir / "results" / "figures" / f"{name}.png").stat().st_size > 0
    assert np.isfinite(coca["value"].dropna()).all()
