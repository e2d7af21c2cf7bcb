"""The toy-world dataset: rendered scenes with template captions and a planted gender skew."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from biasamp import manifest, toyworld
from biasamp.datasets import DATASETS
from biasamp.imagestore import ShardWriter
from biasamp.seeding import rng_for

log = logging.getLogger(__name__)

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "n_images": {"type": "integer", "minimum": 20, "default": 1600,
                     "description": "Images in all splits together."},
        "image_size": {"type": "integer", "minimum": 16, "default": 64,
                       "description": "Side of the square RGB images, in pixels."},
        "splits": {
            "type": "object",
            "additionalProperties": False,
            "default": {},
            "description": "Share of images in each split; must sum to 1.",
            "properties": {
                "train": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.7},
                "val": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.05},
                "test": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.25},
            },
        },
        "neutral_caption_share": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.3,
                                  "description": "Share of captions saying 'a person'."},
        "activity_skew": {"type": "number", "minimum": 0.5, "maximum": 1, "default": 0.75,
                          "description": "P(majority gender | activity) in the real data."},
        "dark_skin_share": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5,
                            "description": "Share of people rendered with dark skin."},
        "seed": {"type": "integer", "minimum": 0, "default": 0,
                 "description": "Seed of the world: scenes, splits and renders."},
    },
}


def sample_scene(rng: np.random.Generator, settings: dict) -> tuple[toyworld.Scene, bool]:
    """One scene of the real data and whether its caption is gender-neutral."""
    activity = list(toyworld.ACTIVITIES)[rng.integers(len(toyworld.ACTIVITIES))]
    majority = toyworld.ACTIVITIES[activity]
    minority = next(g for g in toyworld.GENDERS if g != majority)
    scene = toyworld.Scene(
        gender=majority if rng.random() < settings["activity_skew"] else minority,
        skin="dark" if rng.random() < settings["dark_skin_share"] else "light",
        activity=activity,
        place=list(toyworld.PLACES)[rng.integers(len(toyworld.PLACES))],
        shirt=list(toyworld.SHIRTS)[rng.integers(len(toyworld.SHIRTS))],
    )
    return scene, bool(rng.random() < settings["neutral_caption_share"])


def check(settings: dict) -> list[tuple[str, str]]:
    total = sum(settings["splits"].values())
    if abs(total - 1) > 1e-9:
        return [("splits", f"shares sum to {total:g}; make train + val + test = 1")]
    return []


def train_size(settings: dict) -> int:
    """Training images of the world: round(train share × n_images)."""
    return int(round(settings["splits"]["train"] * settings["n_images"]))


def split_sizes(settings: dict) -> tuple[dict[str, int], str]:
    """Images per split, as :func:`split_labels` cuts them."""
    n, n_train = settings["n_images"], train_size(settings)
    n_val = int(round(settings["splits"]["val"] * n))
    return {"train": n_train, "val": n_val, "test": n - n_train - n_val}, "its settings"


def split_labels(n: int, splits: dict, seed: int) -> np.ndarray:
    """Exactly round(share × n) images per split (test takes the remainder), seeded."""
    sizes, _ = split_sizes({"splits": splits, "n_images": n})
    labels = np.array([split for split, size in sizes.items() for _ in range(size)])
    return labels[rng_for(seed, "splits").permutation(n)]


@DATASETS.register("toy", schema=SCHEMA, check=check, archive=True, train_size=train_size,
                   published_sizes=split_sizes)
def prepare(settings: dict, manifest_path: str) -> None:
    n, seed, size = settings["n_images"], settings["seed"], settings["image_size"]
    archive = manifest.archive_path(manifest_path)
    splits = split_labels(n, settings["splits"], seed)
    rows = []
    with ShardWriter(archive) as writer:
        for i in range(n):
            image_id = f"toy-{i:07d}"
            rng = rng_for(seed, "toy", image_id)
            scene, neutral = sample_scene(rng, settings)
            image, face = toyworld.render_with_face(scene, rng, size)
            offset, length = writer.add(image_id, image)
            rows.append({
                "id": image_id, "split": splits[i], "source": "real",
                "caption": toyworld.caption_for(scene, neutral),
                "image_path": str(archive), "image_offset": offset, "image_length": length,
                "gender": scene.gender, "skin": scene.skin, "activity": scene.activity,
                "place": scene.place, "shirt": scene.shirt, "neutral_caption": neutral,
                "tasks": [scene.activity], "face_box": list(face),
            })
    frame = pd.DataFrame(rows)
    manifest.write(frame, manifest_path)
    log.info("toy world: %d images (%s) in %s", n,
             frame["split"].value_counts().to_dict(), archive)
