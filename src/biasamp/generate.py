"""The generate stage: one shard of generated images per job, written atomically.

The real training images, ordered by id, are cut into ``shards`` contiguous blocks
(:func:`biasamp.study.shard_bounds`); shard k renders one image from the caption of each image
in block k that some mix uses (:func:`biasamp.study.generation_plan`), or several where
``append`` mixes need more than one per caption (variants 1, 2, ...). Each image's seed derives
from the global seed, the real image's id and the variant, so images do not depend on shard
layout, batch size or device.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import pandas as pd

from biasamp import interventions, manifest
from biasamp.atomic import atomic_dir
from biasamp.generators import GENERATORS
from biasamp.imagestore import ShardWriter
from biasamp.progress import Progress
from biasamp.seeding import derive_seed
from biasamp.study import planned_items, shard_bounds

log = logging.getLogger(__name__)


def generate_shard(
    settings: dict, generator_name: str, dataset_manifest: str, shard: int, seed: int,
    out_manifest: str, out_archive: str, plan: str | dict = "all", adapter: str | None = None,
) -> None:
    """Generate shard ``shard`` of ``settings['shards']``: images into ``out_archive``, their
    rows into ``out_manifest``; of the shard's images, only those ``plan`` names. ``adapter``:
    what the generator learnt from a feedback round's mix (:func:`adapt`), or None."""
    train = manifest.training_rows(manifest.read(dataset_manifest))
    start, stop = shard_bounds(len(train), settings["shards"], shard)
    positions, variants = planned_items(len(train), plan)
    here = (positions >= start) & (positions < stop)
    rows = train.iloc[positions[here]].assign(variant=variants[here])
    log.info("generator %s (%s): shard %d, training images %d..%d of %d, %d images of them "
             "used by some mix", generator_name, settings["kind"], shard, start, stop,
             len(train), len(rows))
    render_rows(settings, generator_name, rows, train, seed, "train", out_manifest, out_archive,
                adapter)


def adapt(settings: dict, mix_manifest: str, out: str, seed: int) -> None:
    """A feedback round's adaptation: the generator learns from the previous round's training
    mix (the ``adapt`` of its kind's ``adapter`` module), into the folder ``out`` (written
    whole or not at all)."""
    adapter = importlib.import_module(GENERATORS.get(settings["kind"]).adapter)
    mixed = manifest.read(mix_manifest)
    log.info("adapting a %s generator to %s (%d images, %d generated)", settings["kind"],
             mix_manifest, len(mixed), int((mixed["source"] == "generated").sum()))
    with atomic_dir(out) as tmp:
        adapter.adapt(settings, mixed, Path(tmp), seed)


def image_identity(generator_name: str, source_id: str, variant: int, seed: int) -> tuple:
    """A generated image's id and seed: variant 0 of a caption is ``generator:source_id``,
    further ones (``append`` mixes) add ``#variant``.

    >>> image_identity("g", "toy-1", 0, 0)[0], image_identity("g", "toy-1", 2, 0)[0]
    ('g:toy-1', 'g:toy-1#2')
    """
    if variant == 0:
        return f"{generator_name}:{source_id}", derive_seed(seed, "generate", source_id)
    return (f"{generator_name}:{source_id}#{variant}",
            derive_seed(seed, "generate", source_id, variant))


def render_rows(settings: dict, generator_name: str, rows: pd.DataFrame, train: pd.DataFrame,
                seed: int, split: str, out_manifest: str, out_archive: str,
                adapter: str | None = None) -> None:
    """One generated image per row of ``rows`` (from its caption, seeded by the global seed and
    its id) into ``out_archive``, their manifest rows (split ``split``) into
    ``out_manifest``; the generator mimics ``train`` (or what it learnt, ``adapter``). A
    ``variant`` column (default 0) asks for further images of the same caption
    (:func:`image_identity`)."""
    variants = rows["variant"] if "variant" in rows else pd.Series(0, index=rows.index)
    identities = [image_identity(generator_name, source_id, int(variant), seed)
                  for source_id, variant in zip(rows["id"], variants, strict=True)]
    seeds = [image_seed for _, image_seed in identities]
    kind = GENERATORS.get(settings["kind"]).implementation
    # a kind without feedback rounds keeps the two-argument constructor
    generator = (kind(settings, reference=train, adapter=adapter) if adapter is not None
                 else kind(settings, reference=train))
    archive = Path(out_archive)

    spec = settings.get("intervention")
    prompts = [generator.prompt(caption) for caption in rows["caption"]]
    # keyed by the image seed (caption and variant, not generator): every generator of the
    # study aims the same caption at the same target, so their images compare in pairs
    targets = interventions.targets(spec, prompts, seeds, seed)
    if spec and spec["method"] == "prompt":
        prompts = [interventions.with_phrase(spec, p, t) for p, t in zip(prompts, targets,
                                                                         strict=True)]
    out, progress = [], Progress(len(rows), "images", log)
    with ShardWriter(archive, settings["image_format"]) as writer:
        # a kind without interventions keeps the two-argument protocol
        generated = (generator.generate(prompts, seeds, targets) if spec
                     else generator.generate(prompts, seeds))
        for (_, row), prompt, (image_id, image_seed), variant, target, (attributes, image) in zip(
            rows.iterrows(), prompts, identities, variants, targets, generated, strict=True
        ):
            offset, length = writer.add(image_id, image)
            out.append({
                **attributes,
                "id": image_id, "split": split, "source": "generated",
                "caption": row["caption"], "prompt": prompt,
                "image_path": str(archive), "image_offset": offset, "image_length": length,
                "source_id": row["id"], "image_seed": image_seed, "generator": generator_name,
                "variant": int(variant), "intervention": interventions.recorded(spec, target),
                "neutral_caption": row.get("neutral_caption"),
            })
            progress.update()
    columns = None if out else [*manifest.REQUIRED, *manifest.GENERATED]  # a shard with no image
    manifest.write(pd.DataFrame(out, columns=columns), out_manifest)
