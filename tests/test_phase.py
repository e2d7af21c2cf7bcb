"""PHASE annotations in their published JSON layout."""

import json

import pandas as pd
import pytest
from PIL import Image

from biasamp import manifest
from biasamp.config import ConfigError, validate_config
from biasamp.datasets import prepare

ANNOTATIONS = {
    "1001": {"caption": "actor attends the premiere",
             "p1": {"annotations": {"age": "adult", "gender": "male", "skintone": "darker",
                                    "ethnicity": "black"}}},
    "1002": {"caption": "a mother with her baby",
             "p1": {"annotations": {"age": "adult", "gender": "female", "skintone": "lighter",
                                    "ethnicity": "white"}},
             "p2": {"annotations": {"age": "baby", "gender": "unsure", "skintone": "lighter",
                                    "ethnicity": "white"}}},
    "1003": {"caption": "kids playing football",
             "p1": {"annotations": {"age": "children", "gender": "male", "skintone": "lighter",
                                    "ethnicity": "latino"}},
             "p2": {"annotations": {"age": "baby", "gender": "male", "skintone": "darker",
                                    "ethnicity": "latino"}}},
}


def settings(tmp_path, **overrides):
    (tmp_path / "anns.json").write_text(json.dumps(ANNOTATIONS))
    (tmp_path / "images").mkdir(exist_ok=True)
    for image_id in ANNOTATIONS:
        Image.new("RGB", (20, 20), (10, 20, 30)).save(tmp_path / "images" / f"{image_id}.jpg")
    entry = {"kind": "phase", "annotations": str(tmp_path / "anns.json"),
             "images": str(tmp_path / "images"), **overrides}
    config = validate_config({"datasets": {"toy": {"kind": "toy"}},
                              "generators": {"g": {"kind": "toy"}},
                              "models": {"clip": {"kind": "clip"}},
                              "evaluation": {"sets": {"phase": entry}}})
    return config["evaluation"]["sets"]["phase"]


def test_subgroups_need_all_annotated_people_to_agree(tmp_path):
    prepare(settings(tmp_path), str(tmp_path / "m.parquet"))
    frame = manifest.read(tmp_path / "m.parquet").set_index("id")
    one, two, three = (frame.loc[f"phase-{i}"] for i in ("1001", "1002", "1003"))
    assert [one[c] for c in ("gender", "skin", "ethnicity", "age")] == [
        "male", "dark", "black", "adult"]
    assert pd.isna(two["gender"]) and two["skin"] == "light" and pd.isna(two["age"])
    assert three["age"] == "baby&child"  # baby and children merged, as in the study
    assert three["gender"] == "male" and pd.isna(three["skin"])
    assert (frame["split"] == "test").all() and one["caption"] == "actor attends the premiere"


def test_missing_annotations_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"evaluation\.sets\.phase\.annotations.*PHASE"):
        validate_config({"datasets": {"toy": {"kind": "toy"}}, "generators": {"g": {"kind": "toy"}},
                         "models": {"clip": {"kind": "clip"}},
                         "evaluation": {"sets": {"phase": {
                             "kind": "phase", "annotations": str(tmp_path / "absent.json"),
                             "images": str(tmp_path)}}}})
