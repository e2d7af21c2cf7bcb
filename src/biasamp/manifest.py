"""The one data contract between stages: a manifest table (Parquet), one row per image.

Required columns:
  id            unique image id (string)
  split         train / val / test
  source        "real" or "generated"
  caption       the caption trained on / queried with
  image_path    file holding the image (a tar archive or a single image file)
  image_offset  byte offset inside ``image_path``; -1 when the file is the image
  image_length  byte length of the encoded image
Demographic columns (missing value = unknown, never guessed): gender, skin, ethnicity, age,
region. ``tasks``: what each image shows that bias-amplification measures condition on (the toy
world's activity), a list per image; absent where a dataset has none. ``face_box``: the pixel
box [x0, y0, x1, y1] of the face, where a dataset or generator knows it (the toy world), for
the image-factor measures (:mod:`biasamp.image_factors`). Generated rows add:
source_id (the real image whose caption was the prompt), prompt, image_seed, generator,
flagged (withheld by a safety checker: never mixed in), variant (0, or k for the (k+1)-th image
of the same caption that ``append`` mixes need), intervention (``attribute:value``, the target
a generation-time intervention steered the image toward, :mod:`biasamp.interventions`; empty
where none did); in a mix, attributes_from says whether
their demographics and tasks are what the generator reported or their prompt image's.
Datasets may add their own columns (the toy world adds activity, place, shirt,
neutral_caption).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from biasamp.atomic import atomic_path
from biasamp.inputs import REBUILD, reading

# Parquet metadata key holding a manifest's attrs (e.g. {"bad_images_skipped": 3}).
ATTRS_KEY = b"biasamp"

REQUIRED = ("id", "split", "source", "caption", "image_path", "image_offset", "image_length")
DEMOGRAPHICS = ("gender", "skin", "ethnicity", "age", "region")
# generated rows add
GENERATED = ("source_id", "prompt", "image_seed", "generator", "flagged", "variant")


def archive_path(manifest_path: str | os.PathLike) -> Path:
    """Where a dataset kind that stores its images (``archive=True`` in its registry entry)
    writes them: ``images.tar`` beside the manifest, an output of the workflow like it."""
    return Path(manifest_path).with_name("images.tar")


class ManifestError(ValueError):
    """A manifest file does not follow the contract."""


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Add missing demographic columns as unknown and fix the dtypes of the contract."""
    frame = frame.copy()
    for column in DEMOGRAPHICS:
        if column not in frame:
            frame[column] = pd.NA
        frame[column] = frame[column].astype("string")
    for column in ("id", "split", "source", "caption", "image_path"):
        frame[column] = frame[column].astype("string")
    frame["image_offset"] = frame["image_offset"].astype("int64")
    frame["image_length"] = frame["image_length"].astype("int64")
    return frame


def write(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Validate and write ``frame`` to ``path`` atomically (temporary file, then rename)."""
    missing = [c for c in REQUIRED if c not in frame]
    if missing:
        raise ManifestError(f"manifest for {path} lacks columns {missing}")
    if frame["id"].duplicated().any():
        dupes = frame.loc[frame["id"].duplicated(), "id"].head(3).tolist()
        raise ManifestError(f"manifest for {path} has duplicate ids, e.g. {dupes}")
    table = pa.Table.from_pandas(normalise(frame), preserve_index=False)
    metadata = {**(table.schema.metadata or {}), ATTRS_KEY: json.dumps(frame.attrs)}
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(metadata), tmp)


class ManifestWriter:
    """Write a manifest one chunk at a time (memory bounded by a chunk, for datasets of
    millions of images), with the checks of :func:`write`: the contract's columns, no id twice
    (across chunks). ``attrs`` are stored as :func:`write` stores a frame's; the file appears
    only once complete.

    >>> # with ManifestWriter(path, schema) as out: out.write(table); out.attrs["n"] = 3
    """

    def __init__(self, path: str | os.PathLike, schema: pa.Schema):
        missing = [c for c in REQUIRED if c not in schema.names]
        if missing:
            raise ManifestError(f"manifest for {path} lacks columns {missing}")
        self.path, self.schema, self.attrs = Path(path), schema, {}
        self._hashes: list = []

    def __enter__(self) -> ManifestWriter:
        self._stack = ExitStack()
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._writer = pq.ParquetWriter(tmp, self.schema)
        self._stack.callback(self._writer.close)  # closed before the rename
        return self

    def write(self, table: pa.Table) -> None:
        self._hashes.append(pd.util.hash_array(table["id"].to_numpy(zero_copy_only=False)))
        self._writer.write_table(table)

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                hashes = np.concatenate(self._hashes) if self._hashes else np.array([])
                if len(np.unique(hashes)) != len(hashes):
                    self._writer.close()
                    ids = pq.read_table(self._writer.where, columns=["id"])["id"].to_pandas()
                    raise ManifestError(f"manifest for {self.path} has duplicate ids, e.g. "
                                        f"{ids[ids.duplicated()].head(3).tolist()}")
                self._writer.add_key_value_metadata({ATTRS_KEY: json.dumps(self.attrs)})
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        return self._stack.__exit__(exc_type, exc, tb)


def read(path: str | os.PathLike, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read a manifest and check it holds the contract's columns; a missing, truncated or
    corrupt file is an error that names it."""
    with reading(path, "manifest (Parquet)", REBUILD):
        parquet = pq.ParquetFile(path)
        frame = parquet.read(columns=list(columns) if columns else None).to_pandas()
        # file-level metadata: written by manifest.write and by streaming writers alike
        frame.attrs = json.loads((parquet.metadata.metadata or {}).get(ATTRS_KEY, b"{}"))
    if columns is None:
        missing = [c for c in REQUIRED if c not in frame]
        if missing:
            raise ManifestError(f"manifest {path} lacks columns {missing}; {REBUILD}")
    return frame


def not_withheld(generated: pd.DataFrame) -> pd.DataFrame:
    """Generated rows without those a safety checker withheld (``flagged``: a black image)."""
    if "flagged" not in generated:
        return generated
    return generated[~generated["flagged"].fillna(False).astype(bool)]


def training_rows(real: pd.DataFrame) -> pd.DataFrame:
    """The real training images in the canonical order (by id) that the generate stage cuts
    into shards and the mix stage permutes."""
    return real[real["split"] == "train"].sort_values("id", kind="stable").reset_index(drop=True)


def read_evaluation_images(path: str | os.PathLike) -> pd.DataFrame:
    """The images a model is evaluated (and captions) on: the manifest's test split, by id."""
    frame = read(path)
    return frame[frame["split"] == "test"].sort_values("id", kind="stable").reset_index(drop=True)


def read_many(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Concatenate manifests (e.g. the shards of one generator) in the order given."""
    frames = [read(p) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REQUIRED)


def gather(paths: Iterable[str | os.PathLike], out: str | os.PathLike) -> None:
    """Write the manifests ``paths`` (a generator's shards) as one manifest, in their order."""
    write(read_many(paths), out)
