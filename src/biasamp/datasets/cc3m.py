"""Conceptual Captions 3M, as downloaded by img2dataset: webdataset shards, or the TSV plus a
folder of image files.

Webdataset (a split given as a folder or glob of ``*.tar``): each shard ``{00000..N}.tar``
holds per sample ``{key}.jpg`` (the image), ``{key}.txt`` (its caption) and ``{key}.json``
(url, status, ...). The manifest references every image in place by its byte offset inside the
shard (no copy, no unpacking), so the trainer and the generator read the shards directly.
Shards are indexed one at a time and the manifest is written one row group per shard, so memory
stays bounded by the largest shard, whatever the number of samples.

TSV + images (a split given as ``{tsv, images, image_name}``): the published TSV (``caption<TAB>
url``, no header) and the image files, named from the 0-based TSV row by ``image_name``; its
default ``{folder:05d}/{row:09d}.jpg`` (folder = row // 10000) is img2dataset's ``files`` output.
Rows whose image file is absent or empty (failed downloads) count as bad images. The TSV is read
in chunks, so memory stays bounded here too. img2dataset keys samples by row, so either way an
image's id is ``cc3m-{row:09d}``.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import tarfile
from pathlib import Path

import pandas as pd
import pyarrow as pa

from biasamp import manifest, wordlists
from biasamp.datasets import DATASETS
from biasamp.inputs import reading
from biasamp.progress import Progress

log = logging.getLogger(__name__)

WHERE = ("CC3M is published as URL lists at https://ai.google.com/research/ConceptualCaptions/"
         "download; download it with img2dataset (--output_format webdataset, 256-pixel "
         "images as in the published study)")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

TSV_LAYOUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tsv", "images"],
    "properties": {
        "tsv": {"type": "string", "description": "The split's TSV (caption<TAB>url, no header)."},
        "images": {"type": "string", "description": "Folder of the downloaded image files."},
        "image_name": {
            "type": "string", "pattern": "\\{row", "default": "{folder:05d}/{row:09d}.jpg",
            "description": "Image file of TSV row `row` (0-based) inside `images`; `folder` = "
                           "row // 10000 (img2dataset's `files` layout)."},
    },
}


def _split(description: str, nullable: bool = False) -> dict:
    kinds = [{"type": "string", "description": "Folder (or glob) of webdataset shards."},
             TSV_LAYOUT]
    return {"oneOf": kinds + ([{"type": "null"}] if nullable else []),
            "description": description}


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["train", "test"],
    "properties": {
        "train": _split("The training split: webdataset shards, or {tsv, images}."),
        "val": {**_split("An optional validation split.", nullable=True), "default": None},
        "test": _split("The split evaluated on (CC3M validation)."),
        "bad_images": {"enum": ["fail", "skip"], "default": "skip",
                       "description": "Samples without a usable image (failed downloads): "
                                      "stop, or skip them (counted)."},
    },
}

TSV_ROWS_PER_FOLDER = 10_000  # img2dataset's default number_sample_per_shard
TSV_CHUNK = 100_000

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
    problems = []
    for key in ("train", "val", "test"):
        split = settings.get(key)
        if isinstance(split, dict):
            problems += [(f"{key}.{part}", f"missing {split[part]}. {WHERE}")
                         for part in ("tsv", "images") if not Path(split[part]).exists()]
        elif split and not shard_paths(split):
            problems.append((key, f"no webdataset shards (*.tar) at {split}. {WHERE}"))
    return problems


def index_tsv(layout: dict, split: str):
    """Columns for each chunk of a split's TSV rows, and the number of rows without an image."""
    images, name = Path(layout["images"]), layout["image_name"]
    chunks = pd.read_csv(layout["tsv"], sep="\t", header=None, names=["caption", "url"],
                         dtype=str, quoting=3, keep_default_na=False, chunksize=TSV_CHUNK)
    start = 0
    for chunk in chunks:
        columns = {n: [] for n in COLUMNS.names}
        missing = 0
        for row, caption, url in zip(range(start, start + len(chunk)), chunk["caption"],
                                     chunk["url"], strict=True):
            path = images / name.format(row=row, folder=row // TSV_ROWS_PER_FOLDER)
            try:
                size = path.stat().st_size
            except OSError:
                size = 0
            if not size:
                missing += 1
                continue
            _append(columns, f"cc3m-{row:09d}", split, caption.strip(), str(path), -1, size, url)
        start += len(chunk)
        yield columns, missing


def _append(columns: dict[str, list], image_id: str, split: str, caption: str, path: str,
            offset: int, length: int, url: str | None) -> None:
    gender = wordlists.caption_gender([caption])
    for name, value in (
        ("id", image_id), ("split", split), ("source", "real"), ("caption", caption),
        ("image_path", path), ("image_offset", offset), ("image_length", length),
        ("gender", gender), ("skin", None), ("ethnicity", None), ("age", None),
        ("region", None),
        ("neutral_caption", gender is None and not wordlists.mentions_gender(caption)),
        ("url", url),
    ):
        columns[name].append(value)


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
        _append(columns, f"cc3m-{os.path.basename(key)}", split, sample["caption"], path,
                sample["image"][0], sample["image"][1], meta.get("url"))
    return columns, missing


def _shard_chunks(path: str, split: str):
    """A shard's samples as one chunk, indexed only when iterated (one shard in memory)."""
    yield index_shard(path, split)


def _named(where: str, chunks):
    """The chunks of one shard or TSV; a failure while reading them names the file."""
    with reading(where, "CC3M shard or TSV", f"re-download or remove it. {WHERE}"):
        yield from chunks


def published_sizes(settings: dict) -> tuple[dict[str, int], str]:
    """Image-caption pairs as published (Sharma et al. 2018); a download today holds fewer
    (dead links), which the prepared manifest counts."""
    sizes = {"train": 3_318_333, "test": 15_840}
    return ({split: n for split, n in sizes.items() if settings.get(split)},
            "CC3M's published URL lists (a download holds fewer)")


@DATASETS.register("cc3m", schema=SCHEMA, check=check, published_sizes=published_sizes)
def prepare(settings: dict, manifest_path: str) -> None:
    sources = []  # (where, split, iterator of (columns, missing))
    for split in ("train", "val", "test"):
        layout = settings.get(split)
        if isinstance(layout, dict):
            sources.append((layout["tsv"], split, index_tsv(layout, split)))
        elif layout:
            sources += [(path, split, _shard_chunks(path, split)) for path in shard_paths(layout)]
    rows = skipped = 0
    progress = Progress(len(sources), "shards or TSVs", log)
    with manifest.ManifestWriter(manifest_path, COLUMNS) as writer:
        for where, _, chunks in sources:
            for columns, missing in _named(where, chunks):
                if missing and settings["bad_images"] == "fail":
                    raise ValueError(
                        f"{where}: {missing} samples have no usable image (failed downloads); "
                        f"set bad_images: skip in this dataset's config entry to leave them out")
                writer.write(pa.table(columns, schema=COLUMNS))
                rows, skipped = rows + len(columns["id"]), skipped + missing
            progress.update()
        # the count of skipped samples travels with the manifest, as for other datasets
        writer.attrs["bad_images_skipped"] = skipped
    log.info("CC3M: %d samples indexed from %d sources, %d without a usable image skipped",
             rows, len(sources), skipped)
