"""Dataset bias of a training set: how strongly activities co-occur with one gender; and the
composition of each training mix (suite ``mix_composition``)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from biasamp.metrics import SUITES, Direction, Metric

log = logging.getLogger(__name__)


def dataset_bias_score(activities: np.ndarray, genders: np.ndarray) -> float:
    """Mean over activities a of max_g P(g | a) (Zhao et al., EMNLP 2017, "Men also like
    shopping": b(a, g) = c(a, g) / Σ_g' c(a, g')).

    0.5 with two genders means every activity is balanced; 1 means every activity is done by
    one gender only. Pass only images whose gender is known.

    >>> dataset_bias_score(np.array(["cook", "cook", "cook", "ski"]),
    ...                    np.array(["f", "f", "m", "m"]))  # (2/3 + 1) / 2
    0.8333333333333333
    """
    if len(activities) == 0:
        return float("nan")
    counts = pd.crosstab(pd.Series(activities, name="a"), pd.Series(genders, name="g"))
    return float((counts.max(axis=1) / counts.sum(axis=1)).mean())


@SUITES.register(
    "mix_composition", needs=frozenset({"mix"}),
    metrics=lambda evaluation: [Metric("mix_gender_bias", Direction.BIAS, references=(
                                    (0.5, "0.5: every activity balanced"),
                                    (1.0, "1: one gender per activity"))),
                                Metric("mix_generated_share", Direction.NEITHER),
                                Metric("mix_flagged_excluded", Direction.NEITHER, counter=True),
                                Metric("data_bad_images_skipped", Direction.NEITHER,
                                       counter=True)])
def measure(inputs) -> list[tuple[str, str, float]]:
    """mix_gender_bias, mix_generated_share, mix_flagged_excluded (images a safety checker
    withheld) and data_bad_images_skipped (unreadable real images left out) of one mix.

    mix_gender_bias needs the gender and activity of every image (the toy world records what
    it rendered); a mix holding images of unknown gender (e.g. from a real text-to-image
    model) gets no value rather than one computed on a biased subset.
    """
    mixed = inputs.mix
    rows = [("mix_generated_share", "", float((mixed["source"] == "generated").mean())),
            ("mix_flagged_excluded", "", float(mixed.attrs.get("flagged_excluded", 0))),
            ("data_bad_images_skipped", "", float(mixed.attrs.get("bad_images_skipped", 0)))]
    if "activity" in mixed and mixed[["gender", "activity"]].notna().all(axis=None):
        rows.append(("mix_gender_bias", "", dataset_bias_score(mixed["activity"].to_numpy(),
                                                               mixed["gender"].to_numpy())))
    else:
        log.info("mix_gender_bias not measured: some images have unknown gender or activity")
    return rows
