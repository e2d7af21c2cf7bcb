"""Study designs through the real workflow: mixing modes (and their jobs' files), feedback
rounds."""

import json

import pandas as pd
import pytest
import yaml
from helpers import copy_workflow, planned_jobs, snakemake, tiny_study

from biasamp import manifest, tables
from biasamp.generators.toy import majority_shares
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
    config.update(ratios=[0, 0.75], seeds=[0, 1])
    # not saturated (γ = 1), so what a round learns moves the next round's renders
    config["generators"]["toy-amplify"].update(amplification=1.0, stereotype_override=0.8)
    workdir = copy_workflow(tmp_path, config)
    snakemake(workdir)
    # a chain per seed at ratio 0.75 (ratio 0 has no generated image): each adapts, renders
    # its 2 shards, gathers them, mixes, trains and evaluates
    chain_jobs = {"adapt": 2, "generate_round": 4, "gather_round": 2, "mix": 2, "train": 2,
                  "evaluate": 2, "evaluate_mix": 2}
    study_jobs = {"aggregate": 1, "trends": 1, "plot": 1, "provenance": 1, "all": 1}
    for rounds in (2, 3):
        config["rounds"] = rounds
        (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        # the new round's chain (ratio 1; ratio 0 has no generated image) and the study's
        # tables and figures; nothing of the earlier rounds
        assert planned_jobs(snakemake(workdir, "-n")) == {**chain_jobs, **study_jobs}
        snakemake(workdir)

    def mix(segment, seed):
        return manifest.read(workdir / f"results/toy/mixes/toy-amplify{segment}/ratio~0.75"
                             f"/seed~{seed}/manifest.parquet")

    def learnt(number, seed):
        chain = f"toy-amplify/round~{number}/ratio~0.75/seed~{seed}"
        found = json.loads((workdir / "results/toy/adapted" / chain / "generator.json")
                           .read_text())["majority"]
        return {activity: tuple(value) for activity, value in found.items()}

    for seed in (0, 1):
        # round r's generator learnt from its own chain's round r - 1 mix
        assert learnt(2, seed) == majority_shares(mix("", seed))
        assert learnt(3, seed) == majority_shares(mix("/round~2", seed))
        assert learnt(3, seed) != learnt(2, seed)  # round 2 rendered what round 1 learnt
        added = mix("/round~3", seed).query("source == 'generated'")
        assert len(added) == 108  # 0.75 of the 144 training images, as in round 1
        assert added["image_path"].str.startswith(
            f"results/toy/generated/toy-amplify/round~3/ratio~0.75/seed~{seed}/").all()
        assert set(added["source_id"]) == set(mix("", seed).query(
            "source == 'generated'")["source_id"])
    assert learnt(2, 0) != learnt(2, 1)  # each chain adapts to its own mix

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
