"""The tidy metrics table: one row per measurement.

Columns: dataset, generator, round, ratio, seed, model, evalset, metric, group, value.
``round`` is the feedback round (1 in a study without rounds). ``model`` and
``evalset`` are empty for measurements of a training mix itself; ``evalset`` names the images a
model was evaluated on (``test``: the dataset's own test split, otherwise an entry of
``evaluation.sets``); ``group`` is empty unless the value is for a subgroup (written
``attribute:value``, e.g. ``gender:female``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pandas as pd

from biasamp.atomic import atomic_path
from biasamp.inputs import REBUILD, InputFileError, read_csv

COLUMNS = ("dataset", "generator", "round", "ratio", "seed", "model", "evalset", "metric",
           "group", "value")
KEYS = ("dataset", "generator", "round", "ratio", "seed", "model", "evalset")


def measurements(keys: dict, values: Iterable[tuple[str, str, float]]) -> pd.DataFrame:
    """Rows for ``(metric, group, value)`` triples, all sharing ``keys`` (see KEYS)."""
    missing = set(KEYS) - set(keys)
    if missing:
        raise ValueError(f"measurement keys lack {sorted(missing)}")
    rows = [{**keys, "metric": m, "group": g, "value": float(v)} for m, g, v in values]
    return pd.DataFrame(rows, columns=COLUMNS)


def write(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        frame.loc[:, list(COLUMNS)].to_csv(tmp, index=False)


def read(path: str | os.PathLike) -> pd.DataFrame:
    """A measurement table; a missing or corrupt file is an error that names it."""
    frame = read_csv(
        path, "measurement table", REBUILD,
        dtype={"dataset": str, "generator": str, "round": int, "ratio": float, "seed": int,
               "model": str, "evalset": str, "metric": str, "group": str, "value": float},
        keep_default_na=False, na_values={"value": ["", "nan", "NaN"]},
    )
    if tuple(frame.columns) != COLUMNS:
        raise InputFileError(f"{path}: a measurement table has the columns {list(COLUMNS)}, "
                             f"this one {list(frame.columns)}; {REBUILD}")
    return frame


def aggregate(paths: Iterable[str | os.PathLike], out: str | os.PathLike,
              rounds: int = 1) -> pd.DataFrame:
    """Concatenate per-job tables into one, sorted by its keys. With feedback ``rounds``, the
    ratio-0 measurements (made once, in round 1: a mix without generated images is the same in
    every round) are every round's baseline, so they are repeated for each round."""
    frame = pd.concat([read(p) for p in paths], ignore_index=True)
    baseline = frame[(frame["ratio"] == 0) & (frame["round"] == 1)]
    frame = pd.concat([frame, *(baseline.assign(round=r) for r in range(2, int(rounds) + 1))],
                      ignore_index=True)
    frame = frame.sort_values(list(COLUMNS[:-1]), kind="stable").reset_index(drop=True)
    write(frame, out)
    return frame
