"""PHASE (Garcia et al., ICCV 2023): demographic annotations of CC3M validation images.

``anns_imgs_gcc_val_majorities_regions_20221101.json`` maps an image id to ``caption`` plus one
entry per annotated person holding ``{"annotations": {"age", "gender", "skintone",
"ethnicity", ...}}``. An image belongs to a subgroup only when all its annotated people share
the value; ages ``baby`` and ``children`` are merged as ``baby&child``, as in the study. The
images are CC3M validation images, expected as ``{images}/{id}.jpg`` (``image_pattern``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from biasamp import manifest
from biasamp.datasets import DATASETS, agreed_value, missing_files, screen_images
from biasamp.inputs import InputFileError, read_json

log = logging.getLogger(__name__)

WHERE = ("PHASE is published at https://github.com/noagarcia/phase (annotations); its images "
         "are CC3M validation images (https://ai.google.com/research/ConceptualCaptions/)")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["annotations", "images"],
    "properties": {
        "annotations": {"type": "string",
                        "description": "Path of anns_imgs_gcc_val_majorities_*.json."},
        "images": {"type": "string", "description": "Folder of the annotated images."},
        "image_pattern": {"type": "string", "pattern": "\\{id\\}", "default": "{id}.jpg",
                          "description": "File name of an image inside `images`."},
        "bad_images": {"enum": ["fail", "skip"], "default": "skip"},
    },
}

# annotation value -> manifest value; values not listed (e.g. "unsure") mean unknown
VOCABULARY = {
    "gender": ("gender", {"male": "male", "female": "female"}),
    "skintone": ("skin", {"lighter": "light", "darker": "dark"}),
    "ethnicity": ("ethnicity", {e: e for e in ("black", "east_asian", "indian", "latino",
                                               "middle_eastern", "southeast_asian", "white")}),
    "age": ("age", {"baby": "baby&child", "children": "baby&child", "young": "young",
                    "adult": "adult", "senior": "senior"}),
}


def check(settings: dict) -> list[tuple[str, str]]:
    return missing_files(settings, ("annotations", "images"), WHERE)


def image_attributes(entry: dict) -> dict[str, str | None]:
    """Manifest demographics of one image: a value only where all annotated people agree."""
    people = [v["annotations"] for v in entry.values()
              if isinstance(v, dict) and isinstance(v.get("annotations"), dict)]
    return {column: agreed_value([p.get(source, "") for p in people], vocabulary)
            for source, (column, vocabulary) in VOCABULARY.items()}


@DATASETS.register("phase", schema=SCHEMA, check=check)
def prepare(settings: dict, manifest_path: str) -> None:
    annotations = read_json(settings["annotations"], "PHASE annotation file", WHERE)
    if not isinstance(annotations, dict):
        raise InputFileError(f"{settings['annotations']}: a PHASE annotation file maps image "
                             f"ids to annotations, this one holds a {type(annotations).__name__}")
    rows = []
    for image_id, entry in annotations.items():
        path = Path(settings["images"]) / settings["image_pattern"].format(id=image_id)
        rows.append({
            "id": f"phase-{image_id}", "split": "test", "source": "real",
            "caption": str(entry["caption"]).strip(), "image_path": str(path),
            "image_offset": -1, "image_length": path.stat().st_size if path.exists() else 0,
            **image_attributes(entry),
        })
    frame = screen_images(pd.DataFrame(rows), settings["bad_images"])
    manifest.write(frame, manifest_path)
    log.info("PHASE: %d images; %s", len(frame),
             {c: frame[c].value_counts().to_dict() for c in ("gender", "skin", "age")})
