"""A user's own collection (``kind: manifest``): a CSV or Parquet table of paths and captions,
validated row by row, and a small study on it through the real workflow."""

import pandas as pd
import pytest
from helpers import copy_workflow, snakemake
from PIL import Image

from biasamp import manifest, tables
from biasamp.config import ConfigError, validate_entry
from biasamp.datasets import prepare

ROWS = [  # file, caption, split, gender, region, tasks, photographer (a column of the user's)
    ("img/a.png", "A man riding a horse.", "train", "Male", "Europe", "horse", "ann"),
    ("img/b.png", "A woman holding a cake.", "train", "", "Africa", "cake;knife", "bo"),
    ("img/c.png", "A person with a kite.", "train", "woman", "", "kite", "cy"),
    ("img/d.png", "Two dogs in a park.", "validation", "", "Asia", "", "di"),
    ("img/e.png", "A boy on a skateboard.", "test", "", "Europe", "skateboard", "ed"),
    ("img/f.png", "A girl on a bench.", "test", "", "Asia", "bench", "fa"),
]


def write_images(root, files):
    for k, name in enumerate(n for n in files if n):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 24), (40 * k % 255, 90, 160)).save(root / name)


def write_csv(root, rows=ROWS, header="file,text,split,gender,region,tasks,photographer"):
    write_images(root, [r[0] for r in rows])
    lines = [header, *(",".join(r) for r in rows)]
    (root / "images.csv").write_text("\n".join(lines) + "\n")
    return root / "images.csv"


def entry(path, **settings):
    return validate_entry("datasets", "mine", {
        "kind": "manifest", "path": str(path), "columns": {"image_path": "file",
                                                           "caption": "text"},
        "split_names": {"validation": "val"}, **settings})


def test_a_csv_becomes_a_manifest(tmp_path):
    path = write_csv(tmp_path)
    prepare(entry(path), str(tmp_path / "out.parquet"))
    frame = manifest.read(tmp_path / "out.parquet").set_index("id")
    assert list(frame.index) == [r[0] for r in ROWS]  # ids: the paths as written
    assert frame["split"].tolist() == ["train"] * 3 + ["val", "test", "test"]
    assert frame.loc["img/a.png", "image_path"] == str(tmp_path / "img" / "a.png")
    assert frame.loc["img/a.png", "image_offset"] == -1
    # the table's gender first (any case, man/woman), else read from the captions
    assert frame["gender"].fillna("?").tolist() == ["male", "female", "female", "?", "male",
                                                    "female"]
    assert pd.isna(frame.loc["img/c.png", "region"]) and frame.loc["img/b.png", "region"] == \
        "Africa"
    assert [list(t) for t in frame["tasks"]] == [["horse"], ["cake", "knife"], ["kite"], [],
                                                 ["skateboard"], ["bench"]]
    assert frame["neutral_caption"].tolist() == [False, False, True, True, False, False]
    assert frame.loc["img/f.png", "photographer"] == "fa"  # the user's columns are kept


def test_a_parquet_with_ids_and_several_captions(tmp_path):
    write_images(tmp_path, ["x.png", "y.png"])
    pd.DataFrame({"image_path": [str(tmp_path / "x.png"), "y.png"], "id": ["x1", "y1"],
                  "caption": ["A photo of a chef.", "A cyclist."],
                  "captions": [["A photo of a chef.", "She is cooking."], None],
                  "split": ["train", "test"]},
                 index=[10, 11]).to_parquet(tmp_path / "t.parquet")  # rows by position
    prepare(validate_entry("datasets", "p", {"kind": "manifest",
                                             "path": str(tmp_path / "t.parquet")}),
            str(tmp_path / "out.parquet"))
    frame = manifest.read(tmp_path / "out.parquet")
    assert frame["id"].tolist() == ["x1", "y1"]
    assert frame["image_path"].tolist() == [str(tmp_path / "x.png"), str(tmp_path / "y.png")]
    assert frame["gender"].fillna("?").tolist() == ["female", "?"]  # "she": first image


BAD_ROWS = {  # change to ROWS -> what the message must say
    "empty caption": (lambda r: r.__setitem__(2, ("img/c.png", " ", *r[2][2:])),
                      "images.csv, row 3 (line 4), column text: empty caption"),
    "unknown split": (lambda r: r.__setitem__(1, (*r[1][:2], "training", *r[1][3:])),
                      "images.csv, row 2 (line 3), column split: unknown split 'training'; use "
                      "train, val or test, or map the file's names with split_names: "
                      "{training: train}"),
    "a '#' in an id": (lambda r: r.__setitem__(3, ("img/#4.png", *r[3][1:])),
                       "images.csv, row 4 (line 5), column file: an id with '#'"),
    "duplicate path": (lambda r: r.__setitem__(4, ("img/a.png", *r[4][1:])),
                       "images.csv, row 5 (line 6), column file: id 'img/a.png' already on row 1"),
    "unknown gender": (lambda r: r.__setitem__(0, (*r[0][:3], "M", *r[0][4:])),
                       "images.csv, row 1 (line 2), column gender: gender 'M'"),
    "empty path": (lambda r: r.__setitem__(5, ("", *r[5][1:])),
                   "images.csv, row 6 (line 7), column file: no image path"),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_a_bad_row_is_named_by_file_row_and_column(tmp_path, case):
    change, message = BAD_ROWS[case]
    rows = list(ROWS)
    change(rows)
    write_images(tmp_path, [r[0] for r in ROWS])
    path = write_csv(tmp_path, rows)
    with pytest.raises(ValueError) as error:
        prepare(entry(path), str(tmp_path / "out.parquet"))
    assert message in str(error.value)
    assert not (tmp_path / "out.parquet").exists()


def test_missing_images_fail_naming_the_row_or_are_skipped_and_counted(tmp_path):
    path = write_csv(tmp_path)
    (tmp_path / "img" / "d.png").unlink()
    with pytest.raises(ValueError, match=r"d.png \(missing; .*images.csv, row 4 \(line 5\), "
                                         r"column file\)"):
        prepare(entry(path), str(tmp_path / "out.parquet"))
    prepare(entry(path, bad_images="skip"), str(tmp_path / "out.parquet"))
    frame = manifest.read(tmp_path / "out.parquet")
    assert len(frame) == 5 and frame.attrs["bad_images_skipped"] == 1


def test_a_missing_column_names_the_file_and_the_mapping(tmp_path):
    path = write_csv(tmp_path, header="file,caption,split,gender,region,tasks,photographer")
    with pytest.raises(ValueError, match=r"images.csv: no column text \(found file, caption, "
                                         r".*columns: \{caption: YOUR_COLUMN\}"):
        prepare(entry(path), str(tmp_path / "out.parquet"))


def test_config_names_a_missing_table(tmp_path):
    with pytest.raises(ConfigError, match=r"datasets.mine.path': missing .*nowhere.csv"):
        entry(tmp_path / "nowhere.csv")
    with pytest.raises(ConfigError, match="datasets.mine.path"):
        entry(tmp_path / "table.xlsx")


@pytest.mark.workflow
def test_a_small_study_runs_on_a_users_table(tmp_path, tiny_pipeline):
    rows = [(f"img/{k}.png", caption, split, "", "", "", "x") for k, (caption, split) in
            enumerate([("A man riding a horse.", "train"), ("A woman cooking.", "train"),
                       ("A man with a dog.", "train"), ("A woman reading.", "train"),
                       ("A man at a desk.", "test"), ("A woman on a bike.", "test")])]
    data = tmp_path / "data"
    data.mkdir()
    path = write_csv(data, rows)
    config = {
        "seeds": [0], "ratios": [0, 0.5], "mixing": "bernoulli",
        "datasets": {"mine": {"kind": "manifest", "path": str(path),
                              "columns": {"image_path": "file", "caption": "text"}}},
        "generators": {"sd": {"kind": "diffusers", "model": str(tiny_pipeline), "height": 32,
                              "width": 32, "steps": 2, "dtype": "float32", "gpus": 0,
                              "batch_size": 4, "shards": 1}},
        "models": {"clip": {"kind": "clip", "arch": "toy-ViT", "epochs": 1, "batch_size": 2}},
        "evaluation": {"recall_k": [1], "bias_k": 2, "detectability_images": 2,
                       "detectability_folds": 2},
        "plot": {"formats": ["png"]},
    }
    (tmp_path / "run").mkdir()
    workdir = copy_workflow(tmp_path / "run", config)
    snakemake(workdir)
    table = tables.read(workdir / "results" / "metrics.csv")
    assert set(table["dataset"]) == {"mine"} and set(table["ratio"]) == {0.0, 0.5}
    recall = table[(table["metric"] == "recall@1") & (table["group"] == "")]
    assert len(recall) == 2
