"""How often the default study's verdicts hold: over independent seed sets, the share that
recovers the planted amplification (power) and the share that reports a trend where the neutral
generator plants none (false positives).

Runs the default study (config/config.yaml: its dataset, generator, models, ratios and number
of seeds) once per seed set, with a neutral generator (``kind: toy`` and nothing else) beside
the planted one, through :func:`biasamp.replicates.run_study` (the workflow's stage functions,
without Snakemake's job start-up), and prints, for every model-level bias measure, how many
seed sets gave each verdict.

    python benchmarks/verdicts.py [--sets 5] [--processes 2] [--out DIR]
    python benchmarks/verdicts.py --sets 5 --tables DIR   # verdicts again from DIR's tables
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from biasamp import tables
from biasamp.replicates import run_study, study_verdicts

REPO = Path(__file__).resolve().parents[1]
# the rows the default study must call: the captioner's T→A amplification and CLIP's model-level
# measures (README, "The planted effect")
WATCHED = [("coca", "biasamp_t2a"), ("clip", "biasamp_t2a"), ("clip", "retrieval_biasamp@10"),
           ("coca", "retrieval_biasamp@10"),
           ("coca", "biasamp"), ("clip", "biasamp"), ("coca", "biasamp_a2t"),
           ("clip", "biasamp_a2t"), ("coca", "lic")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=5, help="independent seed sets")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", help="keep the runs and tables here")
    parser.add_argument("--tables", help="read set-K/metrics.csv from this folder of an earlier "
                                         "run (--out) instead of running the studies")
    args = parser.parse_args()

    study = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    (planted,) = study["generators"]
    shards = study["generators"][planted]["shards"]
    per_set = len(study["seeds"])
    out = Path(args.tables or args.out or tempfile.mkdtemp(prefix="biasamp-verdicts-"))
    calls = []
    for k in range(args.sets):
        config = copy.deepcopy(study)
        config["seeds"] = list(range(k * per_set, (k + 1) * per_set))
        config["generators"]["neutral"] = {"kind": "toy", "shards": shards}
        start = time.perf_counter()
        if args.tables:
            table = tables.read(out / f"set-{k}" / "metrics.csv")
        else:
            table = run_study(config, str(out / f"set-{k}"), args.processes)
            tables.write(table, out / f"set-{k}" / "metrics.csv")
        trends = study_verdicts(table, config)
        trends.to_csv(out / f"set-{k}" / "trends.csv", index=False)
        print(f"seed set {k} (seeds {config['seeds']}): {time.perf_counter() - start:.0f} s",
              flush=True)
        calls.append(trends.assign(seed_set=k))
    calls = pd.concat(calls)
    calls = calls[calls["group"].isin(["gender", ""]) & (calls["evalset"] == "test")]
    print(f"\nverdicts over {args.sets} seed sets of {per_set} seeds, ratios {study['ratios']}")
    print(f"{'model':<6}{'metric':<22}{'planted (' + planted + ')':<58}{'neutral':<40}")
    for model, metric in WATCHED:
        cells = []
        for generator in (planted, "neutral"):
            rows = calls[(calls["model"] == model) & (calls["metric"] == metric)
                         & (calls["generator"] == generator)]
            counts = rows["verdict"].value_counts()
            cells.append(", ".join(f"{v} {n}/{len(rows)}" for v, n in counts.items()) or "-")
        print(f"{model:<6}{metric:<22}{cells[0]:<58}{cells[1]:<40}")


if __name__ == "__main__":
    main()
