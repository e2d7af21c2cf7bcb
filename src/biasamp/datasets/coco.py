"""COCO captions (2014 or 2017) read with pycocotools, optionally with the Karpathy split.

Layout under ``root`` (as published at https://cocodataset.org/#download):
  annotations/captions_train{year}.json, annotations/captions_val{year}.json
  train{year}/<file_name>, val{year}/<file_name>
Splits: without ``karpathy``, train{year} is the training split and val{year} the test split;
with ``karpathy`` (``dataset_coco.json``, 2014 only), its train + restval images train, its val
and test images (the 5k "COCO 5k" test) are val and test. Gender comes from the caption word
lists of :mod:`biasamp.wordlists`; images are referenced in place, never copied.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from biasamp import manifest, wordlists
from biasamp.datasets import DATASETS, screen_images
from biasamp.inputs import read_json, reading
from biasamp.seeding import rng_for

log = logging.getLogger(__name__)

WHERE = ("COCO is published at https://cocodataset.org/#download (images and 'Train/Val "
         "annotations' of the chosen year); the Karpathy split file dataset_coco.json comes "
         "with https://cs.stanford.edu/people/karpathy/deepimagesent/caption_datasets.zip")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["root"],
    "properties": {
        "root": {"type": "string", "description": "Folder holding annotations/ and images."},
        "year": {"enum": [2014, 2017], "default": 2014},
        "karpathy": {"type": ["string", "null"], "default": None,
                     "description": "Path of dataset_coco.json (Karpathy split), or null."},
        "caption": {"enum": ["first", "longest", "random"], "default": "first",
                    "description": "Which of an image's captions is trained on and prompted "
                                   "with: the first by annotation id, the longest, or one "
                                   "drawn with the dataset seed; all are kept in `captions`."},
        "instances": {"type": "boolean", "default": False,
                      "description": "Read each image's object categories (its tasks, for the "
                                     "bias-amplification measures) from "
                                     "annotations/instances_{train,val}{year}.json."},
        "bad_images": {"enum": ["fail", "skip"], "default": "fail",
                       "description": "Unreadable image files: stop, or skip them (counted)."},
        "seed": {"type": "integer", "minimum": 0, "default": 0},
    },
}


def expected_files(settings: dict) -> list[Path]:
    root, year = Path(settings["root"]), settings["year"]
    files = [root / "annotations" / f"captions_{part}{year}.json" for part in ("train", "val")]
    if settings["instances"]:
        files += [root / "annotations" / f"instances_{part}{year}.json" for part in ("train",
                                                                                   "val")]
    files += [root / f"{part}{year}" for part in ("train", "val")]
    if settings["karpathy"]:
        files.append(Path(settings["karpathy"]))
    return files


def check(settings: dict) -> list[tuple[str, str]]:
    if settings["karpathy"] and settings["year"] != 2014:
        return [("karpathy", "the Karpathy split is defined on COCO 2014; set year: 2014")]
    missing = [p for p in expected_files(settings) if not p.exists()]
    if missing:
        key = ("karpathy" if missing == [Path(settings["karpathy"] or "")] else
               "instances" if all(p.name.startswith("instances_") for p in missing) else "root")
        return [(key, f"missing {', '.join(map(str, missing))}. {WHERE}")]
    return []


def choose_caption(captions: list[str], rule: str, seed: int, image_id: str) -> str:
    if rule == "first":
        return captions[0]
    if rule == "longest":
        return max(captions, key=len)
    return captions[rng_for(seed, "caption", image_id).integers(len(captions))]


def read_captions(path: Path) -> tuple[dict, dict, int]:
    """image id -> file name, image id -> non-empty captions ordered by annotation id, and the
    number of empty captions left out.

    An image id listed twice in ``images`` is an error naming it (pycocotools would keep the
    last entry silently, moving the other file's captions onto it).
    """
    from collections import Counter

    from pycocotools.coco import COCO

    data = read_json(path, "COCO captions file", f"re-download it. {WHERE}")
    with reading(path, "COCO captions file", f"re-download it. {WHERE}"):
        twice = sorted(i for i, n in Counter(im["id"] for im in data["images"]).items() if n > 1)
        if twice:
            raise ValueError(f"image ids listed more than once in 'images': {twice[:5]}")
        coco = COCO()  # pycocotools' index over the loaded file (COCO(path) reads it again)
        coco.dataset = data
        coco.createIndex()
    files = {i: coco.imgs[i]["file_name"] for i in coco.getImgIds()}
    captions, empty = {}, 0
    for image_id in files:
        annotations = sorted(coco.imgToAnns[image_id], key=lambda a: a["id"])
        texts = [str(a["caption"]).strip() for a in annotations]
        captions[image_id] = [t for t in texts if t]
        empty += len(texts) - len(captions[image_id])
    if empty:
        log.warning("%s: %d empty captions left out", path, empty)
    return files, captions, empty


def read_objects(path: Path) -> dict[int, list[str]]:
    """image id -> the names of the object categories annotated in it (sorted; COCO's 80), from
    an ``instances_*.json`` file, read with pycocotools."""
    from pycocotools.coco import COCO

    data = read_json(path, "COCO instances file", f"re-download it. {WHERE}")
    with reading(path, "COCO instances file", f"re-download it. {WHERE}"):
        coco = COCO()
        coco.dataset = data
        coco.createIndex()
        names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
        return {i: sorted({names[a["category_id"]] for a in coco.imgToAnns[i]})
                for i in coco.getImgIds()}


def published_sizes(settings: dict) -> tuple[dict[str, int], str]:
    """Images per split as published: Karpathy's split of COCO 2014 (Karpathy & Fei-Fei 2015:
    5,000 val, 5,000 test, the other 113,287 train with restval), else the year's train and
    val sets (Lin et al. 2014; val is the test split)."""
    if settings["karpathy"]:
        return {"train": 113_287, "val": 5_000, "test": 5_000}, "Karpathy's COCO 2014 split"
    if settings["year"] == 2014:
        return {"train": 82_783, "test": 40_504}, "COCO 2014 train2014 and val2014"
    return {"train": 118_287, "test": 5_000}, "COCO 2017 train2017 and val2017"


@DATASETS.register("coco", schema=SCHEMA, check=check, published_sizes=published_sizes)
def prepare(settings: dict, manifest_path: str) -> None:
    root, year = Path(settings["root"]), settings["year"]
    splits = {}
    if settings["karpathy"]:
        karpathy = read_json(settings["karpathy"], "Karpathy split file", WHERE)
        rename = {"train": "train", "restval": "train", "val": "val", "test": "test"}
        with reading(settings["karpathy"], "Karpathy split file", WHERE):
            splits = {int(image["cocoid"]): rename[image["split"]]
                      for image in karpathy["images"]}
    rows, empty, uncaptioned = [], 0, 0
    for part, default_split in (("train", "train"), ("val", "test")):
        files, captions, dropped = read_captions(
            root / "annotations" / f"captions_{part}{year}.json")
        empty += dropped
        objects = (read_objects(root / "annotations" / f"instances_{part}{year}.json")
                   if settings["instances"] else None)
        for image_id, file_name in files.items():
            split = splits.get(image_id) if splits else default_split
            if split is None:
                continue
            if not captions[image_id]:
                uncaptioned += 1
                continue
            row_id = f"coco-{image_id}"
            caption = choose_caption(captions[image_id], settings["caption"], settings["seed"],
                                     row_id)
            path = root / f"{part}{year}" / file_name
            rows.append({
                "id": row_id, "split": split, "source": "real", "caption": caption,
                "captions": captions[image_id], "image_path": str(path), "image_offset": -1,
                "image_length": path.stat().st_size if path.exists() else 0,
                "gender": wordlists.caption_gender(captions[image_id]),
                "neutral_caption": not wordlists.mentions_gender(caption),
                **({"tasks": objects.get(image_id, [])} if objects is not None else {}),
            })
    frame = screen_images(pd.DataFrame(rows), settings["bad_images"])
    frame.attrs.update(empty_captions_dropped=empty, uncaptioned_images_dropped=uncaptioned)
    manifest.write(frame, manifest_path)
    log.info("COCO %d: %s images; %d empty captions and %d images without a caption left out",
             year, frame["split"].value_counts().to_dict(), empty, uncaptioned)
