"""CC3M in img2dataset's webdataset layout: images referenced inside the shards by offset."""

import tarfile
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import REPO, copy_workflow, planned_jobs, snakemake
from helpers.data import CAPTIONS, fairface_labels, phase_entry, write_shard

from biasamp import manifest
from biasamp.config import ConfigError, validate_config, validate_entry
from biasamp.datasets import prepare
from biasamp.evaluate import mix_measurements
from biasamp.imagestore import ImageReader
from biasamp.mix import mix
from biasamp.plan import job_counts


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("cc3m")
    (root / "train").mkdir()
    (root / "val").mkdir()
    write_shard(root / "train" / "00000.tar", 0, 5, failed={3})
    write_shard(root / "train" / "00001.tar", 5, 5)
    write_shard(root / "val" / "00000.tar", 100, 4)
    return root


def settings(root, **overrides):
    entry = {"kind": "cc3m", "train": str(root / "train"), "test": str(root / "val"),
             **overrides}
    return validate_entry("datasets", "cc3m", entry)


def test_webdataset_shards_are_indexed_in_place(shards, tmp_path):
    prepare(settings(shards), str(tmp_path / "m.parquet"))
    frame = manifest.read(tmp_path / "m.parquet")
    assert frame.attrs == {"bad_images_skipped": 1}  # the failed download
    assert frame["split"].value_counts().to_dict() == {"train": 9, "test": 4}
    row = frame.set_index("id").loc["cc3m-000000007"]
    assert row["caption"] == CAPTIONS[7 % 5] and row["image_path"].endswith("00001.tar")
    image = ImageReader().read(row["image_path"], row["image_offset"], row["image_length"])
    assert image.size == (16, 12)
    assert abs(int(np.asarray(image)[..., 0].mean()) - 7 * 40 % 256) < 8
    by_caption = frame.drop_duplicates("caption").set_index("caption")
    assert by_caption.loc["a man riding a horse", "gender"] == "male"
    assert by_caption.loc["her new dress", "gender"] == "female"
    assert by_caption["gender"].isna().sum() == 3  # neutral or both genders
    assert bool(by_caption.loc["actor attends the premiere", "neutral_caption"])


def test_failed_downloads_can_stop_the_run(shards, tmp_path):
    with pytest.raises(ValueError, match=r"00000\.tar: 1 samples have no usable image"):
        prepare(settings(shards, bad_images="fail"), str(tmp_path / "m.parquet"))


def test_skipped_images_are_counted_in_every_mix(shards, tmp_path):
    prepare(settings(shards), str(tmp_path / "m.parquet"))
    real = manifest.read(tmp_path / "m.parquet")
    generated = real.iloc[:0].assign(source_id=[])
    values = dict((m, v) for m, _, v in mix_measurements(mix(real, generated, 0, seed=0)))
    assert values["data_bad_images_skipped"] == 1


def test_missing_shards_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"datasets\.cc3m\.train': no webdataset shards.*"
                                          r"img2dataset"):
        settings(tmp_path)


def write_tsv_layout(root, shards):
    """The same samples as the train shards, as img2dataset's TSV + files layout."""
    lines = []
    with tarfile.open(shards / "train" / "00000.tar") as a, \
            tarfile.open(shards / "train" / "00001.tar") as b:
        members = {m.name: tar for tar in (a, b) for m in tar.getmembers()}
        for i in range(10):
            lines.append(f"{CAPTIONS[i % len(CAPTIONS)]}\thttp://x/{i}.jpg")
            if f"{i:09d}.jpg" in members:  # row 3 failed to download
                image = root / "images" / "00000" / f"{i:09d}.jpg"
                image.parent.mkdir(parents=True, exist_ok=True)
                tar = members[f"{i:09d}.jpg"]
                image.write_bytes(tar.extractfile(f"{i:09d}.jpg").read())
    (root / "train.tsv").write_text("\n".join(lines) + "\n")
    return {"tsv": str(root / "train.tsv"), "images": str(root / "images")}


def test_tsv_and_image_folder_give_the_same_manifest(shards, tmp_path, monkeypatch):
    from biasamp.datasets import cc3m

    monkeypatch.setattr(cc3m, "TSV_CHUNK", 4)  # several chunks, as for the 3.3M-row TSV
    layout = write_tsv_layout(tmp_path, shards)
    prepare(settings(shards, train=layout), str(tmp_path / "tsv.parquet"))
    prepare(settings(shards), str(tmp_path / "wds.parquet"))
    tsv, wds = (manifest.read(tmp_path / f"{n}.parquet").set_index("id") for n in ("tsv", "wds"))
    assert tsv.attrs == {"bad_images_skipped": 1}  # row 3: no image file
    assert sorted(tsv.index) == sorted(wds.index)
    columns = ["split", "caption", "gender", "neutral_caption", "url"]
    pd.testing.assert_frame_equal(tsv.loc[wds.index, columns], wds[columns])
    reader = ImageReader()
    for image_id in tsv.index[tsv["split"] == "train"]:
        a, b = tsv.loc[image_id], wds.loc[image_id]
        assert reader.read_bytes(a["image_path"], a["image_offset"], a["image_length"]) == \
            reader.read_bytes(b["image_path"], b["image_offset"], b["image_length"])


def test_a_missing_tsv_is_named(shards, tmp_path):
    with pytest.raises(ConfigError, match=r"datasets\.cc3m\.train\.tsv': missing .*absent\.tsv"):
        settings(shards, train={"tsv": str(tmp_path / "absent.tsv"), "images": str(tmp_path)})


@pytest.mark.workflow
def test_paper_config_plans_the_whole_study(shards, tmp_path):
    from biasamp.generators.random_pipeline import build_pipeline

    build_pipeline("tiny", tmp_path / "sd")
    paper = yaml.safe_load((REPO / "config" / "paper" / "cc3m.yaml").read_text())
    paper["datasets"]["cc3m"].update(train=str(shards / "train"), test=str(shards / "val"))
    paper["generators"]["sd15"]["model"] = str(tmp_path / "sd")
    paper["evaluation"]["sets"]["phase"] = phase_entry(tmp_path)
    paper["evaluation"]["sets"]["fairface"] = {"kind": "fairface",
                                               "labels": str(fairface_labels(tmp_path / "ff"))}
    (tmp_path / "study").mkdir()
    workdir = copy_workflow(tmp_path / "study", paper)
    start = time.perf_counter()
    jobs = planned_jobs(snakemake(workdir, "-n"))
    seconds = time.perf_counter() - start
    assert jobs["generate"] == 3300 and jobs["train"] == 18 and jobs["evaluate"] == 54
    # what `python -m biasamp.plan` sizes the study with
    assert jobs == job_counts(validate_config(paper))
    print(f"dry run of the CC3M study: {seconds:.1f} s")  # the workflow-overhead target
