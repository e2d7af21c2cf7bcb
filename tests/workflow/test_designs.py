"""Study designs through the real workflow: mixing modes (and their jobs' files), feedback
rounds."""

import json

import pandas as pd
import pytest
import yaml
from helpers import copy_workflow, planned_jobs, snakemake, tiny_study

from biasamp import manifest, tables
from biasamp.study import n_appended


@pytest.mark.workflow
def test_an_append_study_generates_second_images_and_grows_its_mixes(tmp_path):
    config = tiny_study()
    config.update(mixing="append", ratios=[0, 0.6], seeds=[0])
    workdir = copy_workflow(tmp_path, config)
    folder = "results/toy/evaluation/toy-amplify/ratio~0.6/seed~0"
    snakemake(workdir, f"{folder}/mix_metrics.csv")
    mixed = manifest.read(workdir / "results/toy/mixes/toy-amplify/ratio~0.6/seed~0"
                          / "manifest.parquet")
    real = (mixed["source"] == "real").sum()
    assert real == 144  # every real training image of the tiny world (0.6 × 240)
    added = mixed[mixed["source"] == "generated"]
    assert len(added) == n_appended(144, 0.6) == 216  # 1.5 per caption
    assert set(added["variant"]) == {0, 1}
    values = tables.read(workdir / folder / "mix_metrics.csv").set_index("metric")["value"]
    assert values["mix_generated_share"] == pytest.approx(216 / 360)


@pytest.mark.workflow
def test_feedback_rounds_adapt_each_chain_and_a_new_round_reruns_only_its_jobs(tmp_path):
    config = tiny_study()
    config.update(ratios=[0, 1], seeds=[0])
    workdir = copy_workflow(tmp_path, config)
    snakemake(workdir)
    chain_jobs = {"adapt": 1, "generate_round": 2, "gather_round": 1, "mix": 1, "train": 1,
                  "evaluate": 1, "evaluate_mix": 1}
    study_jobs = {"aggregate": 1, "trends": 1, "plot": 1, "provenance": 1, "all": 1}
    for rounds in (2, 3):
        config["rounds"] = rounds
        (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        # the new round's chain (ratio 1; ratio 0 has no generated image) and the study's
        # tables and figures; nothing of the earlier rounds
        assert planned_jobs(snakemake(workdir, "-n")) == {**chain_jobs, **study_jobs}
        snakemake(workdir)

    chain = "toy-amplify/round~3/ratio~1/seed~0"
    learnt = json.loads((workdir / "results/toy/adapted" / chain / "generator.json").read_text())
    mix2 = manifest.read(workdir / "results/toy/mixes/toy-amplify/round~2/ratio~1/seed~0"
                         / "manifest.parquet")
    assert learnt["images"] == len(mix2)  # round 3 learnt from round 2's mix
    mix3 = manifest.read(workdir / "results/toy/mixes" / chain / "manifest.parquet")
    assert (mix3["source"] == "generated").all()
    assert mix3["image_path"].str.startswith(f"results/toy/generated/{chain}/").all()

    metrics = tables.read(workdir / "results/metrics.csv")
    assert sorted(set(metrics["round"])) == [1, 2, 3]
    # the ratio-0 baseline is measured once and stands for every round's
    baseline = metrics[metrics["ratio"] == 0].drop(columns="round")
    per_round = [part.drop(columns="round").reset_index(drop=True)
                 for _, part in metrics[metrics["ratio"] == 0].groupby("round")]
    assert all(part.equals(per_round[0]) for part in per_round)
    assert len(baseline) == 3 * len(per_round[0])
    trends = pd.read_csv(workdir / "results/trends.csv")
    assert sorted(set(trends["round"])) == [1, 2, 3]
