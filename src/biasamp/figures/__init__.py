"""Figures: each module of this package registers one or more figure entries.

An entry is ``@FIGURES.register(name, outputs=...)`` on a function
``draw(rows, trends, metrics, interval) -> matplotlib Figure`` (seaborn):

- ``outputs(metrics) -> [(stem, [metric names]), ...]``: the files it makes for a study whose
  table can hold ``metrics`` (:func:`biasamp.metrics.study_metrics`), each with the metrics
  whose rows of ``metrics.csv`` it reads; a stem is a file name without extension;
- ``draw`` gets those rows (every column of the tidy table), their rows of the trends table
  (slope over the ratio, its interval and verdict: :mod:`biasamp.trends`), the metrics and the
  confidence level of intervals over seeds.

The plot rule's outputs are derived from this registry: a new figure is one module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from biasamp.registry import Registry


@dataclass(frozen=True)
class Figure:
    name: str
    implementation: Callable[..., Any]  # draw(rows, trends, metrics, interval) -> Figure
    outputs: Callable[[list], list[tuple[str, list[str]]]]

    @property
    def module(self) -> str:
        return self.implementation.__module__

    def draw(self, rows, trends, metrics: list[str], interval: float):
        return self.implementation(rows, trends, metrics, interval)


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
