"""Fixtures shared by several test modules (helpers: the helpers package)."""

import json

import pytest
from helpers.data import TRAIN, VAL, write_instances, write_split


@pytest.fixture(scope="session")
def coco_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    (root / "annotations").mkdir()
    write_split(root, "train", TRAIN)
    write_split(root, "val", VAL)
    # objects: 1 person, 18 dog, 61 cake (image 3 has none)
    write_instances(root, "train", {1: [1], 2: [1, 61, 61], 4: [1], 5: [1], 6: [18], 7: [1, 18]})
    # the test images of known gender show an object besides the person (the amplification
    # measures leave "person" out: it carries gender)
    write_instances(root, "val", {101: [1, 18], 102: [1, 61], 103: [1, 18]})
    split = {1: "train", 2: "restval", 3: "train", 4: "train", 5: "train", 7: "val",
             101: "test", 102: "test", 103: "test"}  # image 6 is in no split
    (root / "dataset_coco.json").write_text(json.dumps({"images": [
        {"cocoid": i, "split": s, "filepath": "train2014" if i < 100 else "val2014",
         "filename": f"COCO_x_{i:012d}.jpg", "sentences": []} for i, s in split.items()]}))
    return root


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory):
    """A tiny random-weight Stable Diffusion pipeline folder (save_pretrained)."""
    from biasamp.generators.random_pipeline import build_pipeline

    folder = tmp_path_factory.mktemp("tiny-sd")
    build_pipeline("tiny", folder, seed=0)
    return folder
