"""Conceptual Captions 3M as downloaded by img2dataset into webdataset shards.

Each shard ``{00000..N}.tar`` holds per sample ``{key}.jpg`` (the image), ``{key}.txt`` (its
caption) and ``{key}.json`` (url, status, ...). The manifest references every image in place by
its byte offset inside the shard (no copy, no unpacking), so the trainer and the generator read
the shards directly. Shards are indexed one at a time and the manifest is written one row group
per shard, so memory stays bounded by the largest shard, whatever the number of samples.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from biasamp import manifest, wordlists
from biasamp.datasets import DATASETS
from biasamp.progress import Progress

log = logging.getLogger(__name__)

WHERE = ("CC3M is published as URL lists at https://ai.google.com/research/ConceptualCaptions/"
         "download; download it with img2dataset (--output_format webdataset, 256-pixel "
         "images as in the published study)")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["train", "test"],
    "properties": {
        "train": {"type": "string",
                  "description": "Folder (or glob) of the training webdataset shards."},
        "val": {"type": ["string", "null"], "default": None},
        "test": {"type": "string",
                 "description": "Folder (or glob) of the shards evaluated on (CC3M validation)."},
        "bad_images": {"enum": ["fail", "skip"], "default": "skip",
                       "description": "Samples without a usable image (failed downloads): "
                                      "stop, or skip them (counted)."},
    },
}

COLUMNS = pa.schema([
    ("id", pa.string()), ("split", pa.string()), ("source", pa.string()),
    ("caption", pa.string()), ("image_path", pa.string()), ("image_offset", pa.int64()),
    ("image_length", pa.int64()), ("gender", pa.string()), ("skin", pa.string()),
    ("ethnicity", pa.string()), ("age", pa.string()), ("region", pa.string()),
    ("neutral_caption", pa.bool_()), ("url", pa.string()),
])


def shard_paths(location: str) -> list[str]:
    """The .tar shards of a folder, or the files a glob matches, sorted."""
    pattern = os.path.join(location, "*.tar") if os.path.isdir(location) else location
    return sorted(glob.glob(pattern))


def check(settings: dict) -> list[tuple[str, str]]:
    for key in ("train", "val", "test"):
        if settings.get(key) and not shard_paths(settings[key]):
            return [(key, f"no webdataset shards (*.tar) at {settings[key]}. {WHERE}")]
    return []


def index_shard(path: str, split: str) -> tuple[dict[str, list], int]:
    """Columns for the samples of one shard, and the number of samples without an image."""
    samples: dict[str, dict] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            if not member.isfile():
                continue
            key, ext = os.path.splitext(member.name)
            sample = samples.setdefault(key, {})
            ext = ext.lower()
            if ext in IMAGE_EXTENSIONS:
                sample["image"] = (member.offset_data, member.size)
            elif ext == ".txt":
                sample["caption"] = tar.extractfile(member).read().decode("utf-8").strip()
            elif ext == ".json":
                sample["meta"] = json.loads(tar.extractfile(member).read())
    columns = {name: [] for name in COLUMNS.names}
    missing = 0
    for key, sample in samples.items():
        meta = sample.get("meta", {})
        if "image" not in sample or not sample["image"][1] or "caption" not in sample or \
                meta.get("status", "success") != "success":
            missing += 1
            continue
        caption = sample["caption"]
        gender = wordlists.caption_gender([caption])
        for name, value in (
            ("id", f"cc3m-{os.path.basename(key)}"), ("split", split), ("source", "real"),
            ("caption", caption), ("image_path", path), ("image_offset", sample["image"][0]),
            ("image_length", sample["image"][1]), ("gender", gender), ("skin", None),
            ("ethnicity", None), ("age", None), ("region", None),
            ("neutral_caption", gender is None and not wordlists.mentions_gender(caption)),
            ("url", meta.get("url")),
        ):
            columns[name].append(value)
    return columns, missing


@DATASETS.register("cc3m", schema=SCHEMA, check=check)
def prepare(settings: dict, manifest_path: str) -> None:
    shards = [(path, split) for split in ("train", "val", "test") if settings.get(split)
              for path in shard_paths(settings[split])]
    tmp = Path(manifest_path).with_name(Path(manifest_path).name + ".partial")
    Path(manifest_path).parent.mkdir(parents=True, exist_ok=True)
    rows = skipped = 0
    progress = Progress(len(shards), "shards", log)
    # the pandas dtypes of manifest.normalise, so readers see one schema whatever the kind
    with pq.ParquetWriter(tmp, COLUMNS) as writer:
        for path, split in shards:
            columns, missing = index_shard(path, split)
            if missing and settings["bad_images"] == "fail":
                raise ValueError(
                    f"{path}: {missing} samples have no usable image (failed downloads); set "
                    f"bad_images: skip in this dataset's config entry to leave them out")
            writer.write_table(pa.table(columns, schema=COLUMNS))
            rows, skipped = rows + len(columns["id"]), skipped + missing
            progress.update()
        # the count of skipped samples travels with the manifest, as for other datasets
        writer.add_key_value_metadata(
            {manifest.ATTRS_KEY: json.dumps({"bad_images_skipped": skipped})})
    os.replace(tmp, manifest_path)
    log.info("CC3M: %d samples indexed from %d shards, %d without a usable image skipped",
             rows, len(shards), skipped)
