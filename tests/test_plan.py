"""Sizing a study before running it (biasamp.plan): job counts as Snakemake plans them, work,
GPU-hours and disk worked by hand."""

import pytest
from helpers import copy_workflow, planned_jobs, snakemake, tiny_study
from helpers.data import fairface_labels

from biasamp.config import ConfigError, validate_config
from biasamp.plan import PNG_BYTES_PER_PIXEL, job_counts, main, parameter_count, plan
from biasamp.study import replaced_positions


def study(tmp_path):
    """The tiny study with a second generator, a captioner and an evaluation set."""
    config = tiny_study()
    config["seeds"] = [0, 1]
    config["generators"]["neutral"] = {"kind": "toy", "shards": 3}
    config["models"]["coca"] = {"kind": "coca", "epochs": 1, "batch_size": 32, "warmup": 2}
    config["evaluation"]["sets"] = {"ff": {"kind": "fairface",
                                           "labels": str(fairface_labels(tmp_path / "ff"))}}
    return config


@pytest.mark.workflow
@pytest.mark.parametrize("design", ["one round", "baseline only", "three rounds"])
def test_job_counts_are_those_snakemake_plans(tmp_path, design):
    config = study(tmp_path)
    if design == "baseline only":  # ratio 0 alone generates nothing
        config["ratios"] = [0]
    if design == "three rounds":
        config["rounds"] = 3
    (tmp_path / "run").mkdir()
    workdir = copy_workflow(tmp_path / "run", config)
    planned = planned_jobs(snakemake(workdir, "-n"))
    assert job_counts(validate_config(config)) == planned
    assert ("generate" in planned) != (design == "baseline only")
    assert ("adapt" in planned) == (design == "three rounds")


def hand_study():
    return validate_config({
        "seeds": [0, 1], "ratios": [0, 0.5],
        "datasets": {"toy": {"kind": "toy", "n_images": 100,
                             "splits": {"train": 0.6, "val": 0.05, "test": 0.35}}},
        "generators": {"sd": {"kind": "diffusers", "model": "unused/weights", "steps": 25,
                              "height": 256, "width": 256, "shards": 4}},
        "models": {"rn50": {"kind": "clip", "arch": "RN50", "epochs": 2, "batch_size": 32,
                            "gpus": 1}},
        "evaluation": {"sets": {"geo": {"kind": "region_csv", "csv": "not/fetched.csv"}}},
    }, check_files=False)


def test_work_gpu_hours_and_disk_worked_by_hand():
    stages = {s.name: s for s in plan(hand_study(), images={"geo": 7}, results="/nonexistent")}
    runs = 2 * 2  # ratios × seeds × one generator
    assert stages["prepare"].jobs == 2
    # its shards, gathering their manifests, and the detectability probe's images
    assert stages["generate"].jobs == 4 + 1 + 1
    assert stages["mix"].jobs == 2 * runs  # mix and evaluate_mix
    # 60 training images; each seed replaces its own 30 at ratio 0.5, generated once
    union = set(replaced_positions(60, 0.5, 0)[0]) | set(replaced_positions(60, 0.5, 1)[0])
    assert 30 < len(union) < 60
    generate = stages["generate"]
    n = len(union) + 35  # and an image of each of the 35 test captions (the probe's 500 at most)
    assert generate.work == n
    # 2.8 images/s at 512² and 50 steps: 25 steps of 256² is 8 times cheaper
    assert generate.gpu_hours == pytest.approx(n / (2.8 * 8) / 3600)
    assert generate.disk_bytes == pytest.approx(n * 256 * 256 * PNG_BYTES_PER_PIXEL)
    # a job per block of 100 shards and the tables; each generated image and its prompt's image
    assert (stages["image factors"].jobs, stages["image factors"].work) == (1 + 1, 2 * len(union))
    # one batch of 32 per epoch (drop_last), 2 epochs, per run
    train = stages["train"]
    assert (train.jobs, train.work) == (runs, runs * 2 * 32)
    assert train.gpu_hours == pytest.approx(runs * 64 / 1340 / 3600)
    assert train.disk_bytes == runs * 4 * parameter_count("RN50")
    # 35 test images of the dataset and 7 of the evaluation set, per run
    evaluate = stages["evaluate"]
    assert (evaluate.jobs, evaluate.work) == (2 * runs, runs * 42)
    assert evaluate.gpu_hours == pytest.approx(runs * 42 / (3 * 1340) / 3600)
    assert "caption" not in stages


def test_append_mixes_generate_and_train_on_more_images():
    config = hand_study()
    config["mixing"] = "append"
    stages = {s.name: s for s in plan(config, images={"geo": 7}, results="/nonexistent")}
    # ratio 0.5 appends 60 generated images to the 60 real ones: every caption once (both
    # seeds), and the ratio-0.5 mixes train on 120 images, 3 batches of 32 per epoch
    assert stages["generate"].work == 60 + 35
    assert stages["image factors"].work == 2 * 60
    assert stages["train"].work == 2 * 2 * (1 * 32 + 3 * 32)  # seeds × epochs × (r=0, r=0.5)


def test_feedback_rounds_adapt_rerender_and_retrain_each_chain():
    config = hand_study()
    config["rounds"] = 3
    stages = {s.name: s for s in plan(config, images={"geo": 7}, results="/nonexistent",
                                      rates={"adapt:sd": 10.0})}
    chains = 2 * 1 * 2  # later rounds × nonzero ratios × seeds
    union = set(replaced_positions(60, 0.5, 0)[0]) | set(replaced_positions(60, 0.5, 1)[0])
    # round 1's shards, gather and probe; then each chain's 4 shards and its gather
    assert stages["generate"].jobs == 4 + 1 + 1 + chains * (4 + 1)
    # each chain renders the 30 images its ratio-0.5 mix replaces, again in every round
    assert stages["generate"].work == len(union) + 35 + chains * 30
    adapt = stages["adapt (feedback rounds)"]
    assert (adapt.jobs, adapt.work) == (chains, chains * 1000 * 4)  # default steps × batch
    assert adapt.gpu_hours == pytest.approx(chains * 4000 / 10 / 3600)
    runs = 2 * 2 + chains  # round 1's ratios × seeds, and the chains
    assert stages["mix"].jobs == 2 * runs
    assert (stages["train"].jobs, stages["train"].work) == (runs, runs * 2 * 32)
    assert stages["evaluate"].work == runs * 42


def test_rates_given_replace_the_reference_points():
    stages = {s.name: s for s in plan(hand_study(), images={"geo.test": 7},
                                      rates={"generate:sd": 5.0, "train:rn50": 100.0},
                                      image_bytes=1000, results="/nonexistent")}
    n = stages["generate"].work
    assert stages["generate"].gpu_hours == pytest.approx(n / 5 / 3600)
    assert stages["generate"].disk_bytes == 1000 * n
    assert stages["train"].gpu_hours == pytest.approx(4 * 64 / 100 / 3600)
    assert stages["evaluate"].gpu_hours == pytest.approx(4 * 42 / 300 / 3600)


def test_an_unknown_throughput_or_size_is_said_not_guessed():
    config = hand_study()
    config["models"]["rn50"]["arch"] = "RN101"  # no reference point
    stages = {s.name: s for s in plan(config, images={"geo": 7}, results="/nonexistent")}
    assert stages["train"].gpu_hours is None and stages["evaluate"].gpu_hours is None
    assert "--rate train:rn50=N" in " ".join(stages["train"].notes)
    with pytest.raises(ConfigError, match=r"'geo' \(kind region_csv\).*--images geo.test="):
        plan(hand_study(), results="/nonexistent")


def test_parameter_counts_match_open_clip_published_profiles():
    # open_clip's model profile table (docs/model_profile.csv): RN50 102.01 M, ViT-B-32 151.28 M
    assert parameter_count("RN50") == pytest.approx(102.01e6, rel=1e-3)
    assert parameter_count("ViT-B-32") == pytest.approx(151.28e6, rel=1e-3)


@pytest.mark.parametrize("name", ["cc3m", "coco"])
def test_the_paper_configs_plan_without_their_data(capsys, name):
    assert main([f"config/paper/{name}.yaml", "--images", "phase=15840"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:10]}
    # with the job that gathers them, and the one rendering the probe's test captions
    shards = {"cc3m": "3302", "coco": "122"}[name]
    assert rows["generate"][1] == shards
    if name == "cc3m":  # the published study's generated images: about 1.4 TB
        assert rows["generate"][-2:] == ["1.4", "TB"]


def test_the_design_configs_plan_without_their_data(capsys):
    assert main(["config/designs/toy-debiasing.yaml"]) == 0
    assert main(["config/designs/coco-debiasing.yaml"]) == 0
    out = capsys.readouterr().out
    # the latent correction over 10 of 50 steps and SEGA with two phrases cost more per image
    assert "×1.2 for its intervention" in out and "×2 for its intervention" in out
    for name in ("toy-rounds", "coco-rounds"):
        assert main([f"config/designs/{name}.yaml"]) == 0
        rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()
                if line.startswith(("adapt (feedback rounds) ", "total "))}
        # 2 later rounds × (4 nonzero ratios × 3 seeds: toy; 2 × 3: COCO) chains
        assert rows["adapt"][3] == {"toy-rounds": "24", "coco-rounds": "12"}[name]
        assert rows["total"][1] == {"toy-rounds": "382", "coco-rounds": "1680"}[name]
