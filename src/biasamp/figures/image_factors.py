"""Figures of the images themselves: how generated images differ from the real images of the same
captions, group by group (:mod:`biasamp.image_factors`). A generator's images do not depend on
the contamination ratio, so these figures have no ratio axis: a mix at ratio r holds a share r
of these generated images."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasamp.factor_tables import GAP
from biasamp.figures import FIGURES, Style, message_figure
from biasamp.image_factors import DESCRIPTIONS, FACTORS

DRAWN_PER_SIDE = 4000  # images per (dataset, generator, source) drawn in a violin, seeded
SOURCE_COLOURS = {"real": "#5d6d7e", "generated": "#d35400"}
LOG_SCALE = ("sharpness",)  # heavy-tailed: drawn on a log axis


def _panels(images: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(dataset, generator, attribute) of each column of a figure."""
    from biasamp.manifest import DEMOGRAPHICS

    out = []
    for (dataset, generator), part in images.groupby(["dataset", "generator"], sort=True):
        attributes = [a for a in DEMOGRAPHICS if a in part and part[a].notna().any()]
        out += [(dataset, generator, a) for a in attributes or [""]]
    return out


def _sample(images: pd.DataFrame) -> pd.DataFrame:
    """At most :data:`DRAWN_PER_SIDE` images per (dataset, generator, source), seeded: a
    violin of a million points looks the same and takes minutes."""
    parts = [part if len(part) <= DRAWN_PER_SIDE else part.sample(DRAWN_PER_SIDE, random_state=0)
             for _, part in images.groupby(["dataset", "generator", "source"], sort=True)]
    return pd.concat(parts) if parts else images


@FIGURES.register("image_factors", table="image_factors", category="Data",
                  outputs=lambda metrics: [("image_factors", [])])
def draw_distributions(images: pd.DataFrame, summary: pd.DataFrame, metrics: list[str],
                       interval: float, style: Style):
    """Image factors of the generated images (orange) next to those of the real images whose
    captions were their prompts (grey), per group: one row per factor (sharpness: variance of
    the Laplacian on the face region, log axis; luminance; contrast; colourfulness), one column
    per generator and attribute. Violins show each group's distribution over images (at most
    4,000 per side drawn, seeded); the line inside marks its quartiles. Under the top row: the
    share of images with a face region, real → generated."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    factors = [f for f in FACTORS if f != "face_found"]
    panels = _panels(images)
    if images.empty or not panels:
        return message_figure("no images measured")
    drawn = _sample(images)
    figure, grid = plt.subplots(len(factors), len(panels), squeeze=False,
                                figsize=(3.4 * len(panels) + 1, 2.6 * len(factors)),
                                layout="constrained")
    for j, (dataset, generator, attribute) in enumerate(panels):
        part = drawn[(drawn["dataset"] == dataset) & (drawn["generator"] == generator)]
        x = part[attribute].fillna("unknown") if attribute else pd.Series("all", part.index)
        part = part.assign(group=x.astype(str))
        order = sorted(part["group"].unique())
        for i, factor in enumerate(factors):
            axes = grid[i][j]
            values = part[factor].astype(float)
            if factor in LOG_SCALE:
                values = np.log10(values.clip(lower=1e-3))
            sns.violinplot(x=part["group"], y=values, hue=part["source"], order=order,
                           hue_order=["real", "generated"], split=True, inner="quart",
                           palette=SOURCE_COLOURS, cut=0, linewidth=0.6, ax=axes,
                           legend=(i == 0 and j == len(panels) - 1))
            label = DESCRIPTIONS[factor]
            axes.set_ylabel(f"{factor} (log10)\n{label}" if factor in LOG_SCALE
                            else f"{factor}\n{label}", fontsize=8)
            axes.set_xlabel(attribute or "", fontsize=8)
            if i == 0:
                axes.set_title(f"{dataset} · {generator}", fontsize=9)
                found = _face_shares(images, dataset, generator, attribute)
                axes.set_xticks(range(len(order)),
                                [f"{g}\nfaces {found.get(g, '?')}" for g in order], fontsize=7)
    figure.suptitle("image factors, real vs generated images of the same captions\n"
                    "(faces: share of images with a face region, real → generated)",
                    fontsize=10)
    return figure


def _face_shares(images, dataset, generator, attribute) -> dict[str, str]:
    part = images[(images["dataset"] == dataset) & (images["generator"] == generator)]
    x = part[attribute].fillna("unknown").astype(str) if attribute else pd.Series(
        "all", part.index)
    shares = part.groupby([x, part["source"]])["face_found"].mean().unstack()
    return {group: f"{row.get('real', np.nan):.0%} → {row.get('generated', np.nan):.0%}"
            for group, row in shares.iterrows()}


@FIGURES.register("image_factor_gaps", table="image_factors", category="Data",
                  outputs=lambda metrics: [("image_factor_gaps", [])])
def draw_gaps(images: pd.DataFrame, summary: pd.DataFrame, metrics: list[str],
              interval: float, style: Style):
    """The generated − real difference of each image factor's mean, per group: a point per
    group and generator with its Welch t-interval over images (at the stated level); the dashed
    line at 0 is no difference. A group whose interval lies further from 0 than another's has
    its generated images changed more, e.g. blurrier faces (sharpness below 0) for one gender.
    """
    import matplotlib.pyplot as plt

    gaps = summary[summary["source"] == GAP].copy()
    if gaps.dropna(subset=["mean"]).empty:
        return message_figure("no generated − real differences measured")
    gaps["group"] = gaps["group"].replace("", "all")
    gaps["line"] = gaps["dataset"] + " · " + gaps["generator"]
    lines = sorted(gaps["line"].unique())
    order = ["all", *sorted(g for g in gaps["group"].unique() if g != "all")]
    figure, grid = plt.subplots(1, len(FACTORS), squeeze=False, sharey=True,
                                figsize=(2.6 * len(FACTORS) + 1.5, 0.32 * len(order) + 1.6),
                                layout="constrained")
    for j, factor in enumerate(FACTORS):
        axes = grid[0][j]
        part = gaps[gaps["factor"] == factor]
        for k, line in enumerate(lines):
            rows = part[part["line"] == line].set_index("group").reindex(order)
            y = np.arange(len(order)) + (k - (len(lines) - 1) / 2) * 0.18
            colour = style.colours.get(line.split(" · ")[1], f"C{k}")
            axes.errorbar(rows["mean"], y, xerr=[rows["mean"] - rows["ci_low"],
                                                 rows["ci_high"] - rows["mean"]],
                          fmt="o", color=colour, markersize=4, capsize=2, linewidth=1,
                          label=line if j == 0 else None)
        axes.axvline(0, color="0.5", linestyle=(0, (4, 3)), linewidth=0.8)
        axes.set_yticks(np.arange(len(order)), order, fontsize=8)
        axes.invert_yaxis()
        axes.set_title(factor, fontsize=9)
        axes.set_xlabel(f"generated − real\n{DESCRIPTIONS[factor]}", fontsize=7)
    figure.suptitle(f"image factors: generated − real difference of means per group, "
                    f"{interval:g}% Welch interval over images", fontsize=10)
    figure.legend(loc="outside right upper", fontsize=8, frameon=False)
    return figure
