"""The real workflow on a tiny study: it runs to the end, and reruns only what is stale."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import (
    TINY_STUDY,
    copy_workflow,
    evaluation_settings,
    loaded_libraries,
    planned_jobs,
    snakemake,
)

from biasamp import tables, wordlists
from biasamp.metrics import study_metrics
from biasamp.tables import COLUMNS
from biasamp.trends import COLUMNS as TREND_COLUMNS

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("study"), TINY_STUDY)
    snakemake(workdir)
    return workdir


def test_study_runs_end_to_end(study):
    table = tables.read(study / "results" / "metrics.csv")
    assert tuple(table.columns) == COLUMNS
    evaluation = evaluation_settings(recall_k=[1, 5], bias_k=5)
    declared = study_metrics(evaluation, captioning=False)
    metrics = [m.name for m in declared]
    assert set(table["metric"]) == set(metrics)
    assert sorted(table["ratio"].unique()) == [0, 0.5, 1]
    overall = table[table["group"] == ""]
    assert len(overall) == len(overall.drop_duplicates(["ratio", "seed", "model", "metric"]))
    share = overall[overall["metric"] == "mix_generated_share"].set_index("ratio")["value"]
    assert share.to_dict() == {0.0: 0.0, 0.5: 0.5, 1.0: 1.0}
    assert (overall.loc[overall["metric"] == "mix_generated_share", "model"] == "").all()
    groups = set(table.loc[table["metric"] == "recall@1", "group"])
    assert {"", "gender:female", "gender:male", "skin:dark", "skin:light"} == groups
    assert set(table.loc[table["metric"] == "maxskew@5", "group"]) == {"gender", "skin"}
    assert groups - {""} == set(table.loc[table["metric"] == "person_preference", "group"])
    recall = overall[overall["metric"].str.startswith("recall@")]["value"]
    assert recall.between(0, 1).all()
    figures = study / "results" / "figures"
    for metric in declared:  # a figure per metric, counters in one table
        stem = "counters" if metric.counter else metric.name.replace("@", "_at_")
        assert (figures / f"{stem}.png").stat().st_size
    assert (figures / "summary.png").stat().st_size
    assert (figures / "images" / "toy" / "toy-amplify.png").stat().st_size  # the contact sheet
    trend = pd.read_csv(study / "results" / "trends.csv", keep_default_na=False)
    assert tuple(trend.columns) == TREND_COLUMNS
    share = trend[trend["metric"] == "mix_generated_share"].iloc[0]
    assert (share["slope"], share["verdict"], share["n_points"]) == (1.0, "increases", 3)
    assert share["interval"] == "points"  # one seed: no replicate
    assert set(trend["verdict"]) <= {"amplified", "mitigated", "improved", "degraded",
                                     "increases", "decreases", "no evidence", "blind to gender",
                                     "gender accuracy falls"}
    amplification = trend[trend["metric"] == "biasamp_t2a"].iloc[0]
    assert 0 <= float(amplification["prediction_accuracy"]) <= 1  # zero-shot accuracy, gender
    assert len(trend) == len(table.drop_duplicates(["model", "evalset", "metric", "group"]))
    provenance = json.loads((study / "results" / "provenance.json").read_text())
    assert provenance["word_lists"]["version"] == wordlists.VERSION
    assert provenance["config"]["seeds"] == [0] and provenance["libraries"]["torch"]
    assert provenance["libraries"]["pycocoevalcap"] and "version" in provenance["java"]
    assert provenance["config"]["evaluation"]["published_normalisation"] is False  # defaults
    # evaluate jobs compute with the rule's threads (evaluation.threads, default 1), not with
    # every core of the machine
    log = study / "results/logs/evaluate/toy/evaluation/toy-amplify/ratio~0.5/seed~0/clip/test.log"
    assert "(cpu, 1 thread)" in log.read_text()
    model_dir = study / "results/toy/models/toy-amplify/ratio~0.5/seed~0/clip"
    # a finished training leaves its model only; the trainer's log is in the job's log
    assert sorted(p.name for p in model_dir.iterdir()) == ["model.pt"]
    # long jobs say how far they are; the model's architecture dump has a file of its own, so
    # a failing job's message stays at the end of its log
    assert "images embedded" in log.read_text()
    train_log = study / "results/logs/train/toy/models/toy-amplify/ratio~0.5/seed~0/clip.log"
    text = train_log.read_text()
    assert "epoch 1 of 1" in text and "VisionTransformer(" not in text
    architecture = train_log.with_name("clip.log.architecture.txt")
    assert "VisionTransformer(" in architecture.read_text() and architecture.name in text
    train_log = study / "results/logs/train/toy/models/toy-amplify/ratio~0.5/seed~0/clip.log"
    assert "Train Epoch: 0" in train_log.read_text()


def test_each_rule_imports_only_the_libraries_it_uses(study):
    loaded = loaded_libraries(study)
    assert {"prepare", "generate", "mix", "evaluate_mix", "train", "evaluate", "aggregate",
            "trends", "plot", "provenance"} <= set(loaded)
    model = {"torch", "torchvision", "torchvision.models", "open_clip", "scipy", "sklearn"}
    assert loaded["train"] <= model | {"open_clip_train"}  # no transformers, no diffusers
    assert loaded["evaluate"] <= model  # nor the trainer
    for rule in ("prepare", "generate", "mix", "evaluate_mix", "aggregate",
                 "trends", "plot", "provenance", "contact_sheet", "image_factors",
                 "image_factor_tables"):  # a toy generator renders without torch
        assert "torch" not in loaded[rule], rule
    assert "matplotlib" in loaded["plot"]  # also where worker processes draw the figures


def test_jobs_started_warm_write_what_jobs_started_in_their_own_process_write(study, tmp_path):
    """The study's CPU model jobs started warm (the default: biasamp.warmstart); the same
    jobs, each importing its libraries itself, write the same bytes."""
    evaluation = "results/toy/evaluation/toy-amplify/ratio~0.5/seed~0/clip/test.csv"
    log = "results/logs/train/toy/models/toy-amplify/ratio~0.5/seed~0/clip.log"
    assert "warm start" in (study / log).read_text().splitlines()[0]
    cold = copy_workflow(tmp_path, TINY_STUDY)
    snakemake(cold, evaluation, env={"BIASAMP_WARM_START": "0"})
    assert "warm start" not in (cold / log).read_text()
    for relative in (MODEL, evaluation):
        assert (cold / relative).read_bytes() == (study / relative).read_bytes(), relative


def test_a_finished_study_schedules_nothing(study):
    assert planned_jobs(snakemake(study, "-n")) == {}


def planned_with(study, relative: str, change) -> dict[str, int]:
    """The jobs a dry run plans with one file of the study changed (``change(text)`` gives its
    new text); the file is restored afterwards."""
    path = study / relative
    original = path.read_text()
    try:
        path.write_text(change(original))
        return planned_jobs(snakemake(study, "-n"))
    finally:
        path.write_text(original)


def config_with(**changes):
    return lambda text: yaml.safe_dump({**TINY_STUDY, **changes})


def appended(line):
    return lambda text: f"{text}\n# {line}\n"


def test_adding_a_ratio_schedules_only_that_ratio(study):
    jobs = planned_with(study, "config/config.yaml", config_with(ratios=[0, 0.25, 0.5, 1]))
    assert jobs == {"mix": 1, "evaluate_mix": 1, "train": 1, "evaluate": 1, "aggregate": 1,
                    "plot": 1, "trends": 1, "provenance": 1, "all": 1}


def test_adding_a_seed_generates_nothing_new_when_every_image_is_used(study):
    jobs = planned_with(study, "config/config.yaml", config_with(seeds=[0, 1]))
    assert jobs == {"mix": 3, "evaluate_mix": 3, "train": 3, "evaluate": 3, "aggregate": 1,
                    "plot": 1, "trends": 1, "provenance": 1, "all": 1}


MODEL = "results/toy/models/toy-amplify/ratio~0.5/seed~0/clip/model.pt"
SHARD = "results/toy/generated/toy-amplify/shard-0.tar"
ARCHIVE = "results/toy/data/images.tar"


@pytest.mark.parametrize("path, expected", [
    # a deleted model is retrained and re-evaluated
    (MODEL, {"train": 1, "evaluate": 1, "aggregate": 1, "plot": 1, "trends": 1, "all": 1}),
    # a deleted archive of generated images is generated again, and what used it redone
    (SHARD, {"generate": 1, "gather_generated": 1, "contact_sheet": 1, "mix": 2,
             "evaluate_mix": 2, "train": 2, "evaluate": 2, "aggregate": 1, "plot": 1,
             "trends": 1, "all": 1, "image_factors": 1, "image_factor_tables": 1}),
    # the dataset's archive is an output like its manifest: prepared again
    (ARCHIVE, {"prepare_archived": 1, "generate": 2, "gather_generated": 1,
               "contact_sheet": 1, "mix": 3,
               "evaluate_mix": 3, "train": 3, "evaluate": 3, "aggregate": 1, "plot": 1,
               "trends": 1, "all": 1, "generate_probe": 1, "image_factors": 1,
               "image_factor_tables": 1}),
])
def test_a_deleted_intermediate_is_rebuilt(study, path, expected):
    target = study / path
    aside = target.with_name(target.name + ".aside")
    target.rename(aside)
    try:
        assert planned_jobs(snakemake(study, "-n")) == expected
    finally:
        aside.rename(target)
    assert planned_jobs(snakemake(study, "-n")) == {}


def test_a_replaced_image_archive_retrains_what_read_it(study):
    import os

    archive = study / ARCHIVE
    stat = archive.stat()
    os.utime(archive, (stat.st_atime, stat.st_mtime + 3600))  # replaced after the models
    try:
        jobs = planned_jobs(snakemake(study, "-n"))
    finally:
        os.utime(archive, (stat.st_atime, stat.st_mtime))
    # and the contact sheet, which shows its images, and the image factors, which measure them
    assert jobs == {"train": 3, "evaluate": 3, "contact_sheet": 1, "aggregate": 1, "plot": 1,
                    "trends": 1, "all": 1, "image_factors": 1, "image_factor_tables": 1}


def test_a_baseline_only_study_runs_and_generates_nothing(tmp_path):
    config = {**TINY_STUDY, "ratios": [0]}
    workdir = copy_workflow(tmp_path, config)
    snakemake(workdir)
    table = tables.read(workdir / "results" / "metrics.csv")
    assert table.loc[table["metric"] == "mix_generated_share", "value"].tolist() == [0.0]
    assert set(table["ratio"]) == {0.0} and "recall@1" in set(table["metric"])
    assert not (workdir / "results" / "toy" / "generated").exists()


def test_editing_metric_code_reevaluates_without_retraining(study):
    jobs = planned_with(study, "src/biasamp/metrics/fairness.py", appended("a fix to a metric"))
    assert jobs == {"evaluate": 3, "aggregate": 1, "plot": 1, "trends": 1, "all": 1}


def test_editing_a_generator_kind_reruns_its_shards_only(study):
    jobs = planned_with(study, "src/biasamp/generators/toy.py", appended("a fix to the kind"))
    # its 2 shards, and what used them: the mixes of ratio 0.5 and 1 (ratio 0 uses none), and
    # its probe images, which every model's test evaluation reads (ratio 0's too)
    assert jobs == {"generate": 2, "gather_generated": 1, "contact_sheet": 1, "mix": 2,
                    "evaluate_mix": 2, "train": 2, "evaluate": 3, "aggregate": 1, "plot": 1,
                    "trends": 1, "all": 1, "generate_probe": 1, "image_factors": 1,
                    "image_factor_tables": 1}


@pytest.mark.parametrize("module, expected", [
    # measuring the images again: not generating, mixing or training them again
    ("src/biasamp/image_factors.py", {"image_factors": 1, "image_factor_tables": 1, "plot": 1,
                                      "all": 1}),
    ("src/biasamp/factor_tables.py", {"image_factor_tables": 1, "plot": 1, "all": 1}),
    # the probe's images again, and the test evaluations that read them; no generation shard
    ("src/biasamp/probe.py", {"generate_probe": 1, "evaluate": 3, "aggregate": 1, "plot": 1,
                              "trends": 1, "all": 1}),
    ("src/biasamp/metrics/detectability.py", {"evaluate": 3, "aggregate": 1, "plot": 1,
                                              "trends": 1, "all": 1}),
])
def test_editing_the_image_measures_reruns_only_them(study, module, expected):
    assert planned_with(study, module, appended("a fix")) == expected


def test_editing_another_kinds_code_reruns_nothing(study):
    # the study is toy-only: the diffusers generator is no code of it
    assert planned_with(study, "src/biasamp/generators/diffusion.py",
                        appended("a fix to the diffusers generator")) == {}


def test_the_stages_run_in_one_session_give_the_workflows_table(study, tmp_path):
    # biasamp.replicates (the verdict-rate benchmark, the planted-verdict test) calls the
    # workflow's stage functions: the same study gives the same measurements
    from biasamp.replicates import run_study

    table = run_study(TINY_STUDY, str(tmp_path), processes=1)
    expected = tables.read(study / "results" / "metrics.csv")
    pd.testing.assert_frame_equal(table[list(COLUMNS)], expected, check_dtype=False)


def test_a_metric_without_measurements_still_gets_a_figure(tmp_path):
    from biasamp.plot import plot_all
    from biasamp.tables import measurements, write
    from biasamp.trends import write_trends

    keys = {"dataset": "toy", "generator": "g", "round": 1, "ratio": 0.5, "seed": 0,
            "model": "clip", "evalset": "test"}
    write(measurements(keys, [("recall@1", "", 0.25), ("biasamp", "gender", float("nan"))]),
          tmp_path / "metrics.csv")
    outputs = [str(tmp_path / f"{name}.png") for name in ("recall_at_1", "ndkl_at_10", "biasamp")]
    plan = [("metric_vs_ratio", "recall_at_1", ["recall@1"]),
            ("metric_vs_ratio", "ndkl_at_10", ["ndkl@10"]),
            ("metric_vs_ratio", "biasamp", ["biasamp"])]  # NaN everywhere
    write_trends(str(tmp_path / "metrics.csv"), {}, 95, str(tmp_path / "trends.csv"))
    plot_all(str(tmp_path / "metrics.csv"), str(tmp_path / "trends.csv"), plan, outputs, 95)
    assert all(Path(out).stat().st_size > 0 for out in outputs)
    # drawn by two worker processes (the plot job's threads), the same files
    shared = [str(tmp_path / "shared" / Path(out).name) for out in outputs]
    plot_all(str(tmp_path / "metrics.csv"), str(tmp_path / "trends.csv"), plan, shared, 95,
             processes=2)
    assert [Path(out).read_bytes() for out in shared] == [
        Path(out).read_bytes() for out in outputs]


def test_the_report_explains_itself_and_renders_every_figure(study, tmp_path):
    import html
    import os

    import numpy as np
    from helpers.report import chromium, embedded, render
    from PIL import Image

    report = study / "results" / "report.html"
    snakemake(study, "--report", str(report))
    results, categories = embedded(report, "results"), embedded(report, "categories")
    figures = sorted((study / "results" / "figures").rglob("*.png"))  # the contact sheet too
    assert {str(f.relative_to(study)) for f in figures} <= set(results)
    assert not any(path.endswith(".pdf") for path in results)  # PDFs stay files
    assert set(categories["Summary"]["Other"]) == {"results/figures/summary.png",
                                                   "results/trends.csv"}
    assert "results/provenance.json" in categories["Provenance"]["Other"]
    by_suite = categories["Metrics against the contamination ratio"]
    assert "results/figures/recall_at_1.png" in by_suite["retrieval"]
    # each figure its own caption: its metric, which way is worse, its reference values
    caption = html.unescape(results["results/figures/maxskew_at_5.png"]["caption"])
    assert "maxskew@5" in caption and "higher = more biased" in caption and "ln 2" in caption
    assert "t-interval" in results["results/figures/recall_at_1.png"]["caption"]
    # the landing page shows the study, not a template
    page = report.read_text(encoding="utf-8")
    assert "contamination ratios 0, 0.5, 1 (" in page and 'c["ratios"]' not in page
    if chromium() is None:
        if os.environ.get("CI"):
            raise AssertionError("Chromium is needed to render the report (apt install chromium)")
        pytest.skip("no Chromium to render the report")
    title, screenshot = render(report, tmp_path)
    assert title == f"rendered {len(figures)} of {len(figures)}"
    pixels = np.asarray(Image.open(screenshot).convert("L"), dtype=float)
    assert pixels.std() > 20  # a figure on screen, not a blank page
