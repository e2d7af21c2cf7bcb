import copy

import pytest
import yaml
from conftest import TINY_STUDY, copy_workflow, snakemake

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


CASES = {
    "unknown top-level key": (lambda c: c.update(colour="red"), "unknown config key 'colour'"),
    "unknown nested key": (lambda c: c["generators"]["toy-amplify"].update(amplify=2),
                           "unknown config key 'generators.toy-amplify.amplify'"),
    "ratio above 1": (lambda c: c.update(ratios=[0, 1.5]), "config key 'ratios.1'"),
    "negative ratio": (lambda c: c.update(ratios=[-0.1]), "config key 'ratios.0'"),
    "unknown generator kind": (lambda c: c["generators"]["toy-amplify"].update(kind="dalle"),
                               "config key 'generators.toy-amplify.kind': unknown generator"),
    "negative seed": (lambda c: c.update(seeds=[0, -1]), "config key 'seeds.1'"),
    "negative global seed": (lambda c: c.update(seed=-3), "config key 'seed'"),
    "splits not summing to 1": (
        lambda c: c["datasets"]["toy"].update(splits={"train": 0.9, "val": 0.1, "test": 0.2}),
        "config key 'datasets.toy.splits'"),
    "ratios colliding in paths": (lambda c: c.update(ratios=[0.1, 0.1000000001]),
                                  "config key 'ratios'"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_config_names_the_key(case):
    change, message = CASES[case]
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        validate_config(broken(change))


@pytest.mark.parametrize("case", ["unknown top-level key", "ratio above 1",
                                  "unknown generator kind", "negative seed"])
def test_bad_config_stops_snakemake_before_any_job(case, tmp_path):
    change, message = CASES[case]
    workdir = copy_workflow(tmp_path, broken(change))
    result = snakemake(workdir, check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (workdir / "results").exists()


def test_a_configfile_replaces_the_default_study(tmp_path):
    workdir = copy_workflow(tmp_path, valid())
    other = broken(lambda c: c.update(datasets={"other": {"kind": "toy", "n_images": 50}}))
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other))
    out = snakemake(workdir, "-n", "--configfile", "other.yaml").stdout
    assert "dataset=other" in out and "dataset=toy," not in out and "dataset=toy\n" not in out


def test_every_missing_data_file_is_named_at_once(tmp_path):
    from biasamp.config import ConfigError, validate_config

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
        "evaluation.sets.ff.labels"]
