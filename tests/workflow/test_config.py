"""Config defaults, --configfile, data files named at once (bad configs: test_bad_input.py)."""

import copy

import pytest
import yaml
from helpers import TINY_STUDY, copy_workflow, snakemake

from biasamp.config import ConfigError, validate_config


def valid():
    return copy.deepcopy(TINY_STUDY)


def test_defaults_are_filled_in():
    config = validate_config(valid())
    assert config["generators"]["toy-amplify"]["gpus"] == 0
    assert config["models"]["clip"]["arch"] == "toy-ViT"
    assert config["plot"]["interval"] == 95


def broken(change):
    config = valid()
    change(config)
    return config


def test_a_configfile_replaces_the_default_study(tmp_path):
    workdir = copy_workflow(tmp_path, valid())
    other = broken(lambda c: c.update(datasets={"other": {"kind": "toy", "n_images": 50}}))
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other))
    out = snakemake(workdir, "-n", "--configfile", "other.yaml").stdout
    assert "dataset=other" in out and "dataset=toy," not in out and "dataset=toy\n" not in out


def test_every_missing_data_file_is_named_at_once(tmp_path):
    from biasamp.config import validate_config

    with pytest.raises(ConfigError) as error:
        validate_config({
            "datasets": {"cc3m": {"kind": "cc3m", "train": str(tmp_path / "train"),
                                  "test": {"tsv": str(tmp_path / "val.tsv"),
                                           "images": str(tmp_path / "val")}}},
            "generators": {"g": {"kind": "toy"}}, "models": {"clip": {"kind": "clip"}},
            "evaluation": {"sets": {"ff": {"kind": "fairface",
                                           "labels": str(tmp_path / "label_val.csv")}}}})
    lines = str(error.value).splitlines()
    assert [line.split("'")[1] for line in lines] == [
        "datasets.cc3m.train", "datasets.cc3m.test.tsv", "datasets.cc3m.test.images",
        # and the toy generator, which cannot render CC3M captions
        "evaluation.sets.ff.labels", "generators.g.kind"]
