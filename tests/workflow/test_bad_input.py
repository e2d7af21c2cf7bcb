"""The bad-input catalogue: every bad config and every damaged file a user can hit stops with a
message that names the config key or the file (and, through Snakemake, before any job runs)."""

import copy
import io
import json
import tarfile

import numpy as np
import pandas as pd
import pytest
from helpers import TINY_STUDY, copy_workflow, snakemake
from helpers.data import write_split
from PIL import Image

from biasamp import manifest, tables
from biasamp.config import ConfigError, validate_config
from biasamp.inputs import InputFileError


def broken(change):
    config = copy.deepcopy(TINY_STUDY)
    change(config)
    return config


def set_model(**settings):
    return lambda c: c["models"]["clip"].update(settings)


# name -> (change to the tiny study, text the message must hold: the key)
BAD_CONFIGS = {
    "unknown top-level key": (lambda c: c.update(colour="red"), "unknown config key 'colour'"),
    "unknown nested key": (lambda c: c["generators"]["toy-amplify"].update(amplify=2),
                           "unknown config key 'generators.toy-amplify.amplify'"),
    "ratio above 1": (lambda c: c.update(ratios=[0, 1.5]), "config key 'ratios.1'"),
    "negative ratio": (lambda c: c.update(ratios=[-0.1]), "config key 'ratios.0'"),
    "ratio too long for a path": (lambda c: c.update(ratios=[0, 1e-30]), "config key 'ratios.1'"),
    "ratio not a number": (lambda c: c.update(ratios=[0, "1e-05"]), "config key 'ratios.1'"),
    "ratio 1 of an append study": (lambda c: c.update(mixing="append", ratios=[0, 0.5, 1]),
                                   "config key 'ratios.2': with mixing: append"),
    "unknown mixing mode": (lambda c: c.update(mixing="swap"), "config key 'mixing'"),
    "zero rounds": (lambda c: c.update(rounds=0), "config key 'rounds'"),
    "feedback rounds of a baseline-only study": (
        lambda c: c.update(rounds=2, ratios=[0]),
        "config key 'rounds': feedback rounds feed generated images back"),
    "unknown generator kind": (lambda c: c["generators"]["toy-amplify"].update(kind="dalle"),
                               "config key 'generators.toy-amplify.kind': unknown generator"),
    "negative seed": (lambda c: c.update(seeds=[0, -1]), "config key 'seeds.1'"),
    "negative global seed": (lambda c: c.update(seed=-3), "config key 'seed'"),
    "splits not summing to 1": (
        lambda c: c["datasets"]["toy"].update(splits={"train": 0.9, "val": 0.1, "test": 0.2}),
        "config key 'datasets.toy.splits'"),
    "unknown architecture": (set_model(arch="RN-50"),
                             "config key 'models.clip.arch': 'RN-50' is not an open_clip model "
                             "config; did you mean RN50"),
    "a captioner without a CoCa architecture": (
        lambda c: c["models"].update(coca={"kind": "coca", "arch": "toy-ViT"}),
        "config key 'models.coca.arch': 'toy-ViT' is not a CoCa config"),
    "batch larger than the training split": (set_model(batch_size=500),
                                             "config key 'models.clip.batch_size'"),
    "batch on every GPU larger than the training split": (
        set_model(batch_size=100, gpus=2), "config key 'models.clip.batch_size'"),
    "toy generator on a dataset that is not the toy world": (
        lambda c: c["datasets"].update(coco={"kind": "coco", "root": "/nonexistent"}),
        "config key 'generators.toy-amplify.kind': a toy generator renders captions of toy "
        "datasets only, and dataset 'coco'"),
    "no model": (lambda c: c.update(models={}), "config key 'models'"),
    "an evaluation set called test": (
        lambda c: c["evaluation"].update(sets={"test": {"kind": "toy"}}),
        "config key 'evaluation.sets'"),
}


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_bad_config_names_the_key(case):
    change, message = BAD_CONFIGS[case]
    with pytest.raises(ConfigError) as error:
        validate_config(broken(change))
    assert message in str(error.value)


@pytest.mark.workflow
@pytest.mark.parametrize("case", ["unknown top-level key", "ratio above 1",
                                  "unknown generator kind", "unknown architecture",
                                  "batch larger than the training split",
                                  "toy generator on a dataset that is not the toy world"])
def test_bad_config_stops_snakemake_before_any_job(case, tmp_path):
    change, message = BAD_CONFIGS[case]
    workdir = copy_workflow(tmp_path, broken(change))
    result = snakemake(workdir, check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (workdir / "results").exists()


@pytest.mark.workflow
def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    workdir = copy_workflow(tmp_path, TINY_STUDY)
    (workdir / "config" / "config.yaml").write_text("seed: 0\nratios: [0, 1\nseeds: [0]\n")
    result = snakemake(workdir, check=False)
    assert result.returncode != 0
    assert "config/config.yaml, line 3, column 6: not valid YAML" in result.stderr
    assert not (workdir / "results").exists()


def test_the_config_checker_names_the_file_and_line(tmp_path, capsys):
    from biasamp.config import main

    (tmp_path / "bad.yaml").write_text("seed: 0\nratios: [0, 1\n")
    (tmp_path / "good.yaml").write_text(json.dumps(TINY_STUDY))
    assert main([str(tmp_path / "good.yaml")]) == 0
    assert main([str(tmp_path / "bad.yaml")]) == 1
    assert f"{tmp_path / 'bad.yaml'}, line 3" in capsys.readouterr().err


# --- damaged files: each read names the file ---------------------------------------------


@pytest.fixture
def a_manifest(tmp_path):
    """A real manifest: two toy images in an archive."""
    from biasamp.imagestore import ShardWriter

    rows = []
    with ShardWriter(tmp_path / "images.tar") as writer:
        for i in range(2):
            offset, length = writer.add(f"img-{i}", Image.new("RGB", (8, 8), (i * 90, 20, 30)))
            rows.append({"id": f"img-{i}", "split": "test", "source": "real",
                         "caption": "a person", "image_path": str(tmp_path / "images.tar"),
                         "image_offset": offset, "image_length": length})
    manifest.write(pd.DataFrame(rows), tmp_path / "manifest.parquet")
    return tmp_path / "manifest.parquet"


def truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_a_truncated_manifest_is_named(a_manifest):
    truncate(a_manifest)
    with pytest.raises(InputFileError, match=f"{a_manifest}: cannot read this manifest.*"
                                             "delete it and rerun"):
        manifest.read(a_manifest)


def test_a_manifest_without_the_contract_columns_is_named(tmp_path):
    pd.DataFrame({"id": ["a"]}).to_parquet(tmp_path / "m.parquet")
    with pytest.raises(manifest.ManifestError, match=f"{tmp_path / 'm.parquet'} lacks columns"):
        manifest.read(tmp_path / "m.parquet")


@pytest.mark.parametrize("content", [
    "dataset,generator,ratio,seed,model,evalset,metric,group,value\nt,g,0,0,c,test,m,,1,2,3\n",
    "dataset,generator,ratio,seed,model,evalset,metric,group,value\nt,g,zero,0,c,test,m,,1\n",
    "ratio,value\n0,1\n",
])
def test_a_corrupt_measurement_table_is_named(tmp_path, content):
    path = tmp_path / "metrics.csv"
    path.write_text(content)
    with pytest.raises(InputFileError, match=f"{path}: .*measurement table"):
        tables.read(path)


def test_a_broken_image_archive_is_named(a_manifest):
    from biasamp.imagestore import ImageError, ImageReader

    frame = manifest.read(a_manifest)
    archive = a_manifest.parent / "images.tar"
    data = bytearray(archive.read_bytes())
    start = int(frame["image_offset"][1])
    data[start + 40:start + 80] = b"\0" * 40  # damage the second image's compressed data
    archive.write_bytes(bytes(data))
    reader = ImageReader()
    reader.read(*frame.loc[0, ["image_path", "image_offset", "image_length"]])  # intact
    location = frame.loc[1, ["image_path", "image_offset", "image_length"]]
    with pytest.raises(ImageError, match=f"{archive} \\(image at byte {start}\\): cannot read"):
        reader.read(*location)
    archive.write_bytes(bytes(data[:start + 10]))  # cut inside the second image
    with pytest.raises(ImageError, match=f"{archive} .*truncated archive"):
        ImageReader().read(*location)


def test_a_truncated_jpeg_fails_screening(tmp_path):
    from biasamp.datasets import screen_images

    pixels = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype("uint8")
    for name in ("good.jpg", "cut.jpg"):
        Image.fromarray(pixels).save(tmp_path / name, quality=90)
    truncate(tmp_path / "cut.jpg", 0.6)
    Image.open(tmp_path / "cut.jpg").verify()  # what screening used to rely on: it passes
    frame = pd.DataFrame({"image_path": [str(tmp_path / "good.jpg"), str(tmp_path / "cut.jpg")]})
    with pytest.raises(ValueError, match=f"{tmp_path / 'cut.jpg'} .*truncated"):
        screen_images(frame, "fail")
    kept = screen_images(frame, "skip")
    assert kept["image_path"].tolist() == [str(tmp_path / "good.jpg")]
    assert kept.attrs["bad_images_skipped"] == 1


def test_a_captions_file_without_every_image_is_named(tmp_path):
    from biasamp.evaluate import read_written_captions

    path = tmp_path / "test.captions.csv"
    path.write_text('"id","caption"\n"a","a person"\n')
    assert read_written_captions(str(path), pd.Series(["a"])) == ["a person"]
    with pytest.raises(InputFileError, match=f"{path}: .*no caption for 1 evaluation images, "
                                             "e.g. b"):
        read_written_captions(str(path), pd.Series(["a", "b"]))


def test_a_corrupt_model_file_is_named(tmp_path):
    from biasamp.models.clip import Clip

    path = tmp_path / "model.pt"
    path.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(InputFileError, match=f"{path}: cannot read this model file"):
        Clip.load(str(path))


# --- COCO annotation files --------------------------------------------------------------


def coco_tree(tmp_path, train=None):
    from biasamp.config import validate_entry

    (tmp_path / "annotations").mkdir()
    write_split(tmp_path, "train", train or {1: ["A man riding a wave."],
                                              2: ["A woman cutting a cake."]})
    write_split(tmp_path, "val", {101: ["A man using a laptop."]})
    settings = validate_entry("datasets", "coco", {"kind": "coco", "root": str(tmp_path)})
    return settings, tmp_path / "annotations" / "captions_train2014.json"


def test_a_non_utf8_captions_file_is_named(tmp_path):
    from biasamp.datasets import prepare

    settings, captions = coco_tree(tmp_path)
    captions.write_bytes(captions.read_bytes().replace(b"wave", b"w\xe4ve"))
    with pytest.raises(InputFileError, match=f"{captions}: cannot read this COCO captions file "
                                             r"\(UnicodeDecodeError"):
        prepare(settings, str(tmp_path / "m.parquet"))


def test_an_image_id_listed_twice_is_named(tmp_path):
    from biasamp.datasets import prepare

    settings, captions = coco_tree(tmp_path)
    data = json.loads(captions.read_text())
    data["images"].append({**data["images"][0], "file_name": "other.jpg"})
    captions.write_text(json.dumps(data))
    with pytest.raises(InputFileError, match=f"{captions}: .*image ids listed more than once "
                                             r"in 'images': \[1\]"):
        prepare(settings, str(tmp_path / "m.parquet"))
    assert not (tmp_path / "m.parquet").exists()


def test_empty_captions_are_left_out_and_counted(tmp_path):
    from biasamp.datasets import prepare

    settings, _ = coco_tree(tmp_path, {1: ["A man riding a wave.", "  "], 2: [""],
                                       3: ["A woman cutting a cake."]})
    prepare(settings, str(tmp_path / "m.parquet"))
    frame = manifest.read(tmp_path / "m.parquet").set_index("id")
    assert "coco-2" not in frame.index  # no caption left: not an image of the dataset
    assert list(frame.loc["coco-1", "captions"]) == ["A man riding a wave."]
    assert frame.attrs["empty_captions_dropped"] == 2
    assert frame.attrs["uncaptioned_images_dropped"] == 1


def test_a_broken_shard_index_tar_is_named(tmp_path):
    from biasamp.config import validate_entry
    from biasamp.datasets import prepare

    (tmp_path / "train").mkdir()
    with tarfile.open(tmp_path / "train" / "00000.tar", "w") as tar:
        info = tarfile.TarInfo("000000000.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"a ca"))
    shard = tmp_path / "train" / "00000.tar"
    shard.write_bytes(shard.read_bytes()[:514])  # cut inside the first sample's data
    settings = validate_entry("datasets", "cc3m", {"kind": "cc3m", "train": str(shard.parent),
                                                   "test": str(shard.parent)})
    with pytest.raises(InputFileError, match=f"{shard}: cannot read this CC3M shard"):
        prepare(settings, str(tmp_path / "m.parquet"))
