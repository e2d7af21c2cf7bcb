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
- ``category``: where the report files it (its caption is the entry's docstring).

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


def figure_plan(metrics: list) -> list[tuple[str, str, list[str]]]:
    """``(figure, stem, metric names)`` of every file the registered figures make for a study
    whose table can hold ``metrics``; stems are unique."""
    plan = [(figure.name, stem, names) for figure in FIGURES
            for stem, names in figure.outputs(metrics)]
    stems = [stem for _, stem, _ in plan]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise ValueError(f"figure files {clashes} are made by more than one figure entry")
    return plan
