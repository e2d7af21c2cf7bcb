"""The COCO demographic annotations of Zhao et al. (ICCV 2021), an evaluation set.

``images_val2014.csv`` has one row per annotated COCO val2014 image: ``id``, ``bb_gender``
(``Male`` / ``Female``; other values mean unsure), ``skin`` (a Python-style list with one entry
per annotated person, e.g. ``['Light', 'Dark']``) and ``split`` (``val`` / ``test``). An image
belongs to a subgroup only when all its annotated people share the value; otherwise the
attribute is unknown. Captions come from ``captions_val2014.json`` (pycocotools); every caption
of an image queries it. The annotations are available on request from the authors.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pandas as pd

from biasamp import manifest
from biasamp.datasets import DATASETS, agreed_value, missing_files, screen_images
from biasamp.datasets.coco import read_captions
from biasamp.inputs import read_csv

log = logging.getLogger(__name__)

WHERE = ("the annotations (images_val2014.csv) are available on request from the authors of "
         "'Understanding and Evaluating Racial Biases in Image Captioning' (Zhao et al., ICCV "
         "2021); captions_val2014.json and val2014/ are COCO 2014 "
         "(https://cocodataset.org/#download)")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["annotations", "captions", "images"],
    "properties": {
        "annotations": {"type": "string", "description": "Path of images_val2014.csv."},
        "captions": {"type": "string", "description": "Path of captions_val2014.json."},
        "images": {"type": "string", "description": "The COCO val2014 image folder."},
        "split": {"enum": ["test", "val", "all"], "default": "test",
                  "description": "Which annotated images to evaluate on."},
        "bad_images": {"enum": ["fail", "skip"], "default": "fail"},
    },
}

GENDERS = {"male": "male", "female": "female"}
SKINS = {"light": "light", "dark": "dark"}


def check(settings: dict) -> list[tuple[str, str]]:
    return missing_files(settings, ("annotations", "captions", "images"), WHERE)


def parse_people(cell) -> list[str]:
    """``"['Light', 'Dark']"`` -> ['Light', 'Dark']; a bare value is one person."""
    if not isinstance(cell, str) or not cell.strip():
        return []
    text = cell.strip()
    return [str(v) for v in ast.literal_eval(text)] if text.startswith("[") else [text]


@DATASETS.register("coco_demographics", schema=SCHEMA, check=check)
def prepare(settings: dict, manifest_path: str) -> None:
    table = read_csv(settings["annotations"], "demographic annotation file", WHERE)
    missing = {"id", "bb_gender", "skin", "split"} - set(table.columns)
    if missing:
        raise ValueError(f"{settings['annotations']} lacks columns {sorted(missing)}")
    twice = table.loc[table["id"].duplicated(), "id"].tolist()
    if twice:
        raise ValueError(f"{settings['annotations']}: image ids annotated more than once: "
                         f"{twice[:5]}; is this the published file? {WHERE}")
    if settings["split"] != "all":
        table = table[table["split"] == settings["split"]]
    files, captions, _ = read_captions(Path(settings["captions"]))
    rows = []
    for record in table.itertuples(index=False):
        image_id = int(record.id)
        if image_id not in files or not captions[image_id]:
            log.warning("image %d is annotated but has no COCO caption entry; left out", image_id)
            continue
        path = Path(settings["images"]) / files[image_id]
        rows.append({
            "id": f"coco-{image_id}", "split": "test", "source": "real",
            "caption": captions[image_id][0], "captions": captions[image_id],
            "image_path": str(path), "image_offset": -1,
            "image_length": path.stat().st_size if path.exists() else 0,
            "gender": agreed_value(parse_people(record.bb_gender), GENDERS),
            "skin": agreed_value(parse_people(record.skin), SKINS),
        })
    frame = screen_images(pd.DataFrame(rows), settings["bad_images"])
    manifest.write(frame, manifest_path)
    log.info("COCO demographics: %d images; gender %s; skin %s", len(frame),
             frame["gender"].value_counts().to_dict(), frame["skin"].value_counts().to_dict())
