"""PHASE annotations in their published JSON layout."""


import pandas as pd
import pytest
from helpers.data import phase_entry

from biasamp import manifest
from biasamp.config import ConfigError, validate_config
from biasamp.datasets import prepare


def test_subgroups_need_all_annotated_people_to_agree(tmp_path):
    prepare(phase_entry(tmp_path), str(tmp_path / "m.parquet"))
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
