"""A user's own image–caption collection: ``kind: manifest``, a CSV or Parquet table.

One row per image. Columns (names as below, or mapped from the file's own with ``columns``):

- ``image_path`` (required): the image file, absolute or relative to ``images`` (default: the
  table's folder);
- ``caption`` (required, non-empty): the caption trained on and the generators' prompt;
- ``split`` (required): ``train``, ``val`` or ``test`` (the file's own names mapped with
  ``split_names``);
- ``id`` (optional): a unique image id; default the ``image_path`` as written, which stays the
  same when rows are reordered (generated images' seeds derive from it);
- ``captions`` (optional, Parquet only): every caption of the image, a list; the gender read
  from captions uses them all;
- ``gender`` (optional): ``male``/``man``, ``female``/``woman`` (any case), or empty for
  unknown; where it is absent or empty and ``gender_from_captions`` is on, the image's gender
  is read from its captions with the word lists COCO and CC3M use;
- ``skin``, ``ethnicity``, ``age``, ``region`` (optional): free-text groups, empty for unknown;
- ``tasks`` (optional): what the image shows that amplification measures condition on, a list
  (Parquet) or ``;``-separated text (CSV).

Other columns are kept in the manifest. Every problem names the file, the row (1-based, as a
spreadsheet shows data rows; for a CSV also its line) and the column.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from biasamp import manifest, wordlists
from biasamp.datasets import DATASETS, missing_files, screen_images
from biasamp.datasets.labelled_images import REGION_GENDER
from biasamp.inputs import read_csv, reading

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
REQUIRED = ("image_path", "caption", "split")
OPTIONAL = ("id", "captions", "gender", "skin", "ethnicity", "age", "region", "tasks")
# the gender words a label column may hold, as region-labelled CSVs take them
GENDERS = REGION_GENDER

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["path"],
    "properties": {
        "path": {"type": "string", "pattern": "\\.(csv|tsv|parquet)$",
                 "description": "The table: a .csv, .tsv or .parquet file, one row per image."},
        "images": {"type": "string",
                   "description": "Folder relative image paths are under (default: the "
                                  "table's folder)."},
        "columns": {"type": "object", "default": {},
                    "propertyNames": {"enum": [*REQUIRED, *OPTIONAL]},
                    "additionalProperties": {"type": "string"},
                    "description": "The file's own column name of each column the workflow "
                                   "reads, e.g. {image_path: file, caption: text}."},
        "split_names": {"type": "object", "default": {},
                        "additionalProperties": {"enum": list(SPLITS)},
                        "description": "The file's own split names, e.g. {validation: val}."},
        "gender_from_captions": {"type": "boolean", "default": True,
                                 "description": "Read an image's gender from its captions "
                                                "where the table gives none."},
        "bad_images": {"enum": ["fail", "skip"], "default": "fail"},
    },
}

WHERE = ("write the table as described in the README (\"Your own dataset\"): columns "
         "image_path, caption, split, and optionally id, gender, ethnicity, region, tasks")


def check(settings: dict) -> list[tuple[str, str]]:
    return missing_files(settings, ("path", "images"), WHERE)


class TableError(ValueError):
    """A row of a user's table breaks the manifest contract; the message names file, row and
    column."""


def read_table(path: str) -> tuple[pd.DataFrame, bool]:
    """The table (every column as read), and whether it is a CSV (its rows then have lines)."""
    if path.endswith(".parquet"):
        with reading(path, "dataset table (Parquet)", WHERE):  # rows by position, not label
            return pd.read_parquet(path).reset_index(drop=True), False
    return read_csv(path, "dataset table", WHERE, sep="\t" if path.endswith(".tsv") else ",",
                    dtype=str, keep_default_na=False), True


def place(path: str, row: int, column: str, csv: bool) -> str:
    """Where a value is: ``file, row 3 (line 4), column caption``."""
    line = f" (line {row + 2})" if csv else ""
    return f"{path}, row {row + 1}{line}, column {column}"


def text(values: pd.Series) -> pd.Series:
    """Strings with surrounding blanks removed; missing values (Parquet nulls) as ""."""
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                      else str(v).strip())


def as_list(value, csv: bool) -> list[str]:
    if csv:
        return [t.strip() for t in str(value).split(";") if t.strip()]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [str(t) for t in value]


def contract_rows(table: pd.DataFrame, settings: dict, csv: bool) -> pd.DataFrame:
    """The table's rows in the manifest contract (before the images are screened)."""
    path = settings["path"]
    names = {column: settings["columns"].get(column, column) for column in (*REQUIRED, *OPTIONAL)}
    missing = [c for c in REQUIRED if names[c] not in table]
    if missing:
        raise TableError(
            f"{path}: no column {', '.join(names[c] for c in missing)} (found "
            f"{', '.join(map(str, table.columns))}); rename the file's columns, or map them in "
            f"this dataset's config entry, e.g. columns: {{{missing[0]}: YOUR_COLUMN}}")
    column = {c: table[names[c]] for c in (*REQUIRED, *OPTIONAL) if names[c] in table}

    def fail(rows, name: str, problem: str, fix: str):
        rows = np.flatnonzero(rows)
        more = f" (and {len(rows) - 1} more rows)" if len(rows) > 1 else ""
        raise TableError(f"{place(path, rows[0], names[name], csv)}: {problem}{more}; {fix}")

    captions = text(column["caption"])
    if (captions == "").any():
        fail(captions == "", "caption", "empty caption",
             "every image needs a caption (it is trained on and is the generators' prompt); "
             "remove the row or write its caption")
    split = text(column["split"]).map(lambda s: settings["split_names"].get(s, s))
    if not split.isin(SPLITS).all():
        bad = ~split.isin(SPLITS)
        name = split[bad].iloc[0]
        guess = (difflib.get_close_matches(name.lower(), SPLITS, n=1, cutoff=0.3) or ["val"])[0]
        fail(bad, "split", f"unknown split {name!r}", "use train, val or test, or map the "
             f"file's names with split_names: {{{name}: {guess}}}")
    if not (split == "test").any():
        raise TableError(f"{path}: no row has split test; models are evaluated on the test "
                         "split (map the file's own name with split_names)")
    images = text(column["image_path"])
    if (images == "").any():
        fail(images == "", "image_path", "no image path", "give every row its image file")
    ids = text(column["id"]) if "id" in column else images
    id_column = "id" if "id" in column else "image_path"
    if (ids == "").any():
        fail(ids == "", id_column, "empty id", "give every row an id (or drop the id column to "
             "use image paths)")
    if ids.str.contains("#", regex=False).any():
        fail(ids.str.contains("#", regex=False), id_column, "an id with '#'",
             "'#' marks generated images' numbers in their ids; give ids without it (an id "
             "column, where image paths hold it)")
    if ids.duplicated().any():
        again = ids.duplicated(keep=False)
        first, second = np.flatnonzero(again & (ids == ids[ids.duplicated()].iloc[0]))[:2]
        raise TableError(f"{place(path, second, names[id_column], csv)}: id {ids[second]!r} "
                         f"already on row {first + 1}; every image needs its own id"
                         + ("" if "id" in column else " (the same image path twice: remove "
                            "one row, or add an id column)"))
    root = Path(settings.get("images", Path(path).parent))
    files = [p if Path(p).is_absolute() else str(root / p) for p in images]
    frame = pd.DataFrame({
        "id": ids.to_numpy(), "split": split.to_numpy(), "source": "real",
        "caption": captions.to_numpy(), "image_path": files, "image_offset": -1,
        "image_length": [Path(f).stat().st_size if Path(f).is_file() else 0 for f in files],
    })
    all_captions = [[c] for c in frame["caption"]]
    if "captions" in column:
        all_captions = [as_list(v, csv) or [c] for v, c in
                        zip(column["captions"], frame["caption"], strict=True)]
        frame["captions"] = all_captions
    gender = pd.Series([None] * len(frame), dtype=object)
    if "gender" in column:
        given = text(column["gender"]).str.lower()
        unknown = (given != "") & ~given.isin(list(GENDERS))
        if unknown.any():
            fail(unknown, "gender", f"gender {text(column['gender'])[unknown].iloc[0]!r} is not "
                 "one the measures know", "write male, female, man or woman, or leave it empty for "
                 "unknown (the gender measures compare women and men)")
        gender = given.map(GENDERS).astype(object).where(given != "", None)
    if settings["gender_from_captions"]:
        read = pd.Series([wordlists.caption_gender(c) for c in all_captions], dtype=object)
        log.info("gender read from the captions of %d images the table gives none",
                 int((gender.isna() & read.notna()).sum()))
        gender = gender.where(gender.notna(), read)
    frame["gender"] = gender.to_numpy()
    for name in ("skin", "ethnicity", "age", "region"):
        if name in column:
            values = text(column[name])
            frame[name] = values.where(values != "", None).to_numpy(dtype=object)
    if "tasks" in column:
        frame["tasks"] = [as_list(v, csv) for v in column["tasks"]]
    frame["neutral_caption"] = [not wordlists.mentions_gender(c) for c in frame["caption"]]
    taken = {names[c] for c in column}
    for extra in (c for c in table.columns if c not in taken and c not in frame):
        frame[extra] = table[extra].to_numpy()
    frame.attrs["where"] = [place(path, i, names["image_path"], csv) for i in range(len(frame))]
    return frame


@DATASETS.register("manifest", schema=SCHEMA, check=check)
def prepare(settings: dict, manifest_path: str) -> None:
    table, csv = read_table(settings["path"])
    frame = contract_rows(table, settings, csv)
    where = frame.attrs.pop("where")
    frame = screen_images(frame, settings["bad_images"], where)
    manifest.write(frame, manifest_path)
    log.info("%s: %s images; gender %s", settings["path"], frame["split"].value_counts().to_dict(),
             frame["gender"].value_counts(dropna=False).to_dict())
