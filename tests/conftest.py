"""Fixtures shared by several test modules (helpers: the helpers package)."""

import json

import pytest
from helpers.data import TRAIN, VAL, write_split


@pytest.fixture(scope="session")
def coco_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    (root / "annotations").mkdir()
    write_split(root, "train", TRAIN)
    write_split(root, "val", VAL)
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
