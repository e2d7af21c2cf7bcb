"""Dataset kinds: each turns a source into the canonical manifest (see biasamp.manifest).

A kind is one module of this package with a function that follows :class:`DatasetKind`,
registered under its name (``@DATASETS.register("coco", schema=..., check=...)``); the registry
finds the module itself. Its capabilities are fields of the registry entry: ``archive`` (it
stores its images in ``images.tar`` beside the manifest) and ``train_size`` (its number of
training images, where the settings fix it).
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import pandas as pd

from biasamp.imagestore import image_problem
from biasamp.registry import Registry

log = logging.getLogger(__name__)

DATASETS = Registry("dataset kind", __name__)


class DatasetKind(Protocol):
    def __call__(self, settings: dict, manifest_path: str) -> None:
        """Write the manifest of every split (and the image archive, for ``archive`` kinds)."""


def missing_files(settings: dict, keys: tuple[str, ...], where: str) -> list[tuple[str, str]]:
    """A kind's ``check``: the first of the path settings ``keys`` (those present) that does
    not exist, as ``(key, message)`` with ``where`` the data is published."""
    for key in keys:
        if key in settings and not Path(settings[key]).exists():
            return [(key, f"missing {settings[key]}; {where}")]
    return []


def agreed_value(values, vocabulary: dict[str, str]) -> str | None:
    """An image's value of an attribute from its annotated people: the value when every one
    has the same known one (after ``vocabulary``, keyed by lower-cased text), else unknown.

    >>> agreed_value(["Light", "light"], {"light": "light", "dark": "dark"})
    'light'
    >>> agreed_value(["Light", "Dark"], {"light": "light", "dark": "dark"}) is None
    True
    """
    mapped = {vocabulary.get(str(v).strip().lower()) for v in values}
    return mapped.pop() if len(mapped) == 1 and None not in mapped else None


def screen_images(frame: pd.DataFrame, policy: str, where: list[str] | None = None
                  ) -> pd.DataFrame:
    """Check every image file of ``frame``; on problems stop (``fail``) or drop them (``skip``).

    Problems are logged by path (and by ``where``, the place in the user's file that names each
    row's image, where given); the number skipped is kept in ``attrs["bad_images_skipped"]`` of
    the manifest, and every mix reports it as ``data_bad_images_skipped``.
    """
    from biasamp.progress import Progress

    progress, problems = Progress(len(frame), "images screened", log), []
    with ThreadPoolExecutor(max_workers=8) as pool:  # file reads: threads overlap the I/O
        for why in pool.map(image_problem, frame["image_path"], chunksize=256):
            problems.append(why)
            progress.update()
    places = [f"; {w}" for w in where] if where is not None else [""] * len(frame)
    bad = [(path, why + place) for path, why, place
           in zip(frame["image_path"], problems, places, strict=True) if why]
    for path, why in bad[:50]:
        log.warning("bad image %s: %s", path, why)
    if bad and policy == "fail":
        raise ValueError(
            f"{len(bad)} of {len(frame)} image files are missing or unreadable, e.g. "
            f"{bad[0][0]} ({bad[0][1]}); repair or remove them, or set bad_images: skip in "
            f"this dataset's config entry to leave them out (they are counted in the metrics)")
    if bad:
        log.warning("skipping %d unreadable images of %d", len(bad), len(frame))
        frame = frame[[why is None for why in problems]].reset_index(drop=True)
    frame.attrs["bad_images_skipped"] = len(bad)
    return frame


def prepare(settings: dict, manifest_path: str) -> None:
    """Prepare the dataset described by one ``datasets.NAME`` config entry."""
    DATASETS.get(settings["kind"]).implementation(settings, manifest_path)
