"""A study's stages run in one Python session, for measuring its verdicts over many replicates.

The workflow (Snakemake) is how a study runs. To say how often its verdicts hold, a study must
be repeated over several independent sets of replicate seeds, for a planted effect (how often is
it missed?) and for a neutral generator (how often is a trend reported where none exists?).
:func:`run_study` calls the same stage functions with the same arguments as the workflow's
jobs (prepare, generate, mix, train, caption, evaluate on the test split), without a job's
start-up cost: a ratio-0 mix holds no generated image, so its models are trained once and
evaluated for every generator (identical rows, but for the detectability probe, which uses each
generator's images). Evaluation sets are not run.
:func:`study_verdicts` turns the table into the trends table (:mod:`biasamp.trends`).
``benchmarks/verdicts.py`` and the planted-effect tests use them.
"""

from __future__ import annotations

import copy
import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)


def _unit(config: dict, root: str, dataset: str, generator: str | None, ratio: float,
          seed: int) -> pd.DataFrame:
    """Mix, train, caption and evaluate one (dataset, generator, ratio, seed): its rows. A
    ratio-0 unit (``generator`` None) trains once and serves every generator: evaluated once
    per generator where the detectability probe runs (it uses that generator's images), else
    once for all."""
    from biasamp import tables
    from biasamp.caption import write_captions
    from biasamp.evaluate import evaluate_model, measure_mix
    from biasamp.mix import write_mix
    from biasamp.models import MODELS, writes_captions
    from biasamp.study import ratio_label

    data = Path(root) / dataset / "data" / "manifest.parquet"
    generated = Path(root) / dataset / "generated" / generator / "manifest.parquet" \
        if ratio else None
    folder = Path(root) / dataset / (generator or "real") / f"ratio~{ratio_label(ratio)}" \
        / f"seed~{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    names = [generator] if generator else list(config["generators"])
    keys = {"dataset": dataset, "generator": "", "round": 1, "ratio": float(ratio), "seed": seed,
            "model": "", "evalset": ""}
    mix = folder / "mix.parquet"
    write_mix(str(data), generated and str(generated), float(ratio), seed, str(mix),
              config["mixing"])
    measure_mix(str(mix), keys, str(folder / "mix_metrics.csv"))
    mixed = tables.read(folder / "mix_metrics.csv")
    frames = [mixed.assign(generator=name) for name in names]
    evaluation = {k: v for k, v in config["evaluation"].items() if k not in ("sets", "threads")}
    probing = evaluation["detectability_images"] > 0 and max(config["ratios"]) > 0
    for name, settings in config["models"].items():
        model = folder / name / "model.pt"
        MODELS.get(settings["kind"]).implementation.train(settings, str(mix), str(model), seed)
        captions = None
        if writes_captions(settings):
            captions = folder / name / "test.captions.csv"
            write_captions(settings, str(model), str(data), evaluation["batch_size"],
                           str(captions))
        # the probe's images differ per generator; without a probe one evaluation serves all
        for who in names if probing else [None]:
            probe = Path(root) / dataset / "generated" / str(who) / "probe.parquet"
            out = folder / name / f"test.{who or 'all'}.csv"
            evaluate_model(settings, str(model), str(data), evaluation,
                           {**keys, "generator": who or "", "model": name, "evalset": "test"},
                           str(out), captions_csv=str(captions) if captions else None,
                           mix_manifest=str(mix), probe_manifest=str(probe) if who else None)
            measured = tables.read(out)
            frames += [measured] if who else [measured.assign(generator=n) for n in names]
    return pd.concat(frames, ignore_index=True)


def run_study(config: dict, root: str, processes: int = 1) -> pd.DataFrame:
    """The metrics table of the study ``config`` (test split only), its files under ``root``;
    (ratio, seed) units run over ``processes`` worker processes of one thread each."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the workflow's jobs (threads: 1); restored at the end
    try:
        return _run(config, root, processes)
    finally:
        torch.set_num_threads(threads)


def _run(config: dict, root: str, processes: int) -> pd.DataFrame:
    import torch

    from biasamp import manifest
    from biasamp.config import validate_config
    from biasamp.datasets import prepare
    from biasamp.generate import generate_shard
    from biasamp.generators import GENERATORS
    from biasamp.probe import generate_probe
    from biasamp.study import generation_plan
    from biasamp.tables import COLUMNS

    config = validate_config(copy.deepcopy(config))
    if config["rounds"] > 1:
        raise ValueError("run_study runs round 1 of a study; run feedback rounds with the "
                         "workflow (set rounds: 1 here)")
    units = []
    for dataset, settings in config["datasets"].items():
        data = Path(root) / dataset / "data" / "manifest.parquet"
        data.parent.mkdir(parents=True, exist_ok=True)
        prepare(settings, str(data))
        for name, generator in config["generators"].items():
            plan = generation_plan(config["ratios"], config["seeds"], withheld_possible=GENERATORS
                                   .get(generator["kind"]).implementation.may_withhold(generator),
                                   mixing=config["mixing"])
            folder = Path(root) / dataset / "generated" / name
            folder.mkdir(parents=True, exist_ok=True)
            if max(config["ratios"]) > 0:
                for shard in range(generator["shards"]):
                    generate_shard(generator, name, str(data), shard, config["seed"],
                                   str(folder / f"shard-{shard}.parquet"),
                                   str(folder / f"shard-{shard}.tar"), plan)
                manifest.gather([folder / f"shard-{k}.parquet" for k in range(generator["shards"])],
                                folder / "manifest.parquet")
                if config["evaluation"]["detectability_images"]:
                    generate_probe(generator, name, str(data),
                                   config["evaluation"]["detectability_images"],
                                   config["seed"], str(folder / "probe.parquet"),
                                   str(folder / "probe.tar"))
        units += [(dataset, None if ratio == 0 else name, ratio, seed)
                  for ratio in config["ratios"] for seed in config["seeds"]
                  for name in ([None] if ratio == 0 else config["generators"])]
    if processes > 1:
        import multiprocessing

        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=torch.set_num_threads, initargs=(1,)) as pool:
            frames = list(pool.map(_unit, *zip(*[(config, root, *u) for u in units],
                                               strict=True)))
    else:
        frames = [_unit(config, root, *u) for u in units]
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(list(COLUMNS[:-1]), kind="stable").reset_index(drop=True)


def study_verdicts(table: pd.DataFrame, config: dict) -> pd.DataFrame:
    """The trends table of a metrics table of ``config``'s study."""
    from biasamp.config import validate_config
    from biasamp.metrics import study_metrics
    from biasamp.models import writes_captions
    from biasamp.trends import trends

    config = validate_config(copy.deepcopy(config))
    metrics = study_metrics(config["evaluation"],
                            any(writes_captions(m) for m in config["models"].values()),
                            max(config["ratios"]) > 0)
    return trends(table, {m.name: m.direction for m in metrics},
                  config["plot"]["interval"] / 100,
                  {m.name: m.rests_on for m in metrics if m.rests_on},
                  {m.name: m.blind_value for m in metrics if m.blind_value is not None})
