"""Figures: each module of this package registers one or more figure entries.

An entry is ``@FIGURES.register(name, outputs=..., category=...)`` on a function
``draw(rows, trends, metrics, interval, style) -> matplotlib Figure``:

- ``outputs(metrics) -> [(stem, [metric names]), ...]``: the files it makes for a study whose
  table can hold ``metrics`` (:func:`biasamp.metrics.study_metrics`), each with the metrics
  whose rows of ``metrics.csv`` it reads; a stem is a file name without extension;
- ``draw`` gets those rows (every column of the tidy table), their rows of the trends table
  (slope over the ratio, its interval and verdict: :mod:`biasamp.trends`), the metrics, the
  confidence level of intervals over seeds and the study's :class:`Style` (colours fixed per
  subgroup and generator across all figures, each metric's direction and reference values);
- ``category``: where the report files it (its caption is the entry's docstring);
- ``table``: ``metrics`` (the default: the above), or ``image_factors`` for figures of the
  images themselves (:mod:`biasamp.image_factors`): ``draw`` then gets every image's factors
  (``results/image_factors.parquet``) as ``rows`` and the summary (``image_factors.csv``) as
  ``trends``, and the figure exists only in studies that generate images;
- ``rounds``: the figure exists only in studies with feedback rounds (``rounds`` > 1). Other
  figures draw each later round as a generator of its own (``generator · round r``); these get
  the table as it is, with its ``round`` column.

The plot rule's outputs are derived from this registry: a new figure is one module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from biasamp.registry import Registry


@dataclass(frozen=True)
class Style:
    """What every figure of one study shares."""

    # line label (a subgroup, "all", a generator) -> colour, the same in every figure
    colours: dict[str, Any]
    # metric -> {"direction": bias | quality | neither, "references": [[value, meaning]]}
    metrics: dict[str, dict]

    def axis_label(self, metric: str) -> str:
        r"""The metric's name and which way is worse or better, for a y axis.

        >>> Style({}, {"lic": {"direction": "bias"}}).axis_label("lic")
        'lic\n(higher = more biased)'
        """
        note = DIRECTION_NOTES.get(self.metrics.get(metric, {}).get("direction"))
        return f"{metric}\n({note})" if note else metric


DIRECTION_NOTES = {"bias": "higher = more biased", "quality": "higher = better"}
ALL_COLOUR = "#333333"


def study_colours(labels) -> dict[str, Any]:
    """A colour per line label of a study, fixed for all its figures: "all" dark grey, every
    other label (sorted) the next colour of tab10, then Dark2 and Set2.

    >>> colours = study_colours(["gender:male", "all", "gender:female"])
    >>> colours["all"], colours["gender:female"] != colours["gender:male"]
    ('#333333', True)
    """
    import seaborn as sns

    palette = [*sns.color_palette("tab10"), *sns.color_palette("Dark2"),
               *sns.color_palette("Set2")]
    others = sorted(set(labels) - {"all"})
    return {"all": ALL_COLOUR} | {label: palette[i % len(palette)]
                                  for i, label in enumerate(others)}


@dataclass(frozen=True)
class Figure:
    name: str
    implementation: Callable[..., Any]  # draw(rows, trends, metrics, interval, style)
    outputs: Callable[[list], list[tuple[str, list[str]]]]
    category: str = "Metrics against the contamination ratio"
    table: str = "metrics"  # or "image_factors"
    rounds: bool = False  # only in studies with feedback rounds

    def __post_init__(self):
        if self.table not in ("metrics", "image_factors"):
            raise ValueError(f"figure {self.name!r} reads table {self.table!r}; known: "
                             "metrics, image_factors")

    @property
    def module(self) -> str:
        return self.implementation.__module__

    @property
    def caption(self) -> str:
        """What the figure shows and how to read it (the entry's docstring)."""
        return " ".join((self.implementation.__doc__ or "").split())

    def draw(self, rows, trends, metrics: list[str], interval: float, style: Style):
        return self.implementation(rows, trends, metrics, interval, style)


FIGURES = Registry("figure", __name__, entry=Figure)


def figure_stem(metric: str) -> str:
    """A metric's name as written in file names.

    >>> figure_stem("recall@10")
    'recall_at_10'
    """
    return metric.replace("@", "_at_")


def figure_plan(metrics: list, image_factors: bool = False,
                rounds: bool = False) -> list[tuple[str, str, list[str]]]:
    """``(figure, stem, metric names)`` of every file the registered figures make for a study
    whose table can hold ``metrics`` (and that measures image factors, where it generates
    images; that has feedback ``rounds``); stems are unique."""
    plan = [(figure.name, stem, names) for figure in FIGURES
            if (image_factors or figure.table != "image_factors")
            and (rounds or not figure.rounds)
            for stem, names in figure.outputs(metrics)]
    stems = [stem for _, stem, _ in plan]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise ValueError(f"figure files {clashes} are made by more than one figure entry")
    return plan


def figure_captions(plan: list, metric_info: dict, suites: dict[str, str]) -> dict[str, dict]:
    """Per figure file stem of ``plan``: its report caption (reStructuredText: what the figure
    shows and how to read it, and for a metric's figure which way is worse and its reference
    values), its report category and subcategory (the metric's suite)."""
    out = {}
    for name, stem, metrics in plan:
        figure = FIGURES.get(name)
        lines = [f"**{stem}**: {figure.caption}"]
        subcategory = None
        if len(metrics) == 1 and metrics[0] in metric_info:
            (metric,) = metrics
            info = metric_info[metric]
            note = DIRECTION_NOTES.get(info.get("direction"), "neither better nor worse")
            lines.append(f"``{metric}``: {note}.")
            if info.get("references"):
                marks = "; ".join(meaning for _, meaning in info["references"])
                lines.append(f"Reference lines: {marks}.")
            lines.append("Its definition and source are in the README, section \"Metrics\".")
            subcategory = suites.get(metric)
        out[stem] = {"caption": "\n\n".join(lines) + "\n", "category": figure.category,
                     "subcategory": subcategory}
    return out


def message_figure(text: str, size: tuple[float, float] = (4, 3)):
    """A figure that says ``text`` instead of plotting: a figure whose data are missing is
    drawn saying so, rather than failing the plot job."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=size)
    axes.text(0.5, 0.5, text, ha="center", va="center")
    axes.set_axis_off()
    return figure


def figure_metadata(path: str) -> dict:
    """Fixed metadata, so that identical data give byte-identical PDF/PNG/SVG files."""
    from pathlib import Path

    suffix = Path(path).suffix
    if suffix == ".pdf":
        return {"CreationDate": None, "Producer": "biasamp"}
    if suffix == ".svg":
        return {"Date": None}
    return {"Software": "biasamp"}


def write_captions(captions: dict[str, dict], folder) -> dict[str, str]:
    """Write each figure's caption to ``folder/{stem}.rst`` (only where it changed) and return
    the paths: Snakemake's report reads a caption from a file."""
    from pathlib import Path

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for stem, entry in captions.items():
        path = folder / f"{stem}.rst"
        if not path.exists() or path.read_text() != entry["caption"]:
            path.write_text(entry["caption"])
        paths[stem] = str(path)
    return paths
