"""A picture of the data: real and generated images of the same captions, side by side.

The first thing a reader of a contamination study looks at is what the generated images look
like next to the real ones they replace. The contact sheet shows, per generator, a seeded sample
of training captions (half of them gender-neutral where the dataset marks them, since those are
where a generator's defaults show), each with its real image above and its generated image
below.
"""

from __future__ import annotations

import logging
import textwrap

import numpy as np
import pandas as pd

from biasamp import manifest

log = logging.getLogger(__name__)


def pick(real: pd.DataFrame, generated: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` (real, generated) pairs of the same caption: generated images not withheld by a
    safety checker, half with a gender-neutral caption where the ``neutral_caption`` column
    marks some, drawn with ``seed``; ordered by id. Columns of the real row, and of the
    generated row suffixed ``_generated``.

    >>> real = pd.DataFrame({"id": ["a", "b", "c"], "caption": ["x", "y", "z"],
    ...                      "neutral_caption": [True, False, False]})
    >>> gen = pd.DataFrame({"id": ["g:a", "g:b", "g:c"], "source_id": ["a", "b", "c"],
    ...                     "flagged": [False, False, True]})
    >>> pick(real, gen, 2, seed=0)["id"].tolist()  # c's image was withheld
    ['a', 'b']
    """
    pairs = real.merge(manifest.not_withheld(generated), left_on="id", right_on="source_id",
                       suffixes=("", "_generated"))
    rng = np.random.default_rng(seed)
    chosen = []
    if "neutral_caption" in pairs and pairs["neutral_caption"].fillna(False).astype(bool).any():
        neutral = pairs["neutral_caption"].fillna(False).astype(bool)
        halves = [(pairs[neutral], n // 2), (pairs[~neutral], n - n // 2)]
    else:
        halves = [(pairs, n)]
    for part, k in halves:
        k = min(k, len(part))
        chosen.append(part.iloc[np.sort(rng.choice(len(part), size=k, replace=False))])
    return pd.concat(chosen).sort_values("id").reset_index(drop=True)


def draw(pairs: pd.DataFrame, generator: str, dataset: str):
    """The sheet: a column per caption, its real image above its generated one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from biasamp.imagestore import ImageReader

    reader = ImageReader()
    n = max(len(pairs), 1)
    figure, grid = plt.subplots(2, n, figsize=(1.9 * n, 4.6), squeeze=False,
                                layout="constrained")
    for j, row in enumerate(pairs.itertuples(index=False)):
        for i, suffix in enumerate(("", "_generated")):
            image = reader.read(getattr(row, f"image_path{suffix}"),
                                getattr(row, f"image_offset{suffix}"),
                                getattr(row, f"image_length{suffix}"))
            axes = grid[i][j]
            axes.imshow(np.asarray(image.convert("RGB")))
            axes.set_xticks([])
            axes.set_yticks([])
        grid[1][j].set_xlabel(textwrap.fill(row.caption, 26), fontsize=6.5)
    grid[0][0].set_ylabel("real", fontsize=9)
    grid[1][0].set_ylabel(f"generated\n({generator})", fontsize=9)
    figure.suptitle(f"{dataset}: real training images and {generator}'s images of the same "
                    f"captions", fontsize=10)
    return figure


def write_contact_sheet(dataset_manifest: str, generated_manifest: str, generator: str,
                        dataset: str, out: str, n: int = 8, seed: int = 0) -> None:
    """Draw the contact sheet of ``generator`` on ``dataset``'s training captions to ``out``."""
    from biasamp.figures import figure_metadata

    real = manifest.read(dataset_manifest)
    pairs = pick(real[real["split"] == "train"], manifest.read(generated_manifest), n, seed)
    figure = draw(pairs, generator, dataset)
    figure.savefig(out, dpi=150, metadata=figure_metadata(out))
    log.info("wrote %s: %d captions (%s)", out, len(pairs), ", ".join(pairs["id"]))
