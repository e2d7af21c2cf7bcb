"""Study designs through the real workflow: mixing modes (and their jobs' files)."""

import pytest
from helpers import copy_workflow, snakemake, tiny_study

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
