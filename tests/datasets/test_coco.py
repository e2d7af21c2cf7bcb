"""COCO in its published layout: pycocotools caption files, image folders, Karpathy split."""

import copy

import pandas as pd
import pytest
import yaml
from helpers import REPO, copy_workflow, snakemake
from helpers.data import TRAIN, VAL, fairface_labels

from biasamp import manifest, tables
from biasamp.config import ConfigError, validate_config, validate_entry
from biasamp.datasets import prepare


def write_demographics(root):
    path = root / "images_val2014.csv"
    path.write_text("id,bb_gender,skin,split\n"
                    "101,Male,['Light'],test\n"
                    "102,Female,\"['Light', 'Dark']\",test\n"
                    "103,Unsure,\"['Dark', 'Dark']\",test\n"
                    "104,Male,['Light'],val\n")
    return {"kind": "coco_demographics", "annotations": str(path),
            "captions": str(root / "annotations" / "captions_val2014.json"),
            "images": str(root / "val2014")}


def test_demographic_annotations_follow_the_all_people_agree_rule(coco_root, tmp_path):
    entry = write_demographics(coco_root)
    config = validate_config({"datasets": {"toy": {"kind": "toy"}},
                              "generators": {"g": {"kind": "toy"}},
                              "models": {"clip": {"kind": "clip"}},
                              "evaluation": {"sets": {"demo": entry}}})
    prepare(config["evaluation"]["sets"]["demo"], str(tmp_path / "m.parquet"))
    frame = manifest.read(tmp_path / "m.parquet").set_index("id")
    assert list(frame.index) == ["coco-101", "coco-102", "coco-103"]  # split test only
    assert frame.loc["coco-101", ["gender", "skin"]].tolist() == ["male", "light"]
    assert frame.loc["coco-102", "gender"] == "female" and pd.isna(frame.loc["coco-102", "skin"])
    assert pd.isna(frame.loc["coco-103", "gender"]) and frame.loc["coco-103", "skin"] == "dark"
    assert list(frame.loc["coco-101", "captions"]) == VAL[101]


def test_an_evaluation_set_may_not_be_called_test(coco_root):
    with pytest.raises(ConfigError, match=r"evaluation\.sets"):
        validate_config({"datasets": {"toy": {"kind": "toy"}}, "generators": {"g": {"kind": "toy"}},
                         "models": {"clip": {"kind": "clip"}},
                         "evaluation": {"sets": {"test": write_demographics(coco_root)}}})


def coco_settings(root, **overrides):
    entry = {"kind": "coco", "root": str(root), **overrides}
    return validate_entry("datasets", "coco", entry)


def test_coco_manifest(coco_root, tmp_path):
    prepare(coco_settings(coco_root, bad_images="skip"), str(tmp_path / "m.parquet"))
    frame = manifest.read(tmp_path / "m.parquet")
    assert frame.attrs["bad_images_skipped"] == 1  # the corrupt image is counted ...
    frame = frame.set_index("id")
    assert "coco-6" not in frame.index  # ... and skipped
    assert frame["split"].value_counts().to_dict() == {"train": 6, "test": 3}
    assert frame.loc["coco-1", "caption"] == TRAIN[1][0]  # first by annotation id
    assert list(frame.loc["coco-2", "captions"]) == TRAIN[2]
    genders = frame["gender"]
    assert genders[["coco-1", "coco-2", "coco-5"]].tolist() == ["male", "female", "female"]
    assert genders[["coco-3", "coco-4"]].isna().all()  # no / both genders: unknown, not guessed
    assert bool(frame.loc["coco-3", "neutral_caption"]) and not frame.loc["coco-1",
                                                                          "neutral_caption"]
    assert frame.loc["coco-101", "image_path"].endswith("val2014/COCO_val2014_000000000101.jpg")
    assert (frame["image_offset"] == -1).all()


def test_object_categories_are_each_images_tasks(coco_root, tmp_path):
    prepare(coco_settings(coco_root, bad_images="skip", instances=True), str(tmp_path / "m.pq"))
    frame = manifest.read(tmp_path / "m.pq").set_index("id")
    tasks = {i: list(t) for i, t in frame["tasks"].items()}
    assert tasks["coco-2"] == ["cake", "person"]  # each category once, sorted
    assert tasks["coco-3"] == [] and tasks["coco-103"] == ["dog", "person"]
    plain = tmp_path / "plain.pq"
    prepare(coco_settings(coco_root, bad_images="skip"), str(plain))
    assert "tasks" not in manifest.read(plain)  # without instances: no tasks, no such rows


def test_a_missing_instances_file_is_named(tmp_path):
    from helpers.data import write_split

    (tmp_path / "annotations").mkdir()
    write_split(tmp_path, "train", {1: ["A man."]})
    write_split(tmp_path, "val", {2: ["A woman."]})
    with pytest.raises(ConfigError, match=r"datasets\.coco\.instances': missing .*"
                                          r"instances_train2014\.json"):
        coco_settings(tmp_path, instances=True)


def test_karpathy_split(coco_root, tmp_path):
    settings = coco_settings(coco_root, karpathy=str(coco_root / "dataset_coco.json"),
                             caption="longest")
    prepare(settings, str(tmp_path / "m.parquet"))
    frame = manifest.read(tmp_path / "m.parquet").set_index("id")
    assert frame["split"].to_dict() == {
        "coco-1": "train", "coco-2": "train", "coco-3": "train", "coco-4": "train",
        "coco-5": "train", "coco-7": "val", "coco-101": "test", "coco-102": "test",
        "coco-103": "test"}  # the corrupt image 6 is in no split, so nothing fails
    assert frame.loc["coco-2", "caption"] == "Two women at a party with a cake."


def test_bad_images_fail_by_default_naming_the_file(coco_root, tmp_path):
    with pytest.raises(ValueError, match=r"1 of 10 image files .*COCO_train2014_000000000006"):
        prepare(coco_settings(coco_root), str(tmp_path / "m.parquet"))


def test_missing_data_names_each_file_and_where_to_get_it(tmp_path):
    with pytest.raises(ConfigError) as error:
        coco_settings(tmp_path / "nowhere")
    message = str(error.value)
    assert "datasets.coco.root" in message and "cocodataset.org" in message
    assert "captions_train2014.json" in message and "val2014" in message


@pytest.mark.workflow
def test_paper_config_plans_and_a_small_coco_study_runs(coco_root, tiny_pipeline, tmp_path):  # noqa: F811
    paper = yaml.safe_load((REPO / "config" / "paper" / "coco.yaml").read_text())
    paper["datasets"]["coco"]["root"] = str(coco_root)
    paper["datasets"]["coco"]["karpathy"] = str(coco_root / "dataset_coco.json")
    paper["generators"]["sd15"]["model"] = str(tiny_pipeline)
    faces = {"kind": "fairface", "labels": str(fairface_labels(tmp_path / "fairface"))}
    paper["evaluation"]["sets"]["fairface"] = faces
    workdir = copy_workflow(tmp_path, paper)
    planned = snakemake(workdir, "-n").stdout
    assert "total" in planned and "generate" in planned and "train" in planned

    small = copy.deepcopy(paper)
    small.update(seeds=[0], ratios=[0, 1], evaluation={
        "recall_k": [1], "bias_k": 2, "sets": {"demo": write_demographics(coco_root),
                                               "fairface": faces}})
    small["generators"]["sd15"].update(height=32, width=32, steps=2, dtype="float32", gpus=0,
                                       batch_size=4, shards=2)
    small["models"] = {"clip": {"kind": "clip", "arch": "toy-ViT", "epochs": 1, "batch_size": 2}}
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(small))
    snakemake(workdir)
    table = tables.read(workdir / "results" / "metrics.csv")
    evaluated = table[table["model"] == "clip"]
    assert set(evaluated["evalset"]) == {"test", "demo", "fairface"}
    demo = evaluated[(evaluated["evalset"] == "demo") & (evaluated["metric"] == "recall@1")]
    assert {"", "gender:male", "gender:female", "skin:light", "skin:dark"} == set(demo["group"])
    # the paper config reads the objects: amplification over COCO's categories (zero-shot)
    objects = evaluated[(evaluated["evalset"] == "test")
                        & evaluated["metric"].isin(["biasamp_t2a", "biasamp_a2t"])]
    assert len(objects) == 4 and set(objects["group"]) == {"gender"}  # 2 ratios x 2 measures
    faces = evaluated[evaluated["evalset"] == "fairface"]  # no captions: caption-free measures
    assert not faces["metric"].str.startswith("recall@").any()
    assert {"gender:female", "ethnicity:black"} <= set(
        faces.loc[faces["metric"] == "person_preference", "group"])
