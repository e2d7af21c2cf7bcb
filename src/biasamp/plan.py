"""Size a study before running it: jobs, work, GPU-hours and disk per stage.

``python -m biasamp.plan CONFIG.yaml`` reads a study config (no data, weights or GPU needed)
and prints, per stage of the workflow, the number of jobs the run will have, the work they do
(images generated, samples trained on, images evaluated), the GPU-hours that work takes at a
per-GPU throughput, and what the stage leaves on disk, so a cluster allocation and storage can
be sized before the data is fetched.

Where the numbers come from:

- **Jobs**: the workflow's own grid (:func:`job_counts`; a test checks it against
  ``snakemake -n`` on study configs).
- **Images per split**: ``--images NAME.SPLIT=N`` where given; else the prepared manifest under
  ``results/`` where the dataset was already prepared; else the size the dataset kind
  publishes (``published_sizes`` of its registry entry: COCO's and CC3M's published splits,
  FairFace's label files, the toy world's settings).
- **Throughputs** (per GPU): ``--rate STAGE:ENTRY=N`` where given (measure yours with
  ``benchmarks/generate.py``, ``train.py`` and ``evaluate.py``); else the reference points
  measured on one H100 (:data:`TRAIN_RATES`, :data:`GENERATE_RATE`, from DESIGN.md); else
  unknown. Evaluation's GPU rate has no measurement yet: it is estimated as three times the
  training step rate (a forward pass without the backward), and labelled as an estimate.
- **Disk**: checkpoints from the architecture's parameter count (open_clip on the meta device:
  nothing allocated or downloaded); generated PNG images from the published CC3M study's
  1.4 TB for 3.3 M images at 512² (:data:`PNG_BYTES_PER_PIXEL`), or ``--image-bytes``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from biasamp.config import ConfigError, check_yaml_file, validate_config
from biasamp.datasets import DATASETS
from biasamp.generators import GENERATORS
from biasamp.models import writes_captions
from biasamp.study import factor_blocks, generation_plan, mix_size, planned_items

# One H100, bf16 autocast, the bare open_clip training step (DESIGN.md, "Performance targets").
TRAIN_RATES = {"ViT-B-32": 3850.0, "RN50": 1340.0, "coca_ViT-B-32": 910.0}
TRAIN_RATE_SOURCE = "H100 reference, bf16 training step (DESIGN.md)"
# Stable Diffusion 1.5, 512², 50 steps, classifier-free guidance, fp16, batch 8, plain diffusers
# on one H100 (DESIGN.md); torch.compile + channels_last + fused QKV at batch 16: 4.3.
GENERATE_RATE = {False: 2.8, True: 4.3}
GENERATE_PIXELS, GENERATE_STEPS = 512 * 512, 50
# The published CC3M study's generated images took about 1.4 TB for 3.3 M images at 512².
PNG_BYTES_PER_PIXEL = 1.4e12 / 3.3e6 / (512 * 512)
# A forward pass costs about a third of a training step (forward plus twice its cost backward).
EVALUATE_PER_TRAIN = 3.0
FLOAT32_BYTES = 4
# open_clip_train's checkpoint: fp32 weights plus AdamW's two moments; while epoch N+1 is
# written, epoch N's is still there (--delete-previous-checkpoint removes it after)
TRAINER_STATE_COPIES = 3 * 2


@dataclass
class Stage:
    """One stage of the plan: its jobs, work, GPU-hours and disk (None: unknown; ``small``:
    only manifests and tables)."""

    name: str
    jobs: int
    work: float = 0.0
    unit: str = ""
    gpu_hours: float | None = 0.0
    disk_bytes: float | None = 0.0
    notes: list[str] = field(default_factory=list)
    small: bool = False


def job_counts(config: dict) -> dict[str, int]:
    """The number of jobs of each rule a complete run of ``config`` has (validated config)."""
    datasets, generators = config["datasets"], config["generators"]
    sets, models = config["evaluation"]["sets"], config["models"]
    mixes = len(datasets) * len(generators) * len(config["ratios"]) * len(config["seeds"])
    evalsets = 1 + len(sets)
    counts = {"prepare": 0, "prepare_archived": 0, "prepare_evalset": 0,
              "prepare_evalset_archived": 0}
    for entries, rule in ((datasets, "prepare"), (sets, "prepare_evalset")):
        for settings in entries.values():
            counts[rule + ("_archived" if DATASETS.get(settings["kind"]).archive else "")] += 1
    generating = max(config["ratios"]) > 0
    counts["generate"] = len(datasets) * sum(g["shards"] for g in generators.values()) \
        if generating else 0
    counts["gather_generated"] = len(datasets) * len(generators) if generating else 0
    counts["contact_sheet"] = counts["gather_generated"]
    probing = generating and config["evaluation"]["detectability_images"] > 0
    counts["generate_probe"] = counts["gather_generated"] if probing else 0
    counts["image_factors"] = len(datasets) * sum(  # one per block of generation shards
        factor_blocks(g["shards"]) for g in generators.values()) if generating else 0
    counts["image_factor_tables"] = 1 if generating else 0
    # feedback rounds: a chain per (dataset, generator, nonzero ratio, seed) in each later round
    chains = len(datasets) * len(generators) * len([r for r in config["ratios"] if r > 0]) \
        * len(config["seeds"]) * (config["rounds"] - 1)
    counts["adapt"] = counts["gather_round"] = chains
    counts["generate_round"] = chains // max(1, len(generators)) * sum(
        g["shards"] for g in generators.values())
    mixes += chains
    counts["mix"] = counts["evaluate_mix"] = mixes
    counts["train"] = mixes * len(models)
    counts["caption"] = mixes * evalsets * sum(map(writes_captions, models.values()))
    counts["evaluate"] = counts["train"] * evalsets
    counts.update(aggregate=1, trends=1, plot=1, provenance=1, all=1)
    return {rule: n for rule, n in counts.items() if n}


def split_sizes(name: str, settings: dict, images: dict[str, int], prepared: Path,
                needed: tuple[str, ...]) -> tuple[dict[str, int], str]:
    """Images per split of a dataset or evaluation set (at least the ``needed`` splits), and
    where the numbers come from. ``images`` holds ``--images`` values, keyed ``NAME.SPLIT`` or
    ``NAME`` (the first needed split)."""
    given = {}
    for key, n in images.items():
        entry, _, split = key.partition(".")
        if entry == name:
            given[split or needed[0]] = n
    if prepared.exists():
        from biasamp import manifest

        counts = manifest.read(prepared)["split"].value_counts()
        sizes, source = {str(k): int(v) for k, v in counts.items()}, f"prepared, {prepared}"
    elif DATASETS.get(settings["kind"]).published_sizes is not None:
        sizes, source = DATASETS.get(settings["kind"]).published_sizes(settings)
    else:
        sizes, source = {}, ""
    if given:
        sizes, source = {**sizes, **given}, "; ".join(filter(None, [source, "--images"]))
    if missing := [split for split in needed if split not in sizes]:
        raise ConfigError(
            f"the number of {' and '.join(missing)} images of '{name}' (kind "
            f"{settings['kind']}) is known only once it is prepared; give it, e.g. "
            + " ".join(f"--images {name}.{split}=10000" for split in missing))
    return sizes, source


def parameter_count(arch: str) -> int:
    """Parameters of an open_clip architecture (built on the meta device: no memory, no
    download)."""
    import torch

    from biasamp.models.open_clip_trainer import register_model_configs
    from biasamp.openclip import import_open_clip

    open_clip = import_open_clip(arch)
    register_model_configs()
    logging.disable(logging.WARNING)  # "no pretrained weights loaded": none are wanted
    try:
        with torch.device("meta"):
            model = open_clip.create_model(arch, device="meta")
    finally:
        logging.disable(logging.NOTSET)
    return sum(t.numel() for t in model.state_dict().values())


def _rate(rates: dict[str, float], stage: str, name: str, reference: float | None,
          source: str) -> tuple[float | None, str]:
    key = f"{stage}:{name}"
    if key in rates:
        return rates[key], f"at {rates[key]:g}/s per GPU (--rate)"
    if reference is None:
        return None, f"(no throughput for {name}: give --rate {key}=N)"
    return reference, f"at {reference:g}/s per GPU ({source})"


def intervention_cost(settings: dict) -> float:
    """UNet work per image with the generator's intervention, relative to none, for an open
    prompt (:mod:`biasamp.interventions`): SEGA adds a pass per edit concept to the two of
    classifier-free guidance at every step; the latent correction adds one pass of the same
    size (prompt and target, batched) at each corrected step.

    >>> intervention_cost({"steps": 50, "intervention": {"method": "latent", "steps": 10}})
    1.2
    >>> intervention_cost({"steps": 50, "intervention": {"method": "guidance",
    ...     "attribute": "gender"}})
    2.0
    """
    spec = settings.get("intervention") or {}
    if spec.get("method") == "guidance":
        from biasamp.interventions import phrases

        return (2 + len(phrases(spec))) / 2
    if spec.get("method") == "latent":
        return 1 + min(spec["steps"], settings["steps"]) / settings["steps"]
    return 1.0


def _hours(work: float, rate: float | None) -> float | None:
    return None if rate is None else work / rate / 3600


def plan(config: dict, images: dict[str, int] | None = None,
         rates: dict[str, float] | None = None, image_bytes: float | None = None,
         results: str | Path = "results") -> list[Stage]:
    """The stages of a complete run of ``config`` (validated, defaults filled)."""
    images, rates, results = images or {}, rates or {}, Path(results)
    counts = job_counts(config)
    ratios, seeds = config["ratios"], config["seeds"]
    sizes = {name: split_sizes(name, s, images, results / name / "data" / "manifest.parquet",
                               ("train", "test"))
             for name, s in config["datasets"].items()}
    set_sizes = {name: split_sizes(name, s, images,
                                   results / "evalsets" / name / "manifest.parquet", ("test",))
                 for name, s in config["evaluation"]["sets"].items()}
    stages = [Stage("prepare", sum(n for r, n in counts.items() if r.startswith("prepare")),
                    small=True)]
    stages[0].notes = [f"{name}: {', '.join(f'{split} {n:,}' for split, n in s.items())} "
                       f"images ({source})" for name, (s, source) in
                       [*sizes.items(), *set_sizes.items()]]

    # its shards, the job gathering their manifests, and the detectability probe's images
    generate = Stage("generate", sum(counts.get(r, 0) for r in (
        "generate", "gather_generated", "generate_probe", "generate_round", "gather_round")),
        unit="images")
    adapt = Stage("adapt (feedback rounds)", counts.get("adapt", 0), unit="samples", small=True)
    later = config["rounds"] - 1
    nonzero = [r for r in ratios if r > 0]
    factors = Stage("image factors", counts.get("image_factors", 0)
                    + counts.get("image_factor_tables", 0), unit="images", small=True)
    for dataset, (split, _) in sizes.items():
        for name, settings in config["generators"].items():
            if not counts.get("generate"):
                continue
            kind = GENERATORS.get(settings["kind"]).implementation
            positions, _ = planned_items(split["train"], generation_plan(
                ratios, seeds, kind.may_withhold(settings), config["mixing"]))
            probe = min(config["evaluation"]["detectability_images"], split["test"]) \
                if counts.get("generate_probe") else 0
            # each later round renders every chain's own images again, with its adapted model
            rerendered = later * sum(len(planned_items(split["train"], generation_plan(
                [r], [seed], kind.may_withhold(settings), config["mixing"]))[0])
                for r in nonzero for seed in seeds)
            n = len(positions) + probe + rerendered
            if later and nonzero:
                samples = settings["adaptation"]["steps"] * settings["adaptation"]["batch_size"] \
                    if "adaptation" in settings else 0
                chains = later * len(nonzero) * len(seeds)
                adapt.work += chains * samples
                rate, note = (None, "on the CPU") if settings["gpus"] == 0 else _rate(
                    rates, "adapt", name, None, "")
                hours = 0.0 if settings["gpus"] == 0 else _hours(chains * samples, rate)
                adapt.gpu_hours = _sum(adapt.gpu_hours, hours)
                adapt.notes.append(
                    f"{dataset}/{name}: {chains:,} chains" + (
                        f", {samples:,} samples each {note}" if samples else
                        " (re-estimated from each mix in seconds)"))
                generate.notes.append(f"{dataset}/{name}: {rerendered:,} of its images in "
                                      f"{later} later round(s)")
            generate.work += n
            # each generated image and its prompt's image
            factors.work += len(positions) + len(set(positions.tolist()))
            what = f"{n:,} images" + (f" ({probe:,} of test captions, for the detectability "
                                      "probe)" if probe else "")
            per_image = image_bytes
            if per_image is None and settings.get("image_format") == "PNG" and "height" in settings:
                per_image = PNG_BYTES_PER_PIXEL * settings["height"] * settings["width"]
            generate.disk_bytes = _sum(generate.disk_bytes,
                                       None if per_image is None else n * per_image)
            if settings["gpus"] == 0:
                generate.notes.append(f"{dataset}/{name}: {what} on the CPU")
                continue
            reference, source = None, "H100 reference, SD 1.5 scaled to these steps and size"
            if settings["kind"] == "diffusers":
                slowdown = intervention_cost(settings)
                reference = (GENERATE_RATE[settings["compile"]] * GENERATE_STEPS
                             / settings["steps"] * GENERATE_PIXELS
                             / (settings["height"] * settings["width"])) / slowdown
                if slowdown > 1:
                    source += (f", ×{slowdown:.2g} for its intervention as if every prompt "
                               "were open (an upper bound)")
            rate, note = _rate(rates, "generate", name, reference, source)
            hours = _hours(n, rate)
            generate.gpu_hours = _sum(generate.gpu_hours, hours)
            generate.notes.append(f"{dataset}/{name}: {what} {note}")
    stages.append(generate)
    if adapt.jobs:
        adapt.unit = "samples" if adapt.work else ""
        stages.append(adapt)
    if factors.jobs:
        stages.append(factors)
    stages.append(Stage("mix", counts["mix"] + counts["evaluate_mix"], small=True))

    train = Stage("train", counts["train"], unit="samples")
    caption = Stage("caption", counts.get("caption", 0), unit="images", small=True)
    evaluate = Stage("evaluate", counts["evaluate"], unit="images", small=True)
    runs = (len(ratios) + later * len(nonzero)) * len(seeds) * len(config["generators"])
    per_ratio = len(config["seeds"]) * len(config["generators"])
    evaluated = sum(s["test"] for s, _ in set_sizes.values())
    for name, settings in config["models"].items():
        params = parameter_count(settings["arch"])
        processes = max(1, settings["gpus"])
        for dataset, (split, _) in sizes.items():
            per_step = settings["batch_size"] * processes
            samples = per_ratio * settings["epochs"] * sum(
                mix_size(split["train"], r, config["mixing"]) // per_step * per_step
                for r in [*ratios, *later * nonzero])
            eval_images = runs * (split["test"] + evaluated)
            train.work += samples
            evaluate.work += eval_images
            if writes_captions(settings):
                caption.work += eval_images
            if settings["gpus"] == 0:
                note = "on the CPU"
                train_hours = eval_hours = caption_hours = 0.0
            else:
                train_rate, note = _rate(rates, "train", name,
                                         TRAIN_RATES.get(settings["arch"]), TRAIN_RATE_SOURCE)
                train_hours = _hours(samples, train_rate)
                eval_rate, eval_note = _rate(
                    rates, "evaluate", name,
                    None if train_rate is None else EVALUATE_PER_TRAIN * train_rate,
                    f"estimate: {EVALUATE_PER_TRAIN:g}× the training rate")
                eval_hours = _hours(eval_images, eval_rate)
                evaluate.notes.append(f"{dataset}/{name}: {eval_images:,} images {eval_note}")
                caption_rate, caption_note = _rate(rates, "caption", name, None, "")
                caption_hours = _hours(eval_images, caption_rate)
                if writes_captions(settings):
                    caption.notes.append(f"{dataset}/{name}: {eval_images:,} images "
                                         f"{caption_note}")
            train.notes.append(
                f"{dataset}/{name}: {settings['arch']} ({params / 1e6:.1f} M parameters), "
                f"{samples:,} samples {note}; while a job runs its trainer state takes up "
                f"to {_size(TRAINER_STATE_COPIES * FLOAT32_BYTES * params)}")
            for stage, hours in ((train, train_hours), (evaluate, eval_hours)):
                stage.gpu_hours = _sum(stage.gpu_hours, hours)
            if writes_captions(settings):
                caption.gpu_hours = _sum(caption.gpu_hours, caption_hours)
            train.disk_bytes += runs * FLOAT32_BYTES * params
    stages += [train, caption, evaluate] if caption.jobs else [train, evaluate]
    stages.append(Stage("aggregate, trends, plot, provenance",
                        sum(counts.get(r, 0) for r in ("aggregate", "trends", "plot", "provenance",
                                                       "contact_sheet")),
                        small=True))
    return stages


def _sum(total: float | None, value: float | None) -> float | None:
    return None if total is None or value is None else total + value


def _size(n: float | None) -> str:
    if n is None:
        return "?"
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1e3:.1f} kB"


def render(stages: list[Stage]) -> str:
    """The plan as a table, then each stage's notes."""
    lines = [f"{'stage':<36}{'jobs':>7}{'work':>24}{'GPU-hours':>11}{'disk':>10}"]
    for s in stages:
        work = f"{s.work:,.0f} {s.unit}" if s.unit else ""
        hours = "?" if s.gpu_hours is None else f"{s.gpu_hours:,.1f}"
        disk = "small" if s.small else _size(s.disk_bytes)
        lines.append(f"{s.name:<36}{s.jobs:>7}{work:>24}{hours:>11}{disk:>10}")
    hours = [s.gpu_hours for s in stages]
    disk = [s.disk_bytes for s in stages if not s.small]
    lines.append(f"{'total':<36}{sum(s.jobs for s in stages) + 1:>7}{'':>24}"
                 f"{'?' if None in hours else f'{sum(hours):,.1f}':>11}"
                 f"{'?' if None in disk else _size(sum(disk)):>10}")
    lines.append("(jobs: with the final `all`; ?: a throughput or an image size is unknown; "
                 "small: manifests and tables only)")
    for s in stages:
        lines += [f"{s.name}: {note}" for note in s.notes]
    return "\n".join(lines)


def _pairs(values: list[str], option: str, cast) -> dict:
    out = {}
    for value in values:
        key, sep, number = value.rpartition("=")
        try:
            if not sep or not key:
                raise ValueError
            out[key] = cast(number)
        except ValueError:
            raise SystemExit(f"{option} {value!r}: expected NAME=NUMBER") from None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m biasamp.plan", description=__doc__.splitlines()[0])
    parser.add_argument("config", help="a study config, e.g. config/paper/cc3m.yaml")
    parser.add_argument("--images", action="append", default=[], metavar="NAME[.SPLIT]=N",
                        help="images of a split of a dataset or evaluation set (without SPLIT: "
                             "a dataset's training split, an evaluation set's test images)")
    parser.add_argument("--rate", action="append", default=[], metavar="STAGE:ENTRY=N",
                        help="per-GPU throughput of a generator (generate:NAME, images/s; "
                             "adapt:NAME, samples/s in feedback rounds) or a model "
                             "(train:NAME samples/s, evaluate:NAME and caption:NAME images/s), "
                             "e.g. from benchmarks/")
    parser.add_argument("--image-bytes", type=float,
                        help="bytes per generated image (default: estimated for PNG)")
    parser.add_argument("--results", default="results",
                        help="where prepared manifests are looked for (default: results)")
    args = parser.parse_args(argv)
    try:
        check_yaml_file(args.config)
        import yaml

        with open(args.config, encoding="utf-8") as stream:
            config = validate_config(yaml.safe_load(stream), check_files=False)
        stages = plan(config, _pairs(args.images, "--images", int),
                      _pairs(args.rate, "--rate", float), args.image_bytes, args.results)
    except ConfigError as error:
        print(f"{args.config}: {error}", file=sys.stderr)
        return 1
    print(render(stages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
