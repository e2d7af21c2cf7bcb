"""Image factors: what generated images look like next to the real images of the same captions,
measured per image and summarised per group.

Each image gets five factors (:data:`FACTORS`), computed on its RGB pixels (0–255):

- ``sharpness``: the variance of the Laplacian (4-neighbour kernel [[0, 1, 0], [1, −4, 1],
  [0, 1, 0]], OpenCV's ``ksize=1``; Pech-Pacheco et al., ICPR 2000) of the grey image (Y below),
  on the face region where one is known or found, else on the whole image, resized to
  :data:`SHARPNESS_SIDE` × :data:`SHARPNESS_SIDE` pixels first (area averaging when shrinking,
  bilinear when enlarging), so that images of different sizes are comparable. Blur lowers it;
- ``luminance``: the mean of Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601 luma);
- ``contrast``: the standard deviation of Y (RMS contrast);
- ``colourfulness``: Hasler & Süsstrunk's M3 (2003): with rg = R − G and yb = (R + G) / 2 − B
  over the pixels, M = √(σ_rg² + σ_yb²) + 0.3 · √(μ_rg² + μ_yb²); 0 for any grey image;
- ``face_found``: 1 when a face region is known or found, else 0.

Faces: where a dataset or generator knows where the face is (the toy world records each
person's head box, ``face_box``), that box; otherwise the largest detection of OpenCV's frontal
face Haar cascade (``haarcascade_frontalface_default.xml``, shipped inside
opencv-python-headless < 5; scale step 1.1, 5 neighbours, faces of at least
:data:`MIN_FACE` pixels, searched on a copy at most :data:`DETECT_SIDE` pixels on its longer
side).

The workflow measures every generated image and the real training image whose caption was its
prompt (the rule ``image_factors``, per block of generation shards; images withheld by a
safety checker are left out); :mod:`biasamp.factor_tables` summarises them.
"""

from __future__ import annotations

import logging
import math
import os
from functools import cache

import numpy as np
import pandas as pd

from biasamp.atomic import atomic_path
from biasamp.manifest import DEMOGRAPHICS

log = logging.getLogger(__name__)

FACTORS = ("sharpness", "luminance", "contrast", "colourfulness", "face_found")
SHARPNESS_SIDE = 64
MIN_FACE = 24
DETECT_SIDE = 256
CASCADE = "haarcascade_frontalface_default.xml"
# what each factor is, for axis labels
DESCRIPTIONS = {
    "sharpness": "variance of the Laplacian (higher = sharper)",
    "luminance": "mean luma Y, 0–255",
    "contrast": "standard deviation of luma Y",
    "colourfulness": "Hasler & Süsstrunk M3 (0 = grey)",
    "face_found": "share of images with a face region",
}


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB array (H × W × 3, 0–255), as float64.

    >>> round(float(luma(np.array([[[255, 0, 0]]]))[0, 0]), 6)
    76.245
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def luminance(rgb: np.ndarray) -> float:
    return float(luma(rgb).mean())


def contrast(rgb: np.ndarray) -> float:
    return float(luma(rgb).std())


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk's M3 colourfulness.

    >>> colourfulness(np.full((4, 4, 3), 128))
    0.0
    >>> round(colourfulness(np.full((4, 4, 3), [255, 0, 0])), 3)  # 0.3 · √(255² + 127.5²)
    85.53
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = (rgb[..., 0] + rgb[..., 1]) / 2 - rgb[..., 2]
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))


def sharpness(rgb: np.ndarray, box: tuple[int, int, int, int] | None = None) -> float:
    """Variance of the Laplacian of the grey region ``box`` (x0, y0, x1, y1; the whole image
    when None), resized to :data:`SHARPNESS_SIDE` pixels square."""
    import cv2

    grey = luma(rgb)
    if box is not None:
        x0, y0, x1, y1 = (max(int(v), 0) for v in box)
        grey = grey[y0:y1, x0:x1]
    if grey.size == 0:
        raise ValueError(f"face box {box} lies outside the image")
    h, w = grey.shape
    shrink = h >= SHARPNESS_SIDE and w >= SHARPNESS_SIDE
    grey = cv2.resize(grey, (SHARPNESS_SIDE, SHARPNESS_SIDE),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return float(cv2.Laplacian(grey, cv2.CV_64F, ksize=1).var())


@cache
def _cascade():
    import cv2

    path = os.path.join(cv2.data.haarcascades, CASCADE)
    detector = cv2.CascadeClassifier(path)
    if detector.empty():
        raise RuntimeError(f"cannot load OpenCV's face detector {path}; install "
                           "opencv-python-headless < 5 (version 5 no longer ships the cascades)")
    return detector


def detect_face(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest face the Haar cascade finds, as (x0, y0, x1, y1) in ``rgb``'s pixels, or
    None. It searches a copy shrunk to :data:`DETECT_SIDE` pixels on its longer side (the
    search's cost grows with the pixels; faces of at least :data:`MIN_FACE` pixels there)."""
    import cv2

    grey = np.clip(luma(rgb), 0, 255).astype(np.uint8)
    scale = min(1.0, DETECT_SIDE / max(grey.shape))
    if scale < 1:
        grey = cv2.resize(grey, (round(grey.shape[1] * scale), round(grey.shape[0] * scale)),
                          interpolation=cv2.INTER_AREA)
    found = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                        minSize=(MIN_FACE, MIN_FACE))
    if len(found) == 0:
        return None
    x, y, w, h = max(found, key=lambda f: f[2] * f[3])
    return tuple(int(round(v / scale)) for v in (x, y, x + w, y + h))


def measure_image(rgb: np.ndarray, face_box=None) -> dict[str, float]:
    """The factors of one image; ``face_box`` where the face is known, else detected."""
    rgb = np.asarray(rgb)
    box = tuple(face_box) if face_box is not None else detect_face(rgb)
    return {"sharpness": sharpness(rgb, box), "luminance": luminance(rgb),
            "contrast": contrast(rgb), "colourfulness": colourfulness(rgb),
            "face_found": float(box is not None)}


def measure_images(frame: pd.DataFrame) -> pd.DataFrame:
    """Factors of every image of a manifest ``frame``: one row per image with its id, source,
    demographics and the factors. A ``face_box`` column, where present and set, gives the face
    region; other images are searched for a face."""
    from biasamp.imagestore import ImageReader
    from biasamp.progress import Progress

    reader, progress, rows = ImageReader(), Progress(len(frame), "images measured", log), []
    boxes = frame["face_box"] if "face_box" in frame else [None] * len(frame)
    try:
        for path, offset, length, box in zip(frame["image_path"], frame["image_offset"],
                                             frame["image_length"], boxes, strict=True):
            known = None if box is None or (np.ndim(box) == 0 and pd.isna(box)) else box
            rows.append(measure_image(np.asarray(reader.read(path, offset, length)), known))
            progress.update()
    finally:
        reader.close()
    keep = [c for c in ("id", "source", "source_id", *DEMOGRAPHICS) if c in frame]
    out = frame[keep].reset_index(drop=True).astype({c: "string" for c in keep})
    return pd.concat([out, pd.DataFrame(rows, columns=list(FACTORS))], axis=1)


def measure_shards(dataset_manifest: str, shard_manifests: list[str], out: str) -> pd.DataFrame:
    """Factors of generation shards' images and of the real images whose captions were their
    prompts (``source``: real or generated); a generated image's demographics are those its
    generator reports, else its prompt image's (as the mix takes them)."""
    from biasamp import manifest
    from biasamp.mix import with_prompt_attributes

    real = manifest.read(dataset_manifest)
    generated = with_prompt_attributes(manifest.not_withheld(manifest.read_many(shard_manifests)),
                                       real)
    sources = real[real["id"].isin(generated["source_id"])].assign(source_id=lambda f: f["id"])
    frame = pd.concat([measure_images(sources), measure_images(generated)], ignore_index=True)
    with atomic_path(out) as tmp:
        frame.to_parquet(tmp, index=False)
    log.info("measured %d real and %d generated images", len(sources), len(generated))
    return frame
