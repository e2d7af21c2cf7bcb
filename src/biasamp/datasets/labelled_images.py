"""Evaluation sets of labelled images without captions: FairFace and region-labelled CSVs.

Both are a CSV with one row per image, a ``file`` column relative to an image folder, and
demographic labels; they become manifests of test images with an empty caption, evaluated by
the caption-free measures (markedness, neutral-prompt MaxSkew / NDKL).

- ``fairface``: ``label_train.csv`` / ``label_val.csv`` of FairFace (Kärkkäinen & Joo, WACV
  2021; padding 1.25 release): ``file`` (e.g. ``val/1.jpg``), ``age`` (``0-2`` … ``more than
  70``), ``gender`` (``Male`` / ``Female``), ``race`` (seven groups, kept as ``ethnicity`` in
  the vocabulary PHASE uses), ``service_test``. A value outside the published vocabulary stops
  the run: it means the wrong file.
- ``region_csv``: a CSV with at least ``file`` and ``region`` and, where known, ``gender``
  (``male`` / ``female`` / ``man`` / ``woman``, any case; other values unknown) and
  ``country``, as GeoDE or Dollar Street can be exported.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from biasamp import manifest
from biasamp.datasets import DATASETS, missing_files, screen_images
from biasamp.inputs import read_csv

log = logging.getLogger(__name__)

FAIRFACE_WHERE = ("FairFace (padding 1.25 images and label_{train,val}.csv) is published at "
                  "https://github.com/joojs/fairface")
REGION_WHERE = ("region-labelled images are published e.g. as GeoDE "
                "(https://geodiverse-data-collection.cs.princeton.edu/) or Dollar Street "
                "(https://www.gapminder.org/dollar-street); export a CSV with columns file, "
                "region and optionally gender, country")

FAIRFACE_GENDER = {"Male": "male", "Female": "female"}
FAIRFACE_RACE = {"East Asian": "east_asian", "Indian": "indian", "Black": "black",
                 "White": "white", "Middle Eastern": "middle_eastern",
                 "Latino_Hispanic": "latino", "Southeast Asian": "southeast_asian"}
FAIRFACE_AGE = {a: a for a in ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59",
                               "60-69")} | {"more than 70": "70+"}
REGION_GENDER = {"male": "male", "man": "male", "female": "female", "woman": "female"}


def _schema(file_key: str, description: str) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [file_key],
        "properties": {
            file_key: {"type": "string", "description": description},
            "images": {"type": "string", "description": (
                "Folder the `file` column is relative to (default: the CSV's folder).")},
            "bad_images": {"enum": ["fail", "skip"], "default": "skip"},
        },
    }


def _checker(file_key: str, where: str):
    def check(settings: dict) -> list[tuple[str, str]]:
        return missing_files(settings, (file_key, "images"), where)
    return check


def read_labels(path: str, required: tuple[str, ...]) -> pd.DataFrame:
    frame = read_csv(path, "label file", dtype=str, keep_default_na=False)
    missing = [c for c in required if c not in frame]
    if missing:
        raise ValueError(f"{path}: no column {', '.join(missing)} (found "
                         f"{', '.join(frame.columns)}); is this the right file?")
    return frame


def labelled_manifest(labels: pd.DataFrame, root: Path, prefix: str,
                      columns: dict[str, pd.Series], bad_images: str) -> pd.DataFrame:
    """Test-split manifest rows of ``labels`` (their ``file`` under ``root``)."""
    paths = [root / f for f in labels["file"]]
    frame = pd.DataFrame({
        "id": [f"{prefix}-{f}" for f in labels["file"]], "split": "test", "source": "real",
        "caption": "", "image_path": [str(p) for p in paths], "image_offset": -1,
        "image_length": [p.stat().st_size if p.exists() else 0 for p in paths],
        **{name: values.to_numpy(dtype=object) for name, values in columns.items()},
    })
    return screen_images(frame, bad_images)


def vocabulary_column(labels: pd.DataFrame, column: str, vocabulary: dict, path: str) -> pd.Series:
    unknown = sorted(set(labels[column]) - set(vocabulary))
    if unknown:
        raise ValueError(f"{path}: column {column} has values outside the published vocabulary "
                         f"({', '.join(map(repr, unknown[:5]))}); expected "
                         f"{', '.join(vocabulary)}")
    return labels[column].map(vocabulary)


def fairface_sizes(settings: dict) -> tuple[dict[str, int], str]:
    """FairFace's published label files: 86,744 training and 10,954 validation images
    (Kärkkäinen & Joo 2021); every image of the chosen file is a test image here."""
    training = "train" in Path(settings["labels"]).name
    return {"test": 86_744 if training else 10_954}, "FairFace's published label files"


@DATASETS.register("fairface", published_sizes=fairface_sizes, captions=False,
                   check=_checker("labels", FAIRFACE_WHERE), schema=_schema(
    "labels", "Path of FairFace's label_val.csv (or label_train.csv)."))
def prepare_fairface(settings: dict, manifest_path: str) -> None:
    path = settings["labels"]
    labels = read_labels(path, ("file", "age", "gender", "race"))
    frame = labelled_manifest(
        labels, Path(settings.get("images", Path(path).parent)), "fairface",
        {"gender": vocabulary_column(labels, "gender", FAIRFACE_GENDER, path),
         "ethnicity": vocabulary_column(labels, "race", FAIRFACE_RACE, path),
         "age": vocabulary_column(labels, "age", FAIRFACE_AGE, path)},
        settings["bad_images"])
    manifest.write(frame, manifest_path)
    log.info("FairFace: %d images; %s", len(frame),
             {c: frame[c].value_counts().to_dict() for c in ("gender", "ethnicity", "age")})


@DATASETS.register("region_csv", captions=False, check=_checker("csv", REGION_WHERE),
                   schema=_schema("csv", "Path of the CSV (columns file, region; optional "
                                         "gender, country)."))
def prepare_regions(settings: dict, manifest_path: str) -> None:
    path = settings["csv"]
    labels = read_labels(path, ("file", "region"))
    region = labels["region"].str.strip().replace("", None)
    if region.isna().any():
        raise ValueError(f"{path}: {int(region.isna().sum())} rows have an empty region, e.g. "
                         f"file {labels.loc[region.isna(), 'file'].iloc[0]}")
    columns = {"region": region}
    if "gender" in labels:
        columns["gender"] = labels["gender"].str.strip().str.lower().map(REGION_GENDER)
    if "country" in labels:
        columns["country"] = labels["country"].str.strip().replace("", None)
    frame = labelled_manifest(labels, Path(settings.get("images", Path(path).parent)), "region",
                              columns, settings["bad_images"])
    manifest.write(frame, manifest_path)
    log.info("region-labelled images: %d; %s", len(frame),
             frame["region"].value_counts().to_dict())
