"""FairFace and region-labelled CSVs in their published layouts, and the caption-free measures
the evaluate stage computes on them."""

import numpy as np
import pandas as pd
import pytest
from helpers import evaluation_settings
from helpers.data import FAIRFACE, REGIONS, write_tree

from biasamp import manifest, tables
from biasamp.config import ConfigError, validate_config
from biasamp.datasets import prepare


def entry(kind, **settings):
    config = validate_config({"datasets": {"toy": {"kind": "toy"}},
                              "generators": {"g": {"kind": "toy"}},
                              "models": {"clip": {"kind": "clip"}},
                              "evaluation": {"sets": {"faces": {"kind": kind, **settings}}}})
    return config["evaluation"]["sets"]["faces"]


def test_fairface_labels_become_demographic_columns(tmp_path):
    labels = write_tree(tmp_path, FAIRFACE, "label_val.csv")
    prepare(entry("fairface", labels=str(labels)), str(tmp_path / "m.parquet"))
    frame = manifest.read(tmp_path / "m.parquet").set_index("id")
    assert frame.loc["fairface-val/1.jpg", ["gender", "ethnicity", "age"]].tolist() == [
        "male", "east_asian", "3-9"]
    assert frame.loc["fairface-val/2.jpg", "ethnicity"] == "latino"
    assert frame.loc["fairface-val/3.jpg", "age"] == "70+"
    assert (frame["split"] == "test").all() and (frame["caption"] == "").all()
    assert frame["skin"].isna().all()  # FairFace has no skin tone: unknown, not guessed


def test_fairface_values_outside_the_vocabulary_name_the_file(tmp_path):
    labels = write_tree(tmp_path, FAIRFACE.replace("Latino_Hispanic", "Hispanic"),
                        "label_val.csv")
    with pytest.raises(ValueError, match=r"label_val\.csv: column race .*'Hispanic'"):
        prepare(entry("fairface", labels=str(labels)), str(tmp_path / "m.parquet"))


def test_missing_fairface_is_named_with_where_to_get_it(tmp_path):
    with pytest.raises(ConfigError, match=r"evaluation\.sets\.faces\.labels.*joojs/fairface"):
        entry("fairface", labels=str(tmp_path / "label_val.csv"))


def test_region_csv(tmp_path):
    csv = write_tree(tmp_path, REGIONS, "regions.csv")
    (tmp_path / "img" / "d.jpg").write_bytes(b"not a jpeg")  # a corrupt file: skipped, counted
    prepare(entry("region_csv", csv=str(csv)), str(tmp_path / "m.parquet"))
    frame = manifest.read(tmp_path / "m.parquet").set_index("id")
    assert frame["region"].to_dict() == {"region-img/a.jpg": "Africa",
                                         "region-img/b.jpg": "Europe",
                                         "region-img/c.jpg": "Africa"}
    assert frame["gender"].tolist()[:2] == ["female", "male"]
    assert pd.isna(frame.loc["region-img/c.jpg", "gender"])
    assert frame.loc["region-img/b.jpg", "country"] == "Italy"
    assert manifest.read(tmp_path / "m.parquet").attrs["bad_images_skipped"] == 1


def test_region_csv_without_a_region_column_is_an_error(tmp_path):
    csv = write_tree(tmp_path, REGIONS.replace("region,", "place,"), "regions.csv")
    with pytest.raises(ValueError, match=r"regions\.csv: no column region"):
        prepare(entry("region_csv", csv=str(csv)), str(tmp_path / "m.parquet"))


@pytest.fixture
def random_clip(tmp_path):
    """A toy-ViT CLIP with random weights, saved as the train stage saves models."""
    import open_clip
    import torch

    from biasamp.models.open_clip_trainer import register_model_configs

    register_model_configs()
    torch.manual_seed(0)
    model = open_clip.create_model("toy-ViT")
    torch.save({"arch": "toy-ViT", "state_dict": model.state_dict()}, tmp_path / "model.pt")
    return tmp_path / "model.pt"


def test_a_set_without_captions_gets_the_caption_free_measures(tmp_path, random_clip):
    from biasamp.evaluate import evaluate_model

    labels = write_tree(tmp_path, FAIRFACE, "label_val.csv")
    prepare(entry("fairface", labels=str(labels)), str(tmp_path / "m.parquet"))
    evaluation = evaluation_settings(recall_k=[1], bias_k=2, batch_size=2)
    keys = {"dataset": "toy", "generator": "g", "round": 1, "ratio": 0.5, "seed": 0,
            "model": "clip", "evalset": "faces"}
    evaluate_model({"kind": "clip"}, str(random_clip), str(tmp_path / "m.parquet"), evaluation,
                   keys, str(tmp_path / "faces.csv"))
    table = tables.read(tmp_path / "faces.csv")
    assert not table["metric"].str.startswith("recall@").any()  # no captions, no retrieval
    groups = table.groupby("metric")["group"].apply(set)
    assert groups["maxskew@2"] == {"gender", "ethnicity", "age"}
    assert {"gender:male", "gender:female", "ethnicity:black", "age:70+"} <= \
        groups["person_preference"]
    preference = table[table["metric"] == "person_preference"]["value"]
    assert preference.isin([0.0, 0.5, 1.0]).all()  # shares of 1 or 2 images
    self_sim = table[(table["metric"] == "self_similarity") & (table["group"] == "")]["value"]
    assert np.isfinite(self_sim).all() and (self_sim.abs() <= 1).all()
    # the harmful-label audit, by gender × race as FairFace's classes
    assert {"", "gender:male", "ethnicity:black"} <= groups["harmful_label_share"]
    assert any(g.startswith("gender&ethnicity:") for g in groups["harmful_label_share"])
    assert table.loc[table["metric"].str.endswith("_label_share"), "value"].between(0, 1).all()
    assert "detectability_auc" not in groups  # no generated images of its captions
